/*
 * The two JSON files of a Docker archive (`docker save`, skopeo's
 * docker-archive): manifest.json, which lists each image's config and
 * layer tars, and the legacy repositories file. They are not OCI documents
 * but live here because jansson does (style.md): the transfer module reads
 * and writes archives through these models and never builds JSON itself.
 */
#include "oci_internal.h"

static int image_from_json(json_t *obj, size_t i, struct gantry_oci_docker_archive_image *img,
                           struct gantry_error **err)
{
    if (!json_is_object(obj))
        return gantry_error_set(err, GANTRY_E_PARSE, 0, "image %zu is not an object", i);
    if (oci_get_string(obj, "Config", true, &img->config, err) < 0 ||
        oci_get_strv(obj, "RepoTags", &img->repo_tags, &img->n_repo_tags, err) < 0 ||
        oci_get_strv(obj, "Layers", &img->layers, &img->n_layers, err) < 0)
        return gantry_error_prefix(err, "image %zu", i);
    /* An empty array and an absent member mean the same: no items. */
    if (img->n_repo_tags == 0)
        oci_strv_free(steal_pointer(&img->repo_tags));
    if (img->n_layers == 0)
        oci_strv_free(steal_pointer(&img->layers));
    return 0;
}

int gantry_oci_docker_archive_manifest_parse(const char *data, size_t len,
                                             struct gantry_oci_docker_archive_image **out,
                                             size_t *n, struct gantry_error **err)
{
    *out = NULL;
    *n = 0;
    _cleanup_json_ json_t *root = oci_load_value(data, len, err);
    if (!root)
        return gantry_error_prefix(err, "invalid manifest.json");
    if (!json_is_array(root))
        return gantry_error_set(err, GANTRY_E_PARSE, 0,
                                "invalid manifest.json: not an array of images");
    size_t count = json_array_size(root);
    if (count == 0)
        return 0;
    struct gantry_oci_docker_archive_image *imgs = xcalloc(count, sizeof(*imgs));
    for (size_t i = 0; i < count; i++) {
        if (image_from_json(json_array_get(root, i), i, &imgs[i], err) < 0) {
            gantry_oci_docker_archive_manifest_free(imgs, count);
            return gantry_error_prefix(err, "invalid manifest.json");
        }
    }
    *out = imgs;
    *n = count;
    return 0;
}

/* A string array as a JSON array, [] when absent. */
static json_t *strv_tree(struct oci_tree *t, const char *key, char *const *v, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; v && i < n; i++)
        json_array_append_new(arr, oci_str(t, key, v[i]));
    return arr;
}

int gantry_oci_docker_archive_manifest_to_json(const struct gantry_oci_docker_archive_image *images,
                                               size_t n, struct gantry_buf *out,
                                               struct gantry_error **err)
{
    struct oci_tree t = {0};
    _cleanup_json_ json_t *root = json_array();
    for (size_t i = 0; i < n; i++) {
        const struct gantry_oci_docker_archive_image *img = &images[i];
        if (!img->config)
            return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0, "image %zu has no config", i);
        /* Docker's member order: jansson keeps insertion order when not sorting. */
        json_t *obj = json_object();
        oci_set(&t, obj, "Config", oci_str(&t, "Config", img->config));
        oci_set(&t, obj, "RepoTags", strv_tree(&t, "RepoTags", img->repo_tags, img->n_repo_tags));
        oci_set(&t, obj, "Layers", strv_tree(&t, "Layers", img->layers, img->n_layers));
        json_array_append_new(root, obj);
    }
    if (oci_tree_check(&t, err) < 0)
        return gantry_error_prefix(err, "manifest.json");
    return oci_dump_flags(root, 0, out, err);
}

/* By count: a caller's own arrays need not be NULL-terminated. */
static void strv_free_n(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

void gantry_oci_docker_archive_manifest_free(struct gantry_oci_docker_archive_image *images,
                                             size_t n)
{
    for (size_t i = 0; images && i < n; i++) {
        free(images[i].config);
        strv_free_n(images[i].repo_tags, images[i].n_repo_tags);
        strv_free_n(images[i].layers, images[i].n_layers);
    }
    free(images);
}

int gantry_oci_docker_repositories_to_json(const struct gantry_oci_docker_repo_tag *tags, size_t n,
                                           struct gantry_buf *out, struct gantry_error **err)
{
    struct oci_tree t = {0};
    _cleanup_json_ json_t *root = json_object();
    for (size_t i = 0; i < n; i++) {
        const struct gantry_oci_docker_repo_tag *rt = &tags[i];
        if (!rt->repo || !rt->tag || !rt->layer_id)
            return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0,
                                    "repositories entry %zu lacks a repository, tag or layer", i);
        if (!json_object_get(root, rt->repo))
            oci_set(&t, root, rt->repo, json_object());
        /* Looked up again: a key jansson refused (not UTF-8) left no object. */
        json_t *repo = json_object_get(root, rt->repo);
        if (repo)
            oci_set(&t, repo, rt->tag, oci_str(&t, rt->tag, rt->layer_id));
    }
    if (oci_tree_check(&t, err) < 0)
        return gantry_error_prefix(err, "repositories");
    return oci_dump(root, out, err);
}
