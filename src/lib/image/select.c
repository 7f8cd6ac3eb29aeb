/*
 * Choosing the manifest of a stored image for a platform. An index is
 * walked with image_nest_select, the walk the copy engine uses for
 * registries, so that nested indexes (`manifest create --no-flatten`) are
 * chosen through the same way locally and remotely; what is local decides
 * here: a child missing from the store (a partial pull) is listed, never
 * chosen.
 */
#include "image_internal.h"
#include "image_nest.h"

/* The name of desc for errors: its ref-name annotation, else its digest. */
static const char *desc_name(const struct gantry_oci_descriptor *desc)
{
    const char *name = gantry_oci_descriptor_annotation(desc, GANTRY_OCI_ANNOTATION_REF_NAME);
    return name ? name : desc->digest;
}

static int no_match(const struct gantry_oci_descriptor *desc, const struct gantry_platform *want,
                    bool missing_match, const struct gantry_buf *list, struct gantry_error **err)
{
    _cleanup_free_ char *w = gantry_platform_format(want);
    if (missing_match)
        return gantry_error_set(err, GANTRY_E_NOT_FOUND, 0,
                                "manifest for %s in '%s' is not in the store (it has: %s)", w,
                                desc_name(desc), list->data);
    return gantry_error_set(err, GANTRY_E_NOT_FOUND, 0,
                            "no matching manifest for %s in '%s' (it has: %s)", w, desc_name(desc),
                            list->len ? list->data : "no platforms");
}

/* True when manifest d, its config and its layers are all in the store. */
static bool manifest_present(struct gantry_store *s, const struct gantry_oci_descriptor *d)
{
    struct gantry_store_child *kids = NULL;
    size_t n = 0;
    _cleanup_error_ struct gantry_error *absent = NULL;
    if (gantry_store_image_children(s, d, &kids, &n, &absent) < 0)
        return false; /* its own blob is missing */
    bool local = n == 1 && kids[0].local;
    gantry_store_children_free(kids, n);
    return local;
}

/* image_nest_entry_fn over the store: the entry's platform, else its config's. */
static int local_entry(void *user, const struct gantry_oci_descriptor *d,
                       struct gantry_platform *out, bool *present, struct gantry_error **err)
{
    struct gantry_store *s = user;
    *present = manifest_present(s, d);
    if (!*present && !d->platform)
        return 0; /* neither stored nor described: nothing to say about it */
    if (image_manifest_platform(s, d, true, out, err) < 0)
        return -1;
    return gantry_platform_is_unknown(out) ? 0 : 1;
}

/* image_nest_fetch_fn over the store: a nested index not stored is skipped. */
static int local_index(void *user, const struct gantry_oci_descriptor *d, struct gantry_buf *out,
                       struct gantry_error **err)
{
    struct gantry_store *s = user;
    if (!gantry_store_blob_exists(s, d->digest))
        return 0;
    return gantry_store_read_blob(s, d->digest, out, err) < 0 ? -1 : 1;
}

/* The index desc names, read from the store; NULL with *err. */
static struct gantry_oci_index *load_index(struct gantry_store *s,
                                           const struct gantry_oci_descriptor *desc,
                                           struct gantry_error **err)
{
    _cleanup_buf_ struct gantry_buf b = GANTRY_BUF_INIT_CAP(GANTRY_MANIFEST_MAX);
    if (gantry_store_read_blob(s, desc->digest, &b, err) < 0)
        return NULL;
    struct gantry_oci_index *idx = gantry_oci_index_parse(b.data, b.len, desc->media_type, err);
    if (!idx)
        gantry_error_prefix(err, "index %s", desc->digest);
    return idx;
}

static int select_in_index(struct gantry_store *s, const struct gantry_oci_descriptor *desc,
                           const struct gantry_platform *want, bool strict,
                           struct gantry_oci_descriptor *child_out, struct gantry_error **err)
{
    _cleanup_index_ struct gantry_oci_index *top = load_index(s, desc, err);
    if (!top)
        return -1;
    struct image_nest n = {
        .fetch = local_index, .entry = local_entry, .user = s, .name = desc_name(desc)};
    _cleanup_nest_pick_ struct image_nest_pick pick = IMAGE_NEST_PICK_INIT;
    int rc = image_nest_select(&n, top, want, strict, &pick, err);
    if (rc == 0 && !pick.entry)
        rc = no_match(desc, want, pick.missing_match, &pick.seen, err);
    if (rc == 0) {
        gantry_oci_descriptor_copy(child_out, pick.entry);
        if (!child_out->platform)
            child_out->platform = image_oci_platform(&pick.platform);
    }
    image_nest_release(&n);
    return rc;
}

/* A single manifest: its config's platform must be known and suit want (any does, with any). */
static int select_manifest(struct gantry_store *s, const struct gantry_oci_descriptor *desc,
                           const struct gantry_platform *want, bool strict, bool any,
                           struct gantry_oci_descriptor *child_out, struct gantry_error **err)
{
    if (!gantry_store_blob_exists(s, desc->digest))
        return gantry_error_set(err, GANTRY_E_NOT_FOUND, 0, "blob %s is not in the store",
                                desc->digest);
    _cleanup_platform_ struct gantry_platform p = GANTRY_PLATFORM_INIT;
    if (image_manifest_platform(s, desc, false, &p, err) < 0)
        return -1;
    bool known = !gantry_platform_is_unknown(&p);
    if (!known || (!any && gantry_platform_match_rank(want, &p, strict) < 0)) {
        _cleanup_buf_ struct gantry_buf list = GANTRY_BUF_INIT;
        _cleanup_free_ char *has = known ? gantry_platform_format(&p) : NULL;
        if (has && gantry_buf_addf(&list, "%s", has) < 0)
            oom();
        return no_match(desc, want, false, &list, err);
    }
    gantry_oci_descriptor_copy(child_out, desc);
    if (!child_out->platform)
        child_out->platform = image_oci_platform(&p);
    return 0;
}

int gantry_image_select_platform(struct gantry_store *s, const struct gantry_oci_descriptor *desc,
                                 const struct gantry_platform *want, bool strict,
                                 struct gantry_oci_descriptor *child_out, struct gantry_error **err)
{
    *child_out = (struct gantry_oci_descriptor)GANTRY_OCI_DESCRIPTOR_INIT;
    _cleanup_platform_ struct gantry_platform host = GANTRY_PLATFORM_INIT;
    if (!want && gantry_platform_host(&host, err) < 0)
        return -1;
    if (gantry_oci_is_index_type(desc->media_type))
        return select_in_index(s, desc, want ? want : &host, strict, child_out, err);
    /* The host's platform only chooses among an index's entries. */
    return select_manifest(s, desc, want ? want : &host, strict, !want, child_out, err);
}
