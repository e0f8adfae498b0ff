/*
 * epochs.c - the epochs file format.
 *
 * The file dir/epochs, 32 bytes, big-endian:
 *
 *   offset  size
 *        0     8  magic "ZABEPOCH"
 *        8     4  u32 format version, 1
 *       12     8  i64 acceptedEpoch
 *       20     8  i64 currentEpoch (never above acceptedEpoch)
 *       28     4  u32 CRC-32C of bytes 0..27
 *
 * It is replaced whole: written as epochs.tmp, fsynced, renamed over epochs,
 * and the directory fsynced. A missing file is a fresh server only when
 * there is no snapshot and no logged record; otherwise recovery refuses to
 * open, so a lost file can never restart a server at epoch 0.
 */
#include "storage/epochs.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "storage/segment.h"
#include "util/codec.h"
#include "util/prim.h"

static const uint8_t MAGIC[8] = { 'Z', 'A', 'B', 'E', 'P', 'O', 'C', 'H' };
static const char NAME[] = "epochs";

int zab_epochs_read(const struct zab_sys *sys, const char *dir, int *present, int64_t *accepted,
                    int64_t *current, zab_serr *e)
{
    char path[ZAB_PATH_CAP];
    zab_path(path, dir, NAME);
    *present = 0;
    *accepted = *current = 0;
    int fd = sys->open(path, O_RDONLY, 0);
    if (fd < 0) return errno == ENOENT ? 0 : zab_serr_io(e, "open", path);
    uint8_t b[ZAB_EPOCHS_LEN + 1];
    size_t got = 0;
    int rc = zab_file_read(sys, fd, b, sizeof(b), 0, &got, path, e);
    sys->close(fd);
    if (rc) return rc;
    zab_reader r = zab_reader_init(b, got);
    const uint8_t *magic = zab_get_bytes(&r, 8);
    uint32_t version = zab_get_u32(&r);
    int64_t acc = zab_get_i64(&r), cur = zab_get_i64(&r);
    uint32_t crc = zab_get_u32(&r);
    if (got != ZAB_EPOCHS_LEN || r.err || memcmp(magic, MAGIC, sizeof(MAGIC)))
        return zab_serr_set(e, ZAB_ECORRUPT, 0, "%s: not an epochs file", path);
    if (crc != zab_crc32c(0, b, 28))
        return zab_serr_set(e, ZAB_ECORRUPT, 0, "%s: checksum mismatch", path);
    if (version != ZAB_EPOCHS_VERSION)
        return zab_serr_set(e, ZAB_EVERSION, 0, "%s: format version %u unknown to this library",
                            path, version);
    if (cur < 0 || acc < cur)
        return zab_serr_set(e, ZAB_ECORRUPT, 0, "%s: invalid epochs (accepted %lld, current %lld)",
                            path, (long long)acc, (long long)cur);
    *present = 1;
    *accepted = acc;
    *current = cur;
    return 0;
}

int zab_epochs_write(const struct zab_sys *sys, const char *dir, int64_t accepted,
                     int64_t current, zab_serr *e)
{
    uint8_t bytes[ZAB_EPOCHS_LEN];
    memcpy(bytes, MAGIC, sizeof(MAGIC));
    zab_be32_put(bytes + 8, ZAB_EPOCHS_VERSION);
    zab_be64_put(bytes + 12, (uint64_t)accepted);
    zab_be64_put(bytes + 20, (uint64_t)current);
    zab_be32_put(bytes + 28, zab_crc32c(0, bytes, 28));
    return zab_file_replace(sys, dir, NAME, bytes, sizeof(bytes), NULL, 0, e);
}
