/*
 * gantry transfer: moving images between the store and archives (`gantry
 * save`, `gantry load`). See docs/save.md and docs/load.md.
 *
 * Basic outline of saving images to a file:
 *
 *     const char *refs[] = {"demo/busybox:arm64"};
 *     struct gantry_transfer_save_opts o = {.format = GANTRY_ARCHIVE_OCI};
 *     if (gantry_transfer_save_file(store, refs, 1, &o, "busybox.tar", &err) < 0)
 *         ...;        // nothing is left under "busybox.tar" on failure
 *
 * An unnamed image (a build's result) is saved by its descriptor, its
 * name, if any, given beside it:
 *
 *     struct gantry_transfer_save_image img = {.desc = manifest_desc, .name = NULL};
 *     if (gantry_transfer_save_images_file(store, &img, 1, &o, "app.tar", &err) < 0)
 *         ...;
 *
 * Basic outline of loading an archive (plain, gzip or zstd):
 *
 *     struct gantry_transfer_load_opts lo = {.tag = NULL};
 *     struct gantry_transfer_load_result res;
 *     if (gantry_transfer_load_fd(store, fd, &lo, &res, &err) < 0)
 *         ...;        // nothing was named; no partial blob is left
 *     for (size_t i = 0; i < res.n_items; i++)
 *         printf("%s\n", res.items[i].name ? res.items[i].name : res.items[i].id);
 *     gantry_transfer_load_result_release(&res);
 *
 * Archive formats:
 *   OCI     an OCI image layout in a tar: oci-layout, index.json (one entry
 *           per image; annotations io.containerd.image.name = full name and
 *           org.opencontainers.image.ref.name = tag, as Docker 25+ and
 *           containerd write them), blobs/<alg>/<hex>. Whole multi-platform
 *           images; children missing from the store are left out and the
 *           index keeps pointing at them (a partial image).
 *   DOCKER  the `docker load` format: manifest.json ([{Config, RepoTags,
 *           Layers}]), the config as <hex>.json, every layer uncompressed as
 *           <diff_id hex>/layer.tar, and repositories. One platform per
 *           image.
 */
#ifndef GANTRY_TRANSFER_H
#define GANTRY_TRANSFER_H

#include <gantry/core.h>
#include <gantry/layer.h>
#include <gantry/oci.h>
#include <gantry/platform.h>

