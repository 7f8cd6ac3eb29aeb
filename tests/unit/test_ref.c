/*
 * Unit tests for ref: distribution/reference's test vectors, Docker's
 * normalization, and bad-inputs.md section 4.1 (R1..R11).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <gantry/ref.h>

#include "util.h"

#define F64 "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
#define F128 F64 F64
#define D256 "sha256:" F64
#define A10 "aaaaaaaaaa"
#define A50 A10 A10 A10 A10 A10
#define A200 A50 A50 A50 A50
#define A247 A200 A10 A10 A10 A10 "aaaaaaa"
#define A255 A247 "aaaaaaaa"
#define A256 A255 "a"
#define T128 A50 A50 "aaaaaaaaaaaaaaaaaaaaaaaaaaaa"

static void ref_cleanup(struct gantry_ref *r)
{
    gantry_ref_release(r);
}
#define _cleanup_ref_ __attribute__((cleanup(ref_cleanup)))

/* strings.Repeat("a/", n) + last */
static char *repeat_a_slash(size_t n, const char *last)
{
    size_t ll = strlen(last);
    char *s = xmalloc(2 * n + ll + 1);
    for (size_t i = 0; i < n; i++)
        memcpy(s + 2 * i, "a/", 2);
    memcpy(s + 2 * n, last, ll + 1);
    return s;
}

struct valid_case {
    const char *input;
    const char *full;     /* gantry_ref_to_string */
    const char *familiar; /* gantry_ref_familiar */
};

