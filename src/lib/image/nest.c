/*
 * Indexes inside indexes (`manifest create --no-flatten`): choose a
 * platform through them, or read all of them, at most IMAGE_NEST_MAX
 * levels below the top, refusing an index that lists one of its own
 * ancestors. Where documents come from (a registry, a store with some of
 * them missing) is the caller's fetch and entry callbacks.
 */
#include "image_internal.h"
#include "image_nest.h"

void image_nest_release(struct image_nest *n)
{
    for (size_t i = 0; i < n->n_read; i++)
        gantry_oci_index_free(n->read[i]);
    free(n->read);
    n->read = NULL;
    n->n_read = 0;
}

void image_nest_pick_release(struct image_nest_pick *p)
{
    gantry_platform_release(&p->platform);
    gantry_buf_release(&p->seen);
}

/* The state of one walk: the ancestors of where it is, and the best so far. */
struct walk {
    struct image_nest *n;
    const struct gantry_oci_index *path[IMAGE_NEST_MAX + 1]; /* path[0]: the top */
    const char *via[IMAGE_NEST_MAX + 1];                     /* the digests they were reached by */
    size_t depth;
    const struct gantry_platform *want; /* NULL: read everything */
    bool strict;
    struct image_nest_pick *best;
};

/* Check entry d of the index at w->depth may be read: depth and cycles. */
static int check_nested(const struct walk *w, const struct gantry_oci_descriptor *d,
                        struct gantry_error **err)
{
    for (size_t i = 0; i <= w->depth; i++)
        if (strcmp(w->via[i], d->digest) == 0)
            return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0,
                                    "index cycle in '%s': %s lists itself or an index above it",
                                    w->n->name, d->digest);
    if (w->depth >= IMAGE_NEST_MAX)
        return gantry_error_set(err, GANTRY_E_UNSUPPORTED, 0,
                                "indexes nested too deep in '%s': %s is more than %d levels down",
                                w->n->name, d->digest, IMAGE_NEST_MAX);
    return 0;
}

/* A nested index read before in this walk (and kept in n->read), or NULL. */
static const struct gantry_oci_index *already_read(const struct image_nest *n, const char *digest)
{
    for (size_t i = 0; i < n->n_read; i++)
        if (strcmp(n->read[i]->digest, digest) == 0)
            return n->read[i];
    return NULL;
}

/* The nested index of entry d into *out (caller frees): 1 read, 0 not available, -1 error. */
static int read_nested(struct image_nest *n, const struct gantry_oci_descriptor *d,
                       struct gantry_oci_index **out, struct gantry_error **err)
{
    *out = NULL;
    _cleanup_buf_ struct gantry_buf b = GANTRY_BUF_INIT_CAP(GANTRY_MANIFEST_MAX);
    int rc = n->fetch(n->user, d, &b, err);
    if (rc <= 0)
        return rc;
    *out = gantry_oci_index_parse(b.data, b.len, d->media_type, err);
    if (!*out)
        return gantry_error_prefix(err, "index %s of '%s'", d->digest, n->name);
    return 1;
}

/* Remember item for the error, once. */
static void note_seen(struct walk *w, const char *item)
{
    _cleanup_free_ char *needle = xasprintf(", %s,", item);
    _cleanup_free_ char *all = xasprintf(", %s,", w->best->seen.data);
    if (strstr(all, needle))
        return;
    if (gantry_buf_addf(&w->best->seen, "%s%s", w->best->seen.len ? ", " : "", item) < 0)
        oom();
}

/* d's own platform: a candidate when it has a known one (the remote view). */
static int desc_platform(const struct gantry_oci_descriptor *d, struct gantry_platform *out,
                         bool *present)
{
    *present = true;
    if (!d->platform)
        return 0;
    image_platform_from_oci(d->platform, out);
    return gantry_platform_is_unknown(out) ? 0 : 1;
}

/*
 * The platform and presence of image-manifest entry d: 1 a candidate,
 * 0 not (attestations, other types, unknown platforms), -1 error.
 */
static int entry_platform(struct image_nest *n, const struct gantry_oci_descriptor *d,
                          struct gantry_platform *out, bool *present, struct gantry_error **err)
{
    *out = (struct gantry_platform)GANTRY_PLATFORM_INIT;
    if (!gantry_oci_is_manifest_type(d->media_type) || gantry_oci_descriptor_is_attestation(d))
        return 0;
    int rc = n->entry ? n->entry(n->user, d, out, present, err) : desc_platform(d, out, present);
    if (rc <= 0)
        gantry_platform_release(out);
    return rc;
}

