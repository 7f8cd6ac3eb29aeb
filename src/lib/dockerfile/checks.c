/*
 * Per-instruction checks, after BuildKit's instructions/parse.go: argument
 * counts, stage names, HEALTHCHECK options, RUN modes, and the quoting and
 * ${} syntax of the words the builder will expand (so a Dockerfile with
 * ENV A="x fails at parse time, with its line).
 */
#include <strings.h>

#include "dockerfile_internal.h"

int df_check_instruction(const struct df_instr_ctx *ctx, struct gantry_dockerfile_instruction *in,
                         struct gantry_error **err);

#define KIND(in) gantry_dockerfile_kind_name((in)->kind)

static int check_words(const struct df_instr_ctx *ctx, char *const *v, size_t n,
                       struct gantry_error **err)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] && df_check_word(v[i], ctx->escape, ctx->name, ctx->line, err) < 0)
            return -1;
    return 0;
}

static int exactly_one(const struct df_instr_ctx *ctx, struct gantry_dockerfile_instruction *in,
                       struct gantry_error **err)
{
    if (in->n_args != 1)
        return df_error(err, ctx->name, ctx->line, "%s requires exactly one argument", KIND(in));
    return 0;
}

static int at_least_one(const struct df_instr_ctx *ctx, struct gantry_dockerfile_instruction *in,
                        size_t n, struct gantry_error **err)
{
    if (n == 0)
        return df_error(err, ctx->name, ctx->line, "%s requires at least one argument", KIND(in));
    return 0;
}

static int check_kvs(const struct df_instr_ctx *ctx, struct gantry_dockerfile_instruction *in,
                     bool values, struct gantry_error **err)
{
    if (at_least_one(ctx, in, in->n_kvs, err) < 0)
        return -1;
    for (size_t i = 0; i < in->n_kvs; i++) {
        if (!in->kvs[i].key[0])
            return df_error(err, ctx->name, ctx->line, "%s names can not be blank", KIND(in));
        if (check_words(ctx, &in->kvs[i].key, 1, err) < 0)
            return -1;
        if (values && check_words(ctx, &in->kvs[i].value, 1, err) < 0)
            return -1;
    }
    return 0;
}

/* ADD and COPY: sources and a destination; heredocs only as sources. */
static int check_copy(const struct df_instr_ctx *ctx, struct gantry_dockerfile_instruction *in,
                      struct gantry_error **err)
{
    if (in->n_args < 2)
        return df_error(err, ctx->name, ctx->line,
                        "%s requires at least two arguments, but only one was provided; "
                        "destination could not be determined",
                        KIND(in));
    for (size_t i = 0; i < in->n_args; i++) {
        struct gantry_dockerfile_heredoc h = {0};
        _cleanup_free_ char *msg = NULL;
        bool heredoc = df_heredoc_parse_word(in->args[i], &h, &msg) == 1;
        free(h.name);
        if (heredoc && i + 1 == in->n_args)
            return df_error(err, ctx->name, ctx->line,
                            "%s cannot accept a heredoc as a destination", KIND(in));
        if (!heredoc && check_words(ctx, &in->args[i], 1, err) < 0)
            return -1;
    }
    return 0;
}

static bool valid_stage_name(const char *s)
{
    if (!(*s >= 'a' && *s <= 'z'))
        return false;
    for (s++; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' ||
              *s == '.'))
            return false;
    return true;
}

