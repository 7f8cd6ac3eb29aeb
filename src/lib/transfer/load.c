/*
 * `load`: read an archive in one pass, whatever the order of its entries
 * (an OCI archive may list index.json after its blobs). Small JSON
 * documents are buffered; every other file streams into the store as it
 * comes: blobs/<alg>/<hex> verified against its name, the loose files of
 * a docker archive (configs, layer tars) under the digest they hash to,
 * checked at the end against manifest.json and the config's diff_ids.
 * Names are set last, once everything they reach is stored.
 */
#include <gantry/ref.h>
#include <gantry/store.h>

#include "transfer_internal.h"

#include "util.h"

#define LOAD_CHUNK (256u * 1024u)
/* Links followed from one path before giving up (a loop). */
#define LOAD_LINK_HOPS 16

static void load_ctx_release(struct load_ctx *c)
{
    for (size_t i = 0; i < c->n_files; i++) {
        free(c->files[i].path);
        free(c->files[i].link);
    }
    free(c->files);
    gantry_buf_release(&c->oci_layout);
    gantry_buf_release(&c->index_json);
    gantry_buf_release(&c->docker_manifest);
}

static struct load_file *load_add_file(struct load_ctx *c, const char *path)
{
    c->files = xrealloc(c->files, (c->n_files + 1) * sizeof(*c->files));
    struct load_file *f = &c->files[c->n_files++];
    *f = (struct load_file){.path = xstrdup(path)};
    return f;
}

const struct load_file *load_find_file(const struct load_ctx *c, const char *path)
{
    for (int hop = 0; hop < LOAD_LINK_HOPS; hop++) {
        const struct load_file *f = NULL;
        /* The last entry of a path wins, as when a tar is extracted. */
        for (size_t i = c->n_files; i-- > 0 && !f;)
            if (strcmp(c->files[i].path, path) == 0)
                f = &c->files[i];
        if (!f || !f->link)
            return f;
        path = f->link;
    }
    return NULL;
}

void load_images_release(struct load_images *l)
{
    for (size_t i = 0; i < l->n_items; i++) {
        for (size_t k = 0; k < l->items[i].n_names; k++)
            free(l->items[i].names[k]);
        free(l->items[i].names);
        gantry_oci_descriptor_release(&l->items[i].desc);
    }
    free(l->items);
    *l = (struct load_images){0};
}

struct load_image *load_images_add(struct load_images *l)
{
    l->items = xrealloc(l->items, (l->n_items + 1) * sizeof(*l->items));
    struct load_image *img = &l->items[l->n_items++];
    *img = (struct load_image){0};
    return img;
}

void load_image_add_name(struct load_image *img, char *name)
{
    img->names = xrealloc(img->names, (img->n_names + 2) * sizeof(*img->names));
    img->names[img->n_names++] = name;
    img->names[img->n_names] = NULL;
}

/* A store blob fed from archive entry path; the store's errors name the entry. */
struct blob_out {
    struct gantry_store_blob_writer *w;
    const char *path;
};

static int blob_write(void *user, const void *data, size_t len, struct gantry_error **err)
{
    struct blob_out *b = user;
    if (gantry_store_blob_writer_write(b->w, data, len, err) < 0)
        return gantry_error_prefix(err, "'%s'", b->path);
    return 0;
}

static int blob_commit(struct blob_out *b, char digest[GANTRY_DIGEST_MAX],
                       struct gantry_error **err)
{
    if (gantry_store_blob_writer_commit(b->w, digest, err) < 0)
        return gantry_error_prefix(err, "'%s'", b->path);
    return 0;
}

