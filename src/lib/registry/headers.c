/*
 * Parsers and formatters for the other HTTP headers of the protocol: Link
 * (tag pagination, RFC 8288), Retry-After (RFC 9110), upload Range and
 * Content-Range (distribution-spec), and base64 for Basic credentials and
 * config.json "auth" values.
 */
#include <inttypes.h>
#include <strings.h>

#include "registry_internal.h"

struct lcur {
    const char *p;
    const char *end;
};

static void lskip(struct lcur *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t'))
        c->p++;
}

static bool rel_has_next(const char *v, size_t n)
{
    /* rel is a space-separated list of relation types, case-insensitive. */
    size_t i = 0;
    while (i < n) {
        while (i < n && v[i] == ' ')
            i++;
        size_t start = i;
        while (i < n && v[i] != ' ')
            i++;
        if (i - start == 4 && strncasecmp(v + start, "next", 4) == 0)
            return true;
    }
    return false;
}

/* One ";name=value" parameter; sets *next when it is rel with "next". */
static int link_param(struct lcur *c, bool *next)
{
    c->p++; /* ';' */
    lskip(c);
    const char *name = c->p;
    while (c->p < c->end && *c->p != '=' && *c->p != ';' && *c->p != ',' && *c->p != ' ')
        c->p++;
    size_t name_len = (size_t)(c->p - name);
    lskip(c);
    if (name_len == 0)
        return -1;
    if (c->p >= c->end || *c->p != '=')
        return 0; /* a parameter without value */
    c->p++;
    lskip(c);
    const char *v = c->p;
    size_t vlen;
    if (c->p < c->end && *c->p == '"') {
        v = ++c->p;
        while (c->p < c->end && *c->p != '"')
            c->p++;
        if (c->p >= c->end)
            return -1;
        vlen = (size_t)(c->p - v);
        c->p++;
    } else {
        while (c->p < c->end && *c->p != ';' && *c->p != ',' && *c->p != ' ')
            c->p++;
        vlen = (size_t)(c->p - v);
    }
    if (name_len == 3 && strncasecmp(name, "rel", 3) == 0 && rel_has_next(v, vlen))
        *next = true;
    return 0;
}

int reg_link_next(const char *s, size_t len, char **url, struct gantry_error **err)
{
    struct lcur c = {s, s + len};
    for (;;) {
        while (c.p < c.end && (*c.p == ' ' || *c.p == '\t' || *c.p == ','))
            c.p++;
        if (c.p >= c.end)
            return 0;
        if (*c.p != '<')
            return gantry_error_set(err, GANTRY_E_PARSE, 0, "invalid Link header: expected '<'");
        const char *target = ++c.p;
        const char *gt = memchr(c.p, '>', (size_t)(c.end - c.p));
        if (!gt)
            return gantry_error_set(err, GANTRY_E_PARSE, 0, "invalid Link header: missing '>'");
        c.p = gt + 1;
        bool next = false;
        for (lskip(&c); c.p < c.end && *c.p == ';'; lskip(&c))
            if (link_param(&c, &next) < 0)
                return gantry_error_set(err, GANTRY_E_PARSE, 0,
                                        "invalid Link header: malformed parameter");
        if (c.p < c.end && *c.p != ',')
            return gantry_error_set(err, GANTRY_E_PARSE, 0,
                                    "invalid Link header: expected ',' or ';'");
        if (next) {
            *url = xstrndup(target, (size_t)(gt - target));
            return 1;
        }
    }
}

