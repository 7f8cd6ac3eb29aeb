/*
 * Internal helpers shared by the library and the CLI (not installed):
 * cleanup attributes (crun/bubblewrap style), allocation that aborts on
 * out-of-memory, ownership transfer.
 *
 *     _cleanup_free_ char *s = xstrdup("x");
 *     _cleanup_close_ int fd = open(...);
 *     return steal_pointer(&s);
 */
#ifndef GANTRY_UTIL_H
#define GANTRY_UTIL_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gantry/core.h>

/* Out of memory aborts: a deliberate choice, as in crun, git and bubblewrap. */
__attribute__((noreturn)) static inline void oom(void)
{
    fputs("gantry: out of memory\n", stderr);
    abort();
}

static inline void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom();
    return p;
}

static inline void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        oom();
    return p;
}

static inline void *xrealloc(void *old, size_t n)
{
    void *p = realloc(old, n ? n : 1);
    if (!p)
        oom();
    return p;
}

static inline char *xstrdup(const char *s)
{
    char *p = strdup(s);
    if (!p)
        oom();
    return p;
}

/* A copy of s, or NULL for NULL (optional strings of spec structs). */
static inline char *xstrdup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

static inline char *xstrndup(const char *s, size_t n)
{
    char *p = strndup(s, n);
    if (!p)
        oom();
    return p;
}

__attribute__((format(printf, 1, 0))) static inline char *xvasprintf(const char *fmt, va_list ap)
{
    char *p = NULL;
    if (vasprintf(&p, fmt, ap) < 0)
        oom();
    return p;
}

__attribute__((format(printf, 1, 2))) static inline char *xasprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *p = xvasprintf(fmt, ap);
    va_end(ap);
    return p;
}

static inline void cleanup_freep(void *p)
{
    free(*(void **)p);
}

static inline void cleanup_closep(int *fd)
{
    if (*fd >= 0) {
        int saved = errno;
        close(*fd);
        errno = saved;
    }
}

static inline void cleanup_fclosep(FILE **f)
{
    if (*f)
        fclose(*f);
}

static inline void cleanup_errorp(struct gantry_error **e)
{
    gantry_error_free(*e);
}

static inline void cleanup_bufp(struct gantry_buf *b)
{
    gantry_buf_release(b);
}

#define _cleanup_free_ __attribute__((cleanup(cleanup_freep)))
#define _cleanup_close_ __attribute__((cleanup(cleanup_closep)))
#define _cleanup_fclose_ __attribute__((cleanup(cleanup_fclosep)))
#define _cleanup_error_ __attribute__((cleanup(cleanup_errorp)))
#define _cleanup_buf_ __attribute__((cleanup(cleanup_bufp)))

static inline void *steal_pointer_impl(void *pp)
{
    void **p = pp;
    void *r = *p;
    *p = NULL;
    return r;
}
#define steal_pointer(pp) ((__typeof__(*(pp)))steal_pointer_impl(pp))

static inline int steal_fd(int *fd)
{
    int r = *fd;
    *fd = -1;
    return r;
}

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static inline int str_has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

#include "banned.h"

#endif