/* A small document (oci-layout, index.json, manifest.json) into b. */
static int load_document(struct gantry_layer_reader *r, const char *path, uint64_t size,
                         struct gantry_buf *b, struct gantry_error **err)
{
    char chunk[65536];
    ssize_t n;
    if (size > GANTRY_MANIFEST_MAX)
        return gantry_error_set(err, GANTRY_E_TOO_LARGE, 0, "'%s' in archive: more than %u bytes",
                                path, GANTRY_MANIFEST_MAX);
    gantry_buf_release(b);
    gantry_buf_init(b, GANTRY_MANIFEST_MAX);
    while ((n = gantry_layer_reader_read_data(r, chunk, sizeof(chunk), err)) > 0)
        if (gantry_buf_add(b, chunk, (size_t)n) < 0)
            return gantry_error_set(err, GANTRY_E_TOO_LARGE, 0,
                                    "'%s' in archive: more than %u bytes", path,
                                    GANTRY_MANIFEST_MAX);
    return n < 0 ? -1 : 0;
}

/*
 * blobs/<alg>/<hex>: into the store, verified against its name. A blob the
 * store already has is only hashed, so a corrupt archive is still an error.
 */
static int load_blob(struct load_ctx *c, struct gantry_layer_reader *r, const char *path,
                     uint64_t size, unsigned char *buf, struct gantry_error **err)
{
    struct load_file *f = load_add_file(c, path);
    f->size = (int64_t)size;
    if (!transfer_path_blob_digest(path, f->digest))
        return gantry_error_set(err, GANTRY_E_INTERNAL, 0, "'%s': not a blob path", path);
    enum gantry_digest_alg alg;
    if (gantry_digest_validate(f->digest, strlen(f->digest), &alg, err) < 0)
        return -1;
    struct blob_out b = {NULL, path};
    struct gantry_hasher *h = NULL;
    if (gantry_store_blob_exists(c->s, f->digest))
        h = gantry_hasher_new(alg);
    else if (!(b.w = gantry_store_blob_writer_new(c->s, f->digest, f->size, err)))
        return gantry_error_prefix(err, "'%s'", path);
    ssize_t n;
    bool first = true;
    while ((n = gantry_layer_reader_read_data(r, buf, LOAD_CHUNK, err)) > 0) {
        /* A docker manifest.json may name this blob as a layer: note its compression. */
        if (first && gantry_compression_detect(buf, (size_t)n, &f->stored, NULL) < 0)
            f->stored = GANTRY_COMPRESSION_NONE;
        first = false;
        if (h)
            gantry_hasher_update(h, buf, (size_t)n);
        else if (blob_write(&b, buf, (size_t)n, err) < 0)
            break;
    }
    int rc = n == 0 ? 0 : -1;
    if (rc == 0 && b.w)
        rc = blob_commit(&b, NULL, err);
    if (rc == 0)
        transfer_progress(b.w ? "loaded" : "verified", f->digest, size, size, true);
    if (rc == 0 && h) {
        char got[GANTRY_DIGEST_MAX];
        gantry_hasher_final(h, got);
        if (strcmp(got, f->digest) != 0)
            rc = gantry_error_set(err, GANTRY_E_DIGEST_MISMATCH, 0,
                                  "'%s': digest mismatch: got %s, want %s", path, got, f->digest);
    }
    gantry_hasher_free(h);
    gantry_store_blob_writer_free(b.w);
    return rc;
}

/* Read the first bytes of an entry (as many as there are, up to len). */
static ssize_t read_head(struct gantry_layer_reader *r, unsigned char *buf, size_t len,
                         struct gantry_error **err)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = gantry_layer_reader_read_data(r, buf + got, len - got, err);
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        got += (size_t)n;
    }
    return (ssize_t)got;
}

static bool looks_like_tar(const unsigned char *head, size_t len)
{
    return len >= 512 && memcmp(head + 257, "ustar", 5) == 0;
}

/* Feed head[0..n) and the rest of the entry to fn (a sink or a blob writer). */
static int pump(struct gantry_layer_reader *r, unsigned char *buf, size_t n,
                gantry_layer_write_fn fn, void *user, struct gantry_error **err)
{
    ssize_t more = (ssize_t)n;
    do {
        if (more > 0 && fn(user, buf, (size_t)more, err) < 0)
            return -1;
    } while ((more = gantry_layer_reader_read_data(r, buf, LOAD_CHUNK, err)) > 0);
    return more < 0 ? -1 : 0;
}

