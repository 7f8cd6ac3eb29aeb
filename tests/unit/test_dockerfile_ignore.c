/*
 * Unit tests for .dockerignore: moby/patternmatcher's TestMatches and the
 * filepath.Match table it borrows, ignorefile.ReadAll's line handling,
 * exceptions and "last match wins", parent-directory matching, paths that
 * leave the context, and the directory-skipping helper.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <gantry/dockerfile.h>

#include "util.h"

static struct gantry_dockerignore *from_text(const char *text)
{
    struct gantry_dockerignore *ig = NULL;
    _cleanup_error_ struct gantry_error *err = NULL;
    if (gantry_dockerignore_parse(text, strlen(text), &ig, &err) < 0)
        fail_msg("'%s': %s", text, err->message);
    return ig;
}

static struct gantry_dockerignore *from_patterns(const char *const *p, size_t n)
{
    struct gantry_dockerignore *ig = NULL;
    _cleanup_error_ struct gantry_error *err = NULL;
    if (gantry_dockerignore_new(p, n, &ig, &err) < 0)
        fail_msg("'%s': %s", n ? p[0] : "", err->message);
    return ig;
}

static bool excluded(const struct gantry_dockerignore *ig, const char *path)
{
    bool ex = true;
    _cleanup_error_ struct gantry_error *err = NULL;
    if (gantry_dockerignore_matches(ig, path, &ex, &err) < 0)
        fail_msg("'%s': %s", path, err->message);
    return ex;
}

static void check(const char *pattern, const char *path, bool want)
{
    struct gantry_dockerignore *ig = from_patterns(&pattern, 1);
    if (excluded(ig, path) != want)
        fail_msg("pattern '%s' on '%s': want %s", pattern, path, want ? "match" : "no match");
    gantry_dockerignore_free(ig);
}

/* patternmatcher_test.go TestMatches (MatchesOrParentMatches). */
static void test_dockerfile__ignore_patternmatcher_table(void **state)
{
    (void)state;
    static const struct {
        const char *pattern, *text;
        bool match;
    } cases[] = {
        {"**", "file", true},
        {"**", "file/", true},
        {"**/", "file", true},
        {"**/", "file/", true},
        {"**", "dir/file", true},
        {"**/", "dir/file", true},
        {"**", "dir/file/", true},
        {"**/", "dir/file/", true},
        {"**/**", "dir/file", true},
        {"**/**", "dir/file/", true},
        {"dir/**", "dir/file", true},
        {"dir/**", "dir/file/", true},
        {"dir/**", "dir/dir2/file", true},
        {"dir/**", "dir/dir2/file/", true},
        {"**/dir", "dir", true},
        {"**/dir", "dir/file", true},
        {"**/dir2/*", "dir/dir2/file", true},
        {"**/dir2/*", "dir/dir2/file/", true},
        {"**/dir2/**", "dir/dir2/dir3/file", true},
        {"**/dir2/**", "dir/dir2/dir3/file/", true},
        {"**file", "file", true},
        {"**file", "dir/file", true},
        {"**/file", "dir/file", true},
        {"**file", "dir/dir/file", true},
        {"**/file", "dir/dir/file", true},
        {"**/file*", "dir/dir/file", true},
        {"**/file*", "dir/dir/file.txt", true},
        {"**/file*txt", "dir/dir/file.txt", true},
        {"**/file*.txt", "dir/dir/file.txt", true},
        {"**/file*.txt*", "dir/dir/file.txt", true},
        {"**/**/*.txt", "dir/dir/file.txt", true},
        {"**/**/*.txt2", "dir/dir/file.txt", false},
        {"**/*.txt", "file.txt", true},
        {"**/**/*.txt", "file.txt", true},
        {"a**/*.txt", "a/file.txt", true},
        {"a**/*.txt", "a/dir/file.txt", true},
        {"a**/*.txt", "a/dir/dir/file.txt", true},
        {"a/*.txt", "a/dir/file.txt", false},
        {"a/*.txt", "a/file.txt", true},
        {"a/*.txt**", "a/file.txt", true},
        {"a[b-d]e", "ae", false},
        {"a[b-d]e", "ace", true},
        {"a[b-d]e", "aae", false},
        {"a[^b-d]e", "aze", true},
        {".*", ".foo", true},
        {".*", "foo", false},
        {"abc.def", "abcdef", false},
        {"abc.def", "abc.def", true},
        {"abc.def", "abcZdef", false},
        {"abc?def", "abcZdef", true},
        {"abc?def", "abcdef", false},
        {"**/foo/bar", "foo/bar", true},
        {"**/foo/bar", "dir/foo/bar", true},
        {"**/foo/bar", "dir/dir2/foo/bar", true},
        {"abc/**", "abc", false},
        {"abc/**", "abc/def", true},
        {"abc/**", "abc/def/ghi", true},
        {"**/.foo", ".foo", true},
        {"**/.foo", "bar.foo", false},
        {"a(b)c/def", "a(b)c/def", true},
        {"a(b)c/def", "a(b)c/xyz", false},
        {"a.|)$(}+{bc", "a.|)$(}+{bc", true},
        {"dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
         "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", true},
        {"dist/*.whl", "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", true},
        {"a\\\\", "a\\", true},
        {"a\\*b", "a*b", true},
        /* patternmatcher quirks kept on purpose */
        {"**file", "dir/myfile", true},
        {"^abc*", "abcd", true},
        {"a^b*", "a^bc", false},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
        check(cases[i].pattern, cases[i].text, cases[i].match);
}

/* The filepath.Match table of patternmatcher_test.go (TestMatch). */
static void test_dockerfile__ignore_match_table(void **state)
{
    (void)state;
    static const struct {
        const char *pattern, *s;
        bool match;
    } cases[] = {
        {"abc", "abc", true},
        {"*", "abc", true},
        {"*c", "abc", true},
        {"a*", "a", true},
        {"a*", "abc", true},
        {"a*", "ab/c", true},
        {"a*/b", "abc/b", true},
        {"a*/b", "a/c/b", false},
        {"a*b*c*d*e*/f", "axbxcxdxe/f", true},
        {"a*b*c*d*e*/f", "axbxcxdxexxx/f", true},
        {"a*b*c*d*e*/f", "axbxcxdxe/xxx/f", false},
        {"a*b*c*d*e*/f", "axbxcxdxexxx/fff", false},
        {"a*b?c*x", "abxbbxdbxebxczzx", true},
        {"a*b?c*x", "abxbbxdbxebxczzy", false},
        {"ab[c]", "abc", true},
        {"ab[b-d]", "abc", true},
        {"ab[e-g]", "abc", false},
        {"ab[^c]", "abc", false},
        {"ab[^b-d]", "abc", false},
        {"ab[^e-g]", "abc", true},
        {"a\\*b", "a*b", true},
        {"a\\*b", "ab", false},
        {"a?b",
         "a\xE2\x98\xBA"
         "b",
         true},
        {"a[^a]b",
         "a\xE2\x98\xBA"
         "b",
         true},
        {"a???b",
         "a\xE2\x98\xBA"
         "b",
         false},
        {"a[^a][^a][^a]b",
         "a\xE2\x98\xBA"
         "b",
         false},
        {"[a-\xCE\xB6]*", "\xCE\xB1", true},
        {"*[a-\xCE\xB6]", "A", false},
        {"a?b", "a/b", false},
        {"a*b", "a/b", false},
        {"[\\]a]", "]", true},
        {"[\\-]", "-", true},
        {"[x\\-]", "x", true},
        {"[x\\-]", "-", true},
        {"[x\\-]", "z", false},
        {"[\\-x]", "x", true},
        {"[\\-x]", "-", true},
        {"[\\-x]", "a", false},
        {"*x", "xxx", true},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
        check(cases[i].pattern, cases[i].s, cases[i].match);
    static const char *const bad[] = {"[]a]", "[-]", "[x-]", "[-x]", "\\",   "[a-b-c]",
                                      "[",    "[^",  "[^bc", "a[",   "[z-a]"};
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        struct gantry_dockerignore *ig = NULL;
        _cleanup_error_ struct gantry_error *err = NULL;
        if (gantry_dockerignore_new(&bad[i], 1, &ig, &err) == 0)
            fail_msg("'%s' was accepted", bad[i]);
        assert_int_equal(err->code, GANTRY_E_PARSE);
        assert_non_null(strstr(err->message, "syntax error in pattern"));
    }
}

static void test_dockerfile__ignore_read_file(void **state)
{
    (void)state;
    struct gantry_dockerignore *ig = from_text("\xEF\xBB\xBF# comment\n"
                                               "  spaced  \n"
                                               "!keep\n"
                                               "/abs\n"
                                               "./rel\n"
                                               "\n"
                                               " \t\n"
                                               "!  ws-after-bang\n"
                                               "sub/../other//x/\n"
                                               "#!not-an-exception\n"
                                               "  #hash\n"
                                               "crlf\r\n"
                                               "last");
    static const char *const want[] = {"spaced",  "keep",  "abs",  "rel", "ws-after-bang",
                                       "other/x", "#hash", "crlf", "last"};
    static const bool exception[] = {false, true, false, false, true, false, false, false, false};
    assert_int_equal(gantry_dockerignore_count(ig), ARRAY_SIZE(want));
    for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
        bool ex;
        assert_string_equal(gantry_dockerignore_pattern(ig, i, &ex), want[i]);
        assert_int_equal(ex, exception[i]);
    }
    assert_null(gantry_dockerignore_pattern(ig, 99, NULL));
    gantry_dockerignore_free(ig);

    struct gantry_dockerignore *bad = NULL;
    _cleanup_error_ struct gantry_error *err = NULL;
    const char *text = "a\n\n!\n";
    assert_int_equal(gantry_dockerignore_parse(text, strlen(text), &bad, &err), -1);
    assert_string_equal(err->message, ".dockerignore:3: illegal exclusion pattern: '!'");
    gantry_error_free(err);
    err = NULL;
    text = "ok\n[\n";
    assert_int_equal(gantry_dockerignore_parse(text, strlen(text), &bad, &err), -1);
    assert_string_equal(err->message, ".dockerignore:2: syntax error in pattern '['");
    /* An empty file ignores nothing. */
    ig = from_text("");
    assert_int_equal(gantry_dockerignore_count(ig), 0);
    assert_false(excluded(ig, "anything"));
    gantry_dockerignore_free(ig);
}

