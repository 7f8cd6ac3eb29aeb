/*
 * The pure part of list editing: entry vectors, platforms of entries,
 * duplicate detection, matching entries for remove, annotate.
 */
#include <gantry/digest.h>

#include "manifest_internal.h"

void manifest_entries_push(struct manifest_entries *v, const struct gantry_oci_descriptor *d)
{
    v->items = xrealloc(v->items, (v->n + 1) * sizeof(*v->items));
    v->sources = xrealloc(v->sources, (v->n + 1) * sizeof(*v->sources));
    v->sources[v->n] = NULL;
    v->items[v->n] = (struct gantry_oci_descriptor)GANTRY_OCI_DESCRIPTOR_INIT;
    gantry_oci_descriptor_copy(&v->items[v->n], d);
    v->n++;
}

void manifest_entries_release(struct manifest_entries *v)
{
    for (size_t i = 0; i < v->n; i++) {
        gantry_oci_descriptor_release(&v->items[i]);
        free(v->sources[i]);
    }
    free(v->items);
    free(v->sources);
    *v = (struct manifest_entries){0};
}

bool manifest_entry_is_image(const struct gantry_oci_descriptor *d)
{
    return gantry_oci_is_manifest_type(d->media_type) && !gantry_oci_descriptor_is_attestation(d);
}

static char *dup0(const char *s)
{
    return s && *s ? xstrdup(s) : NULL;
}

void manifest_platform_from_oci(const struct gantry_oci_platform *o, struct gantry_platform *out)
{
    *out = (struct gantry_platform)GANTRY_PLATFORM_INIT;
    out->os = dup0(o->os);
    out->architecture = dup0(o->architecture);
    out->variant = dup0(o->variant);
    out->os_version = dup0(o->os_version);
    if (o->n_os_features) {
        out->os_features = xcalloc(o->n_os_features + 1, sizeof(*out->os_features));
        for (size_t i = 0; i < o->n_os_features; i++)
            out->os_features[i] = xstrdup(o->os_features[i]);
        out->n_os_features = o->n_os_features;
    }
    gantry_platform_normalize(out);
}

char *manifest_entry_platform_string(const struct gantry_oci_descriptor *d)
{
    if (!d->platform)
        return xstrdup("unknown");
    _cleanup_mplatform_ struct gantry_platform p = GANTRY_PLATFORM_INIT;
    manifest_platform_from_oci(d->platform, &p);
    return gantry_platform_format(&p);
}

/* Do two entries count as the same platform? Only image entries with one. */
static bool same_platform(const struct gantry_oci_descriptor *a,
                          const struct gantry_oci_descriptor *b)
{
    if (!manifest_entry_is_image(a) || !manifest_entry_is_image(b) || !a->platform || !b->platform)
        return false;
    _cleanup_mplatform_ struct gantry_platform pa = GANTRY_PLATFORM_INIT;
    _cleanup_mplatform_ struct gantry_platform pb = GANTRY_PLATFORM_INIT;
    manifest_platform_from_oci(a->platform, &pa);
    manifest_platform_from_oci(b->platform, &pb);
    return gantry_platform_equal(&pa, &pb);
}

static int duplicate_error(const struct gantry_oci_descriptor *a,
                           const struct gantry_oci_descriptor *b, struct gantry_error **err)
{
    _cleanup_free_ char *p = manifest_entry_platform_string(a);
    return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0,
                            "duplicate platform '%s': %s and %s (use --allow-duplicates to keep "
                            "both)",
                            p, a->digest, b->digest);
}

int gantry_manifest_check_duplicates(const struct gantry_oci_descriptor *entries, size_t n,
                                     size_t first_new, struct gantry_error **err)
{
    for (size_t j = first_new; j < n; j++)
        for (size_t i = 0; i < j; i++)
            if (same_platform(&entries[i], &entries[j]))
                return duplicate_error(&entries[i], &entries[j], err);
    return 0;
}

int manifest_check_duplicate_of(const struct gantry_oci_descriptor *entries, size_t n, size_t k,
                                struct gantry_error **err)
{
    for (size_t i = 0; i < n; i++)
        if (i != k && same_platform(&entries[i], &entries[k]))
            return i < k ? duplicate_error(&entries[i], &entries[k], err)
                         : duplicate_error(&entries[k], &entries[i], err);
    return 0;
}

