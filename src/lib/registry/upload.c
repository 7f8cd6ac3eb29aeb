/*
 * Blob uploads (distribution-spec "Pushing blobs"): an optional
 * cross-repository mount, then POST for a session and either one PUT with
 * the whole blob or chunked PATCHes with Content-Range and a closing PUT.
 * Each Location (relative or absolute, H11) names where the session goes
 * next. A failed chunk asks the registry how much it has (GET <location>,
 * Range) and goes on from there (H5, 416); a lost session starts over.
 *
 * A large blob goes in one streamed PATCH unless the caller asks for
 * chunks: a cut one resumes from the registry's offset just the same, and
 * one request instead of one per chunk spares the registry a hash-state
 * save and restore per chunk.
 *
 * The requests of an upload are not retried one by one: the loops here
 * retry the session (ask the offset, or start over) with backoff, within
 * one budget of failing time per blob (opts.retry_budget_ms), so a
 * registry that went away fails a push in about that time instead of a
 * minute of nested retries. Any progress (a chunk acknowledged) refills
 * the budget.
 */
#include <inttypes.h>

#include "registry_internal.h"

struct upload {
    struct gantry_registry_client *c;
    struct reg_host *h;
    const struct gantry_ref *ref;
    const struct gantry_registry_blob_push *p;
    char *scope;
    char *location;
    bool restart;                  /* the failure may go away with a new session */
    long retry_after_ms;           /* from the last 429 or 503, or -1 */
    bool failing;                  /* failing_since is set */
    struct timespec failing_since; /* start of the attempt that began the failures */
    struct timespec attempt_start;
};

/* Keep a Retry-After of a retryable answer for the next wait. */
static void note_status(struct upload *u, const struct reg_response *resp)
{
    u->retry_after_ms = reg_retry_after_ms(u->c, resp);
}

/*
 * Wait before retry number attempt (0-based) within the budget of failing
 * time that began with the attempt that failed first. False: give up.
 */
static bool retry_wait(struct upload *u, unsigned attempt)
{
    if (!u->failing) {
        u->failing = true;
        u->failing_since = u->attempt_start;
    }
    return reg_retry_wait(u->c, &u->failing_since, attempt, u->retry_after_ms);
}

static void mark_attempt(struct upload *u)
{
    reg_now(&u->attempt_start);
}

static int take_location(struct upload *u, const struct reg_response *resp,
                         struct gantry_error **err)
{
    if (!resp->location)
        return gantry_error_set_http(err, GANTRY_E_NETWORK, (int)resp->status,
                                     "HTTP %ld without an upload Location", resp->status);
    char *next = NULL;
    if (reg_url_resolve(resp->url, resp->location, &next, err) < 0)
        return gantry_error_prefix(err, "upload Location");
    free(u->location);
    u->location = next;
    return 0;
}

/* POST a session, or a mount (1 when the registry mounted the blob). */
static int start(struct upload *u, bool mount, struct gantry_error **err)
{
    _cleanup_free_ char *base = reg_v2_path(u->ref, "blobs/uploads/");
    _cleanup_free_ char *q1 = mount ? reg_url_add_query(base, "mount", u->p->digest) : NULL;
    _cleanup_free_ char *path = mount ? reg_url_add_query(q1, "from", u->p->mount_from) : NULL;
    struct reg_request req = {
        .method = "POST",
        .path = mount ? path : base,
        .scope = u->scope,
        .body_cap = REG_ERROR_BODY_MAX,
    };
    struct reg_response resp;
    reg_response_init(&resp);
    int r = reg_request_do(u->c, u->h, &req, false, &resp, err);
    note_status(u, &resp);
    if (r == 0 && mount && resp.status == 201) {
        r = 1;
    } else if (r == 0 && resp.status == 202) {
        r = take_location(u, &resp, err);
    } else if (r == 0) {
        u->restart = reg_status_retryable(resp.status);
        r = reg_http_error(&resp, mount ? "mount" : "start upload", err);
    } else {
        u->restart = resp.transient;
    }
    reg_response_release(&resp);
    return r;
}

/* A request on the session; the next Location is taken from a 2xx. */
static int session_request(struct upload *u, struct reg_request *req, struct reg_response *resp,
                           struct gantry_error **err)
{
    if (!req->url)
        req->url = u->location;
    req->scope = u->scope;
    req->body_cap = REG_ERROR_BODY_MAX;
    int r = reg_request_do(u->c, u->h, req, false, resp, err);
    note_status(u, resp);
    if (r < 0) {
        u->restart = resp->transient;
        return -1;
    }
    if (resp->status >= 200 && resp->status < 300 && resp->location &&
        take_location(u, resp, err) < 0)
        return -1;
    return 0;
}

