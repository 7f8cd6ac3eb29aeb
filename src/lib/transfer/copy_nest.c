/*
 * Indexes inside indexes for the copy engine: the walk itself (depth cap,
 * cycles, best match, ties) is image/nest.c, shared with local selection;
 * here it reads through the copy end's fetch and words the remote error.
 */
#include <limits.h>

#include "copy_internal.h"
#include "image/image_nest.h"

#include "util.h"

_Static_assert(COPY_NEST_MAX == IMAGE_NEST_MAX, "one nesting limit for local and remote");

void copy_nest_release(struct copy_nest *n)
{
    for (size_t i = 0; i < n->n_read; i++)
        gantry_oci_index_free(n->read[i]);
    free(n->read);
    n->read = NULL;
    n->n_read = 0;
}

/* image_nest_fetch_fn over the copy end's fetch: every nested index must be there. */
static int fetch_doc(void *user, const struct gantry_oci_descriptor *d, struct gantry_buf *out,
                     struct gantry_error **err)
{
    struct copy_nest *n = user;
    return n->fetch(n->user, d->digest, out, err) < 0 ? -1 : 1;
}

/* Lend n's indexes read so far to a walk; nest_return takes them back with those it read. */
static struct image_nest nest_borrow(struct copy_nest *n)
{
    struct image_nest in = {
        .fetch = fetch_doc, .user = n, .name = n->name, .read = n->read, .n_read = n->n_read};
    n->read = NULL;
    n->n_read = 0;
    return in;
}

static void nest_return(struct copy_nest *n, struct image_nest *in)
{
    n->read = in->read;
    n->n_read = in->n_read;
}

int copy_nest_select(struct copy_nest *n, const struct gantry_oci_index *top,
                     const struct gantry_platform *want, struct copy_pick *out,
                     struct gantry_error **err)
{
    *out = (struct copy_pick){.rank = INT_MAX};
    struct image_nest in = nest_borrow(n);
    _cleanup_nest_pick_ struct image_nest_pick pick = IMAGE_NEST_PICK_INIT;
    int rc = image_nest_select(&in, top, want, false, &pick, err);
    nest_return(n, &in);
    if (rc < 0)
        return -1;
    if (!pick.entry) {
        _cleanup_free_ char *s = gantry_platform_format(want);
        return gantry_error_set(err, GANTRY_E_NOT_FOUND, 0, "no %s image in %s (it has: %s)", s,
                                n->name, pick.seen.len ? pick.seen.data : "no runnable platform");
    }
    out->entry = pick.entry;
    out->rank = pick.rank;
    out->n_chain = pick.n_chain;
    for (size_t i = 0; i < pick.n_chain; i++)
        out->chain[i] = pick.chain[i];
    return 0;
}

int copy_nest_read_all(struct copy_nest *n, const struct gantry_oci_index *top,
                       struct gantry_error **err)
{
    struct image_nest in = nest_borrow(n);
    int rc = image_nest_read_all(&in, top, err);
    nest_return(n, &in);
    return rc;
}
