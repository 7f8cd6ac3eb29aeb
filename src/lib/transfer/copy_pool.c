/*
 * A minimal worker pool for the copy engine: n independent tasks over a
 * few threads, the first error wins. Blob transfers are I/O bound, so a
 * handful of threads (the caller's among them) is enough; no queue object
 * outlives the call.
 */
#include <pthread.h>

#include "copy_internal.h"

#include "util.h"

struct pool {
    pthread_mutex_t lock;
    size_t next;
    size_t n;
    bool failed;
    struct gantry_error *first_err;
    copy_task_fn fn;
    void *ctx;
};

/* The next task index, or false when done or after a failure. */
static bool pool_take(struct pool *p, size_t *i)
{
    pthread_mutex_lock(&p->lock);
    bool ok = !p->failed && p->next < p->n;
    if (ok)
        *i = p->next++;
    pthread_mutex_unlock(&p->lock);
    return ok;
}

static void pool_fail(struct pool *p, struct gantry_error *e)
{
    pthread_mutex_lock(&p->lock);
    p->failed = true;
    if (!p->first_err)
        p->first_err = e;
    else
        gantry_error_free(e);
    pthread_mutex_unlock(&p->lock);
}

static void *pool_worker(void *arg)
{
    struct pool *p = arg;
    size_t i;
    while (pool_take(p, &i)) {
        struct gantry_error *e = NULL;
        if (p->fn(p->ctx, i, &e) == 0)
            continue;
        if (!e)
            (void)gantry_error_set(&e, GANTRY_E_INTERNAL, 0, "a transfer task failed silently");
        pool_fail(p, e);
    }
    return NULL;
}

int copy_parallel(size_t n, unsigned jobs, copy_task_fn fn, void *ctx, struct gantry_error **err)
{
    struct pool p = {.n = n, .fn = fn, .ctx = ctx};
    pthread_mutex_init(&p.lock, NULL);
    size_t want = jobs ? jobs : GANTRY_TRANSFER_DEFAULT_JOBS;
    if (want > n)
        want = n;
    _cleanup_free_ pthread_t *threads = xcalloc(want, sizeof(*threads));
    size_t started = 0;
    /* A thread that cannot start only makes the pool smaller. */
    while (started + 1 < want && pthread_create(&threads[started], NULL, pool_worker, &p) == 0)
        started++;
    pool_worker(&p);
    for (size_t t = 0; t < started; t++)
        pthread_join(threads[t], NULL);
    pthread_mutex_destroy(&p.lock);
    if (!p.failed)
        return 0;
    if (err) {
        gantry_error_free(*err);
        *err = p.first_err;
    } else {
        gantry_error_free(p.first_err);
    }
    return -1;
}
