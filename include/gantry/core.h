/*
 * gantry core: errors, growable buffers, log and progress callbacks.
 *
 * Basic outline of error handling:
 *
 *     struct gantry_error *err = NULL;
 *     if (gantry_something(..., &err) < 0) {
 *         fprintf(stderr, "gantry: %s\n", err->message);
 *         gantry_error_free(err);
 *     }
 *
 * A fallible function returns 0 (ok) or -1 (fail), or a pointer (NULL on
 * failure), and takes `struct gantry_error **err` last. On success *err is
 * left untouched; on failure *err holds a new error the caller frees with
 * gantry_error_free(). Callers may pass err == NULL to ignore details.
 *
 * Out of memory aborts the process (a deliberate choice shared with crun,
 * git and bubblewrap): no function reports ENOMEM.
 */
#ifndef GANTRY_CORE_H
#define GANTRY_CORE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GANTRY_API __attribute__((visibility("default")))
#define GANTRY_WUR __attribute__((warn_unused_result))
#define GANTRY_PRINTF(a, b) __attribute__((format(printf, a, b)))

#ifdef __cplusplus
extern "C" {
#endif

/* The closed set of error codes (style.md "Errors"). */
enum gantry_error_code {
    GANTRY_E_OK = 0,
    GANTRY_E_INVALID_ARG,
    GANTRY_E_NOT_FOUND,
    GANTRY_E_UNAUTHORIZED,
    GANTRY_E_DENIED,
    GANTRY_E_DIGEST_MISMATCH,
    GANTRY_E_UNSUPPORTED,
    GANTRY_E_PARSE,
    GANTRY_E_IO,
    GANTRY_E_NETWORK,
    GANTRY_E_TOO_LARGE,
    GANTRY_E_EXISTS,
    GANTRY_E_INTERNAL,
};

struct gantry_error {
    enum gantry_error_code code;
    int errno_value; /* 0 when not an OS error */
    int http_status; /* 0 when not an HTTP error */
    char *message;   /* one line: lowercase, no full stop, subject quoted */
};

/*
 * Fill *err with a new error and return -1. When errnum != 0 the message
 * gets ": <strerror(errnum)>" appended. If *err is already set it is
 * replaced. err may be NULL. Always returns -1 so callers can write
 * `return gantry_error_set(err, GANTRY_E_IO, errno, "open '%s'", path);`
 */
GANTRY_API int gantry_error_set(struct gantry_error **err, enum gantry_error_code code, int errnum,
                                const char *fmt, ...) GANTRY_PRINTF(4, 5);
GANTRY_API int gantry_error_setv(struct gantry_error **err, enum gantry_error_code code, int errnum,
                                 const char *fmt, va_list ap) GANTRY_PRINTF(4, 0);

/* Same as gantry_error_set and also records an HTTP status. */
GANTRY_API int gantry_error_set_http(struct gantry_error **err, enum gantry_error_code code,
                                     int http_status, const char *fmt, ...) GANTRY_PRINTF(4, 5);

/*
 * Add context on the way up: "ctx: old message". Returns -1. A no-op on a
 * NULL err or *err.
 */
GANTRY_API int gantry_error_prefix(struct gantry_error **err, const char *fmt, ...)
    GANTRY_PRINTF(2, 3);

/* Free an error; NULL is a no-op. */
GANTRY_API void gantry_error_free(struct gantry_error *err);

/* "invalid argument", "not found", ... for a code. Static string. */
GANTRY_API const char *gantry_error_code_name(enum gantry_error_code code);

/*
 * Growable buffer, after git's strbuf: data is never NULL after init and is
 * always NUL-terminated; gantry_buf_detach is the only way to take the
 * memory. A non-zero cap bounds len (curl dynbuf): appends past it fail
 * with -1 and errno = EFBIG, leaving the buffer as it was.
 */
struct gantry_buf {
    char *data;
    size_t len;
    size_t alloc;
    size_t cap; /* 0 = unbounded */
};

GANTRY_API extern char gantry_buf_empty[];
#define GANTRY_BUF_INIT                                                                            \
    {                                                                                              \
        gantry_buf_empty, 0, 0, 0                                                                  \
    }
#define GANTRY_BUF_INIT_CAP(c)                                                                     \
    {                                                                                              \
        gantry_buf_empty, 0, 0, (c)                                                                \
    }

/* Common caps (style.md "Buffers"). */
#define GANTRY_MANIFEST_MAX (4u * 1024u * 1024u)
#define GANTRY_TOKEN_MAX (64u * 1024u)

GANTRY_API void gantry_buf_init(struct gantry_buf *b, size_t cap);
GANTRY_API void gantry_buf_release(struct gantry_buf *b);
GANTRY_API void gantry_buf_reset(struct gantry_buf *b);
/* Append; -1 with errno = EFBIG when the cap would be exceeded. */
GANTRY_API int gantry_buf_add(struct gantry_buf *b, const void *data, size_t len) GANTRY_WUR;
GANTRY_API int gantry_buf_addstr(struct gantry_buf *b, const char *s) GANTRY_WUR;
GANTRY_API int gantry_buf_addf(struct gantry_buf *b, const char *fmt, ...)
    GANTRY_PRINTF(2, 3) GANTRY_WUR;
/* Take the memory (caller frees with free()); the buffer is re-initialised. */
GANTRY_API char *gantry_buf_detach(struct gantry_buf *b, size_t *len);
/*
 * Read a whole file into b (appending). Fails with GANTRY_E_TOO_LARGE when
 * b->cap would be exceeded, GANTRY_E_NOT_FOUND for ENOENT, GANTRY_E_IO else.
 */
GANTRY_API int gantry_buf_read_file(struct gantry_buf *b, const char *path,
                                    struct gantry_error **err) GANTRY_WUR;
GANTRY_API int gantry_buf_read_fd(struct gantry_buf *b, int fd,
                                  struct gantry_error **err) GANTRY_WUR;

/*
 * Write all len bytes of data to fd, resuming after short writes and EINTR.
 * Returns 0, or -1 with errno set as write(2) does, so that the caller
 * names the file in its own error.
 */
GANTRY_API int gantry_write_all(int fd, const void *data, size_t len) GANTRY_WUR;

/* Log and progress hooks: the library never prints. */
enum gantry_log_level {
    GANTRY_LOG_DEBUG,
    GANTRY_LOG_INFO,
    GANTRY_LOG_WARN,
};

struct gantry_progress {
    const char *id;     /* short id of the item (e.g. a digest prefix) */
    const char *action; /* "importing", "writing", ... */
    uint64_t done;      /* bytes done */
    uint64_t total;     /* 0 when unknown */
    bool finished;
};

typedef void (*gantry_log_fn)(void *user, enum gantry_log_level level, const char *msg);
typedef void (*gantry_progress_fn)(void *user, const struct gantry_progress *p);

/*
 * Process-wide hooks, set by the program (CLI) once at start. NULL hooks
 * mean silence.
 */
GANTRY_API void gantry_set_log_handler(gantry_log_fn fn, void *user);
GANTRY_API void gantry_set_progress_handler(gantry_progress_fn fn, void *user);
GANTRY_API void gantry_log(enum gantry_log_level level, const char *fmt, ...) GANTRY_PRINTF(2, 3);
GANTRY_API void gantry_progress(const struct gantry_progress *p);

/* Library version string ("0.1.0"). */
GANTRY_API const char *gantry_version(void);

#ifdef __cplusplus
}
#endif
#endif
