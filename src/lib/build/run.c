/*
 * Running the stages of every target platform. Each platform's FROM lines
 * are resolved first; a stage whose result cannot depend on the target
 * (same platform, base and --from sources for every target, no TARGET*
 * ARG, and only such stages under it) runs once and its result is handed
 * to every platform. Every stage a target needs is then a task of one pool
 * of at most jobs workers, and so is storing each platform's image: a task
 * is ready when the stages it builds on or copies from (FROM, COPY --from)
 * are done, so independent stages and platforms run in parallel. Results
 * only depend on the graph, never on the order the tasks ran in. The
 * first error wins and stops the others at their next step. Steps report
 * events (gantry_build_opts.on_step), one call at a time.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "build/build_internal.h"

enum node_state { NODE_SKIP, NODE_WAIT, NODE_READY, NODE_RUN, NODE_DONE };

/* A task: stage i of platform p, or (i == n_stages) storing p's image. */
struct node {
    enum node_state state;
    size_t waiting; /* stages it needs that are not done yet */
};

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
    atomic_bool failed;
    struct gantry_error *first_err;
    /* The tasks: n_stages + 1 nodes per platform. sched guards them and
     * the counts; it may be held while taking lock, never the reverse. */
    size_t n_stages;
    struct node *nodes;
    size_t n_tasks, n_done, n_running;
    pthread_mutex_t sched;
    pthread_cond_t wake;
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

/* text: what the step shows ("ONBUILD COPY x /x" for a trigger). */
static int run_instruction(struct build_run *r, struct step *s, struct build_stage *st,
                           const struct gantry_dockerfile_instruction *in, const char *text,
                           struct gantry_error **err)
{
    if (atomic_load(&r->failed))
        return -1; /* another task failed: its error is the build's */
    if (!is_step(in->kind))
        return build_step_run(st, in, err);
    s->ev.n++;
    s->ev.text = text;
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

/* The base's ONBUILD triggers, right after FROM; they count as the stage's steps. */
static int run_triggers(struct build_run *r, struct step *s, struct build_stage *st, size_t i,
                        struct gantry_error **err)
{
    __attribute__((cleanup(build_triggers_release))) struct build_triggers t = {0};
    if (build_onbuild_take(st, i, &t, err) < 0)
        return -1;
    for (size_t k = 0; k < t.n_items; k++)
        s->ev.total += is_step(t.items[k]->trigger->kind);
    for (size_t k = 0; k < t.n_items; k++)
        if (run_instruction(r, s, st, t.items[k]->trigger, t.items[k]->original, err) < 0) {
            build_onbuild_error(st, i, k, err);
            return -1;
        }
    return 0;
}

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
    return rc < 0 ? -1 : run_triggers(r, s, st, i, err);
}

static int run_stage(struct build_run *r, struct build_stage *all, size_t i,
                     struct gantry_error **err)
{
    struct build_stage *st = &all[i];
    struct step s;
    step_init(&s, st, i);
    int rc = run_from(r, &s, st, i, err);
    for (size_t k = 0; rc == 0 && k < st->df_stage->n_instructions; k++) {
        const struct gantry_dockerfile_instruction *in = &st->df_stage->instructions[k];
        rc = run_instruction(r, &s, st, in, in->original, err);
    }
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
    dst->config = build_config_dup(src->config, err);
    if (!dst->config)
        return -1;
    dst->layers = xcalloc(src->n_layers ? src->n_layers : 1, sizeof *dst->layers);
    for (size_t k = 0; k < src->n_layers; k++)
        gantry_oci_descriptor_copy(&dst->layers[k], &src->layers[k]);
    dst->n_layers = src->n_layers;
    dst->built = true;
    return 0;
}

/* Shared stages run in platform 0's slot, reported with their own platform. */
static void mark_shared(struct build_run *r)
{
    for (size_t i = 0; r->n > 1 && i < r->n_stages; i++) {
        r->shared[i] = stage_is_shared(r, i);
        if (r->shared[i])
            r->all[0][i].target = NULL;
    }
}

/* ---- the tasks ---- */

static struct node *node_at(struct build_run *r, size_t p, size_t i)
{
    return &r->nodes[p * (r->n_stages + 1) + i];
}

/* Does task (p, i) wait for stage d of platform p? */
static bool node_needs(const struct build_run *r, size_t p, size_t i, size_t d)
{
    if (i == r->n_stages)
        return r->res[p]->target == d;
    const struct gantry_dockerfile_resolved_stage *rs = &r->res[p]->stages[i];
    for (size_t k = 0; k < rs->n_deps; k++)
        if (rs->deps[k] == d)
            return true;
    return false;
}

/* A shared stage is one task (platform 0's); the others are per platform. */
static bool node_active(const struct build_run *r, size_t p, size_t i)
{
    if (i == r->n_stages)
        return true;
    if (r->shared[i])
        return p == 0 && needed_anywhere(r, i);
    return r->res[p]->stages[i].needed;
}

static void sched_setup(struct build_run *r)
{
    r->nodes = xcalloc(r->n * (r->n_stages + 1), sizeof *r->nodes);
    for (size_t p = 0; p < r->n; p++)
        for (size_t i = 0; i <= r->n_stages; i++) {
            struct node *nd = node_at(r, p, i);
            if (!node_active(r, p, i))
                continue;
            nd->waiting = i == r->n_stages ? 1 : r->res[p]->stages[i].n_deps;
            nd->state = nd->waiting ? NODE_WAIT : NODE_READY;
            r->n_tasks++;
        }
}

