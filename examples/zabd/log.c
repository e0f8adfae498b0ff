/*
 * log.c - zabd's log lines: "2026-11-25 04:20:55.123 INFO  text".
 */
#include <stdarg.h>
#include <string.h>
#include <time.h>

#include "log.h"

void zabd_log_init(struct zabd_log *log, FILE *out, int level)
{
    log->out = out;
    log->level = level;
    pthread_mutex_init(&log->lock, NULL);
}

void zabd_log_destroy(struct zabd_log *log)
{
    pthread_mutex_destroy(&log->lock);
}

static const char *level_name(int level)
{
    switch (level) {
    case ZABD_ERROR: return "ERROR";
    case ZABD_WARN: return "WARN ";
    case ZABD_INFO: return "INFO ";
    default: return "DEBUG";
    }
}

static void write_line(struct zabd_log *log, int level, const char *text)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char when[32];
    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
    pthread_mutex_lock(&log->lock);
    fprintf(log->out, "%s.%03ld %s %s\n", when, ts.tv_nsec / 1000000, level_name(level), text);
    fflush(log->out);
    pthread_mutex_unlock(&log->lock);
}

void zabd_say(struct zabd_log *log, int level, const char *fmt, ...)
{
    if (!log || !log->out || level > log->level) return;
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    write_line(log, level, text);
}

void zabd_log_server_line(void *ctx, int level, const char *line)
{
    struct zabd_log *log = ctx;
    if (!log || !log->out || level > log->level) return;
    write_line(log, level, line);
}
