/* What a list holds: one entry per platform, attestation or other document. */
#include "manifest_internal.h"

static void entry_release(struct gantry_manifest_entry *e)
{
    gantry_oci_descriptor_release(&e->desc);
    free(e->platform);
    free(e->subject);
    free(e->platforms);
    free(e->manifest);
}

void gantry_manifest_info_release(struct gantry_manifest_info *info)
{
    if (!info)
        return;
    for (size_t i = 0; i < info->n_entries; i++)
        entry_release(&info->entries[i]);
    free(info->entries);
    free(info->name);
    free(info->digest);
    free(info->media_type);
    free(info->raw);
    *info = (struct gantry_manifest_info){0};
}

static void cleanup_infop(struct gantry_manifest_info *i)
{
    gantry_manifest_info_release(i);
}

/* The entry's document when stored: 1 read, 0 absent, -1 error (corrupt...). */
static int read_entry_doc(struct gantry_store *s, struct gantry_manifest_entry *e,
                          struct gantry_error **err)
{
    _cleanup_buf_ struct gantry_buf b = GANTRY_BUF_INIT_CAP(GANTRY_MANIFEST_MAX);
    struct gantry_error *rerr = NULL;
    if (gantry_store_read_blob(s, e->desc.digest, &b, &rerr) == 0) {
        e->manifest = gantry_buf_detach(&b, &e->manifest_len);
        return 1;
    }
    if (rerr && rerr->code == GANTRY_E_NOT_FOUND) {
        gantry_error_free(rerr);
        return 0;
    }
    if (err)
        *err = rerr;
    else
        gantry_error_free(rerr);
    return gantry_error_prefix(err, "entry '%s'", e->desc.digest);
}

/* Size of an image entry (manifest, config, layers) from its stored manifest. */
static int image_size(struct gantry_manifest_entry *e, struct gantry_error **err)
{
    struct gantry_oci_manifest *m =
        gantry_oci_manifest_parse(e->manifest, e->manifest_len, e->desc.media_type, err);
    if (!m)
        return gantry_error_prefix(err, "manifest '%s'", e->desc.digest);
    e->size = e->desc.size + m->config.size;
    for (size_t i = 0; i < m->n_layers; i++)
        e->size += m->layers[i].size;
    gantry_oci_manifest_free(m);
    return 0;
}

enum gantry_manifest_entry_kind manifest_entry_kind(const struct gantry_oci_descriptor *d)
{
    if (gantry_oci_descriptor_is_attestation(d))
        return GANTRY_MANIFEST_ENTRY_ATTESTATION;
    if (gantry_oci_is_manifest_type(d->media_type))
        return GANTRY_MANIFEST_ENTRY_IMAGE;
    if (gantry_oci_is_index_type(d->media_type))
        return GANTRY_MANIFEST_ENTRY_INDEX;
    return GANTRY_MANIFEST_ENTRY_OTHER;
}

void manifest_nested_add(struct gantry_manifest_entry *e, const struct gantry_manifest_entry *k,
                         struct gantry_buf *platforms)
{
    if (k->kind == GANTRY_MANIFEST_ENTRY_IMAGE &&
        gantry_buf_addf(platforms, "%s%s", platforms->len ? ", " : "", k->platform) < 0)
        oom();
    e->size = e->size < 0 || k->size < 0 ? -1 : e->size + k->size;
    e->local = e->local && k->local;
}

static int fill_entry(struct gantry_store *s, const struct gantry_store_child *k, bool is_index,
                      bool nested, struct gantry_manifest_entry *e, struct gantry_error **err);

/*
 * A nested index (stored): the platforms of its image entries, its size
 * with theirs, local when every one is. Indexes nested in it are not
 * opened (counted by their own size).
 */
