/*
 * Inspecting a remote reference: `manifest inspect` views of a registry's
 * manifest or index (child manifests fetched, never layers).
 */
#include "manifest_internal.h"

static void cleanup_regmanp(struct gantry_registry_manifest *m)
{
    gantry_registry_manifest_release(m);
}
#define _cleanup_regman_ __attribute__((cleanup(cleanup_regmanp)))

static int buf_sink(void *user, const void *data, size_t len, struct gantry_error **err)
{
    if (gantry_buf_add(user, data, len) < 0)
        return gantry_error_set(err, GANTRY_E_TOO_LARGE, 0, "config larger than %d bytes",
                                GANTRY_MANIFEST_MAX);
    return 0;
}

/* The platform the config of manifest m (in r's repository) states, or NULL. */
static int remote_config_platform(struct gantry_registry_client *c, const struct gantry_ref *r,
                                  const struct gantry_oci_manifest *m,
                                  struct gantry_oci_platform **out, struct gantry_error **err)
{
    _cleanup_buf_ struct gantry_buf b = GANTRY_BUF_INIT_CAP(GANTRY_MANIFEST_MAX);
    struct gantry_registry_blob_get g = {
        .digest = m->config.digest, .size = m->config.size, .write = buf_sink, .user = &b};
    if (gantry_registry_get_blob(c, r, &g, err) < 0)
        return -1;
    _cleanup_mconfig_ struct gantry_oci_config *cfg = gantry_oci_config_parse(b.data, b.len, err);
    if (!cfg)
        return gantry_error_prefix(err, "config '%s'", m->config.digest);
    *out = NULL;
    if (cfg->os && *cfg->os && cfg->architecture && *cfg->architecture) {
        struct gantry_oci_platform p = {.os = cfg->os,
                                        .architecture = cfg->architecture,
                                        .variant =
                                            cfg->variant && *cfg->variant ? cfg->variant : NULL,
                                        .os_version = cfg->os_version,
                                        .os_features = cfg->os_features,
                                        .n_os_features = cfg->n_os_features};
        *out = gantry_oci_platform_dup(&p);
    }
    return 0;
}

/* Are m's manifest, config and layers all in the store? */
static bool all_local(struct gantry_store *s, const char *digest,
                      const struct gantry_oci_manifest *m)
{
    if (!s || !gantry_store_blob_exists(s, digest) ||
        !gantry_store_blob_exists(s, m->config.digest))
        return false;
    for (size_t i = 0; i < m->n_layers; i++)
        if (!gantry_store_blob_exists(s, m->layers[i].digest))
            return false;
    return true;
}

/* Size, locality and (when the descriptor has none) platform of an image entry. */
static int describe_manifest(struct gantry_store *s, struct gantry_registry_client *c,
                             const struct gantry_ref *r, struct gantry_manifest_entry *e,
                             struct gantry_error **err)
{
    _cleanup_mmanifest_ struct gantry_oci_manifest *m =
        gantry_oci_manifest_parse(e->manifest, e->manifest_len, e->desc.media_type, err);
    if (!m)
        return gantry_error_prefix(err, "manifest '%s'", e->desc.digest);
    e->size = e->desc.size + m->config.size;
    for (size_t i = 0; i < m->n_layers; i++)
        e->size += m->layers[i].size;
    e->local = all_local(s, e->desc.digest, m);
    if (e->desc.platform || e->kind != GANTRY_MANIFEST_ENTRY_IMAGE)
        return 0;
    return remote_config_platform(c, r, m, &e->desc.platform, err);
}

static int remote_entry(struct gantry_store *s, struct gantry_registry_client *c,
                        const struct gantry_ref *r, const struct gantry_oci_descriptor *d,
                        const struct gantry_registry_manifest *doc, bool nested,
                        struct gantry_manifest_entry *e, struct gantry_error **err);

/*
 * A nested index (its document in e->manifest): the platforms of its image
 * entries, its size with theirs, local when every one is. Indexes nested
 * in it are not opened.
 */
static int describe_nested(struct gantry_store *s, struct gantry_registry_client *c,
                           const struct gantry_ref *r, struct gantry_manifest_entry *e,
                           struct gantry_error **err)
{
    _cleanup_mindex_ struct gantry_oci_index *idx =
        gantry_oci_index_parse(e->manifest, e->manifest_len, e->desc.media_type, err);
    if (!idx)
        return gantry_error_prefix(err, "index '%s'", e->desc.digest);
    _cleanup_buf_ struct gantry_buf platforms = GANTRY_BUF_INIT;
    e->size = e->desc.size;
    e->local = s && gantry_store_blob_exists(s, e->desc.digest);
    for (size_t i = 0; i < idx->n_manifests; i++) {
        struct gantry_manifest_entry k = {0};
        int rc = remote_entry(s, c, r, &idx->manifests[i], NULL, true, &k, err);
        if (rc == 0)
            manifest_nested_add(e, &k, &platforms);
        free(k.platform);
        free(k.subject);
        free(k.manifest);
        gantry_oci_descriptor_release(&k.desc);
        if (rc < 0)
            return -1;
    }
    e->platforms = gantry_buf_detach(&platforms, NULL);
    return 0;
}

