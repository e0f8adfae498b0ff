/*
 * log.h - zabd's log: one line per event, with the time and a level, on a
 * stream (stderr for the daemon). Any thread may write to it.
 */
#ifndef ZABD_LOG_H
#define ZABD_LOG_H

#include <pthread.h>
#include <stdio.h>

/* The levels, the same numbers zab_server_config's log callback uses. */
enum { ZABD_ERROR = 0, ZABD_WARN = 1, ZABD_INFO = 2, ZABD_DEBUG = 3 };

struct zabd_log {
    FILE *out;                 /* NULL: nothing is written */
    int level;                 /* lines above it are dropped */
    pthread_mutex_t lock;      /* one line at a time */
};

void zabd_log_init(struct zabd_log *log, FILE *out, int level);
void zabd_log_destroy(struct zabd_log *log);

/* Write one line at level (when the log's level lets it through). */
__attribute__((format(printf, 3, 4)))
void zabd_say(struct zabd_log *log, int level, const char *fmt, ...);

/* zab_server_config's log callback: ctx is the struct zabd_log. */
void zabd_log_server_line(void *ctx, int level, const char *line);

#endif
