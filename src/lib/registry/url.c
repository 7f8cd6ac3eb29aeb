/*
 * URLs: resolving Location and Link targets (relative or absolute, H11),
 * origins for same-origin checks (H9), loopback hosts (Docker's default
 * insecure registries). libcurl's URL API does the RFC 3986 work.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <strings.h>

#include "registry_internal.h"

static void cleanup_curlu(CURLU **u)
{
    if (*u)
        curl_url_cleanup(*u);
}
#define _cleanup_curlu_ __attribute__((cleanup(cleanup_curlu)))

static void cleanup_curl_str(char **s)
{
    curl_free(*s);
}
#define _cleanup_curl_str_ __attribute__((cleanup(cleanup_curl_str)))

static bool scheme_ok(const char *scheme)
{
    return strcasecmp(scheme, "http") == 0 || strcasecmp(scheme, "https") == 0;
}

int reg_url_resolve(const char *base, const char *ref, char **out, struct gantry_error **err)
{
    _cleanup_curlu_ CURLU *u = curl_url();
    if (!u)
        oom();
    if (curl_url_set(u, CURLUPART_URL, base, 0) != CURLUE_OK)
        return gantry_error_set(err, GANTRY_E_PARSE, 0, "invalid URL '%s'", base);
    if (!*ref || curl_url_set(u, CURLUPART_URL, ref, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK)
        return gantry_error_set(err, GANTRY_E_PARSE, 0, "invalid URL '%.200s'", ref);
    _cleanup_curl_str_ char *scheme = NULL;
    _cleanup_curl_str_ char *full = NULL;
    if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK || !scheme_ok(scheme))
        return gantry_error_set(err, GANTRY_E_DENIED, 0,
                                "refusing URL '%.200s': only http and https are allowed", ref);
    if (curl_url_get(u, CURLUPART_URL, &full, 0) != CURLUE_OK)
        return gantry_error_set(err, GANTRY_E_PARSE, 0, "invalid URL '%.200s'", ref);
    *out = xstrdup(full);
    return 0;
}

char *reg_url_origin(const char *url)
{
    _cleanup_curlu_ CURLU *u = curl_url();
    if (!u)
        oom();
    _cleanup_curl_str_ char *scheme = NULL;
    _cleanup_curl_str_ char *host = NULL;
    _cleanup_curl_str_ char *port = NULL;
    if (curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK || !scheme_ok(scheme) ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK)
        return NULL;
    char *o = xasprintf("%s://%s:%s", scheme, host, port);
    for (char *p = o; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return o;
}

char *reg_url_add_query(const char *url, const char *key, const char *value)
{
    char *esc = curl_easy_escape(NULL, value, 0);
    if (!esc)
        oom();
    const char *q = strchr(url, '?');
    const char *sep = !q ? "?" : (q[1] && url[strlen(url) - 1] != '&' ? "&" : "");
    char *r = xasprintf("%s%s%s=%s", url, sep, key, esc);
    curl_free(esc);
    return r;
}

bool reg_host_is_loopback(const char *host)
{
    char buf[256];
    const char *h = host;
    size_t n;
    if (*h == '[') {
        const char *close = strchr(h, ']');
        if (!close)
            return false;
        h++;
        n = (size_t)(close - h);
    } else {
        const char *colon = strchr(h, ':');
        n = colon ? (size_t)(colon - h) : strlen(h);
    }
    if (n == 0 || n >= sizeof(buf))
        return false;
    memcpy(buf, h, n);
    buf[n] = '\0';
    if (strcasecmp(buf, "localhost") == 0)
        return true;
    struct in_addr a4;
    struct in6_addr a6;
    if (inet_pton(AF_INET, buf, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, buf, &a6) == 1)
        return memcmp(&a6, &in6addr_loopback, sizeof(a6)) == 0;
    return false;
}

const char *reg_api_host(const char *domain)
{
    if (strcmp(domain, "docker.io") == 0 || strcmp(domain, "index.docker.io") == 0)
        return "registry-1.docker.io";
    return domain;
}

bool reg_has_scheme(const char *s)
{
    return strncasecmp(s, "http://", 7) == 0 || strncasecmp(s, "https://", 8) == 0;
}
