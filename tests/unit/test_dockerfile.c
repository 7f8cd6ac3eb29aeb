/*
 * Unit tests for the Dockerfile parser: directives, comments,
 * continuations, JSON and shell forms, heredocs, every instruction, the
 * bad inputs of bad-inputs.md 4.6 (D1, D2, D3, D5, D6, D10, D11) and the
 * "<name>:<line>: " of every error.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <gantry/dockerfile.h>

#include "util.h"

static struct gantry_dockerfile *parse_named(const char *text, size_t len, const char *name)
{
    struct gantry_dockerfile *df = NULL;
    _cleanup_error_ struct gantry_error *err = NULL;
    struct gantry_dockerfile_parse_opts o = {.name = name};
    if (gantry_dockerfile_parse(text, len, &o, &df, &err) < 0)
        fail_msg("parse failed: %s\n---\n%s", err->message, text);
    return df;
}

static struct gantry_dockerfile *parse_ok(const char *text)
{
    return parse_named(text, strlen(text), NULL);
}

static void parse_fails_len(const char *text, size_t len, const char *want)
{
    struct gantry_dockerfile *df = NULL;
    _cleanup_error_ struct gantry_error *err = NULL;
    if (gantry_dockerfile_parse(text, len, NULL, &df, &err) == 0) {
        gantry_dockerfile_free(df);
        fail_msg("parse succeeded, expected '%s'\n---\n%s", want, text);
    }
    assert_null(df);
    assert_non_null(err);
    assert_int_equal(err->code, GANTRY_E_PARSE);
    assert_null(strchr(err->message, '\n'));
    if (!strstr(err->message, want))
        fail_msg("message '%s' lacks '%s'", err->message, want);
}

static void parse_fails(const char *text, const char *want)
{
    parse_fails_len(text, strlen(text), want);
}

/* The only instruction of the only stage. */
static const struct gantry_dockerfile_instruction *only(const struct gantry_dockerfile *df)
{
    assert_int_equal(df->n_stages, 1);
    assert_int_equal(df->stages[0].n_instructions, 1);
    return &df->stages[0].instructions[0];
}

static void assert_args(const struct gantry_dockerfile_instruction *in, size_t n, ...)
{
    va_list ap;
    if (in->n_args != n)
        fail_msg("%s: %zu args, want %zu", in->original, in->n_args, n);
    va_start(ap, n);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(in->args[i], va_arg(ap, const char *));
    va_end(ap);
}

static void test_dockerfile__d1_no_instructions(void **state)
{
    (void)state;
    parse_fails("", "Dockerfile: file with no instructions");
    parse_fails("# only a comment\n\n   # another\n", "file with no instructions");
    parse_fails("\n\n\t \n", "file with no instructions");
    parse_fails("# syntax=docker/dockerfile:1\n", "file with no instructions");
    parse_fails("ARG A=1\n", "dockerfile contains no stages to build");
}

static void test_dockerfile__d2_env_without_value(void **state)
{
    (void)state;
    parse_fails("FROM a\nENV PATH\n", "Dockerfile:2: ENV must have two arguments");
    parse_fails("FROM a\nLABEL x\n", "Dockerfile:2: LABEL must have two arguments");
    parse_fails("FROM a\nENV\n", "Dockerfile:2: ENV requires at least one argument");
    parse_fails("FROM a\nENV a=b c\n", "Dockerfile:2: syntax error - can't find = in 'c'");
    parse_fails("FROM a\nENV =b\n", "ENV names can not be blank");
}

static void test_dockerfile__d3_nested_json(void **state)
{
    (void)state;
    parse_fails("FROM a\nCMD [ \"echo\", [ \"nested json\" ] ]\n",
                "Dockerfile:2: when using JSON array syntax, arrays must be comprised of strings "
                "only");
    parse_fails("FROM a\nRUN [\"a\", 1]\n", "arrays must be comprised of strings only");
    parse_fails("FROM a\nENTRYPOINT [\"a\", null]\n", "comprised of strings only");
    parse_fails("FROM a\nCOPY [\"a\", {\"b\": 1}]\n", "comprised of strings only");
    parse_fails("FROM a\nCMD [\"a\\u0000b\"]\n", "must not contain NUL");
}

static void test_dockerfile__json_and_shell_forms(void **state)
{
    (void)state;
    struct gantry_dockerfile *df = parse_ok("FROM a\n"
                                            "CMD [\"echo\", \"hi there\", \"\\u00e9\\n\"]\n"
                                            "CMD [\"echo\", \"unterminated\"\n"
                                            "ENTRYPOINT [\"a\"] trailing\n"
                                            "RUN echo   $HOME  \n"
                                            "CMD []\n"
                                            "RUN  [ \"sh\" , \"-c\" ]  \n"
                                            "CMD\n");
    const struct gantry_dockerfile_stage *st = &df->stages[0];
    assert_int_equal(st->n_instructions, 7);
    assert_true(st->instructions[0].json);
    assert_args(&st->instructions[0], 3, "echo", "hi there", "\xC3\xA9\n");
    /* Malformed JSON falls back to the shell form, as BuildKit does. */
    assert_false(st->instructions[1].json);
    assert_args(&st->instructions[1], 1, "[\"echo\", \"unterminated\"");
    assert_false(st->instructions[2].json);
    assert_args(&st->instructions[2], 1, "[\"a\"] trailing");
    assert_false(st->instructions[3].json);
    assert_args(&st->instructions[3], 1, "echo   $HOME");
    assert_true(st->instructions[4].json);
    assert_int_equal(st->instructions[4].n_args, 0);
    assert_true(st->instructions[5].json);
    assert_args(&st->instructions[5], 2, "sh", "-c");
    assert_int_equal(st->instructions[6].n_args, 0);
    gantry_dockerfile_free(df);
}

