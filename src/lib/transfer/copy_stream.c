/*
 * A registry blob as the upload source of another registry, with no local
 * copy: a producer thread GETs the blob into a bounded ring buffer, and
 * the upload reads it from there in order. The upload may go back (a cut
 * PATCH resumes from the destination's offset; curl may send a body
 * again): the producer is then stopped and started afresh with Range from
 * that offset. The bytes are hashed the first time they pass, and the read
 * that hands over the last ones checks the digest (and waits for the
 * producer's own size checks) first, so a bad source never completes an
 * upload.
 */
#include <inttypes.h>
#include <pthread.h>

#include <gantry/registry.h>

#include "copy_internal.h"

#include "util.h"

#define STREAM_BUFFER (4u * 1024u * 1024u)
#define STREAM_PROGRESS_STEP (512u * 1024u)

struct copy_stream {
    struct gantry_registry_client *c;
    const struct gantry_ref *ref;
    const struct copy_blob *b;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    char *ring;
    size_t head;  /* ring index of the next byte to read */
    size_t fill;  /* bytes buffered from head on */
    uint64_t pos; /* blob offset of the byte at head */
    bool started; /* a producer thread exists (join it) */
    bool ended;   /* the producer has returned */
    bool cancel;  /* the producer must stop */
    struct gantry_error *prod_err;
    pthread_t thread;
    uint64_t from; /* where the producer started */
    struct gantry_hasher *hasher;
    uint64_t hashed; /* bytes [0, hashed) went through the hasher */
    bool verified;
    uint64_t reported;
};

struct copy_stream *copy_stream_new(struct gantry_registry_client *c, const struct gantry_ref *ref,
                                    const struct copy_blob *b)
{
    struct copy_stream *s = xcalloc(1, sizeof(*s));
    s->c = c;
    s->ref = ref;
    s->b = b;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->cond, NULL);
    s->ring = xmalloc(STREAM_BUFFER);
    enum gantry_digest_alg alg = GANTRY_DIGEST_SHA256;
    /* A malformed digest is refused by the fetch itself. */
    if (gantry_digest_validate(b->digest, strlen(b->digest), &alg, NULL) < 0)
        alg = GANTRY_DIGEST_SHA256;
    s->hasher = gantry_hasher_new(alg);
    return s;
}

/* gantry_registry_write_fn of the producer: wait for room, copy in. */
static int stream_put(void *user, const void *data, size_t len, struct gantry_error **err)
{
    struct copy_stream *s = user;
    const char *p = data;
    pthread_mutex_lock(&s->lock);
    while (len > 0 && !s->cancel) {
        if (s->fill == STREAM_BUFFER) {
            pthread_cond_wait(&s->cond, &s->lock);
            continue;
        }
        size_t tail = (s->head + s->fill) % STREAM_BUFFER;
        size_t room = STREAM_BUFFER - s->fill;
        size_t n = len < room ? len : room;
        if (n > STREAM_BUFFER - tail)
            n = STREAM_BUFFER - tail;
        memcpy(s->ring + tail, p, n);
        s->fill += n;
        p += n;
        len -= n;
        pthread_cond_broadcast(&s->cond);
    }
    bool cancelled = s->cancel;
    pthread_mutex_unlock(&s->lock);
    return cancelled ? gantry_error_set(err, GANTRY_E_INTERNAL, 0, "stream stopped") : 0;
}

static void *producer(void *arg)
{
    struct copy_stream *s = arg;
    struct gantry_registry_blob_get g = {
        .digest = s->b->digest,
        .size = s->b->size,
        .write = stream_put,
        .user = s,
        .offset = s->from,
        .caller_hashes = true, /* stream_verify: once over every restart */
    };
    struct gantry_error *e = NULL;
    int r = gantry_registry_get_blob(s->c, s->ref, &g, &e);
    pthread_mutex_lock(&s->lock);
    s->ended = true;
    if (r < 0 && !s->cancel)
        s->prod_err = steal_pointer(&e);
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
    gantry_error_free(e);
    return NULL;
}

/* Stop the producer, if any, and wait for it (called without the lock). */
static void stream_stop(struct copy_stream *s)
{
    pthread_mutex_lock(&s->lock);
    bool started = s->started;
    s->cancel = true;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
    if (started)
        pthread_join(s->thread, NULL);
    s->started = false;
    gantry_error_free(s->prod_err);
    s->prod_err = NULL;
}

