/*
 * `gantry import`: a rootfs tarball becomes a one-layer image. The tarball
 * is read once, straight into a store blob writer; the config and manifest
 * follow, and the name is set last, so a failure never leaves a name behind.
 */
#include <time.h>

#include <gantry/ref.h>

#include "image_internal.h"

static void cleanup_writerp(struct gantry_store_blob_writer **w)
{
    gantry_store_blob_writer_free(*w);
}
#define _cleanup_writer_ __attribute__((cleanup(cleanup_writerp)))

/* The full name to import as; a digest cannot be a name. */
static char *target_name(const char *ref_string, struct gantry_error **err)
{
    struct gantry_ref ref = GANTRY_REF_INIT;
    if (gantry_ref_parse(ref_string, strlen(ref_string), &ref, err) < 0)
        return NULL;
    char *full = NULL;
    if (ref.digest)
        gantry_error_set(err, GANTRY_E_INVALID_ARG, 0,
                         "invalid reference '%s': a name cannot contain a digest", ref_string);
    else
        full = gantry_ref_to_string(&ref);
    gantry_ref_release(&ref);
    return full;
}

/* $SOURCE_DATE_EPOCH when set (reproducible builds), else now. */
static int creation_time(int64_t *out, struct gantry_error **err)
{
    const char *env = getenv("SOURCE_DATE_EPOCH");
    if (!env || !*env) {
        *out = (int64_t)time(NULL);
        return 0;
    }
    char *end = NULL;
    errno = 0;
    long long v = strtoll(env, &end, 10);
    if (errno || *end || v < 0)
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0, "invalid SOURCE_DATE_EPOCH '%s'",
                                env);
    *out = (int64_t)v;
    return 0;
}

/* A config for the platform with the changes applied (no layer yet). */
static struct gantry_oci_config *new_config(const struct gantry_platform *p,
                                            const struct gantry_image_import_opts *o,
                                            struct gantry_error **err)
{
    _cleanup_config_ struct gantry_oci_config *c =
        gantry_oci_config_new(p->os, p->architecture, p->variant);
    if (p->os_version)
        c->os_version = xstrdup(p->os_version);
    for (size_t i = 0; i < p->n_os_features; i++)
        image_strv_push(&c->os_features, &c->n_os_features, xstrdup(p->os_features[i]));
    for (size_t i = 0; i < o->n_changes; i++)
        if (gantry_image_apply_change(c, o->changes[i], strlen(o->changes[i]), err) < 0)
            return NULL;
    return steal_pointer(&c);
}

static int write_to_blob(void *user, const void *data, size_t len, struct gantry_error **err)
{
    return gantry_store_blob_writer_write(user, data, len, err);
}

/* Stream the tarball through the layer module into a committed blob. */
static int write_layer(struct gantry_store *s, int fd, const struct gantry_image_import_opts *o,
                       struct gantry_layer_result *res, struct gantry_error **err)
{
    _cleanup_writer_ struct gantry_store_blob_writer *w =
        gantry_store_blob_writer_new(s, NULL, -1, err);
    if (!w)
        return -1;
    struct gantry_layer_opts lopts = {.progress_id = o->progress_id,
                                      .progress_total = o->progress_total};
    if (gantry_layer_from_tar(fd, o->compression, write_to_blob, w, &lopts, res, err) < 0)
        return -1;
    char digest[GANTRY_DIGEST_MAX];
    if (gantry_store_blob_writer_commit(w, digest, err) < 0)
        return -1;
    if (strcmp(digest, res->digest) != 0)
        return gantry_error_set(err, GANTRY_E_INTERNAL, 0,
                                "layer digest %s differs from the stored blob %s", res->digest,
                                digest);
    return 0;
}

const char *gantry_image_layer_media_type(enum gantry_compression c)
{
    switch (c) {
    case GANTRY_COMPRESSION_GZIP:
        return GANTRY_MT_OCI_LAYER_GZIP;
    case GANTRY_COMPRESSION_ZSTD:
        return GANTRY_MT_OCI_LAYER_ZSTD;
    case GANTRY_COMPRESSION_NONE:
        break;
    }
    return GANTRY_MT_OCI_LAYER;
}

