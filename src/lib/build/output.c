/*
 * Outputs of a build: --output (archives through the transfer module, the
 * root filesystem of each platform), --push (the transfer module's push to
 * every name) and --metadata-file. The build itself always goes to the
 * store; an output reads it back from there.
 */
#include <fcntl.h>
#include <sys/stat.h>

#include <gantry/ref.h>
#include <gantry/registry.h>
#include <gantry/transfer.h>

#include "build/build_internal.h"

static const struct {
    const char *name;
    enum gantry_build_output_type type;
} output_types[] = {
    {"image", GANTRY_BUILD_OUTPUT_IMAGE}, {"registry", GANTRY_BUILD_OUTPUT_REGISTRY},
    {"oci", GANTRY_BUILD_OUTPUT_OCI},     {"docker", GANTRY_BUILD_OUTPUT_DOCKER},
    {"local", GANTRY_BUILD_OUTPUT_LOCAL},
};

static const char *type_name(enum gantry_build_output_type t)
{
    for (size_t i = 0; i < ARRAY_SIZE(output_types); i++)
        if (output_types[i].type == t)
            return output_types[i].name;
    return "?";
}

/* What the parts of a spec said, before they are checked together. */
struct spec_parts {
    const char *spec;
    char *type;
    char *dest;
    bool push;
};

GANTRY_PRINTF(3, 4)
static int bad_spec(const struct spec_parts *p, struct gantry_error **err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    _cleanup_free_ char *why = xvasprintf(fmt, ap);
    va_end(ap);
    return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0, "invalid --output '%s': %s", p->spec,
                            why);
}

static int set_once(char **slot, const char *value, size_t len)
{
    if (*slot)
        return -1;
    *slot = xstrndup(value, len);
    return 0;
}

/* One "key=value" part of the spec. */
static int parse_part(struct spec_parts *p, const char *s, size_t len, struct gantry_error **err)
{
    _cleanup_free_ char *part = xstrndup(s, len);
    char *eq = strchr(part, '=');
    if (!eq || eq == part)
        return bad_spec(p, err, "want key=value, got '%s'", part);
    *eq = '\0';
    const char *v = eq + 1;
    if (strcmp(part, "type") == 0 && set_once(&p->type, v, strlen(v)) == 0)
        return 0;
    if (strcmp(part, "dest") == 0 && set_once(&p->dest, v, strlen(v)) == 0)
        return 0;
    if (strcmp(part, "push") == 0 && (strcmp(v, "true") == 0 || strcmp(v, "false") == 0)) {
        p->push = strcmp(v, "true") == 0;
        return 0;
    }
    if (strcmp(part, "type") == 0 || strcmp(part, "dest") == 0)
        return bad_spec(p, err, "'%s' given twice", part);
    if (strcmp(part, "push") == 0)
        return bad_spec(p, err, "push wants true or false, got '%s'", v);
    return bad_spec(p, err, "unknown key '%s' (want type, dest or push)", part);
}

static int split_parts(struct spec_parts *p, struct gantry_error **err)
{
    const char *s = p->spec;
    if (!strchr(s, '=')) { /* buildx: a bare value is a local destination */
        p->type = xstrdup("local");
        p->dest = xstrdup(s);
        return 0;
    }
    while (*s) {
        size_t n = strcspn(s, ",");
        if (parse_part(p, s, n, err) < 0)
            return -1;
        s += n + (s[n] == ',');
    }
    return 0;
}

