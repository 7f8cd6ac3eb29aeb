/*
 * gantry registry: an OCI distribution-spec client over libcurl.
 *
 * Basic outline of fetching an image:
 *
 *     struct gantry_registry_client *c =
 *         gantry_registry_client_new(&(struct gantry_registry_opts){0}, &err);
 *     struct gantry_registry_manifest m = GANTRY_REGISTRY_MANIFEST_INIT;
 *     if (gantry_registry_get_manifest(c, &ref, &m, &err) < 0)  // <= 4 MiB, checked
 *         ...;
 *     // parse m.data with gantry_oci_manifest_parse(m.data, m.len, m.media_type, ...)
 *     struct gantry_registry_blob_get g = {
 *         .digest = layer->digest, .size = layer->size,
 *         .write = write_to_store, .user = store_writer,
 *     };
 *     if (gantry_registry_get_blob(c, &ref, &g, &err) < 0)      // digest verified
 *         ...;
 *     gantry_registry_manifest_release(&m);
 *     gantry_registry_client_free(c);
 *
 * Basic outline of pushing: for each blob gantry_registry_head_blob, then
 * gantry_registry_push_blob (mounted from another repository of the same
 * registry when the caller names one, else uploaded); then the manifests
 * with gantry_registry_put_manifest, children before the index, the tag last.
 *
 * Hosts are reference domains ("docker.io", "127.0.0.1:5000"). HTTPS is the
 * default; plain HTTP is used only for loopback hosts (127.0.0.0/8,
 * localhost, ::1) or with opts.insecure, and only after HTTPS failed, as
 * Docker does. Extra CAs and client certificates come from
 * /etc/docker/certs.d/<host>/ (*.crt, *.cert + *.key).
 *
 * Authentication follows the registry's WWW-Authenticate challenge: Basic,
 * or Bearer tokens (anonymous or with credentials) cached per scope until
 * they expire. Credentials come from the Docker config file
 * ($DOCKER_CONFIG/config.json, else ~/.docker/config.json): "auths",
 * "credsStore" and "credHelpers" (docker-credential-<name> programs). An
 * Authorization header only ever goes to the registry's own origin: blob
 * redirects to storage hosts are followed without it.
 *
 * A client is safe to use from several threads at once: it keeps a pool of
 * curl handles sharing connections, DNS and TLS sessions, and one token
 * cache.
 */
#ifndef GANTRY_REGISTRY_H
#define GANTRY_REGISTRY_H

#include <sys/types.h>

#include <gantry/core.h>
#include <gantry/digest.h>
#include <gantry/ref.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Docker's key for Docker Hub in config.json. */
#define GANTRY_REGISTRY_DOCKER_HUB_KEY "https://index.docker.io/v1/"

/*
 * Credentials for one registry; every string is owned and may be NULL.
 * identity_token is an OAuth refresh token (config.json "identitytoken").
 */
struct gantry_registry_credentials {
    char *username;
    char *password;
    char *identity_token;
};

/* Wipe and free the strings, and zero the struct; NULL is a no-op. */
GANTRY_API void gantry_registry_credentials_release(struct gantry_registry_credentials *cred);

/* Options of a client; start from {0}: every zero field means the default. */
struct gantry_registry_opts {
    /* --insecure / --tls-verify=false: skip TLS verification and allow
     * plain HTTP for every host, not only loopback ones. */
    bool insecure;
    /* Docker config file; NULL: gantry_registry_config_path(). */
    const char *config_path;
    /* Per-host CA directory; NULL: /etc/docker/certs.d. */
    const char *certs_dir;
    /* Use these for every host instead of the config file (borrowed for
     * the client's life). */
    const struct gantry_registry_credentials *credentials;
    long connect_timeout_ms; /* 0: 30000 */
    long low_speed_time_s;   /* abort a transfer below 1 KiB/s for this long; 0: 30 */
    int max_retries;         /* on connection errors, 429 and 5xx; 0: 4; < 0: none */
    long retry_base_ms;      /* first backoff delay, doubled each time; 0: 500 */
    long retry_after_max_s;  /* cap on a Retry-After wait; 0: 60 */
    const char *user_agent;  /* NULL: "gantry/<version>" */
    /* Failing time one request (or one blob upload) may spend on retries:
     * no retry starts after it, and a Retry-After that does not fit in
     * what is left ends the retries at once; 0: 15000. */
    long retry_budget_ms;
};

