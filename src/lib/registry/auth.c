/*
 * Authorization for registry requests: Basic with the host's credentials,
 * or Bearer tokens from the challenge's realm (distribution token spec),
 * fetched anonymously or with credentials and cached per scope until
 * shortly before they expire. A token granted for "pull,push" also serves
 * "pull" on the same repository (reg_scope_covers).
 */
#include <inttypes.h>

#include "registry_internal.h"

/* Refresh this long before the expiry the server gave (10%, at most 10 s). */
static long margin_ms(long expires_in)
{
    long m = expires_in * 100;
    return m > 10000 ? 10000 : m;
}

static bool before(const struct timespec *a, const struct timespec *b)
{
    return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

static void entry_free(struct reg_token_entry *e)
{
    free(e->scope);
    if (e->header) {
        explicit_bzero(e->header, strlen(e->header));
        free(e->header);
    }
}

void reg_auth_forget(struct gantry_registry_client *c, struct reg_host *h)
{
    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; i < h->n_tokens; i++)
        entry_free(&h->tokens[i]);
    free(h->tokens);
    h->tokens = NULL;
    h->n_tokens = 0;
    pthread_mutex_unlock(&c->lock);
}

void reg_auth_learn(struct gantry_registry_client *c, struct reg_host *h,
                    const struct reg_challenge *ch)
{
    pthread_mutex_lock(&c->lock);
    h->auth = ch->scheme;
    free(h->realm);
    free(h->service);
    h->realm = ch->realm ? xstrdup(ch->realm) : NULL;
    h->service = ch->service ? xstrdup(ch->service) : NULL;
    pthread_mutex_unlock(&c->lock);
}

bool reg_auth_has_cred(struct gantry_registry_client *c, struct reg_host *h)
{
    pthread_mutex_lock(&c->lock);
    bool r = h->have_cred && (h->cred.username || h->cred.identity_token);
    pthread_mutex_unlock(&c->lock);
    return r;
}

/* A cached token covering scope; caller holds c->lock. */
static char *cached(struct reg_host *h, const char *scope)
{
    struct timespec now;
    reg_now(&now);
    for (size_t i = 0; i < h->n_tokens; i++)
        if (before(&now, &h->tokens[i].expires) &&
            reg_scope_covers(h->tokens[i].scope, scope ? scope : ""))
            return xstrdup(h->tokens[i].header);
    return NULL;
}

static void remember(struct gantry_registry_client *c, struct reg_host *h, const char *scope,
                     const char *header, long expires_in)
{
    struct reg_token_entry e = {.scope = xstrdup(scope ? scope : ""), .header = xstrdup(header)};
    reg_now(&e.expires);
    long ms = expires_in * 1000 - margin_ms(expires_in);
    e.expires.tv_sec += ms / 1000;
    e.expires.tv_nsec += (ms % 1000) * 1000000L;
    if (e.expires.tv_nsec >= 1000000000L) {
        e.expires.tv_sec++;
        e.expires.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; i < h->n_tokens; i++) {
        if (strcmp(h->tokens[i].scope, e.scope) == 0) {
            entry_free(&h->tokens[i]);
            h->tokens[i] = e;
            pthread_mutex_unlock(&c->lock);
            return;
        }
    }
    h->tokens = xrealloc(h->tokens, (h->n_tokens + 1) * sizeof(*h->tokens));
    h->tokens[h->n_tokens++] = e;
    pthread_mutex_unlock(&c->lock);
}

/* What a token request needs, copied out of the host under the lock. */
struct token_ask {
    char *realm;
    char *service;
    char *base;
    struct gantry_registry_credentials cred;
};

static void ask_release(struct token_ask *a)
{
    free(a->realm);
    free(a->service);
    free(a->base);
    gantry_registry_credentials_release(&a->cred);
}

static void ask_snapshot(struct gantry_registry_client *c, struct reg_host *h, struct token_ask *a)
{
    pthread_mutex_lock(&c->lock);
    a->realm = xstrdup_or_null(h->realm);
    a->service = xstrdup_or_null(h->service);
    a->base = xstrdup_or_null(h->base);
    if (h->have_cred) {
        a->cred.username = xstrdup_or_null(h->cred.username);
        a->cred.password = xstrdup_or_null(h->cred.password);
        a->cred.identity_token = xstrdup_or_null(h->cred.identity_token);
    }
    pthread_mutex_unlock(&c->lock);
}

/* Append each scope item as its own scope= parameter (Docker does). */
static char *token_url(const struct token_ask *a, const char *scope)
{
    char *url = xstrdup(a->realm);
    char *next;
    if (a->service) {
        next = reg_url_add_query(url, "service", a->service);
        free(url);
        url = next;
    }
    for (const char *p = scope ? scope : ""; *p;) {
        while (*p == ' ')
            p++;
        size_t n = strcspn(p, " ");
        if (n) {
            _cleanup_free_ char *item = xstrndup(p, n);
            next = reg_url_add_query(url, "scope", item);
            free(url);
            url = next;
        }
        p += n;
    }
    if (a->cred.username) {
        next = reg_url_add_query(url, "account", a->cred.username);
        free(url);
        url = next;
    }
    return url;
}

/* OAuth2 refresh-token grant for identity tokens (docker login with SSO). */
static char *oauth_form(const struct token_ask *a, const char *scope)
{
    char *tok = curl_easy_escape(NULL, a->cred.identity_token, 0);
    char *svc = curl_easy_escape(NULL, a->service ? a->service : "", 0);
    char *scp = curl_easy_escape(NULL, scope ? scope : "", 0);
    if (!tok || !svc || !scp)
        oom();
    char *form = xasprintf("grant_type=refresh_token&client_id=gantry&refresh_token=%s"
                           "&service=%s&scope=%s",
                           tok, svc, scp);
    curl_free(tok);
    curl_free(svc);
    curl_free(scp);
    return form;
}

