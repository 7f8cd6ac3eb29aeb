/*
 * ADD of remote URLs (BuildKit semantics, bad-inputs.md D13-D17): the
 * file is downloaded by the registry module (the only user of libcurl)
 * into a store blob, hashed as it arrives for --checksum, named after the
 * Content-Disposition filename or the URL path, extracted only with
 * ADD --unpack=true (copy.c, the local archives' code). Git
 * sources are refused before anything runs, and every URL shown anywhere
 * has its password redacted.
 *
 * A response with an ETag or Last-Modified is remembered in the cache
 * record url/<sha256 of the URL without user info>: the validators, the
 * file's name and time, and the blob holding the content. The next build
 * asks again with If-None-Match / If-Modified-Since; a 304 takes the blob
 * (verified as it is read), so the step's layer is the same and hits its
 * content key. The content is kept as a blob rather than a file in cache/
 * because blobs are written verified and content-addressed (one copy
 * however many URLs serve it), and gc already knows how to drop them:
 * a record whose blob is gone is a miss, and prune drops it.
 */
#include <fcntl.h>
#include <strings.h>

#include <gantry/registry.h>

#include "build/build_internal.h"

/* Downloads larger than this are refused (the layer still has to hold them). */
#define BUILD_URL_MAX (8ull << 30)

bool build_is_url(const char *s)
{
    return strncasecmp(s, "http://", 7) == 0 || strncasecmp(s, "https://", 8) == 0;
}

