/*
 * `manifest push`: the children a list read from a registry and its nested
 * indexes go to the destination repository first (blobs mounted within one
 * registry, copied from another one or uploaded from the store, manifests
 * put by digest; a nested index's own image manifests before the index),
 * then gantry_transfer_push pushes the local children, the index and,
 * last, the tag. The children handled here are handed to it as known, so
 * that each child manifest is looked up (HEAD) once.
 */
#include <fcntl.h>
#include <unistd.h>

#include <gantry/transfer.h>

#include "manifest_internal.h"

struct mpush {
    struct gantry_store *s;
    struct gantry_registry_client *c;
    const char *name; /* the list, for messages */
    struct gantry_ref dst;
    size_t copied, mounted, present, manifests;
    uint64_t bytes;
    /* Children the destination has now (found or put here), for transfer push. */
    char **known;
    size_t n_known;
};

static void mpush_release(struct mpush *p)
{
    gantry_ref_release(&p->dst);
    for (size_t i = 0; i < p->n_known; i++)
        free(p->known[i]);
    free(p->known);
}

static void add_known(struct mpush *p, const char *digest)
{
    p->known = xrealloc(p->known, (p->n_known + 1) * sizeof(*p->known));
    p->known[p->n_known++] = xstrdup(digest);
}

/* Does the destination repository have manifest digest? A 404 is an answer. */
static int dest_has_manifest(struct mpush *p, const char *digest, bool *has,
                             struct gantry_error **err)
{
    _cleanup_ref_ struct gantry_ref r = GANTRY_REF_INIT;
    manifest_ref_by_digest(&p->dst, digest, &r);
    struct gantry_registry_manifest m = GANTRY_REGISTRY_MANIFEST_INIT;
    struct gantry_error *e = NULL;
    *has = gantry_registry_head_manifest(p->c, &r, &m, &e) == 0;
    gantry_registry_manifest_release(&m);
    if (*has || e->code == GANTRY_E_NOT_FOUND) {
        gantry_error_free(e);
        return 0;
    }
    if (err)
        *err = e;
    else
        gantry_error_free(e);
    return -1;
}

/*
 * An upload source opened on first read: the store's blob file when
 * present, else the blob fetched from the source repository (when there is
 * one) into an unlinked scratch file. A mount that succeeds never reads,
 * so nothing is fetched then.
 */
struct lazy_blob {
    struct mpush *p;
    const struct gantry_ref *src; /* NULL: the store only */
    const struct gantry_oci_descriptor *d;
    int fd;
};

static int scratch_sink(void *user, const void *data, size_t len, struct gantry_error **err)
{
    if (gantry_write_all(*(int *)user, data, len) < 0)
        return gantry_error_set(err, GANTRY_E_IO, errno, "write scratch file");
    return 0;
}

/* An unlinked file for one blob: in the store's tmp/ (same disk), else $TMPDIR. */
static int scratch_open(struct gantry_store *s, struct gantry_error **err)
{
    _cleanup_free_ char *dir = xasprintf("%s/tmp", gantry_store_root(s));
    int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0)
        return fd;
    const char *t = getenv("TMPDIR");
    _cleanup_free_ char *tmpl = xasprintf("%s/gantry-blob-XXXXXX", t && *t ? t : "/tmp");
    fd = mkostemp(tmpl, O_CLOEXEC);
    if (fd < 0)
        return gantry_error_set(err, GANTRY_E_IO, errno, "create scratch file '%s'", tmpl);
    unlink(tmpl);
    return fd;
}

static int lazy_open(struct lazy_blob *z, struct gantry_error **err)
{
    const char *digest = z->d->digest;
    if (gantry_store_blob_exists(z->p->s, digest)) {
        _cleanup_free_ char *path = gantry_store_blob_path(z->p->s, digest, err);
        /* Unverified read: the registry checks the digest of what it gets. */
        z->fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
        if (z->fd < 0 && path)
            return gantry_error_set(err, GANTRY_E_IO, errno, "open '%s'", path);
        return z->fd < 0 ? -1 : 0;
    }
    if (!z->src)
        return gantry_error_set(err, GANTRY_E_NOT_FOUND, 0, "blob %s of '%s' is not in the store",
                                digest, z->p->name);
    _cleanup_close_ int fd = scratch_open(z->p->s, err);
    if (fd < 0)
        return -1;
    struct gantry_registry_blob_get g = {
        .digest = digest, .size = z->d->size, .write = scratch_sink, .user = &fd};
    if (gantry_registry_get_blob(z->p->c, z->src, &g, err) < 0)
        return gantry_error_prefix(err, "fetch blob %s", digest);
    z->fd = steal_fd(&fd);
    return 0;
}

static ssize_t lazy_read(void *user, uint64_t offset, void *buf, size_t len,
                         struct gantry_error **err)
{
    struct lazy_blob *z = user;
    if (z->fd < 0 && lazy_open(z, err) < 0)
        return -1;
    ssize_t n;
    do
        n = pread(z->fd, buf, len, (off_t)offset);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return gantry_error_set(err, GANTRY_E_IO, errno, "read blob %s", z->d->digest);
    return n;
}

