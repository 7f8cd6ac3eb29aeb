/*
 * Reading the file trees of built stages and base images from their layer
 * blobs: a header walk (does WORKDIR exist?) and an extraction into a
 * temporary directory (the source tree of COPY --from, /etc/passwd for
 * --chown names). A rootfs snapshot for RUN will replace the extraction.
 */
#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>

#include "build/build_internal.h"

typedef int (*entry_fn)(void *user, struct gantry_layer_reader *r,
                        const struct gantry_layer_entry *e, const char *path,
                        struct gantry_error **err);

static ssize_t blob_read(void *user, void *buf, size_t len, struct gantry_error **err)
{
    return gantry_store_blob_reader_read(user, buf, len, err);
}

static void cleanup_blobp(struct gantry_store_blob_reader **r)
{
    gantry_store_blob_reader_free(*r);
}
static void cleanup_readerp(struct gantry_layer_reader **r)
{
    gantry_layer_reader_free(*r);
}

/* Call fn for every entry of one layer, with its path cleaned (escapes skipped). */
static int walk_layer(struct gantry_store *s, const char *digest, entry_fn fn, void *user,
                      struct gantry_error **err)
{
    __attribute__((cleanup(cleanup_blobp))) struct gantry_store_blob_reader *br =
        gantry_store_blob_reader_open(s, digest, err);
    if (!br)
        return -1;
    __attribute__((cleanup(cleanup_readerp))) struct gantry_layer_reader *r =
        gantry_layer_reader_open(blob_read, br, NULL, err);
    if (!r)
        return -1;
    struct gantry_layer_entry e;
    int rc;
    while ((rc = gantry_layer_reader_next(r, &e, err)) == 1) {
        _cleanup_free_ char *p = build_context_path(e.path, strlen(e.path));
        if (p && strcmp(p, ".") != 0 && fn(user, r, &e, p, err) < 0)
            return -1;
    }
    return rc;
}

struct has_dir {
    const char *want;
    bool found;
};

static int has_dir_fn(void *user, struct gantry_layer_reader *r, const struct gantry_layer_entry *e,
                      const char *path, struct gantry_error **err)
{
    (void)r, (void)err;
    struct has_dir *h = user;
    size_t wl = strlen(h->want);
    /* A deeper entry implies its parent directories; a later layer's entry wins. */
    if (strcmp(path, h->want) == 0)
        h->found = e->type == GANTRY_LAYER_DIR;
    else if (strncmp(path, h->want, wl) == 0 && path[wl] == '/')
        h->found = true;
    return 0;
}

int build_stage_has_dir(struct build_stage *st, const char *path, struct gantry_error **err)
{
    _cleanup_free_ char *want = build_context_path(path, strlen(path));
    if (!want || strcmp(want, ".") == 0)
        return 1;
    struct has_dir h = {.want = want};
    for (size_t i = 0; i < st->n_layers; i++)
        if (walk_layer(st->ctx->store, st->layers[i].digest, has_dir_fn, &h, err) < 0)
            return -1;
    return h.found ? 1 : 0;
}

static int rm_fn(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
    (void)sb, (void)flag, (void)f;
    remove(p);
    return 0;
}

void build_rm_rf(const char *dir)
{
    nftw(dir, rm_fn, 16, FTW_DEPTH | FTW_PHYS);
}

/* mkdir -p of the parents of rel under dir. */
static void make_parents(const char *dir, const char *rel)
{
    _cleanup_free_ char *p = xasprintf("%s/%s", dir, rel);
    for (char *s = strchr(p + strlen(dir) + 1, '/'); s; s = strchr(s + 1, '/')) {
        *s = '\0';
        mkdir(p, 0755);
        *s = '/';
    }
}

static int write_file(struct gantry_layer_reader *r, const char *full,
                      const struct gantry_layer_entry *e, struct gantry_error **err)
{
    _cleanup_close_ int fd = open(full, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return gantry_error_set(err, GANTRY_E_IO, errno, "create '%s'", full);
    char buf[65536];
    ssize_t n;
    while ((n = gantry_layer_reader_read_data(r, buf, sizeof buf, err)) > 0)
        if (gantry_write_all(fd, buf, (size_t)n) < 0)
            return gantry_error_set(err, GANTRY_E_IO, errno, "write '%s'", full);
    if (n < 0)
        return -1;
    struct timespec ts[2] = {{.tv_sec = e->mtime}, {.tv_sec = e->mtime}};
    fchmod(fd, e->mode & 07777);
    futimens(fd, ts);
    return 0;
}

static int extract_fn(void *user, struct gantry_layer_reader *r, const struct gantry_layer_entry *e,
                      const char *path, struct gantry_error **err)
{
    const char *dir = user;
    enum gantry_whiteout wk = GANTRY_WHITEOUT_NONE;
    if (gantry_layer_whiteout_classify(path, strlen(path), &wk, err) < 0)
        return -1;
    const char *base = strrchr(path, '/');
    size_t parent_len = base ? (size_t)(base - path) : 0;
    base = base ? base + 1 : path;
    _cleanup_free_ char *full = NULL;
    if (wk == GANTRY_WHITEOUT_FILE || wk == GANTRY_WHITEOUT_OPAQUE) {
        if (wk == GANTRY_WHITEOUT_FILE)
            full = xasprintf("%s/%.*s%s%s", dir, (int)parent_len, path, parent_len ? "/" : "",
                             base + 4);
        else
            full = xasprintf("%s/%.*s", dir, (int)parent_len, path);
        build_rm_rf(full);
        if (wk == GANTRY_WHITEOUT_OPAQUE)
            mkdir(full, 0755);
        return 0;
    }
    make_parents(dir, path);
    full = xasprintf("%s/%s", dir, path);
    if (e->type != GANTRY_LAYER_DIR)
        build_rm_rf(full);
    switch (e->type) {
    case GANTRY_LAYER_DIR:
        if (mkdir(full, 0755) < 0 && errno != EEXIST)
            return gantry_error_set(err, GANTRY_E_IO, errno, "mkdir '%s'", full);
        chmod(full, (e->mode & 07777) | 0700);
        return 0;
    case GANTRY_LAYER_SYMLINK:
        return symlink(e->link_target, full) < 0 && errno != EEXIST
                   ? gantry_error_set(err, GANTRY_E_IO, errno, "symlink '%s'", full)
                   : 0;
    case GANTRY_LAYER_HARDLINK: {
        _cleanup_free_ char *t = build_context_path(e->link_target, strlen(e->link_target));
        _cleanup_free_ char *tf = t ? xasprintf("%s/%s", dir, t) : NULL;
        return tf && link(tf, full) < 0
                   ? gantry_error_set(err, GANTRY_E_IO, errno, "link '%s'", full)
                   : 0;
    }
    case GANTRY_LAYER_FILE:
        return write_file(r, full, e, err);
    default:
        return 0; /* devices and FIFOs cannot be made unprivileged; COPY skips them */
    }
}

int build_layers_extract(struct gantry_store *s, const struct gantry_oci_descriptor *layers,
                         size_t n_layers, const char *dir, struct gantry_error **err)
{
    for (size_t i = 0; i < n_layers; i++)
        if (walk_layer(s, layers[i].digest, extract_fn, (void *)dir, err) < 0)
            return gantry_error_prefix(err, "read layer %s", layers[i].digest);
    return 0;
}
