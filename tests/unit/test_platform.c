/*
 * Unit tests for platform: containerd's parse and normalization vectors,
 * bad-inputs.md section 4.2 (P1, P2), formatting, the host platform and
 * the matcher's fallback order. The host is pinned with
 * GANTRY_HOST_PLATFORM=linux/amd64 unless a test says otherwise.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <sys/utsname.h>

#include <gantry/platform.h>

#include "platform/platform-internal.h"
#include "util.h"

#define HOST "linux/amd64"

static void set_host(const char *spec)
{
    if (spec)
        assert_int_equal(setenv(GANTRY_HOST_PLATFORM_ENV, spec, 1), 0);
    else
        assert_int_equal(unsetenv(GANTRY_HOST_PLATFORM_ENV), 0);
}

static int reset_host(void **state)
{
    (void)state;
    set_host(HOST);
    return 0;
}

/* Parse or fail the test; the result is normalized. */
static void parse_ok(const char *s, struct gantry_platform *out)
{
    _cleanup_error_ struct gantry_error *err = NULL;
    if (gantry_platform_parse(s, strlen(s), out, &err) < 0)
        fail_msg("'%s': unexpected error: %s", s, err ? err->message : "?");
}

struct parse_case {
    const char *input;
    const char *formatted;
};

static const struct parse_case parse_cases[] = {
    /* P2 and the alias table */
    {"Aarch64", "linux/arm64"},
    {"aarch64", "linux/arm64"},
    {"arm64", "linux/arm64"},
    {"x86_64", "linux/amd64"},
    {"x86-64", "linux/amd64"},
    {"amd64", "linux/amd64"},
    {"i386", "linux/386"},
    {"386", "linux/386"},
    {"armel", "linux/arm/v6"},
    {"armhf", "linux/arm/v7"},
    {"arm", "linux/arm/v7"},
    {"s390x", "linux/s390x"},
    {"ppc64le", "linux/ppc64le"},
    {"riscv64", "linux/riscv64"},
    {"loong64", "linux/loong64"},
    {"Linux/x86_64", "linux/amd64"},
    {"macOS", "darwin/amd64"},
    {"macos/arm64", "darwin/arm64"},
    {"linux", "linux/amd64"},
    {"windows", "windows/amd64"},
    {"freebsd/riscv64", "freebsd/riscv64"},
    /* arm variants */
    {"linux/arm", "linux/arm/v7"},
    {"linux/armhf", "linux/arm/v7"},
    {"linux/armel", "linux/arm/v6"},
    {"linux/arm/5", "linux/arm/v5"},
    {"linux/arm/6", "linux/arm/v6"},
    {"linux/arm/7", "linux/arm/v7"},
    {"linux/arm/8", "linux/arm/v8"},
    {"linux/arm/v5", "linux/arm/v5"},
    {"linux/arm/V7", "linux/arm/v7"},
    /* arm64 variants */
    {"linux/arm64/8", "linux/arm64"},
    {"linux/arm64/v8", "linux/arm64"},
    {"linux/arm64/v8.0", "linux/arm64"},
    {"linux/aarch64/v8", "linux/arm64"},
    {"linux/arm64/9", "linux/arm64/v9"},
    {"linux/arm64/9.0", "linux/arm64/v9"},
    {"linux/arm64/v9.0", "linux/arm64/v9"},
    {"linux/arm64/v9", "linux/arm64/v9"},
    {"linux/arm64/v8.2", "linux/arm64/v8.2"},
    {"linux/aarch64/V8.2", "linux/arm64/v8.2"},
    {"linux/arm64/v9.3", "linux/arm64/v9.3"},
    {"LINUX/ARM64/V8", "linux/arm64"},
    /* amd64 levels, 386 */
    {"linux/amd64/v1", "linux/amd64"},
    {"linux/x86_64/v2", "linux/amd64/v2"},
    {"linux/amd64/v3", "linux/amd64/v3"},
    {"linux/amd64/V4", "linux/amd64/v4"},
    {"linux/i386", "linux/386"},
    {"linux/386/sse2", "linux/386"},
    /* os version and features */
    {"windows(10.0.17763)", "windows(10.0.17763)/amd64"},
    {"windows(10.0.17763)/amd64", "windows(10.0.17763)/amd64"},
    {"Windows(10.0.17763+win32k)/x86_64", "windows(10.0.17763+win32k)/amd64"},
    {"linux(+gpu+simd)/amd64", "linux(+gpu+simd)/amd64"},
    {"linux(+simd+gpu+simd)/amd64", "linux(+gpu+simd)/amd64"},
    {"linux(+gpu)", "linux(+gpu)/amd64"},
    {"linux(+a%2Bb+c%2fd)/arm64", "linux(+a%2Bb+c%2Fd)/arm64"},
    {"linux(1.0%28x%29%25)/amd64", "linux(1.0%28x%29%25)/amd64"},
    /* found by fuzz_platform: decoded bytes outside the component set */
    {"linux(%20)/amd64", "linux(%20)/amd64"},
    {"linux(+a%1Bb)/amd64", "linux(+a%1Bb)/amd64"},
    {"linux()/amd64", "linux/amd64"},
    /* anything goes for os/arch pairs */
    {"unknown/unknown", "unknown/unknown"},
    {"foo/bar", "foo/bar"},
    {"linux/foo_bar/x.y-z", "linux/foo_bar/x.y-z"},
};

