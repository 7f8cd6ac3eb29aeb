/*
 * WWW-Authenticate parsing (RFC 7235 section 4.1). A header may carry
 * several challenges, each a scheme followed by a token68 or by
 * comma-separated auth-params; the commas between challenges and between
 * parameters are the same, so a token followed by '=' is a parameter and
 * any other token starts a new challenge. Everything is bounded: the
 * header length, the number of parameters, and one pass over the input.
 */
#include <strings.h>

#include "registry_internal.h"

#define CHALLENGES_MAX 8

struct param {
    const char *name;
    size_t name_len;
    char *value; /* unquoted */
};

struct raw_challenge {
    const char *scheme;
    size_t scheme_len;
    struct param params[REG_CHALLENGE_PARAMS_MAX];
    size_t n_params;
};

struct cursor {
    const char *p;
    const char *end;
    struct gantry_error **err;
    size_t n_params; /* over all challenges */
};

static int bad(struct cursor *c, const char *what)
{
    return gantry_error_set(c->err, GANTRY_E_PARSE, 0, "invalid authentication challenge: %s",
                            what);
}

static bool is_tchar(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

static bool is_token68_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           (ch && strchr("-._~+/", ch));
}

static void skip_ows(struct cursor *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t'))
        c->p++;
}

static size_t take_token(struct cursor *c)
{
    const char *start = c->p;
    while (c->p < c->end && is_tchar(*c->p))
        c->p++;
    return (size_t)(c->p - start);
}

/* A token68 right after the scheme: chars, '=' padding, then ',' or end. */
static bool take_token68(struct cursor *c)
{
    const char *q = c->p;
    while (q < c->end && is_token68_char(*q))
        q++;
    if (q == c->p)
        return false;
    while (q < c->end && *q == '=')
        q++;
    while (q < c->end && (*q == ' ' || *q == '\t'))
        q++;
    if (q < c->end && *q != ',')
        return false;
    c->p = q;
    return true;
}

static int take_quoted(struct cursor *c, char **out)
{
    struct gantry_buf b = GANTRY_BUF_INIT;
    c->p++; /* opening quote */
    while (c->p < c->end && *c->p != '"') {
        char ch = *c->p++;
        if (ch == '\\') {
            if (c->p >= c->end)
                break;
            ch = *c->p++;
        }
        if ((unsigned char)ch < 0x20 && ch != '\t') {
            gantry_buf_release(&b);
            return bad(c, "control character in a quoted string");
        }
        if (gantry_buf_add(&b, &ch, 1) < 0)
            oom();
    }
    if (c->p >= c->end) {
        gantry_buf_release(&b);
        return bad(c, "unterminated quoted string");
    }
    c->p++; /* closing quote */
    *out = gantry_buf_detach(&b, NULL);
    return 0;
}

static int take_value(struct cursor *c, char **out)
{
    skip_ows(c);
    if (c->p < c->end && *c->p == '"')
        return take_quoted(c, out);
    const char *start = c->p;
    size_t n = take_token(c);
    if (n == 0)
        return bad(c, "parameter without a value");
    *out = xstrndup(start, n);
    return 0;
}

static int add_param(struct cursor *c, struct raw_challenge *ch, const char *name, size_t len)
{
    if (++c->n_params > REG_CHALLENGE_PARAMS_MAX || ch->n_params >= REG_CHALLENGE_PARAMS_MAX)
        return bad(c, "too many parameters");
    for (size_t i = 0; i < ch->n_params; i++)
        if (ch->params[i].name_len == len && strncasecmp(ch->params[i].name, name, len) == 0)
            return gantry_error_set(c->err, GANTRY_E_PARSE, 0,
                                    "invalid authentication challenge: duplicate parameter '%.*s'",
                                    (int)len, name);
    struct param *p = &ch->params[ch->n_params];
    p->name = name;
    p->name_len = len;
    c->p++; /* '=' */
    if (take_value(c, &p->value) < 0)
        return -1;
    ch->n_params++;
    return 0;
}

static void raw_release(struct raw_challenge *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < v[i].n_params; k++)
            free(v[i].params[k].value);
}

