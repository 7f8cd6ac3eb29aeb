/*
 * `gantry inspect --remote`: the inspect object of an image in a registry.
 * Only the manifest (or index, the nested indexes the platform choice needs
 * and the chosen manifest) and the config blob are fetched, never a layer;
 * nothing is written anywhere. The JSON itself is built by
 * image_inspect_build, as for the local path.
 */
#include <gantry/registry.h>

#include "image_nest.h"
#include "inspect_internal.h"

static void cleanup_regmanp(struct gantry_registry_manifest *m)
{
    gantry_registry_manifest_release(m);
}
#define _cleanup_regman_ __attribute__((cleanup(cleanup_regmanp)))

/* What is fetched of one remote image; everything owned. */
struct remote_image {
    char *name; /* full reference, for messages */
    struct gantry_oci_descriptor top;
    struct gantry_oci_descriptor child;
    struct gantry_oci_index *index; /* NULL for a single manifest */
    struct gantry_oci_manifest *manifest;
    struct gantry_oci_config *config;
};

static void remote_image_release(struct remote_image *img)
{
    free(img->name);
    gantry_oci_descriptor_release(&img->top);
    gantry_oci_descriptor_release(&img->child);
    gantry_oci_index_free(img->index);
    gantry_oci_manifest_free(img->manifest);
    gantry_oci_config_free(img->config);
}
#define _cleanup_remote_image_ __attribute__((cleanup(remote_image_release)))

/* Blob sink into a gantry_buf whose cap bounds the config. */
static int buf_sink(void *user, const void *data, size_t len, struct gantry_error **err)
{
    if (gantry_buf_add(user, data, len) < 0)
        return gantry_error_set(err, GANTRY_E_TOO_LARGE, 0, "config larger than %d bytes",
                                GANTRY_MANIFEST_MAX);
    return 0;
}

/* Fetch and parse the config blob of img->manifest (size and digest verified). */
static int fetch_config(struct gantry_registry_client *c, const struct gantry_ref *r,
                        struct remote_image *img, struct gantry_error **err)
{
    const struct gantry_oci_descriptor *d = &img->manifest->config;
    _cleanup_buf_ struct gantry_buf b = GANTRY_BUF_INIT_CAP(GANTRY_MANIFEST_MAX);
    struct gantry_registry_blob_get g = {
        .digest = d->digest, .size = d->size, .write = buf_sink, .user = &b};
    if (gantry_registry_get_blob(c, r, &g, err) < 0)
        return gantry_error_prefix(err, "config '%s'", d->digest);
    img->config = gantry_oci_config_parse(b.data, b.len, err);
    if (!img->config)
        return gantry_error_prefix(err, "config '%s'", d->digest);
    return 0;
}

/* An index entry that is a runnable image: its normalized platform, else false. */
static bool entry_platform(const struct gantry_oci_descriptor *d, struct gantry_platform *out)
{
    *out = (struct gantry_platform)GANTRY_PLATFORM_INIT;
    if (!gantry_oci_is_manifest_type(d->media_type) || gantry_oci_descriptor_is_attestation(d) ||
        !d->platform)
        return false;
    image_platform_from_oci(d->platform, out);
    if (!gantry_platform_is_unknown(out))
        return true;
    gantry_platform_release(out);
    return false;
}

static int no_match(const struct gantry_platform *want, const char *name, const char *list,
                    struct gantry_error **err)
{
    _cleanup_free_ char *w = gantry_platform_format(want);
    return gantry_error_set(err, GANTRY_E_NOT_FOUND, 0,
                            "no matching manifest for %s in '%s' (it has: %s)", w, name,
                            *list ? list : "no platforms");
}

/* The ref of r's repository by digest. */
static void ref_by_digest(const struct gantry_ref *r, const char *digest, struct gantry_ref *out)
{
    gantry_ref_copy(out, r);
    free(steal_pointer(&out->tag));
    free(out->digest);
    out->digest = xstrdup(digest);
}

/* Where nested indexes are read from: img's repository. */
struct remote_nest {
    struct gantry_registry_client *c;
    const struct gantry_ref *r;
};

/*
 * image_nest_fetch_fn over the registry: the nested index GET by digest,
 * capped and verified as every manifest fetch is; it must be there.
 */
