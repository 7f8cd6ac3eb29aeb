/*
 * Unit tests for variable expansion and word splitting: BuildKit's
 * envVarTest and wordsTest tables (frontend/dockerfile/shell), its
 * TestProcessWithMatches cases for the pattern operators, the D7 inputs of
 * bad-inputs.md, the backtick escape and the raw / skip options.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <gantry/dockerfile.h>

#include "util.h"

/* The expected value of a vector that must fail. */
static const char ERR[] = "\001error";

struct vector {
    const char *in;
    const char *want; /* ERR: must fail */
};

/* envVarTest's environment. */
static struct gantry_dockerfile_vars env_var_test(void)
{
    struct gantry_dockerfile_vars v = GANTRY_DOCKERFILE_VARS_INIT;
    gantry_dockerfile_vars_set(&v, "PWD", "/home");
    gantry_dockerfile_vars_set(&v, "SHELL", "bash");
    gantry_dockerfile_vars_set(&v, "KOREAN", "\xED\x95\x9C\xEA\xB5\xAD\xEC\x96\xB4");
    gantry_dockerfile_vars_set(&v, "NULL", "");
    return v;
}

static void run_vectors(const struct vector *vs, size_t n, struct gantry_dockerfile_vars *env,
                        char escape)
{
    struct gantry_dockerfile_expand_opts o = {
        .lookup = gantry_dockerfile_vars_lookup, .user = env, .escape = escape};
    for (size_t i = 0; i < n; i++) {
        char *out = NULL;
        _cleanup_error_ struct gantry_error *err = NULL;
        int r = gantry_dockerfile_expand(vs[i].in, strlen(vs[i].in), &o, &out, &err);
        if (vs[i].want == ERR) {
            if (r == 0)
                fail_msg("'%s' gave '%s', want an error", vs[i].in, out);
            assert_null(strchr(err->message, '\n'));
            assert_non_null(strstr(err->message, "failed to process '"));
            continue;
        }
        if (r < 0)
            fail_msg("'%s': %s", vs[i].in, err->message);
        if (strcmp(out, vs[i].want) != 0)
            fail_msg("'%s' gave '%s', want '%s'", vs[i].in, out, vs[i].want);
        free(out);
    }
}

