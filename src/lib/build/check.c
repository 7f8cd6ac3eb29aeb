/*
 * gantry build --check: the whole build parsed and resolved for every
 * platform without building, every problem collected (one line each)
 * instead of stopping at the first. Stages are walked with a light scope:
 * ARG and ENV run through the step table (they only edit the config), so
 * COPY/ADD sources expand as in a real build; nothing is pulled,
 * downloaded or written.
 */
#include <sys/stat.h>

#include <gantry/image.h>
#include <gantry/ref.h>
#include <gantry/registry.h>

#include "build/build_internal.h"

struct check {
    struct build_ctx *ctx;
    struct gantry_build_check_result *out;
};

/* Add a problem once (several platforms often find the same one). */
static void add_problem(struct check *k, char *msg)
{
    struct gantry_build_check_result *o = k->out;
    for (size_t i = 0; i < o->n_problems; i++)
        if (strcmp(o->problems[i], msg) == 0) {
            free(msg);
            return;
        }
    o->problems = xrealloc(o->problems, (o->n_problems + 1) * sizeof *o->problems);
    o->problems[o->n_problems++] = msg;
}

/* The message of *err as a problem (redacted), and *err cleared. */
static void add_error(struct check *k, struct gantry_error **err)
{
    build_error_redact(err);
    add_problem(k, xstrdup(*err ? (*err)->message : "unknown error"));
    gantry_error_free(*err);
    *err = NULL;
}

/* Whether an image reference would resolve: local, or a registry name. */
static bool image_usable(struct check *k, const char *ref)
{
    _cleanup_descriptor_ struct gantry_oci_descriptor top = GANTRY_OCI_DESCRIPTOR_INIT;
    _cleanup_error_ struct gantry_error *e = NULL;
    if (gantry_image_resolve(k->ctx->store, ref, &top, NULL, &e) == 0)
        return true;
    return gantry_ref_names_registry(ref);
}

/* $NAME and ${NAME} (no modifier: those carry their own default) unset in scope. */
static void undefined_args(struct check *k, const char *word,
                           const struct gantry_dockerfile_vars *v, size_t line)
{
    for (const char *p = word; (p = strchr(p, '$')); p++) {
        if (p > word && p[-1] == k->ctx->df->escape)
            continue;
        bool brace = p[1] == '{';
        const char *n = p + 1 + brace;
        size_t len = 0;
        while (n[len] == '_' || (n[len] >= 'a' && n[len] <= 'z') ||
               (n[len] >= 'A' && n[len] <= 'Z') || (len && n[len] >= '0' && n[len] <= '9'))
            len++;
        if (!len || (brace && n[len] != '}'))
            continue;
        _cleanup_free_ char *name = xstrndup(n, len);
        if (!gantry_dockerfile_vars_get(v, name))
            add_problem(k, xasprintf("%s:%zu: FROM argument '%s' is not declared", k->ctx->df->name,
                                     line, name));
    }
}

/* Every FROM's undefined ARGs, before resolution (which stops at the first error). */
static void check_from_args(struct check *k, const struct gantry_platform *target)
{
    struct gantry_dockerfile_vars g = GANTRY_DOCKERFILE_VARS_INIT;
    struct gantry_error *e = NULL;
    if (gantry_dockerfile_global_scope(k->ctx->df, &k->ctx->host, target, k->ctx->opts->build_args,
                                       &g, &e) < 0)
        add_error(k, &e);
    for (size_t i = 0; !e && i < k->ctx->df->n_stages; i++) {
        const struct gantry_dockerfile_stage *ds = &k->ctx->df->stages[i];
        undefined_args(k, ds->base, &g, ds->from.line);
        if (ds->platform)
            undefined_args(k, ds->platform, &g, ds->from.line);
    }
    gantry_dockerfile_vars_release(&g);
}

/* FROM: a base that is neither scratch, a stage, local nor a registry name. */
static void check_from(struct check *k, const struct gantry_dockerfile_resolved *res, size_t i)
{
    const struct gantry_dockerfile_stage *ds = &k->ctx->df->stages[i];
    const struct gantry_dockerfile_resolved_stage *rs = &res->stages[i];
    if (rs->scratch || rs->base_stage != GANTRY_DOCKERFILE_NO_STAGE || image_usable(k, rs->base))
        return;
    add_problem(k, xasprintf("%s:%zu: FROM %s: no such image: '%s' (not a stage, not local, "
                             "and its name has no registry host)",
                             k->ctx->df->name, ds->from.line, rs->base, rs->base));
}

/* COPY --from=<image> sources of stage i that name no usable image. */
static void check_from_images(struct check *k, const struct gantry_dockerfile_resolved *res,
                              size_t i)
{
    const struct gantry_dockerfile_resolved_stage *rs = &res->stages[i];
    for (size_t s = 0; s < rs->n_sources; s++) {
        const struct gantry_dockerfile_source *src = &rs->sources[s];
        if (src->stage == GANTRY_DOCKERFILE_NO_STAGE && !image_usable(k, src->image))
            add_problem(k, xasprintf("%s:%zu: --from=%s: not a stage of the Dockerfile, not a "
                                     "local image, and its name has no registry host",
                                     k->ctx->df->name, src->line, src->image));
    }
}

/* One expanded COPY/ADD source of the context. */
static void check_source(struct check *k, struct build_stage *st,
                         const struct gantry_dockerfile_instruction *in, const char *src)
{
    const char *df = k->ctx->df->name;
    bool add = in->kind == GANTRY_DOCKERFILE_ADD;
    _cleanup_free_ char *shown = gantry_registry_redact(src);
    if (add && build_is_git_source(src))
        add_problem(k, xasprintf("%s:%zu: ADD failed: git sources are not supported: '%s'", df,
                                 in->line, shown));
    else if (build_is_url(src) && !add)
        add_problem(k, xasprintf("%s:%zu: COPY failed: source can't be a URL for COPY: '%s'", df,
                                 in->line, shown));
    if (build_is_url(src) || (add && build_is_git_source(src)))
        return;
    /* Resolved by the build's own code, so the messages are the build's. */
    struct gantry_error *e = NULL;
    if (build_copy_check_source(st, in, src, &e) < 0)
        add_error(k, &e);
}