/* Add the layer and its history entry, serialize, store; fills *desc. */
static int store_config(struct gantry_store *s, struct gantry_oci_config *c,
                        const struct gantry_layer_result *res, int64_t created, const char *message,
                        struct gantry_oci_descriptor *desc, struct gantry_error **err)
{
    _cleanup_free_ char *when = image_format_time(created);
    struct gantry_oci_history_spec h = {
        .created = when, .created_by = "import", .comment = message};
    free(c->created);
    c->created = xstrdup(when);
    gantry_oci_config_add_layer(c, res->diff_id, &h);
    char digest[GANTRY_DIGEST_MAX];
    if (gantry_oci_config_serialize(c, err) < 0 ||
        gantry_store_put_blob(s, c->raw, c->raw_len, digest, err) < 0)
        return -1;
    gantry_oci_descriptor_init(desc, GANTRY_MT_OCI_CONFIG, digest, (int64_t)c->raw_len);
    return 0;
}

static int store_manifest(struct gantry_store *s, const struct gantry_oci_descriptor *config,
                          const struct gantry_oci_descriptor *layer,
                          const struct gantry_platform *p, struct gantry_oci_descriptor *desc,
                          struct gantry_error **err)
{
    _cleanup_manifest_ struct gantry_oci_manifest *m =
        gantry_oci_manifest_build(GANTRY_MT_OCI_MANIFEST, config, layer, 1, err);
    char digest[GANTRY_DIGEST_MAX];
    if (!m || gantry_store_put_blob(s, m->raw, m->raw_len, digest, err) < 0)
        return -1;
    gantry_oci_descriptor_init(desc, GANTRY_MT_OCI_MANIFEST, digest, (int64_t)m->raw_len);
    desc->platform = image_oci_platform(p);
    return 0;
}

/* Everything after the checks: layer, config, manifest, name. */
static int import_blobs(struct gantry_store *s, int fd, const char *name,
                        struct gantry_oci_config *c, const struct gantry_platform *p,
                        const struct gantry_image_import_opts *o, int64_t created,
                        struct gantry_error **err)
{
    struct gantry_layer_result res = {0};
    if (write_layer(s, fd, o, &res, err) < 0)
        return -1;
    _cleanup_descriptor_ struct gantry_oci_descriptor layer = GANTRY_OCI_DESCRIPTOR_INIT;
    _cleanup_descriptor_ struct gantry_oci_descriptor config = GANTRY_OCI_DESCRIPTOR_INIT;
    _cleanup_descriptor_ struct gantry_oci_descriptor manifest = GANTRY_OCI_DESCRIPTOR_INIT;
    gantry_oci_descriptor_init(&layer, gantry_image_layer_media_type(o->compression), res.digest,
                               (int64_t)res.size);
    if (store_config(s, c, &res, created, o->message, &config, err) < 0 ||
        store_manifest(s, &config, &layer, p, &manifest, err) < 0)
        return -1;
    return gantry_store_ref_set(s, name, &manifest, err);
}

int gantry_image_import(struct gantry_store *s, int fd, const char *ref,
                        const struct gantry_image_import_opts *opts,
                        char image_id[GANTRY_DIGEST_MAX], struct gantry_error **err)
{
    static const struct gantry_image_import_opts defaults = {0};
    const struct gantry_image_import_opts *o = opts ? opts : &defaults;
    _cleanup_free_ char *name = target_name(ref, err);
    if (!name)
        return -1;
    _cleanup_platform_ struct gantry_platform p = GANTRY_PLATFORM_INIT;
    if (o->platform) {
        gantry_platform_copy(&p, o->platform);
        gantry_platform_normalize(&p);
    } else if (gantry_platform_host(&p, err) < 0) {
        return -1;
    }
    int64_t created = 0;
    if (creation_time(&created, err) < 0)
        return -1;
    _cleanup_config_ struct gantry_oci_config *c = new_config(&p, o, err);
    if (!c)
        return -1;
    if (import_blobs(s, fd, name, c, &p, o, created, err) < 0)
        return gantry_error_prefix(err, "import '%s'", ref);
    snprintf(image_id, GANTRY_DIGEST_MAX, "%s", c->digest);
    return 0;
}