/* A candidate: keep it when it is present and suits want better than the best so far. */
static void consider(struct walk *w, const struct gantry_oci_descriptor *d,
                     struct gantry_platform *p, bool present)
{
    _cleanup_free_ char *s = gantry_platform_format(p);
    _cleanup_free_ char *item = xasprintf("%s%s", s, present ? "" : "(missing)");
    note_seen(w, item);
    int r = gantry_platform_match_rank(w->want, p, w->strict);
    struct image_nest_pick *b = w->best;
    if (r >= 0 && !present)
        b->missing_match = true;
    if (r < 0 || !present || (b->entry && r >= b->rank))
        return;
    b->entry = d;
    b->rank = r;
    gantry_platform_release(&b->platform);
    b->platform = *p;
    *p = (struct gantry_platform)GANTRY_PLATFORM_INIT;
    b->n_chain = w->depth;
    for (size_t i = 0; i < w->depth; i++)
        b->chain[i] = w->path[i + 1];
}

static int walk_index(struct walk *w, const struct gantry_oci_index *idx,
                      struct gantry_error **err);

/* Descend into idx, reached through entry d. */
static int descend(struct walk *w, const struct gantry_oci_descriptor *d,
                   const struct gantry_oci_index *idx, struct gantry_error **err)
{
    w->path[++w->depth] = idx;
    w->via[w->depth] = d->digest;
    int rc = walk_index(w, idx, err);
    w->depth--;
    return rc;
}

/*
 * Into the nested index of entry d. A new one joins n->read once walked,
 * so that every index there comes after the indexes it lists. One fetch
 * cannot read is listed as missing by its short digest.
 */
static int walk_nested(struct walk *w, const struct gantry_oci_descriptor *d,
                       struct gantry_error **err)
{
    if (check_nested(w, d, err) < 0)
        return -1;
    const struct gantry_oci_index *seen = already_read(w->n, d->digest);
    if (seen)
        return descend(w, d, seen, err);
    struct gantry_oci_index *fresh = NULL;
    int rc = read_nested(w->n, d, &fresh, err);
    if (rc < 0)
        return -1;
    if (rc == 0) {
        _cleanup_free_ char *item = xasprintf("index %.12s(missing)", gantry_digest_hex(d->digest));
        note_seen(w, item);
        return 0;
    }
    rc = descend(w, d, fresh, err);
    struct image_nest *n = w->n;
    n->read = xrealloc(n->read, (n->n_read + 1) * sizeof(*n->read));
    n->read[n->n_read++] = fresh;
    return rc;
}

/* Depth first, in each index's order: ties go to the entry met first. */
static int walk_index(struct walk *w, const struct gantry_oci_index *idx, struct gantry_error **err)
{
    for (size_t i = 0; i < idx->n_manifests; i++) {
        const struct gantry_oci_descriptor *d = &idx->manifests[i];
        if (gantry_oci_is_index_type(d->media_type)) {
            if (walk_nested(w, d, err) < 0)
                return -1;
            continue;
        }
        if (!w->want)
            continue;
        _cleanup_platform_ struct gantry_platform p = GANTRY_PLATFORM_INIT;
        bool present = false;
        int rc = entry_platform(w->n, d, &p, &present, err);
        if (rc < 0)
            return -1;
        if (rc > 0)
            consider(w, d, &p, present);
    }
    return 0;
}

/*
 * A present exact match listed by top itself cannot be beaten: 1 taken,
 * 0 none (a lesser one, arm/v7 for arm64, can be beaten further down).
 */
static int direct_exact(struct walk *w, const struct gantry_oci_index *top,
                        struct gantry_error **err)
{
    for (size_t i = 0; i < top->n_manifests; i++) {
        const struct gantry_oci_descriptor *d = &top->manifests[i];
        _cleanup_platform_ struct gantry_platform p = GANTRY_PLATFORM_INIT;
        bool present = false;
        int rc = entry_platform(w->n, d, &p, &present, err);
        if (rc < 0)
            return -1;
        if (rc == 0 || !present || gantry_platform_match_rank(w->want, &p, w->strict) != 0)
            continue;
        consider(w, d, &p, present);
        return 1;
    }
    return 0;
}

int image_nest_select(struct image_nest *n, const struct gantry_oci_index *top,
                      const struct gantry_platform *want, bool strict, struct image_nest_pick *out,
                      struct gantry_error **err)
{
    image_nest_pick_release(out);
    *out = (struct image_nest_pick)IMAGE_NEST_PICK_INIT;
    struct walk w = {
        .n = n, .path = {top}, .via = {top->digest}, .want = want, .strict = strict, .best = out};
    int rc = direct_exact(&w, top, err);
    if (rc != 0)
        return rc < 0 ? -1 : 0;
    gantry_buf_reset(&out->seen);
    return walk_index(&w, top, err);
}

int image_nest_read_all(struct image_nest *n, const struct gantry_oci_index *top,
                        struct gantry_error **err)
{
    _cleanup_nest_pick_ struct image_nest_pick unused = IMAGE_NEST_PICK_INIT;
    struct walk w = {.n = n, .path = {top}, .via = {top->digest}, .best = &unused};
    return walk_index(&w, top, err);
}