static void test_dockerfile__ignore_exceptions(void **state)
{
    (void)state;
    struct gantry_dockerignore *ig = from_text("*.o\n!keep.o\n");
    assert_true(excluded(ig, "a.o"));
    assert_false(excluded(ig, "keep.o"));
    assert_false(excluded(ig, "sub/a.o")); /* '*' does not cross '/' */
    assert_false(excluded(ig, "a.c"));
    gantry_dockerignore_free(ig);

    ig = from_text("build\n!build/keep\n");
    assert_true(excluded(ig, "build"));
    assert_true(excluded(ig, "build/x"));
    assert_false(excluded(ig, "build/keep"));
    assert_false(excluded(ig, "build/keep/deep/file")); /* the parent is re-included */
    gantry_dockerignore_free(ig);

    /* The last matching pattern wins, whatever the order. */
    ig = from_text("!a\na\n");
    assert_true(excluded(ig, "a"));
    gantry_dockerignore_free(ig);
    ig = from_text("a\n!a\na\n");
    assert_true(excluded(ig, "a"));
    gantry_dockerignore_free(ig);
    ig = from_text("**\n!util/docker/web\n");
    assert_false(excluded(ig, "util/docker/web/foo"));
    assert_true(excluded(ig, "util/docker/other"));
    gantry_dockerignore_free(ig);
    ig = from_text("**\n!util/docker/web\nutil/docker/web/foo\n");
    assert_true(excluded(ig, "util/docker/web/foo"));
    gantry_dockerignore_free(ig);
    ig = from_text("docs/\n!docs/README.md\n");
    assert_false(excluded(ig, "docs/README.md"));
    assert_true(excluded(ig, "docs/other.md"));
    gantry_dockerignore_free(ig);
}

