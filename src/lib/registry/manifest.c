/*
 * Manifests: GET (capped, checked against Content-Type and digest), HEAD,
 * PUT. Digests are always computed here from the bytes; a registry's
 * Docker-Content-Digest is only compared with them (M6).
 */
#include <strings.h>

#include <gantry/oci.h>

#include "registry_internal.h"

static const char accept_list[] = GANTRY_MT_OCI_INDEX
    ", " GANTRY_MT_DOCKER_MANIFEST_LIST ", " GANTRY_MT_OCI_MANIFEST ", " GANTRY_MT_DOCKER_MANIFEST;

void gantry_registry_manifest_release(struct gantry_registry_manifest *m)
{
    if (!m)
        return;
    free(m->media_type);
    free(m->data);
    memset(m, 0, sizeof(*m));
}

/* The media type of a Content-Type, or NULL when it says nothing specific. */
static char *specific_type(const char *ct)
{
    if (!ct)
        return NULL;
    while (*ct == ' ')
        ct++;
    size_t n = strcspn(ct, ";");
    while (n && ct[n - 1] == ' ')
        n--;
    static const char *const generic[] = {"application/json", "text/plain",
                                          "application/octet-stream", "*/*"};
    if (n == 0)
        return NULL;
    for (size_t i = 0; i < ARRAY_SIZE(generic); i++)
        if (strlen(generic[i]) == n && strncasecmp(ct, generic[i], n) == 0)
            return NULL;
    return xstrndup(ct, n);
}

static int digest_alg(const struct gantry_ref *ref, enum gantry_digest_alg *alg,
                      struct gantry_error **err)
{
    *alg = GANTRY_DIGEST_SHA256;
    if (!ref->digest)
        return 0;
    return gantry_digest_validate(ref->digest, strlen(ref->digest), alg, err);
}

/* The document's own mediaType when the Content-Type was generic. */
static char *body_type(const char *data, size_t len, enum gantry_oci_kind kind)
{
    char *t = NULL;
    if (kind == GANTRY_OCI_KIND_MANIFEST) {
        struct gantry_oci_manifest *m = gantry_oci_manifest_parse(data, len, NULL, NULL);
        if (m) {
            t = xstrdup(m->media_type);
            gantry_oci_manifest_free(m);
        }
    } else if (kind == GANTRY_OCI_KIND_INDEX) {
        struct gantry_oci_index *x = gantry_oci_index_parse(data, len, NULL, NULL);
        if (x) {
            t = xstrdup(x->media_type);
            gantry_oci_index_free(x);
        }
    }
    return t;
}

static int check_digests(const struct gantry_ref *ref, const struct reg_response *resp,
                         struct gantry_registry_manifest *out, struct gantry_error **err)
{
    enum gantry_digest_alg alg;
    if (digest_alg(ref, &alg, err) < 0)
        return -1;
    gantry_digest_bytes(alg, resp->body.data, resp->body.len, out->digest);
    if (ref->digest && strcmp(out->digest, ref->digest) != 0)
        return gantry_error_set(err, GANTRY_E_DIGEST_MISMATCH, 0,
                                "digest mismatch: got %s, want %s", out->digest, ref->digest);
    size_t alg_len = (size_t)(strchr(out->digest, ':') - out->digest) + 1;
    if (resp->digest && strncmp(resp->digest, out->digest, alg_len) == 0 &&
        strcmp(resp->digest, out->digest) != 0)
        return gantry_error_set(err, GANTRY_E_DIGEST_MISMATCH, 0,
                                "digest mismatch: Docker-Content-Digest says %.150s, content is %s",
                                resp->digest, out->digest);
    return 0;
}

static int check_manifest(const struct gantry_ref *ref, struct reg_response *resp,
                          struct gantry_registry_manifest *out, struct gantry_error **err)
{
    _cleanup_free_ char *ct = specific_type(resp->content_type);
    if ((ct && gantry_oci_is_schema1_type(ct)))
        return gantry_error_set(err, GANTRY_E_UNSUPPORTED, 0,
                                "a Docker schema 1 manifest ('%s'), which gantry does not "
                                "support: push the image again with a current tool",
                                ct);
    enum gantry_oci_kind kind;
    if (gantry_oci_detect(resp->body.data, resp->body.len, ct, &kind, err) < 0)
        return -1;
    if (check_digests(ref, resp, out, err) < 0)
        return -1;
    out->media_type = ct ? steal_pointer(&ct) : body_type(resp->body.data, resp->body.len, kind);
    if (!out->media_type && resp->content_type)
        out->media_type = xstrdup(resp->content_type);
    out->data = gantry_buf_detach(&resp->body, &out->len);
    return 0;
}

