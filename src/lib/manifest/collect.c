/* The entries a local image contributes to a list (create, add). */
#include <gantry/image.h>

#include "manifest_internal.h"

/* Nested indexes are flattened this deep at most. */
#define NESTING_MAX 4

int manifest_no_such_image(const char *ref, struct gantry_error **err)
{
    return gantry_error_set(err, GANTRY_E_NOT_FOUND, 0, "no such image: '%s'", ref);
}

int manifest_resolve(struct gantry_store *s, const char *ref, struct gantry_oci_descriptor *out,
                     char **name_out, struct gantry_error **err)
{
    struct gantry_error *e = NULL;
    if (gantry_image_resolve(s, ref, out, name_out, &e) == 0)
        return 0;
    if (e && e->code == GANTRY_E_NOT_FOUND) {
        gantry_error_free(e);
        return manifest_no_such_image(ref, err);
    }
    if (err)
        *err = e;
    else
        gantry_error_free(e);
    return -1;
}

static int read_doc(struct gantry_store *s, const char *digest, struct gantry_buf *b,
                    struct gantry_error **err)
{
    if (gantry_store_read_blob(s, digest, b, err) < 0)
        return gantry_error_prefix(err, "read '%s'", digest);
    return 0;
}

struct gantry_oci_manifest *manifest_load_manifest(struct gantry_store *s,
                                                   const struct gantry_oci_descriptor *d,
                                                   struct gantry_error **err)
{
    _cleanup_buf_ struct gantry_buf b = GANTRY_BUF_INIT_CAP(GANTRY_MANIFEST_MAX);
    if (read_doc(s, d->digest, &b, err) < 0)
        return NULL;
    struct gantry_oci_manifest *m = gantry_oci_manifest_parse(b.data, b.len, d->media_type, err);
    if (!m)
        gantry_error_prefix(err, "manifest '%s'", d->digest);
    return m;
}

struct gantry_oci_index *manifest_load_index(struct gantry_store *s,
                                             const struct gantry_oci_descriptor *d,
                                             struct gantry_error **err)
{
    _cleanup_buf_ struct gantry_buf b = GANTRY_BUF_INIT_CAP(GANTRY_MANIFEST_MAX);
    if (read_doc(s, d->digest, &b, err) < 0)
        return NULL;
    struct gantry_oci_index *idx = gantry_oci_index_parse(b.data, b.len, d->media_type, err);
    if (!idx)
        gantry_error_prefix(err, "index '%s'", d->digest);
    return idx;
}

static struct gantry_oci_config *load_config(struct gantry_store *s, const char *digest,
                                             struct gantry_error **err)
{
    _cleanup_buf_ struct gantry_buf b = GANTRY_BUF_INIT_CAP(GANTRY_MANIFEST_MAX);
    if (read_doc(s, digest, &b, err) < 0)
        return NULL;
    struct gantry_oci_config *c = gantry_oci_config_parse(b.data, b.len, err);
    if (!c)
        gantry_error_prefix(err, "config '%s'", digest);
    return c;
}

/*
 * The platform a config states, spelled as it is (NULL when it names no
 * os or architecture: the entry then goes in without one, to annotate).
 */
static struct gantry_oci_platform *config_platform(const struct gantry_oci_config *c)
{
    if (!c->os || !*c->os || !c->architecture || !*c->architecture)
        return NULL;
    struct gantry_oci_platform p = {
        .os = c->os,
        .architecture = c->architecture,
        .variant = c->variant && *c->variant ? c->variant : NULL,
        .os_version = c->os_version && *c->os_version ? c->os_version : NULL,
        .os_features = c->n_os_features ? c->os_features : NULL,
        .n_os_features = c->n_os_features,
    };
    return gantry_oci_platform_dup(&p);
}

int manifest_config_platform(struct gantry_store *s, const struct gantry_oci_descriptor *d,
                             struct gantry_oci_platform **out, struct gantry_error **err)
{
    _cleanup_mmanifest_ struct gantry_oci_manifest *m = manifest_load_manifest(s, d, err);
    if (!m)
        return -1;
    _cleanup_mconfig_ struct gantry_oci_config *c = load_config(s, m->config.digest, err);
    if (!c)
        return -1;
    *out = config_platform(c);
    return 0;
}

struct collect {
    struct gantry_store *s;
    const char *ref; /* as the caller spelled it, for messages */
    const struct gantry_platform *want;
    struct manifest_entries *out;
};

