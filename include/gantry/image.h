/*
 * gantry image: the image-level operations over a local store: resolve a
 * name, pick a platform, import a rootfs tarball, list, inspect, tag,
 * remove, prune.
 *
 * Basic outline of finding the manifest of an image for a platform:
 *
 *     struct gantry_oci_descriptor top = GANTRY_OCI_DESCRIPTOR_INIT;
 *     struct gantry_oci_descriptor man = GANTRY_OCI_DESCRIPTOR_INIT;
 *     char *name = NULL;
 *     if (gantry_image_resolve(store, "busybox", &top, &name, &err) < 0)
 *         ...;                      // "no such image: 'busybox'"
 *     if (gantry_image_select_platform(store, &top, NULL, false, &man, &err) < 0)
 *         ...;                      // "no matching manifest for linux/riscv64 in ..."
 *     // man: an image manifest descriptor whose blob is in the store
 *     gantry_oci_descriptor_release(&man);
 *     gantry_oci_descriptor_release(&top);
 *     free(name);
 *
 * Basic outline of inspecting an image in a registry (nothing pulled):
 *
 *     json_t *j = gantry_image_inspect_remote(client, "127.0.0.1:5000/x:1",
 *                                             NULL, &err);   // host platform
 *     ...;                          // same shape as gantry_image_inspect
 *     json_decref(j);
 *
 * Basic outline of importing a rootfs tarball:
 *
 *     struct gantry_image_import_opts o = {.platform = NULL,   // host
 *                                          .compression = GANTRY_COMPRESSION_GZIP};
 *     char id[GANTRY_DIGEST_MAX];
 *     if (gantry_image_import(store, fd, "myimg:1", &o, id, &err) < 0)
 *         ...;                      // nothing named, no blob left in tmp/
 *
 * An "image id" is what Docker shows in IMAGE ID: the config digest of a
 * single-platform image, and the index digest of a multi-platform one.
 * Everything that takes a reference string also takes a full digest, a
 * "name@sha256:..." reference, or a unique prefix (at least 4 hex digits,
 * "sha256:" optional) of an image id, as `docker image inspect` does.
 */
#ifndef GANTRY_IMAGE_H
#define GANTRY_IMAGE_H

#include <gantry/core.h>
#include <gantry/digest.h>
#include <gantry/layer.h>
#include <gantry/oci.h>
#include <gantry/platform.h>

