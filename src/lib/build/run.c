/*
 * Running the stages of every target platform. Each platform's FROM lines
 * are resolved first; a stage whose result cannot depend on the target
 * (same platform, base and --from sources for every target, no TARGET*
 * ARG, and only such stages under it) runs once and its result is handed
 * to every platform. Then the platforms run in parallel, at most jobs at
 * a time; the first error wins and stops the others at their next step.
 * Steps report events (gantry_build_opts.on_step), one call at a time.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "build/build_internal.h"

struct build_run {
    struct build_ctx *ctx;
    const struct gantry_platform *plats;
    size_t n;                                /* platforms */
    struct gantry_dockerfile_resolved **res; /* per platform */
    struct build_stage **all;                /* per platform: one per stage */
    bool *shared;                            /* per stage */
    struct gantry_oci_descriptor *descs;     /* per platform: its manifest */
    char (*config_digests)[GANTRY_DIGEST_MAX];
    pthread_mutex_t lock; /* step events and ids, the first error */
    unsigned next_id;
    atomic_size_t next_platform;
    atomic_bool failed;
    struct gantry_error *first_err;
};

/* ---- step events ---- */

struct step {
    struct gantry_build_step ev;
    struct timespec t0;
    char *platform;
};

static bool is_step(enum gantry_dockerfile_kind k)
{
    return k == GANTRY_DOCKERFILE_COPY || k == GANTRY_DOCKERFILE_ADD ||
           k == GANTRY_DOCKERFILE_WORKDIR || k == GANTRY_DOCKERFILE_RUN;
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

static void step_emit(struct build_run *r, struct step *s, enum gantry_build_step_state state)
{
    const struct gantry_build_opts *o = r->ctx->opts;
    pthread_mutex_lock(&r->lock);
    if (state == GANTRY_BUILD_STEP_STARTED) {
        s->ev.id = ++r->next_id;
        clock_gettime(CLOCK_MONOTONIC, &s->t0);
    }
    s->ev.state = state;
    s->ev.elapsed = state == GANTRY_BUILD_STEP_STARTED ? 0 : seconds_since(&s->t0);
    if (o->on_step)
        o->on_step(o->step_user, &s->ev);
    pthread_mutex_unlock(&r->lock);
}

static void step_init(struct step *s, const struct build_stage *st, size_t i)
{
    const struct gantry_dockerfile_resolved_stage *rs = &st->res->stages[i];
    size_t total = rs->scratch ? 0 : 1;
    for (size_t k = 0; k < st->df_stage->n_instructions; k++)
        total += is_step(st->df_stage->instructions[k].kind);
    s->platform = gantry_platform_format(st->target ? st->target : &rs->platform);
    s->ev = (struct gantry_build_step){
        .platform = s->platform, .stage = st->df_stage->alias, .stage_index = i, .total = total};
}

/* ---- one stage ---- */

static int run_from(struct build_run *r, struct step *s, struct build_stage *st, size_t i,
                    struct gantry_error **err)
{
    const struct gantry_dockerfile_resolved_stage *rs = &st->res->stages[i];
    if (rs->scratch)
        return build_stage_init_base(st, i, err);
    _cleanup_free_ char *text = xasprintf("FROM %s", rs->base);
    s->ev.n = 1;
    s->ev.text = text;
    step_emit(r, s, GANTRY_BUILD_STEP_STARTED);
    int rc = build_stage_init_base(st, i, err);
    step_emit(r, s, rc < 0 ? GANTRY_BUILD_STEP_ERROR : GANTRY_BUILD_STEP_DONE);
    s->ev.text = NULL;
    return rc;
}

static int run_instruction(struct build_run *r, struct step *s, struct build_stage *st,
                           const struct gantry_dockerfile_instruction *in,
                           struct gantry_error **err)
{
    if (atomic_load(&r->failed))
        return -1; /* another platform failed: its error is the build's */
    if (!is_step(in->kind))
        return build_step_run(st, in, err);
    s->ev.n++;
    s->ev.text = in->original;
    step_emit(r, s, GANTRY_BUILD_STEP_STARTED);
    unsigned written = st->layers_written, cached = st->layers_cached;
    int rc = build_step_run(st, in, err);
    written = st->layers_written - written;
    cached = st->layers_cached - cached;
    enum gantry_build_step_state state = GANTRY_BUILD_STEP_DONE;
    if (rc < 0)
        state = GANTRY_BUILD_STEP_ERROR;
    else if (written && cached == written)
        state = GANTRY_BUILD_STEP_CACHED;
    step_emit(r, s, state);
    return rc;
}

static int run_stage(struct build_run *r, struct build_stage *all, size_t i,
                     struct gantry_error **err)
{
    struct build_stage *st = &all[i];
    struct step s;
    step_init(&s, st, i);
    int rc = run_from(r, &s, st, i, err);
    for (size_t k = 0; rc == 0 && k < st->df_stage->n_instructions; k++)
        rc = run_instruction(r, &s, st, &st->df_stage->instructions[k], err);
    free(s.platform);
    if (rc == 0)
        st->built = true;
    return rc;
}

/* ---- stages shared by every platform ---- */

static bool declares_target_arg(const struct gantry_dockerfile_stage *ds)
{
    for (size_t k = 0; k < ds->n_instructions; k++) {
        const struct gantry_dockerfile_instruction *in = &ds->instructions[k];
        for (size_t a = 0; in->kind == GANTRY_DOCKERFILE_ARG && a < in->n_kvs; a++)
            if (str_has_prefix(in->kvs[a].key, "TARGET"))
                return true;
    }
    return false;
}

static bool same_str(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

static bool same_resolution(const struct gantry_dockerfile_resolved_stage *a,
                            const struct gantry_dockerfile_resolved_stage *b)
{
    if (!gantry_platform_equal(&a->platform, &b->platform) || !same_str(a->base, b->base) ||
        a->base_stage != b->base_stage || a->scratch != b->scratch || a->n_sources != b->n_sources)
        return false;
    for (size_t k = 0; k < a->n_sources; k++)
        if (a->sources[k].stage != b->sources[k].stage ||
            !same_str(a->sources[k].image, b->sources[k].image))
            return false;
    return true;
}

/* Stages depend on earlier ones only through shared[]: decided in order. */
static bool stage_is_shared(const struct build_run *r, size_t i)
{
    const struct gantry_dockerfile_resolved_stage *rs = &r->res[0]->stages[i];
    if (declares_target_arg(&r->ctx->df->stages[i]))
        return false;
    for (size_t p = 1; p < r->n; p++)
        if (!same_resolution(rs, &r->res[p]->stages[i]))
            return false;
    for (size_t k = 0; k < rs->n_deps; k++)
        if (rs->deps[k] >= i || !r->shared[rs->deps[k]])
            return false;
    return true;
}

static bool needed_anywhere(const struct build_run *r, size_t i)
{
    for (size_t p = 0; p < r->n; p++)
        if (r->res[p]->stages[i].needed)
            return true;
    return false;
}

/* dst gets the result of the built stage src (config and layers). */
static int stage_copy(struct build_stage *dst, const struct build_stage *src,
                      struct gantry_error **err)
{
    if (gantry_oci_config_serialize(src->config, err) < 0)
        return -1;
    dst->config = gantry_oci_config_parse(src->config->raw, src->config->raw_len, err);
    if (!dst->config)
        return -1;
    dst->layers = xcalloc(src->n_layers ? src->n_layers : 1, sizeof *dst->layers);
    for (size_t k = 0; k < src->n_layers; k++)
        gantry_oci_descriptor_copy(&dst->layers[k], &src->layers[k]);
    dst->n_layers = src->n_layers;
    dst->built = true;
    return 0;
}

/* Run the shared stages once (in platform 0's stages), then hand them out. */
static int run_shared(struct build_run *r, struct gantry_error **err)
{
    size_t n_stages = r->res[0]->n_stages;
    for (size_t i = 0; r->n > 1 && i < n_stages; i++)
        r->shared[i] = stage_is_shared(r, i);
    for (size_t i = 0; i < n_stages; i++) {
        if (!r->shared[i] || !needed_anywhere(r, i))
            continue;
        r->all[0][i].target = NULL;
        if (run_stage(r, r->all[0], i, err) < 0)
            return -1;
        for (size_t p = 1; p < r->n; p++)
            if (stage_copy(&r->all[p][i], &r->all[0][i], err) < 0)
                return -1;
    }
    return 0;
}

/* ---- the platforms ---- */

static int build_one(struct build_run *r, size_t p, struct gantry_error **err)
{
    const struct gantry_dockerfile_resolved *res = r->res[p];
    for (size_t i = 0; i < res->n_stages; i++)
        if (res->stages[i].needed && !r->all[p][i].built && run_stage(r, r->all[p], i, err) < 0)
            return -1;
    return build_store_image(&r->all[p][res->target], &r->descs[p], r->config_digests[p], err);
}

static void record_error(struct build_run *r, struct gantry_error *e)
{
    pthread_mutex_lock(&r->lock);
    if (!r->first_err && e)
        r->first_err = e;
    else
        gantry_error_free(e);
    atomic_store(&r->failed, true);
    pthread_mutex_unlock(&r->lock);
}

static void *platform_worker(void *arg)
{
    struct build_run *r = arg;
    size_t p;
    while (!atomic_load(&r->failed) && (p = atomic_fetch_add(&r->next_platform, 1)) < r->n) {
        struct gantry_error *e = NULL;
        if (build_one(r, p, &e) < 0)
            record_error(r, e);
    }
    return NULL;
}

static size_t worker_count(const struct build_run *r)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    size_t jobs = r->ctx->opts->jobs ? r->ctx->opts->jobs : (cpus > 0 ? (size_t)cpus : 1);
    return jobs < r->n ? jobs : r->n;
}

/* The calling thread is one of the workers. */
static void run_platforms(struct build_run *r)
{
    size_t want = worker_count(r), started = 0;
    pthread_t *t = xcalloc(want, sizeof *t);
    for (size_t k = 1; k < want; k++)
        if (pthread_create(&t[started], NULL, platform_worker, r) == 0)
            started++;
    platform_worker(r);
    for (size_t k = 0; k < started; k++)
        pthread_join(t[k], NULL);
    free(t);
}

static int run_setup(struct build_run *r, struct gantry_error **err)
{
    struct build_ctx *c = r->ctx;
    for (size_t p = 0; p < r->n; p++) {
        struct gantry_dockerfile_resolve_opts ro = {.build = &c->host,
                                                    .target = &r->plats[p],
                                                    .build_args = c->opts->build_args,
                                                    .target_stage = c->opts->target};
        if (gantry_dockerfile_resolve_from(c->df, &ro, &r->res[p], err) < 0)
            return -1;
        size_t n_stages = r->res[p]->n_stages;
        r->all[p] = xcalloc(n_stages ? n_stages : 1, sizeof *r->all[p]);
        for (size_t i = 0; i < n_stages; i++)
            r->all[p][i] = (struct build_stage){.ctx = c,
                                                .df_stage = &c->df->stages[i],
                                                .res = r->res[p],
                                                .all = r->all[p],
                                                .target = &r->plats[p]};
    }
    r->shared = xcalloc(r->res[0]->n_stages + 1, sizeof *r->shared);
    return 0;
}

static void run_release(struct build_run *r)
{
    for (size_t p = 0; p < r->n; p++) {
        for (size_t i = 0; r->all[p] && i < r->res[p]->n_stages; i++)
            build_stage_release(&r->all[p][i]);
        free(r->all[p]);
        gantry_dockerfile_resolved_free(r->res[p]);
    }
    free(r->all);
    free(r->res);
    free(r->shared);
    free(r->config_digests);
    gantry_error_free(r->first_err);
    pthread_mutex_destroy(&r->lock);
}

int build_run_platforms(struct build_ctx *c, const struct gantry_platform *plats, size_t n,
                        struct gantry_oci_descriptor *descs, char config_digest[GANTRY_DIGEST_MAX],
                        struct gantry_error **err)
{
    __attribute__((cleanup(run_release))) struct build_run r = {
        .ctx = c,
        .plats = plats,
        .n = n,
        .res = xcalloc(n, sizeof *r.res),
        .all = xcalloc(n, sizeof *r.all),
        .descs = descs,
        .config_digests = xcalloc(n, sizeof *r.config_digests)};
    pthread_mutex_init(&r.lock, NULL);
    int rc = run_setup(&r, err) < 0 || run_shared(&r, err) < 0 ? -1 : 0;
    if (rc == 0)
        run_platforms(&r);
    if (rc == 0 && r.failed) {
        if (!r.first_err)
            return gantry_error_set(err, GANTRY_E_INTERNAL, 0, "a platform failed without error");
        if (err)
            *err = steal_pointer(&r.first_err);
        return -1;
    }
    if (rc == 0)
        snprintf(config_digest, GANTRY_DIGEST_MAX, "%s", r.config_digests[0]);
    return rc;
}