/* The type, and whether it takes dest. */
static int check_parts(const struct spec_parts *p, struct gantry_build_output *out,
                       struct gantry_error **err)
{
    if (!p->type)
        return bad_spec(p, err, "no type (want type=image, registry, oci, docker or local)");
    size_t i = 0;
    while (i < ARRAY_SIZE(output_types) && strcmp(output_types[i].name, p->type) != 0)
        i++;
    if (i == ARRAY_SIZE(output_types))
        return bad_spec(p, err, "unknown type '%s' (want image, registry, oci, docker or local)",
                        p->type);
    out->type = output_types[i].type;
    bool archive = out->type == GANTRY_BUILD_OUTPUT_OCI || out->type == GANTRY_BUILD_OUTPUT_DOCKER;
    if (out->type == GANTRY_BUILD_OUTPUT_IMAGE && p->push)
        out->type = GANTRY_BUILD_OUTPUT_REGISTRY;
    if ((archive || out->type == GANTRY_BUILD_OUTPUT_LOCAL) && (!p->dest || !*p->dest))
        return bad_spec(p, err, "type=%s needs dest=PATH", p->type);
    if (!archive && out->type != GANTRY_BUILD_OUTPUT_LOCAL && p->dest)
        return bad_spec(p, err, "type=%s takes no dest", p->type);
    if (out->type == GANTRY_BUILD_OUTPUT_LOCAL && strcmp(p->dest, "-") == 0)
        return bad_spec(p, err, "type=local writes a directory, not stdout");
    return 0;
}

int gantry_build_output_parse(const char *spec, struct gantry_build_output *out,
                              struct gantry_error **err)
{
    *out = (struct gantry_build_output){.stdout_fd = STDOUT_FILENO};
    struct spec_parts p = {.spec = spec};
    int rc = split_parts(&p, err);
    if (rc == 0)
        rc = check_parts(&p, out, err);
    if (rc == 0)
        out->dest = steal_pointer(&p.dest);
    else
        *out = (struct gantry_build_output){0};
    free(p.type);
    free(p.dest);
    return rc;
}

void gantry_build_output_release(struct gantry_build_output *o)
{
    if (!o)
        return;
    free(o->dest);
    *o = (struct gantry_build_output){0};
}

static int check_push(const struct gantry_build_opts *opts, struct gantry_error **err)
{
    if (opts->n_tags == 0)
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0,
                                "nothing to push to: name the image with -t HOST/REPO:TAG");
    for (size_t i = 0; i < opts->n_tags; i++)
        if (!gantry_ref_names_registry(opts->tags[i]))
            return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0,
                                    "refusing to push '%s': the name has no registry host and a "
                                    "bare name never goes to the network (docker would push to "
                                    "docker.io); name it HOST/REPO:TAG",
                                    opts->tags[i]);
    return 0;
}

int gantry_build_output_check(const struct gantry_build_output *o,
                              const struct gantry_build_opts *opts, struct gantry_error **err)
{
    if (o->type == GANTRY_BUILD_OUTPUT_REGISTRY)
        return check_push(opts, err);
    if (o->type == GANTRY_BUILD_OUTPUT_DOCKER && opts->n_platforms > 1)
        return gantry_error_set(err, GANTRY_E_UNSUPPORTED, 0,
                                "type=docker holds one platform, not %zu: use type=oci for a "
                                "multi-platform archive",
                                opts->n_platforms);
    return 0;
}

/* ---- pushing ---- */

static int push_all(struct gantry_store *s, struct gantry_registry_client *c,
                    const struct gantry_build_result *r, struct gantry_error **err)
{
    if (!c)
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0, "push needs a registry client");
    if (r->n_names == 0)
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0,
                                "nothing to push to: name the image with -t HOST/REPO:TAG");
    for (size_t i = 0; i < r->n_names; i++) {
        struct gantry_transfer_push_opts po = {0};
        struct gantry_transfer_result res = {0};
        if (gantry_transfer_push(s, c, r->names[i], NULL, &po, &res, err) < 0)
            return gantry_error_prefix(err, "push '%s'", r->names[i]);
        gantry_transfer_result_release(&res);
    }
    return 0;
}

/* ---- archives ---- */

/*
 * The result by its descriptor, once per name (an unnamed result once,
 * without a name): nothing is looked up or written in the store's
 * index.json, so no temporary name can be left behind.
 */
static void cleanup_save_imagesp(struct gantry_transfer_save_image **v)
{
    if (*v)
        gantry_oci_descriptor_release(&(*v)[0].desc);
    free(*v);
}

