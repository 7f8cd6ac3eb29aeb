/*
 * transfer internals: the pure helpers (archive paths, image names) shared
 * by save and load, and unit-tested. The JSON files of a docker archive
 * (manifest.json, repositories) are modelled in oci (gantry/oci.h).
 */
#ifndef GANTRY_TRANSFER_INTERNAL_H
#define GANTRY_TRANSFER_INTERNAL_H

#include <gantry/core.h>
#include <gantry/digest.h>
#include <gantry/layer.h>
#include <gantry/oci.h>
#include <gantry/transfer.h>

struct gantry_store;

/*
 * A tar path made relative and clean: leading "/" and "./", empty and "."
 * components dropped, ".." applied. NULL when ".." climbs above the root,
 * the path is empty or holds a NUL. Caller frees.
 */
char *transfer_path_clean(const char *s, size_t len);

/*
 * The clean path a symlink or hardlink at entry (clean) points to: target
 * is taken relative to entry's directory, or to the archive's root when
 * absolute. NULL when it leaves the archive. Caller frees.
 */
char *transfer_path_link_target(const char *entry, const char *target);

/*
 * For "blobs/<alg>/<hex>" with a valid digest, write "<alg>:<hex>" to out
 * and return true; false for anything else.
 */
bool transfer_path_blob_digest(const char *path, char out[GANTRY_DIGEST_MAX]);

/* What a (clean) path in an archive is. */
enum transfer_entry_kind {
    TRANSFER_ENTRY_OCI_LAYOUT,      /* "oci-layout" */
    TRANSFER_ENTRY_INDEX,           /* "index.json" */
    TRANSFER_ENTRY_DOCKER_MANIFEST, /* "manifest.json" */
    TRANSFER_ENTRY_BLOB,            /* "blobs/<alg>/<hex>" */
    TRANSFER_ENTRY_FILE,            /* anything else: a docker config or layer */
    TRANSFER_ENTRY_IGNORED,         /* repositories, legacy <id>/json, VERSION */
};

enum transfer_entry_kind transfer_path_classify(const char *path);

/*
 * The full image name an index.json entry carries: io.containerd.image.name,
 * else org.opencontainers.image.ref.name when it is a reference rather than
 * a bare tag, normalized ("docker.io/demo/busybox:arm64"). *out is NULL
 * when the entry has no name (caller frees). Errors: GANTRY_E_INVALID_ARG
 * for a name that is not a valid reference.
 */
int transfer_name_from_annotations(const struct gantry_oci_descriptor *d, char **out,
                                   struct gantry_error **err) GANTRY_WUR;

/*
 * Set both name annotations of d from a full reference, as Docker 25+ and
 * containerd write them: io.containerd.image.name = full_name,
 * org.opencontainers.image.ref.name = its tag (left out without a tag).
 * A NULL or unparsable full_name sets nothing.
 */
void transfer_set_name_annotations(struct gantry_oci_descriptor *d, const char *full_name);

/*
 * The tar stream save writes (archive_out.c): the layer module's tar
 * writer over an uncompressing sink into out. Each path is written once;
 * adding a path again is a no-op. Parent directories get their entries.
 */
struct transfer_out;

struct transfer_out *transfer_out_new(gantry_layer_write_fn out, void *user);
void transfer_out_free(struct transfer_out *o);
bool transfer_out_has(const struct transfer_out *o, const char *path);
/* A regular file of exactly size bytes read from fd (borrowed, current offset). */
int transfer_out_add_fd(struct transfer_out *o, const char *path, int fd, uint64_t size,
                        struct gantry_error **err) GANTRY_WUR;
/* A regular file holding data[0..len). */
int transfer_out_add_bytes(struct transfer_out *o, const char *path, const void *data, size_t len,
                           struct gantry_error **err) GANTRY_WUR;
/* End-of-archive marker, and flush. */
int transfer_out_finish(struct transfer_out *o, struct gantry_error **err) GANTRY_WUR;