/* An opaque client; see the outline above. */
struct gantry_registry_client;

/*
 * New client. opts is copied (strings too, except opts->credentials which
 * is borrowed). Caller frees with gantry_registry_client_free. Errors:
 * GANTRY_E_INTERNAL when libcurl cannot start.
 */
GANTRY_API struct gantry_registry_client *
gantry_registry_client_new(const struct gantry_registry_opts *opts,
                           struct gantry_error **err) GANTRY_WUR;

/* Free a client and its connections; NULL is a no-op. */
GANTRY_API void gantry_registry_client_free(struct gantry_registry_client *c);

/*
 * Check that host speaks the distribution API (GET /v2/): chooses HTTPS or
 * (loopback, insecure) plain HTTP, and learns the auth challenge. With
 * credentials it also gets a token (Bearer) or checks them (Basic), so a
 * 0 means the credentials work. Errors: GANTRY_E_NETWORK,
 * GANTRY_E_UNAUTHORIZED (credentials rejected, or no challenge),
 * GANTRY_E_PARSE (malformed challenge), GANTRY_E_DENIED.
 */
GANTRY_API int gantry_registry_ping(struct gantry_registry_client *c, const char *host,
                                    struct gantry_error **err) GANTRY_WUR;

/*
 * Validate cred against server (a host, or a URL such as
 * "https://index.docker.io/v1/") as `docker login` does: /v2/ with Basic,
 * or a token fetched with cred. From then on the client uses cred for that
 * host. Nothing is written; see gantry_registry_config_store. Errors as
 * gantry_registry_ping; rejected credentials give GANTRY_E_UNAUTHORIZED
 * "login 'HOST': wrong username or password: ...".
 */
GANTRY_API int gantry_registry_login(struct gantry_registry_client *c, const char *server,
                                     const struct gantry_registry_credentials *cred,
                                     struct gantry_error **err) GANTRY_WUR;

/* A manifest or index as fetched. Release with gantry_registry_manifest_release. */
struct gantry_registry_manifest {
    char *media_type;               /* the document's type (body mediaType, else Content-Type) */
    char digest[GANTRY_DIGEST_MAX]; /* of data: computed here, never taken from a header */
    char *data;                     /* the exact bytes, NUL-terminated; NULL after a HEAD */
    size_t len;                     /* bytes of data (after a HEAD: Content-Length, or 0) */
};
/* clang-format off */
#define GANTRY_REGISTRY_MANIFEST_INIT {0}
/* clang-format on */

/* Free the members and zero the struct; NULL is a no-op. */
GANTRY_API void gantry_registry_manifest_release(struct gantry_registry_manifest *m);

/*
 * GET the manifest of ref (by digest when ref->digest is set, else by tag)
 * with the Accept list: OCI index, Docker manifest list, OCI manifest,
 * Docker v2 manifest. At most GANTRY_MANIFEST_MAX bytes are read (M8). The
 * body must agree with its Content-Type (gantry_oci_detect, M1); fetched
 * by digest it must hash to it, and a Docker-Content-Digest header must
 * agree with the body (M6). *out (zeroed first) is the caller's to release.
 * Errors: GANTRY_E_NOT_FOUND (404), GANTRY_E_UNAUTHORIZED, GANTRY_E_DENIED,
 * GANTRY_E_TOO_LARGE, GANTRY_E_DIGEST_MISMATCH, GANTRY_E_PARSE,
 * GANTRY_E_UNSUPPORTED (Docker schema 1), GANTRY_E_NETWORK. Messages name
 * the reference and the HTTP status.
 */
GANTRY_API int gantry_registry_get_manifest(struct gantry_registry_client *c,
                                            const struct gantry_ref *ref,
                                            struct gantry_registry_manifest *out,
                                            struct gantry_error **err) GANTRY_WUR;

