/*
 * gantry store: the local image store, an OCI image layout
 * (image-spec image-layout.md) that skopeo (oci:$ROOT:<ref>) and umoci read.
 *
 *     $ROOT/oci-layout      {"imageLayoutVersion":"1.0.0"}
 *     $ROOT/index.json      one entry per name, annotation
 *                           org.opencontainers.image.ref.name = full reference
 *     $ROOT/blobs/<alg>/<hex>
 *     $ROOT/tmp/            writes in progress
 *     $ROOT/cache/          build cache records (gantry_store_cache_*)
 *     $ROOT/lock            flock(2) guard for index.json updates
 *
 * Basic outline of an import (blobs first, the name last):
 *
 *     struct gantry_store *s = gantry_store_open(root, GANTRY_STORE_CREATE, &err);
 *     struct gantry_store_blob_writer *w =
 *         gantry_store_blob_writer_new(s, layer_digest, layer_size, &err);
 *     while (more data)
 *         gantry_store_blob_writer_write(w, buf, n, &err);
 *     gantry_store_blob_writer_commit(w, digest, &err);  // verified, then visible
 *     gantry_store_blob_writer_free(w);
 *     gantry_store_put_blob(s, config_json, len, config_digest, &err);
 *     gantry_store_put_blob(s, manifest_json, len, manifest_digest, &err);
 *     gantry_store_ref_set(s, "docker.io/library/httpd:latest", &manifest_desc, &err);
 *     gantry_store_free(s);
 *
 * Guarantees (details in docs/store.md): a blob appears under blobs/ only
 * complete, fsynced and verified; every read through a reader verifies the
 * content at EOF; index.json is replaced atomically under the lock, so
 * readers see the old or the new table, never a mix; gc never removes a blob
 * while another handle is open on the store, so an import that holds its
 * handle from first blob to ref_set cannot lose a blob.
 *
 * Handles: one per process is enough. Blob and ref functions may be called
 * from several threads on one handle; gantry_store_gc may not run while
 * other calls are in flight on the same handle.
 */
#ifndef GANTRY_STORE_H
#define GANTRY_STORE_H

#include <sys/types.h>

#include <gantry/core.h>
#include <gantry/digest.h>
#include <gantry/oci.h>