/* One blob of a remote child into the destination: present, mounted or copied. */
static int move_blob(struct mpush *p, const struct gantry_ref *src,
                     const struct gantry_oci_descriptor *d, struct gantry_error **err)
{
    int has = gantry_registry_head_blob(p->c, &p->dst, d->digest, NULL, err);
    if (has != 0) {
        p->present += has > 0;
        return has < 0 ? -1 : 0;
    }
    bool same_registry = src && strcmp(src->domain, p->dst.domain) == 0;
    struct lazy_blob z = {.p = p, .src = src, .d = d, .fd = -1};
    struct gantry_registry_blob_push bp = {.digest = d->digest,
                                           .size = d->size,
                                           .read = lazy_read,
                                           .user = &z,
                                           .mount_from = same_registry ? src->path : NULL};
    bool mounted = false;
    int rc = gantry_registry_push_blob(p->c, &p->dst, &bp, &mounted, err);
    if (z.fd >= 0)
        close(z.fd);
    if (rc < 0)
        return -1;
    p->mounted += mounted;
    p->copied += !mounted;
    p->bytes += mounted ? 0 : (uint64_t)d->size;
    return 0;
}

/* A child neither in the store (nor read from a registry) nor in the destination. */
static int child_nowhere(struct mpush *p, const struct gantry_oci_descriptor *d,
                         struct gantry_error **err)
{
    _cleanup_free_ char *plat = manifest_entry_platform_string(d);
    return gantry_error_set(err, GANTRY_E_NOT_FOUND, 0,
                            "cannot push '%s': %s (%s) is not in the store and not in the registry",
                            p->name, plat, d->digest);
}

/* The child's manifest: from the store, else from its source repository (if any). */
static int child_document(struct mpush *p, const struct gantry_ref *src,
                          const struct gantry_oci_descriptor *d, struct gantry_buf *out,
                          struct gantry_error **err)
{
    if (gantry_store_blob_exists(p->s, d->digest))
        return gantry_store_read_blob(p->s, d->digest, out, err);
    if (!src)
        return child_nowhere(p, d, err);
    _cleanup_ref_ struct gantry_ref r = GANTRY_REF_INIT;
    manifest_ref_by_digest(src, d->digest, &r);
    struct gantry_registry_manifest m = GANTRY_REGISTRY_MANIFEST_INIT;
    if (gantry_registry_get_manifest(p->c, &r, &m, err) < 0)
        return -1;
    int rc = gantry_buf_add(out, m.data, m.len);
    gantry_registry_manifest_release(&m);
    if (rc < 0)
        oom();
    return 0;
}

/* The document d (a child read from src) put by digest into the destination. */
static int put_child(struct mpush *p, const struct gantry_oci_descriptor *d,
                     const struct gantry_buf *doc, struct gantry_error **err)
{
    _cleanup_ref_ struct gantry_ref r = GANTRY_REF_INIT;
    manifest_ref_by_digest(&p->dst, d->digest, &r);
    struct gantry_registry_manifest put = {
        .media_type = (char *)d->media_type, .data = doc->data, .len = doc->len};
    if (gantry_registry_put_manifest(p->c, &r, &put, NULL, err) < 0)
        return -1;
    p->manifests++;
    return 0;
}

/* An image manifest read from src: its blobs, then the manifest by digest. */
static int move_child(struct mpush *p, const struct gantry_oci_descriptor *d,
                      const struct gantry_ref *src, struct gantry_error **err)
{
    _cleanup_buf_ struct gantry_buf doc = GANTRY_BUF_INIT_CAP(GANTRY_MANIFEST_MAX);
    if (child_document(p, src, d, &doc, err) < 0)
        return -1;
    _cleanup_mmanifest_ struct gantry_oci_manifest *m =
        gantry_oci_manifest_parse(doc.data, doc.len, d->media_type, err);
    if (!m)
        return gantry_error_prefix(err, "manifest %s", d->digest);
    if (move_blob(p, src, &m->config, err) < 0)
        return -1;
    for (size_t i = 0; i < m->n_layers; i++)
        if (move_blob(p, src, &m->layers[i], err) < 0)
            return -1;
    return put_child(p, d, &doc, err);
}

/*
 * A nested index (kept with --no-flatten) read from src, or from the store
 * when src is NULL: each image manifest it names that the destination
 * lacks, then the index by digest. Its entries must be image manifests: an
 * index nested deeper, or an entry of an unknown type, is refused before
 * the index is put.
 */
