/*
 * Plain HTTP(S) downloads for ADD <url>: one GET with redirects followed
 * here (at most 10 hops, http(s) only, never https to http, H10), TLS
 * verified, libcurl's proxy environment as the registry client, the body
 * streamed into a sink with a size cap. URLs in messages and logs have
 * their password redacted (CVE-2023-26054). Registry auth plays no part:
 * only credentials written in the URL go, and only to its own origin.
 */
#include <ctype.h>
#include <strings.h>

#include "fetch_internal.h"
#include "registry_internal.h"

#define FETCH_MAX_DEFAULT (8ull << 30)

/* ---- redaction ---- */

static bool scheme_char(char c)
{
    return isalnum((unsigned char)c) || c == '+' || c == '-' || c == '.';
}

/* Append the authority a[0..n) with the password (after the first ':' of
 * the user info) replaced. */
static void add_authority(struct gantry_buf *b, const char *a, size_t n)
{
    const char *at = NULL;
    for (size_t i = 0; i < n; i++)
        if (a[i] == '@')
            at = a + i;
    const char *colon = at ? memchr(a, ':', (size_t)(at - a)) : NULL;
    if (!colon) {
        if (gantry_buf_add(b, a, n) < 0)
            oom();
        return;
    }
    if (gantry_buf_add(b, a, (size_t)(colon - a) + 1) < 0 || gantry_buf_addstr(b, "xxxxx") < 0 ||
        gantry_buf_add(b, at, n - (size_t)(at - a)) < 0)
        oom();
}

char *gantry_registry_redact(const char *text)
{
    struct gantry_buf b = GANTRY_BUF_INIT_CAP(0);
    const char *p = text;
    const char *sep;
    while ((sep = strstr(p, "://"))) {
        const char *s = sep;
        while (s > p && scheme_char(s[-1]))
            s--;
        const char *a = sep + 3;
        size_t n = strcspn(a, "/?# \t\r\n'\"");
        if (gantry_buf_add(&b, p, (size_t)(a - p)) < 0)
            oom();
        if (s < sep)
            add_authority(&b, a, n);
        else if (gantry_buf_add(&b, a, n) < 0)
            oom();
        p = a + n;
    }
    if (gantry_buf_addstr(&b, p) < 0)
        oom();
    return gantry_buf_detach(&b, NULL);
}

/* ---- Content-Disposition ---- */

static bool tspecial(char c)
{
    return c <= ' ' || c >= 127 || strchr("()<>@,;:\\\"/[]?=", c) != NULL;
}

