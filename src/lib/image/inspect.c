/*
 * `gantry inspect`: Docker's `docker image inspect` object, built by
 * image_inspect_build for both the local and the remote path
 * (inspect_remote.c). jansson is used here only to build that JSON (the one exception to "jansson
 * only in oci/", agreed for this module); documents are read through oci.
 */
#include <jansson.h>

#include <gantry/ref.h>

#include "inspect_internal.h"

/* Go's zero time, which docker prints for unknown times. */
#define GO_ZERO_TIME "0001-01-01T00:00:00Z"

static void cleanup_jsonp(json_t **j)
{
    json_decref(*j);
}
#define _cleanup_json_ __attribute__((cleanup(cleanup_jsonp)))

static json_t *jstr(const char *s)
{
    json_t *j = json_string(s ? s : "");
    return j ? j : json_string("");
}

static json_t *jstrv(char *const *v, size_t n)
{
    if (!v)
        return json_null();
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, jstr(v[i]));
    return a;
}

/* Like jstrv, but an empty array (never null) for no strings. */
static json_t *jarray(char *const *v, size_t n)
{
    return v ? jstrv(v, n) : json_array();
}

/* {"80/tcp": {}, ...} as docker writes ExposedPorts and Volumes; null when none. */
static json_t *jset(char *const *v, size_t n)
{
    if (!v || n == 0)
        return json_null();
    json_t *o = json_object();
    for (size_t i = 0; i < n; i++)
        json_object_set_new(o, v[i], json_object());
    return o;
}

static json_t *jlabels(const struct gantry_oci_kv *kv, size_t n)
{
    if (!kv || n == 0)
        return json_null();
    json_t *o = json_object();
    for (size_t i = 0; i < n; i++)
        json_object_set_new(o, kv[i].key, jstr(kv[i].value));
    return o;
}

/* A member of the config's "config" object as is, or null. */
static json_t *raw_member(const struct gantry_oci_config *c, const char *key)
{
    json_t *v = json_object_get(json_object_get(gantry_oci_config_json(c), "config"), key);
    return v ? json_incref(v) : json_null();
}

static void set_if(json_t *o, const char *key, json_t *v)
{
    if (json_is_null(v) || (json_is_string(v) && !*json_string_value(v)) || (json_is_false(v)))
        json_decref(v);
    else
        json_object_set_new(o, key, v);
}

/* Docker's HealthConfig, members in its order, zero ones left out; null when absent. */
static json_t *healthcheck(const struct gantry_oci_healthcheck *h)
{
    if (!h)
        return json_null();
    const struct {
        const char *key;
        int64_t v;
    } nums[] = {{"Interval", h->interval},
                {"Timeout", h->timeout},
                {"StartPeriod", h->start_period},
                {"StartInterval", h->start_interval},
                {"Retries", h->retries}};
    json_t *o = json_object();
    if (h->test)
        json_object_set_new(o, "Test", jstrv(h->test, h->n_test));
    for (size_t i = 0; i < ARRAY_SIZE(nums); i++)
        if (nums[i].v)
            json_object_set_new(o, nums[i].key, json_integer((json_int_t)nums[i].v));
    return o;
}

/* Docker's container.Config, members in its order; omitempty ones left out. */
static json_t *exec_config(const struct gantry_oci_config *c)
{
    const struct gantry_oci_exec_config *e = &c->config;
    json_t *o = json_object();
    json_object_set_new(o, "Hostname", jstr(""));
    json_object_set_new(o, "Domainname", jstr(""));
    json_object_set_new(o, "User", jstr(e->user));
    json_object_set_new(o, "AttachStdin", json_false());
    json_object_set_new(o, "AttachStdout", json_false());
    json_object_set_new(o, "AttachStderr", json_false());
    set_if(o, "ExposedPorts", jset(e->exposed_ports, e->n_exposed_ports));
    json_object_set_new(o, "Tty", json_false());
    json_object_set_new(o, "OpenStdin", json_false());
    json_object_set_new(o, "StdinOnce", json_false());
    json_object_set_new(o, "Env", jstrv(e->env, e->n_env));
    json_object_set_new(o, "Cmd", jstrv(e->cmd, e->n_cmd));
    set_if(o, "Healthcheck", healthcheck(e->healthcheck));
    set_if(o, "ArgsEscaped", raw_member(c, "ArgsEscaped"));
    json_object_set_new(o, "Image", jstr(""));
    json_object_set_new(o, "Volumes", jset(e->volumes, e->n_volumes));
    json_object_set_new(o, "WorkingDir", jstr(e->working_dir));
    json_object_set_new(o, "Entrypoint", jstrv(e->entrypoint, e->n_entrypoint));
    json_object_set_new(o, "OnBuild", jstrv(e->on_build, e->n_on_build));
    json_object_set_new(o, "Labels", jlabels(e->labels, e->n_labels));
    set_if(o, "StopSignal", jstr(e->stop_signal));
    set_if(o, "Shell", jstrv(e->shell, e->n_shell));
    return o;
}

