/*
 * pool.h - a few threads that run tasks which block: the session calls of
 * the ready host that wait for the server (open, resume, setWatches,
 * close, abandon), so that the connection loop itself never waits.
 */
#ifndef ZABD_POOL_H
#define ZABD_POOL_H

struct zabd_task {
    struct zabd_task *next;    /* the pool's queue */
    void (*run)(struct zabd_task *task);  /* on a pool thread */
};

struct zabd_pool;

/* Start nthreads threads; after each task has run, after(ctx, task) is
 * called on the thread that ran it. 0, or -1 when a thread or memory could
 * not be had (nothing is left running). */
int zabd_pool_start(struct zabd_pool **out, unsigned nthreads,
                    void (*after)(void *ctx, struct zabd_task *task), void *ctx);
/* Queue a task; tasks start in the order queued. Any thread. */
void zabd_pool_push(struct zabd_pool *pool, struct zabd_task *task);
/* Run every task still queued, then join the threads and free the pool. */
void zabd_pool_stop(struct zabd_pool *pool);

#endif
