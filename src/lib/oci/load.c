/*
 * Loading and classifying documents. The input rules follow image-spec
 * considerations.md (I-JSON: UTF-8, no duplicate names) and the hardening
 * every registry client needs: a size cap, no BOM, no trailing bytes, the
 * declared media type must match the body (M1), and a document may not be
 * both an index and a manifest (CVE-2021-41190).
 */
#include "oci_internal.h"

int oci_recode(struct gantry_error **err, enum gantry_error_code code)
{
    if (err && *err)
        (*err)->code = code;
    return -1;
}

json_t *oci_load_value(const char *data, size_t len, struct gantry_error **err)
{
    if (len > GANTRY_MANIFEST_MAX) {
        gantry_error_set(err, GANTRY_E_TOO_LARGE, 0, "document too large: %zu bytes, limit %u", len,
                         GANTRY_MANIFEST_MAX);
        return NULL;
    }
    if (!data)
        data = "";
    if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0) {
        gantry_error_set(err, GANTRY_E_PARSE, 0, "byte order mark not allowed in JSON");
        return NULL;
    }
    json_error_t jerr;
    json_t *root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        gantry_error_set(err, GANTRY_E_PARSE, 0, "invalid JSON at line %d, column %d: %s",
                         jerr.line, jerr.column, jerr.text);
        return NULL;
    }
    return root;
}

json_t *oci_load(const char *data, size_t len, struct gantry_error **err)
{
    json_t *root = oci_load_value(data, len, err);
    if (root && !json_is_object(root)) {
        json_decref(root);
        gantry_error_set(err, GANTRY_E_PARSE, 0, "JSON document is not an object");
        return NULL;
    }
    return root;
}

static int refuse_schema1(const char *type, struct gantry_error **err)
{
    return gantry_error_set(err, GANTRY_E_UNSUPPORTED, 0,
                            "unsupported manifest type '%s': docker schema 1 is deprecated, "
                            "the image must be pushed again as schema 2 or OCI",
                            type ? type : GANTRY_MT_DOCKER_SCHEMA1);
}

/*
 * No declared type: infer from the members. An image config also has a
 * "config" member (not a descriptor), so only layers or a config with a
 * digest make a manifest.
 */
static int infer_kind(json_t *root, bool has_m, enum gantry_oci_kind *kind,
                      struct gantry_error **err)
{
    json_t *sv = json_object_get(root, "schemaVersion");
    if (json_is_integer(sv) && json_integer_value(sv) == 1)
        return refuse_schema1(NULL, err);
    json_t *config = oci_member(root, "config");
    if (has_m)
        *kind = GANTRY_OCI_KIND_INDEX;
    else if (oci_member(root, "layers") || (config && json_object_get(config, "digest")))
        *kind = GANTRY_OCI_KIND_MANIFEST;
    else
        *kind = GANTRY_OCI_KIND_UNKNOWN;
    return 0;
}

static int kind_of_type(const char *type, bool has_m, bool has_lc, enum gantry_oci_kind *kind,
                        struct gantry_error **err)
{
    if (gantry_oci_is_schema1_type(type))
        return refuse_schema1(type, err);
    if (gantry_oci_is_index_type(type)) {
        if (has_lc)
            return gantry_error_set(err, GANTRY_E_PARSE, 0,
                                    "index of type '%s' has 'layers' or 'config'", type);
        *kind = GANTRY_OCI_KIND_INDEX;
    } else if (gantry_oci_is_manifest_type(type)) {
        if (has_m)
            return gantry_error_set(err, GANTRY_E_PARSE, 0, "manifest of type '%s' has 'manifests'",
                                    type);
        *kind = GANTRY_OCI_KIND_MANIFEST;
    } else {
        *kind = GANTRY_OCI_KIND_UNKNOWN;
    }
    return 0;
}

