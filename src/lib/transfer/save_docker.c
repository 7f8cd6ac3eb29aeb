/*
 * `save --format docker`: what `docker load` and skopeo's docker-archive
 * read. The legacy layout, which every Docker since 1.10 and skopeo accept:
 *
 *     <config hex>.json            the image config, as stored
 *     <diff_id hex>/layer.tar      each layer, uncompressed
 *     manifest.json                [{Config, RepoTags, Layers}]
 *     repositories                 {"repo": {"tag": "<top layer dir>"}}
 *
 * A layer is decompressed from the store into a scratch file (the tar
 * header needs its size before its data), hashed on the way, and must hash
 * to its config's diff_id before it goes into the archive.
 */
#include <gantry/ref.h>
#include <gantry/store.h>

#include "transfer_internal.h"

#include "util.h"

/* One name of the repositories file (gantry_oci_docker_repo_tag borrows these). */
struct repo_tag {
    char *repo; /* "demo/busybox" */
    char *tag;  /* "arm64" */
    char *id;   /* directory of the top layer */
};

struct docker_save {
    struct gantry_store *s;
    struct transfer_out *o;
    int scratch;
    struct gantry_oci_docker_archive_image *images; /* manifest.json */
    size_t n_images;
    struct repo_tag *repos;
    size_t n_repos;
};

/* Append to an unbounded buffer: only allocation can fail, and that aborts. */
static void put(struct gantry_buf *b, const char *s)
{
    if (gantry_buf_addstr(b, s) < 0)
        oom();
}

/* Decompress a layer blob into the scratch file; *size gets its length. */
static int layer_to_scratch(struct docker_save *ds, const char *digest, const char *diff_id,
                            uint64_t *size, struct gantry_error **err)
{
    struct gantry_store_blob_reader *r = gantry_store_blob_reader_open(ds->s, digest, err);
    if (!r)
        return -1;
    struct gantry_layer_source *src = gantry_layer_source_new(transfer_read_store_blob, r, NULL);
    struct gantry_hasher *h = gantry_hasher_new(GANTRY_DIGEST_SHA256);
    char got[GANTRY_DIGEST_MAX];
    const void *data;
    ssize_t n;
    int rc = 0;
    *size = 0;
    if (ftruncate(ds->scratch, 0) < 0 || lseek(ds->scratch, 0, SEEK_SET) < 0)
        rc = gantry_error_set(err, GANTRY_E_IO, errno, "reset scratch file");
    while (rc == 0 && (n = gantry_layer_source_read(src, &data, err)) != 0) {
        if (n < 0 || transfer_write_fd(&ds->scratch, data, (size_t)n, err) < 0) {
            rc = -1;
            break;
        }
        gantry_hasher_update(h, data, (size_t)n);
        *size += (uint64_t)n;
    }
    gantry_hasher_final(h, got);
    gantry_hasher_free(h);
    gantry_layer_source_free(src);
    gantry_store_blob_reader_free(r);
    if (rc == 0 && strcmp(got, diff_id) != 0)
        rc = gantry_error_set(err, GANTRY_E_DIGEST_MISMATCH, 0,
                              "layer %s does not match its diff_id: got %s, want %s", digest, got,
                              diff_id);
    if (rc < 0)
        return gantry_error_prefix(err, "layer %s", digest);
    return 0;
}

static int save_layer(struct docker_save *ds, const struct gantry_oci_descriptor *layer,
                      const char *diff_id, const char *apath, struct gantry_error **err)
{
    uint64_t size;
    if (transfer_out_has(ds->o, apath))
        return 0;
    transfer_progress("decompressing", layer->digest, 0, 0, false);
    if (layer_to_scratch(ds, layer->digest, diff_id, &size, err) < 0)
        return -1;
    if (lseek(ds->scratch, 0, SEEK_SET) < 0)
        return gantry_error_set(err, GANTRY_E_IO, errno, "seek scratch file");
    if (transfer_out_add_fd(ds->o, apath, ds->scratch, size, err) < 0)
        return -1;
    transfer_progress("saved", layer->digest, size, size, true);
    return 0;
}

/* "demo/busybox:arm64" for a name with a tag; NULL without one. */
static char *repo_tag(const char *name)
{
    struct gantry_ref ref = GANTRY_REF_INIT;
    if (!name || gantry_ref_parse(name, strlen(name), &ref, NULL) < 0)
        return NULL;
    char *s = NULL;
    if (ref.tag && !ref.digest)
        s = gantry_ref_familiar(&ref);
    gantry_ref_release(&ref);
    return s;
}

static void add_repositories(struct docker_save *ds, const char *tag, const char *top_layer)
{
    if (!tag || !top_layer)
        return;
    ds->repos = xrealloc(ds->repos, (ds->n_repos + 1) * sizeof(*ds->repos));
    const char *colon = strrchr(tag, ':');
    const char *slash = strchr(top_layer, '/');
    ds->repos[ds->n_repos++] = (struct repo_tag){
        xstrndup(tag, (size_t)(colon - tag)), xstrdup(colon + 1),
        xstrndup(top_layer, slash ? (size_t)(slash - top_layer) : strlen(top_layer))};
}

/* The manifest.json entry of an image; another name of the same image joins it. */
static struct gantry_oci_docker_archive_image *mf_entry(struct docker_save *ds,
                                                        const char *config_path, bool *fresh)
{
    for (size_t i = 0; i < ds->n_images; i++) {
        if (strcmp(ds->images[i].config, config_path) == 0) {
            *fresh = false;
            return &ds->images[i];
        }
    }
    ds->images = xrealloc(ds->images, (ds->n_images + 1) * sizeof(*ds->images));
    struct gantry_oci_docker_archive_image *img = &ds->images[ds->n_images++];
    *img = (struct gantry_oci_docker_archive_image){.config = xstrdup(config_path)};
    *fresh = true;
    return img;
}

