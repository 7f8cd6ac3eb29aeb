/*
 * gantry_build: read and parse the Dockerfile, then for each target
 * platform resolve the stages, run the needed ones in order and store the
 * target stage's config and manifest; several platforms make an index.
 * Names are set last. The stages and platforms run in run.c (in
 * parallel); layers go through the step cache (cache.c).
 */
#include <libgen.h>
#include <time.h>

#include <gantry/ref.h>

#include "build/build_internal.h"

static void ctx_release(struct build_ctx *c)
{
    gantry_dockerfile_free(c->df);
    gantry_dockerignore_free(c->ignore);
    free(c->context);
    gantry_platform_release(&c->host);
    build_cache_free(c->cache);
}

static int read_epoch(int64_t *out, struct gantry_error **err)
{
    const char *env = getenv("SOURCE_DATE_EPOCH");
    *out = -1;
    if (!env || !*env)
        return 0;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(env, &end, 10);
    if (errno || *end || v < 0)
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0, "invalid SOURCE_DATE_EPOCH '%s'",
                                env);
    *out = (int64_t)v;
    return 0;
}

/* <Dockerfile>.dockerignore beside the Dockerfile, else <context>/.dockerignore. */
static int load_ignore(struct build_ctx *c, const char *dockerfile, struct gantry_error **err)
{
    _cleanup_buf_ struct gantry_buf b = GANTRY_BUF_INIT_CAP(16u << 20);
    _cleanup_free_ char *own = xasprintf("%s.dockerignore", dockerfile);
    _cleanup_free_ char *ctx = xasprintf("%s/.dockerignore", c->context);
    if (gantry_buf_read_file(&b, own, NULL) < 0 && gantry_buf_read_file(&b, ctx, NULL) < 0)
        return 0;
    return gantry_dockerignore_parse(b.data, b.len, &c->ignore, err);
}

static int load_dockerfile(struct build_ctx *c, struct gantry_error **err)
{
    const struct gantry_build_opts *o = c->opts;
    c->context = realpath(o->context, NULL);
    if (!c->context)
        return gantry_error_set(err, errno == ENOENT ? GANTRY_E_NOT_FOUND : GANTRY_E_IO, errno,
                                "build context '%s'", o->context);
    _cleanup_free_ char *path =
        o->dockerfile ? xstrdup(o->dockerfile) : xasprintf("%s/Dockerfile", c->context);
    _cleanup_buf_ struct gantry_buf b = GANTRY_BUF_INIT_CAP(16u << 20);
    if (gantry_buf_read_file(&b, path, err) < 0)
        return gantry_error_prefix(err, "read Dockerfile '%s'", path);
    _cleanup_free_ char *copy = xstrdup(path);
    struct gantry_dockerfile_parse_opts po = {.name = basename(copy)};
    if (gantry_dockerfile_parse(b.data, b.len, &po, &c->df, err) < 0)
        return -1;
    return load_ignore(c, path, err);
}

/* build_ctx_open's context, with the step cache. */
static int ctx_init(struct build_ctx *c, struct gantry_store *s, const struct gantry_build_opts *o,
                    struct gantry_error **err)
{
    if (build_ctx_open(c, s, o, err) < 0)
        return -1;
    c->cache = build_cache_new(s, c->context, o->no_cache);
    return 0;
}

/* The full names of the -t options; a digest is refused. */
static int normalize_tags(const struct gantry_build_opts *o, struct gantry_build_result *r,
                          struct gantry_error **err)
{
    r->names = xcalloc(o->n_tags + 1, sizeof *r->names);
    for (size_t i = 0; i < o->n_tags; i++) {
        struct gantry_ref ref = GANTRY_REF_INIT;
        if (gantry_ref_parse(o->tags[i], strlen(o->tags[i]), &ref, err) < 0)
            return -1;
        if (ref.digest) {
            gantry_ref_release(&ref);
            return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0,
                                    "invalid tag '%s': a name cannot contain a digest", o->tags[i]);
        }
        r->names[r->n_names++] = gantry_ref_to_string(&ref);
        gantry_ref_release(&ref);
    }
    return 0;
}

static int apply_labels(struct build_stage *st, struct gantry_error **err)
{
    for (size_t i = 0; i < st->ctx->opts->n_labels; i++) {
        const char *l = st->ctx->opts->labels[i];
        const char *eq = strchr(l, '=');
        if (!eq || eq == l)
            return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0, "invalid label '%s': want k=v",
                                    l);
        struct gantry_dockerfile_kv kv = {xstrndup(l, (size_t)(eq - l)), xstrdup(eq + 1)};
        struct gantry_oci_exec_config *x = &st->config->config;
        x->labels = xrealloc(x->labels, (x->n_labels + 1) * sizeof *x->labels);
        x->labels[x->n_labels++] = (struct gantry_oci_kv){kv.key, kv.value};
    }
    return 0;
}

static struct gantry_oci_platform *config_platform(const struct gantry_oci_config *c)
{
    struct gantry_oci_platform *p = xcalloc(1, sizeof *p);
    p->os = xstrdup(c->os);
    p->architecture = xstrdup(c->architecture);
    p->variant = c->variant ? xstrdup(c->variant) : NULL;
    p->os_version = c->os_version ? xstrdup(c->os_version) : NULL;
    return p;
}

