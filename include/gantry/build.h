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

/* State of a step event (gantry_build_opts.on_step). */
enum gantry_build_step_state {
    GANTRY_BUILD_STEP_STARTED,
    GANTRY_BUILD_STEP_DONE,   /* made (or nothing to make) */
    GANTRY_BUILD_STEP_CACHED, /* every layer it makes came from the step cache */
    GANTRY_BUILD_STEP_ERROR,  /* failed; the error is gantry_build's */
};

/*
 * A step event. Steps are what BuildKit shows: FROM (unless scratch),
 * COPY, ADD, WORKDIR and RUN; metadata instructions are not steps. A stage
 * shared by every target platform (FROM --platform=$BUILDPLATFORM and no
 * TARGET* ARG, docs/build.md) runs once and reports once. Strings are
 * borrowed for the call only.
 */
struct gantry_build_step {
    unsigned id;          /* #N: from 1, unique in the build, in order of start */
    const char *platform; /* "linux/arm64": the target, or a shared stage's own */
    const char *stage;    /* the stage's name (AS x), or NULL */
    size_t stage_index;   /* from 0 */
    size_t n, total;      /* step n (from 1) of total steps of the stage */
    const char *text;     /* the instruction as written: "COPY app /app" */
    enum gantry_build_step_state state;
    double elapsed; /* seconds since STARTED (0 for STARTED) */
};

/* Called from the build's threads, one call at a time (the build serialises them). */
typedef void (*gantry_build_step_fn)(void *user, const struct gantry_build_step *ev);

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
    /* Step cache, progress and parallelism (docs/build.md "Cache"). */
    bool no_cache;                /* ignore the step cache (records are still refreshed) */
    unsigned jobs;                /* stages built at once, all platforms; 0: the CPUs */
    gantry_build_step_fn on_step; /* step events, or NULL */
    void *step_user;              /* passed to on_step */
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
 * Build the Dockerfile of opts into s (borrowed). Independent stages and
 * platforms are built in parallel (at most opts->jobs at once); when one
 * fails the others stop at their next step and the first error is
 * returned. The ONBUILD triggers of a stage's base run after its FROM. Blobs are written as they
 * are made and the names are set last,
 * so a failure leaves no name changed (complete blobs stay until prune).
 * On success *out (zeroed first) is the caller's to release.
 * Errors: the dockerfile module's ("Dockerfile:N: ..."), GANTRY_E_NOT_FOUND
 * "Dockerfile:N: COPY failed: 'x' not found in build context",
 * GANTRY_E_INVALID_ARG for a source leaving the context, a bad --chown or
 * --chmod, a tag that is not a name, GANTRY_E_UNSUPPORTED
 * "Dockerfile:N: RUN is not supported yet (it comes with the RUN issue)"
 * and for git sources and wildcards before a COPY --parents pivot,
 * GANTRY_E_PARSE for an ADD archive that is broken or hard-links out of
 * itself ("ADD failed: extract 'x': ..."), GANTRY_E_NOT_FOUND
 * "no such image: 'x'" for a bare base name that is not local, for ADD of
 * URLs gantry_registry_fetch's errors and GANTRY_E_DIGEST_MISMATCH for a
 * wrong --checksum (URL passwords redacted in every message), the store's,
 * pull's and layer's errors.
 */
GANTRY_API int gantry_build(struct gantry_store *s, const struct gantry_build_opts *opts,
                            struct gantry_build_result *out, struct gantry_error **err) GANTRY_WUR;

/* Free the members of r and zero it; NULL is a no-op. */
GANTRY_API void gantry_build_result_release(struct gantry_build_result *r);

/* What gantry_build_cache_prune deleted and kept. */
struct gantry_build_cache_prune_stats {
    uint64_t steps_deleted, steps_kept; /* step records: key -> layer */
    uint64_t stats_deleted, stats_kept; /* stat caches, one per context directory */
};