static void test_platform__parse_vectors(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(parse_cases); i++) {
        const struct parse_case *c = &parse_cases[i];
        _cleanup_platform_ struct gantry_platform p = GANTRY_PLATFORM_INIT;
        parse_ok(c->input, &p);
        _cleanup_free_ char *f = gantry_platform_format(&p);
        if (strcmp(f, c->formatted) != 0)
            fail_msg("'%s': formatted '%s', want '%s'", c->input, f, c->formatted);
        /* The formatted form parses back to the same platform. */
        _cleanup_platform_ struct gantry_platform back = GANTRY_PLATFORM_INIT;
        parse_ok(f, &back);
        if (!gantry_platform_equal(&p, &back))
            fail_msg("'%s': '%s' does not read back the same", c->input, f);
    }
}

static void test_platform__parse_fields(void **state)
{
    (void)state;
    _cleanup_platform_ struct gantry_platform p = GANTRY_PLATFORM_INIT;
    parse_ok("windows(10.0.17763+win32k+a%2Bb)/amd64", &p);
    assert_string_equal(p.os, "windows");
    assert_string_equal(p.architecture, "amd64");
    assert_null(p.variant);
    assert_string_equal(p.os_version, "10.0.17763");
    assert_int_equal(p.n_os_features, 2);
    assert_string_equal(p.os_features[0], "a+b");
    assert_string_equal(p.os_features[1], "win32k");

    _cleanup_platform_ struct gantry_platform q = GANTRY_PLATFORM_INIT;
    parse_ok("linux/arm64/v8", &q);
    assert_null(q.variant);
    assert_null(q.os_version);
    assert_null(q.os_features);
    assert_int_equal(q.n_os_features, 0);

    /* Only len bytes are read. */
    _cleanup_platform_ struct gantry_platform r = GANTRY_PLATFORM_INIT;
    const char buf[] = {'l', 'i', 'n', 'u', 'x', '/', 'a', 'r', 'm', '/', '*'};
    assert_int_equal(gantry_platform_parse(buf, 9, &r, NULL), 0);
    assert_string_equal(r.variant, "v7");
}

