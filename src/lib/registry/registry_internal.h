/*
 * Internal interfaces of the registry module. libcurl stays inside
 * registry/; the pure parsers (challenge.c, headers.c, url.c, json.c) take
 * (const char *, size_t) and are unit-tested and fuzzable on their own.
 */
#ifndef GANTRY_REGISTRY_INTERNAL_H
#define GANTRY_REGISTRY_INTERNAL_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include <curl/curl.h>

#include <gantry/registry.h>

#include "util.h"

#define REG_CHALLENGE_MAX GANTRY_TOKEN_MAX      /* WWW-Authenticate, bounded (H2) */
#define REG_CHALLENGE_PARAMS_MAX 32             /* auth-params per header */
#define REG_ERROR_BODY_MAX 8192                 /* kept of an error body */
#define REG_EXCERPT_MAX 160                     /* shown of a non-JSON error body (H15) */
#define REG_REDIRECTS_MAX 10                    /* as containerd (H10) */
#define REG_CHUNK_DEFAULT (32u * 1024u * 1024u) /* larger blobs: one streamed PATCH */
#define REG_SEND_BUFFER (1024L * 1024L)         /* curl's upload buffer for blob bodies */
#define REG_RECV_BUFFER (256L * 1024L)          /* curl's receive buffer for blob bodies */
#define REG_TAG_PAGES_MAX 10000
#define REG_HEADER_MAX GANTRY_TOKEN_MAX /* any one captured response header */
#define REG_BACKOFF_MAX_MS 8000L        /* longest backoff between two retries */

/* challenge.c: WWW-Authenticate (RFC 7235) */

enum reg_scheme {
    REG_AUTH_NONE,
    REG_AUTH_BASIC,
    REG_AUTH_BEARER,
};

struct reg_challenge {
    enum reg_scheme scheme;
    char *realm; /* NULL when absent (Basic) */
    char *service;
    char *scope;
    char *error; /* Bearer error="insufficient_scope" ... */
};

/*
 * Parse a WWW-Authenticate value, possibly several challenges joined by
 * commas, and keep the one gantry answers: Bearer first, else Basic.
 * Errors (GANTRY_E_PARSE, GANTRY_E_TOO_LARGE above 64 KiB): empty header,
 * unterminated quoted string, malformed parameter, too many parameters,
 * Bearer without realm, only unknown schemes ("unsupported authentication
 * scheme 'X'"). *out is zeroed first and left zeroed on failure.
 */
int reg_challenge_parse(const char *s, size_t len, struct reg_challenge *out,
                        struct gantry_error **err);
void reg_challenge_release(struct reg_challenge *c);

/* scope.c: token scopes "repository:<path>:pull,push", space separated */

/* "repository:<path>:<actions>" for one repository; caller frees. */
char *reg_scope_repo(const char *path, const char *actions);
/* True when every item of want is granted by have (same type and name,
 * actions a superset; "*" grants everything). */
bool reg_scope_covers(const char *have, const char *want);
/* want plus the items of extra it does not cover; caller frees. */
char *reg_scope_merge(const char *want, const char *extra);

/* headers.c: other response and request headers */

/*
 * From a Link header value, the URL of rel="next" (quoted or not, any
 * order of parameters, several links separated by commas). Returns 1 with
 * *url (caller frees), 0 when there is none, -1 (GANTRY_E_PARSE) when
 * malformed.
 */
int reg_link_next(const char *s, size_t len, char **url, struct gantry_error **err);

/*
 * Retry-After: delta-seconds, or an HTTP-date (IMF-fixdate) compared with
 * now. Dates in the past give 0. Returns 0 with *seconds, -1 when invalid.
 */
int reg_retry_after_parse(const char *s, size_t len, time_t now, long *seconds);

/*
 * Upload status Range "0-<end>" (also "bytes=0-<end>"): *next = end + 1.
 * "0-0" after an empty upload is ambiguous; registries send it for one
 * byte, so it means 1. Returns 0, or -1 when malformed.
 */