/* A token or a quoted string at *p; advances *p. NULL when malformed. */
static char *param_value(const char **p, const char *end)
{
    const char *s = *p;
    if (s < end && *s == '"') {
        struct gantry_buf b = GANTRY_BUF_INIT_CAP(0);
        for (s++; s < end && *s != '"'; s++) {
            if (*s == '\\' && s + 1 < end)
                s++;
            if (gantry_buf_add(&b, s, 1) < 0)
                oom();
        }
        if (s >= end) {
            gantry_buf_release(&b);
            return NULL;
        }
        *p = s + 1;
        return gantry_buf_detach(&b, NULL);
    }
    while (s < end && !tspecial(*s))
        s++;
    if (s == *p)
        return NULL;
    char *v = xstrndup(*p, (size_t)(s - *p));
    *p = s;
    return v;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)tolower((unsigned char)c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* RFC 2231 extended value "charset'lang'pct-encoded" (utf-8, us-ascii). */
static char *ext_value(const char *v)
{
    const char *q1 = strchr(v, '\'');
    const char *q2 = q1 ? strchr(q1 + 1, '\'') : NULL;
    if (!q2)
        return NULL;
    size_t cl = (size_t)(q1 - v);
    if (!((cl == 5 && strncasecmp(v, "utf-8", 5) == 0) ||
          (cl == 8 && strncasecmp(v, "us-ascii", 8) == 0)))
        return NULL;
    _cleanup_free_ char *out = xmalloc(strlen(q2));
    size_t n = 0;
    for (const char *s = q2 + 1; *s; s++) {
        if (*s != '%') {
            out[n++] = *s;
            continue;
        }
        int hi = hexval(s[1]), lo = hi >= 0 ? hexval(s[2]) : -1;
        if (lo < 0 || (hi == 0 && lo == 0))
            return NULL;
        out[n++] = (char)(hi * 16 + lo);
        s += 2;
    }
    out[n] = '\0';
    return steal_pointer(&out);
}

static void skip_ws(const char **p, const char *end)
{
    while (*p < end && (**p == ' ' || **p == '\t'))
        (*p)++;
}

char *reg_disposition_filename(const char *v, size_t len)
{
    const char *p = v, *end = v + len;
    if (memchr(v, '\0', len))
        return NULL;
    _cleanup_free_ char *plain = NULL;
    _cleanup_free_ char *ext = NULL;
    p = memchr(v, ';', len);
    while (p && p < end) {
        p++;
        skip_ws(&p, end);
        if (p >= end)
            break;
        const char *name = p;
        while (p < end && !tspecial(*p) && *p != '*')
            p++;
        bool star = p < end && *p == '*';
        size_t nlen = (size_t)(p - name);
        p += star;
        skip_ws(&p, end);
        if (p >= end || *p != '=' || nlen == 0)
            return NULL;
        p++;
        skip_ws(&p, end);
        _cleanup_free_ char *val = param_value(&p, end);
        if (!val)
            return NULL;
        if (nlen == 8 && strncasecmp(name, "filename", 8) == 0) {
            char **slot = star ? &ext : &plain;
            free(*slot);
            *slot = star ? ext_value(val) : steal_pointer(&val);
        }
        skip_ws(&p, end);
        if (p < end && *p != ';')
            return NULL;
    }
    return ext ? steal_pointer(&ext) : steal_pointer(&plain);
}

/* ---- the transfer ---- */

struct fetch_xfer {
    const struct gantry_registry_fetch_opts *o;
    uint64_t max;
    long status;
    char *location;
    char *disposition;
    char *etag;
    char *modified; /* the Last-Modified header as sent */
    uint64_t delivered;
    bool too_large;
    struct gantry_error *sink_err;
};

static void xfer_reset(struct fetch_xfer *x)
{
    free(x->location);
    free(x->disposition);
    free(x->etag);
    free(x->modified);
    x->location = x->disposition = x->etag = x->modified = NULL;
    x->status = 0;
}

/* Where a response header field is kept, by name; NULL: not kept. */
static char **kept_header(struct fetch_xfer *x, const char *name, size_t n)
{
    struct {
        const char *name;
        char **slot;
    } kept[] = {{"location", &x->location},
                {"content-disposition", &x->disposition},
                {"etag", &x->etag},
                {"last-modified", &x->modified}};
    for (size_t i = 0; i < ARRAY_SIZE(kept); i++)
        if (strlen(kept[i].name) == n && strncasecmp(name, kept[i].name, n) == 0)
            return kept[i].slot;
    return NULL;
}

static size_t on_header(char *buf, size_t size, size_t nitems, void *ud)
{
    struct fetch_xfer *x = ud;
    size_t len = size * nitems, n = len;
    while (n && (buf[n - 1] == '\r' || buf[n - 1] == '\n'))
        n--;
    if (n >= 5 && strncmp(buf, "HTTP/", 5) == 0) {
        xfer_reset(x);
        const char *sp = memchr(buf, ' ', n);
        x->status = sp ? strtol(sp + 1, NULL, 10) : 0;
        return len;
    }
    const char *colon = memchr(buf, ':', n);
    if (!colon || n > REG_HEADER_MAX)
        return len;
    const char *v = colon + 1;
    while (v < buf + n && (*v == ' ' || *v == '\t'))
        v++;
    size_t nl = (size_t)(colon - buf), vl = (size_t)(buf + n - v);
    char **slot = kept_header(x, buf, nl);
    if (slot) {
        free(*slot);
        *slot = xstrndup(v, vl);
    }
    return len;
}

static size_t on_write(char *data, size_t size, size_t nmemb, void *ud)
{
    struct fetch_xfer *x = ud;
    size_t len = size * nmemb;
    if (x->status < 200 || x->status > 299)
        return len; /* a redirect or error body: drained, not kept */
    if (len > x->max - x->delivered) {
        x->too_large = true;
        return 0;
    }
    if (x->o->write(x->o->user, data, len, &x->sink_err) < 0) {
        if (!x->sink_err)
            gantry_error_set(&x->sink_err, GANTRY_E_INTERNAL, 0, "download sink failed");
        return 0;
    }
    x->delivered += len;
    return len;
}

static void setup(CURL *h, const struct gantry_registry_fetch_opts *o, struct fetch_xfer *x,
                  const char *url, char *errbuf)
{
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_FILETIME, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                     o->connect_timeout_ms > 0 ? o->connect_timeout_ms : 30000L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1024L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME,
                     o->low_speed_time_s > 0 ? o->low_speed_time_s : 30L);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    if (o->insecure) {
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    }
}

