/* Image indexes (image-spec image-index.md, Docker manifest lists). */
#include "oci_internal.h"

void gantry_oci_index_free(struct gantry_oci_index *idx)
{
    if (!idx)
        return;
    free(idx->media_type);
    free(idx->artifact_type);
    oci_descriptors_free(idx->manifests, idx->n_manifests);
    gantry_oci_descriptor_release(idx->subject);
    free(idx->subject);
    oci_kv_free(idx->annotations, idx->n_annotations);
    free(idx->raw);
    json_decref(idx->json);
    free(idx);
}

static void cleanup_indexp(struct gantry_oci_index **idx)
{
    gantry_oci_index_free(*idx);
}
#define _cleanup_index_ __attribute__((cleanup(cleanup_indexp)))

static int index_fields(json_t *root, const char *type, struct gantry_oci_index *idx,
                        struct gantry_error **err)
{
    idx->media_type = oci_mt_dup(type ? type : GANTRY_MT_OCI_INDEX);
    if (oci_check_schema_version(root, err) < 0)
        return -1;
    json_t *manifests = oci_member(root, "manifests");
    if (!manifests)
        return gantry_error_set(err, GANTRY_E_PARSE, 0, "missing 'manifests'");
    /* Entries of unknown media types are valid (image-index.md, M10). */
    if (oci_descriptors_from_json(manifests, "manifests", &idx->manifests, &idx->n_manifests, err) <
        0)
        return -1;
    struct oci_common c = {&idx->artifact_type, &idx->subject, &idx->annotations,
                           &idx->n_annotations};
    return oci_common_from_json(root, &c, err);
}

struct gantry_oci_index *gantry_oci_index_parse(const char *data, size_t len,
                                                const char *expected_type,
                                                struct gantry_error **err)
{
    const char *type;
    _cleanup_json_ json_t *root =
        oci_load_kind(data, len, expected_type, GANTRY_OCI_KIND_INDEX, &type, err);
    _cleanup_index_ struct gantry_oci_index *idx = xcalloc(1, sizeof(*idx));
    if (!root || index_fields(root, type, idx, err) < 0) {
        gantry_error_prefix(err, "invalid index");
        return NULL;
    }
    oci_keep_raw(data, len, &idx->raw, &idx->raw_len, idx->digest);
    idx->json = steal_pointer(&root);
    return steal_pointer(&idx);
}

struct gantry_oci_index *gantry_oci_index_new(const char *media_type)
{
    struct gantry_oci_index *idx = xcalloc(1, sizeof(*idx));
    idx->media_type = oci_mt_dup(media_type ? media_type : GANTRY_MT_OCI_INDEX);
    idx->manifests = xcalloc(1, sizeof(*idx->manifests));
    idx->raw = xstrdup("");
    return idx;
}

void gantry_oci_index_add(struct gantry_oci_index *idx, const struct gantry_oci_descriptor *d)
{
    oci_descriptor_push(&idx->manifests, &idx->n_manifests, d);
}

void gantry_oci_index_remove(struct gantry_oci_index *idx, size_t i)
{
    if (i >= idx->n_manifests)
        return;
    gantry_oci_descriptor_release(&idx->manifests[i]);
    memmove(&idx->manifests[i], &idx->manifests[i + 1],
            (idx->n_manifests - i - 1) * sizeof(idx->manifests[0]));
    idx->n_manifests--;
}

static json_t *index_tree(struct oci_tree *t, const struct gantry_oci_index *idx)
{
    json_t *o = idx->json ? json_deep_copy(idx->json) : json_object();
    oci_set_string(t, o, "mediaType", idx->media_type);
    oci_set(t, o, "manifests", oci_descriptors_to_tree(t, idx->manifests, idx->n_manifests));
    oci_common_to_tree(t, o, idx->artifact_type, idx->subject, idx->annotations,
                       idx->n_annotations);
    return o;
}

/* Canonical bytes of idx's fields into b, checked by parsing them back. */
static struct gantry_oci_index *index_render(const struct gantry_oci_index *idx,
                                             struct gantry_buf *b, struct gantry_error **err)
{
    struct oci_tree t = {0};
    _cleanup_json_ json_t *tree = index_tree(&t, idx);
    if (oci_render_tree(&t, tree, "index", b, err) < 0)
        return NULL;
    struct gantry_oci_index *r = gantry_oci_index_parse(b->data, b->len, NULL, err);
    if (!r)
        oci_recode(err, GANTRY_E_INVALID_ARG);
    return r;
}

int gantry_oci_index_to_json(const struct gantry_oci_index *idx, struct gantry_buf *out,
                             struct gantry_error **err)
{
    _cleanup_buf_ struct gantry_buf b = GANTRY_BUF_INIT_CAP(GANTRY_MANIFEST_MAX);
    _cleanup_index_ struct gantry_oci_index *r = index_render(idx, &b, err);
    if (!r)
        return -1;
    return oci_buf_append(out, &b, err);
}

int gantry_oci_index_serialize(struct gantry_oci_index *idx, struct gantry_error **err)
{
    _cleanup_buf_ struct gantry_buf b = GANTRY_BUF_INIT_CAP(GANTRY_MANIFEST_MAX);
    _cleanup_index_ struct gantry_oci_index *r = index_render(idx, &b, err);
    if (!r)
        return -1;
    struct gantry_oci_index old = *idx;
    *idx = *r;
    *r = old;
    return 0;
}

struct gantry_oci_index *gantry_oci_index_build(const char *media_type,
                                                const struct gantry_oci_descriptor *manifests,
                                                size_t n_manifests, struct gantry_error **err)
{
    _cleanup_index_ struct gantry_oci_index *idx = gantry_oci_index_new(media_type);
    for (size_t i = 0; i < n_manifests; i++)
        gantry_oci_index_add(idx, &manifests[i]);
    if (gantry_oci_index_serialize(idx, err) < 0)
        return NULL;
    return steal_pointer(&idx);
}

struct json_t *gantry_oci_index_json(const struct gantry_oci_index *idx)
{
    return idx->json;
}