int reg_upload_range_parse(const char *s, size_t len, uint64_t *next);

/* Response Content-Range "bytes <start>-<end>/<total|*>": *start. 0 / -1. */
int reg_content_range_start(const char *s, size_t len, uint64_t *start);

/* "Content-Range: <start>-<end>" of an upload chunk; caller frees. */
char *reg_chunk_range_header(uint64_t start, uint64_t len);

/* base64 (RFC 4648 with padding). Caller frees the result. */
char *reg_base64_encode(const void *data, size_t len);
/* NULL when s is not valid base64; *out_len gets the decoded size. */
char *reg_base64_decode(const char *s, size_t len, size_t *out_len);

/* url.c */

/*
 * Resolve ref (a Location or Link target: absolute, or relative to base)
 * into an absolute URL. Only http and https results are allowed (H10,
 * "file://" refused). Errors: GANTRY_E_PARSE, GANTRY_E_DENIED.
 */
int reg_url_resolve(const char *base, const char *ref, char **out, struct gantry_error **err);
/*
 * "scheme://host:port" of an absolute URL, lower-cased with the default port
 * explicit, for same-origin checks; NULL when it is not a valid http(s) URL.
 */
char *reg_url_origin(const char *url);
/* Append "key=value" to url's query with '?' or '&'; value is escaped. */
char *reg_url_add_query(const char *url, const char *key, const char *value);
/* True for hosts Docker treats as insecure by default: localhost,
 * 127.0.0.0/8, ::1 (a ":port" and IPv6 brackets are allowed). */
bool reg_host_is_loopback(const char *host);
/* The host that serves the API of a reference domain (docker.io is
 * registry-1.docker.io); borrowed or a static string. */
const char *reg_api_host(const char *domain);
/* True for http(s) URL schemes and a host part in s ("https://x/..."). */
bool reg_has_scheme(const char *s);

/* json.c: the small JSON documents of the protocol (jansson) */

struct reg_token {
    char *token;
    long expires_in; /* seconds; 60 when absent or not positive */
};
/* Token response: "token" or "access_token" (RFC 6750). GANTRY_E_PARSE. */
int reg_token_parse(const char *data, size_t len, struct reg_token *out, struct gantry_error **err);
void reg_token_release(struct reg_token *t);

/*
 * Readable form of an OCI error body {"errors":[{"code","message"}]}:
 * "MANIFEST_UNKNOWN: manifest unknown; ..." (bounded), or NULL when the body
 * is not one.
 */
char *reg_errors_render(const char *data, size_t len);

/* Tags list {"name": ..., "tags": [...] | null}; appends to *tags. */
int reg_tags_parse(const char *data, size_t len, char ***tags, size_t *n,
                   struct gantry_error **err);

/* Credential helper `get` output {"ServerURL","Username","Secret"}. */
int reg_helper_parse(const char *data, size_t len, struct gantry_registry_credentials *out,
                     struct gantry_error **err);
/* Credential helper `store` input; caller frees. */
char *reg_helper_store_input(const char *server_url, const struct gantry_registry_credentials *c);

/* What a config.json says about one server. */
struct reg_config_entry {
    char *helper;                            /* credHelpers match, else credsStore, or NULL */
    char *helper_key;                        /* server string to give the helper */
    struct gantry_registry_credentials auth; /* from "auths", may be all NULL */
};
/*
 * Look up key (gantry_registry_server_key form) in a config.json body:
 * credHelpers, credsStore, and the "auths" entry whose key names the same
 * host (scheme and path ignored, Docker Hub aliases equal).
 */
int reg_config_lookup(const char *data, size_t len, const char *key, struct reg_config_entry *out,
                      struct gantry_error **err);
void reg_config_entry_release(struct reg_config_entry *e);
/*
 * Rewrite a config.json body (len 0: a new one) with auths[key] set to the
 * encoded credentials, or removed when cred is NULL (*found tells whether
 * one was there). Other members are kept. Output is indented with tabs,
 * as Docker writes it.
 */