static void cleanup_curlp(CURL **h)
{
    if (*h)
        curl_easy_cleanup(*h);
}

static void cleanup_slistp(struct curl_slist **l)
{
    curl_slist_free_all(*l);
}

/* If-None-Match / If-Modified-Since of a conditional GET (values checked). */
static struct curl_slist *conditional_headers(const struct gantry_registry_fetch_opts *o)
{
    struct curl_slist *l = NULL;
    const char *names[] = {"If-None-Match", "If-Modified-Since"};
    const char *values[] = {o->if_none_match, o->if_modified_since};
    for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
        if (!values[i] || !*values[i])
            continue;
        _cleanup_free_ char *line = xasprintf("%s: %s", names[i], values[i]);
        struct curl_slist *n = curl_slist_append(l, line);
        if (!n)
            oom();
        l = n;
    }
    return l;
}

/* Take the sink's error, or describe the transport error. */
static int transfer_error(struct fetch_xfer *x, CURLcode rc, const char *errbuf, const char *shown,
                          struct gantry_error **err)
{
    if (x->sink_err) {
        if (err) {
            gantry_error_free(*err);
            *err = steal_pointer(&x->sink_err);
        }
        return -1;
    }
    if (x->too_large)
        return gantry_error_set(err, GANTRY_E_TOO_LARGE, 0, "GET '%s': larger than %llu bytes",
                                shown, (unsigned long long)x->max);
    _cleanup_free_ char *why = gantry_registry_redact(*errbuf ? errbuf : curl_easy_strerror(rc));
    return gantry_error_set(err, GANTRY_E_NETWORK, 0, "GET '%s': %s", shown, why);
}

/* One GET of url: 0 with x->status set, -1 on a transport error. */
static int get_once(const struct gantry_registry_fetch_opts *o, struct fetch_xfer *x,
                    const char *url, int64_t *filetime, struct gantry_error **err)
{
    __attribute__((cleanup(cleanup_curlp))) CURL *h = curl_easy_init();
    if (!h)
        oom();
    char errbuf[CURL_ERROR_SIZE] = "";
    _cleanup_free_ char *ua =
        o->user_agent ? xstrdup(o->user_agent) : xasprintf("gantry/%s", gantry_version());
    setup(h, o, x, url, errbuf);
    curl_easy_setopt(h, CURLOPT_USERAGENT, ua);
    __attribute__((cleanup(cleanup_slistp))) struct curl_slist *hdrs = conditional_headers(o);
    if (hdrs)
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    xfer_reset(x);
    CURLcode rc = curl_easy_perform(h);
    if (rc != CURLE_OK) {
        _cleanup_free_ char *shown = gantry_registry_redact(url);
        return transfer_error(x, rc, errbuf, shown, err);
    }
    curl_off_t ft = -1;
    if (curl_easy_getinfo(h, CURLINFO_FILETIME_T, &ft) != CURLE_OK)
        ft = -1;
    *filetime = (int64_t)ft;
    return 0;
}

