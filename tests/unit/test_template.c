/* Unit tests for template: the Go text/template subset over JSON values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <jansson.h>

#include <gantry/template.h>

#include "util.h"

/* What `docker image inspect alpine` prints, trimmed. */
static const char inspect[] =
    "{\"Id\": \"sha256:05455a08881ea9cf0e752bc48e61bbd71a34c029bb13df01e40e3e70e0d007bd\","
    " \"RepoTags\": [\"alpine:3.19\", \"alpine:latest\"],"
    " \"RepoDigests\": [],"
    " \"Created\": \"2024-01-27T00:30:48.743965523Z\","
    " \"Size\": 7377670,"
    " \"Architecture\": \"amd64\","
    " \"Os\": \"linux\","
    " \"Config\": {\"Env\": [\"PATH=/usr/sbin:/usr/bin\", \"LANG=C\"],"
    "   \"Cmd\": [\"/bin/sh\"], \"Entrypoint\": null, \"WorkingDir\": \"\","
    "   \"Labels\": {\"org.opencontainers.image.source\": \"https://github.com/alpinelinux\","
    "     \"maintainer\": \"<ops@example.com> & co\"}},"
    " \"RootFS\": {\"Type\": \"layers\", \"Layers\": [\"sha256:d4fc\", \"sha256:aa11\"]}}";

/* Render tmpl over the JSON text data; NULL on failure with *err set. */
static char *render(const char *tmpl, const char *data, struct gantry_error **err)
{
    json_error_t je;
    json_t *v = data ? json_loads(data, JSON_DECODE_ANY, &je) : NULL;
    if (data && !v)
        fail_msg("bad test JSON: %s", je.text);
    struct gantry_template *t = gantry_template_parse(tmpl, strlen(tmpl), err);
    if (!t) {
        json_decref(v);
        return NULL;
    }
    _cleanup_buf_ struct gantry_buf out = GANTRY_BUF_INIT;
    int r = gantry_template_execute(t, v, &out, err);
    gantry_template_free(t);
    json_decref(v);
    return r < 0 ? NULL : gantry_buf_detach(&out, NULL);
}

static void expect_render(const char *tmpl, const char *data, const char *want)
{
    _cleanup_error_ struct gantry_error *err = NULL;
    _cleanup_free_ char *got = render(tmpl, data, &err);
    if (!got)
        fail_msg("'%s': unexpected error: %s", tmpl, err->message);
    if (strcmp(got, want) != 0)
        fail_msg("'%s': got '%s', want '%s'", tmpl, got, want);
    assert_null(err);
}

static void expect_error(const char *tmpl, const char *data, enum gantry_error_code code,
                         const char *want)
{
    _cleanup_error_ struct gantry_error *err = NULL;
    _cleanup_free_ char *got = render(tmpl, data, &err);
    if (got)
        fail_msg("'%s': rendered '%s', want error '%s'", tmpl, got, want);
    assert_non_null(err);
    if (strcmp(err->message, want) != 0)
        fail_msg("'%s': error '%s', want '%s'", tmpl, err->message, want);
    assert_int_equal(err->code, code);
}

static void expect_parse_error(const char *tmpl, const char *want)
{
    expect_error(tmpl, "{}", GANTRY_E_PARSE, want);
}

static void test_template__docker_examples(void **state)
{
    (void)state;
    expect_render("{{.Os}}/{{.Architecture}}", inspect, "linux/amd64");
    expect_render("{{.Config.Env}}", inspect, "[PATH=/usr/sbin:/usr/bin LANG=C]");
    expect_render("{{range .RepoTags}}{{.}} {{end}}", inspect, "alpine:3.19 alpine:latest ");
    expect_render("{{if .Variant}}{{.Variant}}{{else}}none{{end}}", inspect, "none");
    expect_render("{{if .Variant}}{{.Variant}}{{else}}none{{end}}", "{\"Variant\":\"v8\"}", "v8");
    expect_render("{{index .Config.Labels \"org.opencontainers.image.source\"}}", inspect,
                  "https://github.com/alpinelinux");
    expect_render("{{join .RepoTags \",\"}}", inspect, "alpine:3.19,alpine:latest");
    expect_render("{{len .RootFS.Layers}}", inspect, "2");
    expect_render("{{upper .Os}} {{lower \"AMD64\"}}", inspect, "LINUX amd64");
    expect_render("{{printf \"%s-%s\" .Os .Architecture}}", inspect, "linux-amd64");
    expect_render("{{println .Os}}", inspect, "linux\n");
    expect_render("{{.Os | upper}}", inspect, "LINUX");
    expect_render("{{.Os | printf \"%s/%s\" .Architecture}}", inspect, "amd64/linux");
    expect_render("{{range $i, $t := .RepoTags}}{{$i}}={{$t}} {{end}}", inspect,
                  "0=alpine:3.19 1=alpine:latest ");
    expect_render("{{.Size}}", inspect, "7377670");
    expect_render("{{.ID}}\t{{.Os}}", "{\"ID\":\"abc\",\"Os\":\"linux\"}", "abc\tlinux");
    expect_render("{{with .Config}}{{.Cmd}} {{.Entrypoint}} [{{.WorkingDir}}]{{end}}", inspect,
                  "[/bin/sh] <no value> []");
}