int reg_config_edit(const char *data, size_t len, const char *key,
                    const struct gantry_registry_credentials *cred, struct gantry_buf *out,
                    bool *found, struct gantry_error **err);

/* config.c: credential helpers */

/*
 * Run docker-credential-<helper> <action> with input on stdin; output
 * (capped at 64 KiB) into out. Returns 0 on exit status 0; 1 when the
 * helper said "credentials not found"; -1 on other failures.
 */
int reg_helper_run(const char *helper, const char *action, const char *input,
                   struct gantry_buf *out, struct gantry_error **err);

/* http.c: one HTTP exchange over a curl handle */

/* A request body: memory, or a pread-style source. */
struct reg_body {
    const char *mem;
    gantry_registry_read_fn read;
    void *user;
    uint64_t offset; /* of the source where this body starts */
    uint64_t len;
};

struct reg_request {
    const char *method; /* GET HEAD PUT POST PATCH DELETE */
    const char *path;   /* "/v2/..." on the host's origin, or */
    const char *url;    /* an absolute URL (upload locations) */
    const char *scope;  /* token scope, NULL for none */
    const char *accept;
    const char *content_type;
    const char *extra_header; /* "Range: ...", "Content-Range: ..." or NULL */
    const struct reg_body *body;
    bool follow_redirects;
    /* The 2xx body goes to sink, else into the response buffer (cap). */
    gantry_registry_write_fn sink;
    void *sink_user;
    size_t body_cap;
};

struct reg_response {
    long status;
    char *url;                  /* final URL, after redirects */
    struct gantry_buf body;     /* 2xx body (no sink), or error body excerpt */
    struct gantry_buf www_auth; /* WWW-Authenticate values, comma-joined */
    struct gantry_buf link;
    char *content_type;
    char *location;
    char *digest; /* Docker-Content-Digest */
    char *range;
    char *content_range;
    char *retry_after;
    int64_t content_length; /* -1 when unknown */
    uint64_t delivered;     /* bytes handed to the sink */
    bool too_large;         /* the body passed body_cap */
    bool header_too_large;
    bool transient;                /* a transport error worth retrying */
    struct gantry_error *sink_err; /* the sink's error, when it stopped */
};

void reg_response_init(struct reg_response *r);
void reg_response_release(struct reg_response *r);
/* Forget the previous exchange (redirect, retry), keeping delivered. */
void reg_response_reset(struct reg_response *r);

struct reg_host;
struct gantry_registry_client;

/*
 * Perform one exchange on url, no redirects, no retries; authorization is
 * the whole header or NULL. 0 when an HTTP response came (any status), -1
 * on a transport error (GANTRY_E_NETWORK, resp->transient set when
 * retrying makes sense) or when the sink failed.
 */
int reg_http_perform(struct gantry_registry_client *c, struct reg_host *h,
                     const struct reg_request *req, const char *url, const char *authorization,
                     struct reg_response *resp, struct gantry_error **err);

/* client.c: hosts, auth, the request loop */

struct reg_token_entry {
    char *scope;
    char *header; /* "Bearer ..." */
    struct timespec expires;
};

struct reg_host {
    char *name;   /* reference domain, "127.0.0.1:5000" */
    char *base;   /* "https://host[:port]": URLs are base + "/v2/..." */
    char *origin; /* "https://host:443" of base, for same-origin checks */
    bool plain_http;
    bool insecure_tls;
    bool ready; /* pinged */
    enum reg_scheme auth;
    char *realm;
    char *service;
    bool have_cred;
    struct gantry_registry_credentials cred;
    struct reg_token_entry *tokens;
    size_t n_tokens;
    char *ca_blob; /* system CAs + the host's certs.d CAs, or NULL */
    size_t ca_len;
    char *client_cert; /* a certs.d client certificate and its key */
    char *client_key;
    pthread_mutex_t ping_lock;
};

