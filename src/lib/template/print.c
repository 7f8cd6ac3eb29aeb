/*
 * Printing JSON values the way Go prints what encoding/json decodes into
 * interface{}: fmt's %v and friends (strings raw, [a b c], map[k:v] with
 * sorted keys, <nil> inside composites, shortest floats such as 1.5e+09)
 * and encoding/json's compact output. One deliberate difference: JSON
 * integers stay integers (Go would have turned them into float64), so a
 * size prints 123456789 and not 1.23456789e+08.
 */
#include <math.h>

#include "template_int.h"

/* ---- UTF-8 ---- */

size_t tpl_utf8_decode(const char *s, size_t n, long *r)
{
    const unsigned char *u = (const unsigned char *)s;
    unsigned char c = u[0];
    size_t len;
    long v, min;
    if (c < 0x80) {
        *r = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2, v = c & 0x1F, min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3, v = c & 0x0F, min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4, v = c & 0x07, min = 0x10000;
    } else {
        *r = -1;
        return 1;
    }
    if (n < len) {
        *r = -1;
        return 1;
    }
    for (size_t i = 1; i < len; i++) {
        if ((u[i] & 0xC0) != 0x80) {
            *r = -1;
            return 1;
        }
        v = (v << 6) | (u[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) {
        *r = -1;
        return 1;
    }
    *r = v;
    return len;
}

void tpl_utf8_encode(struct gantry_buf *b, long r)
{
    unsigned char out[4];
    size_t n;
    if (r < 0 || r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF))
        r = 0xFFFD;
    if (r < 0x80) {
        out[0] = (unsigned char)r, n = 1;
    } else if (r < 0x800) {
        out[0] = (unsigned char)(0xC0 | (r >> 6)), n = 2;
    } else if (r < 0x10000) {
        out[0] = (unsigned char)(0xE0 | (r >> 12)), n = 3;
    } else {
        out[0] = (unsigned char)(0xF0 | (r >> 18)), n = 4;
    }
    for (size_t i = 1; i < n; i++)
        out[i] = (unsigned char)(0x80 | ((r >> (6 * (n - 1 - i))) & 0x3F));
    tpl_put(b, out, n);
}

size_t tpl_utf8_count(const char *s, size_t n)
{
    size_t count = 0;
    long r;
    for (size_t i = 0; i < n; count++)
        i += tpl_utf8_decode(s + i, n - i, &r);
    return count;
}

/* ---- names ---- */

const char *tpl_kind_name(const json_t *v)
{
    if (!v)
        return "missing";
    switch (json_typeof(v)) {
    case JSON_STRING:
        return "string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "bool";
    case JSON_ARRAY:
        return "array";
    case JSON_OBJECT:
        return "object";
    default:
        return "null";
    }
}

const char *tpl_go_type(const json_t *v)
{
    if (!v || json_is_null(v))
        return "<nil>";
    switch (json_typeof(v)) {
    case JSON_STRING:
        return "string";
    case JSON_INTEGER:
        return "int";
    case JSON_REAL:
        return "float64";
    case JSON_ARRAY:
        return "[]interface {}";
    case JSON_OBJECT:
        return "map[string]interface {}";
    default:
        return "bool";
    }
}

/* ---- quoting (strconv.Quote) ---- */

/* Runes Go's strconv.IsPrint rejects, in the ranges we care about. */
static bool non_printable(long r)
{
    return r < 0x20 || (r >= 0x7F && r < 0xA0) || r == 0xAD || r == 0x2028 || r == 0x2029 ||
           r == 0xFEFF || (r >= 0xE000 && r <= 0xF8FF) || (r >= 0xFFF9 && r <= 0xFFFB);
}

static void quote_rune(struct gantry_buf *b, long r, char quote, bool ascii)
{
    static const char esc_from[] = "\a\b\f\n\r\t\v";
    static const char esc_to[] = "abfnrtv";
    if (r == quote || r == '\\') {
        tpl_putc(b, '\\');
        tpl_putc(b, (char)r);
    } else if (r > 0 && r < 0x80 && strchr(esc_from, (char)r)) {
        tpl_putc(b, '\\');
        tpl_putc(b, esc_to[strchr(esc_from, (char)r) - esc_from]);
    } else if (r < 0x20 || r == 0x7F) {
        if (gantry_buf_addf(b, "\\x%02lx", r) < 0)
            oom();
    } else if (non_printable(r) || (ascii && r >= 0x80)) {
        if (gantry_buf_addf(b, r < 0x10000 ? "\\u%04lx" : "\\U%08lx", r) < 0)
            oom();
    } else {
        tpl_utf8_encode(b, r);
    }
}

void tpl_quote(struct gantry_buf *b, const char *s, size_t n, char quote, bool ascii)
{
    tpl_putc(b, quote);
    for (size_t i = 0; i < n;) {
        long r;
        size_t k = tpl_utf8_decode(s + i, n - i, &r);
        if (r < 0) {
            if (gantry_buf_addf(b, "\\x%02x", (unsigned char)s[i]) < 0)
                oom();
        } else {
            quote_rune(b, r, quote, ascii);
        }
        i += k;
    }
    tpl_putc(b, quote);
}

/* ---- floats (strconv.FormatFloat with precision -1) ---- */

struct decimal {
    char d[24]; /* digits, no trailing zeros */
    int nd;
    int dp; /* value = 0.d * 10^dp */
};

/* Shortest digits that read back as v (v > 0, finite). */
static void shortest(double v, struct decimal *dec)
{
    char tmp[48];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, v);
        if (strtod(tmp, NULL) == v)
            break;
    }
    const char *e = strchr(tmp, 'e');
    dec->nd = 0;
    for (const char *q = tmp; e && q < e; q++)
        if (*q >= '0' && *q <= '9' && dec->nd < (int)sizeof(dec->d))
            dec->d[dec->nd++] = *q;
    while (dec->nd > 1 && dec->d[dec->nd - 1] == '0')
        dec->nd--;
    dec->dp = (e ? atoi(e + 1) : 0) + 1;
}

