/*
 * Names: the entries of index.json. Updates read, change and atomically
 * replace the file under an exclusive flock on $ROOT/lock; reads rely on
 * the atomic rename and take no lock, so they work on read-only layouts.
 */
#include <sys/file.h>

#include "store_internal.h"

#define REF_NAME_MAX 4096

struct gantry_oci_index *store_index_load(struct gantry_store *s, struct gantry_error **err)
{
    _cleanup_free_ char *path = store_path(s, "index.json");
    _cleanup_buf_ struct gantry_buf b = GANTRY_BUF_INIT_CAP(GANTRY_MANIFEST_MAX);
    _cleanup_error_ struct gantry_error *e = NULL;
    if (gantry_buf_read_file(&b, path, &e) < 0) {
        if (e->code == GANTRY_E_NOT_FOUND) /* a layout being created, or damaged */
            return gantry_oci_index_new(NULL);
        if (err)
            *err = steal_pointer(&e);
        return NULL;
    }
    struct gantry_oci_index *idx = gantry_oci_index_parse(b.data, b.len, NULL, err);
    if (!idx)
        gantry_error_prefix(err, "store index '%s'", path);
    return idx;
}

static int index_save(struct gantry_store *s, struct gantry_oci_index *idx,
                      struct gantry_error **err)
{
    if (gantry_oci_index_serialize(idx, err) < 0)
        return gantry_error_prefix(err, "store index");
    return store_write_atomic(s, "index.json", idx->raw, idx->raw_len, err);
}

static int check_name(const char *name, struct gantry_error **err)
{
    if (!name || !*name)
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0, "empty image name");
    size_t len = strlen(name);
    if (len > REF_NAME_MAX)
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0,
                                "image name is too long: %zu bytes, limit %d", len, REF_NAME_MAX);
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0,
                                    "invalid image name '%s': control character", name);
    return 0;
}

static bool entry_is(const struct gantry_oci_descriptor *d, const char *name)
{
    const char *v = gantry_oci_descriptor_annotation(d, GANTRY_OCI_ANNOTATION_REF_NAME);
    return v && strcmp(v, name) == 0;
}

/* Index of the first entry named name, or n_manifests. */
static size_t find_entry(const struct gantry_oci_index *idx, const char *name, size_t from)
{
    size_t i = from;
    while (i < idx->n_manifests && !entry_is(&idx->manifests[i], name))
        i++;
    return i;
}

static void remove_named(struct gantry_oci_index *idx, const char *name, size_t from)
{
    for (size_t i = find_entry(idx, name, from); i < idx->n_manifests; i = find_entry(idx, name, i))
        gantry_oci_index_remove(idx, i);
}

int gantry_store_ref_get(struct gantry_store *s, const char *name,
                         struct gantry_oci_descriptor *out, struct gantry_error **err)
{
    memset(out, 0, sizeof(*out));
    if (check_name(name, err) < 0)
        return -1;
    struct gantry_oci_index *idx = store_index_load(s, err);
    if (!idx)
        return -1;
    size_t i = find_entry(idx, name, 0);
    int r = 0;
    if (i < idx->n_manifests)
        gantry_oci_descriptor_copy(out, &idx->manifests[i]);
    else
        r = gantry_error_set(err, GANTRY_E_NOT_FOUND, 0, "image '%s' not found in the store", name);
    gantry_oci_index_free(idx);
    return r;
}

/* Replace or append the entry, under the lock. */
static int set_locked(struct gantry_store *s, const char *name,
                      const struct gantry_oci_descriptor *entry, struct gantry_error **err)
{
    struct gantry_oci_index *idx = store_index_load(s, err);
    if (!idx)
        return -1;
    size_t i = find_entry(idx, name, 0);
    if (i < idx->n_manifests) {
        gantry_oci_descriptor_release(&idx->manifests[i]);
        gantry_oci_descriptor_copy(&idx->manifests[i], entry);
        remove_named(idx, name, i + 1);
    } else {
        gantry_oci_index_add(idx, entry);
    }
    int r = index_save(s, idx, err);
    gantry_oci_index_free(idx);
    return r;
}

int gantry_store_ref_set(struct gantry_store *s, const char *name,
                         const struct gantry_oci_descriptor *desc, struct gantry_error **err)
{
    if (check_name(name, err) < 0 || gantry_oci_descriptor_validate(desc, err) < 0)
        return -1;
    if (!gantry_store_blob_exists(s, desc->digest))
        return gantry_error_set(err, GANTRY_E_NOT_FOUND, 0,
                                "cannot name '%s': blob %s is not in the store", name,
                                desc->digest);
    struct gantry_oci_descriptor entry;
    gantry_oci_descriptor_copy(&entry, desc);
    gantry_oci_descriptor_set_annotation(&entry, GANTRY_OCI_ANNOTATION_REF_NAME, name);
    int r = -1;
    int lock = store_lock(s, LOCK_EX, err);
    if (lock >= 0) {
        r = set_locked(s, name, &entry, err);
        close(lock);
    }
    gantry_oci_descriptor_release(&entry);
    return r;
}

static int delete_locked(struct gantry_store *s, const char *name, struct gantry_error **err)
{
    struct gantry_oci_index *idx = store_index_load(s, err);
    if (!idx)
        return -1;
    int r;
    if (find_entry(idx, name, 0) == idx->n_manifests) {
        r = gantry_error_set(err, GANTRY_E_NOT_FOUND, 0, "image '%s' not found in the store", name);
    } else {
        remove_named(idx, name, 0);
        r = index_save(s, idx, err);
    }
    gantry_oci_index_free(idx);
    return r;
}

int gantry_store_ref_delete(struct gantry_store *s, const char *name, struct gantry_error **err)
{
    if (check_name(name, err) < 0)
        return -1;
    _cleanup_close_ int lock = store_lock(s, LOCK_EX, err);
    if (lock < 0)
        return -1;
    return delete_locked(s, name, err);
}

int gantry_store_ref_list(struct gantry_store *s, struct gantry_store_ref **out, size_t *n,
                          struct gantry_error **err)
{
    *out = NULL;
    *n = 0;
    struct gantry_oci_index *idx = store_index_load(s, err);
    if (!idx)
        return -1;
    struct gantry_store_ref *refs = xcalloc(idx->n_manifests, sizeof(*refs));
    size_t count = 0;
    for (size_t i = 0; i < idx->n_manifests; i++) {
        const struct gantry_oci_descriptor *d = &idx->manifests[i];
        const char *name = gantry_oci_descriptor_annotation(d, GANTRY_OCI_ANNOTATION_REF_NAME);
        if (!name)
            continue;
        refs[count].name = xstrdup(name);
        gantry_oci_descriptor_copy(&refs[count].desc, d);
        count++;
    }
    gantry_oci_index_free(idx);
    *out = refs;
    *n = count;
    return 0;
}

void gantry_store_ref_list_free(struct gantry_store_ref *refs, size_t n)
{
    for (size_t i = 0; refs && i < n; i++) {
        free(refs[i].name);
        gantry_oci_descriptor_release(&refs[i].desc);
    }
    free(refs);
}
