/*
 * ZkTreeBench.java - the workload of bench_tree.c run against Apache
 * ZooKeeper's own DataTree, in process, so that the C bench can print the
 * two side by side. Nothing here opens a socket: DataTree is a plain
 * in-memory structure.
 *
 * Usage: java ZkTreeBench PARENTS CHILDREN READS WRITES RUNS SEED
 *
 * Prints "zk <name> <value>" lines; rates and times are the median of RUNS
 * runs. Paths, data sizes and the random choice of nodes (splitmix64 from
 * SEED) are those of bench_tree.c.
 */
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import java.util.List;
import java.util.zip.Adler32;
import java.util.zip.CheckedInputStream;
import java.util.zip.CheckedOutputStream;

import org.apache.jute.BinaryInputArchive;
import org.apache.jute.BinaryOutputArchive;
import org.apache.zookeeper.Version;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Stat;
import org.apache.zookeeper.server.DataTree;

public final class ZkTreeBench {
    static final int DATA_LEN = 32;
    static final List<ACL> OPEN = ZooDefs.Ids.OPEN_ACL_UNSAFE;

    final int parents, children, nodes, reads, writes, runs;
    final long seed;
    final byte[] data = new byte[DATA_LEN];
    long zxid;

    ZkTreeBench(String[] a) {
        parents = Integer.parseInt(a[0]);
        children = Integer.parseInt(a[1]);
        reads = Integer.parseInt(a[2]);
        writes = Integer.parseInt(a[3]);
        runs = Integer.parseInt(a[4]);
        seed = Long.parseLong(a[5]);
        nodes = parents * children;
        Arrays.fill(data, (byte) 'x');
    }

    /* The same spelling as bench_tree.c: /bench/dir-NNN/node-NNNNNNNNNNN. */
    static String zeroPad(long v, int width) {
        String s = Long.toString(v);
        StringBuilder b = new StringBuilder(width);
        for (int i = s.length(); i < width; i++) b.append('0');
        return b.append(s).toString();
    }

    static String parentPath(int d) {
        return "/bench/dir-" + zeroPad(d, 3);
    }

    String nodePath(int k) {
        return parentPath(k % parents) + "/node-" + zeroPad(k, 11);
    }

    String[] makePaths() {
        String[] p = new String[nodes];
        for (int k = 0; k < nodes; k++) p[k] = nodePath(k);
        return p;
    }

    /* splitmix64, as in bench_tree.c, so both pick the same nodes. */
    static final class Rng {
        long s;
        Rng(long seed) { s = seed; }
        long next() {
            long z = (s += 0x9e3779b97f4a7c15L);
            z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
            z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
            return z ^ (z >>> 31);
        }
        int below(int n) { return (int) Long.remainderUnsigned(next(), n); }
    }

    static double median(double[] v) {
        double[] c = v.clone();
        Arrays.sort(c);
        return c[c.length / 2];
    }

    static double seconds(long t0) {
        return (System.nanoTime() - t0) / 1e9;
    }

    /* Each phase starts on a collected heap so that it does not pay for
     * the garbage of the one before. */
    static void collect() {
        System.gc();
    }