static char digit_at(const struct decimal *dec, int i)
{
    return i >= 0 && i < dec->nd ? dec->d[i] : '0';
}

static void fmt_e(struct gantry_buf *b, const struct decimal *dec, int prec, char e)
{
    tpl_putc(b, dec->d[0]);
    if (prec > 0) {
        tpl_putc(b, '.');
        for (int i = 1; i <= prec; i++)
            tpl_putc(b, digit_at(dec, i));
    }
    int exp = dec->dp - 1;
    if (gantry_buf_addf(b, "%c%c%02d", e, exp < 0 ? '-' : '+', exp < 0 ? -exp : exp) < 0)
        oom();
}

static void fmt_f(struct gantry_buf *b, const struct decimal *dec, int prec)
{
    if (dec->dp > 0)
        for (int i = 0; i < dec->dp; i++)
            tpl_putc(b, digit_at(dec, i));
    else
        tpl_putc(b, '0');
    if (prec > 0) {
        tpl_putc(b, '.');
        for (int i = 0; i < prec; i++)
            tpl_putc(b, digit_at(dec, dec->dp + i));
    }
}

/* FormatFloat(v, fmt, -1, 64) for finite v; fmt is e, E, f, g or G. */
static void ftoa_shortest(struct gantry_buf *b, double v, char fmt)
{
    if (signbit(v)) {
        tpl_putc(b, '-');
        v = -v;
    }
    struct decimal dec = {.d = "0", .nd = 1, .dp = 1};
    if (v != 0)
        shortest(v, &dec);
    int exp = dec.dp - 1;
    bool use_e = fmt == 'e' || fmt == 'E' || ((fmt == 'g' || fmt == 'G') && (exp < -4 || exp >= 6));
    if (use_e)
        fmt_e(b, &dec, dec.nd - 1, (fmt == 'e' || fmt == 'g') ? 'e' : 'E');
    else
        fmt_f(b, &dec, dec.nd - dec.dp > 0 ? dec.nd - dec.dp : 0);
}

/* ---- padding and scalars (fmt's fmt type) ---- */

static void fill(struct gantry_buf *b, char c, size_t n)
{
    char chunk[256];
    memset(chunk, c, sizeof(chunk));
    while (n > 0 && !tpl_full(b)) {
        size_t k = n < sizeof(chunk) ? n : sizeof(chunk);
        tpl_put(b, chunk, k);
        n -= k;
    }
}