static const char *const invalid_cases[] = {
    /* P1 */
    "",
    "/linux/arm",
    "linux/arm/",
    "linux /arm",
    "linux/&arm",
    "linux/arm/foo/bar",
    /* neighbours */
    "*",
    "linux/*",
    "linux/arm/*",
    "/",
    "//",
    "linux//arm",
    "linux/",
    "linux/amd64/v3/",
    "linux/amd64\n",
    " linux",
    "linux/am d64",
    "lin.ux/amd64",
    "linux/arm$",
    "foo",
    "Foo_Bar",
    "amd64(1.0)",
    "linux(",
    "linux(1.0",
    "linux)",
    "linux(1.0)x/amd64",
    "linux(+)/amd64",
    "linux(++a)/amd64",
    "linux(a+)/amd64",
    "linux(%zz)/amd64",
    "linux(%2)/amd64",
    "linux(%00)/amd64",
    "linux(a/b)/amd64",
    "linux(a(b)/amd64",
    "linux(a b)/amd64",
    "(1.0)/amd64",
};

static void test_platform__invalid_vectors(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(invalid_cases); i++) {
        const char *s = invalid_cases[i];
        char *junk = (char *)"junk";
        struct gantry_platform p = {junk, junk, junk, junk, &junk, 1};
        _cleanup_error_ struct gantry_error *err = NULL;
        if (gantry_platform_parse(s, strlen(s), &p, &err) == 0) {
            _cleanup_free_ char *f = gantry_platform_format(&p);
            gantry_platform_release(&p);
            fail_msg("'%s': parsed as '%s', want an error", s, f);
        }
        assert_non_null(err);
        assert_int_equal(err->code, GANTRY_E_INVALID_ARG);
        if (!str_has_prefix(err->message, "invalid platform '"))
            fail_msg("'%s': message '%s' does not name the input", s, err->message);
        assert_null(strchr(err->message, '\n'));
        /* FuzzPlatformsParse: on error the struct is empty. */
        assert_null(p.os);
        assert_null(p.architecture);
        assert_null(p.variant);
        assert_null(p.os_version);
        assert_null(p.os_features);
        assert_int_equal(p.n_os_features, 0);
    }
}

static void expect_message(const char *s, const char *want)
{
    _cleanup_error_ struct gantry_error *err = NULL;
    struct gantry_platform p;
    assert_int_equal(gantry_platform_parse(s, strlen(s), &p, &err), -1);
    if (strcmp(err->message, want) != 0)
        fail_msg("'%s': message '%s', want '%s'", s, err->message, want);
}

static void test_platform__error_messages(void **state)
{
    (void)state;
    expect_message("", "invalid platform '': empty platform specifier");
    expect_message("*", "invalid platform '*': wildcards are not supported");
    expect_message("linux/arm/foo/bar",
                   "invalid platform 'linux/arm/foo/bar': too many components: want os, arch, "
                   "os/arch or os/arch/variant");
    expect_message("linux/&arm", "invalid platform 'linux/&arm': invalid component '&arm': want "
                                 "[A-Za-z0-9_.-]+");
    expect_message("linux/arm/", "invalid platform 'linux/arm/': empty component");
    expect_message("/linux/arm", "invalid platform '/linux/arm': empty os component");
    expect_message("foo", "invalid platform 'foo': unknown operating system or architecture");
    expect_message("linux(%zz)/amd64", "invalid platform 'linux(%zz)/amd64': invalid os "
                                       "component 'linux(%zz)': invalid %-escape in os options");
    /* A NULL err is allowed. */
    struct gantry_platform p;
    assert_int_equal(gantry_platform_parse("linux/", 6, &p, NULL), -1);
    /* An embedded NUL is not a terminator. */
    assert_int_equal(gantry_platform_parse("linux\0/amd64", 12, &p, NULL), -1);
    assert_int_equal(gantry_platform_parse("linux/amd64\0", 12, &p, NULL), -1);
    assert_int_equal(gantry_platform_parse("linux(\0)/amd64", 14, &p, NULL), -1);
}

