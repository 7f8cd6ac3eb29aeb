/*
 * gantry oci: OCI image-spec and Docker v2 media types; the descriptor,
 * image manifest, image index and image config models.
 *
 * Basic outline of reading a document fetched from a registry or a store:
 *
 *     enum gantry_oci_kind kind;
 *     if (gantry_oci_detect(data, len, content_type, &kind, &err) < 0)
 *         ...;                       // malformed, ambiguous, schema 1, M1
 *     if (kind == GANTRY_OCI_KIND_INDEX) {
 *         struct gantry_oci_index *idx =
 *             gantry_oci_index_parse(data, len, content_type, &err);
 *         for (size_t i = 0; i < idx->n_manifests; i++)
 *             if (gantry_oci_is_manifest_type(idx->manifests[i].media_type))
 *                 ...;               // unknown entry types are skipped, never errors
 *         gantry_oci_index_free(idx);
 *     }
 *
 * A parsed object keeps the exact bytes it was parsed from (raw, raw_len)
 * and their sha256 (digest): a digest is always of those bytes, never of a
 * re-serialization. It also keeps the JSON tree, so fields this model does
 * not know survive a round trip.
 *
 * Basic outline of building a document:
 *
 *     struct gantry_oci_manifest *m =
 *         gantry_oci_manifest_build(NULL, &config_desc, layers, n_layers, &err);
 *     // m->raw / m->raw_len: canonical JSON, m->digest: its digest
 *
 * or edit the fields of any object (they are plain owned strings and arrays,
 * free them with free()) and call the _serialize function, which replaces
 * raw, digest and the tree with the canonical form of the fields. Canonical
 * JSON is compact with keys sorted, so equal content gives equal bytes.
 *
 * String arrays (char **x, size_t n_x) are also NULL-terminated; x == NULL
 * means the field is absent, which for the image config is not the same as
 * an empty array (Entrypoint null vs []).
 *
 * Docker archives (`docker save`) describe their images in manifest.json
 * and, for old Docker versions, name top layers in a repositories file:
 *
 *     struct gantry_oci_docker_archive_image *imgs = NULL;
 *     size_t n = 0;
 *     if (gantry_oci_docker_archive_manifest_parse(data, len, &imgs, &n, &err) < 0)
 *         ...;                       // not JSON, not an array of images, ...
 *     for (size_t i = 0; i < n; i++)
 *         ...;                       // imgs[i].config, .layers, .repo_tags
 *     gantry_oci_docker_archive_manifest_free(imgs, n);
 */
#ifndef GANTRY_OCI_H
#define GANTRY_OCI_H

#include <gantry/core.h>
#include <gantry/digest.h>

