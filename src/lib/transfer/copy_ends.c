/*
 * The ends of `gantry copy`. A registry speaks the distribution API; the
 * store, an OCI directory and an OCI archive are all OCI layouts, so they
 * share one code path through a store handle: the archive is loaded into,
 * or built in, a temporary layout beside it and then handed to the save
 * and load code.
 */
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <sys/stat.h>

#include <gantry/image.h>
#include <gantry/registry.h>
#include <gantry/store.h>

#include "copy_internal.h"
#include "transfer_internal.h"

#include "util.h"

static int rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)type;
    (void)ftw;
    return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

void copy_end_release(struct copy_end *e)
{
    if (e->owns_store)
        gantry_store_free(e->store);
    if (e->tmp_root)
        (void)nftw(e->tmp_root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(e->tmp_root);
    gantry_ref_release(&e->ref);
    free(e->name);
    *e = (struct copy_end){0};
}

/* A temporary layout: beside the archive written, in $TMPDIR for one read. */
static int open_tmp_layout(struct copy_end *e, bool is_dst, struct gantry_error **err)
{
    _cleanup_free_ char *copy = xstrdup(e->path);
    const char *dir = is_dst ? dirname(copy) : getenv("TMPDIR");
    if (!dir || !*dir)
        dir = "/tmp";
    e->tmp_root = xasprintf("%s/.gantry-copy-XXXXXX", dir);
    if (!mkdtemp(e->tmp_root)) {
        int saved = errno;
        free(steal_pointer(&e->tmp_root));
        return gantry_error_set(err, GANTRY_E_IO, saved, "create a temporary layout in '%s'", dir);
    }
    e->store = gantry_store_open(e->tmp_root, GANTRY_STORE_CREATE, err);
    e->owns_store = e->store != NULL;
    return e->store ? 0 : -1;
}

/* The loaded image REF names (its full name or tag), or the only one. */
static int pick_loaded(struct copy_end *e, const struct gantry_transfer_load_result *r,
                       struct gantry_error **err)
{
    const struct gantry_transfer_loaded *hit = NULL;
    for (size_t i = 0; i < r->n_items; i++) {
        const char *n = r->items[i].name;
        const char *colon = n ? strrchr(n, ':') : NULL;
        bool match = !e->name ||
                     (n && (strcmp(n, e->name) == 0 || (colon && strcmp(colon + 1, e->name) == 0)));
        if (match && hit)
            return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0,
                                    "'%s' holds several images: name one with oci-archive:%s:REF",
                                    e->path, e->path);
        if (match)
            hit = &r->items[i];
    }
    if (!hit)
        return gantry_error_set(err, GANTRY_E_NOT_FOUND, 0, "no image '%s' in '%s'",
                                e->name ? e->name : "", e->path);
    free(e->name);
    e->name = xstrdup(hit->name ? hit->name : hit->digest);
    return 0;
}

static int load_archive(struct copy_end *e, struct gantry_error **err)
{
    _cleanup_close_ int fd = open(e->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return gantry_error_set(err, errno == ENOENT ? GANTRY_E_NOT_FOUND : GANTRY_E_IO, errno,
                                "open '%s'", e->path);
    struct gantry_transfer_load_result r = {0};
    struct gantry_transfer_load_opts lo = {0};
    if (gantry_transfer_load_fd(e->store, fd, &lo, &r, err) < 0)
        return gantry_error_prefix(err, "read '%s'", e->path);
    int rc = pick_loaded(e, &r, err);
    gantry_transfer_load_result_release(&r);
    return rc;
}

static int open_registry(struct copy_end *e, const char *ref, bool is_dst,
                         struct gantry_error **err)
{
    if (!e->c)
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0, "no registry client for '%s'", ref);
    if (gantry_ref_parse(ref, strlen(ref), &e->ref, err) < 0)
        return -1;
    if (is_dst && e->ref.digest)
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0,
                                "copy destination '%s' must be a tag, not a digest", ref);
    e->name = gantry_ref_to_string(&e->ref);
    return 0;
}

/* The store's names are full references: normalize a destination's. */
static int open_store_end(struct copy_end *e, const char *ref, bool is_dst,
                          struct gantry_error **err)
{
    if (!e->store)
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0, "no store for 'gantry:%s'", ref);
    if (!is_dst) {
        e->name = xstrdup(ref);
        return 0;
    }
    if (gantry_ref_parse(ref, strlen(ref), &e->ref, err) < 0)
        return -1;
    if (e->ref.digest)
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0,
                                "copy destination 'gantry:%s' must be a tag, not a digest", ref);
    e->name = gantry_ref_to_string(&e->ref);
    return 0;
}