static void pad(struct gantry_buf *b, const char *s, size_t n, const struct tpl_spec *sp,
                bool zero_ok)
{
    size_t runes = sp->has_width ? tpl_utf8_count(s, n) : 0;
    if (!sp->has_width || (size_t)sp->width <= runes) {
        tpl_put(b, s, n);
        return;
    }
    size_t width = (size_t)sp->width - runes;
    char c = sp->zero && zero_ok && !sp->minus ? '0' : ' ';
    if (sp->minus)
        tpl_put(b, s, n);
    fill(b, c, width);
    if (!sp->minus)
        tpl_put(b, s, n);
}

static void pad_str(struct gantry_buf *b, const char *s, const struct tpl_spec *sp)
{
    pad(b, s, strlen(s), sp, true);
}

static void bad_verb(struct gantry_buf *b, const json_t *v, int verb, const struct tpl_spec *sp)
{
    tpl_puts(b, "%!");
    tpl_utf8_encode(b, verb);
    tpl_putc(b, '(');
    if (!v || json_is_null(v)) {
        tpl_puts(b, "<nil>");
    } else {
        tpl_puts(b, tpl_go_type(v));
        tpl_putc(b, '=');
        tpl_fmt_value(b, v, 'v', sp);
    }
    tpl_putc(b, ')');
}

static void fmt_hex_bytes(struct gantry_buf *b, const char *s, size_t n, int verb,
                          const struct tpl_spec *sp)
{
    const char *digits = verb == 'x' ? "0123456789abcdef" : "0123456789ABCDEF";
    if (sp->has_prec && (size_t)sp->prec < n)
        n = (size_t)sp->prec;
    _cleanup_buf_ struct gantry_buf h = GANTRY_BUF_INIT;
    for (size_t i = 0; i < n; i++) {
        if (sp->space && i > 0)
            tpl_putc(&h, ' ');
        if (sp->sharp && (sp->space || i == 0))
            tpl_puts(&h, verb == 'x' ? "0x" : "0X");
        tpl_putc(&h, digits[(unsigned char)s[i] >> 4]);
        tpl_putc(&h, digits[(unsigned char)s[i] & 15]);
    }
    pad(b, h.data, h.len, sp, true);
}

static void fmt_string(struct gantry_buf *b, const json_t *v, int verb, const struct tpl_spec *sp)
{
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (verb == 'v' || verb == 's') {
        if (sp->has_prec) {
            size_t i = 0;
            for (int k = 0; k < sp->prec && i < n; k++) {
                long r;
                i += tpl_utf8_decode(s + i, n - i, &r);
            }
            n = i;
        }
        pad(b, s, n, sp, true);
    } else if (verb == 'q') {
        _cleanup_buf_ struct gantry_buf q = GANTRY_BUF_INIT;
        tpl_quote(&q, s, n, '"', sp->plus);
        pad(b, q.data, q.len, sp, true);
    } else if (verb == 'x' || verb == 'X') {
        fmt_hex_bytes(b, s, n, verb, sp);
    } else {
        bad_verb(b, v, verb, sp);
    }
}

/* fmt.fmtInteger: precision, zero padding, #, +, space, then width. */
static void fmt_integer(struct gantry_buf *b, long long v, int base, int verb,
                        const struct tpl_spec *sp)
{
    bool neg = v < 0;
    unsigned long long u = neg ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    struct tpl_spec nozero = *sp;
    nozero.zero = false;
    long prec = 0;
    if (sp->has_prec) {
        prec = sp->prec;
        if (prec == 0 && u == 0) {
            pad(b, "", 0, &nozero, false);
            return;
        }
    } else if (sp->zero && !sp->minus && sp->has_width) {
        prec = sp->width - (neg || sp->plus || sp->space);
    }
    const char *digits = verb == 'X' ? "0123456789ABCDEF" : "0123456789abcdef";
    _cleanup_buf_ struct gantry_buf r = GANTRY_BUF_INIT; /* reversed */
    do {
        tpl_putc(&r, digits[u % (unsigned)base]);
        u /= (unsigned)base;
    } while (u);
    while ((long)r.len < prec)
        tpl_putc(&r, '0');
    if (sp->sharp && base == 2)
        tpl_puts(&r, "b0");
    if (sp->sharp && base == 8 && r.data[r.len - 1] != '0')
        tpl_putc(&r, '0');
    if (sp->sharp && base == 16)
        tpl_puts(&r, verb == 'X' ? "X0" : "x0");
    if (verb == 'O')
        tpl_puts(&r, "o0");
    if (neg || sp->plus || sp->space)
        tpl_putc(&r, neg ? '-' : sp->plus ? '+' : ' ');
    for (size_t i = 0; i < r.len / 2; i++) {
        char c = r.data[i];
        r.data[i] = r.data[r.len - 1 - i];
        r.data[r.len - 1 - i] = c;
    }
    pad(b, r.data, r.len, &nozero, false);
}

