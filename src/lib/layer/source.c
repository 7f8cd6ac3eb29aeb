/*
 * Decompressing source: plain, gzip (ISA-L inflate) or zstd, detected from
 * the first bytes; for tarballs that are no layer blobs (opts->archive:
 * import, ADD) also bzip2 (libbz2) and xz (liblzma). Each codec is driven
 * here in the same chunked loop rather than through libarchive's read
 * filters, so the policies hold for all of them (docs/layer.md): the
 * uncompressed size may be capped (T24) and the cap counts decoded bytes,
 * decoder memory is bounded (zstd window, xz memlimit), and gzip members,
 * bzip2 streams and xz streams may follow one another as their tools allow,
 * but any other byte after the last one is an error (T25).
 */
#include <bzlib.h>
#include <isa-l.h>
#include <lzma.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "layer_internal.h"
#include "util.h"

/* Enough to tell xz (6 magic bytes) from anything else. */
#define DETECT_BYTES 6

struct gantry_layer_source {
    gantry_layer_read_fn fn;
    void *user;
    int fd;
    enum layer_codec codec;
    bool archive; /* bzip2 and xz allowed */
    bool detected;
    bool in_eof;
    bool failed;
    unsigned char *in;
    size_t in_len;
    size_t in_pos;
    unsigned char *out;
    struct inflate_state *gz;
    bool gz_member_done;
    bool gz_pending; /* the last inflate filled the output: more may be buffered */
    ZSTD_DStream *zd;
    size_t zstd_hint; /* last ZSTD_decompressStream result: 0 = frame complete */
    bz_stream *bz;
    bool bz_stream_done;
    lzma_stream *xz;
    bool xz_done;
    uint64_t bytes_in;
    uint64_t bytes_out;
    uint64_t max_out;
};

enum layer_codec layer_codec_detect(const void *data, size_t len)
{
    static const unsigned char gz[] = {0x1f, 0x8b};
    static const unsigned char zst[] = {0x28, 0xb5, 0x2f, 0xfd};
    static const unsigned char bz2[] = {'B', 'Z', 'h'};
    static const unsigned char xz[] = {0xfd, '7', 'z', 'X', 'Z', 0x00};
    const unsigned char *p = data;
    if (len >= sizeof(gz) && memcmp(p, gz, sizeof(gz)) == 0)
        return LAYER_CODEC_GZIP;
    if (len >= sizeof(zst) && memcmp(p, zst, sizeof(zst)) == 0)
        return LAYER_CODEC_ZSTD;
    /* "BZh" and the block size digit: a tar member named "BZh…" stays plain. */
    if (len > sizeof(bz2) && memcmp(p, bz2, sizeof(bz2)) == 0 && p[3] >= '1' && p[3] <= '9')
        return LAYER_CODEC_BZIP2;
    if (len >= sizeof(xz) && memcmp(p, xz, sizeof(xz)) == 0)
        return LAYER_CODEC_XZ;
    return LAYER_CODEC_NONE;
}

const char *layer_codec_name(enum layer_codec k)
{
    switch (k) {
    case LAYER_CODEC_GZIP:
        return "gzip";
    case LAYER_CODEC_ZSTD:
        return "zstd";
    case LAYER_CODEC_BZIP2:
        return "bzip2";
    case LAYER_CODEC_XZ:
        return "xz";
    case LAYER_CODEC_NONE:
        break;
    }
    return "none";
}

/* The layer compression of codec k; bzip2 and xz have none. */
static int codec_compression(enum layer_codec k, enum gantry_compression *c,
                             struct gantry_error **err)
{
    *c = GANTRY_COMPRESSION_NONE;
    if (k == LAYER_CODEC_BZIP2 || k == LAYER_CODEC_XZ)
        return gantry_error_set(err, GANTRY_E_UNSUPPORTED, 0, "unsupported compression '%s'",
                                layer_codec_name(k));
    if (k == LAYER_CODEC_GZIP)
        *c = GANTRY_COMPRESSION_GZIP;
    else if (k == LAYER_CODEC_ZSTD)
        *c = GANTRY_COMPRESSION_ZSTD;
    return 0;
}

int gantry_compression_detect(const void *data, size_t len, enum gantry_compression *c,
                              struct gantry_error **err)
{
    return codec_compression(layer_codec_detect(data, len), c, err);
}

