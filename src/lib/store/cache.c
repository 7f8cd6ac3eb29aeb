/*
 * Cache records: small named files under $ROOT/cache/ for the build cache.
 * A record is replaced by writing a unique file in tmp/ and renaming it
 * over the old one, so readers see the old or the new bytes and writers
 * need no lock. Records are not fsynced: they are a cache, readers
 * validate what they read, and a lost record only costs a rebuild.
 */
#include <fcntl.h>

#include "store_internal.h"

#define CACHE_NAME_MAX 255

static bool part_ok(const char *p, size_t len)
{
    if (len == 0 || p[0] == '.')
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = p[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '-' || c == '.';
        if (!ok)
            return false;
    }
    return true;
}

/* "name" or "namespace/name"; nothing that could leave cache/. */
static int check_name(const char *name, struct gantry_error **err)
{
    size_t len = name ? strlen(name) : 0;
    const char *slash = name ? strchr(name, '/') : NULL;
    bool ok = len > 0 && len <= CACHE_NAME_MAX;
    if (ok && slash)
        ok = part_ok(name, (size_t)(slash - name)) &&
             part_ok(slash + 1, len - (size_t)(slash + 1 - name));
    else if (ok)
        ok = part_ok(name, len);
    if (!ok)
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0, "invalid cache record name '%s'",
                                name ? name : "");
    return 0;
}

static int make_dirs(struct gantry_store *s, const char *name, struct gantry_error **err)
{
    _cleanup_free_ char *top = store_path(s, "cache");
    if (store_mkdir(top, err) < 0)
        return -1;
    const char *slash = strchr(name, '/');
    if (!slash)
        return 0;
    _cleanup_free_ char *ns = xasprintf("%s/%.*s", top, (int)(slash - name), name);
    return store_mkdir(ns, err);
}

int gantry_store_cache_put(struct gantry_store *s, const char *name, const void *data, size_t len,
                           struct gantry_error **err)
{
    if (check_name(name, err) < 0 || make_dirs(s, name, err) < 0)
        return -1;
    _cleanup_free_ char *tmpdir = store_path(s, "tmp");
    if (store_mkdir(tmpdir, err) < 0)
        return -1;
    _cleanup_free_ char *tmp = xasprintf("%s/cache-XXXXXX", tmpdir);
    _cleanup_close_ int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
        return gantry_error_set(err, GANTRY_E_IO, errno, "create temporary file in '%s'", tmpdir);
    _cleanup_free_ char *path = xasprintf("%s/cache/%s", s->root, name);
    if (gantry_write_all(fd, data, len) < 0 || fchmod(fd, 0644) < 0 || rename(tmp, path) < 0) {
        int e = errno;
        unlink(tmp);
        return gantry_error_set(err, GANTRY_E_IO, e, "write cache record '%s'", path);
    }
    return 0;
}

int gantry_store_cache_get(struct gantry_store *s, const char *name, struct gantry_buf *out,
                           struct gantry_error **err)
{
    if (check_name(name, err) < 0)
        return -1;
    _cleanup_free_ char *path = xasprintf("%s/cache/%s", s->root, name);
    return gantry_buf_read_file(out, path, err);
}

int gantry_store_cache_delete(struct gantry_store *s, const char *name, struct gantry_error **err)
{
    if (check_name(name, err) < 0)
        return -1;
    _cleanup_free_ char *path = xasprintf("%s/cache/%s", s->root, name);
    if (unlink(path) < 0 && errno != ENOENT)
        return gantry_error_set(err, GANTRY_E_IO, errno, "remove cache record '%s'", path);
    return 0;
}
