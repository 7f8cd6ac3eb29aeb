/*
 * ARG scopes (BuildKit dockerfile2llb): the automatic platform ARGs, the
 * global scope that FROM lines see, and what an ARG inside a stage gets.
 */
#include "dockerfile_internal.h"

static const char *const platform_arg_names[] = {
    "BUILDPLATFORM",  "BUILDOS",  "BUILDARCH",  "BUILDVARIANT",
    "TARGETPLATFORM", "TARGETOS", "TARGETARCH", "TARGETVARIANT",
};

static void set_platform(struct gantry_dockerfile_vars *out, const char *prefix,
                         const struct gantry_platform *p)
{
    char name[32];
    _cleanup_free_ char *full = gantry_platform_format(p);
    snprintf(name, sizeof(name), "%sPLATFORM", prefix);
    gantry_dockerfile_vars_set(out, name, full);
    snprintf(name, sizeof(name), "%sOS", prefix);
    gantry_dockerfile_vars_set(out, name, p->os ? p->os : "");
    snprintf(name, sizeof(name), "%sARCH", prefix);
    gantry_dockerfile_vars_set(out, name, p->architecture ? p->architecture : "");
    snprintf(name, sizeof(name), "%sVARIANT", prefix);
    gantry_dockerfile_vars_set(out, name, p->variant ? p->variant : "");
}

void gantry_dockerfile_platform_args(const struct gantry_platform *build,
                                     const struct gantry_platform *target,
                                     struct gantry_dockerfile_vars *out)
{
    set_platform(out, "BUILD", build);
    set_platform(out, "TARGET", target);
}

static int global_arg(const struct gantry_dockerfile *df,
                      const struct gantry_dockerfile_instruction *in,
                      const struct gantry_dockerfile_kv *kv,
                      const struct gantry_dockerfile_vars *build_args,
                      struct gantry_dockerfile_vars *scope, struct gantry_error **err)
{
    const char *given = gantry_dockerfile_vars_get(build_args, kv->key);
    if (given) {
        gantry_dockerfile_vars_set(scope, kv->key, given);
        return 0;
    }
    if (!kv->value)
        return 0;
    struct gantry_dockerfile_expand_opts o = {
        .lookup = gantry_dockerfile_vars_lookup, .user = scope, .escape = df->escape};
    _cleanup_free_ char *v = NULL;
    if (gantry_dockerfile_expand(kv->value, strlen(kv->value), &o, &v, err) < 0)
        return gantry_error_prefix(err, "%s:%zu", df->name, in->line);
    gantry_dockerfile_vars_set(scope, kv->key, v);
    return 0;
}

int gantry_dockerfile_global_scope(const struct gantry_dockerfile *df,
                                   const struct gantry_platform *build,
                                   const struct gantry_platform *target,
                                   const struct gantry_dockerfile_vars *build_args,
                                   struct gantry_dockerfile_vars *out, struct gantry_error **err)
{
    struct gantry_dockerfile_vars scope = GANTRY_DOCKERFILE_VARS_INIT;
    gantry_dockerfile_platform_args(build, target, &scope);
    for (size_t i = 0; i < ARRAY_SIZE(platform_arg_names); i++) {
        const char *v = gantry_dockerfile_vars_get(build_args, platform_arg_names[i]);
        if (v)
            gantry_dockerfile_vars_set(&scope, platform_arg_names[i], v);
    }
    for (size_t i = 0; i < df->n_global_args; i++) {
        const struct gantry_dockerfile_instruction *in = &df->global_args[i];
        for (size_t k = 0; k < in->n_kvs; k++) {
            if (global_arg(df, in, &in->kvs[k], build_args, &scope, err) < 0) {
                gantry_dockerfile_vars_release(&scope);
                return -1;
            }
        }
    }
    *out = scope;
    return 0;
}

int gantry_dockerfile_stage_arg(const struct gantry_dockerfile_kv *arg,
                                const struct gantry_dockerfile_arg_opts *opts, char **value,
                                struct gantry_error **err)
{
    const char *given = gantry_dockerfile_vars_get(opts->build_args, arg->key);
    if (given) {
        *value = xstrdup(given);
        return 0;
    }
    if (arg->value) {
        struct gantry_dockerfile_expand_opts o = {
            .lookup = opts->lookup, .user = opts->user, .escape = opts->escape};
        return gantry_dockerfile_expand(arg->value, strlen(arg->value), &o, value, err);
    }
    const char *global = gantry_dockerfile_vars_get(opts->global, arg->key);
    *value = global ? xstrdup(global) : NULL;
    return 0;
}