int copy_end_open(struct copy_end *e, const struct gantry_transfer_endpoint *ep,
                  struct gantry_store *s, struct gantry_registry_client *c, bool is_dst,
                  struct gantry_error **err)
{
    *e = (struct copy_end){.kind = ep->kind, .path = ep->path, .c = c};
    switch (ep->kind) {
    case GANTRY_TRANSFER_REGISTRY:
        return open_registry(e, ep->ref, is_dst, err);
    case GANTRY_TRANSFER_STORE:
        e->store = s;
        return open_store_end(e, ep->ref, is_dst, err);
    case GANTRY_TRANSFER_OCI_DIR:
        e->name = ep->ref ? xstrdup(ep->ref) : NULL;
        e->store = gantry_store_open(ep->path, is_dst ? GANTRY_STORE_CREATE : 0, err);
        e->owns_store = e->store != NULL;
        return e->store ? 0 : gantry_error_prefix(err, "oci:%s", ep->path);
    case GANTRY_TRANSFER_OCI_ARCHIVE:
        if (!is_dst && access(ep->path, F_OK) < 0)
            return gantry_error_set(err, GANTRY_E_NOT_FOUND, errno, "open '%s'", ep->path);
        if (open_tmp_layout(e, is_dst, err) < 0)
            return -1;
        if (!is_dst) {
            e->name = ep->ref ? xstrdup(ep->ref) : NULL;
            return load_archive(e, err);
        }
        /* Written, the name goes through the save code: a full reference. */
        return ep->ref ? open_store_end(e, ep->ref, true, err) : 0;
    }
    return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0, "unknown endpoint kind");
}

/* An OCI directory without REF: its one named image. */
static int only_name(struct copy_end *e, struct gantry_error **err)
{
    struct gantry_store_ref *refs = NULL;
    size_t n = 0;
    if (gantry_store_ref_list(e->store, &refs, &n, err) < 0)
        return -1;
    if (n == 1)
        e->name = xstrdup(refs[0].name);
    gantry_store_ref_list_free(refs, n);
    if (n == 1)
        return 0;
    if (n == 0)
        return gantry_error_set(err, GANTRY_E_NOT_FOUND, 0, "no image in '%s'", e->path);
    return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0,
                            "'%s' holds %zu images: name one with oci:%s:REF", e->path, n, e->path);
}

static int layout_top(struct copy_end *e, struct gantry_oci_descriptor *d,
                      struct gantry_error **err)
{
    if (e->kind == GANTRY_TRANSFER_STORE || e->kind == GANTRY_TRANSFER_OCI_ARCHIVE)
        return gantry_image_resolve(e->store, e->name, d, NULL, err);
    if (!e->name && only_name(e, err) < 0)
        return -1;
    if (gantry_store_ref_get(e->store, e->name, d, err) < 0)
        return gantry_error_prefix(err, "oci:%s:%s", e->path, e->name);
    return 0;
}

int copy_end_top(struct copy_end *e, struct gantry_buf *data, char **media_type,
                 char digest[GANTRY_DIGEST_MAX], struct gantry_error **err)
{
    if (!e->store) {
        struct gantry_registry_manifest m = GANTRY_REGISTRY_MANIFEST_INIT;
        if (gantry_registry_get_manifest(e->c, &e->ref, &m, err) < 0)
            return -1;
        int rc = gantry_buf_add(data, m.data, m.len) < 0 ? -1 : 0;
        *media_type = steal_pointer(&m.media_type);
        snprintf(digest, GANTRY_DIGEST_MAX, "%s", m.digest);
        gantry_registry_manifest_release(&m);
        if (rc < 0)
            oom();
        return 0;
    }
    struct gantry_oci_descriptor d = GANTRY_OCI_DESCRIPTOR_INIT;
    if (layout_top(e, &d, err) < 0)
        return -1;
    int rc = transfer_read_doc(e->store, d.digest, data, err);
    *media_type = xstrdup(d.media_type);
    snprintf(digest, GANTRY_DIGEST_MAX, "%s", d.digest);
    gantry_oci_descriptor_release(&d);
    return rc;
}