static void test_dockerfile__d5_continuation_at_eof(void **state)
{
    (void)state;
    struct gantry_dockerfile *df = parse_ok("FROM a\nRUN something \\");
    const struct gantry_dockerfile_instruction *in = only(df);
    assert_int_equal(in->kind, GANTRY_DOCKERFILE_RUN);
    assert_args(in, 1, "something");
    assert_int_equal(in->line, 2);
    gantry_dockerfile_free(df);
}

static void test_dockerfile__d6_unterminated_quotes(void **state)
{
    (void)state;
    parse_fails("FROM a\nENV A=\"hello\n",
                "Dockerfile:2: failed to process '\"hello': unexpected end of statement while "
                "looking for matching double-quote");
    parse_fails("FROM a\nENV A=he'llo\n", "matching single-quote");
    parse_fails("FROM a\nENV A='hello\n", "matching single-quote");
    parse_fails("FROM a\nENV A=\"hello\\\"\n", "matching double-quote");
    parse_fails("FROM a\nWORKDIR \"/a\n", "Dockerfile:2: failed to process");
    parse_fails("FROM a\nLABEL \"a=b\n", "matching double-quote");
    parse_fails("FROM a\nCOPY 'x /y\n", "matching single-quote");
    parse_fails("FROM a\nUSER ${}\n", "bad substitution");
    parse_fails("FROM ${a\n", "Dockerfile:1: failed to process '${a'");
    /* RUN is left to the shell: no check. */
    struct gantry_dockerfile *df = parse_ok("FROM a\nRUN echo \"unbalanced ${\n");
    gantry_dockerfile_free(df);
}

/* "FROM a" then a LABEL line of exactly line_len bytes. */
static char *long_label(size_t line_len, bool newline)
{
    const char *head = "FROM a\nLABEL x=";
    size_t h = strlen(head), fill = line_len - strlen("LABEL x=");
    char *t = xmalloc(h + fill + 2);
    memcpy(t, head, h);
    memset(t + h, 'a', fill);
    memcpy(t + h + fill, newline ? "\n" : "", newline ? 2 : 1);
    return t;
}

static void test_dockerfile__d10_long_line(void **state)
{
    (void)state;
    _cleanup_free_ char *too_long = long_label(65536, true);
    parse_fails(too_long, "Dockerfile:2: dockerfile line greater than max allowed size of 65535");
    _cleanup_free_ char *too_long_eof = long_label(65536, false);
    parse_fails(too_long_eof, "Dockerfile:2: dockerfile line greater than max allowed size");
    /* A line of exactly 65535 bytes is fine, with or without its newline. */
    _cleanup_free_ char *max = long_label(65535, true);
    struct gantry_dockerfile *df = parse_ok(max);
    assert_int_equal(strlen(only(df)->original), 65535);
    gantry_dockerfile_free(df);
    _cleanup_free_ char *max_eof = long_label(65535, false);
    df = parse_ok(max_eof);
    gantry_dockerfile_free(df);
}

static void test_dockerfile__nul_byte(void **state)
{
    (void)state;
    parse_fails_len("FROM a\nRUN a\0b\n", 15, "Dockerfile:2: unexpected NUL byte");
}

static void test_dockerfile__unknown_instruction(void **state)
{
    (void)state;
    parse_fails("FROM a\n\nRUN a\n# c\n\nWORKDIR /\nCOPPY a b\n",
                "Dockerfile:7: unknown instruction: COPPY (did you mean COPY?)");
    parse_fails("FROM a\nFORM b\n", "Dockerfile:2: unknown instruction: FORM (did you mean FROM?)");
    parse_fails("FROM a\nfoo bar\n", "Dockerfile:2: unknown instruction: foo");
    parse_fails("XYZZY\n", "Dockerfile:1: unknown instruction: XYZZY");
    struct gantry_dockerfile *df = NULL;
    _cleanup_error_ struct gantry_error *err = NULL;
    assert_int_equal(gantry_dockerfile_parse("FROM a\nfoo bar\n", 15, NULL, &df, &err), -1);
    assert_null(strstr(err->message, "did you mean"));
}

static void test_dockerfile__error_names_the_file(void **state)
{
    (void)state;
    struct gantry_dockerfile *df = NULL;
    _cleanup_error_ struct gantry_error *err = NULL;
    struct gantry_dockerfile_parse_opts o = {.name = "sub/Dockerfile.dev"};
    const char *text = "FROM a\nRUN x \\\n  y\nBOGUS\n";
    assert_int_equal(gantry_dockerfile_parse(text, strlen(text), &o, &df, &err), -1);
    assert_string_equal(err->message, "sub/Dockerfile.dev:4: unknown instruction: BOGUS");
}

static void test_dockerfile__case_insensitive_keywords(void **state)
{
    (void)state;
    struct gantry_dockerfile *df = parse_ok("from alpine as Builder\nrun echo hi\nCoPy a b\n");
    assert_string_equal(df->stages[0].alias, "builder");
    assert_string_equal(df->stages[0].from.keyword, "from");
    assert_int_equal(df->stages[0].instructions[0].kind, GANTRY_DOCKERFILE_RUN);
    assert_string_equal(df->stages[0].instructions[1].keyword, "CoPy");
    assert_int_equal(df->stages[0].instructions[1].kind, GANTRY_DOCKERFILE_COPY);
    gantry_dockerfile_free(df);
}

