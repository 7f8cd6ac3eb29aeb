/*
 * One logical line to one instruction: keyword, flags, arguments as
 * BuildKit's parser shapes them (line_parsers.go), then the checks of its
 * instructions package (checks.c).
 */
#include <strings.h>

#include "dockerfile_internal.h"

int df_check_instruction(const struct df_instr_ctx *ctx, struct gantry_dockerfile_instruction *in,
                         struct gantry_error **err);

static const struct {
    const char *name;
    enum gantry_dockerfile_kind kind;
} keywords[] = {
    {"add", GANTRY_DOCKERFILE_ADD},
    {"arg", GANTRY_DOCKERFILE_ARG},
    {"cmd", GANTRY_DOCKERFILE_CMD},
    {"copy", GANTRY_DOCKERFILE_COPY},
    {"entrypoint", GANTRY_DOCKERFILE_ENTRYPOINT},
    {"env", GANTRY_DOCKERFILE_ENV},
    {"expose", GANTRY_DOCKERFILE_EXPOSE},
    {"from", GANTRY_DOCKERFILE_FROM},
    {"healthcheck", GANTRY_DOCKERFILE_HEALTHCHECK},
    {"label", GANTRY_DOCKERFILE_LABEL},
    {"maintainer", GANTRY_DOCKERFILE_MAINTAINER},
    {"onbuild", GANTRY_DOCKERFILE_ONBUILD},
    {"run", GANTRY_DOCKERFILE_RUN},
    {"shell", GANTRY_DOCKERFILE_SHELL},
    {"stopsignal", GANTRY_DOCKERFILE_STOPSIGNAL},
    {"user", GANTRY_DOCKERFILE_USER},
    {"volume", GANTRY_DOCKERFILE_VOLUME},
    {"workdir", GANTRY_DOCKERFILE_WORKDIR},
};

enum flag_type { F_BOOL, F_STRING, F_MULTI };

struct flag_spec {
    enum gantry_dockerfile_kind kind;
    const char *name;
    enum flag_type type;
};

static const struct flag_spec flag_specs[] = {
    {GANTRY_DOCKERFILE_ADD, "chown", F_STRING},
    {GANTRY_DOCKERFILE_ADD, "chmod", F_STRING},
    {GANTRY_DOCKERFILE_ADD, "link", F_BOOL},
    {GANTRY_DOCKERFILE_ADD, "keep-git-dir", F_BOOL},
    {GANTRY_DOCKERFILE_ADD, "checksum", F_STRING},
    {GANTRY_DOCKERFILE_ADD, "exclude", F_MULTI},
    {GANTRY_DOCKERFILE_ADD, "unpack", F_BOOL},
    {GANTRY_DOCKERFILE_COPY, "from", F_STRING},
    {GANTRY_DOCKERFILE_COPY, "chown", F_STRING},
    {GANTRY_DOCKERFILE_COPY, "chmod", F_STRING},
    {GANTRY_DOCKERFILE_COPY, "link", F_BOOL},
    {GANTRY_DOCKERFILE_COPY, "parents", F_BOOL},
    {GANTRY_DOCKERFILE_COPY, "exclude", F_MULTI},
    {GANTRY_DOCKERFILE_FROM, "platform", F_STRING},
    {GANTRY_DOCKERFILE_RUN, "mount", F_MULTI},
    {GANTRY_DOCKERFILE_RUN, "network", F_STRING},
    {GANTRY_DOCKERFILE_RUN, "security", F_STRING},
    {GANTRY_DOCKERFILE_HEALTHCHECK, "interval", F_STRING},
    {GANTRY_DOCKERFILE_HEALTHCHECK, "timeout", F_STRING},
    {GANTRY_DOCKERFILE_HEALTHCHECK, "start-period", F_STRING},
    {GANTRY_DOCKERFILE_HEALTHCHECK, "start-interval", F_STRING},
    {GANTRY_DOCKERFILE_HEALTHCHECK, "retries", F_STRING},
};

static bool find_kind(const char *kw, enum gantry_dockerfile_kind *kind)
{
    for (size_t i = 0; i < ARRAY_SIZE(keywords); i++) {
        if (strcasecmp(kw, keywords[i].name) == 0) {
            *kind = keywords[i].kind;
            return true;
        }
    }
    return false;
}