static int fetch_nested(void *user, const struct gantry_oci_descriptor *d, struct gantry_buf *out,
                        struct gantry_error **err)
{
    const struct remote_nest *rn = user;
    _cleanup_ref_ struct gantry_ref byd = GANTRY_REF_INIT;
    ref_by_digest(rn->r, d->digest, &byd);
    _cleanup_regman_ struct gantry_registry_manifest m = GANTRY_REGISTRY_MANIFEST_INIT;
    if (gantry_registry_get_manifest(rn->c, &byd, &m, err) < 0)
        return -1;
    gantry_buf_reset(out);
    if (gantry_buf_add(out, m.data, m.len) < 0)
        return gantry_error_set(err, GANTRY_E_TOO_LARGE, 0, "index '%s' larger than %d bytes",
                                d->digest, GANTRY_MANIFEST_MAX);
    return 1;
}

/*
 * Choose img->child in img->index for want, through nested indexes with
 * the walk pull and local selection use: a direct exact match reads
 * nothing more. The error lists the platforms of every level read.
 */
static int select_entry(struct gantry_registry_client *c, const struct gantry_ref *r,
                        const struct gantry_platform *want, struct remote_image *img,
                        struct gantry_error **err)
{
    struct remote_nest rn = {.c = c, .r = r};
    struct image_nest n = {.fetch = fetch_nested, .user = &rn, .name = img->name};
    _cleanup_nest_pick_ struct image_nest_pick pick = IMAGE_NEST_PICK_INIT;
    int rc = image_nest_select(&n, img->index, want, false, &pick, err);
    if (rc == 0 && !pick.entry)
        rc = no_match(want, img->name, pick.seen.data, err);
    if (rc == 0) {
        gantry_oci_descriptor_copy(&img->child, pick.entry);
        if (!img->child.platform)
            img->child.platform = image_oci_platform(&pick.platform);
    }
    image_nest_release(&n); /* pick borrows from it: copied above */
    return rc;
}

/* Fetch and parse the manifest img->child names. */
static int fetch_child(struct gantry_registry_client *c, const struct gantry_ref *r,
                       struct remote_image *img, struct gantry_error **err)
{
    _cleanup_ref_ struct gantry_ref byd = GANTRY_REF_INIT;
    ref_by_digest(r, img->child.digest, &byd);
    _cleanup_regman_ struct gantry_registry_manifest m = GANTRY_REGISTRY_MANIFEST_INIT;
    if (gantry_registry_get_manifest(c, &byd, &m, err) < 0)
        return -1;
    img->manifest = gantry_oci_manifest_parse(m.data, m.len, m.media_type, err);
    if (!img->manifest)
        return gantry_error_prefix(err, "manifest '%s'", img->child.digest);
    return 0;
}

/* An index: choose the entry for want (NULL: the host), fetch its manifest. */
static int from_index(struct gantry_registry_client *c, const struct gantry_ref *r,
                      const struct gantry_registry_manifest *top,
                      const struct gantry_platform *want, struct remote_image *img,
                      struct gantry_error **err)
{
    _cleanup_platform_ struct gantry_platform host = GANTRY_PLATFORM_INIT;
    if (!want && gantry_platform_host(&host, err) < 0)
        return -1;
    img->index = gantry_oci_index_parse(top->data, top->len, top->media_type, err);
    if (!img->index)
        return gantry_error_prefix(err, "index '%s'", top->digest);
    if (select_entry(c, r, want ? want : &host, img, err) < 0)
        return -1;
    if (fetch_child(c, r, img, err) < 0 || fetch_config(c, r, img, err) < 0)
        return -1;
    return 0;
}

/*
 * A single manifest: any platform does without want (as locally), else its
 * config's platform must match. The descriptor gets the config's platform.
 */
static int from_manifest(struct gantry_registry_client *c, const struct gantry_ref *r,
                         const struct gantry_registry_manifest *top,
                         const struct gantry_platform *want, struct remote_image *img,
                         struct gantry_error **err)
{
    img->manifest = gantry_oci_manifest_parse(top->data, top->len, top->media_type, err);
    if (!img->manifest)
        return gantry_error_prefix(err, "manifest '%s'", top->digest);
    if (fetch_config(c, r, img, err) < 0)
        return -1;
    _cleanup_platform_ struct gantry_platform p = GANTRY_PLATFORM_INIT;
    image_platform_from_config(img->config, &p);
    if (want && gantry_platform_match_rank(want, &p, false) < 0) {
        _cleanup_free_ char *has = gantry_platform_format(&p);
        return no_match(want, img->name, has, err);
    }
    gantry_oci_descriptor_copy(&img->child, &img->top);
    if (!gantry_platform_is_unknown(&p))
        img->child.platform = image_oci_platform(&p);
    return 0;
}

