/*
 * epochs.h - the epochs file: acceptedEpoch and currentEpoch, replaced
 * atomically. epochs.c describes the format byte by byte.
 */
#ifndef ZAB_STORAGE_EPOCHS_H
#define ZAB_STORAGE_EPOCHS_H

#include <stdint.h>

#include "storage/file.h"

enum { ZAB_EPOCHS_LEN = 32, ZAB_EPOCHS_VERSION = 1 };

/* Read dir/epochs: 0 with *present 0 when there is none, or 1 and the
 * epochs; ZAB_ECORRUPT (a damaged file, or accepted < current),
 * ZAB_EVERSION, ZAB_EIO; e describes it. */
int zab_epochs_read(const struct zab_sys *sys, const char *dir, int *present, int64_t *accepted,
                    int64_t *current, zab_serr *e);

/* Durably replace dir/epochs. */
int zab_epochs_write(const struct zab_sys *sys, const char *dir, int64_t accepted,
                     int64_t current, zab_serr *e);

#endif