static const struct valid_case valid_cases[] = {
    {"httpd", "docker.io/library/httpd:latest", "httpd:latest"},
    {"httpd:2.4", "docker.io/library/httpd:2.4", "httpd:2.4"},
    {"user/app", "docker.io/user/app:latest", "user/app:latest"},
    {"user/app:1", "docker.io/user/app:1", "user/app:1"},
    {"docker.io/httpd", "docker.io/library/httpd:latest", "httpd:latest"},
    {"docker.io/library/httpd", "docker.io/library/httpd:latest", "httpd:latest"},
    {"index.docker.io/httpd", "docker.io/library/httpd:latest", "httpd:latest"},
    {"index.docker.io/user/app:3", "docker.io/user/app:3", "user/app:3"},
    {"docker.io/library/a/b", "docker.io/library/a/b:latest", "library/a/b:latest"},
    {"docker.io/foo.bar/baz", "docker.io/foo.bar/baz:latest", "docker.io/foo.bar/baz:latest"},
    {"docker.io/localhost/x", "docker.io/localhost/x:latest", "docker.io/localhost/x:latest"},
    {"localhost/foo", "localhost/foo:latest", "localhost/foo:latest"},
    {"localhost:5000/a/b:tag", "localhost:5000/a/b:tag", "localhost:5000/a/b:tag"},
    {"localhost:5000/a:b", "localhost:5000/a:b", "localhost:5000/a:b"},
    {"name@" D256, "docker.io/library/name@" D256, "name@" D256},
    {"name:tag@" D256, "docker.io/library/name:tag@" D256, "name:tag@" D256},
    {"lowercase:Uppercase", "docker.io/library/lowercase:Uppercase", "lowercase:Uppercase"},
    {"test_com", "docker.io/library/test_com:latest", "test_com:latest"},
    {"test.com:tag", "docker.io/library/test.com:tag", "test.com:tag"},
    {"test.com:5000", "docker.io/library/test.com:5000", "test.com:5000"},
    {"test.com/repo:tag", "test.com/repo:tag", "test.com/repo:tag"},
    {"test:5000/repo", "test:5000/repo:latest", "test:5000/repo:latest"},
    {"test:5000/repo@" D256, "test:5000/repo@" D256, "test:5000/repo@" D256},
    {"test:5000/repo:tag@" D256, "test:5000/repo:tag@" D256, "test:5000/repo:tag@" D256},
    {"Uppercase/lowercase:tag", "Uppercase/lowercase:tag", "Uppercase/lowercase:tag"},
    {"sub-dom1.foo.com/bar/baz/quux:some-long-tag", "sub-dom1.foo.com/bar/baz/quux:some-long-tag",
     "sub-dom1.foo.com/bar/baz/quux:some-long-tag"},
    {"b.gcr.io/test.example.com/my-app:test.example.com",
     "b.gcr.io/test.example.com/my-app:test.example.com",
     "b.gcr.io/test.example.com/my-app:test.example.com"},
    {"xn--n3h.com/myimage:xn--n3h.com", "xn--n3h.com/myimage:xn--n3h.com",
     "xn--n3h.com/myimage:xn--n3h.com"},
    {"xn--7o8h.com/myimage:xn--7o8h.com@sha512:" F128,
     "xn--7o8h.com/myimage:xn--7o8h.com@sha512:" F128,
     "xn--7o8h.com/myimage:xn--7o8h.com@sha512:" F128},
    {"foo_bar.com:8080", "docker.io/library/foo_bar.com:8080", "foo_bar.com:8080"},
    {"foo/foo_bar.com:8080", "docker.io/foo/foo_bar.com:8080", "foo/foo_bar.com:8080"},
    {"192.168.1.1", "docker.io/library/192.168.1.1:latest", "192.168.1.1:latest"},
    {"192.168.1.1/repo", "192.168.1.1/repo:latest", "192.168.1.1/repo:latest"},
    {"192.168.1.1:5000/repo:5050", "192.168.1.1:5000/repo:5050", "192.168.1.1:5000/repo:5050"},
    {"[2001:db8::1]/repo", "[2001:db8::1]/repo:latest", "[2001:db8::1]/repo:latest"},
    {"[2001:db8:1:2:3:4:5:6]/repo:tag", "[2001:db8:1:2:3:4:5:6]/repo:tag",
     "[2001:db8:1:2:3:4:5:6]/repo:tag"},
    {"[2001:db8::1]:5000/repo:tag@" D256, "[2001:db8::1]:5000/repo:tag@" D256,
     "[2001:db8::1]:5000/repo:tag@" D256},
    {"[::1]:5000/repo", "[::1]:5000/repo:latest", "[::1]:5000/repo:latest"},
    {"a/b__c/d-----e/f.g/h_i", "docker.io/a/b__c/d-----e/f.g/h_i:latest",
     "a/b__c/d-----e/f.g/h_i:latest"},
    {"repo:_under", "docker.io/library/repo:_under", "repo:_under"},
    {"repo:" T128, "docker.io/library/repo:" T128, "repo:" T128},
    {"example.com/" A255 ":tag", "example.com/" A255 ":tag", "example.com/" A255 ":tag"},
    {A247, "docker.io/library/" A247 ":latest", A247 ":latest"},
};

static void test_ref__valid_vectors(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(valid_cases); i++) {
        const struct valid_case *c = &valid_cases[i];
        _cleanup_ref_ struct gantry_ref ref = GANTRY_REF_INIT;
        _cleanup_error_ struct gantry_error *err = NULL;
        if (gantry_ref_parse(c->input, strlen(c->input), &ref, &err) < 0)
            fail_msg("'%s': unexpected error: %s", c->input, err ? err->message : "?");
        _cleanup_free_ char *full = gantry_ref_to_string(&ref);
        _cleanup_free_ char *fam = gantry_ref_familiar(&ref);
        if (strcmp(full, c->full) != 0)
            fail_msg("'%s': full '%s', want '%s'", c->input, full, c->full);
        if (strcmp(fam, c->familiar) != 0)
            fail_msg("'%s': familiar '%s', want '%s'", c->input, fam, c->familiar);
    }
}

