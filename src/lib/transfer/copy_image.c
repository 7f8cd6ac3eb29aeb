/*
 * `copy`: any end to any end (copy_ends.c). Plan what goes under the
 * destination's name (the image, one platform, or a smaller index), move
 * the blobs the destination lacks in parallel, then the child manifests,
 * then the top under the name. Digests are kept: documents are copied as
 * bytes, never rebuilt, except the smaller index of a --platform subset.
 */
#include <fcntl.h>
#include <stdatomic.h>

#include <gantry/registry.h>
#include <gantry/store.h>

#include "copy_internal.h"
#include "transfer_internal.h"

#include "util.h"

#define COPY_PROGRESS_STEP (512u * 1024u)

struct copy {
    struct copy_end src, dst;
    const struct gantry_transfer_copy_opts *o;
    bool same_registry; /* two repositories of one registry: mount */
    struct gantry_buf top;
    char *top_mt;
    char top_digest[GANTRY_DIGEST_MAX];
    struct gantry_oci_manifest **mans; /* the image manifests to copy */
    size_t n_mans;
    struct image_nest nest; /* nested indexes read: to choose platforms, or to copy */
    bool copy_nested;       /* the indexes of nest go to the destination */
    struct copy_blobs blobs;
    atomic_size_t copied, present, mounted;
    atomic_uint_fast64_t bytes;
};

static void copy_release(struct copy *cp)
{
    copy_end_release(&cp->src);
    copy_end_release(&cp->dst);
    gantry_buf_release(&cp->top);
    free(cp->top_mt);
    copy_blobs_release(&cp->blobs);
    for (size_t i = 0; i < cp->n_mans; i++)
        gantry_oci_manifest_free(cp->mans[i]);
    free(cp->mans);
    image_nest_release(&cp->nest);
}

/* image_nest_fetch_fn of the nested indexes: from the source, which must have them. */
static int source_doc(void *user, const struct gantry_oci_descriptor *d, struct gantry_buf *out,
                      struct gantry_error **err)
{
    struct copy *cp = user;
    return copy_end_doc(&cp->src, d->digest, out, err) < 0 ? -1 : 1;
}

static int add_manifest(struct copy *cp, const struct gantry_buf *b, const char *mt,
                        struct gantry_error **err)
{
    struct gantry_oci_manifest *m = gantry_oci_manifest_parse(b->data, b->len, mt, err);
    if (!m)
        return gantry_error_prefix(err, "manifest of '%s'", cp->src.name);
    cp->mans = xrealloc(cp->mans, (cp->n_mans + 1) * sizeof(*cp->mans));
    cp->mans[cp->n_mans++] = m;
    return 0;
}

static int plan_child(struct copy *cp, const struct gantry_oci_descriptor *d, size_t depth,
                      struct gantry_error **err);

/* A nested index of the source: its children, then it (once), at most IMAGE_NEST_MAX down. */
static int plan_nested(struct copy *cp, const struct gantry_oci_descriptor *d, size_t depth,
                       struct gantry_error **err)
{
    if (depth > IMAGE_NEST_MAX)
        return gantry_error_set(err, GANTRY_E_UNSUPPORTED, 0,
                                "indexes nested too deep in '%s': %s is more than %d levels down",
                                cp->src.name, d->digest, IMAGE_NEST_MAX);
    for (size_t i = 0; i < cp->nest.n_read; i++)
        if (strcmp(cp->nest.read[i]->digest, d->digest) == 0)
            return 0;
    _cleanup_buf_ struct gantry_buf b = GANTRY_BUF_INIT_CAP(GANTRY_MANIFEST_MAX);
    if (copy_end_doc(&cp->src, d->digest, &b, err) < 0)
        return -1;
    struct gantry_oci_index *idx = gantry_oci_index_parse(b.data, b.len, d->media_type, err);
    if (!idx)
        return gantry_error_prefix(err, "index %s of '%s'", d->digest, cp->src.name);
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < idx->n_manifests; i++)
        rc = plan_child(cp, &idx->manifests[i], depth + 1, err);
    cp->nest.read = xrealloc(cp->nest.read, (cp->nest.n_read + 1) * sizeof(*cp->nest.read));
    cp->nest.read[cp->nest.n_read++] = idx;
    cp->copy_nested = true;
    return rc;
}

