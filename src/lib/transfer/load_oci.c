/*
 * End of loading an OCI archive: every entry of index.json must be in the
 * store now, with its manifests' configs and layers. An index may lack
 * some children (a partial image, as `save` writes it from a store that
 * pulled one platform) but not all of them, and a child that is there must
 * be complete.
 */
#include <gantry/store.h>

#include "transfer_internal.h"

#include "util.h"

#define LOAD_INDEX_DEPTH_MAX 8

static int need_blob(struct load_ctx *c, const char *digest, const char *what, const char *owner,
                     struct gantry_error **err)
{
    if (gantry_store_blob_exists(c->s, digest))
        return 0;
    return gantry_error_set(err, GANTRY_E_NOT_FOUND, 0, "archive lacks blob %s (%s of %s)", digest,
                            what, owner);
}

/* A manifest's config and layers; *config_out (may be NULL) gets the config digest. */
static int check_manifest(struct load_ctx *c, const struct gantry_oci_descriptor *d,
                          char config_out[GANTRY_DIGEST_MAX], struct gantry_error **err)
{
    _cleanup_buf_ struct gantry_buf raw = GANTRY_BUF_INIT;
    if (transfer_read_doc(c->s, d->digest, &raw, err) < 0)
        return -1;
    struct gantry_oci_manifest *m =
        gantry_oci_manifest_parse(raw.data, raw.len, d->media_type, err);
    if (!m)
        return gantry_error_prefix(err, "manifest %s", d->digest);
    int rc = need_blob(c, m->config.digest, "config", d->digest, err);
    for (size_t i = 0; rc == 0 && i < m->n_layers; i++)
        /* Foreign layers (with urls) are fetched from elsewhere, never shipped. */
        if (m->layers[i].n_urls == 0)
            rc = need_blob(c, m->layers[i].digest, "layer", d->digest, err);
    if (rc == 0 && config_out)
        snprintf(config_out, GANTRY_DIGEST_MAX, "%s", m->config.digest);
    gantry_oci_manifest_free(m);
    return rc;
}

static int check_image(struct load_ctx *c, const struct gantry_oci_descriptor *d, int depth,
                       char id[GANTRY_DIGEST_MAX], struct gantry_error **err);

/* An index: the children present must be complete; one at least must be. */
static int check_index(struct load_ctx *c, const struct gantry_oci_descriptor *d, int depth,
                       struct gantry_error **err)
{
    _cleanup_buf_ struct gantry_buf raw = GANTRY_BUF_INIT;
    if (depth > LOAD_INDEX_DEPTH_MAX)
        return gantry_error_set(err, GANTRY_E_UNSUPPORTED, 0, "index %s: nested too deeply",
                                d->digest);
    if (transfer_read_doc(c->s, d->digest, &raw, err) < 0)
        return -1;
    struct gantry_oci_index *idx = gantry_oci_index_parse(raw.data, raw.len, d->media_type, err);
    if (!idx)
        return gantry_error_prefix(err, "index %s", d->digest);
    size_t present = 0;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < idx->n_manifests; i++) {
        char ignored[GANTRY_DIGEST_MAX];
        if (!gantry_store_blob_exists(c->s, idx->manifests[i].digest))
            continue;
        present++;
        rc = check_image(c, &idx->manifests[i], depth + 1, ignored, err);
    }
    if (rc == 0 && present == 0 && idx->n_manifests > 0)
        rc = gantry_error_set(err, GANTRY_E_NOT_FOUND, 0,
                              "archive holds none of the %zu manifests index %s lists",
                              idx->n_manifests, d->digest);
    gantry_oci_index_free(idx);
    return rc;
}

/* Check d and what it reaches; id gets the image id (config or index digest). */
static int check_image(struct load_ctx *c, const struct gantry_oci_descriptor *d, int depth,
                       char id[GANTRY_DIGEST_MAX], struct gantry_error **err)
{
    snprintf(id, GANTRY_DIGEST_MAX, "%s", d->digest);
    if (gantry_oci_is_index_type(d->media_type))
        return check_index(c, d, depth, err);
    if (gantry_oci_is_manifest_type(d->media_type))
        return check_manifest(c, d, id, err);
    return 0;
}

static int load_entry(struct load_ctx *c, const struct gantry_oci_descriptor *d,
                      struct load_images *out, struct gantry_error **err)
{
    char *name = NULL;
    if (need_blob(c, d->digest, "entry", "index.json", err) < 0 ||
        transfer_name_from_annotations(d, &name, err) < 0)
        return -1;
    struct load_image *img = load_images_add(out);
    if (name)
        load_image_add_name(img, name);
    gantry_oci_descriptor_copy(&img->desc, d);
    /* The store writes its own ref.name (the full name) on each entry. */
    gantry_oci_descriptor_set_annotation(&img->desc, GANTRY_OCI_ANNOTATION_REF_NAME, NULL);
    gantry_oci_descriptor_set_annotation(&img->desc, "io.containerd.image.name", NULL);
    return check_image(c, d, 0, img->id, err);
}

int load_finish_oci(struct load_ctx *c, struct load_images *out, struct gantry_error **err)
{
    if (gantry_oci_layout_check(c->oci_layout.data, c->oci_layout.len, err) < 0)
        return gantry_error_prefix(err, "oci-layout");
    if (!c->have_index_json)
        return gantry_error_set(err, GANTRY_E_PARSE, 0,
                                "not an image archive: oci-layout without index.json");
    struct gantry_oci_index *idx =
        gantry_oci_index_parse(c->index_json.data, c->index_json.len, NULL, err);
    if (!idx)
        return gantry_error_prefix(err, "index.json");
    int rc = 0;
    if (idx->n_manifests == 0)
        rc = gantry_error_set(err, GANTRY_E_PARSE, 0, "index.json lists no image");
    for (size_t i = 0; rc == 0 && i < idx->n_manifests; i++)
        rc = load_entry(c, &idx->manifests[i], out, err);
    gantry_oci_index_free(idx);
    return rc;
}
