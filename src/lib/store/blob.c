/*
 * Blobs: verified streaming writes (tmp/ then rename into blobs/) and
 * reads that hash what they return and check it at EOF.
 */
#include <fcntl.h>

#include "store_internal.h"

struct gantry_store_blob_writer {
    struct gantry_store *s;
    int fd;
    char *tmp_path;
    struct gantry_hasher *h;
    char *expected;
    int64_t expected_size; /* -1: unknown */
    uint64_t written;
    bool done; /* committed or aborted: the temporary file is gone */
};

struct gantry_store_blob_reader {
    int fd;
    char *digest;
    struct gantry_hasher *h;
    int64_t size;
    bool verified;
    bool corrupt;
    char actual[GANTRY_DIGEST_MAX];
};

static void writer_abort(struct gantry_store_blob_writer *w)
{
    if (w->done)
        return;
    close(w->fd);
    w->fd = -1;
    unlink(w->tmp_path);
    w->done = true;
}

void gantry_store_blob_writer_free(struct gantry_store_blob_writer *w)
{
    if (!w)
        return;
    writer_abort(w);
    free(w->tmp_path);
    free(w->expected);
    gantry_hasher_free(w->h);
    free(w);
}

static void cleanup_writerp(struct gantry_store_blob_writer **w)
{
    gantry_store_blob_writer_free(*w);
}
#define _cleanup_writer_ __attribute__((cleanup(cleanup_writerp)))

struct gantry_store_blob_writer *gantry_store_blob_writer_new(struct gantry_store *s,
                                                              const char *expected_digest,
                                                              int64_t expected_size,
                                                              struct gantry_error **err)
{
    enum gantry_digest_alg alg = GANTRY_DIGEST_SHA256;
    if (expected_digest &&
        gantry_digest_validate(expected_digest, strlen(expected_digest), &alg, err) < 0)
        return NULL;
    if (expected_size < -1) {
        gantry_error_set(err, GANTRY_E_INVALID_ARG, 0, "invalid expected blob size %lld",
                         (long long)expected_size);
        return NULL;
    }
    _cleanup_free_ char *tmpdir = store_path(s, "tmp");
    if (store_mkdir(tmpdir, err) < 0)
        return NULL;
    _cleanup_writer_ struct gantry_store_blob_writer *w = xcalloc(1, sizeof(*w));
    w->s = s;
    w->tmp_path = xasprintf("%s/blob-XXXXXX", tmpdir);
    w->fd = mkostemp(w->tmp_path, O_CLOEXEC);
    if (w->fd < 0) {
        w->done = true;
        gantry_error_set(err, GANTRY_E_IO, errno, "create temporary file in '%s'", tmpdir);
        return NULL;
    }
    (void)fchmod(w->fd, 0644); /* blobs are content, readable like the layout */
    w->h = gantry_hasher_new(alg);
    w->expected = expected_digest ? xstrdup(expected_digest) : NULL;
    w->expected_size = expected_size;
    return steal_pointer(&w);
}

static const char *writer_name(const struct gantry_store_blob_writer *w)
{
    return w->expected ? w->expected : "blob";
}

int gantry_store_blob_writer_write(struct gantry_store_blob_writer *w, const void *data, size_t len,
                                   struct gantry_error **err)
{
    if (w->done)
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0, "%s: blob writer is finished",
                                writer_name(w));
    if (w->expected_size >= 0 && len > (uint64_t)w->expected_size - w->written) {
        writer_abort(w);
        return gantry_error_set(err, GANTRY_E_TOO_LARGE, 0, "%s: got more than %lld bytes",
                                writer_name(w), (long long)w->expected_size);
    }
    if (gantry_write_all(w->fd, data, len) < 0) {
        int e = errno;
        writer_abort(w);
        return gantry_error_set(err, GANTRY_E_IO, e, "write '%s'", w->tmp_path);
    }
    gantry_hasher_update(w->h, data, len);
    w->written += len;
    return 0;
}

uint64_t gantry_store_blob_writer_size(const struct gantry_store_blob_writer *w)
{
    return w->written;
}

