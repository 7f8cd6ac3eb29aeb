/* Helpers of the copy engine: progress, platforms of index entries, blob lists. */
#include <limits.h>
#include <pthread.h>

#include "copy_internal.h"

#include "util.h"

static pthread_mutex_t progress_lock = PTHREAD_MUTEX_INITIALIZER;

void copy_progress(const char *action, const char *digest, uint64_t done, uint64_t total,
                   bool finished)
{
    /* Docker's short ids: the first 12 hex digits. */
    const char *colon = strchr(digest, ':');
    char id[13];
    snprintf(id, sizeof(id), "%s", colon ? colon + 1 : digest);
    pthread_mutex_lock(&progress_lock);
    gantry_progress(&(struct gantry_progress){
        .id = id, .action = action, .done = done, .total = total, .finished = finished});
    pthread_mutex_unlock(&progress_lock);
}

void copy_platform_from_oci(const struct gantry_oci_platform *o, struct gantry_platform *out)
{
    *out = (struct gantry_platform)GANTRY_PLATFORM_INIT;
    if (!o)
        return;
    out->os = o->os ? xstrdup(o->os) : NULL;
    out->architecture = o->architecture ? xstrdup(o->architecture) : NULL;
    out->variant = o->variant ? xstrdup(o->variant) : NULL;
    out->os_version = o->os_version ? xstrdup(o->os_version) : NULL;
    if (o->n_os_features) {
        out->os_features = xcalloc(o->n_os_features, sizeof(char *));
        for (size_t i = 0; i < o->n_os_features; i++)
            out->os_features[i] = xstrdup(o->os_features[i]);
        out->n_os_features = o->n_os_features;
    }
    gantry_platform_normalize(out);
}

char *copy_entry_platform_string(const struct gantry_oci_descriptor *d)
{
    _cleanup_platform_ struct gantry_platform p = GANTRY_PLATFORM_INIT;
    copy_platform_from_oci(d->platform, &p);
    return gantry_platform_format(&p);
}

bool copy_entry_is_runnable(const struct gantry_oci_descriptor *d)
{
    if (!gantry_oci_is_manifest_type(d->media_type) || gantry_oci_descriptor_is_attestation(d) ||
        !d->platform)
        return false;
    _cleanup_platform_ struct gantry_platform p = GANTRY_PLATFORM_INIT;
    copy_platform_from_oci(d->platform, &p);
    return !gantry_platform_is_unknown(&p);
}

ssize_t copy_select_entry(const struct gantry_oci_index *idx, const struct gantry_platform *want)
{
    ssize_t best = -1;
    int best_rank = INT_MAX;
    for (size_t i = 0; i < idx->n_manifests; i++) {
        if (!copy_entry_is_runnable(&idx->manifests[i]))
            continue;
        _cleanup_platform_ struct gantry_platform p = GANTRY_PLATFORM_INIT;
        copy_platform_from_oci(idx->manifests[i].platform, &p);
        int r = gantry_platform_match_rank(want, &p, false);
        if (r >= 0 && r < best_rank) {
            best = (ssize_t)i;
            best_rank = r;
        }
    }
    return best;
}

int copy_no_platform_error(const struct gantry_oci_index *idx, const struct gantry_platform *want,
                           const char *name, struct gantry_error **err)
{
    _cleanup_buf_ struct gantry_buf list = GANTRY_BUF_INIT;
    for (size_t i = 0; i < idx->n_manifests; i++) {
        if (!copy_entry_is_runnable(&idx->manifests[i]))
            continue;
        _cleanup_free_ char *p = copy_entry_platform_string(&idx->manifests[i]);
        if (gantry_buf_addf(&list, "%s%s", list.len ? ", " : "", p) < 0)
            oom();
    }
    _cleanup_free_ char *w = gantry_platform_format(want);
    return gantry_error_set(err, GANTRY_E_NOT_FOUND, 0, "no %s image in %s (it has: %s)", w, name,
                            list.len ? list.data : "no runnable platform");
}

static void blobs_add(struct copy_blobs *l, const struct gantry_oci_descriptor *d)
{
    for (size_t i = 0; i < l->n_items; i++)
        if (strcmp(l->items[i].digest, d->digest) == 0)
            return;
    l->items = xrealloc(l->items, (l->n_items + 1) * sizeof(*l->items));
    l->items[l->n_items++] =
        (struct copy_blob){.digest = d->digest, .media_type = d->media_type, .size = d->size};
}

void copy_blobs_add_manifest(struct copy_blobs *l, const struct gantry_oci_manifest *m)
{
    blobs_add(l, &m->config);
    for (size_t i = 0; i < m->n_layers; i++)
        blobs_add(l, &m->layers[i]);
}

static int larger_first(const void *a, const void *b)
{
    const struct copy_blob *x = a, *y = b;
    if (x->size != y->size)
        return x->size > y->size ? -1 : 1;
    return strcmp(x->digest, y->digest);
}

void copy_blobs_sort_larger_first(struct copy_blobs *l)
{
    if (l->n_items > 1)
        qsort(l->items, l->n_items, sizeof(*l->items), larger_first);
}

void copy_blobs_release(struct copy_blobs *l)
{
    free(l->items);
    *l = (struct copy_blobs){0};
}
