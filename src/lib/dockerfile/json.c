/*
 * The JSON (exec) form: BuildKit hands the argument text to Go's
 * json.Unmarshal into []any. A text that is not valid JSON falls back to
 * the shell form; valid JSON with anything but strings in the array is an
 * error. So the whole document is validated first, with Go's grammar and
 * its nesting limit, then the top-level strings are decoded (escapes,
 * surrogate pairs, invalid UTF-8 as U+FFFD, as Go does).
 */
#include "dockerfile_internal.h"

/* encoding/json's maxNestingDepth. */
#define JSON_MAX_DEPTH 10000

static size_t ws(const char *s, size_t n, size_t i)
{
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
        i++;
    return i;
}

static bool is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* End of the string starting at s[i] == '"', or 0 when invalid. */
static size_t string_end(const char *s, size_t n, size_t i)
{
    for (i++; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"')
            return i + 1;
        if (c < 0x20)
            return 0;
        if (c != '\\')
            continue;
        if (++i >= n)
            return 0;
        if (s[i] == 'u') {
            if (i + 4 >= n || !is_hex(s[i + 1]) || !is_hex(s[i + 2]) || !is_hex(s[i + 3]) ||
                !is_hex(s[i + 4]))
                return 0;
            i += 4;
        } else if (!strchr("\"\\/bfnrt", s[i]) || s[i] == '\0') {
            return 0;
        }
    }
    return 0;
}

static size_t digits(const char *s, size_t n, size_t i)
{
    while (i < n && s[i] >= '0' && s[i] <= '9')
        i++;
    return i;
}

/* End of the number at s[i], or 0 when invalid. */
static size_t number_end(const char *s, size_t n, size_t i)
{
    if (i < n && s[i] == '-')
        i++;
    if (i >= n || s[i] < '0' || s[i] > '9')
        return 0;
    i = s[i] == '0' ? i + 1 : digits(s, n, i);
    if (i < n && s[i] == '.') {
        size_t j = digits(s, n, i + 1);
        if (j == i + 1)
            return 0;
        i = j;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t j = digits(s, n, i);
        if (j == i)
            return 0;
        i = j;
    }
    return i;
}

/* End of a string, number or literal at s[i], or 0 when invalid. */
static size_t scalar_end(const char *s, size_t n, size_t i)
{
    static const char *const lits[] = {"true", "false", "null"};
    if (s[i] == '"')
        return string_end(s, n, i);
    for (size_t k = 0; k < ARRAY_SIZE(lits); k++) {
        size_t l = strlen(lits[k]);
        if (n - i >= l && memcmp(s + i, lits[k], l) == 0)
            return i + l;
    }
    return number_end(s, n, i);
}

enum jstate { J_VALUE, J_VALUE_OR_CLOSE, J_KEY, J_KEY_OR_CLOSE, J_AFTER };

/* One step of the validator at s[i] (not white space). Returns the next
 * offset, or 0 when the document is invalid. */
static size_t json_step(const char *s, size_t n, size_t i, enum jstate *st, char *stack,
                        size_t *depth)
{
    char c = s[i];
    switch (*st) {
    case J_VALUE_OR_CLOSE:
    case J_VALUE:
        if (*st == J_VALUE_OR_CLOSE && c == ']') {
            (*depth)--;
            *st = J_AFTER;
            return i + 1;
        }
        if (c == '[' || c == '{') {
            if (*depth >= JSON_MAX_DEPTH)
                return 0;
            stack[(*depth)++] = c;
            *st = c == '[' ? J_VALUE_OR_CLOSE : J_KEY_OR_CLOSE;
            return i + 1;
        }
        *st = J_AFTER;
        return scalar_end(s, n, i);
    case J_KEY_OR_CLOSE:
    case J_KEY:
        if (*st == J_KEY_OR_CLOSE && c == '}') {
            (*depth)--;
            *st = J_AFTER;
            return i + 1;
        }
        if (c != '"' || !(i = string_end(s, n, i)))
            return 0;
        i = ws(s, n, i);
        if (i >= n || s[i] != ':')
            return 0;
        *st = J_VALUE;
        return i + 1;
    case J_AFTER:
        if (c == ',') {
            *st = stack[*depth - 1] == '[' ? J_VALUE : J_KEY;
            return i + 1;
        }
        if ((c == ']' && stack[*depth - 1] == '[') || (c == '}' && stack[*depth - 1] == '{')) {
            (*depth)--;
            return i + 1;
        }
        return 0;
    }
    return 0;
}

