/*
 * Internal helpers of the image module: string vectors in the oci module's
 * convention (NULL-terminated, count beside), and the pieces the unit tests
 * reach directly.
 */
#ifndef GANTRY_IMAGE_INTERNAL_H
#define GANTRY_IMAGE_INTERNAL_H

#include <gantry/image.h>
#include <gantry/store.h>

#include "util.h"

/* Append owned s to the NULL-terminated vector *v of *n items. */
static inline void image_strv_push(char ***v, size_t *n, char *s)
{
    *v = xrealloc(*v, (*n + 2) * sizeof(**v));
    (*v)[(*n)++] = s;
    (*v)[*n] = NULL;
}

/* Free a NULL-terminated vector (NULL is a no-op). */
static inline void image_strv_free(char **v)
{
    if (!v)
        return;
    for (char **p = v; *p; p++)
        free(*p);
    free(v);
}

static inline void cleanup_strvp(char ***v)
{
    image_strv_free(*v);
}
#define _cleanup_strv_ __attribute__((cleanup(cleanup_strvp)))

static inline void cleanup_manifestp(struct gantry_oci_manifest **m)
{
    gantry_oci_manifest_free(*m);
}
#define _cleanup_manifest_ __attribute__((cleanup(cleanup_manifestp)))

static inline void cleanup_indexp(struct gantry_oci_index **i)
{
    gantry_oci_index_free(*i);
}
#define _cleanup_index_ __attribute__((cleanup(cleanup_indexp)))

static inline void cleanup_configp(struct gantry_oci_config **c)
{
    gantry_oci_config_free(*c);
}
#define _cleanup_config_ __attribute__((cleanup(cleanup_configp)))

#define _cleanup_platform_ __attribute__((cleanup(gantry_platform_release)))
#define _cleanup_descriptor_ __attribute__((cleanup(gantry_oci_descriptor_release)))

/* common.c: reading documents from the store, platforms, image ids */

/* Parse the manifest blob d names (verified); NULL with *err. */
struct gantry_oci_manifest *image_load_manifest(struct gantry_store *s,
                                                const struct gantry_oci_descriptor *d,
                                                struct gantry_error **err);
/* Parse the config blob digest names (verified); NULL with *err. */
struct gantry_oci_config *image_load_config(struct gantry_store *s, const char *digest,
                                            struct gantry_error **err);

/* A normalized gantry_platform from an index entry's or a config's platform. */
void image_platform_from_oci(const struct gantry_oci_platform *o, struct gantry_platform *out);
void image_platform_from_config(const struct gantry_oci_config *c, struct gantry_platform *out);
/* An index-entry platform from p (caller frees with gantry_oci_platform_free). */
struct gantry_oci_platform *image_oci_platform(const struct gantry_platform *p);

/*
 * The platform of manifest descriptor d: d's own platform when it has one
 * and trust_desc is set, else its config's. Errors: reading the blobs.
 */
int image_manifest_platform(struct gantry_store *s, const struct gantry_oci_descriptor *d,
                            bool trust_desc, struct gantry_platform *out,
                            struct gantry_error **err);

/* Image id of a top-level descriptor: index digest, or manifest's config digest. */
int image_id(struct gantry_store *s, const struct gantry_oci_descriptor *d,
             char id[GANTRY_DIGEST_MAX], struct gantry_error **err);

/* Seconds since the epoch of an RFC 3339 time; -1 when it does not parse. */
int64_t image_parse_time(const char *s);
/* RFC 3339 UTC ("2024-01-02T03:04:05Z") of t. Caller frees. */
char *image_format_time(int64_t t);

/* words.c */

/* Clean an absolute path lexically ("/a/./b/../c//" -> "/a/c"). */
char *image_path_clean(const char *path);

#endif