/*
 * HEAD the manifest of ref: out->media_type (Content-Type), out->digest
 * (Docker-Content-Digest, "" when the registry sent none), out->len
 * (Content-Length); out->data stays NULL. Errors as
 * gantry_registry_get_manifest (GANTRY_E_NOT_FOUND when absent).
 */
GANTRY_API int gantry_registry_head_manifest(struct gantry_registry_client *c,
                                             const struct gantry_ref *ref,
                                             struct gantry_registry_manifest *out,
                                             struct gantry_error **err) GANTRY_WUR;

/*
 * PUT m->data (m->len bytes, at most GANTRY_MANIFEST_MAX) as a manifest of
 * type m->media_type under ref's tag, or its digest when it has no tag
 * (the data must then hash to that digest). m->digest is ignored.
 * digest_out (may be NULL) receives the digest of the data. Errors:
 * GANTRY_E_INVALID_ARG, GANTRY_E_TOO_LARGE, and the HTTP errors of the
 * other calls (the registry's OCI error codes are in the message).
 */
GANTRY_API int gantry_registry_put_manifest(struct gantry_registry_client *c,
                                            const struct gantry_ref *ref,
                                            const struct gantry_registry_manifest *m,
                                            char digest_out[GANTRY_DIGEST_MAX],
                                            struct gantry_error **err) GANTRY_WUR;

/*
 * Blob data sink: called with the bytes of a blob in order. Return 0, or
 * -1 with *err set to stop the transfer (that error is returned as is).
 */
typedef int (*gantry_registry_write_fn)(void *user, const void *data, size_t len,
                                        struct gantry_error **err);

/* What gantry_registry_get_blob fetches, and where the bytes go. */
struct gantry_registry_blob_get {
    const char *digest; /* required */
    int64_t size;       /* expected size, or -1 when unknown */
    gantry_registry_write_fn write;
    void *user;
    /* Start at this byte (Range); 0: the whole blob. Only the size is
     * checked when offset > 0 or with caller_hashes (the caller verifies
     * the digest of the bytes itself). */
    uint64_t offset;
    bool caller_hashes;
};

/*
 * Stream the blob g->digest of ref's repository into g->write. Redirects
 * (to storage hosts) are followed without credentials, at most 10 hops,
 * never from https to http. A cut transfer resumes with Range where it
 * stopped. The bytes are hashed as they pass: a body longer than g->size
 * stops at size + 1 bytes (M7), and the end checks size and digest, so a
 * sink that commits only on success (gantry_store_blob_writer) never keeps
 * a bad blob. With g->offset > 0 the bytes from there on are fetched
 * (Range); then, or with g->caller_hashes, only the size is checked.
 * Errors: GANTRY_E_DIGEST_MISMATCH ("digest mismatch: got X, want Y",
 * "size mismatch: got N bytes, want M"), GANTRY_E_TOO_LARGE,
 * GANTRY_E_INVALID_ARG (offset beyond the size), GANTRY_E_NOT_FOUND, the
 * HTTP errors, or the sink's own error.
 */
GANTRY_API int gantry_registry_get_blob(struct gantry_registry_client *c,
                                        const struct gantry_ref *ref,
                                        const struct gantry_registry_blob_get *g,
                                        struct gantry_error **err) GANTRY_WUR;

/*
 * HEAD a blob of ref's repository. Returns 1 when present (*size, may be
 * NULL, gets its Content-Length or -1), 0 when absent (404), -1 on error.
 */
GANTRY_API int gantry_registry_head_blob(struct gantry_registry_client *c,
                                         const struct gantry_ref *ref, const char *digest,
                                         int64_t *size, struct gantry_error **err) GANTRY_WUR;

/*
 * Blob data source for uploads, read at any offset (pread style) so that
 * retries and resumed uploads can go back. Return the bytes read (0 only
 * at the end), or -1 with *err set.
 */
typedef ssize_t (*gantry_registry_read_fn)(void *user, uint64_t offset, void *buf, size_t len,
                                           struct gantry_error **err);

