/*
 * Image references: a hand-written scanner for distribution/reference's
 * grammar plus Docker's normalization (ParseNormalizedNamed). No regex:
 * the grammar is small and a scanner gives better messages.
 */
#include <stdbool.h>

#include <gantry/digest.h>
#include <gantry/ref.h>

#include "util.h"

/* Longest piece of user input quoted back in a message. */
#define QUOTE_MAX 200

static void ref_cleanup(struct gantry_ref *r)
{
    gantry_ref_release(r);
}
#define _cleanup_ref_ __attribute__((cleanup(ref_cleanup)))

/*
 * A copy of s[0..n) fit for a one-line message: control and non-ASCII
 * bytes become '?', and long input is cut with "...".
 */
static char *quote_input(const char *s, size_t n)
{
    size_t keep = n > QUOTE_MAX ? QUOTE_MAX : n;
    char *q = xmalloc(keep + 4);
    for (size_t i = 0; i < keep; i++) {
        unsigned char c = (unsigned char)s[i];
        q[i] = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
    }
    memcpy(q + keep, n > keep ? "..." : "", n > keep ? 4 : 1);
    return q;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_lower_alnum(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'z');
}

static bool is_upper(char c)
{
    return c >= 'A' && c <= 'Z';
}

static bool is_alnum(char c)
{
    return is_lower_alnum(c) || is_upper(c);
}

static bool is_hex(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool has_upper(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (is_upper(s[i]))
            return true;
    return false;
}

/* component := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )* */
static bool valid_path_component(const char *p, size_t n)
{
    size_t i = 0;
    if (n == 0 || !is_lower_alnum(p[0]))
        return false;
    while (i < n) {
        while (i < n && is_lower_alnum(p[i]))
            i++;
        if (i == n)
            return true;
        if (p[i] == '.') {
            i++;
        } else if (p[i] == '_') {
            i += (i + 1 < n && p[i + 1] == '_') ? 2 : 1;
        } else if (p[i] == '-') {
            while (i < n && p[i] == '-')
                i++;
        } else {
            return false;
        }
        if (i == n || !is_lower_alnum(p[i]))
            return false;
    }
    return true;
}

static bool valid_path(const char *p, size_t n)
{
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && p[i] != '/')
            continue;
        if (!valid_path_component(p + start, i - start))
            return false;
        start = i + 1;
    }
    return true;
}

/* "[" [0-9A-Fa-f:]+ "]": distribution's IPv6 form; zone IDs are refused. */
static size_t scan_ipv6(const char *d, size_t n)
{
    size_t i = 1;
    while (i < n && (is_hex(d[i]) || d[i] == ':'))
        i++;
    if (i == 1 || i >= n || d[i] != ']')
        return 0;
    return i + 1;
}

/* DNS name: components [A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])? joined by '.'. */
static size_t scan_dns_name(const char *d, size_t n)
{
    size_t i = 0;
    for (;;) {
        size_t start = i;
        while (i < n && (is_alnum(d[i]) || d[i] == '-'))
            i++;
        if (i == start || d[start] == '-' || d[i - 1] == '-')
            return 0;
        if (i < n && d[i] == '.') {
            i++;
            continue;
        }
        return i;
    }
}

/* domain := host [ ":" [0-9]+ ] */
static bool valid_domain(const char *d, size_t n)
{
    size_t i = (n > 0 && d[0] == '[') ? scan_ipv6(d, n) : scan_dns_name(d, n);
    if (i == 0)
        return false;
    if (i == n)
        return true;
    if (d[i] != ':' || i + 1 == n)
        return false;
    for (i++; i < n; i++)
        if (!is_digit(d[i]))
            return false;
    return true;
}

/* splitDockerDomain's rule for the first component of a name. */
static bool looks_like_domain(const char *c, size_t n)
{
    if (memchr(c, '.', n) || memchr(c, ':', n))
        return true;
    if (n == 9 && memcmp(c, "localhost", 9) == 0)
        return true;
    return has_upper(c, n);
}

