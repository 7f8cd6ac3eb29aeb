/*
 * `pull`: registry -> store. The manifest first, then the chosen child
 * manifests, then config and layers in parallel straight into store blob
 * writers (verified as they stream), then the documents, the name last.
 */
#include <stdatomic.h>

#include <gantry/registry.h>
#include <gantry/store.h>

#include "copy_internal.h"

#include "util.h"

/* Report progress about every this many bytes of a blob. */
#define PULL_PROGRESS_STEP (512u * 1024u)

struct pull {
    struct gantry_store *s;
    struct gantry_registry_client *c;
    const struct gantry_transfer_pull_opts *o;
    struct gantry_ref ref;
    char *name;
    struct gantry_registry_manifest top;
    struct gantry_oci_manifest **mans; /* the image manifests to store */
    size_t n_mans;
    struct image_nest nest; /* nested indexes read */
    /* The nested indexes to store (borrowed from nest), each after those it lists. */
    const struct gantry_oci_index *docs[IMAGE_NEST_MAX];
    size_t n_docs;
    bool all_docs; /* --all-platforms: every index of nest */
    struct copy_blobs blobs;
    size_t blobs_done; /* blobs fetched before the parallel part */
    atomic_size_t copied, present;
    atomic_uint_fast64_t bytes;
};

static void pull_release(struct pull *p)
{
    gantry_ref_release(&p->ref);
    free(p->name);
    gantry_registry_manifest_release(&p->top);
    copy_blobs_release(&p->blobs);
    for (size_t i = 0; i < p->n_mans; i++)
        gantry_oci_manifest_free(p->mans[i]);
    free(p->mans);
    image_nest_release(&p->nest);
}

static void cleanup_writerp(struct gantry_store_blob_writer **w)
{
    gantry_store_blob_writer_free(*w);
}

#define _cleanup_writer_ __attribute__((cleanup(cleanup_writerp)))

/* The blob sink: the store writer, and a progress report now and then. */
struct pull_sink {
    struct gantry_store_blob_writer *w;
    const struct copy_blob *b;
    uint64_t done, reported;
};

static int sink_write(void *user, const void *data, size_t len, struct gantry_error **err)
{
    struct pull_sink *k = user;
    if (gantry_store_blob_writer_write(k->w, data, len, err) < 0)
        return -1;
    k->done += len;
    if (k->done - k->reported >= PULL_PROGRESS_STEP) {
        copy_progress("downloading", k->b->digest, k->done, (uint64_t)k->b->size, false);
        k->reported = k->done;
    }
    return 0;
}

static int fetch_blob(void *ctx, size_t i, struct gantry_error **err)
{
    struct pull *p = ctx;
    const struct copy_blob *b = &p->blobs.items[i];
    if (gantry_store_blob_exists(p->s, b->digest)) {
        atomic_fetch_add(&p->present, 1);
        copy_progress("already exists", b->digest, (uint64_t)b->size, (uint64_t)b->size, true);
        return 0;
    }
    _cleanup_writer_ struct gantry_store_blob_writer *w =
        gantry_store_blob_writer_new(p->s, b->digest, b->size, err);
    if (!w)
        return -1;
    struct pull_sink k = {.w = w, .b = b};
    /* The store's writer hashes what it writes and commits only a match:
     * one pass of SHA-256 instead of two. */
    struct gantry_registry_blob_get g = {.digest = b->digest,
                                         .size = b->size,
                                         .write = sink_write,
                                         .user = &k,
                                         .caller_hashes = true};
    if (gantry_registry_get_blob(p->c, &p->ref, &g, err) < 0)
        return -1;
    if (gantry_store_blob_writer_commit(w, NULL, err) < 0) {
        _cleanup_free_ char *repo = gantry_ref_repository(&p->ref);
        return gantry_error_prefix(err, "fetch blob '%s@%s'", repo, b->digest);
    }
    atomic_fetch_add(&p->copied, 1);
    atomic_fetch_add(&p->bytes, k.done);
    copy_progress("pull complete", b->digest, k.done, (uint64_t)b->size, true);
    return 0;
}

