/* Lists in the store: open, save, create, add, remove, annotate, delete. */
#include <gantry/ref.h>

#include "manifest_internal.h"

void manifest_list_release(struct manifest_list *l)
{
    free(l->name);
    gantry_oci_descriptor_release(&l->old);
    gantry_oci_index_free(l->idx);
    gantry_oci_descriptor_release(&l->sources);
    *l = (struct manifest_list){0};
}

/* The full name of list; a digest is refused (a list is edited by name). */
static int list_name(const char *list, char **out, struct gantry_error **err)
{
    struct gantry_ref r = GANTRY_REF_INIT;
    if (gantry_ref_parse(list, strlen(list), &r, err) < 0)
        return -1;
    if (r.digest) {
        gantry_ref_release(&r);
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0,
                                "invalid manifest list name '%s': a digest is not allowed", list);
    }
    *out = gantry_ref_to_string(&r);
    gantry_ref_release(&r);
    return 0;
}

static int no_such_list(const char *list, struct gantry_error **err)
{
    return gantry_error_set(err, GANTRY_E_NOT_FOUND, 0, "no such manifest list: '%s'", list);
}

/* Look the name up: 1 found, 0 absent, -1 error. */
static int lookup(struct gantry_store *s, const char *name, struct gantry_oci_descriptor *out,
                  struct gantry_error **err)
{
    struct gantry_error *e = NULL;
    if (gantry_store_ref_get(s, name, out, &e) == 0)
        return 1;
    if (e && e->code == GANTRY_E_NOT_FOUND) {
        gantry_error_free(e);
        return 0;
    }
    if (err)
        *err = e;
    else
        gantry_error_free(e);
    return -1;
}

int manifest_list_open(struct gantry_store *s, const char *list, enum manifest_open_mode mode,
                       struct manifest_list *l, struct gantry_error **err)
{
    *l = (struct manifest_list){.display = list};
    if (list_name(list, &l->name, err) < 0)
        return -1;
    int found = lookup(s, l->name, &l->old, err);
    if (found < 0)
        return -1;
    if (!found && mode == MANIFEST_OPEN_EXISTING)
        return no_such_list(list, err);
    if (found && mode == MANIFEST_OPEN_NEW)
        return gantry_error_set(err, GANTRY_E_EXISTS, 0, "'%s' already exists, use --amend", list);
    if (!found) {
        l->idx = gantry_oci_index_new(NULL);
        return 0;
    }
    if (!gantry_oci_is_index_type(l->old.media_type))
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0, "'%s' is not a manifest list", list);
    for (size_t i = 0; i < l->old.n_annotations; i++)
        if (str_has_prefix(l->old.annotations[i].key, MANIFEST_SOURCE_PREFIX))
            gantry_oci_descriptor_set_annotation(&l->sources, l->old.annotations[i].key,
                                                 l->old.annotations[i].value);
    l->idx = manifest_load_index(s, &l->old, err);
    return l->idx ? 0 : -1;
}

const char *manifest_list_source(const struct manifest_list *l, const char *digest)
{
    _cleanup_free_ char *key = xasprintf("%s%s", MANIFEST_SOURCE_PREFIX, digest);
    return gantry_oci_descriptor_annotation(&l->sources, key);
}

static bool has_digest(const struct gantry_oci_index *idx, const char *digest);

/* The sources of the children still in the list, onto the store entry d. */
static void put_sources(const struct manifest_list *l, struct gantry_oci_descriptor *d)
{
    for (size_t i = 0; i < l->sources.n_annotations; i++) {
        const struct gantry_oci_kv *kv = &l->sources.annotations[i];
        if (has_digest(l->idx, kv->key + strlen(MANIFEST_SOURCE_PREFIX)))
            gantry_oci_descriptor_set_annotation(d, kv->key, kv->value);
    }
}

/* Has the name moved since it was opened? -1 on a store error. */
static int name_moved(struct gantry_store *s, const struct manifest_list *l,
                      struct gantry_error **err)
{
    _cleanup_mdesc_ struct gantry_oci_descriptor now = GANTRY_OCI_DESCRIPTOR_INIT;
    int found = lookup(s, l->name, &now, err);
    if (found < 0)
        return -1;
    if (!found || !l->old.digest)
        return found != (l->old.digest != NULL);
    return strcmp(now.digest, l->old.digest) != 0;
}