/*
 * Delete build cache records of s (borrowed; docs/build.md "Cache"): all
 * of them when all is true; otherwise the step records that are damaged
 * or whose layer blob is gone (run it after gantry_image_prune, so that
 * the layers no image uses are gone first) and the stat caches that are
 * damaged, of an older format, or whose context directory is gone.
 * Holds the store's lock file exclusively throughout; builds write their
 * records under it shared, so none is half judged, and a build that finds
 * a record deleted meanwhile just misses. *out (may be NULL) gets the
 * counts, also of a partial run. Errors: GANTRY_E_IO
 * "prune build cache: ...".
 */
GANTRY_API int gantry_build_cache_prune(struct gantry_store *s, bool all,
                                        struct gantry_build_cache_prune_stats *out,
                                        struct gantry_error **err) GANTRY_WUR;

/*
 * Outputs of a build (output.c): where the result goes besides the store
 * (--output, --push), and what is written about it (--metadata-file).
 *
 *     struct gantry_build_output o;
 *     if (gantry_build_output_parse("type=oci,dest=app.tar", &o, &err) < 0 ||
 *         gantry_build_output_check(&o, &opts, &err) < 0)   // before building
 *         ...;
 *     ... gantry_build(store, &opts, &r, &err) ...
 *     if (gantry_build_output_write(store, client, &o, &r, &err) < 0)
 *         ...;
 *     gantry_build_output_release(&o);
 */
enum gantry_build_output_type {
    GANTRY_BUILD_OUTPUT_IMAGE,    /* the store only (the default) */
    GANTRY_BUILD_OUTPUT_REGISTRY, /* the store, then pushed to every name */
    GANTRY_BUILD_OUTPUT_OCI,      /* an OCI archive holding every platform */
    GANTRY_BUILD_OUTPUT_DOCKER,   /* a docker archive (one platform) */
    GANTRY_BUILD_OUTPUT_LOCAL,    /* the root filesystem of each platform */
};

/* A parsed --output. Owned strings; release with gantry_build_output_release. */
struct gantry_build_output {
    enum gantry_build_output_type type;
    char *dest;    /* OCI, DOCKER: a file, or "-" for stdout_fd; LOCAL: a directory */
    int stdout_fd; /* where dest "-" writes (borrowed); parse sets STDOUT_FILENO */
};

/*
 * Parse an --output value, docker buildx's syntax: "type=oci,dest=x.tar",
 * "type=docker,dest=-", "type=local,dest=DIR", "type=registry",
 * "type=image[,push=true]"; a value without '=' is "type=local,dest=VALUE".
 * *out is zeroed first, and left zeroed on failure. Errors:
 * GANTRY_E_INVALID_ARG "invalid --output 'S': ..." (unknown type or key,
 * missing or misplaced dest, a part that is not key=value).
 */
GANTRY_API int gantry_build_output_parse(const char *spec, struct gantry_build_output *out,
                                         struct gantry_error **err) GANTRY_WUR;

/* Free the strings of o and zero it; NULL is a no-op. */
GANTRY_API void gantry_build_output_release(struct gantry_build_output *o);

/*
 * Check o against the build options before building, so that a build is
 * never run for an output that cannot take it. Errors: GANTRY_E_INVALID_ARG
 * for REGISTRY without a name, or with a name that does not spell out its
 * registry host ("app:1" would go to docker.io: refused);
 * GANTRY_E_UNSUPPORTED for DOCKER with several platforms.
 */
GANTRY_API int gantry_build_output_check(const struct gantry_build_output *o,
                                         const struct gantry_build_opts *opts,
                                         struct gantry_error **err) GANTRY_WUR;

/*
 * Send the result r of a build into s (borrowed) to o: push it to every
 * name of r through c (borrowed; needed for REGISTRY only), write the
 * archive (gantry_transfer_save_file, so dest is complete or untouched;
 * with the names of r, none when r has none), or extract the layers of
 * each platform into dest (one platform: dest itself; several:
 * dest/<os>_<arch>[_<variant>]), created when missing. Errors: those of
 * gantry_transfer_push (prefixed "push 'NAME'"), gantry_transfer_save_file,
 * GANTRY_E_IO for dest, the store's and the layer module's.
 */
