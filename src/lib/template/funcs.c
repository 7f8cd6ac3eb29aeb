/*
 * Template functions: Go's builtins (and, or, not, len, index, slice,
 * print, printf, println, eq, ne, lt, le, gt, ge) and Docker's
 * (json, join, split, title, lower, upper, pad, truncate), with Go's
 * error messages. Arguments arrive evaluated (and/or excepted, see exec.c).
 */
#include <math.h>

#include "template_int.h"

/* ---- argument helpers ---- */

static int want_string(struct tpl_exec *ex, const json_t *v, const char **s, size_t *n)
{
    if (json_is_string(v)) {
        *s = json_string_value(v);
        *n = json_string_length(v);
        return 0;
    }
    if (!v || json_is_null(v))
        return tpl_fail(ex, "invalid value; expected string");
    return tpl_fail(ex, "wrong type for value; expected string; got %s", tpl_kind_name(v));
}

/* An integer, or a float with an integral value (JSON does not tell them apart). */
static bool int_value(const json_t *v, long long *out)
{
    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return true;
    }
    if (!json_is_real(v))
        return false;
    double d = json_real_value(v);
    if (isnan(d) || d < -9.2e18 || d > 9.2e18 || (double)(long long)d != d)
        return false;
    *out = (long long)d;
    return true;
}

static int want_int(struct tpl_exec *ex, const json_t *v, long long *out)
{
    if (int_value(v, out))
        return 0;
    if (!v || json_is_null(v))
        return tpl_fail(ex, "invalid value; expected int");
    return tpl_fail(ex, "wrong type for value; expected int; got %s", tpl_kind_name(v));
}

static int ret_string(json_t **out, const char *s, size_t n)
{
    *out = json_stringn_nocheck(s, n);
    if (!*out)
        oom();
    return 0;
}

/* A function's result built in a tpl_scratch_init() buffer. */
static int ret_buf(struct tpl_exec *ex, json_t **out, const struct gantry_buf *b)
{
    if (b->len > ex->limit)
        return tpl_fail_size(ex, "result");
    return ret_string(out, b->data, b->len);
}

static bool is_nil(const json_t *v)
{
    return !v || json_is_null(v);
}

/* ---- Go builtins ---- */

static int fn_not(struct tpl_exec *ex, json_t *const *a, size_t n, json_t **out)
{
    (void)ex, (void)n;
    *out = json_boolean(!tpl_is_true(a[0]));
    return 0;
}

static int fn_len(struct tpl_exec *ex, json_t *const *a, size_t n, json_t **out)
{
    (void)n;
    const json_t *v = a[0];
    size_t len;
    if (is_nil(v)) /* Docker's nil slices and maps have length 0 */
        len = 0;
    else if (json_is_string(v))
        len = json_string_length(v);
    else if (json_is_array(v))
        len = json_array_size(v);
    else if (json_is_object(v))
        len = json_object_size(v);
    else
        return tpl_fail(ex, "error calling len: len of type %s", tpl_kind_name(v));
    *out = json_integer((json_int_t)len);
    return 0;
}

/* Go's indexArg: an integer in [0, len) (or [0, len] for slice bounds). */
static int index_arg(struct tpl_exec *ex, const char *fn, const json_t *k, size_t len, bool bound,
                     size_t *out)
{
    long long x;
    if (is_nil(k))
        return tpl_fail(ex, "error calling %s: cannot index slice/array with nil", fn);
    if (!int_value(k, &x))
        return tpl_fail(ex, "error calling %s: cannot index slice/array with type %s", fn,
                        tpl_kind_name(k));
    if (x < 0 || (unsigned long long)x > len || (!bound && (unsigned long long)x == len))
        return tpl_fail(ex, "error calling %s: index out of range: %lld", fn, x);
    *out = (size_t)x;
    return 0;
}

