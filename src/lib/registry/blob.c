/*
 * Blob downloads and HEAD. A download streams into the caller's sink
 * through a hasher, never held whole; a cut transfer resumes with Range
 * from the last byte passed on, and a registry that ignores Range (200
 * instead of 206) has the bytes already seen skipped.
 */
#include <inttypes.h>

#include "registry_internal.h"

#define BLOB_ATTEMPTS_MAX 100 /* with progress in between, else max_retries */

struct blob_sink {
    const struct gantry_registry_blob_get *g;
    struct reg_response *resp;
    struct gantry_hasher *hasher;
    uint64_t done; /* bytes hashed and passed on */
    uint64_t skip; /* bytes of this response already passed on */
    bool checked;  /* this response's headers were looked at */
};

static int sink_first(struct blob_sink *s, struct gantry_error **err)
{
    const struct reg_response *r = s->resp;
    s->checked = true;
    s->skip = 0;
    uint64_t start = 0;
    if (r->status == 206) {
        if (!r->content_range ||
            reg_content_range_start(r->content_range, strlen(r->content_range), &start) < 0 ||
            start != s->done)
            return gantry_error_set(err, GANTRY_E_NETWORK, 0,
                                    "resume at byte %" PRIu64 ": unexpected Content-Range '%.80s'",
                                    s->done, r->content_range ? r->content_range : "");
    } else {
        s->skip = s->done; /* a full body again: drop what was passed on */
    }
    /* H8: a body announced longer than the descriptor is refused unread. */
    if (s->g->size >= 0 && r->content_length >= 0 &&
        start + (uint64_t)r->content_length > (uint64_t)s->g->size)
        return gantry_error_set(err, GANTRY_E_TOO_LARGE, 0,
                                "the registry announces %" PRIu64 " bytes, want %" PRId64,
                                start + (uint64_t)r->content_length, s->g->size);
    return 0;
}

static int sink_write(void *user, const void *data, size_t len, struct gantry_error **err)
{
    struct blob_sink *s = user;
    if (!s->checked && sink_first(s, err) < 0)
        return -1;
    if (s->skip) {
        size_t k = s->skip < len ? (size_t)s->skip : len;
        data = (const char *)data + k;
        len -= k;
        s->skip -= k;
        if (!len)
            return 0;
    }
    /* M7: stop as soon as the blob is longer than its descriptor says. */
    if (s->g->size >= 0 && s->done + len > (uint64_t)s->g->size)
        return gantry_error_set(err, GANTRY_E_TOO_LARGE, 0, "got more than %" PRId64 " bytes",
                                s->g->size);
    if (s->hasher)
        gantry_hasher_update(s->hasher, data, len);
    if (s->g->write(s->g->user, data, len, err) < 0)
        return -1;
    s->done += len;
    return 0;
}

static int verify(const struct blob_sink *s, struct gantry_error **err)
{
    if (s->g->size >= 0 && s->done != (uint64_t)s->g->size)
        return gantry_error_set(err, GANTRY_E_DIGEST_MISMATCH, 0,
                                "size mismatch: got %" PRIu64 " bytes, want %" PRId64, s->done,
                                s->g->size);
    if (!s->hasher)
        return 0; /* the digest is the caller's to check */
    char got[GANTRY_DIGEST_MAX];
    gantry_hasher_final(s->hasher, got);
    if (strcmp(got, s->g->digest) != 0)
        return gantry_error_set(err, GANTRY_E_DIGEST_MISMATCH, 0,
                                "digest mismatch: got %s, want %s", got, s->g->digest);
    return 0;
}

/* One GET (from s->done); 0 with a 2xx, 1 to try again, -1 to stop. */
static int blob_attempt(struct gantry_registry_client *c, struct reg_host *h, const char *path,
                        const char *scope, struct blob_sink *s, struct gantry_error **err)
{
    _cleanup_free_ char *range = s->done ? xasprintf("Range: bytes=%" PRIu64 "-", s->done) : NULL;
    struct reg_request req = {
        .method = "GET",
        .path = path,
        .scope = scope,
        .extra_header = range,
        .follow_redirects = true,
        .sink = sink_write,
        .sink_user = s,
    };
    s->checked = false;
    int r = reg_request_do(c, h, &req, false, s->resp, err);
    if (r == 0 && (s->resp->status == 200 || s->resp->status == 206))
        return 0;
    if (r < 0)
        return s->resp->transient ? 1 : -1;
    if (reg_status_retryable(s->resp->status)) {
        reg_http_error(s->resp, NULL, err);
        return 1;
    }
    return reg_http_error(s->resp, NULL, err);
}

