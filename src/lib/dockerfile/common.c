/* Small helpers shared by the dockerfile module: UTF-8, Go's white space,
 * buffers, string arrays and the "<name>:<line>: " error. */
#include "dockerfile_internal.h"

size_t df_utf8_decode(const char *s, size_t n, int *r)
{
    const unsigned char *u = (const unsigned char *)s;
    unsigned c = u[0];
    if (c < 0x80) {
        *r = (int)c;
        return 1;
    }
    size_t need;
    unsigned min, v;
    if (c >= 0xC2 && c <= 0xDF) {
        need = 1, min = 0x80, v = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 2, min = 0x800, v = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3, min = 0x10000, v = c & 0x07;
    } else {
        *r = DF_RUNE_ERROR;
        return 1;
    }
    if (n < need + 1) {
        *r = DF_RUNE_ERROR;
        return 1;
    }
    for (size_t i = 1; i <= need; i++) {
        if ((u[i] & 0xC0) != 0x80) {
            *r = DF_RUNE_ERROR;
            return 1;
        }
        v = (v << 6) | (u[i] & 0x3F);
    }
    /* Overlong forms, surrogates and values past U+10FFFF are invalid. */
    if (v < min || (v >= 0xD800 && v <= 0xDFFF) || v > 0x10FFFF) {
        *r = DF_RUNE_ERROR;
        return 1;
    }
    *r = (int)v;
    return need + 1;
}

bool df_is_space_rune(int r)
{
    switch (r) {
    case '\t':
    case '\n':
    case '\v':
    case '\f':
    case '\r':
    case ' ':
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
        return true;
    default:
        return r >= 0x2000 && r <= 0x200A;
    }
}

size_t df_space_prefix(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        int r;
        size_t w = df_utf8_decode(s + i, n - i, &r);
        if (!df_is_space_rune(r))
            break;
        i += w;
    }
    return i;
}

/* Start of the rune that ends at s[end) (a UTF-8 sequence or one byte). */
static size_t rune_start_before(const char *s, size_t end)
{
    size_t b = end - 1;
    for (size_t back = 1; back <= 3 && b > 0 && ((unsigned char)s[b] & 0xC0) == 0x80; back++)
        b--;
    int r;
    if (df_utf8_decode(s + b, end - b, &r) == end - b)
        return b;
    return end - 1;
}

size_t df_space_suffix(const char *s, size_t n)
{
    size_t end = n;
    while (end > 0) {
        size_t b = rune_start_before(s, end);
        int r;
        df_utf8_decode(s + b, end - b, &r);
        if (!df_is_space_rune(r))
            break;
        end = b;
    }
    return n - end;
}

char *df_quote(const char *s, size_t n)
{
    size_t keep = n > DF_QUOTE_MAX ? DF_QUOTE_MAX : n;
    char *q = xmalloc(keep + 4);
    for (size_t i = 0; i < keep; i++) {
        unsigned char c = (unsigned char)s[i];
        q[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    memcpy(q + keep, n > keep ? "..." : "", n > keep ? 4 : 1);
    return q;
}

void df_put(struct gantry_buf *b, const void *s, size_t n)
{
    /* Only a capped buffer can refuse; ours are not capped. */
    if (gantry_buf_add(b, s, n) < 0)
        oom();
}

void df_putc(struct gantry_buf *b, char c)
{
    df_put(b, &c, 1);
}

void df_puts(struct gantry_buf *b, const char *s)
{
    df_put(b, s, strlen(s));
}

void df_strv_push(char ***v, size_t *n, char *s)
{
    *v = xrealloc(*v, (*n + 1) * sizeof(char *));
    (*v)[(*n)++] = s;
}

void gantry_dockerfile_strv_free(char **v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

int df_error(struct gantry_error **err, const char *name, size_t line, const char *fmt, ...)
{
    va_list ap;
    char *msg = NULL;
    va_start(ap, fmt);
    msg = xvasprintf(fmt, ap);
    va_end(ap);
    if (!name)
        gantry_error_set(err, GANTRY_E_PARSE, 0, "%s", msg);
    else if (line)
        gantry_error_set(err, GANTRY_E_PARSE, 0, "%s:%zu: %s", name, line, msg);
    else
        gantry_error_set(err, GANTRY_E_PARSE, 0, "%s: %s", name, msg);
    free(msg);
    return -1;
}