static void fmt_rune(struct gantry_buf *b, long long v, int verb, const struct tpl_spec *sp)
{
    long r = v < 0 || v > 0x10FFFF ? 0xFFFD : (long)v;
    _cleanup_buf_ struct gantry_buf s = GANTRY_BUF_INIT;
    struct tpl_spec nozero = *sp;
    nozero.zero = false;
    if (verb == 'c') {
        tpl_utf8_encode(&s, r);
    } else if (verb == 'q') {
        _cleanup_buf_ struct gantry_buf raw = GANTRY_BUF_INIT;
        tpl_utf8_encode(&raw, r);
        tpl_quote(&s, raw.data, raw.len, '\'', sp->plus);
    } else {
        if (gantry_buf_addf(&s, "U+%0*llX", sp->has_prec && sp->prec > 4 ? sp->prec : 4,
                            (unsigned long long)v) < 0)
            oom();
        if (sp->sharp && r == v && !non_printable(r)) {
            tpl_puts(&s, " '");
            tpl_utf8_encode(&s, r);
            tpl_putc(&s, '\'');
        }
    }
    pad(b, s.data, s.len, &nozero, false);
}

static void fmt_int(struct gantry_buf *b, const json_t *v, int verb, const struct tpl_spec *sp)
{
    long long i = json_integer_value(v);
    switch (verb) {
    case 'v':
    case 'd':
        fmt_integer(b, i, 10, verb, sp);
        break;
    case 'b':
        fmt_integer(b, i, 2, verb, sp);
        break;
    case 'o':
    case 'O':
        fmt_integer(b, i, 8, verb, sp);
        break;
    case 'x':
    case 'X':
        fmt_integer(b, i, 16, verb, sp);
        break;
    case 'c':
    case 'q':
    case 'U':
        fmt_rune(b, i, verb, sp);
        break;
    default:
        bad_verb(b, v, verb, sp);
    }
}

/* C's printf for an explicit precision (formats spelled out for -Wformat). */
static int c_float(char *out, size_t size, int verb, int prec, double d)
{
    switch (verb) {
    case 'e':
        return snprintf(out, size, "%.*e", prec, d);
    case 'E':
        return snprintf(out, size, "%.*E", prec, d);
    case 'g':
        return snprintf(out, size, "%.*g", prec, d);
    case 'G':
        return snprintf(out, size, "%.*G", prec, d);
    default:
        return snprintf(out, size, "%.*f", prec, d);
    }
}

/* Digits of |d| for a float verb, without sign. */
static void float_digits(struct gantry_buf *b, double d, int verb, const struct tpl_spec *sp)
{
    if (verb == 'v')
        verb = 'g';
    if ((verb == 'g' || verb == 'G') && !sp->has_prec) {
        ftoa_shortest(b, d, (char)verb);
        return;
    }
    int prec = sp->has_prec ? sp->prec : 6;
    int n = c_float(NULL, 0, verb, prec, d);
    if (n < 0)
        oom();
    char *s = xmalloc((size_t)n + 1);
    c_float(s, (size_t)n + 1, verb, prec, d);
    tpl_put(b, s, (size_t)n);
    free(s);
}

static bool is_float_verb(int verb)
{
    return verb == 'v' || verb == 'g' || verb == 'G' || verb == 'e' || verb == 'E' || verb == 'f' ||
           verb == 'F';
}

