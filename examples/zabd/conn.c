/*
 * conn.c - one client connection: frames in, replies out in request
 * order, events, four-letter words, time limits and the connection's end
 * (see conn.h for who touches what; session.c says what frames mean).
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"
#include "frame.h"
#include "log.h"
#include "net.h"
#include "session.h"
#include "words.h"

enum {
    READ_CHUNK = 64 * 1024,
    READS_PER_TURN = 4,          /* chunks read before others get a turn */
    KEEP_CAPACITY = 256 * 1024   /* an empty buffer larger than this is freed */
};

#define CONN_SAY(c, level, ...) zabd_say(zabd_net_log((c)->net), level, __VA_ARGS__)

int64_t zabd_conn_last_zxid(struct zabd_conn *c)
{
    zab_node_stats st;
    zab_server_stats(zabd_net_server(c->net), &st);
    return st.last_applied;
}

static uint64_t max_output(struct zabd_conn *c)
{
    return zabd_net_config(c->net)->max_output;
}

/* ---- output (under the connection's lock) ---- */

/* Append a whole frame, or give up on a client that does not read. */
static void output_locked(struct zabd_conn *c, zab_buf *to, const void *bytes, size_t len)
{
    if (c->then != ZABD_THEN_GO_ON) return;
    if (c->output.len + c->early.len + len > max_output(c)) {
        CONN_SAY(c, ZABD_WARN, "%s: over %" PRIu64 " bytes waiting unread: dropping the connection",
                 c->addr, max_output(c));
        c->then = ZABD_THEN_DROP;
        return;
    }
    if (zab_buf_append(to, bytes, len)) {
        c->then = ZABD_THEN_DROP;
        return;
    }
    c->sent++;
    zabd_net_count_sent(c->net, 1);
}

static void count_answer_locked(struct zabd_conn *c, int64_t latency)
{
    if (latency < 0) latency = 0;
    c->answered++;
    c->latency_sum_ms += latency;
    if (c->answered == 1 || latency < c->latency_min_ms) c->latency_min_ms = latency;
    if (latency > c->latency_max_ms) c->latency_max_ms = latency;
    c->last_latency_ms = latency;
    c->last_reply_wall_ms = zabd_wall_ms();
    zabd_net_count_answered(c->net, latency);
}

static void slot_free(struct zabd_slot *s)
{
    zab_buf_free(&s->frame);
    free(s->sync_path);
    free(s);
}

/* A reply's zxid never goes below one the client was told before: one
 * answered here took the server's zxid when it arrived, and replies to
 * earlier requests may have carried later ones since. */
static void order_zxid_locked(struct zabd_conn *c, struct zabd_slot *s)
{
    if (s->frame.len < 16) return;
    uint8_t *p = s->frame.data + 8; /* after the length and the xid */
    int64_t zxid = (int64_t)((uint64_t)zabd_get_be32(p) << 32 | zabd_get_be32(p + 4));
    if (s->local && zxid < c->last_zxid) {
        zxid = c->last_zxid;
        for (int i = 0; i < 8; i++) p[i] = (uint8_t)((uint64_t)zxid >> (56 - 8 * i));
    }
    if (zxid > c->last_zxid) c->last_zxid = zxid;
}

/* Move the filled slots at the head to the output, in order. */
static void deliver_locked(struct zabd_conn *c)
{
    int64_t now = zabd_mono_ms();
    struct zabd_slot *s;
    while ((s = c->head) && s->ready) {
        c->head = s->next;
        if (!c->head) c->tail = NULL;
        c->nslots--;
        zabd_net_count_outstanding(c->net, -1);
        if (c->then == ZABD_THEN_GO_ON) {
            if (s->frame.len) {
                order_zxid_locked(c, s);
                output_locked(c, &c->output, s->frame.data, s->frame.len);
                count_answer_locked(c, now - s->arrived_ms);
            }
            if (s->then != ZABD_THEN_GO_ON && c->then == ZABD_THEN_GO_ON) c->then = s->then;
        }
        slot_free(s);
    }
}

/* Output that no request waits for (a ping's or an auth's reply, a
 * four-letter word's text), then what follows it. */
void zabd_conn_send(struct zabd_conn *c, const zab_buf *b, int then)
{
    pthread_mutex_lock(&c->lock);
    if (b->len) output_locked(c, &c->output, b->data, b->len);
    if (then != ZABD_THEN_GO_ON && c->then == ZABD_THEN_GO_ON) c->then = then;
    pthread_mutex_unlock(&c->lock);
}