/* Size and digest checks; the caller aborts on failure. */
static int writer_verify(struct gantry_store_blob_writer *w, char digest[GANTRY_DIGEST_MAX],
                         struct gantry_error **err)
{
    if (w->expected_size >= 0 && w->written != (uint64_t)w->expected_size)
        return gantry_error_set(err, GANTRY_E_DIGEST_MISMATCH, 0,
                                "%s: size mismatch: got %llu bytes, want %lld", writer_name(w),
                                (unsigned long long)w->written, (long long)w->expected_size);
    gantry_hasher_final(w->h, digest);
    if (w->expected && strcmp(digest, w->expected) != 0)
        return gantry_error_set(err, GANTRY_E_DIGEST_MISMATCH, 0,
                                "digest mismatch: got %s, want %s", digest, w->expected);
    return 0;
}

static int writer_publish(struct gantry_store_blob_writer *w, const char *digest,
                          struct gantry_error **err)
{
    _cleanup_free_ char *path = store_blob_path(w->s, digest, err);
    if (!path)
        return -1;
    _cleanup_free_ char *blobs = store_path(w->s, "blobs");
    _cleanup_free_ char *dir = xstrndup(path, (size_t)(strrchr(path, '/') - path));
    if (store_mkdir(blobs, err) < 0 || store_mkdir(dir, err) < 0)
        return -1;
    /* Replacing a present blob is harmless: same name, verified content. */
    if (rename(w->tmp_path, path) < 0)
        return gantry_error_set(err, GANTRY_E_IO, errno, "rename '%s' to '%s'", w->tmp_path, path);
    return store_fsync_dir(dir, err);
}

int gantry_store_blob_writer_commit(struct gantry_store_blob_writer *w,
                                    char digest_out[GANTRY_DIGEST_MAX], struct gantry_error **err)
{
    if (w->done)
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0, "%s: blob writer is finished",
                                writer_name(w));
    char digest[GANTRY_DIGEST_MAX];
    if (writer_verify(w, digest, err) < 0) {
        writer_abort(w);
        return -1;
    }
    if (fsync(w->fd) < 0) {
        int e = errno;
        writer_abort(w);
        return gantry_error_set(err, GANTRY_E_IO, e, "sync '%s'", w->tmp_path);
    }
    if (writer_publish(w, digest, err) < 0) {
        writer_abort(w);
        return -1;
    }
    close(w->fd);
    w->fd = -1;
    w->done = true;
    if (digest_out)
        memcpy(digest_out, digest, GANTRY_DIGEST_MAX);
    return 0;
}

int gantry_store_put_blob(struct gantry_store *s, const void *data, size_t len,
                          char digest_out[GANTRY_DIGEST_MAX], struct gantry_error **err)
{
    _cleanup_writer_ struct gantry_store_blob_writer *w =
        gantry_store_blob_writer_new(s, NULL, (int64_t)len, err);
    if (!w || gantry_store_blob_writer_write(w, data, len, err) < 0)
        return -1;
    return gantry_store_blob_writer_commit(w, digest_out, err);
}

void gantry_store_blob_reader_free(struct gantry_store_blob_reader *r)
{
    if (!r)
        return;
    if (r->fd >= 0)
        close(r->fd);
    free(r->digest);
    gantry_hasher_free(r->h);
    free(r);
}

static void cleanup_readerp(struct gantry_store_blob_reader **r)
{
    gantry_store_blob_reader_free(*r);
}
#define _cleanup_reader_ __attribute__((cleanup(cleanup_readerp)))

struct gantry_store_blob_reader *
gantry_store_blob_reader_open(struct gantry_store *s, const char *digest, struct gantry_error **err)
{
    enum gantry_digest_alg alg;
    _cleanup_free_ char *path = store_blob_path(s, digest, err);
    if (!path || gantry_digest_validate(digest, strlen(digest), &alg, err) < 0)
        return NULL;
    _cleanup_reader_ struct gantry_store_blob_reader *r = xcalloc(1, sizeof(*r));
    r->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (r->fd < 0) {
        if (errno == ENOENT)
            gantry_error_set(err, GANTRY_E_NOT_FOUND, 0, "blob %s is not in the store", digest);
        else
            gantry_error_set(err, GANTRY_E_IO, errno, "open blob '%s'", path);
        return NULL;
    }
    struct stat st;
    if (fstat(r->fd, &st) < 0) {
        gantry_error_set(err, GANTRY_E_IO, errno, "stat blob '%s'", path);
        return NULL;
    }
    r->size = st.st_size;
    r->digest = xstrdup(digest);
    r->h = gantry_hasher_new(alg);
    return steal_pointer(&r);
}