/* e's repository with a digest instead of the tag. */
static void ref_at(const struct copy_end *e, const char *digest, struct gantry_ref *out)
{
    gantry_ref_copy(out, &e->ref);
    free(out->tag);
    free(out->digest);
    out->tag = NULL;
    out->digest = xstrdup(digest);
}

int copy_end_doc(struct copy_end *e, const char *digest, struct gantry_buf *data,
                 struct gantry_error **err)
{
    if (e->store)
        return transfer_read_doc(e->store, digest, data, err);
    _cleanup_ref_ struct gantry_ref r = GANTRY_REF_INIT;
    ref_at(e, digest, &r);
    struct gantry_registry_manifest m = GANTRY_REGISTRY_MANIFEST_INIT;
    if (gantry_registry_get_manifest(e->c, &r, &m, err) < 0)
        return -1;
    gantry_buf_reset(data);
    int rc = gantry_buf_add(data, m.data, m.len);
    gantry_registry_manifest_release(&m);
    if (rc < 0)
        oom();
    return 0;
}

int copy_end_has(struct copy_end *e, const char *digest, bool is_doc, struct gantry_error **err)
{
    if (e->store)
        return gantry_store_blob_exists(e->store, digest) ? 1 : 0;
    if (!is_doc)
        return gantry_registry_head_blob(e->c, &e->ref, digest, NULL, err);
    _cleanup_ref_ struct gantry_ref r = GANTRY_REF_INIT;
    ref_at(e, digest, &r);
    struct gantry_registry_manifest m = GANTRY_REGISTRY_MANIFEST_INIT;
    struct gantry_error *e2 = NULL;
    if (gantry_registry_head_manifest(e->c, &r, &m, &e2) == 0) {
        gantry_registry_manifest_release(&m);
        return 1;
    }
    bool absent = e2->code == GANTRY_E_NOT_FOUND;
    if (absent || !err)
        gantry_error_free(e2);
    else {
        gantry_error_free(*err);
        *err = e2;
    }
    return absent ? 0 : -1;
}

/* The name an OCI directory entry gets without REF: skopeo's default. */
#define OCI_DEFAULT_NAME "latest"

static int layout_put(struct copy_end *e, const char *media_type, const char *data, size_t len,
                      const char *digest, bool as_top, struct gantry_error **err)
{
    char got[GANTRY_DIGEST_MAX];
    if (gantry_store_put_blob(e->store, data, len, got, err) < 0)
        return -1;
    if (strcmp(got, digest) != 0)
        return gantry_error_set(err, GANTRY_E_UNSUPPORTED, 0,
                                "manifest %s: only sha256 digests can be stored", digest);
    if (!as_top)
        return 0;
    if (!e->name)
        e->name = xstrdup(OCI_DEFAULT_NAME);
    struct gantry_oci_descriptor d = GANTRY_OCI_DESCRIPTOR_INIT;
    gantry_oci_descriptor_init(&d, media_type, digest, (int64_t)len);
    int rc = gantry_store_ref_set(e->store, e->name, &d, err);
    gantry_oci_descriptor_release(&d);
    return rc;
}

int copy_end_put_doc(struct copy_end *e, const char *media_type, const char *data, size_t len,
                     const char *digest, bool as_top, struct gantry_error **err)
{
    if (e->store)
        return layout_put(e, media_type, data, len, digest, as_top, err);
    _cleanup_ref_ struct gantry_ref r = GANTRY_REF_INIT;
    if (as_top)
        gantry_ref_copy(&r, &e->ref);
    else
        ref_at(e, digest, &r);
    struct gantry_registry_manifest m = {
        .media_type = (char *)media_type, .data = (char *)data, .len = len};
    char got[GANTRY_DIGEST_MAX];
    if (gantry_registry_put_manifest(e->c, &r, &m, got, err) < 0)
        return -1;
    if (strcmp(got, digest) != 0)
        return gantry_error_set(err, GANTRY_E_DIGEST_MISMATCH, 0,
                                "manifest of '%s': digest mismatch: got %s, want %s", e->name, got,
                                digest);
    return 0;
}

int copy_end_finish(struct copy_end *e, struct gantry_error **err)
{
    if (e->kind != GANTRY_TRANSFER_OCI_ARCHIVE)
        return 0;
    const char *refs[] = {e->name};
    struct gantry_transfer_save_opts so = {.format = GANTRY_ARCHIVE_OCI};
    return gantry_transfer_save_file(e->store, refs, 1, &so, e->path, err);
}