static int check_from(const struct df_instr_ctx *ctx, struct gantry_dockerfile_instruction *in,
                      struct gantry_error **err)
{
    bool alias = in->n_args == 3 && strcasecmp(in->args[1], "as") == 0;
    if (!alias && in->n_args != 1)
        return df_error(err, ctx->name, ctx->line, "FROM requires either one or three arguments");
    if (alias) {
        _cleanup_free_ char *lower = xstrdup(in->args[2]);
        for (char *c = lower; *c; c++)
            *c = (char)(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
        if (!valid_stage_name(lower)) {
            _cleanup_free_ char *q = df_quote(in->args[2], strlen(in->args[2]));
            return df_error(err, ctx->name, ctx->line,
                            "invalid name for build stage: '%s', name can't start with a number "
                            "or contain symbols",
                            q);
        }
    }
    const char *platform = gantry_dockerfile_flag(in, "platform");
    if (check_words(ctx, in->args, 1, err) < 0)
        return -1;
    return platform ? df_check_word(platform, ctx->escape, ctx->name, ctx->line, err) : 0;
}

static int check_duration(const struct df_instr_ctx *ctx, struct gantry_dockerfile_instruction *in,
                          const char *flag, struct gantry_error **err)
{
    const char *v = gantry_dockerfile_flag(in, flag);
    int64_t ns;
    _cleanup_error_ struct gantry_error *e = NULL;
    if (!v || !*v)
        return 0;
    if (gantry_dockerfile_duration_parse(v, strlen(v), &ns, &e) < 0)
        return df_error(err, ctx->name, ctx->line, "HEALTHCHECK --%s: %s", flag, e->message);
    if (ns != 0 && ns < 1000000)
        return df_error(err, ctx->name, ctx->line, "HEALTHCHECK --%s cannot be less than 1ms",
                        flag);
    return 0;
}

static int check_retries(const struct df_instr_ctx *ctx, struct gantry_dockerfile_instruction *in,
                         struct gantry_error **err)
{
    const char *v = gantry_dockerfile_flag(in, "retries");
    if (!v || !*v)
        return 0;
    const char *p = v + (*v == '-' || *v == '+');
    bool digits = *p != '\0';
    for (const char *c = p; *c; c++)
        digits = digits && *c >= '0' && *c <= '9';
    _cleanup_free_ char *q = df_quote(v, strlen(v));
    if (!digits || strlen(p) > 10 || strtoll(v, NULL, 10) > INT32_MAX ||
        strtoll(v, NULL, 10) < INT32_MIN)
        return df_error(err, ctx->name, ctx->line, "HEALTHCHECK --retries: invalid number '%s'", q);
    if (*v == '-' && strtoll(v, NULL, 10) < 0)
        return df_error(err, ctx->name, ctx->line, "--retries cannot be negative (%s)", q);
    return 0;
}

static int check_healthcheck(const struct df_instr_ctx *ctx,
                             struct gantry_dockerfile_instruction *in, struct gantry_error **err)
{
    static const char *const durations[] = {"interval", "timeout", "start-period",
                                            "start-interval"};
    if (at_least_one(ctx, in, in->n_args, err) < 0)
        return -1;
    if (strcasecmp(in->args[0], "none") == 0) {
        if (in->n_args != 1)
            return df_error(err, ctx->name, ctx->line, "HEALTHCHECK NONE takes no arguments");
        return 0;
    }
    if (strcasecmp(in->args[0], "cmd") != 0) {
        _cleanup_free_ char *q = df_quote(in->args[0], strlen(in->args[0]));
        return df_error(err, ctx->name, ctx->line, "unknown type '%s' in HEALTHCHECK (try CMD)", q);
    }
    if (in->n_args < 2)
        return df_error(err, ctx->name, ctx->line, "missing command after HEALTHCHECK CMD");
    for (size_t i = 0; i < ARRAY_SIZE(durations); i++)
        if (check_duration(ctx, in, durations[i], err) < 0)
            return -1;
    return check_retries(ctx, in, err);
}

static int check_mount(const struct df_instr_ctx *ctx, const char *mount, struct gantry_error **err)
{
    static const char *const types[] = {"bind", "cache", "tmpfs", "secret", "ssh"};
    _cleanup_free_ char *type = df_mount_value(mount, "type");
    if (!type)
        return 0;
    for (size_t i = 0; i < ARRAY_SIZE(types); i++)
        if (strcasecmp(type, types[i]) == 0)
            return 0;
    _cleanup_free_ char *q = df_quote(type, strlen(type));
    return df_error(err, ctx->name, ctx->line, "unsupported mount type '%s'", q);
}

static int check_run(const struct df_instr_ctx *ctx, struct gantry_dockerfile_instruction *in,
                     struct gantry_error **err)
{
    const char *net = gantry_dockerfile_flag(in, "network");
    const char *sec = gantry_dockerfile_flag(in, "security");
    if (net && strcmp(net, "default") != 0 && strcmp(net, "none") != 0 &&
        strcmp(net, "host") != 0) {
        _cleanup_free_ char *q = df_quote(net, strlen(net));
        return df_error(err, ctx->name, ctx->line, "network mode '%s' not supported", q);
    }
    if (sec && strcmp(sec, "sandbox") != 0 && strcmp(sec, "insecure") != 0) {
        _cleanup_free_ char *q = df_quote(sec, strlen(sec));
        return df_error(err, ctx->name, ctx->line, "security mode '%s' not supported", q);
    }
    for (size_t i = 0; i < in->n_flags; i++)
        if (strcmp(in->flags[i].name, "mount") == 0 &&
            check_mount(ctx, in->flags[i].value, err) < 0)
            return -1;
    return 0;
}

static int check_shell(const struct df_instr_ctx *ctx, struct gantry_dockerfile_instruction *in,
                       struct gantry_error **err)
{
    if (at_least_one(ctx, in, in->n_args, err) < 0)
        return -1;
    if (!in->json)
        return df_error(err, ctx->name, ctx->line,
                        "SHELL requires the arguments to be in JSON form");
    return 0;
}

static int check_volume(const struct df_instr_ctx *ctx, struct gantry_dockerfile_instruction *in,
                        struct gantry_error **err)
{
    if (at_least_one(ctx, in, in->n_args, err) < 0)
        return -1;
    for (size_t i = 0; i < in->n_args; i++) {
        size_t n = strlen(in->args[i]);
        if (df_space_prefix(in->args[i], n) == n)
            return df_error(err, ctx->name, ctx->line,
                            "VOLUME specified can not be an empty string");
    }
    return check_words(ctx, in->args, in->n_args, err);
}

int df_check_instruction(const struct df_instr_ctx *ctx, struct gantry_dockerfile_instruction *in,
                         struct gantry_error **err)
{
    switch (in->kind) {
    case GANTRY_DOCKERFILE_ADD:
    case GANTRY_DOCKERFILE_COPY:
        return check_copy(ctx, in, err);
    case GANTRY_DOCKERFILE_ARG:
        return check_kvs(ctx, in, true, err);
    case GANTRY_DOCKERFILE_ENV:
    case GANTRY_DOCKERFILE_LABEL:
        return check_kvs(ctx, in, true, err);
    case GANTRY_DOCKERFILE_EXPOSE:
        if (at_least_one(ctx, in, in->n_args, err) < 0)
            return -1;
        return check_words(ctx, in->args, in->n_args, err);
    case GANTRY_DOCKERFILE_FROM:
        return check_from(ctx, in, err);
    case GANTRY_DOCKERFILE_HEALTHCHECK:
        return check_healthcheck(ctx, in, err);
    case GANTRY_DOCKERFILE_MAINTAINER:
        return exactly_one(ctx, in, err);
    case GANTRY_DOCKERFILE_RUN:
        return check_run(ctx, in, err);
    case GANTRY_DOCKERFILE_SHELL:
        return check_shell(ctx, in, err);
    case GANTRY_DOCKERFILE_STOPSIGNAL:
    case GANTRY_DOCKERFILE_USER:
    case GANTRY_DOCKERFILE_WORKDIR:
        if (exactly_one(ctx, in, err) < 0)
            return -1;
        return check_words(ctx, in->args, 1, err);
    case GANTRY_DOCKERFILE_VOLUME:
        return check_volume(ctx, in, err);
    default:
        return 0;
    }
}

/* ---- RUN --mount values: CSV fields "key=value" ---- */

/* The next CSV field of s at *pos into b (quotes removed, "" a quote). */
static void csv_field(const char *s, size_t *pos, struct gantry_buf *b)
{
    size_t i = *pos;
    gantry_buf_reset(b);
    if (s[i] == '"') {
        for (i++; s[i]; i++) {
            if (s[i] == '"' && s[i + 1] == '"') {
                df_putc(b, '"');
                i++;
            } else if (s[i] == '"') {
                i++;
                break;
            } else {
                df_putc(b, s[i]);
            }
        }
    }
    while (s[i] && s[i] != ',')
        df_putc(b, s[i++]);
    *pos = s[i] == ',' ? i + 1 : i;
}

char *df_mount_value(const char *mount, const char *key)
{
    _cleanup_buf_ struct gantry_buf f = GANTRY_BUF_INIT;
    char *found = NULL;
    size_t pos = 0, klen = strlen(key);
    while (mount[pos]) {
        csv_field(mount, &pos, &f);
        if (f.len > klen && f.data[klen] == '=' && strncasecmp(f.data, key, klen) == 0) {
            free(found);
            found = xstrdup(f.data + klen + 1);
        }
    }
    return found;
}
