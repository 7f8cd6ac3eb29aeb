/*
 * FROM resolution for one target platform: expand each FROM in the global
 * scope, find the stage or image it builds on, resolve COPY --from and
 * RUN --mount from=, reject cycles, and mark what the target stage needs.
 */
#include <strings.h>

#include "dockerfile_internal.h"

struct resolver {
    const struct gantry_dockerfile *df;
    const struct gantry_dockerfile_resolve_opts *o;
    struct gantry_dockerfile_resolved *res;
};

static void stage_release(struct gantry_dockerfile_resolved_stage *st)
{
    free(st->base);
    gantry_ref_release(&st->base_ref);
    free(st->platform_expr);
    gantry_platform_release(&st->platform);
    for (size_t i = 0; i < st->n_sources; i++)
        free(st->sources[i].image);
    free(st->sources);
    free(st->deps);
}

void gantry_dockerfile_resolved_free(struct gantry_dockerfile_resolved *res)
{
    if (!res)
        return;
    gantry_dockerfile_vars_release(&res->global);
    for (size_t i = 0; i < res->n_stages; i++)
        stage_release(&res->stages[i]);
    free(res->stages);
    gantry_dockerfile_strv_free(res->warnings, res->n_warnings);
    free(res);
}

/* Expand s in the global scope; errors get "<name>:<line>: ". */
static int expand_global(struct resolver *rv, const char *s, size_t line, char **out,
                         struct gantry_error **err)
{
    struct gantry_dockerfile_expand_opts o = {.lookup = gantry_dockerfile_vars_lookup,
                                              .user = &rv->res->global,
                                              .escape = rv->df->escape};
    if (gantry_dockerfile_expand(s, strlen(s), &o, out, err) < 0)
        return gantry_error_prefix(err, "%s:%zu", rv->df->name, line);
    return 0;
}

/* The stage called name (case-insensitive) among the first n, or NO_STAGE. */
static size_t stage_named(const struct gantry_dockerfile *df, const char *name, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (df->stages[i].alias && strcasecmp(df->stages[i].alias, name) == 0)
            return i;
    return GANTRY_DOCKERFILE_NO_STAGE;
}

static int resolve_platform(struct resolver *rv, size_t i, struct gantry_error **err)
{
    const struct gantry_dockerfile_stage *st = &rv->df->stages[i];
    struct gantry_dockerfile_resolved_stage *rs = &rv->res->stages[i];
    if (!st->platform) {
        gantry_platform_copy(&rs->platform, rv->o->target);
        return 0;
    }
    if (expand_global(rv, st->platform, st->from.line, &rs->platform_expr, err) < 0)
        return -1;
    _cleanup_free_ char *q = df_quote(st->platform, strlen(st->platform));
    if (!*rs->platform_expr)
        return df_error(err, rv->df->name, st->from.line,
                        "empty platform value from expression '%s'", q);
    if (gantry_platform_parse(rs->platform_expr, strlen(rs->platform_expr), &rs->platform, err) < 0)
        return gantry_error_prefix(err, "%s:%zu", rv->df->name, st->from.line);
    return 0;
}

static int resolve_base(struct resolver *rv, size_t i, struct gantry_error **err)
{
    const struct gantry_dockerfile_stage *st = &rv->df->stages[i];
    struct gantry_dockerfile_resolved_stage *rs = &rv->res->stages[i];
    if (expand_global(rv, st->base, st->from.line, &rs->base, err) < 0)
        return -1;
    if (!*rs->base) {
        _cleanup_free_ char *q = df_quote(st->base, strlen(st->base));
        return df_error(err, rv->df->name, st->from.line, "base name '%s' should not be blank", q);
    }
    /* Only an earlier stage can be a base: FROM x AS x means the image x. */
    rs->base_stage = stage_named(rv->df, rs->base, i);
    if (rs->base_stage != GANTRY_DOCKERFILE_NO_STAGE)
        return 0;
    if (strcmp(rs->base, "scratch") == 0) {
        rs->scratch = true;
        return 0;
    }
    if (gantry_ref_parse(rs->base, strlen(rs->base), &rs->base_ref, err) < 0)
        return gantry_error_prefix(err, "%s:%zu", rv->df->name, st->from.line);
    return 0;
}