static void test_dockerfile__ignore_paths(void **state)
{
    (void)state;
    struct gantry_dockerignore *ig = from_text("*.o\n/abs/**\n");
    assert_true(excluded(ig, "/a.o"));
    assert_true(excluded(ig, "./a.o"));
    assert_true(excluded(ig, "x/../a.o"));
    assert_true(excluded(ig, "abs/deep/er"));
    assert_true(excluded(ig, "//abs//deep"));
    assert_false(excluded(ig, "abs"));
    /* The context root is never excluded. */
    assert_false(excluded(ig, "."));
    assert_false(excluded(ig, ""));
    assert_false(excluded(ig, "/"));
    static const char *const outside[] = {"..", "../x", "a/../../x"};
    for (size_t i = 0; i < ARRAY_SIZE(outside); i++) {
        bool ex;
        _cleanup_error_ struct gantry_error *err = NULL;
        assert_int_equal(gantry_dockerignore_matches(ig, outside[i], &ex, &err), -1);
        assert_int_equal(err->code, GANTRY_E_INVALID_ARG);
        assert_non_null(strstr(err->message, "is outside the build context"));
    }
    gantry_dockerignore_free(ig);
    /* A NULL matcher ignores nothing. */
    assert_false(excluded(NULL, "a"));
}