/* One step of index: item[k] as a new reference (NULL: missing key). */
static int index_step(struct tpl_exec *ex, const json_t *item, const json_t *k, json_t **out)
{
    size_t i;
    if (json_is_object(item) || is_nil(item)) {
        if (!json_is_string(k))
            return tpl_fail(ex, "error calling index: value has type %s; should be string",
                            tpl_kind_name(k));
        *out = json_incref(is_nil(item) ? NULL : json_object_get(item, json_string_value(k)));
        return 0;
    }
    if (json_is_array(item)) {
        if (index_arg(ex, "index", k, json_array_size(item), false, &i) < 0)
            return -1;
        *out = json_incref(json_array_get(item, i));
        return 0;
    }
    if (json_is_string(item)) {
        if (index_arg(ex, "index", k, json_string_length(item), false, &i) < 0)
            return -1;
        *out = json_integer((unsigned char)json_string_value(item)[i]);
        return 0;
    }
    return tpl_fail(ex, "error calling index: index of non-map/array type %s", tpl_kind_name(item));
}

static int fn_index(struct tpl_exec *ex, json_t *const *a, size_t n, json_t **out)
{
    _cleanup_tval_ json_t *item = json_incref(a[0]);
    for (size_t i = 1; i < n; i++) {
        json_t *next = NULL;
        if (index_step(ex, item, a[i], &next) < 0)
            return -1;
        json_decref(item);
        item = next;
    }
    *out = steal_pointer(&item);
    return 0;
}

static int fn_slice(struct tpl_exec *ex, json_t *const *a, size_t n, json_t **out)
{
    const json_t *item = a[0];
    bool str = json_is_string(item);
    if (is_nil(item))
        return tpl_fail(ex, "error calling slice: slice of untyped nil");
    if (!str && !json_is_array(item))
        return tpl_fail(ex, "error calling slice: can't slice item of type %s",
                        tpl_kind_name(item));
    if (str && n > 3)
        return tpl_fail(ex, "error calling slice: cannot 3-index slice a string");
    if (n > 4)
        return tpl_fail(ex, "error calling slice: too many slice indexes: %zu", n - 1);
    size_t len = str ? json_string_length(item) : json_array_size(item);
    size_t idx[3] = {0, len, len};
    for (size_t i = 1; i < n; i++)
        if (index_arg(ex, "slice", a[i], len, true, &idx[i - 1]) < 0)
            return -1;
    /* item[i:j] needs i <= j, item[i:j:k] also j <= k */
    for (size_t i = 0; i < (n == 4 ? 2u : 1u); i++)
        if (idx[i] > idx[i + 1])
            return tpl_fail(ex, "error calling slice: invalid slice index: %zu > %zu", idx[i],
                            idx[i + 1]);
    if (str)
        return ret_string(out, json_string_value(item) + idx[0], idx[1] - idx[0]);
    json_t *r = json_array();
    for (size_t i = idx[0]; r && i < idx[1]; i++)
        json_array_append(r, json_array_get(item, i));
    if (!r)
        oom();
    *out = r;
    return 0;
}

static int fn_print(struct tpl_exec *ex, json_t *const *a, size_t n, json_t **out)
{
    _cleanup_buf_ struct gantry_buf b = GANTRY_BUF_INIT;
    tpl_scratch_init(ex, &b);
    tpl_sprint(&b, a, n, false);
    return ret_buf(ex, out, &b);
}

static int fn_println(struct tpl_exec *ex, json_t *const *a, size_t n, json_t **out)
{
    _cleanup_buf_ struct gantry_buf b = GANTRY_BUF_INIT;
    tpl_scratch_init(ex, &b);
    tpl_sprint(&b, a, n, true);
    return ret_buf(ex, out, &b);
}

static int fn_printf(struct tpl_exec *ex, json_t *const *a, size_t n, json_t **out)
{
    const char *f;
    size_t flen;
    if (want_string(ex, a[0], &f, &flen) < 0)
        return -1;
    _cleanup_buf_ struct gantry_buf b = GANTRY_BUF_INIT;
    tpl_scratch_init(ex, &b);
    tpl_sprintf(&b, f, flen, a + 1, n - 1);
    return ret_buf(ex, out, &b);
}

