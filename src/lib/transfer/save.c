/*
 * `save`: resolve every reference and choose its platforms first (so a bad
 * argument fails before a byte is written), then write the archive body in
 * the chosen format.
 */
#include <fcntl.h>
#include <libgen.h>

#include <gantry/image.h>
#include <gantry/ref.h>
#include <gantry/store.h>

#include "transfer_internal.h"

#include "util.h"

struct save_plan {
    struct save_item *items;
    size_t n_items;
};

static void save_plan_release(struct save_plan *p)
{
    for (size_t i = 0; i < p->n_items; i++) {
        free(p->items[i].name);
        gantry_oci_descriptor_release(&p->items[i].desc);
        free(p->items[i].sub_index);
    }
    free(p->items);
    *p = (struct save_plan){0};
}

static void cleanup_save_planp(struct save_plan *p)
{
    save_plan_release(p);
}

static void cleanup_descp(struct gantry_oci_descriptor *d)
{
    gantry_oci_descriptor_release(d);
}

#define _cleanup_plan_ __attribute__((cleanup(cleanup_save_planp)))
#define _cleanup_desc_ __attribute__((cleanup(cleanup_descp)))

/* Several platforms (OCI): a smaller index of the children that match them. */
static int plan_sub_index(struct gantry_store *s, const struct gantry_oci_descriptor *top,
                          const struct gantry_transfer_save_opts *opts, struct save_item *item,
                          struct gantry_error **err)
{
    struct gantry_oci_index *idx = gantry_oci_index_new(GANTRY_MT_OCI_INDEX);
    for (size_t i = 0; i < opts->n_platforms; i++) {
        _cleanup_desc_ struct gantry_oci_descriptor child = GANTRY_OCI_DESCRIPTOR_INIT;
        if (gantry_image_select_platform(s, top, &opts->platforms[i], false, &child, err) < 0) {
            gantry_oci_index_free(idx);
            return -1;
        }
        bool dup = false;
        for (size_t k = 0; k < idx->n_manifests; k++)
            dup = dup || strcmp(idx->manifests[k].digest, child.digest) == 0;
        if (!dup)
            gantry_oci_index_add(idx, &child);
    }
    if (gantry_oci_index_serialize(idx, err) < 0) {
        gantry_oci_index_free(idx);
        return -1;
    }
    gantry_oci_descriptor_init(&item->desc, GANTRY_MT_OCI_INDEX, idx->digest,
                               (int64_t)idx->raw_len);
    item->sub_index = xstrndup(idx->raw, idx->raw_len);
    item->sub_index_len = idx->raw_len;
    gantry_oci_index_free(idx);
    return 0;
}

/* What to write for one image: its entry (OCI) or its one manifest (DOCKER). */
static int plan_platforms(struct gantry_store *s, const struct gantry_oci_descriptor *top,
                          const struct gantry_transfer_save_opts *opts, struct save_item *item,
                          struct gantry_error **err)
{
    bool is_index = gantry_oci_is_index_type(top->media_type);
    if (opts->n_platforms > 1)
        return plan_sub_index(s, top, opts, item, err);
    if (opts->n_platforms == 1 || (opts->format == GANTRY_ARCHIVE_DOCKER && is_index))
        return gantry_image_select_platform(s, top, opts->n_platforms ? opts->platforms : NULL,
                                            false, &item->desc, err);
    gantry_oci_descriptor_copy(&item->desc, top);
    return 0;
}

/* The full, normalized form of a name to write into the archive. */
static int normalize_name(const char *name, char **out, struct gantry_error **err)
{
    struct gantry_ref ref = GANTRY_REF_INIT;
    if (gantry_ref_parse(name, strlen(name), &ref, err) < 0)
        return -1;
    *out = gantry_ref_to_string(&ref);
    gantry_ref_release(&ref);
    return 0;
}

