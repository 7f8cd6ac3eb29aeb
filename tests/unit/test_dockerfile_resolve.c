/*
 * Unit tests for the ARG scopes, the automatic platform ARGs and FROM
 * resolution: --platform=$BUILDPLATFORM stages, bare "ARG TARGETARCH"
 * inside a stage, defaults overriding automatic values, build args, COPY
 * --from and RUN --mount from= (stage, index, image), unknown stages,
 * cycles and --target.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <gantry/dockerfile.h>

#include "util.h"

struct fixture {
    struct gantry_platform build;
    struct gantry_platform target;
};

static int setup(void **state)
{
    struct fixture *f = xcalloc(1, sizeof(*f));
    if (gantry_platform_parse("linux/amd64", 11, &f->build, NULL) < 0 ||
        gantry_platform_parse("linux/arm/v7", 12, &f->target, NULL) < 0)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    gantry_platform_release(&f->build);
    gantry_platform_release(&f->target);
    free(f);
    return 0;
}

static struct gantry_dockerfile *parse_ok(const char *text)
{
    struct gantry_dockerfile *df = NULL;
    _cleanup_error_ struct gantry_error *err = NULL;
    if (gantry_dockerfile_parse(text, strlen(text), NULL, &df, &err) < 0)
        fail_msg("parse failed: %s", err->message);
    return df;
}

static struct gantry_dockerfile_resolved *resolve_ok(struct fixture *f,
                                                     const struct gantry_dockerfile *df,
                                                     const struct gantry_dockerfile_vars *args,
                                                     const char *target)
{
    struct gantry_dockerfile_resolve_opts o = {
        .build = &f->build, .target = &f->target, .build_args = args, .target_stage = target};
    struct gantry_dockerfile_resolved *res = NULL;
    _cleanup_error_ struct gantry_error *err = NULL;
    if (gantry_dockerfile_resolve_from(df, &o, &res, &err) < 0)
        fail_msg("resolve failed: %s", err->message);
    return res;
}

static void resolve_fails(struct fixture *f, const char *text, const char *target,
                          enum gantry_error_code code, const char *want)
{
    struct gantry_dockerfile *df = parse_ok(text);
    struct gantry_dockerfile_resolve_opts o = {
        .build = &f->build, .target = &f->target, .target_stage = target};
    struct gantry_dockerfile_resolved *res = NULL;
    _cleanup_error_ struct gantry_error *err = NULL;
    int r = gantry_dockerfile_resolve_from(df, &o, &res, &err);
    gantry_dockerfile_free(df);
    if (r == 0) {
        gantry_dockerfile_resolved_free(res);
        fail_msg("resolve succeeded, want '%s'", want);
    }
    assert_null(res);
    assert_int_equal(err->code, code);
    if (!strstr(err->message, want))
        fail_msg("message '%s' lacks '%s'", err->message, want);
}

static void test_dockerfile__platform_args(void **state)
{
    struct fixture *f = *state;
    struct gantry_dockerfile_vars v = GANTRY_DOCKERFILE_VARS_INIT;
    gantry_dockerfile_platform_args(&f->build, &f->target, &v);
    assert_int_equal(v.n_items, 8);
    assert_string_equal(gantry_dockerfile_vars_get(&v, "BUILDPLATFORM"), "linux/amd64");
    assert_string_equal(gantry_dockerfile_vars_get(&v, "BUILDOS"), "linux");
    assert_string_equal(gantry_dockerfile_vars_get(&v, "BUILDARCH"), "amd64");
    assert_string_equal(gantry_dockerfile_vars_get(&v, "BUILDVARIANT"), "");
    assert_string_equal(gantry_dockerfile_vars_get(&v, "TARGETPLATFORM"), "linux/arm/v7");
    assert_string_equal(gantry_dockerfile_vars_get(&v, "TARGETOS"), "linux");
    assert_string_equal(gantry_dockerfile_vars_get(&v, "TARGETARCH"), "arm");
    assert_string_equal(gantry_dockerfile_vars_get(&v, "TARGETVARIANT"), "v7");
    gantry_dockerfile_vars_release(&v);
}

static void test_dockerfile__global_scope(void **state)
{
    struct fixture *f = *state;
    struct gantry_dockerfile *df = parse_ok("ARG VERSION=1.0\n"
                                            "ARG TARGETARCH=amd64\n"
                                            "ARG FULL=${VERSION}-${TARGETARCH}-${TARGETVARIANT}\n"
                                            "ARG DECLARED\n"
                                            "ARG BUILDOS\n"
                                            "FROM a\n");
    struct gantry_dockerfile_vars args = GANTRY_DOCKERFILE_VARS_INIT;
    gantry_dockerfile_vars_set(&args, "DECLARED", "yes");
    gantry_dockerfile_vars_set(&args, "UNDECLARED", "no");
    gantry_dockerfile_vars_set(&args, "BUILDVARIANT", "v3");
    struct gantry_dockerfile_vars g;
    assert_int_equal(gantry_dockerfile_global_scope(df, &f->build, &f->target, &args, &g, NULL), 0);
    assert_string_equal(gantry_dockerfile_vars_get(&g, "VERSION"), "1.0");
    /* A default overrides the automatic value, as in BuildKit. */
    assert_string_equal(gantry_dockerfile_vars_get(&g, "TARGETARCH"), "amd64");
    assert_string_equal(gantry_dockerfile_vars_get(&g, "FULL"), "1.0-amd64-v7");
    assert_string_equal(gantry_dockerfile_vars_get(&g, "DECLARED"), "yes");
    assert_null(gantry_dockerfile_vars_get(&g, "UNDECLARED"));
    /* A bare global ARG keeps the automatic value; a build arg overrides it. */
    assert_string_equal(gantry_dockerfile_vars_get(&g, "BUILDOS"), "linux");
    assert_string_equal(gantry_dockerfile_vars_get(&g, "BUILDVARIANT"), "v3");
    gantry_dockerfile_vars_release(&g);

    /* --build-arg beats a default. */
    gantry_dockerfile_vars_set(&args, "VERSION", "2.0");
    assert_int_equal(gantry_dockerfile_global_scope(df, &f->build, &f->target, &args, &g, NULL), 0);
    assert_string_equal(gantry_dockerfile_vars_get(&g, "FULL"), "2.0-amd64-v7");
    gantry_dockerfile_vars_release(&g);
    gantry_dockerfile_vars_release(&args);
    gantry_dockerfile_free(df);

    /* Quoted: ARG splits words at white space before any expansion. */
    df = parse_ok("ARG X=\"${UNSET:?is required}\"\nFROM a\n");
    _cleanup_error_ struct gantry_error *err = NULL;
    assert_int_equal(gantry_dockerfile_global_scope(df, &f->build, &f->target, NULL, &g, &err), -1);
    assert_string_equal(err->message, "Dockerfile:1: failed to process '\"${UNSET:?is required}\"'"
                                      ": UNSET: is required");
    gantry_dockerfile_free(df);
}

