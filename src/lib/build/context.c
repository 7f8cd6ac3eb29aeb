/*
 * `gantry build -`: the build context read from a stream. A tar (plain,
 * gzip or zstd, read by the layer module) is extracted into a private
 * temporary directory; anything else is a Dockerfile with an empty
 * context, as docker does. The layer module's safe extractor writes it,
 * so no entry, link or crafted path can write outside the context.
 */
#include <fcntl.h>
#include <sys/stat.h>

#include "build/build_internal.h"

#define TAR_BLOCK 512
#define DOCKERFILE_MAX (16u << 20)

/* The stream with its first block read ahead (replayed to the reader). */
struct peek_src {
    int fd;
    unsigned char head[TAR_BLOCK];
    size_t n_head;
    size_t off;
};

static ssize_t peek_read(void *user, void *buf, size_t len, struct gantry_error **err)
{
    struct peek_src *p = user;
    if (p->off < p->n_head) {
        size_t n = p->n_head - p->off < len ? p->n_head - p->off : len;
        memcpy(buf, p->head + p->off, n);
        p->off += n;
        return (ssize_t)n;
    }
    ssize_t n;
    do
        n = read(p->fd, buf, len);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return gantry_error_set(err, GANTRY_E_IO, errno, "read build context from stdin");
    return n;
}

static int read_head(struct peek_src *p, struct gantry_error **err)
{
    while (p->n_head < TAR_BLOCK) {
        ssize_t n = read(p->fd, p->head + p->n_head, TAR_BLOCK - p->n_head);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return gantry_error_set(err, GANTRY_E_IO, errno, "read build context from stdin");
        if (n == 0)
            break;
        p->n_head += (size_t)n;
    }
    return 0;
}

/* A tar header block: its checksum field matches (or it is all zeros: an empty tar). */
static bool is_tar_header(const unsigned char *h)
{
    unsigned long sum = 0, want = 0;
    bool zero = true;
    for (size_t i = 0; i < TAR_BLOCK; i++) {
        sum += i >= 148 && i < 156 ? ' ' : h[i];
        zero = zero && h[i] == 0;
    }
    if (zero)
        return true;
    size_t i = 148;
    while (i < 156 && h[i] == ' ')
        i++;
    if (i == 156 || h[i] < '0' || h[i] > '7')
        return false;
    for (; i < 156 && h[i] >= '0' && h[i] <= '7'; i++)
        want = want * 8 + (unsigned long)(h[i] - '0');
    return want == sum;
}

/* 1 for a tar (compressed ones included), 0 for anything else, -1 on error. */
static int stream_is_tar(const struct peek_src *p, struct gantry_error **err)
{
    enum gantry_compression c = GANTRY_COMPRESSION_NONE;
    if (gantry_compression_detect(p->head, p->n_head, &c, err) < 0)
        return -1;
    if (c != GANTRY_COMPRESSION_NONE)
        return 1;
    return p->n_head == TAR_BLOCK && is_tar_header(p->head) ? 1 : 0;
}

/* ---- extraction ---- */

static void cleanup_readerp(struct gantry_layer_reader **r)
{
    gantry_layer_reader_free(*r);
}

static void cleanup_extractorp(struct gantry_layer_extractor **x)
{
    gantry_layer_extractor_free(*x);
}

/*
 * The layer module's extractor, strict as a context needs: a name or hard
 * link leaving the context and a symbolic link standing for a directory
 * are errors, `.wh.` names are plain files.
 */
static int extract_tar(struct peek_src *p, const char *dir, struct gantry_error **err)
{
    const struct gantry_layer_extract_opts o = {
        .flags = GANTRY_LAYER_EXTRACT_STRICT | GANTRY_LAYER_EXTRACT_NO_WHITEOUTS |
                 GANTRY_LAYER_EXTRACT_MTIMES,
        .root_name = "context",
    };
    __attribute__((cleanup(cleanup_extractorp))) struct gantry_layer_extractor *x =
        gantry_layer_extractor_new(dir, &o, err);
    if (!x)
        return -1;
    __attribute__((cleanup(cleanup_readerp))) struct gantry_layer_reader *r =
        gantry_layer_reader_open(peek_read, p, NULL, err);
    if (!r || gantry_layer_extract_layer(x, r, err) < 0)
        return gantry_error_prefix(err, "build context from stdin");
    return 0;
}

/* Not a tar: the whole stream is the Dockerfile (16 MiB at most). */
static int write_dockerfile(struct peek_src *p, const char *path, struct gantry_error **err)
{
    _cleanup_buf_ struct gantry_buf b = GANTRY_BUF_INIT_CAP(DOCKERFILE_MAX);
    if (gantry_buf_add(&b, p->head, p->n_head) < 0 || gantry_buf_read_fd(&b, p->fd, err) < 0)
        return gantry_error_prefix(err, "read Dockerfile from stdin");
    _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0 || gantry_write_all(fd, b.data, b.len) < 0)
        return gantry_error_set(err, GANTRY_E_IO, errno, "write '%s'", path);
    return 0;
}

static int make_tmpdir(const char *parent, struct gantry_build_stdin *c, struct gantry_error **err)
{
    if (!parent)
        parent = getenv("TMPDIR");
    if (!parent || !*parent)
        parent = "/tmp";
    c->dir = xasprintf("%s/gantry-context-XXXXXX", parent);
    if (!mkdtemp(c->dir)) {
        int e = errno;
        free(steal_pointer(&c->dir));
        return gantry_error_set(err, GANTRY_E_IO, e, "create a temporary directory in '%s'",
                                parent);
    }
    c->context = xasprintf("%s/context", c->dir);
    if (mkdir(c->context, 0755) < 0)
        return gantry_error_set(err, GANTRY_E_IO, errno, "mkdir '%s'", c->context);
    return 0;
}

int gantry_build_stdin_read(int fd, const char *tmp_parent, struct gantry_build_stdin *out,
                            struct gantry_error **err)
{
    memset(out, 0, sizeof *out);
    __attribute__((cleanup(gantry_build_stdin_release))) struct gantry_build_stdin c = {0};
    struct peek_src p = {.fd = fd};
    if (make_tmpdir(tmp_parent, &c, err) < 0 || read_head(&p, err) < 0)
        return -1;
    int tar = stream_is_tar(&p, err);
    if (tar < 0)
        return gantry_error_prefix(err, "build context from stdin");
    if (tar) {
        if (extract_tar(&p, c.context, err) < 0)
            return -1;
    } else {
        c.dockerfile = xasprintf("%s/Dockerfile", c.dir);
        if (write_dockerfile(&p, c.dockerfile, err) < 0)
            return -1;
    }
    *out = c;
    memset(&c, 0, sizeof c);
    return 0;
}

void gantry_build_stdin_release(struct gantry_build_stdin *c)
{
    if (!c)
        return;
    if (c->dir)
        build_rm_rf(c->dir);
    free(c->dir);
    free(c->context);
    free(c->dockerfile);
    memset(c, 0, sizeof *c);
}
