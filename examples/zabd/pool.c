/*
 * pool.c - the blocking-task threads.
 */
#include <pthread.h>
#include <stdlib.h>

#include "pool.h"

struct zabd_pool {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct zabd_task *head, *tail;
    int stopping;
    void (*after)(void *ctx, struct zabd_task *task);
    void *ctx;
    unsigned nthreads;
    pthread_t threads[];
};

static struct zabd_task *take(struct zabd_pool *p)
{
    pthread_mutex_lock(&p->lock);
    while (!p->head && !p->stopping) pthread_cond_wait(&p->cond, &p->lock);
    struct zabd_task *t = p->head;
    if (t) {
        p->head = t->next;
        if (!p->head) p->tail = NULL;
        t->next = NULL;
    }
    pthread_mutex_unlock(&p->lock);
    return t;
}

static void *worker(void *arg)
{
    struct zabd_pool *p = arg;
    struct zabd_task *t;
    while ((t = take(p))) {
        t->run(t);
        p->after(p->ctx, t);
    }
    return NULL;
}

int zabd_pool_start(struct zabd_pool **out, unsigned nthreads,
                    void (*after)(void *ctx, struct zabd_task *task), void *ctx)
{
    struct zabd_pool *p = calloc(1, sizeof *p + nthreads * sizeof p->threads[0]);
    if (!p) return -1;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->cond, NULL);
    p->after = after;
    p->ctx = ctx;
    for (; p->nthreads < nthreads; p->nthreads++) {
        if (pthread_create(&p->threads[p->nthreads], NULL, worker, p)) {
            zabd_pool_stop(p);
            return -1;
        }
    }
    *out = p;
    return 0;
}

void zabd_pool_push(struct zabd_pool *p, struct zabd_task *t)
{
    t->next = NULL;
    pthread_mutex_lock(&p->lock);
    if (p->tail) p->tail->next = t;
    else p->head = t;
    p->tail = t;
    pthread_cond_signal(&p->cond);
    pthread_mutex_unlock(&p->lock);
}

void zabd_pool_stop(struct zabd_pool *p)
{
    pthread_mutex_lock(&p->lock);
    p->stopping = 1;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
    for (unsigned i = 0; i < p->nthreads; i++) pthread_join(p->threads[i], NULL);
    pthread_cond_destroy(&p->cond);
    pthread_mutex_destroy(&p->lock);
    free(p);
}