    /* Under the serial collector a full collection leaves only live objects;
     * the second catches what the first let finalization release. */
    static long heapInUse() throws InterruptedException {
        Runtime rt = Runtime.getRuntime();
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 2; i++) {
            System.gc();
            Thread.sleep(20);
            used = Math.min(used, rt.totalMemory() - rt.freeMemory());
        }
        return used;
    }

    DataTree treeWithParents() throws Exception {
        DataTree t = new DataTree();
        t.createNode("/bench", new byte[0], OPEN, 0, -1, ++zxid, 1);
        for (int d = 0; d < parents; d++)
            t.createNode(parentPath(d), new byte[0], OPEN, 0, -1, ++zxid, 1);
        return t;
    }

    /* A request's data arrives as a fresh array in a real server, and the
     * tree keeps that array: clone it, as deserialization would. */
    double timedBuild(DataTree t, String[] paths) throws Exception {
        long t0 = System.nanoTime();
        for (int k = 0; k < nodes; k++)
            t.createNode(paths[k], data.clone(), OPEN, 0, -1, ++zxid, 2);
        return nodes / seconds(t0);
    }

    /* The first build also weighs the tree. Its path strings are made after
     * the empty heap is measured and are owned by the tree alone once the
     * path table is dropped, so the difference is the whole tree. */
    DataTree builds() throws Exception {
        double[] rate = new double[runs];
        DataTree t = null;
        for (int r = 0; r < runs; r++) {
            t = null;
            long before = heapInUse();
            t = treeWithParents();
            rate[r] = timedBuild(t, makePaths());
            if (r == 0) weigh(t, before);
        }
        System.out.printf("zk create_per_s %.0f%n", median(rate));
        return t;
    }

    void weigh(DataTree t, long before) throws Exception {
        long after = heapInUse();
        long added = 1L + parents + nodes;
        long pathAndData = "/bench".length() + (long) parents * parentPath(0).length()
                           + (long) nodes * (nodePath(0).length() + DATA_LEN);
        if (t.getNodeCount() < added) throw new IllegalStateException("tree lost nodes");
        double perNode = (double) (after - before) / added;
        System.out.printf("zk heap_bytes_per_znode %.1f%n", perNode);
        System.out.printf("zk overhead_bytes_per_znode %.1f%n", perNode - (double) pathAndData / added);
    }

    void reads(DataTree t, String[] paths, Rng rng) {
        int[] pick = new int[reads];
        for (int i = 0; i < reads; i++) pick[i] = rng.below(nodes);
        double[] rate = new double[runs];
        long bytes = 0;
        collect();
        for (int r = 0; r < runs; r++) {
            long t0 = System.nanoTime();
            try {
                for (int i = 0; i < reads; i++) bytes += t.getData(paths[pick[i]], new Stat(), null).length;
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
            rate[r] = reads / seconds(t0);
        }
        if (bytes != (long) runs * reads * DATA_LEN) throw new IllegalStateException("getData lost data");
        System.out.printf("zk getdata_per_s %.0f%n", median(rate));
    }

    void writes(DataTree t, String[] paths, Rng rng) throws Exception {
        int[] pick = new int[writes];
        for (int i = 0; i < writes; i++) pick[i] = rng.below(nodes);
        double[] rate = new double[runs];
        collect();
        for (int r = 0; r < runs; r++) {
            long t0 = System.nanoTime();
            for (int i = 0; i < writes; i++) t.setData(paths[pick[i]], data.clone(), r + 1, ++zxid, 3);
            rate[r] = writes / seconds(t0);
        }
        System.out.printf("zk setdata_per_s %.0f%n", median(rate));
    }

    /* FileSnap's stream stack (an Adler32 over a buffered stream), ending in
     * memory instead of a file. */
    static void save(DataTree t, ByteArrayOutputStream sink) throws Exception {
        CheckedOutputStream out = new CheckedOutputStream(new BufferedOutputStream(sink, 1 << 16), new Adler32());
        t.serialize(BinaryOutputArchive.getArchive(out), "tree");
        out.flush();
    }

    void snapshots(DataTree t) throws Exception {
        /* Room for the whole snapshot up front, as bench_tree.c has. */
        ByteArrayOutputStream mem = new ByteArrayOutputStream(nodes * 192);
        double[] secs = new double[runs];
        collect();
        for (int r = 0; r < runs; r++) {
            mem.reset();
            long t0 = System.nanoTime();
            save(t, mem);
            secs[r] = seconds(t0);
        }
        System.out.printf("zk snapshot_bytes %d%n", mem.size());
        System.out.printf("zk snapshot_save_s %.6f%n", median(secs));
        byte[] bytes = mem.toByteArray();
        mem = null;
        int expect = t.getNodeCount();
        for (int r = 0; r < runs; r++) {
            DataTree fresh = new DataTree();
            collect();
            long t0 = System.nanoTime();
            CheckedInputStream in = new CheckedInputStream(
                new BufferedInputStream(new ByteArrayInputStream(bytes), 1 << 16), new Adler32());
            fresh.deserialize(BinaryInputArchive.getArchive(in), "tree");
            secs[r] = seconds(t0);
            if (fresh.getNodeCount() != expect) throw new IllegalStateException("snapshot lost nodes");
        }
        System.out.printf("zk snapshot_load_s %.6f%n", median(secs));
    }

    void run() throws Exception {
        /* Debian's build leaves a placeholder after the number. */
        System.out.println("zk version " + Version.getVersion().split("-")[0]);
        DataTree t = builds();
        String[] paths = makePaths();
        Rng rng = new Rng(seed);
        reads(t, paths, rng);
        writes(t, paths, rng);
        paths = null;
        snapshots(t);
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 6) {
            System.err.println("usage: ZkTreeBench PARENTS CHILDREN READS WRITES RUNS SEED");
            System.exit(2);
        }
        new ZkTreeBench(args).run();
    }
}