int reg_retry_after_parse(const char *s, size_t len, time_t now, long *seconds)
{
    while (len && (*s == ' ' || *s == '\t'))
        s++, len--;
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    if (len == 0 || len > 64)
        return -1;
    char tmp[65];
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    if (strspn(tmp, "0123456789") == len) {
        if (len > 9) /* more than 30 years: clamp, the caller caps anyway */
            *seconds = 999999999;
        else
            *seconds = strtol(tmp, NULL, 10);
        return 0;
    }
    struct tm tm = {0};
    const char *rest = strptime(tmp, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (!rest || *rest)
        return -1;
    time_t when = timegm(&tm);
    if (when == (time_t)-1)
        return -1;
    *seconds = when > now ? (long)(when - now) : 0;
    return 0;
}

static int parse_u64(const char **p, const char *end, uint64_t *out)
{
    uint64_t v = 0;
    const char *start = *p;
    while (*p < end && **p >= '0' && **p <= '9') {
        unsigned d = (unsigned)(**p - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
        (*p)++;
    }
    if (*p == start)
        return -1;
    *out = v;
    return 0;
}

int reg_upload_range_parse(const char *s, size_t len, uint64_t *next)
{
    const char *p = s, *end = s + len;
    while (p < end && *p == ' ')
        p++;
    if ((size_t)(end - p) >= 6 && strncasecmp(p, "bytes=", 6) == 0)
        p += 6;
    uint64_t start, last;
    if (parse_u64(&p, end, &start) < 0 || p >= end || *p != '-')
        return -1;
    p++;
    if (parse_u64(&p, end, &last) < 0 || last < start)
        return -1;
    while (p < end && *p == ' ')
        p++;
    if (p != end || last == UINT64_MAX)
        return -1;
    /* distribution answers "0-0" for an empty session as for one byte;
     * gantry never uploads a one-byte chunk, so it means nothing yet. */
    *next = last == 0 ? 0 : last + 1;
    return 0;
}

int reg_content_range_start(const char *s, size_t len, uint64_t *start)
{
    const char *p = s, *end = s + len;
    while (p < end && *p == ' ')
        p++;
    if ((size_t)(end - p) < 6 || strncasecmp(p, "bytes ", 6) != 0)
        return -1;
    p += 6;
    uint64_t last;
    if (parse_u64(&p, end, start) < 0 || p >= end || *p != '-')
        return -1;
    p++;
    if (parse_u64(&p, end, &last) < 0 || last < *start || p >= end || *p != '/')
        return -1;
    return 0;
}

char *reg_chunk_range_header(uint64_t start, uint64_t len)
{
    return xasprintf("Content-Range: %" PRIu64 "-%" PRIu64, start, start + len - 1);
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *reg_base64_encode(const void *data, size_t len)
{
    const unsigned char *in = data;
    char *out = xmalloc((len + 2) / 3 * 4 + 1);
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < len)
            v |= in[i + 2];
        out[o++] = b64[(v >> 18) & 63];
        out[o++] = b64[(v >> 12) & 63];
        out[o++] = i + 1 < len ? b64[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < len ? b64[v & 63] : '=';
    }
    out[o] = '\0';
    return out;
}

static int b64_value(char ch)
{
    const char *p = ch ? strchr(b64, ch) : NULL;
    return p ? (int)(p - b64) : -1;
}

char *reg_base64_decode(const char *s, size_t len, size_t *out_len)
{
    if (len % 4 != 0)
        return NULL;
    _cleanup_free_ char *out = xmalloc(len / 4 * 3 + 1);
    size_t o = 0;
    for (size_t i = 0; i < len; i += 4) {
        int v[4];
        size_t pad = 0;
        for (int k = 0; k < 4; k++) {
            if (s[i + k] == '=' && i + 4 == len && k >= 2) {
                v[k] = 0;
                pad++;
                continue;
            }
            if (pad || (v[k] = b64_value(s[i + k])) < 0)
                return NULL;
        }
        uint32_t w =
            (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
        out[o++] = (char)(w >> 16);
        if (pad < 2)
            out[o++] = (char)(w >> 8);
        if (pad < 1)
            out[o++] = (char)w;
    }
    out[o] = '\0';
    *out_len = o;
    return steal_pointer(&out);
}