static bool all_digits(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

static void warn_near_stage(struct resolver *rv, const char *name, size_t line)
{
    if (strpbrk(name, ":/@"))
        return;
    for (size_t i = 0; i < rv->df->n_stages; i++) {
        const char *alias = rv->df->stages[i].alias;
        size_t cap = alias && strlen(alias) >= 5 ? 2 : 1;
        if (alias && df_edit_distance(name, alias, cap) <= cap) {
            _cleanup_free_ char *q = df_quote(name, strlen(name));
            df_strv_push(&rv->res->warnings, &rv->res->n_warnings,
                         xasprintf("%s:%zu: '%s' is not a stage, it is used as an image "
                                   "(did you mean stage '%s'?)",
                                   rv->df->name, line, q, alias));
            return;
        }
    }
}

/* A --from / from= value: a stage name, a stage index, or an image. */
static int add_source(struct resolver *rv, size_t i, const char *raw, size_t line,
                      struct gantry_error **err)
{
    struct gantry_dockerfile_resolved_stage *rs = &rv->res->stages[i];
    _cleanup_free_ char *v = NULL;
    if (expand_global(rv, raw, line, &v, err) < 0)
        return -1;
    struct gantry_dockerfile_source src = {.line = line, .stage = GANTRY_DOCKERFILE_NO_STAGE};
    if (all_digits(v)) {
        errno = 0;
        unsigned long long k = strtoull(v, NULL, 10);
        if (errno || k >= rv->df->n_stages)
            return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0,
                                    "%s:%zu: unknown stage in --from: invalid stage index %s",
                                    rv->df->name, line, v);
        src.stage = (size_t)k;
    } else {
        src.stage = stage_named(rv->df, v, rv->df->n_stages);
    }
    if (src.stage == GANTRY_DOCKERFILE_NO_STAGE) {
        struct gantry_ref ref = GANTRY_REF_INIT;
        if (gantry_ref_parse(v, strlen(v), &ref, err) < 0)
            return gantry_error_prefix(err, "%s:%zu: unknown stage in --from", rv->df->name, line);
        gantry_ref_release(&ref);
        warn_near_stage(rv, v, line);
        src.image = steal_pointer(&v);
    }
    rs->sources = xrealloc(rs->sources, (rs->n_sources + 1) * sizeof(*rs->sources));
    rs->sources[rs->n_sources++] = src;
    return 0;
}

static int resolve_sources(struct resolver *rv, size_t i, struct gantry_error **err)
{
    const struct gantry_dockerfile_stage *st = &rv->df->stages[i];
    for (size_t k = 0; k < st->n_instructions; k++) {
        const struct gantry_dockerfile_instruction *in = &st->instructions[k];
        const char *from =
            in->kind == GANTRY_DOCKERFILE_COPY ? gantry_dockerfile_flag(in, "from") : NULL;
        if (from && add_source(rv, i, from, in->line, err) < 0)
            return -1;
        for (size_t f = 0; in->kind == GANTRY_DOCKERFILE_RUN && f < in->n_flags; f++) {
            if (strcmp(in->flags[f].name, "mount") != 0)
                continue;
            _cleanup_free_ char *mfrom = df_mount_value(in->flags[f].value, "from");
            if (mfrom && add_source(rv, i, mfrom, in->line, err) < 0)
                return -1;
        }
    }
    return 0;
}

static void add_dep(struct gantry_dockerfile_resolved_stage *rs, size_t d)
{
    size_t at = 0;
    while (at < rs->n_deps && rs->deps[at] < d)
        at++;
    if (at < rs->n_deps && rs->deps[at] == d)
        return;
    rs->deps = xrealloc(rs->deps, (rs->n_deps + 1) * sizeof(size_t));
    memmove(rs->deps + at + 1, rs->deps + at, (rs->n_deps - at) * sizeof(size_t));
    rs->deps[at] = d;
    rs->n_deps++;
}

static const char *stage_label(const struct gantry_dockerfile *df, size_t i, char buf[32])
{
    if (df->stages[i].alias)
        return df->stages[i].alias;
    snprintf(buf, 32, "%zu", i);
    return buf;
}

