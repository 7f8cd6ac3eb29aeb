/*
 * The client: options, the curl share and handle pool, hosts (scheme,
 * challenge, credentials, certificates), and the request loop that adds
 * auth, redirects and retries on top of reg_http_perform.
 */
#include <stdarg.h>

#include "registry_internal.h"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void share_lock(CURL *h, curl_lock_data data, curl_lock_access access, void *ud)
{
    (void)h;
    (void)access;
    struct gantry_registry_client *c = ud;
    pthread_mutex_lock(&c->share_locks[data]);
}

static void share_unlock(CURL *h, curl_lock_data data, void *ud)
{
    (void)h;
    struct gantry_registry_client *c = ud;
    pthread_mutex_unlock(&c->share_locks[data]);
}

static void opts_copy(struct gantry_registry_opts *o, const struct gantry_registry_opts *in)
{
    *o = *in;
    o->config_path = xstrdup_or_null(in->config_path);
    o->certs_dir = xstrdup(in->certs_dir ? in->certs_dir : "/etc/docker/certs.d");
    o->user_agent =
        in->user_agent ? xstrdup(in->user_agent) : xasprintf("gantry/%s", gantry_version());
    if (o->connect_timeout_ms <= 0)
        o->connect_timeout_ms = 30000;
    if (o->low_speed_time_s <= 0)
        o->low_speed_time_s = 30;
    if (o->max_retries == 0)
        o->max_retries = 4;
    if (o->max_retries < 0)
        o->max_retries = 0;
    if (o->retry_base_ms <= 0)
        o->retry_base_ms = 500;
    if (o->retry_after_max_s <= 0)
        o->retry_after_max_s = 60;
    if (o->retry_budget_ms <= 0)
        o->retry_budget_ms = 15000;
}

struct gantry_registry_client *gantry_registry_client_new(const struct gantry_registry_opts *opts,
                                                          struct gantry_error **err)
{
    pthread_once(&curl_once, curl_init);
    if (curl_init_rc != CURLE_OK) {
        gantry_error_set(err, GANTRY_E_INTERNAL, 0, "cannot initialise libcurl: %s",
                         curl_easy_strerror(curl_init_rc));
        return NULL;
    }
    struct gantry_registry_client *c = xcalloc(1, sizeof(*c));
    static const struct gantry_registry_opts none = {0};
    opts_copy(&c->opts, opts ? opts : &none);
    pthread_mutex_init(&c->lock, NULL);
    for (size_t i = 0; i < ARRAY_SIZE(c->share_locks); i++)
        pthread_mutex_init(&c->share_locks[i], NULL);
    if (!(c->share = curl_share_init()))
        oom();
    curl_share_setopt(c->share, CURLSHOPT_LOCKFUNC, share_lock);
    curl_share_setopt(c->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
    curl_share_setopt(c->share, CURLSHOPT_USERDATA, c);
    curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
    return c;
}

static void host_free(struct reg_host *h)
{
    free(h->name);
    free(h->base);
    free(h->origin);
    free(h->realm);
    free(h->service);
    gantry_registry_credentials_release(&h->cred);
    for (size_t i = 0; i < h->n_tokens; i++) {
        free(h->tokens[i].scope);
        explicit_bzero(h->tokens[i].header, strlen(h->tokens[i].header));
        free(h->tokens[i].header);
    }
    free(h->tokens);
    free(h->ca_blob);
    free(h->client_cert);
    free(h->client_key);
    pthread_mutex_destroy(&h->ping_lock);
    free(h);
}

void gantry_registry_client_free(struct gantry_registry_client *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n_pool; i++)
        curl_easy_cleanup(c->pool[i]);
    free(c->pool);
    curl_share_cleanup(c->share);
    for (size_t i = 0; i < c->n_hosts; i++)
        host_free(c->hosts[i]);
    free(c->hosts);
    for (size_t i = 0; i < ARRAY_SIZE(c->share_locks); i++)
        pthread_mutex_destroy(&c->share_locks[i]);
    pthread_mutex_destroy(&c->lock);
    free((char *)c->opts.config_path);
    free((char *)c->opts.certs_dir);
    free((char *)c->opts.user_agent);
    free(c);
}

