/*
 * `push`: store -> registry. Choose what goes under the tag (the image, one
 * of its platforms, or a smaller index), check that every child the
 * registry will need is either local or already there, upload the missing
 * blobs in parallel, then the child manifests, then the tag.
 */
#include <fcntl.h>
#include <stdatomic.h>

#include <gantry/image.h>
#include <gantry/registry.h>
#include <gantry/store.h>

#include "copy_internal.h"
#include "transfer_internal.h"

#include "util.h"

#define PUSH_PROGRESS_STEP (512u * 1024u)

struct push {
    struct gantry_store *s;
    struct gantry_registry_client *c;
    const struct gantry_transfer_push_opts *o;
    char *src_name; /* for messages: the name found, or the argument */
    struct gantry_ref dst;
    char *mount_path; /* repository of dst's registry to mount blobs from, or NULL */
    struct gantry_oci_descriptor top; /* what goes under the tag */
    struct gantry_buf top_data;
    struct gantry_oci_manifest **mans; /* local image manifests to push */
    size_t n_mans;
    struct copy_blobs blobs;
    atomic_size_t copied, present, mounted;
    atomic_uint_fast64_t bytes;
};

static void push_release(struct push *p)
{
    free(p->src_name);
    gantry_ref_release(&p->dst);
    free(p->mount_path);
    gantry_oci_descriptor_release(&p->top);
    gantry_buf_release(&p->top_data);
    copy_blobs_release(&p->blobs);
    for (size_t i = 0; i < p->n_mans; i++)
        gantry_oci_manifest_free(p->mans[i]);
    free(p->mans);
}

static void cleanup_descp(struct gantry_oci_descriptor *d)
{
    gantry_oci_descriptor_release(d);
}

#define _cleanup_desc_ __attribute__((cleanup(cleanup_descp)))

/* dst with the digest d instead of its tag. */
static void ref_by_digest(const struct gantry_ref *dst, const char *d, struct gantry_ref *out)
{
    gantry_ref_copy(out, dst);
    free(out->tag);
    free(out->digest);
    out->tag = NULL;
    out->digest = xstrdup(d);
}

/*
 * Whether the registry has r's manifest (*has), and for a tag whether it is
 * the one with digest want. A 404 is an answer, not an error.
 */
static int registry_has_manifest(struct push *p, const struct gantry_ref *r, const char *want,
                                 bool *has, struct gantry_error **err)
{
    struct gantry_registry_manifest m = GANTRY_REGISTRY_MANIFEST_INIT;
    struct gantry_error *e = NULL;
    if (gantry_registry_head_manifest(p->c, r, &m, &e) < 0) {
        *has = false;
        if (e->code == GANTRY_E_NOT_FOUND) {
            gantry_error_free(e);
            return 0;
        }
        if (err) {
            gantry_error_free(*err);
            *err = e;
        } else {
            gantry_error_free(e);
        }
        return -1;
    }
    *has = !want || strcmp(m.digest, want) == 0;
    gantry_registry_manifest_release(&m);
    return 0;
}

/* Read and parse an image manifest of the store; keep it to push. */
static int load_manifest(struct push *p, const struct gantry_oci_descriptor *d,
                         struct gantry_error **err)
{
    _cleanup_buf_ struct gantry_buf b = GANTRY_BUF_INIT;
    if (transfer_read_doc(p->s, d->digest, &b, err) < 0)
        return -1;
    struct gantry_oci_manifest *m = gantry_oci_manifest_parse(b.data, b.len, d->media_type, err);
    if (!m)
        return gantry_error_prefix(err, "manifest %s", d->digest);
    p->mans = xrealloc(p->mans, (p->n_mans + 1) * sizeof(*p->mans));
    p->mans[p->n_mans++] = m;
    return 0;
}

