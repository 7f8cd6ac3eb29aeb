/*
 * Internal helpers of fetch.c (plain HTTP(S) downloads), exposed for the
 * unit tests: pure parsers over (const char *, size_t).
 */
#ifndef GANTRY_REGISTRY_FETCH_INTERNAL_H
#define GANTRY_REGISTRY_FETCH_INTERNAL_H

#include <stddef.h>

/*
 * The filename parameter of a Content-Disposition value, as Go's
 * mime.ParseMediaType reads it: "filename*" (RFC 5987/2231,
 * UTF-8''percent-encoded or us-ascii) before "filename" (token or quoted
 * string with backslash escapes); parameter names case-insensitive. The
 * result is the raw value (it may hold "/" or ".."); caller frees. NULL
 * when there is none or the value is malformed.
 */
char *reg_disposition_filename(const char *v, size_t len);

#endif
