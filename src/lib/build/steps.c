/*
 * The step executor: one function per instruction kind, picked from a
 * table. Metadata steps edit the image config and add an empty_layer
 * history entry; COPY, ADD and WORKDIR make layers. RUN is refused for
 * now: it will be one more entry of the table, working on a rootfs
 * snapshot of the stage.
 */
#include <strings.h>

#include "build/build_internal.h"

typedef int (*step_fn)(struct build_stage *st, const struct gantry_dockerfile_instruction *in,
                       struct gantry_error **err);

static void strv_push(char ***v, size_t *n, char *s)
{
    *v = xrealloc(*v, (*n + 2) * sizeof **v);
    (*v)[(*n)++] = s;
    (*v)[*n] = NULL;
}

static void strv_clear(char ***v, size_t *n)
{
    for (size_t i = 0; *v && i < *n; i++)
        free((*v)[i]);
    free(*v);
    *v = NULL;
    *n = 0;
}

static int fail_at(struct build_stage *st, const struct gantry_dockerfile_instruction *in,
                   struct gantry_error **err)
{
    return gantry_error_prefix(err, "%s:%zu", st->ctx->df->name, in->line);
}

static int step_arg(struct build_stage *st, const struct gantry_dockerfile_instruction *in,
                    struct gantry_error **err)
{
    for (size_t i = 0; i < in->n_kvs; i++) {
        struct gantry_dockerfile_arg_opts ao = {.global = &st->res->global,
                                                .build_args = st->ctx->opts->build_args,
                                                .lookup = build_stage_lookup,
                                                .user = st,
                                                .escape = st->ctx->df->escape};
        _cleanup_free_ char *v = NULL;
        if (gantry_dockerfile_stage_arg(&in->kvs[i], &ao, &v, err) < 0)
            return fail_at(st, in, err);
        if (v)
            gantry_dockerfile_vars_set(&st->args, in->kvs[i].key, v);
    }
    return 0;
}

static void set_env(struct gantry_oci_exec_config *x, const char *k, const char *v)
{
    size_t kl = strlen(k);
    char *kv = xasprintf("%s=%s", k, v);
    for (size_t i = 0; i < x->n_env; i++)
        if (strncmp(x->env[i], k, kl) == 0 && x->env[i][kl] == '=') {
            free(x->env[i]);
            x->env[i] = kv;
            return;
        }
    strv_push(&x->env, &x->n_env, kv);
}

/* Expand every key and value of ENV or LABEL, then hand each pair to set. */
static int each_kv(struct build_stage *st, const struct gantry_dockerfile_instruction *in,
                   void (*set)(struct build_stage *, const char *, const char *),
                   struct gantry_error **err)
{
    for (size_t i = 0; i < in->n_kvs; i++) {
        _cleanup_free_ char *k = NULL;
        _cleanup_free_ char *v = NULL;
        if (build_stage_expand(st, in, in->kvs[i].key, &k, err) < 0 ||
            build_stage_expand(st, in, in->kvs[i].value ? in->kvs[i].value : "", &v, err) < 0)
            return -1;
        set(st, k, v);
    }
    build_stage_add_history(st, in->original);
    return 0;
}

static void env_set(struct build_stage *st, const char *k, const char *v)
{
    set_env(&st->config->config, k, v);
}

static void label_set(struct build_stage *st, const char *k, const char *v)
{
    struct gantry_oci_exec_config *x = &st->config->config;
    for (size_t i = 0; i < x->n_labels; i++)
        if (strcmp(x->labels[i].key, k) == 0) {
            free(x->labels[i].value);
            x->labels[i].value = xstrdup(v);
            return;
        }
    x->labels = xrealloc(x->labels, (x->n_labels + 1) * sizeof *x->labels);
    x->labels[x->n_labels++] = (struct gantry_oci_kv){xstrdup(k), xstrdup(v)};
}

static int step_env(struct build_stage *st, const struct gantry_dockerfile_instruction *in,
                    struct gantry_error **err)
{
    return each_kv(st, in, env_set, err);
}

static int step_label(struct build_stage *st, const struct gantry_dockerfile_instruction *in,
                      struct gantry_error **err)
{
    return each_kv(st, in, label_set, err);
}

/* A one-argument instruction expanded into *field. */
static int set_string(struct build_stage *st, const struct gantry_dockerfile_instruction *in,
                      char **field, bool expand, struct gantry_error **err)
{
    char *v = NULL;
    if (expand && build_stage_expand(st, in, in->args[0], &v, err) < 0)
        return -1;
    free(*field);
    *field = expand ? v : xstrdup(in->args[0]);
    build_stage_add_history(st, in->original);
    return 0;
}

static int step_user(struct build_stage *st, const struct gantry_dockerfile_instruction *in,
                     struct gantry_error **err)
{
    return set_string(st, in, &st->config->config.user, true, err);
}

static int step_stopsignal(struct build_stage *st, const struct gantry_dockerfile_instruction *in,
                           struct gantry_error **err)
{
    return set_string(st, in, &st->config->config.stop_signal, true, err);
}