/* How much of the blob the session holds (GET <location>: 204 + Range). */
static int session_offset(struct upload *u, uint64_t *offset, struct gantry_error **err)
{
    struct reg_request req = {.method = "GET"};
    struct reg_response resp;
    reg_response_init(&resp);
    int r = session_request(u, &req, &resp, err);
    *offset = 0;
    if (r == 0 && resp.status != 204 && resp.status != 200) {
        u->restart = resp.status == 404 || reg_status_retryable(resp.status);
        r = reg_http_error(&resp, "upload status", err);
    } else if (r == 0 && resp.range &&
               reg_upload_range_parse(resp.range, strlen(resp.range), offset) < 0) {
        r = gantry_error_set(err, GANTRY_E_PARSE, 0, "upload status: invalid Range '%.80s'",
                             resp.range);
    }
    reg_response_release(&resp);
    return r;
}

static int finish(struct upload *u, const struct reg_body *body, struct gantry_error **err)
{
    _cleanup_free_ char *with_digest = reg_url_add_query(u->location, "digest", u->p->digest);
    struct reg_request req = {
        .url = with_digest,
        .method = "PUT",
        .content_type = "application/octet-stream",
        .body = body,
    };
    struct reg_response resp;
    reg_response_init(&resp);
    /* With the whole blob in it, a retry needs a new session (u->restart). */
    int r = session_request(u, &req, &resp, err);
    if (r == 0 && resp.status != 201 && resp.status != 204 && resp.status != 200) {
        u->restart = reg_status_retryable(resp.status) || resp.status == 404;
        r = reg_http_error(&resp, "finish upload", err);
    }
    reg_response_release(&resp);
    return r;
}

/*
 * PATCH one chunk, or with no chunk size the whole rest of the blob in one
 * streamed request; *offset moves to what the registry acknowledged.
 */
static int patch_chunk(struct upload *u, uint64_t *offset, struct gantry_error **err)
{
    uint64_t left = (uint64_t)u->p->size - *offset;
    uint64_t n = u->p->chunk_size && left > u->p->chunk_size ? u->p->chunk_size : left;
    _cleanup_free_ char *range = reg_chunk_range_header(*offset, n);
    struct reg_body body = {.read = u->p->read, .user = u->p->user, .offset = *offset, .len = n};
    struct reg_request req = {
        .method = "PATCH",
        .content_type = "application/octet-stream",
        .extra_header = range,
        .body = &body,
    };
    struct reg_response resp;
    reg_response_init(&resp);
    int r = session_request(u, &req, &resp, err);
    if (r == 0 && resp.status == 202) {
        uint64_t next = *offset + n;
        if (resp.range && reg_upload_range_parse(resp.range, strlen(resp.range), &next) < 0)
            next = *offset + n;
        *offset = next <= *offset + n ? next : *offset + n;
    } else if (r == 0) {
        u->restart = resp.status == 416 || reg_status_retryable(resp.status);
        r = reg_http_error(&resp, "upload chunk", err);
    }
    reg_response_release(&resp);
    return r;
}

static void drop_error(struct gantry_error **err)
{
    if (err) {
        gantry_error_free(*err);
        *err = NULL;
    }
}

/* The closing PUT of a chunked upload: it carries no data, so it can be sent again. */
static int finish_chunked(struct upload *u, struct gantry_error **err)
{
    for (unsigned attempt = 0;; attempt++) {
        u->restart = false;
        mark_attempt(u);
        if (finish(u, NULL, err) == 0)
            return 0;
        /* A lost session (404) needs a new one: upload() starts over. */
        if (!u->restart || !err || !*err || (*err)->http_status == 404 ||
            (int)attempt >= u->c->opts.max_retries)
            return -1;
        gantry_log(GANTRY_LOG_DEBUG, "finish upload of %s: %s; again", u->p->digest,
                   (*err)->message);
        if (!retry_wait(u, attempt))
            return -1;
        drop_error(err);
    }
}