#ifdef __cplusplus
extern "C" {
#endif

struct gantry_store;
struct gantry_store_blob_writer;
struct gantry_store_blob_reader;

/* gantry_store_open flags */
#define GANTRY_STORE_CREATE 1 /* create the directory and layout when missing */

/*
 * The default store root: $GANTRY_ROOT if set and not empty, else
 * /var/lib/gantry when the effective uid is 0, else $XDG_DATA_HOME/gantry,
 * else ~/.local/share/gantry. Caller frees. NULL with GANTRY_E_NOT_FOUND
 * when no home directory is known.
 */
GANTRY_API char *gantry_store_default_root(struct gantry_error **err) GANTRY_WUR;

/*
 * Open the layout at root. With GANTRY_STORE_CREATE a missing directory is
 * created, and an empty directory initialised; a non-empty directory
 * without oci-layout is refused either way. Errors: GANTRY_E_NOT_FOUND (no
 * such directory or no oci-layout, M16), GANTRY_E_PARSE (oci-layout without
 * imageLayoutVersion), GANTRY_E_UNSUPPORTED (layout version 2+),
 * GANTRY_E_INVALID_ARG (not a directory, non-empty), GANTRY_E_IO. Waits while
 * a gc runs. Caller frees with gantry_store_free.
 */
GANTRY_API struct gantry_store *gantry_store_open(const char *root, int flags,
                                                  struct gantry_error **err) GANTRY_WUR;
GANTRY_API void gantry_store_free(struct gantry_store *s);
/* The root path given to open (borrowed). */
GANTRY_API const char *gantry_store_root(const struct gantry_store *s);

/*
 * Start writing a blob. expected_digest (or NULL) and expected_size (or -1)
 * are checked by _write and _commit. The data goes to a file in tmp/ and
 * is hashed as it is written; memory use is flat. Caller frees with
 * gantry_store_blob_writer_free, which removes the temporary file unless
 * committed. Errors: GANTRY_E_INVALID_ARG (bad digest), GANTRY_E_IO.
 */
GANTRY_API struct gantry_store_blob_writer *
gantry_store_blob_writer_new(struct gantry_store *s, const char *expected_digest,
                             int64_t expected_size, struct gantry_error **err) GANTRY_WUR;

/*
 * Append data. Fails with GANTRY_E_TOO_LARGE ("got more than N bytes") as
 * soon as more than expected_size bytes arrive (M7), GANTRY_E_IO on a write
 * error; after a failure the writer is dead and its file removed.
 */
GANTRY_API int gantry_store_blob_writer_write(struct gantry_store_blob_writer *w, const void *data,
                                              size_t len, struct gantry_error **err) GANTRY_WUR;

/* Bytes written so far. */
GANTRY_API uint64_t gantry_store_blob_writer_size(const struct gantry_store_blob_writer *w);

/*
 * Finish: fsync, check size and digest, rename into blobs/, fsync the
 * directory. A blob already present is fine. digest_out (may be NULL)
 * receives the digest. On a mismatch: GANTRY_E_DIGEST_MISMATCH ("digest
 * mismatch: got X, want Y", or "size mismatch: got N bytes, want M") and
 * nothing is left in blobs/ or tmp/. The writer cannot be used again.
 */
GANTRY_API int gantry_store_blob_writer_commit(struct gantry_store_blob_writer *w,
                                               char digest_out[GANTRY_DIGEST_MAX],
                                               struct gantry_error **err) GANTRY_WUR;
GANTRY_API void gantry_store_blob_writer_free(struct gantry_store_blob_writer *w);

/* Write a small blob (a JSON document) in one call; sha256. */
GANTRY_API int gantry_store_put_blob(struct gantry_store *s, const void *data, size_t len,
                                     char digest_out[GANTRY_DIGEST_MAX],
                                     struct gantry_error **err) GANTRY_WUR;

/*
 * Open a blob for reading. Errors: GANTRY_E_INVALID_ARG (bad digest),
 * GANTRY_E_NOT_FOUND, GANTRY_E_IO. Caller frees with
 * gantry_store_blob_reader_free.
 */
GANTRY_API struct gantry_store_blob_reader *
gantry_store_blob_reader_open(struct gantry_store *s, const char *digest,
                              struct gantry_error **err) GANTRY_WUR;

/*
 * Read up to len (> 0) bytes; returns the count, 0 at EOF, -1 on error.
 * The content is hashed as it is read; at EOF a mismatch fails with
 * GANTRY_E_DIGEST_MISMATCH ("blob sha256:... is corrupt: content hashes to
 * sha256:..."). Data is trustworthy only once 0 has been returned.
 */
GANTRY_API ssize_t gantry_store_blob_reader_read(struct gantry_store_blob_reader *r, void *buf,
                                                 size_t len, struct gantry_error **err) GANTRY_WUR;
/* Size of the blob file at open. */
GANTRY_API int64_t gantry_store_blob_reader_size(const struct gantry_store_blob_reader *r);
GANTRY_API void gantry_store_blob_reader_free(struct gantry_store_blob_reader *r);

/*
 * Append a whole verified blob to out (for small documents). A blob larger
 * than out->cap allows fails with GANTRY_E_TOO_LARGE before reading; errors
 * as the reader's. On failure out is left as it was.
 */
GANTRY_API int gantry_store_read_blob(struct gantry_store *s, const char *digest,
                                      struct gantry_buf *out, struct gantry_error **err) GANTRY_WUR;

/* True when a blob file exists (no verification); false for bad digests. */
GANTRY_API bool gantry_store_blob_exists(struct gantry_store *s, const char *digest);
/* Size of a blob file. Errors: GANTRY_E_INVALID_ARG, GANTRY_E_NOT_FOUND, GANTRY_E_IO. */
GANTRY_API int gantry_store_blob_size(struct gantry_store *s, const char *digest, int64_t *size,
                                      struct gantry_error **err) GANTRY_WUR;
/*
 * Path of a blob file for tools that copy or link it; the caller frees.
 * Reading it bypasses verification: callers that do must say so. The file
 * need not exist. Errors: GANTRY_E_INVALID_ARG (bad digest).
 */
GANTRY_API char *gantry_store_blob_path(struct gantry_store *s, const char *digest,
                                        struct gantry_error **err) GANTRY_WUR;

/* A named entry of index.json. */
struct gantry_store_ref {
    char *name;                        /* the full reference string */
    struct gantry_oci_descriptor desc; /* annotations include the name */
};

/*
 * Look a name up; *out (zeroed first) receives a copy of its descriptor, to
 * release with gantry_oci_descriptor_release. Errors: GANTRY_E_NOT_FOUND,
 * GANTRY_E_PARSE (index.json unreadable), GANTRY_E_IO.
 */
GANTRY_API int gantry_store_ref_get(struct gantry_store *s, const char *name,
                                    struct gantry_oci_descriptor *out,
                                    struct gantry_error **err) GANTRY_WUR;

/*
 * Point name (the full reference, normalised by the caller) at desc:
 * replaces the entry of that name in place, or appends one. The entry is a
 * copy of desc plus the ref.name annotation; other entries are kept as they
 * are, unknown members included. The blob desc names must be in the store
 * (its children need not: partial images). Atomic, under the lock.
 * Errors: GANTRY_E_INVALID_ARG, GANTRY_E_NOT_FOUND (blob), GANTRY_E_PARSE,
 * GANTRY_E_IO.
 */
GANTRY_API int gantry_store_ref_set(struct gantry_store *s, const char *name,
                                    const struct gantry_oci_descriptor *desc,
                                    struct gantry_error **err) GANTRY_WUR;

/* Remove every entry named name. Errors: GANTRY_E_NOT_FOUND, as ref_set. */
GANTRY_API int gantry_store_ref_delete(struct gantry_store *s, const char *name,
                                       struct gantry_error **err) GANTRY_WUR;

/*
 * The named entries in index order (entries without a name are skipped).
 * Never reads blobs, so missing blobs cannot make it fail (M15). Caller
 * frees with gantry_store_ref_list_free.
 */
GANTRY_API int gantry_store_ref_list(struct gantry_store *s, struct gantry_store_ref **out,
                                     size_t *n, struct gantry_error **err) GANTRY_WUR;
GANTRY_API void gantry_store_ref_list_free(struct gantry_store_ref *refs, size_t n);

/* A child of an image, and whether it can be used locally. */
struct gantry_store_child {
    struct gantry_oci_descriptor desc;
    bool local; /* manifest blob present and its config and layers present */
};

/*
 * The children of desc: for an index, its entries (any media type; for
 * non-manifest entries local only means the blob is present); for anything
 * else, desc itself. An index may be present with only some children.
 * Errors: GANTRY_E_NOT_FOUND (desc's own blob), GANTRY_E_DIGEST_MISMATCH,
 * GANTRY_E_PARSE. Caller frees with gantry_store_children_free.
 */
GANTRY_API int gantry_store_image_children(struct gantry_store *s,
                                           const struct gantry_oci_descriptor *desc,
                                           struct gantry_store_child **out, size_t *n,
                                           struct gantry_error **err) GANTRY_WUR;
GANTRY_API void gantry_store_children_free(struct gantry_store_child *c, size_t n);

/*
 * Build cache records: small files under $ROOT/cache/, named "name" or
 * "namespace/name" (each part of [A-Za-z0-9_.-], not starting with '.';
 * at most 255 bytes). The store gives them no meaning; the build module
 * does (docs/build.md). gc leaves them alone: a record may outlive the
 * blobs it names, so readers must check.
 */

/*
 * Replace the record name with data atomically (a unique file in tmp/
 * renamed over it): concurrent readers see the old or the new bytes, and
 * concurrent writers need no lock (the last rename wins). Records are not
 * fsynced: after a crash one may be missing or stale, never torn.
 * Errors: GANTRY_E_INVALID_ARG (bad name), GANTRY_E_IO.
 */
GANTRY_API int gantry_store_cache_put(struct gantry_store *s, const char *name, const void *data,
                                      size_t len, struct gantry_error **err) GANTRY_WUR;

/*
 * Append the record name to out (fails with GANTRY_E_TOO_LARGE past
 * out->cap). Errors: GANTRY_E_NOT_FOUND (no such record),
 * GANTRY_E_INVALID_ARG (bad name), GANTRY_E_IO.
 */
GANTRY_API int gantry_store_cache_get(struct gantry_store *s, const char *name,
                                      struct gantry_buf *out, struct gantry_error **err) GANTRY_WUR;

/* Remove the record name; an absent one is fine. Errors: as put. */
GANTRY_API int gantry_store_cache_delete(struct gantry_store *s, const char *name,
                                         struct gantry_error **err) GANTRY_WUR;

struct gantry_store_gc_stats {
    uint64_t blobs_kept;
    uint64_t blobs_removed;
    uint64_t bytes_removed;
    uint64_t tmp_removed; /* stale files in tmp/ (older than an hour) */
    uint64_t missing;     /* referenced blobs that are absent */
};

/*
 * Remove blobs not reachable from index.json (indexes -> manifests ->
 * config, layers, subject; blobs of unknown types are followed when they
 * parse as a manifest or index) and stale tmp/ files. Runs only when no
 * other handle is open on the store, holding the index lock throughout.
 * out may be NULL. Errors: GANTRY_E_DENIED (store in use), GANTRY_E_PARSE
 * or GANTRY_E_DIGEST_MISMATCH (a reachable manifest is unreadable: nothing
 * is removed; run gantry_store_verify), GANTRY_E_IO.
 */
GANTRY_API int gantry_store_gc(struct gantry_store *s, struct gantry_store_gc_stats *out,
                               struct gantry_error **err) GANTRY_WUR;

enum gantry_store_problem_kind {
    GANTRY_STORE_PROBLEM_MISSING, /* a blob an image needs is absent */
    GANTRY_STORE_PROBLEM_PARTIAL, /* an index child is absent: allowed, informational */
    GANTRY_STORE_PROBLEM_CORRUPT, /* content does not hash to the blob's name */
    GANTRY_STORE_PROBLEM_INVALID, /* a manifest or index blob does not parse */
};

struct gantry_store_problem {
    enum gantry_store_problem_kind kind;
    char *ref;     /* name of the entry it was found through, or NULL */
    char *digest;  /* the blob */
    char *message; /* one line */
};

/*
 * Check the store: hash every blob against its name, then walk every entry
 * of index.json reporting missing and unparsable blobs. Problems are data,
 * not errors: -1 only when the store cannot be read at all (index.json
 * broken, I/O). Caller frees with gantry_store_problems_free.
 */
GANTRY_API int gantry_store_verify(struct gantry_store *s, struct gantry_store_problem **out,
                                   size_t *n, struct gantry_error **err) GANTRY_WUR;
GANTRY_API void gantry_store_problems_free(struct gantry_store_problem *p, size_t n);

#ifdef __cplusplus
}
#endif
#endif