static void test_dockerfile__directives(void **state)
{
    (void)state;
    struct gantry_dockerfile *df = parse_ok("# syntax = docker/dockerfile:1.7  \n"
                                            "#check=skip=JSONArgsRecommended;error=true\n"
                                            "#   escape=`\n"
                                            "FROM a\n"
                                            "# escape=\\\n"
                                            "WORKDIR c:\\windows\n"
                                            "RUN echo a `\n"
                                            "  b\n");
    assert_string_equal(df->syntax, "docker/dockerfile:1.7");
    assert_string_equal(df->check, "skip=JSONArgsRecommended;error=true");
    assert_int_equal(df->escape, '`');
    const struct gantry_dockerfile_stage *st = &df->stages[0];
    assert_int_equal(st->n_instructions, 2);
    assert_args(&st->instructions[0], 1, "c:\\windows");
    assert_args(&st->instructions[1], 1, "echo a   b");
    assert_int_equal(st->instructions[1].line, 7);
    assert_int_equal(st->instructions[1].end_line, 8);
    gantry_dockerfile_free(df);

    /* A blank line, or any other comment, ends the directives. */
    df = parse_ok("\n# escape=`\nFROM a\n");
    assert_int_equal(df->escape, '\\');
    gantry_dockerfile_free(df);
    df = parse_ok("# hello\n# escape=`\nFROM a\n");
    assert_int_equal(df->escape, '\\');
    gantry_dockerfile_free(df);
    df = parse_ok("# unknown=x\n# escape=`\nFROM a\n");
    assert_int_equal(df->escape, '\\');
    assert_null(df->syntax);
    gantry_dockerfile_free(df);
    df = parse_ok("\xEF\xBB\xBF# escape=`\nFROM a\n");
    assert_int_equal(df->escape, '`');
    gantry_dockerfile_free(df);

    parse_fails("# escape=x\nFROM a\n", "Dockerfile:1: invalid escape token 'x' does not match");
    parse_fails("# escape=\\\n# ESCAPE=`\nFROM a\n",
                "Dockerfile:2: only one escape parser directive can be used");
    parse_fails("# syntax=a\n# syntax=b\nFROM a\n", "only one syntax parser directive");
}

static void test_dockerfile__backtick_escape(void **state)
{
    (void)state;
    struct gantry_dockerfile *df = parse_ok("# escape=`\n"
                                            "FROM a\n"
                                            "ENV P=C:\\a\\b X=a` b\n"
                                            "COPY a\\b `\n"
                                            "     c:\\dst\\\n");
    const struct gantry_dockerfile_stage *st = &df->stages[0];
    assert_string_equal(st->instructions[0].kvs[0].value, "C:\\a\\b");
    assert_string_equal(st->instructions[0].kvs[1].value, "a` b");
    assert_args(&st->instructions[1], 2, "a\\b", "c:\\dst\\");
    gantry_dockerfile_free(df);
}

static void test_dockerfile__comments_and_continuations(void **state)
{
    (void)state;
    struct gantry_dockerfile *df = parse_ok("FROM a\n"
                                            "   # indented comment\n"
                                            "RUN apt-get update && \\\n"
                                            "# a comment inside\n"
                                            "    apt-get install -y x \\  \n"
                                            "\n"
                                            "    && rm -rf /var/lib/apt\n"
                                            "RUN echo \\\\\n"
                                            "RUN echo a#b # not a comment\n"
                                            "\\\n"
                                            "RUN x\n");
    const struct gantry_dockerfile_stage *st = &df->stages[0];
    assert_int_equal(st->n_instructions, 4);
    assert_args(&st->instructions[0], 1,
                "apt-get update &&     apt-get install -y x     && rm -rf /var/lib/apt");
    assert_int_equal(st->instructions[0].line, 3);
    assert_int_equal(st->instructions[0].end_line, 7);
    /* An escaped escape does not continue the line. */
    assert_args(&st->instructions[1], 1, "echo \\\\");
    assert_args(&st->instructions[2], 1, "echo a#b # not a comment");
    /* A line holding only the escape joins the next one. */
    assert_args(&st->instructions[3], 1, "x");
    assert_int_equal(st->instructions[3].line, 10);
    assert_int_equal(df->n_warnings, 1);
    assert_string_equal(df->warnings[0], "Dockerfile:3: empty continuation line");
    gantry_dockerfile_free(df);
}

static void test_dockerfile__crlf_and_bom(void **state)
{
    (void)state;
    struct gantry_dockerfile *df =
        parse_ok("\xEF\xBB\xBF"
                 "FROM a\r\nRUN a \\\r\n b\r\nCOPY <<EOF /x\r\nhi\r\nEOF\r\n");
    const struct gantry_dockerfile_stage *st = &df->stages[0];
    assert_string_equal(st->base, "a");
    assert_args(&st->instructions[0], 1, "a  b");
    assert_string_equal(st->instructions[1].heredocs[0].content, "hi\r\n");
    assert_int_equal(df->n_lines, 6);
    gantry_dockerfile_free(df);
}

static void test_dockerfile__from(void **state)
{
    (void)state;
    struct gantry_dockerfile *df = parse_ok("ARG BASE=alpine\n"
                                            "ARG TAG\n"
                                            "FROM --platform=$BUILDPLATFORM golang:1.22 AS Build\n"
                                            "FROM ${BASE}:${TAG:-3.19}\n"
                                            "FROM scratch as final\n");
    assert_int_equal(df->n_global_args, 2);
    assert_int_equal(df->n_stages, 3);
    assert_string_equal(df->stages[0].base, "golang:1.22");
    assert_string_equal(df->stages[0].alias, "build");
    assert_string_equal(df->stages[0].platform, "$BUILDPLATFORM");
    assert_int_equal(df->stages[0].from.line, 3);
    assert_int_equal(df->stages[1].index, 1);
    assert_string_equal(df->stages[1].base, "${BASE}:${TAG:-3.19}");
    assert_null(df->stages[1].alias);
    assert_null(df->stages[1].platform);
    assert_string_equal(df->stages[2].alias, "final");
    assert_int_equal(df->stages[2].n_instructions, 0);
    gantry_dockerfile_free(df);

    parse_fails("FROM a b\n", "Dockerfile:1: FROM requires either one or three arguments");
    parse_fails("FROM\n", "FROM requires either one or three arguments");
    parse_fails("FROM a AS b c\n", "FROM requires either one or three arguments");
    parse_fails("FROM a AS 1st\n", "invalid name for build stage: '1st'");
    parse_fails("FROM a AS b!\n", "invalid name for build stage");
    parse_fails("FROM a AS x\nFROM b AS X\n", "Dockerfile:2: duplicate stage name 'x'");
    parse_fails("FROM --platfrom=linux/arm64 a\n", "Dockerfile:1: unknown flag: platfrom");
    parse_fails("FROM --platform a\n", "missing a value on flag: platform");
    parse_fails("RUN x\nFROM a\n", "Dockerfile:1: no build stage in current context");
}