int reg_realm_check(const char *base, const char *realm, struct gantry_error **err)
{
    _cleanup_free_ char *o = realm ? reg_url_origin(realm) : NULL;
    if (!o)
        return gantry_error_set(err, GANTRY_E_PARSE, 0, "invalid token realm '%.200s'",
                                realm ? realm : "");
    /* H3: credentials and tokens never travel over plain HTTP when the
     * registry itself is HTTPS (CVE-2019-10214). */
    if (base && strncmp(base, "https:", 6) == 0 && strncmp(o, "http:", 5) == 0)
        return gantry_error_set(err, GANTRY_E_DENIED, 0,
                                "refusing token realm '%.200s': plain HTTP for an HTTPS registry",
                                realm);
    return 0;
}

static int token_exchange(struct gantry_registry_client *c, const struct token_ask *a,
                          const char *scope, struct reg_response *resp, struct gantry_error **err)
{
    _cleanup_free_ char *form = a->cred.identity_token ? oauth_form(a, scope) : NULL;
    _cleanup_free_ char *url = form ? xstrdup(a->realm) : token_url(a, scope);
    _cleanup_free_ char *basic = NULL;
    if (!form && a->cred.username) {
        _cleanup_free_ char *pair =
            xasprintf("%s:%s", a->cred.username, a->cred.password ? a->cred.password : "");
        _cleanup_free_ char *b64 = reg_base64_encode(pair, strlen(pair));
        basic = xasprintf("Basic %s", b64);
        explicit_bzero(pair, strlen(pair));
        explicit_bzero(b64, strlen(b64));
    }
    struct reg_body body = {.mem = form, .len = form ? strlen(form) : 0};
    struct reg_request req = {
        .method = form ? "POST" : "GET",
        .content_type = form ? "application/x-www-form-urlencoded" : NULL,
        .body = form ? &body : NULL,
        .body_cap = GANTRY_TOKEN_MAX,
    };
    int max = c->opts.max_retries;
    struct timespec since;
    reg_now(&since);
    for (unsigned attempt = 0;; attempt++) {
        reg_response_reset(resp);
        _cleanup_error_ struct gantry_error *e = NULL;
        int r = reg_http_perform(c, NULL, &req, url, basic, resp, &e);
        bool again = r < 0 ? resp->transient : reg_status_retryable(resp->status);
        if (!again || (int)attempt >= max ||
            !reg_retry_wait(c, &since, attempt, r == 0 ? reg_retry_after_ms(c, resp) : -1)) {
            if (basic)
                explicit_bzero(basic, strlen(basic));
            if (r < 0 && err) {
                gantry_error_free(*err);
                *err = steal_pointer(&e);
            }
            return r;
        }
    }
}

static int fetch_token(struct gantry_registry_client *c, struct reg_host *h, const char *scope,
                       struct reg_token *tok, struct gantry_error **err)
{
    struct token_ask a = {0};
    ask_snapshot(c, h, &a);
    struct reg_response resp;
    reg_response_init(&resp);
    int r = reg_realm_check(a.base, a.realm, err);
    if (r == 0)
        r = token_exchange(c, &a, scope, &resp, err);
    if (r == 0 && (resp.status < 200 || resp.status > 299)) {
        _cleanup_free_ char *what = xasprintf("fetch token from '%.200s'", a.realm);
        r = reg_http_error(&resp, what, err);
    } else if (r == 0) {
        r = reg_token_parse(resp.body.data, resp.body.len, tok, err);
    } else {
        gantry_error_prefix(err, "fetch token");
    }
    gantry_log(GANTRY_LOG_DEBUG, "token for '%s' scope '%s': %s", h->name, scope ? scope : "",
               r == 0 ? "ok" : "failed");
    reg_response_release(&resp);
    ask_release(&a);
    return r;
}

static char *basic_header(struct gantry_registry_client *c, struct reg_host *h)
{
    pthread_mutex_lock(&c->lock);
    char *r = NULL;
    if (h->have_cred && h->cred.username) {
        _cleanup_free_ char *pair =
            xasprintf("%s:%s", h->cred.username, h->cred.password ? h->cred.password : "");
        _cleanup_free_ char *b64 = reg_base64_encode(pair, strlen(pair));
        r = xasprintf("Basic %s", b64);
        explicit_bzero(pair, strlen(pair));
        explicit_bzero(b64, strlen(b64));
    }
    pthread_mutex_unlock(&c->lock);
    return r;
}

int reg_auth_header(struct gantry_registry_client *c, struct reg_host *h, const char *scope,
                    bool fresh, char **out, struct gantry_error **err)
{
    *out = NULL;
    pthread_mutex_lock(&c->lock);
    enum reg_scheme scheme = h->auth;
    char *hit = scheme == REG_AUTH_BEARER && !fresh ? cached(h, scope) : NULL;
    pthread_mutex_unlock(&c->lock);
    if (scheme == REG_AUTH_BASIC) {
        *out = basic_header(c, h);
        return 0;
    }
    if (scheme != REG_AUTH_BEARER || hit) {
        *out = hit;
        return 0;
    }
    struct reg_token tok;
    if (fetch_token(c, h, scope, &tok, err) < 0)
        return -1;
    *out = xasprintf("Bearer %s", tok.token);
    remember(c, h, scope, *out, tok.expires_in);
    explicit_bzero(tok.token, strlen(tok.token));
    reg_token_release(&tok);
    return 0;
}