static int step_maintainer(struct build_stage *st, const struct gantry_dockerfile_instruction *in,
                           struct gantry_error **err)
{
    return set_string(st, in, &st->config->author, false, err);
}

static void add_key(char ***v, size_t *n, char *key)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*v)[i], key) == 0) {
            free(key);
            return;
        }
    strv_push(v, n, key);
}

static int step_expose(struct build_stage *st, const struct gantry_dockerfile_instruction *in,
                       struct gantry_error **err)
{
    struct gantry_oci_exec_config *x = &st->config->config;
    struct gantry_dockerfile_expand_opts xo = {
        .lookup = build_stage_lookup, .user = st, .escape = st->ctx->df->escape};
    for (size_t i = 0; i < in->n_args; i++) {
        char **w = NULL;
        size_t n = 0;
        if (gantry_dockerfile_expand_words(in->args[i], strlen(in->args[i]), &xo, &w, &n, err) < 0)
            return fail_at(st, in, err);
        for (size_t j = 0; j < n; j++)
            add_key(&x->exposed_ports, &x->n_exposed_ports,
                    strchr(w[j], '/') ? xstrdup(w[j]) : xasprintf("%s/tcp", w[j]));
        gantry_dockerfile_strv_free(w, n);
    }
    build_stage_add_history(st, in->original);
    return 0;
}

static int step_volume(struct build_stage *st, const struct gantry_dockerfile_instruction *in,
                       struct gantry_error **err)
{
    struct gantry_oci_exec_config *x = &st->config->config;
    for (size_t i = 0; i < in->n_args; i++) {
        char *v = NULL;
        if (build_stage_expand(st, in, in->args[i], &v, err) < 0)
            return -1;
        add_key(&x->volumes, &x->n_volumes, v);
    }
    build_stage_add_history(st, in->original);
    return 0;
}

/* The argv of a CMD/ENTRYPOINT: the JSON form as is, else SHELL + the line. */
static void command_argv(struct build_stage *st, const struct gantry_dockerfile_instruction *in,
                         char ***v, size_t *n)
{
    /* SHELL of this stage, else the Shell the base image carries. */
    char **shell = st->shell ? st->shell : st->config->config.shell;
    size_t n_shell = st->shell ? st->n_shell : st->config->config.n_shell;
    strv_clear(v, n);
    *v = xcalloc(1, sizeof **v);
    if (in->json) {
        for (size_t i = 0; i < in->n_args; i++)
            strv_push(v, n, xstrdup(in->args[i]));
        return;
    }
    if (shell) {
        for (size_t i = 0; i < n_shell; i++)
            strv_push(v, n, xstrdup(shell[i]));
    } else {
        strv_push(v, n, xstrdup("/bin/sh"));
        strv_push(v, n, xstrdup("-c"));
    }
    strv_push(v, n, xstrdup(in->n_args ? in->args[0] : ""));
}

static int step_cmd(struct build_stage *st, const struct gantry_dockerfile_instruction *in,
                    struct gantry_error **err)
{
    (void)err;
    command_argv(st, in, &st->config->config.cmd, &st->config->config.n_cmd);
    st->cmd_set = true;
    build_stage_add_history(st, in->original);
    return 0;
}

static int step_entrypoint(struct build_stage *st, const struct gantry_dockerfile_instruction *in,
                           struct gantry_error **err)
{
    (void)err;
    struct gantry_oci_exec_config *x = &st->config->config;
    command_argv(st, in, &x->entrypoint, &x->n_entrypoint);
    /* As docker: an ENTRYPOINT drops the CMD inherited from the base. */
    if (!st->cmd_set)
        strv_clear(&x->cmd, &x->n_cmd);
    build_stage_add_history(st, in->original);
    return 0;
}

static int step_shell(struct build_stage *st, const struct gantry_dockerfile_instruction *in,
                      struct gantry_error **err)
{
    (void)err;
    struct gantry_oci_exec_config *x = &st->config->config;
    gantry_dockerfile_strv_free(st->shell, st->n_shell);
    st->shell = xcalloc(in->n_args + 1, sizeof *st->shell);
    for (size_t i = 0; i < in->n_args; i++)
        st->shell[i] = xstrdup(in->args[i]);
    st->n_shell = in->n_args;
    strv_clear(&x->shell, &x->n_shell);
    x->shell = xcalloc(1, sizeof *x->shell);
    for (size_t i = 0; i < in->n_args; i++)
        strv_push(&x->shell, &x->n_shell, xstrdup(in->args[i]));
    build_stage_add_history(st, in->original);
    return 0;
}

/* One HEALTHCHECK duration flag in nanoseconds (0 when absent or empty). */
static int health_duration(const struct gantry_dockerfile_instruction *in, const char *flag,
                           int64_t *ns, struct gantry_error **err)
{
    const char *v = gantry_dockerfile_flag(in, flag);
    *ns = 0;
    if (!v || !*v)
        return 0;
    if (gantry_dockerfile_duration_parse(v, strlen(v), ns, err) < 0)
        return gantry_error_prefix(err, "HEALTHCHECK --%s", flag);
    return 0;
}