int64_t gantry_store_blob_reader_size(const struct gantry_store_blob_reader *r)
{
    return r->size;
}

static int reader_corrupt(struct gantry_store_blob_reader *r, struct gantry_error **err)
{
    return gantry_error_set(err, GANTRY_E_DIGEST_MISMATCH, 0,
                            "blob %s is corrupt: content hashes to %s", r->digest, r->actual);
}

ssize_t gantry_store_blob_reader_read(struct gantry_store_blob_reader *r, void *buf, size_t len,
                                      struct gantry_error **err)
{
    if (r->corrupt)
        return reader_corrupt(r, err);
    if (len == 0)
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0, "read of 0 bytes from blob %s",
                                r->digest);
    ssize_t n;
    do
        n = read(r->fd, buf, len);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return gantry_error_set(err, GANTRY_E_IO, errno, "read blob %s", r->digest);
    if (n > 0) {
        gantry_hasher_update(r->h, buf, (size_t)n);
        return n;
    }
    if (!r->verified) {
        gantry_hasher_final(r->h, r->actual);
        r->verified = true;
        r->corrupt = strcmp(r->actual, r->digest) != 0;
        if (r->corrupt)
            return reader_corrupt(r, err);
    }
    return 0;
}

static int read_all(struct gantry_store_blob_reader *r, struct gantry_buf *out,
                    struct gantry_error **err)
{
    char chunk[65536];
    for (;;) {
        ssize_t n = gantry_store_blob_reader_read(r, chunk, sizeof(chunk), err);
        if (n <= 0)
            return (int)n;
        if (gantry_buf_add(out, chunk, (size_t)n) < 0) /* the file grew after open */
            return gantry_error_set(err, GANTRY_E_TOO_LARGE, 0, "blob %s is larger than %zu bytes",
                                    r->digest, out->cap);
    }
}

int gantry_store_read_blob(struct gantry_store *s, const char *digest, struct gantry_buf *out,
                           struct gantry_error **err)
{
    _cleanup_reader_ struct gantry_store_blob_reader *r =
        gantry_store_blob_reader_open(s, digest, err);
    if (!r)
        return -1;
    if (out->cap && (uint64_t)r->size > out->cap - out->len)
        return gantry_error_set(err, GANTRY_E_TOO_LARGE, 0,
                                "blob %s is %lld bytes, more than the %zu byte limit", digest,
                                (long long)r->size, out->cap - out->len);
    size_t old = out->len;
    if (read_all(r, out, err) < 0) {
        out->len = old;
        out->data[old] = '\0';
        return -1;
    }
    return 0;
}

bool gantry_store_blob_exists(struct gantry_store *s, const char *digest)
{
    _cleanup_free_ char *path = store_blob_path(s, digest, NULL);
    struct stat st;
    return path && stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int gantry_store_blob_size(struct gantry_store *s, const char *digest, int64_t *size,
                           struct gantry_error **err)
{
    _cleanup_free_ char *path = store_blob_path(s, digest, err);
    if (!path)
        return -1;
    struct stat st;
    if (stat(path, &st) < 0) {
        if (errno == ENOENT)
            return gantry_error_set(err, GANTRY_E_NOT_FOUND, 0, "blob %s is not in the store",
                                    digest);
        return gantry_error_set(err, GANTRY_E_IO, errno, "stat blob '%s'", path);
    }
    *size = st.st_size;
    return 0;
}

char *gantry_store_blob_path(struct gantry_store *s, const char *digest, struct gantry_error **err)
{
    return store_blob_path(s, digest, err);
}