static int unknown_instruction(const struct df_instr_ctx *ctx, const char *kw,
                               struct gantry_error **err)
{
    _cleanup_free_ char *lower = xstrdup(kw);
    for (char *c = lower; *c; c++)
        *c = (char)(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
    size_t best = 3, at = 0;
    for (size_t i = 0; i < ARRAY_SIZE(keywords); i++) {
        size_t d = df_edit_distance(lower, keywords[i].name, 2);
        if (d < best)
            best = d, at = i;
    }
    _cleanup_free_ char *q = df_quote(kw, strlen(kw));
    if (best <= 2 && best <= strlen(kw) / 2)
        return df_error(err, ctx->name, ctx->line, "unknown instruction: %s (did you mean %s?)", q,
                        gantry_dockerfile_kind_name(keywords[at].kind));
    return df_error(err, ctx->name, ctx->line, "unknown instruction: %s", q);
}

static const struct flag_spec *find_flag(enum gantry_dockerfile_kind kind, const char *name,
                                         size_t len)
{
    for (size_t i = 0; i < ARRAY_SIZE(flag_specs); i++)
        if (flag_specs[i].kind == kind && strlen(flag_specs[i].name) == len &&
            memcmp(flag_specs[i].name, name, len) == 0)
            return &flag_specs[i];
    return NULL;
}

static void add_flag(struct gantry_dockerfile_instruction *in, const char *name, char *value)
{
    in->flags = xrealloc(in->flags, (in->n_flags + 1) * sizeof(*in->flags));
    in->flags[in->n_flags].name = xstrdup(name);
    in->flags[in->n_flags].value = value;
    in->n_flags++;
}

/* BuildKit's BFlags.Parse for one "--name[=value]" word. */
static int parse_flag(const struct df_instr_ctx *ctx, struct gantry_dockerfile_instruction *in,
                      const char *raw, struct gantry_error **err)
{
    const char *body = raw + 2, *eq = strchr(body, '=');
    size_t nlen = eq ? (size_t)(eq - body) : strlen(body);
    _cleanup_free_ char *name = xstrndup(body, nlen);
    _cleanup_free_ char *qname = df_quote(name, nlen);
    const struct flag_spec *spec = find_flag(in->kind, name, nlen);
    if (!spec)
        return df_error(err, ctx->name, ctx->line, "unknown flag: %s", qname);
    if (spec->type != F_MULTI && gantry_dockerfile_flag(in, spec->name))
        return df_error(err, ctx->name, ctx->line, "duplicate flag specified: %s", qname);
    if (spec->type != F_BOOL) {
        if (!eq)
            return df_error(err, ctx->name, ctx->line, "missing a value on flag: %s", qname);
        add_flag(in, spec->name, xstrdup(eq + 1));
        return 0;
    }
    if (eq && !eq[1])
        return df_error(err, ctx->name, ctx->line, "missing a value on flag: %s", qname);
    const char *v = eq ? eq + 1 : "true";
    if (strcasecmp(v, "true") != 0 && strcasecmp(v, "false") != 0) {
        _cleanup_free_ char *qv = df_quote(v, strlen(v));
        return df_error(err, ctx->name, ctx->line, "expecting boolean value for flag %s, not: %s",
                        qname, qv);
    }
    add_flag(in, spec->name, xstrdup(strcasecmp(v, "true") == 0 ? "true" : "false"));
    return 0;
}

static int json_error(const struct df_instr_ctx *ctx, enum df_json_result r,
                      struct gantry_error **err)
{
    if (r == DF_JSON_NUL)
        return df_error(err, ctx->name, ctx->line,
                        "when using JSON array syntax, strings must not contain NUL characters");
    return df_error(err, ctx->name, ctx->line,
                    "when using JSON array syntax, arrays must be comprised of strings only");
}

/* RUN, CMD, ENTRYPOINT, SHELL (and HEALTHCHECK's command): JSON or one string. */
static int maybe_json(const struct df_instr_ctx *ctx, struct gantry_dockerfile_instruction *in,
                      const char *a, struct gantry_error **err)
{
    if (!*a)
        return 0;
    char **v = NULL;
    size_t n = 0;
    enum df_json_result r = df_json_strings(a, strlen(a), &v, &n);
    if (r == DF_JSON_NOT_ARRAY) {
        df_strv_push(&in->args, &in->n_args, xstrdup(a));
        return 0;
    }
    if (r != DF_JSON_STRINGS)
        return json_error(ctx, r, err);
    for (size_t i = 0; i < n; i++)
        df_strv_push(&in->args, &in->n_args, v[i]);
    free(v);
    in->json = true;
    return 0;
}

/* ADD, COPY, VOLUME: JSON or white-space separated words. */
static int maybe_json_list(const struct df_instr_ctx *ctx, struct gantry_dockerfile_instruction *in,
                           const char *a, struct gantry_error **err)
{
    char **v = NULL;
    size_t n = 0;
    enum df_json_result r = df_json_strings(a, strlen(a), &v, &n);
    if (r == DF_JSON_STRINGS)
        in->json = true;
    else if (r != DF_JSON_NOT_ARRAY)
        return json_error(ctx, r, err);
    else if (*a)
        df_split_ws(a, strlen(a), -1, &v, &n);
    for (size_t i = 0; i < n; i++)
        df_strv_push(&in->args, &in->n_args, v[i]);
    free(v);
    return 0;
}

static void add_kv(struct gantry_dockerfile_instruction *in, const char *k, size_t klen,
                   const char *v)
{
    in->kvs = xrealloc(in->kvs, (in->n_kvs + 1) * sizeof(*in->kvs));
    in->kvs[in->n_kvs].key = xstrndup(k, klen);
    in->kvs[in->n_kvs].value = v ? xstrdup(v) : NULL;
    in->n_kvs++;
}

/* ENV and LABEL: "k=v k2=v2" or the legacy "k v w". */
static int name_val(const struct df_instr_ctx *ctx, struct gantry_dockerfile_instruction *in,
                    const char *a, struct gantry_error **err)
{
    char **w = NULL;
    size_t nw = 0;
    df_parse_words(a, strlen(a), ctx->escape, &w, &nw);
    int r = 0;
    if (nw && !strchr(w[0], '=')) {
        char **parts = NULL;
        size_t np = 0;
        df_split_ws(a, strlen(a), 2, &parts, &np);
        if (np < 2)
            r = df_error(err, ctx->name, ctx->line, "%s must have two arguments",
                         gantry_dockerfile_kind_name(in->kind));
        else
            add_kv(in, parts[0], strlen(parts[0]), parts[1]);
        gantry_dockerfile_strv_free(parts, np);
    }
    for (size_t i = 0; nw && strchr(w[0], '=') && i < nw && r == 0; i++) {
        const char *eq = strchr(w[i], '=');
        if (!eq) {
            _cleanup_free_ char *q = df_quote(w[i], strlen(w[i]));
            r = df_error(err, ctx->name, ctx->line,
                         "syntax error - can't find = in '%s'; must be of the form: name=value", q);
            break;
        }
        add_kv(in, w[i], (size_t)(eq - w[i]), eq + 1);
    }
    gantry_dockerfile_strv_free(w, nw);
    for (size_t i = 0; r == 0 && i < in->n_kvs; i++) {
        df_strv_push(&in->args, &in->n_args, xstrdup(in->kvs[i].key));
        df_strv_push(&in->args, &in->n_args, xstrdup(in->kvs[i].value));
    }
    return r;
}

static void arg_words(const struct df_instr_ctx *ctx, struct gantry_dockerfile_instruction *in,
                      const char *a)
{
    df_parse_words(a, strlen(a), ctx->escape, &in->args, &in->n_args);
    for (size_t i = 0; i < in->n_args; i++) {
        const char *eq = strchr(in->args[i], '=');
        add_kv(in, in->args[i], eq ? (size_t)(eq - in->args[i]) : strlen(in->args[i]),
               eq ? eq + 1 : NULL);
    }
}

static int healthcheck_args(const struct df_instr_ctx *ctx,
                            struct gantry_dockerfile_instruction *in, const char *a,
                            struct gantry_error **err)
{
    size_t sep = 0;
    while (a[sep] && !df_is_space_byte((unsigned char)a[sep]))
        sep++;
    if (sep == 0)
        return 0;
    size_t next = sep;
    while (a[next] && df_is_space_byte((unsigned char)a[next]))
        next++;
    df_strv_push(&in->args, &in->n_args, xstrndup(a, sep));
    return maybe_json(ctx, in, a + next, err);
}

static int node_args(const struct df_instr_ctx *ctx, struct gantry_dockerfile_instruction *in,
                     const char *a, struct gantry_error **err)
{
    switch (in->kind) {
    case GANTRY_DOCKERFILE_ADD:
    case GANTRY_DOCKERFILE_COPY:
    case GANTRY_DOCKERFILE_VOLUME:
        return maybe_json_list(ctx, in, a, err);
    case GANTRY_DOCKERFILE_ARG:
        arg_words(ctx, in, a);
        return 0;
    case GANTRY_DOCKERFILE_CMD:
    case GANTRY_DOCKERFILE_ENTRYPOINT:
    case GANTRY_DOCKERFILE_RUN:
    case GANTRY_DOCKERFILE_SHELL:
        return maybe_json(ctx, in, a, err);
    case GANTRY_DOCKERFILE_ENV:
    case GANTRY_DOCKERFILE_LABEL:
        return name_val(ctx, in, a, err);
    case GANTRY_DOCKERFILE_EXPOSE:
    case GANTRY_DOCKERFILE_FROM:
        if (*a)
            df_split_ws(a, strlen(a), -1, &in->args, &in->n_args);
        return 0;
    case GANTRY_DOCKERFILE_HEALTHCHECK:
        return healthcheck_args(ctx, in, a, err);
    case GANTRY_DOCKERFILE_ONBUILD:
        return 0;
    default:
        if (*a)
            df_strv_push(&in->args, &in->n_args, xstrdup(a));
        return 0;
    }
}

/* ONBUILD: the trigger is a whole instruction of its own. */
static int onbuild(const struct df_instr_ctx *ctx, struct gantry_dockerfile_instruction *in,
                   const char *a, struct gantry_error **err)
{
    if (!*a)
        return df_error(err, ctx->name, ctx->line, "ONBUILD requires at least one argument");
    size_t kwl, ro;
    df_split_command(a, strlen(a), &kwl, &ro);
    _cleanup_free_ char *kw = xstrndup(a, kwl);
    if (strcasecmp(kw, "onbuild") == 0)
        return df_error(err, ctx->name, ctx->line,
                        "chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
    if (strcasecmp(kw, "from") == 0 || strcasecmp(kw, "maintainer") == 0)
        return df_error(err, ctx->name, ctx->line, "%s isn't allowed as an ONBUILD trigger",
                        strcasecmp(kw, "from") == 0 ? "FROM" : "MAINTAINER");
    struct gantry_dockerfile_instruction *t = xcalloc(1, sizeof(*t));
    if (df_parse_instruction(ctx, a, strlen(a), t, err) < 0) {
        df_instruction_release(t);
        free(t);
        return -1;
    }
    in->trigger = t;
    df_strv_push(&in->args, &in->n_args, xstrdup(t->keyword));
    for (size_t i = 0; i < t->n_args; i++)
        df_strv_push(&in->args, &in->n_args, xstrdup(t->args[i]));
    return 0;
}

static int parse_body(const struct df_instr_ctx *ctx, struct gantry_dockerfile_instruction *in,
                      const char *rest, size_t rlen, struct gantry_error **err)
{
    char **raw = NULL;
    size_t n_raw = 0, off = 0;
    if (rlen)
        df_extract_flags(rest, rlen, &raw, &n_raw, &off);
    const char *a = rest + off;
    size_t alen = rlen - off;
    size_t lead = df_space_prefix(a, alen);
    alen -= lead;
    alen -= df_space_suffix(a + lead, alen);
    _cleanup_free_ char *args = xstrndup(a + lead, alen);
    int r = in->kind == GANTRY_DOCKERFILE_ONBUILD ? 0 : node_args(ctx, in, args, err);
    for (size_t i = 0; r == 0 && i < n_raw; i++)
        r = parse_flag(ctx, in, raw[i], err);
    gantry_dockerfile_strv_free(raw, n_raw);
    if (r == 0 && in->kind == GANTRY_DOCKERFILE_ONBUILD)
        r = onbuild(ctx, in, args, err);
    if (r == 0)
        r = df_check_instruction(ctx, in, err);
    return r;
}

int df_parse_instruction(const struct df_instr_ctx *ctx, const char *line, size_t len,
                         struct gantry_dockerfile_instruction *out, struct gantry_error **err)
{
    size_t lead = df_space_prefix(line, len);
    line += lead, len -= lead;
    len -= df_space_suffix(line, len);
    size_t kwl, ro;
    df_split_command(line, len, &kwl, &ro);
    out->keyword = xstrndup(line, kwl);
    out->original = xstrndup(line, len);
    if (!find_kind(out->keyword, &out->kind))
        return unknown_instruction(ctx, out->keyword, err);
    return parse_body(ctx, out, line + ro, len - ro, err);
}

bool df_instruction_takes_heredocs(const struct gantry_dockerfile_instruction *in)
{
    if (in->kind == GANTRY_DOCKERFILE_ONBUILD)
        return in->trigger && df_instruction_takes_heredocs(in->trigger);
    return !in->json && (in->kind == GANTRY_DOCKERFILE_RUN || in->kind == GANTRY_DOCKERFILE_COPY ||
                         in->kind == GANTRY_DOCKERFILE_ADD);
}
