/*
 * Unit tests for the registry module's pure parts: WWW-Authenticate
 * challenges (valid vectors and bad-inputs H2), token scopes, Link,
 * Location and origins, Range and Content-Range, Retry-After, base64, the
 * protocol's JSON documents, and Docker config.json (auths, credHelpers,
 * host normalisation, rewriting, helpers).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <sys/stat.h>

#include "registry/registry_internal.h"

static void challenge_ok(const char *s, enum reg_scheme scheme, const char *realm,
                         const char *service, const char *scope)
{
    struct reg_challenge ch;
    struct gantry_error *err = NULL;
    if (reg_challenge_parse(s, strlen(s), &ch, &err) < 0)
        fail_msg("'%s': %s", s, err->message);
    assert_int_equal(ch.scheme, scheme);
    if (realm)
        assert_string_equal(ch.realm, realm);
    else
        assert_null(ch.realm);
    if (service)
        assert_string_equal(ch.service, service);
    else
        assert_null(ch.service);
    if (scope)
        assert_string_equal(ch.scope, scope);
    else
        assert_null(ch.scope);
    reg_challenge_release(&ch);
}

static void challenge_bad(const char *s, size_t len, enum gantry_error_code code,
                          const char *needle)
{
    struct reg_challenge ch;
    _cleanup_error_ struct gantry_error *err = NULL;
    assert_int_equal(reg_challenge_parse(s, len, &ch, &err), -1);
    assert_non_null(err);
    assert_int_equal(err->code, code);
    assert_null(ch.realm);
    if (!strstr(err->message, needle))
        fail_msg("'%.60s': message '%s' lacks '%s'", s, err->message, needle);
}

static void test_registry__challenge_valid(void **state)
{
    (void)state;
    challenge_ok("Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\","
                 "scope=\"repository:library/busybox:pull\"",
                 REG_AUTH_BEARER, "https://auth.docker.io/token", "registry.docker.io",
                 "repository:library/busybox:pull");
    challenge_ok("Basic realm=\"Registry Realm\"", REG_AUTH_BASIC, "Registry Realm", NULL, NULL);
    challenge_ok("Basic", REG_AUTH_BASIC, NULL, NULL, NULL);
    /* Several challenges: Bearer wins wherever it is. */
    challenge_ok("Basic realm=\"b\", Bearer realm=\"https://a/token\",service=\"s\"",
                 REG_AUTH_BEARER, "https://a/token", "s", NULL);
    /* Case-insensitive scheme and names, tokens unquoted, blanks and empty elements. */
    challenge_ok("bearer REALM=abc ,, Service = def", REG_AUTH_BEARER, "abc", "def", NULL);
    /* Escapes inside quoted strings. */
    challenge_ok("Bearer realm=\"a\\\"b\\\\c\"", REG_AUTH_BEARER, "a\"b\\c", NULL, NULL);
    /* A token68 scheme next to a known one is skipped. */
    challenge_ok("Negotiate abc+/==, Basic realm=\"r\"", REG_AUTH_BASIC, "r", NULL, NULL);
    /* A bare token after a comma starts another (unknown) challenge. */
    challenge_ok("Bearer realm=\"x\",service", REG_AUTH_BEARER, "x", NULL, NULL);
    challenge_ok("Bearer realm=\"https://r/t\",error=\"insufficient_scope\",scope=\"a:b:pull\"",
                 REG_AUTH_BEARER, "https://r/t", NULL, "a:b:pull");
    struct reg_challenge ch;
    const char *s = "Bearer realm=\"x\",error=\"invalid_token\"";
    assert_int_equal(reg_challenge_parse(s, strlen(s), &ch, NULL), 0);
    assert_string_equal(ch.error, "invalid_token");
    reg_challenge_release(&ch);
    /* Only len bytes count. */
    assert_int_equal(reg_challenge_parse("Basic realm=\"r\"JUNK", 15, &ch, NULL), 0);
    assert_string_equal(ch.realm, "r");
    reg_challenge_release(&ch);
}

static void test_registry__challenge_malformed(void **state)
{
    (void)state;
    const char *s;
    s = "Bearer realm=\"https://auth.example/token";
    challenge_bad(s, strlen(s), GANTRY_E_PARSE, "unterminated quoted string");
    s = "Bearer service=\"registry\",scope=\"x\"";
    challenge_bad(s, strlen(s), GANTRY_E_PARSE, "Bearer challenge without realm");
    s = "Bearer realm=\"\"";
    challenge_bad(s, strlen(s), GANTRY_E_PARSE, "without realm");
    s = "Digest realm=\"x\", nonce=\"y\"";
    challenge_bad(s, strlen(s), GANTRY_E_UNSUPPORTED, "unsupported authentication scheme 'Digest'");
    challenge_bad("", 0, GANTRY_E_PARSE, "empty header");
    challenge_bad(" , ", 3, GANTRY_E_PARSE, "empty header");
    s = "realm=\"x\"";
    challenge_bad(s, strlen(s), GANTRY_E_PARSE, "parameter before any scheme");
    s = "Bearer realm=\"x\" junk";
    challenge_bad(s, strlen(s), GANTRY_E_PARSE, "expected ','");
    s = "Bearer realm=\"x\",realm=\"y\"";
    challenge_bad(s, strlen(s), GANTRY_E_PARSE, "duplicate parameter 'realm'");
    s = "Bearer realm=";
    challenge_bad(s, strlen(s), GANTRY_E_PARSE, "without realm");
    s = "Bearer realm=\"a\nb\"";
    challenge_bad(s, strlen(s), GANTRY_E_PARSE, "control character");
    s = "Bearer realm=\"x\",=\"y\"";
    challenge_bad(s, strlen(s), GANTRY_E_PARSE, "unexpected character");
}

