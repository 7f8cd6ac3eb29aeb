/*
 * Docker archive manifest.json, read and written by hand: jansson lives only
 * in oci/ (style.md), and this document is small and flat:
 *
 *     [{"Config":"<path>","RepoTags":["name:tag",...],"Layers":["<path>",...]}]
 *
 * The reader is strict about structure and strings (RFC 8259 escapes,
 * surrogate pairs, no control characters, no NUL) and keeps the three
 * members it needs, skipping the others (Parent, LayerSources, ...).
 */
#include "transfer_internal.h"

#include "util.h"

/* Nesting allowed inside skipped members (a hostile archive stays cheap). */
#define JSON_DEPTH_MAX 64

struct json_in {
    const char *p;
    const char *end;
    struct gantry_error **err;
};

static int json_fail(struct json_in *in, const char *what)
{
    return gantry_error_set(in->err, GANTRY_E_PARSE, 0, "invalid manifest.json: %s", what);
}

static void json_ws(struct json_in *in)
{
    while (in->p < in->end && (*in->p == ' ' || *in->p == '\t' || *in->p == '\n' || *in->p == '\r'))
        in->p++;
}

/* Skip whitespace and take c; -1 when something else comes. */
static int json_expect(struct json_in *in, char c)
{
    json_ws(in);
    if (in->p >= in->end || *in->p != c)
        return -1;
    in->p++;
    return 0;
}

static bool json_peek(struct json_in *in, char c)
{
    json_ws(in);
    return in->p < in->end && *in->p == c;
}

static int hex4(const char *p, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

static void utf8_put(struct gantry_buf *b, unsigned cp)
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
    /* The buffer is unbounded: only allocation could fail, and that aborts. */
    if (gantry_buf_add(b, u, n) < 0)
        oom();
}