/* The familiar form parses back to the same reference. */
static void test_ref__familiar_round_trips(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(valid_cases); i++) {
        _cleanup_ref_ struct gantry_ref a = GANTRY_REF_INIT;
        _cleanup_ref_ struct gantry_ref b = GANTRY_REF_INIT;
        const char *in = valid_cases[i].input;
        assert_int_equal(gantry_ref_parse(in, strlen(in), &a, NULL), 0);
        _cleanup_free_ char *fam = gantry_ref_familiar(&a);
        assert_int_equal(gantry_ref_parse(fam, strlen(fam), &b, NULL), 0);
        _cleanup_free_ char *fa = gantry_ref_to_string(&a);
        _cleanup_free_ char *fb = gantry_ref_to_string(&b);
        if (strcmp(fa, fb) != 0)
            fail_msg("'%s': familiar '%s' reads back as '%s'", in, fam, fb);
    }
}

static void test_ref__fields(void **state)
{
    (void)state;
    _cleanup_ref_ struct gantry_ref ref = GANTRY_REF_INIT;
    const char *s = "localhost:5000/a/b:v1@" D256;
    assert_int_equal(gantry_ref_parse(s, strlen(s), &ref, NULL), 0);
    assert_string_equal(ref.domain, "localhost:5000");
    assert_string_equal(ref.path, "a/b");
    assert_string_equal(ref.tag, "v1");
    assert_string_equal(ref.digest, D256);
    _cleanup_free_ char *repo = gantry_ref_repository(&ref);
    assert_string_equal(repo, "localhost:5000/a/b");

    /* name@digest does not get "latest" */
    _cleanup_ref_ struct gantry_ref d = GANTRY_REF_INIT;
    s = "busybox@" D256;
    assert_int_equal(gantry_ref_parse(s, strlen(s), &d, NULL), 0);
    assert_null(d.tag);
    assert_string_equal(d.digest, D256);
}

/* s need not be NUL-terminated: only len bytes are read. */
static void test_ref__length_bounded_input(void **state)
{
    (void)state;
    _cleanup_ref_ struct gantry_ref ref = GANTRY_REF_INIT;
    const char buf[] = {'a', 'l', 'p', 'i', 'n', 'e', ':', '3', 'X', 'Y', '$'};
    assert_int_equal(gantry_ref_parse(buf, 8, &ref, NULL), 0);
    _cleanup_free_ char *full = gantry_ref_to_string(&ref);
    assert_string_equal(full, "docker.io/library/alpine:3");
}

struct invalid_case {
    const char *input;
    const char *needle; /* must appear in the message */
};

static const struct invalid_case invalid_cases[] = {
    /* R1 */
    {"Uppercase:tag", "repository name must be lowercase"},
    {"test:5000/Uppercase/lowercase:tag", "repository name must be lowercase"},
    {"docker.io/User/app", "repository name must be lowercase"},
    /* R4 */
    {"domain/" A256 ":tag", "repository name must not be more than 255 characters"},
    {"example.com/" A256, "repository name must not be more than 255 characters"},
    {"docker.io/" A247 "a", "repository name must not be more than 255 characters"},
    /* R5 */
    {"repo:" T128 "a", "invalid tag"},
    {"repo:.tag", "invalid tag"},
    {"repo:-tag", "invalid tag"},
    {"repo:ta+g", "invalid tag"},
    {"repo:", "invalid reference format"},
    /* R6 */
    {":justtag", "invalid reference format"},
    {"@" D256, "invalid reference format"},
    {"", "invalid reference format"},
    /* R7, R8, R9 */
    {"repo@sha256:ffffffffffffffffffffffffffffffffff", "invalid digest length"},
    {"validname@invaliddigest:" F64, "unsupported digest algorithm"},
    {"repo@sha256:FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF", "lowercase"},
    {"repo@sha256:" F64 "@" D256, "invalid digest"},
    {"repo@", "invalid digest"},
    /* R11 */
    {"[2001:db8::1]:tag", "invalid reference format"},
    {"[2001:db8::1]", "invalid reference format"},
    {"[2001:db8::1]:5000", "invalid reference format"},
    {"[fe80::1%eth0]:5000/repo", "invalid reference format"},
    {"[fe80::1%@invalidzone]:5000/repo", "invalid reference format"},
    {"2001:db8::1:5000/repo", "invalid reference format"},
    /* path components and domains */
    {"aa/asdf$$^/aa", "invalid reference format"},
    {"a..b", "invalid reference format"},
    {"a___b", "invalid reference format"},
    {"a/", "invalid reference format"},
    {"/a", "invalid reference format"},
    {"a//b", "invalid reference format"},
    {"-a", "invalid reference format"},
    {"a-", "invalid reference format"},
    {"a_", "invalid reference format"},
    {"a.", "invalid reference format"},
    {"re po", "invalid reference format"},
    {"repo\n", "invalid reference format"},
    {"repo:tag:tag2", "invalid reference format"},
    {"localhost:abc/repo", "invalid reference format"},
    {"localhost:/repo", "invalid reference format"},
    {"foo.-bar.com/x", "invalid reference format"},
    {"foo_bar.com/x", "invalid reference format"},
    {"foo.com./x", "invalid reference format"},
    {F64, "image ID"},
};

