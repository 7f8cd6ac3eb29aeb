/*
 * Choosing a platform through indexes inside indexes (`manifest create
 * --no-flatten`), shared by local selection (resolve.c) and the copy
 * engine (transfer/copy_nest.c, which depends on image, not the other way).
 * Internal to libgantry: not installed, no GANTRY_API.
 *
 *     struct image_nest n = {.fetch = read_doc, .user = ctx, .name = "app:1"};
 *     _cleanup_nest_pick_ struct image_nest_pick pick = IMAGE_NEST_PICK_INIT;
 *     if (image_nest_select(&n, top, &want, false, &pick, &err) < 0)
 *         ...;                  // cycle, too deep, fetch or parse error
 *     if (!pick.entry)
 *         ...;                  // nothing suits: word the error from pick.seen
 *     image_nest_release(&n);   // pick.entry and pick.chain borrow from n and top
 *
 * At most IMAGE_NEST_MAX levels below the top are read; an index listing
 * itself or one above it is refused (GANTRY_E_INVALID_ARG "index cycle in
 * 'NAME': DIGEST lists itself or an index above it"), one deeper with
 * GANTRY_E_UNSUPPORTED "indexes nested too deep in 'NAME': DIGEST is more
 * than 4 levels down".
 */
#ifndef GANTRY_IMAGE_NEST_H
#define GANTRY_IMAGE_NEST_H

#include <stdbool.h>

#include <gantry/core.h>
#include <gantry/oci.h>
#include <gantry/platform.h>

#define IMAGE_NEST_MAX 4

/*
 * Read the nested index d into out (reset first, capped): 1 read, 0 not
 * available (skipped and listed as missing: a partial pull), -1 error.
 */
typedef int (*image_nest_fetch_fn)(void *user, const struct gantry_oci_descriptor *d,
                                   struct gantry_buf *out, struct gantry_error **err);

/*
 * The platform of image-manifest entry d (not an attestation) into out,
 * normalized, and whether the image is present: 1 a candidate, 0 skip
 * (platform unknown), -1 error.
 */
typedef int (*image_nest_entry_fn)(void *user, const struct gantry_oci_descriptor *d,
                                   struct gantry_platform *out, bool *present,
                                   struct gantry_error **err);

struct image_nest {
    image_nest_fetch_fn fetch;
    image_nest_entry_fn entry; /* NULL: d's own platform (none: skipped), always present */
    void *user;
    const char *name; /* the top's name, for errors (borrowed) */
    /* Every nested index read (owned), each after the indexes it lists. */
    struct gantry_oci_index **read;
    size_t n_read;
};

/* Free what n read; n can be used again. */
void image_nest_release(struct image_nest *n);

/* The entry chosen, the nested indexes it sits in, and what was seen. */
struct image_nest_pick {
    const struct gantry_oci_descriptor *entry;            /* borrowed from top or n->read */
    const struct gantry_oci_index *chain[IMAGE_NEST_MAX]; /* top's child first (borrowed) */
    size_t n_chain;
    int rank;
    struct gantry_platform platform; /* entry's */
    bool missing_match;              /* an entry that suits want is not present */
    /* ", "-separated platforms of every index read, each once, "(missing)" after absent ones */
    struct gantry_buf seen;
};

#define IMAGE_NEST_PICK_INIT                                                                       \
    {                                                                                              \
        .entry = NULL, .platform = GANTRY_PLATFORM_INIT, .seen = GANTRY_BUF_INIT                   \
    }

void image_nest_pick_release(struct image_nest_pick *p);
#define _cleanup_nest_pick_ __attribute__((cleanup(image_nest_pick_release)))

/*
 * The entry of top for want (match rank under strict as
 * gantry_platform_match_rank): a present direct exact match (rank 0) when
 * top has one, without reading anything; else the present entry of best
 * rank in top and its nested indexes (ties: the first met, depth first in
 * each index's order). out (initialized with IMAGE_NEST_PICK_INIT, reset
 * here) has entry NULL when nothing suits; returns 0 then too. Errors: the
 * nesting ones above, fetch's and entry's, GANTRY_E_PARSE (prefixed "index
 * DIGEST of 'NAME'").
 */
int image_nest_select(struct image_nest *n, const struct gantry_oci_index *top,
                      const struct gantry_platform *want, bool strict, struct image_nest_pick *out,
                      struct gantry_error **err) GANTRY_WUR;

/* Read every nested index below top into n->read. Errors as image_nest_select's. */
int image_nest_read_all(struct image_nest *n, const struct gantry_oci_index *top,
                        struct gantry_error **err) GANTRY_WUR;

#endif