/* What gantry_registry_push_blob uploads. */
struct gantry_registry_blob_push {
    const char *digest; /* required: the data's digest */
    int64_t size;       /* required: the data's size */
    gantry_registry_read_fn read;
    void *user;
    /* A repository path of the same registry that has the blob
     * ("library/busybox"), tried first with a cross-repository mount; or NULL. */
    const char *mount_from;
    /* Blobs up to this size go in one PUT, larger ones in PATCH chunks of
     * this size; 0: blobs up to 32 MiB in one PUT, larger ones in one
     * streamed PATCH. */
    size_t chunk_size;
};

/*
 * Upload a blob to ref's repository: a mount from p->mount_from when given
 * (201 done; 202 falls back to uploading), else POST then one PUT (small)
 * or PATCHes with Content-Range (one streamed PATCH by default) then PUT
 * (large). Upload locations may be relative or absolute. A cut PATCH asks
 * the registry for its offset (GET <location>, Range) and resumes from
 * there; a 416 does the same. The source is read in order, going back only
 * to resume or to send a body again. *mounted (may be NULL) tells whether the blob was mounted.
 * The registry checks the digest. Errors: GANTRY_E_INVALID_ARG, the source's
 * own error, the HTTP errors (e.g. DIGEST_INVALID in the message).
 */
GANTRY_API int gantry_registry_push_blob(struct gantry_registry_client *c,
                                         const struct gantry_ref *ref,
                                         const struct gantry_registry_blob_push *p, bool *mounted,
                                         struct gantry_error **err) GANTRY_WUR;

/*
 * List the tags of ref's repository, following Link pagination; page_size
 * (0: the registry's default) is sent as n=. *tags is a NULL-terminated
 * array of *n owned strings; free with gantry_registry_tags_free. Errors:
 * GANTRY_E_NOT_FOUND, GANTRY_E_PARSE, the HTTP errors.
 */
GANTRY_API int gantry_registry_list_tags(struct gantry_registry_client *c,
                                         const struct gantry_ref *ref, size_t page_size,
                                         char ***tags, size_t *n,
                                         struct gantry_error **err) GANTRY_WUR;
GANTRY_API void gantry_registry_tags_free(char **tags, size_t n);

/*
 * The Docker config file: $DOCKER_CONFIG/config.json when DOCKER_CONFIG is
 * set and not empty, else $HOME/.docker/config.json. Caller frees with
 * free(). Errors: GANTRY_E_NOT_FOUND when HOME is not set either.
 */
GANTRY_API char *gantry_registry_config_path(struct gantry_error **err) GANTRY_WUR;

/*
 * Docker's config key for a server: "https://index.docker.io/v1/" for
 * docker.io, index.docker.io and registry-1.docker.io (with or without a
 * scheme or path); otherwise the host[:port] with scheme and path dropped
 * and the host lower-cased. Caller frees with free(). Errors:
 * GANTRY_E_INVALID_ARG for an empty server or one with spaces.
 */
GANTRY_API char *gantry_registry_server_key(const char *server,
                                            struct gantry_error **err) GANTRY_WUR;

/*
 * Credentials for server from the Docker config at path (a missing file
 * means none): credHelpers[<host>], else credsStore, through
 * `docker-credential-<name> get`; else (or when the helper has none) the
 * "auths" entry (base64 "auth", or "username"/"password", and
 * "identitytoken"). *out (zeroed first) is the caller's to release; no
 * credentials leave it all NULL and return 0. Errors: GANTRY_E_PARSE
 * (malformed file or helper output), GANTRY_E_IO, GANTRY_E_NOT_FOUND (a
 * helper program not on PATH), GANTRY_E_INTERNAL (a helper that failed).
 */
GANTRY_API int gantry_registry_config_get(const char *path, const char *server,
                                          struct gantry_registry_credentials *out,
                                          struct gantry_error **err) GANTRY_WUR;

/*
 * Save cred for server as `docker login` does: through the credential
 * helper when the config names one for it (*helper_used, may be NULL, is
 * set), else into "auths" as {"auth": base64(user:password)} (plus
 * "identitytoken" when set). The file keeps every other member, is written
 * atomically with mode 0600, and its directory is created 0700 when
 * missing. Errors: GANTRY_E_PARSE, GANTRY_E_IO, GANTRY_E_INVALID_ARG.
 */