static void test_ref__invalid_vectors(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(invalid_cases); i++) {
        const struct invalid_case *c = &invalid_cases[i];
        struct gantry_ref ref = {(char *)"x", (char *)"y", (char *)"z", (char *)"w"};
        _cleanup_error_ struct gantry_error *err = NULL;
        if (gantry_ref_parse(c->input, strlen(c->input), &ref, &err) == 0) {
            _cleanup_free_ char *full = gantry_ref_to_string(&ref);
            gantry_ref_release(&ref);
            fail_msg("'%s': parsed as '%s', want an error", c->input, full);
        }
        assert_non_null(err);
        assert_int_equal(err->code, GANTRY_E_INVALID_ARG);
        if (!strstr(err->message, c->needle))
            fail_msg("'%s': message '%s' lacks '%s'", c->input, err->message, c->needle);
        if (!str_has_prefix(err->message, "invalid reference '"))
            fail_msg("'%s': message '%s' does not name the input", c->input, err->message);
        assert_null(ref.domain);
        assert_null(ref.path);
        assert_null(ref.tag);
        assert_null(ref.digest);
    }
}

/* distribution's boundary cases on the 255-character path limit. */
static void test_ref__path_length_limit(void **state)
{
    (void)state;
    _cleanup_free_ char *too_long = repeat_a_slash(128, "a:tag");
    _cleanup_free_ char *max = repeat_a_slash(127, "a:tag-puts-this-over-max");
    _cleanup_error_ struct gantry_error *err = NULL;
    _cleanup_ref_ struct gantry_ref ref = GANTRY_REF_INIT;
    assert_int_equal(gantry_ref_parse(too_long, strlen(too_long), &ref, &err), -1);
    assert_non_null(strstr(err->message, "must not be more than 255 characters"));
    /* The message quotes the input, shortened. */
    assert_non_null(strstr(err->message, "a/a/a/a"));
    assert_non_null(strstr(err->message, "...'"));
    assert_int_equal(gantry_ref_parse(max, strlen(max), &ref, NULL), 0);
    assert_string_equal(ref.domain, "docker.io");
    assert_int_equal(strlen(ref.path), 255);
    assert_string_equal(ref.tag, "tag-puts-this-over-max");
}

