/*
 * End of loading a docker archive: for each image of manifest.json, its
 * config and layers must be in the archive, and each layer must hash
 * (uncompressed) to the config's diff_id. The layers were stored
 * gzip-compressed on the way in, so each image gets an OCI manifest whose
 * config is the archive's, byte for byte: the image id does not change.
 */
#include <gantry/image.h>
#include <gantry/ref.h>
#include <gantry/store.h>

#include "transfer_internal.h"

#include "util.h"

static const struct load_file *docker_file(struct load_ctx *c, const char *path,
                                           struct gantry_error **err)
{
    _cleanup_free_ char *clean = transfer_path_clean(path, strlen(path));
    const struct load_file *f = clean ? load_find_file(c, clean) : NULL;
    if (!f)
        gantry_error_set(err, GANTRY_E_NOT_FOUND, 0, "archive lacks '%s' that manifest.json names",
                         path);
    return f;
}

/* The diff_id of a layer stored compressed as the archive had it. */
static int hash_uncompressed(struct load_ctx *c, const char *digest, char out[GANTRY_DIGEST_MAX],
                             struct gantry_error **err)
{
    struct gantry_store_blob_reader *r = gantry_store_blob_reader_open(c->s, digest, err);
    if (!r)
        return -1;
    struct gantry_layer_source *src = gantry_layer_source_new(transfer_read_store_blob, r, NULL);
    struct gantry_hasher *h = gantry_hasher_new(GANTRY_DIGEST_SHA256);
    const void *data;
    ssize_t n;
    while ((n = gantry_layer_source_read(src, &data, err)) > 0)
        gantry_hasher_update(h, data, (size_t)n);
    gantry_hasher_final(h, out);
    gantry_hasher_free(h);
    gantry_layer_source_free(src);
    gantry_store_blob_reader_free(r);
    return n < 0 ? -1 : 0;
}

static int layer_desc(struct load_ctx *c, const char *path, const char *want,
                      struct gantry_oci_descriptor *d, struct gantry_error **err)
{
    char diff_id[GANTRY_DIGEST_MAX];
    const struct load_file *f = docker_file(c, path, err);
    if (!f)
        return -1;
    if (f->diff_id[0])
        memcpy(diff_id, f->diff_id, sizeof(diff_id));
    else if (f->stored == GANTRY_COMPRESSION_NONE)
        memcpy(diff_id, f->digest, sizeof(diff_id));
    else if (hash_uncompressed(c, f->digest, diff_id, err) < 0)
        return gantry_error_prefix(err, "layer '%s'", path);
    if (strcmp(diff_id, want) != 0)
        return gantry_error_set(err, GANTRY_E_DIGEST_MISMATCH, 0,
                                "layer '%s' does not match its config: content hashes to %s, "
                                "diff_id is %s",
                                path, diff_id, want);
    gantry_oci_descriptor_init(d, gantry_image_layer_media_type(f->stored), f->digest, f->size);
    return 0;
}

static void release_descs(struct gantry_oci_descriptor *d, size_t n)
{
    for (size_t i = 0; i < n; i++)
        gantry_oci_descriptor_release(&d[i]);
    free(d);
}

/* Build and store the OCI manifest of config cf and the image's layers. */
static int store_manifest(struct load_ctx *c, const struct gantry_oci_docker_archive_image *ji,
                          const struct load_file *cf, const struct gantry_oci_config *cfg,
                          struct load_image *img, struct gantry_error **err)
{
    if (ji->n_layers != cfg->n_diff_ids)
        return gantry_error_set(err, GANTRY_E_PARSE, 0,
                                "image '%s' has %zu layers but its config %zu diff_ids", ji->config,
                                ji->n_layers, cfg->n_diff_ids);
    struct gantry_oci_descriptor config = GANTRY_OCI_DESCRIPTOR_INIT;
    char digest[GANTRY_DIGEST_MAX];
    struct gantry_oci_descriptor *layers = xcalloc(ji->n_layers, sizeof(*layers));
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < ji->n_layers; i++)
        rc = layer_desc(c, ji->layers[i], cfg->diff_ids[i], &layers[i], err);
    gantry_oci_descriptor_init(&config, GANTRY_MT_OCI_CONFIG, cf->digest, cf->size);
    struct gantry_oci_manifest *m =
        rc == 0 ? gantry_oci_manifest_build(NULL, &config, layers, ji->n_layers, err) : NULL;
    if (m)
        rc = gantry_store_put_blob(c->s, m->raw, m->raw_len, digest, err);
    else
        rc = -1;
    if (rc == 0) {
        struct gantry_oci_platform p = {
            .architecture = cfg->architecture, .os = cfg->os, .variant = cfg->variant};
        gantry_oci_descriptor_init(&img->desc, GANTRY_MT_OCI_MANIFEST, m->digest,
                                   (int64_t)m->raw_len);
        img->desc.platform = gantry_oci_platform_dup(&p);
        snprintf(img->id, sizeof(img->id), "%s", cf->digest);
    }
    gantry_oci_manifest_free(m);
    gantry_oci_descriptor_release(&config);
    release_descs(layers, ji->n_layers);
    return rc;
}

static int add_names(const struct gantry_oci_docker_archive_image *ji, struct load_image *img,
                     struct gantry_error **err)
{
    for (size_t i = 0; i < ji->n_repo_tags; i++) {
        const char *t = ji->repo_tags[i];
        struct gantry_ref ref = GANTRY_REF_INIT;
        if (gantry_ref_parse(t, strlen(t), &ref, err) < 0)
            return gantry_error_prefix(err, "manifest.json RepoTags");
        load_image_add_name(img, gantry_ref_to_string(&ref));
        gantry_ref_release(&ref);
    }
    return 0;
}

static int docker_image(struct load_ctx *c, const struct gantry_oci_docker_archive_image *ji,
                        struct load_images *out, struct gantry_error **err)
{
    _cleanup_buf_ struct gantry_buf raw = GANTRY_BUF_INIT;
    const struct load_file *cf = docker_file(c, ji->config, err);
    if (!cf || transfer_read_doc(c->s, cf->digest, &raw, err) < 0)
        return -1;
    struct gantry_oci_config *cfg = gantry_oci_config_parse(raw.data, raw.len, err);
    if (!cfg)
        return gantry_error_prefix(err, "config '%s'", ji->config);
    struct load_image *img = load_images_add(out);
    int rc = store_manifest(c, ji, cf, cfg, img, err);
    gantry_oci_config_free(cfg);
    if (rc < 0)
        return -1;
    return add_names(ji, img, err);
}

int load_finish_docker(struct load_ctx *c, struct load_images *out, struct gantry_error **err)
{
    struct gantry_oci_docker_archive_image *imgs = NULL;
    size_t n = 0;
    if (gantry_oci_docker_archive_manifest_parse(c->docker_manifest.data, c->docker_manifest.len,
                                                 &imgs, &n, err) < 0)
        return -1;
    int rc = 0;
    if (n == 0)
        rc = gantry_error_set(err, GANTRY_E_PARSE, 0, "manifest.json lists no image");
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = docker_image(c, &imgs[i], out, err);
    gantry_oci_docker_archive_manifest_free(imgs, n);
    return rc;
}
