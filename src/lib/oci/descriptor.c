/* Descriptors and platforms (image-spec descriptor.md, image-index.md). */
#include "oci_internal.h"

static const char *const known_members[] = {
    "mediaType", "digest", "size", "urls", "annotations", "platform", "artifactType", "data",
};

void gantry_oci_platform_free(struct gantry_oci_platform *p)
{
    if (!p)
        return;
    free(p->architecture);
    free(p->os);
    free(p->variant);
    free(p->os_version);
    oci_strv_free(p->os_features);
    oci_strv_free(p->features);
    free(p);
}

static void cleanup_platformp(struct gantry_oci_platform **p)
{
    gantry_oci_platform_free(*p);
}

struct gantry_oci_platform *gantry_oci_platform_dup(const struct gantry_oci_platform *p)
{
    if (!p)
        return NULL;
    struct gantry_oci_platform *r = xcalloc(1, sizeof(*r));
    r->architecture = xstrdup_or_null(p->architecture);
    r->os = xstrdup_or_null(p->os);
    r->variant = xstrdup_or_null(p->variant);
    r->os_version = xstrdup_or_null(p->os_version);
    r->os_features = oci_strv_dup(p->os_features, p->n_os_features);
    r->n_os_features = r->os_features ? p->n_os_features : 0;
    r->features = oci_strv_dup(p->features, p->n_features);
    r->n_features = r->features ? p->n_features : 0;
    return r;
}

static int platform_from_json(json_t *v, struct gantry_oci_platform **out,
                              struct gantry_error **err)
{
    if (!json_is_object(v))
        return gantry_error_set(err, GANTRY_E_PARSE, 0, "'platform' must be an object");
    __attribute__((cleanup(cleanup_platformp))) struct gantry_oci_platform *p =
        xcalloc(1, sizeof(*p));
    if (oci_get_string(v, "architecture", true, &p->architecture, err) < 0 ||
        oci_get_string(v, "os", true, &p->os, err) < 0 ||
        oci_get_string(v, "variant", false, &p->variant, err) < 0 ||
        oci_get_string(v, "os.version", false, &p->os_version, err) < 0 ||
        oci_get_strv(v, "os.features", &p->os_features, &p->n_os_features, err) < 0 ||
        oci_get_strv(v, "features", &p->features, &p->n_features, err) < 0)
        return gantry_error_prefix(err, "platform");
    *out = steal_pointer(&p);
    return 0;
}

static json_t *platform_to_tree(struct oci_tree *t, const struct gantry_oci_platform *p)
{
    json_t *o = json_object();
    oci_set_string(t, o, "architecture", p->architecture);
    oci_set_string(t, o, "os", p->os);
    oci_set_string(t, o, "variant", p->variant);
    oci_set_string(t, o, "os.version", p->os_version);
    oci_set_strv(t, o, "os.features", p->n_os_features ? p->os_features : NULL, p->n_os_features);
    oci_set_strv(t, o, "features", p->n_features ? p->features : NULL, p->n_features);
    return o;
}

void gantry_oci_descriptor_init(struct gantry_oci_descriptor *d, const char *media_type,
                                const char *digest, int64_t size)
{
    d->media_type = xstrdup_or_null(media_type);
    d->digest = xstrdup_or_null(digest);
    d->size = size;
}

void gantry_oci_descriptor_release(struct gantry_oci_descriptor *d)
{
    if (!d)
        return;
    free(d->media_type);
    free(d->digest);
    oci_strv_free(d->urls);
    oci_kv_free(d->annotations, d->n_annotations);
    gantry_oci_platform_free(d->platform);
    free(d->artifact_type);
    free(d->data);
    json_decref(d->extra);
    memset(d, 0, sizeof(*d));
}

static void cleanup_descp(struct gantry_oci_descriptor *d)
{
    gantry_oci_descriptor_release(d);
}
#define _cleanup_desc_ __attribute__((cleanup(cleanup_descp)))

void gantry_oci_descriptor_copy(struct gantry_oci_descriptor *dst,
                                const struct gantry_oci_descriptor *src)
{
    memset(dst, 0, sizeof(*dst));
    gantry_oci_descriptor_init(dst, src->media_type, src->digest, src->size);
    dst->urls = oci_strv_dup(src->urls, src->n_urls);
    dst->n_urls = dst->urls ? src->n_urls : 0;
    dst->annotations = oci_kv_dup(src->annotations, src->n_annotations);
    dst->n_annotations = dst->annotations ? src->n_annotations : 0;
    dst->platform = gantry_oci_platform_dup(src->platform);
    dst->artifact_type = xstrdup_or_null(src->artifact_type);
    dst->data = xstrdup_or_null(src->data);
    dst->extra = src->extra ? json_deep_copy(src->extra) : NULL;
}