static ssize_t fd_read(void *user, void *buf, size_t len, struct gantry_error **err)
{
    int fd = *(int *)user;
    for (;;) {
        ssize_t n = read(fd, buf, len);
        if (n >= 0)
            return n;
        if (errno != EINTR)
            return gantry_error_set(err, GANTRY_E_IO, errno, "read layer stream");
    }
}

struct gantry_layer_source *gantry_layer_source_new(gantry_layer_read_fn fn, void *user,
                                                    const struct gantry_layer_opts *opts)
{
    struct gantry_layer_source *src = xcalloc(1, sizeof(*src));
    src->fn = fn;
    src->user = user;
    src->fd = -1;
    src->in = xmalloc(LAYER_CHUNK);
    src->max_out = opts ? opts->max_uncompressed : 0;
    src->archive = opts && opts->archive;
    return src;
}

struct gantry_layer_source *gantry_layer_source_new_fd(int fd, const struct gantry_layer_opts *opts)
{
    struct gantry_layer_source *src = gantry_layer_source_new(fd_read, NULL, opts);
    src->fd = fd;
    src->user = &src->fd;
    return src;
}

void gantry_layer_source_free(struct gantry_layer_source *src)
{
    if (!src)
        return;
    free(src->in);
    free(src->out);
    free(src->gz);
    ZSTD_freeDStream(src->zd);
    if (src->bz)
        BZ2_bzDecompressEnd(src->bz);
    free(src->bz);
    if (src->xz)
        lzma_end(src->xz);
    free(src->xz);
    free(src);
}

uint64_t gantry_layer_source_bytes_in(const struct gantry_layer_source *src)
{
    return src->bytes_in;
}

uint64_t gantry_layer_source_bytes_out(const struct gantry_layer_source *src)
{
    return src->bytes_out;
}

/* Read more input after the unconsumed bytes (moved to the front). */
static int src_fill(struct gantry_layer_source *src, struct gantry_error **err)
{
    if (src->in_pos > 0) {
        memmove(src->in, src->in + src->in_pos, src->in_len - src->in_pos);
        src->in_len -= src->in_pos;
        src->in_pos = 0;
    }
    ssize_t n = src->fn(src->user, src->in + src->in_len, LAYER_CHUNK - src->in_len, err);
    if (n < 0)
        return -1;
    if (n == 0)
        src->in_eof = true;
    src->in_len += (size_t)n;
    src->bytes_in += (uint64_t)n;
    return 0;
}

static void bz_init(struct gantry_layer_source *src)
{
    /* small = 0: at most about 3.7 MB per stream, bounded by the format. */
    if (BZ2_bzDecompressInit(src->bz, 0, 0) != BZ_OK)
        oom();
    src->bz_stream_done = false;
}

static void xz_init(struct gantry_layer_source *src)
{
    *src->xz = (lzma_stream)LZMA_STREAM_INIT;
    /* The memlimit keeps a hostile header from claiming a huge dictionary. */
    if (lzma_stream_decoder(src->xz, GANTRY_LAYER_XZ_MEMLIMIT, 0) != LZMA_OK)
        oom();
    src->xz_done = false;
}

static void src_setup_decoder(struct gantry_layer_source *src)
{
    switch (src->codec) {
    case LAYER_CODEC_GZIP:
        src->gz = xcalloc(1, sizeof(*src->gz));
        isal_inflate_init(src->gz);
        src->gz->crc_flag = ISAL_GZIP;
        break;
    case LAYER_CODEC_ZSTD:
        src->zd = ZSTD_createDStream();
        if (!src->zd)
            oom();
        /* A bounded window keeps a hostile frame from claiming gigabytes. */
        ZSTD_DCtx_setParameter(src->zd, ZSTD_d_windowLogMax, GANTRY_LAYER_ZSTD_WINDOW_LOG_MAX);
        break;
    case LAYER_CODEC_BZIP2:
        src->bz = xcalloc(1, sizeof(*src->bz));
        bz_init(src);
        break;
    case LAYER_CODEC_XZ:
        src->xz = xcalloc(1, sizeof(*src->xz));
        xz_init(src);
        break;
    case LAYER_CODEC_NONE:
        return;
    }
    src->out = xmalloc(LAYER_CHUNK);
}