static void test_template__print_go_values(void **state)
{
    (void)state;
    const char *data = "{\"s\":\"a b\",\"i\":42,\"neg\":-7,\"big\":9007199254740993,"
                       "\"f\":1.5,\"e9\":1.5e9,\"e21\":1e21,\"tiny\":1e-05,\"small\":0.0001,"
                       "\"whole\":3.0,\"m\":1234567.0,\"k\":123456.0,\"t\":true,\"no\":false,"
                       "\"n\":null,\"arr\":[\"a\",1,2.5,null,true,[],{}],"
                       "\"obj\":{\"z\":1,\"a\":{\"y\":null,\"b\":[1]}},\"ea\":[],\"eo\":{}}";
    expect_render("{{.s}}|{{.i}}|{{.neg}}|{{.big}}", data, "a b|42|-7|9007199254740993");
    expect_render("{{.f}}|{{.e9}}|{{.e21}}|{{.tiny}}|{{.small}}|{{.whole}}", data,
                  "1.5|1.5e+09|1e+21|1e-05|0.0001|3");
    expect_render("{{.m}}|{{.k}}", data, "1.234567e+06|123456");
    expect_render("{{.t}}|{{.no}}|{{.n}}|{{.missing}}", data, "true|false|<no value>|<no value>");
    expect_render("{{.arr}}", data, "[a 1 2.5 <nil> true [] map[]]");
    expect_render("{{.obj}}", data, "map[a:map[b:[1] y:<nil>] z:1]");
    expect_render("{{.ea}}|{{.eo}}", data, "[]|map[]");
    expect_render("{{.}}", "\"top\"", "top");
    expect_render("{{.}}", "[1,[2,[3]]]", "[1 [2 [3]]]");
    expect_render("{{.}}", NULL, "<no value>");
    expect_render("{{print .n .missing}}", data, "<nil> <nil>");
    expect_render("{{index .arr 3}}", data, "<no value>");
}

static void test_template__json_function(void **state)
{
    (void)state;
    expect_render("{{json .Config.Labels}}", inspect,
                  "{\"org.opencontainers.image.source\":\"https://github.com/alpinelinux\","
                  "\"maintainer\":\"<ops@example.com> & co\"}");
    expect_render("{{json .RootFS}}", inspect,
                  "{\"Type\":\"layers\",\"Layers\":[\"sha256:d4fc\",\"sha256:aa11\"]}");
    expect_render("{{json .}}", "{\"a\":[1,2.5,1e-7,1e21,1.5e9,-0.0,true,null]}",
                  "{\"a\":[1,2.5,1e-7,1e+21,1500000000,-0,true,null]}");
    expect_render("{{json .}}", "\"q\\\" b\\\\ \\n\\t\\u0001\\u007f \\u2028 \\u00e9\"",
                  "\"q\\\" b\\\\ \\n\\t\\u0001\x7f \\u2028 \xc3\xa9\"");
    expect_render("{{json .Missing}}|{{json \"x\"}}|{{json 3}}", inspect, "null|\"x\"|3");
    expect_render("{{json .}}", "{}", "{}");
}

