/* Internal helpers of the store module. */
#ifndef GANTRY_STORE_INTERNAL_H
#define GANTRY_STORE_INTERNAL_H

#include <sys/stat.h>

#include <gantry/store.h>

#include "strset.h"
#include "util.h"

struct gantry_store {
    char *root;
    /*
     * The root directory, flock(LOCK_SH) while the handle is open: gc takes
     * it exclusively, so it never runs while an import is in progress.
     */
    int session_fd;
};

/* fsutil.c */

/* root + "/" + rel; caller frees. */
char *store_path(const struct gantry_store *s, const char *rel);
/* blobs/<alg>/<hex> of a validated digest; caller frees. */
char *store_blob_path(const struct gantry_store *s, const char *digest, struct gantry_error **err);
int store_mkdir(const char *path, struct gantry_error **err);
int store_mkdir_p(const char *path, struct gantry_error **err);
int store_fsync_dir(const char *path, struct gantry_error **err);
/*
 * Replace root/rel atomically: write rel.tmp, fsync, rename, fsync the
 * directory. Callers hold the index lock, so the fixed temporary name is
 * safe.
 */
int store_write_atomic(struct gantry_store *s, const char *rel, const void *data, size_t len,
                       struct gantry_error **err);
/* Open $ROOT/lock and flock it (LOCK_EX or LOCK_SH); close the fd to unlock. */
int store_lock(struct gantry_store *s, int op, struct gantry_error **err);

/* refs.c */

/* index.json (absent: an empty index); caller frees. */
struct gantry_oci_index *store_index_load(struct gantry_store *s, struct gantry_error **err);

/* walk.c: following images from index.json through their blobs */

struct store_walk {
    struct gantry_store *s;
    bool strict;        /* gc: an unreadable manifest aborts the walk */
    const char *ref;    /* the entry being walked, for reports */
    struct strset seen; /* every digest reached, present or not */
    struct strset bad;  /* blobs already reported corrupt */
    struct gantry_store_problem *problems;
    size_t n_problems;
    uint64_t missing;
};

/* Walk the graph under d (an index.json entry). */
int store_walk(struct store_walk *w, const struct gantry_oci_descriptor *d,
               struct gantry_error **err);
void store_walk_release(struct store_walk *w);
void store_walk_problem(struct store_walk *w, enum gantry_store_problem_kind kind,
                        const char *digest, const char *fmt, ...) GANTRY_PRINTF(4, 5);

/*
 * Call fn for every file blobs/<alg>/<hex> with a valid digest name; other
 * files are left alone. Stops at the first fn returning -1.
 */
typedef int (*store_blob_fn)(void *ctx, const char *digest, const char *path, const struct stat *st,
                             struct gantry_error **err);
int store_for_each_blob(struct gantry_store *s, store_blob_fn fn, void *ctx,
                        struct gantry_error **err);

#endif
