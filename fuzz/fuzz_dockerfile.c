/*
 * libFuzzer target for the Dockerfile frontend (docs/fuzzing.md).
 *
 * The input, as exactly len bytes with no NUL after them, is:
 *  - parsed as a Dockerfile. On failure the output pointer stays NULL and
 *    the error is one GANTRY_E_PARSE line starting with "Dockerfile". On
 *    success every instruction's lines lie within the file (1 <= line <=
 *    end_line <= number of lines), ONBUILD triggers share their lines,
 *    stages are numbered in order and start with a FROM, global ARGs are
 *    ARGs; every expanding instruction's arguments go through the
 *    expansion (one-line errors, no crash), and FROM resolution runs for
 *    a fixed pair of platforms (on success the target stage is needed);
 *  - expanded as one word, with the default and the raw options;
 *  - read as a .dockerignore: when a directory is excluded and
 *    dir_may_reinclude() says nothing under it can come back, paths under
 *    it built from the input's lines are excluded too.
 */
#include <stdint.h>

#include <gantry/dockerfile.h>

#include "util.h"

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_dockerfile: invariant failed: %s (%s:%d)\n", #cond, __FILE__,    \
                    __LINE__);                                                                     \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct gantry_dockerfile_vars env = GANTRY_DOCKERFILE_VARS_INIT;
static struct gantry_platform build_p = GANTRY_PLATFORM_INIT;
static struct gantry_platform target_p = GANTRY_PLATFORM_INIT;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    setenv(GANTRY_HOST_PLATFORM_ENV, "linux/amd64", 1);
    gantry_dockerfile_vars_set(&env, "PWD", "/home");
    gantry_dockerfile_vars_set(&env, "EMPTY", "");
    gantry_dockerfile_vars_set(&env, "SPACES", " a  b ");
    if (gantry_platform_parse("linux/amd64", 11, &build_p, NULL) < 0 ||
        gantry_platform_parse("linux/arm/v7", 12, &target_p, NULL) < 0)
        abort();
    return 0;
}

static void check_error(struct gantry_error *err, const char *prefix)
{
    FUZZ_CHECK(err != NULL && err->message != NULL);
    FUZZ_CHECK(strchr(err->message, '\n') == NULL);
    if (prefix)
        FUZZ_CHECK(str_has_prefix(err->message, prefix));
    gantry_error_free(err);
}

static void expand_all(char *const *v, size_t n, char escape)
{
    struct gantry_dockerfile_expand_opts o = {
        .lookup = gantry_dockerfile_vars_lookup, .user = &env, .escape = escape};
    for (size_t i = 0; i < n; i++) {
        char *out = NULL;
        struct gantry_error *err = NULL;
        if (gantry_dockerfile_expand(v[i], strlen(v[i]), &o, &out, &err) < 0)
            check_error(err, "failed to process");
        else
            free(out);
    }
}

static void check_instruction(const struct gantry_dockerfile_instruction *in, size_t n_lines,
                              char escape)
{
    FUZZ_CHECK(in->line >= 1 && in->line <= in->end_line && in->end_line <= n_lines);
    FUZZ_CHECK(in->keyword && in->original);
    FUZZ_CHECK(in->n_args == 0 || in->args != NULL);
    for (size_t i = 0; i < in->n_args; i++)
        FUZZ_CHECK(in->args[i] != NULL);
    for (size_t i = 0; i < in->n_flags; i++)
        FUZZ_CHECK(in->flags[i].name && in->flags[i].value);
    for (size_t i = 0; i < in->n_heredocs; i++)
        FUZZ_CHECK(in->heredocs[i].name && in->heredocs[i].content);
    FUZZ_CHECK((in->kind == GANTRY_DOCKERFILE_ONBUILD) == (in->trigger != NULL));
    if (in->trigger) {
        FUZZ_CHECK(in->trigger->line == in->line && in->trigger->end_line == in->end_line);
        check_instruction(in->trigger, n_lines, escape);
    }
    if (gantry_dockerfile_instruction_expands(in->kind))
        expand_all(in->args, in->n_args, escape);
}

static size_t count_lines(const char *s, size_t size)
{
    size_t n = 0;
    for (size_t i = 0; i < size; i++)
        n += s[i] == '\n';
    return n + (size && s[size - 1] != '\n');
}

static void check_resolve(const struct gantry_dockerfile *df)
{
    struct gantry_dockerfile_resolve_opts o = {.build = &build_p, .target = &target_p};
    struct gantry_dockerfile_resolved *res = NULL;
    struct gantry_error *err = NULL;
    if (gantry_dockerfile_resolve_from(df, &o, &res, &err) < 0) {
        FUZZ_CHECK(res == NULL);
        check_error(err, NULL);
        return;
    }
    FUZZ_CHECK(res->n_stages == df->n_stages && res->target < res->n_stages);
    FUZZ_CHECK(res->stages[res->target].needed);
    for (size_t i = 0; i < res->n_stages; i++) {
        const struct gantry_dockerfile_resolved_stage *s = &res->stages[i];
        FUZZ_CHECK(s->base_stage == GANTRY_DOCKERFILE_NO_STAGE || s->base_stage < i);
        for (size_t k = 0; k < s->n_deps; k++)
            FUZZ_CHECK(s->deps[k] < res->n_stages && s->deps[k] != i);
    }
    gantry_dockerfile_resolved_free(res);
}

