/*
 * One HTTP exchange on a pooled curl handle: no redirects (the caller
 * follows them, choosing the headers for each hop), no auth (the caller
 * decides whether the Authorization header may go to this origin), no
 * retries. Response headers the protocol needs are captured; the body
 * goes to a capped buffer or a sink, error bodies to a short excerpt.
 */
#include <inttypes.h>
#include <strings.h>

#include "registry_internal.h"

struct xfer {
    const struct reg_request *req;
    struct reg_response *resp;
    uint64_t body_pos;
    struct gantry_error *read_err;
};

void reg_response_init(struct reg_response *r)
{
    memset(r, 0, sizeof(*r));
    gantry_buf_init(&r->body, 0);
    gantry_buf_init(&r->www_auth, REG_CHALLENGE_MAX + 1);
    gantry_buf_init(&r->link, REG_HEADER_MAX);
    r->content_length = -1;
}

static void clear_headers(struct reg_response *r)
{
    free(r->content_type);
    free(r->location);
    free(r->digest);
    free(r->range);
    free(r->content_range);
    free(r->retry_after);
    r->content_type = r->location = r->digest = r->range = r->content_range = r->retry_after = NULL;
    gantry_buf_reset(&r->www_auth);
    gantry_buf_reset(&r->link);
    r->content_length = -1;
    r->header_too_large = false;
}

void reg_response_reset(struct reg_response *r)
{
    clear_headers(r);
    gantry_buf_release(&r->body);
    r->status = 0;
    r->too_large = false;
    r->transient = false;
    gantry_error_free(r->sink_err);
    r->sink_err = NULL;
}

void reg_response_release(struct reg_response *r)
{
    if (!r)
        return;
    reg_response_reset(r);
    gantry_buf_release(&r->www_auth);
    gantry_buf_release(&r->link);
    free(r->url);
    r->url = NULL;
}

static void set_value(char **slot, const char *v, size_t n)
{
    free(*slot);
    *slot = xstrndup(v, n);
}

static void append_list(struct reg_response *r, struct gantry_buf *b, const char *v, size_t n)
{
    if ((b->len && gantry_buf_add(b, ", ", 2) < 0) || gantry_buf_add(b, v, n) < 0)
        r->header_too_large = true;
}

static void take_header(struct reg_response *r, const char *name, size_t nlen, const char *v,
                        size_t n)
{
#define IS(s) (nlen == sizeof(s) - 1 && strncasecmp(name, s, nlen) == 0)
    if (n > REG_HEADER_MAX) {
        r->header_too_large = true;
        return;
    }
    if (IS("content-type"))
        set_value(&r->content_type, v, n);
    else if (IS("location"))
        set_value(&r->location, v, n);
    else if (IS("docker-content-digest"))
        set_value(&r->digest, v, n);
    else if (IS("range"))
        set_value(&r->range, v, n);
    else if (IS("content-range"))
        set_value(&r->content_range, v, n);
    else if (IS("retry-after"))
        set_value(&r->retry_after, v, n);
    else if (IS("www-authenticate"))
        append_list(r, &r->www_auth, v, n);
    else if (IS("link"))
        append_list(r, &r->link, v, n);
    else if (IS("content-length") && n > 0 && n < 19 && strspn(v, "0123456789") >= n)
        r->content_length = (int64_t)strtoll(v, NULL, 10);
#undef IS
}

static size_t on_header(char *buf, size_t size, size_t nitems, void *ud)
{
    struct xfer *x = ud;
    size_t len = size * nitems;
    size_t n = len;
    while (n && (buf[n - 1] == '\r' || buf[n - 1] == '\n'))
        n--;
    if (n >= 5 && strncmp(buf, "HTTP/", 5) == 0) {
        /* A new response (after 100 Continue): forget the previous headers. */
        clear_headers(x->resp);
        const char *sp = memchr(buf, ' ', n);
        x->resp->status = sp ? strtol(sp + 1, NULL, 10) : 0;
        return len;
    }
    const char *colon = memchr(buf, ':', n);
    if (!colon)
        return len;
    const char *v = colon + 1;
    while (v < buf + n && (*v == ' ' || *v == '\t'))
        v++;
    size_t vlen = (size_t)(buf + n - v);
    while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
        vlen--;
    take_header(x->resp, buf, (size_t)(colon - buf), v, vlen);
    return len;
}

