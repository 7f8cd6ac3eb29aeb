/*
 * gantry template: the Go text/template subset behind every --format flag,
 * with Docker's extra functions, evaluated over a JSON value (jansson).
 *
 * Basic outline of formatting a value:
 *
 *     struct gantry_error *err = NULL;
 *     struct gantry_template *t = gantry_template_parse(fmt, strlen(fmt), &err);
 *     if (!t)
 *         ...;        // err->message: template: 1:9: function "foo" not defined
 *     struct gantry_buf out = GANTRY_BUF_INIT;
 *     if (gantry_template_execute(t, data, &out, &err) < 0)
 *         ...;        // err->message: template: 1:3: executing at <...>: ...
 *     fputs(out.data, stdout);
 *     gantry_buf_release(&out);
 *     gantry_template_free(t);
 *
 * A parsed template is immutable: one template may be executed many times,
 * on many values, from several threads at once. docs/format.md lists what
 * the language supports and where it differs from Go.
 */
#ifndef GANTRY_TEMPLATE_H
#define GANTRY_TEMPLATE_H

#include <gantry/core.h>

#ifdef __cplusplus
extern "C" {
#endif

/* jansson's json_t; include <jansson.h> to build one. */
struct json_t;

/* Maximum nesting of {{if}}/{{range}}/{{with}} and parentheses. */
#define GANTRY_TEMPLATE_MAX_DEPTH 100

struct gantry_template;

/*
 * Parse template text (len bytes; need not be NUL-terminated, may hold any
 * bytes). Returns a new template the caller frees with
 * gantry_template_free(), or NULL with *err set (GANTRY_E_PARSE). Messages
 * name the 1-based line and byte column, as Go's do:
 *     template: 1:7: unexpected "}" in operand
 *     template: 1:3: function "foo" not defined
 *     template: 1:14: unexpected EOF
 * Nesting deeper than GANTRY_TEMPLATE_MAX_DEPTH is an error, never a crash.
 */
GANTRY_API struct gantry_template *gantry_template_parse(const char *text, size_t len,
                                                         struct gantry_error **err) GANTRY_WUR;

/*
 * Execute t with data as dot ('.') and '$', appending the result to out.
 * data is borrowed (never modified); NULL behaves like a missing value.
 * Returns 0, or -1 with *err set: GANTRY_E_INVALID_ARG when the template
 * does not fit the data, e.g.
 *     template: 1:3: executing at <index .Os 1>: error calling index: index of non-map/array type
 * string template: 1:3: executing at <join .RepoTags>: wrong number of args for join: want 2 got 1
 * or GANTRY_E_TOO_LARGE when out->cap would be exceeded, or when a single
 * value (a function's result, one action's output) is larger than out->cap
 * (64 MiB when out is unbounded). On failure out keeps what was written
 * before the error.
 */
GANTRY_API int gantry_template_execute(const struct gantry_template *t, struct json_t *data,
                                       struct gantry_buf *out,
                                       struct gantry_error **err) GANTRY_WUR;

/* Free a template; NULL is a no-op. */
GANTRY_API void gantry_template_free(struct gantry_template *t);

#ifdef __cplusplus
}
#endif
#endif
