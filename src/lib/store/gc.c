/*
 * Garbage collection and verification.
 *
 * The race gc must not lose: an import writes its blobs first and names
 * them last (ref_set), so for a while its blobs are unreachable. Every open
 * handle holds a shared flock on the store root; gc takes it exclusively
 * (without waiting), so it runs only when no other handle is open, and
 * handles opened meanwhile wait in gantry_store_open until it is done. The
 * index lock is held too, so index.json cannot change under the mark phase.
 */
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <time.h>

#include "store_internal.h"

#define TMP_STALE_SECONDS 3600

/* Trade this handle's shared session lock for an exclusive one. */
static int session_exclusive(struct gantry_store *s, struct gantry_error **err)
{
    _cleanup_close_ int fd = open(s->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return gantry_error_set(err, GANTRY_E_IO, errno, "open store '%s'", s->root);
    flock(s->session_fd, LOCK_UN);
    if (flock(fd, LOCK_EX | LOCK_NB) == 0)
        return steal_fd(&fd);
    int e = errno;
    while (flock(s->session_fd, LOCK_SH) < 0 && errno == EINTR)
        ;
    if (e == EWOULDBLOCK)
        return gantry_error_set(err, GANTRY_E_DENIED, 0,
                                "store '%s' is in use by another process, try gc again later",
                                s->root);
    return gantry_error_set(err, GANTRY_E_IO, e, "lock store '%s'", s->root);
}

static void session_shared(struct gantry_store *s, int exclusive_fd)
{
    close(exclusive_fd);
    while (flock(s->session_fd, LOCK_SH) < 0 && errno == EINTR)
        ;
}

static int mark(struct gantry_store *s, struct store_walk *w, struct gantry_error **err)
{
    struct gantry_oci_index *idx = store_index_load(s, err);
    if (!idx)
        return -1;
    int r = 0;
    for (size_t i = 0; i < idx->n_manifests && r == 0; i++) {
        const struct gantry_oci_descriptor *d = &idx->manifests[i];
        w->ref = gantry_oci_descriptor_annotation(d, GANTRY_OCI_ANNOTATION_REF_NAME);
        r = store_walk(w, d, err);
    }
    w->ref = NULL;
    gantry_oci_index_free(idx);
    return r;
}

struct sweep {
    const struct strset *keep;
    struct gantry_store_gc_stats *stats;
};

static int sweep_blob(void *ctx, const char *digest, const char *path, const struct stat *st,
                      struct gantry_error **err)
{
    struct sweep *sw = ctx;
    if (strset_has(sw->keep, digest)) {
        sw->stats->blobs_kept++;
        return 0;
    }
    if (unlink(path) < 0 && errno != ENOENT)
        return gantry_error_set(err, GANTRY_E_IO, errno, "remove '%s'", path);
    sw->stats->blobs_removed++;
    sw->stats->bytes_removed += (uint64_t)st->st_size;
    return 0;
}

static int sweep_tmp(struct gantry_store *s, struct gantry_store_gc_stats *stats,
                     struct gantry_error **err)
{
    _cleanup_free_ char *dir = store_path(s, "tmp");
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? 0 : gantry_error_set(err, GANTRY_E_IO, errno, "open '%s'", dir);
    time_t limit = time(NULL) - TMP_STALE_SECONDS;
    const struct dirent *e;
    while ((e = readdir(d))) {
        _cleanup_free_ char *path = xasprintf("%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode) || st.st_mtime > limit)
            continue;
        if (unlink(path) == 0)
            stats->tmp_removed++;
    }
    closedir(d);
    return 0;
}

static int gc_locked(struct gantry_store *s, struct gantry_store_gc_stats *stats,
                     struct gantry_error **err)
{
    _cleanup_close_ int lock = store_lock(s, LOCK_EX, err);
    if (lock < 0)
        return -1;
    struct store_walk w = {.s = s, .strict = true};
    int r = mark(s, &w, err);
    stats->missing = w.missing;
    struct sweep sw = {.keep = &w.seen, .stats = stats};
    if (r == 0)
        r = store_for_each_blob(s, sweep_blob, &sw, err);
    if (r == 0)
        r = sweep_tmp(s, stats, err);
    store_walk_release(&w);
    return r;
}

int gantry_store_gc(struct gantry_store *s, struct gantry_store_gc_stats *out,
                    struct gantry_error **err)
{
    struct gantry_store_gc_stats stats = {0};
    int exclusive = session_exclusive(s, err);
    if (exclusive < 0)
        return gantry_error_prefix(err, "gc");
    int r = gc_locked(s, &stats, err);
    session_shared(s, exclusive);
    if (out)
        *out = stats;
    return r < 0 ? gantry_error_prefix(err, "gc") : 0;
}

static int verify_blob(void *ctx, const char *digest, const char *path, const struct stat *st,
                       struct gantry_error **err)
{
    (void)path;
    (void)st;
    (void)err;
    struct store_walk *w = ctx;
    struct gantry_store_blob_reader *r = gantry_store_blob_reader_open(w->s, digest, NULL);
    if (!r)
        return 0; /* removed meanwhile */
    char chunk[65536];
    struct gantry_error *e = NULL;
    ssize_t n;
    while ((n = gantry_store_blob_reader_read(r, chunk, sizeof(chunk), &e)) > 0)
        ;
    gantry_store_blob_reader_free(r);
    if (n < 0) {
        strset_add(&w->bad, digest);
        store_walk_problem(w, GANTRY_STORE_PROBLEM_CORRUPT, digest, "%s", e->message);
    }
    gantry_error_free(e);
    return 0;
}

int gantry_store_verify(struct gantry_store *s, struct gantry_store_problem **out, size_t *n,
                        struct gantry_error **err)
{
    *out = NULL;
    *n = 0;
    struct store_walk w = {.s = s, .strict = false};
    int r = store_for_each_blob(s, verify_blob, &w, err);
    if (r == 0)
        r = mark(s, &w, err);
    if (r == 0) {
        *out = steal_pointer(&w.problems);
        *n = w.n_problems;
        w.n_problems = 0;
    }
    store_walk_release(&w);
    return r;
}

void gantry_store_problems_free(struct gantry_store_problem *p, size_t n)
{
    for (size_t i = 0; p && i < n; i++) {
        free(p[i].ref);
        free(p[i].digest);
        free(p[i].message);
    }
    free(p);
}
