/* Growable, optionally capped, always NUL-terminated buffer. */
#include <fcntl.h>

#include "util.h"

char gantry_buf_empty[1];

void gantry_buf_init(struct gantry_buf *b, size_t cap)
{
    b->data = gantry_buf_empty;
    b->len = 0;
    b->alloc = 0;
    b->cap = cap;
}

void gantry_buf_release(struct gantry_buf *b)
{
    if (b->alloc)
        free(b->data);
    gantry_buf_init(b, b->cap);
}

void gantry_buf_reset(struct gantry_buf *b)
{
    b->len = 0;
    b->data[0] = '\0';
    if (!b->alloc)
        b->data = gantry_buf_empty;
}

static int buf_grow(struct gantry_buf *b, size_t extra)
{
    if (extra > SIZE_MAX - b->len - 1 || (b->cap && b->len + extra > b->cap)) {
        errno = EFBIG;
        return -1;
    }
    size_t need = b->len + extra + 1;
    if (need <= b->alloc)
        return 0;
    size_t n = b->alloc ? b->alloc : 64;
    while (n < need)
        n = n > SIZE_MAX / 2 ? need : n * 2;
    if (b->alloc) {
        b->data = xrealloc(b->data, n);
    } else {
        b->data = xmalloc(n);
        b->data[0] = '\0';
    }
    b->alloc = n;
    return 0;
}

int gantry_buf_add(struct gantry_buf *b, const void *data, size_t len)
{
    if (buf_grow(b, len) < 0)
        return -1;
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return 0;
}

int gantry_buf_addstr(struct gantry_buf *b, const char *s)
{
    return gantry_buf_add(b, s, strlen(s));
}

int gantry_buf_addf(struct gantry_buf *b, const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;
    va_start(ap, fmt);
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0)
        oom();
    int r = gantry_buf_add(b, s, (size_t)n);
    free(s);
    return r;
}

char *gantry_buf_detach(struct gantry_buf *b, size_t *len)
{
    char *r = b->alloc ? b->data : xstrdup("");
    if (len)
        *len = b->len;
    gantry_buf_init(b, b->cap);
    return r;
}

int gantry_buf_read_fd(struct gantry_buf *b, int fd, struct gantry_error **err)
{
    char chunk[65536];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return gantry_error_set(err, GANTRY_E_IO, errno, "read");
        }
        if (n == 0)
            return 0;
        if (gantry_buf_add(b, chunk, (size_t)n) < 0)
            return gantry_error_set(err, GANTRY_E_TOO_LARGE, 0, "more than %zu bytes", b->cap);
    }
}

int gantry_write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int gantry_buf_read_file(struct gantry_buf *b, const char *path, struct gantry_error **err)
{
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return gantry_error_set(err, errno == ENOENT ? GANTRY_E_NOT_FOUND : GANTRY_E_IO, errno,
                                "open '%s'", path);
    if (gantry_buf_read_fd(b, fd, err) < 0)
        return gantry_error_prefix(err, "'%s'", path);
    return 0;
}
