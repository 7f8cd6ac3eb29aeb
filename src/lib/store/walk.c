/*
 * Following an image from its index.json entry through every blob it
 * reaches: indexes -> manifests -> config, layers, subject. Used by gc
 * (mark, strict: an unreadable manifest stops everything) and by verify
 * (report and go on).
 */
#include <dirent.h>

#include "store_internal.h"

#define WALK_DEPTH_MAX 8

void store_walk_problem(struct store_walk *w, enum gantry_store_problem_kind kind,
                        const char *digest, const char *fmt, ...)
{
    va_list ap;
    char *msg = NULL;
    va_start(ap, fmt);
    msg = xvasprintf(fmt, ap);
    va_end(ap);
    w->problems = xrealloc(w->problems, (w->n_problems + 1) * sizeof(*w->problems));
    struct gantry_store_problem *p = &w->problems[w->n_problems++];
    p->kind = kind;
    p->ref = w->ref ? xstrdup(w->ref) : NULL;
    p->digest = xstrdup(digest);
    p->message = msg;
}

void store_walk_release(struct store_walk *w)
{
    strset_release(&w->seen);
    strset_release(&w->bad);
    gantry_store_problems_free(w->problems, w->n_problems);
    w->problems = NULL;
    w->n_problems = 0;
}

static bool is_document_type(const char *mt)
{
    return gantry_oci_is_manifest_type(mt) || gantry_oci_is_index_type(mt);
}

static void walk_missing(struct store_walk *w, const struct gantry_oci_descriptor *d, bool in_index)
{
    w->missing++;
    if (in_index && is_document_type(d->media_type))
        store_walk_problem(w, GANTRY_STORE_PROBLEM_PARTIAL, d->digest,
                           "index child %s (%s) is not in the store", d->digest, d->media_type);
    else
        store_walk_problem(w, GANTRY_STORE_PROBLEM_MISSING, d->digest, "blob %s (%s) is missing",
                           d->digest, d->media_type);
}

/* A manifest or index blob that cannot be used. */
static int walk_broken(struct store_walk *w, const struct gantry_oci_descriptor *d,
                       struct gantry_error *e, struct gantry_error **err)
{
    if (w->strict) {
        gantry_error_prefix(&e, "image '%s'", w->ref ? w->ref : "(unnamed)");
        if (err)
            *err = e;
        else
            gantry_error_free(e);
        return -1;
    }
    if (e->code == GANTRY_E_DIGEST_MISMATCH) {
        if (strset_add(&w->bad, d->digest))
            store_walk_problem(w, GANTRY_STORE_PROBLEM_CORRUPT, d->digest, "%s", e->message);
    } else {
        store_walk_problem(w, GANTRY_STORE_PROBLEM_INVALID, d->digest, "%s", e->message);
    }
    gantry_error_free(e);
    return 0;
}

static int walk_at(struct store_walk *w, const struct gantry_oci_descriptor *d, bool in_index,
                   int depth, struct gantry_error **err);

static int walk_list(struct store_walk *w, const struct gantry_oci_descriptor *v, size_t n,
                     bool in_index, int depth, struct gantry_error **err)
{
    for (size_t i = 0; i < n; i++)
        if (walk_at(w, &v[i], in_index, depth, err) < 0)
            return -1;
    return 0;
}

static int walk_manifest(struct store_walk *w, const struct gantry_buf *b, const char *expected,
                         int depth, struct gantry_oci_manifest **out, struct gantry_error **err)
{
    struct gantry_oci_manifest *m = gantry_oci_manifest_parse(b->data, b->len, expected, err);
    if (!m)
        return -1;
    *out = m;
    if (walk_at(w, &m->config, false, depth + 1, err) < 0 ||
        walk_list(w, m->layers, m->n_layers, false, depth + 1, err) < 0 ||
        (m->subject && walk_at(w, m->subject, false, depth + 1, err) < 0))
        return -2;
    return 0;
}

static int walk_index(struct store_walk *w, const struct gantry_buf *b, const char *expected,
                      int depth, struct gantry_oci_index **out, struct gantry_error **err)
{
    struct gantry_oci_index *idx = gantry_oci_index_parse(b->data, b->len, expected, err);
    if (!idx)
        return -1;
    *out = idx;
    if (walk_list(w, idx->manifests, idx->n_manifests, true, depth + 1, err) < 0 ||
        (idx->subject && walk_at(w, idx->subject, false, depth + 1, err) < 0))
        return -2;
    return 0;
}

/*
 * Follow the children of a document blob. For the known manifest and index
 * types a parse failure is a broken image; a blob of an unknown type is
 * followed only when it parses as a manifest or index.
 */