static int move_index_child(struct mpush *p, const struct gantry_oci_descriptor *d,
                            const struct gantry_ref *src, struct gantry_error **err)
{
    _cleanup_buf_ struct gantry_buf doc = GANTRY_BUF_INIT_CAP(GANTRY_MANIFEST_MAX);
    if (child_document(p, src, d, &doc, err) < 0)
        return -1;
    _cleanup_mindex_ struct gantry_oci_index *idx =
        gantry_oci_index_parse(doc.data, doc.len, d->media_type, err);
    if (!idx)
        return gantry_error_prefix(err, "index %s", d->digest);
    for (size_t i = 0; i < idx->n_manifests; i++) {
        const struct gantry_oci_descriptor *c = &idx->manifests[i];
        bool has = false;
        if (!gantry_oci_is_manifest_type(c->media_type))
            return gantry_error_set(err, GANTRY_E_UNSUPPORTED, 0,
                                    "entry %s of nested index %s has type '%s', only image "
                                    "manifests can be copied",
                                    c->digest, d->digest, c->media_type);
        if (dest_has_manifest(p, c->digest, &has, err) < 0)
            return -1;
        if (!has && move_child(p, c, src, err) < 0)
            return gantry_error_prefix(err, "index %s", d->digest);
    }
    return put_child(p, d, &doc, err);
}

/* A child with a recorded source (or NULL: a local nested index). */
static int move_entry(struct mpush *p, const struct gantry_oci_descriptor *d, const char *source,
                      struct gantry_error **err)
{
    _cleanup_ref_ struct gantry_ref src = GANTRY_REF_INIT;
    if (source && gantry_ref_parse(source, strlen(source), &src, err) < 0)
        return -1;
    if (gantry_oci_is_index_type(d->media_type))
        return move_index_child(p, d, source ? &src : NULL, err);
    return move_child(p, d, &src, err);
}

/*
 * Every child with a recorded source, and every nested index, that the
 * destination lacks; each one it has afterwards is known.
 */
static int move_children(struct mpush *p, const struct manifest_list *l, struct gantry_error **err)
{
    for (size_t i = 0; i < l->idx->n_manifests; i++) {
        const struct gantry_oci_descriptor *d = &l->idx->manifests[i];
        const char *source = manifest_list_source(l, d->digest);
        bool index = gantry_oci_is_index_type(d->media_type), has = false;
        if (!index && !(source && gantry_oci_is_manifest_type(d->media_type)))
            continue;
        if (dest_has_manifest(p, d->digest, &has, err) < 0)
            return -1;
        if (!has && move_entry(p, d, source, err) < 0)
            return source ? gantry_error_prefix(err, "copy %s from '%s'", d->digest, source)
                          : gantry_error_prefix(err, "nested index %s", d->digest);
        add_known(p, d->digest);
    }
    return 0;
}

/* The destination: dest, else the list's own name; a tag. */
static int push_dest(struct mpush *p, const struct manifest_list *l, const char *dest,
                     struct gantry_error **err)
{
    const char *d = dest ? dest : l->name;
    if (gantry_ref_parse(d, strlen(d), &p->dst, err) < 0)
        return -1;
    if (p->dst.digest)
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0,
                                "push destination '%s' must be a tag, not a digest", d);
    return 0;
}

int gantry_manifest_push(struct gantry_store *s, struct gantry_registry_client *c, const char *list,
                         const char *dest, const struct gantry_manifest_push_opts *opts,
                         struct gantry_transfer_result *out, struct gantry_error **err)
{
    static const struct gantry_manifest_push_opts none = {0};
    opts = opts ? opts : &none;
    *out = (struct gantry_transfer_result){0};
    _cleanup_mlist_ struct manifest_list l = {0};
    __attribute__((cleanup(mpush_release))) struct mpush p = {.s = s, .c = c, .name = list};
    if (manifest_list_open(s, list, MANIFEST_OPEN_EXISTING, &l, err) < 0)
        return gantry_error_prefix(err, "push '%s'", list);
    /* Before anything goes out: a tag must not name a list of two images
     * for one platform unless asked for. */
    if (!opts->allow_duplicates &&
        gantry_manifest_check_duplicates(l.idx->manifests, l.idx->n_manifests, 0, err) < 0)
        return gantry_error_prefix(err, "push '%s'", list);
    if (push_dest(&p, &l, dest, err) < 0 || move_children(&p, &l, err) < 0)
        return gantry_error_prefix(err, "push '%s'", list);
    _cleanup_free_ char *dst = gantry_ref_to_string(&p.dst);
    struct gantry_transfer_push_opts po = {.jobs = opts->jobs,
                                           .known_children = (const char *const *)p.known,
                                           .n_known_children = p.n_known};
    if (gantry_transfer_push(s, c, l.name, dst, &po, out, err) < 0)
        return -1;
    out->blobs_copied += p.copied;
    out->blobs_mounted += p.mounted;
    out->blobs_present += p.present;
    out->bytes_copied += p.bytes;
    out->manifests_copied += p.manifests;
    out->changed = out->manifests_copied > 0;
    if (opts->purge && gantry_manifest_delete(s, list, err) < 0)
        return gantry_error_prefix(err, "pushed, but could not remove '%s'", list);
    return 0;
}