static char *stage_arg(const struct gantry_dockerfile_kv *kv, struct gantry_dockerfile_vars *g,
                       struct gantry_dockerfile_vars *args, struct gantry_dockerfile_vars *env)
{
    struct gantry_dockerfile_arg_opts o = {
        .global = g, .build_args = args, .lookup = gantry_dockerfile_vars_lookup, .user = env};
    char *v = (char *)"unchanged";
    _cleanup_error_ struct gantry_error *err = NULL;
    if (gantry_dockerfile_stage_arg(kv, &o, &v, &err) < 0)
        fail_msg("stage arg '%s': %s", kv->key, err->message);
    return v;
}

static void test_dockerfile__stage_arg_scoping(void **state)
{
    struct fixture *f = *state;
    struct gantry_dockerfile *df = parse_ok("ARG VERSION=1.0\n"
                                            "ARG NOVALUE\n"
                                            "FROM a\n"
                                            "ENV HOME=/root\n"
                                            "ARG TARGETARCH VERSION BUILDPLATFORM NOVALUE\n"
                                            "ARG TARGETOS=plan9 DIR=${HOME}/x OTHER\n");
    struct gantry_dockerfile_vars g, env = GANTRY_DOCKERFILE_VARS_INIT;
    assert_int_equal(gantry_dockerfile_global_scope(df, &f->build, &f->target, NULL, &g, NULL), 0);
    gantry_dockerfile_vars_set(&env, "HOME", "/root");
    const struct gantry_dockerfile_instruction *a1 = &df->stages[0].instructions[1];
    const struct gantry_dockerfile_instruction *a2 = &df->stages[0].instructions[2];
    char *v;
    /* A bare ARG brings in the global (automatic or declared) value. */
    assert_string_equal(v = stage_arg(&a1->kvs[0], &g, NULL, &env), "arm");
    free(v);
    assert_string_equal(v = stage_arg(&a1->kvs[1], &g, NULL, &env), "1.0");
    free(v);
    assert_string_equal(v = stage_arg(&a1->kvs[2], &g, NULL, &env), "linux/amd64");
    free(v);
    assert_null(stage_arg(&a1->kvs[3], &g, NULL, &env));
    /* A default wins over the automatic value and is expanded in the stage. */
    assert_string_equal(v = stage_arg(&a2->kvs[0], &g, NULL, &env), "plan9");
    free(v);
    assert_string_equal(v = stage_arg(&a2->kvs[1], &g, NULL, &env), "/root/x");
    free(v);
    assert_null(stage_arg(&a2->kvs[2], &g, NULL, &env));
    /* --build-arg wins over everything. */
    struct gantry_dockerfile_vars args = GANTRY_DOCKERFILE_VARS_INIT;
    gantry_dockerfile_vars_set(&args, "TARGETOS", "linux");
    gantry_dockerfile_vars_set(&args, "OTHER", "o");
    assert_string_equal(v = stage_arg(&a2->kvs[0], &g, &args, &env), "linux");
    free(v);
    assert_string_equal(v = stage_arg(&a2->kvs[2], &g, &args, &env), "o");
    free(v);
    gantry_dockerfile_vars_release(&args);
    gantry_dockerfile_vars_release(&env);
    gantry_dockerfile_vars_release(&g);
    gantry_dockerfile_free(df);
}

