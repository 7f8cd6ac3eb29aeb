/* Finding images in the store: names, digests, id prefixes (platforms: select.c). */
#include <gantry/ref.h>

#include "image_internal.h"

/* Shortest id prefix accepted, so that short names are not taken for ids. */
#define ID_PREFIX_MIN 4

struct refs {
    struct gantry_store_ref *items;
    size_t n;
};

static void refs_release(struct refs *r)
{
    gantry_store_ref_list_free(r->items, r->n);
}
#define _cleanup_refs_ __attribute__((cleanup(refs_release)))

/* The hex part when s is "[sha256:]" + 4 to 64 lower-case hex digits. */
static const char *id_prefix(const char *s)
{
    if (str_has_prefix(s, "sha256:"))
        s += strlen("sha256:");
    size_t n = strspn(s, "0123456789abcdef");
    return n >= ID_PREFIX_MIN && n <= 64 && !s[n] ? s : NULL;
}

static int not_found(const char *what, struct gantry_error **err)
{
    return gantry_error_set(err, GANTRY_E_NOT_FOUND, 0, "no such image: '%s'", what);
}

/* Does entry r match the id prefix hex (its digest or its image id)? */
static bool matches_id(struct gantry_store *s, const struct gantry_store_ref *r, const char *hex)
{
    size_t n = strlen(hex);
    if (strncmp(gantry_digest_hex(r->desc.digest), hex, n) == 0)
        return true;
    char id[GANTRY_DIGEST_MAX];
    _cleanup_error_ struct gantry_error *ignored = NULL;
    if (!str_has_prefix(r->desc.digest, "sha256:") || image_id(s, &r->desc, id, &ignored) < 0)
        return false; /* an unreadable image cannot be found by id, only by name */
    return strncmp(gantry_digest_hex(id), hex, n) == 0;
}

/* 1 found, 0 none, -1 error (ambiguous prefix, store). */
static int resolve_id(struct gantry_store *s, const char *what, const char *hex,
                      struct gantry_oci_descriptor *out, struct gantry_error **err)
{
    _cleanup_refs_ struct refs refs = {0};
    if (gantry_store_ref_list(s, &refs.items, &refs.n, err) < 0)
        return -1;
    const struct gantry_store_ref *found = NULL;
    for (size_t i = 0; i < refs.n; i++) {
        const struct gantry_store_ref *r = &refs.items[i];
        if (found && strcmp(found->desc.digest, r->desc.digest) == 0)
            continue;
        if (!matches_id(s, r, hex))
            continue;
        if (found)
            return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0,
                                    "image id prefix '%s' is ambiguous", what);
        found = r;
    }
    if (!found)
        return 0;
    gantry_oci_descriptor_copy(out, &found->desc);
    return 1;
}

/* name@digest: the exact name, else any name of that repository with that digest. */
static int resolve_digest_ref(struct gantry_store *s, const struct gantry_ref *ref,
                              struct gantry_oci_descriptor *out, char **name_out,
                              struct gantry_error **err)
{
    _cleanup_free_ char *full = gantry_ref_to_string(ref);
    _cleanup_free_ char *repo = gantry_ref_repository(ref);
    _cleanup_refs_ struct refs refs = {0};
    if (gantry_store_ref_list(s, &refs.items, &refs.n, err) < 0)
        return -1;
    const struct gantry_store_ref *exact = NULL, *same = NULL;
    size_t rl = strlen(repo);
    for (size_t i = 0; i < refs.n && !exact; i++) {
        const struct gantry_store_ref *r = &refs.items[i];
        char next = strncmp(r->name, repo, rl) == 0 ? r->name[rl] : '\0';
        if (strcmp(r->name, full) == 0)
            exact = r;
        else if (!same && (next == ':' || next == '@') && strcmp(r->desc.digest, ref->digest) == 0)
            same = r;
    }
    const struct gantry_store_ref *found = exact ? exact : same;
    if (!found)
        return gantry_error_set(err, GANTRY_E_NOT_FOUND, 0, "not found");
    gantry_oci_descriptor_copy(out, &found->desc);
    if (name_out)
        *name_out = xstrdup(found->name);
    return 0;
}

static int resolve_ref(struct gantry_store *s, const struct gantry_ref *ref,
                       struct gantry_oci_descriptor *out, char **name_out,
                       struct gantry_error **err)
{
    if (ref->digest)
        return resolve_digest_ref(s, ref, out, name_out, err);
    _cleanup_free_ char *full = gantry_ref_to_string(ref);
    if (gantry_store_ref_get(s, full, out, err) < 0)
        return -1;
    if (name_out)
        *name_out = steal_pointer(&full);
    return 0;
}

/* By name; 1 found, 0 not found or not a reference (*perr then says why), -1 error. */
static int try_name(struct gantry_store *s, const char *ref_string,
                    struct gantry_oci_descriptor *out, char **name_out, struct gantry_error **perr,
                    struct gantry_error **err)
{
    struct gantry_ref ref = GANTRY_REF_INIT;
    if (gantry_ref_parse(ref_string, strlen(ref_string), &ref, perr) < 0)
        return 0;
    _cleanup_error_ struct gantry_error *e = NULL;
    int rc = resolve_ref(s, &ref, out, name_out, &e);
    gantry_ref_release(&ref);
    if (rc == 0)
        return 1;
    if (e->code == GANTRY_E_NOT_FOUND)
        return 0;
    *err = steal_pointer(&e);
    return -1;
}

int gantry_image_resolve(struct gantry_store *s, const char *ref_string,
                         struct gantry_oci_descriptor *out, char **name_out,
                         struct gantry_error **err)
{
    *out = (struct gantry_oci_descriptor)GANTRY_OCI_DESCRIPTOR_INIT;
    if (name_out)
        *name_out = NULL;
    _cleanup_error_ struct gantry_error *parse_err = NULL;
    struct gantry_error *e = NULL;
    int rc = try_name(s, ref_string, out, name_out, &parse_err, &e);
    if (rc != 0) {
        if (rc < 0 && err)
            *err = e;
        else
            gantry_error_free(e);
        return rc < 0 ? -1 : 0;
    }
    const char *hex = id_prefix(ref_string);
    if (hex) {
        rc = resolve_id(s, ref_string, hex, out, err);
        if (rc != 0)
            return rc < 0 ? -1 : 0;
    }
    if (parse_err && !hex) {
        if (err)
            *err = steal_pointer(&parse_err);
        return -1;
    }
    return not_found(ref_string, err);
}