/* GET a document of the repository by digest. */
static int get_by_digest(struct pull *p, const char *digest, struct gantry_registry_manifest *m,
                         struct gantry_error **err)
{
    _cleanup_ref_ struct gantry_ref r = GANTRY_REF_INIT;
    gantry_ref_copy(&r, &p->ref);
    free(r.tag);
    free(r.digest);
    r.tag = NULL;
    r.digest = xstrdup(digest);
    return gantry_registry_get_manifest(p->c, &r, m, err);
}

/* image_nest_fetch_fn of the nested indexes: GET by digest (verified). */
static int fetch_doc(void *user, const struct gantry_oci_descriptor *d, struct gantry_buf *out,
                     struct gantry_error **err)
{
    struct gantry_registry_manifest m = GANTRY_REGISTRY_MANIFEST_INIT;
    if (get_by_digest(user, d->digest, &m, err) < 0)
        return -1;
    gantry_buf_reset(out);
    int rc = gantry_buf_add(out, m.data, m.len);
    gantry_registry_manifest_release(&m);
    return rc < 0 ? gantry_error_set(err, GANTRY_E_TOO_LARGE, 0, "index %s is too large", d->digest)
                  : 1;
}

/* GET an image manifest by digest and keep it parsed for later (once). */
static int fetch_child(struct pull *p, const struct gantry_oci_descriptor *d,
                       struct gantry_error **err)
{
    for (size_t i = 0; i < p->n_mans; i++)
        if (strcmp(p->mans[i]->digest, d->digest) == 0)
            return 0;
    struct gantry_registry_manifest m = GANTRY_REGISTRY_MANIFEST_INIT;
    if (get_by_digest(p, d->digest, &m, err) < 0)
        return -1;
    struct gantry_oci_manifest *man = gantry_oci_manifest_parse(m.data, m.len, d->media_type, err);
    gantry_registry_manifest_release(&m);
    if (!man)
        return gantry_error_prefix(err, "manifest %s of '%s'", d->digest, p->name);
    p->mans = xrealloc(p->mans, (p->n_mans + 1) * sizeof(*p->mans));
    p->mans[p->n_mans++] = man;
    return 0;
}

/* The wanted platform: opts->platform, else the host's. */
static int want_platform(const struct pull *p, struct gantry_platform *want,
                         struct gantry_error **err)
{
    if (p->o->platform) {
        gantry_platform_copy(want, p->o->platform);
        return 0;
    }
    return gantry_platform_host(want, err);
}

/* The image manifests of idx, all of them. */
static int fetch_all_children(struct pull *p, const struct gantry_oci_index *idx,
                              struct gantry_error **err)
{
    for (size_t i = 0; i < idx->n_manifests; i++)
        if (gantry_oci_is_manifest_type(idx->manifests[i].media_type) &&
            fetch_child(p, &idx->manifests[i], err) < 0)
            return -1;
    return 0;
}

/* --all-platforms: every image manifest, nested indexes included. */
static int plan_all(struct pull *p, const struct gantry_oci_index *idx, struct gantry_error **err)
{
    if (image_nest_read_all(&p->nest, idx, err) < 0 || fetch_all_children(p, idx, err) < 0)
        return -1;
    for (size_t i = 0; i < p->nest.n_read; i++)
        if (fetch_all_children(p, p->nest.read[i], err) < 0)
            return -1;
    p->all_docs = true;
    return 0;
}

