/*
 * Background hashing of the uncompressed stream. SHA-256 of a layer costs
 * about a third of igzip level 1, so running it beside the compressor on a
 * second core keeps an import near the speed of compression alone.
 */
#include <pthread.h>

#include "layer_internal.h"
#include "util.h"

#define HASHQ_MAX_DEPTH 8

struct layer_hashq {
    pthread_mutex_t mu;
    pthread_cond_t work;
    pthread_cond_t done_cv;
    pthread_t thread;
    bool started;
    bool inline_only;
    bool stop;
    unsigned depth;
    uint64_t pushed;
    uint64_t done;
    const void *data[HASHQ_MAX_DEPTH];
    size_t len[HASHQ_MAX_DEPTH];
    struct gantry_hasher *h;
};

static void *hashq_main(void *arg)
{
    struct layer_hashq *q = arg;
    pthread_mutex_lock(&q->mu);
    for (;;) {
        while (q->done == q->pushed && !q->stop)
            pthread_cond_wait(&q->work, &q->mu);
        if (q->done == q->pushed)
            break;
        unsigned slot = (unsigned)(q->done % q->depth);
        const void *data = q->data[slot];
        size_t len = q->len[slot];
        pthread_mutex_unlock(&q->mu);
        gantry_hasher_update(q->h, data, len);
        pthread_mutex_lock(&q->mu);
        q->done++;
        pthread_cond_signal(&q->done_cv);
    }
    pthread_mutex_unlock(&q->mu);
    return NULL;
}

struct layer_hashq *layer_hashq_new(unsigned depth)
{
    struct layer_hashq *q = xcalloc(1, sizeof(*q));
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->work, NULL);
    pthread_cond_init(&q->done_cv, NULL);
    q->depth = depth == 0 ? 1 : depth > HASHQ_MAX_DEPTH ? HASHQ_MAX_DEPTH : depth;
    q->h = gantry_hasher_new(GANTRY_DIGEST_SHA256);
    return q;
}

/* The thread starts with the first buffer, so tiny layers never pay for it. */
static void hashq_start(struct layer_hashq *q)
{
    if (q->started || q->inline_only)
        return;
    if (pthread_create(&q->thread, NULL, hashq_main, q) != 0)
        q->inline_only = true;
    else
        q->started = true;
}

void layer_hashq_push(struct layer_hashq *q, const void *data, size_t len)
{
    if (len == 0)
        return;
    hashq_start(q);
    if (q->inline_only) {
        gantry_hasher_update(q->h, data, len);
        return;
    }
    pthread_mutex_lock(&q->mu);
    while (q->pushed - q->done >= q->depth)
        pthread_cond_wait(&q->done_cv, &q->mu);
    unsigned slot = (unsigned)(q->pushed % q->depth);
    q->data[slot] = data;
    q->len[slot] = len;
    q->pushed++;
    pthread_cond_signal(&q->work);
    pthread_mutex_unlock(&q->mu);
}

void layer_hashq_sync(struct layer_hashq *q)
{
    if (!q->started)
        return;
    pthread_mutex_lock(&q->mu);
    while (q->done != q->pushed)
        pthread_cond_wait(&q->done_cv, &q->mu);
    pthread_mutex_unlock(&q->mu);
}

void layer_hashq_final(struct layer_hashq *q, char out[GANTRY_DIGEST_MAX], uint64_t *size)
{
    layer_hashq_sync(q);
    *size = gantry_hasher_size(q->h);
    gantry_hasher_final(q->h, out);
}

void layer_hashq_free(struct layer_hashq *q)
{
    if (!q)
        return;
    if (q->started) {
        pthread_mutex_lock(&q->mu);
        q->stop = true;
        pthread_cond_signal(&q->work);
        pthread_mutex_unlock(&q->mu);
        pthread_join(q->thread, NULL);
    }
    pthread_cond_destroy(&q->done_cv);
    pthread_cond_destroy(&q->work);
    pthread_mutex_destroy(&q->mu);
    gantry_hasher_free(q->h);
    free(q);
}