/* ---- comparisons ---- */

enum basic { B_NIL, B_BOOL, B_NUM, B_STR, B_OTHER };

static enum basic basic_kind(const json_t *v)
{
    if (is_nil(v))
        return B_NIL;
    if (json_is_boolean(v))
        return B_BOOL;
    if (json_is_number(v))
        return B_NUM;
    return json_is_string(v) ? B_STR : B_OTHER;
}

static int num_cmp(const json_t *a, const json_t *b)
{
    if (json_is_integer(a) && json_is_integer(b)) {
        json_int_t x = json_integer_value(a), y = json_integer_value(b);
        return x < y ? -1 : x > y;
    }
    double x = json_number_value(a), y = json_number_value(b);
    return x < y ? -1 : x > y;
}

static int str_cmp(const json_t *a, const json_t *b)
{
    size_t na = json_string_length(a), nb = json_string_length(b);
    int c = memcmp(json_string_value(a), json_string_value(b), na < nb ? na : nb);
    return c ? (c < 0 ? -1 : 1) : na < nb ? -1 : na > nb;
}

static int equal(struct tpl_exec *ex, const char *fn, const json_t *a, const json_t *b, bool *eq)
{
    enum basic ka = basic_kind(a), kb = basic_kind(b);
    if (ka == B_NIL || kb == B_NIL) {
        *eq = ka == kb;
        return 0;
    }
    if (ka == B_OTHER || kb == B_OTHER)
        return tpl_fail(ex, "error calling %s: non-comparable type %s", fn,
                        tpl_kind_name(ka == B_OTHER ? a : b));
    if (ka != kb)
        return tpl_fail(ex, "error calling %s: incompatible types for comparison", fn);
    if (ka == B_BOOL)
        *eq = json_is_true(a) == json_is_true(b);
    else
        *eq = (ka == B_NUM ? num_cmp(a, b) : str_cmp(a, b)) == 0;
    return 0;
}

static int order(struct tpl_exec *ex, const char *fn, const json_t *a, const json_t *b, int *cmp)
{
    enum basic ka = basic_kind(a), kb = basic_kind(b);
    if ((ka != B_NUM && ka != B_STR) || (kb != B_NUM && kb != B_STR))
        return tpl_fail(ex, "error calling %s: invalid type for comparison", fn);
    if (ka != kb)
        return tpl_fail(ex, "error calling %s: incompatible types for comparison", fn);
    *cmp = ka == B_NUM ? num_cmp(a, b) : str_cmp(a, b);
    return 0;
}

static int fn_eq(struct tpl_exec *ex, json_t *const *a, size_t n, json_t **out)
{
    bool eq = false;
    if (n < 2)
        return tpl_fail(ex, "error calling eq: missing argument for comparison");
    for (size_t i = 1; i < n && !eq; i++)
        if (equal(ex, "eq", a[0], a[i], &eq) < 0)
            return -1;
    *out = json_boolean(eq);
    return 0;
}

static int fn_ne(struct tpl_exec *ex, json_t *const *a, size_t n, json_t **out)
{
    (void)n;
    bool eq;
    if (equal(ex, "ne", a[0], a[1], &eq) < 0)
        return -1;
    *out = json_boolean(!eq);
    return 0;
}

/* lt, le, gt, ge: which tells them apart by the name in the table. */
static int ordered(struct tpl_exec *ex, const char *fn, json_t *const *a, json_t **out)
{
    int c = 0;
    if (order(ex, fn, a[0], a[1], &c) < 0)
        return -1;
    bool r = fn[0] == 'l' ? (fn[1] == 't' ? c < 0 : c <= 0) : (fn[1] == 't' ? c > 0 : c >= 0);
    *out = json_boolean(r);
    return 0;
}

static int fn_lt(struct tpl_exec *ex, json_t *const *a, size_t n, json_t **out)
{
    (void)n;
    return ordered(ex, "lt", a, out);
}

static int fn_le(struct tpl_exec *ex, json_t *const *a, size_t n, json_t **out)
{
    (void)n;
    return ordered(ex, "le", a, out);
}