static void test_template__range(void **state)
{
    (void)state;
    const char *data = "{\"l\":[\"a\",\"b\",\"c\"],\"m\":{\"z\":1,\"a\":2},\"e\":[],\"n\":null,"
                       "\"rows\":[{\"name\":\"x\",\"tags\":[\"1\",\"2\"]},"
                       "{\"name\":\"y\",\"tags\":[\"3\"]}],\"top\":\"T\"}";
    expect_render("{{range .l}}<{{.}}>{{end}}", data, "<a><b><c>");
    expect_render("{{range $v := .l}}{{$v}}{{end}}", data, "abc");
    expect_render("{{range $k, $v := .m}}{{$k}}={{$v}};{{end}}", data, "a=2;z=1;");
    expect_render("{{range .m}}{{.}}{{end}}", data, "21");
    expect_render("{{range .e}}x{{else}}empty{{end}}", data, "empty");
    expect_render("{{range .n}}x{{else}}null{{end}}|{{range .missing}}x{{end}}", data, "null|");
    expect_render("{{range .l}}{{if eq . \"b\"}}{{continue}}{{end}}{{.}}{{end}}", data, "ac");
    expect_render("{{range .l}}{{if eq . \"b\"}}{{break}}{{end}}{{.}}{{end}}", data, "a");
    expect_render("{{range $i, $r := .rows}}{{range $j, $t := $r.tags}}"
                  "{{$i}}.{{$j}}:{{$r.name}}{{$t}}{{$.top}} {{end}}{{end}}",
                  data, "0.0:x1T 0.1:x2T 1.0:y3T ");
    expect_render("{{range .rows}}{{.name}}:{{range .tags}}{{.}}{{end}};{{end}}", data,
                  "x:12;y:3;");
    expect_render("{{$n := 0}}{{range .l}}{{$n = .}}{{end}}{{$n}}", data, "c");
    expect_error("{{range .top}}{{end}}", data, GANTRY_E_INVALID_ARG,
                 "template: 1:9: executing at <.top>: range can't iterate over T");
}

static void test_template__if_else_with(void **state)
{
    (void)state;
    const char *data = "{\"s\":\"x\",\"es\":\"\",\"z\":0,\"zf\":0.0,\"one\":1,\"f\":false,"
                       "\"ea\":[],\"a\":[0],\"eo\":{},\"o\":{\"k\":\"v\"},\"n\":null}";
    static const char *const falsy[] = {"es", "z", "zf", "f", "ea", "eo", "n", "missing"};
    static const char *const truthy[] = {"s", "one", "a", "o"};
    for (size_t i = 0; i < ARRAY_SIZE(falsy); i++) {
        _cleanup_free_ char *t = xasprintf("{{if .%s}}T{{else}}F{{end}}", falsy[i]);
        expect_render(t, data, "F");
    }
    for (size_t i = 0; i < ARRAY_SIZE(truthy); i++) {
        _cleanup_free_ char *t = xasprintf("{{if .%s}}T{{else}}F{{end}}", truthy[i]);
        expect_render(t, data, "T");
    }
    const char *chain = "{{if eq .s \"a\"}}A{{else if eq .s \"x\"}}X{{else}}other{{end}}";
    expect_render(chain, data, "X");
    expect_render(chain, "{\"s\":\"q\"}", "other");
    expect_render("{{with .o}}{{.k}}{{end}}", data, "v");
    expect_render("{{with .eo}}yes{{else}}no{{end}}", data, "no");
    expect_render("{{with .missing}}a{{else with .o}}{{.k}}{{end}}", data, "v");
    expect_render("{{if $v := .s}}{{$v}}{{else}}{{$v}}none{{end}}", data, "x");
    expect_render("{{if not .f}}yes{{end}}", data, "yes");
}

static void test_template__whitespace_trimming(void **state)
{
    (void)state;
    expect_render("a  \n\t{{- .s -}}  \n b", "{\"s\":\"X\"}", "aXb");
    expect_render("a {{- .s}} b", "{\"s\":\"X\"}", "aX b");
    expect_render("a {{.s -}} b", "{\"s\":\"X\"}", "a Xb");
    expect_render("{{range .l -}}\n  {{.}}\n{{- end}}", "{\"l\":[1,2]}", "12");
    expect_render("x {{- /* gone */ -}} y", "{}", "xy");
    expect_render("{{3 -}} {{- -3}}", "{}", "3-3");
    expect_render("{{-3}}", "{}", "-3");
}

static void test_template__comments(void **state)
{
    (void)state;
    expect_render("a{{/* note */}}b", "{}", "ab");
    expect_render("a{{/* multi\nline {{ }} */}}b", "{}", "ab");
    expect_parse_error("{{/* open }}", "template: 1:1: unclosed comment");
    expect_parse_error("{{/* c */ .X}}", "template: 1:10: comment ends before closing delimiter");
}