#ifdef __cplusplus
extern "C" {
#endif

struct gantry_store;
struct gantry_registry_client;
struct json_t;

/*
 * Find the image ref_string names in s: the reference is parsed and
 * normalized (gantry_ref_parse), then looked up by full name; a digest,
 * "name@digest" or a unique image-id prefix are accepted as well (see
 * above). On success *out (zeroed first; release it with
 * gantry_oci_descriptor_release) is the top-level descriptor (a manifest
 * or an index) and, when name_out is not NULL, *name_out is the full name
 * it was found under, or NULL for a lookup by digest (caller frees).
 * Errors: GANTRY_E_INVALID_ARG (invalid reference), GANTRY_E_NOT_FOUND
 * "no such image: 'X'", GANTRY_E_INVALID_ARG "image id prefix 'X' is
 * ambiguous", the store's errors.
 */
GANTRY_API int gantry_image_resolve(struct gantry_store *s, const char *ref_string,
                                    struct gantry_oci_descriptor *out, char **name_out,
                                    struct gantry_error **err) GANTRY_WUR;

/*
 * Pick the image manifest of desc for the platform want (NULL: the host,
 * see gantry_platform_host). For an index, the locally present child with
 * the best gantry_platform_match_rank (lowest; strict: exact only);
 * attestation entries, unknown media types and children whose platform is
 * unknown are skipped, and so are children missing from the store. For a
 * manifest, its config's platform must match want; with want NULL any
 * platform does (as docker, the host only chooses among the entries of an
 * index), so a single-platform image of another architecture can still be
 * inspected or saved. On success *child_out (zeroed first; release it) is
 * a manifest descriptor with the platform filled in from the index entry or
 * the config. Errors: GANTRY_E_NOT_FOUND "no matching manifest for
 * linux/riscv64 in 'NAME' (it has: linux/amd64, linux/arm64)" where NAME is
 * desc's ref-name annotation or digest and the list names every platform of
 * the image, "(missing)" after those not stored; GANTRY_E_NOT_FOUND
 * "manifest for P in 'NAME' is not in the store (it has: ...)" when only a
 * missing child matches; a corrupt or unreadable blob (the store's error,
 * naming the digest); GANTRY_E_PARSE for a bad document.
 */
GANTRY_API int gantry_image_select_platform(struct gantry_store *s,
                                            const struct gantry_oci_descriptor *desc,
                                            const struct gantry_platform *want, bool strict,
                                            struct gantry_oci_descriptor *child_out,
                                            struct gantry_error **err) GANTRY_WUR;

/*
 * Apply one Dockerfile-style instruction (`docker import --change`) to an
 * image config: CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, VOLUME,
 * WORKDIR, STOPSIGNAL, keyword case-insensitive. CMD and ENTRYPOINT take
 * a JSON array of strings or a shell form (["/bin/sh","-c","..."]); ENV and
 * LABEL take `k=v ...` (quotes and backslash escapes as in Dockerfiles) or
 * the legacy `k v`; EXPOSE takes ports `80`, `53/udp`, `8000-8002`; VOLUME a
 * JSON array or space-separated paths. Pure (s[0..len) need not be
 * NUL-terminated). On failure c is unchanged and *err
 * (GANTRY_E_INVALID_ARG, or GANTRY_E_UNSUPPORTED for ONBUILD, RUN, FROM...)
 * reads "invalid change 'S': <why>".
 */
GANTRY_API int gantry_image_apply_change(struct gantry_oci_config *c, const char *s, size_t len,
                                         struct gantry_error **err) GANTRY_WUR;

/* Options for gantry_image_import; zero-initialise, then set what you need. */
struct gantry_image_import_opts {
    const struct gantry_platform *platform; /* NULL: the host platform */
    const char *const *changes;             /* --change instructions */
    size_t n_changes;
    const char *message;                 /* history comment, or NULL */
    enum gantry_compression compression; /* of the layer blob (0 = none) */
    const char *progress_id;             /* id for progress; NULL = silent */
    uint64_t progress_total;             /* input size if known, else 0 */
};

/*
 * Import the rootfs tarball read from fd (borrowed; plain, gzip or zstd,
 * read once, pipes welcome) as a one-layer image named ref. The layer is
 * streamed into a store blob; then the config (platform, diff_id, history
 * "import", created = $SOURCE_DATE_EPOCH or now, the changes applied) and an
 * OCI manifest are written, and the name is set last, replacing an older
 * image of that name. Writes image_id (the config digest, "sha256:...").
 * Errors: the reference's and changes' (checked before reading fd), the
 * layer module's (corrupt or truncated tar), the store's (GANTRY_E_IO,
 * e.g. "no space left on device"). On failure no name is changed and no
 * partial blob is left; a failure after the layer blob was committed (while
 * writing the small config or manifest) leaves that complete, unnamed blob
 * for gantry_image_prune.
 */
GANTRY_API int gantry_image_import(struct gantry_store *s, int fd, const char *ref,
                                   const struct gantry_image_import_opts *opts,
                                   char image_id[GANTRY_DIGEST_MAX],
                                   struct gantry_error **err) GANTRY_WUR;

/*
 * The OCI media type under which gantry stores a layer blob compressed
 * with c (import, load): ...layer.v1.tar, tar+gzip or tar+zstd. Static.
 */
GANTRY_API const char *gantry_image_layer_media_type(enum gantry_compression c);

/* One platform of a listed image. */
struct gantry_image_platform {
    char *name;   /* "linux/arm/v7" (gantry_platform_format), owned */
    char *digest; /* the manifest's digest, owned */
    bool present; /* manifest, config and layers all stored */
};

/* One named image, as `gantry images` shows it. All strings owned. */
struct gantry_image_summary {
    char *name;       /* full reference: "docker.io/library/busybox:1" */
    char *repository; /* familiar repository: "busybox", "localhost:5000/x" */
    char *tag;        /* "1", or NULL for a digest-only name */
    char *digest;     /* top-level (manifest or index) digest */
    char *id;         /* image id: config digest, or index digest */
    bool is_index;
    struct gantry_image_platform *platforms; /* attestations left out */
    size_t n_platforms;
    uint64_t size;   /* bytes of the image's blobs present in the store */
    int64_t created; /* seconds since the epoch (newest config), -1 unknown */
};

/* A list of images; release with gantry_image_list_release. */
struct gantry_image_list {
    struct gantry_image_summary *items;
    size_t n_items;
};

/*
 * List the named images of s (sorted by name), or only those matching
 * filter (NULL: all): "repo" matches every tag of the repository,
 * "repo:tag" one name; both are normalized first. Blobs missing from the
 * store are tolerated (M15): their platforms are marked not present.
 * Errors: GANTRY_E_INVALID_ARG (bad filter), the store's. On success *out
 * is filled; the caller releases it.
 */
GANTRY_API int gantry_image_list(struct gantry_store *s, const char *filter,
                                 struct gantry_image_list *out,
                                 struct gantry_error **err) GANTRY_WUR;

/* Free the items of l and zero it; NULL is a no-op. */
GANTRY_API void gantry_image_list_release(struct gantry_image_list *l);

/*
 * Docker's `docker image inspect` object for ref_string on platform want
 * (NULL: host): Id, RepoTags, RepoDigests, Parent, Comment, Created,
 * DockerVersion, Author, Config, Architecture, Variant (omitted when
 * empty), Os, OsVersion, Size, RootFS, Metadata, and gantry's extras
 * Descriptor (the selected manifest descriptor with its platform) and,
 * for an index, Manifests (one object per platform: digest, platform,
 * present). Caller frees with json_decref. NULL on error: the errors of
 * gantry_image_resolve and gantry_image_select_platform, a blob that fails
 * verification (GANTRY_E_DIGEST_MISMATCH naming it).
 */
GANTRY_API struct json_t *gantry_image_inspect(struct gantry_store *s, const char *ref_string,
                                               const struct gantry_platform *want,
                                               struct gantry_error **err) GANTRY_WUR;

/*
 * The same object as gantry_image_inspect for an image in a registry,
 * without pulling it: ref (parsed and normalized as gantry_ref_parse does)
 * is fetched through c; for an index the entry for want (NULL: the host)
 * is chosen as pull chooses it: an exact match listed in the index itself,
 * else the best gantry_platform_match_rank across nested indexes (fetched
 * by digest, size-capped and verified, 4 levels at most, cycles refused;
 * attestations skipped), its manifest fetched by digest;
 * then the config blob (at most GANTRY_MANIFEST_MAX bytes, size and digest
 * verified). No layer is downloaded, nothing is written locally. RepoTags
 * and RepoDigests name ref itself, Size is the sum of the manifest's layer
 * sizes (compressed, as stored), and Manifests entries have no Present.
 * Caller frees with json_decref. NULL on error (messages as the local
 * path's): GANTRY_E_INVALID_ARG (bad reference), the registry's errors
 * (GANTRY_E_NOT_FOUND for a missing tag, GANTRY_E_DIGEST_MISMATCH...),
 * GANTRY_E_NOT_FOUND "no matching manifest for P in 'NAME' (it has: ...)",
 * GANTRY_E_TOO_LARGE, GANTRY_E_PARSE for a bad document.
 */
GANTRY_API struct json_t *gantry_image_inspect_remote(struct gantry_registry_client *c,
                                                      const char *ref,
                                                      const struct gantry_platform *want,
                                                      struct gantry_error **err) GANTRY_WUR;

/*
 * Name the image source resolves to also as target (parsed, normalized,
 * validated; a digest in target is refused). An existing target is
 * replaced. Errors: gantry_image_resolve's, GANTRY_E_INVALID_ARG for the
 * target, the store's.
 */
GANTRY_API int gantry_image_tag(struct gantry_store *s, const char *source, const char *target,
                                struct gantry_error **err) GANTRY_WUR;

/*
 * Remove the name ref_string resolves to (blobs stay until
 * gantry_image_prune). An image id or digest removes every name of that
 * image; that needs force when it has more than one name. *removed (may be
 * NULL) receives the removed full names, NULL-terminated (caller frees
 * each and the array). Errors: GANTRY_E_NOT_FOUND "no such image: 'X'",
 * GANTRY_E_INVALID_ARG "image 'ID' is referenced by several names (use
 * -f)", the store's.
 */
GANTRY_API int gantry_image_remove(struct gantry_store *s, const char *ref_string, bool force,
                                   char ***removed, struct gantry_error **err) GANTRY_WUR;

/* What gantry_image_prune did. */
struct gantry_image_prune_result {
    uint64_t blobs_deleted;
    uint64_t bytes_reclaimed;
};

/*
 * Delete every blob no name reaches (the store's garbage collection).
 * Errors: the store's.
 */
GANTRY_API int gantry_image_prune(struct gantry_store *s, struct gantry_image_prune_result *res,
                                  struct gantry_error **err) GANTRY_WUR;

#ifdef __cplusplus
}
#endif
#endif
