/*
 * lincheck.c - linearizability of register histories: Wing & Gong's search
 * with Lowe's memoization, one key at a time, with pruning that is exact
 * for registers.
 *
 * For one key, every op becomes a call entry at its invocation and a return
 * entry at the time it must have taken effect by, in one list ordered by
 * time (calls before returns at equal times, so touching intervals stay
 * concurrent; an unknown write's return sorts after everything). The calls
 * before the first return are the candidates: no op left has to precede
 * them. The search places a candidate that can take effect, lifting it out
 * of the list with its return, and looks again from the head; reaching a
 * return means that op should have taken effect already, so the latest
 * choice is undone. The memo holds every state entered, (set of ops placed,
 * register value): what can follow a state depends on nothing else, so a
 * state once left behind leads nowhere and is never entered again.
 *
 * Most choices need no trying, as each rule below keeps some valid order
 * whenever there is one (the comments at forced_move, stranded and
 * worth_writing say why): a candidate read of the current value goes first;
 * else a candidate write whose value no remaining read sees; a state where
 * some read still needs the current value, no write of it is left and no
 * read can go next has no way forward; of candidate writes of one value only
 * the one with the earliest deadline is tried, and an unknown write only
 * just before a read of its value.
 *
 * An unknown write may also never take effect. That needs no choice of its
 * own: its return sorts last, so it can always take effect after every other
 * op, where nothing sees it.
 *
 * Before searching, two passes name the commonest faults precisely: a read
 * of a value nothing wrote, and a read that real time alone rules out.
 */
#include "helpers/lincheck.h"

#include <assert.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Keeps op ids within int and the memo's entry numbers within uint32_t. */
#define LC_MAX_OPS (1 << 24)
/* Most ops an explanation lists. */
#define LC_WINDOW 12

enum { ST_PENDING, ST_OK, ST_FAILED };

typedef struct lc_op {
    int64_t key;
    int64_t value; /* written, or seen by a read */
    int64_t inv;
    int64_t ret;
    uint8_t is_write;
    uint8_t status;
} lc_op;

typedef struct lc_initial {
    int64_t key;
    int64_t value;
} lc_initial;

struct lc_history {
    lc_op *ops;
    size_t n, cap;
    lc_initial *initial;
    size_t n_initial, cap_initial;
    size_t memory_limit;
    char broken[160]; /* why recording failed; empty while it has not */
};

/* ------------------------------------------------------------------------ */
/* Recording                                                                 */
/* ------------------------------------------------------------------------ */

lc_history *lc_new(void)
{
    lc_history *h = calloc(1, sizeof *h);
    if (h) h->memory_limit = LC_DEFAULT_MEMORY_LIMIT;
    return h;
}

void lc_free(lc_history *h)
{
    if (!h) return;
    free(h->ops);
    free(h->initial);
    free(h);
}