static void test_template__literals(void **state)
{
    (void)state;
    expect_render("{{\"a\\tb\\u00e9\\x41\\101\\\"\"}}", "{}",
                  "a\tb\xc3\xa9"
                  "AA\"");
    expect_render("{{`raw\\n{{x}}`}}", "{}", "raw\\n{{x}}");
    expect_render("{{'a'}} {{'\\n'}} {{'\\u00e9'}}", "{}", "97 10 233");
    expect_render("{{1_000}} {{0x1F}} {{0o17}} {{017}} {{0b101}} {{-3}} {{+4}}", "{}",
                  "1000 31 15 15 5 -3 4");
    expect_render("{{1.5}} {{1e3}} {{1e6}} {{.5}} {{0x1p-2}}", "{}", "1.5 1000 1e+06 0.5 0.25");
    expect_render("{{true}} {{false}} {{print nil}}", "{}", "true false <nil>");
    expect_render("{{(\"x\")}}", "{}", "x");
}

static void test_template__variables(void **state)
{
    (void)state;
    expect_render("{{$x := .a}}{{$x}}{{$x = .b}}{{$x}}", "{\"a\":1,\"b\":2}", "12");
    expect_render("{{$}}", "\"root\"", "root");
    expect_render("{{with .o}}{{$.a}}{{.k}}{{end}}", "{\"a\":1,\"o\":{\"k\":2}}", "12");
    expect_render("{{$x := .o}}{{$x.k}} {{($x).k}} {{(index $x \"k\")}}", "{\"o\":{\"k\":2}}",
                  "2 2 2");
    expect_render("{{$x := 1}}{{if true}}{{$x = 2}}{{end}}{{$x}}", "{}", "2");
    expect_render("{{$x := 1}}{{if true}}{{$x := 2}}{{$x}}{{end}}{{$x}}", "{}", "21");
    expect_parse_error("{{if true}}{{$y := 1}}{{end}}{{$y}}",
                       "template: 1:32: undefined variable \"$y\"");
    expect_parse_error("{{$x = 1}}", "template: 1:3: undefined variable \"$x\"");
    expect_parse_error("{{range $i, $v := .l}}{{else}}{{$v}}{{end}}",
                       "template: 1:33: undefined variable \"$v\"");
}

static void test_template__comparisons(void **state)
{
    (void)state;
    const char *data = "{\"s\":\"b\",\"i\":2,\"f\":2.0,\"h\":2.5,\"n\":null}";
    expect_render("{{eq .s \"a\" \"b\"}} {{eq .i 3}} {{eq .i .f}} {{ne .s \"b\"}}", data,
                  "true false true false");
    expect_render("{{lt .i .h}} {{le .i .f}} {{gt .s \"a\"}} {{ge .s \"c\"}}", data,
                  "true true true false");
    expect_render("{{eq .n nil}} {{eq .n .missing}} {{eq .s nil}}", data, "true true false");
    expect_render("{{and 1 \"x\"}} {{and 1 0 \"x\"}} {{or 0 \"\"}} {{or 0 \"y\"}}", data, "x 0  y");
    /* and/or stop at the deciding argument: index would fail */
    expect_render("{{and .n (index .s 9)}}|{{or .s (index .s 9)}}", data, "<no value>|b");
    expect_render("{{not 0}} {{not .s}}", data, "true false");
    expect_error("{{eq .s 1}}", data, GANTRY_E_INVALID_ARG,
                 "template: 1:3: executing at <eq .s 1>: error calling eq: incompatible types "
                 "for comparison");
    expect_error("{{lt .n 1}}", data, GANTRY_E_INVALID_ARG,
                 "template: 1:3: executing at <lt .n 1>: error calling lt: invalid type for "
                 "comparison");
    expect_error("{{eq .s}}", data, GANTRY_E_INVALID_ARG,
                 "template: 1:3: executing at <eq .s>: error calling eq: missing argument for "
                 "comparison");
}

static void test_template__docker_functions(void **state)
{
    (void)state;
    expect_render("{{title \"hello wORLD foo_bar x-y\"}}", "{}", "Hello WORLD Foo_bar X-Y");
    expect_render(
        "{{split \"a,b,,c\" \",\"}} {{len (split \"\" \",\")}} {{split \"h\xc3\xa9\" \"\"}}", "{}",
        "[a b  c] 1 [h \xc3\xa9]");
    expect_render(
        "{{truncate \"abcdef\" 3}}|{{truncate \"ab\" 3}}|{{truncate \"\xc3\xa9\xc3\xa9\" 3}}", "{}",
        "abc|ab|\xc3\xa9");
    expect_render("{{pad \"x\" 2 1}}|{{pad \"\" 2 1}}|", "{}", "  x ||");
    expect_render("{{join .l \" \"}}|{{join .n \",\"}}|{{join .mixed \"+\"}}",
                  "{\"l\":[\"a\",\"b\"],\"n\":null,\"mixed\":[1,\"x\",true]}", "a b||1+x+true");
    expect_render("{{upper \"\xc3\xa9t\xc3\xa9\"}}", "{}", "\xc3\xa9T\xc3\xa9");
}