/* One platform: the best entry, through nested indexes when idx has none. */
static int plan_one(struct pull *p, const struct gantry_oci_index *idx, struct gantry_error **err)
{
    _cleanup_platform_ struct gantry_platform want = GANTRY_PLATFORM_INIT;
    _cleanup_nest_pick_ struct image_nest_pick pick = IMAGE_NEST_PICK_INIT;
    if (want_platform(p, &want, err) < 0 || copy_nest_select(&p->nest, idx, &want, &pick, err) < 0)
        return -1;
    for (size_t i = 0; i < pick.n_chain; i++)
        p->docs[i] = pick.chain[pick.n_chain - 1 - i];
    p->n_docs = pick.n_chain;
    return fetch_child(p, pick.entry, err);
}

/* An index: fetch the child manifests to pull. */
static int plan_index(struct pull *p, struct gantry_error **err)
{
    struct gantry_oci_index *idx =
        gantry_oci_index_parse(p->top.data, p->top.len, p->top.media_type, err);
    if (!idx)
        return gantry_error_prefix(err, "index of '%s'", p->name);
    p->nest = (struct image_nest){.fetch = fetch_doc, .user = p, .name = p->name};
    int rc = p->o->all_platforms ? plan_all(p, idx, err) : plan_one(p, idx, err);
    gantry_oci_index_free(idx);
    return rc;
}

/* A config's platform must suit the one asked for (a single manifest). */
static int check_config_platform(struct pull *p, const struct gantry_oci_manifest *m,
                                 struct gantry_error **err)
{
    _cleanup_buf_ struct gantry_buf b = GANTRY_BUF_INIT_CAP(GANTRY_MANIFEST_MAX);
    if (gantry_store_read_blob(p->s, m->config.digest, &b, err) < 0)
        return -1;
    struct gantry_oci_config *cfg = gantry_oci_config_parse(b.data, b.len, err);
    if (!cfg)
        return gantry_error_prefix(err, "config %s of '%s'", m->config.digest, p->name);
    struct gantry_oci_platform op = {.architecture = cfg->architecture,
                                     .os = cfg->os,
                                     .variant = cfg->variant,
                                     .os_version = cfg->os_version,
                                     .os_features = cfg->os_features,
                                     .n_os_features = cfg->n_os_features};
    _cleanup_platform_ struct gantry_platform have = GANTRY_PLATFORM_INIT;
    copy_platform_from_oci(&op, &have);
    gantry_oci_config_free(cfg);
    if (gantry_platform_match_rank(p->o->platform, &have, false) >= 0)
        return 0;
    _cleanup_free_ char *w = gantry_platform_format(p->o->platform);
    _cleanup_free_ char *h = gantry_platform_format(&have);
    return gantry_error_set(err, GANTRY_E_NOT_FOUND, 0, "no %s image in %s (it has: %s)", w,
                            p->name, h);
}

/* A single manifest: it is the image; its config first when a platform was asked. */
static int plan_manifest(struct pull *p, struct gantry_error **err)
{
    struct gantry_oci_manifest *m =
        gantry_oci_manifest_parse(p->top.data, p->top.len, p->top.media_type, err);
    if (!m)
        return gantry_error_prefix(err, "manifest of '%s'", p->name);
    p->mans = xcalloc(1, sizeof(*p->mans));
    p->mans[p->n_mans++] = m;
    if (!p->o->platform)
        return 0;
    /* The config is the list's first blob: fetch it alone and look. */
    copy_blobs_add_manifest(&p->blobs, m);
    if (fetch_blob(p, 0, err) < 0 || check_config_platform(p, m, err) < 0)
        return -1;
    p->blobs_done = 1;
    return 0;
}

static int fetch_blob_rest(void *ctx, size_t i, struct gantry_error **err)
{
    struct pull *p = ctx;
    return fetch_blob(p, p->blobs_done + i, err);
}

/* Store a document fetched from the registry; it must hash to want. */
static int store_doc(struct pull *p, const char *data, size_t len, const char *want,
                     struct gantry_error **err)
{
    char got[GANTRY_DIGEST_MAX];
    if (gantry_store_put_blob(p->s, data, len, got, err) < 0)
        return -1;
    if (strcmp(got, want) != 0)
        return gantry_error_set(err, GANTRY_E_UNSUPPORTED, 0,
                                "manifest %s of '%s': only sha256 digests can be stored", want,
                                p->name);
    return 0;
}

