/* Shared helpers of the image module: documents, platforms, ids, times. */
#include <time.h>

#include "image_internal.h"

/* A small document blob, verified; the store's messages name the blob, what says its role. */
static int read_doc(struct gantry_store *s, const char *digest, const char *what,
                    struct gantry_buf *b, struct gantry_error **err)
{
    if (gantry_store_read_blob(s, digest, b, err) < 0)
        return gantry_error_prefix(err, "%s", what);
    return 0;
}

struct gantry_oci_manifest *image_load_manifest(struct gantry_store *s,
                                                const struct gantry_oci_descriptor *d,
                                                struct gantry_error **err)
{
    _cleanup_buf_ struct gantry_buf b = GANTRY_BUF_INIT_CAP(GANTRY_MANIFEST_MAX);
    if (read_doc(s, d->digest, "image manifest", &b, err) < 0)
        return NULL;
    struct gantry_oci_manifest *m = gantry_oci_manifest_parse(b.data, b.len, d->media_type, err);
    if (!m)
        gantry_error_prefix(err, "blob %s", d->digest);
    return m;
}

struct gantry_oci_config *image_load_config(struct gantry_store *s, const char *digest,
                                            struct gantry_error **err)
{
    _cleanup_buf_ struct gantry_buf b = GANTRY_BUF_INIT_CAP(GANTRY_MANIFEST_MAX);
    if (read_doc(s, digest, "image config", &b, err) < 0)
        return NULL;
    struct gantry_oci_config *c = gantry_oci_config_parse(b.data, b.len, err);
    if (!c)
        gantry_error_prefix(err, "blob %s", digest);
    return c;
}

static char *dup0(const char *s)
{
    return s && *s ? xstrdup(s) : NULL;
}

static void copy_features(char *const *v, size_t n, struct gantry_platform *out)
{
    if (n == 0)
        return;
    out->os_features = xcalloc(n + 1, sizeof(*out->os_features));
    for (size_t i = 0; i < n; i++)
        out->os_features[i] = xstrdup(v[i]);
    out->n_os_features = n;
}

void image_platform_from_oci(const struct gantry_oci_platform *o, struct gantry_platform *out)
{
    *out = (struct gantry_platform)GANTRY_PLATFORM_INIT;
    out->os = dup0(o->os);
    out->architecture = dup0(o->architecture);
    out->variant = dup0(o->variant);
    out->os_version = dup0(o->os_version);
    copy_features(o->os_features, o->n_os_features, out);
    gantry_platform_normalize(out);
}

void image_platform_from_config(const struct gantry_oci_config *c, struct gantry_platform *out)
{
    *out = (struct gantry_platform)GANTRY_PLATFORM_INIT;
    out->os = dup0(c->os);
    out->architecture = dup0(c->architecture);
    out->variant = dup0(c->variant);
    out->os_version = dup0(c->os_version);
    copy_features(c->os_features, c->n_os_features, out);
    gantry_platform_normalize(out);
}

struct gantry_oci_platform *image_oci_platform(const struct gantry_platform *p)
{
    struct gantry_oci_platform *o = xcalloc(1, sizeof(*o));
    o->os = xstrdup(p->os ? p->os : "unknown");
    o->architecture = xstrdup(p->architecture ? p->architecture : "unknown");
    o->variant = dup0(p->variant);
    o->os_version = dup0(p->os_version);
    if (p->n_os_features) {
        o->os_features = xcalloc(p->n_os_features + 1, sizeof(*o->os_features));
        for (size_t i = 0; i < p->n_os_features; i++)
            o->os_features[i] = xstrdup(p->os_features[i]);
        o->n_os_features = p->n_os_features;
    }
    return o;
}

int image_manifest_platform(struct gantry_store *s, const struct gantry_oci_descriptor *d,
                            bool trust_desc, struct gantry_platform *out, struct gantry_error **err)
{
    if (trust_desc && d->platform) {
        image_platform_from_oci(d->platform, out);
        return 0;
    }
    _cleanup_manifest_ struct gantry_oci_manifest *m = image_load_manifest(s, d, err);
    if (!m)
        return -1;
    _cleanup_config_ struct gantry_oci_config *c = image_load_config(s, m->config.digest, err);
    if (!c)
        return -1;
    image_platform_from_config(c, out);
    return 0;
}

int image_id(struct gantry_store *s, const struct gantry_oci_descriptor *d,
             char id[GANTRY_DIGEST_MAX], struct gantry_error **err)
{
    if (gantry_oci_is_index_type(d->media_type)) {
        snprintf(id, GANTRY_DIGEST_MAX, "%s", d->digest);
        return 0;
    }
    _cleanup_manifest_ struct gantry_oci_manifest *m = image_load_manifest(s, d, err);
    if (!m)
        return -1;
    snprintf(id, GANTRY_DIGEST_MAX, "%s", m->config.digest);
    return 0;
}

/* "+01:00", "-0530", "Z" into seconds east of UTC; -1 on bad syntax. */
static int parse_zone(const char *p, long *off)
{
    int hh, mm, n = 0;
    if ((*p == 'Z' || *p == 'z') && !p[1]) {
        *off = 0;
        return 0;
    }
    if ((*p != '+' && *p != '-') ||
        (sscanf(p + 1, "%2d:%2d%n", &hh, &mm, &n) != 2 &&
         sscanf(p + 1, "%2d%2d%n", &hh, &mm, &n) != 2) ||
        p[1 + n] || hh > 23 || mm > 59)
        return -1;
    *off = (*p == '-' ? -1 : 1) * (hh * 3600L + mm * 60L);
    return 0;
}

int64_t image_parse_time(const char *s)
{
    struct tm tm = {0};
    int n = 0;
    long off = 0;
    if (!s || sscanf(s, "%4d-%2d-%2d%*1[Tt ]%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                     &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6)
        return -1;
    const char *p = s + n;
    if (*p == '.')
        for (p++; *p >= '0' && *p <= '9'; p++)
            ;
    if (parse_zone(p, &off) < 0)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    time_t t = timegm(&tm);
    return t == (time_t)-1 ? -1 : (int64_t)t - off;
}

char *image_format_time(int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    char buf[64];
    if (!gmtime_r(&tt, &tm) || strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        return xstrdup("1970-01-01T00:00:00Z");
    return xstrdup(buf);
}