static void test_dockerfile__resolve_multi_stage(void **state)
{
    struct fixture *f = *state;
    struct gantry_dockerfile *df = parse_ok(
        "ARG GO=1.22\n"
        "FROM --platform=$BUILDPLATFORM golang:${GO} AS build\n"
        "ARG TARGETARCH\n"
        "RUN GOARCH=$TARGETARCH go build -o /out/app\n"
        "FROM debian:bookworm AS busybox\n"
        "FROM build AS unused\n"
        "FROM scratch\n"
        "COPY --from=build /out/app /app\n"
        "COPY --from=1 /bin/busybox /bin/\n"
        "COPY --from=nginx:latest /etc/nginx /etc/nginx\n"
        "RUN --mount=type=bind,from=busybox,target=/b --mount=type=cache,target=/c true\n");
    struct gantry_dockerfile_resolved *res = resolve_ok(f, df, NULL, NULL);
    assert_int_equal(res->n_stages, 4);
    assert_int_equal(res->target, 3);
    const struct gantry_dockerfile_resolved_stage *s = res->stages;
    assert_string_equal(s[0].base, "golang:1.22");
    assert_string_equal(s[0].base_ref.path, "library/golang");
    assert_string_equal(s[0].platform_expr, "linux/amd64");
    assert_string_equal(s[0].platform.architecture, "amd64");
    assert_int_equal(s[0].base_stage, GANTRY_DOCKERFILE_NO_STAGE);
    assert_null(s[1].platform_expr);
    assert_string_equal(s[1].platform.architecture, "arm");
    assert_string_equal(s[1].platform.variant, "v7");
    assert_int_equal(s[2].base_stage, 0);
    assert_true(s[3].scratch);
    assert_int_equal(s[3].n_sources, 4);
    assert_int_equal(s[3].sources[0].stage, 0);
    assert_int_equal(s[3].sources[1].stage, 1);
    assert_int_equal(s[3].sources[2].stage, GANTRY_DOCKERFILE_NO_STAGE);
    assert_string_equal(s[3].sources[2].image, "nginx:latest");
    assert_int_equal(s[3].sources[2].line, 10);
    assert_int_equal(s[3].sources[3].stage, 1);
    assert_int_equal(s[3].n_deps, 2);
    assert_int_equal(s[3].deps[0], 0);
    assert_int_equal(s[3].deps[1], 1);
    assert_true(s[0].needed && s[1].needed && s[3].needed);
    assert_false(s[2].needed);
    assert_string_equal(gantry_dockerfile_vars_get(&res->global, "GO"), "1.22");
    assert_int_equal(res->n_warnings, 0);
    gantry_dockerfile_resolved_free(res);

    /* --target picks the stage and what it needs. */
    res = resolve_ok(f, df, NULL, "UNUSED");
    assert_int_equal(res->target, 2);
    assert_true(res->stages[0].needed && res->stages[2].needed);
    assert_false(res->stages[1].needed || res->stages[3].needed);
    gantry_dockerfile_resolved_free(res);
    gantry_dockerfile_free(df);
}

static void test_dockerfile__resolve_build_args(void **state)
{
    struct fixture *f = *state;
    struct gantry_dockerfile *df = parse_ok("ARG BASE=alpine\n"
                                            "ARG PLATFORM\n"
                                            "FROM --platform=${PLATFORM:-linux/arm64} ${BASE}\n"
                                            "FROM ${BASE} AS alpine\n"
                                            "FROM alpine\n");
    struct gantry_dockerfile_resolved *res = resolve_ok(f, df, NULL, NULL);
    assert_string_equal(res->stages[0].base, "alpine");
    assert_string_equal(res->stages[0].platform_expr, "linux/arm64");
    assert_string_equal(res->stages[0].platform.architecture, "arm64");
    /* FROM alpine AS alpine is the image; later, "alpine" is the stage. */
    assert_string_equal(res->stages[1].base, "alpine");
    assert_int_equal(res->stages[1].base_stage, GANTRY_DOCKERFILE_NO_STAGE);
    assert_int_equal(res->stages[2].base_stage, 1);
    assert_false(res->stages[0].needed);
    gantry_dockerfile_resolved_free(res);
    struct gantry_dockerfile_vars args = GANTRY_DOCKERFILE_VARS_INIT;
    gantry_dockerfile_vars_set(&args, "BASE", "busybox:1.36");
    gantry_dockerfile_vars_set(&args, "PLATFORM", "linux/s390x");
    res = resolve_ok(f, df, &args, NULL);
    assert_string_equal(res->stages[0].base, "busybox:1.36");
    assert_string_equal(res->stages[0].base_ref.tag, "1.36");
    assert_string_equal(res->stages[0].platform.architecture, "s390x");
    gantry_dockerfile_resolved_free(res);
    gantry_dockerfile_vars_release(&args);
    gantry_dockerfile_free(df);
}