/* The nested indexes, each after those it lists. */
static int store_nested(struct pull *p, struct gantry_error **err)
{
    size_t n = p->all_docs ? p->nest.n_read : p->n_docs;
    for (size_t i = 0; i < n; i++) {
        const struct gantry_oci_index *x = p->all_docs ? p->nest.read[i] : p->docs[i];
        if (store_doc(p, x->raw, x->raw_len, x->digest, err) < 0)
            return -1;
    }
    return 0;
}

/* The blobs, then the manifests, then the nested indexes, then the name. */
static int pull_store(struct pull *p, struct gantry_transfer_result *out, struct gantry_error **err)
{
    for (size_t i = 0; i < p->n_mans; i++)
        copy_blobs_add_manifest(&p->blobs, p->mans[i]);
    if (copy_parallel(p->blobs.n_items - p->blobs_done, p->o->jobs, fetch_blob_rest, p, err) < 0)
        return -1;
    bool is_index = gantry_oci_is_index_type(p->top.media_type);
    for (size_t i = 0; is_index && i < p->n_mans; i++)
        if (store_doc(p, p->mans[i]->raw, p->mans[i]->raw_len, p->mans[i]->digest, err) < 0)
            return -1;
    if (store_nested(p, err) < 0 || store_doc(p, p->top.data, p->top.len, p->top.digest, err) < 0)
        return -1;
    struct gantry_oci_descriptor old = GANTRY_OCI_DESCRIPTOR_INIT;
    out->changed = gantry_store_ref_get(p->s, p->name, &old, NULL) < 0 ||
                   strcmp(old.digest, p->top.digest) != 0;
    gantry_oci_descriptor_release(&old);
    struct gantry_oci_descriptor d = GANTRY_OCI_DESCRIPTOR_INIT;
    gantry_oci_descriptor_init(&d, p->top.media_type, p->top.digest, (int64_t)p->top.len);
    int rc = gantry_store_ref_set(p->s, p->name, &d, err);
    gantry_oci_descriptor_release(&d);
    out->manifests_copied =
        p->n_mans + (is_index ? 1 : 0) + (p->all_docs ? p->nest.n_read : p->n_docs);
    return rc;
}

int gantry_transfer_pull(struct gantry_store *s, struct gantry_registry_client *c, const char *ref,
                         const struct gantry_transfer_pull_opts *opts,
                         struct gantry_transfer_result *out, struct gantry_error **err)
{
    *out = (struct gantry_transfer_result){0};
    __attribute__((cleanup(pull_release))) struct pull p = {.s = s, .c = c, .o = opts};
    if (gantry_ref_parse(ref, strlen(ref), &p.ref, err) < 0)
        return -1;
    p.name = gantry_ref_to_string(&p.ref);
    if (gantry_registry_get_manifest(c, &p.ref, &p.top, err) < 0)
        return -1;
    int rc =
        gantry_oci_is_index_type(p.top.media_type) ? plan_index(&p, err) : plan_manifest(&p, err);
    /* The registry's errors name the reference already. */
    if (rc < 0 || pull_store(&p, out, err) < 0)
        return -1;
    out->name = steal_pointer(&p.name);
    snprintf(out->digest, sizeof(out->digest), "%s", p.top.digest);
    out->media_type = xstrdup(p.top.media_type);
    out->size = (int64_t)p.top.len;
    out->blobs_copied = atomic_load(&p.copied);
    out->blobs_present = atomic_load(&p.present);
    out->bytes_copied = atomic_load(&p.bytes);
    return 0;
}

void gantry_transfer_result_release(struct gantry_transfer_result *r)
{
    if (!r)
        return;
    free(r->name);
    free(r->media_type);
    *r = (struct gantry_transfer_result){0};
}