void manifest_find_duplicates(const struct gantry_oci_descriptor *entries, size_t n,
                              size_t first_new, struct gantry_manifest_edit_result *r)
{
    for (size_t j = first_new; j < n; j++) {
        size_t i = 0;
        while (i < j && !same_platform(&entries[i], &entries[j]))
            i++;
        if (i == j)
            continue;
        r->duplicates = xrealloc(r->duplicates, (r->n_duplicates + 1) * sizeof(*r->duplicates));
        struct gantry_manifest_duplicate *d = &r->duplicates[r->n_duplicates++];
        d->platform = manifest_entry_platform_string(&entries[j]);
        snprintf(d->first, sizeof(d->first), "%s", entries[i].digest);
        snprintf(d->second, sizeof(d->second), "%s", entries[j].digest);
    }
}

void gantry_manifest_edit_result_release(struct gantry_manifest_edit_result *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_duplicates; i++)
        free(r->duplicates[i].platform);
    free(r->duplicates);
    *r = (struct gantry_manifest_edit_result){0};
}

/* Mark the image entries of platform spec what. */
static int match_platform(const struct gantry_oci_descriptor *entries, size_t n, const char *what,
                          bool *hit, struct gantry_error **err)
{
    _cleanup_mplatform_ struct gantry_platform want = GANTRY_PLATFORM_INIT;
    if (gantry_platform_parse(what, strlen(what), &want, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (!manifest_entry_is_image(&entries[i]) || !entries[i].platform)
            continue;
        _cleanup_mplatform_ struct gantry_platform p = GANTRY_PLATFORM_INIT;
        manifest_platform_from_oci(entries[i].platform, &p);
        hit[i] = gantry_platform_equal(&want, &p);
    }
    return 0;
}

/* Attestations follow the images they describe. */
static void match_attestations(const struct gantry_oci_descriptor *entries, size_t n, bool *hit)
{
    for (size_t i = 0; i < n; i++) {
        const char *subject =
            gantry_oci_descriptor_annotation(&entries[i], GANTRY_OCI_ANNOTATION_REFERENCE_DIGEST);
        if (hit[i] || !gantry_oci_descriptor_is_attestation(&entries[i]) || !subject)
            continue;
        for (size_t j = 0; j < n && !hit[i]; j++)
            hit[i] = hit[j] && manifest_entry_is_image(&entries[j]) &&
                     strcmp(entries[j].digest, subject) == 0;
    }
}

int manifest_match_entries(const struct gantry_oci_descriptor *entries, size_t n, const char *what,
                           bool **out, size_t *count, struct gantry_error **err)
{
    _cleanup_free_ bool *hit = xcalloc(n ? n : 1, sizeof(*hit));
    if (strchr(what, ':')) {
        if (gantry_digest_validate(what, strlen(what), NULL, err) < 0)
            return gantry_error_prefix(err, "invalid digest '%s'", what);
        for (size_t i = 0; i < n; i++)
            hit[i] = strcmp(entries[i].digest, what) == 0;
    } else if (match_platform(entries, n, what, hit, err) < 0) {
        return -1;
    }
    match_attestations(entries, n, hit);
    *count = 0;
    for (size_t i = 0; i < n; i++)
        *count += hit[i];
    *out = steal_pointer(&hit);
    return 0;
}

/* ---- annotate ---- */

static int empty_value(const char *what, struct gantry_error **err)
{
    return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0, "empty %s", what);
}

static int no_platform(struct gantry_error **err)
{
    return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0,
                            "the entry has no platform: give both os and architecture");
}