/* Depth-first search; color: 0 new, 1 on the path, 2 done. */
static size_t find_cycle(const struct gantry_dockerfile_resolved *res, size_t i,
                         unsigned char *color)
{
    color[i] = 1;
    for (size_t k = 0; k < res->stages[i].n_deps; k++) {
        size_t d = res->stages[i].deps[k];
        if (color[d] == 1)
            return d;
        if (color[d] == 0) {
            size_t c = find_cycle(res, d, color);
            if (c != GANTRY_DOCKERFILE_NO_STAGE)
                return c;
        }
    }
    color[i] = 2;
    return GANTRY_DOCKERFILE_NO_STAGE;
}

static int check_graph(struct resolver *rv, struct gantry_error **err)
{
    struct gantry_dockerfile_resolved *res = rv->res;
    _cleanup_free_ unsigned char *color = xcalloc(res->n_stages, 1);
    for (size_t i = 0; i < res->n_stages; i++) {
        size_t c = color[i] ? GANTRY_DOCKERFILE_NO_STAGE : find_cycle(res, i, color);
        if (c != GANTRY_DOCKERFILE_NO_STAGE) {
            char buf[32];
            return gantry_error_set(
                err, GANTRY_E_INVALID_ARG, 0, "%s:%zu: circular dependency detected on stage '%s'",
                rv->df->name, rv->df->stages[c].from.line, stage_label(rv->df, c, buf));
        }
    }
    return 0;
}

static void mark_needed(struct gantry_dockerfile_resolved *res, size_t i)
{
    if (res->stages[i].needed)
        return;
    res->stages[i].needed = true;
    for (size_t k = 0; k < res->stages[i].n_deps; k++)
        mark_needed(res, res->stages[i].deps[k]);
}

static int find_target(struct resolver *rv, struct gantry_error **err)
{
    const char *t = rv->o->target_stage;
    rv->res->target = rv->df->n_stages - 1;
    if (!t)
        return 0;
    rv->res->target = stage_named(rv->df, t, rv->df->n_stages);
    if (rv->res->target == GANTRY_DOCKERFILE_NO_STAGE) {
        _cleanup_free_ char *q = df_quote(t, strlen(t));
        return gantry_error_set(err, GANTRY_E_NOT_FOUND, 0, "target stage '%s' could not be found",
                                q);
    }
    return 0;
}

static int resolve_stage(struct resolver *rv, size_t i, struct gantry_error **err)
{
    struct gantry_dockerfile_resolved_stage *rs = &rv->res->stages[i];
    if (resolve_base(rv, i, err) < 0 || resolve_platform(rv, i, err) < 0 ||
        resolve_sources(rv, i, err) < 0)
        return -1;
    if (rs->base_stage != GANTRY_DOCKERFILE_NO_STAGE)
        add_dep(rs, rs->base_stage);
    for (size_t k = 0; k < rs->n_sources; k++)
        if (rs->sources[k].stage != GANTRY_DOCKERFILE_NO_STAGE)
            add_dep(rs, rs->sources[k].stage);
    return 0;
}

int gantry_dockerfile_resolve_from(const struct gantry_dockerfile *df,
                                   const struct gantry_dockerfile_resolve_opts *opts,
                                   struct gantry_dockerfile_resolved **out,
                                   struct gantry_error **err)
{
    if (!opts || !opts->build || !opts->target)
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0,
                                "resolve: build and target platforms are required");
    struct gantry_dockerfile_resolved *res = xcalloc(1, sizeof(*res));
    struct resolver rv = {.df = df, .o = opts, .res = res};
    res->stages = xcalloc(df->n_stages ? df->n_stages : 1, sizeof(*res->stages));
    res->n_stages = df->n_stages;
    for (size_t i = 0; i < df->n_stages; i++)
        res->stages[i].base_stage = GANTRY_DOCKERFILE_NO_STAGE;
    int r = gantry_dockerfile_global_scope(df, opts->build, opts->target, opts->build_args,
                                           &res->global, err);
    for (size_t i = 0; r == 0 && i < df->n_stages; i++)
        r = resolve_stage(&rv, i, err);
    if (r == 0)
        r = check_graph(&rv, err);
    if (r == 0)
        r = find_target(&rv, err);
    if (r < 0) {
        gantry_dockerfile_resolved_free(res);
        return -1;
    }
    mark_needed(res, res->target);
    *out = res;
    return 0;
}
