/*
 * Names inside archives: tar paths as manifest.json and symlinks spell them,
 * blob paths of an image layout, and the image names of index.json entries.
 * Pure functions, unit-tested in tests/unit/test_transfer.c.
 */
#include <gantry/digest.h>
#include <gantry/ref.h>

#include "transfer_internal.h"

#include "util.h"

/* containerd's annotation for the full image name (Docker 25+ save too). */
#define ANNOTATION_IMAGE_NAME "io.containerd.image.name"

/* Append component c[0..n) to out, or drop the last one for "..". */
static int path_push(struct gantry_buf *out, const char *c, size_t n)
{
    if (n == 0 || (n == 1 && c[0] == '.'))
        return 0;
    if (n == 2 && c[0] == '.' && c[1] == '.') {
        if (out->len == 0)
            return -1;
        char *slash = memrchr(out->data, '/', out->len);
        out->len = slash ? (size_t)(slash - out->data) : 0;
        out->data[out->len] = '\0';
        return 0;
    }
    if ((out->len && gantry_buf_add(out, "/", 1) < 0) || gantry_buf_add(out, c, n) < 0)
        oom();
    return 0;
}

/* Clean the components of s[0..len) onto out; -1 when ".." leaves the root. */
static int path_clean_into(struct gantry_buf *out, const char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        size_t j = i;
        while (j < len && s[j] != '/')
            j++;
        if (path_push(out, s + i, j - i) < 0)
            return -1;
        i = j + 1;
    }
    return 0;
}

char *transfer_path_clean(const char *s, size_t len)
{
    _cleanup_buf_ struct gantry_buf out = GANTRY_BUF_INIT;
    if (memchr(s, '\0', len) || path_clean_into(&out, s, len) < 0 || out.len == 0)
        return NULL;
    return gantry_buf_detach(&out, NULL);
}

char *transfer_path_link_target(const char *entry, const char *target)
{
    _cleanup_buf_ struct gantry_buf out = GANTRY_BUF_INIT;
    const char *slash = strrchr(entry, '/');
    /* An absolute target means the archive's root, never the host's. */
    if (target[0] != '/' && slash && path_clean_into(&out, entry, (size_t)(slash - entry)) < 0)
        return NULL;
    if (path_clean_into(&out, target, strlen(target)) < 0 || out.len == 0)
        return NULL;
    return gantry_buf_detach(&out, NULL);
}

bool transfer_path_blob_digest(const char *path, char out[GANTRY_DIGEST_MAX])
{
    if (!str_has_prefix(path, "blobs/"))
        return false;
    const char *alg = path + 6;
    const char *slash = strchr(alg, '/');
    if (!slash || slash == alg || strchr(slash + 1, '/'))
        return false;
    size_t alg_len = (size_t)(slash - alg);
    size_t hex_len = strlen(slash + 1);
    if (alg_len + 1 + hex_len >= GANTRY_DIGEST_MAX)
        return false;
    memcpy(out, alg, alg_len);
    out[alg_len] = ':';
    memcpy(out + alg_len + 1, slash + 1, hex_len + 1);
    if (gantry_digest_validate(out, strlen(out), NULL, NULL) < 0) {
        out[0] = '\0';
        return false;
    }
    return true;
}

enum transfer_entry_kind transfer_path_classify(const char *path)
{
    static const struct {
        const char *name;
        enum transfer_entry_kind kind;
    } meta[] = {
        {"oci-layout", TRANSFER_ENTRY_OCI_LAYOUT},
        {"index.json", TRANSFER_ENTRY_INDEX},
        {"manifest.json", TRANSFER_ENTRY_DOCKER_MANIFEST},
        {"repositories", TRANSFER_ENTRY_IGNORED},
    };
    char digest[GANTRY_DIGEST_MAX];
    for (size_t i = 0; i < ARRAY_SIZE(meta); i++)
        if (strcmp(path, meta[i].name) == 0)
            return meta[i].kind;
    if (transfer_path_blob_digest(path, digest))
        return TRANSFER_ENTRY_BLOB;
    if (str_has_prefix(path, "blobs/"))
        return TRANSFER_ENTRY_IGNORED;
    /* Legacy per-layer metadata of docker save: nothing reads it. */
    const char *base = strrchr(path, '/');
    if (base && (strcmp(base, "/json") == 0 || strcmp(base, "/VERSION") == 0))
        return TRANSFER_ENTRY_IGNORED;
    return TRANSFER_ENTRY_FILE;
}

/* A ref.name that is a full reference (not a bare tag) into *out. */
static int name_from_ref_name(const char *v, char **out, struct gantry_error **err)
{
    struct gantry_ref ref = GANTRY_REF_INIT;
    if (gantry_ref_validate_tag(v, strlen(v), NULL) == 0)
        return 0;
    if (gantry_ref_parse(v, strlen(v), &ref, err) < 0)
        return gantry_error_prefix(err, "annotation '%s'", GANTRY_OCI_ANNOTATION_REF_NAME);
    *out = gantry_ref_to_string(&ref);
    gantry_ref_release(&ref);
    return 0;
}

int transfer_name_from_annotations(const struct gantry_oci_descriptor *d, char **out,
                                   struct gantry_error **err)
{
    *out = NULL;
    const char *full = gantry_oci_descriptor_annotation(d, ANNOTATION_IMAGE_NAME);
    if (full && *full) {
        struct gantry_ref ref = GANTRY_REF_INIT;
        if (gantry_ref_parse(full, strlen(full), &ref, err) < 0)
            return gantry_error_prefix(err, "annotation '%s'", ANNOTATION_IMAGE_NAME);
        *out = gantry_ref_to_string(&ref);
        gantry_ref_release(&ref);
        return 0;
    }
    const char *v = gantry_oci_descriptor_annotation(d, GANTRY_OCI_ANNOTATION_REF_NAME);
    if (!v || !*v)
        return 0;
    return name_from_ref_name(v, out, err);
}

void transfer_set_name_annotations(struct gantry_oci_descriptor *d, const char *full_name)
{
    struct gantry_ref ref = GANTRY_REF_INIT;
    if (!full_name || gantry_ref_parse(full_name, strlen(full_name), &ref, NULL) < 0)
        return;
    gantry_oci_descriptor_set_annotation(d, ANNOTATION_IMAGE_NAME, full_name);
    if (ref.tag)
        gantry_oci_descriptor_set_annotation(d, GANTRY_OCI_ANNOTATION_REF_NAME, ref.tag);
    gantry_ref_release(&ref);
}