static void test_template__printf(void **state)
{
    (void)state;
    const char *data = "{\"s\":\"hi\",\"i\":42,\"f\":3.14159,\"l\":[1,\"a\"],\"o\":{\"k\":1}}";
    expect_render("{{printf \"%v|%s|%d|%5d|%-5d|%05d|%x|%X|%o|%b|%c|%q|%U\" .s .s .i .i .i -42"
                  " 255 255 8 5 65 66 9731}}",
                  data, "hi|hi|42|   42|42   |-0042|ff|FF|10|101|A|'B'|U+2603");
    expect_render("{{printf \"%.2f|%8.3f|%e|%g|%v|%G\" .f .f .f .f .f 1e21}}", data,
                  "3.14|   3.142|3.141590e+00|3.14159|3.14159|1E+21");
    expect_render("{{printf \"%5s|%-5s|%.1s|%q|%x|% x|%t|%T|%T\" .s .s .s \"a\\\"b\" .s .s true"
                  " .i .l}}",
                  data, "   hi|hi   |h|\"a\\\"b\"|6869|68 69|true|int|[]interface {}");
    expect_render("{{printf \"%v %v %d\" .l .o .l}}", data, "[1 a] map[k:1] [1 %!d(string=a)]");
    expect_render("{{printf \"%d|%s|%z\" \"x\" 1 .s}}", data,
                  "%!d(string=x)|%!s(int=1)|%!z(string=hi)");
    expect_render("{{printf \"%s %s\" .s}}|{{printf \"%s\" .s 1}}|{{printf \"%\"}}", data,
                  "hi %!s(MISSING)|hi%!(EXTRA int=1)|%!(NOVERB)");
    expect_render("{{printf \"%[2]s %[1]s\" .s \"x\"}}|{{printf \"%*d|%-*d|\" 4 7 3 8}}", data,
                  "x hi|   7|8  |");
    expect_render("{{printf \"%[9]s|%[1]s %s|%*d\" \"a\" \"b\" \"w\" 1}}", data,
                  "%!s(BADINDEX)|a b|%!(BADWIDTH)1");
    expect_render("{{printf \"%d%%\" 50}} {{printf \"%s\" .missing}} {{printf \"%v\" .missing}}",
                  data, "50% %!s(<nil>) <nil>");
    expect_render("{{printf \"%#x|%#o|%+d|% d\" 255 8 5 5}}", data, "0xff|010|+5| 5");
}

static void test_template__index_slice_len(void **state)
{
    (void)state;
    const char *data = "{\"l\":[\"a\",\"b\",\"c\"],\"m\":{\"k\":{\"x\":[5]}},\"s\":\"hey\","
                       "\"n\":null,\"i\":1}";
    expect_render("{{index .l 1}} {{index .l .i}} {{index .m \"k\" \"x\" 0}} {{index .s 0}}", data,
                  "b b 5 104");
    expect_render("{{index .m \"nope\"}} {{index .n \"k\"}} {{index .l}}", data,
                  "<no value> <no value> [a b c]");
    expect_render("{{slice .l 1}} {{slice .l 1 2}} {{slice .s 1}} {{slice .l}}", data,
                  "[b c] [b] ey [a b c]");
    expect_render("{{len .l}} {{len .m}} {{len .s}} {{len .n}} {{len .missing}}", data,
                  "3 1 3 0 0");
    expect_error("{{index .s \"k\"}}", data, GANTRY_E_INVALID_ARG,
                 "template: 1:3: executing at <index .s \"k\">: error calling index: cannot index "
                 "slice/array with type string");
    expect_error("{{index .i 0}}", data, GANTRY_E_INVALID_ARG,
                 "template: 1:3: executing at <index .i 0>: error calling index: index of "
                 "non-map/array type number");
    expect_error("{{index .l 3}}", data, GANTRY_E_INVALID_ARG,
                 "template: 1:3: executing at <index .l 3>: error calling index: index out of "
                 "range: 3");
    expect_error("{{index .m 1}}", data, GANTRY_E_INVALID_ARG,
                 "template: 1:3: executing at <index .m 1>: error calling index: value has type "
                 "number; should be string");
    expect_error("{{slice .l 2 1}}", data, GANTRY_E_INVALID_ARG,
                 "template: 1:3: executing at <slice .l 2 1>: error calling slice: invalid slice "
                 "index: 2 > 1");
    expect_error("{{len .i}}", data, GANTRY_E_INVALID_ARG,
                 "template: 1:3: executing at <len .i>: error calling len: len of type number");
}