static void test_registry__challenge_bounded(void **state)
{
    (void)state;
    /* 64 KiB of parameters: refused by length before any parsing. */
    size_t big = REG_CHALLENGE_MAX + 1;
    _cleanup_free_ char *s = xmalloc(big + 1);
    memcpy(s, "Bearer realm=\"x\"", 16);
    for (size_t i = 16; i < big; i++)
        s[i] = (i % 8 == 0) ? ',' : 'a';
    s[big] = '\0';
    challenge_bad(s, big, GANTRY_E_TOO_LARGE, "longer than 65536 bytes");
    /* Many small parameters within the length bound: refused by count. */
    struct gantry_buf b = GANTRY_BUF_INIT;
    assert_int_equal(gantry_buf_addstr(&b, "Bearer realm=\"x\""), 0);
    for (int i = 0; i < 40; i++)
        assert_int_equal(gantry_buf_addf(&b, ",p%d=v", i), 0);
    challenge_bad(b.data, b.len, GANTRY_E_PARSE, "too many parameters");
    gantry_buf_release(&b);
    /* Many challenges. */
    assert_int_equal(gantry_buf_addstr(&b, "A, B, C, D, E, F, G, H, I, J"), 0);
    challenge_bad(b.data, b.len, GANTRY_E_PARSE, "too many challenges");
    gantry_buf_release(&b);
}

static void test_registry__scopes(void **state)
{
    (void)state;
    assert_true(reg_scope_covers("repository:a/b:pull,push", "repository:a/b:pull"));
    assert_true(reg_scope_covers("repository:a/b:push,pull", "repository:a/b:pull,push"));
    assert_false(reg_scope_covers("repository:a/b:pull", "repository:a/b:pull,push"));
    assert_false(reg_scope_covers("repository:a/b:pull", "repository:a/c:pull"));
    assert_true(reg_scope_covers("repository:a:pull repository:b:pull,push",
                                 "repository:b:push repository:a:pull"));
    assert_true(reg_scope_covers("repository:a:*", "repository:a:delete"));
    assert_true(reg_scope_covers("", ""));
    assert_true(reg_scope_covers("repository:a:pull", NULL));
    assert_false(reg_scope_covers("", "repository:a:pull"));
    /* A name holding ':' (host:port in some tools) still splits right. */
    assert_true(reg_scope_covers("repository:h:5000/a:pull", "repository:h:5000/a:pull"));
    _cleanup_free_ char *m = reg_scope_merge("repository:a:pull,push", "repository:a:pull");
    assert_string_equal(m, "repository:a:pull,push");
    _cleanup_free_ char *m2 = reg_scope_merge("repository:a:pull,push", "repository:b:pull");
    assert_string_equal(m2, "repository:a:pull,push repository:b:pull");
    _cleanup_free_ char *m3 = reg_scope_merge(NULL, "repository:b:pull");
    assert_string_equal(m3, "repository:b:pull");
    _cleanup_free_ char *r = reg_scope_repo("library/busybox", "pull");
    assert_string_equal(r, "repository:library/busybox:pull");
}

static void link_ok(const char *s, const char *want)
{
    char *url = NULL;
    struct gantry_error *err = NULL;
    int r = reg_link_next(s, strlen(s), &url, &err);
    if (r < 0)
        fail_msg("'%s': %s", s, err->message);
    if (!want) {
        assert_int_equal(r, 0);
        return;
    }
    assert_int_equal(r, 1);
    assert_string_equal(url, want);
    free(url);
}

static void test_registry__link_header(void **state)
{
    (void)state;
    link_ok("</v2/x/tags/list?last=b&n=2>; rel=\"next\"", "/v2/x/tags/list?last=b&n=2");
    link_ok("<https://r.example/v2/x/tags/list?n=2&last=b>;rel=next",
            "https://r.example/v2/x/tags/list?n=2&last=b");
    link_ok("<a>; rel=\"prev\", <b>; rel=\"next\"", "b");
    link_ok("<a>; type=\"text/x;y\"; rel=\"last next\"", "a");
    link_ok("<a>; rel=\"prev\"", NULL);
    link_ok("", NULL);
    link_ok("<a>; REL=NEXT", "a");
    const char *bad[] = {"a; rel=next", "<a; rel=next", "<a> junk", "<a>; =x", "<a>; rel=\"next"};
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        char *url = NULL;
        _cleanup_error_ struct gantry_error *err = NULL;
        if (reg_link_next(bad[i], strlen(bad[i]), &url, &err) != -1)
            fail_msg("'%s' accepted", bad[i]);
        assert_int_equal(err->code, GANTRY_E_PARSE);
        assert_null(url);
    }
}

