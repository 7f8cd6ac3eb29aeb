/*
 * `gantry images`: one summary per name. Listing never fails because of
 * one broken image: missing or corrupt blobs only mark platforms as not
 * present and leave their bytes out of the size (M15).
 */
#include <gantry/ref.h>

#include "image_internal.h"

/* Digests counted so far, so a blob shared by platforms is counted once. */
struct sizer {
    struct gantry_store *s;
    char **seen;
    size_t n_seen;
    uint64_t total;
};

static void sizer_add(struct sizer *z, const char *digest)
{
    for (size_t i = 0; i < z->n_seen; i++)
        if (strcmp(z->seen[i], digest) == 0)
            return;
    int64_t size = 0;
    _cleanup_error_ struct gantry_error *ignored = NULL;
    if (gantry_store_blob_size(z->s, digest, &size, &ignored) < 0)
        return; /* missing: not part of the local size */
    image_strv_push(&z->seen, &z->n_seen, xstrdup(digest));
    z->total += (uint64_t)size;
}

static void summary_release(struct gantry_image_summary *m)
{
    free(m->name);
    free(m->repository);
    free(m->tag);
    free(m->digest);
    free(m->id);
    for (size_t i = 0; i < m->n_platforms; i++) {
        free(m->platforms[i].name);
        free(m->platforms[i].digest);
    }
    free(m->platforms);
}

void gantry_image_list_release(struct gantry_image_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n_items; i++)
        summary_release(&l->items[i]);
    free(l->items);
    *l = (struct gantry_image_list){0};
}

/*
 * Sizes and creation time of one image manifest; false when its manifest
 * or config cannot be read. *plat receives the config's platform.
 */
static bool scan_manifest(struct sizer *z, const struct gantry_oci_descriptor *d,
                          struct gantry_platform *plat, int64_t *created)
{
    _cleanup_error_ struct gantry_error *ignored = NULL;
    _cleanup_manifest_ struct gantry_oci_manifest *m = image_load_manifest(z->s, d, &ignored);
    if (!m)
        return false;
    sizer_add(z, d->digest);
    sizer_add(z, m->config.digest);
    for (size_t i = 0; i < m->n_layers; i++)
        sizer_add(z, m->layers[i].digest);
    _cleanup_config_ struct gantry_oci_config *c =
        image_load_config(z->s, m->config.digest, &ignored);
    if (!c)
        return false;
    int64_t t = image_parse_time(c->created);
    *created = t > *created ? t : *created;
    image_platform_from_config(c, plat);
    return true;
}

static void add_platform(struct gantry_image_summary *m, const struct gantry_platform *p,
                         const char *digest, bool present)
{
    m->platforms = xrealloc(m->platforms, (m->n_platforms + 1) * sizeof(*m->platforms));
    m->platforms[m->n_platforms++] = (struct gantry_image_platform){
        .name = gantry_platform_format(p), .digest = xstrdup(digest), .present = present};
}

static void scan_child(struct sizer *z, const struct gantry_store_child *k, bool is_index,
                       struct gantry_image_summary *m)
{
    if (!gantry_oci_is_manifest_type(k->desc.media_type) ||
        gantry_oci_descriptor_is_attestation(&k->desc))
        return;
    _cleanup_platform_ struct gantry_platform p = GANTRY_PLATFORM_INIT;
    bool readable = scan_manifest(z, &k->desc, &p, &m->created) && k->local;
    if (is_index && k->desc.platform) {
        gantry_platform_release(&p);
        image_platform_from_oci(k->desc.platform, &p);
    }
    if (!p.os && !p.architecture)
        return; /* nothing known about it */
    if (!gantry_platform_is_unknown(&p))
        add_platform(m, &p, k->desc.digest, readable);
}