static void test_dockerfile__arg(void **state)
{
    (void)state;
    struct gantry_dockerfile *df = parse_ok("ARG A B=2 C=\"x y\"\n"
                                            "FROM a\n"
                                            "ARG TARGETARCH\n"
                                            "ARG EMPTY=\n");
    const struct gantry_dockerfile_instruction *g = &df->global_args[0];
    assert_int_equal(g->n_kvs, 3);
    assert_string_equal(g->kvs[0].key, "A");
    assert_null(g->kvs[0].value);
    assert_string_equal(g->kvs[1].value, "2");
    assert_string_equal(g->kvs[2].value, "\"x y\"");
    assert_args(g, 3, "A", "B=2", "C=\"x y\"");
    const struct gantry_dockerfile_stage *st = &df->stages[0];
    assert_string_equal(st->instructions[0].kvs[0].key, "TARGETARCH");
    assert_string_equal(st->instructions[1].kvs[0].value, "");
    gantry_dockerfile_free(df);
    parse_fails("FROM a\nARG\n", "ARG requires at least one argument");
    parse_fails("FROM a\nARG =x\n", "ARG names can not be blank");
}

static void test_dockerfile__env_and_label(void **state)
{
    (void)state;
    struct gantry_dockerfile *df =
        parse_ok("FROM a\n"
                 "ENV A=1 B=\"two words\" C=a\\ b\n"
                 "ENV LEGACY value with  spaces\n"
                 "LABEL org.opencontainers.image.title=\"x\" \"q k\"=v\n");
    const struct gantry_dockerfile_stage *st = &df->stages[0];
    const struct gantry_dockerfile_instruction *env = &st->instructions[0];
    assert_int_equal(env->n_kvs, 3);
    assert_string_equal(env->kvs[1].key, "B");
    assert_string_equal(env->kvs[1].value, "\"two words\"");
    assert_string_equal(env->kvs[2].value, "a\\ b");
    assert_args(env, 6, "A", "1", "B", "\"two words\"", "C", "a\\ b");
    assert_string_equal(st->instructions[1].kvs[0].key, "LEGACY");
    assert_string_equal(st->instructions[1].kvs[0].value, "value with  spaces");
    assert_string_equal(st->instructions[2].kvs[0].key, "org.opencontainers.image.title");
    assert_string_equal(st->instructions[2].kvs[1].key, "\"q k\"");
    gantry_dockerfile_free(df);
}

static void test_dockerfile__copy_and_add(void **state)
{
    (void)state;
    struct gantry_dockerfile *df =
        parse_ok("FROM a\n"
                 "COPY --from=build --chown=1:1 --chmod=755 --link --parents "
                 "--exclude=*.md --exclude=*.txt src1 src2 /dst/\n"
                 "COPY [\"a b\", \"/c d/\"]\n"
                 "ADD --checksum=sha256:abc --keep-git-dir=false --link=TRUE --chown=u "
                 "--chmod=644 --exclude=x --unpack https://x/y.tar.gz /z\n"
                 "COPY -- --odd /x\n");
    const struct gantry_dockerfile_stage *st = &df->stages[0];
    const struct gantry_dockerfile_instruction *c = &st->instructions[0];
    assert_args(c, 3, "src1", "src2", "/dst/");
    assert_int_equal(c->n_flags, 7);
    assert_string_equal(gantry_dockerfile_flag(c, "from"), "build");
    assert_string_equal(gantry_dockerfile_flag(c, "chown"), "1:1");
    assert_string_equal(gantry_dockerfile_flag(c, "chmod"), "755");
    assert_string_equal(gantry_dockerfile_flag(c, "link"), "true");
    assert_string_equal(gantry_dockerfile_flag(c, "parents"), "true");
    assert_string_equal(c->flags[5].value, "*.md");
    assert_string_equal(c->flags[6].value, "*.txt");
    assert_null(gantry_dockerfile_flag(c, "checksum"));
    assert_true(st->instructions[1].json);
    assert_args(&st->instructions[1], 2, "a b", "/c d/");
    const struct gantry_dockerfile_instruction *a = &st->instructions[2];
    assert_string_equal(gantry_dockerfile_flag(a, "checksum"), "sha256:abc");
    assert_string_equal(gantry_dockerfile_flag(a, "keep-git-dir"), "false");
    assert_string_equal(gantry_dockerfile_flag(a, "link"), "true");
    assert_args(a, 2, "https://x/y.tar.gz", "/z");
    assert_args(&st->instructions[3], 2, "--odd", "/x");
    gantry_dockerfile_free(df);

    parse_fails("FROM a\nCOPY a\n", "Dockerfile:2: COPY requires at least two arguments");
    parse_fails("FROM a\nADD [\"a\"]\n", "ADD requires at least two arguments");
    parse_fails("FROM a\nCOPY --checksum=x a b\n", "unknown flag: checksum");
    parse_fails("FROM a\nADD --from=x a b\n", "unknown flag: from");
    parse_fails("FROM a\nCOPY --link=maybe a b\n",
                "expecting boolean value for flag link, not: maybe");
    parse_fails("FROM a\nCOPY --link= a b\n", "missing a value on flag: link");
    parse_fails("FROM a\nCOPY --from a b\n", "missing a value on flag: from");
    parse_fails("FROM a\nCOPY --from=a --from=b a b\n", "duplicate flag specified: from");
    parse_fails("FROM a\nCOPY <<EOF <<EOF2\nx\nEOF\ny\nEOF2\n",
                "COPY cannot accept a heredoc as a destination");
}

