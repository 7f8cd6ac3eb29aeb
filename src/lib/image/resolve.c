/* Finding images in the store: names, digests, id prefixes, platforms. */
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

/* "os/arch[/variant]" of p, plus "(missing)" when the child is not stored. */
static void list_platform(struct gantry_buf *list, const struct gantry_platform *p, bool local)
{
    _cleanup_free_ char *name = gantry_platform_format(p);
    if (gantry_buf_addf(list, "%s%s%s", list->len ? ", " : "", name, local ? "" : "(missing)") < 0)
        oom();
}

struct selection {
    const struct gantry_platform *want;
    bool strict;
    bool any; /* every platform matches */
    size_t best;
    int best_rank; /* -1: nothing yet */
    struct gantry_platform best_platform;
    bool missing_match;     /* a matching child exists but is not stored */
    struct gantry_buf list; /* what the image has, for the error */
};

/* Platform of child k; 1 considered, 0 skipped (attestation, unknown), -1 error. */
static int consider(struct gantry_store *s, const struct gantry_store_child *k, bool is_index,
                    size_t i, struct selection *sel, struct gantry_error **err)
{
    if (!gantry_oci_is_manifest_type(k->desc.media_type) ||
        gantry_oci_descriptor_is_attestation(&k->desc))
        return 0;
    struct gantry_platform p = GANTRY_PLATFORM_INIT;
    if (is_index && !k->local && !k->desc.platform)
        return 0; /* neither stored nor described: nothing to say about it */
    if (image_manifest_platform(s, &k->desc, is_index, &p, err) < 0)
        return -1;
    if (gantry_platform_is_unknown(&p)) {
        gantry_platform_release(&p);
        return 0;
    }
    list_platform(&sel->list, &p, k->local);
    int rank = sel->any ? 0 : gantry_platform_match_rank(sel->want, &p, sel->strict);
    if (rank >= 0 && !k->local)
        sel->missing_match = true;
    if (rank >= 0 && k->local && (sel->best_rank < 0 || rank < sel->best_rank)) {
        gantry_platform_release(&sel->best_platform);
        sel->best_platform = p;
        sel->best = i;
        sel->best_rank = rank;
        return 1;
    }
    gantry_platform_release(&p);
    return 1;
}

static int no_match(const struct gantry_oci_descriptor *desc, const struct selection *sel,
                    struct gantry_error **err)
{
    _cleanup_free_ char *want = gantry_platform_format(sel->want);
    const char *name = gantry_oci_descriptor_annotation(desc, GANTRY_OCI_ANNOTATION_REF_NAME);
    name = name ? name : desc->digest;
    if (sel->missing_match)
        return gantry_error_set(err, GANTRY_E_NOT_FOUND, 0,
                                "manifest for %s in '%s' is not in the store (it has: %s)", want,
                                name, sel->list.data);
    return gantry_error_set(err, GANTRY_E_NOT_FOUND, 0,
                            "no matching manifest for %s in '%s' (it has: %s)", want, name,
                            sel->list.len ? sel->list.data : "no platforms");
}

static void selection_release(struct selection *sel)
{
    gantry_platform_release(&sel->best_platform);
    gantry_buf_release(&sel->list);
}
#define _cleanup_selection_ __attribute__((cleanup(selection_release)))

int gantry_image_select_platform(struct gantry_store *s, const struct gantry_oci_descriptor *desc,
                                 const struct gantry_platform *want, bool strict,
                                 struct gantry_oci_descriptor *child_out, struct gantry_error **err)
{
    *child_out = (struct gantry_oci_descriptor)GANTRY_OCI_DESCRIPTOR_INIT;
    _cleanup_platform_ struct gantry_platform host = GANTRY_PLATFORM_INIT;
    if (!want && gantry_platform_host(&host, err) < 0)
        return -1;
    /* The host's platform only chooses among an index's entries. */
    bool any = !want && !gantry_oci_is_index_type(desc->media_type);
    _cleanup_selection_ struct selection sel = {.want = want ? want : &host,
                                                .strict = strict,
                                                .any = any,
                                                .best_rank = -1,
                                                .best_platform = GANTRY_PLATFORM_INIT,
                                                .list = GANTRY_BUF_INIT};
    struct gantry_store_child *kids = NULL;
    size_t n = 0;
    if (gantry_store_image_children(s, desc, &kids, &n, err) < 0)
        return -1;
    bool is_index = gantry_oci_is_index_type(desc->media_type);
    for (size_t i = 0; i < n; i++) {
        if (consider(s, &kids[i], is_index, i, &sel, err) < 0) {
            gantry_store_children_free(kids, n);
            return -1;
        }
    }
    if (sel.best_rank < 0) {
        gantry_store_children_free(kids, n);
        return no_match(desc, &sel, err);
    }
    gantry_oci_descriptor_copy(child_out, &kids[sel.best].desc);
    gantry_store_children_free(kids, n);
    if (!child_out->platform)
        child_out->platform = image_oci_platform(&sel.best_platform);
    return 0;
}