/* gantry_layer_write_fn over a file descriptor: user points at the int fd. */
int transfer_write_fd(void *user, const void *data, size_t len,
                      struct gantry_error **err) GANTRY_WUR;
/* gantry_layer_read_fn over a gantry_store_blob_reader (user). */
ssize_t transfer_read_store_blob(void *user, void *buf, size_t len,
                                 struct gantry_error **err) GANTRY_WUR;

/* An unlinked read-write file in dir (NULL: $TMPDIR, else /tmp). */
int transfer_scratch_open(const char *dir, struct gantry_error **err) GANTRY_WUR;

/* "blobs/<alg>/<hex>" for a valid digest. Caller frees. */
char *transfer_blob_path(const char *digest);

/* A small verified document from the store (4 MiB cap) into out (reset first). */
int transfer_read_doc(struct gantry_store *s, const char *digest, struct gantry_buf *out,
                      struct gantry_error **err) GANTRY_WUR;

/* Report progress on a blob (id: its first 12 hex digits). */
void transfer_progress(const char *action, const char *digest, uint64_t done, uint64_t total,
                       bool finished);

/* One image to save, resolved and with its platform chosen. */
struct save_item {
    char *name;                        /* full reference, or NULL (saved by digest) */
    struct gantry_oci_descriptor desc; /* OCI: the index.json entry; DOCKER: the manifest */
    char *sub_index;                   /* OCI with several platforms: the smaller index */
    size_t sub_index_len;
};

/* Write the archive body for the planned items (save_oci.c, save_docker.c). */
int transfer_save_oci(struct gantry_store *s, struct save_item *items, size_t n,
                      struct transfer_out *o, struct gantry_error **err) GANTRY_WUR;
int transfer_save_docker(struct gantry_store *s, const struct save_item *items, size_t n,
                         struct transfer_out *o, const char *scratch_dir,
                         struct gantry_error **err) GANTRY_WUR;

/* A file of a loaded archive: a blob now in the store, or a link to a file. */
struct load_file {
    char *path;                      /* clean path in the archive */
    char *link;                      /* symlink or hardlink: clean target path, else NULL */
    char digest[GANTRY_DIGEST_MAX];  /* the blob in the store */
    char diff_id[GANTRY_DIGEST_MAX]; /* digest of the uncompressed tar when known, else "" */
    int64_t size;                    /* blob size */
    enum gantry_compression stored;  /* compression of the stored blob */
};

/* The state of one load: what the single pass over the archive found. */
struct load_ctx {
    struct gantry_store *s;
    struct load_file *files;
    size_t n_files;
    struct gantry_buf oci_layout; /* the small documents, capped at 4 MiB */
    struct gantry_buf index_json;
    struct gantry_buf docker_manifest;
    bool have_oci_layout, have_index_json, have_docker_manifest;
};

/* One image found at the end of the pass, before it is named. */
struct load_image {
    char **names; /* full references; NULL-terminated, NULL when unnamed */
    size_t n_names;
    char id[GANTRY_DIGEST_MAX];
    struct gantry_oci_descriptor desc; /* what the names point at */
};

struct load_images {
    struct load_image *items;
    size_t n_items;
};

void load_images_release(struct load_images *l);
/* A new, empty image at the end of l. */
struct load_image *load_images_add(struct load_images *l);
void load_image_add_name(struct load_image *img, char *name);

/*
 * The file at path, following links (NULL when absent, or a link chain
 * that loops or dangles).
 */
const struct load_file *load_find_file(const struct load_ctx *c, const char *path);

/* Check what the archive's index.json or manifest.json names and describe
 * the images (load_oci.c, load_docker.c); nothing is named yet. */
int load_finish_oci(struct load_ctx *c, struct load_images *out,
                    struct gantry_error **err) GANTRY_WUR;
int load_finish_docker(struct load_ctx *c, struct load_images *out,
                       struct gantry_error **err) GANTRY_WUR;

#endif
