/* Members shared by image manifests and image indexes. */
#include "oci_internal.h"

int oci_common_from_json(json_t *root, const struct oci_common *c, struct gantry_error **err)
{
    if (oci_get_string(root, "artifactType", false, c->artifact_type, err) < 0 ||
        oci_get_kv(root, "annotations", c->annotations, c->n_annotations, err) < 0)
        return -1;
    json_t *subject = oci_member(root, "subject");
    if (!subject)
        return 0;
    struct gantry_oci_descriptor *d = xcalloc(1, sizeof(*d));
    if (oci_descriptor_from_json(subject, d, err) < 0) {
        free(d);
        return gantry_error_prefix(err, "subject");
    }
    *c->subject = d;
    return 0;
}

void oci_common_to_tree(struct oci_tree *t, json_t *root, const char *artifact_type,
                        const struct gantry_oci_descriptor *subject,
                        const struct gantry_oci_kv *annotations, size_t n_annotations)
{
    oci_set(t, root, "schemaVersion", json_integer(2));
    oci_set_string(t, root, "artifactType", artifact_type);
    if (subject)
        oci_set(t, root, "subject", oci_descriptor_to_tree(t, subject));
    else
        json_object_del(root, "subject");
    oci_set_kv(t, root, "annotations", annotations, n_annotations);
}

static int wrong_kind(enum gantry_oci_kind kind, const char *type, const char *want,
                      struct gantry_error **err)
{
    if (kind == GANTRY_OCI_KIND_INDEX)
        return gantry_error_set(err, GANTRY_E_PARSE, 0, "document is an image index, not %s", want);
    if (kind == GANTRY_OCI_KIND_MANIFEST)
        return gantry_error_set(err, GANTRY_E_PARSE, 0, "document is an image manifest, not %s",
                                want);
    if (type)
        return gantry_error_set(err, GANTRY_E_UNSUPPORTED, 0, "media type '%s' is not %s", type,
                                want);
    return gantry_error_set(err, GANTRY_E_PARSE, 0, "document is not %s", want);
}

json_t *oci_load_kind(const char *data, size_t len, const char *expected, enum gantry_oci_kind want,
                      const char **type, struct gantry_error **err)
{
    _cleanup_json_ json_t *root = oci_load(data, len, err);
    enum gantry_oci_kind kind = GANTRY_OCI_KIND_UNKNOWN;
    *type = NULL;
    if (!root || oci_classify(root, expected, &kind, type, err) < 0)
        return NULL;
    if (kind != want) {
        wrong_kind(kind, *type,
                   want == GANTRY_OCI_KIND_INDEX ? "an image index" : "an image manifest", err);
        return NULL;
    }
    return steal_pointer(&root);
}

int oci_render_tree(const struct oci_tree *t, const json_t *tree, const char *what,
                    struct gantry_buf *b, struct gantry_error **err)
{
    if (oci_tree_check(t, err) < 0 || oci_dump(tree, b, err) < 0)
        return gantry_error_prefix(err, "%s", what);
    return 0;
}

int oci_buf_append(struct gantry_buf *out, const struct gantry_buf *b, struct gantry_error **err)
{
    if (gantry_buf_add(out, b->data, b->len) < 0)
        return gantry_error_set(err, GANTRY_E_TOO_LARGE, 0, "JSON document larger than %zu bytes",
                                out->cap);
    return 0;
}
