/*
 * Reading the file trees of built stages and base images from their layer
 * blobs: a header walk (does WORKDIR exist?) and a safe extraction into a
 * directory (the source tree of COPY --from, /etc/passwd for --chown
 * names, --output type=local) by the layer module's extractor.
 */
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

static void cleanup_extractorp(struct gantry_layer_extractor **x)
{
    gantry_layer_extractor_free(*x);
}

/* One layer blob applied by x. */
static int extract_blob(struct gantry_store *s, const char *digest,
                        struct gantry_layer_extractor *x, struct gantry_error **err)
{
    __attribute__((cleanup(cleanup_blobp))) struct gantry_store_blob_reader *br =
        gantry_store_blob_reader_open(s, digest, err);
    if (!br)
        return -1;
    __attribute__((cleanup(cleanup_readerp))) struct gantry_layer_reader *r =
        gantry_layer_reader_open(blob_read, br, NULL, err);
    if (!r)
        return -1;
    return gantry_layer_extract_layer(x, r, err);
}

/*
 * The layer module's safe extractor: every name, link and hard link
 * target resolved inside dir, so a hostile base image cannot write
 * outside it; device nodes and FIFOs are skipped, so COPY never opens one.
 */
int build_layers_extract(struct gantry_store *s, const struct gantry_oci_descriptor *layers,
                         size_t n_layers, const char *dir, struct gantry_error **err)
{
    const struct gantry_layer_extract_opts o = {.flags = GANTRY_LAYER_EXTRACT_MTIMES};
    __attribute__((cleanup(cleanup_extractorp))) struct gantry_layer_extractor *x =
        gantry_layer_extractor_new(dir, &o, err);
    if (!x)
        return -1;
    for (size_t i = 0; i < n_layers; i++)
        if (extract_blob(s, layers[i].digest, x, err) < 0)
            return gantry_error_prefix(err, "read layer %s", layers[i].digest);
    return 0;
}
