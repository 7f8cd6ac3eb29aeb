/*
 * Compressing sink: uncompressed tar bytes in, compressed blob bytes out,
 * both digests computed on the way. Writes are gathered into 1 MiB staging
 * buffers (tar headers come 512 bytes at a time); each full buffer goes to
 * a background hasher and, on the caller's thread, to the compressor, whose
 * output buffers go to out and then to a second background hasher. The
 * caller's thread only compresses; the hashing runs on the other core.
 */
#include <isa-l.h>
#include <zstd.h>

#include "layer_internal.h"
#include "util.h"

/* Staging buffers: one being filled, the others may still be hashed. */
#define SINK_NBUF 4
#define ZSTD_LEVEL 3

struct gantry_layer_sink {
    enum gantry_compression comp;
    gantry_layer_write_fn out;
    void *out_user;
    struct layer_hashq *diff; /* uncompressed stream */
    struct layer_hashq *blob; /* compressed stream, NULL without compression */
    unsigned char *stage[SINK_NBUF];
    unsigned cur;
    size_t fill;
    unsigned char *obuf[SINK_NBUF];
    unsigned ocur;
    struct isal_zstream *gz;
    unsigned char *gz_level_buf;
    ZSTD_CCtx *zc;
    uint64_t size_out;
    bool failed;
    bool finished;
};

const char *gantry_compression_name(enum gantry_compression c)
{
    switch (c) {
    case GANTRY_COMPRESSION_NONE:
        return "none";
    case GANTRY_COMPRESSION_GZIP:
        return "gzip";
    case GANTRY_COMPRESSION_ZSTD:
        return "zstd";
    }
    return "unknown";
}

static void sink_init_gzip(struct gantry_layer_sink *s)
{
    s->gz = xcalloc(1, sizeof(*s->gz));
    s->gz_level_buf = xmalloc(ISAL_DEF_LVL1_DEFAULT);
    isal_deflate_init(s->gz);
    s->gz->level = 1;
    s->gz->level_buf = s->gz_level_buf;
    s->gz->level_buf_size = ISAL_DEF_LVL1_DEFAULT;
    s->gz->gzip_flag = IGZIP_GZIP;
    s->gz->flush = NO_FLUSH;
}

static void sink_init_zstd(struct gantry_layer_sink *s)
{
    s->zc = ZSTD_createCCtx();
    if (!s->zc)
        oom();
    /* Setting a valid level or flag on a fresh context cannot fail. */
    ZSTD_CCtx_setParameter(s->zc, ZSTD_c_compressionLevel, ZSTD_LEVEL);
    ZSTD_CCtx_setParameter(s->zc, ZSTD_c_checksumFlag, 1);
}

struct gantry_layer_sink *gantry_layer_sink_new(enum gantry_compression c,
                                                gantry_layer_write_fn out, void *out_user)
{
    struct gantry_layer_sink *s = xcalloc(1, sizeof(*s));
    s->comp = c;
    s->out = out;
    s->out_user = out_user;
    s->diff = layer_hashq_new(SINK_NBUF - 1);
    for (unsigned i = 0; i < SINK_NBUF; i++)
        s->stage[i] = xmalloc(LAYER_CHUNK);
    if (c != GANTRY_COMPRESSION_NONE) {
        s->blob = layer_hashq_new(SINK_NBUF - 1);
        for (unsigned i = 0; i < SINK_NBUF; i++)
            s->obuf[i] = xmalloc(LAYER_CHUNK);
    }
    if (c == GANTRY_COMPRESSION_GZIP)
        sink_init_gzip(s);
    else if (c == GANTRY_COMPRESSION_ZSTD)
        sink_init_zstd(s);
    return s;
}

void gantry_layer_sink_free(struct gantry_layer_sink *s)
{
    if (!s)
        return;
    /* The hasher threads may still read the buffers: stop them first. */
    layer_hashq_free(s->diff);
    layer_hashq_free(s->blob);
    for (unsigned i = 0; i < SINK_NBUF; i++) {
        free(s->stage[i]);
        free(s->obuf[i]);
    }
    free(s->gz);
    free(s->gz_level_buf);
    ZSTD_freeCCtx(s->zc);
    free(s);
}

/* Blob bytes: count, hand over, then hash them in the background. */
static int sink_emit(struct gantry_layer_sink *s, const void *data, size_t len,
                     struct gantry_error **err)
{
    if (len == 0)
        return 0;
    s->size_out += len;
    if (s->out(s->out_user, data, len, err) < 0)
        return -1;
    if (s->blob)
        layer_hashq_push(s->blob, data, len);
    return 0;
}