/* A child of an index DEPTH levels down: from the source, or already at the destination. */
static int plan_child(struct copy *cp, const struct gantry_oci_descriptor *d, size_t depth,
                      struct gantry_error **err)
{
    bool is_index = gantry_oci_is_index_type(d->media_type);
    int has = is_index || gantry_oci_is_manifest_type(d->media_type)
                  ? copy_end_has(&cp->src, d->digest, true, err)
                  : 0;
    if (has < 0)
        return -1;
    if (has && is_index)
        return plan_nested(cp, d, depth, err);
    if (has) {
        _cleanup_buf_ struct gantry_buf b = GANTRY_BUF_INIT_CAP(GANTRY_MANIFEST_MAX);
        if (copy_end_doc(&cp->src, d->digest, &b, err) < 0)
            return -1;
        return add_manifest(cp, &b, d->media_type, err);
    }
    has = copy_end_has(&cp->dst, d->digest, true, err);
    if (has != 0)
        return has < 0 ? -1 : 0;
    _cleanup_free_ char *plat =
        is_index ? xstrdup("a nested index") : copy_entry_platform_string(d);
    return gantry_error_set(
        err, GANTRY_E_NOT_FOUND, 0,
        "cannot copy '%s': %s (%s) is in neither the source nor the destination", cp->src.name,
        plat, d->digest);
}

/*
 * The entries of idx the platforms choose (through nested indexes when idx
 * has no direct match), once each; -1 after an error.
 */
static int select_entries(struct copy *cp, const struct gantry_oci_index *idx,
                          struct gantry_oci_index *out, struct gantry_error **err)
{
    cp->nest = (struct image_nest){.fetch = source_doc, .user = cp, .name = cp->src.name};
    for (size_t i = 0; i < cp->o->n_platforms; i++) {
        _cleanup_nest_pick_ struct image_nest_pick pick = IMAGE_NEST_PICK_INIT;
        if (copy_nest_select(&cp->nest, idx, &cp->o->platforms[i], &pick, err) < 0)
            return -1;
        bool dup = false;
        for (size_t j = 0; j < out->n_manifests; j++)
            dup = dup || strcmp(out->manifests[j].digest, pick.entry->digest) == 0;
        if (!dup)
            gantry_oci_index_add(out, pick.entry);
    }
    return 0;
}

/* --platform: the one manifest alone (which the source must have), or a smaller index (a new
 * digest). */
static int plan_subset(struct copy *cp, const struct gantry_oci_index *idx,
                       struct gantry_error **err)
{
    struct gantry_oci_index *sub = gantry_oci_index_new(idx->media_type);
    int rc = select_entries(cp, idx, sub, err);
    for (size_t i = 0; rc == 0 && i < sub->n_manifests; i++)
        rc = plan_child(cp, &sub->manifests[i], 1, err);
    if (rc == 0 && cp->o->n_platforms == 1 && cp->n_mans == 0)
        rc = gantry_error_set(err, GANTRY_E_NOT_FOUND, 0, "manifest %s of '%s' is not local",
                              sub->manifests[0].digest, cp->src.name);
    else if (rc == 0 && cp->o->n_platforms == 1) {
        free(cp->top_mt);
        cp->top_mt = xstrdup(sub->manifests[0].media_type);
        snprintf(cp->top_digest, sizeof(cp->top_digest), "%s", sub->manifests[0].digest);
        gantry_buf_reset(&cp->top);
        rc = gantry_buf_add(&cp->top, cp->mans[0]->raw, cp->mans[0]->raw_len);
    } else if (rc == 0) {
        rc = gantry_oci_index_serialize(sub, err);
        snprintf(cp->top_digest, sizeof(cp->top_digest), "%s", sub->digest);
        gantry_buf_reset(&cp->top);
        if (rc == 0 && gantry_buf_add(&cp->top, sub->raw, sub->raw_len) < 0)
            oom();
    }
    gantry_oci_index_free(sub);
    return rc;
}

static int copy_plan(struct copy *cp, struct gantry_error **err)
{
    if (!gantry_oci_is_index_type(cp->top_mt))
        return add_manifest(cp, &cp->top, cp->top_mt, err);
    struct gantry_oci_index *idx =
        gantry_oci_index_parse(cp->top.data, cp->top.len, cp->top_mt, err);
    if (!idx)
        return gantry_error_prefix(err, "index of '%s'", cp->src.name);
    int rc = 0;
    if (cp->o->n_platforms)
        rc = plan_subset(cp, idx, err);
    for (size_t i = 0; rc == 0 && !cp->o->n_platforms && i < idx->n_manifests; i++)
        rc = plan_child(cp, &idx->manifests[i], 1, err);
    gantry_oci_index_free(idx);
    return rc;
}

struct blob_sink {
    struct gantry_store_blob_writer *w;
    uint64_t done;
};

static int sink_write(void *user, const void *data, size_t len, struct gantry_error **err)
{
    struct blob_sink *k = user;
    int rc = gantry_store_blob_writer_write(k->w, data, len, err);
    k->done += len;
    return rc;
}