static void resolve_ok(const char *base, const char *ref, const char *want)
{
    char *out = NULL;
    struct gantry_error *err = NULL;
    if (reg_url_resolve(base, ref, &out, &err) < 0)
        fail_msg("'%s' + '%s': %s", base, ref, err->message);
    assert_string_equal(out, want);
    free(out);
}

static void test_registry__location_resolution(void **state)
{
    (void)state;
    const char *base = "http://127.0.0.1:5000/v2/r/blobs/uploads/";
    resolve_ok(base, "/v2/r/blobs/uploads/uuid?_state=x%3D",
               "http://127.0.0.1:5000/v2/r/blobs/uploads/uuid?_state=x%3D");
    resolve_ok(base, "uuid?a=1", "http://127.0.0.1:5000/v2/r/blobs/uploads/uuid?a=1");
    resolve_ok(base, "https://storage.example/up/1?sig=abc",
               "https://storage.example/up/1?sig=abc");
    resolve_ok("https://r.example/v2/x/blobs/sha256:aa", "//cdn.example/b?x=1",
               "https://cdn.example/b?x=1");
    const char *refused[] = {"file:///etc/passwd", "ftp://x/y", "gopher://x"};
    for (size_t i = 0; i < ARRAY_SIZE(refused); i++) {
        char *out = NULL;
        _cleanup_error_ struct gantry_error *err = NULL;
        assert_int_equal(reg_url_resolve(base, refused[i], &out, &err), -1);
        assert_int_equal(err->code, GANTRY_E_DENIED);
        assert_non_null(strstr(err->message, "only http and https"));
    }
    char *out = NULL;
    _cleanup_error_ struct gantry_error *err = NULL;
    assert_int_equal(reg_url_resolve(base, "", &out, &err), -1);

    _cleanup_free_ char *o1 = reg_url_origin("https://Example.COM/v2/x");
    assert_string_equal(o1, "https://example.com:443");
    _cleanup_free_ char *o2 = reg_url_origin("http://127.0.0.1:5000/v2/");
    assert_string_equal(o2, "http://127.0.0.1:5000");
    _cleanup_free_ char *o3 = reg_url_origin("http://[::1]:8080/x");
    assert_string_equal(o3, "http://[::1]:8080");
    assert_null(reg_url_origin("ftp://example.com/x"));
    assert_null(reg_url_origin("/relative"));

    _cleanup_free_ char *q1 = reg_url_add_query("/v2/r/blobs/uploads/", "digest", "sha256:ab");
    assert_string_equal(q1, "/v2/r/blobs/uploads/?digest=sha256%3Aab");
    _cleanup_free_ char *q2 = reg_url_add_query("http://h/u?_state=1", "digest", "x y");
    assert_string_equal(q2, "http://h/u?_state=1&digest=x%20y");
    _cleanup_free_ char *q3 = reg_url_add_query("http://h/u?", "n", "2");
    assert_string_equal(q3, "http://h/u?n=2");
}

static void test_registry__realm_policy(void **state)
{
    (void)state;
    assert_int_equal(reg_realm_check("https://r.example", "https://auth.example/token", NULL), 0);
    assert_int_equal(reg_realm_check("http://127.0.0.1:5000", "http://127.0.0.1:5000/t", NULL), 0);
    assert_int_equal(reg_realm_check("http://127.0.0.1:5000", "https://auth.example/t", NULL), 0);
    _cleanup_error_ struct gantry_error *err = NULL;
    /* H3: no credentials over plain HTTP for an HTTPS registry. */
    assert_int_equal(reg_realm_check("https://r.example", "http://auth.example/token", &err), -1);
    assert_int_equal(err->code, GANTRY_E_DENIED);
    assert_string_equal(err->message, "refusing token realm 'http://auth.example/token': plain "
                                      "HTTP for an HTTPS registry");
    _cleanup_error_ struct gantry_error *e2 = NULL;
    assert_int_equal(reg_realm_check("https://r.example", "file:///etc/passwd", &e2), -1);
    assert_int_equal(e2->code, GANTRY_E_PARSE);
    assert_int_equal(reg_realm_check("https://r.example", "/token", NULL), -1);
    assert_int_equal(reg_realm_check("https://r.example", NULL, NULL), -1);
}

static void test_registry__hosts(void **state)
{
    (void)state;
    const char *loop[] = {"localhost",    "localhost:5000", "LOCALHOST", "127.0.0.1",
                          "127.1.2.3:80", "[::1]:5000",     "[::1]"};
    for (size_t i = 0; i < ARRAY_SIZE(loop); i++)
        if (!reg_host_is_loopback(loop[i]))
            fail_msg("'%s' should be loopback", loop[i]);
    const char *other[] = {"10.0.0.1",   "example.com",           "128.0.0.1:5000",
                           "[::2]:5000", "localhost.example.com", "",
                           "[::1",       "127.0.0.1.example.com"};
    for (size_t i = 0; i < ARRAY_SIZE(other); i++)
        if (reg_host_is_loopback(other[i]))
            fail_msg("'%s' should not be loopback", other[i]);
    assert_string_equal(reg_api_host("docker.io"), "registry-1.docker.io");
    assert_string_equal(reg_api_host("ghcr.io"), "ghcr.io");
}

