/* Pure helpers of the builder: context and destination paths, --chown, --chmod, times. */
#include <sys/stat.h>
#include <unistd.h>
#include <time.h>

#include "build/build_internal.h"

/* Append segment seg[0..n) to the cleaned path in out (len *olen), handling "." and "..". */
static bool push_segment(char *out, size_t *olen, const char *seg, size_t n)
{
    if (n == 0 || (n == 1 && seg[0] == '.'))
        return true;
    if (n == 2 && seg[0] == '.' && seg[1] == '.') {
        if (*olen == 0)
            return false;
        char *slash = memrchr(out, '/', *olen);
        *olen = slash ? (size_t)(slash - out) : 0;
        out[*olen] = '\0';
        return true;
    }
    if (*olen)
        out[(*olen)++] = '/';
    memcpy(out + *olen, seg, n);
    *olen += n;
    out[*olen] = '\0';
    return true;
}

char *build_context_path(const char *p, size_t len)
{
    _cleanup_free_ char *out = xmalloc(len + 2);
    size_t olen = 0;
    out[0] = '\0';
    size_t i = 0;
    while (i < len) {
        size_t j = i;
        while (j < len && p[j] != '/')
            j++;
        if (!push_segment(out, &olen, p + i, j - i))
            return NULL;
        i = j + 1;
    }
    if (olen == 0)
        return xstrdup(".");
    return steal_pointer(&out);
}

char *build_dest_path(const char *workdir, const char *dest, bool *is_dir)
{
    size_t dl = strlen(dest);
    *is_dir = dl > 0 && (dest[dl - 1] == '/' || strcmp(dest, ".") == 0 ||
                         (dl >= 2 && strcmp(dest + dl - 2, "/.") == 0));
    _cleanup_free_ char *joined = NULL;
    if (dest[0] == '/' || !workdir || !*workdir)
        joined = xasprintf("/%s", dest);
    else
        joined = xasprintf("%s/%s", workdir, dest);
    /* Going above "/" stays at "/", as in a real filesystem. */
    _cleanup_free_ char *out = xmalloc(strlen(joined) + 2);
    size_t olen = 0;
    out[0] = '\0';
    for (const char *s = joined; *s;) {
        const char *e = strchrnul(s, '/');
        if (!push_segment(out, &olen, s, (size_t)(e - s)))
            olen = 0, out[0] = '\0';
        s = *e ? e + 1 : e;
    }
    return xasprintf("/%s", out);
}

/* Field idx (0-based) of the line of a passwd/group text whose first field is name. */
static char *colon_field(const char *text, const char *name, int idx)
{
    size_t nl = strlen(name);
    for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        if (strncmp(l, name, nl) != 0 || l[nl] != ':')
            continue;
        const char *f = l;
        for (int k = 0; k < idx && f; k++) {
            f = strpbrk(f, ":\n");
            f = f && *f == ':' ? f + 1 : NULL;
        }
        if (!f)
            return NULL;
        return xstrndup(f, strcspn(f, ":\n"));
    }
    return NULL;
}

/* A number, or a name looked up in text (field 2: the id). */
static int resolve_id(const char *s, const char *text, const char *what, const char *spec,
                      uint32_t *out, struct gantry_error **err)
{
    if (!*s)
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0, "invalid --chown '%s': empty %s",
                                spec, what);
    char *end = NULL;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (!errno && *end == '\0' && s[0] >= '0' && s[0] <= '9' && v <= UINT32_MAX) {
        *out = (uint32_t)v;
        return 0;
    }
    _cleanup_free_ char *id = text ? colon_field(text, s, 2) : NULL;
    if (!id || !*id || strspn(id, "0123456789") != strlen(id))
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0,
                                "invalid --chown '%s': unknown %s '%s'", spec, what, s);
    *out = (uint32_t)strtoul(id, NULL, 10);
    return 0;
}

int build_chown_parse(const char *spec, const char *passwd, const char *group, uint32_t *uid,
                      uint32_t *gid, struct gantry_error **err)
{
    const char *colon = strchr(spec, ':');
    _cleanup_free_ char *user = colon ? xstrndup(spec, (size_t)(colon - spec)) : xstrdup(spec);
    if (resolve_id(user, passwd, "user", spec, uid, err) < 0)
        return -1;
    if (colon)
        return resolve_id(colon + 1, group, "group", spec, gid, err);
    _cleanup_free_ char *primary = passwd ? colon_field(passwd, user, 3) : NULL;
    *gid = *uid;
    if (primary && *primary && strspn(primary, "0123456789") == strlen(primary))
        *gid = (uint32_t)strtoul(primary, NULL, 10);
    return 0;
}

int build_chmod_parse(const char *spec, uint32_t *mode, struct gantry_error **err)
{
    char *end = NULL;
    errno = 0;
    unsigned long v = strtoul(spec, &end, 8);
    if (errno || !*spec || *end || v > 07777 || spec[0] == '-' || spec[0] == '+')
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0,
                                "invalid --chmod '%s': want an octal mode up to 7777", spec);
    *mode = (uint32_t)v;
    return 0;
}

char *build_format_time(int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    char buf[64];
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return xstrdup(buf);
}

int64_t build_clamp_time(int64_t t, int64_t epoch)
{
    return epoch >= 0 && t > epoch ? epoch : t;
}

/* Pop the last segment of a relative path in place ("" stays ""). */
static void pop_segment(char *p)
{
    char *slash = strrchr(p, '/');
    if (slash)
        *slash = '\0';
    else
        *p = '\0';
}

/* *rest becomes "target/<after>"; an absolute target restarts at the root. */
static bool follow_link(const char *full, char *cur, char **rest, const char *after)
{
    char target[4096];
    ssize_t n = readlink(full, target, sizeof target - 1);
    if (n <= 0)
        return false;
    target[n] = '\0';
    if (target[0] == '/')
        cur[0] = '\0';
    char *next = *after ? xasprintf("%s/%s", target, after) : xstrdup(target);
    free(*rest);
    *rest = next;
    return true;
}

char *build_path_in_root(const char *root, const char *rel)
{
    _cleanup_free_ char *cur = xstrdup("");
    _cleanup_free_ char *rest = xstrdup(rel);
    for (int hops = 0; *rest;) {
        char *slash = strchr(rest, '/');
        _cleanup_free_ char *seg = slash ? xstrndup(rest, (size_t)(slash - rest)) : xstrdup(rest);
        _cleanup_free_ char *after = xstrdup(slash ? slash + 1 : "");
        free(rest);
        rest = steal_pointer(&after);
        if (strcmp(seg, "..") == 0)
            pop_segment(cur);
        if (!*seg || strcmp(seg, ".") == 0 || strcmp(seg, "..") == 0)
            continue;
        _cleanup_free_ char *cand = *cur ? xasprintf("%s/%s", cur, seg) : xstrdup(seg);
        _cleanup_free_ char *full = xasprintf("%s/%s", root, cand);
        struct stat sb;
        if (lstat(full, &sb) < 0) /* missing: the caller's stat reports it */
            return *rest ? xasprintf("%s/%s", full, rest) : steal_pointer(&full);
        if (!S_ISLNK(sb.st_mode)) {
            free(cur);
            cur = steal_pointer(&cand);
        } else if (++hops > 40 || !follow_link(full, cur, &rest, rest)) {
            return NULL;
        }
    }
    return *cur ? xasprintf("%s/%s", root, cur) : xstrdup(root);
}