static int write_archive(struct gantry_store *s, const struct gantry_build_output *o,
                         const struct gantry_build_result *r, struct gantry_error **err)
{
    __attribute__((cleanup(cleanup_save_imagesp))) struct gantry_transfer_save_image *v = NULL;
    size_t n = r->n_names ? r->n_names : 1;
    int64_t size = 0;
    struct gantry_transfer_save_opts so = {.format = o->type == GANTRY_BUILD_OUTPUT_DOCKER
                                                         ? GANTRY_ARCHIVE_DOCKER
                                                         : GANTRY_ARCHIVE_OCI};
    if (gantry_store_blob_size(s, r->digest, &size, err) < 0)
        return -1;
    v = xcalloc(n, sizeof(*v));
    gantry_oci_descriptor_init(
        &v[0].desc, r->is_index ? GANTRY_MT_OCI_INDEX : GANTRY_MT_OCI_MANIFEST, r->digest, size);
    /* The entries share the first one's strings: only v[0].desc is released. */
    for (size_t i = 0; i < n; i++)
        v[i] = (struct gantry_transfer_save_image){v[0].desc, r->n_names ? r->names[i] : NULL};
    if (strcmp(o->dest, "-") == 0)
        return gantry_transfer_save_images_fd(s, v, n, &so, o->stdout_fd, err);
    return gantry_transfer_save_images_file(s, v, n, &so, o->dest, err);
}

/* ---- root filesystems ---- */

static int read_doc(struct gantry_store *s, const char *digest, struct gantry_buf *b,
                    struct gantry_error **err)
{
    gantry_buf_init(b, GANTRY_MANIFEST_MAX);
    return gantry_store_read_blob(s, digest, b, err);
}

/* mkdir -p dir. */
static int make_dir(const char *dir, struct gantry_error **err)
{
    _cleanup_free_ char *p = xstrdup(dir);
    for (char *s = strchr(p + 1, '/'); s; s = strchr(s + 1, '/')) {
        *s = '\0';
        if (mkdir(p, 0755) < 0 && errno != EEXIST)
            return gantry_error_set(err, GANTRY_E_IO, errno, "mkdir '%s'", p);
        *s = '/';
    }
    if (mkdir(p, 0755) < 0 && errno != EEXIST)
        return gantry_error_set(err, GANTRY_E_IO, errno, "mkdir '%s'", p);
    return 0;
}

/* The layers of image manifest digest, extracted into dir. */
static int export_manifest(struct gantry_store *s, const char *digest, const char *dir,
                           struct gantry_error **err)
{
    _cleanup_buf_ struct gantry_buf b = GANTRY_BUF_INIT;
    if (read_doc(s, digest, &b, err) < 0)
        return -1;
    _cleanup_manifest_ struct gantry_oci_manifest *m =
        gantry_oci_manifest_parse(b.data, b.len, NULL, err);
    if (!m)
        return gantry_error_prefix(err, "manifest %s", digest);
    if (make_dir(dir, err) < 0)
        return -1;
    return build_layers_extract(s, m->layers, m->n_layers, dir, err);
}

/* dir/<os>_<arch>[_<variant>] for an index entry, as buildx names them. */
static char *platform_dir(const char *dir, const struct gantry_oci_platform *p)
{
    return xasprintf("%s/%s_%s%s%s", dir, p->os, p->architecture, p->variant ? "_" : "",
                     p->variant ? p->variant : "");
}

static int export_index(struct gantry_store *s, const char *digest, const char *dir,
                        struct gantry_error **err)
{
    _cleanup_buf_ struct gantry_buf b = GANTRY_BUF_INIT;
    if (read_doc(s, digest, &b, err) < 0)
        return -1;
    struct gantry_oci_index *idx = gantry_oci_index_parse(b.data, b.len, NULL, err);
    if (!idx)
        return gantry_error_prefix(err, "index %s", digest);
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < idx->n_manifests; i++) {
        const struct gantry_oci_descriptor *d = &idx->manifests[i];
        if (!d->platform || !gantry_oci_is_manifest_type(d->media_type))
            continue;
        _cleanup_free_ char *sub = platform_dir(dir, d->platform);
        rc = export_manifest(s, d->digest, sub, err);
    }
    gantry_oci_index_free(idx);
    return rc;
}

