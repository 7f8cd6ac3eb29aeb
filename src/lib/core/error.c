/* Error objects: a code, errno, HTTP status and a one-line message. */
#include "util.h"

static const char *const code_names[] = {
    [GANTRY_E_OK] = "ok",
    [GANTRY_E_INVALID_ARG] = "invalid argument",
    [GANTRY_E_NOT_FOUND] = "not found",
    [GANTRY_E_UNAUTHORIZED] = "unauthorized",
    [GANTRY_E_DENIED] = "denied",
    [GANTRY_E_DIGEST_MISMATCH] = "digest mismatch",
    [GANTRY_E_UNSUPPORTED] = "unsupported",
    [GANTRY_E_PARSE] = "parse error",
    [GANTRY_E_IO] = "i/o error",
    [GANTRY_E_NETWORK] = "network error",
    [GANTRY_E_TOO_LARGE] = "too large",
    [GANTRY_E_EXISTS] = "already exists",
    [GANTRY_E_INTERNAL] = "internal error",
};

const char *gantry_error_code_name(enum gantry_error_code code)
{
    if ((size_t)code >= ARRAY_SIZE(code_names) || !code_names[code])
        return "unknown error";
    return code_names[code];
}

/*
 * Messages are one line whatever they quote: control bytes (a newline in a
 * hostile manifest's media type, an escape sequence in a reference) become
 * \n, \t or \xNN. Takes ownership of msg.
 */
static char *one_line(char *msg)
{
    size_t extra = 0;
    for (const unsigned char *p = (const unsigned char *)msg; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            extra += 3;
    if (!extra)
        return msg;
    char *out = xmalloc(strlen(msg) + extra + 1);
    char *o = out;
    for (const unsigned char *p = (const unsigned char *)msg; *p; p++) {
        if (*p == '\n' || *p == '\t') {
            *o++ = '\\';
            *o++ = *p == '\n' ? 'n' : 't';
        } else if (*p < 0x20 || *p == 0x7f) {
            static const char hex[] = "0123456789abcdef";
            *o++ = '\\';
            *o++ = 'x';
            *o++ = hex[*p >> 4];
            *o++ = hex[*p & 15];
        } else {
            *o++ = (char)*p;
        }
    }
    *o = '\0';
    free(msg);
    return out;
}

void gantry_error_free(struct gantry_error *err)
{
    if (!err)
        return;
    free(err->message);
    free(err);
}

int gantry_error_setv(struct gantry_error **err, enum gantry_error_code code, int errnum,
                      const char *fmt, va_list ap)
{
    if (!err)
        return -1;
    char *msg = NULL;
    msg = xvasprintf(fmt, ap);
    if (errnum) {
        char *full = xasprintf("%s: %s", msg, strerror(errnum));
        free(msg);
        msg = full;
    }
    gantry_error_free(*err);
    struct gantry_error *e = xcalloc(1, sizeof(*e));
    e->code = code;
    e->errno_value = errnum;
    e->message = one_line(msg);
    *err = e;
    return -1;
}

int gantry_error_set(struct gantry_error **err, enum gantry_error_code code, int errnum,
                     const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    gantry_error_setv(err, code, errnum, fmt, ap);
    va_end(ap);
    return -1;
}

int gantry_error_set_http(struct gantry_error **err, enum gantry_error_code code, int http_status,
                          const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    gantry_error_setv(err, code, 0, fmt, ap);
    va_end(ap);
    if (err && *err)
        (*err)->http_status = http_status;
    return -1;
}

int gantry_error_prefix(struct gantry_error **err, const char *fmt, ...)
{
    if (!err || !*err)
        return -1;
    va_list ap;
    char *ctx = NULL;
    va_start(ap, fmt);
    ctx = xvasprintf(fmt, ap);
    va_end(ap);
    ctx = one_line(ctx);
    char *full = xasprintf("%s: %s", ctx, (*err)->message);
    free(ctx);
    free((*err)->message);
    (*err)->message = full;
    return -1;
}