static void test_dockerfile__expand_env_var_test(void **state)
{
    (void)state;
    static const struct vector vs[] = {
        {"hello", "hello"},
        {"he'll'o", "hello"},
        {"he'llo", ERR},
        {"he\\'llo", "he'llo"},
        {"he\\\\'llo", ERR},
        {"abc\\tdef", "abctdef"},
        {"\"abc\\tdef\"", "abc\\tdef"},
        {"\"abc\\\\tdef\"", "abc\\tdef"},
        {"'abc\\tdef'", "abc\\tdef"},
        {"hello\\", "hello"},
        {"hello\\\\", "hello\\"},
        {"\"hello", ERR},
        {"\"hello\\\"", ERR},
        {"\"hel'lo\"", "hel'lo"},
        {"'hello", ERR},
        {"'hello\\'", "hello\\"},
        {"'hello\\there'", "hello\\there"},
        {"'hello\\\\there'", "hello\\\\there"},
        {"\"''\"", "''"},
        {"$.", "$."},
        {"he$1x", "hex"},
        {"he$.x", "he$.x"},
        {"he$pwd.", "he."},
        {"he$PWD", "he/home"},
        {"he\\$PWD", "he$PWD"},
        {"he\\\\$PWD", "he\\/home"},
        {"\"he\\$PWD\"", "he$PWD"},
        {"\"he\\\\$PWD\"", "he\\/home"},
        {"\\${}", "${}"},
        {"\\${}aaa", "${}aaa"},
        {"he\\${}", "he${}"},
        {"he\\${}xx", "he${}xx"},
        {"${}", ERR},
        {"${}aaa", ERR},
        {"he${}", ERR},
        {"he${}xx", ERR},
        {"he${hi}", "he"},
        {"he${hi}xx", "hexx"},
        {"he${PWD}", "he/home"},
        {"he${.}", ERR},
        {"he${XXX:-000}xx", "he000xx"},
        {"he${PWD:-000}xx", "he/homexx"},
        {"he${XXX:-$PWD}xx", "he/homexx"},
        {"he${XXX:-${PWD:-yyy}}xx", "he/homexx"},
        {"he${XXX:-${YYY:-yyy}}xx", "heyyyxx"},
        {"he${XXX:YYY}", ERR},
        {"he${XXX?}", ERR},
        {"he${XXX:?}", ERR},
        {"he${PWD?}", "he/home"},
        {"he${PWD:?}", "he/home"},
        {"he${NULL?}", "he"},
        {"he${NULL:?}", ERR},
        {"he${XXX:+${PWD}}xx", "hexx"},
        {"he${PWD:+${XXX}}xx", "hexx"},
        {"he${PWD:+${SHELL}}xx", "hebashxx"},
        {"he${XXX:+000}xx", "hexx"},
        {"he${PWD:+000}xx", "he000xx"},
        {"'he${XX}'", "he${XX}"},
        {"\"he${PWD}\"", "he/home"},
        {"\"he'$PWD'\"", "he'/home'"},
        {"\"$PWD\"", "/home"},
        {"'$PWD'", "$PWD"},
        {"'\\$PWD'", "\\$PWD"},
        {"'\"hello\"'", "\"hello\""},
        {"'he\\$PWD'", "he\\$PWD"},
        {"he${PWD", ERR},
        {"he${PWD=000}xx", ERR},
        {"he${PWD+${PWD}:}xx", "he/home:xx"},
        {"he${PWD+'x'}xx", "hexxx"},
        {"he${XXX-000}xx", "he000xx"},
        {"he${PWD-000}xx", "he/homexx"},
        {"he${XXX-$PWD}xx", "he/homexx"},
        {"he${XXX-${PWD-yyy}}xx", "he/homexx"},
        {"he${XXX-${YYY-yyy}}xx", "heyyyxx"},
        {"he${XXX+${PWD}}xx", "hexx"},
        {"he${PWD+${XXX}}xx", "hexx"},
        {"he${PWD+${SHELL}}xx", "hebashxx"},
        {"he${XXX+000}xx", "hexx"},
        {"he${PWD+000}xx", "he000xx"},
        {"he${NULL-000}xx", "hexx"},
        {"he${NULL:-000}xx", "he000xx"},
        {"he${NULL+000}xx", "he000xx"},
        {"he${NULL:+000}xx", "hexx"},
        {"${XXX:-\\$PWD:}xx", "$PWD:xx"},
        {"${XXX:-\"$PWD:\"}xx", "/home:xx"},
        {"${XXX:-'}'}", "}"},
        {"${KOREAN}", "\xED\x95\x9C\xEA\xB5\xAD\xEC\x96\xB4"},
        {"\xED\x95\x9C${KOREAN}", "\xED\x95\x9C\xED\x95\x9C\xEA\xB5\xAD\xEC\x96\xB4"},
        {"${{aaa}", ERR},
        {"${aaa}}", "}"},
        {"${aaa", ERR},
        {"${{aaa", ERR},
        {"${{aaa}}", ERR},
        {"${aaa}}}", "}}"},
        {"${aaa}}}}", "}}}"},
        {"${aaa}${bbb}", ""},
        {"${aaa}}}}${bbb}", "}}}"},
        {"${:-bbb}", ERR},
        {"${XXX:-${PWD:=000}}", ERR},
        {"$$", ""},
        {"${#}", ""},
        {"$@x", "x"},
        {"a$", "a$"},
        {"${", ERR},
        {"${PWD:", ERR},
        {"${PWD/", ERR},
        {"${PWD/a", ERR},
        /* Messages quote the word: still one line. */
        {"${X\n}", ERR},
        {"${X?a\nb}", ERR},
        {"${PWD#\\\n}", ERR},
    };
    struct gantry_dockerfile_vars env = env_var_test();
    run_vectors(vs, ARRAY_SIZE(vs), &env, 0);
    gantry_dockerfile_vars_release(&env);
}

