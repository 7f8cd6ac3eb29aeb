/*
 * Entries read from a registry (create, add with remote references): the
 * manifest or index, the child manifests and their configs go into the
 * store, the layers never do. Each entry remembers its repository so that
 * push can mount or copy its blobs later.
 */
#include "manifest_internal.h"

/* Nested remote indexes are flattened this deep at most. */
#define REMOTE_NESTING_MAX 4

bool manifest_is_remote_spelling(const char *ref, const char **rest)
{
    if (!str_has_prefix(ref, "docker://"))
        return false;
    if (rest)
        *rest = ref + strlen("docker://");
    return true;
}

void manifest_ref_by_digest(const struct gantry_ref *r, const char *d, struct gantry_ref *out)
{
    *out = (struct gantry_ref)GANTRY_REF_INIT;
    gantry_ref_copy(out, r);
    free(out->tag);
    free(out->digest);
    out->tag = NULL;
    out->digest = xstrdup(d);
}

int manifest_fetch_doc(struct gantry_store *s, struct gantry_registry_client *c,
                       const struct gantry_ref *r, struct gantry_registry_manifest *out,
                       struct gantry_error **err)
{
    if (gantry_registry_get_manifest(c, r, out, err) < 0)
        return -1;
    char got[GANTRY_DIGEST_MAX];
    if (!s)
        return 0;
    if (gantry_store_put_blob(s, out->data, out->len, got, err) < 0)
        return -1;
    if (strcmp(got, out->digest) != 0)
        return gantry_error_set(err, GANTRY_E_UNSUPPORTED, 0,
                                "manifest %s: only sha256 digests can be stored", out->digest);
    return 0;
}

static void cleanup_writerp(struct gantry_store_blob_writer **w)
{
    gantry_store_blob_writer_free(*w);
}

static int writer_sink(void *user, const void *data, size_t len, struct gantry_error **err)
{
    return gantry_store_blob_writer_write(user, data, len, err);
}

int manifest_fetch_blob(struct gantry_store *s, struct gantry_registry_client *c,
                        const struct gantry_ref *r, const char *digest, int64_t size,
                        struct gantry_error **err)
{
    if (gantry_store_blob_exists(s, digest))
        return 0;
    __attribute__((cleanup(cleanup_writerp))) struct gantry_store_blob_writer *w =
        gantry_store_blob_writer_new(s, digest, size, err);
    if (!w)
        return -1;
    struct gantry_registry_blob_get g = {
        .digest = digest, .size = size, .write = writer_sink, .user = w};
    if (gantry_registry_get_blob(c, r, &g, err) < 0 ||
        gantry_store_blob_writer_commit(w, NULL, err) < 0)
        return gantry_error_prefix(err, "fetch blob %s", digest);
    return 0;
}

struct remote {
    struct gantry_store *s;
    struct gantry_registry_client *c;
    struct gantry_ref ref;
    char *repo;       /* the full reference: the entries' source */
    const char *spec; /* as the caller spelled it, for messages */
    const struct gantry_platform *want;
    bool no_flatten;
    struct manifest_entries *out;
};

static void remote_release(struct remote *r)
{
    gantry_ref_release(&r->ref);
    free(r->repo);
}

static void cleanup_regmanp(struct gantry_registry_manifest *m)
{
    gantry_registry_manifest_release(m);
}
#define _cleanup_regman_ __attribute__((cleanup(cleanup_regmanp)))

/* Append d (a copy) with this remote's repository as its source. */
static void push_remote_entry(struct remote *r, const struct gantry_oci_descriptor *d)
{
    manifest_entries_push(r->out, d);
    r->out->sources[r->out->n - 1] = xstrdup(r->repo);
}

/* A fetched document into the store, under the digest the registry gave. */
static int store_doc(struct remote *r, const struct gantry_registry_manifest *doc,
                     struct gantry_error **err)
{
    char got[GANTRY_DIGEST_MAX];
    if (gantry_store_put_blob(r->s, doc->data, doc->len, got, err) < 0)
        return -1;
    if (strcmp(got, doc->digest) != 0)
        return gantry_error_set(err, GANTRY_E_UNSUPPORTED, 0,
                                "manifest %s: only sha256 digests can be stored", doc->digest);
    return 0;
}

/*
 * A child manifest and its config into the store; the entry's platform
 * from the config when e has none. *entry gets the descriptor. doc: the
 * manifest when already fetched (stored here), else NULL (fetched by digest).
 */