static void test_dockerfile__resolve_errors(void **state)
{
    struct fixture *f = *state;
    resolve_fails(f, "FROM a AS x\nCOPY --from=y /a /b\nFROM x AS y\n", NULL, GANTRY_E_INVALID_ARG,
                  "circular dependency detected on stage 'x'");
    resolve_fails(f, "FROM a\nFROM b AS me\nCOPY --from=me /a /b\n", NULL, GANTRY_E_INVALID_ARG,
                  "Dockerfile:2: circular dependency detected on stage 'me'");
    resolve_fails(f, "FROM a\nCOPY --from=5 /a /b\n", NULL, GANTRY_E_INVALID_ARG,
                  "Dockerfile:2: unknown stage in --from: invalid stage index 5");
    resolve_fails(f, "FROM a\nCOPY --from=Bad_Name! /a /b\n", NULL, GANTRY_E_INVALID_ARG,
                  "Dockerfile:2: unknown stage in --from: invalid reference 'Bad_Name!'");
    resolve_fails(f, "FROM a\nRUN --mount=from=BAD,target=/x true\n", NULL, GANTRY_E_INVALID_ARG,
                  "Dockerfile:2: unknown stage in --from");
    resolve_fails(f, "ARG X\nFROM $X\n", NULL, GANTRY_E_PARSE,
                  "Dockerfile:2: base name '$X' should not be blank");
    resolve_fails(f, "FROM a/Upper\n", NULL, GANTRY_E_INVALID_ARG,
                  "Dockerfile:1: invalid reference 'a/Upper'");
    resolve_fails(f, "ARG P\nFROM --platform=$P a\n", NULL, GANTRY_E_PARSE,
                  "Dockerfile:2: empty platform value from expression '$P'");
    resolve_fails(f, "FROM --platform=linux/* a\n", NULL, GANTRY_E_INVALID_ARG,
                  "Dockerfile:1: invalid platform 'linux/*'");
    resolve_fails(f, "FROM a\nFROM b AS two\n", "three", GANTRY_E_NOT_FOUND,
                  "target stage 'three' could not be found");
    resolve_fails(f, "FROM ${X:?needed}\n", NULL, GANTRY_E_INVALID_ARG,
                  "Dockerfile:1: failed to process '${X:?needed}': X: needed");
    struct gantry_dockerfile *df = parse_ok("FROM a\n");
    struct gantry_dockerfile_resolved *res = NULL;
    struct gantry_dockerfile_resolve_opts o = {.build = &f->build};
    _cleanup_error_ struct gantry_error *err = NULL;
    assert_int_equal(gantry_dockerfile_resolve_from(df, &o, &res, &err), -1);
    assert_int_equal(err->code, GANTRY_E_INVALID_ARG);
    gantry_dockerfile_free(df);
}

static void test_dockerfile__resolve_warns_near_stage(void **state)
{
    struct fixture *f = *state;
    struct gantry_dockerfile *df = parse_ok("FROM golang AS builder\n"
                                            "FROM scratch\n"
                                            "COPY --from=buider /a /a\n"
                                            "COPY --from=alpine:3 /b /b\n");
    struct gantry_dockerfile_resolved *res = resolve_ok(f, df, NULL, NULL);
    assert_string_equal(res->stages[1].sources[0].image, "buider");
    assert_int_equal(res->n_warnings, 1);
    assert_string_equal(res->warnings[0], "Dockerfile:3: 'buider' is not a stage, it is used as "
                                          "an image (did you mean stage 'builder'?)");
    gantry_dockerfile_resolved_free(res);
    gantry_dockerfile_free(df);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_dockerfile__platform_args, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dockerfile__global_scope, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dockerfile__stage_arg_scoping, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dockerfile__resolve_multi_stage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dockerfile__resolve_build_args, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dockerfile__resolve_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dockerfile__resolve_warns_near_stage, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
