/*
 * queue.c - the event heap.
 */
#include "sim/queue.h"

#include <stdlib.h>

#include "zab.h"

static int event_before(const zab_sim_event *x, const zab_sim_event *y)
{
    if (x->at != y->at) return x->at < y->at;
    return x->seq < y->seq;
}

static void swap_events(zab_sim_event *x, zab_sim_event *y)
{
    zab_sim_event t = *x;
    *x = *y;
    *y = t;
}

static void sift_up(zab_sim_event *h, size_t i)
{
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!event_before(&h[i], &h[parent])) break;
        swap_events(&h[i], &h[parent]);
        i = parent;
    }
}

static void sift_down(zab_sim_event *h, size_t n, size_t i)
{
    for (;;) {
        size_t least = i, l = 2 * i + 1, r = l + 1;
        if (l < n && event_before(&h[l], &h[least])) least = l;
        if (r < n && event_before(&h[r], &h[least])) least = r;
        if (least == i) return;
        swap_events(&h[i], &h[least]);
        i = least;
    }
}

int zab_sim_queue_push(zab_sim_queue *q, int64_t at, uint32_t kind, uint32_t a, uint32_t b,
                       uint32_t tag, uint64_t arg)
{
    if (q->n == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 64;
        zab_sim_event *h = realloc(q->heap, cap * sizeof *h);
        if (!h) return ZAB_ENOMEM;
        q->heap = h;
        q->cap = cap;
    }
    zab_sim_event *e = &q->heap[q->n];
    e->at = at;
    e->seq = q->next_seq++;
    e->arg = arg;
    e->kind = kind;
    e->a = a;
    e->b = b;
    e->tag = tag;
    sift_up(q->heap, q->n++);
    return 0;
}

const zab_sim_event *zab_sim_queue_peek(const zab_sim_queue *q)
{
    return q->n ? &q->heap[0] : NULL;
}

int zab_sim_queue_pop(zab_sim_queue *q, zab_sim_event *out)
{
    if (!q->n) return 0;
    *out = q->heap[0];
    q->heap[0] = q->heap[--q->n];
    sift_down(q->heap, q->n, 0);
    return 1;
}

void zab_sim_queue_free(zab_sim_queue *q)
{
    free(q->heap);
    q->heap = NULL;
    q->n = q->cap = 0;
}
