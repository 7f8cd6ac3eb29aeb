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

#ifdef __cplusplus
}
#endif
#endif