static int fetch_manifest_entry(struct remote *r, const struct gantry_oci_descriptor *e,
                                const struct gantry_registry_manifest *doc,
                                struct gantry_oci_descriptor *entry, struct gantry_error **err)
{
    _cleanup_ref_ struct gantry_ref byd = GANTRY_REF_INIT;
    manifest_ref_by_digest(&r->ref, e->digest, &byd);
    _cleanup_regman_ struct gantry_registry_manifest m = GANTRY_REGISTRY_MANIFEST_INIT;
    if (doc && store_doc(r, doc, err) < 0)
        return -1;
    if (!doc && manifest_fetch_doc(r->s, r->c, &byd, &m, err) < 0)
        return -1;
    doc = doc ? doc : &m;
    _cleanup_mmanifest_ struct gantry_oci_manifest *man =
        gantry_oci_manifest_parse(doc->data, doc->len, e->media_type, err);
    if (!man)
        return gantry_error_prefix(err, "manifest %s of '%s'", e->digest, r->spec);
    if (manifest_fetch_blob(r->s, r->c, &r->ref, man->config.digest, man->config.size, err) < 0)
        return -1;
    gantry_oci_descriptor_copy(entry, e);
    gantry_oci_descriptor_set_annotation(entry, GANTRY_OCI_ANNOTATION_REF_NAME, NULL);
    if (!entry->platform && manifest_entry_is_image(entry))
        return manifest_config_platform(r->s, entry, &entry->platform, err);
    return 0;
}

static int remote_entry(struct remote *r, const struct gantry_oci_descriptor *e,
                        struct gantry_error **err)
{
    _cleanup_mdesc_ struct gantry_oci_descriptor d = GANTRY_OCI_DESCRIPTOR_INIT;
    if (fetch_manifest_entry(r, e, NULL, &d, err) < 0)
        return -1;
    push_remote_entry(r, &d);
    return 0;
}

static int remote_index(struct remote *r, const struct gantry_registry_manifest *top, int depth,
                        struct gantry_error **err);

/* A nested index, fetched by digest. */
static int remote_nested(struct remote *r, const struct gantry_oci_descriptor *e, int depth,
                         struct gantry_error **err)
{
    if (depth >= REMOTE_NESTING_MAX)
        return gantry_error_set(err, GANTRY_E_UNSUPPORTED, 0,
                                "'%s' nests indexes more than %d deep", r->spec,
                                REMOTE_NESTING_MAX);
    _cleanup_ref_ struct gantry_ref byd = GANTRY_REF_INIT;
    manifest_ref_by_digest(&r->ref, e->digest, &byd);
    _cleanup_regman_ struct gantry_registry_manifest m = GANTRY_REGISTRY_MANIFEST_INIT;
    if (manifest_fetch_doc(r->s, r->c, &byd, &m, err) < 0)
        return -1;
    return remote_index(r, &m, depth + 1, err);
}