int gantry_build_output_write(struct gantry_store *s, struct gantry_registry_client *c,
                              const struct gantry_build_output *o,
                              const struct gantry_build_result *r, struct gantry_error **err)
{
    switch (o->type) {
    case GANTRY_BUILD_OUTPUT_IMAGE:
        return 0;
    case GANTRY_BUILD_OUTPUT_REGISTRY:
        return push_all(s, c, r, err);
    case GANTRY_BUILD_OUTPUT_OCI:
    case GANTRY_BUILD_OUTPUT_DOCKER:
        if (write_archive(s, o, r, err) < 0)
            return gantry_error_prefix(err, "output type=%s", type_name(o->type));
        return 0;
    case GANTRY_BUILD_OUTPUT_LOCAL:
        if ((r->is_index ? export_index : export_manifest)(s, r->digest, o->dest, err) < 0)
            return gantry_error_prefix(err, "output type=local to '%s'", o->dest);
        return 0;
    }
    return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0, "unknown output type %d", (int)o->type);
}

/* ---- --metadata-file ---- */

static int metadata_json(struct gantry_store *s, const struct gantry_build_result *r,
                         struct gantry_buf *b, struct gantry_error **err)
{
    _cleanup_descriptor_ struct gantry_oci_descriptor d = GANTRY_OCI_DESCRIPTOR_INIT;
    int64_t size = 0;
    if (gantry_store_blob_size(s, r->digest, &size, err) < 0)
        return -1;
    gantry_oci_descriptor_init(&d, r->is_index ? GANTRY_MT_OCI_INDEX : GANTRY_MT_OCI_MANIFEST,
                               r->digest, size);
    /* Digests and normalized names need no JSON escaping. */
    int rc = 0;
    if (!r->is_index)
        rc |= gantry_buf_addf(b, "{\n  \"containerimage.config.digest\": \"%s\",\n", r->image_id);
    else
        rc |= gantry_buf_addstr(b, "{\n");
    rc |= gantry_buf_addstr(b, "  \"containerimage.descriptor\": ");
    if (rc < 0 || gantry_oci_descriptor_to_json(&d, b, err) < 0)
        return rc < 0 ? gantry_error_set(err, GANTRY_E_TOO_LARGE, errno, "metadata") : -1;
    rc |= gantry_buf_addf(b, ",\n  \"containerimage.digest\": \"%s\"", r->digest);
    for (size_t i = 0; i < r->n_names; i++)
        rc |= gantry_buf_addf(b, "%s%s", i ? "," : ",\n  \"image.name\": \"", r->names[i]);
    rc |= gantry_buf_addstr(b, r->n_names ? "\"\n}\n" : "\n}\n");
    return rc < 0 ? gantry_error_set(err, GANTRY_E_TOO_LARGE, errno, "metadata") : 0;
}

int gantry_build_metadata_write(struct gantry_store *s, const struct gantry_build_result *r,
                                const char *path, struct gantry_error **err)
{
    _cleanup_buf_ struct gantry_buf b = GANTRY_BUF_INIT;
    if (metadata_json(s, r, &b, err) < 0)
        return -1;
    _cleanup_free_ char *tmp = xasprintf("%s.%ld.tmp", path, (long)getpid());
    _cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0)
        return gantry_error_set(err, GANTRY_E_IO, errno, "write metadata file '%s'", path);
    if (gantry_write_all(fd, b.data, b.len) < 0 || rename(tmp, path) < 0) {
        int e = errno;
        unlink(tmp);
        return gantry_error_set(err, GANTRY_E_IO, e, "write metadata file '%s'", path);
    }
    return 0;
}