static void test_ref__error_message_is_one_line(void **state)
{
    (void)state;
    _cleanup_error_ struct gantry_error *err = NULL;
    struct gantry_ref ref;
    assert_int_equal(gantry_ref_parse("bad\nname", 8, &ref, &err), -1);
    assert_null(strchr(err->message, '\n'));
    assert_string_equal(err->message, "invalid reference 'bad?name': invalid reference format: "
                                      "invalid repository name");
    gantry_error_free(err);
    err = NULL;
    assert_int_equal(gantry_ref_parse("Uppercase:tag", 13, &ref, &err), -1);
    assert_string_equal(err->message,
                        "invalid reference 'Uppercase:tag': repository name must be lowercase");
    gantry_error_free(err);
    err = NULL;
    /* Digest errors do not echo control characters either. */
    assert_int_equal(gantry_ref_parse("repo@sha\n256:ab", 16, &ref, &err), -1);
    assert_null(strchr(err->message, '\n'));
    assert_non_null(strstr(err->message, "invalid reference format: invalid digest"));
    gantry_error_free(err);
    err = NULL;
    /* An embedded NUL is not a terminator: the input is invalid. */
    assert_int_equal(gantry_ref_parse("httpd\0:1", 8, &ref, &err), -1);
    assert_int_equal(gantry_ref_parse("httpd:1\0", 8, &ref, NULL), -1);
    assert_int_equal(gantry_ref_parse("httpd@sha256:\0", 14, &ref, NULL), -1);
    /* A NULL err is allowed. */
    assert_int_equal(gantry_ref_parse(":x", 2, &ref, NULL), -1);
}

static void test_ref__validate_tag(void **state)
{
    (void)state;
    const char *ok[] = {"latest", "v1.2.3", "Uppercase", "_x", "0", "a-b_c.d", T128};
    for (size_t i = 0; i < ARRAY_SIZE(ok); i++)
        if (gantry_ref_validate_tag(ok[i], strlen(ok[i]), NULL) != 0)
            fail_msg("tag '%s' rejected", ok[i]);
    const char *bad[] = {"", ".x", "-x", "a/b", "a:b", "a@b", "a b", T128 "x"};
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        _cleanup_error_ struct gantry_error *err = NULL;
        if (gantry_ref_validate_tag(bad[i], strlen(bad[i]), &err) == 0)
            fail_msg("tag '%s' accepted", bad[i]);
        if (!str_has_prefix(err->message, "invalid tag '"))
            fail_msg("tag '%s': message '%s'", bad[i], err->message);
    }
}

static void test_ref__copy_and_release(void **state)
{
    (void)state;
    _cleanup_ref_ struct gantry_ref a = GANTRY_REF_INIT;
    _cleanup_ref_ struct gantry_ref b = GANTRY_REF_INIT;
    assert_int_equal(gantry_ref_parse("httpd@" D256, 6 + strlen(D256), &a, NULL), 0);
    gantry_ref_copy(&b, &a);
    assert_ptr_not_equal(a.domain, b.domain);
    assert_string_equal(b.path, "library/httpd");
    assert_null(b.tag);
    assert_string_equal(b.digest, D256);
    gantry_ref_release(&a);
    assert_null(a.domain);
    gantry_ref_release(&a); /* twice is harmless */
    gantry_ref_release(NULL);
}

static void test_ref__names_registry(void **state)
{
    (void)state;
    assert_true(gantry_ref_names_registry("registry.example.com/app:1"));
    assert_true(gantry_ref_names_registry("127.0.0.1:5000/a/b"));
    assert_true(gantry_ref_names_registry("localhost/app"));
    assert_true(gantry_ref_names_registry("docker.io/library/busybox"));
    assert_false(gantry_ref_names_registry("app:1"));
    assert_false(gantry_ref_names_registry("user/app:1"));
    assert_false(gantry_ref_names_registry("demo/busybox:1.35"));
    assert_false(gantry_ref_names_registry("localhost:5000"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ref__valid_vectors),
        cmocka_unit_test(test_ref__familiar_round_trips),
        cmocka_unit_test(test_ref__fields),
        cmocka_unit_test(test_ref__length_bounded_input),
        cmocka_unit_test(test_ref__invalid_vectors),
        cmocka_unit_test(test_ref__path_length_limit),
        cmocka_unit_test(test_ref__error_message_is_one_line),
        cmocka_unit_test(test_ref__validate_tag),
        cmocka_unit_test(test_ref__copy_and_release),
        cmocka_unit_test(test_ref__names_registry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