/*
 * One entry of a remote index (or the single manifest itself). The
 * document of a manifest or (unless nested: one level only) an index is
 * fetched by digest.
 */
static int remote_entry(struct gantry_store *s, struct gantry_registry_client *c,
                        const struct gantry_ref *r, const struct gantry_oci_descriptor *d,
                        const struct gantry_registry_manifest *doc, bool nested,
                        struct gantry_manifest_entry *e, struct gantry_error **err)
{
    gantry_oci_descriptor_copy(&e->desc, d);
    e->size = -1;
    bool manifest = gantry_oci_is_manifest_type(d->media_type);
    e->kind = manifest_entry_kind(d);
    bool index = e->kind == GANTRY_MANIFEST_ENTRY_INDEX && !nested;
    const char *subject =
        gantry_oci_descriptor_annotation(d, GANTRY_OCI_ANNOTATION_REFERENCE_DIGEST);
    e->subject = subject ? xstrdup(subject) : NULL;
    int rc = 0;
    if (manifest && doc) {
        e->manifest = xstrndup(doc->data, doc->len);
        e->manifest_len = doc->len;
    } else if (manifest || index) {
        _cleanup_ref_ struct gantry_ref byd = GANTRY_REF_INIT;
        manifest_ref_by_digest(r, d->digest, &byd);
        _cleanup_regman_ struct gantry_registry_manifest m = GANTRY_REGISTRY_MANIFEST_INIT;
        rc = gantry_registry_get_manifest(c, &byd, &m, err);
        e->manifest = rc == 0 ? steal_pointer(&m.data) : NULL;
        e->manifest_len = m.len;
    }
    if (rc == 0 && manifest)
        rc = describe_manifest(s, c, r, e, err);
    else if (rc == 0 && index)
        rc = describe_nested(s, c, r, e, err);
    e->platform = manifest_entry_platform_string(&e->desc);
    return rc;
}

static void cleanup_infop(struct gantry_manifest_info *i)
{
    gantry_manifest_info_release(i);
}

static int remote_entries(struct gantry_store *s, struct gantry_registry_client *c,
                          const struct gantry_ref *r, const struct gantry_registry_manifest *top,
                          struct gantry_manifest_info *info, struct gantry_error **err)
{
    if (!info->is_index) {
        info->entries = xcalloc(1, sizeof(*info->entries));
        info->n_entries = 1;
        _cleanup_mdesc_ struct gantry_oci_descriptor d = GANTRY_OCI_DESCRIPTOR_INIT;
        gantry_oci_descriptor_init(&d, top->media_type, top->digest, (int64_t)top->len);
        return remote_entry(s, c, r, &d, top, false, &info->entries[0], err);
    }
    _cleanup_mindex_ struct gantry_oci_index *idx =
        gantry_oci_index_parse(top->data, top->len, top->media_type, err);
    if (!idx)
        return gantry_error_prefix(err, "index '%s'", top->digest);
    info->entries = xcalloc(idx->n_manifests ? idx->n_manifests : 1, sizeof(*info->entries));
    for (size_t i = 0; i < idx->n_manifests; i++) {
        info->n_entries = i + 1;
        if (remote_entry(s, c, r, &idx->manifests[i], NULL, false, &info->entries[i], err) < 0)
            return -1;
    }
    return 0;
}

int gantry_manifest_inspect_remote(struct gantry_store *s, struct gantry_registry_client *c,
                                   const char *ref, struct gantry_manifest_info *out,
                                   struct gantry_error **err)
{
    const char *spec = ref;
    manifest_is_remote_spelling(ref, &spec);
    _cleanup_ref_ struct gantry_ref r = GANTRY_REF_INIT;
    if (gantry_ref_parse(spec, strlen(spec), &r, err) < 0)
        return -1;
    _cleanup_regman_ struct gantry_registry_manifest top = GANTRY_REGISTRY_MANIFEST_INIT;
    if (gantry_registry_get_manifest(c, &r, &top, err) < 0)
        return -1;
    __attribute__((cleanup(cleanup_infop))) struct gantry_manifest_info info = {0};
    info.name = gantry_ref_to_string(&r);
    info.digest = xstrdup(top.digest);
    info.media_type = xstrdup(top.media_type);
    info.is_index = gantry_oci_is_index_type(top.media_type);
    info.raw = xstrndup(top.data, top.len);
    info.raw_len = top.len;
    if (remote_entries(s, c, &r, &top, &info, err) < 0)
        return gantry_error_prefix(err, "inspect '%s'", ref);
    *out = info;
    info = (struct gantry_manifest_info){0};
    return 0;
}