static size_t on_write(char *data, size_t size, size_t nmemb, void *ud)
{
    struct xfer *x = ud;
    struct reg_response *r = x->resp;
    size_t len = size * nmemb;
    if (r->status < 200 || r->status > 299) {
        /* Keep an excerpt and drain the rest so the connection stays usable. */
        size_t room = r->body.len < REG_ERROR_BODY_MAX ? REG_ERROR_BODY_MAX - r->body.len : 0;
        if (gantry_buf_add(&r->body, data, len < room ? len : room) < 0)
            oom();
        return len;
    }
    if (x->req->sink) {
        if (x->req->sink(x->req->sink_user, data, len, &r->sink_err) < 0) {
            if (!r->sink_err)
                gantry_error_set(&r->sink_err, GANTRY_E_INTERNAL, 0, "blob sink failed");
            return 0;
        }
        r->delivered += len;
        return len;
    }
    size_t cap = x->req->body_cap;
    if ((cap && r->content_length > (int64_t)cap) || (cap && r->body.len + len > cap)) {
        r->too_large = true;
        return 0;
    }
    if (gantry_buf_add(&r->body, data, len) < 0)
        oom();
    return len;
}

static size_t on_read(char *buf, size_t size, size_t nitems, void *ud)
{
    struct xfer *x = ud;
    const struct reg_body *b = x->req->body;
    size_t want = size * nitems;
    uint64_t left = b->len - x->body_pos;
    if (want > left)
        want = (size_t)left;
    if (want == 0)
        return 0;
    if (b->mem) {
        memcpy(buf, b->mem + x->body_pos, want);
        x->body_pos += want;
        return want;
    }
    ssize_t got = b->read(b->user, b->offset + x->body_pos, buf, want, &x->read_err);
    if (got <= 0) {
        if (got == 0)
            gantry_error_set(&x->read_err, GANTRY_E_IO, 0,
                             "blob source ended at byte %" PRIu64 ", want %" PRIu64,
                             b->offset + x->body_pos, b->offset + b->len);
        else if (!x->read_err)
            gantry_error_set(&x->read_err, GANTRY_E_IO, 0, "blob source failed");
        return CURL_READFUNC_ABORT;
    }
    x->body_pos += (uint64_t)got;
    return (size_t)got;
}

static int on_seek(void *ud, curl_off_t offset, int origin)
{
    struct xfer *x = ud;
    if (origin != SEEK_SET || offset < 0 || (uint64_t)offset > x->req->body->len)
        return CURL_SEEKFUNC_CANTSEEK;
    x->body_pos = (uint64_t)offset;
    return CURL_SEEKFUNC_OK;
}

static CURL *pool_take(struct gantry_registry_client *c)
{
    CURL *h = NULL;
    pthread_mutex_lock(&c->lock);
    if (c->n_pool)
        h = c->pool[--c->n_pool];
    pthread_mutex_unlock(&c->lock);
    if (!h && !(h = curl_easy_init()))
        oom();
    return h;
}

static void pool_give(struct gantry_registry_client *c, CURL *h)
{
    pthread_mutex_lock(&c->lock);
    c->pool = xrealloc(c->pool, (c->n_pool + 1) * sizeof(*c->pool));
    c->pool[c->n_pool++] = h;
    pthread_mutex_unlock(&c->lock);
}

static void set_method(CURL *h, const struct reg_request *req)
{
    const char *m = req->method;
    curl_off_t len = req->body ? (curl_off_t)req->body->len : 0;
    if (strcmp(m, "GET") == 0) {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    } else if (strcmp(m, "HEAD") == 0) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (strcmp(m, "POST") == 0) {
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, len);
        if (!req->body)
            curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
    } else if (strcmp(m, "PUT") == 0 || strcmp(m, "PATCH") == 0) {
        curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, len);
        if (strcmp(m, "PATCH") == 0)
            curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "PATCH");
    } else {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, m);
    }
}

static bool same_origin(const char *url, const char *origin)
{
    if (!origin)
        return false;
    _cleanup_free_ char *o = reg_url_origin(url);
    return o && strcmp(o, origin) == 0;
}

static void set_tls(CURL *h, const struct reg_host *host, const char *url)
{
    if (!host || !same_origin(url, host->origin))
        return;
    if (host->insecure_tls) {
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (host->ca_blob) {
        struct curl_blob blob = {host->ca_blob, host->ca_len, CURL_BLOB_COPY};
        curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &blob);
    }
    if (host->client_cert && host->client_key) {
        curl_easy_setopt(h, CURLOPT_SSLCERT, host->client_cert);
        curl_easy_setopt(h, CURLOPT_SSLKEY, host->client_key);
    }
}