static void cred_copy(struct gantry_registry_credentials *dst,
                      const struct gantry_registry_credentials *src)
{
    dst->username = xstrdup_or_null(src->username);
    dst->password = xstrdup_or_null(src->password);
    dst->identity_token = xstrdup_or_null(src->identity_token);
}

static int host_load_cred(struct gantry_registry_client *c, struct reg_host *h,
                          struct gantry_error **err)
{
    if (c->opts.credentials) {
        cred_copy(&h->cred, c->opts.credentials);
        h->have_cred = true;
        return 0;
    }
    _cleanup_free_ char *def = c->opts.config_path ? NULL : gantry_registry_config_path(NULL);
    const char *path = c->opts.config_path ? c->opts.config_path : def;
    if (!path)
        return 0; /* no HOME: anonymous */
    if (gantry_registry_config_get(path, h->name, &h->cred, err) < 0)
        return gantry_error_prefix(err, "credentials for '%s'", h->name);
    h->have_cred = h->cred.username || h->cred.identity_token;
    return 0;
}

static struct reg_host *host_find(struct gantry_registry_client *c, const char *domain)
{
    for (size_t i = 0; i < c->n_hosts; i++)
        if (strcmp(c->hosts[i]->name, domain) == 0)
            return c->hosts[i];
    return NULL;
}

struct reg_host *reg_host_get(struct gantry_registry_client *c, const char *domain,
                              struct gantry_error **err)
{
    pthread_mutex_lock(&c->lock);
    struct reg_host *h = host_find(c, domain);
    pthread_mutex_unlock(&c->lock);
    if (h)
        return h;
    h = xcalloc(1, sizeof(*h));
    h->name = xstrdup(domain);
    pthread_mutex_init(&h->ping_lock, NULL);
    if (host_load_cred(c, h, err) < 0 || reg_host_load_certs(h, c->opts.certs_dir, err) < 0) {
        host_free(h);
        return NULL;
    }
    pthread_mutex_lock(&c->lock);
    struct reg_host *other = host_find(c, domain);
    if (!other) {
        c->hosts = xrealloc(c->hosts, (c->n_hosts + 1) * sizeof(*c->hosts));
        c->hosts[c->n_hosts++] = h;
    }
    pthread_mutex_unlock(&c->lock);
    if (other) {
        host_free(h);
        return other;
    }
    return h;
}

/* Remember the challenge of a 401 answer to the ping. */
static int ping_challenge(struct gantry_registry_client *c, struct reg_host *h,
                          const struct reg_response *resp, struct gantry_error **err)
{
    if (resp->header_too_large)
        return gantry_error_set(err, GANTRY_E_TOO_LARGE, 0,
                                "invalid authentication challenge: longer than %u bytes",
                                REG_CHALLENGE_MAX);
    if (resp->www_auth.len == 0)
        return gantry_error_set_http(err, GANTRY_E_UNAUTHORIZED, 401,
                                     "HTTP 401 unauthorized, no challenge (WWW-Authenticate)");
    struct reg_challenge ch;
    if (reg_challenge_parse(resp->www_auth.data, resp->www_auth.len, &ch, err) < 0)
        return -1;
    reg_auth_learn(c, h, &ch);
    reg_challenge_release(&ch);
    return 0;
}

static void host_set_base(struct reg_host *h, const char *scheme, bool insecure_tls)
{
    free(h->base);
    free(h->origin);
    h->base = xasprintf("%s://%s", scheme, reg_api_host(h->name));
    h->origin = reg_url_origin(h->base);
    h->plain_http = strcmp(scheme, "http") == 0;
    h->insecure_tls = insecure_tls;
}