/* Read the first bytes and set up the decoder they call for (once). */
static int src_detect(struct gantry_layer_source *src, struct gantry_error **err)
{
    if (src->failed)
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0,
                                "layer source used after an earlier error");
    if (src->detected)
        return 0;
    while (!src->in_eof && src->in_len - src->in_pos < DETECT_BYTES) {
        if (src_fill(src, err) < 0) {
            src->failed = true;
            return -1;
        }
    }
    src->codec = layer_codec_detect(src->in + src->in_pos, src->in_len - src->in_pos);
    if ((src->codec == LAYER_CODEC_BZIP2 || src->codec == LAYER_CODEC_XZ) && !src->archive) {
        src->failed = true;
        return gantry_error_set(err, GANTRY_E_UNSUPPORTED, 0, "unsupported compression '%s'",
                                layer_codec_name(src->codec));
    }
    src->detected = true;
    src_setup_decoder(src);
    return 0;
}

int gantry_layer_source_compression(struct gantry_layer_source *src, enum gantry_compression *c,
                                    struct gantry_error **err)
{
    if (src_detect(src, err) < 0)
        return -1;
    return codec_compression(src->codec, c, err);
}

static const char *isal_error_name(int rc)
{
    switch (rc) {
    case ISAL_INVALID_BLOCK:
        return "invalid deflate block";
    case ISAL_INVALID_SYMBOL:
        return "invalid deflate symbol";
    case ISAL_INVALID_LOOKBACK:
        return "invalid lookback distance";
    case ISAL_INVALID_WRAPPER:
        return "invalid gzip header";
    case ISAL_UNSUPPORTED_METHOD:
        return "unsupported compression method";
    case ISAL_INCORRECT_CHECKSUM:
        return "crc mismatch";
    default:
        return "unknown error";
    }
}

/*
 * Between gzip members: the end of input is the end of the stream, a new
 * member must start with its magic byte; anything else is trailing data.
 * Returns 1 when a new member starts, 0 at the end, -1 on error.
 */
static int gz_next_member(struct gantry_layer_source *src, struct gantry_error **err)
{
    if (src->in_pos == src->in_len && !src->in_eof && src_fill(src, err) < 0)
        return -1;
    if (src->in_pos == src->in_len)
        return 0;
    if (src->in[src->in_pos] != 0x1f)
        return gantry_error_set(err, GANTRY_E_PARSE, 0,
                                "trailing data after gzip stream at byte %llu",
                                (unsigned long long)(src->bytes_in - (src->in_len - src->in_pos)));
    isal_inflate_reset(src->gz);
    src->gz->crc_flag = ISAL_GZIP;
    src->gz_member_done = false;
    return 1;
}

static ssize_t gz_read(struct gantry_layer_source *src, struct gantry_error **err)
{
    struct inflate_state *z = src->gz;
    for (;;) {
        if (src->gz_member_done) {
            int r = gz_next_member(src, err);
            if (r <= 0)
                return r;
        }
        if (src->in_pos == src->in_len && !src->gz_pending) {
            if (src->in_eof)
                return gantry_error_set(err, GANTRY_E_PARSE, 0, "truncated gzip stream");
            if (src_fill(src, err) < 0)
                return -1;
            continue;
        }
        z->next_in = src->in + src->in_pos;
        z->avail_in = (uint32_t)(src->in_len - src->in_pos);
        z->next_out = src->out;
        z->avail_out = LAYER_CHUNK;
        int rc = isal_inflate(z);
        src->in_pos = src->in_len - z->avail_in;
        src->gz_pending = z->avail_out == 0;
        if (rc < 0)
            return gantry_error_set(err, GANTRY_E_PARSE, 0, "invalid gzip stream: %s",
                                    isal_error_name(rc));
        if (z->block_state == ISAL_BLOCK_FINISH)
            src->gz_member_done = true;
        if (z->avail_out < LAYER_CHUNK)
            return (ssize_t)(LAYER_CHUNK - z->avail_out);
    }
}

static int zstd_error(size_t rc, struct gantry_error **err)
{
    if (ZSTD_getErrorCode(rc) == ZSTD_error_frameParameter_windowTooLarge)
        return gantry_error_set(err, GANTRY_E_TOO_LARGE, 0,
                                "zstd window larger than the limit of %u MiB",
                                1u << (GANTRY_LAYER_ZSTD_WINDOW_LOG_MAX - 20));
    return gantry_error_set(err, GANTRY_E_PARSE, 0, "invalid zstd stream: %s",
                            ZSTD_getErrorName(rc));
}