void zabd_conn_greet(struct zabd_conn *c, const zab_buf *reply, int then)
{
    pthread_mutex_lock(&c->lock);
    output_locked(c, &c->output, reply->data, reply->len);
    /* Events that came before the reply follow it, unless the session
     * was refused. */
    if (then == ZABD_THEN_GO_ON && c->early.len && c->then == ZABD_THEN_GO_ON &&
        zab_buf_append(&c->output, c->early.data, c->early.len))
        c->then = ZABD_THEN_DROP;
    zab_buf_free(&c->early);
    c->greeted = 1;
    if (then != ZABD_THEN_GO_ON && c->then == ZABD_THEN_GO_ON) c->then = then;
    pthread_mutex_unlock(&c->lock);
}

void zabd_conn_count_ping(struct zabd_conn *c)
{
    pthread_mutex_lock(&c->lock);
    count_answer_locked(c, 0);
    pthread_mutex_unlock(&c->lock);
}

struct zabd_slot *zabd_conn_slot_add(struct zabd_conn *c, int32_t xid, int32_t opcode)
{
    struct zabd_slot *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->conn = c;
    s->xid = xid;
    s->opcode = opcode;
    s->arrived_ms = zabd_mono_ms();
    pthread_mutex_lock(&c->lock);
    if (c->tail) c->tail->next = s;
    else c->head = s;
    c->tail = s;
    c->nslots++;
    pthread_mutex_unlock(&c->lock);
    zabd_net_count_outstanding(c->net, 1);
    return s;
}

/* The slot's outcome is known: its frame (possibly none) and what
 * follows. Any thread; the caller wakes the net thread if it is not it. */
void zabd_conn_slot_fill(struct zabd_slot *s, int then)
{
    struct zabd_conn *c = s->conn;
    pthread_mutex_lock(&c->lock);
    s->ready = 1;
    s->then = then;
    deliver_locked(c);
    pthread_mutex_unlock(&c->lock);
}

/* Answer a slot with a bare header from the net thread. */
void zabd_conn_slot_answer(struct zabd_slot *s, int32_t err, int then)
{
    s->local = 1;
    int64_t zxid = zabd_conn_last_zxid(s->conn);
    if (then != ZABD_THEN_DROP && zabd_frame_header(&s->frame, s->xid, zxid, err))
        then = ZABD_THEN_DROP;
    zabd_conn_slot_fill(s, then);
}

static uint32_t slots_waiting(struct zabd_conn *c)
{
    pthread_mutex_lock(&c->lock);
    uint32_t n = c->nslots;
    pthread_mutex_unlock(&c->lock);
    return n;
}

/* ---- events, on the server thread ---- */

void zabd_conn_on_event(void *ctx, const zab_event *ev)
{
    struct zabd_conn *c = ctx;
    zab_buf f = { 0 };
    size_t mark;
    int rc = zabd_frame_open(&f, &mark);
    if (!rc) rc = zab_zk_encode_event(ev, &f);
    if (!rc) zabd_frame_close(&f, mark);
    pthread_mutex_lock(&c->lock);
    if (rc && c->then == ZABD_THEN_GO_ON) c->then = ZABD_THEN_DROP;
    /* Before the handshake reply is out nothing else may be: a resumed
     * session can have watches that fire that early. */
    if (!rc) output_locked(c, c->greeted ? &c->output : &c->early, f.data, f.len);
    pthread_mutex_unlock(&c->lock);
    zab_buf_free(&f);
    zabd_net_wake(c->net, c);
}

/* ---- input ---- */

static int may_take(struct zabd_conn *c)
{
    return c->fd >= 0 && !c->busy && c->state != ZABD_CONN_CLOSING &&
           slots_waiting(c) < zabd_net_config(c->net)->max_inflight;
}

static int take_word(struct zabd_conn *c, const uint8_t *p)
{
    if (!zabd_words_known(p)) return 0;
    c->in_at += 4;
    c->received++;
    zabd_net_count_received(c->net);
    c->state = ZABD_CONN_CLOSING;
    zab_buf text = { 0 };
    zabd_words_answer(c->net, p, &text);
    /* Raw text, not a frame, then the connection closes. */
    pthread_mutex_lock(&c->lock);
    c->greeted = 1;
    if (text.len) output_locked(c, &c->output, text.data, text.len);
    if (c->then == ZABD_THEN_GO_ON) c->then = ZABD_THEN_CLOSE;
    pthread_mutex_unlock(&c->lock);
    zab_buf_free(&text);
    return 1;
}

static void compact_input(struct zabd_conn *c)
{
    if (c->in_at == c->in.len) {
        c->in.len = c->in_at = 0;
        if (c->in.cap > KEEP_CAPACITY) zab_buf_free(&c->in);
    } else if (c->in_at > c->in.len / 2) {
        memmove(c->in.data, c->in.data + c->in_at, c->in.len - c->in_at);
        c->in.len -= c->in_at;
        c->in_at = 0;
    }
}