/* A child missing locally must be in the destination repository already. */
static int check_remote_child(struct push *p, const struct gantry_oci_descriptor *d,
                              struct gantry_error **err)
{
    _cleanup_ref_ struct gantry_ref r = GANTRY_REF_INIT;
    ref_by_digest(&p->dst, d->digest, &r);
    bool has = false;
    if (registry_has_manifest(p, &r, NULL, &has, err) < 0)
        return -1;
    if (has)
        return 0;
    _cleanup_free_ char *plat = copy_entry_platform_string(d);
    return gantry_error_set(err, GANTRY_E_NOT_FOUND, 0,
                            "cannot push '%s': %s (%s) is not in the store and not in the registry",
                            p->src_name, plat, d->digest);
}

/* Is d one of the children the caller knows the destination has? */
static bool known_child(const struct push *p, const struct gantry_oci_descriptor *d)
{
    for (size_t i = 0; i < p->o->n_known_children; i++)
        if (strcmp(p->o->known_children[i], d->digest) == 0)
            return true;
    return false;
}

/* The whole index: every child known, local, or already in the registry. */
static int plan_index(struct push *p, struct gantry_error **err)
{
    struct gantry_store_child *kids = NULL;
    size_t n = 0;
    if (gantry_store_image_children(p->s, &p->top, &kids, &n, err) < 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const struct gantry_oci_descriptor *d = &kids[i].desc;
        if (known_child(p, d))
            continue;
        if (kids[i].local && gantry_oci_is_manifest_type(d->media_type))
            rc = load_manifest(p, d, err);
        else
            rc = check_remote_child(p, d, err);
    }
    gantry_store_children_free(kids, n);
    return rc;
}

/* Several platforms: a smaller index of the children that match them. */
static int plan_sub_index(struct push *p, const struct gantry_oci_descriptor *top,
                          struct gantry_error **err)
{
    struct gantry_oci_index *idx = gantry_oci_index_new(top->media_type);
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < p->o->n_platforms; i++) {
        _cleanup_desc_ struct gantry_oci_descriptor child = GANTRY_OCI_DESCRIPTOR_INIT;
        rc = gantry_image_select_platform(p->s, top, &p->o->platforms[i], false, &child, err);
        bool dup = false;
        for (size_t k = 0; rc == 0 && k < idx->n_manifests; k++)
            dup = dup || strcmp(idx->manifests[k].digest, child.digest) == 0;
        if (rc == 0 && !dup) {
            gantry_oci_index_add(idx, &child);
            rc = load_manifest(p, &child, err);
        }
    }
    if (rc == 0)
        rc = gantry_oci_index_serialize(idx, err);
    if (rc == 0) {
        gantry_oci_descriptor_init(&p->top, idx->media_type, idx->digest, (int64_t)idx->raw_len);
        if (gantry_buf_add(&p->top_data, idx->raw, idx->raw_len) < 0)
            oom();
    }
    gantry_oci_index_free(idx);
    return rc;
}

/* Decide what goes under the tag, and which manifests and blobs go with it. */
static int push_plan(struct push *p, const struct gantry_oci_descriptor *found,
                     struct gantry_error **err)
{
    bool is_index = gantry_oci_is_index_type(found->media_type);
    if (is_index && p->o->n_platforms > 1)
        return plan_sub_index(p, found, err);
    if (is_index && p->o->n_platforms == 1) {
        if (gantry_image_select_platform(p->s, found, p->o->platforms, false, &p->top, err) < 0)
            return -1;
    } else {
        gantry_oci_descriptor_copy(&p->top, found);
    }
    /* The store's naming annotations say nothing to the registry. */
    gantry_oci_descriptor_set_annotation(&p->top, GANTRY_OCI_ANNOTATION_REF_NAME, NULL);
    if (transfer_read_doc(p->s, p->top.digest, &p->top_data, err) < 0)
        return -1;
    if (gantry_oci_is_index_type(p->top.media_type))
        return plan_index(p, err);
    return load_manifest(p, &p->top, err);
}

/* The upload source: a store blob file, read at offsets. */
struct push_source {
    int fd;
    const struct copy_blob *b;
    uint64_t reported;
};