static int sink_write(void *user, const void *data, size_t len, struct gantry_error **err)
{
    return gantry_layer_sink_write(user, data, len, err);
}

/* A layer tar of a docker archive: stored gzip-compressed, diff_id kept. */
static int load_gzip(struct gantry_layer_reader *r, struct blob_out *b, unsigned char *buf,
                     size_t n, struct load_file *f, struct gantry_error **err)
{
    struct gantry_layer_result res;
    struct gantry_layer_sink *sink = gantry_layer_sink_new(GANTRY_COMPRESSION_GZIP, blob_write, b);
    int rc = pump(r, buf, n, sink_write, sink, err);
    if (rc == 0)
        rc = gantry_layer_sink_finish(sink, &res, err);
    gantry_layer_sink_free(sink);
    if (rc < 0)
        return -1;
    memcpy(f->diff_id, res.diff_id, sizeof(f->diff_id));
    f->stored = GANTRY_COMPRESSION_GZIP;
    return 0;
}

/*
 * Any other file (a docker archive's config or layer): stored under the
 * digest it hashes to. Tars are compressed on the way (docker layers are
 * uncompressed); the manifest.json check at the end decides what they are.
 */
static int load_loose(struct load_ctx *c, struct gantry_layer_reader *r, const char *path,
                      unsigned char *buf, struct gantry_error **err)
{
    struct load_file *f = load_add_file(c, path);
    ssize_t n = read_head(r, buf, 512, err);
    if (n < 0)
        return -1;
    struct blob_out b = {gantry_store_blob_writer_new(c->s, NULL, -1, err), path};
    if (!b.w)
        return gantry_error_prefix(err, "'%s'", path);
    int rc;
    if (looks_like_tar(buf, (size_t)n)) {
        rc = load_gzip(r, &b, buf, (size_t)n, f, err);
    } else {
        /* xz and bzip2 are no layer compression: such a file stays opaque. */
        if (gantry_compression_detect(buf, (size_t)n, &f->stored, NULL) < 0)
            f->stored = GANTRY_COMPRESSION_NONE;
        rc = pump(r, buf, (size_t)n, blob_write, &b, err);
    }
    if (rc == 0) {
        f->size = (int64_t)gantry_store_blob_writer_size(b.w);
        rc = blob_commit(&b, f->digest, err);
    }
    if (rc == 0)
        transfer_progress("loaded", f->digest, (uint64_t)f->size, (uint64_t)f->size, true);
    gantry_store_blob_writer_free(b.w);
    return rc;
}

static int load_link(struct load_ctx *c, const char *path, const struct gantry_layer_entry *e,
                     struct gantry_error **err)
{
    /* Symlinks are relative to their directory, hardlinks to the root. */
    char *target = e->type == GANTRY_LAYER_SYMLINK
                       ? transfer_path_link_target(path, e->link_target)
                       : transfer_path_clean(e->link_target, strlen(e->link_target));
    if (!target)
        return gantry_error_set(err, GANTRY_E_PARSE, 0,
                                "link '%s' in archive points outside it: '%s'", path,
                                e->link_target);
    load_add_file(c, path)->link = target;
    return 0;
}

static int load_regular(struct load_ctx *c, struct gantry_layer_reader *r, const char *path,
                        uint64_t size, unsigned char *buf, struct gantry_error **err)
{
    switch (transfer_path_classify(path)) {
    case TRANSFER_ENTRY_OCI_LAYOUT:
        c->have_oci_layout = true;
        return load_document(r, path, size, &c->oci_layout, err);
    case TRANSFER_ENTRY_INDEX:
        c->have_index_json = true;
        return load_document(r, path, size, &c->index_json, err);
    case TRANSFER_ENTRY_DOCKER_MANIFEST:
        c->have_docker_manifest = true;
        return load_document(r, path, size, &c->docker_manifest, err);
    case TRANSFER_ENTRY_BLOB:
        return load_blob(c, r, path, size, buf, err);
    case TRANSFER_ENTRY_FILE:
        return load_loose(c, r, path, buf, err);
    case TRANSFER_ENTRY_IGNORED:
        break;
    }
    return 0;
}

