/*
 * Literal values of the template language, as Go's parser reads them:
 * numbers (decimal, 0x, 0o, 0b, leading-0 octal, underscores, floats,
 * hex floats), quoted strings with Go escapes, raw strings and character
 * constants. Pure functions over (const char *, size_t).
 */
#include <limits.h>
#include <math.h>

#include "template_int.h"

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int digit_in_base(char c, int base)
{
    int v = hexval(c);
    return v >= 0 && v < base ? v : -1;
}

/*
 * Go's underscoreOK: '_' only between two digits, or between a base prefix
 * ("0x", "0o", "0b") and a digit.
 */
static bool underscores_ok(const char *s, size_t n)
{
    size_t i = (n && (s[0] == '+' || s[0] == '-')) ? 1 : 0;
    bool hex = false, prev_digit = false;
    if (n - i >= 2 && s[i] == '0' && s[i + 1] && strchr("xXoObB", s[i + 1])) {
        hex = s[i + 1] == 'x' || s[i + 1] == 'X';
        prev_digit = true;
        i += 2;
    }
    for (; i < n; i++) {
        bool digit = hex ? hexval(s[i]) >= 0 : (s[i] >= '0' && s[i] <= '9');
        if (s[i] == '_') {
            bool next =
                i + 1 < n && (hex ? hexval(s[i + 1]) >= 0 : (s[i + 1] >= '0' && s[i + 1] <= '9'));
            if (!prev_digit || !next)
                return false;
        }
        prev_digit = digit;
    }
    return true;
}

static int parse_int(const char *s, size_t n, long long *out)
{
    size_t i = 0;
    bool neg = false;
    if (i < n && (s[i] == '+' || s[i] == '-'))
        neg = s[i++] == '-';
    int base = 10;
    if (n - i >= 2 && s[i] == '0') {
        char p = s[i + 1];
        base = (p == 'x' || p == 'X')   ? 16
               : (p == 'o' || p == 'O') ? 8
               : (p == 'b' || p == 'B') ? 2
                                        : 8;
        if (base != 8 || p == 'o' || p == 'O')
            i += 2;
        else
            i += 1;
    }
    if (i >= n || !underscores_ok(s, n))
        return -1;
    unsigned long long v = 0, limit = neg ? (unsigned long long)LLONG_MAX + 1 : LLONG_MAX;
    bool any = false;
    for (; i < n; i++) {
        if (s[i] == '_')
            continue;
        int d = digit_in_base(s[i], base);
        if (d < 0)
            return -1;
        if (v > (limit - (unsigned long long)d) / (unsigned long long)base)
            return -2;
        v = v * (unsigned long long)base + (unsigned long long)d;
        any = true;
    }
    if (!any)
        return -1;
    *out = neg ? (long long)(0 - v) : (long long)v;
    return 0;
}

static bool is_float_text(const char *s, size_t n)
{
    bool hex = n >= 2 && (memmem(s, n, "0x", 2) || memmem(s, n, "0X", 2));
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '.' || (!hex && (c == 'e' || c == 'E')) || (hex && (c == 'p' || c == 'P')))
            return true;
    }
    return false;
}

static int parse_float(const char *s, size_t n, double *out)
{
    if (!underscores_ok(s, n))
        return -1;
    char buf[128];
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '_')
            continue;
        if (k + 1 >= sizeof(buf))
            return -1;
        buf[k++] = s[i];
    }
    buf[k] = '\0';
    /* strtod accepts forms Go rejects (inf, nan, "0o1.5" is not even read): */
    for (size_t i = 0; i < k; i++)
        if (strchr("iInN", buf[i]) || buf[i] == 'o' || buf[i] == 'O')
            return -1;
    char *end = NULL;
    errno = 0;
    double v = strtod(buf, &end);
    if (end != buf + k || k == 0 || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

int tpl_parse_number(const char *s, size_t n, json_t **out)
{
    if (is_float_text(s, n)) {
        double d;
        if (parse_float(s, n, &d) < 0)
            return -1;
        *out = json_real(d);
        return 0;
    }
    long long v;
    int r = parse_int(s, n, &v);
    if (r < 0)
        return r;
    *out = json_integer(v);
    return 0;
}

static int unquote_hex(const char *s, size_t n, size_t *i, int digits, long *r)
{
    long v = 0;
    for (int k = 0; k < digits; k++) {
        if (*i >= n || hexval(s[*i]) < 0)
            return -1;
        v = v * 16 + hexval(s[(*i)++]);
    }
    *r = v;
    return 0;
}

/*
 * One escape sequence after the backslash at s[*i - 1]. Byte escapes (\x,
 * octal) are written raw; \u and \U are encoded as UTF-8.
 */
static int unquote_escape(const char *s, size_t n, size_t *i, char quote, struct gantry_buf *b)
{
    static const char from[] = "abfnrtv\\";
    static const char to[] = "\a\b\f\n\r\t\v\\";
    if (*i >= n)
        return -1;
    char c = s[(*i)++];
    const char *p = strchr(from, c);
    long r;
    if (c && p) {
        tpl_putc(b, to[p - from]);
    } else if (c == quote) {
        tpl_putc(b, c);
    } else if (c == 'x') {
        if (unquote_hex(s, n, i, 2, &r) < 0)
            return -1;
        tpl_putc(b, (char)r);
    } else if (c == 'u' || c == 'U') {
        if (unquote_hex(s, n, i, c == 'u' ? 4 : 8, &r) < 0 || r > 0x10FFFF ||
            (r >= 0xD800 && r < 0xE000))
            return -1;
        tpl_utf8_encode(b, r);
    } else if (c >= '0' && c <= '7') {
        r = c - '0';
        for (int k = 0; k < 2; k++) {
            if (*i >= n || s[*i] < '0' || s[*i] > '7')
                return -1;
            r = r * 8 + (s[(*i)++] - '0');
        }
        if (r > 255)
            return -1;
        tpl_putc(b, (char)r);
    } else {
        return -1;
    }
    return 0;
}

int tpl_unquote(const char *s, size_t n, struct gantry_buf *b)
{
    if (n < 2 || s[0] != s[n - 1])
        return -1;
    char q = s[0];
    for (size_t i = 1; i < n - 1;) {
        char c = s[i++];
        if (q == '`') {
            if (c != '\r')
                tpl_putc(b, c);
        } else if (c == '\\') {
            if (unquote_escape(s, n - 1, &i, q, b) < 0)
                return -1;
        } else if (c == q || c == '\n') {
            return -1;
        } else {
            tpl_putc(b, c);
        }
    }
    return 0;
}

int tpl_unquote_char(const char *s, size_t n, long *r)
{
    if (n < 3 || s[0] != '\'' || s[n - 1] != '\'')
        return -1;
    const char *body = s + 1;
    size_t len = n - 2;
    if (body[0] != '\\') {
        size_t k = tpl_utf8_decode(body, len, r);
        return k == len && *r >= 0 ? 0 : -1;
    }
    _cleanup_buf_ struct gantry_buf b = GANTRY_BUF_INIT;
    size_t i = 1;
    if (unquote_escape(body, len, &i, '\'', &b) < 0 || i != len)
        return -1;
    if (body[1] == 'u' || body[1] == 'U')
        return tpl_utf8_decode(b.data, b.len, r) == b.len && *r >= 0 ? 0 : -1;
    *r = (unsigned char)b.data[0];
    return 0;
}
