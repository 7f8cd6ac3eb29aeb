/*
 * Indexes inside indexes for the copy engine: the walk itself (depth cap,
 * cycles, best match, ties) is image/nest.c, shared with local selection;
 * here only the remote error is worded.
 */
#include "copy_internal.h"

#include "util.h"

int copy_nest_select(struct image_nest *n, const struct gantry_oci_index *top,
                     const struct gantry_platform *want, struct image_nest_pick *out,
                     struct gantry_error **err)
{
    if (image_nest_select(n, top, want, false, out, err) < 0)
        return -1;
    if (!out->entry) {
        _cleanup_free_ char *s = gantry_platform_format(want);
        return gantry_error_set(err, GANTRY_E_NOT_FOUND, 0, "no %s image in %s (it has: %s)", s,
                                n->name, out->seen.len ? out->seen.data : "no runnable platform");
    }
    return 0;
}