/* bad-inputs.md D7, each with the message BuildKit gives. */
static void test_dockerfile__expand_d7(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        const char *msg;
    } cases[] = {
        {"${}", "syntax error: bad substitution"},
        {"${aaa", "syntax error: missing '}'"},
        {"${{aaa}", "syntax error: bad substitution"},
        {"${:-bbb}", "syntax error: bad substitution"},
        {"${XXX:YYY}", "unsupported modifier (:Y) in substitution"},
        {"${XXX?}", "XXX: is not allowed to be unset"},
        {"${NULL:?}", "NULL: is not allowed to be empty"},
        {"${XXX?must be set}", "XXX: must be set"},
        {"${PWD:=000}", "unsupported modifier (:=) in substitution"},
        {"${PWD=000}", "unsupported modifier (=) in substitution"},
        {"\"abc", "unexpected end of statement while looking for matching double-quote"},
        {"${PWD:-'x}", "syntax error: missing '}'"},
        {"${PWD/a/b", "syntax error: missing '}'"},
        {"${PWD#\\x}", "invalid pattern (\\x) in substitution: invalid escape '\\x'"},
    };
    struct gantry_dockerfile_vars env = env_var_test();
    struct gantry_dockerfile_expand_opts o = {.lookup = gantry_dockerfile_vars_lookup,
                                              .user = &env};
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        char *out = NULL;
        _cleanup_error_ struct gantry_error *err = NULL;
        if (gantry_dockerfile_expand(cases[i].in, strlen(cases[i].in), &o, &out, &err) == 0)
            fail_msg("'%s' gave '%s'", cases[i].in, out);
        if (!strstr(err->message, cases[i].msg))
            fail_msg("'%s': '%s' lacks '%s'", cases[i].in, err->message, cases[i].msg);
    }
    /* A variable that must be set is the user's problem, not a syntax one. */
    char *out = NULL;
    _cleanup_error_ struct gantry_error *err = NULL;
    assert_int_equal(gantry_dockerfile_expand("${X:?}", 6, &o, &out, &err), -1);
    assert_int_equal(err->code, GANTRY_E_INVALID_ARG);
    assert_string_equal(err->message, "failed to process '${X:?}': X: is not allowed to be unset");
    gantry_dockerfile_vars_release(&env);
}