int manifest_list_save(struct gantry_store *s, struct manifest_list *l,
                       char digest_out[GANTRY_DIGEST_MAX], struct gantry_error **err)
{
    if (gantry_oci_index_serialize(l->idx, err) < 0)
        return gantry_error_prefix(err, "manifest list '%s'", l->display);
    char digest[GANTRY_DIGEST_MAX];
    if (gantry_store_put_blob(s, l->idx->raw, l->idx->raw_len, digest, err) < 0)
        return -1;
    int moved = name_moved(s, l, err);
    if (moved < 0)
        return -1;
    /*
     * The store offers no compare-and-swap on a name, so this only narrows
     * the window in which two concurrent edits can lose one of them.
     */
    if (moved)
        return gantry_error_set(err, GANTRY_E_DENIED, 0,
                                "manifest list '%s' was changed by another process, try again",
                                l->display);
    _cleanup_mdesc_ struct gantry_oci_descriptor d = GANTRY_OCI_DESCRIPTOR_INIT;
    gantry_oci_descriptor_init(&d, l->idx->media_type, digest, (int64_t)l->idx->raw_len);
    put_sources(l, &d);
    if (gantry_store_ref_set(s, l->name, &d, err) < 0)
        return -1;
    if (digest_out)
        snprintf(digest_out, GANTRY_DIGEST_MAX, "%s", digest);
    return 0;
}

static bool has_digest(const struct gantry_oci_index *idx, const char *digest)
{
    for (size_t i = 0; i < idx->n_manifests; i++)
        if (strcmp(idx->manifests[i].digest, digest) == 0)
            return true;
    return false;
}

/* A Docker manifest list holds Docker manifests (and lists) only: nothing is converted. */
static int check_docker_entries(const struct manifest_list *l, struct gantry_error **err)
{
    if (!gantry_oci_media_type_equal(l->idx->media_type, GANTRY_MT_DOCKER_MANIFEST_LIST))
        return 0;
    for (size_t i = 0; i < l->idx->n_manifests; i++) {
        const struct gantry_oci_descriptor *d = &l->idx->manifests[i];
        if (!gantry_oci_media_type_equal(d->media_type, GANTRY_MT_DOCKER_MANIFEST) &&
            !gantry_oci_media_type_equal(d->media_type, GANTRY_MT_DOCKER_MANIFEST_LIST))
            return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0,
                                    "a docker manifest list cannot hold %s of type %s (use "
                                    "--format oci)",
                                    d->digest, d->media_type);
    }
    return 0;
}

/*
 * Append the entries not in the list yet, then check the result; the new
 * duplicate platforms go to r.
 */
static int merge(struct manifest_list *l, const struct manifest_entries *add,
                 struct gantry_manifest_edit_result *r, struct gantry_error **err)
{
    size_t first_new = l->idx->n_manifests;
    for (size_t i = 0; i < add->n; i++) {
        if (!has_digest(l->idx, add->items[i].digest))
            gantry_oci_index_add(l->idx, &add->items[i]);
        if (add->sources[i]) {
            _cleanup_free_ char *key =
                xasprintf("%s%s", MANIFEST_SOURCE_PREFIX, add->items[i].digest);
            gantry_oci_descriptor_set_annotation(&l->sources, key, add->sources[i]);
        }
    }
    manifest_find_duplicates(l->idx->manifests, l->idx->n_manifests, first_new, r);
    return check_docker_entries(l, err);
}

static void set_format(struct manifest_list *l, enum gantry_manifest_format f)
{
    if (f == GANTRY_MANIFEST_FORMAT_DEFAULT)
        return;
    free(l->idx->media_type);
    l->idx->media_type = xstrdup(f == GANTRY_MANIFEST_FORMAT_DOCKER ? GANTRY_MT_DOCKER_MANIFEST_LIST
                                                                    : GANTRY_MT_OCI_INDEX);
}

static void cleanup_resultp(struct gantry_manifest_edit_result *r)
{
    gantry_manifest_edit_result_release(r);
}
#define _cleanup_result_ __attribute__((cleanup(cleanup_resultp)))