/* A producer from offset on, the buffer emptied (called without the lock). */
static int stream_start(struct copy_stream *s, uint64_t offset, struct gantry_error **err)
{
    stream_stop(s);
    if (offset != 0)
        gantry_log(GANTRY_LOG_DEBUG, "blob %s: fetching the source again from byte %" PRIu64,
                   s->b->digest, offset);
    s->head = s->fill = 0;
    s->pos = s->from = offset;
    s->ended = s->cancel = false;
    int rc = pthread_create(&s->thread, NULL, producer, s);
    if (rc != 0)
        return gantry_error_set(err, GANTRY_E_INTERNAL, rc, "start a thread for blob %s",
                                s->b->digest);
    s->started = true;
    return 0;
}

/* Hash what passes for the first time: bytes [at, at + n) of the blob. */
static void stream_hash(struct copy_stream *s, uint64_t at, const char *buf, size_t n)
{
    if (at > s->hashed || at + n <= s->hashed)
        return;
    size_t skip = (size_t)(s->hashed - at);
    gantry_hasher_update(s->hasher, buf + skip, n - skip);
    s->hashed = at + n;
}

/* Take up to len buffered bytes (lock held); 0 after the producer ended. */
static size_t stream_take(struct copy_stream *s, char *buf, size_t len)
{
    while (s->fill == 0 && !s->ended)
        pthread_cond_wait(&s->cond, &s->lock);
    size_t n = len < s->fill ? len : s->fill;
    size_t first = n < STREAM_BUFFER - s->head ? n : STREAM_BUFFER - s->head;
    memcpy(buf, s->ring + s->head, first);
    memcpy(buf + first, s->ring, n - first);
    s->head = (s->head + n) % STREAM_BUFFER;
    s->fill -= n;
    s->pos += n;
    pthread_cond_broadcast(&s->cond);
    return n;
}

/* At the end of the blob: the producer's checks, then the digest (lock held). */
static int stream_verify(struct copy_stream *s, struct gantry_error **err)
{
    while (!s->ended)
        pthread_cond_wait(&s->cond, &s->lock);
    if (s->prod_err) {
        if (err) {
            gantry_error_free(*err);
            *err = steal_pointer(&s->prod_err);
        }
        return -1;
    }
    if (s->verified)
        return 0;
    char got[GANTRY_DIGEST_MAX];
    gantry_hasher_final(s->hasher, got);
    if (strcmp(got, s->b->digest) != 0) {
        _cleanup_free_ char *repo = gantry_ref_repository(s->ref);
        return gantry_error_set(err, GANTRY_E_DIGEST_MISMATCH, 0,
                                "fetch blob '%s@%s': digest mismatch: got %s, want %s", repo,
                                s->b->digest, got, s->b->digest);
    }
    s->verified = true;
    return 0;
}

/* Read under the lock; the producer is running from s->pos. */
static ssize_t stream_read_locked(struct copy_stream *s, char *buf, size_t len,
                                  struct gantry_error **err)
{
    uint64_t at = s->pos;
    size_t n = stream_take(s, buf, len);
    if (n == 0 && s->prod_err) {
        if (err) {
            gantry_error_free(*err);
            *err = steal_pointer(&s->prod_err);
        }
        return -1;
    }
    stream_hash(s, at, buf, n);
    if (n > 0 && s->pos == (uint64_t)s->b->size && stream_verify(s, err) < 0)
        return -1;
    return (ssize_t)n;
}

ssize_t copy_stream_read(void *user, uint64_t offset, void *buf, size_t len,
                         struct gantry_error **err)
{
    struct copy_stream *s = user;
    if ((!s->started || offset != s->pos) && stream_start(s, offset, err) < 0)
        return -1;
    pthread_mutex_lock(&s->lock);
    ssize_t n = stream_read_locked(s, buf, len, err);
    pthread_mutex_unlock(&s->lock);
    uint64_t at = offset + (n > 0 ? (uint64_t)n : 0);
    if (at >= s->reported + STREAM_PROGRESS_STEP) {
        copy_progress("copying", s->b->digest, at, (uint64_t)s->b->size, false);
        s->reported = at;
    }
    return n;
}

void copy_stream_free(struct copy_stream *s)
{
    if (!s)
        return;
    stream_stop(s);
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->lock);
    gantry_hasher_free(s->hasher);
    free(s->ring);
    free(s);
}
