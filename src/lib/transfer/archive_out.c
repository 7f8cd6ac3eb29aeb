/*
 * The tar stream of `save`: the layer module's deterministic tar writer over
 * an uncompressing sink, so libarchive stays in layer/. Entries are owned by
 * root, dated the epoch (equal images give equal archives), and each path
 * is written once however many images share it.
 */
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "transfer_internal.h"

#include "util.h"

struct transfer_out {
    struct gantry_layer_sink *sink;
    struct gantry_layer_tar_writer *tw;
    char **paths; /* written so far */
    size_t n_paths;
};

struct transfer_out *transfer_out_new(gantry_layer_write_fn out, void *user)
{
    struct transfer_out *o = xcalloc(1, sizeof(*o));
    o->sink = gantry_layer_sink_new(GANTRY_COMPRESSION_NONE, out, user);
    o->tw = gantry_layer_tar_writer_new(o->sink);
    return o;
}

void transfer_out_free(struct transfer_out *o)
{
    if (!o)
        return;
    gantry_layer_tar_writer_free(o->tw);
    gantry_layer_sink_free(o->sink);
    for (size_t i = 0; i < o->n_paths; i++)
        free(o->paths[i]);
    free(o->paths);
    free(o);
}

bool transfer_out_has(const struct transfer_out *o, const char *path)
{
    for (size_t i = 0; i < o->n_paths; i++)
        if (strcmp(o->paths[i], path) == 0)
            return true;
    return false;
}

static void out_remember(struct transfer_out *o, const char *path)
{
    o->paths = xrealloc(o->paths, (o->n_paths + 1) * sizeof(*o->paths));
    o->paths[o->n_paths++] = xstrdup(path);
}

/* Directory entries for every parent of path not written yet ("a/", "a/b/"). */
static int out_parents(struct transfer_out *o, const char *path, struct gantry_error **err)
{
    for (const char *s = strchr(path, '/'); s; s = strchr(s + 1, '/')) {
        _cleanup_free_ char *dir = xstrndup(path, (size_t)(s - path + 1));
        if (transfer_out_has(o, dir))
            continue;
        struct gantry_layer_entry e = {.path = dir, .type = GANTRY_LAYER_DIR, .mode = 0755};
        if (gantry_layer_tar_writer_add_dir(o->tw, &e, err) < 0)
            return -1;
        out_remember(o, dir);
    }
    return 0;
}

int transfer_out_add_fd(struct transfer_out *o, const char *path, int fd, uint64_t size,
                        struct gantry_error **err)
{
    if (transfer_out_has(o, path))
        return 0;
    if (out_parents(o, path, err) < 0)
        return -1;
    struct gantry_layer_entry e = {
        .path = path, .type = GANTRY_LAYER_FILE, .mode = 0644, .size = size};
    if (gantry_layer_tar_writer_add_file(o->tw, &e, fd, err) < 0)
        return -1;
    out_remember(o, path);
    return 0;
}

int transfer_out_add_bytes(struct transfer_out *o, const char *path, const void *data, size_t len,
                           struct gantry_error **err)
{
    if (transfer_out_has(o, path))
        return 0;
    /* The tar writer takes file data from an fd: hand it an anonymous file. */
    _cleanup_close_ int fd = memfd_create("gantry-save", MFD_CLOEXEC);
    if (fd < 0)
        return gantry_error_set(err, GANTRY_E_IO, errno, "create a memory file for '%s'", path);
    if (gantry_write_all(fd, data, len) < 0)
        return gantry_error_set(err, GANTRY_E_IO, errno, "write '%s'", path);
    if (lseek(fd, 0, SEEK_SET) < 0)
        return gantry_error_set(err, GANTRY_E_IO, errno, "seek '%s'", path);
    return transfer_out_add_fd(o, path, fd, len, err);
}

int transfer_out_finish(struct transfer_out *o, struct gantry_error **err)
{
    struct gantry_layer_result res;
    if (gantry_layer_tar_writer_finish(o->tw, err) < 0 ||
        gantry_layer_sink_finish(o->sink, &res, err) < 0)
        return -1;
    return 0;
}

int transfer_write_fd(void *user, const void *data, size_t len, struct gantry_error **err)
{
    if (gantry_write_all(*(int *)user, data, len) < 0)
        return gantry_error_set(err, GANTRY_E_IO, errno, "write archive");
    return 0;
}

int transfer_scratch_open(const char *dir, struct gantry_error **err)
{
    if (!dir || !*dir)
        dir = getenv("TMPDIR");
    if (!dir || !*dir)
        dir = "/tmp";
    int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0)
        return fd;
    /* Filesystems without O_TMPFILE: a named file, unlinked at once. */
    _cleanup_free_ char *path = xasprintf("%s/.gantry-scratch-XXXXXX", dir);
    fd = mkostemp(path, O_CLOEXEC);
    if (fd < 0)
        return gantry_error_set(err, GANTRY_E_IO, errno, "create a scratch file in '%s'", dir);
    unlink(path);
    return fd;
}