/* \uXXXX at in->p (after the backslash and 'u'), surrogate pairs joined. */
static int json_unicode(struct json_in *in, struct gantry_buf *b)
{
    unsigned cp, lo;
    if (in->end - in->p < 4 || hex4(in->p, &cp) < 0)
        return json_fail(in, "bad \\u escape");
    in->p += 4;
    if (cp >= 0xdc00 && cp <= 0xdfff)
        return json_fail(in, "lone surrogate in \\u escape");
    if (cp >= 0xd800 && cp <= 0xdbff) {
        if (in->end - in->p < 6 || in->p[0] != '\\' || in->p[1] != 'u' ||
            hex4(in->p + 2, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff)
            return json_fail(in, "lone surrogate in \\u escape");
        in->p += 6;
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
    }
    if (cp == 0)
        return json_fail(in, "NUL character in a string");
    utf8_put(b, cp);
    return 0;
}

static int json_escape(struct json_in *in, struct gantry_buf *b)
{
    static const char from[] = "\"\\/bfnrt";
    static const char to[] = "\"\\/\b\f\n\r\t";
    if (in->p >= in->end)
        return json_fail(in, "unterminated string");
    char c = *in->p++;
    if (c == 'u')
        return json_unicode(in, b);
    const char *k = strchr(from, c);
    if (!k || c == '\0')
        return json_fail(in, "bad escape in a string");
    utf8_put(b, (unsigned char)to[k - from]);
    return 0;
}

/* A string into *out (caller frees), or skipped when out is NULL. */
static int json_string(struct json_in *in, char **out)
{
    _cleanup_buf_ struct gantry_buf b = GANTRY_BUF_INIT;
    if (json_expect(in, '"') < 0)
        return json_fail(in, "expected a string");
    for (;;) {
        if (in->p >= in->end)
            return json_fail(in, "unterminated string");
        unsigned char c = (unsigned char)*in->p++;
        if (c == '"')
            break;
        if (c < 0x20)
            return json_fail(in, "control character in a string");
        if (c == '\\') {
            if (json_escape(in, &b) < 0)
                return -1;
        } else if (gantry_buf_add(&b, &c, 1) < 0) {
            oom();
        }
    }
    if (out)
        *out = gantry_buf_detach(&b, NULL);
    return 0;
}

static int json_skip_value(struct json_in *in, int depth);

static int json_skip_literal(struct json_in *in)
{
    static const char *const words[] = {"true", "false", "null"};
    for (size_t i = 0; i < ARRAY_SIZE(words); i++) {
        size_t n = strlen(words[i]);
        if ((size_t)(in->end - in->p) >= n && memcmp(in->p, words[i], n) == 0) {
            in->p += n;
            return 0;
        }
    }
    return json_fail(in, "unexpected character");
}

static int json_skip_number(struct json_in *in)
{
    const char *start = in->p;
    if (in->p < in->end && *in->p == '-')
        in->p++;
    while (in->p < in->end && strchr("0123456789.eE+-", *in->p) && *in->p)
        in->p++;
    if (in->p == start || (in->p - start == 1 && *start == '-'))
        return json_fail(in, "bad number");
    return 0;
}

/* Skip the members or items of an object or array whose opener was read. */
static int json_skip_container(struct json_in *in, char close, int depth)
{
    if (json_peek(in, close)) {
        in->p++;
        return 0;
    }
    for (;;) {
        if (close == '}' && (json_string(in, NULL) < 0 || json_expect(in, ':') < 0))
            return json_fail(in, "bad object member");
        if (json_skip_value(in, depth + 1) < 0)
            return -1;
        if (json_expect(in, ',') == 0)
            continue;
        if (json_expect(in, close) == 0)
            return 0;
        return json_fail(in, close == '}' ? "expected ',' or '}'" : "expected ',' or ']'");
    }
}

static int json_skip_value(struct json_in *in, int depth)
{
    if (depth > JSON_DEPTH_MAX)
        return json_fail(in, "nested too deeply");
    json_ws(in);
    if (in->p >= in->end)
        return json_fail(in, "unexpected end");
    char c = *in->p;
    if (c == '"')
        return json_string(in, NULL);
    if (c == '{' || c == '[') {
        in->p++;
        return json_skip_container(in, c == '{' ? '}' : ']', depth);
    }
    if (c == '-' || (c >= '0' && c <= '9'))
        return json_skip_number(in);
    return json_skip_literal(in);
}

/* ["a","b"] into a NULL-terminated array; null gives an empty array. */
static int json_string_array(struct json_in *in, char ***items, size_t *n)
{
    json_ws(in);
    if ((size_t)(in->end - in->p) >= 4 && memcmp(in->p, "null", 4) == 0) {
        in->p += 4;
        return 0;
    }
    if (json_expect(in, '[') < 0)
        return json_fail(in, "expected an array of strings");
    if (json_peek(in, ']')) {
        in->p++;
        return 0;
    }
    for (;;) {
        char *s = NULL;
        if (json_string(in, &s) < 0)
            return -1;
        *items = xrealloc(*items, (*n + 2) * sizeof(**items));
        (*items)[(*n)++] = s;
        (*items)[*n] = NULL;
        if (json_expect(in, ',') == 0)
            continue;
        if (json_expect(in, ']') == 0)
            return 0;
        return json_fail(in, "expected ',' or ']'");
    }
}

static int json_member(struct json_in *in, const char *key, struct transfer_docker_image *img)
{
    if (strcmp(key, "Config") == 0) {
        if (img->config)
            return json_fail(in, "duplicate key 'Config'");
        return json_string(in, &img->config);
    }
    if (strcmp(key, "RepoTags") == 0) {
        if (img->repo_tags)
            return json_fail(in, "duplicate key 'RepoTags'");
        return json_string_array(in, &img->repo_tags, &img->n_repo_tags);
    }
    if (strcmp(key, "Layers") == 0) {
        if (img->layers)
            return json_fail(in, "duplicate key 'Layers'");
        return json_string_array(in, &img->layers, &img->n_layers);
    }
    return json_skip_value(in, 1);
}

static int json_image(struct json_in *in, struct transfer_docker_image *img)
{
    if (json_expect(in, '{') < 0)
        return json_fail(in, "expected an object");
    if (json_peek(in, '}')) {
        in->p++;
    } else {
        for (;;) {
            _cleanup_free_ char *key = NULL;
            if (json_string(in, &key) < 0 || json_expect(in, ':') < 0)
                return json_fail(in, "bad object member");
            if (json_member(in, key, img) < 0)
                return -1;
            if (json_expect(in, ',') == 0)
                continue;
            if (json_expect(in, '}') == 0)
                break;
            return json_fail(in, "expected ',' or '}'");
        }
    }
    if (!img->config)
        return json_fail(in, "image without 'Config'");
    return 0;
}

static int json_images(struct json_in *in, struct transfer_docker_manifest *m)
{
    if (json_expect(in, '[') < 0)
        return json_fail(in, "expected an array");
    if (json_peek(in, ']')) {
        in->p++;
        return 0;
    }
    for (;;) {
        m->items = xrealloc(m->items, (m->n_items + 1) * sizeof(*m->items));
        struct transfer_docker_image *img = &m->items[m->n_items++];
        *img = (struct transfer_docker_image){0};
        if (json_image(in, img) < 0)
            return -1;
        if (json_expect(in, ',') == 0)
            continue;
        if (json_expect(in, ']') == 0)
            return 0;
        return json_fail(in, "expected ',' or ']'");
    }
}

int transfer_docker_manifest_parse(const char *data, size_t len,
                                   struct transfer_docker_manifest *out, struct gantry_error **err)
{
    struct json_in in = {data, data + len, err};
    *out = (struct transfer_docker_manifest){0};
    if (len > GANTRY_MANIFEST_MAX)
        return gantry_error_set(err, GANTRY_E_TOO_LARGE, 0,
                                "invalid manifest.json: more than %u bytes", GANTRY_MANIFEST_MAX);
    if (memchr(data, '\0', len))
        return json_fail(&in, "NUL byte");
    if (json_images(&in, out) < 0) {
        transfer_docker_manifest_release(out);
        return -1;
    }
    json_ws(&in);
    if (in.p != in.end) {
        transfer_docker_manifest_release(out);
        return json_fail(&in, "trailing data");
    }
    return 0;
}

static void strv_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void transfer_docker_manifest_release(struct transfer_docker_manifest *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n_items; i++) {
        struct transfer_docker_image *img = &m->items[i];
        free(img->config);
        strv_free(img->repo_tags, img->n_repo_tags);
        strv_free(img->layers, img->n_layers);
    }
    free(m->items);
    *m = (struct transfer_docker_manifest){0};
}