static ssize_t zstd_read(struct gantry_layer_source *src, struct gantry_error **err)
{
    for (;;) {
        if (src->in_pos == src->in_len && !src->in_eof && src_fill(src, err) < 0)
            return -1;
        ZSTD_inBuffer in = {src->in + src->in_pos, src->in_len - src->in_pos, 0};
        ZSTD_outBuffer o = {src->out, LAYER_CHUNK, 0};
        size_t rc = ZSTD_decompressStream(src->zd, &o, &in);
        src->in_pos += in.pos;
        if (ZSTD_isError(rc))
            return zstd_error(rc, err);
        /* After a complete frame, a call without input only asks for the
         * next frame's header: keep the 0 that ended the frame. */
        if (in.pos > 0 || o.pos > 0)
            src->zstd_hint = rc;
        if (o.pos > 0)
            return (ssize_t)o.pos;
        if (src->in_pos == src->in_len && src->in_eof) {
            if (src->zstd_hint != 0)
                return gantry_error_set(err, GANTRY_E_PARSE, 0, "truncated zstd stream");
            return 0;
        }
    }
}

static const char *bz_error_name(int rc)
{
    switch (rc) {
    case BZ_DATA_ERROR:
        return "corrupt data or crc mismatch";
    case BZ_DATA_ERROR_MAGIC:
        return "bad stream header";
    default:
        return "unknown error";
    }
}

/*
 * Between bzip2 streams (bzip2(1) and pbzip2 concatenate them): the end of
 * input ends the whole, another stream starts with 'B' (its header is the
 * decoder's to check), anything else is trailing data. Returns 1 when a new
 * stream starts, 0 at the end, -1 on error.
 */
static int bz_next_stream(struct gantry_layer_source *src, struct gantry_error **err)
{
    if (src->in_pos == src->in_len && !src->in_eof && src_fill(src, err) < 0)
        return -1;
    if (src->in_pos == src->in_len)
        return 0;
    if (src->in[src->in_pos] != 'B')
        return gantry_error_set(err, GANTRY_E_PARSE, 0,
                                "trailing data after bzip2 stream at byte %llu",
                                (unsigned long long)(src->bytes_in - (src->in_len - src->in_pos)));
    BZ2_bzDecompressEnd(src->bz);
    bz_init(src);
    return 1;
}

static ssize_t bz_read(struct gantry_layer_source *src, struct gantry_error **err)
{
    bz_stream *z = src->bz;
    for (;;) {
        if (src->bz_stream_done) {
            int r = bz_next_stream(src, err);
            if (r <= 0)
                return r;
        }
        if (src->in_pos == src->in_len && !src->in_eof && src_fill(src, err) < 0)
            return -1;
        size_t avail = src->in_len - src->in_pos;
        z->next_in = (char *)(src->in + src->in_pos);
        z->avail_in = (unsigned)avail;
        z->next_out = (char *)src->out;
        z->avail_out = LAYER_CHUNK;
        int rc = BZ2_bzDecompress(z);
        src->in_pos += avail - z->avail_in;
        if (rc == BZ_STREAM_END)
            src->bz_stream_done = true;
        else if (rc != BZ_OK)
            return gantry_error_set(err, GANTRY_E_PARSE, 0, "invalid bzip2 stream: %s",
                                    bz_error_name(rc));
        if (z->avail_out < LAYER_CHUNK)
            return (ssize_t)(LAYER_CHUNK - z->avail_out);
        if (rc == BZ_OK && src->in_eof && avail == 0)
            return gantry_error_set(err, GANTRY_E_PARSE, 0, "truncated bzip2 stream");
    }
}