static int chunked(struct upload *u, struct gantry_error **err)
{
    uint64_t offset = 0;
    unsigned fails = 0;
    while (offset < (uint64_t)u->p->size) {
        uint64_t before = offset;
        u->restart = false;
        mark_attempt(u);
        if (patch_chunk(u, &offset, err) == 0) {
            fails = offset > before ? 0 : fails + 1;
            if (offset > before)
                u->failing = false; /* progress: the budget is whole again */
            if (fails <= (unsigned)u->c->opts.max_retries)
                continue;
            return gantry_error_set(err, GANTRY_E_NETWORK, 0, "upload stalls at byte %" PRIu64,
                                    offset);
        }
        if (!u->restart || (int)fails++ >= u->c->opts.max_retries)
            return -1;
        gantry_log(GANTRY_LOG_DEBUG, "upload chunk at %" PRIu64 ": %s; asking the registry", before,
                   err && *err ? (*err)->message : "failed");
        if (!retry_wait(u, fails - 1)) {
            u->restart = false; /* the budget is spent: starting over would not help */
            return -1;
        }
        drop_error(err);
        u->restart = false;
        if (session_offset(u, &offset, err) < 0)
            return -1; /* u->restart tells whether a new session may help */
    }
    return finish_chunked(u, err);
}

static int upload_once(struct upload *u, struct gantry_error **err)
{
    u->restart = false;
    mark_attempt(u);
    /* A mount answered 202 already opened a session. */
    if (!u->location && start(u, false, err) < 0)
        return -1;
    uint64_t whole_max = u->p->chunk_size ? u->p->chunk_size : REG_CHUNK_DEFAULT;
    if ((uint64_t)u->p->size <= whole_max) {
        struct reg_body body = {
            .read = u->p->read, .user = u->p->user, .len = (uint64_t)u->p->size};
        return finish(u, &body, err);
    }
    return chunked(u, err);
}

static int upload(struct upload *u, struct gantry_error **err)
{
    for (unsigned attempt = 0;; attempt++) {
        if (upload_once(u, err) == 0)
            return 0;
        if (!u->restart || (int)attempt >= u->c->opts.max_retries)
            return -1;
        gantry_log(GANTRY_LOG_DEBUG, "upload of %s: %s; starting over", u->p->digest,
                   err && *err ? (*err)->message : "failed");
        if (!retry_wait(u, attempt))
            return -1;
        free(u->location);
        u->location = NULL;
        drop_error(err);
    }
}

static int push_checks(const struct gantry_registry_blob_push *p, struct gantry_error **err)
{
    if (!p->digest || gantry_digest_validate(p->digest, strlen(p->digest), NULL, err) < 0)
        return err && *err ? -1 : gantry_error_set(err, GANTRY_E_INVALID_ARG, 0, "no digest");
    if (p->size < 0 || !p->read)
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0, "no size or data source");
    return 0;
}

int gantry_registry_push_blob(struct gantry_registry_client *c, const struct gantry_ref *ref,
                              const struct gantry_registry_blob_push *p, bool *mounted,
                              struct gantry_error **err)
{
    _cleanup_free_ char *repo = gantry_ref_repository(ref);
    if (mounted)
        *mounted = false;
    struct gantry_registry_blob_push pp = *p;
    bool mount = pp.mount_from && *pp.mount_from && strcmp(pp.mount_from, ref->path) != 0;
    _cleanup_free_ char *own = reg_scope_repo(ref->path, "pull,push");
    _cleanup_free_ char *from = mount ? reg_scope_repo(pp.mount_from, "pull") : NULL;
    struct upload u = {
        .c = c, .ref = ref, .p = &pp, .scope = reg_scope_merge(own, from), .retry_after_ms = -1};
    int r = push_checks(&pp, err);
    if (r == 0 && !(u.h = reg_host_get(c, ref->domain, err)))
        r = -1;
    if (r == 0 && mount) {
        mark_attempt(&u);
        r = start(&u, true, err);
        if (r == 1 && mounted)
            *mounted = true;
        if (r < 0 && u.restart) {
            /* A mount that failed for a passing reason: upload instead,
             * with the retries and budget of an upload. */
            gantry_log(GANTRY_LOG_DEBUG, "mount of %s: %s; uploading", p->digest,
                       err && *err ? (*err)->message : "failed");
            drop_error(err);
            r = 0;
        }
    }
    if (r == 0)
        r = upload(&u, err);
    free(u.scope);
    free(u.location);
    return r < 0 ? gantry_error_prefix(err, "push blob '%s@%s'", repo, p->digest ? p->digest : "")
                 : 0;
}
