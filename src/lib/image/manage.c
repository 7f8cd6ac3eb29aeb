/* `gantry tag`, `gantry rmi`, `gantry prune`: names and garbage, over the store. */
#include <gantry/ref.h>

#include "image_internal.h"

int gantry_image_tag(struct gantry_store *s, const char *source, const char *target,
                     struct gantry_error **err)
{
    struct gantry_ref ref = GANTRY_REF_INIT;
    if (gantry_ref_parse(target, strlen(target), &ref, err) < 0)
        return -1;
    _cleanup_free_ char *name = ref.digest ? NULL : gantry_ref_to_string(&ref);
    gantry_ref_release(&ref);
    if (!name)
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0,
                                "invalid reference '%s': a name cannot contain a digest", target);
    _cleanup_descriptor_ struct gantry_oci_descriptor desc = GANTRY_OCI_DESCRIPTOR_INIT;
    if (gantry_image_resolve(s, source, &desc, NULL, err) < 0)
        return -1;
    gantry_oci_descriptor_set_annotation(&desc, GANTRY_OCI_ANNOTATION_REF_NAME, name);
    if (gantry_store_ref_set(s, name, &desc, err) < 0)
        return gantry_error_prefix(err, "tag '%s'", target);
    return 0;
}

/* Every name whose descriptor has digest (NULL-terminated; caller frees). */
static char **names_of(struct gantry_store *s, const char *digest, size_t *n,
                       struct gantry_error **err)
{
    struct gantry_store_ref *refs = NULL;
    size_t count = 0;
    if (gantry_store_ref_list(s, &refs, &count, err) < 0)
        return NULL;
    char **names = xcalloc(1, sizeof(*names));
    *n = 0;
    for (size_t i = 0; i < count; i++)
        if (strcmp(refs[i].desc.digest, digest) == 0)
            image_strv_push(&names, n, xstrdup(refs[i].name));
    gantry_store_ref_list_free(refs, count);
    return names;
}

/* Delete each name; one already gone (a concurrent rmi) is not an error. */
static int delete_names(struct gantry_store *s, char **names, struct gantry_error **err)
{
    for (char **p = names; *p; p++) {
        struct gantry_error *e = NULL;
        if (gantry_store_ref_delete(s, *p, &e) == 0)
            continue;
        if (e->code == GANTRY_E_NOT_FOUND) {
            gantry_error_free(e);
            continue;
        }
        if (err)
            *err = e;
        else
            gantry_error_free(e);
        return -1;
    }
    return 0;
}

int gantry_image_remove(struct gantry_store *s, const char *ref_string, bool force, char ***removed,
                        struct gantry_error **err)
{
    if (removed)
        *removed = NULL;
    _cleanup_descriptor_ struct gantry_oci_descriptor desc = GANTRY_OCI_DESCRIPTOR_INIT;
    _cleanup_free_ char *name = NULL;
    if (gantry_image_resolve(s, ref_string, &desc, &name, err) < 0)
        return -1;
    _cleanup_strv_ char **names = NULL;
    size_t n = 0;
    if (name) {
        image_strv_push(&names, &n, steal_pointer(&name));
    } else {
        names = names_of(s, desc.digest, &n, err);
        if (!names)
            return -1;
        if (n > 1 && !force)
            return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0,
                                    "image '%s' is referenced by several names (use -f)",
                                    ref_string);
    }
    if (delete_names(s, names, err) < 0)
        return gantry_error_prefix(err, "remove '%s'", ref_string);
    if (removed)
        *removed = steal_pointer(&names);
    return 0;
}

int gantry_image_prune(struct gantry_store *s, struct gantry_image_prune_result *res,
                       struct gantry_error **err)
{
    struct gantry_store_gc_stats st = {0};
    if (gantry_store_gc(s, &st, err) < 0)
        return gantry_error_prefix(err, "prune");
    if (res)
        *res = (struct gantry_image_prune_result){.blobs_deleted = st.blobs_removed,
                                                  .bytes_reclaimed = st.bytes_removed};
    return 0;
}