bool build_is_git_source(const char *s)
{
    static const char *const prefixes[] = {"git://", "git@", "ssh://", "git+ssh://"};
    for (size_t i = 0; i < ARRAY_SIZE(prefixes); i++)
        if (strncasecmp(s, prefixes[i], strlen(prefixes[i])) == 0)
            return true;
    if (!build_is_url(s))
        return false;
    size_t n = strcspn(s, "?#");
    return n >= 4 && strncmp(s + n - 4, ".git", 4) == 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The percent-decoded path of an http(s) URL (no query or fragment). */
static char *url_path(const char *url)
{
    const char *a = strstr(url, "://");
    a = a ? a + 3 : url;
    const char *p = a + strcspn(a, "/?#");
    size_t n = *p == '/' ? strcspn(p, "?#") : 0;
    char *out = xmalloc(n + 1);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        int hi = p[i] == '%' && i + 2 < n ? hexval(p[i + 1]) : -1;
        int lo = hi >= 0 ? hexval(p[i + 2]) : -1;
        if (lo >= 0 && (hi || lo)) {
            out[k++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            out[k++] = p[i];
        }
    }
    out[k] = '\0';
    return out;
}

/* Go's path.Base without the cleaning: the last non-empty '/' segment. */
static char *base_name(const char *s)
{
    size_t n = strlen(s);
    while (n && s[n - 1] == '/')
        n--;
    size_t start = n;
    while (start && s[start - 1] != '/')
        start--;
    return xstrndup(s + start, n - start);
}

static bool usable(const char *b)
{
    return *b && strcmp(b, ".") != 0 && strcmp(b, "..") != 0;
}

char *build_url_filename(const char *url, const char *disposition)
{
    if (disposition && *disposition && disposition[strlen(disposition) - 1] != '/') {
        char *b = base_name(disposition);
        if (usable(b))
            return b;
        free(b);
    }
    _cleanup_free_ char *path = url_path(url);
    char *b = base_name(path);
    if (usable(b))
        return b;
    free(b);
    return xstrdup("index");
}

void build_error_redact(struct gantry_error **err)
{
    if (!err || !*err || !(*err)->message)
        return;
    char *m = gantry_registry_redact((*err)->message);
    free((*err)->message);
    (*err)->message = m;
}

/* ---- download records: url/<sha256 of the URL without user info> ---- */

#define URL_RECORD_MAGIC "gantry-url-cache-v1"

char *build_url_key_form(const char *url)
{
    const char *a = strstr(url, "://");
    if (!a)
        return xstrdup(url);
    a += 3;
    size_t n = strcspn(a, "/?#");
    const char *at = NULL;
    for (size_t i = 0; i < n; i++)
        if (a[i] == '@')
            at = a + i;
    if (!at)
        return xstrdup(url);
    return xasprintf("%.*s%s", (int)(a - url), url, at + 1);
}

/* What a download left: its validators and the content (a store blob). */
struct url_record {
    char *etag;     /* NULL or "" when the server sent none */
    char *modified; /* Last-Modified as sent */
    char *name;     /* build_url_filename() of that response */
    int64_t mtime;  /* Last-Modified as Unix time, else the first build's time, or -1 */
    char digest[GANTRY_DIGEST_MAX];
    uint64_t size;
};

static void url_record_release(struct url_record *r)
{
    free(r->etag);
    free(r->modified);
    free(r->name);
    memset(r, 0, sizeof *r);
}

static char *url_record_name(const char *key_form)
{
    char d[GANTRY_DIGEST_MAX];
    gantry_digest_bytes(GANTRY_DIGEST_SHA256, key_form, strlen(key_form), d);
    return xasprintf("url/%s", gantry_digest_hex(d));
}

static bool parse_num(const char *s, int64_t min, int64_t *v)
{
    char *end = NULL;
    errno = 0;
    long long n = strtoll(s, &end, 10);
    *v = n;
    return *s && !*end && errno == 0 && n >= min;
}

/* Parse a record (data is modified); key_form NULL: any URL. Damaged: false. */
static bool url_record_parse(char *data, const char *key_form, struct url_record *r)
{
    static const char *const labels[] = {"url ",  "etag ",   "modified ", "mtime ",
                                         "name ", "digest ", "size "};
    const char *v[ARRAY_SIZE(labels)];
    char *save = NULL;
    char *line = strtok_r(data, "\n", &save);
    if (!line || strcmp(line, URL_RECORD_MAGIC) != 0)
        return false;
    for (size_t i = 0; i < ARRAY_SIZE(labels); i++) {
        line = strtok_r(NULL, "\n", &save);
        if (!line || !str_has_prefix(line, labels[i]))
            return false;
        v[i] = line + strlen(labels[i]);
    }
    int64_t mtime = 0, size = 0;
    if ((key_form && strcmp(v[0], key_form) != 0) || !parse_num(v[3], -1, &mtime) ||
        !usable(v[4]) || strchr(v[4], '/') || !str_has_prefix(v[5], "sha256:") ||
        gantry_digest_validate(v[5], strlen(v[5]), NULL, NULL) < 0 || !parse_num(v[6], 0, &size) ||
        (!*v[1] && !*v[2]))
        return false;
    *r = (struct url_record){.etag = xstrdup(v[1]),
                             .modified = xstrdup(v[2]),
                             .name = xstrdup(v[4]),
                             .mtime = mtime,
                             .size = (uint64_t)size};
    snprintf(r->digest, sizeof r->digest, "%s", v[5]);
    return true;
}

static bool blob_present(struct gantry_store *s, const struct url_record *r)
{
    int64_t size = -1;
    return gantry_store_blob_size(s, r->digest, &size, NULL) == 0 && (uint64_t)size == r->size;
}

bool build_url_record_live(struct gantry_store *s, const char *name, const char *path)
{
    (void)name;
    _cleanup_buf_ struct gantry_buf b = GANTRY_BUF_INIT_CAP(1u << 16);
    struct url_record r = {0};
    if (gantry_buf_read_file(&b, path, NULL) < 0 || !url_record_parse(b.data, NULL, &r))
        return false;
    bool live = blob_present(s, &r);
    url_record_release(&r);
    return live;
}

/* The record of key_form whose blob is still in the store (not with --no-cache). */
static bool url_record_load(struct build_ctx *ctx, const char *name, const char *key_form,
                            struct url_record *r)
{
    _cleanup_buf_ struct gantry_buf b = GANTRY_BUF_INIT_CAP(1u << 16);
    if (!ctx->cache || !build_cache_record_get(ctx->cache, name, &b) ||
        !url_record_parse(b.data, key_form, r))
        return false;
    if (blob_present(ctx->store, r))
        return true;
    url_record_release(r);
    return false;
}

static bool one_line(const char *s)
{
    return !s || !strchr(s, '\n');
}

/* Remember a 200 response that has validators (best effort). Only the URL
 * without its user info is written: no password ever reaches cache/. */
static void url_record_save(struct build_ctx *ctx, const char *name, const char *key_form,
                            const struct url_record *r)
{
    if (!ctx->cache || ((!r->etag || !*r->etag) && (!r->modified || !*r->modified)) ||
        !one_line(key_form) || !one_line(r->etag) || !one_line(r->modified) || !one_line(r->name))
        return;
    _cleanup_free_ char *rec = xasprintf(
        "%s\nurl %s\netag %s\nmodified %s\nmtime %lld\nname %s\ndigest %s\nsize %llu\n",
        URL_RECORD_MAGIC, key_form, r->etag ? r->etag : "", r->modified ? r->modified : "",
        (long long)r->mtime, r->name, r->digest, (unsigned long long)r->size);
    build_cache_record_put(ctx->cache, name, rec, strlen(rec));
}

/* ---- the download ---- */

struct url_sink {
    struct gantry_store_blob_writer *w;
    struct gantry_hasher *h;
};

static int sink_write(void *user, const void *data, size_t len, struct gantry_error **err)
{
    struct url_sink *s = user;
    if (gantry_store_blob_writer_write(s->w, data, len, err) < 0)
        return gantry_error_prefix(err, "write the downloaded file");
    gantry_hasher_update(s->h, data, len);
    return 0;
}

/* --checksum: a digest string whose algorithm the download is hashed with. */
static int parse_checksum(const char *checksum, enum gantry_digest_alg *alg,
                          struct gantry_error **err)
{
    *alg = GANTRY_DIGEST_SHA256;
    if (!checksum)
        return 0;
    if (gantry_digest_validate(checksum, strlen(checksum), alg, err) < 0)
        return gantry_error_prefix(err, "invalid --checksum '%s'", checksum);
    return 0;
}

static void cleanup_hasherp(struct gantry_hasher **h)
{
    gantry_hasher_free(*h);
}

static void cleanup_writerp(struct gantry_store_blob_writer **w)
{
    gantry_store_blob_writer_free(*w);
}

/*
 * GET url (conditional on rec's validators when rec is not NULL) into a
 * store blob: *digest its sha256, got the digest of what came in alg.
 * A 304 leaves both empty and r->not_modified set.
 */
static int download(struct gantry_store *s, const char *url, enum gantry_digest_alg alg,
                    const struct url_record *rec, struct gantry_registry_fetch_result *r,
                    char got[GANTRY_DIGEST_MAX], char digest[GANTRY_DIGEST_MAX],
                    struct gantry_error **err)
{
    got[0] = digest[0] = '\0';
    __attribute__((cleanup(cleanup_writerp))) struct gantry_store_blob_writer *w =
        gantry_store_blob_writer_new(s, NULL, -1, err);
    if (!w)
        return -1;
    __attribute__((cleanup(cleanup_hasherp))) struct gantry_hasher *h = gantry_hasher_new(alg);
    struct url_sink sink = {.w = w, .h = h};
    struct gantry_registry_fetch_opts fo = {.url = url,
                                            .write = sink_write,
                                            .user = &sink,
                                            .max_size = BUILD_URL_MAX,
                                            .if_none_match = rec ? rec->etag : NULL,
                                            .if_modified_since = rec ? rec->modified : NULL};
    if (gantry_registry_fetch(&fo, r, err) < 0)
        return -1;
    if (r->not_modified)
        return 0;
    gantry_hasher_final(h, got);
    return gantry_store_blob_writer_commit(w, digest, err);
}

/* The recorded content again (304): read through, verified, hashed in alg. */
static int reuse_blob(struct gantry_store *s, const struct url_record *rec,
                      enum gantry_digest_alg alg, char got[GANTRY_DIGEST_MAX],
                      struct gantry_error **err)
{
    struct gantry_store_blob_reader *rd = gantry_store_blob_reader_open(s, rec->digest, err);
    if (!rd)
        return -1;
    __attribute__((cleanup(cleanup_hasherp))) struct gantry_hasher *h = gantry_hasher_new(alg);
    char buf[65536];
    ssize_t n;
    while ((n = gantry_store_blob_reader_read(rd, buf, sizeof buf, err)) > 0)
        gantry_hasher_update(h, buf, (size_t)n);
    gantry_store_blob_reader_free(rd);
    if (n < 0)
        return -1;
    gantry_hasher_final(h, got);
    return 0;
}

/* The file of a 200 response, and its record. */
static void from_response(struct build_stage *st, const char *url,
                          const struct gantry_registry_fetch_result *r, const char *digest,
                          struct url_record *rec)
{
    const struct build_ctx *ctx = st->ctx;
    url_record_release(rec);
    /* Without Last-Modified the file's time is the first build's, kept
     * for a 304 so that the layer is the same (with SOURCE_DATE_EPOCH it
     * is the epoch anyway). */
    *rec = (struct url_record){.etag = r->etag ? xstrdup(r->etag) : NULL,
                               .modified = r->modified ? xstrdup(r->modified) : NULL,
                               .name = build_url_filename(url, r->filename),
                               .mtime = r->last_modified >= 0 ? r->last_modified
                                        : ctx->epoch < 0      ? ctx->created
                                                              : -1,
                               .size = r->size};
    snprintf(rec->digest, sizeof rec->digest, "%s", digest);
}

static void cleanup_recordp(struct url_record *r)
{
    url_record_release(r);
}

static void cleanup_resultp(struct gantry_registry_fetch_result *r)
{
    gantry_registry_fetch_result_release(r);
}

/* Download url, conditionally when it has a record; rec: what the file is. */
static int fetch_or_reuse(struct build_stage *st, const char *url, enum gantry_digest_alg alg,
                          const char *name, const char *key_form, struct url_record *rec,
                          char got[GANTRY_DIGEST_MAX], struct gantry_error **err)
{
    struct gantry_store *s = st->ctx->store;
    bool have = url_record_load(st->ctx, name, key_form, rec);
    __attribute__((cleanup(cleanup_resultp))) struct gantry_registry_fetch_result r = {0};
    char digest[GANTRY_DIGEST_MAX];
    if (download(s, url, alg, have ? rec : NULL, &r, got, digest, err) < 0)
        return -1;
    if (r.not_modified) {
        _cleanup_free_ char *shown = gantry_registry_redact(url);
        gantry_log(GANTRY_LOG_DEBUG, "ADD: '%s' not modified, using %s", shown, rec->digest);
        return reuse_blob(s, rec, alg, got, err);
    }
    from_response(st, url, &r, digest, rec);
    return 0;
}

int build_url_fetch(struct build_stage *st, const char *url, const char *checksum,
                    struct build_url_file *out, struct gantry_error **err)
{
    memset(out, 0, sizeof *out);
    _cleanup_free_ char *shown = gantry_registry_redact(url);
    enum gantry_digest_alg alg;
    if (parse_checksum(checksum, &alg, err) < 0)
        return -1;
    _cleanup_free_ char *key_form = build_url_key_form(url);
    _cleanup_free_ char *name = url_record_name(key_form);
    __attribute__((cleanup(cleanup_recordp))) struct url_record rec = {0};
    char got[GANTRY_DIGEST_MAX];
    if (fetch_or_reuse(st, url, alg, name, key_form, &rec, got, err) < 0)
        return -1;
    if (checksum && strcmp(got, checksum) != 0)
        return gantry_error_set(err, GANTRY_E_DIGEST_MISMATCH, 0,
                                "checksum mismatch for '%s': got %s, want %s", shown, got,
                                checksum);
    out->path = gantry_store_blob_path(st->ctx->store, rec.digest, err);
    if (!out->path)
        return -1;
    url_record_save(st->ctx, name, key_form, &rec);
    out->name = xstrdup(rec.name);
    out->mtime = rec.mtime >= 0 ? build_clamp_time(rec.mtime, st->ctx->epoch) : st->ctx->created;
    out->size = rec.size;
    return 0;
}

void build_url_file_release(struct build_url_file *f)
{
    free(f->path);
    free(f->name);
    memset(f, 0, sizeof *f);
}