static int blob_loop(struct gantry_registry_client *c, struct reg_host *h, const char *path,
                     const char *scope, struct blob_sink *s, struct gantry_error **err)
{
    unsigned fails = 0;
    struct timespec attempt_start, since;
    for (unsigned total = 0;; total++) {
        uint64_t before = s->done;
        reg_now(&attempt_start);
        int r = blob_attempt(c, h, path, scope, s, err);
        if (r <= 0)
            return r;
        if (s->done > before)
            fails = 0; /* progress: a cut, not a dead registry */
        if (fails == 0)
            since = attempt_start; /* the budget counts failures in a row */
        if ((int)fails >= c->opts.max_retries || total >= BLOB_ATTEMPTS_MAX)
            return -1;
        gantry_log(GANTRY_LOG_DEBUG, "'%s': %s; resuming at byte %" PRIu64, path,
                   err && *err ? (*err)->message : "failed", s->done);
        if (!reg_retry_wait(c, &since, fails, reg_retry_after_ms(c, s->resp)))
            return -1;
        fails++;
        if (err) {
            gantry_error_free(*err);
            *err = NULL;
        }
    }
}

int gantry_registry_get_blob(struct gantry_registry_client *c, const struct gantry_ref *ref,
                             const struct gantry_registry_blob_get *g, struct gantry_error **err)
{
    _cleanup_free_ char *repo = gantry_ref_repository(ref);
    enum gantry_digest_alg alg;
    if (!g->digest || !g->write)
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0, "fetch blob from '%s': no digest",
                                repo);
    if (gantry_digest_validate(g->digest, strlen(g->digest), &alg, err) < 0)
        return gantry_error_prefix(err, "fetch blob '%s@%s'", repo, g->digest);
    if (g->size >= 0 && g->offset > (uint64_t)g->size)
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0,
                                "fetch blob '%s@%s': offset %" PRIu64 " beyond its %" PRId64
                                " bytes",
                                repo, g->digest, g->offset, g->size);
    struct reg_host *h = reg_host_get(c, ref->domain, err);
    if (!h)
        return gantry_error_prefix(err, "fetch blob '%s@%s'", repo, g->digest);
    _cleanup_free_ char *path = reg_v2_path(ref, "blobs/%s", g->digest);
    _cleanup_free_ char *scope = reg_scope_repo(ref->path, "pull");
    struct reg_response resp;
    reg_response_init(&resp);
    struct blob_sink s = {.g = g,
                          .resp = &resp,
                          .done = g->offset,
                          .hasher = g->offset || g->caller_hashes ? NULL : gantry_hasher_new(alg)};
    int r = blob_loop(c, h, path, scope, &s, err);
    if (r == 0)
        r = verify(&s, err);
    gantry_hasher_free(s.hasher);
    reg_response_release(&resp);
    return r < 0 ? gantry_error_prefix(err, "fetch blob '%s@%s'", repo, g->digest) : 0;
}

int gantry_registry_head_blob(struct gantry_registry_client *c, const struct gantry_ref *ref,
                              const char *digest, int64_t *size, struct gantry_error **err)
{
    _cleanup_free_ char *repo = gantry_ref_repository(ref);
    if (!digest || gantry_digest_validate(digest, strlen(digest), NULL, err) < 0)
        return gantry_error_prefix(err, "head blob in '%s'", repo);
    struct reg_host *h = reg_host_get(c, ref->domain, err);
    if (!h)
        return gantry_error_prefix(err, "head blob '%s@%s'", repo, digest);
    _cleanup_free_ char *path = reg_v2_path(ref, "blobs/%s", digest);
    _cleanup_free_ char *scope = reg_scope_repo(ref->path, "pull");
    struct reg_request req = {
        .method = "HEAD",
        .path = path,
        .scope = scope,
        .follow_redirects = true,
        .body_cap = REG_ERROR_BODY_MAX,
    };
    struct reg_response resp;
    reg_response_init(&resp);
    int r = reg_request_do(c, h, &req, true, &resp, err);
    if (r == 0 && resp.status == 200) {
        if (size)
            *size = resp.content_length;
        r = 1;
    } else if (r == 0 && resp.status == 404) {
        r = 0;
    } else if (r == 0) {
        r = reg_http_error(&resp, NULL, err);
    }
    reg_response_release(&resp);
    return r < 0 ? gantry_error_prefix(err, "head blob '%s@%s'", repo, digest) : r;
}