/* COPY/ADD: every source of the context (--from sources are checked apart). */
static void check_copy(struct check *k, struct build_stage *st,
                       const struct gantry_dockerfile_instruction *in)
{
    if (gantry_dockerfile_flag(in, "from"))
        return;
    for (size_t i = 0; i + 1 < in->n_args; i++) {
        if (gantry_dockerfile_heredoc_for(in, in->args[i]))
            continue;
        _cleanup_free_ char *src = NULL;
        struct gantry_error *e = NULL;
        if (build_stage_expand(st, in, in->args[i], &src, &e) < 0)
            add_error(k, &e);
        else
            check_source(k, st, in, src);
    }
}

static void check_instruction(struct check *k, struct build_stage *st,
                              const struct gantry_dockerfile_instruction *in)
{
    struct gantry_error *e = NULL;
    switch (in->kind) {
    case GANTRY_DOCKERFILE_ARG:
    case GANTRY_DOCKERFILE_ENV:
        if (build_step_run(st, in, &e) < 0)
            add_error(k, &e);
        return;
    case GANTRY_DOCKERFILE_RUN:
        add_problem(k, xasprintf("%s:%zu: RUN is not supported yet (it comes with the RUN issue)",
                                 k->ctx->df->name, in->line));
        return;
    case GANTRY_DOCKERFILE_ADD:
    case GANTRY_DOCKERFILE_COPY:
        check_copy(k, st, in);
        return;
    default:
        return;
    }
}

/* The scope of stage i: its base's config when local or a stage, else empty. */
static void stage_scope(struct build_stage *st, size_t i)
{
    const struct gantry_dockerfile_resolved_stage *rs = &st->res->stages[i];
    struct gantry_error *e = NULL;
    bool ok = (rs->base_stage == GANTRY_DOCKERFILE_NO_STAGE || st->all[rs->base_stage].config) &&
              build_stage_init_base(st, i, &e) == 0;
    gantry_error_free(e); /* check_from reports an unusable base */
    if (ok)
        return;
    build_stage_release(st);
    const struct gantry_platform *p = &rs->platform;
    st->config = gantry_oci_config_new(p->os, p->architecture, p->variant);
}

static void check_stages(struct check *k, const struct gantry_dockerfile_resolved *res)
{
    struct build_stage *all = xcalloc(res->n_stages, sizeof *all);
    for (size_t i = 0; i < res->n_stages; i++)
        all[i] = (struct build_stage){.ctx = k->ctx,
                                      .df_stage = &k->ctx->df->stages[i],
                                      .res = res,
                                      .all = all,
                                      .target = &res->stages[i].platform};
    for (size_t i = 0; i < res->n_stages; i++) {
        if (!res->stages[i].needed)
            continue;
        check_from(k, res, i);
        check_from_images(k, res, i);
        stage_scope(&all[i], i);
        for (size_t n = 0; n < all[i].df_stage->n_instructions; n++)
            check_instruction(k, &all[i], &all[i].df_stage->instructions[n]);
    }
    for (size_t i = 0; i < res->n_stages; i++)
        build_stage_release(&all[i]);
    free(all);
}

static void check_platform(struct check *k, const struct gantry_platform *target)
{
    struct gantry_dockerfile_resolve_opts ro = {.build = &k->ctx->host,
                                                .target = target,
                                                .build_args = k->ctx->opts->build_args,
                                                .target_stage = k->ctx->opts->target};
    struct gantry_dockerfile_resolved *res = NULL;
    struct gantry_error *e = NULL;
    check_from_args(k, target);
    if (gantry_dockerfile_resolve_from(k->ctx->df, &ro, &res, &e) < 0) {
        add_error(k, &e);
        return;
    }
    for (size_t i = 0; i < res->n_warnings; i++)
        add_problem(k, xstrdup(res->warnings[i]));
    check_stages(k, res);
    gantry_dockerfile_resolved_free(res);
}

int gantry_build_check(struct gantry_store *s, const struct gantry_build_opts *opts,
                       struct gantry_build_check_result *out, struct gantry_error **err)
{
    memset(out, 0, sizeof *out);
    struct gantry_build_opts o = *opts;
    o.client = NULL; /* a check never pulls */
    __attribute__((cleanup(build_ctx_close))) struct build_ctx c = {0};
    struct check k = {.ctx = &c, .out = out};
    struct gantry_error *e = NULL;
    if (build_ctx_open(&c, s, &o, &e) < 0) {
        if (e->code != GANTRY_E_PARSE || c.df) {
            if (err)
                *err = e;
            else
                gantry_error_free(e);
            return -1;
        }
        add_error(&k, &e); /* the parser stops at its first error */
        return 0;
    }
    for (size_t i = 0; i < c.df->n_warnings; i++)
        add_problem(&k, xstrdup(c.df->warnings[i]));
    const struct gantry_platform *plats = opts->n_platforms ? opts->platforms : &c.host;
    size_t n = opts->n_platforms ? opts->n_platforms : 1;
    for (size_t i = 0; i < n; i++)
        check_platform(&k, &plats[i]);
    return 0;
}

void gantry_build_check_result_release(struct gantry_build_check_result *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_problems; i++)
        free(r->problems[i]);
    free(r->problems);
    memset(r, 0, sizeof *r);
}
