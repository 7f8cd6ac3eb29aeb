/*
 * gantry layer: tar streams (libarchive) and their compression (gzip via
 * ISA-L igzip, zstd), with the two digests of a layer computed in one pass.
 *
 * Basic outline of writing a layer blob (build):
 *
 *     struct gantry_layer_sink *s =
 *         gantry_layer_sink_new(GANTRY_COMPRESSION_GZIP, blob_write, blob);
 *     struct gantry_layer_tar_writer *w = gantry_layer_tar_writer_new(s);
 *     gantry_layer_tar_writer_add_dir(w, &dir_meta, &err);
 *     gantry_layer_tar_writer_add_file(w, &file_meta, fd, &err);
 *     gantry_layer_tar_writer_finish(w, &err);      // end-of-archive marker
 *     gantry_layer_sink_finish(s, &res, &err);      // res.diff_id, res.digest
 *     gantry_layer_tar_writer_free(w);
 *     gantry_layer_sink_free(s);
 *
 * Importing a rootfs tarball (plain, gzip, zstd, bzip2 or xz) as a layer blob:
 *
 *     gantry_layer_from_tar(fd, GANTRY_COMPRESSION_GZIP, blob_write, blob,
 *                           &opts, &res, &err);
 *
 * Reading the entries of a layer blob (any layer compression; with
 * opts.archive, a tarball in bzip2 or xz too):
 *
 *     struct gantry_layer_reader *r = gantry_layer_reader_open_fd(fd, &opts, &err);
 *     while ((rc = gantry_layer_reader_next(r, &entry, &err)) == 1)
 *         while ((n = gantry_layer_reader_read_data(r, buf, sizeof buf, &err)) > 0)
 *             ...;
 *     gantry_layer_reader_free(r);                  // rc == 0: complete and verified
 *
 * Extracting layers into a directory, lowest first, every name resolved
 * inside it (never on the host), OCI whiteouts applied between layers:
 *
 *     struct gantry_layer_extractor *x = gantry_layer_extractor_new(dir, &xopts, &err);
 *     for each layer: r = gantry_layer_reader_open_fd(fd, NULL, &err);
 *                     gantry_layer_extract_layer(x, r, &err);
 *                     gantry_layer_reader_free(r);
 *     gantry_layer_extractor_free(x);
 *
 * Policies (docs/layer.md): input tars may be ustar, pax, GNU or v7; output
 * tars are pax-restricted (ustar unless a field needs a pax header). Invalid
 * whiteouts (`.wh.`, `.wh..`, `.wh...`), GNU sparse entries, paths or link
 * targets over GANTRY_LAYER_PATH_MAX bytes, a tar without its end-of-archive
 * marker, truncated or corrupt compressed streams and bytes after the last
 * gzip member, bzip2 or xz stream are errors. Concatenated gzip members,
 * zstd frames, bzip2 and xz streams are one stream. bzip2 and xz are read
 * only for tarballs (opts.archive: import, ADD), never for layer blobs.
 * Device and FIFO entries are kept: they are data.
 */
#ifndef GANTRY_LAYER_H
#define GANTRY_LAYER_H

#include <sys/types.h>

#include <gantry/core.h>
#include <gantry/digest.h>