static void check_parse(const char *s, size_t size)
{
    struct gantry_dockerfile *df = NULL;
    struct gantry_error *err = NULL;
    if (gantry_dockerfile_parse(s, size, NULL, &df, &err) < 0) {
        FUZZ_CHECK(df == NULL);
        FUZZ_CHECK(err && err->code == GANTRY_E_PARSE);
        check_error(err, "Dockerfile");
        return;
    }
    size_t n_lines = count_lines(s, size);
    FUZZ_CHECK(df->n_lines == n_lines && df->n_stages >= 1);
    FUZZ_CHECK(df->escape == '\\' || df->escape == '`');
    for (size_t i = 0; i < df->n_global_args; i++) {
        FUZZ_CHECK(df->global_args[i].kind == GANTRY_DOCKERFILE_ARG);
        check_instruction(&df->global_args[i], n_lines, df->escape);
    }
    for (size_t i = 0; i < df->n_stages; i++) {
        const struct gantry_dockerfile_stage *st = &df->stages[i];
        FUZZ_CHECK(st->index == i && st->base != NULL);
        FUZZ_CHECK(st->from.kind == GANTRY_DOCKERFILE_FROM);
        check_instruction(&st->from, n_lines, df->escape);
        for (size_t k = 0; k < st->n_instructions; k++) {
            FUZZ_CHECK(st->instructions[k].kind != GANTRY_DOCKERFILE_FROM);
            FUZZ_CHECK(st->instructions[k].line > st->from.line);
            check_instruction(&st->instructions[k], n_lines, df->escape);
        }
    }
    check_resolve(df);
    gantry_dockerfile_free(df);
}

static void check_word(const char *s, size_t size)
{
    struct gantry_dockerfile_expand_opts raw = {.lookup = gantry_dockerfile_vars_lookup,
                                                .user = &env,
                                                .raw_quotes = true,
                                                .raw_escapes = true,
                                                .skip_unset = true};
    const struct gantry_dockerfile_expand_opts *opts[] = {NULL, &raw};
    for (size_t k = 0; k < ARRAY_SIZE(opts); k++) {
        char **w = NULL;
        size_t nw = 0;
        struct gantry_error *err = NULL;
        if (gantry_dockerfile_expand_words(s, size, opts[k], &w, &nw, &err) < 0) {
            check_error(err, NULL);
            continue;
        }
        for (size_t i = 0; i < nw; i++)
            FUZZ_CHECK(w[i][0] != '\0');
        gantry_dockerfile_strv_free(w, nw);
    }
}

static bool excluded(const struct gantry_dockerignore *ig, const char *path, bool *ok)
{
    bool ex = false;
    struct gantry_error *err = NULL;
    *ok = gantry_dockerignore_matches(ig, path, &ex, &err) == 0;
    if (!*ok)
        check_error(err, "path '");
    return ex;
}

static void check_ignore(const char *s, size_t size)
{
    struct gantry_dockerignore *ig = NULL;
    struct gantry_error *err = NULL;
    if (gantry_dockerignore_parse(s, size, &ig, &err) < 0) {
        check_error(err, ".dockerignore:");
        return;
    }
    /* Candidate paths: the first lines of the input. */
    char *paths[8];
    size_t n = 0;
    for (size_t i = 0, start = 0; i <= size && n < ARRAY_SIZE(paths); i++) {
        if (i < size && s[i] != '\n')
            continue;
        paths[n++] = xstrndup(s + start, i - start);
        start = i + 1;
    }
    for (size_t d = 0; d < n; d++) {
        bool ok;
        if (!excluded(ig, paths[d], &ok) || !ok ||
            gantry_dockerignore_dir_may_reinclude(ig, paths[d]))
            continue;
        for (size_t c = 0; c < n; c++) {
            if (!*paths[c] || strstr(paths[c], ".."))
                continue;
            _cleanup_free_ char *under = xasprintf("%s/%s", paths[d], paths[c]);
            bool ex = excluded(ig, under, &ok);
            FUZZ_CHECK(!ok || ex);
        }
    }
    for (size_t i = 0; i < n; i++)
        free(paths[i]);
    gantry_dockerignore_free(ig);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Exactly size bytes: a read of s[size] is a heap overflow. */
    _cleanup_free_ char *s = xmalloc(size);
    if (size)
        memcpy(s, data, size);
    check_parse(s, size);
    if (!memchr(s, '\0', size)) {
        check_word(s, size);
        check_ignore(s, size);
    }
    return 0;
}