/* os/arch/variant of np from old and a, normalized and checked. */
static int annotate_triple(struct gantry_oci_platform *np,
                           const struct gantry_manifest_annotation *a, struct gantry_error **err)
{
    if (a->os && !*a->os)
        return empty_value("os", err);
    if (a->architecture && !*a->architecture)
        return empty_value("architecture", err);
    const char *os = a->os ? a->os : np->os;
    const char *arch = a->architecture ? a->architecture : np->architecture;
    const char *variant = a->variant ? a->variant : a->architecture ? NULL : np->variant;
    if (!os || !*os || !arch || !*arch)
        return no_platform(err);
    _cleanup_free_ char *spec =
        xasprintf("%s/%s%s%s", os, arch, variant && *variant ? "/" : "", variant ? variant : "");
    _cleanup_mplatform_ struct gantry_platform p = GANTRY_PLATFORM_INIT;
    if (strchr(os, '/') || strchr(arch, '/') || (variant && strchr(variant, '/')))
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0, "invalid platform '%s'", spec);
    if (gantry_platform_parse(spec, strlen(spec), &p, err) < 0)
        return -1;
    if (!gantry_manifest_os_arch_valid(p.os, p.architecture))
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0,
                                "unsupported os/arch combination '%s/%s'", p.os, p.architecture);
    free(np->os);
    free(np->architecture);
    free(np->variant);
    np->os = steal_pointer(&p.os);
    np->architecture = steal_pointer(&p.architecture);
    np->variant = steal_pointer(&p.variant);
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool has_feature(const struct gantry_oci_platform *p, const char *f)
{
    for (size_t i = 0; i < p->n_os_features; i++)
        if (strcmp(p->os_features[i], f) == 0)
            return true;
    return false;
}

/* Add a's OS features to np, once each, sorted. */
static int merge_features(struct gantry_oci_platform *np,
                          const struct gantry_manifest_annotation *a, struct gantry_error **err)
{
    for (size_t i = 0; i < a->n_os_features; i++)
        if (!a->os_features[i] || !*a->os_features[i])
            return empty_value("os feature", err);
    for (size_t i = 0; i < a->n_os_features; i++) {
        if (has_feature(np, a->os_features[i]))
            continue;
        np->os_features =
            xrealloc(np->os_features, (np->n_os_features + 2) * sizeof(*np->os_features));
        np->os_features[np->n_os_features++] = xstrdup(a->os_features[i]);
        np->os_features[np->n_os_features] = NULL;
    }
    if (np->n_os_features > 1)
        qsort(np->os_features, np->n_os_features, sizeof(*np->os_features), cmp_str);
    return 0;
}

static int check_annotations(const struct gantry_manifest_annotation *a, struct gantry_error **err)
{
    for (size_t i = 0; i < a->n_annotations; i++) {
        const char *kv = a->annotations[i];
        const char *eq = kv ? strchr(kv, '=') : NULL;
        if (!eq || eq == kv)
            return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0,
                                    "invalid annotation '%s': not of the form key=value",
                                    kv ? kv : "");
    }
    return 0;
}

static void platform_freep(struct gantry_oci_platform **p)
{
    gantry_oci_platform_free(*p);
}

int gantry_manifest_annotate_entry(struct gantry_oci_descriptor *d,
                                   const struct gantry_manifest_annotation *a,
                                   struct gantry_error **err)
{
    if (check_annotations(a, err) < 0)
        return -1;
    __attribute__((cleanup(platform_freep))) struct gantry_oci_platform *np =
        d->platform ? gantry_oci_platform_dup(d->platform) : xcalloc(1, sizeof(*np));
    if ((a->os || a->architecture || a->variant) && annotate_triple(np, a, err) < 0)
        return -1;
    if (merge_features(np, a, err) < 0)
        return -1;
    if (a->os_version) {
        free(np->os_version);
        np->os_version = dup0(a->os_version);
    }
    bool touched = a->os || a->architecture || a->variant || a->os_version || a->n_os_features;
    if (touched && (!np->os || !np->architecture))
        return no_platform(err);
    if (touched) {
        gantry_oci_platform_free(d->platform);
        d->platform = steal_pointer(&np);
    }
    for (size_t i = 0; i < a->n_annotations; i++) {
        const char *eq = strchr(a->annotations[i], '=');
        _cleanup_free_ char *key = xstrndup(a->annotations[i], (size_t)(eq - a->annotations[i]));
        gantry_oci_descriptor_set_annotation(d, key, eq + 1);
    }
    return 0;
}