static void test_dockerfile__ignore_dir_skipping(void **state)
{
    (void)state;
    struct gantry_dockerignore *ig = from_text("node_modules\n.git\n");
    assert_false(gantry_dockerignore_dir_may_reinclude(ig, "node_modules"));
    gantry_dockerignore_free(ig);

    ig = from_text("*\n!src/*.go\n!keep\n");
    assert_true(gantry_dockerignore_dir_may_reinclude(ig, "src"));
    assert_false(gantry_dockerignore_dir_may_reinclude(ig, "vendor"));
    assert_false(gantry_dockerignore_dir_may_reinclude(ig, "sr"));
    assert_true(gantry_dockerignore_dir_may_reinclude(ig, "keep"));
    assert_true(gantry_dockerignore_dir_may_reinclude(ig, "keep/sub"));
    assert_true(gantry_dockerignore_dir_may_reinclude(ig, "."));
    gantry_dockerignore_free(ig);

    ig = from_text("a\n!a/b/c\n");
    assert_true(gantry_dockerignore_dir_may_reinclude(ig, "a"));
    assert_true(gantry_dockerignore_dir_may_reinclude(ig, "a/b"));
    assert_false(gantry_dockerignore_dir_may_reinclude(ig, "a/x"));
    assert_false(gantry_dockerignore_dir_may_reinclude(ig, "ab"));
    gantry_dockerignore_free(ig);

    ig = from_text("*\n!**/keep\n");
    assert_true(gantry_dockerignore_dir_may_reinclude(ig, "any/where"));
    gantry_dockerignore_free(ig);

    /* Skipping must agree with matching: nothing under a skipped
     * directory may come out not excluded. */
    ig = from_text("*\n!src/*.go\n!keep\n");
    static const char *const under_vendor[] = {"vendor/a.go", "vendor/src/a.go", "vendor/keep"};
    for (size_t i = 0; i < ARRAY_SIZE(under_vendor); i++)
        assert_true(excluded(ig, under_vendor[i]));
    assert_false(excluded(ig, "src/a.go"));
    gantry_dockerignore_free(ig);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dockerfile__ignore_patternmatcher_table),
        cmocka_unit_test(test_dockerfile__ignore_match_table),
        cmocka_unit_test(test_dockerfile__ignore_read_file),
        cmocka_unit_test(test_dockerfile__ignore_exceptions),
        cmocka_unit_test(test_dockerfile__ignore_paths),
        cmocka_unit_test(test_dockerfile__ignore_dir_skipping),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