static bool is_tag_char(char c)
{
    return is_alnum(c) || c == '_' || c == '.' || c == '-';
}

static int check_tag(const char *t, size_t n, struct gantry_error **err)
{
    if (n == 0)
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0, "invalid tag '': tag is empty");
    _cleanup_free_ char *q = quote_input(t, n);
    if (n > GANTRY_REF_TAG_MAX)
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0,
                                "invalid tag '%s': longer than %d characters (%zu)", q,
                                GANTRY_REF_TAG_MAX, n);
    if (!is_alnum(t[0]) && t[0] != '_')
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0,
                                "invalid tag '%s': must start with a letter, digit or '_'", q);
    for (size_t i = 1; i < n; i++)
        if (!is_tag_char(t[i]))
            return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0,
                                    "invalid tag '%s': only letters, digits, '_', '.' and '-' "
                                    "are allowed",
                                    q);
    return 0;
}

int gantry_ref_validate_tag(const char *s, size_t len, struct gantry_error **err)
{
    return check_tag(s, len, err);
}

static int format_error(struct gantry_error **err, const char *detail)
{
    return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0, "invalid reference format: %s", detail);
}

/* Set out->domain and out->path from name[0..n) (no tag, no digest). */
static int parse_name(const char *name, size_t n, struct gantry_ref *out, struct gantry_error **err)
{
    const char *slash = memchr(name, '/', n);
    const char *path = name;
    size_t dlen = 0;
    if (slash && looks_like_domain(name, (size_t)(slash - name))) {
        dlen = (size_t)(slash - name);
        path = slash + 1;
    }
    size_t plen = n - (size_t)(path - name);
    if (has_upper(path, plen))
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0, "repository name must be lowercase");
    if (dlen && !valid_domain(name, dlen))
        return format_error(err, "invalid registry domain");
    if (!valid_path(path, plen))
        return format_error(err, "invalid repository name");
    if (dlen == 0 || (dlen == 15 && memcmp(name, "index.docker.io", 15) == 0))
        out->domain = xstrdup(GANTRY_REF_DEFAULT_DOMAIN);
    else
        out->domain = xstrndup(name, dlen);
    if (strcmp(out->domain, GANTRY_REF_DEFAULT_DOMAIN) == 0 && !memchr(path, '/', plen))
        out->path = xasprintf("library/%.*s", (int)plen, path);
    else
        out->path = xstrndup(path, plen);
    if (strlen(out->path) > GANTRY_REF_PATH_MAX)
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0,
                                "repository name must not be more than %d characters",
                                GANTRY_REF_PATH_MAX);
    return 0;
}

static bool is_bare_identifier(const char *s, size_t len)
{
    if (len != 64)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!is_digit(s[i]) && !(s[i] >= 'a' && s[i] <= 'f'))
            return false;
    return true;
}

/*
 * distribution's digest alphabet, [A-Za-z0-9+._-] and ':'; checked before
 * gantry_digest_validate so that messages never echo control characters.
 */
static bool valid_digest_chars(const char *d, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (d[i] == '\0' || (!is_alnum(d[i]) && !strchr("+._-:", d[i])))
            return false;
    return true;
}

/* name[:tag]: split at the last ':' after the last '/'. */
static size_t find_tag_colon(const char *s, size_t n)
{
    for (size_t i = n; i > 0; i--) {
        if (s[i - 1] == '/')
            return n;
        if (s[i - 1] == ':')
            return i - 1;
    }
    return n;
}