static void test_platform__normalize_image_json(void **state)
{
    (void)state;
    struct gantry_platform p = GANTRY_PLATFORM_INIT;
    p.os = xstrdup("Linux");
    p.architecture = xstrdup("AArch64");
    p.variant = xstrdup("V8");
    p.os_version = xstrdup("");
    p.os_features = xcalloc(4, sizeof(char *));
    p.os_features[0] = xstrdup("b");
    p.os_features[1] = xstrdup("a");
    p.os_features[2] = xstrdup("b");
    p.os_features[3] = xstrdup("");
    p.n_os_features = 4;
    gantry_platform_normalize(&p);
    assert_string_equal(p.os, "linux");
    assert_string_equal(p.architecture, "arm64");
    assert_null(p.variant);
    assert_null(p.os_version);
    assert_int_equal(p.n_os_features, 2);
    assert_string_equal(p.os_features[0], "a");
    assert_string_equal(p.os_features[1], "b");
    gantry_platform_normalize(&p); /* idempotent */
    assert_string_equal(p.architecture, "arm64");
    assert_int_equal(p.n_os_features, 2);
    gantry_platform_release(&p);

    /* An absent OS becomes the host's; an arm without variant is v7. */
    set_host("freebsd/arm64");
    p.architecture = xstrdup("arm");
    gantry_platform_normalize(&p);
    assert_string_equal(p.os, "freebsd");
    assert_string_equal(p.variant, "v7");
    gantry_platform_release(&p);

    /* Nothing at all stays nothing (attestation entries). */
    gantry_platform_normalize(&p);
    assert_null(p.os);
    assert_null(p.architecture);
    assert_true(gantry_platform_is_unknown(&p));
}

static void test_platform__format_as_written(void **state)
{
    (void)state;
    char *features[] = {(char *)"simd", (char *)"gpu"};
    struct gantry_platform p = {(char *)"linux", (char *)"arm64", (char *)"v8", NULL, NULL, 0};
    _cleanup_free_ char *a = gantry_platform_format(&p);
    assert_string_equal(a, "linux/arm64/v8"); /* as the image writes it */
    p.os_features = features;
    p.n_os_features = 2;
    _cleanup_free_ char *b = gantry_platform_format(&p);
    assert_string_equal(b, "linux(+gpu+simd)/arm64/v8");
    assert_string_equal(features[0], "simd"); /* the platform is not modified */
    struct gantry_platform w = {
        (char *)"windows", (char *)"amd64", NULL, (char *)"10.0/1+x", NULL, 0};
    _cleanup_free_ char *c = gantry_platform_format(&w);
    assert_string_equal(c, "windows(10.0%2F1%2Bx)/amd64");
    struct gantry_platform none = GANTRY_PLATFORM_INIT;
    _cleanup_free_ char *d = gantry_platform_format(&none);
    assert_string_equal(d, "unknown");
    struct gantry_platform os_only = {(char *)"linux", NULL, NULL, NULL, NULL, 0};
    _cleanup_free_ char *e = gantry_platform_format(&os_only);
    assert_string_equal(e, "linux");
}

struct uname_case {
    const char *sysname, *machine, *formatted;
};