/* A copy of an index entry for the list: without a store name. */
static void push_entry(struct collect *c, const struct gantry_oci_descriptor *d)
{
    manifest_entries_push(c->out, d);
    gantry_oci_descriptor_set_annotation(&c->out->items[c->out->n - 1],
                                         GANTRY_OCI_ANNOTATION_REF_NAME, NULL);
}

static int wrong_platform(struct collect *c, const struct gantry_oci_platform *have,
                          struct gantry_error **err)
{
    _cleanup_free_ char *want = gantry_platform_format(c->want);
    _cleanup_mplatform_ struct gantry_platform p = GANTRY_PLATFORM_INIT;
    if (have)
        manifest_platform_from_oci(have, &p);
    _cleanup_free_ char *got = have ? gantry_platform_format(&p) : xstrdup("unknown");
    return gantry_error_set(err, GANTRY_E_NOT_FOUND, 0, "image '%s' is %s, not %s", c->ref, got,
                            want);
}

/* A single-platform image: its manifest, with its config's platform. */
static int collect_manifest(struct collect *c, const struct gantry_oci_descriptor *top,
                            struct gantry_error **err)
{
    struct gantry_oci_descriptor d = GANTRY_OCI_DESCRIPTOR_INIT;
    gantry_oci_descriptor_init(&d, top->media_type, top->digest, top->size);
    if (manifest_config_platform(c->s, top, &d.platform, err) < 0) {
        gantry_oci_descriptor_release(&d);
        return -1;
    }
    if (c->want) {
        _cleanup_mplatform_ struct gantry_platform p = GANTRY_PLATFORM_INIT;
        if (d.platform)
            manifest_platform_from_oci(d.platform, &p);
        if (!d.platform || gantry_platform_match_rank(c->want, &p, true) < 0) {
            wrong_platform(c, d.platform, err);
            gantry_oci_descriptor_release(&d);
            return -1;
        }
    }
    manifest_entries_push(c->out, &d);
    gantry_oci_descriptor_release(&d);
    return 0;
}

/* An image entry of an index; its platform from the config when the entry has none. */
static int collect_image_entry(struct collect *c, const struct gantry_oci_descriptor *e,
                               struct gantry_error **err)
{
    push_entry(c, e);
    struct gantry_oci_descriptor *d = &c->out->items[c->out->n - 1];
    if (d->platform || !manifest_entry_is_image(d))
        return 0;
    if (!gantry_store_blob_exists(c->s, d->digest))
        return gantry_error_set(err, GANTRY_E_NOT_FOUND, 0,
                                "entry %s of '%s' has no platform and is not in the store",
                                d->digest, c->ref);
    return manifest_config_platform(c->s, d, &d->platform, err);
}