/* Stream a blob of the source (registry GET or verified store read) into k. */
static int read_source(struct copy *cp, const struct copy_blob *b, struct blob_sink *k,
                       struct gantry_error **err)
{
    if (!cp->src.store) {
        struct gantry_registry_blob_get g = {
            .digest = b->digest, .size = b->size, .write = sink_write, .user = k};
        return gantry_registry_get_blob(cp->src.c, &cp->src.ref, &g, err);
    }
    struct gantry_store_blob_reader *r =
        gantry_store_blob_reader_open(cp->src.store, b->digest, err);
    if (!r)
        return -1;
    char buf[65536];
    ssize_t n;
    while ((n = gantry_store_blob_reader_read(r, buf, sizeof(buf), err)) > 0)
        if (sink_write(k, buf, (size_t)n, err) < 0)
            break;
    gantry_store_blob_reader_free(r);
    return n == 0 ? 0 : -1;
}

static int blob_to_layout(struct copy *cp, const struct copy_blob *b, struct gantry_error **err)
{
    struct blob_sink k = {0};
    k.w = gantry_store_blob_writer_new(cp->dst.store, b->digest, b->size, err);
    if (!k.w)
        return -1;
    int rc = read_source(cp, b, &k, err);
    if (rc == 0)
        rc = gantry_store_blob_writer_commit(k.w, NULL, err);
    gantry_store_blob_writer_free(k.w);
    return rc;
}

/*
 * The upload source: a store blob file read at offsets, or, from another
 * registry, the source's GET streamed into the upload (copy_stream.c), no
 * local copy. Either is opened on the first read, so a mount that succeeds
 * moves nothing.
 */
struct upload_src {
    struct copy *cp;
    const struct copy_blob *b;
    int fd;
    struct copy_stream *stream;
    uint64_t reported;
};

static int upload_src_open(struct upload_src *u, struct gantry_error **err)
{
    _cleanup_free_ char *path = gantry_store_blob_path(u->cp->src.store, u->b->digest, err);
    if (!path)
        return -1;
    /* Unverified read: the registry checks the digest of what it gets. */
    u->fd = open(path, O_RDONLY | O_CLOEXEC);
    return u->fd >= 0 ? 0 : gantry_error_set(err, GANTRY_E_IO, errno, "open '%s'", path);
}

static ssize_t upload_read(void *user, uint64_t offset, void *buf, size_t len,
                           struct gantry_error **err)
{
    struct upload_src *u = user;
    if (u->fd < 0 && upload_src_open(u, err) < 0)
        return -1;
    ssize_t n;
    do
        n = pread(u->fd, buf, len, (off_t)offset);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return gantry_error_set(err, GANTRY_E_IO, errno, "read blob %s", u->b->digest);
    uint64_t at = offset + (uint64_t)n;
    if (at >= u->reported + COPY_PROGRESS_STEP) {
        copy_progress("copying", u->b->digest, at, (uint64_t)u->b->size, false);
        u->reported = at;
    }
    return n;
}

static int blob_to_registry(struct copy *cp, const struct copy_blob *b, bool *mounted,
                            struct gantry_error **err)
{
    struct upload_src u = {.cp = cp, .b = b, .fd = -1};
    bool stream = !cp->src.store;
    if (stream)
        u.stream = copy_stream_new(cp->src.c, &cp->src.ref, b);
    struct gantry_registry_blob_push bp = {
        .digest = b->digest,
        .size = b->size,
        .read = stream ? copy_stream_read : upload_read,
        .user = stream ? (void *)u.stream : (void *)&u,
        .mount_from = cp->same_registry ? cp->src.ref.path : NULL,
        .chunk_size = cp->o->chunk_size,
    };
    int rc = gantry_registry_push_blob(cp->dst.c, &cp->dst.ref, &bp, mounted, err);
    copy_stream_free(u.stream);
    if (u.fd >= 0)
        close(u.fd);
    return rc;
}

static int move_blob(void *ctx, size_t i, struct gantry_error **err)
{
    struct copy *cp = ctx;
    const struct copy_blob *b = &cp->blobs.items[i];
    int has = copy_end_has(&cp->dst, b->digest, false, err);
    if (has < 0)
        return -1;
    uint64_t size = (uint64_t)b->size;
    if (has) {
        atomic_fetch_add(&cp->present, 1);
        copy_progress("already exists", b->digest, size, size, true);
        return 0;
    }
    bool mounted = false;
    int rc = cp->dst.store ? blob_to_layout(cp, b, err) : blob_to_registry(cp, b, &mounted, err);
    if (rc < 0)
        return -1;
    atomic_fetch_add(mounted ? &cp->mounted : &cp->copied, 1);
    if (!mounted)
        atomic_fetch_add(&cp->bytes, size);
    copy_progress(mounted ? "mounted" : "copied", b->digest, size, size, true);
    return 0;
}

