/*
 * gantry build: Dockerfiles built into the local store, for one or many
 * platforms in one call. The Dockerfile frontend (parsing, expansion,
 * FROM resolution, .dockerignore) is the dockerfile module; this module
 * runs the steps: base images from the store (or pulled), metadata
 * instructions into the image config, COPY/ADD/WORKDIR into deterministic
 * layer blobs, then a manifest per platform and an index for several.
 *
 * Basic outline of a build:
 *
 *     struct gantry_build_opts o = {
 *         .context = "app", .tags = tags, .n_tags = 1,
 *         .platforms = plats, .n_platforms = 3,
 *         .compression = GANTRY_COMPRESSION_GZIP};
 *     struct gantry_build_result r = {0};
 *     if (gantry_build(store, &o, &r, &err) < 0)
 *         ...;   // "Dockerfile:7: COPY failed: 'app.bin' not found in build context"
 *     printf("%s\n", r.image_id);
 *     gantry_build_result_release(&r);
 *
 * Reproducibility: with $SOURCE_DATE_EPOCH set, file times are clamped to
 * it and "created" equals it, so equal inputs give equal digests wherever
 * the context lives. RUN is not supported yet (docs/build.md).
 */
#ifndef GANTRY_BUILD_H
#define GANTRY_BUILD_H

#include <gantry/core.h>
#include <gantry/digest.h>
#include <gantry/dockerfile.h>
#include <gantry/layer.h>
#include <gantry/platform.h>

#ifdef __cplusplus
extern "C" {
#endif

struct gantry_store;
struct gantry_registry_client;

/* Options of a build; zero-initialise, then set what you need. */
struct gantry_build_opts {
    const char *context;     /* the build context directory; required */
    const char *dockerfile;  /* NULL: <context>/Dockerfile */
    const char *const *tags; /* names given to the result (normalized here) */
    size_t n_tags;
    const struct gantry_platform *platforms; /* n_platforms == 0: the host */
    size_t n_platforms;
    const struct gantry_dockerfile_vars *build_args; /* may be NULL */
    const char *target;                              /* --target stage, or NULL */
    const char *const *labels;                       /* "k=v", added to the result */
    size_t n_labels;
    enum gantry_compression compression; /* of layer blobs (0: none) */
    /* For base images that are neither local nor FROM scratch and whose
     * reference names a registry host; NULL: never pull. Borrowed. */
    struct gantry_registry_client *client;
};

/* What a build made. Strings owned; release with gantry_build_result_release. */
struct gantry_build_result {
    char digest[GANTRY_DIGEST_MAX];   /* the manifest or index digest */
    char image_id[GANTRY_DIGEST_MAX]; /* config digest (one platform) or index digest */
    bool is_index;
    char **names; /* full names set, in order of opts->tags */
    size_t n_names;
};

/*
 * Build the Dockerfile of opts into s (borrowed). Every platform is built
 * in turn; blobs are written as they are made and the names are set last,
 * so a failure leaves no name changed (complete blobs stay until prune).
 * On success *out (zeroed first) is the caller's to release.
 * Errors: the dockerfile module's ("Dockerfile:N: ..."), GANTRY_E_NOT_FOUND
 * "Dockerfile:N: COPY failed: 'x' not found in build context",
 * GANTRY_E_INVALID_ARG for a source leaving the context, a bad --chown or
 * --chmod, a tag that is not a name, GANTRY_E_UNSUPPORTED
 * "Dockerfile:N: RUN is not supported yet (it comes with the RUN issue)"
 * and for ADD of URLs, GANTRY_E_NOT_FOUND "no such image: 'x'" for a bare
 * base name that is not local, the store's, pull's and layer's errors.
 */
GANTRY_API int gantry_build(struct gantry_store *s, const struct gantry_build_opts *opts,
                            struct gantry_build_result *out, struct gantry_error **err) GANTRY_WUR;

/* Free the members of r and zero it; NULL is a no-op. */
GANTRY_API void gantry_build_result_release(struct gantry_build_result *r);

#ifdef __cplusplus
}
#endif
#endif