static int load_entry(struct load_ctx *c, struct gantry_layer_reader *r,
                      const struct gantry_layer_entry *e, unsigned char *buf,
                      struct gantry_error **err)
{
    if (e->type == GANTRY_LAYER_DIR)
        return 0;
    _cleanup_free_ char *path = transfer_path_clean(e->path, strlen(e->path));
    if (!path)
        return gantry_error_set(err, GANTRY_E_PARSE, 0, "invalid path '%s' in archive", e->path);
    /* Errors name the entry already: the reader's and the store's alike. */
    if (e->type == GANTRY_LAYER_SYMLINK || e->type == GANTRY_LAYER_HARDLINK)
        return load_link(c, path, e, err);
    if (e->type == GANTRY_LAYER_FILE)
        return load_regular(c, r, path, e->size, buf, err);
    return 0;
}

/* The single pass over the archive's entries. */
static int load_pass(struct load_ctx *c, gantry_layer_read_fn in, void *user,
                     struct gantry_error **err)
{
    struct gantry_layer_reader *r = gantry_layer_reader_open(in, user, NULL, err);
    if (!r)
        return -1;
    _cleanup_free_ unsigned char *buf = xmalloc(LOAD_CHUNK);
    struct gantry_layer_entry e;
    int rc;
    while ((rc = gantry_layer_reader_next(r, &e, err)) == 1)
        if (load_entry(c, r, &e, buf, err) < 0) {
            rc = -1;
            break;
        }
    gantry_layer_reader_free(r);
    return rc;
}

static int load_finish(struct load_ctx *c, struct load_images *imgs,
                       enum gantry_archive_format *fmt, struct gantry_error **err)
{
    /* Docker 25+ archives carry both: their OCI side has the full story. */
    if (c->have_oci_layout) {
        *fmt = GANTRY_ARCHIVE_OCI;
        return load_finish_oci(c, imgs, err);
    }
    if (c->have_docker_manifest) {
        *fmt = GANTRY_ARCHIVE_DOCKER;
        return load_finish_docker(c, imgs, err);
    }
    if (c->have_index_json)
        return gantry_error_set(err, GANTRY_E_PARSE, 0,
                                "not an image archive: index.json without oci-layout");
    return gantry_error_set(err, GANTRY_E_PARSE, 0,
                            "not an image archive: no oci-layout nor manifest.json");
}

/* The name opts->tag gives: to the one unnamed image, or to a lone image. */
static int apply_tag(struct load_images *imgs, const char *tag, struct gantry_error **err)
{
    struct load_image *target = NULL;
    size_t unnamed = 0;
    if (!tag)
        return 0;
    for (size_t i = 0; i < imgs->n_items; i++)
        if (imgs->items[i].n_names == 0) {
            unnamed++;
            target = &imgs->items[i];
        }
    if (unnamed == 0 && imgs->n_items == 1)
        target = &imgs->items[0];
    else if (unnamed != 1)
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0,
                                "cannot name the archive's image '%s': it holds %zu images, %zu "
                                "without a name",
                                tag, imgs->n_items, unnamed);
    load_image_add_name(target, xstrdup(tag));
    return 0;
}

static int set_names(struct gantry_store *s, const struct load_images *imgs,
                     struct gantry_error **err)
{
    for (size_t i = 0; i < imgs->n_items; i++)
        for (size_t k = 0; k < imgs->items[i].n_names; k++)
            if (gantry_store_ref_set(s, imgs->items[i].names[k], &imgs->items[i].desc, err) < 0)
                return gantry_error_prefix(err, "name '%s'", imgs->items[i].names[k]);
    return 0;
}

