/*
 * Dockerfile-style word handling for `--change`: JSON string arrays, word
 * splitting, quote removal and lexical path cleaning. All pure.
 */
#include <stdint.h>

#include "image_internal.h"

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static const char *skip_blanks(const char *p, const char *end)
{
    while (p < end && is_blank(*p))
        p++;
    return p;
}

static int hex4(const char *p, const char *end, uint32_t *out)
{
    uint32_t v = 0;
    if (end - p < 4)
        return -1;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0)
            return -1;
        v = v * 16 + (uint32_t)d;
    }
    *out = v;
    return 0;
}

static void put_utf8(struct gantry_buf *b, uint32_t cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xc0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xe0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        u[2] = (char)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        u[0] = (char)(0xf0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        u[3] = (char)(0x80 | (cp & 0x3f));
        n = 4;
    }
    if (gantry_buf_add(b, u, n) < 0)
        oom();
}

/* \uXXXX, with a surrogate pair when needed; p is after the 'u'. */
static const char *json_unicode(const char *p, const char *end, struct gantry_buf *b)
{
    uint32_t cp, lo;
    if (hex4(p, end, &cp) < 0)
        return NULL;
    p += 4;
    if (cp >= 0xd800 && cp <= 0xdbff) {
        if (end - p < 6 || p[0] != '\\' || p[1] != 'u' || hex4(p + 2, end, &lo) < 0 ||
            lo < 0xdc00 || lo > 0xdfff)
            return NULL;
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        p += 6;
    } else if (cp >= 0xdc00 && cp <= 0xdfff) {
        return NULL;
    }
    if (cp == 0)
        return NULL; /* C strings cannot hold it */
    put_utf8(b, cp);
    return p;
}

static const char *json_escape(const char *p, const char *end, struct gantry_buf *b)
{
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    if (p >= end)
        return NULL;
    if (*p == 'u')
        return json_unicode(p + 1, end, b);
    const char *k = memchr(from, *p, sizeof(from) - 1);
    if (!k)
        return NULL;
    if (gantry_buf_add(b, &to[k - from], 1) < 0)
        oom();
    return p + 1;
}

/* One JSON string starting at the opening quote; returns the end or NULL. */
static const char *parse_json_string(const char *p, const char *end, char **out)
{
    _cleanup_buf_ struct gantry_buf b = GANTRY_BUF_INIT;
    for (p++; p < end && *p != '"';) {
        if ((unsigned char)*p < 0x20)
            return NULL;
        if (*p == '\\') {
            p = json_escape(p + 1, end, &b);
            if (!p)
                return NULL;
            continue;
        }
        if (gantry_buf_add(&b, p++, 1) < 0)
            oom();
    }
    if (p >= end)
        return NULL;
    *out = gantry_buf_detach(&b, NULL);
    return p + 1;
}

bool image_parse_json_strv(const char *s, size_t len, char ***out, size_t *n)
{
    const char *p = s, *end = s + len;
    _cleanup_strv_ char **v = xcalloc(1, sizeof(*v));
    size_t count = 0;
    p = skip_blanks(p, end);
    if (p >= end || *p++ != '[')
        return false;
    p = skip_blanks(p, end);
    bool more = p < end && *p != ']';
    while (more) {
        char *item = NULL;
        if (p >= end || *p != '"' || !(p = parse_json_string(p, end, &item)))
            return false;
        image_strv_push(&v, &count, item);
        p = skip_blanks(p, end);
        more = p < end && *p == ',';
        if (more)
            p = skip_blanks(p + 1, end);
    }
    if (p >= end || *p != ']' || skip_blanks(p + 1, end) != end)
        return false;
    *out = steal_pointer(&v);
    *n = count;
    return true;
}

/* Past the quoted part starting at p (p at the quote), or NULL. */
static const char *skip_quoted(const char *p, const char *end)
{
    char q = *p++;
    while (p < end && *p != q) {
        if (q == '"' && *p == '\\' && p + 1 < end)
            p++;
        p++;
    }
    return p < end ? p + 1 : NULL;
}

int image_split_words(const char *s, char ***out, size_t *n, struct gantry_error **err)
{
    const char *p = s, *end = s + strlen(s);
    _cleanup_strv_ char **v = xcalloc(1, sizeof(*v));
    size_t count = 0;
    while ((p = skip_blanks(p, end)) < end) {
        const char *start = p;
        while (p < end && !is_blank(*p)) {
            if (*p == '\'' || *p == '"') {
                p = skip_quoted(p, end);
                if (!p)
                    return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0, "unterminated quote");
            } else {
                p += (*p == '\\' && p + 1 < end) ? 2 : 1;
            }
        }
        image_strv_push(&v, &count, xstrndup(start, (size_t)(p - start)));
    }
    *out = steal_pointer(&v);
    *n = count;
    return 0;
}

/* Inside "...": a backslash escapes only " \ and $ (Dockerfile lexer). */
static const char *unquote_double(const char *p, const char *end, struct gantry_buf *b)
{
    for (p++; p < end && *p != '"'; p++) {
        if (*p == '\\' && p + 1 < end && strchr("\"\\$", p[1]))
            p++;
        if (gantry_buf_add(b, p, 1) < 0)
            oom();
    }
    return p < end ? p + 1 : NULL;
}

int image_unquote(const char *s, size_t len, char **out, struct gantry_error **err)
{
    _cleanup_buf_ struct gantry_buf b = GANTRY_BUF_INIT;
    const char *p = s, *end = s + len;
    while (p < end) {
        if (*p == '"' || *p == '\'') {
            const char *q = *p == '"' ? unquote_double(p, end, &b) : skip_quoted(p, end);
            if (!q)
                return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0, "unterminated quote");
            if (*p == '\'' && gantry_buf_add(&b, p + 1, (size_t)(q - p - 2)) < 0)
                oom();
            p = q;
            continue;
        }
        if (*p == '\\' && p + 1 < end)
            p++;
        if (gantry_buf_add(&b, p++, 1) < 0)
            oom();
    }
    *out = gantry_buf_detach(&b, NULL);
    return 0;
}

char *image_path_clean(const char *path)
{
    size_t len = strlen(path);
    char *out = xmalloc(len + 2);
    size_t o = 0;
    const char *p = path;
    while (*p) {
        while (*p == '/')
            p++;
        const char *seg = p;
        while (*p && *p != '/')
            p++;
        size_t n = (size_t)(p - seg);
        if (n == 0 || (n == 1 && seg[0] == '.'))
            continue;
        if (n == 2 && seg[0] == '.' && seg[1] == '.') {
            while (o > 0 && out[--o] != '/')
                ;
            continue;
        }
        out[o++] = '/';
        memcpy(out + o, seg, n);
        o += n;
    }
    if (o == 0)
        out[o++] = '/';
    out[o] = '\0';
    return out;
}