static int manifest_request(struct gantry_registry_client *c, const struct gantry_ref *ref,
                            const char *method, struct reg_response *resp,
                            struct gantry_error **err)
{
    struct reg_host *h = reg_host_get(c, ref->domain, err);
    if (!h)
        return -1;
    _cleanup_free_ char *path =
        reg_v2_path(ref, "manifests/%s", ref->digest ? ref->digest : ref->tag);
    _cleanup_free_ char *scope = reg_scope_repo(ref->path, "pull");
    struct reg_request req = {
        .method = method,
        .path = path,
        .scope = scope,
        .accept = accept_list,
        .follow_redirects = true,
        .body_cap = GANTRY_MANIFEST_MAX,
    };
    if (reg_request_do(c, h, &req, true, resp, err) < 0) {
        if (err && *err && (*err)->code == GANTRY_E_TOO_LARGE)
            gantry_error_set(err, GANTRY_E_TOO_LARGE, 0, "manifest is larger than the %u MiB limit",
                             GANTRY_MANIFEST_MAX / (1024u * 1024u));
        return -1;
    }
    if (resp->status != 200)
        return reg_http_error(resp, NULL, err);
    return 0;
}

int gantry_registry_get_manifest(struct gantry_registry_client *c, const struct gantry_ref *ref,
                                 struct gantry_registry_manifest *out, struct gantry_error **err)
{
    memset(out, 0, sizeof(*out));
    _cleanup_free_ char *name = reg_ref_name(ref);
    struct reg_response resp;
    reg_response_init(&resp);
    int r = manifest_request(c, ref, "GET", &resp, err);
    if (r == 0 && (r = check_manifest(ref, &resp, out, err)) < 0)
        gantry_registry_manifest_release(out);
    reg_response_release(&resp);
    return r < 0 ? gantry_error_prefix(err, "fetch manifest '%s'", name) : 0;
}

int gantry_registry_head_manifest(struct gantry_registry_client *c, const struct gantry_ref *ref,
                                  struct gantry_registry_manifest *out, struct gantry_error **err)
{
    memset(out, 0, sizeof(*out));
    _cleanup_free_ char *name = reg_ref_name(ref);
    struct reg_response resp;
    reg_response_init(&resp);
    int r = manifest_request(c, ref, "HEAD", &resp, err);
    if (r == 0) {
        out->media_type = specific_type(resp.content_type);
        if (resp.digest &&
            gantry_digest_validate(resp.digest, strlen(resp.digest), NULL, NULL) == 0)
            snprintf(out->digest, sizeof(out->digest), "%s", resp.digest);
        out->len = resp.content_length > 0 ? (size_t)resp.content_length : 0;
    }
    reg_response_release(&resp);
    return r < 0 ? gantry_error_prefix(err, "head manifest '%s'", name) : 0;
}

static int put_checks(const struct gantry_ref *ref, const struct gantry_registry_manifest *m,
                      char digest[GANTRY_DIGEST_MAX], struct gantry_error **err)
{
    if (!m->media_type || !*m->media_type || !m->data)
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0, "no media type or data");
    if (m->len > GANTRY_MANIFEST_MAX)
        return gantry_error_set(err, GANTRY_E_TOO_LARGE, 0,
                                "manifest is larger than the %u MiB limit",
                                GANTRY_MANIFEST_MAX / (1024u * 1024u));
    enum gantry_digest_alg alg;
    if (digest_alg(ref, &alg, err) < 0)
        return -1;
    gantry_digest_bytes(alg, m->data, m->len, digest);
    if (ref->digest && strcmp(ref->digest, digest) != 0)
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0,
                                "the data hashes to %s, not to the reference's digest", digest);
    return 0;
}

int gantry_registry_put_manifest(struct gantry_registry_client *c, const struct gantry_ref *ref,
                                 const struct gantry_registry_manifest *m,
                                 char digest_out[GANTRY_DIGEST_MAX], struct gantry_error **err)
{
    _cleanup_free_ char *name = reg_ref_name(ref);
    char digest[GANTRY_DIGEST_MAX];
    struct reg_host *h = NULL;
    if (put_checks(ref, m, digest, err) < 0 || !(h = reg_host_get(c, ref->domain, err)))
        return gantry_error_prefix(err, "push manifest '%s'", name);
    _cleanup_free_ char *path = reg_v2_path(ref, "manifests/%s", ref->tag ? ref->tag : digest);
    _cleanup_free_ char *scope = reg_scope_repo(ref->path, "pull,push");
    struct reg_body body = {.mem = m->data, .len = m->len};
    struct reg_request req = {
        .method = "PUT",
        .path = path,
        .scope = scope,
        .content_type = m->media_type,
        .body = &body,
        .body_cap = REG_ERROR_BODY_MAX,
    };
    struct reg_response resp;
    reg_response_init(&resp);
    int r = reg_request_do(c, h, &req, true, &resp, err);
    if (r == 0 && (resp.status < 200 || resp.status > 299))
        r = reg_http_error(&resp, NULL, err);
    if (r == 0 && resp.digest && strncmp(resp.digest, digest, strcspn(digest, ":") + 1) == 0 &&
        strcmp(resp.digest, digest) != 0)
        gantry_log(GANTRY_LOG_WARN, "'%s': the registry reports digest %.150s for %s", name,
                   resp.digest, digest);
    reg_response_release(&resp);
    if (r < 0)
        return gantry_error_prefix(err, "push manifest '%s'", name);
    if (digest_out)
        memcpy(digest_out, digest, GANTRY_DIGEST_MAX);
    return 0;
}