/* After TestProcessWithMatches: the pattern operators. */
static void test_dockerfile__expand_patterns(void **state)
{
    (void)state;
    static const struct {
        const char *in, *foo, *bar, *want;
    } cases[] = {
        {"${FOO#()[]{\\}^$.\\*\\?|\\\\}", "()[]{}^$.*?|\\x", NULL, "x"},
        {"${FOO%%\\**}", "xx**", NULL, "xx"},
        {"${FOO#*x*y}", "xxyy", NULL, "y"},
        {"${FOO#*}", "xxyy", NULL, "xxyy"},
        {"${FOO#$BAR}", "xxyy", "x", "xyy"},
        {"${FOO#$BAR}", "xxyy", "", "xxyy"},
        {"${FOO#}", "xxyy", NULL, "xxyy"},
        {"${FOO##*x}", "xxyy", NULL, "yy"},
        {"${FOO##}", "xxyy", NULL, "xxyy"},
        {"${FOO#?\\?}", "???y", NULL, "?y"},
        {"${ABC:-.}${FOO%x}${ABC:-.}", "xxyy", NULL, ".xxyy."},
        {"${FOO%%\\**\\*}", "a***yy*", NULL, "a"},
        {"${FOO%}", "xxyy", NULL, "xxyy"},
        {"${FOO%%$BAR}", "xxyy", "", "xxyy"},
        {"${FOO%y*}", "xxyy", NULL, "xxy"},
        {"${FOO%%y*}", "xxyy", NULL, "xx"},
        {"${FOO%.*}", "a.tar.gz", NULL, "a.tar"},
        {"${FOO%%.*}", "a.tar.gz", NULL, "a"},
        {"${FOO##*/}", "/usr/local/bin/tool", NULL, "tool"},
        {"${FOO#*/}", "/usr/local/bin/tool", NULL, "usr/local/bin/tool"},
        {"${FOO/$BAR/.} - ${FOO//$BAR/.}", "/foo*/*/*.txt", "\\*/", "/foo.*/*.txt - /foo..*.txt"},
        {"${FOO/$BAR/} - ${FOO//$BAR/}", "/tmp/tmp/bar.txt", "/tmp", "/tmp/bar.txt - /bar.txt"},
        {"${FOO/$BAR/https://}", "http://google.de", "http://", "https://google.de"},
        {"${FOO//\\//\\/}", "/tmp/foo.txt", NULL, "\\/tmp\\/foo.txt"},
        {"${FOO/$BAR/ww}", "xxyy", "", "wwxxyy"},
        {"${FOO///}", "xxyy", NULL, "xxyy"},
        /* "$0" is a variable to the lexer; escaped, it reaches Go's
         * template expansion in //, where it means the match. */
        {"${FOO//x/[$0]}", "axbx", NULL, "a[]b[]"},
        {"${FOO//x/[\\$0]}", "axbx", NULL, "a[\\x]b[\\x]"},
        /* The first '}' ends the replacement, even after "\\$". */
        {"${FOO//x/[\\${0}]}", "axbx", NULL, "a[\\${0b[\\${0]}"},
        {"${FOO/x/[\\$0]}", "axbx", NULL, "a[\\$0]bx"},
        {"${FOO//?/$$}", "ab", NULL, ""},
        {"${FOO//y*/-}", "xyzxyz", NULL, "x-"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct gantry_dockerfile_vars env = GANTRY_DOCKERFILE_VARS_INIT;
        gantry_dockerfile_vars_set(&env, "FOO", cases[i].foo);
        if (cases[i].bar)
            gantry_dockerfile_vars_set(&env, "BAR", cases[i].bar);
        struct vector v = {cases[i].in, cases[i].want};
        run_vectors(&v, 1, &env, 0);
        gantry_dockerfile_vars_release(&env);
    }
    static const struct vector errs[] = {
        {"${FOO//ww}", ERR},
        {"${FOO//}", ERR},
        {"${FOO#\\x}", ERR},
        {"${FOO:#x}", "xy"},
    };
    struct gantry_dockerfile_vars env = GANTRY_DOCKERFILE_VARS_INIT;
    gantry_dockerfile_vars_set(&env, "FOO", "xxy");
    run_vectors(errs, ARRAY_SIZE(errs), &env, 0);
    gantry_dockerfile_vars_release(&env);
}

/* Long values stay linear per match (a quadratic search would take
 * minutes here under the sanitizers). */
static void test_dockerfile__expand_long_value(void **state)
{
    (void)state;
    size_t n = 200000;
    _cleanup_free_ char *big = xmalloc(n + 1);
    memset(big, 'a', n);
    big[n] = '\0';
    struct gantry_dockerfile_vars env = GANTRY_DOCKERFILE_VARS_INIT;
    gantry_dockerfile_vars_set(&env, "FOO", big);
    struct gantry_dockerfile_expand_opts o = {.lookup = gantry_dockerfile_vars_lookup,
                                              .user = &env};
    static const struct {
        const char *in;
        char fill;
        size_t len;
    } cases[] = {
        {"${FOO//a/b}", 'b', 200000}, {"${FOO/b/c}", 'a', 200000}, {"${FOO//*a/x}", 'x', 1},
        {"${FOO%%a*}", 0, 0},         {"${FOO#a}", 'a', 199999},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        char *out = NULL;
        assert_int_equal(gantry_dockerfile_expand(cases[i].in, strlen(cases[i].in), &o, &out, NULL),
                         0);
        assert_int_equal(strlen(out), cases[i].len);
        for (size_t k = 0; k < cases[i].len; k++)
            if (out[k] != cases[i].fill)
                fail_msg("'%s': byte %zu is '%c'", cases[i].in, k, out[k]);
        free(out);
    }
    gantry_dockerfile_vars_release(&env);
}

static void test_dockerfile__expand_backtick_escape(void **state)
{
    (void)state;
    static const struct vector vs[] = {
        {"C:\\dir\\$PWD", "C:\\dir\\/home"},
        {"a`$PWD", "a$PWD"},
        {"a` b", "a b"},
        {"\"`\"x\"", "\"x"},
        {"\"a\\b\"", "a\\b"},
        {"x``", "x`"},
        {"x`", "x"},
    };
    struct gantry_dockerfile_vars env = env_var_test();
    run_vectors(vs, ARRAY_SIZE(vs), &env, '`');
    gantry_dockerfile_vars_release(&env);
}

static void expect_words(const char *in, struct gantry_dockerfile_vars *env, size_t n, ...)
{
    struct gantry_dockerfile_expand_opts o = {.lookup = gantry_dockerfile_vars_lookup, .user = env};
    char **w = NULL;
    size_t nw = 0;
    _cleanup_error_ struct gantry_error *err = NULL;
    if (gantry_dockerfile_expand_words(in, strlen(in), &o, &w, &nw, &err) < 0)
        fail_msg("'%s': %s", in, err->message);
    if (nw != n)
        fail_msg("'%s': %zu words, want %zu", in, nw, n);
    va_list ap;
    va_start(ap, n);
    for (size_t i = 0; i < n; i++) {
        const char *want = va_arg(ap, const char *);
        if (strcmp(w[i], want) != 0)
            fail_msg("'%s': word %zu is '%s', want '%s'", in, i, w[i], want);
    }
    va_end(ap);
    gantry_dockerfile_strv_free(w, nw);
}

/* After BuildKit's wordsTest. */
static void test_dockerfile__expand_words(void **state)
{
    (void)state;
    struct gantry_dockerfile_vars env = GANTRY_DOCKERFILE_VARS_INIT;
    expect_words("hello", &env, 1, "hello");
    expect_words("hello${hi}bye", &env, 1, "hellobye");
    gantry_dockerfile_vars_set(&env, "hi", "hi");
    expect_words("hello${hi}bye", &env, 1, "hellohibye");
    gantry_dockerfile_vars_set(&env, "space", "abc  def");
    expect_words("hello${space}bye", &env, 2, "helloabc", "defbye");
    expect_words("hello\"${space}\"bye", &env, 1, "helloabc  defbye");
    expect_words("hello \"${space}\"bye", &env, 2, "hello", "abc  defbye");
    gantry_dockerfile_vars_set(&env, "leading", "  ab c");
    expect_words("hello${leading}def", &env, 3, "hello", "ab", "cdef");
    expect_words("hello\"${leading}\" def", &env, 2, "hello  ab c", "def");
    expect_words("hello\"${leading}\"", &env, 1, "hello  ab c");
    expect_words("hello${leading}", &env, 3, "hello", "ab", "c");
    gantry_dockerfile_vars_set(&env, "trailing", "ab c   ");
    expect_words("hello${trailing}", &env, 2, "helloab", "c");
    expect_words("hello${trailing}d", &env, 3, "helloab", "c", "d");
    expect_words("hello\"${trailing}\"d", &env, 1, "helloab c   d");
    gantry_dockerfile_vars_set(&env, "PORTS", "80/tcp 443");
    expect_words("$PORTS 8080", &env, 3, "80/tcp", "443", "8080");
    expect_words("a \"\" b", &env, 2, "a", "b");
    expect_words("'' x", &env, 1, "x");
    expect_words("  a\\ b  c  ", &env, 2, "a b", "c");
    expect_words("", &env, 0);
    gantry_dockerfile_vars_release(&env);
}

static void test_dockerfile__expand_options(void **state)
{
    (void)state;
    struct gantry_dockerfile_vars env = env_var_test();
    struct gantry_dockerfile_expand_opts o = {.lookup = gantry_dockerfile_vars_lookup,
                                              .user = &env,
                                              .raw_quotes = true,
                                              .skip_unset = true};
    static const struct vector raw[] = {
        {"'a b' \"$PWD\"", "'a b' \"/home\""},
        {"$XX ${YY} ${ZZ:-d} ${Q/a/b} ${PWD}", "$XX ${YY} ${ZZ:-d} ${Q/a/b} /home"},
        {"\\$PWD", "$PWD"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(raw); i++) {
        char *out = NULL;
        assert_int_equal(gantry_dockerfile_expand(raw[i].in, strlen(raw[i].in), &o, &out, NULL), 0);
        assert_string_equal(out, raw[i].want);
        free(out);
    }
    /* raw_escapes keeps the escape characters. */
    struct gantry_dockerfile_expand_opts re = {.raw_escapes = true};
    char *out = NULL;
    assert_int_equal(gantry_dockerfile_expand("a\\ b\\$X", 7, &re, &out, NULL), 0);
    assert_string_equal(out, "a\\ b\\$X");
    free(out);
    /* skip_quotes: a heredoc body keeps its quotes and still expands. */
    struct gantry_dockerfile_expand_opts sq = {
        .lookup = gantry_dockerfile_vars_lookup, .user = &env, .skip_quotes = true};
    const char *body = "echo \"it's $SHELL\"\n";
    assert_int_equal(gantry_dockerfile_expand(body, strlen(body), &sq, &out, NULL), 0);
    assert_string_equal(out, "echo \"it's bash\"\n");
    free(out);
    /* NULL options: everything unset, backslash escape. */
    assert_int_equal(gantry_dockerfile_expand("a$PWD\\$b", 8, NULL, &out, NULL), 0);
    assert_string_equal(out, "a$b");
    free(out);
    /* Only len bytes are read. */
    assert_int_equal(gantry_dockerfile_expand("abcdef", 3, NULL, &out, NULL), 0);
    assert_string_equal(out, "abc");
    free(out);
    _cleanup_error_ struct gantry_error *err = NULL;
    assert_int_equal(gantry_dockerfile_expand("a\0b", 3, NULL, &out, &err), -1);
    assert_non_null(strstr(err->message, "NUL"));
    gantry_dockerfile_vars_release(&env);
}

static void test_dockerfile__vars(void **state)
{
    (void)state;
    struct gantry_dockerfile_vars v = GANTRY_DOCKERFILE_VARS_INIT;
    gantry_dockerfile_vars_set(&v, "A", "1");
    gantry_dockerfile_vars_set(&v, "B", "2");
    gantry_dockerfile_vars_set(&v, "A", "3");
    assert_int_equal(v.n_items, 2);
    assert_string_equal(v.items[0].key, "A");
    assert_string_equal(gantry_dockerfile_vars_get(&v, "A"), "3");
    assert_null(gantry_dockerfile_vars_get(&v, "a"));
    struct gantry_dockerfile_vars c;
    gantry_dockerfile_vars_copy(&c, &v);
    gantry_dockerfile_vars_release(&v);
    assert_int_equal(v.n_items, 0);
    assert_string_equal(gantry_dockerfile_vars_get(&c, "B"), "2");
    const char *val = NULL;
    assert_true(gantry_dockerfile_vars_lookup(&c, "B", &val));
    assert_string_equal(val, "2");
    assert_false(gantry_dockerfile_vars_lookup(&c, "Z", &val));
    gantry_dockerfile_vars_release(&c);
    gantry_dockerfile_vars_release(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dockerfile__expand_env_var_test),
        cmocka_unit_test(test_dockerfile__expand_d7),
        cmocka_unit_test(test_dockerfile__expand_patterns),
        cmocka_unit_test(test_dockerfile__expand_long_value),
        cmocka_unit_test(test_dockerfile__expand_backtick_escape),
        cmocka_unit_test(test_dockerfile__expand_words),
        cmocka_unit_test(test_dockerfile__expand_options),
        cmocka_unit_test(test_dockerfile__vars),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
