/*
 * Layers of a build: entries collected by a step, sorted, written through
 * the layer module's deterministic tar writer and compressing sink into a
 * verified store blob. Before writing, the step cache is asked for the
 * layer's key: the entries' metadata and file contents (through the stat
 * cache), the compression and the writer's version, which is everything
 * the bytes depend on. Implicit parent directories are resolved against
 * the stage's lower layers before the key is made, so the resolved mode
 * and owner are part of the key (no key version change was needed: an
 * older record still names the bytes of the entries it hashed).
 */
#include <fcntl.h>
#include <sys/stat.h>

#include <gantry/image.h>

#include "build/build_internal.h"

/* Bumped whenever the tar bytes made from equal entries may change. */
#define LAYER_KEY_VERSION "gantry-layer-key-v1"

/* The set of paths of a build_entries (open addressing over own copies). */
void build_entries_add(struct build_entries *l, const struct build_entry *e)
{
    l->items = xrealloc(l->items, (l->n_items + 1) * sizeof *l->items);
    struct build_entry *d = &l->items[l->n_items++];
    *d = *e;
    d->path = xstrdup(e->path);
    d->src = e->src ? xstrdup(e->src) : NULL;
    d->link_target = e->link_target ? xstrdup(e->link_target) : NULL;
    strset_add(&l->paths, e->path);
}

void build_entries_add_parents(struct build_entries *l, const char *path, int64_t mtime)
{
    _cleanup_free_ char *p = xstrdup(path);
    for (char *s = strchr(p, '/'); s; s = strchr(s + 1, '/')) {
        *s = '\0';
        if (!strset_has(&l->paths, p)) {
            struct build_entry e = {.path = p,
                                    .type = GANTRY_LAYER_DIR,
                                    .mode = 0755,
                                    .mtime = mtime,
                                    .implicit = true};
            build_entries_add(l, &e);
        }
        *s = '/';
    }
}

static void entry_release(struct build_entry *e)
{
    free(e->path);
    free(e->src);
    free(e->link_target);
}

static int cmp_entry(const void *a, const void *b)
{
    const struct build_entry *x = a, *y = b;
    int c = strcmp(x->path, y->path);
    if (c)
        return c;
    /* Stable for equal paths: the later one sorts last. */
    return x < y ? -1 : x > y;
}

void build_entries_sort(struct build_entries *l)
{
    if (l->n_items > 1)
        qsort(l->items, l->n_items, sizeof *l->items, cmp_entry);
    size_t out = 0;
    for (size_t i = 0; i < l->n_items; i++) {
        if (i + 1 < l->n_items && strcmp(l->items[i].path, l->items[i + 1].path) == 0) {
            entry_release(&l->items[i]);
            continue;
        }
        l->items[out++] = l->items[i];
    }
    l->n_items = out;
}

void build_entries_release(struct build_entries *l)
{
    for (size_t i = 0; l && i < l->n_items; i++)
        entry_release(&l->items[i]);
    if (l) {
        free(l->items);
        strset_release(&l->paths);
        l->items = NULL;
        l->n_items = 0;
    }
}