static int fn_gt(struct tpl_exec *ex, json_t *const *a, size_t n, json_t **out)
{
    (void)n;
    return ordered(ex, "gt", a, out);
}

static int fn_ge(struct tpl_exec *ex, json_t *const *a, size_t n, json_t **out)
{
    (void)n;
    return ordered(ex, "ge", a, out);
}

/* ---- Docker's functions (docker/cli templates.go) ---- */

static int fn_json(struct tpl_exec *ex, json_t *const *a, size_t n, json_t **out)
{
    (void)n;
    _cleanup_buf_ struct gantry_buf b = GANTRY_BUF_INIT;
    tpl_scratch_init(ex, &b);
    tpl_json_encode(&b, a[0]);
    return ret_buf(ex, out, &b);
}

static int fn_join(struct tpl_exec *ex, json_t *const *a, size_t n, json_t **out)
{
    (void)n;
    const char *sep;
    size_t sep_len;
    static const struct tpl_spec plain;
    if (!is_nil(a[0]) && !json_is_array(a[0]))
        return tpl_fail(ex, "wrong type for value; expected []string; got %s", tpl_kind_name(a[0]));
    if (want_string(ex, a[1], &sep, &sep_len) < 0)
        return -1;
    _cleanup_buf_ struct gantry_buf b = GANTRY_BUF_INIT;
    tpl_scratch_init(ex, &b);
    for (size_t i = 0; i < json_array_size(a[0]); i++) {
        if (i)
            tpl_put(&b, sep, sep_len);
        tpl_fmt_value(&b, json_array_get(a[0], i), 'v', &plain);
        if (tpl_full(&b))
            break;
    }
    return ret_buf(ex, out, &b);
}

static void append_string(json_t *arr, const char *s, size_t n)
{
    if (json_array_append_new(arr, json_stringn_nocheck(s, n)) < 0)
        oom();
}

static int fn_split(struct tpl_exec *ex, json_t *const *a, size_t n, json_t **out)
{
    (void)n;
    const char *s, *sep;
    size_t len, sep_len;
    if (want_string(ex, a[0], &s, &len) < 0 || want_string(ex, a[1], &sep, &sep_len) < 0)
        return -1;
    _cleanup_tval_ json_t *r = json_array();
    if (!r)
        oom();
    size_t i = 0;
    while (sep_len == 0 && i < len) { /* strings.Split(s, ""): one per character */
        long rune;
        size_t k = tpl_utf8_decode(s + i, len - i, &rune);
        append_string(r, s + i, k);
        i += k;
    }
    while (sep_len > 0) {
        const char *hit = memmem(s + i, len - i, sep, sep_len);
        size_t end = hit ? (size_t)(hit - s) : len;
        append_string(r, s + i, end - i);
        if (!hit)
            break;
        i = end + sep_len;
    }
    *out = steal_pointer(&r);
    return 0;
}

static bool title_separator(unsigned char c)
{
    if (c >= 0x80)
        return false; /* letters, as far as we can tell without Unicode tables */
    return !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
             c == '_');
}

