/*
 * Tar writer: libarchive's pax-restricted format (plain ustar unless a name,
 * id or time needs a pax header) written unblocked, so the stream ends right
 * after the two zero blocks, straight into a sink.
 */
#include <archive.h>
#include <archive_entry.h>

#include "layer_internal.h"
#include "util.h"

struct gantry_layer_tar_writer {
    struct archive *a;
    struct gantry_layer_sink *sink;
    struct gantry_error *sink_err; /* the sink's error, reported over libarchive's */
    struct archive_entry *ent;
    unsigned char *buf;
    bool failed;
    bool finished;
    bool discard; /* freeing an unfinished writer: drop libarchive's end marker */
};

static la_ssize_t writer_write_cb(struct archive *a, void *user, const void *buf, size_t len)
{
    struct gantry_layer_tar_writer *w = user;
    if (w->discard)
        return (la_ssize_t)len;
    if (gantry_layer_sink_write(w->sink, buf, len, &w->sink_err) < 0) {
        archive_set_error(a, EIO, "%s", w->sink_err ? w->sink_err->message : "write failed");
        return -1;
    }
    return (la_ssize_t)len;
}

struct gantry_layer_tar_writer *gantry_layer_tar_writer_new(struct gantry_layer_sink *sink)
{
    _cleanup_locale_ locale_t old = layer_locale_enter();
    struct gantry_layer_tar_writer *w = xcalloc(1, sizeof(*w));
    w->sink = sink;
    w->a = archive_write_new();
    w->ent = archive_entry_new();
    if (!w->a || !w->ent)
        oom();
    /* Only allocation can fail in these calls, and libarchive aborts then. */
    archive_write_set_format_pax_restricted(w->a);
    archive_write_set_bytes_per_block(w->a, 0);
    if (archive_write_open(w->a, w, NULL, writer_write_cb, NULL) != ARCHIVE_OK)
        w->failed = true;
    return w;
}

void gantry_layer_tar_writer_free(struct gantry_layer_tar_writer *w)
{
    if (!w)
        return;
    _cleanup_locale_ locale_t old = layer_locale_enter();
    w->discard = true;
    archive_write_free(w->a);
    archive_entry_free(w->ent);
    gantry_error_free(w->sink_err);
    free(w->buf);
    free(w);
}

static int writer_check(const struct gantry_layer_tar_writer *w, struct gantry_error **err)
{
    if (w->failed)
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0,
                                "tar writer used after an earlier error");
    if (w->finished)
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0, "tar writer already finished");
    return 0;
}

/* Fail with the sink's error if it caused this, else libarchive's message. */
static int writer_fail(struct gantry_layer_tar_writer *w, const char *path,
                       struct gantry_error **err)
{
    w->failed = true;
    if (w->sink_err) {
        if (err) {
            gantry_error_free(*err);
            *err = steal_pointer(&w->sink_err);
        }
        return -1;
    }
    const char *msg = archive_error_string(w->a);
    if (!msg)
        msg = "unknown error";
    if (!path)
        return gantry_error_set(err, GANTRY_E_INTERNAL, 0, "write tar data: %s", msg);
    return gantry_error_set(err, GANTRY_E_INTERNAL, 0, "write tar entry '%s': %s", path, msg);
}

int layer_tar_writer_header(struct gantry_layer_tar_writer *w, struct archive_entry *ae,
                            struct gantry_error **err)
{
    _cleanup_locale_ locale_t old = layer_locale_enter();
    if (writer_check(w, err) < 0)
        return -1;
    /* WARN: a name that is not UTF-8 went out as hdrcharset=BINARY, intact. */
    int rc = archive_write_header(w->a, ae);
    if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN)
        return writer_fail(w, archive_entry_pathname(ae), err);
    return 0;
}

int layer_tar_writer_data(struct gantry_layer_tar_writer *w, const void *data, size_t len,
                          struct gantry_error **err)
{
    if (writer_check(w, err) < 0)
        return -1;
    la_ssize_t n = archive_write_data(w->a, data, len);
    if (n < 0 || (size_t)n != len)
        return writer_fail(w, NULL, err);
    return 0;
}

/* Fill w->ent from meta, the parts every entry type shares. */
static int writer_entry(struct gantry_layer_tar_writer *w, const struct gantry_layer_entry *meta,
                        unsigned filetype, struct gantry_error **err)
{
    enum gantry_whiteout wh;
    if (layer_check_name("path", meta->path, err) < 0 ||
        gantry_layer_whiteout_classify(meta->path, strlen(meta->path), &wh, err) < 0)
        return -1;
    archive_entry_clear(w->ent);
    archive_entry_copy_pathname(w->ent, meta->path);
    archive_entry_set_filetype(w->ent, filetype);
    archive_entry_set_perm(w->ent, (mode_t)(meta->mode & 07777));
    archive_entry_set_uid(w->ent, meta->uid);
    archive_entry_set_gid(w->ent, meta->gid);
    archive_entry_set_mtime(w->ent, (time_t)meta->mtime, 0);
    archive_entry_set_size(w->ent, 0);
    return 0;
}

static int writer_read_exact(struct gantry_layer_tar_writer *w,
                             const struct gantry_layer_entry *meta, int fd,
                             struct gantry_error **err)
{
    uint64_t left = meta->size;
    while (left > 0) {
        size_t want = left < LAYER_CHUNK ? (size_t)left : LAYER_CHUNK;
        ssize_t n = read(fd, w->buf, want);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return gantry_error_set(err, GANTRY_E_IO, errno, "read '%s'", meta->path);
        if (n == 0)
            return gantry_error_set(err, GANTRY_E_IO, 0,
                                    "file '%s' changed size while reading: ended after %llu of "
                                    "%llu bytes",
                                    meta->path, (unsigned long long)(meta->size - left),
                                    (unsigned long long)meta->size);
        if (layer_tar_writer_data(w, w->buf, (size_t)n, err) < 0)
            return -1;
        left -= (uint64_t)n;
    }
    return 0;
}