static void test_template__missing_fields(void **state)
{
    (void)state;
    const char *data = "{\"a\":{\"b\":null},\"s\":\"x\"}";
    expect_render("{{.x}}|{{.x.y.z}}|{{.a.b}}|{{.a.b.c}}|{{.a.c}}", data,
                  "<no value>|<no value>|<no value>|<no value>|<no value>");
    expect_render("{{if .x.y}}y{{else}}n{{end}}", data, "n");
    expect_error("{{.s.t}}", data, GANTRY_E_INVALID_ARG,
                 "template: 1:3: executing at <.s.t>: can't evaluate field t in type string");
}

static void test_template__parse_errors(void **state)
{
    (void)state;
    static const struct {
        const char *tmpl, *msg;
    } cases[] = {
        {"{{.Os}", "template: 1:6: bad character U+007D '}'"},
        {"{{.Os }", "template: 1:7: unexpected \"}\" in operand"},
        {"{{.Os}}/{{.Architecture }", "template: 1:25: unexpected \"}\" in operand"},
        {"{{foo .Os}}", "template: 1:3: function \"foo\" not defined"},
        {"{{if .Os}}x", "template: 1:12: unexpected EOF"},
        {"{{end}}", "template: 1:3: unexpected {{end}}"},
        {"{{else}}", "template: 1:3: unexpected {{else}}"},
        {"{{.Os", "template: 1:6: unclosed action"},
        {"{{\"abc}}", "template: 1:3: unterminated quoted string"},
        {"{{`abc}}", "template: 1:3: unterminated raw quoted string"},
        {"{{$x}}", "template: 1:3: undefined variable \"$x\""},
        {"{{}}", "template: 1:3: missing value for command"},
        {"{{if}}{{end}}", "template: 1:5: missing value for if"},
        {"{{range}}{{end}}", "template: 1:8: missing value for range"},
        {"{{.Os | }}", "template: 1:7: missing command after \"|\""},
        {"{{(.Os}}", "template: 1:7: unclosed left paren"},
        {"{{.Os)}}", "template: 1:6: unexpected right paren"},
        {"{{()}}", "template: 1:4: missing value for parenthesized pipeline"},
        {"{{.Os | 4}}", "template: 1:9: non executable command in pipeline stage 2"},
        {"{{@}}", "template: 1:3: unexpected \"@\" in command"},
        {"{{1x}}", "template: 1:3: bad number syntax: \"1x\""},
        {"{{-}}", "template: 1:3: illegal number syntax: \"-\""},
        {"{{99999999999999999999}}", "template: 1:3: 99999999999999999999 overflows int"},
        {"{{\"\\q\"}}", "template: 1:3: invalid syntax in quoted string \"\\q\""},
        {"{{'ab'}}", "template: 1:3: malformed character constant: 'ab'"},
        {"{{range .X}}{{else if .Y}}{{end}}", "template: 1:20: unexpected <if> in else"},
        {"{{break}}", "template: 1:3: {{break}} outside {{range}}"},
        {"{{continue}}", "template: 1:3: {{continue}} outside {{range}}"},
        {"{{template \"x\"}}", "template: 1:3: {{template}} is not supported"},
        {"{{\"a\"\"b\"}}", "template: 1:6: unexpected \"\\\"b\\\"\" in operand"},
        {"{{.Os.}}", "template: 1:6: unexpected <.> in operand"},
        {"{{true.X}}", "template: 1:7: unexpected . after term \"true\""},
        {"line1\nline2 {{.A | nope}}", "template: 2:14: function \"nope\" not defined"},
        {"{{if 1}}{{else}}{{else}}{{end}}", "template: 1:19: expected end; found {{else}}"},
        {"{{if $a, $b := .X}}{{end}}", "template: 1:8: too many declarations in if"},
        {"{{range $a, $b, $c := .X}}{{end}}",
         "template: 1:13: range can only initialize variables"},
        {"{{.X \"abcdefghijklmnop\" |}}", "template: 1:25: missing command after \"|\""},
        {"{{.X .Y :}}", "template: 1:9: expected :="},
        {"{{end 1}}", "template: 1:7: unexpected \"1\" in end"},
        {"{{\x01}}", "template: 1:3: unrecognized character in action: U+0001"},
        {"{{.X}}{{if .Y}}{{range .Z}}{{end}}", "template: 1:35: unexpected EOF"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
        expect_parse_error(cases[i].tmpl, cases[i].msg);
}

static void test_template__exec_errors(void **state)
{
    (void)state;
    static const struct {
        const char *tmpl, *msg;
    } cases[] = {
        {"{{join .RepoTags}}",
         "template: 1:3: executing at <join .RepoTags>: wrong number of args for join: want 2 "
         "got 1"},
        {"{{.RepoTags | join \",\" \"x\"}}",
         "template: 1:15: executing at <join \",\" \"x\">: wrong number of args for join: want 2 "
         "got 3"},
        {"{{printf}}",
         "template: 1:3: executing at <printf>: wrong number of args for printf: want at least 1 "
         "got 0"},
        {"{{index .Os 1 | upper}}",
         "template: 1:17: executing at <upper>: wrong type for value; expected string; got "
         "number"},
        {"{{upper .Size}}",
         "template: 1:3: executing at <upper .Size>: wrong type for value; expected string; got "
         "number"},
        {"{{upper .Nope}}",
         "template: 1:3: executing at <upper .Nope>: invalid value; expected string"},
        {"{{.Os \"x\"}}",
         "template: 1:3: executing at <.Os>: Os is not a method but has arguments"},
        {"{{$ \"x\"}}", "template: 1:3: executing at <$>: can't give argument to non-function $"},
        {"{{nil}}", "template: 1:3: executing at <nil>: nil is not a command"},
        {"{{index .Config.Labels}}\n  {{index .Config.Env \"x\"}}",
         "template: 2:5: executing at <index .Config.Env \"x...>: error calling index: cannot "
         "index slice/array with type string"},
        {"{{eq .RepoTags .RepoTags}}",
         "template: 1:3: executing at <eq .RepoTags .RepoTa...>: error calling eq: "
         "non-comparable type array"},
        {"{{.Os.Name}}",
         "template: 1:3: executing at <.Os.Name>: can't evaluate field Name in type string"},
        {"{{truncate .Os -1}}",
         "template: 1:3: executing at <truncate .Os -1>: error calling truncate: negative length "
         "-1"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
        expect_error(cases[i].tmpl, inspect, GANTRY_E_INVALID_ARG, cases[i].msg);
}

/* n nested {{if 1}} ... {{end}}, or n nested parentheses. */
static char *nested(size_t n, bool parens)
{
    _cleanup_buf_ struct gantry_buf b = GANTRY_BUF_INIT;
    if (parens && gantry_buf_addstr(&b, "{{") < 0)
        fail();
    for (size_t i = 0; i < n; i++)
        if (gantry_buf_addstr(&b, parens ? "(" : "{{if 1}}") < 0)
            fail();
    if (gantry_buf_addstr(&b, "1") < 0)
        fail();
    for (size_t i = 0; i < n; i++)
        if (gantry_buf_addstr(&b, parens ? ")" : "{{end}}") < 0)
            fail();
    if (parens && gantry_buf_addstr(&b, "}}") < 0)
        fail();
    return gantry_buf_detach(&b, NULL);
}

static void test_template__depth_limit(void **state)
{
    (void)state;
    _cleanup_free_ char *ok_ifs = nested(GANTRY_TEMPLATE_MAX_DEPTH, false);
    _cleanup_free_ char *ok_parens = nested(GANTRY_TEMPLATE_MAX_DEPTH, true);
    expect_render(ok_ifs, "{}", "1");
    expect_render(ok_parens, "{}", "1");
    _cleanup_free_ char *deep_ifs = nested(GANTRY_TEMPLATE_MAX_DEPTH + 1, false);
    _cleanup_free_ char *deep_parens = nested(100000, true);
    expect_parse_error(deep_ifs, "template: 1:803: exceeded maximum nesting depth of 100");
    expect_parse_error(deep_parens, "template: 1:103: exceeded maximum nesting depth of 100");
}

static void test_template__output_cap_and_reuse(void **state)
{
    (void)state;
    _cleanup_error_ struct gantry_error *err = NULL;
    const char *text = "{{range .}}{{.}}{{end}}";
    struct gantry_template *t = gantry_template_parse(text, strlen(text), &err);
    assert_non_null(t);
    json_t *a = json_pack("[s,s,s]", "abcd", "efgh", "ijkl");
    json_t *b = json_pack("[i,i]", 1, 2);
    struct gantry_buf out = GANTRY_BUF_INIT_CAP(10);
    assert_int_equal(gantry_template_execute(t, a, &out, &err), -1);
    assert_int_equal(err->code, GANTRY_E_TOO_LARGE);
    assert_string_equal(out.data, "abcdefgh"); /* what fitted stays */
    gantry_buf_release(&out);
    gantry_error_free(steal_pointer(&err));
    struct gantry_buf out2 = GANTRY_BUF_INIT;
    assert_int_equal(gantry_template_execute(t, b, &out2, &err), 0);
    assert_int_equal(gantry_template_execute(t, b, &out2, &err), 0);
    assert_string_equal(out2.data, "1212"); /* appends */
    assert_null(err);
    gantry_buf_release(&out2);
    json_decref(a);
    json_decref(b);
    gantry_template_free(t);
    gantry_template_free(NULL);
}

/* Values larger than the output cap fail early instead of eating memory. */
static void test_template__value_limits(void **state)
{
    (void)state;
    static const struct {
        const char *tmpl, *msg;
    } cases[] = {
        {"{{printf \"%999999v\" .}}",
         "template: 1:3: executing at <printf \"%999999v\" .>: result larger than 4096 bytes"},
        {"{{split (printf \"%999999d\" 1) \"\"}}",
         "template: 1:10: executing at <printf \"%999999d\" 1>: result larger than 4096 bytes"},
        {"{{pad .Os 5000 0}}",
         "template: 1:3: executing at <pad .Os 5000 0>: result larger than 4096 bytes"},
        {"{{range .RootFS.Layers}}{{$.Config | json | printf \"%4000s\"}}{{end}}",
         "template: output larger than 4096 bytes"},
    };
    json_error_t je;
    json_t *data = json_loads(inspect, 0, &je);
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        _cleanup_error_ struct gantry_error *err = NULL;
        struct gantry_template *t =
            gantry_template_parse(cases[i].tmpl, strlen(cases[i].tmpl), &err);
        assert_non_null(t);
        struct gantry_buf out = GANTRY_BUF_INIT_CAP(4096);
        assert_int_equal(gantry_template_execute(t, data, &out, &err), -1);
        if (strcmp(err->message, cases[i].msg) != 0)
            fail_msg("'%s': error '%s', want '%s'", cases[i].tmpl, err->message, cases[i].msg);
        assert_int_equal(err->code, GANTRY_E_TOO_LARGE);
        gantry_buf_release(&out);
        gantry_template_free(t);
    }
    json_decref(data);
    /* widths past 1000000 are refused (fmt's tooLarge) */
    expect_render("{{printf \"%2000000d|\" 1}}", "{}", "%!(NOVERB)%!(EXTRA int=1)");
}

/* Arbitrary bytes: either a template or a parse error, never a crash. */
static void test_template__arbitrary_input(void **state)
{
    (void)state;
    static const char alphabet[] =
        "{}{}{{}}().$|:=,\"'`\\ -/*abcifelsndrgwth0123x\n\t\x80\xc3\xa9\0";
    uint32_t seed = 12345;
    json_error_t je;
    json_t *data = json_loads(inspect, 0, &je);
    assert_non_null(data);
    for (int round = 0; round < 20000; round++) {
        char text[48];
        size_t n = (size_t)(round % 47) + 1;
        for (size_t i = 0; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            text[i] = alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
        }
        _cleanup_error_ struct gantry_error *err = NULL;
        struct gantry_template *t = gantry_template_parse(text, n, &err);
        if (!t) {
            assert_non_null(err);
            assert_true(str_has_prefix(err->message, "template: "));
            continue;
        }
        struct gantry_buf out = GANTRY_BUF_INIT_CAP(1 << 16);
        if (gantry_template_execute(t, data, &out, &err) < 0)
            assert_true(str_has_prefix(err->message, "template: "));
        else
            assert_null(err);
        gantry_buf_release(&out);
        gantry_template_free(t);
    }
    json_decref(data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_template__docker_examples),
        cmocka_unit_test(test_template__print_go_values),
        cmocka_unit_test(test_template__json_function),
        cmocka_unit_test(test_template__range),
        cmocka_unit_test(test_template__if_else_with),
        cmocka_unit_test(test_template__whitespace_trimming),
        cmocka_unit_test(test_template__comments),
        cmocka_unit_test(test_template__literals),
        cmocka_unit_test(test_template__variables),
        cmocka_unit_test(test_template__comparisons),
        cmocka_unit_test(test_template__docker_functions),
        cmocka_unit_test(test_template__printf),
        cmocka_unit_test(test_template__index_slice_len),
        cmocka_unit_test(test_template__missing_fields),
        cmocka_unit_test(test_template__parse_errors),
        cmocka_unit_test(test_template__exec_errors),
        cmocka_unit_test(test_template__depth_limit),
        cmocka_unit_test(test_template__output_cap_and_reuse),
        cmocka_unit_test(test_template__value_limits),
        cmocka_unit_test(test_template__arbitrary_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