/* title, lower, upper: ASCII letters only (docs/format.md). */
static int change_case(struct tpl_exec *ex, const json_t *v, char how, json_t **out)
{
    const char *s;
    size_t n;
    if (want_string(ex, v, &s, &n) < 0)
        return -1;
    _cleanup_free_ char *r = xmalloc(n + 1);
    bool prev_sep = true;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool up = how == 'u' || (how == 't' && prev_sep);
        if (up && c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        else if (how == 'l' && c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        prev_sep = title_separator((unsigned char)s[i]);
        r[i] = c;
    }
    return ret_string(out, r, n);
}

static int fn_title(struct tpl_exec *ex, json_t *const *a, size_t n, json_t **out)
{
    (void)n;
    return change_case(ex, a[0], 't', out);
}

static int fn_lower(struct tpl_exec *ex, json_t *const *a, size_t n, json_t **out)
{
    (void)n;
    return change_case(ex, a[0], 'l', out);
}

static int fn_upper(struct tpl_exec *ex, json_t *const *a, size_t n, json_t **out)
{
    (void)n;
    return change_case(ex, a[0], 'u', out);
}

static int fn_truncate(struct tpl_exec *ex, json_t *const *a, size_t n, json_t **out)
{
    (void)n;
    const char *s;
    size_t len;
    long long max;
    if (want_string(ex, a[0], &s, &len) < 0 || want_int(ex, a[1], &max) < 0)
        return -1;
    if (max < 0)
        return tpl_fail(ex, "error calling truncate: negative length %lld", max);
    if ((unsigned long long)max < len) {
        len = (size_t)max;
        while (len > 0 && ((unsigned char)s[len] & 0xC0) == 0x80)
            len--; /* never cut a character in two */
    }
    return ret_string(out, s, len);
}

static int fn_pad(struct tpl_exec *ex, json_t *const *a, size_t n, json_t **out)
{
    (void)n;
    const char *s;
    size_t len;
    long long before, after;
    if (want_string(ex, a[0], &s, &len) < 0 || want_int(ex, a[1], &before) < 0 ||
        want_int(ex, a[2], &after) < 0)
        return -1;
    if (before < 0 || after < 0)
        return tpl_fail(ex, "error calling pad: negative count");
    if (len == 0) /* Docker pads only what is there */
        return ret_string(out, s, 0);
    if ((unsigned long long)before > ex->limit || (unsigned long long)after > ex->limit ||
        len + (size_t)before + (size_t)after > ex->limit)
        return tpl_fail_size(ex, "result");
    size_t total = len + (size_t)before + (size_t)after;
    _cleanup_free_ char *r = xmalloc(total);
    memset(r, ' ', total);
    memcpy(r + before, s, len);
    return ret_string(out, r, total);
}

/* Sorted by name; min and max argument counts (-1: variadic). */
static const struct tpl_func funcs[] = {
    {"and", 1, -1, TPL_CALL_AND, NULL},           {"eq", 1, -1, TPL_CALL_EAGER, fn_eq},
    {"ge", 2, 2, TPL_CALL_EAGER, fn_ge},          {"gt", 2, 2, TPL_CALL_EAGER, fn_gt},
    {"index", 1, -1, TPL_CALL_EAGER, fn_index},   {"join", 2, 2, TPL_CALL_EAGER, fn_join},
    {"json", 1, 1, TPL_CALL_EAGER, fn_json},      {"le", 2, 2, TPL_CALL_EAGER, fn_le},
    {"len", 1, 1, TPL_CALL_EAGER, fn_len},        {"lower", 1, 1, TPL_CALL_EAGER, fn_lower},
    {"lt", 2, 2, TPL_CALL_EAGER, fn_lt},          {"ne", 2, 2, TPL_CALL_EAGER, fn_ne},
    {"not", 1, 1, TPL_CALL_EAGER, fn_not},        {"or", 1, -1, TPL_CALL_OR, NULL},
    {"pad", 3, 3, TPL_CALL_EAGER, fn_pad},        {"print", 0, -1, TPL_CALL_EAGER, fn_print},
    {"printf", 1, -1, TPL_CALL_EAGER, fn_printf}, {"println", 0, -1, TPL_CALL_EAGER, fn_println},
    {"slice", 1, -1, TPL_CALL_EAGER, fn_slice},   {"split", 2, 2, TPL_CALL_EAGER, fn_split},
    {"title", 1, 1, TPL_CALL_EAGER, fn_title},    {"truncate", 2, 2, TPL_CALL_EAGER, fn_truncate},
    {"upper", 1, 1, TPL_CALL_EAGER, fn_upper},
};

const struct tpl_func *tpl_func_lookup(const char *name, size_t len)
{
    for (size_t i = 0; i < ARRAY_SIZE(funcs); i++)
        if (strlen(funcs[i].name) == len && memcmp(funcs[i].name, name, len) == 0)
            return &funcs[i];
    return NULL;
}