static void test_registry__ranges(void **state)
{
    (void)state;
    uint64_t next;
    assert_int_equal(reg_upload_range_parse("0-1023", 6, &next), 0);
    assert_int_equal(next, 1024);
    assert_int_equal(reg_upload_range_parse("bytes=0-99", 10, &next), 0);
    assert_int_equal(next, 100);
    assert_int_equal(reg_upload_range_parse("0-0", 3, &next), 0);
    assert_int_equal(next, 0);
    const char *bad[] = {
        "", "abc", "5-3", "0-", "-5", "0-5x", "0-18446744073709551615", "0-99999999999999999999"};
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
        if (reg_upload_range_parse(bad[i], strlen(bad[i]), &next) != -1)
            fail_msg("upload range '%s' accepted", bad[i]);
    uint64_t start;
    assert_int_equal(reg_content_range_start("bytes 100-199/200", 17, &start), 0);
    assert_int_equal(start, 100);
    assert_int_equal(reg_content_range_start("bytes 0-9/*", 11, &start), 0);
    assert_int_equal(start, 0);
    const char *badcr[] = {"100-199/200", "bytes 100-99/200", "bytes 1-2", "bytes */200"};
    for (size_t i = 0; i < ARRAY_SIZE(badcr); i++)
        if (reg_content_range_start(badcr[i], strlen(badcr[i]), &start) != -1)
            fail_msg("content range '%s' accepted", badcr[i]);
    _cleanup_free_ char *h1 = reg_chunk_range_header(0, 100);
    assert_string_equal(h1, "Content-Range: 0-99");
    _cleanup_free_ char *h2 = reg_chunk_range_header(33554432, 1);
    assert_string_equal(h2, "Content-Range: 33554432-33554432");
}

static void test_registry__retry_after(void **state)
{
    (void)state;
    long s;
    assert_int_equal(reg_retry_after_parse("5", 1, 0, &s), 0);
    assert_int_equal(s, 5);
    assert_int_equal(reg_retry_after_parse(" 120 ", 5, 0, &s), 0);
    assert_int_equal(s, 120);
    assert_int_equal(reg_retry_after_parse("99999999999", 11, 0, &s), 0);
    assert_true(s >= 999999999);
    /* 2015-10-21T07:28:00Z is 1445412480. */
    const char *date = "Wed, 21 Oct 2015 07:28:00 GMT";
    assert_int_equal(reg_retry_after_parse(date, strlen(date), 1445412480 - 30, &s), 0);
    assert_int_equal(s, 30);
    assert_int_equal(reg_retry_after_parse(date, strlen(date), 1445412480 + 30, &s), 0);
    assert_int_equal(s, 0);
    const char *bad[] = {
        "", "soon", "-1", "1.5", "Wed, 21 Oct 2015 07:28:00 CET", "Wed, 21 Oct 2015"};
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
        if (reg_retry_after_parse(bad[i], strlen(bad[i]), 0, &s) != -1)
            fail_msg("Retry-After '%s' accepted", bad[i]);
}

/* Milliseconds from a to now. */
static long elapsed_ms(const struct timespec *a)
{
    struct timespec now;
    reg_now(&now);
    return (long)(now.tv_sec - a->tv_sec) * 1000L + (now.tv_nsec - a->tv_nsec) / 1000000L;
}

static void test_registry__retry_budget(void **state)
{
    (void)state;
    struct gantry_registry_opts o = {.retry_base_ms = 20, .retry_budget_ms = 300};
    struct gantry_error *err = NULL;
    struct gantry_registry_client *c = gantry_registry_client_new(&o, &err);
    assert_non_null(c);
    struct timespec since, t;
    reg_now(&since);
    /* A Retry-After beyond what is left: give up without waiting. */
    reg_now(&t);
    assert_false(reg_retry_wait(c, &since, 0, 5000));
    assert_true(elapsed_ms(&t) < 50);
    /* One that fits is honoured. */
    reg_now(&t);
    assert_true(reg_retry_wait(c, &since, 0, 100));
    assert_true(elapsed_ms(&t) >= 100);
    /* Backoff doubles (20, 40, 80 ms plus jitter) and is cut to the budget. */
    reg_now(&t);
    assert_true(reg_retry_wait(c, &since, 2, -1));
    assert_true(elapsed_ms(&t) >= 80);
    assert_true(reg_retry_wait(c, &since, 6, -1));
    assert_true(elapsed_ms(&since) <= 400);
    /* Spent: no more retries. */
    assert_false(reg_retry_wait(c, &since, 0, -1));
    /* Retry-After only for the statuses worth retrying, capped. */
    struct reg_response r;
    reg_response_init(&r);
    r.status = 503;
    r.retry_after = xstrdup("7");
    assert_int_equal(reg_retry_after_ms(c, &r), 7000);
    free(r.retry_after);
    r.retry_after = xstrdup("3600");
    assert_int_equal(reg_retry_after_ms(c, &r), 60000);
    r.status = 404;
    assert_int_equal(reg_retry_after_ms(c, &r), -1);
    assert_int_equal(reg_retry_after_ms(c, NULL), -1);
    reg_response_release(&r);
    gantry_registry_client_free(c);
}

