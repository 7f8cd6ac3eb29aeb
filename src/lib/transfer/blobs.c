/* Store blobs as save and load use them: paths, small documents, streams. */
#include <gantry/store.h>

#include "transfer_internal.h"

#include "util.h"

char *transfer_blob_path(const char *digest)
{
    const char *colon = strchr(digest, ':');
    return xasprintf("blobs/%.*s/%s", (int)(colon - digest), digest, colon + 1);
}

int transfer_read_doc(struct gantry_store *s, const char *digest, struct gantry_buf *out,
                      struct gantry_error **err)
{
    gantry_buf_release(out);
    gantry_buf_init(out, GANTRY_MANIFEST_MAX);
    return gantry_store_read_blob(s, digest, out, err);
}

ssize_t transfer_read_store_blob(void *user, void *buf, size_t len, struct gantry_error **err)
{
    return gantry_store_blob_reader_read(user, buf, len, err);
}

void transfer_progress(const char *action, const char *digest, uint64_t done, uint64_t total,
                       bool finished)
{
    /* Docker's short ids: the first 12 hex digits. */
    const char *colon = digest ? strchr(digest, ':') : NULL;
    char id[13];
    snprintf(id, sizeof(id), "%s", colon ? colon + 1 : (digest ? digest : "archive"));
    gantry_progress(&(struct gantry_progress){
        .id = id, .action = action, .done = done, .total = total, .finished = finished});
}