static void test_platform__host_from_uname(void **state)
{
    (void)state;
    static const struct uname_case cases[] = {
        {"Linux", "x86_64", "linux/amd64"},    {"Linux", "aarch64", "linux/arm64"},
        {"Linux", "armv7l", "linux/arm/v7"},   {"Linux", "armv6l", "linux/arm/v6"},
        {"Linux", "armv5tel", "linux/arm/v5"}, {"Linux", "armv8l", "linux/arm/v8"},
        {"Linux", "i686", "linux/386"},        {"Linux", "i386", "linux/386"},
        {"Linux", "ppc64le", "linux/ppc64le"}, {"Linux", "s390x", "linux/s390x"},
        {"Linux", "riscv64", "linux/riscv64"}, {"Linux", "loongarch64", "linux/loong64"},
        {"Darwin", "arm64", "darwin/arm64"},   {"FreeBSD", "amd64", "freebsd/amd64"},
        {"Linux", "Weird_M", "linux/weird_m"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        _cleanup_platform_ struct gantry_platform p = GANTRY_PLATFORM_INIT;
        platform_from_uname(cases[i].sysname, cases[i].machine, &p);
        _cleanup_free_ char *f = gantry_platform_format(&p);
        if (strcmp(f, cases[i].formatted) != 0)
            fail_msg("%s %s: '%s', want '%s'", cases[i].sysname, cases[i].machine, f,
                     cases[i].formatted);
    }
}

static void expect_host(const char *want)
{
    _cleanup_platform_ struct gantry_platform h = GANTRY_PLATFORM_INIT;
    _cleanup_error_ struct gantry_error *err = NULL;
    if (gantry_platform_host(&h, &err) < 0)
        fail_msg("host: %s", err->message);
    _cleanup_free_ char *f = gantry_platform_format(&h);
    assert_string_equal(f, want);
}

static void test_platform__host_override(void **state)
{
    (void)state;
    struct utsname u;
    assert_int_equal(uname(&u), 0);
    _cleanup_platform_ struct gantry_platform real = GANTRY_PLATFORM_INIT;
    platform_from_uname(u.sysname, u.machine, &real);
    _cleanup_free_ char *real_s = gantry_platform_format(&real);

    set_host("linux/armhf");
    expect_host("linux/arm/v7");
    set_host("windows(10.0.20348)/amd64");
    expect_host("windows(10.0.20348)/amd64");
    set_host("");
    expect_host(real_s);
    set_host(NULL);
    expect_host(real_s);
    /* A one-part override takes the rest from uname. */
    set_host("riscv64");
    _cleanup_free_ char *want = xasprintf("%s/riscv64", real.os);
    expect_host(want);

    /* One-part specifiers take the missing half from the host. */
    set_host("linux/arm/v6");
    _cleanup_platform_ struct gantry_platform p = GANTRY_PLATFORM_INIT;
    parse_ok("linux", &p);
    assert_string_equal(p.variant, "v6");
    gantry_platform_release(&p);
    set_host("freebsd/arm64");
    parse_ok("ppc64le", &p);
    assert_string_equal(p.os, "freebsd");

    set_host("bad/*");
    _cleanup_error_ struct gantry_error *err = NULL;
    struct gantry_platform h;
    assert_int_equal(gantry_platform_host(&h, &err), -1);
    assert_non_null(strstr(err->message, GANTRY_HOST_PLATFORM_ENV));
    assert_null(h.os);
    /* Specifiers that do not need the host still parse. */
    _cleanup_platform_ struct gantry_platform q = GANTRY_PLATFORM_INIT;
    parse_ok("linux/arm64", &q);
    struct gantry_platform r;
    assert_int_equal(gantry_platform_parse("arm64", 5, &r, NULL), -1);
}

struct match_case {
    const char *want;
    const char *candidate;
    bool strict;
    int rank;
};

static const struct match_case match_cases[] = {
    /* amd64 levels, then 386 */
    {"linux/amd64", "linux/amd64", false, 0},
    {"linux/amd64", "linux/x86_64", false, 0},
    {"linux/amd64", "linux/amd64/v1", false, 0},
    {"linux/amd64", "linux/386", false, 1},
    {"linux/amd64", "linux/i386", false, 1},
    {"linux/amd64", "linux/amd64/v2", false, -1},
    {"linux/amd64", "linux/arm64", false, -1},
    {"linux/amd64", "windows/amd64", false, -1},
    {"linux/amd64/v3", "linux/amd64/v3", false, 0},
    {"linux/amd64/v3", "linux/amd64/v2", false, 1},
    {"linux/amd64/v3", "linux/amd64", false, 2},
    {"linux/amd64/v3", "linux/amd64/v1", false, 2},
    {"linux/amd64/v3", "linux/386", false, 3},
    {"linux/amd64/v3", "linux/amd64/v4", false, -1},
    {"linux/amd64/v4", "linux/amd64/v3", false, 1},
    {"linux/amd64/v4", "linux/amd64/v2", false, 2},
    {"linux/amd64/v4", "linux/amd64", false, 3},
    {"linux/amd64/v4", "linux/386", false, 4},
    {"linux/386", "linux/amd64", false, -1},
    /* arm: down to v5, never below, never up */
    {"linux/arm/v7", "linux/arm/v7", false, 0},
    {"linux/arm/v7", "linux/arm", false, 0},
    {"linux/arm/v7", "linux/armhf", false, 0},
    {"linux/arm/v7", "linux/arm/v6", false, 1},
    {"linux/arm/v7", "linux/armel", false, 1},
    {"linux/arm/v7", "linux/arm/v5", false, 2},
    {"linux/arm/v7", "linux/arm/v8", false, -1},
    {"linux/arm/v7", "linux/arm64", false, -1},
    {"linux/arm/v8", "linux/arm/v7", false, 1},
    {"linux/arm/v8", "linux/arm/v6", false, 2},
    {"linux/arm/v8", "linux/arm/v5", false, 3},
    {"linux/arm/v6", "linux/arm/v5", false, 1},
    {"linux/arm/v6", "linux/arm/v7", false, -1},
    {"linux/arm/v5", "linux/arm/v5", false, 0},
    {"linux/arm/v5", "linux/arm/v4", false, -1},
    /* arm64, its v8.x/v9.x table, then 32-bit arm */
    {"linux/arm64", "linux/arm64", false, 0},
    {"linux/arm64", "linux/arm64/v8", false, 0},
    {"linux/arm64", "linux/aarch64", false, 0},
    {"linux/arm64", "linux/arm/v8", false, 1},
    {"linux/arm64", "linux/arm/v7", false, 2},
    {"linux/arm64", "linux/arm", false, 2},
    {"linux/arm64", "linux/arm/v6", false, 3},
    {"linux/arm64", "linux/arm/v5", false, 4},
    {"linux/arm64", "linux/arm64/v8.2", false, -1},
    {"linux/arm64", "linux/amd64", false, -1},
    {"linux/arm64/v8.2", "linux/arm64/v8.2", false, 0},
    {"linux/arm64/v8.2", "linux/arm64/v8.1", false, 1},
    {"linux/arm64/v8.2", "linux/arm64", false, 2},
    {"linux/arm64/v8.2", "linux/arm/v8", false, 3},
    {"linux/arm64/v8.2", "linux/arm/v7", false, 4},
    {"linux/arm64/v8.2", "linux/arm64/v8.3", false, -1},
    {"linux/arm64/v9", "linux/arm64/v9", false, 0},
    {"linux/arm64/v9", "linux/arm64/v8.5", false, 1},
    {"linux/arm64/v9", "linux/arm64/v8.4", false, 2},
    {"linux/arm64/v9", "linux/arm64/v8.1", false, 5},
    {"linux/arm64/v9", "linux/arm64/v8", false, 6},
    {"linux/arm64/v9", "linux/arm/v8", false, 7},
    {"linux/arm64/v9", "linux/arm/v5", false, 10},
    {"linux/arm64/v9", "linux/arm64/v8.6", false, -1},
    {"linux/arm64/v9.2", "linux/arm64/v9.1", false, 1},
    {"linux/arm64/v9.2", "linux/arm64/v9", false, 2},
    {"linux/arm64/v9.2", "linux/arm64/v8.7", false, 3},
    {"linux/arm64/v9.2", "linux/arm64/v8.6", false, 4},
    {"linux/arm64/v9.2", "linux/arm64", false, 10},
    {"linux/arm64/v9.2", "linux/arm/v8", false, 11},
    {"linux/arm64/v9.2", "linux/arm64/v9.3", false, -1},
    /* strict: aliases only */
    {"linux/amd64", "linux/386", true, -1},
    {"linux/amd64/v3", "linux/amd64/v2", true, -1},
    {"linux/x86_64", "linux/amd64", true, 0},
    {"linux/arm/v7", "linux/arm/v6", true, -1},
    {"linux/armhf", "linux/arm", true, 0},
    {"linux/arm64", "linux/arm/v7", true, -1},
    {"linux/aarch64", "linux/arm64/v8", true, 0},
    {"linux/arm64/v9.2", "linux/arm64/v9.1", true, -1},
    /* OS features: the candidate's must be a subset */
    {"linux(+gpu+simd)/amd64", "linux/amd64", false, 0},
    {"linux(+gpu+simd)/amd64", "linux(+gpu)/amd64", false, 0},
    {"linux(+gpu+simd)/amd64", "linux(+simd+gpu)/amd64", false, 0},
    {"linux(+gpu+simd)/amd64", "linux(+gpu+tpu)/amd64", false, -1},
    {"linux(+gpu+simd)/amd64", "linux(+gpu)/386", false, 1},
    {"linux/amd64", "linux(+gpu)/amd64", false, -1},
    {"linux(+gpu)/amd64", "linux(+gpu)/amd64", true, 0},
    /* os.version: Windows only */
    {"windows(10.0.17763)/amd64", "windows(10.0.17763.1234)/amd64", false, 0},
    {"windows(10.0.17763)/amd64", "windows(10.0.20348)/amd64", false, -1},
    {"windows(10.0.17763)/amd64", "windows/amd64", false, 0},
    {"windows(10.0.20348)/amd64", "windows(10.0.17763)/amd64", false, -1},
    {"windows(10.0.20348)/amd64", "windows(10.0.20348.1)/amd64", false, 0},
    {"windows(10.0.22621)/amd64", "windows(10.0.20348)/amd64", false, 0},
    {"windows(10.0.22621)/amd64", "windows(10.0.22621)/amd64", false, 0},
    {"windows(10.0.22621)/amd64", "windows(10.0.17763)/amd64", false, -1},
    {"windows(10.0.22621)/amd64", "windows(10.0.26100)/amd64", false, -1},
    {"windows(10.0.22621)/amd64", "windows(6.3.22621)/amd64", false, -1},
    {"windows/amd64", "windows(10.0.17763)/amd64", false, 0},
    {"windows(10.0.17763)/amd64", "windows(10.0.17763)/386", false, 1},
    {"linux(1.0)/amd64", "linux(2.0)/amd64", false, 0},
    /* OS */
    {"linux/arm64", "darwin/arm64", false, -1},
    {"macos/arm64", "darwin/arm64", false, 0},
    {"linux/amd64", "unknown/unknown", false, -1},
};

static void test_platform__match_rank(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(match_cases); i++) {
        const struct match_case *c = &match_cases[i];
        _cleanup_platform_ struct gantry_platform w = GANTRY_PLATFORM_INIT;
        _cleanup_platform_ struct gantry_platform k = GANTRY_PLATFORM_INIT;
        parse_ok(c->want, &w);
        parse_ok(c->candidate, &k);
        int r = gantry_platform_match_rank(&w, &k, c->strict);
        if (r != c->rank)
            fail_msg("want '%s' candidate '%s'%s: rank %d, want %d", c->want, c->candidate,
                     c->strict ? " (strict)" : "", r, c->rank);
    }
}