static void test_dockerfile__run_flags(void **state)
{
    (void)state;
    struct gantry_dockerfile *df =
        parse_ok("FROM a\n"
                 "RUN --mount=type=cache,target=/root/.cache --mount=type=secret,id=tok "
                 "--network=none --security=insecure make all\n"
                 "RUN --mount=\"type=bind,source=a b,target=/x\" true\n");
    const struct gantry_dockerfile_instruction *r = &df->stages[0].instructions[0];
    assert_int_equal(r->n_flags, 4);
    assert_string_equal(r->flags[0].name, "mount");
    assert_string_equal(r->flags[0].value, "type=cache,target=/root/.cache");
    assert_string_equal(r->flags[1].value, "type=secret,id=tok");
    assert_string_equal(gantry_dockerfile_flag(r, "network"), "none");
    assert_string_equal(gantry_dockerfile_flag(r, "security"), "insecure");
    assert_args(r, 1, "make all");
    /* Quotes protect the spaces of a flag value. */
    assert_string_equal(df->stages[0].instructions[1].flags[0].value,
                        "type=bind,source=a b,target=/x");
    gantry_dockerfile_free(df);
    parse_fails("FROM a\nRUN --network=bridge x\n", "network mode 'bridge' not supported");
    parse_fails("FROM a\nRUN --security=root x\n", "security mode 'root' not supported");
    parse_fails("FROM a\nRUN --mount=type=nfs,target=/x x\n", "unsupported mount type 'nfs'");
    parse_fails("FROM a\nRUN --device=/dev/x x\n", "unknown flag: device");
}

static void test_dockerfile__single_argument_instructions(void **state)
{
    (void)state;
    struct gantry_dockerfile *df = parse_ok("FROM a\n"
                                            "WORKDIR /app dir\n"
                                            "USER 1000:1000\n"
                                            "STOPSIGNAL SIGTERM\n"
                                            "MAINTAINER Jane Doe <jane@example.com>\n"
                                            "EXPOSE 80/tcp  443 $PORT\n"
                                            "VOLUME /a /b\n"
                                            "VOLUME [\"/c\", \"/d e\"]\n");
    const struct gantry_dockerfile_stage *st = &df->stages[0];
    assert_args(&st->instructions[0], 1, "/app dir");
    assert_args(&st->instructions[1], 1, "1000:1000");
    assert_args(&st->instructions[2], 1, "SIGTERM");
    assert_args(&st->instructions[3], 1, "Jane Doe <jane@example.com>");
    assert_args(&st->instructions[4], 3, "80/tcp", "443", "$PORT");
    assert_args(&st->instructions[5], 2, "/a", "/b");
    assert_true(st->instructions[6].json);
    assert_args(&st->instructions[6], 2, "/c", "/d e");
    gantry_dockerfile_free(df);
    parse_fails("FROM a\nWORKDIR\n", "Dockerfile:2: WORKDIR requires exactly one argument");
    parse_fails("FROM a\nUSER\n", "USER requires exactly one argument");
    parse_fails("FROM a\nSTOPSIGNAL\n", "STOPSIGNAL requires exactly one argument");
    parse_fails("FROM a\nMAINTAINER\n", "MAINTAINER requires exactly one argument");
    parse_fails("FROM a\nEXPOSE\n", "EXPOSE requires at least one argument");
    parse_fails("FROM a\nVOLUME\n", "VOLUME requires at least one argument");
    parse_fails("FROM a\nVOLUME [\"/a\", \" \"]\n", "VOLUME specified can not be an empty string");
    parse_fails("FROM a\nWORKDIR --x=1 /\n", "unknown flag: x");
}

static void test_dockerfile__shell(void **state)
{
    (void)state;
    struct gantry_dockerfile *df =
        parse_ok("FROM a\nSHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]\n");
    assert_true(only(df)->json);
    assert_args(only(df), 4, "/bin/bash", "-o", "pipefail", "-c");
    gantry_dockerfile_free(df);
    parse_fails("FROM a\nSHELL /bin/sh -c\n", "SHELL requires the arguments to be in JSON form");
    parse_fails("FROM a\nSHELL []\n", "SHELL requires at least one argument");
    parse_fails("FROM a\nSHELL\n", "SHELL requires at least one argument");
}

static void test_dockerfile__healthcheck(void **state)
{
    (void)state;
    struct gantry_dockerfile *df =
        parse_ok("FROM a\n"
                 "HEALTHCHECK --interval=5m --timeout=3s --start-period=1m30s "
                 "--start-interval=500ms --retries=3 CMD curl -f http://localhost/ || exit 1\n"
                 "HEALTHCHECK CMD [\"/bin/check\", \"-v\"]\n"
                 "healthcheck none\n");
    const struct gantry_dockerfile_stage *st = &df->stages[0];
    assert_args(&st->instructions[0], 2, "CMD", "curl -f http://localhost/ || exit 1");
    assert_false(st->instructions[0].json);
    assert_string_equal(gantry_dockerfile_flag(&st->instructions[0], "interval"), "5m");
    assert_string_equal(gantry_dockerfile_flag(&st->instructions[0], "retries"), "3");
    assert_true(st->instructions[1].json);
    assert_args(&st->instructions[1], 3, "CMD", "/bin/check", "-v");
    assert_args(&st->instructions[2], 1, "none");
    gantry_dockerfile_free(df);
    parse_fails("FROM a\nHEALTHCHECK\n", "HEALTHCHECK requires at least one argument");
    parse_fails("FROM a\nHEALTHCHECK NONE x\n", "HEALTHCHECK NONE takes no arguments");
    parse_fails("FROM a\nHEALTHCHECK CMD\n", "missing command after HEALTHCHECK CMD");
    parse_fails("FROM a\nHEALTHCHECK RUN x\n", "unknown type 'RUN' in HEALTHCHECK (try CMD)");
    parse_fails("FROM a\nHEALTHCHECK --interval=5 CMD x\n",
                "HEALTHCHECK --interval: invalid duration '5'");
    parse_fails("FROM a\nHEALTHCHECK --timeout=1us CMD x\n",
                "HEALTHCHECK --timeout cannot be less than 1ms");
    parse_fails("FROM a\nHEALTHCHECK --retries=-1 CMD x\n", "--retries cannot be negative (-1)");
    parse_fails("FROM a\nHEALTHCHECK --retries=x CMD x\n", "invalid number 'x'");
    parse_fails("FROM a\nHEALTHCHECK --retries=99999999999 CMD x\n", "invalid number");
    parse_fails("FROM a\nHEALTHCHECK --interval=1s --interval=2s CMD x\n",
                "duplicate flag specified: interval");
}

