/* File system helpers of the store: paths, atomic replace, locks, a string set. */
#include <fcntl.h>
#include <sys/file.h>

#include "store_internal.h"

char *store_path(const struct gantry_store *s, const char *rel)
{
    return xasprintf("%s/%s", s->root, rel);
}

char *store_blob_path(const struct gantry_store *s, const char *digest, struct gantry_error **err)
{
    /* Validation also keeps "../" and other path tricks out of blobs/. */
    if (!digest) {
        gantry_error_set(err, GANTRY_E_INVALID_ARG, 0, "no digest given");
        return NULL;
    }
    if (gantry_digest_validate(digest, strlen(digest), NULL, err) < 0)
        return NULL;
    size_t alg_len = (size_t)(strchr(digest, ':') - digest);
    return xasprintf("%s/blobs/%.*s/%s", s->root, (int)alg_len, digest, gantry_digest_hex(digest));
}

int store_mkdir(const char *path, struct gantry_error **err)
{
    if (mkdir(path, 0755) < 0 && errno != EEXIST)
        return gantry_error_set(err, GANTRY_E_IO, errno, "create directory '%s'", path);
    return 0;
}

int store_mkdir_p(const char *path, struct gantry_error **err)
{
    _cleanup_free_ char *p = xstrdup(path);
    for (char *c = p + 1; *c; c++) {
        if (*c != '/')
            continue;
        *c = '\0';
        int r = store_mkdir(p, err);
        *c = '/';
        if (r < 0)
            return -1;
    }
    return store_mkdir(p, err);
}

int store_fsync_dir(const char *path, struct gantry_error **err)
{
    _cleanup_close_ int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) < 0)
        return gantry_error_set(err, GANTRY_E_IO, errno, "sync directory '%s'", path);
    return 0;
}

int store_write_atomic(struct gantry_store *s, const char *rel, const void *data, size_t len,
                       struct gantry_error **err)
{
    _cleanup_free_ char *path = store_path(s, rel);
    _cleanup_free_ char *tmp = xasprintf("%s.tmp", path);
    _cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return gantry_error_set(err, GANTRY_E_IO, errno, "create '%s'", tmp);
    if (gantry_write_all(fd, data, len) < 0 || fsync(fd) < 0) {
        int e = errno;
        unlink(tmp);
        return gantry_error_set(err, GANTRY_E_IO, e, "write '%s'", tmp);
    }
    if (rename(tmp, path) < 0) {
        int e = errno;
        unlink(tmp);
        return gantry_error_set(err, GANTRY_E_IO, e, "rename '%s' to '%s'", tmp, path);
    }
    return store_fsync_dir(s->root, err);
}

int store_lock(struct gantry_store *s, int op, struct gantry_error **err)
{
    _cleanup_free_ char *path = store_path(s, "lock");
    /* A fresh open file description each time: flock then excludes other
     * threads and forked children too, not only other processes. */
    _cleanup_close_ int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0 && (errno == EACCES || errno == EROFS) && op == LOCK_SH)
        fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return gantry_error_set(err, GANTRY_E_IO, errno, "open lock '%s'", path);
    while (flock(fd, op) < 0) {
        if (errno != EINTR)
            return gantry_error_set(err, GANTRY_E_IO, errno, "lock '%s'", path);
    }
    return steal_fd(&fd);
}