static int check_pick(const struct manifest_pick *pick, struct gantry_error **err)
{
    if (pick->want && pick->no_flatten)
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0,
                                "a platform and no-flatten cannot be combined: a nested index "
                                "keeps all its platforms");
    return 0;
}

/* Save l with the entries of add; on success the result goes to out (may be NULL). */
static int finish_edit(struct gantry_store *s, struct manifest_list *l,
                       const struct manifest_entries *add, struct gantry_manifest_edit_result *out,
                       struct gantry_error **err)
{
    _cleanup_result_ struct gantry_manifest_edit_result r = {0};
    if (merge(l, add, &r, err) < 0 || manifest_list_save(s, l, r.digest, err) < 0)
        return -1;
    if (out) {
        *out = r;
        r = (struct gantry_manifest_edit_result){0};
    }
    return 0;
}

int gantry_manifest_create(struct gantry_store *s, const char *list, const char *const *refs,
                           size_t n_refs, const struct gantry_manifest_create_opts *opts,
                           struct gantry_manifest_edit_result *out, struct gantry_error **err)
{
    static const struct gantry_manifest_create_opts none = {0};
    opts = opts ? opts : &none;
    if (out)
        *out = (struct gantry_manifest_edit_result){0};
    struct manifest_pick pick = {.want = opts->platform, .no_flatten = opts->no_flatten};
    if (check_pick(&pick, err) < 0)
        return -1;
    if (n_refs == 0 && !opts->amend)
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0,
                                "manifest list '%s' needs at least one image", list);
    _cleanup_mlist_ struct manifest_list l = {0};
    if (manifest_list_open(s, list, opts->amend ? MANIFEST_OPEN_AMEND : MANIFEST_OPEN_NEW, &l,
                           err) < 0)
        return -1;
    set_format(&l, opts->format);
    _cleanup_entries_ struct manifest_entries add = {0};
    for (size_t i = 0; i < n_refs; i++)
        if (manifest_collect_any(s, opts->client, refs[i], &pick, &add, err) < 0)
            return -1;
    return finish_edit(s, &l, &add, out, err);
}

int gantry_manifest_add(struct gantry_store *s, const char *list, const char *ref,
                        const struct gantry_manifest_add_opts *opts,
                        struct gantry_manifest_edit_result *out, struct gantry_error **err)
{
    static const struct gantry_manifest_add_opts none = {0};
    opts = opts ? opts : &none;
    if (out)
        *out = (struct gantry_manifest_edit_result){0};
    struct manifest_pick pick = {.want = opts->platform, .no_flatten = opts->no_flatten};
    if (check_pick(&pick, err) < 0)
        return -1;
    _cleanup_mlist_ struct manifest_list l = {0};
    if (manifest_list_open(s, list, MANIFEST_OPEN_EXISTING, &l, err) < 0)
        return -1;
    _cleanup_entries_ struct manifest_entries add = {0};
    if (manifest_collect_any(s, opts->client, ref, &pick, &add, err) < 0)
        return -1;
    return finish_edit(s, &l, &add, out, err);
}

int gantry_manifest_remove(struct gantry_store *s, const char *list, const char *what,
                           char digest_out[GANTRY_DIGEST_MAX], struct gantry_error **err)
{
    _cleanup_mlist_ struct manifest_list l = {0};
    if (manifest_list_open(s, list, MANIFEST_OPEN_EXISTING, &l, err) < 0)
        return -1;
    _cleanup_free_ bool *hit = NULL;
    size_t count = 0;
    if (manifest_match_entries(l.idx->manifests, l.idx->n_manifests, what, &hit, &count, err) < 0)
        return -1;
    if (count == 0)
        return gantry_error_set(err, GANTRY_E_NOT_FOUND, 0, "no entry '%s' in manifest list '%s'",
                                what, list);
    for (size_t i = l.idx->n_manifests; i-- > 0;)
        if (hit[i])
            gantry_oci_index_remove(l.idx, i);
    return manifest_list_save(s, &l, digest_out, err);
}