/* The header promised meta->size bytes: a file that grew is an error too. */
static int writer_check_eof(const struct gantry_layer_entry *meta, int fd,
                            struct gantry_error **err)
{
    char c;
    ssize_t n;
    do
        n = read(fd, &c, 1);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return gantry_error_set(err, GANTRY_E_IO, errno, "read '%s'", meta->path);
    if (n > 0)
        return gantry_error_set(err, GANTRY_E_IO, 0,
                                "file '%s' changed size while reading: more than %llu bytes",
                                meta->path, (unsigned long long)meta->size);
    return 0;
}

int gantry_layer_tar_writer_add_file(struct gantry_layer_tar_writer *w,
                                     const struct gantry_layer_entry *meta, int fd,
                                     struct gantry_error **err)
{
    if (writer_check(w, err) < 0 || writer_entry(w, meta, AE_IFREG, err) < 0)
        return -1;
    archive_entry_set_size(w->ent, (la_int64_t)meta->size);
    if (layer_tar_writer_header(w, w->ent, err) < 0)
        return -1;
    if (!w->buf)
        w->buf = xmalloc(LAYER_CHUNK);
    if (writer_read_exact(w, meta, fd, err) < 0 || writer_check_eof(meta, fd, err) < 0) {
        w->failed = true;
        return -1;
    }
    return 0;
}

int gantry_layer_tar_writer_add_dir(struct gantry_layer_tar_writer *w,
                                    const struct gantry_layer_entry *meta,
                                    struct gantry_error **err)
{
    if (writer_check(w, err) < 0 || writer_entry(w, meta, AE_IFDIR, err) < 0)
        return -1;
    return layer_tar_writer_header(w, w->ent, err);
}

int gantry_layer_tar_writer_add_symlink(struct gantry_layer_tar_writer *w,
                                        const struct gantry_layer_entry *meta,
                                        struct gantry_error **err)
{
    if (writer_check(w, err) < 0 || writer_entry(w, meta, AE_IFLNK, err) < 0 ||
        layer_check_name("symlink target", meta->link_target, err) < 0)
        return -1;
    archive_entry_copy_symlink(w->ent, meta->link_target);
    return layer_tar_writer_header(w, w->ent, err);
}

int gantry_layer_tar_writer_add_hardlink(struct gantry_layer_tar_writer *w,
                                         const struct gantry_layer_entry *meta,
                                         struct gantry_error **err)
{
    if (writer_check(w, err) < 0 || writer_entry(w, meta, AE_IFREG, err) < 0 ||
        layer_check_name("hardlink target", meta->link_target, err) < 0)
        return -1;
    archive_entry_copy_hardlink(w->ent, meta->link_target);
    return layer_tar_writer_header(w, w->ent, err);
}

int gantry_layer_tar_writer_add_special(struct gantry_layer_tar_writer *w,
                                        const struct gantry_layer_entry *meta,
                                        struct gantry_error **err)
{
    unsigned type;
    if (layer_check_name("path", meta->path, err) < 0)
        return -1;
    if (meta->type == GANTRY_LAYER_CHAR)
        type = AE_IFCHR;
    else if (meta->type == GANTRY_LAYER_BLOCK)
        type = AE_IFBLK;
    else if (meta->type == GANTRY_LAYER_FIFO)
        type = AE_IFIFO;
    else
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0, "'%s': not a device or fifo entry",
                                meta->path);
    if (writer_check(w, err) < 0 || writer_entry(w, meta, type, err) < 0)
        return -1;
    if (type != AE_IFIFO) {
        archive_entry_set_rdevmajor(w->ent, meta->devmajor);
        archive_entry_set_rdevminor(w->ent, meta->devminor);
    }
    return layer_tar_writer_header(w, w->ent, err);
}

/* "a/b" → "a/.wh.b"; opaque: "a" → "a/.wh..wh..opq". NULL if path is unusable. */
static char *whiteout_name(const char *path, bool opaque)
{
    size_t len = strlen(path);
    while (len > 0 && path[len - 1] == '/')
        len--;
    if (opaque)
        return len == 0 ? xstrdup(".wh..wh..opq") : xasprintf("%.*s/.wh..wh..opq", (int)len, path);
    size_t base = len;
    while (base > 0 && path[base - 1] != '/')
        base--;
    if (base == len)
        return NULL;
    return xasprintf("%.*s.wh.%.*s", (int)base, path, (int)(len - base), path + base);
}

int gantry_layer_tar_writer_add_whiteout(struct gantry_layer_tar_writer *w, const char *path,
                                         bool opaque, int64_t mtime, struct gantry_error **err)
{
    _cleanup_free_ char *name = whiteout_name(path, opaque);
    if (!name)
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0, "cannot white out '%s'", path);
    struct gantry_layer_entry meta = {.path = name, .mode = 0, .mtime = mtime};
    if (writer_check(w, err) < 0 || writer_entry(w, &meta, AE_IFREG, err) < 0)
        return -1;
    return layer_tar_writer_header(w, w->ent, err);
}

int gantry_layer_tar_writer_finish(struct gantry_layer_tar_writer *w, struct gantry_error **err)
{
    _cleanup_locale_ locale_t old = layer_locale_enter();
    if (writer_check(w, err) < 0)
        return -1;
    if (archive_write_close(w->a) != ARCHIVE_OK)
        return writer_fail(w, "end-of-archive marker", err);
    w->finished = true;
    return 0;
}
