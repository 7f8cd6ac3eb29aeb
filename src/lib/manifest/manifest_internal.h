/*
 * Internal helpers of the manifest module, shared by its files and its unit
 * tests; not installed.
 */
#ifndef GANTRY_MANIFEST_INTERNAL_H
#define GANTRY_MANIFEST_INTERNAL_H

#include <gantry/manifest.h>
#include <gantry/oci.h>
#include <gantry/platform.h>
#include <gantry/ref.h>
#include <gantry/registry.h>
#include <gantry/store.h>

#include "util.h"

static inline void manifest_cleanup_indexp(struct gantry_oci_index **i)
{
    gantry_oci_index_free(*i);
}
#define _cleanup_mindex_ __attribute__((cleanup(manifest_cleanup_indexp)))

static inline void manifest_cleanup_manifestp(struct gantry_oci_manifest **m)
{
    gantry_oci_manifest_free(*m);
}
#define _cleanup_mmanifest_ __attribute__((cleanup(manifest_cleanup_manifestp)))

static inline void manifest_cleanup_configp(struct gantry_oci_config **c)
{
    gantry_oci_config_free(*c);
}
#define _cleanup_mconfig_ __attribute__((cleanup(manifest_cleanup_configp)))

#define _cleanup_ref_ __attribute__((cleanup(gantry_ref_release)))
#define _cleanup_mdesc_ __attribute__((cleanup(gantry_oci_descriptor_release)))
#define _cleanup_mplatform_ __attribute__((cleanup(gantry_platform_release)))

struct manifest_list;

/*
 * A growable array of owned descriptors, each with the reference it was
 * read from (normalized, owned) when it came from a registry, else NULL.
 */
struct manifest_entries {
    struct gantry_oci_descriptor *items;
    char **sources;
    size_t n;
};

/* Annotation of a list's index.json entry: where a remote child lives.
 * The key is this prefix plus the child's digest; the value the full
 * reference it was read from ("host/path:tag"; its repository is where
 * the blobs are). */
#define MANIFEST_SOURCE_PREFIX "dev.gantry.manifest.source."

/* Append a deep copy of d (no source). */
void manifest_entries_push(struct manifest_entries *v, const struct gantry_oci_descriptor *d);
/* Release every item and the array; the struct is zeroed. */
void manifest_entries_release(struct manifest_entries *v);
#define _cleanup_entries_ __attribute__((cleanup(manifest_entries_release)))

/* edit.c: pure helpers */

/* An image entry: a manifest media type and not an attestation. */
bool manifest_entry_is_image(const struct gantry_oci_descriptor *d);

/* A normalized gantry_platform from an index entry's platform. */
void manifest_platform_from_oci(const struct gantry_oci_platform *o, struct gantry_platform *out);

/* The normalized, formatted platform of d ("unknown" without one). Caller frees. */
char *manifest_entry_platform_string(const struct gantry_oci_descriptor *d);

/* As gantry_manifest_check_duplicates, for pairs that include entries[k]. */
int manifest_check_duplicate_of(const struct gantry_oci_descriptor *entries, size_t n, size_t k,
                                struct gantry_error **err) GANTRY_WUR;

/*
 * Append to r->duplicates each entry of entries[first_new..n) whose
 * platform an earlier entry has (with the first such entry).
 */
void manifest_find_duplicates(const struct gantry_oci_descriptor *entries, size_t n,
                              size_t first_new, struct gantry_manifest_edit_result *r);

/*
 * Indexes of entries[0..n) that what names: a digest (any entry) or a
 * platform (image entries equal after normalization), plus the
 * attestations of every image named. *out (caller frees) is a bool per
 * entry; *count how many. Errors: GANTRY_E_INVALID_ARG (bad digest or
 * platform).
 */
int manifest_match_entries(const struct gantry_oci_descriptor *entries, size_t n, const char *what,
                           bool **out, size_t *count, struct gantry_error **err) GANTRY_WUR;

/* collect.c: entries from local images */

/* Which entries a REF contributes to a list. */
struct manifest_pick {
    const struct gantry_platform *want; /* only this platform (exact), or NULL */
    bool no_flatten;                    /* an index as one nested entry */
};

/* The "no such image" error for a REF that is not in the store. */
int manifest_no_such_image(const char *ref, struct gantry_error **err);

/* gantry_image_resolve, with manifest_no_such_image for a name not found. */
int manifest_resolve(struct gantry_store *s, const char *ref, struct gantry_oci_descriptor *out,
                     char **name_out, struct gantry_error **err) GANTRY_WUR;

/* Read (verified) and parse the manifest or index blob d names; NULL with *err. */
struct gantry_oci_manifest *manifest_load_manifest(struct gantry_store *s,
                                                   const struct gantry_oci_descriptor *d,
                                                   struct gantry_error **err);
struct gantry_oci_index *manifest_load_index(struct gantry_store *s,
                                             const struct gantry_oci_descriptor *d,
                                             struct gantry_error **err);

/*
 * The platform manifest d's config states, spelled as there (*out NULL
 * when the config names no os or architecture). Errors: reading blobs.
 */
int manifest_config_platform(struct gantry_store *s, const struct gantry_oci_descriptor *d,
                             struct gantry_oci_platform **out,
                             struct gantry_error **err) GANTRY_WUR;