static int size_from_json(json_t *obj, int64_t *out, struct gantry_error **err)
{
    json_t *v = json_object_get(obj, "size");
    if (!v)
        return gantry_error_set(err, GANTRY_E_PARSE, 0, "missing 'size'");
    if (!json_is_integer(v))
        return gantry_error_set(err, GANTRY_E_PARSE, 0, "'size' must be an integer");
    json_int_t s = json_integer_value(v);
    if (s < 0)
        return gantry_error_set(err, GANTRY_E_PARSE, 0, "'size' must not be negative: %lld",
                                (long long)s);
    if (s > GANTRY_OCI_SIZE_MAX)
        return gantry_error_set(err, GANTRY_E_PARSE, 0, "'size' %lld is above 2^53", (long long)s);
    *out = (int64_t)s;
    return 0;
}

static json_t *unknown_members(json_t *obj)
{
    json_t *extra = NULL;
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v)
    {
        bool known = false;
        for (size_t i = 0; i < ARRAY_SIZE(known_members) && !known; i++)
            known = strcmp(k, known_members[i]) == 0;
        if (known)
            continue;
        if (!extra)
            extra = json_object();
        json_object_set_new(extra, k, json_deep_copy(v));
    }
    return extra;
}

static int digest_from_json(json_t *obj, char **out, struct gantry_error **err)
{
    if (oci_get_string(obj, "digest", true, out, err) < 0)
        return -1;
    if (gantry_digest_validate(*out, strlen(*out), NULL, err) < 0)
        return oci_recode(err, GANTRY_E_PARSE);
    return 0;
}

int oci_descriptor_from_json(json_t *obj, struct gantry_oci_descriptor *out,
                             struct gantry_error **err)
{
    memset(out, 0, sizeof(*out));
    if (!json_is_object(obj))
        return gantry_error_set(err, GANTRY_E_PARSE, 0, "descriptor must be an object");
    _cleanup_desc_ struct gantry_oci_descriptor d = GANTRY_OCI_DESCRIPTOR_INIT;
    json_t *platform = oci_member(obj, "platform");
    if (oci_get_string(obj, "mediaType", true, &d.media_type, err) < 0 ||
        digest_from_json(obj, &d.digest, err) < 0 || size_from_json(obj, &d.size, err) < 0 ||
        oci_get_strv(obj, "urls", &d.urls, &d.n_urls, err) < 0 ||
        oci_get_kv(obj, "annotations", &d.annotations, &d.n_annotations, err) < 0 ||
        (platform && platform_from_json(platform, &d.platform, err) < 0) ||
        oci_get_string(obj, "artifactType", false, &d.artifact_type, err) < 0 ||
        oci_get_string(obj, "data", false, &d.data, err) < 0)
        return -1;
    /* An empty media type could never be written back (descriptor.md: it
     * MUST be present, and a type names something). */
    if (!*d.media_type)
        return gantry_error_set(err, GANTRY_E_PARSE, 0, "descriptor has an empty 'mediaType'");
    d.extra = unknown_members(obj);
    *out = d;
    memset(&d, 0, sizeof(d));
    return 0;
}

void oci_descriptors_free(struct gantry_oci_descriptor *d, size_t n)
{
    for (size_t i = 0; d && i < n; i++)
        gantry_oci_descriptor_release(&d[i]);
    free(d);
}

int oci_descriptors_from_json(json_t *arr, const char *key, struct gantry_oci_descriptor **out,
                              size_t *n, struct gantry_error **err)
{
    *out = NULL;
    *n = 0;
    if (!json_is_array(arr))
        return gantry_error_set(err, GANTRY_E_PARSE, 0, "'%s' must be an array", key);
    size_t count = json_array_size(arr);
    struct gantry_oci_descriptor *v = xcalloc(count, sizeof(*v));
    for (size_t i = 0; i < count; i++) {
        if (oci_descriptor_from_json(json_array_get(arr, i), &v[i], err) < 0) {
            oci_descriptors_free(v, i);
            return gantry_error_prefix(err, "%s[%zu]", key, i);
        }
    }
    *out = v;
    *n = count;
    return 0;
}

