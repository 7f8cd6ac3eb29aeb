/*
 * `save --format oci`: an OCI image layout in a tar. Whole images: an
 * index with every child the store holds completely; children the store
 * lacks (a pull of one platform) are left out while the index keeps
 * pointing at them, a partial image as the store itself allows.
 */
#include <fcntl.h>
#include <sys/stat.h>

#include <gantry/store.h>

#include "transfer_internal.h"

#include "util.h"

/* Nested indexes deeper than this are refused (a loop cannot be built, but a
 * hostile chain of distinct indexes could be long). */
#define SAVE_INDEX_DEPTH_MAX 8

static const char oci_layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";

/* Hash fd to its end and compare with digest; the file is left at its end. */
static int verify_fd(int fd, const char *digest, struct gantry_error **err)
{
    enum gantry_digest_alg alg;
    if (gantry_digest_validate(digest, strlen(digest), &alg, err) < 0)
        return -1;
    struct gantry_hasher *h = gantry_hasher_new(alg);
    char buf[65536], got[GANTRY_DIGEST_MAX];
    ssize_t n;
    while ((n = read(fd, buf, sizeof(buf))) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            gantry_hasher_free(h);
            return gantry_error_set(err, GANTRY_E_IO, errno, "read blob %s", digest);
        }
        gantry_hasher_update(h, buf, (size_t)n);
    }
    gantry_hasher_final(h, got);
    gantry_hasher_free(h);
    if (strcmp(got, digest) != 0)
        return gantry_error_set(err, GANTRY_E_DIGEST_MISMATCH, 0,
                                "blob %s is corrupt: content hashes to %s", digest, got);
    return 0;
}

/*
 * One blob into blobs/<alg>/<hex>. The tar writer reads a file descriptor,
 * so this opens the blob file itself, bypassing the store's verifying
 * reader, and verifies it in a first pass instead; blob files are never
 * changed in place and gc leaves them alone while our handle is open.
 */
static int save_blob(struct gantry_store *s, struct transfer_out *o, const char *digest,
                     struct gantry_error **err)
{
    _cleanup_free_ char *apath = transfer_blob_path(digest);
    if (transfer_out_has(o, apath))
        return 0;
    _cleanup_free_ char *file = gantry_store_blob_path(s, digest, err);
    if (!file)
        return -1;
    _cleanup_close_ int fd = open(file, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT)
        return gantry_error_set(err, GANTRY_E_NOT_FOUND, 0, "blob %s is not in the store", digest);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0)
        return gantry_error_set(err, GANTRY_E_IO, errno, "open blob %s", digest);
    if (verify_fd(fd, digest, err) < 0)
        return -1;
    if (lseek(fd, 0, SEEK_SET) < 0)
        return gantry_error_set(err, GANTRY_E_IO, errno, "seek blob %s", digest);
    if (transfer_out_add_fd(o, apath, fd, (uint64_t)st.st_size, err) < 0)
        return -1;
    transfer_progress("saved", digest, (uint64_t)st.st_size, (uint64_t)st.st_size, true);
    return 0;
}

/* An image manifest with its config and layers, all required. */
static int save_manifest(struct gantry_store *s, struct transfer_out *o,
                         const struct gantry_oci_descriptor *d, struct gantry_error **err)
{
    _cleanup_buf_ struct gantry_buf raw = GANTRY_BUF_INIT;
    if (transfer_read_doc(s, d->digest, &raw, err) < 0)
        return -1;
    struct gantry_oci_manifest *m =
        gantry_oci_manifest_parse(raw.data, raw.len, d->media_type, err);
    if (!m)
        return gantry_error_prefix(err, "manifest %s", d->digest);
    int rc = save_blob(s, o, d->digest, err);
    if (rc == 0)
        rc = save_blob(s, o, m->config.digest, err);
    for (size_t i = 0; rc == 0 && i < m->n_layers; i++)
        rc = save_blob(s, o, m->layers[i].digest, err);
    gantry_oci_manifest_free(m);
    return rc;
}

static int save_image(struct gantry_store *s, struct transfer_out *o,
                      const struct gantry_oci_descriptor *d, int depth, struct gantry_error **err);

/* An index and the children the store holds completely. */
static int save_index(struct gantry_store *s, struct transfer_out *o,
                      const struct gantry_oci_descriptor *d, int depth, struct gantry_error **err)
{
    struct gantry_store_child *children = NULL;
    size_t n = 0;
    if (depth > SAVE_INDEX_DEPTH_MAX)
        return gantry_error_set(err, GANTRY_E_UNSUPPORTED, 0, "index %s: nested too deeply",
                                d->digest);
    if (save_blob(s, o, d->digest, err) < 0 ||
        gantry_store_image_children(s, d, &children, &n, err) < 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (children[i].local)
            rc = save_image(s, o, &children[i].desc, depth + 1, err);
    gantry_store_children_free(children, n);
    return rc;
}

static int save_image(struct gantry_store *s, struct transfer_out *o,
                      const struct gantry_oci_descriptor *d, int depth, struct gantry_error **err)
{
    if (gantry_oci_is_index_type(d->media_type))
        return save_index(s, o, d, depth, err);
    if (gantry_oci_is_manifest_type(d->media_type))
        return save_manifest(s, o, d, err);
    return save_blob(s, o, d->digest, err);
}

/* A smaller index made for --platform: its blob, then its children. */
static int save_sub_index(struct gantry_store *s, struct transfer_out *o,
                          const struct save_item *item, struct gantry_error **err)
{
    _cleanup_free_ char *apath = transfer_blob_path(item->desc.digest);
    if (transfer_out_add_bytes(o, apath, item->sub_index, item->sub_index_len, err) < 0)
        return -1;
    struct gantry_oci_index *idx =
        gantry_oci_index_parse(item->sub_index, item->sub_index_len, GANTRY_MT_OCI_INDEX, err);
    if (!idx)
        return -1;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < idx->n_manifests; i++)
        rc = save_image(s, o, &idx->manifests[i], 1, err);
    gantry_oci_index_free(idx);
    return rc;
}

static int save_index_json(struct transfer_out *o, const struct save_item *items, size_t n,
                           struct gantry_error **err)
{
    struct gantry_oci_index *idx = gantry_oci_index_new(GANTRY_MT_OCI_INDEX);
    for (size_t i = 0; i < n; i++)
        gantry_oci_index_add(idx, &items[i].desc);
    int rc = gantry_oci_index_serialize(idx, err);
    if (rc == 0)
        rc = transfer_out_add_bytes(o, "index.json", idx->raw, idx->raw_len, err);
    gantry_oci_index_free(idx);
    return rc;
}

int transfer_save_oci(struct gantry_store *s, struct save_item *items, size_t n,
                      struct transfer_out *o, struct gantry_error **err)
{
    if (transfer_out_add_bytes(o, "oci-layout", oci_layout, strlen(oci_layout), err) < 0 ||
        save_index_json(o, items, n, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        int rc = items[i].sub_index ? save_sub_index(s, o, &items[i], err)
                                    : save_image(s, o, &items[i].desc, 0, err);
        if (rc < 0)
            return gantry_error_prefix(err, "save '%s'",
                                       items[i].name ? items[i].name : items[i].desc.digest);
    }
    return 0;
}