/* GET /v2/ on one scheme, with retries only when it is the last choice. */
static int ping_once(struct gantry_registry_client *c, struct reg_host *h, bool last,
                     struct reg_response *resp, struct gantry_error **err)
{
    _cleanup_free_ char *url = xasprintf("%s/v2/", h->base);
    struct reg_request req = {.method = "GET", .body_cap = REG_ERROR_BODY_MAX};
    int max = last ? c->opts.max_retries : 0;
    struct timespec since;
    reg_now(&since);
    for (unsigned attempt = 0;; attempt++) {
        reg_response_reset(resp);
        _cleanup_error_ struct gantry_error *e = NULL;
        int r = reg_http_perform(c, h, &req, url, NULL, resp, &e);
        bool again = r < 0 ? resp->transient : reg_status_retryable(resp->status);
        if (!again || (int)attempt >= max ||
            !reg_retry_wait(c, &since, attempt, r == 0 ? reg_retry_after_ms(c, resp) : -1)) {
            if (r < 0 && err) {
                gantry_error_free(*err);
                *err = steal_pointer(&e);
            }
            return r;
        }
    }
}

static int ping_host(struct gantry_registry_client *c, struct reg_host *h,
                     struct reg_response *resp, struct gantry_error **err)
{
    bool plain_ok = c->opts.insecure || reg_host_is_loopback(h->name);
    host_set_base(h, "https", plain_ok);
    _cleanup_error_ struct gantry_error *tls_err = NULL;
    int r = ping_once(c, h, !plain_ok, resp, plain_ok ? &tls_err : err);
    if (r < 0 && plain_ok) {
        /* Docker's insecure-registry fallback; never for other hosts (H16). */
        gantry_log(GANTRY_LOG_DEBUG, "'%s': https failed (%s), trying http", h->name,
                   tls_err->message);
        host_set_base(h, "http", false);
        r = ping_once(c, h, true, resp, err);
    }
    if (r < 0)
        return gantry_error_prefix(err, "ping '%s'", h->name);
    if (resp->status == 401 && ping_challenge(c, h, resp, err) < 0)
        return gantry_error_prefix(err, "ping '%s'", h->name);
    if (reg_status_retryable(resp->status)) {
        _cleanup_free_ char *what = xasprintf("ping '%s'", h->name);
        return reg_http_error(resp, what, err);
    }
    return 0;
}

int reg_host_ready(struct gantry_registry_client *c, struct reg_host *h, struct gantry_error **err)
{
    pthread_mutex_lock(&h->ping_lock);
    int r = 0;
    if (!h->ready) {
        struct reg_response resp;
        reg_response_init(&resp);
        r = ping_host(c, h, &resp, err);
        reg_response_release(&resp);
        h->ready = r == 0;
    }
    pthread_mutex_unlock(&h->ping_lock);
    return r;
}

