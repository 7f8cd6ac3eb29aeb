/*
 * Unit tests for the helpers of ADD <url> (bad-inputs.md D13, D16, D17):
 * file naming from Content-Disposition and the URL path, git source
 * detection, password redaction, and the Content-Disposition parser of
 * the registry module's fetch.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <gantry/registry.h>

#include "build/build_internal.h"
#include "registry/fetch_internal.h"

static void expect_name(const char *url, const char *disposition, const char *want)
{
    _cleanup_free_ char *got = build_url_filename(url, disposition);
    if (strcmp(got, want) != 0)
        fail_msg("url '%s' disposition '%s': got '%s', want '%s'", url,
                 disposition ? disposition : "(null)", got, want);
}

static void test_build_url__filename(void **state)
{
    (void)state;
    expect_name("http://h/x", "../../etc/passwd", "passwd"); /* D13 */
    expect_name("http://h/x", "/abs/name.txt", "name.txt");
    expect_name("http://h/dir/file.tar.gz?sig=1#frag", NULL, "file.tar.gz");
    expect_name("http://h/dir/file.txt", "", "file.txt");
    expect_name("http://h/dir/file.txt", "dir/", "file.txt"); /* ends with '/' */
    expect_name("http://h/dir/file.txt", "..", "file.txt");   /* no usable base */
    expect_name("http://h/a%20b%2Fc", NULL, "c");             /* decoded, then split */
    expect_name("http://h/dir/", NULL, "dir");
    expect_name("http://h/", NULL, "index");
    expect_name("http://h", NULL, "index");
    expect_name("http://h/..", NULL, "index");
}

static void test_build_url__git_sources(void **state)
{
    (void)state;
    assert_true(build_is_git_source("https://h/r.git"));
    assert_true(build_is_git_source("https://h/r.git#--upload-pack=touch")); /* D16 */
    assert_true(build_is_git_source("http://h/r.git?x=1"));
    assert_true(build_is_git_source("git@github.com:o/r.git"));
    assert_true(build_is_git_source("git://h/r"));
    assert_true(build_is_git_source("ssh://git@h/r"));
    assert_false(build_is_git_source("https://h/r.tar.gz"));
    assert_false(build_is_git_source("https://h/r.gitx"));
    assert_false(build_is_git_source("local.git")); /* a context file */
    assert_true(build_is_url("HTTPS://h/x"));
    assert_false(build_is_url("ftp://h/x"));
}

static void expect_redact(const char *in, const char *want)
{
    _cleanup_free_ char *got = gantry_registry_redact(in);
    if (strcmp(got, want) != 0)
        fail_msg("'%s': got '%s', want '%s'", in, got, want);
}

static void test_build_url__redact(void **state)
{
    (void)state;
    expect_redact("https://user:token@h/x", "https://user:xxxxx@h/x"); /* D17 */
    expect_redact("ADD https://u:p@h/a https://v:q@g:5/b /d/",
                  "ADD https://u:xxxxx@h/a https://v:xxxxx@g:5/b /d/");
    expect_redact("https://user@h/x", "https://user@h/x"); /* no password: as Go */
    expect_redact("https://h/x?u=a:b@c", "https://h/x?u=a:b@c");
    expect_redact("GET 'http://a:b@h:80/p': HTTP 401", "GET 'http://a:xxxxx@h:80/p': HTTP 401");
    expect_redact("no url here", "no url here");
    expect_redact("://a:b@h", "://a:b@h"); /* no scheme */
    expect_redact("", "");
}

static void expect_disposition(const char *v, const char *want)
{
    _cleanup_free_ char *got = reg_disposition_filename(v, strlen(v));
    if (!want && got)
        fail_msg("'%s': got '%s', want none", v, got);
    if (want && (!got || strcmp(got, want) != 0))
        fail_msg("'%s': got '%s', want '%s'", v, got ? got : "(null)", want);
}

static void test_build_url__content_disposition(void **state)
{
    (void)state;
    expect_disposition("attachment; filename=\"../../etc/passwd\"", "../../etc/passwd");
    expect_disposition("attachment; filename=plain.txt", "plain.txt");
    expect_disposition("attachment;FILENAME=\"a \\\"q\\\" b\"", "a \"q\" b");
    expect_disposition("attachment; filename=\"ascii\"; filename*=UTF-8''%e2%82%ac%20rates",
                       "\xe2\x82\xac rates");
    expect_disposition("attachment; filename*=iso-8859-1''x; filename=y", "y");
    expect_disposition("attachment; size=3; filename=\"f\";", "f");
    expect_disposition("attachment", NULL);
    expect_disposition("attachment; filename=\"unterminated", NULL);
    expect_disposition("attachment; filename", NULL);
    expect_disposition("attachment; filename*=UTF-8''%zz", NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_build_url__filename),
        cmocka_unit_test(test_build_url__git_sources),
        cmocka_unit_test(test_build_url__redact),
        cmocka_unit_test(test_build_url__content_disposition),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