/* Emit the current output buffer and move to the next one. */
static int sink_emit_obuf(struct gantry_layer_sink *s, size_t len, struct gantry_error **err)
{
    if (len == 0)
        return 0;
    if (sink_emit(s, s->obuf[s->ocur], len, err) < 0)
        return -1;
    s->ocur = (s->ocur + 1) % SINK_NBUF;
    return 0;
}

static int sink_gzip(struct gantry_layer_sink *s, const void *data, size_t len, bool end,
                     struct gantry_error **err)
{
    struct isal_zstream *z = s->gz;
    z->next_in = (uint8_t *)(uintptr_t)data; /* igzip never writes its input */
    z->avail_in = (uint32_t)len;
    z->end_of_stream = end;
    do {
        z->next_out = s->obuf[s->ocur];
        z->avail_out = LAYER_CHUNK;
        int rc = isal_deflate(z);
        if (rc != COMP_OK)
            return gantry_error_set(err, GANTRY_E_INTERNAL, 0,
                                    "gzip compression failed: igzip error %d", rc);
        if (sink_emit_obuf(s, LAYER_CHUNK - z->avail_out, err) < 0)
            return -1;
    } while (z->avail_in > 0 || z->avail_out == 0 ||
             (end && z->internal_state.state != ZSTATE_END));
    return 0;
}

static int sink_zstd(struct gantry_layer_sink *s, const void *data, size_t len, bool end,
                     struct gantry_error **err)
{
    ZSTD_inBuffer in = {data, len, 0};
    ZSTD_EndDirective mode = end ? ZSTD_e_end : ZSTD_e_continue;
    for (;;) {
        ZSTD_outBuffer o = {s->obuf[s->ocur], LAYER_CHUNK, 0};
        size_t rem = ZSTD_compressStream2(s->zc, &o, &in, mode);
        if (ZSTD_isError(rem))
            return gantry_error_set(err, GANTRY_E_INTERNAL, 0, "zstd compression failed: %s",
                                    ZSTD_getErrorName(rem));
        if (sink_emit_obuf(s, o.pos, err) < 0)
            return -1;
        if (end ? rem == 0 : in.pos == in.size)
            return 0;
    }
}

static int sink_compress(struct gantry_layer_sink *s, const void *data, size_t len, bool end,
                         struct gantry_error **err)
{
    switch (s->comp) {
    case GANTRY_COMPRESSION_GZIP:
        return sink_gzip(s, data, len, end, err);
    case GANTRY_COMPRESSION_ZSTD:
        return sink_zstd(s, data, len, end, err);
    case GANTRY_COMPRESSION_NONE:
        break;
    }
    return sink_emit(s, data, len, err);
}

/* Hand the current staging buffer to the hasher and the compressor. */
static int sink_flush(struct gantry_layer_sink *s, bool end, struct gantry_error **err)
{
    const unsigned char *data = s->stage[s->cur];
    size_t len = s->fill;
    layer_hashq_push(s->diff, data, len);
    s->cur = (s->cur + 1) % SINK_NBUF;
    s->fill = 0;
    if (len == 0 && !end)
        return 0;
    return sink_compress(s, data, len, end, err);
}

static int sink_check_state(const struct gantry_layer_sink *s, struct gantry_error **err)
{
    if (s->failed)
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0,
                                "layer sink used after an earlier error");
    if (s->finished)
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0, "layer sink already finished");
    return 0;
}

int gantry_layer_sink_write(struct gantry_layer_sink *s, const void *data, size_t len,
                            struct gantry_error **err)
{
    if (sink_check_state(s, err) < 0)
        return -1;
    const unsigned char *p = data;
    while (len > 0) {
        size_t n = LAYER_CHUNK - s->fill;
        if (n > len)
            n = len;
        memcpy(s->stage[s->cur] + s->fill, p, n);
        s->fill += n;
        p += n;
        len -= n;
        if (s->fill == LAYER_CHUNK && sink_flush(s, false, err) < 0) {
            s->failed = true;
            return -1;
        }
    }
    return 0;
}

int gantry_layer_sink_finish(struct gantry_layer_sink *s, struct gantry_layer_result *res,
                             struct gantry_error **err)
{
    if (sink_check_state(s, err) < 0)
        return -1;
    if (sink_flush(s, true, err) < 0) {
        s->failed = true;
        return -1;
    }
    s->finished = true;
    memset(res, 0, sizeof(*res));
    layer_hashq_final(s->diff, res->diff_id, &res->uncompressed_size);
    if (s->blob) {
        uint64_t size;
        layer_hashq_final(s->blob, res->digest, &size);
    } else {
        memcpy(res->digest, res->diff_id, sizeof(res->digest));
    }
    res->size = s->size_out;
    return 0;
}
