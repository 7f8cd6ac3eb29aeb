/*
 * gantry manifest: local multi-platform image lists, Docker's `docker
 * manifest` verbs over the local store (see docs/manifest.md).
 *
 * Basic outline of combining per-platform images into one list:
 *
 *     const char *refs[] = {"demo/busybox:amd64", "demo/busybox:arm64"};
 *     struct gantry_manifest_create_opts o = {0};      // OCI index, no --amend
 *     struct gantry_manifest_edit_result res;
 *     if (gantry_manifest_create(store, "demo/busybox:multi", refs, 2, &o, &res, &err) < 0)
 *         ...;   // "'demo/busybox:multi' already exists, use --amend"...
 *     for (size_t i = 0; i < res.n_duplicates; i++)
 *         ...;   // accepted, but push refuses them: warn
 *     gantry_manifest_edit_result_release(&res);
 *
 * and of reading it back:
 *
 *     struct gantry_manifest_info info;
 *     if (gantry_manifest_inspect(store, "demo/busybox:multi", &info, &err) == 0) {
 *         for (size_t i = 0; i < info.n_entries; i++)
 *             if (info.entries[i].kind == GANTRY_MANIFEST_ENTRY_IMAGE)
 *                 printf("%s\n", info.entries[i].platform);
 *         gantry_manifest_info_release(&info);
 *     }
 *
 * A list is an ordinary image of the store: an index blob and a name in
 * index.json. Every edit writes a new index blob (canonical JSON, oci
 * module) and then moves the name; on any error nothing is changed.
 * A REF that is not in the store is read from its registry (manifests and
 * configs only, never layers) when it is spelled docker://REF or names its
 * registry host and a registry client is given; a bare name ("app:1") never
 * reaches the network ("no such image: 'X' (not in the store; write
 * docker://X to read it from its registry)").
 */
#ifndef GANTRY_MANIFEST_H
#define GANTRY_MANIFEST_H

#include <gantry/core.h>
#include <gantry/digest.h>
#include <gantry/oci.h>
#include <gantry/platform.h>
#include <gantry/transfer.h>