static int xz_error(lzma_ret rc, struct gantry_error **err)
{
    switch (rc) {
    case LZMA_MEM_ERROR:
        oom();
    case LZMA_MEMLIMIT_ERROR:
        return gantry_error_set(err, GANTRY_E_TOO_LARGE, 0,
                                "xz dictionary larger than the limit of %u MiB",
                                (unsigned)(GANTRY_LAYER_XZ_MEMLIMIT >> 20));
    case LZMA_BUF_ERROR:
        return gantry_error_set(err, GANTRY_E_PARSE, 0, "truncated xz stream");
    case LZMA_FORMAT_ERROR:
        return gantry_error_set(err, GANTRY_E_PARSE, 0, "invalid xz stream: bad stream header");
    case LZMA_OPTIONS_ERROR:
        return gantry_error_set(err, GANTRY_E_PARSE, 0, "invalid xz stream: unsupported options");
    default:
        return gantry_error_set(err, GANTRY_E_PARSE, 0,
                                "invalid xz stream: corrupt data or check mismatch");
    }
}

/*
 * Between xz streams (xz(1) concatenates them): as between bzip2 streams,
 * the next one must start with its magic byte (stream padding is not
 * accepted). Returns 1 when a new stream starts, 0 at the end, -1 on error.
 */
static int xz_next_stream(struct gantry_layer_source *src, struct gantry_error **err)
{
    if (src->in_pos == src->in_len && !src->in_eof && src_fill(src, err) < 0)
        return -1;
    if (src->in_pos == src->in_len)
        return 0;
    if (src->in[src->in_pos] != 0xfd)
        return gantry_error_set(err, GANTRY_E_PARSE, 0,
                                "trailing data after xz stream at byte %llu",
                                (unsigned long long)(src->bytes_in - (src->in_len - src->in_pos)));
    lzma_end(src->xz);
    xz_init(src);
    return 1;
}

static ssize_t xz_read(struct gantry_layer_source *src, struct gantry_error **err)
{
    lzma_stream *z = src->xz;
    for (;;) {
        if (src->xz_done) {
            int r = xz_next_stream(src, err);
            if (r <= 0)
                return r;
        }
        if (src->in_pos == src->in_len && !src->in_eof && src_fill(src, err) < 0)
            return -1;
        size_t avail = src->in_len - src->in_pos;
        z->next_in = src->in + src->in_pos;
        z->avail_in = avail;
        z->next_out = src->out;
        z->avail_out = LAYER_CHUNK;
        /* LZMA_FINISH once the input is over: then a partial stream is an error. */
        lzma_ret rc = lzma_code(z, src->in_eof ? LZMA_FINISH : LZMA_RUN);
        src->in_pos += avail - z->avail_in;
        if (rc == LZMA_STREAM_END)
            src->xz_done = true;
        else if (rc != LZMA_OK)
            return xz_error(rc, err);
        if (z->avail_out < LAYER_CHUNK)
            return (ssize_t)(LAYER_CHUNK - z->avail_out);
        if (rc == LZMA_OK && src->in_eof && avail == 0)
            return xz_error(LZMA_BUF_ERROR, err);
    }
}

static ssize_t plain_read(struct gantry_layer_source *src, const void **data,
                          struct gantry_error **err)
{
    if (src->in_pos == src->in_len) {
        src->in_pos = src->in_len = 0;
        if (!src->in_eof && src_fill(src, err) < 0)
            return -1;
    }
    *data = src->in + src->in_pos;
    size_t n = src->in_len - src->in_pos;
    src->in_pos = src->in_len;
    return (ssize_t)n;
}

static ssize_t src_decode(struct gantry_layer_source *src, const void **data,
                          struct gantry_error **err)
{
    *data = src->out;
    switch (src->codec) {
    case LAYER_CODEC_GZIP:
        return gz_read(src, err);
    case LAYER_CODEC_ZSTD:
        return zstd_read(src, err);
    case LAYER_CODEC_BZIP2:
        return bz_read(src, err);
    case LAYER_CODEC_XZ:
        return xz_read(src, err);
    case LAYER_CODEC_NONE:
        break;
    }
    return plain_read(src, data, err);
}

ssize_t gantry_layer_source_read(struct gantry_layer_source *src, const void **data,
                                 struct gantry_error **err)
{
    if (src_detect(src, err) < 0)
        return -1;
    ssize_t n = src_decode(src, data, err);
    if (n < 0) {
        src->failed = true;
        return -1;
    }
    src->bytes_out += (uint64_t)n;
    if (src->max_out && src->bytes_out > src->max_out) {
        src->failed = true;
        return gantry_error_set(err, GANTRY_E_TOO_LARGE, 0,
                                "layer larger than the limit of %llu bytes uncompressed",
                                (unsigned long long)src->max_out);
    }
    return n;
}