static bool is_redirect(long status)
{
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

/* The next hop's URL from Location; refuses non-http(s) and https -> http. */
static int next_hop(const char *url, const char *location, char **next, struct gantry_error **err)
{
    _cleanup_free_ char *shown = gantry_registry_redact(url);
    if (!location)
        return gantry_error_set(err, GANTRY_E_NETWORK, 0, "GET '%s': redirect without Location",
                                shown);
    _cleanup_free_ char *to = NULL;
    if (reg_url_resolve(url, location, &to, err) < 0) {
        if (!err || !*err)
            return -1;
        _cleanup_free_ char *msg = gantry_registry_redact((*err)->message);
        free((*err)->message);
        (*err)->message = steal_pointer(&msg);
        return gantry_error_prefix(err, "GET '%s': redirect", shown);
    }
    _cleanup_free_ char *to_shown = gantry_registry_redact(to);
    if (strncasecmp(url, "https:", 6) == 0 && strncasecmp(to, "http:", 5) == 0)
        return gantry_error_set(err, GANTRY_E_DENIED, 0,
                                "GET '%s': refusing redirect from https to plain http '%s'", shown,
                                to_shown);
    gantry_log(GANTRY_LOG_DEBUG, "redirect to '%s'", to_shown);
    *next = steal_pointer(&to);
    return 0;
}

static int status_error(long status, const char *url, struct gantry_error **err)
{
    _cleanup_free_ char *shown = gantry_registry_redact(url);
    enum gantry_error_code code = status == 404   ? GANTRY_E_NOT_FOUND
                                  : status == 401 ? GANTRY_E_UNAUTHORIZED
                                  : status == 403 ? GANTRY_E_DENIED
                                                  : GANTRY_E_NETWORK;
    return gantry_error_set_http(err, code, (int)status, "GET '%s': HTTP %ld", shown, status);
}

static bool conditional(const struct gantry_registry_fetch_opts *o)
{
    return (o->if_none_match && *o->if_none_match) ||
           (o->if_modified_since && *o->if_modified_since);
}

/* A header value we may send: printable, no CR/LF (no header injection). */
static bool header_value_ok(const char *v)
{
    for (; v && *v; v++)
        if ((unsigned char)*v < 0x20 || *v == 0x7f)
            return false;
    return true;
}

static int check_opts(const struct gantry_registry_fetch_opts *o, struct gantry_error **err)
{
    if (!header_value_ok(o->if_none_match) || !header_value_ok(o->if_modified_since))
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0,
                                "invalid conditional header: control characters");
    const char *url = o->url;
    if (url && (strncasecmp(url, "http://", 7) == 0 || strncasecmp(url, "https://", 8) == 0))
        return 0;
    _cleanup_free_ char *shown = gantry_registry_redact(url ? url : "");
    return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0, "not an http(s) URL: '%s'", shown);
}

/* The redirect loop: *final is the URL that answered 2xx (or 304 to a conditional GET). */
static int fetch_loop(const struct gantry_registry_fetch_opts *o, struct fetch_xfer *x,
                      char **final, int64_t *filetime, struct gantry_error **err)
{
    _cleanup_free_ char *url = xstrdup(o->url);
    for (int hops = 0;; hops++) {
        if (get_once(o, x, url, filetime, err) < 0)
            return -1;
        if ((x->status >= 200 && x->status <= 299) || (x->status == 304 && conditional(o)))
            break;
        if (!is_redirect(x->status))
            return status_error(x->status, url, err);
        if (hops >= REG_REDIRECTS_MAX)
            return gantry_error_set(err, GANTRY_E_NETWORK, 0, "too many redirects (more than %d)",
                                    REG_REDIRECTS_MAX);
        char *next = NULL;
        if (next_hop(url, x->location, &next, err) < 0)
            return -1;
        free(url);
        url = next;
    }
    *final = steal_pointer(&url);
    return 0;
}

int gantry_registry_fetch(const struct gantry_registry_fetch_opts *o,
                          struct gantry_registry_fetch_result *out, struct gantry_error **err)
{
    memset(out, 0, sizeof(*out));
    out->last_modified = -1;
    if (check_opts(o, err) < 0)
        return -1;
    struct fetch_xfer x = {.o = o, .max = o->max_size ? o->max_size : FETCH_MAX_DEFAULT};
    _cleanup_free_ char *final = NULL;
    int64_t ft = -1;
    int rc = fetch_loop(o, &x, &final, &ft, err);
    if (rc == 0) {
        out->url = gantry_registry_redact(final);
        out->last_modified = ft;
        out->filename =
            x.disposition ? reg_disposition_filename(x.disposition, strlen(x.disposition)) : NULL;
        out->size = x.delivered;
        out->not_modified = x.status == 304;
        out->etag = x.etag && header_value_ok(x.etag) ? xstrdup(x.etag) : NULL;
        out->modified = x.modified && header_value_ok(x.modified) ? xstrdup(x.modified) : NULL;
    }
    xfer_reset(&x);
    gantry_error_free(x.sink_err);
    return rc;
}

void gantry_registry_fetch_result_release(struct gantry_registry_fetch_result *r)
{
    if (!r)
        return;
    free(r->url);
    free(r->filename);
    free(r->etag);
    free(r->modified);
    memset(r, 0, sizeof(*r));
    r->last_modified = -1;
}