/* The descriptor names an image manifest or index the store holds at its size. */
static int check_image(struct gantry_store *s, const struct gantry_oci_descriptor *d,
                       struct gantry_error **err)
{
    int64_t size = 0;
    if (!d->digest || !d->media_type)
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0,
                                "image descriptor without a digest or a media type");
    if (!gantry_oci_is_index_type(d->media_type) && !gantry_oci_is_manifest_type(d->media_type))
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0,
                                "'%s' is not an image manifest or index media type (%s)",
                                d->media_type, d->digest);
    if (gantry_store_blob_size(s, d->digest, &size, err) < 0)
        return gantry_error_prefix(err, "image %s", d->digest);
    if (size != d->size)
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0,
                                "image %s: the descriptor says %lld bytes, the store holds %lld",
                                d->digest, (long long)d->size, (long long)size);
    return 0;
}

static int plan_image(struct gantry_store *s, const struct gantry_transfer_save_image *img,
                      const struct gantry_transfer_save_opts *opts, struct save_item *item,
                      struct gantry_error **err)
{
    if (check_image(s, &img->desc, err) < 0 ||
        (img->name && normalize_name(img->name, &item->name, err) < 0) ||
        plan_platforms(s, &img->desc, opts, item, err) < 0)
        return -1;
    /* The store's own naming annotations do not describe the archive. */
    gantry_oci_descriptor_set_annotation(&item->desc, GANTRY_OCI_ANNOTATION_REF_NAME, NULL);
    gantry_oci_descriptor_set_annotation(&item->desc, "io.containerd.image.name", NULL);
    transfer_set_name_annotations(&item->desc, item->name);
    return 0;
}

static int check_request(size_t n, const struct gantry_transfer_save_opts *opts,
                         struct gantry_error **err)
{
    if (n == 0)
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0, "no image to save");
    if (opts->format == GANTRY_ARCHIVE_DOCKER && opts->n_platforms > 1)
        return gantry_error_set(err, GANTRY_E_UNSUPPORTED, 0,
                                "the docker archive format holds one platform per image: use "
                                "--format oci to keep every platform");
    return 0;
}

static int save_plan(struct gantry_store *s, const struct gantry_transfer_save_image *images,
                     size_t n, const struct gantry_transfer_save_opts *opts, struct save_plan *plan,
                     struct gantry_error **err)
{
    if (check_request(n, opts, err) < 0)
        return -1;
    plan->items = xcalloc(n, sizeof(*plan->items));
    for (size_t i = 0; i < n; i++) {
        plan->n_items++;
        if (plan_image(s, &images[i], opts, &plan->items[i], err) < 0)
            return -1;
    }
    return 0;
}

int gantry_transfer_save_images(struct gantry_store *s,
                                const struct gantry_transfer_save_image *images, size_t n,
                                const struct gantry_transfer_save_opts *opts,
                                gantry_layer_write_fn out, void *user, struct gantry_error **err)
{
    _cleanup_plan_ struct save_plan plan = {0};
    if (save_plan(s, images, n, opts, &plan, err) < 0)
        return -1;
    struct transfer_out *o = transfer_out_new(out, user);
    int rc = opts->format == GANTRY_ARCHIVE_DOCKER
                 ? transfer_save_docker(s, plan.items, plan.n_items, o, opts->scratch_dir, err)
                 : transfer_save_oci(s, plan.items, plan.n_items, o, err);
    if (rc == 0)
        rc = transfer_out_finish(o, err);
    transfer_out_free(o);
    return rc;
}

int gantry_transfer_save_images_fd(struct gantry_store *s,
                                   const struct gantry_transfer_save_image *images, size_t n,
                                   const struct gantry_transfer_save_opts *opts, int fd,
                                   struct gantry_error **err)
{
    return gantry_transfer_save_images(s, images, n, opts, transfer_write_fd, &fd, err);
}

/* `gantry save`'s references, resolved to what gantry_transfer_save_images takes. */
struct resolved {
    struct gantry_transfer_save_image *images;
    char **names;
    size_t n;
};

static void cleanup_resolvedp(struct resolved *r)
{
    for (size_t i = 0; i < r->n; i++) {
        gantry_oci_descriptor_release(&r->images[i].desc);
        free(r->names[i]);
    }
    free(r->images);
    free(r->names);
}

#define _cleanup_resolved_ __attribute__((cleanup(cleanup_resolvedp)))