static void scan_image(struct gantry_store *s, const struct gantry_oci_descriptor *d,
                       struct gantry_image_summary *m)
{
    _cleanup_error_ struct gantry_error *ignored = NULL;
    struct sizer z = {.s = s};
    sizer_add(&z, d->digest);
    struct gantry_store_child *kids = NULL;
    size_t n = 0;
    if (gantry_store_image_children(s, d, &kids, &n, &ignored) == 0) {
        for (size_t i = 0; i < n; i++)
            scan_child(&z, &kids[i], m->is_index, m);
        gantry_store_children_free(kids, n);
    }
    m->size = z.total;
    image_strv_free(z.seen);
}

static void name_parts(const char *name, struct gantry_image_summary *m)
{
    struct gantry_ref ref = GANTRY_REF_INIT;
    _cleanup_error_ struct gantry_error *ignored = NULL;
    if (gantry_ref_parse(name, strlen(name), &ref, &ignored) < 0) {
        m->repository = xstrdup(name); /* written by another tool: show as is */
        return;
    }
    m->tag = ref.tag ? xstrdup(ref.tag) : NULL;
    free(ref.tag);
    free(ref.digest);
    ref.tag = ref.digest = NULL;
    m->repository = gantry_ref_familiar(&ref);
    gantry_ref_release(&ref);
}

static void summarize(struct gantry_store *s, const struct gantry_store_ref *r,
                      struct gantry_image_summary *m)
{
    *m = (struct gantry_image_summary){.created = -1};
    m->name = xstrdup(r->name);
    name_parts(r->name, m);
    m->digest = xstrdup(r->desc.digest);
    m->is_index = gantry_oci_is_index_type(r->desc.media_type);
    char id[GANTRY_DIGEST_MAX];
    _cleanup_error_ struct gantry_error *ignored = NULL;
    m->id = xstrdup(image_id(s, &r->desc, id, &ignored) == 0 ? id : r->desc.digest);
    scan_image(s, &r->desc, m);
}

/* A filter: the full repository, and the full name when a tag was given. */
struct filter {
    char *repo;
    char *full; /* NULL: every tag */
};

static int filter_parse(const char *f, struct filter *out, struct gantry_error **err)
{
    struct gantry_ref ref = GANTRY_REF_INIT;
    if (gantry_ref_parse(f, strlen(f), &ref, err) < 0)
        return -1;
    const char *last = strrchr(f, '/');
    bool tagged = strchr(last ? last : f, ':') || strchr(f, '@');
    out->repo = gantry_ref_repository(&ref);
    out->full = tagged ? gantry_ref_to_string(&ref) : NULL;
    gantry_ref_release(&ref);
    return 0;
}

static bool filter_match(const struct filter *f, const char *name)
{
    if (f->full)
        return strcmp(f->full, name) == 0;
    size_t n = strlen(f->repo);
    return strncmp(name, f->repo, n) == 0 && (name[n] == ':' || name[n] == '@');
}

static int cmp_summary(const void *a, const void *b)
{
    return strcmp(((const struct gantry_image_summary *)a)->name,
                  ((const struct gantry_image_summary *)b)->name);
}

int gantry_image_list(struct gantry_store *s, const char *filter, struct gantry_image_list *out,
                      struct gantry_error **err)
{
    *out = (struct gantry_image_list){0};
    struct filter f = {0};
    if (filter && filter_parse(filter, &f, err) < 0)
        return -1;
    struct gantry_store_ref *refs = NULL;
    size_t n = 0;
    if (gantry_store_ref_list(s, &refs, &n, err) < 0) {
        free(f.repo);
        free(f.full);
        return -1;
    }
    out->items = xcalloc(n, sizeof(*out->items));
    for (size_t i = 0; i < n; i++)
        if (!filter || filter_match(&f, refs[i].name))
            summarize(s, &refs[i], &out->items[out->n_items++]);
    gantry_store_ref_list_free(refs, n);
    free(f.repo);
    free(f.full);
    qsort(out->items, out->n_items, sizeof(*out->items), cmp_summary);
    return 0;
}