/* Task (p, i) is done (a shared stage: for every platform); under sched. */
static void task_done(struct build_run *r, size_t p, size_t i)
{
    bool shared = i < r->n_stages && r->shared[i];
    size_t from = shared ? 0 : p, to = shared ? r->n : p + 1;
    for (size_t q = from; q < to; q++) {
        node_at(r, q, i)->state = NODE_DONE;
        for (size_t j = 0; i < r->n_stages && j <= r->n_stages; j++) {
            struct node *nd = node_at(r, q, j);
            if (nd->state == NODE_WAIT && node_needs(r, q, j, i) && --nd->waiting == 0)
                nd->state = NODE_READY;
        }
    }
    r->n_done++;
}

/* Shared stages first (every platform waits for them), then in order. */
static bool pick_ready(struct build_run *r, size_t *p, size_t *i)
{
    for (size_t k = 0; k < r->n_stages; k++)
        if (r->shared[k] && node_at(r, 0, k)->state == NODE_READY) {
            *p = 0, *i = k;
            return true;
        }
    for (size_t q = 0; q < r->n; q++)
        for (size_t k = 0; k <= r->n_stages; k++)
            if (node_at(r, q, k)->state == NODE_READY) {
                *p = q, *i = k;
                return true;
            }
    return false;
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

/* Wait for a ready task; false when all are done or the build failed. */
static bool next_task(struct build_run *r, size_t *p, size_t *i)
{
    bool got = false;
    pthread_mutex_lock(&r->sched);
    while (!got && !atomic_load(&r->failed) && r->n_done < r->n_tasks) {
        got = pick_ready(r, p, i);
        if (got) {
            node_at(r, *p, *i)->state = NODE_RUN;
            r->n_running++;
        } else if (r->n_running == 0) {
            /* Nothing runs, nothing is ready: the graph is broken. */
            struct gantry_error *e = NULL;
            gantry_error_set(&e, GANTRY_E_INTERNAL, 0, "build stages wait for each other");
            record_error(r, e);
            pthread_cond_broadcast(&r->wake);
        } else {
            pthread_cond_wait(&r->wake, &r->sched);
        }
    }
    pthread_mutex_unlock(&r->sched);
    return got;
}

static void task_end(struct build_run *r, size_t p, size_t i, bool ok)
{
    pthread_mutex_lock(&r->sched);
    r->n_running--;
    if (ok)
        task_done(r, p, i);
    pthread_cond_broadcast(&r->wake);
    pthread_mutex_unlock(&r->sched);
}

/* A stage (a shared one then handed to every platform), or storing an image. */
static int run_task(struct build_run *r, size_t p, size_t i, struct gantry_error **err)
{
    if (i == r->n_stages) {
        struct build_stage *t = &r->all[p][r->res[p]->target];
        return build_store_image(t, &r->descs[p], r->config_digests[p], err);
    }
    if (run_stage(r, r->all[p], i, err) < 0)
        return -1;
    for (size_t q = 1; r->shared[i] && q < r->n; q++)
        if (stage_copy(&r->all[q][i], &r->all[0][i], err) < 0)
            return -1;
    return 0;
}

static void *task_worker(void *arg)
{
    struct build_run *r = arg;
    size_t p, i;
    while (next_task(r, &p, &i)) {
        struct gantry_error *e = NULL;
        int rc = run_task(r, p, i, &e);
        if (rc < 0)
            record_error(r, e);
        task_end(r, p, i, rc == 0);
    }
    return NULL;
}

static size_t worker_count(const struct build_run *r)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    size_t jobs = r->ctx->opts->jobs ? r->ctx->opts->jobs : (cpus > 0 ? (size_t)cpus : 1);
    return jobs < r->n_tasks ? jobs : r->n_tasks;
}

/* At most jobs tasks at once; the calling thread is one of the workers. */
static void run_tasks(struct build_run *r)
{
    size_t want = worker_count(r), started = 0;
    pthread_t *t = xcalloc(want ? want : 1, sizeof *t);
    for (size_t k = 1; k < want; k++)
        if (pthread_create(&t[started], NULL, task_worker, r) == 0)
            started++;
    task_worker(r);
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
    r->n_stages = r->res[0]->n_stages;
    r->shared = xcalloc(r->n_stages + 1, sizeof *r->shared);
    mark_shared(r);
    sched_setup(r);
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
    free(r->nodes);
    free(r->config_digests);
    gantry_error_free(r->first_err);
    pthread_cond_destroy(&r->wake);
    pthread_mutex_destroy(&r->sched);
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
    pthread_mutex_init(&r.sched, NULL);
    pthread_cond_init(&r.wake, NULL);
    if (run_setup(&r, err) < 0)
        return -1;
    run_tasks(&r);
    if (r.failed) {
        if (!r.first_err)
            return gantry_error_set(err, GANTRY_E_INTERNAL, 0, "a build task failed without error");
        if (err)
            *err = steal_pointer(&r.first_err);
        return -1;
    }
    snprintf(config_digest, GANTRY_DIGEST_MAX, "%s", r.config_digests[0]);
    return 0;
}
