/*
 * Tar reader: libarchive's tar format (ustar, pax, GNU, v7) fed by the
 * decompressing source, with every entry checked against the layer rules.
 * libarchive already refuses special headers (pax, GNU long names) over
 * 1 MiB before allocating them (T19) and bad header checksums (T22); a tar
 * that simply stops after an entry it reports as a clean end, so the
 * end-of-archive marker is checked here.
 */
#include <archive.h>
#include <archive_entry.h>

#include "layer_internal.h"
#include "util.h"

struct gantry_layer_reader {
    struct archive *a;
    struct gantry_layer_source *src;
    struct gantry_error *src_err; /* the source's error, reported over libarchive's */
    struct archive_entry *cur;    /* owned by libarchive, NULL between entries */
    uint64_t entries;
    char *progress_id;
    const char *progress_action;
    uint64_t progress_total;
    uint64_t progress_next;
    bool done;
    bool failed;
};

static void reader_progress(struct gantry_layer_reader *r, bool finished)
{
    uint64_t in = gantry_layer_source_bytes_in(r->src);
    if (!r->progress_id || (!finished && in < r->progress_next))
        return;
    r->progress_next = in + LAYER_PROGRESS_STEP;
    gantry_progress(&(struct gantry_progress){
        .id = r->progress_id,
        .action = r->progress_action,
        .done = in,
        .total = r->progress_total,
        .finished = finished,
    });
}

static la_ssize_t reader_read_cb(struct archive *a, void *user, const void **buf)
{
    struct gantry_layer_reader *r = user;
    ssize_t n = gantry_layer_source_read(r->src, buf, &r->src_err);
    if (n < 0) {
        archive_set_error(a, EIO, "%s", r->src_err ? r->src_err->message : "read failed");
        return -1;
    }
    reader_progress(r, false);
    return n;
}

/*
 * Fail with the source's error when there is one (libarchive only saw a
 * failed read), else with libarchive's message, lowercased, after ctx.
 */
static int reader_fail(struct gantry_layer_reader *r, const char *ctx, struct gantry_error **err)
{
    r->failed = true;
    if (r->src_err) {
        if (err) {
            gantry_error_free(*err);
            *err = steal_pointer(&r->src_err);
        }
        return -1;
    }
    const char *msg = archive_error_string(r->a);
    if (!msg)
        msg = "unknown error";
    if (strcmp(msg, "Damaged tar archive") == 0)
        msg = "damaged tar archive (bad header checksum)";
    return gantry_error_set(err, GANTRY_E_PARSE, 0, "%s: %c%s", ctx,
                            *msg >= 'A' && *msg <= 'Z' ? *msg - 'A' + 'a' : *msg,
                            *msg ? msg + 1 : "");
}

static void reader_open_error(struct gantry_layer_reader *r, struct gantry_error **err)
{
    if (r->src_err)
        reader_fail(r, "", err);
    else if (gantry_layer_source_bytes_out(r->src) == 0)
        gantry_error_set(err, GANTRY_E_PARSE, 0, "empty layer stream: not a tar archive");
    else
        gantry_error_set(err, GANTRY_E_PARSE, 0,
                         "not a tar archive (unrecognised or damaged first header)");
}

static void reader_freep(struct gantry_layer_reader **r)
{
    gantry_layer_reader_free(*r);
}

struct gantry_layer_reader *layer_reader_open_src(struct gantry_layer_source *src,
                                                  const struct gantry_layer_opts *opts,
                                                  const char *action, struct gantry_error **err)
{
    _cleanup_locale_ locale_t old = layer_locale_enter();
    __attribute__((cleanup(reader_freep))) struct gantry_layer_reader *r = xcalloc(1, sizeof(*r));
    r->src = src;
    r->progress_action = action;
    if (opts && opts->progress_id) {
        r->progress_id = xstrdup(opts->progress_id);
        r->progress_total = opts->progress_total;
    }
    r->a = archive_read_new();
    if (!r->a)
        oom();
    archive_read_support_format_tar(r->a);
    if (archive_read_open(r->a, r, NULL, reader_read_cb, NULL) != ARCHIVE_OK) {
        reader_open_error(r, err);
        return NULL;
    }
    return steal_pointer(&r);
}