/* One list element: a new scheme (with an optional token68) or a parameter. */
static int take_element(struct cursor *c, struct raw_challenge *v, size_t *n)
{
    const char *name = c->p;
    size_t len = take_token(c);
    if (len == 0)
        return bad(c, "unexpected character");
    const char *after = c->p;
    skip_ows(c);
    if (c->p < c->end && *c->p == '=') {
        if (*n == 0)
            return bad(c, "parameter before any scheme");
        return add_param(c, &v[*n - 1], name, len);
    }
    if (*n >= CHALLENGES_MAX)
        return bad(c, "too many challenges");
    v[*n].scheme = name;
    v[*n].scheme_len = len;
    v[*n].n_params = 0;
    (*n)++;
    if (c->p > after && c->p < c->end && *c->p != ',' && !take_token68(c)) {
        /* A parameter follows the scheme after a space. */
        const char *pname = c->p;
        size_t plen = take_token(c);
        skip_ows(c);
        if (plen == 0 || c->p >= c->end || *c->p != '=')
            return bad(c, "malformed parameter");
        return add_param(c, &v[*n - 1], pname, plen);
    }
    return 0;
}

static const char *param_get(const struct raw_challenge *ch, const char *name)
{
    for (size_t i = 0; i < ch->n_params; i++)
        if (ch->params[i].name_len == strlen(name) &&
            strncasecmp(ch->params[i].name, name, ch->params[i].name_len) == 0)
            return ch->params[i].value;
    return NULL;
}

static bool scheme_is(const struct raw_challenge *ch, const char *name)
{
    return ch->scheme_len == strlen(name) && strncasecmp(ch->scheme, name, ch->scheme_len) == 0;
}

static int pick(struct cursor *c, const struct raw_challenge *v, size_t n,
                struct reg_challenge *out)
{
    const struct raw_challenge *best = NULL;
    for (size_t i = 0; i < n && !best; i++)
        if (scheme_is(&v[i], "Bearer"))
            best = &v[i];
    for (size_t i = 0; i < n && !best; i++)
        if (scheme_is(&v[i], "Basic"))
            best = &v[i];
    if (!best)
        return gantry_error_set(c->err, GANTRY_E_UNSUPPORTED, 0,
                                "unsupported authentication scheme '%.*s'",
                                (int)(v[0].scheme_len > 64 ? 64 : v[0].scheme_len), v[0].scheme);
    bool bearer = scheme_is(best, "Bearer");
    const char *realm = param_get(best, "realm");
    if (bearer && (!realm || !*realm))
        return bad(c, "Bearer challenge without realm");
    out->scheme = bearer ? REG_AUTH_BEARER : REG_AUTH_BASIC;
    out->realm = xstrdup_or_null(realm);
    out->service = xstrdup_or_null(param_get(best, "service"));
    out->scope = xstrdup_or_null(param_get(best, "scope"));
    out->error = xstrdup_or_null(param_get(best, "error"));
    return 0;
}

int reg_challenge_parse(const char *s, size_t len, struct reg_challenge *out,
                        struct gantry_error **err)
{
    memset(out, 0, sizeof(*out));
    if (len > REG_CHALLENGE_MAX)
        return gantry_error_set(err, GANTRY_E_TOO_LARGE, 0,
                                "invalid authentication challenge: longer than %u bytes",
                                REG_CHALLENGE_MAX);
    struct cursor c = {.p = s, .end = s + len, .err = err};
    struct raw_challenge v[CHALLENGES_MAX];
    size_t n = 0;
    int r = 0;
    for (;;) {
        while (c.p < c.end && (*c.p == ' ' || *c.p == '\t' || *c.p == ','))
            c.p++;
        if (c.p >= c.end)
            break;
        if ((r = take_element(&c, v, &n)) < 0)
            break;
        skip_ows(&c);
        if (c.p < c.end && *c.p != ',') {
            r = bad(&c, "expected ',' between parameters");
            break;
        }
    }
    if (r == 0 && n == 0)
        r = bad(&c, "empty header");
    if (r == 0)
        r = pick(&c, v, n, out);
    raw_release(v, n);
    return r;
}

void reg_challenge_release(struct reg_challenge *c)
{
    if (!c)
        return;
    free(c->realm);
    free(c->service);
    free(c->scope);
    free(c->error);
    memset(c, 0, sizeof(*c));
}