static ssize_t source_read(void *user, uint64_t offset, void *buf, size_t len,
                           struct gantry_error **err)
{
    struct push_source *src = user;
    ssize_t n;
    do
        n = pread(src->fd, buf, len, (off_t)offset);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return gantry_error_set(err, GANTRY_E_IO, errno, "read blob %s", src->b->digest);
    uint64_t at = offset + (uint64_t)n;
    if (at >= src->reported + PUSH_PROGRESS_STEP) {
        copy_progress("pushing", src->b->digest, at, (uint64_t)src->b->size, false);
        src->reported = at;
    }
    return n;
}

/* HEAD one blob; upload it when the registry lacks it. */
static int push_blob(void *ctx, size_t i, struct gantry_error **err)
{
    struct push *p = ctx;
    const struct copy_blob *b = &p->blobs.items[i];
    int has = gantry_registry_head_blob(p->c, &p->dst, b->digest, NULL, err);
    if (has < 0)
        return -1;
    if (has) {
        atomic_fetch_add(&p->present, 1);
        copy_progress("layer already exists", b->digest, (uint64_t)b->size, (uint64_t)b->size,
                      true);
        return 0;
    }
    _cleanup_free_ char *path = gantry_store_blob_path(p->s, b->digest, err);
    if (!path)
        return -1;
    /* Read without the store's verification: the registry checks the
     * digest of what it receives, so a corrupt blob is refused there. */
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT)
        return gantry_error_set(err, GANTRY_E_NOT_FOUND, 0, "blob %s of '%s' is not in the store",
                                b->digest, p->src_name);
    if (fd < 0)
        return gantry_error_set(err, GANTRY_E_IO, errno, "open '%s'", path);
    struct push_source src = {.fd = fd, .b = b};
    struct gantry_registry_blob_push bp = {.digest = b->digest,
                                           .size = b->size,
                                           .read = source_read,
                                           .user = &src,
                                           .mount_from = p->mount_path,
                                           .chunk_size = p->o->chunk_size};
    bool mounted = false;
    if (gantry_registry_push_blob(p->c, &p->dst, &bp, &mounted, err) < 0)
        return -1;
    atomic_fetch_add(mounted ? &p->mounted : &p->copied, 1);
    if (!mounted)
        atomic_fetch_add(&p->bytes, (uint64_t)b->size);
    copy_progress(mounted ? "mounted" : "pushed", b->digest, (uint64_t)b->size, (uint64_t)b->size,
                  true);
    return 0;
}

/* PUT a manifest under r unless the registry has it (as want, for a tag). */
static int put_manifest(struct push *p, const struct gantry_ref *r, const char *media_type,
                        const char *data, size_t len, const char *want, size_t *written,
                        struct gantry_error **err)
{
    bool has = false;
    if (registry_has_manifest(p, r, want, &has, err) < 0)
        return -1;
    if (has)
        return 0;
    struct gantry_registry_manifest m = {
        .media_type = (char *)media_type, .data = (char *)data, .len = len};
    char got[GANTRY_DIGEST_MAX];
    if (gantry_registry_put_manifest(p->c, r, &m, got, err) < 0)
        return -1;
    if (strcmp(got, want) != 0)
        return gantry_error_set(err, GANTRY_E_DIGEST_MISMATCH, 0,
                                "manifest of '%s': digest mismatch: got %s, want %s", p->src_name,
                                got, want);
    (*written)++;
    return 0;
}

/* Children (by digest) before the top, the tag last. */
static int push_manifests(struct push *p, size_t *written, struct gantry_error **err)
{
    bool is_index = gantry_oci_is_index_type(p->top.media_type);
    for (size_t i = 0; is_index && i < p->n_mans; i++) {
        const struct gantry_oci_manifest *m = p->mans[i];
        _cleanup_ref_ struct gantry_ref r = GANTRY_REF_INIT;
        ref_by_digest(&p->dst, m->digest, &r);
        if (put_manifest(p, &r, m->media_type, m->raw, m->raw_len, m->digest, written, err) < 0)
            return -1;
    }
    return put_manifest(p, &p->dst, p->top.media_type, p->top_data.data, p->top_data.len,
                        p->top.digest, written, err);
}