GANTRY_API int gantry_registry_config_store(const char *path, const char *server,
                                            const struct gantry_registry_credentials *cred,
                                            bool *helper_used,
                                            struct gantry_error **err) GANTRY_WUR;

/*
 * Remove the credentials of server (helper `erase` and the "auths" entry),
 * as `docker logout` does. *found (may be NULL) tells whether there were
 * any. Errors as gantry_registry_config_store.
 */
GANTRY_API int gantry_registry_config_erase(const char *path, const char *server, bool *found,
                                            struct gantry_error **err) GANTRY_WUR;

/* ---- plain HTTP(S) downloads (fetch.c): ADD <url> of a build ---- */

/* What gantry_registry_fetch downloads, and where the bytes go. */
struct gantry_registry_fetch_opts {
    const char *url;                /* http:// or https://; required */
    gantry_registry_write_fn write; /* the body, in order; required */
    void *user;
    uint64_t max_size;       /* a longer body is GANTRY_E_TOO_LARGE; 0: 8 GiB */
    bool insecure;           /* skip TLS verification (never the default) */
    long connect_timeout_ms; /* 0: 30000 */
    long low_speed_time_s;   /* abort below 1 KiB/s for this long; 0: 30 */
    const char *user_agent;  /* NULL: "gantry/<version>" */
    /* A conditional GET (either may be NULL): sent as If-None-Match and
     * If-Modified-Since on every hop; a 304 answer then ends the fetch
     * with out->not_modified set and nothing written. No CR/LF allowed. */
    const char *if_none_match;
    const char *if_modified_since;
};

/* What a fetch learnt. Strings owned; release with gantry_registry_fetch_result_release. */
struct gantry_registry_fetch_result {
    char *url;             /* the final URL after redirects, credentials redacted */
    int64_t last_modified; /* Last-Modified as Unix time, or -1 */
    /* The Content-Disposition filename (filename* preferred), as the
     * server sent it: untrusted, may hold "/" or ".."; NULL when absent. */
    char *filename;
    uint64_t size;     /* bytes handed to write */
    bool not_modified; /* 304 to a conditional GET: no body was written */
    char *etag;        /* the ETag header as sent (no control characters), or NULL */
    char *modified;    /* the Last-Modified header as sent, or NULL */
};

/*
 * GET o->url and stream the 2xx body into o->write, with TLS verification
 * and the proxy settings of the registry client (libcurl's environment:
 * http_proxy, https_proxy, no_proxy). Redirects are followed, at most 10
 * hops, only to http(s) URLs and never from https to plain http; user
 * credentials of the URL go as Basic auth to its own origin only. *out
 * (zeroed first) is the caller's to release, also after a failure. With
 * o->if_none_match or o->if_modified_since, a 304 answer succeeds with
 * out->not_modified (the caller still has the content). Every
 * URL in a message has its password redacted. Errors: GANTRY_E_INVALID_ARG
 * (not an http(s) URL), GANTRY_E_DENIED (a refused redirect),
 * GANTRY_E_NOT_FOUND (404), GANTRY_E_UNAUTHORIZED (401), GANTRY_E_NETWORK
 * (other statuses, transport errors, too many redirects),
 * GANTRY_E_TOO_LARGE, or the sink's own error.
 */
GANTRY_API int gantry_registry_fetch(const struct gantry_registry_fetch_opts *o,
                                     struct gantry_registry_fetch_result *out,
                                     struct gantry_error **err) GANTRY_WUR;

/* Free the members of r and zero it; NULL is a no-op. */
GANTRY_API void gantry_registry_fetch_result_release(struct gantry_registry_fetch_result *r);

/*
 * A copy of text in which the password of every "scheme://user:password@"
 * URL is replaced by "xxxxx" (Go's url.Redacted): for history entries,
 * messages and logs (CVE-2023-26054). Caller frees.
 */
GANTRY_API char *gantry_registry_redact(const char *text);

#ifdef __cplusplus
}
#endif
#endif