static int resolve_refs(struct gantry_store *s, const char *const *refs, size_t n_refs,
                        const struct gantry_transfer_save_opts *opts, struct resolved *r,
                        struct gantry_error **err)
{
    if (check_request(n_refs, opts, err) < 0)
        return -1;
    r->images = xcalloc(n_refs, sizeof(*r->images));
    r->names = xcalloc(n_refs, sizeof(*r->names));
    for (size_t i = 0; i < n_refs; i++) {
        r->n++;
        if (gantry_image_resolve(s, refs[i], &r->images[i].desc, &r->names[i], err) < 0)
            return -1;
        r->images[i].name = r->names[i];
    }
    return 0;
}

int gantry_transfer_save(struct gantry_store *s, const char *const *refs, size_t n_refs,
                         const struct gantry_transfer_save_opts *opts, gantry_layer_write_fn out,
                         void *user, struct gantry_error **err)
{
    _cleanup_resolved_ struct resolved r = {0};
    if (resolve_refs(s, refs, n_refs, opts, &r, err) < 0)
        return -1;
    return gantry_transfer_save_images(s, r.images, r.n, opts, out, user, err);
}

/* A temporary file beside the final one; unlinked unless renamed. */
struct tmp_file {
    char *path;
    int fd;
};

static void cleanup_tmp_filep(struct tmp_file *t)
{
    if (t->fd >= 0)
        close(t->fd);
    if (t->path) {
        unlink(t->path);
        free(t->path);
    }
}

static int tmp_file_open(const char *path, struct tmp_file *t, struct gantry_error **err)
{
    _cleanup_free_ char *dir_copy = xstrdup(path);
    _cleanup_free_ char *base_copy = xstrdup(path);
    const char *dir = dirname(dir_copy), *base = basename(base_copy);
    /* open(2) rather than mkstemp: the archive gets 0666 & ~umask, not 0600. */
    for (unsigned attempt = 0; attempt < 100; attempt++) {
        _cleanup_free_ char *p = xasprintf("%s/.%s.%ld.%u", dir, base, (long)getpid(), attempt);
        int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0) {
            t->fd = fd;
            t->path = steal_pointer(&p);
            return 0;
        }
        if (errno != EEXIST)
            return gantry_error_set(err, GANTRY_E_IO, errno, "create '%s'", path);
    }
    return gantry_error_set(err, GANTRY_E_IO, EEXIST, "create a temporary file beside '%s'", path);
}

int gantry_transfer_save_fd(struct gantry_store *s, const char *const *refs, size_t n_refs,
                            const struct gantry_transfer_save_opts *opts, int fd,
                            struct gantry_error **err)
{
    return gantry_transfer_save(s, refs, n_refs, opts, transfer_write_fd, &fd, err);
}

int gantry_transfer_save_images_file(struct gantry_store *s,
                                     const struct gantry_transfer_save_image *images, size_t n,
                                     const struct gantry_transfer_save_opts *opts, const char *path,
                                     struct gantry_error **err)
{
    __attribute__((cleanup(cleanup_tmp_filep))) struct tmp_file t = {NULL, -1};
    _cleanup_free_ char *dir_copy = xstrdup(path);
    struct gantry_transfer_save_opts o = *opts;
    if (!o.scratch_dir)
        o.scratch_dir = dirname(dir_copy);
    if (tmp_file_open(path, &t, err) < 0 ||
        gantry_transfer_save_images_fd(s, images, n, &o, t.fd, err) < 0)
        return -1;
    if (fsync(t.fd) < 0)
        return gantry_error_set(err, GANTRY_E_IO, errno, "write '%s'", path);
    if (rename(t.path, path) < 0)
        return gantry_error_set(err, GANTRY_E_IO, errno, "rename '%s' to '%s'", t.path, path);
    free(steal_pointer(&t.path));
    return 0;
}

int gantry_transfer_save_file(struct gantry_store *s, const char *const *refs, size_t n_refs,
                              const struct gantry_transfer_save_opts *opts, const char *path,
                              struct gantry_error **err)
{
    _cleanup_resolved_ struct resolved r = {0};
    if (resolve_refs(s, refs, n_refs, opts, &r, err) < 0)
        return -1;
    return gantry_transfer_save_images_file(s, r.images, r.n, opts, path, err);
}