static void strv_push(char ***v, size_t *n, char *s)
{
    *v = xrealloc(*v, (*n + 2) * sizeof(**v));
    (*v)[(*n)++] = s;
    (*v)[*n] = NULL;
}

static int save_layers(struct docker_save *ds, const struct gantry_oci_manifest *m,
                       const struct gantry_oci_config *c,
                       struct gantry_oci_docker_archive_image *img, struct gantry_error **err)
{
    if (m->n_layers != c->n_diff_ids)
        return gantry_error_set(err, GANTRY_E_PARSE, 0,
                                "manifest has %zu layers but its config %zu diff_ids", m->n_layers,
                                c->n_diff_ids);
    for (size_t i = 0; i < m->n_layers; i++) {
        char *apath = xasprintf("%s/layer.tar", gantry_digest_hex(c->diff_ids[i]));
        strv_push(&img->layers, &img->n_layers, apath);
        if (save_layer(ds, &m->layers[i], c->diff_ids[i], apath, err) < 0)
            return -1;
    }
    return 0;
}

static int save_one(struct docker_save *ds, const struct save_item *item,
                    const struct gantry_oci_manifest *m, struct gantry_error **err)
{
    _cleanup_buf_ struct gantry_buf raw = GANTRY_BUF_INIT;
    if (transfer_read_doc(ds->s, m->config.digest, &raw, err) < 0)
        return -1;
    struct gantry_oci_config *c = gantry_oci_config_parse(raw.data, raw.len, err);
    if (!c)
        return gantry_error_prefix(err, "config %s", m->config.digest);
    _cleanup_free_ char *cpath = xasprintf("%s.json", gantry_digest_hex(m->config.digest));
    bool fresh;
    struct gantry_oci_docker_archive_image *img = mf_entry(ds, cpath, &fresh);
    int rc = transfer_out_add_bytes(ds->o, cpath, raw.data, raw.len, err);
    if (rc == 0 && fresh)
        rc = save_layers(ds, m, c, img, err);
    gantry_oci_config_free(c);
    char *tag = repo_tag(item->name);
    if (rc == 0 && tag) {
        add_repositories(ds, tag, img->n_layers ? img->layers[img->n_layers - 1] : NULL);
        strv_push(&img->repo_tags, &img->n_repo_tags, tag);
    } else {
        free(tag);
    }
    return rc;
}

static int save_item(struct docker_save *ds, const struct save_item *item,
                     struct gantry_error **err)
{
    _cleanup_buf_ struct gantry_buf raw = GANTRY_BUF_INIT;
    if (transfer_read_doc(ds->s, item->desc.digest, &raw, err) < 0)
        return -1;
    struct gantry_oci_manifest *m =
        gantry_oci_manifest_parse(raw.data, raw.len, item->desc.media_type, err);
    if (!m)
        return gantry_error_prefix(err, "manifest %s", item->desc.digest);
    int rc = save_one(ds, item, m, err);
    gantry_oci_manifest_free(m);
    return rc;
}

/* manifest.json and repositories, each ending with a newline as gantry always wrote them. */
static int save_metadata(struct docker_save *ds, struct gantry_error **err)
{
    _cleanup_buf_ struct gantry_buf mf = GANTRY_BUF_INIT;
    _cleanup_buf_ struct gantry_buf repos = GANTRY_BUF_INIT;
    _cleanup_free_ struct gantry_oci_docker_repo_tag *tags = xcalloc(ds->n_repos, sizeof(*tags));
    for (size_t i = 0; i < ds->n_repos; i++)
        tags[i] = (struct gantry_oci_docker_repo_tag){ds->repos[i].repo, ds->repos[i].tag,
                                                      ds->repos[i].id};
    if (gantry_oci_docker_archive_manifest_to_json(ds->images, ds->n_images, &mf, err) < 0 ||
        gantry_oci_docker_repositories_to_json(tags, ds->n_repos, &repos, err) < 0)
        return -1;
    put(&mf, "\n");
    put(&repos, "\n");
    if (transfer_out_add_bytes(ds->o, "manifest.json", mf.data, mf.len, err) < 0)
        return -1;
    return transfer_out_add_bytes(ds->o, "repositories", repos.data, repos.len, err);
}

int transfer_save_docker(struct gantry_store *s, const struct save_item *items, size_t n,
                         struct transfer_out *o, const char *scratch_dir, struct gantry_error **err)
{
    struct docker_save ds = {.s = s, .o = o};
    int rc = 0;
    ds.scratch = transfer_scratch_open(scratch_dir, err);
    if (ds.scratch < 0)
        return -1;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        rc = save_item(&ds, &items[i], err);
        if (rc < 0)
            gantry_error_prefix(err, "save '%s'",
                                items[i].name ? items[i].name : items[i].desc.digest);
    }
    if (rc == 0)
        rc = save_metadata(&ds, err);
    close(ds.scratch);
    gantry_oci_docker_archive_manifest_free(ds.images, ds.n_images);
    for (size_t i = 0; i < ds.n_repos; i++) {
        free(ds.repos[i].repo);
        free(ds.repos[i].tag);
        free(ds.repos[i].id);
    }
    free(ds.repos);
    return rc;
}