static void test_dockerfile__onbuild(void **state)
{
    (void)state;
    struct gantry_dockerfile *df = parse_ok("FROM a\n"
                                            "ONBUILD RUN make install\n"
                                            "ONBUILD COPY --chown=1 <<EOF /x\n"
                                            "body\n"
                                            "EOF\n");
    const struct gantry_dockerfile_stage *st = &df->stages[0];
    const struct gantry_dockerfile_instruction *o = &st->instructions[0];
    assert_int_equal(o->kind, GANTRY_DOCKERFILE_ONBUILD);
    assert_non_null(o->trigger);
    assert_int_equal(o->trigger->kind, GANTRY_DOCKERFILE_RUN);
    assert_args(o->trigger, 1, "make install");
    assert_args(o, 2, "RUN", "make install");
    const struct gantry_dockerfile_instruction *c = st->instructions[1].trigger;
    assert_int_equal(c->kind, GANTRY_DOCKERFILE_COPY);
    assert_string_equal(gantry_dockerfile_flag(c, "chown"), "1");
    assert_int_equal(c->n_heredocs, 1);
    assert_string_equal(c->heredocs[0].content, "body\n");
    assert_int_equal(st->instructions[1].end_line, 5);
    gantry_dockerfile_free(df);
    parse_fails("FROM a\nONBUILD ONBUILD RUN x\n",
                "Dockerfile:2: chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
    parse_fails("FROM a\nONBUILD FROM b\n", "FROM isn't allowed as an ONBUILD trigger");
    parse_fails("FROM a\nONBUILD maintainer b\n", "MAINTAINER isn't allowed as an ONBUILD trigger");
    parse_fails("FROM a\nONBUILD\n", "ONBUILD requires at least one argument");
    parse_fails("FROM a\nONBUILD COPPY a b\n", "unknown instruction: COPPY");
    parse_fails("FROM a\nONBUILD COPY a\n", "COPY requires at least two arguments");
}

static void test_dockerfile__heredocs(void **state)
{
    (void)state;
    /* After BuildKit's parser_heredoc_test.go. */
    struct gantry_dockerfile *df = parse_ok("FROM alpine:3.6\n"
                                            "RUN <<EMPTY\n"
                                            "EMPTY\n"
                                            "RUN 3<<EMPTY2\n"
                                            "EMPTY2\n"
                                            "RUN \"<<NOHEREDOC\"\n"
                                            "RUN <<INDENT\n"
                                            "\tfoo\n"
                                            "\tbar\n"
                                            "INDENT\n"
                                            "RUN <<-UNINDENT\n"
                                            "\tbaz\n"
                                            "\tquux\n"
                                            "\tUNINDENT\n"
                                            "RUN <<-'NOEXPAND'\n"
                                            "\tdon't expand $NAME\n"
                                            "NOEXPAND\n"
                                            "RUN <<COMMENT\n"
                                            "# internal comment\n"
                                            "echo foo bar # trailing comment\n"
                                            "COMMENT\n"
                                            "RUN --mount=type=cache,target=/foo <<MOUNT\n"
                                            "echo hello\n"
                                            "MOUNT\n"
                                            "COPY <<FILE1 <<FILE2 /dest\n"
                                            "content 1\n"
                                            "FILE1\n"
                                            "content 2\n"
                                            "FILE2\n"
                                            "COPY <<X <<Y /dest\n"
                                            "Y\n"
                                            "X\n"
                                            "X\n"
                                            "Y\n"
                                            "RUN <<eo'f'\n"
                                            "echo foo\n"
                                            "eof\n"
                                            "RUN <<eo\\'f\n"
                                            "echo foo\n"
                                            "eo'f\n"
                                            "RUN <<'one two'\n"
                                            "echo bar\n"
                                            "one two\n"
                                            "RUN <<$EOF\n"
                                            "$EOF\n"
                                            "RUN <<  EOF  > foo\n"
                                            "EOF\n"
                                            "RUN << -EOF\n"
                                            "-EOF\n"
                                            "RUN [\"<<EOF\"]\n"
                                            "USER <<NOTHERE\n");
    const struct gantry_dockerfile_instruction *in = df->stages[0].instructions;
    assert_int_equal(df->stages[0].n_instructions, 18);
    assert_string_equal(in[0].heredocs[0].name, "EMPTY");
    assert_string_equal(in[0].heredocs[0].content, "");
    assert_true(in[0].heredocs[0].expand);
    assert_int_equal(in[1].heredocs[0].fd, 3);
    assert_int_equal(in[2].n_heredocs, 0);
    assert_string_equal(in[3].heredocs[0].content, "\tfoo\n\tbar\n");
    assert_false(in[3].heredocs[0].chomp);
    /* <<- strips leading tabs of the body and of the delimiter line. */
    assert_string_equal(in[4].heredocs[0].content, "baz\nquux\n");
    assert_true(in[4].heredocs[0].chomp);
    assert_string_equal(in[5].heredocs[0].name, "NOEXPAND");
    assert_false(in[5].heredocs[0].expand);
    assert_string_equal(in[5].heredocs[0].content, "don't expand $NAME\n");
    assert_string_equal(in[6].heredocs[0].content,
                        "# internal comment\necho foo bar # trailing comment\n");
    assert_string_equal(gantry_dockerfile_flag(&in[7], "mount"), "type=cache,target=/foo");
    assert_string_equal(in[7].heredocs[0].content, "echo hello\n");
    /* D11: two heredocs on one line, read in order. */
    assert_int_equal(in[8].n_heredocs, 2);
    assert_string_equal(in[8].heredocs[0].content, "content 1\n");
    assert_string_equal(in[8].heredocs[1].content, "content 2\n");
    assert_args(&in[8], 3, "<<FILE1", "<<FILE2", "/dest");
    assert_string_equal(in[9].heredocs[0].content, "Y\n");
    assert_string_equal(in[9].heredocs[1].content, "X\n");
    assert_string_equal(in[10].heredocs[0].name, "eof");
    assert_false(in[10].heredocs[0].expand);
    assert_string_equal(in[11].heredocs[0].name, "eo'f");
    assert_true(in[11].heredocs[0].expand);
    assert_string_equal(in[12].heredocs[0].name, "one two");
    assert_false(in[12].heredocs[0].expand);
    assert_string_equal(in[13].heredocs[0].name, "$EOF");
    assert_string_equal(in[14].heredocs[0].name, "EOF");
    assert_string_equal(in[15].heredocs[0].name, "-EOF");
    assert_false(in[15].heredocs[0].chomp);
    assert_int_equal(in[16].n_heredocs, 0); /* JSON form: no heredoc */
    assert_true(in[16].json);
    assert_int_equal(in[16].line, 50);
    /* USER takes no heredoc: "<<NOTHERE" is its argument. */
    assert_int_equal(in[17].n_heredocs, 0);
    assert_args(&in[17], 1, "<<NOTHERE");
    gantry_dockerfile_free(df);
}

static void test_dockerfile__heredoc_lookup_and_lines(void **state)
{
    (void)state;
    struct gantry_dockerfile *df = parse_ok("FROM a\n"
                                            "COPY <<-\"EOF\" <<two /dst/\n"
                                            "\t\tline $X\n"
                                            "\tEOF\n"
                                            "second\n"
                                            "two\n"
                                            "RUN cat <<EOF\n"
                                            "hi\n"
                                            "EOF\n");
    const struct gantry_dockerfile_instruction *c = &df->stages[0].instructions[0];
    assert_int_equal(c->line, 2);
    assert_int_equal(c->end_line, 6);
    const struct gantry_dockerfile_heredoc *h = gantry_dockerfile_heredoc_for(c, "<<-\"EOF\"");
    assert_non_null(h);
    assert_string_equal(h->content, "line $X\n");
    assert_false(h->expand);
    h = gantry_dockerfile_heredoc_for(c, "<<two");
    assert_non_null(h);
    assert_string_equal(h->content, "second\n");
    assert_true(h->expand);
    assert_null(gantry_dockerfile_heredoc_for(c, "/dst/"));
    assert_null(gantry_dockerfile_heredoc_for(c, "<<three"));
    assert_int_equal(df->stages[0].instructions[1].line, 7);
    assert_int_equal(df->stages[0].instructions[1].end_line, 9);
    gantry_dockerfile_free(df);
}

static void test_dockerfile__d11_unterminated_heredoc(void **state)
{
    (void)state;
    parse_fails("FROM a\nRUN <<EOF\necho hi\n", "Dockerfile:2: unterminated heredoc");
    parse_fails("FROM a\nCOPY <<A <<B /x\na\nA\nb\n", "Dockerfile:2: unterminated heredoc");
    /* Without "-", an indented delimiter does not end the body. */
    parse_fails("FROM a\nRUN <<EOF\nx\n\tEOF\n", "unterminated heredoc");
}

static void test_dockerfile__instruction_expands(void **state)
{
    (void)state;
    static const enum gantry_dockerfile_kind yes[] = {
        GANTRY_DOCKERFILE_ADD,    GANTRY_DOCKERFILE_ARG,        GANTRY_DOCKERFILE_COPY,
        GANTRY_DOCKERFILE_ENV,    GANTRY_DOCKERFILE_EXPOSE,     GANTRY_DOCKERFILE_FROM,
        GANTRY_DOCKERFILE_LABEL,  GANTRY_DOCKERFILE_STOPSIGNAL, GANTRY_DOCKERFILE_USER,
        GANTRY_DOCKERFILE_VOLUME, GANTRY_DOCKERFILE_WORKDIR,
    };
    static const enum gantry_dockerfile_kind no[] = {
        GANTRY_DOCKERFILE_RUN,     GANTRY_DOCKERFILE_CMD,         GANTRY_DOCKERFILE_ENTRYPOINT,
        GANTRY_DOCKERFILE_SHELL,   GANTRY_DOCKERFILE_HEALTHCHECK, GANTRY_DOCKERFILE_MAINTAINER,
        GANTRY_DOCKERFILE_ONBUILD,
    };
    for (size_t i = 0; i < ARRAY_SIZE(yes); i++)
        assert_true(gantry_dockerfile_instruction_expands(yes[i]));
    for (size_t i = 0; i < ARRAY_SIZE(no); i++)
        assert_false(gantry_dockerfile_instruction_expands(no[i]));
    assert_string_equal(gantry_dockerfile_kind_name(GANTRY_DOCKERFILE_HEALTHCHECK), "HEALTHCHECK");
}

static void expect_duration(const char *s, int64_t want)
{
    int64_t ns = -42;
    _cleanup_error_ struct gantry_error *err = NULL;
    if (gantry_dockerfile_duration_parse(s, strlen(s), &ns, &err) < 0)
        fail_msg("'%s': %s", s, err->message);
    if (ns != want)
        fail_msg("'%s': %lld, want %lld", s, (long long)ns, (long long)want);
}

static void test_dockerfile__durations(void **state)
{
    (void)state;
    expect_duration("0", 0);
    expect_duration("30s", 30000000000LL);
    expect_duration("1m30s", 90000000000LL);
    expect_duration("1.5h", 5400000000000LL);
    expect_duration("300ms", 300000000LL);
    expect_duration("1us", 1000LL);
    expect_duration("1\xC2\xB5s", 1000LL);
    expect_duration("2ns", 2LL);
    expect_duration(".5s", 500000000LL);
    expect_duration("-1s", -1000000000LL);
    expect_duration("+2m", 120000000000LL);
    static const char *const bad[] = {"",   "5",  "s", "1x", "1.s.", "--1s", "9999999999999999999h",
                                      ".s", "1s2"};
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        int64_t ns;
        _cleanup_error_ struct gantry_error *err = NULL;
        if (gantry_dockerfile_duration_parse(bad[i], strlen(bad[i]), &ns, &err) == 0)
            fail_msg("'%s' parsed", bad[i]);
        assert_int_equal(err->code, GANTRY_E_INVALID_ARG);
        assert_non_null(strstr(err->message, "invalid duration"));
    }
}

