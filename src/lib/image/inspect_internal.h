/*
 * The inspect object's parts, shared by the local (inspect.c) and remote
 * (inspect_remote.c) paths: both gather plain data and hand it to
 * image_inspect_build, which alone knows Docker's JSON shape (and jansson).
 */
#ifndef GANTRY_IMAGE_INSPECT_INTERNAL_H
#define GANTRY_IMAGE_INSPECT_INTERNAL_H

#include <gantry/ref.h>

#include "image_internal.h"

#define _cleanup_ref_ __attribute__((cleanup(gantry_ref_release)))

/* One platform of an index, for "Manifests". Strings borrowed. */
struct image_inspect_entry {
    const struct gantry_oci_descriptor *desc;
    char *platform; /* "linux/arm64", owned */
    bool present;   /* manifest, config and layers stored (local only) */
};

/* Everything the inspect object is made of. Pointers borrowed. */
struct image_inspect_parts {
    const struct gantry_oci_descriptor *top;   /* manifest or index */
    const struct gantry_oci_descriptor *child; /* the manifest shown, with platform */
    const struct gantry_oci_manifest *manifest;
    const struct gantry_oci_config *config;
    char *const *repo_tags; /* familiar "busybox:1" */
    size_t n_repo_tags;
    char *const *repo_digests; /* familiar "busybox@sha256:..." */
    size_t n_repo_digests;
    int64_t size;                              /* bytes of the layers */
    const struct image_inspect_entry *entries; /* index only, else NULL */
    size_t n_entries;
    bool has_present; /* entries' "Present" is known (local store) */
};

/* Docker's inspect object from p; NULL with *err. Caller json_decrefs. */
struct json_t *image_inspect_build(const struct image_inspect_parts *p, struct gantry_error **err);

/* Free the platform strings of n entries and the array; NULL is a no-op. */
void image_inspect_entries_free(struct image_inspect_entry *e, size_t n);

#endif