GANTRY_API int gantry_build_output_write(struct gantry_store *s, struct gantry_registry_client *c,
                                         const struct gantry_build_output *o,
                                         const struct gantry_build_result *r,
                                         struct gantry_error **err) GANTRY_WUR;

/*
 * Write path as docker buildx's --metadata-file: a JSON object with
 * "containerimage.digest", "containerimage.descriptor" (mediaType, digest,
 * size), "containerimage.config.digest" for one platform and "image.name"
 * (the names of r, comma-separated) when there are names. The file is
 * replaced atomically. Errors: the store's, GANTRY_E_IO for path.
 */
GANTRY_API int gantry_build_metadata_write(struct gantry_store *s,
                                           const struct gantry_build_result *r, const char *path,
                                           struct gantry_error **err) GANTRY_WUR;

/*
 * A build context read from a stream (`gantry build -`): a tar (plain,
 * gzip or zstd) extracted into a private temporary directory, or, when the
 * stream is not a tar, a Dockerfile alone with an empty context (as
 * docker). Owned strings; gantry_build_stdin_release removes the directory.
 */
struct gantry_build_stdin {
    char *dir;        /* the temporary directory, removed on release */
    char *context;    /* the context directory to build */
    char *dockerfile; /* the Dockerfile read from the stream, or NULL for a tar */
};

/*
 * Read fd (borrowed, read to its end) into a new directory under tmp_parent
 * (NULL: $TMPDIR, else /tmp) and fill *out (zeroed first). Archive entries
 * are extracted without following any symbolic link and may not leave the
 * directory. On failure nothing is left behind. Errors: GANTRY_E_PARSE
 * (corrupt archive), GANTRY_E_INVALID_ARG "build context from stdin: entry
 * 'P' leaves the context", GANTRY_E_TOO_LARGE (a Dockerfile over 16 MiB),
 * GANTRY_E_IO, the layer module's.
 */
GANTRY_API int gantry_build_stdin_read(int fd, const char *tmp_parent,
                                       struct gantry_build_stdin *out,
                                       struct gantry_error **err) GANTRY_WUR;

/* Remove the directory of c, free its strings and zero it; NULL is a no-op. */
GANTRY_API void gantry_build_stdin_release(struct gantry_build_stdin *c);

/*
 * --check (check.c): what gantry_build_check found. problems are one line
 * each, "Dockerfile:N: ..." (or the parser's own message), in Dockerfile
 * order per platform, each reported once.
 */
struct gantry_build_check_result {
    char **problems;
    size_t n_problems;
};

/*
 * Parse and resolve the whole build of opts for every platform without
 * building: nothing is pulled, downloaded or written to s (borrowed, read
 * for local base images). Every problem found goes into *out (zeroed
 * first; release with gantry_build_check_result_release): the parse error,
 * FROM resolution errors (unknown stage, cycle, --target), base images and
 * COPY --from images that are neither scratch, a stage, local, nor a name
 * spelling out a registry host, undefined ARGs used in FROM, ARG/ENV
 * expansion errors, COPY/ADD sources missing from the context (after
 * .dockerignore) or leaving it, git sources, URLs given to COPY, RUN (not
 * supported yet), and the frontend's warnings. Returns 0 when the check
 * ran, whatever it found; -1 when it could not (no context, an unreadable
 * Dockerfile).
 */
GANTRY_API int gantry_build_check(struct gantry_store *s, const struct gantry_build_opts *opts,
                                  struct gantry_build_check_result *out,
                                  struct gantry_error **err) GANTRY_WUR;

/* Free the problems of r and zero it; NULL is a no-op. */
GANTRY_API void gantry_build_check_result_release(struct gantry_build_check_result *r);

#ifdef __cplusplus
}
#endif
#endif