int oci_classify(json_t *root, const char *expected, enum gantry_oci_kind *kind, const char **type,
                 struct gantry_error **err)
{
    *type = NULL;
    json_t *mtv = oci_member(root, "mediaType");
    if (mtv && !json_is_string(mtv))
        return gantry_error_set(err, GANTRY_E_PARSE, 0, "'mediaType' must be a string");
    const char *body = mtv ? json_string_value(mtv) : NULL;
    if (expected && strspn(expected, " \t") == strlen(expected))
        expected = NULL;
    if (body && expected && !gantry_oci_media_type_equal(body, expected))
        return gantry_error_set(err, GANTRY_E_PARSE, 0,
                                "media type mismatch: document says '%s', expected '%s'", body,
                                expected);
    bool has_m = oci_member(root, "manifests") != NULL;
    bool has_l = oci_member(root, "layers") != NULL;
    bool has_c = oci_member(root, "config") != NULL;
    if (has_m && (has_l || has_c))
        return gantry_error_set(err, GANTRY_E_PARSE, 0,
                                "ambiguous document: it has both 'manifests' and '%s'",
                                has_l ? "layers" : "config");
    *type = body ? body : expected;
    if (!*type)
        return infer_kind(root, has_m, kind, err);
    return kind_of_type(*type, has_m, has_l || has_c, kind, err);
}

int gantry_oci_detect(const char *data, size_t len, const char *expected_type,
                      enum gantry_oci_kind *kind, struct gantry_error **err)
{
    _cleanup_json_ json_t *root = oci_load(data, len, err);
    if (!root)
        return -1;
    const char *type;
    return oci_classify(root, expected_type, kind, &type, err);
}

int oci_check_schema_version(json_t *root, struct gantry_error **err)
{
    json_t *v = json_object_get(root, "schemaVersion");
    if (!v)
        return gantry_error_set(err, GANTRY_E_PARSE, 0, "missing 'schemaVersion'");
    if (!json_is_integer(v))
        return gantry_error_set(err, GANTRY_E_PARSE, 0, "'schemaVersion' must be the integer 2");
    if (json_integer_value(v) != 2)
        return gantry_error_set(err, GANTRY_E_PARSE, 0, "unsupported 'schemaVersion' %lld, want 2",
                                (long long)json_integer_value(v));
    return 0;
}

static int dump_cb(const char *buf, size_t size, void *data)
{
    return gantry_buf_add(data, buf, size) < 0 ? -1 : 0;
}

int oci_dump(const json_t *root, struct gantry_buf *out, struct gantry_error **err)
{
    return oci_dump_flags(root, JSON_SORT_KEYS, out, err);
}

int oci_dump_flags(const json_t *root, size_t flags, struct gantry_buf *out,
                   struct gantry_error **err)
{
    size_t old = out->len;
    if (json_dump_callback(root, dump_cb, out, JSON_COMPACT | flags) < 0) {
        out->len = old;
        out->data[old] = '\0';
        return gantry_error_set(err, GANTRY_E_TOO_LARGE, 0, "JSON document larger than %zu bytes",
                                out->cap);
    }
    return 0;
}

void oci_keep_raw(const char *data, size_t len, char **raw, size_t *raw_len,
                  char digest[GANTRY_DIGEST_MAX])
{
    char *r = xmalloc(len + 1);
    if (len)
        memcpy(r, data, len);
    r[len] = '\0';
    *raw = r;
    *raw_len = len;
    gantry_digest_bytes(GANTRY_DIGEST_SHA256, r, len, digest);
}

int gantry_oci_layout_check(const char *data, size_t len, struct gantry_error **err)
{
    _cleanup_json_ json_t *root = oci_load(data, len, err);
    if (!root)
        return gantry_error_prefix(err, "invalid oci-layout");
    json_t *v = json_object_get(root, "imageLayoutVersion");
    if (!v)
        return gantry_error_set(err, GANTRY_E_PARSE, 0,
                                "invalid oci-layout: missing 'imageLayoutVersion'");
    if (!json_is_string(v))
        return gantry_error_set(err, GANTRY_E_PARSE, 0,
                                "invalid oci-layout: 'imageLayoutVersion' must be a string");
    if (!str_has_prefix(json_string_value(v), "1."))
        return gantry_error_set(err, GANTRY_E_UNSUPPORTED, 0,
                                "unsupported image layout version '%s'", json_string_value(v));
    return 0;
}
