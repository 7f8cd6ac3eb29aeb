/*
 * Indexes inside indexes (`manifest create --no-flatten`): choose a
 * platform through them, or read all of them, at most COPY_NEST_MAX
 * levels below the top, refusing an index that lists one of its own
 * ancestors.
 */
#include <limits.h>

#include "copy_internal.h"

#include "util.h"

void copy_nest_release(struct copy_nest *n)
{
    for (size_t i = 0; i < n->n_read; i++)
        gantry_oci_index_free(n->read[i]);
    free(n->read);
    n->read = NULL;
    n->n_read = 0;
}

/* The state of one walk: the ancestors of where it is, and the best so far. */
struct walk {
    struct copy_nest *n;
    const struct gantry_oci_index *path[COPY_NEST_MAX + 1]; /* path[0]: the top */
    const char *via[COPY_NEST_MAX + 1];                     /* the digests they were reached by */
    size_t depth;
    const struct gantry_platform *want; /* NULL: read everything */
    struct copy_pick *best;
    struct gantry_buf seen; /* ", "-separated platforms, each once */
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
    if (w->depth >= COPY_NEST_MAX)
        return gantry_error_set(err, GANTRY_E_UNSUPPORTED, 0,
                                "indexes nested too deep in '%s': %s is more than %d levels down",
                                w->n->name, d->digest, COPY_NEST_MAX);
    return 0;
}

/* A nested index read before in this walk (and kept in n->read), or NULL. */
static const struct gantry_oci_index *already_read(const struct copy_nest *n, const char *digest)
{
    for (size_t i = 0; i < n->n_read; i++)
        if (strcmp(n->read[i]->digest, digest) == 0)
            return n->read[i];
    return NULL;
}

/* The nested index of entry d, fetched and parsed (caller frees). */
static struct gantry_oci_index *
read_nested(struct copy_nest *n, const struct gantry_oci_descriptor *d, struct gantry_error **err)
{
    _cleanup_buf_ struct gantry_buf b = GANTRY_BUF_INIT_CAP(GANTRY_MANIFEST_MAX);
    if (n->fetch(n->user, d->digest, &b, err) < 0)
        return NULL;
    struct gantry_oci_index *idx = gantry_oci_index_parse(b.data, b.len, d->media_type, err);
    if (!idx)
        gantry_error_prefix(err, "index %s of '%s'", d->digest, n->name);
    return idx;
}

/* Remember entry d's platform for the error, once. */
static void note_platform(struct walk *w, const struct gantry_oci_descriptor *d)
{
    _cleanup_free_ char *p = copy_entry_platform_string(d);
    _cleanup_free_ char *item = xasprintf(", %s,", p);
    _cleanup_free_ char *all = xasprintf(", %s,", w->seen.data);
    if (strstr(all, item))
        return;
    if (gantry_buf_addf(&w->seen, "%s%s", w->seen.len ? ", " : "", p) < 0)
        oom();
}

static int entry_rank(const struct gantry_oci_descriptor *d, const struct gantry_platform *want)
{
    _cleanup_platform_ struct gantry_platform p = GANTRY_PLATFORM_INIT;
    copy_platform_from_oci(d->platform, &p);
    return gantry_platform_match_rank(want, &p, false);
}

/* A runnable entry: keep it when it suits want better than the best so far. */
static void consider(struct walk *w, const struct gantry_oci_descriptor *d)
{
    note_platform(w, d);
    int r = entry_rank(d, w->want);
    struct copy_pick *b = w->best;
    if (r < 0 || (b->entry && r >= b->rank))
        return;
    b->entry = d;
    b->rank = r;
    b->n_chain = w->depth;
    for (size_t i = 0; i < w->depth; i++)
        b->chain[i] = w->path[i + 1];
}

static int walk_index(struct walk *w, const struct gantry_oci_index *idx,
                      struct gantry_error **err);

/*
 * Into the nested index of entry d. A new one joins n->read once walked,
 * so that every index there comes after the indexes it lists.
 */
static int walk_nested(struct walk *w, const struct gantry_oci_descriptor *d,
                       struct gantry_error **err)
{
    if (check_nested(w, d, err) < 0)
        return -1;
    const struct gantry_oci_index *seen = already_read(w->n, d->digest);
    struct gantry_oci_index *fresh = seen ? NULL : read_nested(w->n, d, err);
    if (!seen && !fresh)
        return -1;
    w->path[++w->depth] = seen ? seen : fresh;
    w->via[w->depth] = d->digest;
    int rc = walk_index(w, w->path[w->depth], err);
    w->depth--;
    if (fresh) {
        struct copy_nest *n = w->n;
        n->read = xrealloc(n->read, (n->n_read + 1) * sizeof(*n->read));
        n->read[n->n_read++] = fresh;
    }
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
        } else if (w->want && copy_entry_is_runnable(d)) {
            consider(w, d);
        }
    }
    return 0;
}

int copy_nest_select(struct copy_nest *n, const struct gantry_oci_index *top,
                     const struct gantry_platform *want, struct copy_pick *out,
                     struct gantry_error **err)
{
    *out = (struct copy_pick){.rank = INT_MAX};
    /*
     * An exact direct match cannot be beaten: take it without a request.
     * A lesser one (arm/v7 for arm64) can be, by an entry further down.
     */
    ssize_t k = copy_select_entry(top, want);
    if (k >= 0 && entry_rank(&top->manifests[k], want) == 0) {
        out->entry = &top->manifests[k];
        out->rank = 0;
        return 0;
    }
    struct walk w = {.n = n,
                     .path = {top},
                     .via = {top->digest},
                     .want = want,
                     .best = out,
                     .seen = GANTRY_BUF_INIT};
    int rc = walk_index(&w, top, err);
    if (rc == 0 && !out->entry) {
        _cleanup_free_ char *s = gantry_platform_format(want);
        rc = gantry_error_set(err, GANTRY_E_NOT_FOUND, 0, "no %s image in %s (it has: %s)", s,
                              n->name, w.seen.len ? w.seen.data : "no runnable platform");
    }
    gantry_buf_release(&w.seen);
    return rc;
}

int copy_nest_read_all(struct copy_nest *n, const struct gantry_oci_index *top,
                       struct gantry_error **err)
{
    struct walk w = {.n = n, .path = {top}, .via = {top->digest}, .seen = GANTRY_BUF_INIT};
    int rc = walk_index(&w, top, err);
    gantry_buf_release(&w.seen);
    return rc;
}