/* Top-level "comment" (docker import -m), else the last history comment. */
static const char *comment_of(const struct gantry_oci_config *c)
{
    const char *top = json_string_value(json_object_get(gantry_oci_config_json(c), "comment"));
    if (top)
        return top;
    return c->n_history ? c->history[c->n_history - 1].comment : NULL;
}

static json_t *rootfs(const struct gantry_oci_config *c)
{
    json_t *o = json_object();
    const char *type = json_string_value(
        json_object_get(json_object_get(gantry_oci_config_json(c), "rootfs"), "type"));
    json_object_set_new(o, "Type", jstr(type ? type : "layers"));
    json_object_set_new(o, "Layers", jstrv(c->diff_ids, c->n_diff_ids));
    return o;
}

/* The manifest descriptor, without the store's own ref.name annotation. */
static json_t *descriptor_json(const struct gantry_oci_descriptor *desc, struct gantry_error **err)
{
    _cleanup_descriptor_ struct gantry_oci_descriptor d = GANTRY_OCI_DESCRIPTOR_INIT;
    gantry_oci_descriptor_copy(&d, desc);
    gantry_oci_descriptor_set_annotation(&d, GANTRY_OCI_ANNOTATION_REF_NAME, NULL);
    _cleanup_buf_ struct gantry_buf b = GANTRY_BUF_INIT_CAP(GANTRY_MANIFEST_MAX);
    if (gantry_oci_descriptor_to_json(&d, &b, err) < 0)
        return NULL;
    json_t *j = json_loadb(b.data, b.len, 0, NULL);
    if (!j)
        gantry_error_set(err, GANTRY_E_INTERNAL, 0, "descriptor '%s' does not reload", d.digest);
    return j;
}

/* "Manifests": one object per platform of an index. */
static json_t *manifests_json(const struct image_inspect_parts *p)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < p->n_entries; i++) {
        const struct image_inspect_entry *e = &p->entries[i];
        json_t *o = json_object();
        json_object_set_new(o, "Digest", jstr(e->desc->digest));
        json_object_set_new(o, "MediaType", jstr(e->desc->media_type));
        json_object_set_new(o, "Size", json_integer(e->desc->size));
        json_object_set_new(o, "Platform", jstr(e->platform));
        if (p->has_present)
            json_object_set_new(o, "Present", json_boolean(e->present));
        json_array_append_new(arr, o);
    }
    return arr;
}

json_t *image_inspect_build(const struct image_inspect_parts *p, struct gantry_error **err)
{
    const struct gantry_oci_config *c = p->config;
    _cleanup_json_ json_t *o = json_object();
    json_object_set_new(o, "Id", jstr(p->manifest->config.digest));
    json_object_set_new(o, "RepoTags", jarray(p->repo_tags, p->n_repo_tags));
    json_object_set_new(o, "RepoDigests", jarray(p->repo_digests, p->n_repo_digests));
    json_object_set_new(o, "Parent", jstr(""));
    json_object_set_new(o, "Comment", jstr(comment_of(c)));
    json_object_set_new(o, "Created", jstr(c->created ? c->created : GO_ZERO_TIME));
    json_object_set_new(
        o, "DockerVersion",
        jstr(json_string_value(json_object_get(gantry_oci_config_json(c), "docker_version"))));
    json_object_set_new(o, "Author", jstr(c->author));
    json_object_set_new(o, "Config", exec_config(c));
    json_object_set_new(o, "Architecture", jstr(c->architecture));
    set_if(o, "Variant", jstr(c->variant));
    json_object_set_new(o, "Os", jstr(c->os));
    set_if(o, "OsVersion", jstr(c->os_version));
    json_object_set_new(o, "Size", json_integer(p->size));
    json_object_set_new(o, "RootFS", rootfs(c));
    json_object_set_new(o, "Metadata", json_pack("{s:s}", "LastTagTime", GO_ZERO_TIME));
    json_t *desc = descriptor_json(p->child, err);
    if (!desc)
        return NULL;
    json_object_set_new(o, "Descriptor", desc);
    if (gantry_oci_is_index_type(p->top->media_type))
        json_object_set_new(o, "Manifests", manifests_json(p));
    return steal_pointer(&o);
}

void image_inspect_entries_free(struct image_inspect_entry *e, size_t n)
{
    for (size_t i = 0; e && i < n; i++)
        free(e[i].platform);
    free(e);
}