/* "Manifests" of an index: its runnable entries (caller frees). */
static struct image_inspect_entry *index_entries(const struct gantry_oci_index *idx, size_t *n)
{
    struct image_inspect_entry *e = xcalloc(idx->n_manifests ? idx->n_manifests : 1, sizeof(*e));
    *n = 0;
    for (size_t i = 0; i < idx->n_manifests; i++) {
        _cleanup_platform_ struct gantry_platform p = GANTRY_PLATFORM_INIT;
        if (entry_platform(&idx->manifests[i], &p))
            e[(*n)++] = (struct image_inspect_entry){.desc = &idx->manifests[i],
                                                     .platform = gantry_platform_format(&p)};
    }
    return e;
}

/* RepoTags and RepoDigests: the reference itself, in familiar form. */
static void remote_names(const struct gantry_ref *r, const char *top_digest, char ***tags,
                         size_t *n_tags, char ***digests, size_t *n_digests)
{
    _cleanup_ref_ struct gantry_ref repo = GANTRY_REF_INIT;
    gantry_ref_copy(&repo, r);
    free(steal_pointer(&repo.digest));
    if (repo.tag)
        image_strv_push(tags, n_tags, gantry_ref_familiar(&repo));
    free(steal_pointer(&repo.tag));
    _cleanup_free_ char *name = gantry_ref_familiar(&repo);
    image_strv_push(digests, n_digests, xasprintf("%s@%s", name, top_digest));
}

static int fetch_image(struct gantry_registry_client *c, const struct gantry_ref *r,
                       const struct gantry_platform *want, struct remote_image *img,
                       struct gantry_error **err)
{
    _cleanup_regman_ struct gantry_registry_manifest top = GANTRY_REGISTRY_MANIFEST_INIT;
    if (gantry_registry_get_manifest(c, r, &top, err) < 0)
        return -1;
    gantry_oci_descriptor_init(&img->top, top.media_type, top.digest, (int64_t)top.len);
    if (gantry_oci_is_index_type(top.media_type))
        return from_index(c, r, &top, want, img, err);
    return from_manifest(c, r, &top, want, img, err);
}

static struct json_t *build_remote(const struct gantry_ref *r, const struct remote_image *img,
                                   struct gantry_error **err)
{
    _cleanup_strv_ char **tags = NULL;
    _cleanup_strv_ char **digests = NULL;
    size_t n_tags = 0, n_digests = 0, n_entries = 0;
    remote_names(r, img->top.digest, &tags, &n_tags, &digests, &n_digests);
    struct image_inspect_entry *entries = img->index ? index_entries(img->index, &n_entries) : NULL;
    int64_t size = 0;
    for (size_t i = 0; i < img->manifest->n_layers; i++)
        size += img->manifest->layers[i].size;
    struct image_inspect_parts parts = {.top = &img->top,
                                        .child = &img->child,
                                        .manifest = img->manifest,
                                        .config = img->config,
                                        .repo_tags = tags,
                                        .n_repo_tags = n_tags,
                                        .repo_digests = digests,
                                        .n_repo_digests = n_digests,
                                        .size = size,
                                        .entries = entries,
                                        .n_entries = n_entries,
                                        .has_present = false};
    struct json_t *j = image_inspect_build(&parts, err);
    image_inspect_entries_free(entries, n_entries);
    return j;
}

struct json_t *gantry_image_inspect_remote(struct gantry_registry_client *c, const char *ref,
                                           const struct gantry_platform *want,
                                           struct gantry_error **err)
{
    _cleanup_ref_ struct gantry_ref r = GANTRY_REF_INIT;
    if (gantry_ref_parse(ref, strlen(ref), &r, err) < 0)
        return NULL;
    _cleanup_remote_image_ struct remote_image img = {0};
    img.name = gantry_ref_to_string(&r);
    if (fetch_image(c, &r, want, &img, err) < 0)
        return NULL;
    return build_remote(&r, &img, err);
}
