/*
 * gantry ref: image references, Docker's grammar, normalized the way
 * distribution/reference's ParseNormalizedNamed does.
 *
 * Basic outline:
 *
 *     struct gantry_ref ref;
 *     struct gantry_error *err = NULL;
 *     if (gantry_ref_parse(s, strlen(s), &ref, &err) < 0) {
 *         // err->message: "invalid reference 'X': <why>"
 *     }
 *     char *full = gantry_ref_to_string(&ref);  // docker.io/library/httpd:latest
 *     char *repo = gantry_ref_repository(&ref); // docker.io/library/httpd
 *     char *short_ = gantry_ref_familiar(&ref); // httpd:latest
 *     free(full); free(repo); free(short_);
 *     gantry_ref_release(&ref);
 *
 * Grammar (distribution/reference):
 *
 *     reference := name [ ":" tag ] [ "@" digest ]
 *     name      := [ domain "/" ] path
 *     domain    := host [ ":" port ]        host: DNS name or [IPv6], no zone
 *     path      := component ( "/" component )*, at most 255 characters
 *     component := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
 *     tag       := [A-Za-z0-9_][A-Za-z0-9._-]{0,127}
 *     digest    := "sha256:" 64 hex | "sha512:" 128 hex   (lower-case)
 *
 * The first component of the name is a domain when it contains '.' or ':',
 * is "localhost", or contains an upper-case letter; otherwise the domain is
 * docker.io. "index.docker.io" becomes "docker.io", and a one-component
 * path on docker.io gets "library/" in front. A reference with neither tag
 * nor digest gets the tag "latest"; "name:tag@digest" keeps both.
 */
#ifndef GANTRY_REF_H
#define GANTRY_REF_H

#include <gantry/core.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Longest repository path (distribution's RepositoryNameTotalLengthMax). */
#define GANTRY_REF_PATH_MAX 255
/* Longest tag (distribution-spec tag regex). */
#define GANTRY_REF_TAG_MAX 128
/* The default registry and tag of normalization. */
#define GANTRY_REF_DEFAULT_DOMAIN "docker.io"
#define GANTRY_REF_DEFAULT_TAG "latest"

/*
 * A parsed, normalized reference. Every string is owned by the struct and
 * freed by gantry_ref_release(). domain and path are never NULL after a
 * successful parse; tag and digest are NULL when absent (a parsed reference
 * always has at least one of them).
 */
struct gantry_ref {
    char *domain; /* "docker.io", "localhost:5000", "[::1]:5000" */
    char *path;   /* "library/httpd", "user/app" */
    char *tag;    /* "latest", or NULL */
    char *digest; /* "sha256:<64 hex>", or NULL */
};

#define GANTRY_REF_INIT                                                                            \
    {                                                                                              \
        NULL, NULL, NULL, NULL                                                                     \
    }

/*
 * Parse and normalize the reference s[0..len) into *out (s need not be
 * NUL-terminated). On success the caller releases *out with
 * gantry_ref_release(). On failure returns -1, *out is all NULL and *err
 * (GANTRY_E_INVALID_ARG) reads "invalid reference 'S': <why>", where why is
 * one of: "invalid reference format[: detail]", "repository name must be
 * lowercase", "repository name must not be more than 255 characters",
 * "invalid tag 'T': ...", or the digest's problem (invalid digest length,
 * unsupported digest algorithm, hex must be lowercase).
 */
GANTRY_API int gantry_ref_parse(const char *s, size_t len, struct gantry_ref *out,
                                struct gantry_error **err) GANTRY_WUR;

/* Free the strings of ref and reset it to GANTRY_REF_INIT; NULL is a no-op. */
GANTRY_API void gantry_ref_release(struct gantry_ref *ref);

/* Deep copy src into dst (dst is overwritten, not released). Never fails. */
GANTRY_API void gantry_ref_copy(struct gantry_ref *dst, const struct gantry_ref *src);

/*
 * Full string: "domain/path[:tag][@digest]", e.g.
 * "docker.io/library/httpd:latest". Caller frees with free().
 */
GANTRY_API char *gantry_ref_to_string(const struct gantry_ref *ref);

/* "domain/path", e.g. "docker.io/library/httpd". Caller frees with free(). */
GANTRY_API char *gantry_ref_repository(const struct gantry_ref *ref);

/*
 * Docker's short display form (FamiliarString): docker.io/ is dropped, and
 * so is library/ for a single-component official image: "httpd:latest",
 * "user/app:1", "localhost:5000/a:b", "httpd@sha256:...". Parsing the
 * result gives back the same reference. Caller frees with free().
 */
GANTRY_API char *gantry_ref_familiar(const struct gantry_ref *ref);

/*
 * True when the reference string s spells out its registry host (the first
 * component before a '/' contains '.' or ':' or is "localhost"), as in
 * "registry.example.com/app:1" or "127.0.0.1:5000/app"; false for names
 * that only default to docker.io ("app:1", "user/app"). Commands that fall
 * back from the local store to a registry use it so that a bare name never
 * reaches the network by surprise. Pure; no validation.
 */
GANTRY_API bool gantry_ref_names_registry(const char *s);

/*
 * Check a tag on its own (for `gantry tag`): 1 to 128 characters,
 * [A-Za-z0-9_] then [A-Za-z0-9._-]. Returns 0, or -1 with *err
 * (GANTRY_E_INVALID_ARG) "invalid tag 'T': <why>".
 */
GANTRY_API int gantry_ref_validate_tag(const char *s, size_t len,
                                       struct gantry_error **err) GANTRY_WUR;

#ifdef __cplusplus
}
#endif
#endif