static struct curl_slist *add_header(struct curl_slist *l, const char *h)
{
    struct curl_slist *n = curl_slist_append(l, h);
    if (!n)
        oom();
    return n;
}

static struct curl_slist *build_headers(const struct reg_request *req, const char *authorization)
{
    struct curl_slist *l = add_header(NULL, "Expect:");
    _cleanup_free_ char *accept = req->accept ? xasprintf("Accept: %s", req->accept) : NULL;
    _cleanup_free_ char *ct =
        req->content_type ? xasprintf("Content-Type: %s", req->content_type) : NULL;
    _cleanup_free_ char *auth =
        authorization ? xasprintf("Authorization: %s", authorization) : NULL;
    if (accept)
        l = add_header(l, accept);
    if (ct)
        l = add_header(l, ct);
    if (req->extra_header)
        l = add_header(l, req->extra_header);
    if (auth) {
        l = add_header(l, auth);
        explicit_bzero(auth, strlen(auth));
    }
    return l;
}

static void setup(CURL *h, struct gantry_registry_client *c, struct xfer *x, const char *url)
{
    const struct gantry_registry_opts *o = &c->opts;
    curl_easy_setopt(h, CURLOPT_SHARE, c->share);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, o->connect_timeout_ms);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1024L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, o->low_speed_time_s);
    curl_easy_setopt(h, CURLOPT_USERAGENT, o->user_agent);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
    /* Large buffers: a blob moves in a few hundred reads and sends per
     * 100 MB instead of thousands (CPU the registry beside us needs). */
    if (x->req->sink)
        curl_easy_setopt(h, CURLOPT_BUFFERSIZE, REG_RECV_BUFFER);
    if (x->req->body && x->req->body->len > REG_SEND_BUFFER / 4)
        curl_easy_setopt(h, CURLOPT_UPLOAD_BUFFERSIZE, REG_SEND_BUFFER);
    if (x->req->body) {
        curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(h, CURLOPT_READDATA, x);
        curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, on_seek);
        curl_easy_setopt(h, CURLOPT_SEEKDATA, x);
    }
    set_method(h, x->req);
}

static bool transient(CURLcode rc)
{
    switch (rc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return true;
    default:
        return false;
    }
}

/* The URL without its query (upload locations carry signed state). */
static int url_shown_len(const char *url)
{
    size_t n = strcspn(url, "?");
    return (int)(n > 300 ? 300 : n);
}

static int fail(CURLcode rc, const char *errbuf, const struct reg_request *req, const char *url,
                struct xfer *x, struct gantry_error **err)
{
    struct reg_response *r = x->resp;
    if (r->sink_err) {
        if (err) {
            gantry_error_free(*err);
            *err = steal_pointer(&r->sink_err);
        }
        return -1;
    }
    if (x->read_err) {
        if (err) {
            gantry_error_free(*err);
            *err = steal_pointer(&x->read_err);
        }
        return -1;
    }
    if (r->too_large)
        return gantry_error_set(err, GANTRY_E_TOO_LARGE, 0,
                                "%s '%.*s': response larger than %zu bytes", req->method,
                                url_shown_len(url), url, req->body_cap);
    r->transient = transient(rc);
    return gantry_error_set(err, GANTRY_E_NETWORK, 0, "%s '%.*s': %s", req->method,
                            url_shown_len(url), url, *errbuf ? errbuf : curl_easy_strerror(rc));
}

int reg_http_perform(struct gantry_registry_client *c, struct reg_host *host,
                     const struct reg_request *req, const char *url, const char *authorization,
                     struct reg_response *resp, struct gantry_error **err)
{
    struct xfer x = {.req = req, .resp = resp};
    char errbuf[CURL_ERROR_SIZE] = "";
    CURL *h = pool_take(c);
    curl_easy_reset(h);
    setup(h, c, &x, url);
    set_tls(h, host, url);
    struct curl_slist *headers = build_headers(req, authorization);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    CURLcode rc = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    /* Nothing of this request may stay on the pooled handle. */
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
    pool_give(c, h);
    curl_slist_free_all(headers);
    if (rc == CURLE_OK) {
        resp->status = status;
        return 0;
    }
    int r = fail(rc, errbuf, req, url, &x, err);
    gantry_error_free(x.read_err);
    return r;
}