static void mark_broken(lc_history *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Only the first problem is kept: later ones are often its consequences. */
static void mark_broken(lc_history *h, const char *fmt, ...)
{
    if (h->broken[0]) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(h->broken, sizeof h->broken, fmt, ap);
    va_end(ap);
}

/* Grow *items (of size bytes each) so one more fits; 0 on failure. */
static int reserve_one(void **items, size_t *cap, size_t n, size_t size)
{
    if (n < *cap) return 1;
    size_t want = *cap ? *cap * 2 : 64;
    if (want > SIZE_MAX / size) return 0;
    void *p = realloc(*items, want * size);
    if (!p) return 0;
    *items = p;
    *cap = want;
    return 1;
}

void lc_set_initial(lc_history *h, int64_t key, int64_t value)
{
    for (size_t i = 0; i < h->n_initial; i++) {
        if (h->initial[i].key == key) {
            h->initial[i].value = value;
            return;
        }
    }
    if (!reserve_one((void **)&h->initial, &h->cap_initial, h->n_initial, sizeof *h->initial)) {
        mark_broken(h, "out of memory recording an initial value");
        return;
    }
    h->initial[h->n_initial++] = (lc_initial){ key, value };
}

void lc_set_memory_limit(lc_history *h, size_t bytes)
{
    h->memory_limit = bytes;
}

static int invoke(lc_history *h, int64_t key, int64_t value, int64_t t, int is_write)
{
    if (h->n >= LC_MAX_OPS) {
        mark_broken(h, "more than %d ops recorded", LC_MAX_OPS);
        return -1;
    }
    if (!reserve_one((void **)&h->ops, &h->cap, h->n, sizeof *h->ops)) {
        mark_broken(h, "out of memory recording op %zu", h->n);
        return -1;
    }
    h->ops[h->n] = (lc_op){ key, value, t, 0, (uint8_t)is_write, ST_PENDING };
    return (int)h->n++;
}

int lc_invoke_write(lc_history *h, int64_t key, int64_t value, int64_t t_invoke)
{
    return invoke(h, key, value, t_invoke, 1);
}

int lc_invoke_read(lc_history *h, int64_t key, int64_t t_invoke)
{
    return invoke(h, key, 0, t_invoke, 0);
}

/* The op a return names, or NULL (and the history marked) if none may. */
static lc_op *returning_op(lc_history *h, int op, int64_t t)
{
    if (op < 0 || (size_t)op >= h->n) {
        mark_broken(h, "return of op %d, which was never invoked", op);
        return NULL;
    }
    lc_op *o = &h->ops[op];
    if (o->status != ST_PENDING) {
        mark_broken(h, "op %d returned twice", op);
        return NULL;
    }
    if (t < o->inv) {
        mark_broken(h, "op %d returns at %" PRId64 ", before its invocation at %" PRId64, op, t,
                    o->inv);
        return NULL;
    }
    o->ret = t;
    return o;
}

void lc_return_ok(lc_history *h, int op, int64_t t_return, int64_t read_value)
{
    lc_op *o = returning_op(h, op, t_return);
    if (!o) return;
    o->status = ST_OK;
    if (!o->is_write) o->value = read_value;
}

void lc_return_failed(lc_history *h, int op, int64_t t_return)
{
    lc_op *o = returning_op(h, op, t_return);
    if (o) o->status = ST_FAILED;
}

size_t lc_size(const lc_history *h)
{
    return h->n;
}

/* ------------------------------------------------------------------------ */
/* Text                                                                      */
/* ------------------------------------------------------------------------ */

typedef struct text {
    char *buf;
    size_t cap;
    size_t len;
} text;

static void say(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Appends, truncating silently at the buffer's end. */
static void say(text *t, const char *fmt, ...)
{
    if (t->len + 1 >= t->cap) return;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
    va_end(ap);
    if (k < 0) return;
    t->len += (size_t)k < t->cap - t->len ? (size_t)k : t->cap - t->len - 1;
}

/* "op 3: write 7 ok [10, 20]"; a new line of its own unless inline. */
static void say_op_as(text *t, int id, const lc_op *o, int inline_)
{
    say(t, "%sop %d: ", inline_ ? "" : "\n  ", id);
    if (!o->is_write) {
        say(t, "read -> %" PRId64 " [%" PRId64 ", %" PRId64 "]", o->value, o->inv, o->ret);
    } else if (o->status == ST_PENDING) {
        say(t, "write %" PRId64 " unknown [%" PRId64 ", ...)", o->value, o->inv);
    } else {
        say(t, "write %" PRId64 " %s [%" PRId64 ", %" PRId64 "]", o->value,
            o->status == ST_OK ? "ok" : "failed", o->inv, o->ret);
    }
}

static void say_op(text *t, int id, const lc_op *o)
{
    say_op_as(t, id, o, 0);
}

/* ------------------------------------------------------------------------ */
/* Memo of visited states                                                    */
/* ------------------------------------------------------------------------ */

/* Each entry is [hash, value, bitset words...] in one slab; the table holds
 * entry numbers + 1 (0 is empty), probed linearly, at most half full. */
typedef struct memo {
    size_t words;
    size_t stride;
    uint64_t *slab;
    size_t count, slab_cap;
    uint32_t *table;
    size_t table_cap;
    size_t limit;
} memo;

static size_t memo_bytes(const memo *m, size_t slab_cap, size_t table_cap)
{
    return slab_cap * m->stride * sizeof(uint64_t) + table_cap * sizeof(uint32_t);
}

static int memo_init(memo *m, size_t words, size_t limit)
{
    *m = (memo){ .words = words, .stride = words + 2, .limit = limit, .table_cap = 1024 };
    if (memo_bytes(m, 0, m->table_cap) > limit) return 0;
    m->table = calloc(m->table_cap, sizeof *m->table);
    return m->table != NULL;
}

static void memo_free(memo *m)
{
    free(m->slab);
    free(m->table);
}

static int memo_grow_table(memo *m)
{
    size_t cap = m->table_cap * 2;
    if (cap > SIZE_MAX / 8 || memo_bytes(m, m->slab_cap, cap) > m->limit) return 0;
    uint32_t *t = calloc(cap, sizeof *t);
    if (!t) return 0;
    for (size_t e = 0; e < m->count; e++) {
        size_t i = (size_t)m->slab[e * m->stride] & (cap - 1);
        while (t[i]) i = (i + 1) & (cap - 1);
        t[i] = (uint32_t)(e + 1);
    }
    free(m->table);
    m->table = t;
    m->table_cap = cap;
    return 1;
}

static int memo_grow_slab(memo *m)
{
    size_t cap = m->slab_cap ? m->slab_cap * 2 : 256;
    if (cap >= UINT32_MAX || cap > SIZE_MAX / 8 / m->stride) return 0;
    if (memo_bytes(m, cap, m->table_cap) > m->limit) {
        /* Use what is left rather than stopping at the last doubling. */
        size_t left = m->limit - memo_bytes(m, 0, m->table_cap);
        cap = left / (m->stride * sizeof(uint64_t));
        if (cap <= m->count) return 0;
    }
    uint64_t *s = realloc(m->slab, cap * m->stride * sizeof *s);
    if (!s) return 0;
    m->slab = s;
    m->slab_cap = cap;
    return 1;
}

/* 1 if (bits, value) is new and now remembered, 0 if seen before, -1 when
 * the memo may not grow. */
static int memo_insert(memo *m, const uint64_t *bits, int64_t value, uint64_t hash)
{
    size_t mask = m->table_cap - 1;
    size_t i = (size_t)hash & mask;
    for (; m->table[i]; i = (i + 1) & mask) {
        const uint64_t *e = m->slab + (size_t)(m->table[i] - 1) * m->stride;
        if (e[0] == hash && (int64_t)e[1] == value &&
            memcmp(e + 2, bits, m->words * sizeof *bits) == 0)
            return 0;
    }
    if (m->count == m->slab_cap && !memo_grow_slab(m)) return -1;
    uint64_t *e = m->slab + m->count * m->stride;
    e[0] = hash;
    e[1] = (uint64_t)value;
    memcpy(e + 2, bits, m->words * sizeof *bits);
    m->table[i] = (uint32_t)++m->count;
    if (m->count * 2 >= m->table_cap && !memo_grow_table(m)) return -1;
    return 1;
}

/* splitmix64's finalizer: Zobrist keys for ops and a mix for values. */
static uint64_t mix(uint64_t z)
{
    z += UINT64_C(0x9e3779b97f4a7c15);
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* ------------------------------------------------------------------------ */
/* One key's ops, ready for the search                                       */
/* ------------------------------------------------------------------------ */

#define NO_VALUE UINT32_MAX

/* An op the search places. */
typedef struct lop {
    int id;           /* in the history */
    uint8_t is_write;
    uint8_t open;     /* an unknown write, free to take effect any time after inv */
    uint32_t vid;     /* its value's number among the key's distinct values */
    int64_t value;
    int64_t inv;
    int64_t deadline; /* unless open, it has taken effect by then */
} lop;

typedef struct entry {
    struct entry *prev, *next;
    struct entry *match; /* a call's return entry */
    int op;              /* index into the key's live ops */
    uint8_t is_call;
    uint8_t at_end;      /* return of an open write: after every time */
    int64_t time;
} entry;

typedef struct frame {
    entry *call;
    int64_t value_before;
    uint32_t vid_before;
    int writer_before;
    uint8_t forced; /* the call was the only move worth trying */
} frame;

enum { KEY_LINEARIZABLE = 1, KEY_NOT = 0, KEY_STEPS = -1, KEY_MEMORY = -2 };

typedef struct keyrun {
    const lc_history *h;
    int64_t key;
    int64_t initial;
    const int *ids; /* every op of the key, by history id */
    size_t n_all;
    lop *ops;       /* the ones the search places */
    size_t n;
    uint32_t *unread;     /* per value number: reads of it not yet placed */
    uint32_t *unwritten;  /* per value number: writes of it not yet placed */
    uint32_t initial_vid; /* NO_VALUE when no op has the initial value */
    entry *entries;
    uint64_t *bits;       /* the ops placed */
    uint64_t *zobrist;    /* per op, hashed into the state's key */
    frame *stack;
    memo memo;
    /* The deepest point of the search, for the explanation. */
    int have_stuck;
    size_t stuck_depth;
    int stuck_op;
    int stuck_writer; /* the op that wrote stuck_value, or -1 */
    int64_t stuck_value;
    uint8_t stuck_stranded;
} keyrun;

static int i64_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The first of n sorted elements (stride bytes apart, each starting with an
 * int64_t) that is >= v. */
static size_t lower_bound(const void *sorted, size_t n, size_t stride, int64_t v)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int64_t at;
        memcpy(&at, (const char *)sorted + mid * stride, sizeof at);
        if (at < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int contains(const int64_t *sorted, size_t n, int64_t v)
{
    size_t at = lower_bound(sorted, n, sizeof *sorted, v);
    return at < n && sorted[at] == v;
}

static const lc_op *key_op(const keyrun *k, size_t i)
{
    return &k->h->ops[k->ids[i]];
}

static void say_lop(text *t, const keyrun *k, int i)
{
    say_op(t, k->ops[i].id, &k->h->ops[k->ops[i].id]);
}

/* Every completed read must see the initial value or that of a write that
 * may have taken effect; this names a read that does not before any search.
 * 1 when all do, 0 when one does not, -1 when out of memory. */
static int check_read_values(keyrun *k, text *t)
{
    int64_t *vals = malloc((k->n_all + 1) * sizeof *vals);
    if (!vals) return -1;
    size_t nv = 0;
    vals[nv++] = k->initial;
    for (size_t i = 0; i < k->n_all; i++) {
        const lc_op *o = key_op(k, i);
        if (o->is_write && o->status != ST_FAILED) vals[nv++] = o->value;
    }
    qsort(vals, nv, sizeof *vals, i64_cmp);
    size_t bad = k->n_all;
    for (size_t i = 0; i < k->n_all && bad == k->n_all; i++) {
        const lc_op *o = key_op(k, i);
        if (!o->is_write && o->status == ST_OK && !contains(vals, nv, o->value)) bad = i;
    }
    free(vals);
    if (bad == k->n_all) return 1;
    const lc_op *r = key_op(k, bad);
    say(t, "key %" PRId64 ": not linearizable: op %d reads %" PRId64 ", which is neither the "
           "initial value %" PRId64 " nor written by any write that may have taken effect:",
        k->key, k->ids[bad], r->value, k->initial);
    say_op(t, k->ids[bad], r);
    for (size_t j = 0; j < k->n_all; j++) {
        const lc_op *w = key_op(k, j);
        if (w->is_write && w->value == r->value) say_op(t, k->ids[j], w);
    }
    return 0;
}

typedef struct sighting {
    int64_t value;
    int64_t ret;
} sighting;

static int sighting_cmp(const void *a, const void *b)
{
    const sighting *x = a, *y = b;
    if (x->value != y->value) return x->value < y->value ? -1 : 1;
    return (x->ret > y->ret) - (x->ret < y->ret);
}

/* The first read of v that returned at t or later, if any. */
static const sighting *first_sighting(const sighting *seen, size_t n, int64_t v, int64_t t)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (seen[mid].value < v || (seen[mid].value == v && seen[mid].ret < t))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && seen[lo].value == v ? &seen[lo] : NULL;
}

/* An unknown write that no read returning after its invocation saw is left
 * out (-1): only a write can follow it, so it cannot be told from one that
 * never took effect. One that alone can explain those reads (the only
 * write of a value other than the initial one) must take effect before the
 * first of them returns, which becomes its deadline (1); that spares the
 * search from trying it at every later point. Any other stays open (0). */
static int unknown_write_deadline(const lop *w, const sighting *seen, size_t n_seen,
                                  const int64_t *written, size_t n_written, int64_t initial,
                                  int64_t *deadline)
{
    const sighting *first = first_sighting(seen, n_seen, w->value, w->inv);
    if (!first) return -1;
    size_t at = lower_bound(written, n_written, sizeof *written, w->value);
    int sole = at + 1 == n_written || written[at + 1] != w->value;
    if (!sole || w->value == initial) return 0;
    *deadline = first->ret;
    return 1;
}

/* The ops the search places: completed reads, writes that were not
 * refused, and unknown writes as unknown_write_deadline allows. */
static int select_ops(keyrun *k)
{
    sighting *seen = malloc((k->n_all + 1) * sizeof *seen);
    int64_t *written = malloc((k->n_all + 1) * sizeof *written);
    k->ops = malloc((k->n_all + 1) * sizeof *k->ops);
    if (!seen || !written || !k->ops) {
        free(seen);
        free(written);
        return 0;
    }
    size_t n_seen = 0, n_written = 0;
    for (size_t i = 0; i < k->n_all; i++) {
        const lc_op *o = key_op(k, i);
        if (!o->is_write && o->status == ST_OK) seen[n_seen++] = (sighting){ o->value, o->ret };
        if (o->is_write && o->status != ST_FAILED) written[n_written++] = o->value;
    }
    qsort(seen, n_seen, sizeof *seen, sighting_cmp);
    qsort(written, n_written, sizeof *written, i64_cmp);
    k->n = 0;
    for (size_t i = 0; i < k->n_all; i++) {
        const lc_op *o = key_op(k, i);
        if (o->status == ST_FAILED || (!o->is_write && o->status != ST_OK)) continue;
        lop *p = &k->ops[k->n];
        *p = (lop){ .id = k->ids[i], .is_write = o->is_write, .value = o->value,
                    .inv = o->inv, .deadline = o->ret };
        if (o->status == ST_PENDING) {
            int rc = unknown_write_deadline(p, seen, n_seen, written, n_written, k->initial,
                                            &p->deadline);
            if (rc < 0) continue;
            p->open = rc == 0;
        }
        k->n++;
    }
    free(seen);
    free(written);
    return 1;
}

/* Number the ops' values densely; count the reads and writes of each. */
static int number_values(keyrun *k)
{
    int64_t *vals = malloc((k->n + 1) * sizeof *vals);
    k->unread = calloc(k->n + 1, sizeof *k->unread);
    k->unwritten = calloc(k->n + 1, sizeof *k->unwritten);
    if (!vals || !k->unread || !k->unwritten) {
        free(vals);
        return 0;
    }
    for (size_t i = 0; i < k->n; i++) vals[i] = k->ops[i].value;
    qsort(vals, k->n, sizeof *vals, i64_cmp);
    size_t distinct = 0;
    for (size_t i = 0; i < k->n; i++)
        if (distinct == 0 || vals[distinct - 1] != vals[i]) vals[distinct++] = vals[i];
    for (size_t i = 0; i < k->n; i++) {
        lop *p = &k->ops[i];
        p->vid = (uint32_t)lower_bound(vals, distinct, sizeof *vals, p->value);
        if (p->is_write)
            k->unwritten[p->vid]++;
        else
            k->unread[p->vid]++;
    }
    size_t at = lower_bound(vals, distinct, sizeof *vals, k->initial);
    k->initial_vid = at < distinct && vals[at] == k->initial ? (uint32_t)at : NO_VALUE;
    free(vals);
    return 1;
}

static int entry_cmp(const void *a, const void *b)
{
    const entry *x = a, *y = b;
    if (x->at_end != y->at_end) return x->at_end - y->at_end;
    if (x->time != y->time) return x->time < y->time ? -1 : 1;
    if (x->is_call != y->is_call) return y->is_call - x->is_call;
    return x->op - y->op;
}

/* The list of calls and returns, linked behind head. */
static void build_list(keyrun *k, entry *head)
{
    for (size_t i = 0; i < k->n; i++) {
        const lop *p = &k->ops[i];
        k->entries[2 * i] = (entry){ .op = (int)i, .is_call = 1, .time = p->inv };
        k->entries[2 * i + 1] =
            (entry){ .op = (int)i, .at_end = p->open, .time = p->open ? 0 : p->deadline };
    }
    qsort(k->entries, 2 * k->n, sizeof *k->entries, entry_cmp);
    /* Where each op's return landed, kept in the stack while it is unused. */
    entry **ret_of = (entry **)(void *)k->stack;
    for (size_t i = 0; i < 2 * k->n; i++)
        if (!k->entries[i].is_call) ret_of[k->entries[i].op] = &k->entries[i];
    entry *prev = head;
    for (size_t i = 0; i < 2 * k->n; i++) {
        entry *e = &k->entries[i];
        if (e->is_call) e->match = ret_of[e->op];
        e->prev = prev;
        prev->next = e;
        prev = e;
    }
    prev->next = NULL;
}

/* ------------------------------------------------------------------------ */
/* Reads that real time alone rules out                                      */
/* ------------------------------------------------------------------------ */

typedef struct by_inv {
    int64_t inv;
    int op;
} by_inv;

static int by_inv_cmp(const void *a, const void *b)
{
    const by_inv *x = a, *y = b;
    if (x->inv != y->inv) return x->inv < y->inv ? -1 : 1;
    return x->op - y->op;
}

/* For each write: the write that certainly overwrites it first, i.e. of
 * the writes that certainly take effect and begin after it must have, the
 * one with the earliest deadline (-1 when there is none, or the write is
 * open). *first gets the same for the initial value: the earliest deadline
 * of all. Indexed by op; -1 when out of memory. */
static int find_overwriters(const keyrun *k, int *over, int *first)
{
    by_inv *w = malloc((k->n + 1) * sizeof *w);
    int *earliest = malloc((k->n + 1) * sizeof *earliest); /* per suffix of w */
    if (!w || !earliest) {
        free(w);
        free(earliest);
        return -1;
    }
    size_t nw = 0;
    for (size_t i = 0; i < k->n; i++)
        if (k->ops[i].is_write && !k->ops[i].open) w[nw++] = (by_inv){ k->ops[i].inv, (int)i };
    qsort(w, nw, sizeof *w, by_inv_cmp);
    for (size_t j = nw; j-- > 0;) {
        earliest[j] = w[j].op;
        if (j + 1 < nw && k->ops[earliest[j + 1]].deadline < k->ops[w[j].op].deadline)
            earliest[j] = earliest[j + 1];
    }
    *first = nw ? earliest[0] : -1;
    for (size_t i = 0; i < k->n; i++) {
        const lop *p = &k->ops[i];
        over[i] = -1;
        if (!p->is_write || p->open || p->deadline == INT64_MAX) continue;
        size_t from = lower_bound(w, nw, sizeof *w, p->deadline + 1);
        if (from < nw) over[i] = earliest[from];
    }
    free(w);
    free(earliest);
    return 0;
}

/* Whether write i (or the initial value, i < 0, overwritten first by op
 * over_initial) can be the value read r sees. */
static int may_see(const keyrun *k, const int *over, int over_initial, int i, size_t r)
{
    int o = i < 0 ? over_initial : over[i];
    if (i >= 0 && k->ops[i].inv > k->ops[r].deadline) return 0;
    return o < 0 || k->ops[o].deadline >= k->ops[r].inv;
}

static void say_unseeable(text *t, const keyrun *k, const int *over, int over_initial, int i,
                          size_t r)
{
    if (i < 0)
        say(t, "\n  the initial value");
    else
        say_lop(t, k, i);
    if (i >= 0 && k->ops[i].inv > k->ops[r].deadline) {
        say(t, ", begun after the read returned");
    } else {
        int o = i < 0 ? over_initial : over[i];
        say(t, ", then ");
        say_op_as(t, k->ops[o].id, &k->h->ops[k->ops[o].id], 1);
    }
}

/*
 * A read that real time alone rules out: each write of its value began
 * after the read returned, or was followed by a write that certainly took
 * effect before the read began (and so was the initial value, if it has
 * that). The search would fail too; this names the ops that show why.
 * 1 when there is no such read, 0 when there is, -1 when out of memory.
 */
static int find_stale_read(keyrun *k, text *t)
{
    int *over = malloc((k->n + 1) * sizeof *over);
    int *by_value = malloc((k->n + 1) * sizeof *by_value); /* writes, by value number */
    size_t *start = calloc(k->n + 2, sizeof *start);
    int over_initial;
    if (!over || !by_value || !start || find_overwriters(k, over, &over_initial) < 0) {
        free(over);
        free(by_value);
        free(start);
        return -1;
    }
    /* Writes grouped by value number: those of v are by_value[start[v] ..
     * start[v + 1]). */
    for (size_t i = 0; i < k->n; i++)
        if (k->ops[i].is_write) start[k->ops[i].vid + 1]++;
    for (size_t v = 0; v <= k->n; v++) start[v + 1] += start[v];
    for (size_t i = 0; i < k->n; i++)
        if (k->ops[i].is_write) by_value[start[k->ops[i].vid]++] = (int)i;
    for (size_t v = k->n + 1; v-- > 1;) start[v] = start[v - 1];
    start[0] = 0;

    size_t stale = k->n;
    for (size_t r = 0; r < k->n && stale == k->n; r++) {
        const lop *p = &k->ops[r];
        if (p->is_write) continue;
        int possible = p->value == k->initial && may_see(k, over, over_initial, -1, r);
        for (size_t j = start[p->vid]; j < start[p->vid + 1] && !possible; j++)
            possible = may_see(k, over, over_initial, by_value[j], r);
        if (!possible) stale = r;
    }
    if (stale < k->n) {
        const lop *p = &k->ops[stale];
        say(t, "key %" PRId64 ": not linearizable: op %d reads %" PRId64 ", but real time "
               "rules out every source of that value (a write after it ended before the "
               "read began, or it began after the read returned):", k->key, p->id, p->value);
        if (p->value == k->initial) say_unseeable(t, k, over, over_initial, -1, stale);
        size_t from = start[p->vid], to = start[p->vid + 1];
        if (to - from > LC_WINDOW / 2) {
            say(t, "\n  ... %zu earlier writes of %" PRId64, to - from - LC_WINDOW / 2, p->value);
            from = to - LC_WINDOW / 2;
        }
        for (size_t j = from; j < to; j++)
            say_unseeable(t, k, over, over_initial, by_value[j], stale);
        say(t, "\n  and the read:");
        say_lop(t, k, (int)stale);
    }
    free(over);
    free(by_value);
    free(start);
    return stale == k->n;
}

/* ------------------------------------------------------------------------ */
/* The search                                                                */
/* ------------------------------------------------------------------------ */

/* Where the search stands: the ops placed (stack, bits, zob) and the value
 * they leave, with its number and writer (-1 for the initial value). */
typedef struct walk {
    keyrun *k;
    uint64_t *steps; /* one per loop turn and per entry a scan looks at */
    entry head;
    size_t depth;
    int64_t value;
    uint32_t vid;
    int writer;
    uint64_t zob;
} walk;

static void lift(entry *call)
{
    entry *ret = call->match;
    call->prev->next = call->next;
    if (call->next) call->next->prev = call->prev;
    ret->prev->next = ret->next;
    if (ret->next) ret->next->prev = ret->prev;
}

static void unlift(entry *call)
{
    entry *ret = call->match;
    ret->prev->next = ret;
    if (ret->next) ret->next->prev = ret;
    call->prev->next = call;
    if (call->next) call->next->prev = call;
}

static void flip(walk *w, int op)
{
    w->k->bits[op / 64] ^= UINT64_C(1) << (op % 64);
    w->zob ^= w->k->zobrist[op];
}

/*
 * Whether a valid order may start with candidate write call, as far as
 * the other candidates tell.
 *
 * Candidate writes of one value are interchangeable but for their
 * deadlines: if an order starts with B while candidate A writes the same
 * and must take effect no later, swapping the two keeps it valid (A may go
 * first, and whatever had to follow A follows B in A's place). So only the
 * first candidate with the earliest deadline of its value is worth trying.
 *
 * An open write is worth placing only just before a read of its value: if
 * a write follows it instead, the order without it is as good. That read
 * must then be a candidate already, as the open write has no deadline that
 * could hold it back.
 */
static int worth_writing(walk *w, const entry *call)
{
    const lop *p = &w->k->ops[call->op];
    int64_t deadline = p->open ? INT64_MAX : p->deadline;
    int read_waits = 0;
    for (const entry *e = w->head.next; e && e->is_call; e = e->next) {
        const lop *q = &w->k->ops[e->op];
        ++*w->steps;
        if (e == call || q->vid != p->vid) continue;
        if (!q->is_write) {
            read_waits = 1;
            continue;
        }
        int64_t d = q->open ? INT64_MAX : q->deadline;
        if (d < deadline || (d == deadline && e < call)) return 0;
    }
    return !p->open || read_waits;
}

static int can_take_effect(walk *w, const entry *call)
{
    const lop *p = &w->k->ops[call->op];
    return p->is_write ? worth_writing(w, call) : p->value == w->value;
}

/* Place call's op next unless the memo has seen the state that leads to:
 * 1 placed, 0 seen, -1 when the memo may not grow. */
static int place(walk *w, entry *call, uint8_t forced)
{
    keyrun *k = w->k;
    const lop *p = &k->ops[call->op];
    int64_t after = p->is_write ? p->value : w->value;
    flip(w, call->op);
    int fresh = memo_insert(&k->memo, k->bits, after, w->zob ^ mix((uint64_t)after));
    if (fresh <= 0) {
        flip(w, call->op);
        return fresh;
    }
    k->stack[w->depth++] = (frame){ call, w->value, w->vid, w->writer, forced };
    if (p->is_write) {
        w->value = after;
        w->vid = p->vid;
        w->writer = call->op;
        k->unwritten[p->vid]--;
    } else {
        k->unread[p->vid]--;
    }
    lift(call);
    return 1;
}

/* Take back placed ops down to and including the latest free choice; the
 * entry to try after that choice, or NULL when there was none. */
static entry *undo(walk *w)
{
    keyrun *k = w->k;
    while (w->depth > 0) {
        frame f = k->stack[--w->depth];
        const lop *p = &k->ops[f.call->op];
        w->value = f.value_before;
        w->vid = f.vid_before;
        w->writer = f.writer_before;
        if (p->is_write)
            k->unwritten[p->vid]++;
        else
            k->unread[p->vid]++;
        flip(w, f.call->op);
        unlift(f.call);
        if (!f.forced) return f.call->next;
    }
    return NULL;
}

/*
 * A move that loses nothing, so that if it leads nowhere neither does the
 * current state.
 *
 * A candidate read that sees the current value: in any valid order of the
 * remaining ops it can move to the front, as a read changes nothing.
 *
 * Else a blind candidate write, whose value no remaining read sees. With no
 * read able to go first, any valid order starts with some write X, and a
 * blind candidate can move to just before X: where it was, nothing saw it
 * (only a write can follow a blind write), and where it lands X hides it.
 */
static entry *forced_move(walk *w)
{
    entry *blind = NULL;
    for (entry *e = w->head.next; e && e->is_call; e = e->next) {
        const lop *p = &w->k->ops[e->op];
        ++*w->steps;
        if (!p->is_write && p->value == w->value) return e;
        if (p->is_write && !blind && w->k->unread[p->vid] == 0) blind = e;
    }
    return blind;
}

/* A read still has to see the current value and no write of it is left:
 * unless such a read can go next, whatever goes next overwrites the value
 * for good. */
static int stranded(const walk *w)
{
    return w->vid != NO_VALUE && w->k->unread[w->vid] > 0 && w->k->unwritten[w->vid] == 0;
}

/* The last read left waiting for the current value: with the earlier ones
 * the value has just been written for, the likeliest to be stale. */
static int stranded_read(walk *w)
{
    int last = -1;
    for (const entry *e = w->head.next; e; e = e->next) {
        const lop *p = &w->k->ops[e->op];
        ++*w->steps;
        if (e->is_call && !p->is_write && p->value == w->value) last = e->op;
    }
    assert(last >= 0);
    return last;
}

static void note_stuck(keyrun *k, const walk *w, int op, uint8_t is_stranded)
{
    if (k->have_stuck && w->depth < k->stuck_depth) return;
    k->have_stuck = 1;
    k->stuck_depth = w->depth;
    k->stuck_op = op;
    k->stuck_writer = w->writer;
    k->stuck_value = w->value;
    k->stuck_stranded = is_stranded;
}

static int search(keyrun *k, uint64_t *steps, uint64_t max_steps)
{
    walk w = { .k = k, .steps = steps, .value = k->initial, .vid = k->initial_vid,
               .writer = -1 };
    build_list(k, &w.head);
    entry *e = w.head.next;
    int new_state = 1;
    while (w.head.next) {
        if (*steps >= max_steps) return KEY_STEPS;
        ++*steps;
        if (new_state) {
            new_state = 0;
            entry *move = forced_move(&w);
            int read_next = move && !k->ops[move->op].is_write;
            if (read_next || (move && !stranded(&w))) {
                int rc = place(&w, move, 1);
                if (rc < 0) return KEY_MEMORY;
                if (rc > 0) {
                    new_state = 1;
                    e = w.head.next;
                    continue;
                }
                e = undo(&w); /* seen before: this state leads nowhere */
                if (!e) return KEY_NOT;
                continue;
            }
            if (stranded(&w)) {
                note_stuck(k, &w, stranded_read(&w), 1);
                e = undo(&w);
                if (!e) return KEY_NOT;
                continue;
            }
        }
        assert(e != NULL); /* the list always ends with a return */
        if (e->is_call) {
            int rc = can_take_effect(&w, e) ? place(&w, e, 0) : 0;
            if (rc < 0) return KEY_MEMORY;
            new_state = rc;
            e = rc ? w.head.next : e->next;
            continue;
        }
        note_stuck(k, &w, e->op, 0); /* e's op should have taken effect by now */
        e = undo(&w);
        if (!e) return KEY_NOT;
    }
    return KEY_LINEARIZABLE;
}

/* ------------------------------------------------------------------------ */
/* Explanations                                                              */
/* ------------------------------------------------------------------------ */

/* Whether op i has taken effect before time t. */
static int over_before(const keyrun *k, size_t i, int64_t t)
{
    return !k->ops[i].open && k->ops[i].deadline < t;
}

static int invoked_later(const keyrun *k, int a, int b)
{
    const lop *x = &k->ops[a], *y = &k->ops[b];
    return x->inv != y->inv ? x->inv > y->inv : x->id > y->id;
}

/* Where the deepest attempt broke down: the stuck op, the write of the value
 * it was stuck with, the two ops that took effect last before the stuck op
 * began, and the ops overlapping it. */
static void explain(const keyrun *k, text *t)
{
    assert(k->have_stuck);
    size_t s = (size_t)k->stuck_op;
    const lop *so = &k->ops[s];
    say(t, "key %" PRId64 ": not linearizable: no order of its %zu ops consistent with real "
           "time explains every read. The longest start of one places %zu ops and leaves %"
           PRId64, k->key, k->n, k->stuck_depth, k->stuck_value);
    if (k->stuck_writer >= 0)
        say(t, " (op %d's write)", k->ops[k->stuck_writer].id);
    else
        say(t, " (the initial value)");
    if (k->stuck_stranded)
        say(t, "; op %d has yet to read that, but only a write can go next.", so->id);
    else
        say(t, "; then op %d cannot take effect in time.", so->id);
    int shown[LC_WINDOW];
    size_t n_shown = 0, more = 0;
    size_t before[2] = { SIZE_MAX, SIZE_MAX }; /* latest first */
    for (size_t i = 0; i < k->n; i++) {
        if (over_before(k, s, k->ops[i].inv)) continue; /* after s */
        if (!over_before(k, i, so->inv)) {
            if (n_shown < LC_WINDOW - 3)
                shown[n_shown++] = (int)i;
            else
                more++;
        } else if (before[0] == SIZE_MAX || k->ops[i].deadline > k->ops[before[0]].deadline) {
            before[1] = before[0];
            before[0] = i;
        } else if (before[1] == SIZE_MAX || k->ops[i].deadline > k->ops[before[1]].deadline) {
            before[1] = i;
        }
    }
    for (int b = 0; b < 2; b++)
        if (before[b] != SIZE_MAX) shown[n_shown++] = (int)before[b];
    int writer_listed = k->stuck_writer < 0;
    for (size_t i = 0; i < n_shown; i++) writer_listed |= shown[i] == k->stuck_writer;
    if (!writer_listed) shown[n_shown++] = k->stuck_writer;
    /* In order of invocation; a handful, so insertion sort. */
    for (size_t i = 1; i < n_shown; i++)
        for (size_t j = i; j > 0 && invoked_later(k, shown[j - 1], shown[j]); j--) {
            int tmp = shown[j];
            shown[j] = shown[j - 1];
            shown[j - 1] = tmp;
        }
    say(t, " Ops around op %d:", so->id);
    for (size_t i = 0; i < n_shown; i++) say_lop(t, k, shown[i]);
    if (more) say(t, "\n  ... and %zu more overlapping op %d", more, so->id);
}

/* ------------------------------------------------------------------------ */
/* Checking                                                                  */
/* ------------------------------------------------------------------------ */

static int check_key(keyrun *k, text *t, uint64_t *steps, uint64_t max_steps)
{
    int rc = check_read_values(k, t);
    if (rc <= 0) return rc < 0 ? KEY_MEMORY : KEY_NOT;
    if (!select_ops(k) || !number_values(k)) return KEY_MEMORY;
    rc = find_stale_read(k, t);
    if (rc <= 0) return rc < 0 ? KEY_MEMORY : KEY_NOT;
    size_t words = (k->n + 63) / 64 + 1;
    k->entries = malloc((2 * k->n + 1) * sizeof *k->entries);
    k->bits = calloc(words, sizeof *k->bits);
    k->zobrist = malloc((k->n + 1) * sizeof *k->zobrist);
    k->stack = malloc((k->n + 1) * sizeof *k->stack);
    if (!k->entries || !k->bits || !k->zobrist || !k->stack ||
        !memo_init(&k->memo, words, k->h->memory_limit))
        return KEY_MEMORY;
    for (size_t i = 0; i < k->n; i++) k->zobrist[i] = mix(i ^ UINT64_C(0x6c696e636865636b));
    rc = search(k, steps, max_steps);
    if (rc == KEY_NOT) explain(k, t);
    return rc;
}

static void keyrun_free(keyrun *k)
{
    free(k->ops);
    free(k->unread);
    free(k->unwritten);
    free(k->entries);
    free(k->bits);
    free(k->zobrist);
    free(k->stack);
    memo_free(&k->memo);
}

/* qsort has no context argument, so the ids carry their keys. */
typedef struct keyed_id {
    int64_t key;
    int id;
} keyed_id;

static int keyed_cmp(const void *a, const void *b)
{
    const keyed_id *x = a, *y = b;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

static int64_t initial_value(const lc_history *h, int64_t key)
{
    for (size_t i = 0; i < h->n_initial; i++)
        if (h->initial[i].key == key) return h->initial[i].value;
    return 0;
}

int lc_check(const lc_history *h, char *buf, size_t cap, uint64_t max_steps)
{
    text t = { buf, cap, 0 };
    if (cap) buf[0] = 0;
    if (h->broken[0]) {
        say(&t, "history not usable: %s", h->broken);
        return -1;
    }
    keyed_id *order = malloc((h->n + 1) * sizeof *order);
    int *ids = malloc((h->n + 1) * sizeof *ids);
    if (!order || !ids) {
        free(order);
        free(ids);
        say(&t, "out of memory sorting %zu ops", h->n);
        return -1;
    }
    for (size_t i = 0; i < h->n; i++) order[i] = (keyed_id){ h->ops[i].key, (int)i };
    qsort(order, h->n, sizeof *order, keyed_cmp);
    for (size_t i = 0; i < h->n; i++) ids[i] = order[i].id;

    uint64_t steps = 0;
    size_t keys = 0;
    int result = 1;
    for (size_t lo = 0, hi; lo < h->n && result == 1; lo = hi) {
        int64_t key = order[lo].key;
        for (hi = lo; hi < h->n && order[hi].key == key; hi++) {}
        keyrun k = { .h = h, .key = key, .initial = initial_value(h, key), .ids = ids + lo,
                     .n_all = hi - lo };
        int rc = check_key(&k, &t, &steps, max_steps);
        keyrun_free(&k);
        keys++;
        if (rc == KEY_NOT) {
            result = 0;
        } else if (rc == KEY_STEPS) {
            say(&t, "key %" PRId64 ": gave up: the search took more than %" PRIu64 " steps "
                    "(%zu ops)", key, max_steps, hi - lo);
            result = -1;
        } else if (rc == KEY_MEMORY) {
            say(&t, "key %" PRId64 ": gave up: out of memory or over the limit of %zu bytes "
                    "(%zu ops)", key, h->memory_limit, hi - lo);
            result = -1;
        }
    }
    free(order);
    free(ids);
    if (result == 1)
        say(&t, "linearizable: %zu ops over %zu keys in %" PRIu64 " search steps", h->n, keys,
            steps);
    return result;
}
