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

int oci_wrong_kind(enum gantry_oci_kind kind, const char *type, const char *want,
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

int oci_buf_append(struct gantry_buf *out, const struct gantry_buf *b, struct gantry_error **err)
{
    if (gantry_buf_add(out, b->data, b->len) < 0)
        return gantry_error_set(err, GANTRY_E_TOO_LARGE, 0, "JSON document larger than %zu bytes",
                                out->cap);
    return 0;
}