#ifdef __cplusplus
extern "C" {
#endif

struct gantry_store;
struct gantry_registry_client;

/* Media type of a list written by create. */
enum gantry_manifest_format {
    GANTRY_MANIFEST_FORMAT_DEFAULT, /* an amended list keeps its type; else OCI */
    GANTRY_MANIFEST_FORMAT_OCI,     /* application/vnd.oci.image.index.v1+json */
    GANTRY_MANIFEST_FORMAT_DOCKER,  /* ...docker.distribution.manifest.list.v2+json */
};

/* Options of gantry_manifest_create; zero-initialise, then set what you need. */
struct gantry_manifest_create_opts {
    bool amend; /* extend an existing list instead of refusing it */
    /* Keep a REF that is an index as one nested entry (its media type,
     * digest and size, no platform) instead of adding its entries. */
    bool no_flatten;
    enum gantry_manifest_format format;
    /* Take only this platform (exact after normalization) of each REF; NULL: all. */
    const struct gantry_platform *platform;
    /* Registry client (borrowed) for REFs that are remote: spelled
     * docker://REF, or not in the store. NULL: local REFs only. */
    struct gantry_registry_client *client;
};

/* Two image entries of one list with the same platform. */
struct gantry_manifest_duplicate {
    char *platform;                 /* normalized, formatted; owned */
    char first[GANTRY_DIGEST_MAX];  /* the earlier entry */
    char second[GANTRY_DIGEST_MAX]; /* the later entry */
};

/* What gantry_manifest_create and gantry_manifest_add did. Everything owned. */
struct gantry_manifest_edit_result {
    char digest[GANTRY_DIGEST_MAX]; /* the list's new digest */
    /* Pairs of entries of one platform that the edit brought in (each new
     * entry with the first earlier one of its platform): accepted, but
     * gantry_manifest_push refuses the list until they are fixed. */
    struct gantry_manifest_duplicate *duplicates;
    size_t n_duplicates;
};

/* Free the members of r and zero it; NULL is a no-op. */
GANTRY_API void gantry_manifest_edit_result_release(struct gantry_manifest_edit_result *r);

/*
 * Make the list named list (a reference, normalized; no digest) from the
 * local images refs[0..n_refs). A single-platform REF adds its manifest
 * with the platform its config gives (os, architecture, variant,
 * os.version, os.features, written as the config spells them). A REF that
 * is an index adds all its platforms (nested indexes flattened) and the
 * attestations that refer to them, or with opts->platform only the entry
 * of that platform (exact after normalization, no fallbacks) and its
 * attestations; with opts->no_flatten it is one entry of its own (an
 * index whose entries are image manifests and attestations only; a
 * remote one is stored with its child manifests and their configs). An
 * image already in the list is kept as it is. Duplicate platforms are
 * accepted and reported in out. With GANTRY_MANIFEST_FORMAT_DOCKER every
 * entry must be a Docker v2 manifest (or list): nothing is converted. On
 * success *out (may be NULL; zeroed first) is the caller's to release.
 * Errors: GANTRY_E_EXISTS "'X' already exists, use --amend";
 * GANTRY_E_NOT_FOUND "no such image: 'X' (not in the store; ...)";
 * GANTRY_E_INVALID_ARG for a bad name, no REF, a list that is not an index
 * (with amend), OCI entries in a Docker list, platform with no_flatten;
 * GANTRY_E_UNSUPPORTED for an index kept nested that nests indexes itself;
 * GANTRY_E_DENIED when another process changed the list meanwhile (the
 * name is not moved: try again); the store's and the oci module's errors.
 */
GANTRY_API int gantry_manifest_create(struct gantry_store *s, const char *list,
                                      const char *const *refs, size_t n_refs,
                                      const struct gantry_manifest_create_opts *opts,
                                      struct gantry_manifest_edit_result *out,
                                      struct gantry_error **err) GANTRY_WUR;

/* Options of gantry_manifest_add; zero-initialise. */
struct gantry_manifest_add_opts {
    bool no_flatten;                        /* as in create */
    const struct gantry_platform *platform; /* as in create */
    struct gantry_registry_client *client;  /* as in create */
};

/*
 * Add the local image ref to the existing list (create with amend, the
 * list's own media type kept). Errors: GANTRY_E_NOT_FOUND "no such manifest
 * list: 'X'", then those of gantry_manifest_create.
 */
GANTRY_API int gantry_manifest_add(struct gantry_store *s, const char *list, const char *ref,
                                   const struct gantry_manifest_add_opts *opts,
                                   struct gantry_manifest_edit_result *out,
                                   struct gantry_error **err) GANTRY_WUR;

/*
 * Remove from list the entries that what names: a full digest (any entry),
 * or a platform specifier (every image entry of that platform, equal after
 * normalization: "linux/arm" removes linux/arm/v7). Attestations of a
 * removed image go with it. digest_out (may be NULL) receives the new
 * list's digest. Errors: GANTRY_E_NOT_FOUND "no such manifest list: 'X'" or
 * "no entry 'W' in manifest list 'X'", GANTRY_E_INVALID_ARG for a bad
 * digest or platform, the store's.
 */
GANTRY_API int gantry_manifest_remove(struct gantry_store *s, const char *list, const char *what,
                                      char digest_out[GANTRY_DIGEST_MAX],
                                      struct gantry_error **err) GANTRY_WUR;

/*
 * What `manifest annotate` changes in an entry; NULL (or 0 items) leaves a
 * field as it is. Strings are borrowed.
 */
struct gantry_manifest_annotation {
    const char *os;
    const char *architecture;       /* a new architecture drops the old variant */
    const char *variant;            /* "" removes the variant */
    const char *os_version;         /* "" removes os.version */
    const char *const *os_features; /* added to those present */
    size_t n_os_features;
    const char *const *annotations; /* "key=value" each; set (replaced) */
    size_t n_annotations;
};

/*
 * Apply a to the index entry d (pure). When os, architecture or variant is
 * given, the resulting os/arch/variant is normalized by the platform
 * module (aarch64 -> arm64, armhf -> arm/v7) and the os/arch pair must be
 * one gantry_manifest_os_arch_valid accepts. OS features are added once
 * each and kept sorted. On failure d is unchanged and *err
 * (GANTRY_E_INVALID_ARG) says why: "unsupported os/arch combination
 * 'linux/sparc'", "invalid platform '...': ...", "invalid annotation 'X':
 * not of the form key=value", an empty os or architecture or feature.
 */
GANTRY_API int gantry_manifest_annotate_entry(struct gantry_oci_descriptor *d,
                                              const struct gantry_manifest_annotation *a,
                                              struct gantry_error **err) GANTRY_WUR;

/*
 * Annotate the entry of list that target names: a full digest, or a local
 * image (its manifest digest). Errors: GANTRY_E_NOT_FOUND "no such
 * manifest list: 'X'", "no such image: 'T' (remote references are not
 * supported yet)", "no entry 'T' in manifest list 'X'"; those of
 * gantry_manifest_annotate_entry; GANTRY_E_INVALID_ARG when a new
 * platform makes the entry a duplicate of another one; the store's.
 */
GANTRY_API int gantry_manifest_annotate(struct gantry_store *s, const char *list,
                                        const char *target,
                                        const struct gantry_manifest_annotation *a,
                                        char digest_out[GANTRY_DIGEST_MAX],
                                        struct gantry_error **err) GANTRY_WUR;

/*
 * Delete the name of the list (`manifest rm`); blobs stay until prune.
 * Only lists (indexes) are deleted. Errors: GANTRY_E_NOT_FOUND "no such
 * manifest list: 'X'", GANTRY_E_INVALID_ARG "'X' is not a manifest list",
 * the store's.
 */
GANTRY_API int gantry_manifest_delete(struct gantry_store *s, const char *list,
                                      struct gantry_error **err) GANTRY_WUR;

/*
 * True when os/arch is a pair `docker manifest annotate` accepts or Go
 * knows (`go tool dist list`), e.g. linux/arm64, windows/amd64; false for
 * linux/sparc or windows/s390x. Case-sensitive: pass normalized names.
 */
GANTRY_API bool gantry_manifest_os_arch_valid(const char *os, const char *arch);

/*
 * Look for two image entries of entries[0..n) with the same platform after
 * normalization (os.version and os.features count), considering only pairs
 * whose later member is at index first_new or beyond (so entries already
 * in a list are not re-checked). Attestations and entries without a
 * platform never count. Returns 0, or -1 with *err (GANTRY_E_INVALID_ARG)
 * "duplicate platform 'linux/amd64': sha256:A and sha256:B (use
 * --allow-duplicates to keep both)".
 */
GANTRY_API int gantry_manifest_check_duplicates(const struct gantry_oci_descriptor *entries,
                                                size_t n, size_t first_new,
                                                struct gantry_error **err) GANTRY_WUR;

enum gantry_manifest_entry_kind {
    GANTRY_MANIFEST_ENTRY_IMAGE,       /* an image manifest: a platform */
    GANTRY_MANIFEST_ENTRY_ATTESTATION, /* vnd.docker.reference.type=attestation-manifest */
    GANTRY_MANIFEST_ENTRY_INDEX,       /* a nested index (kept with no_flatten) */
    GANTRY_MANIFEST_ENTRY_OTHER,       /* an unknown media type */
};

/* One entry of a list, as inspect shows it. Everything owned. */
struct gantry_manifest_entry {
    enum gantry_manifest_entry_kind kind;
    /* The entry as stored; a single image's own descriptor gets the platform of its config. */
    struct gantry_oci_descriptor desc;
    char *platform; /* normalized, formatted ("linux/arm/v7"); "unknown" when none */
    char *subject;  /* attestations: the digest they describe, or NULL */
    /* INDEX: the platforms of its image entries, in its order, ", "
     * between them ("linux/amd64, linux/arm64"); NULL when not stored. */
    char *platforms;
    /* manifest + config + layers (INDEX: the index + each image entry's);
     * -1 when a manifest is absent */
    int64_t size;
    bool local;     /* manifest, config and layers all in the store (INDEX: of every entry) */
    char *manifest; /* the entry's document when stored, else NULL */
    size_t manifest_len;
};

/* A list (or a single image) as inspect shows it. Everything owned. */
struct gantry_manifest_info {
    char *name;       /* full name it was found under, or NULL (by digest) */
    char *digest;     /* of the top document */
    char *media_type; /* of the top document */
    bool is_index;
    char *raw; /* the exact stored bytes of the top document */
    size_t raw_len;
    struct gantry_manifest_entry *entries; /* index order; one for an image */
    size_t n_entries;
};

/*
 * Describe the list (or single image) ref names: every entry with its
 * platform, size and whether it is stored. Entries missing from the store
 * are listed, not errors. On success the caller releases *out with
 * gantry_manifest_info_release. Errors: GANTRY_E_NOT_FOUND "no such image:
 * 'X'" (a local look-up only: gantry_manifest_inspect_remote reads a
 * registry), a corrupt blob
 * (GANTRY_E_DIGEST_MISMATCH), GANTRY_E_PARSE, the store's.
 */
GANTRY_API int gantry_manifest_inspect(struct gantry_store *s, const char *ref,
                                       struct gantry_manifest_info *out,
                                       struct gantry_error **err) GANTRY_WUR;

/* Free the members of info and zero it; NULL is a no-op. */
GANTRY_API void gantry_manifest_info_release(struct gantry_manifest_info *info);

/*
 * gantry_manifest_inspect for the remote reference ref ("docker://" prefix
 * allowed) through c (borrowed): the manifest or index is fetched by tag
 * or digest, then every child manifest by digest; configs only for image
 * entries without a platform, layers never. Nothing is written. An
 * entry's local says whether s (may be NULL) holds its manifest, config
 * and layers. On success the caller releases *out with
 * gantry_manifest_info_release. Errors: GANTRY_E_INVALID_ARG (reference),
 * the registry client's (which name the reference and HTTP status),
 * GANTRY_E_PARSE.
 */
GANTRY_API int gantry_manifest_inspect_remote(struct gantry_store *s,
                                              struct gantry_registry_client *c, const char *ref,
                                              struct gantry_manifest_info *out,
                                              struct gantry_error **err) GANTRY_WUR;

/* Options of gantry_manifest_push; zero-initialise. */
struct gantry_manifest_push_opts {
    bool purge;            /* delete the local list (its name) after a successful push */
    bool allow_duplicates; /* push a list with two image entries of one platform */
    unsigned jobs;         /* blobs moved at once; 0: GANTRY_TRANSFER_DEFAULT_JOBS */
};

/*
 * Push the local list (a name) to dest (a reference with a tag; NULL: the
 * list's own name) through c (borrowed). A list with two image entries of
 * one platform is refused first, unless opts->allow_duplicates. Then the
 * children the list read from a registry (`create` with remote REFs
 * records their repository in the store's index.json entry of the list,
 * never in the index) and its nested indexes, each unless dest's
 * repository has it (one HEAD): each blob is looked up (HEAD), then
 * mounted from its repository when it is on dest's registry, else copied
 * (fetched into an unlinked scratch file, then uploaded; a blob in the
 * store is read from there), then the manifest is put by digest (a nested
 * index after its own image manifests). Then gantry_transfer_push pushes
 * the local children, the index and, last, the tag, told which children
 * dest already has so that none is looked up twice. With opts->purge the
 * list's name is deleted afterwards (Docker's --purge; blobs stay until
 * prune). *out (zeroed first; release it with
 * gantry_transfer_result_release) counts both steps. Errors:
 * GANTRY_E_INVALID_ARG "duplicate platform 'linux/amd64': sha256:A and
 * sha256:B (use --allow-duplicates to keep both)";
 * GANTRY_E_NOT_FOUND "no such manifest list: 'X'", GANTRY_E_INVALID_ARG
 * ("'X' is not a manifest list", dest a digest), "cannot push 'NAME':
 * linux/arm64 (sha256:...) is not in the store and not in the registry",
 * "copy sha256:... from 'REPO': ..." with the registry's error; the
 * store's. The tag is never written when a child failed.
 */
GANTRY_API int gantry_manifest_push(struct gantry_store *s, struct gantry_registry_client *c,
                                    const char *list, const char *dest,
                                    const struct gantry_manifest_push_opts *opts,
                                    struct gantry_transfer_result *out,
                                    struct gantry_error **err) GANTRY_WUR;

#ifdef __cplusplus
}
#endif
#endif