/* Every entry of an index, nested indexes flattened. */
static int collect_index(struct collect *c, const struct gantry_oci_descriptor *top, int depth,
                         struct gantry_error **err)
{
    _cleanup_mindex_ struct gantry_oci_index *idx = manifest_load_index(c->s, top, err);
    if (!idx)
        return -1;
    for (size_t i = 0; i < idx->n_manifests; i++) {
        const struct gantry_oci_descriptor *e = &idx->manifests[i];
        int rc = 0;
        if (gantry_oci_is_index_type(e->media_type) && depth >= NESTING_MAX)
            rc = gantry_error_set(err, GANTRY_E_UNSUPPORTED, 0,
                                  "'%s' nests indexes more than %d deep", c->ref, NESTING_MAX);
        else if (gantry_oci_is_index_type(e->media_type))
            rc = collect_index(c, e, depth + 1, err);
        else if (gantry_oci_is_manifest_type(e->media_type))
            rc = collect_image_entry(c, e, err);
        else
            gantry_log(GANTRY_LOG_DEBUG, "'%s': skipping entry %s of type %s", c->ref, e->digest,
                       e->media_type);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* The local entry of platform c->want in index top (exact), and its attestations. */
static int collect_one_platform(struct collect *c, const struct gantry_oci_descriptor *top,
                                struct gantry_error **err)
{
    _cleanup_mdesc_ struct gantry_oci_descriptor child = GANTRY_OCI_DESCRIPTOR_INIT;
    if (gantry_image_select_platform(c->s, top, c->want, true, &child, err) < 0)
        return -1;
    push_entry(c, &child);
    _cleanup_mindex_ struct gantry_oci_index *idx = manifest_load_index(c->s, top, err);
    if (!idx)
        return -1;
    for (size_t i = 0; i < idx->n_manifests; i++) {
        const struct gantry_oci_descriptor *e = &idx->manifests[i];
        const char *subject =
            gantry_oci_descriptor_annotation(e, GANTRY_OCI_ANNOTATION_REFERENCE_DIGEST);
        if (gantry_oci_descriptor_is_attestation(e) && subject &&
            strcmp(subject, child.digest) == 0)
            push_entry(c, e);
    }
    return 0;
}

int manifest_check_nestable(const struct gantry_oci_index *idx, const char *ref,
                            struct gantry_error **err)
{
    for (size_t i = 0; i < idx->n_manifests; i++) {
        const struct gantry_oci_descriptor *e = &idx->manifests[i];
        if (!gantry_oci_is_manifest_type(e->media_type))
            return gantry_error_set(err, GANTRY_E_UNSUPPORTED, 0,
                                    "'%s' cannot be kept nested: its entry %s is of type %s, "
                                    "only image manifests can be",
                                    ref, e->digest, e->media_type);
    }
    return 0;
}

/* The index itself as one entry: media type, digest and size, nothing of the store's. */
static int collect_nested(struct collect *c, const struct gantry_oci_descriptor *top,
                          struct gantry_error **err)
{
    _cleanup_mindex_ struct gantry_oci_index *idx = manifest_load_index(c->s, top, err);
    if (!idx || manifest_check_nestable(idx, c->ref, err) < 0)
        return -1;
    _cleanup_mdesc_ struct gantry_oci_descriptor d = GANTRY_OCI_DESCRIPTOR_INIT;
    gantry_oci_descriptor_init(&d, top->media_type, top->digest, top->size);
    manifest_entries_push(c->out, &d);
    return 0;
}

int manifest_collect(struct gantry_store *s, const char *ref, const struct manifest_pick *pick,
                     struct manifest_entries *out, struct gantry_error **err)
{
    _cleanup_mdesc_ struct gantry_oci_descriptor top = GANTRY_OCI_DESCRIPTOR_INIT;
    if (manifest_resolve(s, ref, &top, NULL, err) < 0)
        return -1;
    struct collect c = {.s = s, .ref = ref, .want = pick->want, .out = out};
    if (gantry_oci_is_manifest_type(top.media_type))
        return collect_manifest(&c, &top, err);
    if (!gantry_oci_is_index_type(top.media_type))
        return gantry_error_set(err, GANTRY_E_UNSUPPORTED, 0, "'%s' is not an image: media type %s",
                                ref, top.media_type);
    if (pick->no_flatten)
        return collect_nested(&c, &top, err);
    return c.want ? collect_one_platform(&c, &top, err) : collect_index(&c, &top, 0, err);
}

int manifest_local_image(struct gantry_store *s, const char *ref, struct gantry_error **err)
{
    _cleanup_mdesc_ struct gantry_oci_descriptor d = GANTRY_OCI_DESCRIPTOR_INIT;
    struct gantry_error *e = NULL;
    if (gantry_image_resolve(s, ref, &d, NULL, &e) == 0)
        return 1;
    if (e->code == GANTRY_E_NOT_FOUND) {
        gantry_error_free(e);
        return 0;
    }
    if (err)
        *err = e;
    else
        gantry_error_free(e);
    return -1;
}

int manifest_collect_any(struct gantry_store *s, struct gantry_registry_client *c, const char *ref,
                         const struct manifest_pick *pick, struct manifest_entries *out,
                         struct gantry_error **err)
{
    if (manifest_is_remote_spelling(ref, NULL)) {
        if (!c)
            return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0,
                                    "'%s': no registry client for a remote reference", ref);
        return manifest_collect_remote(s, c, ref, pick, out, err);
    }
    int local = c ? manifest_local_image(s, ref, err) : 1;
    if (local < 0)
        return -1;
    if (local)
        return manifest_collect(s, ref, pick, out, err);
    /* A bare name ("app:1") only defaults to docker.io: never go to the
     * network for it unless asked with docker://. */
    if (!gantry_ref_names_registry(ref))
        return gantry_error_set(err, GANTRY_E_NOT_FOUND, 0,
                                "no such image: '%s' (not in the store; write docker://%s to read "
                                "it from its registry)",
                                ref, ref);
    struct gantry_error *remote = NULL;
    if (manifest_collect_remote(s, c, ref, pick, out, &remote) == 0)
        return 0;
    if (remote->http_status == 0 && remote->code != GANTRY_E_NETWORK) {
        if (err)
            *err = remote;
        else
            gantry_error_free(remote);
        return -1;
    }
    /* Found nowhere: one message that says where it was looked for. */
    int rc = gantry_error_set(err, remote->code, remote->errno_value,
                              "no such image: '%s' (not in the store; registry: %s)", ref,
                              remote->message);
    gantry_error_free(remote);
    return rc;
}
