/*
 * ZkLogBench.java - durable transactions per second through Apache
 * ZooKeeper's own transaction log (FileTxnLog), for bench_storage.c to
 * print beside its own figure.
 *
 * The log is driven the way SyncRequestProcessor drives it under load:
 * append one transaction after another and commit (flush + fsync, with
 * zookeeper.forceSync at its default "yes") once a batch of BATCH
 * transactions has accumulated, its maxBatchSize. Each transaction is a
 * TxnHeader and a SetDataTxn whose data is sized so that the two serialize
 * to TXN_BYTES bytes.
 *
 * Usage: java ZkLogBench DIR COUNT BATCH TXN_BYTES MAX_SECONDS
 * Prints "zk <name> <value>" lines.
 */
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;

import org.apache.jute.BinaryOutputArchive;
import org.apache.zookeeper.Version;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.server.persistence.FileTxnLog;
import org.apache.zookeeper.txn.SetDataTxn;
import org.apache.zookeeper.txn.TxnHeader;

public final class ZkLogBench {
    static final String PATH = "/bench";

    static int serializedSize(TxnHeader hdr, SetDataTxn txn) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        BinaryOutputArchive oa = BinaryOutputArchive.getArchive(out);
        hdr.serialize(oa, "hdr");
        txn.serialize(oa, "txn");
        return out.size();
    }

    public static void main(String[] a) throws IOException {
        File dir = new File(a[0]);
        long count = Long.parseLong(a[1]);
        int batch = Integer.parseInt(a[2]);
        int txnBytes = Integer.parseInt(a[3]);
        double maxSeconds = Double.parseDouble(a[4]);

        TxnHeader probe = new TxnHeader(1, 1, 1, 1, ZooDefs.OpCode.setData);
        int overhead = serializedSize(probe, new SetDataTxn(PATH, new byte[0], 1));
        byte[] data = new byte[Math.max(0, txnBytes - overhead)];
        for (int i = 0; i < data.length; i++) data[i] = (byte) ('a' + i % 26);
        SetDataTxn txn = new SetDataTxn(PATH, data, 1);
        int size = serializedSize(probe, txn);

        FileTxnLog log = new FileTxnLog(dir);
        long zxid = 1L << 32;
        long t0 = System.nanoTime();
        long limit = t0 + (long) (maxSeconds * 1e9);
        long done = 0;
        while (done < count && System.nanoTime() < limit) {
            for (int i = 0; i < batch && done < count; i++, done++) {
                zxid++;
                TxnHeader hdr = new TxnHeader(0x1234, (int) done, zxid, System.currentTimeMillis(),
                                              ZooDefs.OpCode.setData);
                log.append(hdr, txn);
            }
            log.commit();
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        log.close();
        System.out.println("zk version " + Version.getFullVersion());
        System.out.println("zk force_sync " + log.isForceSync());
        System.out.println("zk txn_bytes " + size);
        System.out.println("zk txns " + done);
        System.out.println("zk log_durable_per_s " + (done / seconds));
    }
}