static int parse_into(const char *s, size_t len, struct gantry_ref *out, struct gantry_error **err)
{
    if (len == 0)
        return format_error(err, "empty reference");
    if (is_bare_identifier(s, len))
        return format_error(err, "a 64-character hexadecimal string is an image ID, "
                                 "not a repository name");
    const char *at = memchr(s, '@', len);
    size_t nlen = at ? (size_t)(at - s) : len;
    size_t colon = find_tag_colon(s, nlen);
    if (colon == 0)
        return format_error(err, "repository name is empty");
    if (parse_name(s, colon, out, err) < 0)
        return -1;
    if (colon < nlen) {
        if (colon + 1 == nlen)
            return format_error(err, "tag is empty after ':'");
        if (check_tag(s + colon + 1, nlen - colon - 1, err) < 0)
            return -1;
        out->tag = xstrndup(s + colon + 1, nlen - colon - 1);
    }
    if (at) {
        size_t dlen = len - nlen - 1;
        if (!valid_digest_chars(at + 1, dlen))
            return format_error(err, "invalid digest");
        if (gantry_digest_validate(at + 1, dlen, NULL, err) < 0)
            return -1;
        out->digest = xstrndup(at + 1, dlen);
    }
    if (!out->tag && !out->digest)
        out->tag = xstrdup(GANTRY_REF_DEFAULT_TAG);
    return 0;
}

int gantry_ref_parse(const char *s, size_t len, struct gantry_ref *out, struct gantry_error **err)
{
    _cleanup_ref_ struct gantry_ref r = GANTRY_REF_INIT;
    *out = (struct gantry_ref)GANTRY_REF_INIT;
    if (!s)
        len = 0;
    if (parse_into(s, len, &r, err) < 0) {
        _cleanup_free_ char *q = quote_input(s, len);
        return gantry_error_prefix(err, "invalid reference '%s'", q);
    }
    *out = r;
    r = (struct gantry_ref)GANTRY_REF_INIT;
    return 0;
}

void gantry_ref_release(struct gantry_ref *ref)
{
    if (!ref)
        return;
    free(ref->domain);
    free(ref->path);
    free(ref->tag);
    free(ref->digest);
    *ref = (struct gantry_ref)GANTRY_REF_INIT;
}

void gantry_ref_copy(struct gantry_ref *dst, const struct gantry_ref *src)
{
    dst->domain = xstrdup_or_null(src->domain);
    dst->path = xstrdup_or_null(src->path);
    dst->tag = xstrdup_or_null(src->tag);
    dst->digest = xstrdup_or_null(src->digest);
}

/* name + [":" tag] + ["@" digest] */
static char *with_suffixes(const char *name, const struct gantry_ref *ref)
{
    return xasprintf("%s%s%s%s%s", name, ref->tag ? ":" : "", ref->tag ? ref->tag : "",
                     ref->digest ? "@" : "", ref->digest ? ref->digest : "");
}

char *gantry_ref_repository(const struct gantry_ref *ref)
{
    return xasprintf("%s/%s", ref->domain, ref->path);
}

char *gantry_ref_to_string(const struct gantry_ref *ref)
{
    _cleanup_free_ char *repo = gantry_ref_repository(ref);
    return with_suffixes(repo, ref);
}

char *gantry_ref_familiar(const struct gantry_ref *ref)
{
    if (strcmp(ref->domain, GANTRY_REF_DEFAULT_DOMAIN) != 0)
        return gantry_ref_to_string(ref);
    const char *name = ref->path;
    /* Official images: library/<name>, but not library/<a>/<b>. */
    if (str_has_prefix(name, "library/") && !strchr(name + 8, '/'))
        name += 8;
    /*
     * Unlike distribution, keep "docker.io/" when the short name would
     * read back as a domain (docker.io/foo.bar/x, docker.io/localhost/x).
     */
    const char *slash = strchr(name, '/');
    if (slash && looks_like_domain(name, (size_t)(slash - name)))
        return gantry_ref_to_string(ref);
    return with_suffixes(name, ref);
}

bool gantry_ref_names_registry(const char *s)
{
    const char *slash = strchr(s, '/');
    return slash && looks_like_domain(s, (size_t)(slash - s));
}