/* Add name's RepoTags and RepoDigests entries when it points at top_digest. */
static void repo_name(const struct gantry_store_ref *r, const char *top_digest, char ***tags,
                      size_t *n_tags, char ***digests, size_t *n_digests)
{
    _cleanup_ref_ struct gantry_ref ref = GANTRY_REF_INIT;
    if (strcmp(r->desc.digest, top_digest) != 0 ||
        gantry_ref_parse(r->name, strlen(r->name), &ref, NULL) < 0)
        return;
    free(steal_pointer(&ref.digest));
    if (ref.tag)
        image_strv_push(tags, n_tags, gantry_ref_familiar(&ref));
    free(steal_pointer(&ref.tag));
    _cleanup_free_ char *repo = gantry_ref_familiar(&ref);
    char *d = xasprintf("%s@%s", repo, top_digest);
    for (size_t k = 0; k < *n_digests; k++) {
        if (strcmp((*digests)[k], d) == 0) {
            free(d);
            return;
        }
    }
    image_strv_push(digests, n_digests, d);
}

/* Bytes of the layer blobs present in the store. */
static int64_t layers_size(struct gantry_store *s, const struct gantry_oci_manifest *m)
{
    int64_t total = 0;
    for (size_t i = 0; i < m->n_layers; i++) {
        int64_t size = 0;
        _cleanup_error_ struct gantry_error *ignored = NULL;
        if (gantry_store_blob_size(s, m->layers[i].digest, &size, &ignored) == 0)
            total += size;
    }
    return total;
}

/* The platform of an index child; false when it is skipped. */
static bool local_entry(struct gantry_store *s, const struct gantry_store_child *k,
                        struct image_inspect_entry *e)
{
    if (!gantry_oci_is_manifest_type(k->desc.media_type) ||
        gantry_oci_descriptor_is_attestation(&k->desc))
        return false;
    _cleanup_platform_ struct gantry_platform p = GANTRY_PLATFORM_INIT;
    _cleanup_error_ struct gantry_error *ignored = NULL;
    if (image_manifest_platform(s, &k->desc, true, &p, &ignored) < 0 ||
        gantry_platform_is_unknown(&p))
        return false;
    *e = (struct image_inspect_entry){
        .desc = &k->desc, .platform = gantry_platform_format(&p), .present = k->local};
    return true;
}

/* What only the store knows: names, present sizes, the index's children. */
struct local_parts {
    char **tags, **digests;
    size_t n_tags, n_digests;
    struct gantry_store_child *kids;
    size_t n_kids;
    struct image_inspect_entry *entries;
    size_t n_entries;
};

static void local_parts_release(struct local_parts *l)
{
    image_strv_free(l->tags);
    image_strv_free(l->digests);
    image_inspect_entries_free(l->entries, l->n_entries);
    gantry_store_children_free(l->kids, l->n_kids);
}

static int local_gather(struct gantry_store *s, const struct gantry_oci_descriptor *top,
                        struct local_parts *l, struct gantry_error **err)
{
    struct gantry_store_ref *refs = NULL;
    size_t n = 0;
    _cleanup_error_ struct gantry_error *ignored = NULL;
    if (gantry_store_ref_list(s, &refs, &n, &ignored) == 0) {
        for (size_t i = 0; i < n; i++)
            repo_name(&refs[i], top->digest, &l->tags, &l->n_tags, &l->digests, &l->n_digests);
        gantry_store_ref_list_free(refs, n);
    }
    if (!gantry_oci_is_index_type(top->media_type))
        return 0;
    if (gantry_store_image_children(s, top, &l->kids, &l->n_kids, err) < 0)
        return -1;
    l->entries = xcalloc(l->n_kids ? l->n_kids : 1, sizeof(*l->entries));
    for (size_t i = 0; i < l->n_kids; i++)
        if (local_entry(s, &l->kids[i], &l->entries[l->n_entries]))
            l->n_entries++;
    return 0;
}

struct json_t *gantry_image_inspect(struct gantry_store *s, const char *ref_string,
                                    const struct gantry_platform *want, struct gantry_error **err)
{
    _cleanup_descriptor_ struct gantry_oci_descriptor top = GANTRY_OCI_DESCRIPTOR_INIT;
    _cleanup_descriptor_ struct gantry_oci_descriptor child = GANTRY_OCI_DESCRIPTOR_INIT;
    if (gantry_image_resolve(s, ref_string, &top, NULL, err) < 0 ||
        gantry_image_select_platform(s, &top, want, false, &child, err) < 0)
        return NULL;
    _cleanup_manifest_ struct gantry_oci_manifest *m = image_load_manifest(s, &child, err);
    if (!m)
        return NULL;
    _cleanup_config_ struct gantry_oci_config *c = image_load_config(s, m->config.digest, err);
    if (!c)
        return NULL;
    __attribute__((cleanup(local_parts_release))) struct local_parts l = {0};
    if (local_gather(s, &top, &l, err) < 0)
        return NULL;
    struct image_inspect_parts parts = {.top = &top,
                                        .child = &child,
                                        .manifest = m,
                                        .config = c,
                                        .repo_tags = l.tags,
                                        .n_repo_tags = l.n_tags,
                                        .repo_digests = l.digests,
                                        .n_repo_digests = l.n_digests,
                                        .size = layers_size(s, m),
                                        .entries = l.entries,
                                        .n_entries = l.n_entries,
                                        .has_present = true};
    return image_inspect_build(&parts, err);
}