static int add_one(struct gantry_layer_tar_writer *w, const struct build_entry *e,
                   struct gantry_error **err)
{
    struct gantry_layer_entry m = {.path = e->path,
                                   .link_target = e->link_target,
                                   .type = e->type,
                                   .mode = e->mode,
                                   .uid = e->uid,
                                   .gid = e->gid,
                                   .mtime = e->mtime,
                                   .size = e->size};
    if (e->type == GANTRY_LAYER_DIR)
        return gantry_layer_tar_writer_add_dir(w, &m, err);
    if (e->type == GANTRY_LAYER_SYMLINK)
        return gantry_layer_tar_writer_add_symlink(w, &m, err);
    if (e->type == GANTRY_LAYER_HARDLINK)
        return gantry_layer_tar_writer_add_hardlink(w, &m, err);
    if (e->type != GANTRY_LAYER_FILE)
        return gantry_layer_tar_writer_add_special(w, &m, err);
    _cleanup_close_ int fd = open(e->src, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return gantry_error_set(err, GANTRY_E_IO, errno, "open '%s'", e->src);
    return gantry_layer_tar_writer_add_file(w, &m, fd, err);
}

static int write_to_blob(void *user, const void *data, size_t len, struct gantry_error **err)
{
    return gantry_store_blob_writer_write(user, data, len, err);
}

static void cleanup_writerp(struct gantry_store_blob_writer **w)
{
    gantry_store_blob_writer_free(*w);
}
static void cleanup_sinkp(struct gantry_layer_sink **s)
{
    gantry_layer_sink_free(*s);
}
static void cleanup_tarp(struct gantry_layer_tar_writer **w)
{
    gantry_layer_tar_writer_free(*w);
}

/* Stream the entries through tar writer and sink; fills *res. */
static int write_tar(struct gantry_layer_sink *sink, const struct build_entries *l,
                     struct gantry_layer_result *res, struct gantry_error **err)
{
    __attribute__((cleanup(cleanup_tarp))) struct gantry_layer_tar_writer *tw =
        gantry_layer_tar_writer_new(sink);
    for (size_t i = 0; i < l->n_items; i++)
        if (add_one(tw, &l->items[i], err) < 0)
            return -1;
    if (gantry_layer_tar_writer_finish(tw, err) < 0)
        return -1;
    return gantry_layer_sink_finish(sink, res, err);
}

/* Write the entries into a new blob; no cache involved. */
static int write_layer(struct gantry_store *s, const struct build_entries *l,
                       enum gantry_compression c, struct gantry_oci_descriptor *desc,
                       char diff_id[GANTRY_DIGEST_MAX], struct gantry_error **err)
{
    __attribute__((cleanup(cleanup_writerp))) struct gantry_store_blob_writer *bw =
        gantry_store_blob_writer_new(s, NULL, -1, err);
    if (!bw)
        return -1;
    __attribute__((cleanup(cleanup_sinkp))) struct gantry_layer_sink *sink =
        gantry_layer_sink_new(c, write_to_blob, bw);
    struct gantry_layer_result res = {0};
    char digest[GANTRY_DIGEST_MAX];
    if (write_tar(sink, l, &res, err) < 0 || gantry_store_blob_writer_commit(bw, digest, err) < 0)
        return -1;
    if (strcmp(digest, res.digest) != 0)
        return gantry_error_set(err, GANTRY_E_INTERNAL, 0,
                                "layer digest %s differs from the stored blob %s", res.digest,
                                digest);
    gantry_oci_descriptor_init(desc, gantry_image_layer_media_type(c), res.digest,
                               (int64_t)res.size);
    memcpy(diff_id, res.diff_id, GANTRY_DIGEST_MAX);
    return 0;
}

/* A new layer blob, its directories recorded from the entries at once. */
static int fresh_layer(struct gantry_store *s, const struct build_entries *l,
                       enum gantry_compression c, struct gantry_oci_descriptor *desc,
                       char diff_id[GANTRY_DIGEST_MAX], struct gantry_error **err)
{
    if (write_layer(s, l, c, desc, diff_id, err) < 0)
        return -1;
    build_dirs_record_entries(s, desc->digest, l);
    return 0;
}

/* ---- the layer's cache key ---- */

static void cleanup_hasherp(struct gantry_hasher **h)
{
    gantry_hasher_free(*h);
}

/* The identity of every regular file entry (others stay zero). */
static int entry_ids(const struct build_entries *l, struct build_file_id *ids,
                     struct gantry_error **err)
{
    for (size_t i = 0; i < l->n_items; i++) {
        const struct build_entry *e = &l->items[i];
        struct stat sb;
        if (e->type != GANTRY_LAYER_FILE)
            continue;
        if (stat(e->src, &sb) < 0)
            return gantry_error_set(err, GANTRY_E_IO, errno, "stat '%s'", e->src);
        build_file_id_of(&sb, &ids[i]);
    }
    return 0;
}

static bool ids_unchanged(const struct build_entries *l, const struct build_file_id *ids)
{
    struct build_file_id now = {0};
    struct stat sb;
    for (size_t i = 0; i < l->n_items; i++) {
        if (l->items[i].type != GANTRY_LAYER_FILE)
            continue;
        if (stat(l->items[i].src, &sb) < 0)
            return false;
        build_file_id_of(&sb, &now);
        if (!build_file_id_equal(&now, &ids[i]))
            return false;
    }
    return true;
}

/* NUL-separated fields: paths and link targets cannot hold a NUL. */
static void hash_meta(struct gantry_hasher *h, const struct build_entry *e)
{
    char num[128];
    int n = snprintf(num, sizeof num, "%d %o %u %u %lld %llu", (int)e->type, e->mode, e->uid,
                     e->gid, (long long)e->mtime, (unsigned long long)e->size);
    gantry_hasher_update(h, num, (size_t)n + 1);
    gantry_hasher_update(h, e->path, strlen(e->path) + 1);
    const char *t = e->link_target ? e->link_target : "";
    gantry_hasher_update(h, t, strlen(t) + 1);
}

static struct gantry_hasher *key_hasher(enum gantry_compression c, const char *kind)
{
    struct gantry_hasher *h = gantry_hasher_new(GANTRY_DIGEST_SHA256);
    const char *parts[] = {LAYER_KEY_VERSION, kind, gantry_version(), gantry_compression_name(c)};
    for (size_t i = 0; i < ARRAY_SIZE(parts); i++)
        gantry_hasher_update(h, parts[i], strlen(parts[i]) + 1);
    return h;
}

static void key_final(struct gantry_hasher *h, char key[65])
{
    char d[GANTRY_DIGEST_MAX];
    gantry_hasher_final(h, d);
    snprintf(key, 65, "%s", gantry_digest_hex(d));
}

/* Cheap key from metadata and file identities: equal layers in flight. */
static void flight_key(const struct build_entries *l, const struct build_file_id *ids,
                       enum gantry_compression c, char key[65])
{
    __attribute__((cleanup(cleanup_hasherp))) struct gantry_hasher *h = key_hasher(c, "flight");
    for (size_t i = 0; i < l->n_items; i++) {
        hash_meta(h, &l->items[i]);
        gantry_hasher_update(h, &ids[i], sizeof ids[i]);
    }
    key_final(h, key);
}

/* The cache key: metadata and content digests. */
static int content_key(struct build_cache *cache, const struct build_entries *l,
                       const struct build_file_id *ids, enum gantry_compression c, char key[65],
                       struct gantry_error **err)
{
    __attribute__((cleanup(cleanup_hasherp))) struct gantry_hasher *h = key_hasher(c, "layer");
    for (size_t i = 0; i < l->n_items; i++) {
        const struct build_entry *e = &l->items[i];
        hash_meta(h, e);
        if (e->type != GANTRY_LAYER_FILE)
            continue;
        char d[GANTRY_DIGEST_MAX];
        if (build_cache_file_digest(cache, e->src, &ids[i], d, err) < 0)
            return -1;
        gantry_hasher_update(h, d, strlen(d) + 1);
    }
    key_final(h, key);
    return 0;
}

/* Under the flight of its entries: the recorded layer, or a new one recorded. */
static int cached_write(struct build_stage *st, const struct build_entries *l,
                        const struct build_file_id *ids, struct gantry_oci_descriptor *desc,
                        char diff_id[GANTRY_DIGEST_MAX], struct gantry_error **err)
{
    struct build_ctx *ctx = st->ctx;
    enum gantry_compression c = ctx->opts->compression;
    char key[65];
    if (content_key(ctx->cache, l, ids, c, key, err) < 0)
        return -1;
    if (build_cache_get(ctx->cache, key, desc, diff_id)) {
        st->layers_cached++;
        return 0;
    }
    if (fresh_layer(ctx->store, l, c, desc, diff_id, err) < 0)
        return -1;
    /* A file changed while it was read: its digest may not match the tar. */
    if (ids_unchanged(l, ids))
        build_cache_put(ctx->cache, key, desc, diff_id);
    return 0;
}

int build_layer_write(struct build_stage *st, struct build_entries *l,
                      struct gantry_oci_descriptor *desc, char diff_id[GANTRY_DIGEST_MAX],
                      struct gantry_error **err)
{
    struct build_ctx *ctx = st->ctx;
    st->layers_written++;
    if (build_dirs_resolve(st, l, err) < 0)
        return -1;
    if (!ctx->cache)
        return fresh_layer(ctx->store, l, ctx->opts->compression, desc, diff_id, err);
    _cleanup_free_ struct build_file_id *ids = xcalloc(l->n_items, sizeof *ids);
    if (entry_ids(l, ids, err) < 0)
        return -1;
    char fk[65];
    flight_key(l, ids, ctx->opts->compression, fk);
    build_cache_flight_begin(ctx->cache, fk);
    int rc = cached_write(st, l, ids, desc, diff_id, err);
    build_cache_flight_end(ctx->cache, fk);
    return rc;
}