/* HEALTHCHECK into the config as Docker stores it (Test, durations in ns). */
static int step_healthcheck(struct build_stage *st, const struct gantry_dockerfile_instruction *in,
                            struct gantry_error **err)
{
    struct gantry_oci_healthcheck h = {0};
    const char *retries = gantry_dockerfile_flag(in, "retries");
    if (health_duration(in, "interval", &h.interval, err) < 0 ||
        health_duration(in, "timeout", &h.timeout, err) < 0 ||
        health_duration(in, "start-period", &h.start_period, err) < 0 ||
        health_duration(in, "start-interval", &h.start_interval, err) < 0)
        return fail_at(st, in, err);
    h.retries = retries && *retries ? strtoll(retries, NULL, 10) : 0;
    char **test = xcalloc(1, sizeof *test);
    size_t n_test = 0;
    if (strcasecmp(in->args[0], "none") == 0) {
        h = (struct gantry_oci_healthcheck){0};
        strv_push(&test, &n_test, xstrdup("NONE"));
    } else {
        strv_push(&test, &n_test, xstrdup(in->json ? "CMD" : "CMD-SHELL"));
        for (size_t i = 1; i < in->n_args; i++)
            strv_push(&test, &n_test, xstrdup(in->args[i]));
    }
    h.test = test;
    h.n_test = n_test;
    gantry_oci_healthcheck_free(st->config->config.healthcheck);
    st->config->config.healthcheck = gantry_oci_healthcheck_dup(&h);
    strv_clear(&test, &n_test);
    build_stage_add_history(st, in->original);
    return 0;
}

/* ONBUILD: the trigger as written (after the keyword) joins OnBuild. */
static int step_onbuild(struct build_stage *st, const struct gantry_dockerfile_instruction *in,
                        struct gantry_error **err)
{
    (void)err;
    struct gantry_oci_exec_config *x = &st->config->config;
    const char *t = in->original + strspn(in->original, " \t");
    t += strlen(in->keyword);
    t += strspn(t, " \t");
    if (!x->on_build)
        x->on_build = xcalloc(1, sizeof *x->on_build);
    strv_push(&x->on_build, &x->n_on_build, xstrdup(t));
    build_stage_add_history(st, in->original);
    return 0;
}

static int step_run(struct build_stage *st, const struct gantry_dockerfile_instruction *in,
                    struct gantry_error **err)
{
    return gantry_error_set(err, GANTRY_E_UNSUPPORTED, 0,
                            "%s:%zu: RUN is not supported yet (it comes with the RUN issue)",
                            st->ctx->df->name, in->line);
}

static int step_copy(struct build_stage *st, const struct gantry_dockerfile_instruction *in,
                     struct gantry_error **err)
{
    return build_step_copy(st, in, false, err);
}

static int step_add(struct build_stage *st, const struct gantry_dockerfile_instruction *in,
                    struct gantry_error **err)
{
    return build_step_copy(st, in, true, err);
}

static const step_fn steps[] = {
    [GANTRY_DOCKERFILE_ADD] = step_add,
    [GANTRY_DOCKERFILE_ARG] = step_arg,
    [GANTRY_DOCKERFILE_CMD] = step_cmd,
    [GANTRY_DOCKERFILE_COPY] = step_copy,
    [GANTRY_DOCKERFILE_ENTRYPOINT] = step_entrypoint,
    [GANTRY_DOCKERFILE_ENV] = step_env,
    [GANTRY_DOCKERFILE_EXPOSE] = step_expose,
    [GANTRY_DOCKERFILE_HEALTHCHECK] = step_healthcheck,
    [GANTRY_DOCKERFILE_LABEL] = step_label,
    [GANTRY_DOCKERFILE_MAINTAINER] = step_maintainer,
    [GANTRY_DOCKERFILE_ONBUILD] = step_onbuild,
    [GANTRY_DOCKERFILE_RUN] = step_run,
    [GANTRY_DOCKERFILE_SHELL] = step_shell,
    [GANTRY_DOCKERFILE_STOPSIGNAL] = step_stopsignal,
    [GANTRY_DOCKERFILE_USER] = step_user,
    [GANTRY_DOCKERFILE_VOLUME] = step_volume,
    [GANTRY_DOCKERFILE_WORKDIR] = build_step_workdir,
};

int build_step_run(struct build_stage *st, const struct gantry_dockerfile_instruction *in,
                   struct gantry_error **err)
{
    if ((size_t)in->kind >= ARRAY_SIZE(steps) || !steps[in->kind])
        return gantry_error_set(err, GANTRY_E_UNSUPPORTED, 0, "%s:%zu: %s is not supported",
                                st->ctx->df->name, in->line, gantry_dockerfile_kind_name(in->kind));
    return steps[in->kind](st, in, err);
}