static int walk_document(struct store_walk *w, const struct gantry_oci_descriptor *d,
                         const struct gantry_buf *b, int depth, struct gantry_error **err)
{
    bool known = is_document_type(d->media_type);
    const char *expected = known ? d->media_type : NULL;
    struct gantry_error *e = NULL;
    enum gantry_oci_kind kind;
    if (gantry_oci_detect(b->data, b->len, expected, &kind, &e) < 0 ||
        kind == GANTRY_OCI_KIND_UNKNOWN) {
        if (known && !e)
            gantry_error_set(&e, GANTRY_E_PARSE, 0, "blob %s is not a manifest", d->digest);
        return known ? walk_broken(w, d, e, err) : (gantry_error_free(e), 0);
    }
    struct gantry_oci_manifest *m = NULL;
    struct gantry_oci_index *idx = NULL;
    int r = kind == GANTRY_OCI_KIND_MANIFEST ? walk_manifest(w, b, expected, depth, &m, &e)
                                             : walk_index(w, b, expected, depth, &idx, &e);
    gantry_oci_manifest_free(m);
    gantry_oci_index_free(idx);
    if (r == -2) { /* a failure below, already final */
        if (err)
            *err = e;
        else
            gantry_error_free(e);
        return -1;
    }
    if (r == -1)
        return known ? walk_broken(w, d, e, err) : (gantry_error_free(e), 0);
    return 0;
}

static int walk_at(struct store_walk *w, const struct gantry_oci_descriptor *d, bool in_index,
                   int depth, struct gantry_error **err)
{
    if (depth > WALK_DEPTH_MAX)
        return gantry_error_set(err, GANTRY_E_UNSUPPORTED, 0,
                                "image '%s' nests deeper than %d levels at %s",
                                w->ref ? w->ref : "(unnamed)", WALK_DEPTH_MAX, d->digest);
    if (!strset_add(&w->seen, d->digest))
        return 0;
    if (!gantry_store_blob_exists(w->s, d->digest)) {
        walk_missing(w, d, in_index);
        return 0;
    }
    if (strset_has(&w->bad, d->digest))
        return 0;
    bool known = is_document_type(d->media_type);
    if (!known && (gantry_oci_is_layer_type(d->media_type) ||
                   gantry_oci_is_config_type(d->media_type) || d->size > GANTRY_MANIFEST_MAX))
        return 0;
    _cleanup_buf_ struct gantry_buf b = GANTRY_BUF_INIT_CAP(GANTRY_MANIFEST_MAX);
    struct gantry_error *e = NULL;
    if (gantry_store_read_blob(w->s, d->digest, &b, &e) < 0) {
        if (known || e->code == GANTRY_E_DIGEST_MISMATCH)
            return walk_broken(w, d, e, err);
        gantry_error_free(e); /* e.g. a large blob of an unknown type: a leaf */
        return 0;
    }
    return walk_document(w, d, &b, depth, err);
}

int store_walk(struct store_walk *w, const struct gantry_oci_descriptor *d,
               struct gantry_error **err)
{
    return walk_at(w, d, false, 0, err);
}

static int each_file(struct gantry_store *s, const char *alg, store_blob_fn fn, void *ctx,
                     struct gantry_error **err)
{
    _cleanup_free_ char *rel = xasprintf("blobs/%s", alg);
    _cleanup_free_ char *dir = store_path(s, rel);
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? 0 : gantry_error_set(err, GANTRY_E_IO, errno, "open '%s'", dir);
    int r = 0;
    const struct dirent *e;
    while (r == 0 && (e = readdir(d))) {
        _cleanup_free_ char *digest = xasprintf("%s:%s", alg, e->d_name);
        if (gantry_digest_validate(digest, strlen(digest), NULL, NULL) < 0)
            continue;
        _cleanup_free_ char *path = xasprintf("%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(path, &st) < 0) {
            if (errno != ENOENT)
                r = gantry_error_set(err, GANTRY_E_IO, errno, "stat '%s'", path);
            continue;
        }
        if (S_ISREG(st.st_mode))
            r = fn(ctx, digest, path, &st, err);
    }
    closedir(d);
    return r;
}

int store_for_each_blob(struct gantry_store *s, store_blob_fn fn, void *ctx,
                        struct gantry_error **err)
{
    static const char *const algs[] = {"sha256", "sha512"};
    for (size_t i = 0; i < ARRAY_SIZE(algs); i++)
        if (each_file(s, algs[i], fn, ctx, err) < 0)
            return -1;
    return 0;
}