/* fmt.fmtFloat: sign, zero padding after the sign, Inf and NaN unpadded. */
static void fmt_float(struct gantry_buf *b, const json_t *v, int verb, const struct tpl_spec *sp)
{
    if (!is_float_verb(verb)) {
        bad_verb(b, v, verb, sp);
        return;
    }
    double d = json_real_value(v);
    _cleanup_buf_ struct gantry_buf num = GANTRY_BUF_INIT;
    tpl_putc(&num, signbit(d) && !isnan(d) ? '-' : sp->plus ? '+' : sp->space ? ' ' : '+');
    if (isnan(d))
        tpl_puts(&num, "NaN");
    else if (isinf(d))
        tpl_puts(&num, "Inf");
    else
        float_digits(&num, fabs(d), verb, sp);
    const char *s = num.data;
    size_t n = num.len;
    struct tpl_spec nozero = *sp;
    nozero.zero = false;
    if (!isfinite(d)) {
        if (isnan(d) && !sp->space && !sp->plus)
            s++, n--;
        pad(b, s, n, &nozero, false);
    } else if (sp->plus || s[0] != '+') {
        if (sp->zero && !sp->minus && sp->has_width && (size_t)sp->width > n) {
            tpl_putc(b, s[0]);
            fill(b, '0', (size_t)sp->width - n);
            tpl_put(b, s + 1, n - 1);
        } else {
            pad(b, s, n, &nozero, false);
        }
    } else {
        pad(b, s + 1, n - 1, sp, true);
    }
}

/* ---- composites ---- */

static int compare_keys(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The keys of an object in byte order (Go's fmt and range sort map keys). */
const char **tpl_sorted_keys(const json_t *obj, size_t *n)
{
    size_t count = json_object_size(obj), i = 0;
    const char **keys = xcalloc(count ? count : 1, sizeof(*keys));
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)obj, k, v) keys[i++] = k;
    qsort(keys, i, sizeof(*keys), compare_keys);
    *n = i;
    return keys;
}

static void fmt_elem(struct gantry_buf *b, const json_t *v, int verb, const struct tpl_spec *sp)
{
    if (json_is_null(v))
        tpl_puts(b, "<nil>");
    else
        tpl_fmt_value(b, v, verb, sp);
}

static void fmt_composite(struct gantry_buf *b, const json_t *v, int verb,
                          const struct tpl_spec *sp)
{
    if (json_is_array(v)) {
        tpl_putc(b, '[');
        for (size_t i = 0; i < json_array_size(v) && !tpl_full(b); i++) {
            if (i)
                tpl_putc(b, ' ');
            fmt_elem(b, json_array_get(v, i), verb, sp);
        }
        tpl_putc(b, ']');
        return;
    }
    size_t n;
    _cleanup_free_ const char **keys = tpl_sorted_keys(v, &n);
    tpl_puts(b, "map[");
    for (size_t i = 0; i < n && !tpl_full(b); i++) {
        if (i)
            tpl_putc(b, ' ');
        json_t *k = json_string_nocheck(keys[i]);
        if (!k)
            oom();
        tpl_fmt_value(b, k, verb, sp);
        json_decref(k);
        tpl_putc(b, ':');
        fmt_elem(b, json_object_get(v, keys[i]), verb, sp);
    }
    tpl_putc(b, ']');
}

void tpl_fmt_value(struct gantry_buf *b, const json_t *v, int verb, const struct tpl_spec *sp)
{
    if (verb == 'T') {
        pad_str(b, tpl_go_type(v), sp);
        return;
    }
    if (!v || json_is_null(v)) {
        if (verb == 'v')
            pad_str(b, "<nil>", sp);
        else
            bad_verb(b, NULL, verb, sp);
        return;
    }
    switch (json_typeof(v)) {
    case JSON_STRING:
        fmt_string(b, v, verb, sp);
        break;
    case JSON_INTEGER:
        fmt_int(b, v, verb, sp);
        break;
    case JSON_REAL:
        fmt_float(b, v, verb, sp);
        break;
    case JSON_TRUE:
    case JSON_FALSE:
        if (verb == 'v' || verb == 't')
            pad_str(b, json_is_true(v) ? "true" : "false", sp);
        else
            bad_verb(b, v, verb, sp);
        break;
    default:
        fmt_composite(b, v, verb, sp);
    }
}