static void add_result(struct gantry_transfer_load_result *out, const struct load_image *img,
                       const char *name)
{
    out->items = xrealloc(out->items, (out->n_items + 1) * sizeof(*out->items));
    out->items[out->n_items++] = (struct gantry_transfer_loaded){
        .name = name ? xstrdup(name) : NULL,
        .id = xstrdup(img->id),
        .digest = xstrdup(img->desc.digest),
    };
}

static void fill_result(const struct load_images *imgs, struct gantry_transfer_load_result *out)
{
    for (size_t i = 0; i < imgs->n_items; i++) {
        const struct load_image *img = &imgs->items[i];
        if (img->n_names == 0)
            add_result(out, img, NULL);
        for (size_t k = 0; k < img->n_names; k++)
            add_result(out, img, img->names[k]);
    }
}

/* A --tag value as a full name; a digest cannot be a name. */
static int normalize_tag(const char *tag, char **out, struct gantry_error **err)
{
    struct gantry_ref ref = GANTRY_REF_INIT;
    *out = NULL;
    if (!tag)
        return 0;
    if (gantry_ref_parse(tag, strlen(tag), &ref, err) < 0)
        return -1;
    if (ref.digest) {
        gantry_ref_release(&ref);
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0,
                                "invalid name '%s': a name cannot hold a digest", tag);
    }
    *out = gantry_ref_to_string(&ref);
    gantry_ref_release(&ref);
    return 0;
}

static void cleanup_load_ctxp(struct load_ctx *c)
{
    load_ctx_release(c);
}

static void cleanup_load_imagesp(struct load_images *l)
{
    load_images_release(l);
}

int gantry_transfer_load(struct gantry_store *s, gantry_layer_read_fn in, void *user,
                         const struct gantry_transfer_load_opts *opts,
                         struct gantry_transfer_load_result *out, struct gantry_error **err)
{
    __attribute__((cleanup(cleanup_load_ctxp))) struct load_ctx c = {
        .s = s,
        .oci_layout = GANTRY_BUF_INIT,
        .index_json = GANTRY_BUF_INIT,
        .docker_manifest = GANTRY_BUF_INIT,
    };
    __attribute__((cleanup(cleanup_load_imagesp))) struct load_images imgs = {0};
    _cleanup_free_ char *tag = NULL;
    enum gantry_archive_format fmt = GANTRY_ARCHIVE_OCI;
    *out = (struct gantry_transfer_load_result){0};
    if (normalize_tag(opts ? opts->tag : NULL, &tag, err) < 0)
        return -1;
    if (load_pass(&c, in, user, err) < 0 || load_finish(&c, &imgs, &fmt, err) < 0 ||
        apply_tag(&imgs, tag, err) < 0 || set_names(s, &imgs, err) < 0)
        return -1;
    out->format = fmt;
    fill_result(&imgs, out);
    return 0;
}

static ssize_t read_fd(void *user, void *buf, size_t len, struct gantry_error **err)
{
    int fd = *(int *)user;
    for (;;) {
        ssize_t n = read(fd, buf, len);
        if (n >= 0)
            return n;
        if (errno != EINTR)
            return gantry_error_set(err, GANTRY_E_IO, errno, "read archive");
    }
}

int gantry_transfer_load_fd(struct gantry_store *s, int fd,
                            const struct gantry_transfer_load_opts *opts,
                            struct gantry_transfer_load_result *out, struct gantry_error **err)
{
    return gantry_transfer_load(s, read_fd, &fd, opts, out, err);
}

void gantry_transfer_load_result_release(struct gantry_transfer_load_result *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_items; i++) {
        free(r->items[i].name);
        free(r->items[i].id);
        free(r->items[i].digest);
    }
    free(r->items);
    *r = (struct gantry_transfer_load_result){0};
}