struct gantry_registry_client {
    struct gantry_registry_opts opts; /* strings owned (except credentials) */
    CURLSH *share;
    pthread_mutex_t share_locks[CURL_LOCK_DATA_LAST];
    pthread_mutex_t lock; /* hosts, tokens, pool */
    CURL **pool;
    size_t n_pool;
    struct reg_host **hosts;
    size_t n_hosts;
};

/* The host of a reference domain, created (with its credentials) on first use. */
struct reg_host *reg_host_get(struct gantry_registry_client *c, const char *domain,
                              struct gantry_error **err);
/* Ping once per host: scheme and challenge. */
int reg_host_ready(struct gantry_registry_client *c, struct reg_host *h, struct gantry_error **err);

/*
 * One logical request with auth (challenge answered once, H4), redirects
 * (GET/HEAD, H9, H10) and, when retry is set, bounded retries with backoff
 * on transport errors, 429 and 5xx (H5, H6). An HTTP error status is not
 * an error here: the caller maps it with reg_http_error.
 */
int reg_request_do(struct gantry_registry_client *c, struct reg_host *h,
                   const struct reg_request *req, bool retry, struct reg_response *resp,
                   struct gantry_error **err);

/* True for 429 and the 5xx statuses worth retrying. */
bool reg_status_retryable(long status);
/*
 * The Retry-After of a retryable answer (429, 5xx) in ms, capped at
 * opts.retry_after_max_s; -1 when resp is NULL or has none.
 */
long reg_retry_after_ms(const struct gantry_registry_client *c, const struct reg_response *resp);
/*
 * Wait before retry number attempt (0-based) of something failing since
 * *since: retry_after_ms when >= 0, else exponential backoff from
 * opts.retry_base_ms (at most REG_BACKOFF_MAX_MS) with jitter, cut to what
 * is left of opts.retry_budget_ms. Returns false without waiting when the
 * budget is spent or a Retry-After does not fit in it: give up then.
 */
bool reg_retry_wait(struct gantry_registry_client *c, const struct timespec *since,
                    unsigned attempt, long retry_after_ms);

/*
 * Fill *err for an HTTP error response: code from the status, message
 * "[<what>: ]HTTP <status> <reason>[: <OCI errors or body excerpt>]"
 * (what may be NULL). Returns -1.
 */
int reg_http_error(const struct reg_response *resp, const char *what, struct gantry_error **err);

/* "/v2/<path>/<rest>"; caller frees. */
char *reg_v2_path(const struct gantry_ref *ref, const char *fmt, ...) GANTRY_PRINTF(2, 3);
/* "domain/path" for messages; caller frees. */
char *reg_ref_name(const struct gantry_ref *ref);

/* auth.c: the Authorization header of a request */

/* The header value for scope on h ("Bearer ..." or "Basic ..."), or NULL
 * when the host asks for none; fresh skips the token cache. */
int reg_auth_header(struct gantry_registry_client *c, struct reg_host *h, const char *scope,
                    bool fresh, char **out, struct gantry_error **err);
/* Remember a challenge for the host. */
void reg_auth_learn(struct gantry_registry_client *c, struct reg_host *h,
                    const struct reg_challenge *ch);
/* Drop every cached token of the host. */
void reg_auth_forget(struct gantry_registry_client *c, struct reg_host *h);
/* True when the host has a username or identity token to offer. */
bool reg_auth_has_cred(struct gantry_registry_client *c, struct reg_host *h);

/*
 * Check a token realm for a registry at base ("https://host"): an http(s)
 * URL, and not plain HTTP for an HTTPS registry (H3). GANTRY_E_PARSE,
 * GANTRY_E_DENIED.
 */
int reg_realm_check(const char *base, const char *realm, struct gantry_error **err);

/* tls.c: /etc/docker/certs.d/<host>/ */
int reg_host_load_certs(struct reg_host *h, const char *certs_dir, struct gantry_error **err);

/* Clock helpers (monotonic). */
void reg_now(struct timespec *ts);
void reg_sleep_ms(long ms);

#endif
