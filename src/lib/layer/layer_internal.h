/* Shared internals of the layer module (not installed). */
#ifndef GANTRY_LAYER_INTERNAL_H
#define GANTRY_LAYER_INTERNAL_H

#include <locale.h>

#include <gantry/layer.h>

struct archive_entry;

/* Streams move in 1 MiB chunks: large enough for igzip and SHA-NI to run
 * at full speed, small enough to keep memory flat. */
#define LAYER_CHUNK (1024u * 1024u)

/*
 * What a stream is compressed with: the layer compressions and, for
 * tarballs that are no layer blobs (opts->archive), bzip2 and xz.
 */
enum layer_codec {
    LAYER_CODEC_NONE,
    LAYER_CODEC_GZIP,
    LAYER_CODEC_ZSTD,
    LAYER_CODEC_BZIP2,
    LAYER_CODEC_XZ,
};

/* The codec of a stream from its first bytes (pure; 6 bytes are enough). */
enum layer_codec layer_codec_detect(const void *data, size_t len);

/* "none", "gzip", "zstd", "bzip2", "xz". Static string. */
const char *layer_codec_name(enum layer_codec k);

/* Progress is reported about this often (bytes of input). */
#define LAYER_PROGRESS_STEP (4u * 1024u * 1024u)

/*
 * libarchive converts names between UTF-8 (pax) and the current locale;
 * under "C" it marks every non-ASCII name hdrcharset=BINARY, so the same
 * tarball would get a different diffID depending on the caller's locale.
 * Every call into libarchive therefore runs with this thread switched to
 * C.UTF-8 (uselocale is per thread, so the program is not affected).
 * Returns the previous locale, or 0 when C.UTF-8 is missing.
 */
locale_t layer_locale_enter(void);

static inline void layer_locale_leave(locale_t *old)
{
    if (*old)
        uselocale(*old);
}

#define _cleanup_locale_ __attribute__((cleanup(layer_locale_leave), unused))

/*
 * Background SHA-256: buffers pushed are hashed in order on a helper
 * thread, at most `depth` at a time. A pushed buffer must stay unchanged
 * until `depth` further pushes have returned or _sync has. Without a
 * thread (pthread_create failed) pushes hash inline.
 */
struct layer_hashq;

struct layer_hashq *layer_hashq_new(unsigned depth);
void layer_hashq_push(struct layer_hashq *q, const void *data, size_t len);
void layer_hashq_sync(struct layer_hashq *q);
/* Wait for pending buffers, then write the digest and the byte count. */
void layer_hashq_final(struct layer_hashq *q, char out[GANTRY_DIGEST_MAX], uint64_t *size);
void layer_hashq_free(struct layer_hashq *q);

/*
 * Open a reader over src, which it owns from now on (freed even on
 * failure); action names the work in progress reports ("importing").
 */
struct gantry_layer_reader *layer_reader_open_src(struct gantry_layer_source *src,
                                                  const struct gantry_layer_opts *opts,
                                                  const char *action, struct gantry_error **err);

/* The libarchive entry behind the current reader entry (for re-writing). */
struct archive_entry *layer_reader_archive_entry(struct gantry_layer_reader *r);

/*
 * Zero-copy data of the current entry: 1 with *buf and *len set (valid until
 * the next call), 0 at its end, -1 on error.
 */
int layer_reader_data_block(struct gantry_layer_reader *r, const void **buf, size_t *len,
                            struct gantry_error **err);

/*
 * Raw access for re-writing an entry read elsewhere: write ae's header
 * (its size says how much data must follow), then its data.
 */
int layer_tar_writer_header(struct gantry_layer_tar_writer *w, struct archive_entry *ae,
                            struct gantry_error **err);
int layer_tar_writer_data(struct gantry_layer_tar_writer *w, const void *data, size_t len,
                          struct gantry_error **err);

/*
 * Check a path or link target of an entry: not empty, at most
 * GANTRY_LAYER_PATH_MAX bytes. what names the field in messages.
 */
int layer_check_name(const char *what, const char *name, struct gantry_error **err);

#endif