/* A document the destination lacks (by digest); *written counts it. */
static int put_missing(struct copy *cp, const char *media_type, const char *data, size_t len,
                       const char *digest, size_t *written, struct gantry_error **err)
{
    int has = copy_end_has(&cp->dst, digest, true, err);
    if (has < 0)
        return -1;
    if (has)
        return 0;
    (*written)++;
    return copy_end_put_doc(&cp->dst, media_type, data, len, digest, false, err);
}

/* Children the destination lacks, then nested indexes, then the top under the name. */
static int copy_manifests(struct copy *cp, size_t *written, struct gantry_error **err)
{
    for (size_t i = 0; gantry_oci_is_index_type(cp->top_mt) && i < cp->n_mans; i++) {
        const struct gantry_oci_manifest *m = cp->mans[i];
        if (put_missing(cp, m->media_type, m->raw, m->raw_len, m->digest, written, err) < 0)
            return -1;
    }
    /* Each after the indexes it lists, so that a registry knows them all. */
    for (size_t i = 0; cp->copy_nested && i < cp->nest.n_read; i++) {
        const struct gantry_oci_index *x = cp->nest.read[i];
        if (put_missing(cp, x->media_type, x->raw, x->raw_len, x->digest, written, err) < 0)
            return -1;
    }
    (*written)++;
    return copy_end_put_doc(&cp->dst, cp->top_mt, cp->top.data, cp->top.len, cp->top_digest, true,
                            err);
}

/* An archive written without REF takes the source's name, if it is one. */
static int archive_name(struct copy *cp, struct gantry_error **err)
{
    if (cp->dst.kind != GANTRY_TRANSFER_OCI_ARCHIVE || cp->dst.name)
        return 0;
    struct gantry_ref r = GANTRY_REF_INIT;
    const char *n = cp->src.name ? cp->src.name : "";
    if (gantry_ref_parse(n, strlen(n), &r, NULL) == 0 && !r.digest)
        cp->dst.name = gantry_ref_to_string(&r);
    gantry_ref_release(&r);
    if (cp->dst.name)
        return 0;
    return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0,
                            "name the image in the archive: oci-archive:%s:NAME", cp->dst.path);
}

static int copy_run(struct copy *cp, struct gantry_transfer_result *out, struct gantry_error **err)
{
    if (copy_plan(cp, err) < 0 || archive_name(cp, err) < 0)
        return -1;
    for (size_t i = 0; i < cp->n_mans; i++)
        copy_blobs_add_manifest(&cp->blobs, cp->mans[i]);
    copy_blobs_sort_larger_first(&cp->blobs);
    if (copy_parallel(cp->blobs.n_items, cp->o->jobs, move_blob, cp, err) < 0 ||
        copy_manifests(cp, &out->manifests_copied, err) < 0 || copy_end_finish(&cp->dst, err) < 0)
        return -1;
    if (cp->dst.kind == GANTRY_TRANSFER_REGISTRY || cp->dst.kind == GANTRY_TRANSFER_STORE)
        out->name = xstrdup(cp->dst.name);
    else
        out->name =
            xasprintf("%s:%s:%s", cp->dst.kind == GANTRY_TRANSFER_OCI_DIR ? "oci" : "oci-archive",
                      cp->dst.path, cp->dst.name);
    return 0;
}

int gantry_transfer_copy(struct gantry_store *s, struct gantry_registry_client *c,
                         const struct gantry_transfer_endpoint *src,
                         const struct gantry_transfer_endpoint *dst,
                         const struct gantry_transfer_copy_opts *opts,
                         struct gantry_transfer_result *out, struct gantry_error **err)
{
    *out = (struct gantry_transfer_result){0};
    __attribute__((cleanup(copy_release))) struct copy cp = {
        .o = opts, .top = GANTRY_BUF_INIT_CAP(GANTRY_MANIFEST_MAX)};
    /* The source first: a missing source creates nothing at the destination. */
    if (copy_end_open(&cp.src, src, s, c, false, err) < 0 ||
        copy_end_top(&cp.src, &cp.top, &cp.top_mt, cp.top_digest, err) < 0)
        return -1;
    if (copy_end_open(&cp.dst, dst, s, c, true, err) < 0)
        return -1;
    cp.same_registry = !cp.src.store && !cp.dst.store &&
                       strcmp(cp.src.ref.domain, cp.dst.ref.domain) == 0 &&
                       strcmp(cp.src.ref.path, cp.dst.ref.path) != 0;
    if (copy_run(&cp, out, err) < 0)
        return -1;
    snprintf(out->digest, sizeof(out->digest), "%s", cp.top_digest);
    out->media_type = xstrdup(cp.top_mt);
    out->size = (int64_t)cp.top.len;
    out->changed = true;
    out->blobs_copied = atomic_load(&cp.copied);
    out->blobs_present = atomic_load(&cp.present);
    out->blobs_mounted = atomic_load(&cp.mounted);
    out->bytes_copied = atomic_load(&cp.bytes);
    return 0;
}