/* The destination: dest, or the name the image was found under; a tag. */
static int push_dest(struct push *p, const char *dest, const char *found_name,
                     struct gantry_error **err)
{
    const char *d = dest ? dest : found_name;
    if (!d)
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0,
                                "push '%s': an image found by digest needs a destination",
                                p->src_name);
    if (gantry_ref_parse(d, strlen(d), &p->dst, err) < 0)
        return -1;
    if (p->dst.digest)
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0,
                                "push destination '%s' must be a tag, not a digest", d);
    return 0;
}

/* True when the first component of a repository names a registry host. */
static bool has_domain(const char *m, size_t first)
{
    return m[first] == '/' && (memchr(m, '.', first) || memchr(m, ':', first) ||
                               (first == 9 && memcmp(m, "localhost", 9) == 0));
}

/*
 * The repository blobs are mounted from: opts->mount_from, a repository of
 * dst's registry, with or without that registry's host ("team/base",
 * "localhost:5000/team/base"), normalized as a reference would be.
 */
static int push_mount_source(struct push *p, struct gantry_error **err)
{
    const char *m = p->o->mount_from;
    if (!m || !*m)
        return 0;
    size_t first = strcspn(m, "/");
    bool domain = has_domain(m, first);
    if (strpbrk(domain ? m + first : m, ":@"))
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0,
                                "mount source '%s' must be a repository, without tag or digest", m);
    _cleanup_free_ char *full = domain ? xstrdup(m) : xasprintf("%s/%s", p->dst.domain, m);
    _cleanup_ref_ struct gantry_ref r = GANTRY_REF_INIT;
    if (gantry_ref_parse(full, strlen(full), &r, err) < 0)
        return gantry_error_prefix(err, "mount source '%s'", m);
    if (strcmp(r.domain, p->dst.domain) != 0)
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0,
                                "mount source '%s' is not in the destination registry '%s'", m,
                                p->dst.domain);
    p->mount_path = steal_pointer(&r.path);
    return 0;
}

int gantry_transfer_push(struct gantry_store *s, struct gantry_registry_client *c, const char *src,
                         const char *dest, const struct gantry_transfer_push_opts *opts,
                         struct gantry_transfer_result *out, struct gantry_error **err)
{
    *out = (struct gantry_transfer_result){0};
    __attribute__((cleanup(push_release))) struct push p = {
        .s = s, .c = c, .o = opts, .top_data = GANTRY_BUF_INIT_CAP(GANTRY_MANIFEST_MAX)};
    _cleanup_desc_ struct gantry_oci_descriptor found = GANTRY_OCI_DESCRIPTOR_INIT;
    _cleanup_free_ char *found_name = NULL;
    if (gantry_image_resolve(s, src, &found, &found_name, err) < 0)
        return -1;
    p.src_name = xstrdup(found_name ? found_name : src);
    if (push_dest(&p, dest, found_name, err) < 0 || push_mount_source(&p, err) < 0 ||
        push_plan(&p, &found, err) < 0)
        return -1;
    for (size_t i = 0; i < p.n_mans; i++)
        copy_blobs_add_manifest(&p.blobs, p.mans[i]);
    copy_blobs_sort_larger_first(&p.blobs);
    if (copy_parallel(p.blobs.n_items, opts->jobs, push_blob, &p, err) < 0 ||
        push_manifests(&p, &out->manifests_copied, err) < 0)
        return -1;
    out->name = gantry_ref_to_string(&p.dst);
    snprintf(out->digest, sizeof(out->digest), "%s", p.top.digest);
    out->media_type = xstrdup(p.top.media_type);
    out->size = p.top.size;
    out->changed = out->manifests_copied > 0;
    out->blobs_copied = atomic_load(&p.copied);
    out->blobs_present = atomic_load(&p.present);
    out->blobs_mounted = atomic_load(&p.mounted);
    out->bytes_copied = atomic_load(&p.bytes);
    return 0;
}