/* Platforms straight from image JSON, not normalized, still match. */
static void test_platform__match_raw_json(void **state)
{
    (void)state;
    struct gantry_platform want = {(char *)"linux", (char *)"arm64", NULL, NULL, NULL, 0};
    struct gantry_platform v8 = {(char *)"linux", (char *)"arm64", (char *)"v8", NULL, NULL, 0};
    struct gantry_platform arm = {(char *)"Linux", (char *)"arm", NULL, NULL, NULL, 0};
    struct gantry_platform att = {(char *)"unknown", (char *)"unknown", NULL, NULL, NULL, 0};
    struct gantry_platform none = GANTRY_PLATFORM_INIT;
    assert_int_equal(gantry_platform_match_rank(&want, &v8, true), 0);
    assert_int_equal(gantry_platform_match_rank(&want, &arm, false), 2);
    assert_int_equal(gantry_platform_match_rank(&want, &att, false), -1);
    assert_int_equal(gantry_platform_match_rank(&want, &none, false), -1);
    assert_string_equal(v8.variant, "v8"); /* inputs untouched */
    assert_string_equal(arm.os, "Linux");
}

static void test_platform__equal(void **state)
{
    (void)state;
    static const char *const same[][2] = {
        {"linux/aarch64", "linux/arm64/v8"}, {"linux/arm", "linux/arm/v7"},
        {"Linux/x86_64", "linux/amd64/v1"},  {"linux(+b+a)/amd64", "linux(+a+b+a)/amd64"},
        {"macos/arm64", "darwin/arm64/8"},
    };
    static const char *const different[][2] = {
        {"linux/arm/v6", "linux/arm/v7"},
        {"linux/amd64", "linux/amd64/v2"},
        {"windows(10.0.17763)/amd64", "windows(10.0.20348)/amd64"},
        {"linux(+a)/amd64", "linux/amd64"},
        {"linux/amd64", "freebsd/amd64"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(same) + ARRAY_SIZE(different); i++) {
        bool want = i < ARRAY_SIZE(same);
        const char *const *pair = want ? same[i] : different[i - ARRAY_SIZE(same)];
        _cleanup_platform_ struct gantry_platform a = GANTRY_PLATFORM_INIT;
        _cleanup_platform_ struct gantry_platform b = GANTRY_PLATFORM_INIT;
        parse_ok(pair[0], &a);
        parse_ok(pair[1], &b);
        if (gantry_platform_equal(&a, &b) != want)
            fail_msg("'%s' vs '%s': equal should be %d", pair[0], pair[1], want);
    }
}

static void test_platform__is_unknown(void **state)
{
    (void)state;
    _cleanup_platform_ struct gantry_platform p = GANTRY_PLATFORM_INIT;
    parse_ok("unknown/unknown", &p);
    assert_true(gantry_platform_is_unknown(&p));
    struct gantry_platform upper = {(char *)"Unknown", (char *)"UNKNOWN", NULL, NULL, NULL, 0};
    assert_true(gantry_platform_is_unknown(&upper));
    struct gantry_platform half = {(char *)"linux", (char *)"unknown", NULL, NULL, NULL, 0};
    assert_false(gantry_platform_is_unknown(&half));
    _cleanup_platform_ struct gantry_platform real = GANTRY_PLATFORM_INIT;
    parse_ok("linux/amd64", &real);
    assert_false(gantry_platform_is_unknown(&real));
}

static void test_platform__copy_and_release(void **state)
{
    (void)state;
    _cleanup_platform_ struct gantry_platform a = GANTRY_PLATFORM_INIT;
    _cleanup_platform_ struct gantry_platform b = GANTRY_PLATFORM_INIT;
    parse_ok("windows(10.0.17763+x+y)/arm64/v8.2", &a);
    gantry_platform_copy(&b, &a);
    assert_ptr_not_equal(a.os, b.os);
    assert_ptr_not_equal(a.os_features, b.os_features);
    assert_true(gantry_platform_equal(&a, &b));
    gantry_platform_release(&a);
    assert_null(a.os);
    assert_int_equal(a.n_os_features, 0);
    gantry_platform_release(&a);
    gantry_platform_release(NULL);
    assert_string_equal(b.os_features[1], "y");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_platform__parse_vectors, reset_host),
        cmocka_unit_test_setup(test_platform__parse_fields, reset_host),
        cmocka_unit_test_setup(test_platform__invalid_vectors, reset_host),
        cmocka_unit_test_setup(test_platform__error_messages, reset_host),
        cmocka_unit_test_setup(test_platform__normalize_image_json, reset_host),
        cmocka_unit_test_setup(test_platform__format_as_written, reset_host),
        cmocka_unit_test_setup(test_platform__host_from_uname, reset_host),
        cmocka_unit_test_setup(test_platform__host_override, reset_host),
        cmocka_unit_test_setup(test_platform__match_rank, reset_host),
        cmocka_unit_test_setup(test_platform__match_raw_json, reset_host),
        cmocka_unit_test_setup(test_platform__equal, reset_host),
        cmocka_unit_test_setup(test_platform__is_unknown, reset_host),
        cmocka_unit_test_setup(test_platform__copy_and_release, reset_host),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