static bool json_valid(const char *s, size_t n)
{
    _cleanup_free_ char *stack = xmalloc(JSON_MAX_DEPTH);
    size_t depth = 0, i = 0;
    enum jstate st = J_VALUE;
    for (;;) {
        i = ws(s, n, i);
        if (st == J_AFTER && depth == 0)
            return i == n;
        if (i >= n)
            return false;
        i = json_step(s, n, i, &st, stack, &depth);
        if (i == 0)
            return false;
    }
}

static unsigned hex4(const char *s)
{
    unsigned v = 0;
    for (int k = 0; k < 4; k++) {
        char c = s[k];
        v = v * 16 + (unsigned)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
    }
    return v;
}

static void put_rune(struct gantry_buf *b, unsigned r)
{
    char u[4];
    size_t n;
    if (r < 0x80) {
        u[0] = (char)r, n = 1;
    } else if (r < 0x800) {
        u[0] = (char)(0xC0 | (r >> 6)), u[1] = (char)(0x80 | (r & 0x3F)), n = 2;
    } else if (r < 0x10000) {
        u[0] = (char)(0xE0 | (r >> 12)), u[1] = (char)(0x80 | ((r >> 6) & 0x3F));
        u[2] = (char)(0x80 | (r & 0x3F)), n = 3;
    } else {
        u[0] = (char)(0xF0 | (r >> 18)), u[1] = (char)(0x80 | ((r >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((r >> 6) & 0x3F)), u[3] = (char)(0x80 | (r & 0x3F)), n = 4;
    }
    df_put(b, u, n);
}

/* A \uXXXX escape at s[i] (after the backslash); returns the offset after
 * it (and after a low surrogate that completes a pair). */
static size_t decode_u(const char *s, size_t end, size_t i, unsigned *r)
{
    unsigned v = hex4(s + i + 1);
    i += 5;
    if (v >= 0xD800 && v < 0xDC00 && i + 6 <= end && s[i] == '\\' && s[i + 1] == 'u') {
        unsigned lo = hex4(s + i + 2);
        if (lo >= 0xDC00 && lo < 0xE000) {
            *r = 0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00);
            return i + 6;
        }
    }
    *r = (v >= 0xD800 && v < 0xE000) ? 0xFFFD : v;
    return i;
}

static char unescape(char c)
{
    switch (c) {
    case 'b':
        return '\b';
    case 'f':
        return '\f';
    case 'n':
        return '\n';
    case 'r':
        return '\r';
    case 't':
        return '\t';
    default:
        return c;
    }
}

/* Decode the valid string s[i..end) (quotes included). NULL for a NUL. */
static char *decode_string(const char *s, size_t i, size_t end)
{
    _cleanup_buf_ struct gantry_buf b = GANTRY_BUF_INIT;
    for (i++; i < end - 1;) {
        if (s[i] == '\\' && s[i + 1] == 'u') {
            unsigned r;
            i = decode_u(s, end - 1, i + 1, &r);
            if (r == 0)
                return NULL;
            put_rune(&b, r);
        } else if (s[i] == '\\') {
            df_putc(&b, unescape(s[i + 1]));
            i += 2;
        } else {
            int r;
            size_t w = df_utf8_decode(s + i, end - 1 - i, &r);
            if (r == DF_RUNE_ERROR && w == 1)
                put_rune(&b, 0xFFFD);
            else
                df_put(&b, s + i, w);
            i += w;
        }
    }
    return gantry_buf_detach(&b, NULL);
}

enum df_json_result df_json_strings(const char *s, size_t n, char ***out, size_t *n_out)
{
    size_t i = df_space_prefix(s, n);
    s += i, n -= i;
    if (n == 0 || s[0] != '[' || !json_valid(s, n))
        return DF_JSON_NOT_ARRAY;
    char **v = NULL;
    size_t nv = 0;
    for (i = ws(s, n, 1); s[i] != ']'; i = ws(s, n, i)) {
        if (s[i] == ',')
            i = ws(s, n, i + 1);
        if (s[i] != '"') {
            gantry_dockerfile_strv_free(v, nv);
            return DF_JSON_NOT_STRINGS;
        }
        size_t end = string_end(s, n, i);
        char *str = decode_string(s, i, end);
        if (!str) {
            gantry_dockerfile_strv_free(v, nv);
            return DF_JSON_NUL;
        }
        df_strv_push(&v, &nv, str);
        i = end;
    }
    *out = v;
    *n_out = nv;
    return DF_JSON_STRINGS;
}