#ifdef __cplusplus
extern "C" {
#endif

struct gantry_store;

enum gantry_archive_format {
    GANTRY_ARCHIVE_OCI,
    GANTRY_ARCHIVE_DOCKER,
};

/* Options for saving; zero-initialise, then set what you need. */
struct gantry_transfer_save_opts {
    enum gantry_archive_format format;
    /*
     * Platforms to save (n_platforms == 0: every local child for OCI, the
     * host's match for DOCKER). One platform saves just that manifest,
     * several a smaller index of them (OCI only).
     */
    const struct gantry_platform *platforms;
    size_t n_platforms;
    /* DOCKER: where a layer is decompressed on its way into the archive
     * (an unlinked file, one layer at a time). NULL: $TMPDIR, else /tmp. */
    const char *scratch_dir;
};

/*
 * Write the images refs name (any form gantry_image_resolve takes) as one
 * archive to out (borrowed), in one pass with flat memory. Every blob is
 * verified against its digest as it is read from the store. All refs are
 * resolved and their platforms chosen before the first byte is written.
 * Errors: gantry_image_resolve's and gantry_image_select_platform's;
 * GANTRY_E_UNSUPPORTED "the docker archive format holds one platform per
 * image: use --format oci to keep every platform" for DOCKER with several
 * platforms; GANTRY_E_NOT_FOUND for a blob an image needs that the store
 * lacks; GANTRY_E_DIGEST_MISMATCH for a corrupt blob or a layer that does
 * not match its config's diff_id; out's errors. After an error out has
 * received a partial archive, which the caller discards.
 */
GANTRY_API int gantry_transfer_save(struct gantry_store *s, const char *const *refs, size_t n_refs,
                                    const struct gantry_transfer_save_opts *opts,
                                    gantry_layer_write_fn out, void *user,
                                    struct gantry_error **err) GANTRY_WUR;

/*
 * gantry_transfer_save writing to fd (borrowed, not closed). Errors: as
 * gantry_transfer_save, GANTRY_E_IO "write archive" for the file.
 */
GANTRY_API int gantry_transfer_save_fd(struct gantry_store *s, const char *const *refs,
                                       size_t n_refs, const struct gantry_transfer_save_opts *opts,
                                       int fd, struct gantry_error **err) GANTRY_WUR;

/*
 * gantry_transfer_save into the file path: the archive is written to a
 * temporary file beside it, synced, and renamed over path at the end, so
 * path holds a complete archive or is untouched. When opts->scratch_dir is
 * NULL, layers are decompressed in path's directory. Errors: as
 * gantry_transfer_save, GANTRY_E_IO for the file.
 */
GANTRY_API int gantry_transfer_save_file(struct gantry_store *s, const char *const *refs,
                                         size_t n_refs,
                                         const struct gantry_transfer_save_opts *opts,
                                         const char *path, struct gantry_error **err) GANTRY_WUR;

/*
 * An image to save given by what it is rather than by a name in the store
 * (a build's unnamed result): desc (borrowed) is an image manifest or index
 * whose blob the store holds at desc->size bytes; its annotations are not
 * copied into the archive. name is the reference recorded for it in the
 * archive (normalized: OCI io.containerd.image.name and
 * org.opencontainers.image.ref.name = its tag; DOCKER RepoTags and
 * repositories), or NULL for an unnamed image, which carries no name
 * annotation and no RepoTags. The same desc may come twice with two names.
 */
struct gantry_transfer_save_image {
    struct gantry_oci_descriptor desc;
    const char *name;
};

/*
 * gantry_transfer_save for images given by descriptor: nothing is looked up
 * by name and nothing is written to the store's index.json. Every
 * descriptor is checked and its platforms chosen before the first byte is
 * written. gantry_transfer_save resolves its refs and comes here. Errors:
 * GANTRY_E_INVALID_ARG "no image to save", a descriptor that is not an
 * image manifest or index or whose size differs from the stored blob's, or
 * an invalid name; GANTRY_E_NOT_FOUND for a blob the store lacks; the rest
 * as gantry_transfer_save.
 */
GANTRY_API int gantry_transfer_save_images(struct gantry_store *s,
                                           const struct gantry_transfer_save_image *images,
                                           size_t n, const struct gantry_transfer_save_opts *opts,
                                           gantry_layer_write_fn out, void *user,
                                           struct gantry_error **err) GANTRY_WUR;

/* gantry_transfer_save_images writing to fd (borrowed, not closed). */
GANTRY_API int gantry_transfer_save_images_fd(struct gantry_store *s,
                                              const struct gantry_transfer_save_image *images,
                                              size_t n,
                                              const struct gantry_transfer_save_opts *opts, int fd,
                                              struct gantry_error **err) GANTRY_WUR;

/*
 * gantry_transfer_save_images into the file path, complete or untouched, as
 * gantry_transfer_save_file.
 */
GANTRY_API int gantry_transfer_save_images_file(struct gantry_store *s,
                                                const struct gantry_transfer_save_image *images,
                                                size_t n,
                                                const struct gantry_transfer_save_opts *opts,
                                                const char *path,
                                                struct gantry_error **err) GANTRY_WUR;

/* Options for loading; zero-initialise. */
struct gantry_transfer_load_opts {
    /*
     * Full reference to name the archive's one unnamed image (an index.json
     * entry without io.containerd.image.name nor a full ref.name, a docker
     * image without RepoTags), or NULL. Refused when the archive holds
     * several unnamed images.
     */
    const char *tag;
};

/* One image loaded. All strings owned. */
struct gantry_transfer_loaded {
    char *name;   /* full reference ("docker.io/demo/busybox:arm64"), or NULL */
    char *id;     /* image id: config digest, or the index digest */
    char *digest; /* top-level manifest or index digest */
};

struct gantry_transfer_load_result {
    enum gantry_archive_format format;
    struct gantry_transfer_loaded *items; /* archive order; one per name */
    size_t n_items;
};

/*
 * Load an archive (OCI or DOCKER, detected; plain, gzip or zstd) read
 * through in/user (borrowed) in one pass: small JSON documents are
 * buffered (4 MiB each at most), blobs stream into the store verified
 * against the digest their name or their config states, and the names are
 * set at the end, once everything they reach is stored. Docker layers are
 * stored gzip-compressed under an OCI manifest whose config keeps the
 * diff_ids, so the image id is unchanged. An OCI index whose children are
 * only partly in the archive loads as a partial image. On success *out is
 * filled (release it). Errors: GANTRY_E_PARSE (not a tar, truncated, not
 * an image archive, bad JSON), GANTRY_E_DIGEST_MISMATCH, GANTRY_E_NOT_FOUND
 * (a blob the archive needs but lacks), GANTRY_E_TOO_LARGE,
 * GANTRY_E_INVALID_ARG (a bad name, or tag with several unnamed images),
 * the store's errors. On failure no name is set and no partial blob is
 * left (complete, verified blobs stay until garbage collection).
 */
GANTRY_API int gantry_transfer_load(struct gantry_store *s, gantry_layer_read_fn in, void *user,
                                    const struct gantry_transfer_load_opts *opts,
                                    struct gantry_transfer_load_result *out,
                                    struct gantry_error **err) GANTRY_WUR;

/* gantry_transfer_load reading fd (borrowed, not closed). */
GANTRY_API int gantry_transfer_load_fd(struct gantry_store *s, int fd,
                                       const struct gantry_transfer_load_opts *opts,
                                       struct gantry_transfer_load_result *out,
                                       struct gantry_error **err) GANTRY_WUR;

/* Free the items of r and zero it; NULL is a no-op. */
GANTRY_API void gantry_transfer_load_result_release(struct gantry_transfer_load_result *r);

/*
 * Pulling and pushing: between the store and a registry (`gantry pull`,
 * `gantry push`). See docs/pull.md and docs/push.md.
 *
 * Basic outline of a pull:
 *
 *     struct gantry_registry_client *c = gantry_registry_client_new(&ro, &err);
 *     struct gantry_transfer_pull_opts po = {.platform = NULL};  // the host's
 *     struct gantry_transfer_result res = {0};
 *     if (gantry_transfer_pull(store, c, "alpine:3", &po, &res, &err) < 0)
 *         ...;        // the name is untouched; only complete, verified blobs stay
 *     printf("Digest: %s\n", res.digest);
 *     gantry_transfer_result_release(&res);
 *
 * A push is the same with gantry_transfer_push(store, c, "app:1", NULL, ...):
 * blobs the registry has are skipped, the rest uploaded, then the child
 * manifests, then the index, the tag last.
 */

struct gantry_registry_client;

/* Default number of blobs moved at once. */
#define GANTRY_TRANSFER_DEFAULT_JOBS 4u

/* Options for pulling; zero-initialise. */
struct gantry_transfer_pull_opts {
    /* The platform to pull from an index (NULL: the host's). With a single
     * manifest, a platform given here must match its config. */
    const struct gantry_platform *platform;
    bool all_platforms; /* every image manifest of an index, attestations too */
    unsigned jobs;      /* blobs fetched at once; 0: GANTRY_TRANSFER_DEFAULT_JOBS */
};

/* What a pull or a push did. name is owned. */
struct gantry_transfer_result {
    char *name;                     /* full reference written (store or registry) */
    char digest[GANTRY_DIGEST_MAX]; /* top-level manifest or index digest */
    char *media_type;               /* its media type (owned) */
    int64_t size;                   /* its size */
    bool changed;        /* pull: the name pointed elsewhere before; push: a manifest was written */
    size_t blobs_copied; /* blobs fetched or uploaded */
    size_t blobs_present;    /* blobs the destination had already */
    size_t blobs_mounted;    /* push: blobs mounted from another repository */
    size_t manifests_copied; /* manifests and indexes written */
    uint64_t bytes_copied;   /* bytes of the blobs copied */
};

/*
 * Pull ref (a reference string, normalized) from its registry through c
 * (borrowed) into the store s. The manifest is fetched by tag or digest;
 * for an index, the entry that suits opts->platform best is chosen
 * (gantry_platform_match_rank; attestations and unknown platforms
 * skipped), or every image manifest with opts->all_platforms. Nested
 * indexes (entries that are indexes) are read by digest, at most 4 levels
 * down, unless the index has an exact match of its own: the best entry of
 * every level wins (ties: the first met, depth first). Config and
 * layers stream into store blob writers, opts->jobs at a time, each
 * verified against its digest and size; blobs already in the store are
 * skipped. Then the child manifests, the nested indexes on the way to
 * them, the index (all its children listed,
 * only the pulled ones local) and, last, the name ref (its full form)
 * are written. Progress goes through gantry_progress ("downloading",
 * "pull complete", "already exists"). On success *out (zeroed first) is
 * the caller's to release. Errors: GANTRY_E_INVALID_ARG (reference),
 * GANTRY_E_NOT_FOUND "no linux/arm64 image in docker.io/library/foo:1.0
 * (it has: linux/amd64, linux/386)" (nested platforms listed too),
 * GANTRY_E_UNSUPPORTED "indexes nested too deep in 'NAME': ...",
 * GANTRY_E_INVALID_ARG "index cycle in 'NAME': ...", the registry
 * client's errors (which
 * name the reference and the HTTP status), the store's. On failure the
 * name is untouched and no partial blob is left (complete blobs stay until
 * garbage collection).
 */
GANTRY_API int gantry_transfer_pull(struct gantry_store *s, struct gantry_registry_client *c,
                                    const char *ref, const struct gantry_transfer_pull_opts *opts,
                                    struct gantry_transfer_result *out,
                                    struct gantry_error **err) GANTRY_WUR;

/* Options for pushing; zero-initialise. */
struct gantry_transfer_push_opts {
    /* Push only these platforms of an index: one gives that manifest alone
     * under the tag, several a smaller index of them. n_platforms == 0:
     * the whole image as it is. */
    const struct gantry_platform *platforms;
    size_t n_platforms;
    unsigned jobs;     /* blobs uploaded at once; 0: GANTRY_TRANSFER_DEFAULT_JOBS */
    size_t chunk_size; /* see gantry_registry_blob_push; 0: the client's default */
    /* A repository of the destination's registry ("team/base", host
     * optional) that may have the blobs: each blob the destination lacks
     * is first mounted from it (no bytes move), and uploaded when the
     * registry refuses the mount. NULL: no mounts. */
    const char *mount_from;
    /* Digests of children of the index that the caller knows the
     * destination repository has (`manifest push` has just checked or put
     * them): neither looked up nor pushed again. Borrowed; may be NULL. */
    const char *const *known_children;
    size_t n_known_children;
};

/*
 * Push the image src names in the store s (anything gantry_image_resolve
 * takes) to dest (a reference with a tag; NULL: src's own full name) through
 * c. Each blob is looked up first (HEAD) and uploaded only when the
 * registry lacks it, opts->jobs at a time; then the child manifests (by
 * digest, skipped when present), then the top-level manifest or index under
 * the tag, so the tag never points at missing content. A child of the
 * index missing from the store is fine when the destination repository has
 * it already. Blobs are read from the store's files without verification:
 * the registry checks each digest on upload. On success *out (zeroed
 * first) is the caller's to release. Errors: gantry_image_resolve's and
 * gantry_image_select_platform's, GANTRY_E_INVALID_ARG (dest not a tag, or
 * missing when src was found by digest), GANTRY_E_NOT_FOUND "cannot push
 * 'NAME': linux/arm64 (sha256:...) is not in the store and not in the
 * registry", GANTRY_E_INVALID_ARG "mount source 'X' is not in the destination
 * registry 'Y'" (or has a tag or digest), the registry client's errors,
 * the store's. Mounted blobs are counted in out->blobs_mounted.
 */
GANTRY_API int gantry_transfer_push(struct gantry_store *s, struct gantry_registry_client *c,
                                    const char *src, const char *dest,
                                    const struct gantry_transfer_push_opts *opts,
                                    struct gantry_transfer_result *out,
                                    struct gantry_error **err) GANTRY_WUR;

/* Free the members of r and zero it; NULL is a no-op. */
GANTRY_API void gantry_transfer_result_release(struct gantry_transfer_result *r);

/*
 * Copying: between any two of a registry, the store, an OCI layout
 * directory and an OCI archive (`gantry copy`). See docs/copy.md.
 *
 * Basic outline of a copy:
 *
 *     struct gantry_transfer_endpoint src, dst;
 *     if (gantry_transfer_endpoint_parse(argv[1], strlen(argv[1]), &src, &err) < 0 ||
 *         gantry_transfer_endpoint_parse(argv[2], strlen(argv[2]), &dst, &err) < 0)
 *         ...;        // "unknown transport 'dir' in 'dir:/x' (...)"
 *     struct gantry_transfer_copy_opts co = {.jobs = 4};
 *     struct gantry_transfer_result res = {0};
 *     if (gantry_transfer_copy(store, client, &src, &dst, &co, &res, &err) < 0)
 *         ...;        // the destination's name is untouched
 *     gantry_transfer_result_release(&res);
 *     gantry_transfer_endpoint_release(&src);
 *     gantry_transfer_endpoint_release(&dst);
 */

/* Where an image is read from or written to. */
enum gantry_transfer_kind {
    GANTRY_TRANSFER_REGISTRY,    /* docker://REF, or a bare reference */
    GANTRY_TRANSFER_STORE,       /* gantry:REF, the local store */
    GANTRY_TRANSFER_OCI_DIR,     /* oci:DIR[:REF], an OCI image layout directory */
    GANTRY_TRANSFER_OCI_ARCHIVE, /* oci-archive:FILE[:REF], an OCI layout in a tar */
};

/* A parsed endpoint; strings owned. */
struct gantry_transfer_endpoint {
    enum gantry_transfer_kind kind;
    char *ref;  /* REGISTRY, STORE: the reference; OCI_*: the ref.name, or NULL */
    char *path; /* OCI_*: the directory or file; else NULL */
};

/*
 * Parse an endpoint of s (len bytes, not NUL-terminated necessarily):
 * "docker://REF", "gantry:REF", "oci:DIR[:REF]", "oci-archive:FILE[:REF]"
 * (split at the first ':' after the transport, as skopeo does), or a bare
 * reference (a registry). Pure: nothing is looked up. *out (zeroed first)
 * is the caller's to release. Errors: GANTRY_E_INVALID_ARG "unknown
 * transport 'X' in 'S' (...)", an empty reference or path, or the
 * reference parser's message for a bad docker:// or gantry: reference.
 */
GANTRY_API int gantry_transfer_endpoint_parse(const char *s, size_t len,
                                              struct gantry_transfer_endpoint *out,
                                              struct gantry_error **err) GANTRY_WUR;

/* Free the strings of e and zero it; NULL is a no-op. */
GANTRY_API void gantry_transfer_endpoint_release(struct gantry_transfer_endpoint *e);

/* Options for copying; zero-initialise. */
struct gantry_transfer_copy_opts {
    /* Copy only these platforms of an index: one gives that manifest alone,
     * several a smaller index of them. n_platforms == 0: the whole image
     * (every child manifest, attestations included). */
    const struct gantry_platform *platforms;
    size_t n_platforms;
    unsigned jobs;     /* blobs moved at once; 0: GANTRY_TRANSFER_DEFAULT_JOBS */
    size_t chunk_size; /* see gantry_registry_blob_push; 0: the client's default */
};

/*
 * Copy the image src names to dst. s (the store; may be NULL unless an end
 * is GANTRY_TRANSFER_STORE) and c (may be NULL unless an end is a
 * registry) are borrowed. Manifests and blobs keep their digests; only a
 * --platform subset of several platforms gets a new, smaller index. Blobs
 * the destination has are skipped; between two repositories of the same
 * registry they are mounted (no bytes move); from one registry to another
 * each blob streams from the source's GET into the upload through a 4 MiB
 * buffer, no local copy, its size and digest checked before the upload can
 * complete (a resumed upload fetches the source again with Range from the
 * destination's offset). Children go before the top, the name last; blobs
 * move largest first. Nested indexes (at most 4 levels) are copied with
 * their children, or searched for a platform as gantry_transfer_pull
 * does. An OCI layout
 * directory is created when missing; an archive is built in a temporary
 * layout beside it and written by gantry_transfer_save_file, so FILE is
 * complete or untouched. On success *out (zeroed first) is the caller's to
 * release; out->name is the destination's name. Errors: GANTRY_E_NOT_FOUND
 * (no such image, "no linux/riscv64 image in NAME (it has: ...)", a child
 * in neither end), GANTRY_E_INVALID_ARG (a registry destination that is not
 * a tag, an OCI source without REF holding several images), the ends'
 * errors. On failure no name is written at the destination.
 */
GANTRY_API int gantry_transfer_copy(struct gantry_store *s, struct gantry_registry_client *c,
                                    const struct gantry_transfer_endpoint *src,
                                    const struct gantry_transfer_endpoint *dst,
                                    const struct gantry_transfer_copy_opts *opts,
                                    struct gantry_transfer_result *out,
                                    struct gantry_error **err) GANTRY_WUR;

#ifdef __cplusplus
}
#endif
#endif