static void test_registry__base64(void **state)
{
    (void)state;
    const char *in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    const char *out[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    for (size_t i = 0; i < ARRAY_SIZE(in); i++) {
        _cleanup_free_ char *e = reg_base64_encode(in[i], strlen(in[i]));
        assert_string_equal(e, out[i]);
        size_t n;
        _cleanup_free_ char *d = reg_base64_decode(out[i], strlen(out[i]), &n);
        assert_non_null(d);
        assert_int_equal(n, strlen(in[i]));
        assert_memory_equal(d, in[i], n);
    }
    const char *bad[] = {"abc", "a===", "ab=c", "@@@@", "Zg==Zg=="};
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        size_t n;
        if (reg_base64_decode(bad[i], strlen(bad[i]), &n))
            fail_msg("base64 '%s' accepted", bad[i]);
    }
}

static void test_registry__json_documents(void **state)
{
    (void)state;
    struct reg_token t;
    const char *j = "{\"token\":\"abc\",\"expires_in\":300,\"issued_at\":\"2024-01-01T00:00:00Z\"}";
    assert_int_equal(reg_token_parse(j, strlen(j), &t, NULL), 0);
    assert_string_equal(t.token, "abc");
    assert_int_equal(t.expires_in, 300);
    reg_token_release(&t);
    j = "{\"access_token\":\"xyz\"}";
    assert_int_equal(reg_token_parse(j, strlen(j), &t, NULL), 0);
    assert_string_equal(t.token, "xyz");
    assert_int_equal(t.expires_in, 60);
    reg_token_release(&t);
    const char *badtok[] = {"{}",
                            "[]",
                            "not json",
                            "{\"token\":\"\"}",
                            "{\"token\":\"a b\"}",
                            "{\"token\":\"a\",\"token\":\"b\"}"};
    for (size_t i = 0; i < ARRAY_SIZE(badtok); i++) {
        _cleanup_error_ struct gantry_error *err = NULL;
        if (reg_token_parse(badtok[i], strlen(badtok[i]), &t, &err) != -1)
            fail_msg("token response '%s' accepted", badtok[i]);
        assert_int_equal(err->code, GANTRY_E_PARSE);
    }

    j = "{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\",\"message\":\"manifest unknown\","
        "\"detail\":{\"Tag\":\"x\"}},{\"code\":\"DENIED\",\"message\":\"no\\nway\"}]}";
    _cleanup_free_ char *r = reg_errors_render(j, strlen(j));
    assert_string_equal(r, "MANIFEST_UNKNOWN: manifest unknown; DENIED: no way");
    assert_null(reg_errors_render("<html>502</html>", 16));
    assert_null(reg_errors_render("{\"errors\":[]}", 13));
    assert_null(reg_errors_render("", 0));

    char **tags = NULL;
    size_t n = 0;
    j = "{\"name\":\"x\",\"tags\":[\"a\",\"b\"]}";
    assert_int_equal(reg_tags_parse(j, strlen(j), &tags, &n, NULL), 0);
    j = "{\"name\":\"x\",\"tags\":null}";
    assert_int_equal(reg_tags_parse(j, strlen(j), &tags, &n, NULL), 0);
    j = "{\"name\":\"x\",\"tags\":[\"c\"]}";
    assert_int_equal(reg_tags_parse(j, strlen(j), &tags, &n, NULL), 0);
    assert_int_equal(n, 3);
    assert_string_equal(tags[2], "c");
    assert_null(tags[3]);
    j = "{\"tags\":[1]}";
    assert_int_equal(reg_tags_parse(j, strlen(j), &tags, &n, NULL), -1);
    j = "{\"tags\":\"a\"}";
    assert_int_equal(reg_tags_parse(j, strlen(j), &tags, &n, NULL), -1);
    assert_int_equal(n, 3);
    gantry_registry_tags_free(tags, n);

    struct gantry_registry_credentials c;
    j = "{\"ServerURL\":\"h\",\"Username\":\"u\",\"Secret\":\"p\"}";
    assert_int_equal(reg_helper_parse(j, strlen(j), &c, NULL), 0);
    assert_string_equal(c.username, "u");
    assert_string_equal(c.password, "p");
    assert_null(c.identity_token);
    gantry_registry_credentials_release(&c);
    j = "{\"ServerURL\":\"h\",\"Username\":\"<token>\",\"Secret\":\"refresh\"}";
    assert_int_equal(reg_helper_parse(j, strlen(j), &c, NULL), 0);
    assert_null(c.username);
    assert_string_equal(c.identity_token, "refresh");
    gantry_registry_credentials_release(&c);
    assert_int_equal(reg_helper_parse("{}", 2, &c, NULL), -1);
    struct gantry_registry_credentials in = {.username = (char *)"u", .password = (char *)"p\"w"};
    _cleanup_free_ char *si = reg_helper_store_input("h:5000", &in);
    assert_string_equal(si, "{\"ServerURL\":\"h:5000\",\"Username\":\"u\",\"Secret\":\"p\\\"w\"}");
}