/* Take the whole frames waiting, as far as the connection may. */
static int take_input(struct zabd_conn *c)
{
    int rc = ZABD_KEEP;
    uint32_t max_frame = zabd_net_config(c->net)->max_frame;
    while (rc == ZABD_KEEP && may_take(c) && c->in.len - c->in_at >= 4) {
        const uint8_t *p = c->in.data + c->in_at;
        if (c->state == ZABD_CONN_NEW && c->received == 0 && take_word(c, p)) break;
        uint32_t n = zabd_get_be32(p);
        if (n > max_frame) {
            /* A negative length reads as a huge one here. */
            CONN_SAY(c, ZABD_INFO, "%s: a frame of %" PRId32 " bytes, over the limit of %" PRIu32
                     ": closing", c->addr, (int32_t)n, max_frame);
            return ZABD_CLOSE;
        }
        if (c->in.len - c->in_at - 4 < n) break;
        c->in_at += 4 + (size_t)n;
        c->received++;
        c->heard_mono_ms = zabd_mono_ms();
        zabd_net_count_received(c->net);
        rc = c->state == ZABD_CONN_NEW ? zabd_session_connect(c, p + 4, n)
                                       : zabd_session_request(c, p + 4, n);
    }
    compact_input(c);
    return rc;
}

static size_t unsent(struct zabd_conn *c)
{
    pthread_mutex_lock(&c->lock);
    size_t n = c->output.len;
    pthread_mutex_unlock(&c->lock);
    return n + (c->sending.len - c->sent_at);
}

static int wants_input(struct zabd_conn *c)
{
    const struct zabd_net_config *cfg = zabd_net_config(c->net);
    return may_take(c) && unsent(c) < cfg->max_output / 2 &&
           c->in.len - c->in_at < (size_t)cfg->max_frame + 4;
}

int zabd_conn_read(struct zabd_conn *c)
{
    for (int i = 0; i < READS_PER_TURN && wants_input(c); i++) {
        if (zab_buf_reserve(&c->in, READ_CHUNK)) return ZABD_CLOSE;
        ssize_t n = recv(c->fd, c->in.data + c->in.len, c->in.cap - c->in.len, 0);
        if (n == 0) {
            CONN_SAY(c, ZABD_DEBUG, "%s: closed by the client", c->addr);
            return ZABD_CLOSE;
        }
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) break;
            CONN_SAY(c, ZABD_DEBUG, "%s: read: %s", c->addr, strerror(errno));
            return ZABD_CLOSE;
        }
        c->in.len += (size_t)n;
        int rc = take_input(c);
        if (rc != ZABD_KEEP) return rc;
    }
    return zabd_conn_write(c);
}

/* ---- output ---- */

