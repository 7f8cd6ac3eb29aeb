/* The children of an image and whether each is usable locally (partial images). */
#include "store_internal.h"

/* A manifest is local when its blob, its config and all its layers are here. */
static bool manifest_local(struct gantry_store *s, const struct gantry_oci_descriptor *d)
{
    _cleanup_buf_ struct gantry_buf b = GANTRY_BUF_INIT_CAP(GANTRY_MANIFEST_MAX);
    if (gantry_store_read_blob(s, d->digest, &b, NULL) < 0)
        return false;
    struct gantry_oci_manifest *m = gantry_oci_manifest_parse(b.data, b.len, d->media_type, NULL);
    if (!m)
        return false;
    bool local = gantry_store_blob_exists(s, m->config.digest);
    for (size_t i = 0; local && i < m->n_layers; i++)
        local = gantry_store_blob_exists(s, m->layers[i].digest);
    gantry_oci_manifest_free(m);
    return local;
}

static bool child_local(struct gantry_store *s, const struct gantry_oci_descriptor *d)
{
    if (gantry_oci_is_manifest_type(d->media_type))
        return manifest_local(s, d);
    return gantry_store_blob_exists(s, d->digest);
}

static void push_child(struct gantry_store *s, struct gantry_store_child **out, size_t *n,
                       const struct gantry_oci_descriptor *d)
{
    *out = xrealloc(*out, (*n + 1) * sizeof(**out));
    struct gantry_store_child *c = &(*out)[(*n)++];
    gantry_oci_descriptor_copy(&c->desc, d);
    c->local = child_local(s, d);
}

int gantry_store_image_children(struct gantry_store *s, const struct gantry_oci_descriptor *desc,
                                struct gantry_store_child **out, size_t *n,
                                struct gantry_error **err)
{
    *out = NULL;
    *n = 0;
    if (!gantry_oci_is_index_type(desc->media_type)) {
        if (!gantry_store_blob_exists(s, desc->digest))
            return gantry_error_set(err, GANTRY_E_NOT_FOUND, 0, "blob %s is not in the store",
                                    desc->digest);
        push_child(s, out, n, desc);
        return 0;
    }
    _cleanup_buf_ struct gantry_buf b = GANTRY_BUF_INIT_CAP(GANTRY_MANIFEST_MAX);
    if (gantry_store_read_blob(s, desc->digest, &b, err) < 0)
        return -1;
    struct gantry_oci_index *idx = gantry_oci_index_parse(b.data, b.len, desc->media_type, err);
    if (!idx)
        return gantry_error_prefix(err, "index %s", desc->digest);
    for (size_t i = 0; i < idx->n_manifests; i++)
        push_child(s, out, n, &idx->manifests[i]);
    if (!*out)
        *out = xcalloc(1, sizeof(**out));
    gantry_oci_index_free(idx);
    return 0;
}

void gantry_store_children_free(struct gantry_store_child *c, size_t n)
{
    for (size_t i = 0; c && i < n; i++)
        gantry_oci_descriptor_release(&c[i].desc);
    free(c);
}