/* Every entry of a remote index, nested indexes flattened. */
static int remote_index(struct remote *r, const struct gantry_registry_manifest *top, int depth,
                        struct gantry_error **err)
{
    _cleanup_mindex_ struct gantry_oci_index *idx =
        gantry_oci_index_parse(top->data, top->len, top->media_type, err);
    if (!idx)
        return gantry_error_prefix(err, "index of '%s'", r->spec);
    for (size_t i = 0; i < idx->n_manifests; i++) {
        const struct gantry_oci_descriptor *e = &idx->manifests[i];
        int rc = 0;
        if (gantry_oci_is_index_type(e->media_type))
            rc = remote_nested(r, e, depth, err);
        else if (gantry_oci_is_manifest_type(e->media_type))
            rc = remote_entry(r, e, err);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* The entry of exactly r->want in a remote index, or -1 with the error. */
static ssize_t remote_pick(struct remote *r, const struct gantry_oci_index *idx,
                           struct gantry_error **err)
{
    _cleanup_buf_ struct gantry_buf have = GANTRY_BUF_INIT;
    for (size_t i = 0; i < idx->n_manifests; i++) {
        const struct gantry_oci_descriptor *e = &idx->manifests[i];
        if (!manifest_entry_is_image(e) || !e->platform)
            continue;
        _cleanup_mplatform_ struct gantry_platform p = GANTRY_PLATFORM_INIT;
        manifest_platform_from_oci(e->platform, &p);
        if (gantry_platform_match_rank(r->want, &p, true) >= 0)
            return (ssize_t)i;
        _cleanup_free_ char *ps = gantry_platform_format(&p);
        if (gantry_buf_addf(&have, "%s%s", have.len ? ", " : "", ps) < 0)
            oom();
    }
    _cleanup_free_ char *w = gantry_platform_format(r->want);
    gantry_error_set(err, GANTRY_E_NOT_FOUND, 0, "no %s image in '%s' (it has: %s)", w, r->spec,
                     have.len ? have.data : "no platforms");
    return -1;
}

/* With want: the one entry of that platform and the attestations of it. */
static int remote_one_platform(struct remote *r, const struct gantry_registry_manifest *top,
                               struct gantry_error **err)
{
    _cleanup_mindex_ struct gantry_oci_index *idx =
        gantry_oci_index_parse(top->data, top->len, top->media_type, err);
    if (!idx)
        return gantry_error_prefix(err, "index of '%s'", r->spec);
    ssize_t k = remote_pick(r, idx, err);
    if (k < 0 || remote_entry(r, &idx->manifests[k], err) < 0)
        return -1;
    for (size_t i = 0; i < idx->n_manifests; i++) {
        const struct gantry_oci_descriptor *e = &idx->manifests[i];
        const char *subject =
            gantry_oci_descriptor_annotation(e, GANTRY_OCI_ANNOTATION_REFERENCE_DIGEST);
        if (gantry_oci_descriptor_is_attestation(e) && subject &&
            strcmp(subject, idx->manifests[k].digest) == 0 && remote_entry(r, e, err) < 0)
            return -1;
    }
    return 0;
}

/*
 * --no-flatten: the index itself as one entry, stored with its child
 * manifests and their configs (for inspect, and for push to find them).
 */
static int remote_keep_index(struct remote *r, const struct gantry_registry_manifest *top,
                             struct gantry_error **err)
{
    _cleanup_mindex_ struct gantry_oci_index *idx =
        gantry_oci_index_parse(top->data, top->len, top->media_type, err);
    if (!idx)
        return gantry_error_prefix(err, "index of '%s'", r->spec);
    if (manifest_check_nestable(idx, r->spec, err) < 0 || store_doc(r, top, err) < 0)
        return -1;
    for (size_t i = 0; i < idx->n_manifests; i++) {
        _cleanup_mdesc_ struct gantry_oci_descriptor d = GANTRY_OCI_DESCRIPTOR_INIT;
        if (fetch_manifest_entry(r, &idx->manifests[i], NULL, &d, err) < 0)
            return -1;
    }
    _cleanup_mdesc_ struct gantry_oci_descriptor e = GANTRY_OCI_DESCRIPTOR_INIT;
    gantry_oci_descriptor_init(&e, top->media_type, top->digest, (int64_t)top->len);
    push_remote_entry(r, &e);
    return 0;
}

/* A single manifest: itself, with its config's platform (which must be want). */
static int remote_single(struct remote *r, const struct gantry_registry_manifest *top,
                         struct gantry_error **err)
{
    _cleanup_mdesc_ struct gantry_oci_descriptor e = GANTRY_OCI_DESCRIPTOR_INIT;
    gantry_oci_descriptor_init(&e, top->media_type, top->digest, (int64_t)top->len);
    _cleanup_mdesc_ struct gantry_oci_descriptor d = GANTRY_OCI_DESCRIPTOR_INIT;
    if (fetch_manifest_entry(r, &e, top, &d, err) < 0)
        return -1;
    if (r->want) {
        _cleanup_mplatform_ struct gantry_platform p = GANTRY_PLATFORM_INIT;
        if (d.platform)
            manifest_platform_from_oci(d.platform, &p);
        _cleanup_free_ char *want = gantry_platform_format(r->want);
        _cleanup_free_ char *got = d.platform ? gantry_platform_format(&p) : xstrdup("unknown");
        if (!d.platform || gantry_platform_match_rank(r->want, &p, true) < 0)
            return gantry_error_set(err, GANTRY_E_NOT_FOUND, 0, "image '%s' is %s, not %s", r->spec,
                                    got, want);
    }
    push_remote_entry(r, &d);
    return 0;
}

int manifest_collect_remote(struct gantry_store *s, struct gantry_registry_client *c,
                            const char *ref, const struct manifest_pick *pick,
                            struct manifest_entries *out, struct gantry_error **err)
{
    const char *spec = ref;
    manifest_is_remote_spelling(ref, &spec);
    __attribute__((cleanup(remote_release))) struct remote r = {.s = s,
                                                                .c = c,
                                                                .spec = ref,
                                                                .want = pick->want,
                                                                .no_flatten = pick->no_flatten,
                                                                .out = out};
    if (gantry_ref_parse(spec, strlen(spec), &r.ref, err) < 0)
        return -1;
    r.repo = gantry_ref_to_string(&r.ref);
    _cleanup_regman_ struct gantry_registry_manifest top = GANTRY_REGISTRY_MANIFEST_INIT;
    if (gantry_registry_get_manifest(c, &r.ref, &top, err) < 0)
        return -1;
    gantry_log(GANTRY_LOG_DEBUG, "'%s': remote %s %s", ref, top.media_type, top.digest);
    if (gantry_oci_is_manifest_type(top.media_type))
        return remote_single(&r, &top, err);
    if (!gantry_oci_is_index_type(top.media_type))
        return gantry_error_set(err, GANTRY_E_UNSUPPORTED, 0, "'%s' is not an image: media type %s",
                                ref, top.media_type);
    if (r.no_flatten)
        return remote_keep_index(&r, &top, err);
    return r.want ? remote_one_platform(&r, &top, err) : remote_index(&r, &top, 0, err);
}