static void key_is(const char *server, const char *want)
{
    _cleanup_error_ struct gantry_error *err = NULL;
    _cleanup_free_ char *k = gantry_registry_server_key(server, &err);
    if (!want) {
        assert_null(k);
        assert_int_equal(err->code, GANTRY_E_INVALID_ARG);
        return;
    }
    if (!k)
        fail_msg("'%s': %s", server, err->message);
    assert_string_equal(k, want);
}

static void test_registry__server_keys(void **state)
{
    (void)state;
    key_is("docker.io", GANTRY_REGISTRY_DOCKER_HUB_KEY);
    key_is("index.docker.io", GANTRY_REGISTRY_DOCKER_HUB_KEY);
    key_is("https://index.docker.io/v1/", GANTRY_REGISTRY_DOCKER_HUB_KEY);
    key_is("registry-1.docker.io", GANTRY_REGISTRY_DOCKER_HUB_KEY);
    key_is("Localhost:5000", "localhost:5000");
    key_is("https://myreg.example.com:5000/v2/", "myreg.example.com:5000");
    key_is("http://127.0.0.1:5000", "127.0.0.1:5000");
    key_is("ghcr.io", "ghcr.io");
    key_is("", NULL);
    key_is("https://", NULL);
    key_is("a b", NULL);
    key_is("user@host", NULL);
}

static const char config_json[] =
    "{\n"
    "\t\"auths\": {\n"
    "\t\t\"https://index.docker.io/v1/\": {\"auth\": \"aHViOmh1YnBhc3M=\"},\n"
    "\t\t\"http://127.0.0.1:5000\": {\"auth\": \"dTE6cDE6d2l0aDpjb2xvbnM=\"},\n"
    "\t\t\"plain.example\": {\"username\": \"u2\", \"password\": \"p2\"},\n"
    "\t\t\"token.example\": {\"identitytoken\": \"refresh-xyz\"},\n"
    "\t\t\"bad.example\": {\"auth\": \"!!!\"}\n"
    "\t},\n"
    "\t\"credsStore\": \"desktop\",\n"
    "\t\"credHelpers\": {\"gcr.example\": \"gcloud\", \"https://ecr.example/\": \"ecr\"},\n"
    "\t\"proxies\": {\"default\": {\"httpProxy\": \"http://p\"}}\n"
    "}\n";

static void lookup(const char *key, struct reg_config_entry *e)
{
    struct gantry_error *err = NULL;
    if (reg_config_lookup(config_json, strlen(config_json), key, e, &err) < 0)
        fail_msg("'%s': %s", key, err->message);
}

static void test_registry__config_lookup(void **state)
{
    (void)state;
    struct reg_config_entry e;
    lookup(GANTRY_REGISTRY_DOCKER_HUB_KEY, &e);
    assert_string_equal(e.auth.username, "hub");
    assert_string_equal(e.auth.password, "hubpass");
    assert_string_equal(e.helper, "desktop"); /* credsStore for everything else */
    assert_string_equal(e.helper_key, GANTRY_REGISTRY_DOCKER_HUB_KEY);
    reg_config_entry_release(&e);
    /* Scheme in the config key is ignored; the password keeps its colons. */
    lookup("127.0.0.1:5000", &e);
    assert_string_equal(e.auth.username, "u1");
    assert_string_equal(e.auth.password, "p1:with:colons");
    reg_config_entry_release(&e);
    lookup("plain.example", &e);
    assert_string_equal(e.auth.username, "u2");
    assert_string_equal(e.auth.password, "p2");
    reg_config_entry_release(&e);
    lookup("token.example", &e);
    assert_null(e.auth.username);
    assert_string_equal(e.auth.identity_token, "refresh-xyz");
    reg_config_entry_release(&e);
    /* credHelpers win over credsStore; their keys are normalised too. */
    lookup("gcr.example", &e);
    assert_string_equal(e.helper, "gcloud");
    assert_null(e.auth.username);
    reg_config_entry_release(&e);
    lookup("ecr.example", &e);
    assert_string_equal(e.helper, "ecr");
    reg_config_entry_release(&e);
    lookup("unknown.example", &e);
    assert_string_equal(e.helper, "desktop");
    assert_null(e.auth.username);
    reg_config_entry_release(&e);

    _cleanup_error_ struct gantry_error *err = NULL;
    assert_int_equal(reg_config_lookup(config_json, strlen(config_json), "bad.example", &e, &err),
                     -1);
    assert_int_equal(err->code, GANTRY_E_PARSE);
    assert_non_null(strstr(err->message, "auths entry 'bad.example': invalid 'auth'"));
    const char *broken[] = {"{", "[]", "{\"auths\": []}", "{\"a\":1,\"a\":2}"};
    for (size_t i = 0; i < ARRAY_SIZE(broken); i++) {
        _cleanup_error_ struct gantry_error *e2 = NULL;
        if (reg_config_lookup(broken[i], strlen(broken[i]), "x", &e, &e2) != -1)
            fail_msg("config '%s' accepted", broken[i]);
    }
    /* An empty file is no credentials at all. */
    assert_int_equal(reg_config_lookup("", 0, "x", &e, NULL), 0);
    assert_null(e.helper);
    assert_null(e.auth.username);
}