void tpl_print_action(struct gantry_buf *b, const json_t *v)
{
    static const struct tpl_spec plain;
    if (!v || json_is_null(v))
        tpl_puts(b, "<no value>");
    else
        tpl_fmt_value(b, v, 'v', &plain);
}

void tpl_sprint(struct gantry_buf *b, json_t *const *args, size_t n, bool ln)
{
    static const struct tpl_spec plain;
    bool prev_string = false;
    for (size_t i = 0; i < n && !tpl_full(b); i++) {
        bool is_string = args[i] && json_is_string(args[i]);
        if (i > 0 && (ln || (!is_string && !prev_string)))
            tpl_putc(b, ' ');
        tpl_fmt_value(b, args[i], 'v', &plain);
        prev_string = is_string;
    }
    if (ln)
        tpl_putc(b, '\n');
}

/* ---- encoding/json ---- */

static void json_str(struct gantry_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    tpl_putc(b, '"');
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        const char *short_esc = c == '"'    ? "\\\""
                                : c == '\\' ? "\\\\"
                                : c == '\n' ? "\\n"
                                : c == '\r' ? "\\r"
                                : c == '\t' ? "\\t"
                                : c == '\b' ? "\\b"
                                : c == '\f' ? "\\f"
                                            : NULL;
        long r;
        size_t k = tpl_utf8_decode(s + i, n - i, &r);
        if (short_esc) {
            tpl_puts(b, short_esc);
        } else if (c < 0x20) {
            char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            tpl_put(b, u, sizeof(u));
        } else if (r < 0) {
            tpl_puts(b, "\\ufffd");
        } else if (r == 0x2028 || r == 0x2029) {
            tpl_puts(b, r == 0x2028 ? "\\u2028" : "\\u2029");
        } else {
            tpl_put(b, s + i, k);
        }
        i += k;
    }
    tpl_putc(b, '"');
}

static void json_float(struct gantry_buf *b, double d)
{
    if (!isfinite(d)) {
        tpl_puts(b, "null");
        return;
    }
    double a = fabs(d);
    bool e = a != 0 && (a < 1e-6 || a >= 1e21);
    size_t start = b->len;
    ftoa_shortest(b, d, e ? 'e' : 'f');
    size_t n = b->len - start;
    char *p = b->data + start;
    /* encoding/json writes 1e-7, not 1e-07 */
    if (e && n >= 4 && p[n - 4] == 'e' && p[n - 3] == '-' && p[n - 2] == '0') {
        p[n - 2] = p[n - 1];
        b->len--;
        b->data[b->len] = '\0';
    }
}

void tpl_json_encode(struct gantry_buf *b, const json_t *v)
{
    const char *k;
    json_t *m;
    size_t i = 0;
    switch (v ? json_typeof(v) : JSON_NULL) {
    case JSON_STRING:
        json_str(b, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        if (gantry_buf_addf(b, "%lld", (long long)json_integer_value(v)) < 0)
            oom();
        break;
    case JSON_REAL:
        json_float(b, json_real_value(v));
        break;
    case JSON_TRUE:
        tpl_puts(b, "true");
        break;
    case JSON_FALSE:
        tpl_puts(b, "false");
        break;
    case JSON_ARRAY:
        tpl_putc(b, '[');
        for (i = 0; i < json_array_size(v) && !tpl_full(b); i++) {
            if (i)
                tpl_putc(b, ',');
            tpl_json_encode(b, json_array_get(v, i));
        }
        tpl_putc(b, ']');
        break;
    case JSON_OBJECT:
        tpl_putc(b, '{');
        json_object_foreach((json_t *)v, k, m)
        {
            if (tpl_full(b))
                break;
            if (i++)
                tpl_putc(b, ',');
            json_str(b, k, strlen(k));
            tpl_putc(b, ':');
            tpl_json_encode(b, m);
        }
        tpl_putc(b, '}');
        break;
    default:
        tpl_puts(b, "null");
    }
}