struct gantry_layer_reader *gantry_layer_reader_open(gantry_layer_read_fn fn, void *user,
                                                     const struct gantry_layer_opts *opts,
                                                     struct gantry_error **err)
{
    return layer_reader_open_src(gantry_layer_source_new(fn, user, opts), opts, "reading", err);
}

struct gantry_layer_reader *
gantry_layer_reader_open_fd(int fd, const struct gantry_layer_opts *opts, struct gantry_error **err)
{
    return layer_reader_open_src(gantry_layer_source_new_fd(fd, opts), opts, "reading", err);
}

void gantry_layer_reader_free(struct gantry_layer_reader *r)
{
    if (!r)
        return;
    if (r->a)
        archive_read_free(r->a);
    gantry_layer_source_free(r->src);
    gantry_error_free(r->src_err);
    free(r->progress_id);
    free(r);
}

uint64_t gantry_layer_reader_entries(const struct gantry_layer_reader *r)
{
    return r->entries;
}

static int reader_check_id(const char *path, const char *what, la_int64_t id,
                           struct gantry_error **err)
{
    if (id < 0 || id > (la_int64_t)UINT32_MAX)
        return gantry_error_set(err, GANTRY_E_PARSE, 0, "'%s': %s %lld out of range", path, what,
                                (long long)id);
    return 0;
}

static int reader_entry_type(struct archive_entry *ae, struct gantry_layer_entry *e,
                             struct gantry_error **err)
{
    const char *hardlink = archive_entry_hardlink(ae);
    if (hardlink) {
        e->type = GANTRY_LAYER_HARDLINK;
        e->link_target = hardlink;
        return layer_check_name("hardlink target", hardlink, err);
    }
    switch (archive_entry_filetype(ae)) {
    case AE_IFREG:
        e->type = GANTRY_LAYER_FILE;
        e->size = (uint64_t)archive_entry_size(ae);
        return 0;
    case AE_IFDIR:
        e->type = GANTRY_LAYER_DIR;
        return 0;
    case AE_IFLNK:
        e->type = GANTRY_LAYER_SYMLINK;
        e->link_target = archive_entry_symlink(ae);
        return layer_check_name("symlink target", e->link_target, err);
    case AE_IFCHR:
    case AE_IFBLK:
        e->type = archive_entry_filetype(ae) == AE_IFCHR ? GANTRY_LAYER_CHAR : GANTRY_LAYER_BLOCK;
        e->devmajor = (uint32_t)archive_entry_rdevmajor(ae);
        e->devminor = (uint32_t)archive_entry_rdevminor(ae);
        return 0;
    case AE_IFIFO:
        e->type = GANTRY_LAYER_FIFO;
        return 0;
    default:
        return gantry_error_set(err, GANTRY_E_UNSUPPORTED, 0,
                                "'%s': unsupported tar entry type (mode 0%o)",
                                archive_entry_pathname(ae), (unsigned)archive_entry_mode(ae));
    }
}

static int reader_entry_fill(struct gantry_layer_reader *r, struct gantry_layer_entry *e,
                             struct gantry_error **err)
{
    struct archive_entry *ae = r->cur;
    const char *path = archive_entry_pathname(ae);
    enum gantry_whiteout wh;
    if (layer_check_name("path", path, err) < 0 ||
        gantry_layer_whiteout_classify(path, strlen(path), &wh, err) < 0)
        return -1;
    if (archive_entry_sparse_count(ae) > 0)
        return gantry_error_set(err, GANTRY_E_UNSUPPORTED, 0,
                                "'%s': GNU sparse files are not supported in layers", path);
    if (reader_check_id(path, "uid", archive_entry_uid(ae), err) < 0 ||
        reader_check_id(path, "gid", archive_entry_gid(ae), err) < 0)
        return -1;
    memset(e, 0, sizeof(*e));
    e->path = path;
    if (reader_entry_type(ae, e, err) < 0)
        return -1;
    e->mode = (uint32_t)archive_entry_perm(ae) & 07777;
    e->uid = (uint32_t)archive_entry_uid(ae);
    e->gid = (uint32_t)archive_entry_gid(ae);
    e->mtime = (int64_t)archive_entry_mtime(ae);
    return 0;
}