static void test_registry__config_edit(void **state)
{
    (void)state;
    struct gantry_registry_credentials cred = {.username = (char *)"alice",
                                               .password = (char *)"s3cret"};
    struct gantry_buf out = GANTRY_BUF_INIT;
    bool found = true;
    assert_int_equal(reg_config_edit("", 0, "127.0.0.1:5000", &cred, &out, &found, NULL), 0);
    assert_false(found);
    assert_string_equal(out.data, "{\n\t\"auths\": {\n\t\t\"127.0.0.1:5000\": {\n"
                                  "\t\t\t\"auth\": \"YWxpY2U6czNjcmV0\"\n\t\t}\n\t}\n}\n");
    gantry_buf_release(&out);
    /* Rewriting keeps the other members and replaces every alias of the host. */
    assert_int_equal(reg_config_edit(config_json, strlen(config_json), "127.0.0.1:5000", &cred,
                                     &out, &found, NULL),
                     0);
    assert_true(found);
    assert_null(strstr(out.data, "http://127.0.0.1:5000"));
    assert_non_null(
        strstr(out.data, "\"127.0.0.1:5000\": {\n\t\t\t\"auth\": \"YWxpY2U6czNjcmV0\""));
    assert_non_null(strstr(out.data, "\"credsStore\": \"desktop\""));
    assert_non_null(strstr(out.data, "\"httpProxy\": \"http://p\""));
    assert_non_null(strstr(out.data, "aHViOmh1YnBhc3M="));
    struct reg_config_entry e;
    assert_int_equal(reg_config_lookup(out.data, out.len, "127.0.0.1:5000", &e, NULL), 0);
    assert_string_equal(e.auth.username, "alice");
    assert_string_equal(e.auth.password, "s3cret");
    reg_config_entry_release(&e);
    /* Erasing. */
    struct gantry_buf out2 = GANTRY_BUF_INIT;
    assert_int_equal(
        reg_config_edit(out.data, out.len, "127.0.0.1:5000", NULL, &out2, &found, NULL), 0);
    assert_true(found);
    assert_null(strstr(out2.data, "127.0.0.1:5000"));
    assert_non_null(strstr(out2.data, "plain.example"));
    gantry_buf_release(&out);
    assert_int_equal(
        reg_config_edit(out2.data, out2.len, "127.0.0.1:5000", NULL, &out, &found, NULL), 0);
    assert_false(found);
    gantry_buf_release(&out);
    gantry_buf_release(&out2);
}