int zabd_conn_write(struct zabd_conn *c)
{
    for (;;) {
        if (c->sent_at == c->sending.len) {
            c->sending.len = c->sent_at = 0;
            if (c->sending.cap > KEEP_CAPACITY) zab_buf_free(&c->sending);
            pthread_mutex_lock(&c->lock);
            int then = c->then;
            zab_buf t = c->sending;
            c->sending = c->output;
            c->output = t;
            pthread_mutex_unlock(&c->lock);
            if (then == ZABD_THEN_DROP) return ZABD_CLOSE;
            if (c->sending.len == 0) {
                if (then == ZABD_THEN_CLOSE) return ZABD_CLOSE;
                break;
            }
        }
        ssize_t n = send(c->fd, c->sending.data + c->sent_at, c->sending.len - c->sent_at,
                         MSG_NOSIGNAL);
        if (n > 0) {
            c->sent_at += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        CONN_SAY(c, ZABD_DEBUG, "%s: write: %s", c->addr, strerror(errno));
        return ZABD_CLOSE;
    }
    return ZABD_KEEP;
}

int zabd_conn_woken(struct zabd_conn *c)
{
    if (c->fd < 0) return ZABD_KEEP;
    int rc = take_input(c);
    return rc == ZABD_KEEP ? zabd_conn_write(c) : rc;
}

short zabd_conn_events(struct zabd_conn *c)
{
    if (c->fd < 0) return 0;
    short ev = 0;
    if (wants_input(c)) ev |= POLLIN;
    if (unsent(c)) ev |= POLLOUT;
    return ev;
}

int zabd_conn_check_time(struct zabd_conn *c, int64_t now)
{
    if (c->fd < 0 || c->busy) return ZABD_KEEP;
    if (c->state == ZABD_CONN_NEW &&
        now - c->opened_mono_ms > (int64_t)zabd_net_config(c->net)->handshake_ms) {
        CONN_SAY(c, ZABD_INFO, "%s: no handshake in time: closing", c->addr);
        return ZABD_CLOSE;
    }
    if (c->state == ZABD_CONN_READY && c->timeout_ms > 0 &&
        now - c->heard_mono_ms > (int64_t)c->timeout_ms) {
        CONN_SAY(c, ZABD_INFO, "%s: session 0x%" PRIx64 " silent for %d ms: closing", c->addr,
            (uint64_t)c->session, (int)(now - c->heard_mono_ms));
        return ZABD_CLOSE;
    }
    /* Whatever input waited for room (a request limit, unread replies)
     * is taken once there is room. */
    return zabd_conn_woken(c);
}

int zabd_conn_draining(struct zabd_conn *c)
{
    return c->fd >= 0 && (c->busy || slots_waiting(c) || unsent(c));
}

void zabd_conn_stop_reading(struct zabd_conn *c)
{
    c->state = ZABD_CONN_CLOSING;
}

/* ---- life cycle ---- */

struct zabd_conn *zabd_conn_new(struct zabd_net *net, int fd, const char *ip, unsigned port)
{
    struct zabd_conn *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    if (pthread_mutex_init(&c->lock, NULL)) {
        free(c);
        return NULL;
    }
    c->net = net;
    c->fd = fd;
    snprintf(c->ip, sizeof c->ip, "%s", ip);
    snprintf(c->addr, sizeof c->addr, "/%s:%u", ip, port);
    c->established_ms = zabd_wall_ms();
    c->opened_mono_ms = c->heard_mono_ms = zabd_mono_ms();
    c->last_op = -1;
    c->latency_min_ms = 0;
    return c;
}

void zabd_conn_free(struct zabd_conn *c)
{
    if (!c) return;
    struct zabd_slot *s;
    while ((s = c->head)) {
        c->head = s->next;
        zabd_net_count_outstanding(c->net, -1);
        slot_free(s);
    }
    for (uint32_t i = 0; i < c->nids; i++) {
        free((void *)c->ids[i].scheme.ptr);
        free((void *)c->ids[i].id.ptr);
    }
    free(c->ids);
    zab_buf_free(&c->in);
    zab_buf_free(&c->sending);
    zab_buf_free(&c->scratch);
    zab_buf_free(&c->output);
    zab_buf_free(&c->early);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

int zabd_conn_finish(struct zabd_conn *c)
{
    if (c->fd >= 0) {
        close(c->fd);
        c->fd = -1;
        CONN_SAY(c, ZABD_DEBUG, "%s: connection closed", c->addr);
    }
    pthread_mutex_lock(&c->lock);
    c->then = ZABD_THEN_DROP;
    pthread_mutex_unlock(&c->lock);
    c->state = ZABD_CONN_CLOSING;
    if (c->busy) return ZABD_KEEP;
    if (!c->client) return ZABD_FREE;
    return zabd_session_abandon(c);
}

int zabd_conn_job_done(struct zabd_job *job)
{
    struct zabd_conn *c = job->conn;
    c->busy = 0;
    int rc = zabd_session_job_done(job);
    if (c->fd < 0) return zabd_conn_finish(c);
    if (rc == ZABD_KEEP) rc = zabd_conn_woken(c);
    return rc;
}

/* ---- four-letter words ---- */

void zabd_conn_describe(struct zabd_conn *c, int full, zab_buf *out)
{
    char line[512];
    pthread_mutex_lock(&c->lock);
    uint32_t queued = c->nslots;
    uint64_t sent = c->sent, answered = c->answered;
    int64_t lmin = c->latency_min_ms, lmax = c->latency_max_ms, lsum = c->latency_sum_ms;
    int64_t llat = c->last_latency_ms, lzxid = c->last_zxid, lresp = c->last_reply_wall_ms;
    pthread_mutex_unlock(&c->lock);
    int n = snprintf(line, sizeof line,
                     " %s[%d](queued=%" PRIu32 ",recved=%" PRIu64 ",sent=%" PRIu64, c->addr,
                     wants_input(c) ? 1 : 0, queued, c->received, sent);
    if (full && c->state == ZABD_CONN_READY && n > 0 && (size_t)n < sizeof line) {
        n += snprintf(line + n, sizeof line - (size_t)n,
                      ",sid=0x%" PRIx64 ",lop=%s,est=%" PRId64 ",to=%d,lcxid=0x%" PRIx32
                      ",lzxid=0x%" PRIx64 ",lresp=%" PRId64 ",llat=%" PRId64 ",minlat=%" PRId64
                      ",avglat=%" PRId64 ",maxlat=%" PRId64,
                      (uint64_t)c->session, zabd_words_op_name(c->last_op), c->established_ms,
                      (int)c->timeout_ms, (uint32_t)c->last_xid, (uint64_t)lzxid, lresp, llat,
                      lmin, answered ? lsum / (int64_t)answered : 0, lmax);
    }
    if (n > 0 && (size_t)n < sizeof line)
        snprintf(line + n, sizeof line - (size_t)n, ")\n");
    (void)zab_buf_append(out, line, strlen(line));
}
