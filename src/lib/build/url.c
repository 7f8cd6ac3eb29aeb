/*
 * ADD of remote URLs (BuildKit semantics, bad-inputs.md D13-D17): the
 * file is downloaded by the registry module (the only user of libcurl)
 * into the job's temporary directory, hashed as it arrives for --checksum,
 * named after the Content-Disposition filename or the URL path, never
 * extracted. Git sources are refused before anything runs, and every URL
 * shown anywhere has its password redacted.
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

struct url_sink {
    int fd;
    struct gantry_hasher *h;
};

static int sink_write(void *user, const void *data, size_t len, struct gantry_error **err)
{
    struct url_sink *s = user;
    if (gantry_write_all(s->fd, data, len) < 0)
        return gantry_error_set(err, GANTRY_E_IO, errno, "write the downloaded file");
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

/* Download url into out->path; got: the digest of what came. */
static int download(const char *url, enum gantry_digest_alg alg, struct build_url_file *out,
                    struct gantry_registry_fetch_result *r, char got[GANTRY_DIGEST_MAX],
                    struct gantry_error **err)
{
    _cleanup_close_ int fd = mkstemp(out->path); /* mode 0600, as BuildKit's download */
    if (fd < 0)
        return gantry_error_set(err, GANTRY_E_IO, errno, "create a temporary file");
    __attribute__((cleanup(cleanup_hasherp))) struct gantry_hasher *h = gantry_hasher_new(alg);
    struct url_sink sink = {.fd = fd, .h = h};
    struct gantry_registry_fetch_opts fo = {
        .url = url, .write = sink_write, .user = &sink, .max_size = BUILD_URL_MAX};
    if (gantry_registry_fetch(&fo, r, err) < 0)
        return -1;
    gantry_hasher_final(h, got);
    return 0;
}

int build_url_fetch(struct build_stage *st, const char *url, const char *checksum,
                    const char *tmpdir, struct build_url_file *out, struct gantry_error **err)
{
    memset(out, 0, sizeof *out);
    _cleanup_free_ char *shown = gantry_registry_redact(url);
    enum gantry_digest_alg alg;
    if (parse_checksum(checksum, &alg, err) < 0)
        return -1;
    out->path = xasprintf("%s/u-XXXXXX", tmpdir);
    struct gantry_registry_fetch_result r = {0};
    char got[GANTRY_DIGEST_MAX];
    int rc = download(url, alg, out, &r, got, err);
    if (rc == 0 && checksum && strcmp(got, checksum) != 0)
        rc = gantry_error_set(err, GANTRY_E_DIGEST_MISMATCH, 0,
                              "checksum mismatch for '%s': got %s, want %s", shown, got, checksum);
    if (rc == 0) {
        out->name = build_url_filename(url, r.filename);
        out->mtime = r.last_modified >= 0 ? build_clamp_time(r.last_modified, st->ctx->epoch)
                                          : st->ctx->created;
        out->size = r.size;
    }
    gantry_registry_fetch_result_release(&r);
    return rc;
}

void build_url_file_release(struct build_url_file *f)
{
    free(f->path);
    free(f->name);
    memset(f, 0, sizeof *f);
}