json_t *oci_descriptor_to_tree(struct oci_tree *t, const struct gantry_oci_descriptor *d)
{
    json_t *o = d->extra ? json_deep_copy(d->extra) : json_object();
    oci_set_string(t, o, "mediaType", d->media_type);
    oci_set_string(t, o, "digest", d->digest);
    oci_set(t, o, "size", json_integer(d->size));
    oci_set_strv(t, o, "urls", d->n_urls ? d->urls : NULL, d->n_urls);
    oci_set_kv(t, o, "annotations", d->annotations, d->n_annotations);
    if (d->platform)
        oci_set(t, o, "platform", platform_to_tree(t, d->platform));
    else
        json_object_del(o, "platform");
    oci_set_string(t, o, "artifactType", d->artifact_type);
    oci_set_string(t, o, "data", d->data);
    return o;
}

json_t *oci_descriptors_to_tree(struct oci_tree *t, const struct gantry_oci_descriptor *d, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, oci_descriptor_to_tree(t, &d[i]));
    return arr;
}

void oci_descriptor_push(struct gantry_oci_descriptor **v, size_t *n,
                         const struct gantry_oci_descriptor *d)
{
    *v = xrealloc(*v, (*n + 1) * sizeof(**v));
    gantry_oci_descriptor_copy(&(*v)[*n], d);
    (*n)++;
}

int gantry_oci_descriptor_validate(const struct gantry_oci_descriptor *d, struct gantry_error **err)
{
    if (!d->media_type || !*d->media_type)
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0, "descriptor has no media type");
    if (!d->digest)
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0, "descriptor has no digest");
    if (gantry_digest_validate(d->digest, strlen(d->digest), NULL, err) < 0)
        return -1;
    if (d->size < 0 || d->size > GANTRY_OCI_SIZE_MAX)
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0,
                                "descriptor size %lld is out of range 0..2^53", (long long)d->size);
    if (d->platform && (!d->platform->os || !d->platform->architecture))
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0,
                                "descriptor platform needs os and architecture");
    return 0;
}

int gantry_oci_descriptor_parse(const char *data, size_t len, struct gantry_oci_descriptor *out,
                                struct gantry_error **err)
{
    memset(out, 0, sizeof(*out));
    _cleanup_json_ json_t *root = oci_load(data, len, err);
    if (!root || oci_descriptor_from_json(root, out, err) < 0)
        return gantry_error_prefix(err, "invalid descriptor");
    return 0;
}

int gantry_oci_descriptor_to_json(const struct gantry_oci_descriptor *d, struct gantry_buf *out,
                                  struct gantry_error **err)
{
    if (gantry_oci_descriptor_validate(d, err) < 0)
        return -1;
    struct oci_tree t = {0};
    _cleanup_json_ json_t *tree = oci_descriptor_to_tree(&t, d);
    if (oci_tree_check(&t, err) < 0)
        return gantry_error_prefix(err, "descriptor");
    return oci_dump(tree, out, err);
}

const char *gantry_oci_descriptor_annotation(const struct gantry_oci_descriptor *d, const char *key)
{
    for (size_t i = 0; i < d->n_annotations; i++)
        if (strcmp(d->annotations[i].key, key) == 0)
            return d->annotations[i].value;
    return NULL;
}

static void annotation_remove(struct gantry_oci_descriptor *d, size_t i)
{
    free(d->annotations[i].key);
    free(d->annotations[i].value);
    memmove(&d->annotations[i], &d->annotations[i + 1],
            (d->n_annotations - i - 1) * sizeof(d->annotations[0]));
    d->n_annotations--;
}

void gantry_oci_descriptor_set_annotation(struct gantry_oci_descriptor *d, const char *key,
                                          const char *value)
{
    for (size_t i = 0; i < d->n_annotations; i++) {
        if (strcmp(d->annotations[i].key, key) != 0)
            continue;
        if (!value) {
            annotation_remove(d, i);
            return;
        }
        free(d->annotations[i].value);
        d->annotations[i].value = xstrdup(value);
        return;
    }
    if (!value)
        return;
    d->annotations = xrealloc(d->annotations, (d->n_annotations + 1) * sizeof(*d->annotations));
    d->annotations[d->n_annotations].key = xstrdup(key);
    d->annotations[d->n_annotations].value = xstrdup(value);
    d->n_annotations++;
}

bool gantry_oci_descriptor_is_attestation(const struct gantry_oci_descriptor *d)
{
    const char *v = gantry_oci_descriptor_annotation(d, GANTRY_OCI_ANNOTATION_REFERENCE_TYPE);
    return v && strcmp(v, "attestation-manifest") == 0;
}