static bool is_redirect(long status)
{
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

static int next_hop(char **url, const struct reg_response *resp, int hops,
                    struct gantry_error **err)
{
    if (hops > REG_REDIRECTS_MAX)
        return gantry_error_set(err, GANTRY_E_NETWORK, 0, "too many redirects (more than %d)",
                                REG_REDIRECTS_MAX);
    if (!resp->location)
        return gantry_error_set_http(err, GANTRY_E_NETWORK, (int)resp->status,
                                     "HTTP %ld redirect without Location", resp->status);
    char *next = NULL;
    if (reg_url_resolve(*url, resp->location, &next, err) < 0)
        return gantry_error_prefix(err, "redirect");
    if (strncmp(*url, "https:", 6) == 0 && strncmp(next, "http:", 5) == 0) {
        gantry_error_set(err, GANTRY_E_DENIED, 0,
                         "refusing redirect from https to plain http '%.*s'",
                         (int)strcspn(next, "?"), next);
        free(next);
        return -1;
    }
    gantry_log(GANTRY_LOG_DEBUG, "redirect to '%.*s'", (int)strcspn(next, "?"), next);
    free(*url);
    *url = next;
    return 0;
}

static bool url_is_own(const char *url, const struct reg_host *h)
{
    _cleanup_free_ char *o = reg_url_origin(url);
    return o && h->origin && strcmp(o, h->origin) == 0;
}

static const char *no_cred_hint(struct gantry_registry_client *c, struct reg_host *h)
{
    return reg_auth_has_cred(c, h) ? "" : " (no credentials for this registry: see 'gantry login')";
}

/*
 * A 401 from the registry: learn the challenge and get new credentials
 * once. Returns 1 to send again, 0 to let the 401 stand, -1 on error.
 */
static int answer(struct gantry_registry_client *c, struct reg_host *h,
                  const struct reg_request *req, const struct reg_response *resp, bool answered,
                  char **auth, struct gantry_error **err)
{
    if (answered && *auth && strncmp(*auth, "Bearer ", 7) == 0) {
        _cleanup_free_ char *detail = reg_errors_render(resp->body.data, resp->body.len);
        return gantry_error_set_http(err, GANTRY_E_UNAUTHORIZED, 401,
                                     "HTTP 401 unauthorized: a new token for scope '%s' was "
                                     "refused%s%s%s",
                                     req->scope ? req->scope : "", detail ? ": " : "",
                                     detail ? detail : "", no_cred_hint(c, h));
    }
    if (answered)
        return 0;
    if (ping_challenge(c, h, resp, err) < 0)
        return -1;
    pthread_mutex_lock(&c->lock);
    enum reg_scheme scheme = h->auth;
    pthread_mutex_unlock(&c->lock);
    bool sent_basic = *auth && strncmp(*auth, "Basic ", 6) == 0;
    if (scheme == REG_AUTH_BASIC && !sent_basic && !reg_auth_has_cred(c, h))
        return gantry_error_set_http(err, GANTRY_E_UNAUTHORIZED, 401,
                                     "HTTP 401 unauthorized: authentication required%s",
                                     no_cred_hint(c, h));
    if (scheme == REG_AUTH_BASIC && sent_basic)
        return 0;
    _cleanup_free_ char *scope = NULL;
    if (scheme == REG_AUTH_BEARER) {
        struct reg_challenge ch;
        if (reg_challenge_parse(resp->www_auth.data, resp->www_auth.len, &ch, err) < 0)
            return -1;
        scope = reg_scope_merge(req->scope, ch.scope);
        reg_challenge_release(&ch);
    }
    free(*auth);
    *auth = NULL;
    return reg_auth_header(c, h, scope, true, auth, err) < 0 ? -1 : 1;
}

static void wipe(char **s)
{
    if (*s) {
        explicit_bzero(*s, strlen(*s));
        free(*s);
        *s = NULL;
    }
}

/* One logical request: auth, the challenge answered once, redirects. */
static int exchange(struct gantry_registry_client *c, struct reg_host *h,
                    const struct reg_request *req, struct reg_response *resp,
                    struct gantry_error **err)
{
    _cleanup_free_ char *url = req->url ? xstrdup(req->url) : xasprintf("%s%s", h->base, req->path);
    char *auth = NULL;
    int r = reg_auth_header(c, h, req->scope, false, &auth, err);
    bool answered = false;
    for (int hops = 0; r == 0;) {
        bool own = url_is_own(url, h);
        reg_response_reset(resp);
        if ((r = reg_http_perform(c, h, req, url, own ? auth : NULL, resp, err)) < 0)
            break;
        if (is_redirect(resp->status) && req->follow_redirects) {
            r = next_hop(&url, resp, ++hops, err);
            continue;
        }
        if (resp->status == 401 && own) {
            int a = answer(c, h, req, resp, answered, &auth, err);
            answered = true;
            if (a != 0) {
                r = a < 0 ? -1 : 0;
                if (a > 0)
                    continue;
            }
        }
        break;
    }
    wipe(&auth);
    free(resp->url);
    resp->url = steal_pointer(&url);
    return r;
}

int reg_request_do(struct gantry_registry_client *c, struct reg_host *h,
                   const struct reg_request *req, bool retry, struct reg_response *resp,
                   struct gantry_error **err)
{
    if (reg_host_ready(c, h, err) < 0)
        return -1;
    int max = retry ? c->opts.max_retries : 0;
    struct timespec since;
    reg_now(&since);
    for (unsigned attempt = 0;; attempt++) {
        _cleanup_error_ struct gantry_error *e = NULL;
        int r = exchange(c, h, req, resp, &e);
        bool again = r < 0 ? resp->transient : reg_status_retryable(resp->status);
        bool stop = !again || (int)attempt >= max || resp->delivered > 0;
        if (!stop) {
            gantry_log(GANTRY_LOG_DEBUG, "%s '%s': %s, retrying", req->method, h->name,
                       r < 0 ? e->message : "busy");
            stop = !reg_retry_wait(c, &since, attempt, r == 0 ? reg_retry_after_ms(c, resp) : -1);
        }
        if (stop) {
            if (r < 0 && err) {
                gantry_error_free(*err);
                *err = steal_pointer(&e);
            }
            return r;
        }
    }
}

bool reg_status_retryable(long status)
{
    return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

long reg_retry_after_ms(const struct gantry_registry_client *c, const struct reg_response *resp)
{
    long secs;
    if (!resp || !reg_status_retryable(resp->status) || !resp->retry_after ||
        reg_retry_after_parse(resp->retry_after, strlen(resp->retry_after), time(NULL), &secs) < 0)
        return -1;
    return (secs < c->opts.retry_after_max_s ? secs : c->opts.retry_after_max_s) * 1000L;
}

static long ms_since(const struct timespec *t)
{
    struct timespec now;
    reg_now(&now);
    return (long)(now.tv_sec - t->tv_sec) * 1000L + (now.tv_nsec - t->tv_nsec) / 1000000L;
}

bool reg_retry_wait(struct gantry_registry_client *c, const struct timespec *since,
                    unsigned attempt, long retry_after_ms)
{
    long left = c->opts.retry_budget_ms - ms_since(since);
    if (left <= 0)
        return false;
    if (retry_after_ms > left) {
        /* Retrying sooner than asked would only be refused again. */
        gantry_log(GANTRY_LOG_DEBUG, "the registry asks to wait %ld s: beyond the retry budget",
                   retry_after_ms / 1000);
        return false;
    }
    long ms = retry_after_ms;
    if (ms < 0) {
        ms = c->opts.retry_base_ms;
        for (unsigned i = 0; i < attempt && ms < REG_BACKOFF_MAX_MS; i++)
            ms *= 2;
        ms += random() % (ms / 2 + 1);
        if (ms > left)
            ms = left;
    }
    reg_sleep_ms(ms);
    return true;
}

static const char *reason(long status)
{
    switch (status) {
    case 400:
        return "bad request";
    case 401:
        return "unauthorized";
    case 403:
        return "forbidden";
    case 404:
        return "not found";
    case 405:
        return "method not allowed";
    case 409:
        return "conflict";
    case 413:
        return "payload too large";
    case 416:
        return "range not satisfiable";
    case 429:
        return "too many requests";
    case 500:
        return "internal server error";
    case 502:
        return "bad gateway";
    case 503:
        return "service unavailable";
    case 504:
        return "gateway timeout";
    default:
        return "unexpected status";
    }
}

static enum gantry_error_code status_code(long status)
{
    switch (status) {
    case 400:
    case 416:
        return GANTRY_E_INVALID_ARG;
    case 401:
        return GANTRY_E_UNAUTHORIZED;
    case 403:
        return GANTRY_E_DENIED;
    case 404:
        return GANTRY_E_NOT_FOUND;
    case 405:
        return GANTRY_E_UNSUPPORTED;
    case 413:
        return GANTRY_E_TOO_LARGE;
    default:
        return GANTRY_E_NETWORK;
    }
}

/* A printable, whitespace-collapsed excerpt of a body that is not OCI JSON (H15). */
static char *excerpt(const char *data, size_t len)
{
    struct gantry_buf b = GANTRY_BUF_INIT;
    bool space = false;
    for (size_t i = 0; i < len && b.len < REG_EXCERPT_MAX; i++) {
        unsigned char ch = (unsigned char)data[i];
        if (ch <= ' ' || ch == 0x7f) {
            space = b.len > 0;
            continue;
        }
        if ((space && gantry_buf_add(&b, " ", 1) < 0) ||
            gantry_buf_add(&b, ch < 0x80 ? (const char *)&ch : "?", 1) < 0)
            oom();
        space = false;
    }
    if (b.len && b.len >= REG_EXCERPT_MAX && gantry_buf_addstr(&b, "...") < 0)
        oom();
    return b.len ? gantry_buf_detach(&b, NULL) : (gantry_buf_release(&b), NULL);
}

int reg_http_error(const struct reg_response *resp, const char *what, struct gantry_error **err)
{
    _cleanup_free_ char *detail = reg_errors_render(resp->body.data, resp->body.len);
    if (!detail)
        detail = excerpt(resp->body.data, resp->body.len);
    /* A Retry-After the retries could not honour: say how long to wait. */
    _cleanup_free_ char *after = reg_status_retryable(resp->status) && resp->retry_after
                                     ? xasprintf(" (retry after %.40s)", resp->retry_after)
                                     : NULL;
    return gantry_error_set_http(err, status_code(resp->status), (int)resp->status,
                                 "%s%sHTTP %ld %s%s%s%s", what ? what : "", what ? ": " : "",
                                 resp->status, reason(resp->status), detail ? ": " : "",
                                 detail ? detail : "", after ? after : "");
}

char *reg_v2_path(const struct gantry_ref *ref, const char *fmt, ...)
{
    va_list ap;
    char *rest = NULL;
    va_start(ap, fmt);
    rest = xvasprintf(fmt, ap);
    va_end(ap);
    char *p = xasprintf("/v2/%s/%s", ref->path, rest);
    free(rest);
    return p;
}

char *reg_ref_name(const struct gantry_ref *ref)
{
    return gantry_ref_to_string(ref);
}

void reg_now(struct timespec *ts)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
}

void reg_sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static int auth_check(struct gantry_registry_client *c, struct reg_host *h,
                      struct gantry_error **err)
{
    struct reg_request req = {.method = "GET", .path = "/v2/", .body_cap = REG_ERROR_BODY_MAX};
    struct reg_response resp;
    reg_response_init(&resp);
    int r = reg_request_do(c, h, &req, true, &resp, err);
    if (r == 0 && resp.status != 200)
        r = reg_http_error(&resp, "GET /v2/", err);
    reg_response_release(&resp);
    return r;
}

int gantry_registry_ping(struct gantry_registry_client *c, const char *host,
                         struct gantry_error **err)
{
    struct reg_host *h = reg_host_get(c, host, err);
    if (!h || reg_host_ready(c, h, err) < 0)
        return -1;
    pthread_mutex_lock(&c->lock);
    bool needs_auth = h->auth != REG_AUTH_NONE;
    pthread_mutex_unlock(&c->lock);
    if (needs_auth && auth_check(c, h, err) < 0)
        return gantry_error_prefix(err, "ping '%s'", host);
    return 0;
}

/* The reference domain of a login server ("https://index.docker.io/v1/" is docker.io). */
static char *login_domain(const char *server, struct gantry_error **err)
{
    char *key = gantry_registry_server_key(server, err);
    if (key && strcmp(key, GANTRY_REGISTRY_DOCKER_HUB_KEY) == 0) {
        free(key);
        return xstrdup("docker.io");
    }
    return key;
}

int gantry_registry_login(struct gantry_registry_client *c, const char *server,
                          const struct gantry_registry_credentials *cred, struct gantry_error **err)
{
    _cleanup_free_ char *domain = login_domain(server, err);
    struct reg_host *h = domain ? reg_host_get(c, domain, err) : NULL;
    if (!h)
        return -1;
    pthread_mutex_lock(&c->lock);
    gantry_registry_credentials_release(&h->cred);
    cred_copy(&h->cred, cred);
    h->have_cred = true;
    pthread_mutex_unlock(&c->lock);
    reg_auth_forget(c, h);
    if (reg_host_ready(c, h, err) < 0)
        return gantry_error_prefix(err, "login '%s'", domain);
    pthread_mutex_lock(&c->lock);
    bool needs_auth = h->auth != REG_AUTH_NONE;
    pthread_mutex_unlock(&c->lock);
    _cleanup_error_ struct gantry_error *e = NULL;
    if (!needs_auth || auth_check(c, h, &e) == 0)
        return 0;
    if (e->code == GANTRY_E_UNAUTHORIZED)
        gantry_error_set_http(err, e->code, e->http_status,
                              "login '%s': wrong username or password: %s", domain, e->message);
    else
        gantry_error_set_http(err, e->code, e->http_status, "login '%s': %s", domain, e->message);
    return -1;
}