/*
 * libarchive reports a clean end both for the end-of-archive marker and for
 * input that simply stops after an entry: only the marker consumes bytes.
 * Then drain the source so gzip trailers and trailing data are checked.
 */
static int reader_end(struct gantry_layer_reader *r, la_int64_t before, struct gantry_error **err)
{
    r->cur = NULL;
    if (archive_filter_bytes(r->a, -1) == before) {
        r->failed = true;
        return gantry_error_set(err, GANTRY_E_PARSE, 0,
                                "truncated tar archive: end-of-archive marker missing after "
                                "%llu entries",
                                (unsigned long long)r->entries);
    }
    const void *data;
    ssize_t n;
    while ((n = gantry_layer_source_read(r->src, &data, err)) > 0)
        ;
    if (n < 0) {
        r->failed = true;
        return -1;
    }
    r->done = true;
    reader_progress(r, true);
    return 0;
}

int gantry_layer_reader_next(struct gantry_layer_reader *r, struct gantry_layer_entry *e,
                             struct gantry_error **err)
{
    _cleanup_locale_ locale_t old = layer_locale_enter();
    if (r->failed)
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0,
                                "layer reader used after an earlier error");
    if (r->done)
        return 0;
    if (r->cur && archive_read_data_skip(r->a) != ARCHIVE_OK) {
        _cleanup_free_ char *ctx = xasprintf("'%s'", archive_entry_pathname(r->cur));
        return reader_fail(r, ctx, err);
    }
    la_int64_t before = archive_filter_bytes(r->a, -1);
    int rc = archive_read_next_header(r->a, &r->cur);
    if (rc == ARCHIVE_EOF)
        return reader_end(r, before, err);
    if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) {
        r->cur = NULL;
        _cleanup_free_ char *ctx = xasprintf("tar entry %llu", (unsigned long long)r->entries + 1);
        return reader_fail(r, ctx, err);
    }
    if (rc == ARCHIVE_WARN)
        gantry_log(GANTRY_LOG_WARN, "tar entry '%s': %s", archive_entry_pathname(r->cur),
                   archive_error_string(r->a));
    if (reader_entry_fill(r, e, err) < 0) {
        r->failed = true;
        return -1;
    }
    r->entries++;
    return 1;
}

static int reader_check_entry(const struct gantry_layer_reader *r, struct gantry_error **err)
{
    if (r->failed)
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0,
                                "layer reader used after an earlier error");
    if (!r->cur)
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0, "no current tar entry");
    return 0;
}

ssize_t gantry_layer_reader_read_data(struct gantry_layer_reader *r, void *buf, size_t len,
                                      struct gantry_error **err)
{
    _cleanup_locale_ locale_t old = layer_locale_enter();
    if (reader_check_entry(r, err) < 0)
        return -1;
    la_ssize_t n = archive_read_data(r->a, buf, len);
    if (n < 0) {
        _cleanup_free_ char *ctx = xasprintf("'%s'", archive_entry_pathname(r->cur));
        return reader_fail(r, ctx, err);
    }
    return n;
}

struct archive_entry *layer_reader_archive_entry(struct gantry_layer_reader *r)
{
    return r->cur;
}

int layer_reader_data_block(struct gantry_layer_reader *r, const void **buf, size_t *len,
                            struct gantry_error **err)
{
    _cleanup_locale_ locale_t old = layer_locale_enter();
    if (reader_check_entry(r, err) < 0)
        return -1;
    la_int64_t offset;
    int rc = archive_read_data_block(r->a, buf, len, &offset);
    if (rc == ARCHIVE_EOF)
        return 0;
    if (rc == ARCHIVE_OK)
        return 1;
    _cleanup_free_ char *ctx = xasprintf("'%s'", archive_entry_pathname(r->cur));
    return reader_fail(r, ctx, err);
}
