/* Image manifests (image-spec manifest.md, Docker v2 schema 2). */
#include "oci_internal.h"

void gantry_oci_manifest_free(struct gantry_oci_manifest *m)
{
    if (!m)
        return;
    free(m->media_type);
    free(m->artifact_type);
    gantry_oci_descriptor_release(&m->config);
    oci_descriptors_free(m->layers, m->n_layers);
    gantry_oci_descriptor_release(m->subject);
    free(m->subject);
    oci_kv_free(m->annotations, m->n_annotations);
    free(m->raw);
    json_decref(m->json);
    free(m);
}

static void cleanup_manifestp(struct gantry_oci_manifest **m)
{
    gantry_oci_manifest_free(*m);
}
#define _cleanup_manifest_ __attribute__((cleanup(cleanup_manifestp)))

static int manifest_fields(json_t *root, const char *type, struct gantry_oci_manifest *m,
                           struct gantry_error **err)
{
    m->media_type = oci_mt_dup(type ? type : GANTRY_MT_OCI_MANIFEST);
    if (oci_check_schema_version(root, err) < 0)
        return -1;
    json_t *config = oci_member(root, "config");
    if (!config)
        return gantry_error_set(err, GANTRY_E_PARSE, 0, "missing 'config'");
    if (oci_descriptor_from_json(config, &m->config, err) < 0)
        return gantry_error_prefix(err, "config");
    json_t *layers = oci_member(root, "layers");
    if (!layers)
        return gantry_error_set(err, GANTRY_E_PARSE, 0, "missing 'layers'");
    if (oci_descriptors_from_json(layers, "layers", &m->layers, &m->n_layers, err) < 0)
        return -1;
    struct oci_common c = {&m->artifact_type, &m->subject, &m->annotations, &m->n_annotations};
    return oci_common_from_json(root, &c, err);
}

struct gantry_oci_manifest *gantry_oci_manifest_parse(const char *data, size_t len,
                                                      const char *expected_type,
                                                      struct gantry_error **err)
{
    const char *type;
    _cleanup_json_ json_t *root =
        oci_load_kind(data, len, expected_type, GANTRY_OCI_KIND_MANIFEST, &type, err);
    _cleanup_manifest_ struct gantry_oci_manifest *m = xcalloc(1, sizeof(*m));
    if (!root || manifest_fields(root, type, m, err) < 0) {
        gantry_error_prefix(err, "invalid manifest");
        return NULL;
    }
    oci_keep_raw(data, len, &m->raw, &m->raw_len, m->digest);
    m->json = steal_pointer(&root);
    return steal_pointer(&m);
}

struct gantry_oci_manifest *gantry_oci_manifest_new(const char *media_type)
{
    struct gantry_oci_manifest *m = xcalloc(1, sizeof(*m));
    m->media_type = oci_mt_dup(media_type ? media_type : GANTRY_MT_OCI_MANIFEST);
    m->raw = xstrdup("");
    return m;
}

void gantry_oci_manifest_add_layer(struct gantry_oci_manifest *m,
                                   const struct gantry_oci_descriptor *d)
{
    oci_descriptor_push(&m->layers, &m->n_layers, d);
}

static json_t *manifest_tree(struct oci_tree *t, const struct gantry_oci_manifest *m)
{
    json_t *o = m->json ? json_deep_copy(m->json) : json_object();
    oci_set_string(t, o, "mediaType", m->media_type);
    oci_set(t, o, "config", oci_descriptor_to_tree(t, &m->config));
    oci_set(t, o, "layers", oci_descriptors_to_tree(t, m->layers, m->n_layers));
    oci_common_to_tree(t, o, m->artifact_type, m->subject, m->annotations, m->n_annotations);
    return o;
}

/* Canonical bytes of m's fields into b, checked by parsing them back. */
static struct gantry_oci_manifest *manifest_render(const struct gantry_oci_manifest *m,
                                                   struct gantry_buf *b, struct gantry_error **err)
{
    struct oci_tree t = {0};
    _cleanup_json_ json_t *tree = manifest_tree(&t, m);
    if (oci_render_tree(&t, tree, "manifest", b, err) < 0)
        return NULL;
    struct gantry_oci_manifest *r = gantry_oci_manifest_parse(b->data, b->len, NULL, err);
    if (!r)
        oci_recode(err, GANTRY_E_INVALID_ARG);
    return r;
}

int gantry_oci_manifest_to_json(const struct gantry_oci_manifest *m, struct gantry_buf *out,
                                struct gantry_error **err)
{
    _cleanup_buf_ struct gantry_buf b = GANTRY_BUF_INIT_CAP(GANTRY_MANIFEST_MAX);
    _cleanup_manifest_ struct gantry_oci_manifest *r = manifest_render(m, &b, err);
    if (!r)
        return -1;
    return oci_buf_append(out, &b, err);
}

int gantry_oci_manifest_serialize(struct gantry_oci_manifest *m, struct gantry_error **err)
{
    _cleanup_buf_ struct gantry_buf b = GANTRY_BUF_INIT_CAP(GANTRY_MANIFEST_MAX);
    _cleanup_manifest_ struct gantry_oci_manifest *r = manifest_render(m, &b, err);
    if (!r)
        return -1;
    struct gantry_oci_manifest old = *m;
    *m = *r;
    *r = old;
    return 0;
}

struct gantry_oci_manifest *gantry_oci_manifest_build(const char *media_type,
                                                      const struct gantry_oci_descriptor *config,
                                                      const struct gantry_oci_descriptor *layers,
                                                      size_t n_layers, struct gantry_error **err)
{
    _cleanup_manifest_ struct gantry_oci_manifest *m = gantry_oci_manifest_new(media_type);
    gantry_oci_descriptor_copy(&m->config, config);
    for (size_t i = 0; i < n_layers; i++)
        gantry_oci_manifest_add_layer(m, &layers[i]);
    if (gantry_oci_manifest_serialize(m, err) < 0)
        return NULL;
    return steal_pointer(&m);
}

struct json_t *gantry_oci_manifest_json(const struct gantry_oci_manifest *m)
{
    return m->json;
}