/* The child digest l records as read from the remote reference target, or NULL. */
static const char *remote_target(const struct manifest_list *l, const char *target)
{
    const char *spec = target;
    manifest_is_remote_spelling(target, &spec);
    struct gantry_ref r = GANTRY_REF_INIT;
    if (gantry_ref_parse(spec, strlen(spec), &r, NULL) < 0)
        return NULL;
    _cleanup_free_ char *full = gantry_ref_to_string(&r);
    gantry_ref_release(&r);
    const char *found = NULL;
    for (size_t i = 0; i < l->sources.n_annotations; i++) {
        const struct gantry_oci_kv *kv = &l->sources.annotations[i];
        const char *digest = kv->key + strlen(MANIFEST_SOURCE_PREFIX);
        if (strcmp(kv->value, full) != 0 || !has_digest(l->idx, digest))
            continue;
        if (found) /* an index read remotely: its entries are named by digest */
            return NULL;
        found = digest;
    }
    return found;
}

/*
 * The digest target names: itself, the manifest of a local image, or the
 * child read from that remote reference.
 */
static int target_digest(struct gantry_store *s, const struct manifest_list *l, const char *target,
                         char **out, struct gantry_error **err)
{
    const char *remote = remote_target(l, target);
    if (remote &&
        (manifest_is_remote_spelling(target, NULL) || manifest_local_image(s, target, NULL) == 0)) {
        *out = xstrdup(remote);
        return 0;
    }
    if (str_has_prefix(target, "sha256:") || str_has_prefix(target, "sha512:")) {
        if (gantry_digest_validate(target, strlen(target), NULL, err) < 0)
            return gantry_error_prefix(err, "invalid digest '%s'", target);
        *out = xstrdup(target);
        return 0;
    }
    _cleanup_mdesc_ struct gantry_oci_descriptor d = GANTRY_OCI_DESCRIPTOR_INIT;
    if (manifest_resolve(s, target, &d, NULL, err) < 0)
        return -1;
    if (!gantry_oci_is_manifest_type(d.media_type))
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0,
                                "'%s' is not a single-platform image: name the entry by digest",
                                target);
    *out = steal_pointer(&d.digest);
    return 0;
}

int gantry_manifest_annotate(struct gantry_store *s, const char *list, const char *target,
                             const struct gantry_manifest_annotation *a,
                             char digest_out[GANTRY_DIGEST_MAX], struct gantry_error **err)
{
    _cleanup_mlist_ struct manifest_list l = {0};
    if (manifest_list_open(s, list, MANIFEST_OPEN_EXISTING, &l, err) < 0)
        return -1;
    _cleanup_free_ char *digest = NULL;
    if (target_digest(s, &l, target, &digest, err) < 0)
        return -1;
    size_t k = 0;
    while (k < l.idx->n_manifests && strcmp(l.idx->manifests[k].digest, digest) != 0)
        k++;
    if (k == l.idx->n_manifests)
        return gantry_error_set(err, GANTRY_E_NOT_FOUND, 0, "no entry '%s' in manifest list '%s'",
                                target, list);
    /* Only a new platform is checked: the entries of a list that has
     * duplicates already can still be annotated (and fixed). */
    _cleanup_free_ char *before = manifest_entry_platform_string(&l.idx->manifests[k]);
    if (gantry_manifest_annotate_entry(&l.idx->manifests[k], a, err) < 0)
        return gantry_error_prefix(err, "annotate '%s'", target);
    _cleanup_free_ char *after = manifest_entry_platform_string(&l.idx->manifests[k]);
    if (strcmp(before, after) != 0 &&
        manifest_check_duplicate_of(l.idx->manifests, l.idx->n_manifests, k, err) < 0)
        return gantry_error_prefix(err, "annotate '%s'", target);
    return manifest_list_save(s, &l, digest_out, err);
}

int gantry_manifest_delete(struct gantry_store *s, const char *list, struct gantry_error **err)
{
    _cleanup_free_ char *name = NULL;
    if (list_name(list, &name, err) < 0)
        return -1;
    _cleanup_mdesc_ struct gantry_oci_descriptor d = GANTRY_OCI_DESCRIPTOR_INIT;
    int found = lookup(s, name, &d, err);
    if (found <= 0)
        return found < 0 ? -1 : no_such_list(list, err);
    if (!gantry_oci_is_index_type(d.media_type))
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0, "'%s' is not a manifest list", list);
    return gantry_store_ref_delete(s, name, err);
}