int build_store_image(struct build_stage *st, struct gantry_oci_descriptor *desc,
                      char config_digest[GANTRY_DIGEST_MAX], struct gantry_error **err)
{
    struct gantry_oci_config *c = st->config;
    free(c->created);
    c->created = build_format_time(st->ctx->created);
    _cleanup_descriptor_ struct gantry_oci_descriptor cd = GANTRY_OCI_DESCRIPTOR_INIT;
    if (apply_labels(st, err) < 0 || gantry_oci_config_serialize(c, err) < 0 ||
        gantry_store_put_blob(st->ctx->store, c->raw, c->raw_len, config_digest, err) < 0)
        return -1;
    gantry_oci_descriptor_init(&cd, GANTRY_MT_OCI_CONFIG, config_digest, (int64_t)c->raw_len);
    _cleanup_manifest_ struct gantry_oci_manifest *m =
        gantry_oci_manifest_build(GANTRY_MT_OCI_MANIFEST, &cd, st->layers, st->n_layers, err);
    char digest[GANTRY_DIGEST_MAX];
    if (!m || gantry_store_put_blob(st->ctx->store, m->raw, m->raw_len, digest, err) < 0)
        return -1;
    gantry_oci_descriptor_init(desc, GANTRY_MT_OCI_MANIFEST, digest, (int64_t)m->raw_len);
    desc->platform = config_platform(c);
    return 0;
}

static void release_descs(struct gantry_oci_descriptor *d, size_t n)
{
    for (size_t i = 0; i < n; i++)
        gantry_oci_descriptor_release(&d[i]);
    free(d);
}

/* Every platform; one gives its manifest, several an index. */
static int build_all(struct build_ctx *c, struct gantry_oci_descriptor *top,
                     struct gantry_build_result *r, struct gantry_error **err)
{
    struct gantry_platform host_only[1] = {c->host};
    const struct gantry_platform *plats = c->opts->n_platforms ? c->opts->platforms : host_only;
    size_t n = c->opts->n_platforms ? c->opts->n_platforms : 1;
    struct gantry_oci_descriptor *descs = xcalloc(n, sizeof *descs);
    char config_digest[GANTRY_DIGEST_MAX] = "";
    if (build_run_platforms(c, plats, n, descs, config_digest, err) < 0) {
        release_descs(descs, n);
        return -1;
    }
    if (n == 1) {
        gantry_oci_descriptor_copy(top, &descs[0]);
        snprintf(r->image_id, sizeof r->image_id, "%s", config_digest);
        release_descs(descs, n);
        return 0;
    }
    struct gantry_oci_index *idx = gantry_oci_index_build(GANTRY_MT_OCI_INDEX, descs, n, err);
    release_descs(descs, n);
    char digest[GANTRY_DIGEST_MAX];
    int rc = idx ? gantry_store_put_blob(c->store, idx->raw, idx->raw_len, digest, err) : -1;
    if (rc == 0) {
        gantry_oci_descriptor_init(top, GANTRY_MT_OCI_INDEX, digest, (int64_t)idx->raw_len);
        snprintf(r->image_id, sizeof r->image_id, "%s", digest);
        r->is_index = true;
    }
    gantry_oci_index_free(idx);
    return rc;
}

int gantry_build(struct gantry_store *s, const struct gantry_build_opts *opts,
                 struct gantry_build_result *out, struct gantry_error **err)
{
    memset(out, 0, sizeof *out);
    struct gantry_build_result r = {0};
    __attribute__((cleanup(ctx_release))) struct build_ctx c = {0};
    _cleanup_descriptor_ struct gantry_oci_descriptor top = GANTRY_OCI_DESCRIPTOR_INIT;
    int rc = normalize_tags(opts, &r, err) < 0 || ctx_init(&c, s, opts, err) < 0 ||
                     build_all(&c, &top, &r, err) < 0
                 ? -1
                 : 0;
    build_cache_save(c.cache); /* file digests stay true even when the build failed */
    if (rc < 0) {
        gantry_build_result_release(&r);
        return -1;
    }
    snprintf(r.digest, sizeof r.digest, "%s", top.digest);
    for (size_t i = 0; i < r.n_names; i++)
        if (gantry_store_ref_set(s, r.names[i], &top, err) < 0) {
            gantry_build_result_release(&r);
            return -1;
        }
    *out = r;
    return 0;
}

void gantry_build_result_release(struct gantry_build_result *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_names; i++)
        free(r->names[i]);
    free(r->names);
    memset(r, 0, sizeof *r);
}

/* ---- binstr: the context of gantry_build_check (check.c): no cache ---- */

int build_ctx_open(struct build_ctx *c, struct gantry_store *s, const struct gantry_build_opts *o,
                   struct gantry_error **err)
{
    *c = (struct build_ctx){.store = s, .opts = o};
    if (!o->context)
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0, "no build context");
    if (read_epoch(&c->epoch, err) < 0 || gantry_platform_host(&c->host, err) < 0)
        return -1;
    c->created = c->epoch >= 0 ? c->epoch : (int64_t)time(NULL);
    return load_dockerfile(c, err);
}

void build_ctx_close(struct build_ctx *c)
{
    ctx_release(c);
    memset(c, 0, sizeof *c);
}