static void parse_instruction_fails(const char *text, size_t len,
                                    const struct gantry_dockerfile_parse_opts *o, const char *want)
{
    struct gantry_dockerfile_instruction *in = NULL;
    _cleanup_error_ struct gantry_error *err = NULL;
    assert_int_equal(gantry_dockerfile_parse_instruction(text, len, o, &in, &err), -1);
    assert_null(in);
    assert_int_equal(err->code, GANTRY_E_PARSE);
    assert_string_equal(err->message, want);
}

static void test_dockerfile__parse_instruction(void **state)
{
    (void)state;
    struct gantry_dockerfile_instruction *in = NULL;
    _cleanup_error_ struct gantry_error *err = NULL;
    const char *cmd = "  cmd [\"sh\", \"-c\", \"\\u00e9\"]\r\n";
    assert_int_equal(gantry_dockerfile_parse_instruction(cmd, strlen(cmd), NULL, &in, &err), 0);
    assert_int_equal(in->kind, GANTRY_DOCKERFILE_CMD);
    assert_string_equal(in->keyword, "cmd");
    assert_true(in->json);
    assert_int_equal(in->n_args, 3);
    assert_string_equal(in->args[2], "\xc3\xa9");
    assert_int_equal(in->line, 1);
    gantry_dockerfile_instruction_free(in);
    /* Raw as in a Dockerfile: quotes kept, no FROM needed; not NUL-terminated. */
    const char *env = "ENV A=\"x y\" B=2 and more";
    assert_int_equal(gantry_dockerfile_parse_instruction(env, 15, NULL, &in, &err), 0);
    assert_int_equal(in->n_kvs, 2);
    assert_string_equal(in->kvs[0].value, "\"x y\"");
    assert_string_equal(in->kvs[1].value, "2");
    gantry_dockerfile_instruction_free(in);
    const char *ob = "ONBUILD RUN make";
    assert_int_equal(gantry_dockerfile_parse_instruction(ob, strlen(ob), NULL, &in, &err), 0);
    assert_non_null(in->trigger);
    assert_int_equal(in->trigger->kind, GANTRY_DOCKERFILE_RUN);
    gantry_dockerfile_instruction_free(in);
    gantry_dockerfile_instruction_free(NULL);
    /* Bare messages without a name, "<name>:1: " with one. */
    parse_instruction_fails("COPPY a b", 9, NULL,
                            "unknown instruction: COPPY (did you mean COPY?)");
    struct gantry_dockerfile_parse_opts o = {.name = "change"};
    parse_instruction_fails("ENV PATH", 8, &o, "change:1: ENV must have two arguments");
    parse_instruction_fails("LABEL a=\"b", 10, NULL,
                            "failed to process '\"b': unexpected end of statement while looking "
                            "for matching double-quote");
    parse_instruction_fails(" \t\r\n", 4, NULL, "no instruction");
    parse_instruction_fails("CMD a\0b", 7, &o, "change:1: unexpected NUL byte");
    parse_instruction_fails("CMD a\nCMD b", 11, NULL, "an instruction must fit on one line");
    parse_instruction_fails("CMD a \\\nb", 9, NULL, "an instruction must fit on one line");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dockerfile__d1_no_instructions),
        cmocka_unit_test(test_dockerfile__d2_env_without_value),
        cmocka_unit_test(test_dockerfile__d3_nested_json),
        cmocka_unit_test(test_dockerfile__json_and_shell_forms),
        cmocka_unit_test(test_dockerfile__d5_continuation_at_eof),
        cmocka_unit_test(test_dockerfile__d6_unterminated_quotes),
        cmocka_unit_test(test_dockerfile__d10_long_line),
        cmocka_unit_test(test_dockerfile__nul_byte),
        cmocka_unit_test(test_dockerfile__unknown_instruction),
        cmocka_unit_test(test_dockerfile__error_names_the_file),
        cmocka_unit_test(test_dockerfile__case_insensitive_keywords),
        cmocka_unit_test(test_dockerfile__directives),
        cmocka_unit_test(test_dockerfile__backtick_escape),
        cmocka_unit_test(test_dockerfile__comments_and_continuations),
        cmocka_unit_test(test_dockerfile__crlf_and_bom),
        cmocka_unit_test(test_dockerfile__from),
        cmocka_unit_test(test_dockerfile__arg),
        cmocka_unit_test(test_dockerfile__env_and_label),
        cmocka_unit_test(test_dockerfile__copy_and_add),
        cmocka_unit_test(test_dockerfile__run_flags),
        cmocka_unit_test(test_dockerfile__single_argument_instructions),
        cmocka_unit_test(test_dockerfile__shell),
        cmocka_unit_test(test_dockerfile__healthcheck),
        cmocka_unit_test(test_dockerfile__onbuild),
        cmocka_unit_test(test_dockerfile__heredocs),
        cmocka_unit_test(test_dockerfile__heredoc_lookup_and_lines),
        cmocka_unit_test(test_dockerfile__d11_unterminated_heredoc),
        cmocka_unit_test(test_dockerfile__instruction_expands),
        cmocka_unit_test(test_dockerfile__durations),
        cmocka_unit_test(test_dockerfile__parse_instruction),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
