/*
 * Internals of the copy engine (pull, push): a small worker pool, progress
 * reports serialized across threads, platforms of index entries, and the
 * blob lists both directions build from manifests.
 */
#ifndef GANTRY_COPY_INTERNAL_H
#define GANTRY_COPY_INTERNAL_H

#include <gantry/core.h>
#include <gantry/oci.h>
#include <gantry/platform.h>
#include <gantry/ref.h>

#include <gantry/transfer.h>

#include "image/image_nest.h"

#define _cleanup_ref_ __attribute__((cleanup(gantry_ref_release)))
#define _cleanup_platform_ __attribute__((cleanup(gantry_platform_release)))

/*
 * One task of copy_parallel: work on item i of ctx. Return 0, or -1 with
 * *err set; the first failure stops the tasks not yet started.
 */
typedef int (*copy_task_fn)(void *ctx, size_t i, struct gantry_error **err);

/*
 * Run fn for i = 0..n-1 on up to jobs threads (the caller's included; 0
 * means GANTRY_TRANSFER_DEFAULT_JOBS). Returns 0, or -1 with the first task's error.
 * Tasks already running when one fails are waited for.
 */
int copy_parallel(size_t n, unsigned jobs, copy_task_fn fn, void *ctx,
                  struct gantry_error **err) GANTRY_WUR;

/*
 * gantry_progress for a blob (id: its first 12 hex digits), serialized
 * with a mutex so that a display that is not thread-safe can be called
 * from the pool's threads.
 */
void copy_progress(const char *action, const char *digest, uint64_t done, uint64_t total,
                   bool finished);

/* A normalized platform from an index entry's platform (NULL: all NULL). */
void copy_platform_from_oci(const struct gantry_oci_platform *o, struct gantry_platform *out);

/* "linux/amd64" of an index entry's platform ("unknown" without one). Caller frees. */
char *copy_entry_platform_string(const struct gantry_oci_descriptor *d);

/*
 * True for the index entries a platform is chosen among: image manifests
 * that are not attestations and have a known platform.
 */
bool copy_entry_is_runnable(const struct gantry_oci_descriptor *d);

/*
 * The runnable entry of idx that suits want best (gantry_platform_match_rank,
 * lowest rank, first on ties), or -1. Pure.
 */
ssize_t copy_select_entry(const struct gantry_oci_index *idx, const struct gantry_platform *want);

/*
 * "no linux/arm64 image in NAME (it has: linux/amd64, linux/386)" as a
 * GANTRY_E_NOT_FOUND error; returns -1.
 */
int copy_no_platform_error(const struct gantry_oci_index *idx, const struct gantry_platform *want,
                           const char *name, struct gantry_error **err);

/*
 * The entry of top for want through nested indexes (image_nest_select,
 * not strict: image/nest.c walks, caps the depth at IMAGE_NEST_MAX and
 * refuses cycles), n reading through the copy end's fetch. out is
 * initialized with IMAGE_NEST_PICK_INIT. Errors: the walk's, and
 * GANTRY_E_NOT_FOUND "no P image in NAME (it has: ...)" listing the
 * platforms of every index read, once each.
 */
int copy_nest_select(struct image_nest *n, const struct gantry_oci_index *top,
                     const struct gantry_platform *want, struct image_nest_pick *out,
                     struct gantry_error **err) GANTRY_WUR;

/* A blob to move: its descriptor fields (borrowed from a manifest). */
struct copy_blob {
    const char *digest;
    const char *media_type;
    int64_t size;
};

/* A de-duplicated list of blobs. */
struct copy_blobs {
    struct copy_blob *items;
    size_t n_items;
};

/* Add the config and layers of m (borrowed: m must outlive the list), once each. */
void copy_blobs_add_manifest(struct copy_blobs *l, const struct gantry_oci_manifest *m);
/*
 * Largest blobs first: with more blobs than jobs, the longest transfers
 * start at once and the small ones fill in beside them, so the whole
 * ends sooner than in manifest order.
 */
void copy_blobs_sort_larger_first(struct copy_blobs *l);
void copy_blobs_release(struct copy_blobs *l);

/*
 * One end of `gantry copy`: a registry repository, or an OCI layout opened
 * as a store (the store itself, an OCI directory, or the temporary layout
 * an archive is read into or built in).
 */
struct gantry_registry_client;
struct gantry_store;

struct copy_end {
    enum gantry_transfer_kind kind;
    const char *path;           /* OCI_*: the directory or file (borrowed) */
    struct gantry_store *store; /* NULL for a registry */
    bool owns_store;
    char *tmp_root; /* a temporary layout, removed by copy_end_release */
    struct gantry_registry_client *c;
    struct gantry_ref ref; /* REGISTRY */
    char *name;            /* registry or store: full reference; OCI: ref.name */
};

/* Open e for ep (borrowed); is_dst creates what is missing. */
int copy_end_open(struct copy_end *e, const struct gantry_transfer_endpoint *ep,
                  struct gantry_store *s, struct gantry_registry_client *c, bool is_dst,
                  struct gantry_error **err) GANTRY_WUR;
void copy_end_release(struct copy_end *e);

/* The top-level document of a source: bytes, media type (owned) and digest. */
int copy_end_top(struct copy_end *e, struct gantry_buf *data, char **media_type,
                 char digest[GANTRY_DIGEST_MAX], struct gantry_error **err) GANTRY_WUR;
/* A child manifest by digest into data (reset first). */
int copy_end_doc(struct copy_end *e, const char *digest, struct gantry_buf *data,
                 struct gantry_error **err) GANTRY_WUR;
/* 1 when e has the blob (or manifest, with is_doc), 0 when not, -1 on error. */
int copy_end_has(struct copy_end *e, const char *digest, bool is_doc,
                 struct gantry_error **err) GANTRY_WUR;
/* Write a manifest by digest (as_top: under e's name, the name last). */
int copy_end_put_doc(struct copy_end *e, const char *media_type, const char *data, size_t len,
                     const char *digest, bool as_top, struct gantry_error **err) GANTRY_WUR;
/* An archive destination: write e->path from the temporary layout. */
int copy_end_finish(struct copy_end *e, struct gantry_error **err) GANTRY_WUR;

/*
 * A blob of a registry (c, ref: borrowed for the stream's life) read as an
 * upload source without a local copy (copy_stream.c): a thread GETs it into
 * a bounded buffer (4 MiB); going back restarts the GET with Range from
 * there. The read that ends the blob checks its size and digest first.
 * copy_stream_read is a gantry_registry_read_fn over the stream (user).
 */
struct copy_stream;
struct copy_stream *copy_stream_new(struct gantry_registry_client *c, const struct gantry_ref *ref,
                                    const struct copy_blob *b);
ssize_t copy_stream_read(void *user, uint64_t offset, void *buf, size_t len,
                         struct gantry_error **err);
/* Stop the GET, free the buffer; NULL is a no-op. */
void copy_stream_free(struct copy_stream *s);

#endif