#ifdef __cplusplus
extern "C" {
#endif

enum gantry_compression {
    GANTRY_COMPRESSION_NONE,
    GANTRY_COMPRESSION_GZIP,
    GANTRY_COMPRESSION_ZSTD,
};

/* Longest path or link target accepted in a layer (Linux PATH_MAX). */
#define GANTRY_LAYER_PATH_MAX 4096
/* Largest zstd window accepted when decompressing (2^27 = 128 MiB). */
#define GANTRY_LAYER_ZSTD_WINDOW_LOG_MAX 27
/* Most memory the xz decoder may use (256 MiB; `xz -9` needs 65 MiB). */
#define GANTRY_LAYER_XZ_MEMLIMIT ((uint64_t)256 << 20)

/*
 * Where compressed bytes go (a blob writer, a file). Return 0, or -1 with
 * *err set; the error is passed up unchanged.
 */
typedef int (*gantry_layer_write_fn)(void *user, const void *data, size_t len,
                                     struct gantry_error **err);

/*
 * Where a stream comes from: read up to len bytes into buf; return the
 * count, 0 at the end, or -1 with *err set.
 */
typedef ssize_t (*gantry_layer_read_fn)(void *user, void *buf, size_t len,
                                        struct gantry_error **err);

/* What a finished layer is. */
struct gantry_layer_result {
    char diff_id[GANTRY_DIGEST_MAX]; /* sha256 of the uncompressed tar */
    char digest[GANTRY_DIGEST_MAX];  /* sha256 of the blob (compressed) */
    uint64_t size;                   /* blob size in bytes */
    uint64_t uncompressed_size;      /* tar size in bytes */
    uint64_t entries;                /* tar entries (gantry_layer_from_tar) */
};

/* Options for reading layers; a NULL pointer means all defaults. */
struct gantry_layer_opts {
    uint64_t max_uncompressed; /* cap on the uncompressed tar, 0 = none */
    const char *progress_id;   /* id for gantry_progress(); NULL = silent */
    uint64_t progress_total;   /* input size for progress, 0 = unknown */
    bool archive;              /* a tarball, not a layer blob: bzip2 and xz are read too */
};

/* "none", "gzip", "zstd". Static string. */
GANTRY_API const char *gantry_compression_name(enum gantry_compression c);

/*
 * Recognise the compression of a stream from its first bytes (pure; 6
 * bytes are enough). gzip (1f 8b) and zstd (28 b5 2f fd) are recognised,
 * anything else is taken as plain, except bzip2 (BZh1-9) and xz which,
 * being no layer compression, fail with GANTRY_E_UNSUPPORTED
 * "unsupported compression 'xz'" (a source with opts.archive decodes them).
 */
GANTRY_API int gantry_compression_detect(const void *data, size_t len, enum gantry_compression *c,
                                         struct gantry_error **err) GANTRY_WUR;

/*
 * Kind of a whiteout path (OCI image-spec layer.md), for the last path
 * component: `.wh..wh..opq` is OPAQUE, another `.wh..wh.` name is META
 * (reserved, kept as data), `.wh.<name>` is FILE, anything else NONE.
 */
enum gantry_whiteout {
    GANTRY_WHITEOUT_NONE,
    GANTRY_WHITEOUT_FILE,
    GANTRY_WHITEOUT_OPAQUE,
    GANTRY_WHITEOUT_META,
};

/*
 * Classify a tar path (pure; trailing slashes ignored). Fails with
 * GANTRY_E_PARSE "invalid whiteout '<path>'" for `.wh.`, `.wh..` and
 * `.wh...`, whose target would be empty, the directory or its parent.
 */
GANTRY_API int gantry_layer_whiteout_classify(const char *path, size_t len,
                                              enum gantry_whiteout *kind,
                                              struct gantry_error **err) GANTRY_WUR;

/*
 * Compressing sink: takes the uncompressed tar stream, hashes it (diffID),
 * compresses it, hashes the result (digest) and hands it to out, in one
 * pass with flat memory (the uncompressed hash runs on a helper thread).
 * gzip uses igzip level 1 with a gzip wrapper; zstd uses level 3.
 */
struct gantry_layer_sink;

/* New sink; out and out_user are borrowed until _free. Never NULL. */
GANTRY_API struct gantry_layer_sink *
gantry_layer_sink_new(enum gantry_compression c, gantry_layer_write_fn out, void *out_user);

/*
 * Feed len uncompressed bytes. Errors come from out (passed up) or the
 * compressor (GANTRY_E_INTERNAL); after an error the sink stays failed.
 */
GANTRY_API int gantry_layer_sink_write(struct gantry_layer_sink *s, const void *data, size_t len,
                                       struct gantry_error **err) GANTRY_WUR;

/*
 * Flush the compressor and fill *res (entries is left 0). With
 * GANTRY_COMPRESSION_NONE, digest equals diff_id. The sink accepts no
 * more writes afterwards.
 */
GANTRY_API int gantry_layer_sink_finish(struct gantry_layer_sink *s,
                                        struct gantry_layer_result *res,
                                        struct gantry_error **err) GANTRY_WUR;

/* Free a sink (stops its helper thread); NULL is a no-op. */
GANTRY_API void gantry_layer_sink_free(struct gantry_layer_sink *s);

/*
 * Decompressing source: reads a blob through fn (or from an fd), detects
 * its compression and yields the uncompressed bytes. The end (return 0) is
 * reported only once the whole input was consumed and verified: gzip CRCs
 * and sizes, no bytes after the last gzip member, complete zstd frames,
 * bzip2 CRCs and xz checks (with opts->archive) and nothing after the last
 * stream. Memory stays flat: 1 MiB buffers and the decoder's state (bounded
 * by the zstd window and the xz memlimit).
 */
struct gantry_layer_source;

/* New source over fn/user (borrowed); opts may be NULL. Never NULL. */
GANTRY_API struct gantry_layer_source *
gantry_layer_source_new(gantry_layer_read_fn fn, void *user, const struct gantry_layer_opts *opts);

/* New source reading fd (borrowed, not closed); opts may be NULL. */
GANTRY_API struct gantry_layer_source *
gantry_layer_source_new_fd(int fd, const struct gantry_layer_opts *opts);

/*
 * Detect the layer compression (reads the first bytes if needed). Errors:
 * the read function's, GANTRY_E_UNSUPPORTED "unsupported compression 'xz'"
 * for bzip2 and xz, which are no layer compression (with opts->archive the
 * source still decodes them; only this query fails).
 */
GANTRY_API int gantry_layer_source_compression(struct gantry_layer_source *src,
                                               enum gantry_compression *c,
                                               struct gantry_error **err) GANTRY_WUR;

/*
 * Next uncompressed bytes: *data points into the source's buffer, valid
 * until the next call. Returns the count (> 0), 0 at the verified end, or
 * -1: GANTRY_E_PARSE (corrupt, truncated or trailing data),
 * GANTRY_E_TOO_LARGE (over opts->max_uncompressed, the zstd window limit or
 * the xz memlimit), GANTRY_E_UNSUPPORTED (bzip2 or xz without
 * opts->archive), or the read function's error.
 */
GANTRY_API ssize_t gantry_layer_source_read(struct gantry_layer_source *src, const void **data,
                                            struct gantry_error **err) GANTRY_WUR;

/* Bytes read from the input and produced so far. */
GANTRY_API uint64_t gantry_layer_source_bytes_in(const struct gantry_layer_source *src);
GANTRY_API uint64_t gantry_layer_source_bytes_out(const struct gantry_layer_source *src);

/* Free a source; NULL is a no-op. */
GANTRY_API void gantry_layer_source_free(struct gantry_layer_source *src);

enum gantry_layer_entry_type {
    GANTRY_LAYER_FILE,
    GANTRY_LAYER_DIR,
    GANTRY_LAYER_SYMLINK,
    GANTRY_LAYER_HARDLINK,
    GANTRY_LAYER_CHAR,
    GANTRY_LAYER_BLOCK,
    GANTRY_LAYER_FIFO,
};

/*
 * One tar entry. From the reader, strings are borrowed until the next
 * gantry_layer_reader_next(); for the writer the caller owns them.
 */
struct gantry_layer_entry {
    const char *path;
    const char *link_target; /* symlink or hardlink target, else NULL */
    enum gantry_layer_entry_type type;
    uint32_t mode; /* permission bits, 07777 */
    uint32_t uid;
    uint32_t gid;
    int64_t mtime; /* seconds since the epoch, written as given */
    uint64_t size; /* regular files */
    uint32_t devmajor;
    uint32_t devminor;
};

/*
 * Tar reader over a layer blob in any supported compression. Each entry is
 * validated: its type, whiteout name, path and link lengths, no GNU sparse.
 */
struct gantry_layer_reader;

/*
 * Open a reader over fn/user (borrowed); opts may be NULL and is copied.
 * Caller frees with gantry_layer_reader_free(). Errors: GANTRY_E_PARSE
 * "not a tar archive", the source's errors.
 */
GANTRY_API struct gantry_layer_reader *
gantry_layer_reader_open(gantry_layer_read_fn fn, void *user, const struct gantry_layer_opts *opts,
                         struct gantry_error **err) GANTRY_WUR;

/* Same over fd (borrowed, not closed). */
GANTRY_API struct gantry_layer_reader *
gantry_layer_reader_open_fd(int fd, const struct gantry_layer_opts *opts,
                            struct gantry_error **err) GANTRY_WUR;

/*
 * Next entry into *e (strings borrowed until the next call). Returns 1, 0
 * at the end-of-archive marker (after draining and verifying the rest of
 * the stream), or -1: GANTRY_E_PARSE (truncated tar, bad header checksum,
 * missing end marker, invalid whiteout or entry), GANTRY_E_UNSUPPORTED
 * (GNU sparse, sockets), GANTRY_E_TOO_LARGE, or the source's errors.
 * Unread data of the previous entry is skipped.
 */
GANTRY_API int gantry_layer_reader_next(struct gantry_layer_reader *r, struct gantry_layer_entry *e,
                                        struct gantry_error **err) GANTRY_WUR;

/*
 * Copy up to len bytes of the current entry's data into buf. Returns the
 * count, 0 at the end of the entry, -1 on error (a truncated entry is
 * GANTRY_E_PARSE "truncated tar archive").
 */
GANTRY_API ssize_t gantry_layer_reader_read_data(struct gantry_layer_reader *r, void *buf,
                                                 size_t len, struct gantry_error **err) GANTRY_WUR;

/* Entries returned so far. */
GANTRY_API uint64_t gantry_layer_reader_entries(const struct gantry_layer_reader *r);

/* Free a reader; NULL is a no-op. */
GANTRY_API void gantry_layer_reader_free(struct gantry_layer_reader *r);

/*
 * Import: read a tar stream from in_fd (borrowed; plain, gzip, zstd, bzip2
 * or xz: opts->archive is implied), validate every entry as the reader
 * does, re-write it as a pax-restricted tar (atime and ctime dropped,
 * everything else kept, long names and link targets included) compressed
 * with c, and pass the blob to out. opts may be NULL; progress is
 * reported about every 4 MiB of input. On success *res is filled, entries
 * included. On failure out may have received a partial blob, which the
 * caller discards.
 */
GANTRY_API int gantry_layer_from_tar(int in_fd, enum gantry_compression c,
                                     gantry_layer_write_fn out, void *user,
                                     const struct gantry_layer_opts *opts,
                                     struct gantry_layer_result *res,
                                     struct gantry_error **err) GANTRY_WUR;

/*
 * Deterministic tar writer for build: entries carry exactly the metadata
 * the caller gives (no atime, ctime, user or group names), in pax-restricted
 * format, into a sink (borrowed until _free). After any error the writer is
 * failed and the tar stream is unusable: the caller discards the blob.
 */
struct gantry_layer_tar_writer;

/* New writer into sink. Never NULL; caller frees with _free. */
GANTRY_API struct gantry_layer_tar_writer *
gantry_layer_tar_writer_new(struct gantry_layer_sink *sink);

/*
 * Regular file: header from meta (size = meta->size), then exactly that
 * many bytes read from fd (borrowed, read from its current offset). A file
 * that ends early or still has bytes after meta->size fails with
 * GANTRY_E_IO "file '<path>' changed size while reading" (T27).
 */
GANTRY_API int gantry_layer_tar_writer_add_file(struct gantry_layer_tar_writer *w,
                                                const struct gantry_layer_entry *meta, int fd,
                                                struct gantry_error **err) GANTRY_WUR;

/* Directory entry (meta->size ignored). */
GANTRY_API int gantry_layer_tar_writer_add_dir(struct gantry_layer_tar_writer *w,
                                               const struct gantry_layer_entry *meta,
                                               struct gantry_error **err) GANTRY_WUR;

/* Symbolic link to meta->link_target (required). */
GANTRY_API int gantry_layer_tar_writer_add_symlink(struct gantry_layer_tar_writer *w,
                                                   const struct gantry_layer_entry *meta,
                                                   struct gantry_error **err) GANTRY_WUR;

/* Hard link to meta->link_target, a path written earlier in this layer. */
GANTRY_API int gantry_layer_tar_writer_add_hardlink(struct gantry_layer_tar_writer *w,
                                                    const struct gantry_layer_entry *meta,
                                                    struct gantry_error **err) GANTRY_WUR;

/* Character or block device, or FIFO, as given by meta->type. */
GANTRY_API int gantry_layer_tar_writer_add_special(struct gantry_layer_tar_writer *w,
                                                   const struct gantry_layer_entry *meta,
                                                   struct gantry_error **err) GANTRY_WUR;

/*
 * Whiteout for a deleted path ("a/b" gives "a/.wh.b"), or with opaque set
 * the opaque marker of directory path ("a/.wh..wh..opq"): an empty file,
 * mode 0, owner 0:0, the given mtime.
 */
GANTRY_API int gantry_layer_tar_writer_add_whiteout(struct gantry_layer_tar_writer *w,
                                                    const char *path, bool opaque, int64_t mtime,
                                                    struct gantry_error **err) GANTRY_WUR;

/* Write the end-of-archive marker. The sink is left for the caller to finish. */
GANTRY_API int gantry_layer_tar_writer_finish(struct gantry_layer_tar_writer *w,
                                              struct gantry_error **err) GANTRY_WUR;

/* Free a writer (not its sink); NULL is a no-op. */
GANTRY_API void gantry_layer_tar_writer_free(struct gantry_layer_tar_writer *w);

/*
 * Safe extraction (bad-inputs.md 4.4). Every entry name, symbolic link met
 * on the way and hard link target is resolved inside the root, as
 * openat2(RESOLVE_IN_ROOT) does (used when the kernel has it, else a walk
 * one component at a time with O_NOFOLLOW): ".." stops at the root and
 * absolute link targets start from it. The last component of a name is
 * never followed: an entry replaces what is there (a directory is merged
 * with a directory entry, anything else is removed first; last entry
 * wins). Modes are set with fchmod on the opened file (setuid bits kept;
 * the root itself is made 0700), owners only when running as root
 * (fchown, or fchownat with AT_SYMLINK_NOFOLLOW for links).
 */
struct gantry_layer_extractor;

/*
 * Build contexts: a name leaving the root is an error ("entry '../x'
 * leaves the <root_name>") instead of being resolved inside it, and a
 * symbolic link may not stand for a parent directory ("'d' is not a
 * directory") instead of being followed inside the root.
 */
#define GANTRY_LAYER_EXTRACT_STRICT (1u << 0)
/* `.wh.*` entries are ordinary files (a build context), not whiteouts. */
#define GANTRY_LAYER_EXTRACT_NO_WHITEOUTS (1u << 1)
/* Set the modification times of the entries (directories at the end of each layer). */
#define GANTRY_LAYER_EXTRACT_MTIMES (1u << 2)
/*
 * Make device nodes and FIFOs when running as root. Without this flag, or
 * unprivileged, they are skipped (never mknod) and counted, with one
 * warning per layer: a build reading the tree must not open a device.
 */
#define GANTRY_LAYER_EXTRACT_DEVICES (1u << 3)

/* Options of an extractor; a NULL pointer means all defaults. */
struct gantry_layer_extract_opts {
    unsigned flags;        /* GANTRY_LAYER_EXTRACT_* */
    uint64_t max_bytes;    /* quota on the file data written, 0 = none */
    uint64_t max_entries;  /* quota on the entries made (inodes), 0 = none */
    const char *root_name; /* the root in messages ("context"); NULL = "root" */
};

/*
 * New extractor into the existing directory dir, which it keeps open until
 * _free and makes mode 0700. opts may be NULL and is copied. Caller frees
 * with gantry_layer_extractor_free(). Errors: GANTRY_E_IO (dir cannot be
 * opened or its mode set).
 */
GANTRY_API struct gantry_layer_extractor *
gantry_layer_extractor_new(const char *dir, const struct gantry_layer_extract_opts *opts,
                           struct gantry_error **err) GANTRY_WUR;

/*
 * Apply the layer read by r (borrowed; read to its end) over what earlier
 * calls extracted. Whiteouts hide what lower layers made: `.wh.<name>`
 * removes <name>, `.wh..wh..opq` empties its directory, both as if they
 * came before the layer's other entries (entries of the same layer stay,
 * whatever their order in the tar); other `.wh..wh.*` names are skipped.
 * Entries named "/" or "." are skipped (the root keeps its mode).
 * Errors: the reader's (truncated or corrupt tar, invalid whiteouts),
 * GANTRY_E_INVALID_ARG (STRICT: a name or hard link target leaving the
 * root, a symbolic link as a parent; a path component that is not a
 * directory; a symbolic link loop), GANTRY_E_NOT_FOUND (hard link target
 * missing), GANTRY_E_TOO_LARGE (a quota), GANTRY_E_IO. After an error the
 * directory holds a partial tree the caller discards.
 */
GANTRY_API int gantry_layer_extract_layer(struct gantry_layer_extractor *x,
                                          struct gantry_layer_reader *r,
                                          struct gantry_error **err) GANTRY_WUR;

/* Device and FIFO entries skipped so far (see GANTRY_LAYER_EXTRACT_DEVICES). */
GANTRY_API uint64_t gantry_layer_extractor_skipped(const struct gantry_layer_extractor *x);

/* Free an extractor (closes the root; the files stay); NULL is a no-op. */
GANTRY_API void gantry_layer_extractor_free(struct gantry_layer_extractor *x);

#ifdef __cplusplus
}
#endif
#endif