#ifdef __cplusplus
extern "C" {
#endif

/* jansson's json_t; include <jansson.h> to use it (oci/, template/, server/). */
struct json_t;

/* Media types (OCI image-spec media-types.md and Docker's v2 schema 2). */
#define GANTRY_MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define GANTRY_MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define GANTRY_MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define GANTRY_MT_OCI_LAYER "application/vnd.oci.image.layer.v1.tar"
#define GANTRY_MT_OCI_LAYER_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"
#define GANTRY_MT_OCI_LAYER_ZSTD "application/vnd.oci.image.layer.v1.tar+zstd"
#define GANTRY_MT_OCI_LAYER_ND "application/vnd.oci.image.layer.nondistributable.v1.tar"
#define GANTRY_MT_OCI_LAYER_ND_GZIP "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
#define GANTRY_MT_OCI_LAYER_ND_ZSTD "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd"
#define GANTRY_MT_OCI_EMPTY "application/vnd.oci.empty.v1+json"
#define GANTRY_MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define GANTRY_MT_DOCKER_MANIFEST_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define GANTRY_MT_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"
#define GANTRY_MT_DOCKER_LAYER "application/vnd.docker.image.rootfs.diff.tar"
#define GANTRY_MT_DOCKER_LAYER_GZIP "application/vnd.docker.image.rootfs.diff.tar.gzip"
#define GANTRY_MT_DOCKER_LAYER_ZSTD "application/vnd.docker.image.rootfs.diff.tar.zstd"
#define GANTRY_MT_DOCKER_LAYER_FOREIGN "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
/* Docker schema 1: recognised only to be refused with a clear error. */
#define GANTRY_MT_DOCKER_SCHEMA1 "application/vnd.docker.distribution.manifest.v1+json"
#define GANTRY_MT_DOCKER_SCHEMA1_SIGNED "application/vnd.docker.distribution.manifest.v1+prettyjws"

/* Annotations with a meaning for gantry. */
#define GANTRY_OCI_ANNOTATION_REF_NAME "org.opencontainers.image.ref.name"
#define GANTRY_OCI_ANNOTATION_CREATED "org.opencontainers.image.created"
#define GANTRY_OCI_ANNOTATION_REFERENCE_TYPE "vnd.docker.reference.type"
#define GANTRY_OCI_ANNOTATION_REFERENCE_DIGEST "vnd.docker.reference.digest"

/* Sizes are I-JSON integers: 0 <= size <= 2^53 (descriptor.md, M4). */
#define GANTRY_OCI_SIZE_MAX ((int64_t)1 << 53)

/* The oci-layout file this version writes (image-layout.md). */
#define GANTRY_OCI_LAYOUT_VERSION "1.0.0"

/*
 * Media type helpers. Each accepts a type with or without parameters
 * ("...+json; charset=utf-8") and compares case-insensitively; NULL gives
 * false. Index: OCI index or Docker manifest list. Manifest: OCI manifest
 * or Docker v2 schema 2. Config: OCI config or Docker container config.
 * Schema 1: either Docker schema 1 type.
 */
GANTRY_API bool gantry_oci_is_index_type(const char *media_type);
GANTRY_API bool gantry_oci_is_manifest_type(const char *media_type);
GANTRY_API bool gantry_oci_is_config_type(const char *media_type);
GANTRY_API bool gantry_oci_is_schema1_type(const char *media_type);
/* True when both name the same media type (parameters and case ignored). */
GANTRY_API bool gantry_oci_media_type_equal(const char *a, const char *b);

enum gantry_oci_compression {
    GANTRY_OCI_COMPRESSION_UNKNOWN, /* not a layer media type we know */
    GANTRY_OCI_COMPRESSION_NONE,
    GANTRY_OCI_COMPRESSION_GZIP,
    GANTRY_OCI_COMPRESSION_ZSTD,
};

/* Compression of a layer media type (OCI, non-distributable, Docker). */
GANTRY_API enum gantry_oci_compression gantry_oci_layer_compression(const char *media_type);
/* True for every layer media type gantry_oci_layer_compression knows. */
GANTRY_API bool gantry_oci_is_layer_type(const char *media_type);

/* A key/value pair (annotations, labels); both owned. */
struct gantry_oci_kv {
    char *key;
    char *value;
};

/* A platform as written in an index entry; plain strings, all owned. */
struct gantry_oci_platform {
    char *architecture; /* required */
    char *os;           /* required */
    char *variant;      /* NULL when absent */
    char *os_version;   /* "os.version" */
    char **os_features; /* "os.features" */
    size_t n_os_features;
    char **features; /* Docker manifest lists only */
    size_t n_features;
};

/* Deep copy (NULL gives NULL); caller frees with gantry_oci_platform_free. */
GANTRY_API struct gantry_oci_platform *gantry_oci_platform_dup(const struct gantry_oci_platform *p);
GANTRY_API void gantry_oci_platform_free(struct gantry_oci_platform *p);

/*
 * A content descriptor (descriptor.md). Every pointer is owned; release an
 * embedded descriptor with gantry_oci_descriptor_release. Start from
 * GANTRY_OCI_DESCRIPTOR_INIT (all zero).
 */
struct gantry_oci_descriptor {
    char *media_type;
    char *digest;
    int64_t size;
    char **urls;
    size_t n_urls;
    struct gantry_oci_kv *annotations;
    size_t n_annotations;
    struct gantry_oci_platform *platform; /* NULL when absent */
    char *artifact_type;
    char *data;           /* base64 embedded content, NULL when absent */
    struct json_t *extra; /* members this model does not know, or NULL */
};
/* clang-format off */
#define GANTRY_OCI_DESCRIPTOR_INIT {0}
/* clang-format on */

/*
 * Fill a zeroed descriptor with copies of media_type and digest, and size.
 * No validation happens here; _to_json and the _serialize functions check.
 */
GANTRY_API void gantry_oci_descriptor_init(struct gantry_oci_descriptor *d, const char *media_type,
                                           const char *digest, int64_t size);
/* Deep copy src into dst (dst's old content is not freed). */
GANTRY_API void gantry_oci_descriptor_copy(struct gantry_oci_descriptor *dst,
                                           const struct gantry_oci_descriptor *src);
/* Free the members and zero the struct; NULL is a no-op. */
GANTRY_API void gantry_oci_descriptor_release(struct gantry_oci_descriptor *d);

/*
 * Check a descriptor: mediaType present, digest valid (sha256/sha512,
 * lowercase hex), 0 <= size <= 2^53, platform with os and architecture.
 * Errors: GANTRY_E_INVALID_ARG.
 */
GANTRY_API int gantry_oci_descriptor_validate(const struct gantry_oci_descriptor *d,
                                              struct gantry_error **err) GANTRY_WUR;

/*
 * Parse one descriptor JSON object into *out (zeroed first; release it with
 * gantry_oci_descriptor_release). Same input rules as the documents (UTF-8,
 * no BOM, no duplicate keys, 4 MiB). Errors: GANTRY_E_PARSE,
 * GANTRY_E_TOO_LARGE; *out is left zeroed on failure.
 */
GANTRY_API int gantry_oci_descriptor_parse(const char *data, size_t len,
                                           struct gantry_oci_descriptor *out,
                                           struct gantry_error **err) GANTRY_WUR;

/*
 * Append the canonical JSON of d (unknown members kept) to out.
 * Errors: GANTRY_E_INVALID_ARG (invalid descriptor), GANTRY_E_TOO_LARGE
 * (out->cap).
 */
GANTRY_API int gantry_oci_descriptor_to_json(const struct gantry_oci_descriptor *d,
                                             struct gantry_buf *out,
                                             struct gantry_error **err) GANTRY_WUR;

/* Value of annotation key (borrowed from d), or NULL. */
GANTRY_API const char *gantry_oci_descriptor_annotation(const struct gantry_oci_descriptor *d,
                                                        const char *key);
/* Set (copy) or, with value NULL, remove an annotation. */
GANTRY_API void gantry_oci_descriptor_set_annotation(struct gantry_oci_descriptor *d,
                                                     const char *key, const char *value);

/*
 * True for BuildKit attestation entries of an index: annotation
 * vnd.docker.reference.type = attestation-manifest (their platform is
 * typically unknown/unknown). Platform selection must skip them.
 */
GANTRY_API bool gantry_oci_descriptor_is_attestation(const struct gantry_oci_descriptor *d);

enum gantry_oci_kind {
    GANTRY_OCI_KIND_UNKNOWN, /* valid JSON object of another or unknown type */
    GANTRY_OCI_KIND_MANIFEST,
    GANTRY_OCI_KIND_INDEX,
};

/*
 * Classify a document. expected_type is the media type the caller was told
 * (a descriptor's mediaType, an HTTP Content-Type) or NULL; a registry
 * client passes NULL for a generic Content-Type such as application/json,
 * which would otherwise count as a mismatch. The type is the
 * body's mediaType, else expected_type, else inferred from the members.
 * Fails (GANTRY_E_PARSE) on: more than GANTRY_MANIFEST_MAX bytes
 * (GANTRY_E_TOO_LARGE), a BOM, invalid UTF-8, duplicate keys, trailing
 * bytes, not an object, a body mediaType other than expected_type (M1), both
 * "manifests" and "layers"/"config" (ambiguous, CVE-2021-41190), members
 * that contradict the type. Docker schema 1 fails with GANTRY_E_UNSUPPORTED.
 * A valid object of an unknown type gives GANTRY_OCI_KIND_UNKNOWN and 0.
 */
GANTRY_API int gantry_oci_detect(const char *data, size_t len, const char *expected_type,
                                 enum gantry_oci_kind *kind, struct gantry_error **err) GANTRY_WUR;

/* An image manifest (OCI manifest.md, or Docker v2 schema 2). */
struct gantry_oci_manifest {
    char *media_type; /* body mediaType, else the expected type, else OCI */
    char *artifact_type;
    struct gantry_oci_descriptor config;
    struct gantry_oci_descriptor *layers;
    size_t n_layers;
    struct gantry_oci_descriptor *subject; /* NULL when absent */
    struct gantry_oci_kv *annotations;
    size_t n_annotations;
    /* The document these fields were parsed from or last serialized to. */
    char *raw; /* exact bytes, NUL-terminated */
    size_t raw_len;
    char digest[GANTRY_DIGEST_MAX]; /* sha256 of raw */
    struct json_t *json;            /* the tree of raw */
};

/*
 * Parse a manifest (rules of gantry_oci_detect, plus: schemaVersion 2,
 * a valid config descriptor, a layers array of valid descriptors, annotations
 * of strings). Caller frees with gantry_oci_manifest_free. NULL on error:
 * GANTRY_E_PARSE, GANTRY_E_TOO_LARGE, GANTRY_E_UNSUPPORTED (schema 1, or a
 * type that is not a manifest).
 */
GANTRY_API struct gantry_oci_manifest *
gantry_oci_manifest_parse(const char *data, size_t len, const char *expected_type,
                          struct gantry_error **err) GANTRY_WUR;

/* An empty manifest of media_type (NULL: OCI); fill it, then _serialize. */
GANTRY_API struct gantry_oci_manifest *gantry_oci_manifest_new(const char *media_type);

/*
 * Build and serialize a manifest from copies of config and layers.
 * media_type NULL means OCI. Errors: GANTRY_E_INVALID_ARG (invalid
 * descriptor).
 */
GANTRY_API struct gantry_oci_manifest *
gantry_oci_manifest_build(const char *media_type, const struct gantry_oci_descriptor *config,
                          const struct gantry_oci_descriptor *layers, size_t n_layers,
                          struct gantry_error **err) GANTRY_WUR;

/* Append a copy of d to m->layers. */
GANTRY_API void gantry_oci_manifest_add_layer(struct gantry_oci_manifest *m,
                                              const struct gantry_oci_descriptor *d);

/*
 * Append the canonical JSON of m's fields (unknown members of m->json kept)
 * to out. m->raw is not changed. Errors: GANTRY_E_INVALID_ARG when the
 * fields do not make a valid manifest, GANTRY_E_TOO_LARGE.
 */
GANTRY_API int gantry_oci_manifest_to_json(const struct gantry_oci_manifest *m,
                                           struct gantry_buf *out,
                                           struct gantry_error **err) GANTRY_WUR;

/* Replace m->raw, m->digest and m->json with the canonical form of m's fields. */
GANTRY_API int gantry_oci_manifest_serialize(struct gantry_oci_manifest *m,
                                             struct gantry_error **err) GANTRY_WUR;

/* The tree of m->raw, borrowed until m changes or is freed. */
GANTRY_API struct json_t *gantry_oci_manifest_json(const struct gantry_oci_manifest *m);
GANTRY_API void gantry_oci_manifest_free(struct gantry_oci_manifest *m);

/* An image index (OCI image-index.md, or Docker manifest list). */
struct gantry_oci_index {
    char *media_type; /* body mediaType, else the expected type, else OCI */
    char *artifact_type;
    struct gantry_oci_descriptor *manifests; /* any media type: skip unknown */
    size_t n_manifests;
    struct gantry_oci_descriptor *subject;
    struct gantry_oci_kv *annotations;
    size_t n_annotations;
    char *raw;
    size_t raw_len;
    char digest[GANTRY_DIGEST_MAX];
    struct json_t *json;
};

/*
 * Parse an index (rules of gantry_oci_detect, plus schemaVersion 2 and a
 * manifests array of valid descriptors). Entries of unknown media types are
 * kept, never an error (M10). Caller frees with gantry_oci_index_free.
 * Errors as gantry_oci_manifest_parse.
 */
GANTRY_API struct gantry_oci_index *gantry_oci_index_parse(const char *data, size_t len,
                                                           const char *expected_type,
                                                           struct gantry_error **err) GANTRY_WUR;

/* An empty index of media_type (NULL: OCI); fill it, then _serialize. */
GANTRY_API struct gantry_oci_index *gantry_oci_index_new(const char *media_type);

/* Build and serialize an index from copies of manifests (with platforms). */
GANTRY_API struct gantry_oci_index *
gantry_oci_index_build(const char *media_type, const struct gantry_oci_descriptor *manifests,
                       size_t n_manifests, struct gantry_error **err) GANTRY_WUR;

/* Append a copy of d to idx->manifests (call _serialize afterwards). */
GANTRY_API void gantry_oci_index_add(struct gantry_oci_index *idx,
                                     const struct gantry_oci_descriptor *d);
/* Remove (and release) idx->manifests[i], keeping the order of the rest. */
GANTRY_API void gantry_oci_index_remove(struct gantry_oci_index *idx, size_t i);

/* As gantry_oci_manifest_to_json, for an index. */
GANTRY_API int gantry_oci_index_to_json(const struct gantry_oci_index *idx, struct gantry_buf *out,
                                        struct gantry_error **err) GANTRY_WUR;
/* Replace idx->raw, idx->digest and idx->json with the canonical form. */
GANTRY_API int gantry_oci_index_serialize(struct gantry_oci_index *idx,
                                          struct gantry_error **err) GANTRY_WUR;
GANTRY_API struct json_t *gantry_oci_index_json(const struct gantry_oci_index *idx);
GANTRY_API void gantry_oci_index_free(struct gantry_oci_index *idx);

/* One image config history entry. */
struct gantry_oci_history {
    char *created;
    char *created_by;
    char *author;
    char *comment;
    bool empty_layer;
};

/*
 * Docker's "Healthcheck" member of an image config. Test is ["NONE"],
 * ["CMD", arg...] or ["CMD-SHELL", command]; NULL test means "inherit".
 * Durations are nanoseconds and, like retries, 0 means "inherit" (left
 * out of the JSON, as Docker's omitempty).
 */
struct gantry_oci_healthcheck {
    char **test;
    size_t n_test;
    int64_t interval;
    int64_t timeout;
    int64_t start_period;
    int64_t start_interval;
    int64_t retries;
};

/* Deep copy of h (NULL gives NULL); free with gantry_oci_healthcheck_free. */
GANTRY_API struct gantry_oci_healthcheck *
gantry_oci_healthcheck_dup(const struct gantry_oci_healthcheck *h);
/* Free a healthcheck and its strings; NULL is a no-op. */
GANTRY_API void gantry_oci_healthcheck_free(struct gantry_oci_healthcheck *h);

/* The "config" member of an image config (execution parameters). */
struct gantry_oci_exec_config {
    char *user;
    char **env; /* "K=V" */
    size_t n_env;
    char **entrypoint; /* NULL: not set; non-NULL with 0 items: [] */
    size_t n_entrypoint;
    char **cmd;
    size_t n_cmd;
    char *working_dir;
    struct gantry_oci_kv *labels;
    size_t n_labels;
    char **exposed_ports; /* keys of ExposedPorts: "80/tcp" */
    size_t n_exposed_ports;
    char **volumes; /* keys of Volumes */
    size_t n_volumes;
    char *stop_signal;
    /* Docker extensions (HEALTHCHECK, ONBUILD, SHELL); NULL: absent. */
    struct gantry_oci_healthcheck *healthcheck;
    char **on_build; /* "OnBuild": trigger instructions as written */
    size_t n_on_build;
    char **shell; /* "Shell": argv prefix of shell-form commands */
    size_t n_shell;
};

/* An image config (OCI config.md, Docker container image v1). */
struct gantry_oci_config {
    char *architecture;
    char *os;
    char *variant;
    char *os_version;
    char **os_features;
    size_t n_os_features;
    char *created;
    char *author;
    struct gantry_oci_exec_config config;
    char **diff_ids; /* rootfs.diff_ids */
    size_t n_diff_ids;
    struct gantry_oci_history *history;
    size_t n_history;
    char *raw;
    size_t raw_len;
    char digest[GANTRY_DIGEST_MAX];
    struct json_t *json; /* everything, also Healthcheck, OnBuild, ... */
};

/*
 * Parse an image config: a JSON object (input rules of gantry_oci_detect)
 * with string os and architecture, valid diff_ids, fields of the right
 * types; JSON null counts as absent. Caller frees with gantry_oci_config_free.
 * Errors: GANTRY_E_PARSE, GANTRY_E_TOO_LARGE.
 */
GANTRY_API struct gantry_oci_config *gantry_oci_config_parse(const char *data, size_t len,
                                                             struct gantry_error **err) GANTRY_WUR;

/*
 * A new, empty image config for a platform (variant may be NULL), with
 * rootfs type "layers" and no layers. Fill it, then _serialize.
 */
GANTRY_API struct gantry_oci_config *gantry_oci_config_new(const char *os, const char *architecture,
                                                           const char *variant);

/* A history entry to add: borrowed strings, each may be NULL. */
struct gantry_oci_history_spec {
    const char *created;
    const char *created_by;
    const char *author;
    const char *comment;
    bool empty_layer;
};

/*
 * Append a layer: diff_id to rootfs.diff_ids and, when h is not NULL, a
 * history entry copied from h (h->empty_layer is ignored: false).
 */
GANTRY_API void gantry_oci_config_add_layer(struct gantry_oci_config *c, const char *diff_id,
                                            const struct gantry_oci_history_spec *h);
/* Append a history entry copied from h (a step that made no layer sets empty_layer). */
GANTRY_API void gantry_oci_config_add_history(struct gantry_oci_config *c,
                                              const struct gantry_oci_history_spec *h);

/* As gantry_oci_manifest_to_json, for a config. */
GANTRY_API int gantry_oci_config_to_json(const struct gantry_oci_config *c, struct gantry_buf *out,
                                         struct gantry_error **err) GANTRY_WUR;
/* Replace c->raw, c->digest and c->json with the canonical form. */
GANTRY_API int gantry_oci_config_serialize(struct gantry_oci_config *c,
                                           struct gantry_error **err) GANTRY_WUR;
/*
 * The whole config tree (borrowed until c changes or is freed): higher
 * layers render Docker's inspect JSON from it.
 */
GANTRY_API struct json_t *gantry_oci_config_json(const struct gantry_oci_config *c);
GANTRY_API void gantry_oci_config_free(struct gantry_oci_config *c);

/*
 * One image of a Docker archive's manifest.json:
 *
 *     [{"Config":"<path>","RepoTags":["name:tag",...],"Layers":["<path>",...]}]
 *
 * Every string is owned. Paths are as the archive writes them (relative,
 * not cleaned). repo_tags and layers are NULL when absent, null or empty.
 */
struct gantry_oci_docker_archive_image {
    char *config;     /* path of the image config file in the archive */
    char **repo_tags; /* familiar "name:tag" references */
    size_t n_repo_tags;
    char **layers; /* paths of the uncompressed layer tars, base layer first */
    size_t n_layers;
};

/*
 * Parse a Docker archive's manifest.json: a JSON array of objects, each with
 * a string Config and optional (or null) arrays of strings RepoTags and
 * Layers; other members (Parent, LayerSources, ...) are ignored. Input rules
 * of the other parsers: at most GANTRY_MANIFEST_MAX bytes, no BOM, valid
 * UTF-8, no escaped NUL, no duplicate keys, no trailing bytes, nesting
 * limited by jansson. On success *out holds *n images (NULL and 0 for an
 * empty array); the caller frees them with
 * gantry_oci_docker_archive_manifest_free. On failure *out is NULL and *n 0.
 * Errors: GANTRY_E_PARSE ("invalid manifest.json: ..."), GANTRY_E_TOO_LARGE.
 */
GANTRY_API int
gantry_oci_docker_archive_manifest_parse(const char *data, size_t len,
                                         struct gantry_oci_docker_archive_image **out, size_t *n,
                                         struct gantry_error **err) GANTRY_WUR;

/*
 * Append the manifest.json of n images to out: compact, members in Docker's
 * order (Config, RepoTags, Layers) so equal images give equal bytes, absent
 * RepoTags or Layers written as [], no trailing newline.
 * Errors: GANTRY_E_INVALID_ARG (an image without config, a string that is
 * not valid UTF-8), GANTRY_E_TOO_LARGE (out->cap); out is unchanged then.
 */
GANTRY_API int
gantry_oci_docker_archive_manifest_to_json(const struct gantry_oci_docker_archive_image *images,
                                           size_t n, struct gantry_buf *out,
                                           struct gantry_error **err) GANTRY_WUR;

/* Free n images and the array; NULL is a no-op. */
GANTRY_API void
gantry_oci_docker_archive_manifest_free(struct gantry_oci_docker_archive_image *images, size_t n);

/* One name of a Docker archive's repositories file; borrowed strings. */
struct gantry_oci_docker_repo_tag {
    const char *repo;     /* familiar repository: "demo/busybox" */
    const char *tag;      /* "arm64" */
    const char *layer_id; /* directory of the image's top layer in the archive */
};

/*
 * Append the repositories file of a Docker archive to out:
 * {"<repo>":{"<tag>":"<layer_id>",...},...}, canonical (compact, keys
 * sorted, as Docker encodes this map), no trailing newline. A repo and tag
 * given twice keeps the last layer_id. Errors: GANTRY_E_INVALID_ARG (a NULL
 * member, a string that is not valid UTF-8), GANTRY_E_TOO_LARGE (out->cap);
 * out is unchanged then.
 */
GANTRY_API int gantry_oci_docker_repositories_to_json(const struct gantry_oci_docker_repo_tag *tags,
                                                      size_t n, struct gantry_buf *out,
                                                      struct gantry_error **err) GANTRY_WUR;

/*
 * Check the content of an image layout's oci-layout file: a JSON object
 * with a string imageLayoutVersion of major version 1 (M16).
 * Errors: GANTRY_E_PARSE, GANTRY_E_UNSUPPORTED (another major version).
 */
GANTRY_API int gantry_oci_layout_check(const char *data, size_t len,
                                       struct gantry_error **err) GANTRY_WUR;

#ifdef __cplusplus
}
#endif
#endif