/*
 * Append to out the entries image ref contributes (see
 * gantry_manifest_create): its manifest with the config's platform, or the
 * entries of its index (flattened), or with pick->want the best match and
 * its attestations, or with pick->no_flatten the index itself. Errors: "no
 * such image", reading blobs, no match, an index nesting indexes kept
 * nested.
 */
int manifest_collect(struct gantry_store *s, const char *ref, const struct manifest_pick *pick,
                     struct manifest_entries *out, struct gantry_error **err) GANTRY_WUR;

/*
 * Can idx (the document of ref) be kept as a nested entry? Its entries
 * must be image manifests (attestations included): GANTRY_E_UNSUPPORTED
 * otherwise.
 */
int manifest_check_nestable(const struct gantry_oci_index *idx, const char *ref,
                            struct gantry_error **err) GANTRY_WUR;

/* Is ref an image of the store? 1 yes, 0 no, -1 error (a bad reference...). */
int manifest_local_image(struct gantry_store *s, const char *ref, struct gantry_error **err);

/*
 * manifest_collect for a local REF; with c, a REF spelled docker://... or
 * not in the store is read from its registry (manifest_collect_remote).
 * Errors: theirs; a REF found nowhere: "no such image: 'X' (not in the
 * store; registry: <its error>)".
 */
int manifest_collect_any(struct gantry_store *s, struct gantry_registry_client *c, const char *ref,
                         const struct manifest_pick *pick, struct manifest_entries *out,
                         struct gantry_error **err) GANTRY_WUR;

/*
 * The reference a list records for its child digest (borrowed from l), or
 * NULL.
 */
const char *manifest_list_source(const struct manifest_list *l, const char *digest);

/* remote.c: entries read from a registry */

/* Is ref spelled as a remote reference ("docker://...")? Then *rest points after it. */
bool manifest_is_remote_spelling(const char *ref, const char **rest);

/*
 * As manifest_collect for a remote reference (docker:// prefix allowed):
 * fetch the manifest or index, the child manifests and their configs (no
 * layers) into the store, and append the entries (with pick->no_flatten
 * the index itself) with their source repository. Errors: the registry's
 * (naming the reference), the store's, no entry of platform pick->want.
 */
int manifest_collect_remote(struct gantry_store *s, struct gantry_registry_client *c,
                            const char *ref, const struct manifest_pick *pick,
                            struct manifest_entries *out, struct gantry_error **err) GANTRY_WUR;

/*
 * GET the manifest of r (by r->digest when set) with the checks of
 * gantry_registry_get_manifest, and store it when s is not NULL (the
 * stored digest must be the fetched one). Errors: the registry's, the
 * store's.
 */
int manifest_fetch_doc(struct gantry_store *s, struct gantry_registry_client *c,
                       const struct gantry_ref *r, struct gantry_registry_manifest *out,
                       struct gantry_error **err) GANTRY_WUR;

/* Fetch the blob digest of r's repository into the store unless present. */
int manifest_fetch_blob(struct gantry_store *s, struct gantry_registry_client *c,
                        const struct gantry_ref *r, const char *digest, int64_t size,
                        struct gantry_error **err) GANTRY_WUR;

/* r with digest d instead of its tag (out is initialised here). */
void manifest_ref_by_digest(const struct gantry_ref *r, const char *d, struct gantry_ref *out);

/* inspect.c: entries as inspect shows them */

/* The kind of entry d is. */
enum gantry_manifest_entry_kind manifest_entry_kind(const struct gantry_oci_descriptor *d);

/*
 * Count the described child k of the nested index entry e: k's platform
 * appended to platforms (image entries), its size to e's (-1 sticks), its
 * locality to e's.
 */
void manifest_nested_add(struct gantry_manifest_entry *e, const struct gantry_manifest_entry *k,
                         struct gantry_buf *platforms);

/* list.c: reading and writing lists */

/* A list being edited. */
struct manifest_list {
    const char *display;              /* the name as the caller spelled it */
    char *name;                       /* full, normalized reference */
    struct gantry_oci_descriptor old; /* what the name pointed at; zero if none */
    struct gantry_oci_index *idx;     /* the document being edited */
    /* Sources of remote children: MANIFEST_SOURCE_PREFIX annotations, kept
     * in the store's index.json entry, never in the index itself. */
    struct gantry_oci_descriptor sources;
};

void manifest_list_release(struct manifest_list *l);
#define _cleanup_mlist_ __attribute__((cleanup(manifest_list_release)))

enum manifest_open_mode {
    MANIFEST_OPEN_EXISTING, /* must exist: "no such manifest list: 'X'" */
    MANIFEST_OPEN_NEW,      /* must not: "'X' already exists, use --amend" */
    MANIFEST_OPEN_AMEND,    /* either */
};

/*
 * Normalize list (a reference without digest) and load the index it
 * names, or start a new empty OCI index when there is none. An existing
 * name that is not an index fails ("'X' is not a manifest list").
 */
int manifest_list_open(struct gantry_store *s, const char *list, enum manifest_open_mode mode,
                       struct manifest_list *l, struct gantry_error **err) GANTRY_WUR;

/*
 * Serialize l->idx, store the blob and point the name at it, unless the
 * name moved since manifest_list_open (GANTRY_E_DENIED).
 */
int manifest_list_save(struct gantry_store *s, struct manifest_list *l,
                       char digest_out[GANTRY_DIGEST_MAX], struct gantry_error **err) GANTRY_WUR;

#endif