static int describe_nested(struct gantry_store *s, struct gantry_manifest_entry *e,
                           struct gantry_error **err)
{
    struct gantry_store_child *kids = NULL;
    size_t n = 0;
    if (gantry_store_image_children(s, &e->desc, &kids, &n, err) < 0)
        return gantry_error_prefix(err, "entry '%s'", e->desc.digest);
    _cleanup_buf_ struct gantry_buf platforms = GANTRY_BUF_INIT;
    e->size = e->desc.size;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct gantry_manifest_entry k = {0};
        rc = fill_entry(s, &kids[i], true, true, &k, err);
        if (rc == 0)
            manifest_nested_add(e, &k, &platforms);
        entry_release(&k);
    }
    gantry_store_children_free(kids, n);
    if (rc == 0)
        e->platforms = gantry_buf_detach(&platforms, NULL);
    return rc;
}

static int fill_entry(struct gantry_store *s, const struct gantry_store_child *k, bool is_index,
                      bool nested, struct gantry_manifest_entry *e, struct gantry_error **err)
{
    gantry_oci_descriptor_copy(&e->desc, &k->desc);
    e->local = k->local;
    e->size = -1;
    bool manifest = gantry_oci_is_manifest_type(e->desc.media_type);
    e->kind = manifest_entry_kind(&e->desc);
    const char *subject =
        gantry_oci_descriptor_annotation(&e->desc, GANTRY_OCI_ANNOTATION_REFERENCE_DIGEST);
    e->subject = subject ? xstrdup(subject) : NULL;
    if (!is_index) /* the image itself: its name is not part of it */
        gantry_oci_descriptor_set_annotation(&e->desc, GANTRY_OCI_ANNOTATION_REF_NAME, NULL);
    int have = read_entry_doc(s, e, err);
    if (have < 0)
        return -1;
    if (have && !manifest)
        e->size = e->desc.size;
    if (have && e->kind == GANTRY_MANIFEST_ENTRY_INDEX && !nested && describe_nested(s, e, err) < 0)
        return -1;
    if (have && manifest && image_size(e, err) < 0)
        return -1;
    if (have && manifest && !e->desc.platform &&
        manifest_config_platform(s, &e->desc, &e->desc.platform, err) < 0)
        return -1;
    e->platform = manifest_entry_platform_string(&e->desc);
    return 0;
}

static int fill_entries(struct gantry_store *s, const struct gantry_oci_descriptor *top,
                        struct gantry_manifest_info *info, struct gantry_error **err)
{
    struct gantry_store_child *kids = NULL;
    size_t n = 0;
    if (gantry_store_image_children(s, top, &kids, &n, err) < 0)
        return -1;
    info->entries = xcalloc(n ? n : 1, sizeof(*info->entries));
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        rc = fill_entry(s, &kids[i], info->is_index, false, &info->entries[i], err);
        info->n_entries = i + 1;
    }
    gantry_store_children_free(kids, n);
    return rc;
}

int gantry_manifest_inspect(struct gantry_store *s, const char *ref,
                            struct gantry_manifest_info *out, struct gantry_error **err)
{
    *out = (struct gantry_manifest_info){0};
    __attribute__((cleanup(cleanup_infop))) struct gantry_manifest_info info = {0};
    _cleanup_mdesc_ struct gantry_oci_descriptor top = GANTRY_OCI_DESCRIPTOR_INIT;
    if (manifest_resolve(s, ref, &top, &info.name, err) < 0)
        return -1;
    info.digest = xstrdup(top.digest);
    info.media_type = xstrdup(top.media_type);
    info.is_index = gantry_oci_is_index_type(top.media_type);
    _cleanup_buf_ struct gantry_buf b = GANTRY_BUF_INIT_CAP(GANTRY_MANIFEST_MAX);
    if (gantry_store_read_blob(s, top.digest, &b, err) < 0)
        return gantry_error_prefix(err, "read '%s'", top.digest);
    info.raw = gantry_buf_detach(&b, &info.raw_len);
    if (fill_entries(s, &top, &info, err) < 0)
        return -1;
    *out = info;
    info = (struct gantry_manifest_info){0};
    return 0;
}
