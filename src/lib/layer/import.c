/*
 * Import: a rootfs tarball in, a layer blob out, in one pass. Each entry is
 * read and validated by the reader, re-written by the tar writer (pax
 * restricted, atime and ctime dropped so the diffID depends only on the
 * content) and compressed by the sink; data blocks go from the source's
 * buffer to the sink without an intermediate copy.
 */
#include <archive.h>
#include <archive_entry.h>

#include "layer_internal.h"
#include "util.h"

static void readerp_free(struct gantry_layer_reader **r)
{
    gantry_layer_reader_free(*r);
}

static void sinkp_free(struct gantry_layer_sink **s)
{
    gantry_layer_sink_free(*s);
}

static void writerp_free(struct gantry_layer_tar_writer **w)
{
    gantry_layer_tar_writer_free(*w);
}

static int import_entry(struct gantry_layer_reader *r, struct gantry_layer_tar_writer *w,
                        const struct gantry_layer_entry *e, struct gantry_error **err)
{
    struct archive_entry *ae = layer_reader_archive_entry(r);
    archive_entry_unset_atime(ae);
    archive_entry_unset_ctime(ae);
    archive_entry_unset_birthtime(ae);
    /* A pax hard link may carry data; ours never do, the target has it. */
    if (e->type != GANTRY_LAYER_FILE)
        archive_entry_set_size(ae, 0);
    if (layer_tar_writer_header(w, ae, err) < 0)
        return -1;
    if (e->type != GANTRY_LAYER_FILE)
        return 0;
    const void *buf;
    size_t len;
    int rc;
    while ((rc = layer_reader_data_block(r, &buf, &len, err)) == 1)
        if (layer_tar_writer_data(w, buf, len, err) < 0)
            return gantry_error_prefix(err, "'%s'", e->path);
    return rc;
}

int gantry_layer_from_tar(int in_fd, enum gantry_compression c, gantry_layer_write_fn out,
                          void *user, const struct gantry_layer_opts *opts,
                          struct gantry_layer_result *res, struct gantry_error **err)
{
    /* A rootfs tarball, not a layer blob: bzip2 and xz too, as docker import. */
    struct gantry_layer_opts o = opts ? *opts : (struct gantry_layer_opts){0};
    o.archive = true;
    __attribute__((cleanup(readerp_free))) struct gantry_layer_reader *r =
        layer_reader_open_src(gantry_layer_source_new_fd(in_fd, &o), &o, "importing", err);
    if (!r)
        return -1;
    __attribute__((cleanup(sinkp_free))) struct gantry_layer_sink *s =
        gantry_layer_sink_new(c, out, user);
    __attribute__((cleanup(writerp_free))) struct gantry_layer_tar_writer *w =
        gantry_layer_tar_writer_new(s);
    struct gantry_layer_entry e;
    int rc;
    while ((rc = gantry_layer_reader_next(r, &e, err)) == 1)
        if (import_entry(r, w, &e, err) < 0)
            return -1;
    if (rc < 0 || gantry_layer_tar_writer_finish(w, err) < 0 ||
        gantry_layer_sink_finish(s, res, err) < 0)
        return -1;
    res->entries = gantry_layer_reader_entries(r);
    return 0;
}