/* Append to an unbounded buffer: only allocation can fail, and that aborts. */
static void put(struct gantry_buf *b, const char *s)
{
    if (gantry_buf_addstr(b, s) < 0)
        oom();
}

void transfer_json_add_string(struct gantry_buf *b, const char *s)
{
    static const char hexd[] = "0123456789abcdef";
    put(b, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char one[7] = {(char)*p, '\0'};
        if (*p == '"' || *p == '\\') {
            one[0] = '\\';
            one[1] = (char)*p;
            one[2] = '\0';
        } else if (*p < 0x20) {
            memcpy(one, "\\u00", 4);
            one[4] = hexd[*p >> 4];
            one[5] = hexd[*p & 15];
            one[6] = '\0';
        }
        put(b, one);
    }
    put(b, "\"");
}

static void json_add_strv(struct gantry_buf *b, char *const *v, size_t n)
{
    put(b, "[");
    for (size_t i = 0; i < n; i++) {
        if (i)
            put(b, ",");
        transfer_json_add_string(b, v[i]);
    }
    put(b, "]");
}

void transfer_docker_manifest_to_json(const struct transfer_docker_manifest *m,
                                      struct gantry_buf *out)
{
    put(out, "[");
    for (size_t i = 0; i < m->n_items; i++) {
        const struct transfer_docker_image *img = &m->items[i];
        put(out, i ? ",{\"Config\":" : "{\"Config\":");
        transfer_json_add_string(out, img->config);
        put(out, ",\"RepoTags\":");
        json_add_strv(out, img->repo_tags, img->n_repo_tags);
        put(out, ",\"Layers\":");
        json_add_strv(out, img->layers, img->n_layers);
        put(out, "}");
    }
    put(out, "]\n");
}
