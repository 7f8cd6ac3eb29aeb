/*
 * Layers of a build: entries collected by a step, sorted, written through
 * the layer module's deterministic tar writer and compressing sink into a
 * verified store blob.
 */
#include <fcntl.h>

#include <gantry/image.h>

#include "build/build_internal.h"

void build_entries_add(struct build_entries *l, const struct build_entry *e)
{
    l->items = xrealloc(l->items, (l->n_items + 1) * sizeof *l->items);
    struct build_entry *d = &l->items[l->n_items++];
    *d = *e;
    d->path = xstrdup(e->path);
    d->src = e->src ? xstrdup(e->src) : NULL;
    d->link_target = e->link_target ? xstrdup(e->link_target) : NULL;
}

static bool has_path(const struct build_entries *l, const char *path)
{
    for (size_t i = 0; i < l->n_items; i++)
        if (strcmp(l->items[i].path, path) == 0)
            return true;
    return false;
}

void build_entries_add_parents(struct build_entries *l, const char *path, int64_t mtime)
{
    _cleanup_free_ char *p = xstrdup(path);
    for (char *s = strchr(p, '/'); s; s = strchr(s + 1, '/')) {
        *s = '\0';
        if (!has_path(l, p)) {
            struct build_entry e = {
                .path = p, .type = GANTRY_LAYER_DIR, .mode = 0755, .mtime = mtime};
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

int build_layer_write(struct gantry_store *s, const struct build_entries *l,
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