/* A scratch directory under GANTRY_TEST_TMP (or /tmp). */
static char *scratch(const char *name)
{
    const char *base = getenv("GANTRY_TEST_TMP");
    if (!base || !*base)
        base = "/tmp";
    mkdir(base, 0755);
    char *dir = xasprintf("%s/registry-%s-%d", base, name, (int)getpid());
    _cleanup_free_ char *cmd = xasprintf("rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(mkdir(dir, 0755), 0);
    return dir;
}

static void write_file(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    chmod(path, mode);
}

static void test_registry__config_files(void **state)
{
    (void)state;
    _cleanup_free_ char *dir = scratch("files");
    _cleanup_free_ char *path = xasprintf("%s/sub/config.json", dir);
    struct gantry_registry_credentials got;
    /* A missing file means no credentials. */
    assert_int_equal(gantry_registry_config_get(path, "127.0.0.1:5000", &got, NULL), 0);
    assert_null(got.username);
    struct gantry_registry_credentials cred = {.username = (char *)"bob", .password = (char *)"pw"};
    bool helper = true;
    struct gantry_error *err = NULL;
    if (gantry_registry_config_store(path, "http://127.0.0.1:5000/", &cred, &helper, &err) < 0)
        fail_msg("%s", err->message);
    assert_false(helper);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    _cleanup_free_ char *sub = xasprintf("%s/sub", dir);
    assert_int_equal(stat(sub, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    assert_int_equal(gantry_registry_config_get(path, "127.0.0.1:5000", &got, NULL), 0);
    assert_string_equal(got.username, "bob");
    assert_string_equal(got.password, "pw");
    gantry_registry_credentials_release(&got);
    bool found = false;
    assert_int_equal(gantry_registry_config_erase(path, "127.0.0.1:5000", &found, NULL), 0);
    assert_true(found);
    assert_int_equal(gantry_registry_config_erase(path, "127.0.0.1:5000", &found, NULL), 0);
    assert_false(found);
    assert_int_equal(gantry_registry_config_get(path, "127.0.0.1:5000", &got, NULL), 0);
    assert_null(got.username);
    /* A malformed file is an error naming it. */
    write_file(path, "{\"auths\": ", 0600);
    _cleanup_error_ struct gantry_error *e2 = NULL;
    assert_int_equal(gantry_registry_config_get(path, "x", &got, &e2), -1);
    assert_int_equal(e2->code, GANTRY_E_PARSE);
    assert_non_null(strstr(e2->message, path));
    _cleanup_free_ char *cmd = xasprintf("rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_registry__credential_helper(void **state)
{
    (void)state;
    _cleanup_free_ char *dir = scratch("helper");
    _cleanup_free_ char *helper = xasprintf("%s/docker-credential-unittest", dir);
    /* get: answers for one server, "not found" for others; store/erase log stdin. */
    _cleanup_free_ char *script = xasprintf(
        "#!/bin/sh\n"
        "in=$(cat)\n"
        "case \"$1\" in\n"
        "get) if [ \"$in\" = 127.0.0.1:5000 ]; then\n"
        "  printf '{\"ServerURL\":\"%%s\",\"Username\":\"helperuser\",\"Secret\":\"helperpw\"}' "
        "\"$in\"\n"
        "  else echo 'credentials not found in native keychain'; exit 1; fi ;;\n"
        "store) printf '%%s' \"$in\" > '%s/stored' ;;\n"
        "erase) printf '%%s' \"$in\" > '%s/erased' ;;\n"
        "esac\n",
        dir, dir);
    write_file(helper, script, 0755);
    _cleanup_free_ char *path = xasprintf("%s/config.json", dir);
    write_file(
        path, "{\"credsStore\":\"unittest\",\"auths\":{\"other.example\":{\"auth\":\"bzpwdw==\"}}}",
        0600);
    const char *old = getenv("PATH");
    _cleanup_free_ char *saved = xstrdup(old ? old : "/usr/bin:/bin");
    _cleanup_free_ char *newpath = xasprintf("%s:%s", dir, saved);
    setenv("PATH", newpath, 1);
    struct gantry_registry_credentials got;
    struct gantry_error *err = NULL;
    if (gantry_registry_config_get(path, "127.0.0.1:5000", &got, &err) < 0)
        fail_msg("%s", err->message);
    assert_string_equal(got.username, "helperuser");
    assert_string_equal(got.password, "helperpw");
    gantry_registry_credentials_release(&got);
    /* The helper has nothing: the auths entry is used. */
    assert_int_equal(gantry_registry_config_get(path, "other.example", &got, NULL), 0);
    assert_string_equal(got.username, "o");
    assert_string_equal(got.password, "pw");
    gantry_registry_credentials_release(&got);
    struct gantry_registry_credentials cred = {.username = (char *)"new", .password = (char *)"np"};
    bool used = false;
    assert_int_equal(gantry_registry_config_store(path, "127.0.0.1:5000", &cred, &used, NULL), 0);
    assert_true(used);
    struct gantry_buf b = GANTRY_BUF_INIT;
    _cleanup_free_ char *stored = xasprintf("%s/stored", dir);
    assert_int_equal(gantry_buf_read_file(&b, stored, NULL), 0);
    assert_string_equal(
        b.data, "{\"ServerURL\":\"127.0.0.1:5000\",\"Username\":\"new\",\"Secret\":\"np\"}");
    gantry_buf_release(&b);
    /* The file gets an empty entry, no secret. */
    assert_int_equal(gantry_buf_read_file(&b, path, NULL), 0);
    assert_non_null(strstr(b.data, "\"127.0.0.1:5000\": {}"));
    assert_null(strstr(b.data, "bmV3Om5w"));
    gantry_buf_release(&b);
    bool found = false;
    assert_int_equal(gantry_registry_config_erase(path, "127.0.0.1:5000", &found, NULL), 0);
    assert_true(found);
    /* A helper that is not installed is a clear error. */
    write_file(path, "{\"credsStore\":\"does-not-exist-anywhere\"}", 0600);
    _cleanup_error_ struct gantry_error *e2 = NULL;
    assert_int_equal(gantry_registry_config_get(path, "127.0.0.1:5000", &got, &e2), -1);
    assert_int_equal(e2->code, GANTRY_E_NOT_FOUND);
    assert_non_null(strstr(e2->message, "docker-credential-does-not-exist-anywhere"));
    setenv("PATH", saved, 1);
    _cleanup_free_ char *cmd = xasprintf("rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registry__challenge_valid),
        cmocka_unit_test(test_registry__challenge_malformed),
        cmocka_unit_test(test_registry__challenge_bounded),
        cmocka_unit_test(test_registry__scopes),
        cmocka_unit_test(test_registry__link_header),
        cmocka_unit_test(test_registry__location_resolution),
        cmocka_unit_test(test_registry__realm_policy),
        cmocka_unit_test(test_registry__hosts),
        cmocka_unit_test(test_registry__ranges),
        cmocka_unit_test(test_registry__retry_after),
        cmocka_unit_test(test_registry__retry_budget),
        cmocka_unit_test(test_registry__base64),
        cmocka_unit_test(test_registry__json_documents),
        cmocka_unit_test(test_registry__server_keys),
        cmocka_unit_test(test_registry__config_lookup),
        cmocka_unit_test(test_registry__config_edit),
        cmocka_unit_test(test_registry__config_files),
        cmocka_unit_test(test_registry__credential_helper),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
