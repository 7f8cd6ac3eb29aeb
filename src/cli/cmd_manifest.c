/*
 * gantry manifest create|add|remove|annotate|inspect|rm: Docker's `docker
 * manifest` verbs over local multi-platform lists (docs/manifest.md).
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include <gantry/manifest.h>
#include <gantry/ref.h>
#include <gantry/registry.h>
#include <gantry/store.h>
#include <gantry/transfer.h>

#include "cli.h"
#include "output.h"
#include "util.h"

static const char help[] =
    "Usage: gantry manifest COMMAND\n"
    "\n"
    "Combine images of the local store or of registries into multi-platform\n"
    "lists (OCI image indexes or Docker manifest lists), edit and push them, as\n"
    "`docker manifest` does. A list is an image of the store like any other.\n"
    "\n"
    "Commands:\n"
    "  create     Make a list from local images\n"
    "  add        Add an image to a list\n"
    "  remove     Remove a platform or a digest from a list\n"
    "  annotate   Set the platform or annotations of an entry\n"
    "  inspect    Show the platforms of a list (local or remote)\n"
    "  push       Push a list and its children to a registry\n"
    "  rm         Delete lists\n"
    "\n"
    "Run 'gantry manifest COMMAND --help' for more information on a command.\n";

static const char help_create[] =
    "Usage: gantry manifest create [OPTIONS] LIST REF...\n"
    "\n"
    "Make the list LIST from the images REF. A single-platform image adds\n"
    "its manifest, with the platform its config states; a multi-platform image\n"
    "adds all its platforms and their attestations (or, with --no-flatten,\n"
    "itself as one nested index). A REF that is not in the store, or is\n"
    "spelled docker://REF, is read from its registry: manifests and configs\n"
    "only, no layers. Two images of one platform are accepted with a warning\n"
    "(push refuses them). Prints the list's digest.\n"
    "\n"
    "Options:\n"
    "  -a, --amend              Add to LIST when it exists instead of failing\n"
    "      --allow-duplicates   No warning for two images of one platform\n"
    "      --no-flatten         Keep a multi-platform REF as one nested index\n"
    "      --format FORMAT      'oci' (default for a new list) or 'docker'; a\n"
    "                           docker list takes Docker v2 manifests only\n"
    "      --platform P         Take only platform P of each REF\n"
    "      --insecure           Allow plain HTTP and skip TLS verification\n"
    "      --tls-verify=false   Same as --insecure\n"
    "  -h, --help               Show this help\n";

static const char help_add[] =
    "Usage: gantry manifest add [OPTIONS] LIST REF\n"
    "\n"
    "Add the image REF (all its platforms, or P, or with --no-flatten itself\n"
    "as one nested index) to the existing list LIST; a REF not in the store,\n"
    "or docker://REF, is read from its registry. Prints the list's new digest.\n"
    "\n"
    "Options:\n"
    "      --allow-duplicates   No warning for two images of one platform\n"
    "      --no-flatten         Keep a multi-platform REF as one nested index\n"
    "      --platform P         Take only platform P of REF\n"
    "      --insecure           Allow plain HTTP and skip TLS verification\n"
    "      --tls-verify=false   Same as --insecure\n"
    "  -h, --help               Show this help\n";

static const char help_remove[] =
    "Usage: gantry manifest remove LIST DIGEST|PLATFORM\n"
    "\n"
    "Remove the entry with that digest, or every image of that platform\n"
    "(linux/arm means linux/arm/v7) and its attestations, from LIST. Prints\n"
    "the list's new digest.\n"
    "\n"
    "Options:\n"
    "  -h, --help   Show this help\n";

static const char help_annotate[] =
    "Usage: gantry manifest annotate [OPTIONS] LIST REF|DIGEST\n"
    "\n"
    "Change the platform or annotations of the entry of LIST that the local\n"
    "image REF or DIGEST names. Values are normalized (aarch64 is stored as\n"
    "arm64) and the os/arch pair must be one Docker accepts. Prints the list's\n"
    "new digest.\n"
    "\n"
    "Options:\n"
    "      --annotation K=V     Set an annotation of the entry (repeatable)\n"
    "      --arch ARCH          Set the architecture (drops the old variant)\n"
    "      --os OS              Set the operating system\n"
    "      --os-features F,..   Add operating system features (repeatable)\n"
    "      --os-version V       Set the operating system version ('' removes it)\n"
    "      --variant V          Set the architecture variant ('' removes it)\n"
    "  -h, --help               Show this help\n";

static const char help_inspect[] =
    "Usage: gantry manifest inspect [OPTIONS] LIST\n"
    "\n"
    "Show one row per platform of LIST: PLATFORM, DIGEST, SIZE (manifest,\n"
    "config and layers) and LOCAL (whether all of it is in the store).\n"
    "Nested indexes (with the platforms they hold) and attestations are\n"
    "listed apart. LIST may also be a single-platform image. A LIST not in\n"
    "the store, or docker://REF, is read from its registry.\n"
    "\n"
    "Options:\n"
    "      --format FORMAT   'table', 'table TEMPLATE', 'json' or a Go template\n"
    "                        over each platform and nested index; fields:\n"
    "                        .Kind (image, index, other) .Platform .Platforms\n"
    "                        .Digest .MediaType .Size .Local .Annotations\n"
    "      --raw             Print the stored document, byte for byte\n"
    "  -v, --verbose         Print each entry's descriptor and manifest as JSON\n"
    "                        (the shape of `docker manifest inspect -v`)\n"
    "      --insecure        Allow plain HTTP and skip TLS verification\n"
    "      --tls-verify=false  Same as --insecure\n"
    "  -h, --help            Show this help\n";

static const char help_push[] =
    "Usage: gantry manifest push [OPTIONS] LIST [DEST]\n"
    "\n"
    "Push the list LIST to DEST (a reference with a tag; default: LIST's own\n"
    "name). Children read from a registry are mounted from their repository\n"
    "when it is on DEST's registry, else copied; local children are uploaded\n"
    "(blobs the registry has are skipped); then the index, the tag last.\n"
    "Prints '<tag>: digest: <digest> size: <n>'.\n"
    "\n"
    "Options:\n"
    "      --allow-duplicates   Push a list with two images of one platform\n"
    "      --all                Push the children with the list (the default,\n"
    "                           as podman's --all: a registry refuses an index\n"
    "                           whose children it lacks)\n"
    "  -j, --jobs N             Move N blobs at once (default 4)\n"
    "  -p, --purge              Delete the local list after a successful push\n"
    "      --insecure           Allow plain HTTP and skip TLS verification\n"
    "      --tls-verify=false   Same as --insecure\n"
    "  -h, --help               Show this help\n";

static const char help_rm[] = "Usage: gantry manifest rm LIST...\n"
                              "\n"
                              "Delete the names of the lists (not of other images). The blobs\n"
                              "stay until 'gantry prune'.\n"
                              "\n"
                              "Options:\n"
                              "  -h, --help   Show this help\n";

#define _cleanup_platform_ __attribute__((cleanup(gantry_platform_release)))

/* Open the store; prints the error and returns NULL on failure. */
static struct gantry_store *open_store(void)
{
    struct gantry_error *err = NULL;
    struct gantry_store *s = cli_open_store(&err);
    if (!s)
        cli_fail(err);
    return s;
}

/* Close the store after an edit; print the list's new digest, or the error. */
static int edited(struct gantry_store *s, int rc, const char *digest, struct gantry_error *err)
{
    gantry_store_free(s);
    if (rc < 0)
        return cli_fail(err);
    printf("%s\n", digest);
    return 0;
}

/* One warning line per duplicate platform create or add let in (unless --allow-duplicates). */
static void warn_duplicates(const char *list, const struct gantry_manifest_edit_result *r,
                            bool quiet)
{
    for (size_t i = 0; !quiet && i < r->n_duplicates; i++) {
        const struct gantry_manifest_duplicate *d = &r->duplicates[i];
        fprintf(stderr,
                "gantry: warning: manifest list '%s': duplicate platform '%s': %s and %s (fix it "
                "with 'gantry manifest annotate' or 'remove'; push refuses it without "
                "--allow-duplicates)\n",
                list, d->platform, d->first, d->second);
    }
}

/* Options create and add share besides --platform and the TLS ones. */
struct edit_flags {
    bool allow_duplicates; /* no warning */
    bool no_flatten;
    struct cli_registry_opts reg; /* --insecure, --tls-verify */
};

/* --platform spec (if given) into *want, and *out = want; a usage error if invalid. */
static int platform_option(const char *cmd, const char *spec, struct gantry_platform *want,
                           const struct gantry_platform **out)
{
    if (!spec)
        return 0;
    struct gantry_error *err = NULL;
    if (gantry_platform_parse(spec, strlen(spec), want, &err) < 0) {
        int rc = cli_usage_error(cmd, "%s", err->message);
        gantry_error_free(err);
        return rc;
    }
    *out = want;
    return 0;
}

/* A registry client; prints the error and returns NULL on failure. */
static struct gantry_registry_client *new_client(const struct cli_registry_opts *reg)
{
    struct gantry_error *err = NULL;
    struct gantry_registry_client *c = cli_registry_client(reg, &err);
    if (!c)
        cli_fail(err);
    return c;
}

static int parse_format(const char *v, enum gantry_manifest_format *f)
{
    if (strcmp(v, "oci") == 0)
        *f = GANTRY_MANIFEST_FORMAT_OCI;
    else if (strcmp(v, "docker") == 0)
        *f = GANTRY_MANIFEST_FORMAT_DOCKER;
    else
        return cli_usage_error("manifest create", "invalid --format '%s': use oci or docker", v);
    return 0;
}

/* The option letters create and add share: 1 handled, 0 not one of them, -1 bad value. */
static int edit_option(const char *cmd, int c, const char *v, struct edit_flags *f)
{
    int tls = cli_registry_option(cmd, c, v, &f->reg);
    if (tls != 0)
        return tls;
    if (c == 'D')
        f->allow_duplicates = true;
    else if (c == 'N')
        f->no_flatten = true;
    return c == 'D' || c == 'N';
}

#define EDIT_LONG_OPTIONS                                                                          \
    {"allow-duplicates", no_argument, NULL, 'D'}, {"no-flatten", no_argument, NULL, 'N'},          \
        {"platform", required_argument, NULL, 'p'}, CLI_LONG_TLS

static int parse_create(int argc, char **argv, struct gantry_manifest_create_opts *o,
                        struct gantry_platform *want, struct edit_flags *f)
{
    static const struct option opts[] = {
        {"amend", no_argument, NULL, 'a'},
        {"format", required_argument, NULL, 'f'},
        EDIT_LONG_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    const char *platform = NULL;
    int c, known;
    opterr = 0;
    optind = 0;
    while ((c = getopt_long(argc, argv, ":a", opts, NULL)) != -1) {
        if ((known = edit_option("manifest create", c, optarg, f)) != 0) {
            if (known < 0)
                return EXIT_USAGE;
        } else if (c == 'a')
            o->amend = true;
        else if (c == 'f' && parse_format(optarg, &o->format) != 0)
            return EXIT_USAGE;
        else if (c == 'p')
            platform = optarg;
        else if (c != 'f')
            return cli_option_error("manifest create", c, argv);
    }
    if (argc - optind < 2)
        return cli_usage_error("manifest create", "'manifest create' needs LIST and at least "
                                                  "one REF");
    if (platform && f->no_flatten)
        return cli_usage_error("manifest create", "--platform and --no-flatten cannot be combined");
    o->no_flatten = f->no_flatten;
    return platform_option("manifest create", platform, want, &o->platform);
}

static void cleanup_resultp(struct gantry_manifest_edit_result *r)
{
    gantry_manifest_edit_result_release(r);
}

static int manifest_create(int argc, char **argv)
{
    if (cli_wants_help(argc, argv, help_create))
        return 0;
    struct gantry_manifest_create_opts o = {0};
    _cleanup_platform_ struct gantry_platform want = GANTRY_PLATFORM_INIT;
    struct edit_flags f = {0};
    int rc = parse_create(argc, argv, &o, &want, &f);
    if (rc != 0)
        return rc;
    struct gantry_store *s = open_store();
    if (!s)
        return 1;
    if (!(o.client = new_client(&f.reg))) {
        gantry_store_free(s);
        return 1;
    }
    __attribute__((cleanup(cleanup_resultp))) struct gantry_manifest_edit_result r = {0};
    struct gantry_error *err = NULL;
    rc = gantry_manifest_create(s, argv[optind], (const char *const *)argv + optind + 1,
                                (size_t)(argc - optind - 1), &o, &r, &err);
    gantry_registry_client_free(o.client);
    if (rc == 0)
        warn_duplicates(argv[optind], &r, f.allow_duplicates);
    return edited(s, rc, r.digest, err);
}

static int parse_add(int argc, char **argv, struct gantry_manifest_add_opts *o,
                     struct gantry_platform *want, struct edit_flags *f)
{
    static const struct option opts[] = {
        EDIT_LONG_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    const char *platform = NULL;
    int c, known;
    opterr = 0;
    optind = 0;
    while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        if ((known = edit_option("manifest add", c, optarg, f)) != 0) {
            if (known < 0)
                return EXIT_USAGE;
        } else if (c == 'p')
            platform = optarg;
        else
            return cli_option_error("manifest add", c, argv);
    }
    if (argc - optind != 2)
        return cli_usage_error("manifest add", "'manifest add' needs LIST and REF");
    if (platform && f->no_flatten)
        return cli_usage_error("manifest add", "--platform and --no-flatten cannot be combined");
    o->no_flatten = f->no_flatten;
    return platform_option("manifest add", platform, want, &o->platform);
}

static int manifest_add(int argc, char **argv)
{
    if (cli_wants_help(argc, argv, help_add))
        return 0;
    struct gantry_manifest_add_opts o = {0};
    _cleanup_platform_ struct gantry_platform want = GANTRY_PLATFORM_INIT;
    struct edit_flags f = {0};
    int rc = parse_add(argc, argv, &o, &want, &f);
    if (rc != 0)
        return rc;
    struct gantry_store *s = open_store();
    if (!s)
        return 1;
    if (!(o.client = new_client(&f.reg))) {
        gantry_store_free(s);
        return 1;
    }
    __attribute__((cleanup(cleanup_resultp))) struct gantry_manifest_edit_result r = {0};
    struct gantry_error *err = NULL;
    rc = gantry_manifest_add(s, argv[optind], argv[optind + 1], &o, &r, &err);
    gantry_registry_client_free(o.client);
    if (rc == 0)
        warn_duplicates(argv[optind], &r, f.allow_duplicates);
    return edited(s, rc, r.digest, err);
}

/* Commands whose only options are -h/--help: check the count of operands. */
static int plain_operands(int argc, char **argv, const char *cmd, int min, int max)
{
    static const struct option opts[] = {{NULL, 0, NULL, 0}};
    int c;
    opterr = 0;
    optind = 0;
    while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1)
        return cli_option_error(cmd, c, argv);
    int n = argc - optind;
    if (n < min || (max > 0 && n > max))
        return cli_usage_error(cmd, "'%s' needs %s", cmd,
                               max == 2 ? "LIST and one more operand" : "at least one LIST");
    return 0;
}

static int manifest_remove(int argc, char **argv)
{
    if (cli_wants_help(argc, argv, help_remove))
        return 0;
    int rc = plain_operands(argc, argv, "manifest remove", 2, 2);
    if (rc != 0)
        return rc;
    struct gantry_store *s = open_store();
    if (!s)
        return 1;
    char digest[GANTRY_DIGEST_MAX];
    struct gantry_error *err = NULL;
    rc = gantry_manifest_remove(s, argv[optind], argv[optind + 1], digest, &err);
    return edited(s, rc, digest, err);
}

/* Growable lists of borrowed strings for the repeatable annotate options. */
struct strs {
    const char **v;
    size_t n;
};

static void strs_push(struct strs *l, const char *s)
{
    l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
    l->v[l->n++] = s;
}

struct annotate_args {
    struct gantry_manifest_annotation a;
    struct strs features;    /* pieces of the --os-features values */
    struct strs annotations; /* --annotation values */
    char **owned;            /* copies split from --os-features, freed at the end */
    size_t n_owned;
    bool any;
};

static void annotate_args_release(struct annotate_args *a)
{
    for (size_t i = 0; i < a->n_owned; i++)
        free(a->owned[i]);
    free(a->owned);
    free(a->features.v);
    free(a->annotations.v);
}

/* "f1,f2" into features; empty pieces are kept, for the library to refuse. */
static void split_features(struct annotate_args *a, const char *v)
{
    a->owned = xrealloc(a->owned, (a->n_owned + 1) * sizeof(*a->owned));
    char *copy = a->owned[a->n_owned++] = xstrdup(v);
    for (char *p = copy;; p++) {
        char *comma = strchr(p, ',');
        if (comma)
            *comma = '\0';
        strs_push(&a->features, p);
        if (!comma)
            break;
        p = comma;
    }
}

static void annotate_option(struct annotate_args *a, int c, const char *v)
{
    a->any = true;
    switch (c) {
    case 'o':
        a->a.os = v;
        break;
    case 'A':
        a->a.architecture = v;
        break;
    case 'V':
        a->a.variant = v;
        break;
    case 'O':
        a->a.os_version = v;
        break;
    case 'F':
        split_features(a, v);
        break;
    default:
        strs_push(&a->annotations, v);
        break;
    }
}

static int parse_annotate(int argc, char **argv, struct annotate_args *a)
{
    static const struct option opts[] = {
        {"os", required_argument, NULL, 'o'},
        {"arch", required_argument, NULL, 'A'},
        {"variant", required_argument, NULL, 'V'},
        {"os-version", required_argument, NULL, 'O'},
        {"os-features", required_argument, NULL, 'F'},
        {"annotation", required_argument, NULL, 'N'},
        {NULL, 0, NULL, 0},
    };
    int c;
    opterr = 0;
    optind = 0;
    while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        if (c == ':' || c == '?')
            return cli_option_error("manifest annotate", c, argv);
        annotate_option(a, c, optarg);
    }
    if (argc - optind != 2)
        return cli_usage_error("manifest annotate",
                               "'manifest annotate' needs LIST and REF or DIGEST");
    if (!a->any)
        return cli_usage_error("manifest annotate", "nothing to change: give --os, --arch, "
                                                    "--variant, --os-version, --os-features or "
                                                    "--annotation");
    a->a.os_features = a->features.v;
    a->a.n_os_features = a->features.n;
    a->a.annotations = a->annotations.v;
    a->a.n_annotations = a->annotations.n;
    return 0;
}

static int manifest_annotate(int argc, char **argv)
{
    if (cli_wants_help(argc, argv, help_annotate))
        return 0;
    __attribute__((cleanup(annotate_args_release))) struct annotate_args a = {0};
    int rc = parse_annotate(argc, argv, &a);
    if (rc != 0)
        return rc;
    struct gantry_store *s = open_store();
    if (!s)
        return 1;
    char digest[GANTRY_DIGEST_MAX];
    struct gantry_error *err = NULL;
    rc = gantry_manifest_annotate(s, argv[optind], argv[optind + 1], &a.a, digest, &err);
    return edited(s, rc, digest, err);
}

static int manifest_rm(int argc, char **argv)
{
    if (cli_wants_help(argc, argv, help_rm))
        return 0;
    int rc = plain_operands(argc, argv, "manifest rm", 1, 0);
    if (rc != 0)
        return rc;
    struct gantry_store *s = open_store();
    if (!s)
        return 1;
    for (int i = optind; i < argc; i++) {
        struct gantry_error *err = NULL;
        if (gantry_manifest_delete(s, argv[i], &err) < 0)
            rc = cli_fail(err);
    }
    gantry_store_free(s);
    return rc;
}

struct inspect_args {
    bool verbose, raw;
    struct cli_registry_opts reg; /* --insecure, --tls-verify */
    const char *format;
};

static int parse_inspect(int argc, char **argv, struct inspect_args *a)
{
    static const struct option opts[] = {
        {"verbose", no_argument, NULL, 'v'},
        {"raw", no_argument, NULL, 'R'},
        {"format", required_argument, NULL, 'f'},
        CLI_LONG_TLS,
        {NULL, 0, NULL, 0},
    };
    int c, tls;
    opterr = 0;
    optind = 0;
    while ((c = getopt_long(argc, argv, ":v", opts, NULL)) != -1) {
        if ((tls = cli_registry_option("manifest inspect", c, optarg, &a->reg)) != 0) {
            if (tls < 0)
                return EXIT_USAGE;
        } else if (c == 'v')
            a->verbose = true;
        else if (c == 'R')
            a->raw = true;
        else if (c == 'f')
            a->format = optarg;
        else
            return cli_option_error("manifest inspect", c, argv);
    }
    if (argc - optind != 1)
        return cli_usage_error("manifest inspect", "'manifest inspect' needs one LIST");
    if ((a->raw && a->verbose) || (a->format && (a->raw || a->verbose)))
        return cli_usage_error("manifest inspect",
                               "--raw, --verbose and --format cannot be combined");
    return 0;
}

/* The descriptor as JSON (canonical: keys sorted). */
static json_t *descriptor_json(const struct gantry_oci_descriptor *d, struct gantry_error **err)
{
    _cleanup_buf_ struct gantry_buf b = GANTRY_BUF_INIT;
    if (gantry_oci_descriptor_to_json(d, &b, err) < 0)
        return NULL;
    json_t *j = json_loadb(b.data, b.len, 0, NULL);
    if (!j)
        gantry_error_set(err, GANTRY_E_INTERNAL, 0, "descriptor %s: unreadable JSON", d->digest);
    return j;
}

/* One object of `docker manifest inspect -v`: Ref, Descriptor, the manifest. */
static json_t *verbose_entry(const struct gantry_manifest_entry *e, const char *repo,
                             struct gantry_error **err)
{
    json_t *desc = descriptor_json(&e->desc, err);
    if (!desc)
        return NULL;
    _cleanup_free_ char *ref =
        repo ? xasprintf("%s@%s", repo, e->desc.digest) : xstrdup(e->desc.digest);
    json_t *o = json_pack("{s:s, s:o}", "Ref", ref, "Descriptor", desc);
    json_t *m = e->manifest ? json_loadb(e->manifest, e->manifest_len, 0, NULL) : NULL;
    const char *key = "OCIManifest";
    if (gantry_oci_media_type_equal(e->desc.media_type, GANTRY_MT_DOCKER_MANIFEST))
        key = "SchemaV2Manifest";
    else if (gantry_oci_media_type_equal(e->desc.media_type, GANTRY_MT_DOCKER_MANIFEST_LIST))
        key = "ManifestList"; /* a nested list: docker has no name for it */
    else if (e->kind == GANTRY_MANIFEST_ENTRY_INDEX)
        key = "OCIIndex";
    if (m)
        json_object_set_new(o, key, m);
    return o;
}

/* "docker.io/library/x" of the name the list was found under, or NULL. */
static char *repository_of(const char *name)
{
    struct gantry_ref r = GANTRY_REF_INIT;
    if (!name || gantry_ref_parse(name, strlen(name), &r, NULL) < 0)
        return NULL;
    char *repo = gantry_ref_repository(&r);
    gantry_ref_release(&r);
    return repo;
}

static int print_verbose(const struct gantry_manifest_info *info)
{
    _cleanup_free_ char *repo = repository_of(info->name);
    json_t *all = json_array();
    struct gantry_error *err = NULL;
    for (size_t i = 0; i < info->n_entries; i++) {
        json_t *o = verbose_entry(&info->entries[i], repo, &err);
        if (!o) {
            json_decref(all);
            return cli_fail(err);
        }
        json_array_append_new(all, o);
    }
    /* docker prints an object for an image and an array for a list. */
    cli_print_json(stdout, info->is_index ? all : json_array_get(all, 0), true);
    json_decref(all);
    return 0;
}

static json_t *annotations_json(const struct gantry_oci_descriptor *d)
{
    json_t *o = json_object();
    for (size_t i = 0; i < d->n_annotations; i++)
        json_object_set_new(o, d->annotations[i].key, json_string(d->annotations[i].value));
    return o;
}

static const char *const kind_names[] = {
    [GANTRY_MANIFEST_ENTRY_IMAGE] = "image",
    [GANTRY_MANIFEST_ENTRY_ATTESTATION] = "attestation",
    [GANTRY_MANIFEST_ENTRY_INDEX] = "index",
    [GANTRY_MANIFEST_ENTRY_OTHER] = "other",
};

/* The template data of one row; values are strings, as in docker. */
static json_t *row_json(const struct gantry_manifest_entry *e)
{
    char size[32] = "-";
    if (e->size >= 0)
        cli_human_size((uint64_t)e->size, size, sizeof(size));
    const char *platforms = e->kind != GANTRY_MANIFEST_ENTRY_INDEX ? ""
                            : e->platforms                         ? e->platforms
                                                                   : "-";
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o}", "Kind", kind_names[e->kind],
                     "Platform", e->platform, "Platforms", platforms, "Digest", e->desc.digest,
                     "MediaType", e->desc.media_type, "Size", size, "Local",
                     e->local ? "yes" : "no", "For", e->subject ? e->subject : "-", "Annotations",
                     annotations_json(&e->desc));
}

/* The sections of the default view: platforms, nested indexes, attestations. */
enum section { SECTION_PLATFORMS = 1, SECTION_INDEXES = 2, SECTION_ATTESTATIONS = 4 };

static unsigned section_of(const struct gantry_manifest_entry *e)
{
    if (e->kind == GANTRY_MANIFEST_ENTRY_ATTESTATION)
        return SECTION_ATTESTATIONS;
    return e->kind == GANTRY_MANIFEST_ENTRY_INDEX ? SECTION_INDEXES : SECTION_PLATFORMS;
}

static json_t *headers_json(unsigned sections)
{
    const char *digest = sections == SECTION_ATTESTATIONS ? "ATTESTATION"
                         : sections == SECTION_INDEXES    ? "INDEX"
                                                          : "DIGEST";
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "Kind", "KIND", "Platform",
                     "PLATFORM", "Platforms", "PLATFORMS", "Digest", digest, "MediaType",
                     "MEDIA TYPE", "Size", "SIZE", "Local", "LOCAL", "For", "FOR", "Annotations",
                     "ANNOTATIONS");
}

/* Rows of the entries of the given sections (a mask); none at all prints nothing. */
static int print_rows(const struct gantry_manifest_info *info, const char *format,
                      const char *table, unsigned sections, struct gantry_error **err)
{
    json_t *headers = headers_json(sections);
    struct cli_output out;
    int rc = cli_output_init(&out, format, table, headers, err);
    json_decref(headers);
    for (size_t i = 0; rc == 0 && i < info->n_entries; i++) {
        const struct gantry_manifest_entry *e = &info->entries[i];
        if (!(section_of(e) & sections))
            continue;
        json_t *row = row_json(e);
        rc = cli_output_row(&out, row, err);
        json_decref(row);
    }
    cli_output_flush(&out, stdout);
    cli_output_release(&out);
    return rc;
}

static bool has_section(const struct gantry_manifest_info *info, unsigned section)
{
    for (size_t i = 0; i < info->n_entries; i++)
        if (section_of(&info->entries[i]) == section)
            return true;
    return false;
}

/*
 * The default view: platforms, then (each after a blank line, when there
 * are any) nested indexes and attestations. A custom format: one row per
 * platform or nested index.
 */
static int print_table(const struct gantry_manifest_info *info, const char *format)
{
    static const char platforms[] = "table {{.Platform}}\\t{{.Digest}}\\t{{.Size}}\\t{{.Local}}";
    static const char indexes[] = "table {{.Digest}}\\t{{.Platforms}}\\t{{.Size}}\\t{{.Local}}";
    static const char attestations[] = "table {{.Digest}}\\t{{.For}}\\t{{.Size}}\\t{{.Local}}";
    struct gantry_error *err = NULL;
    bool custom = format && *format && strcmp(format, "table") != 0;
    if (custom)
        return print_rows(info, format, platforms, SECTION_PLATFORMS | SECTION_INDEXES, &err) < 0
                   ? cli_fail(err)
                   : 0;
    if (print_rows(info, NULL, platforms, SECTION_PLATFORMS, &err) < 0)
        return cli_fail(err);
    const struct {
        unsigned section;
        const char *table;
    } more[] = {{SECTION_INDEXES, indexes}, {SECTION_ATTESTATIONS, attestations}};
    for (size_t i = 0; i < ARRAY_SIZE(more); i++) {
        if (!has_section(info, more[i].section))
            continue;
        putchar('\n');
        if (print_rows(info, NULL, more[i].table, more[i].section, &err) < 0)
            return cli_fail(err);
    }
    return 0;
}

/* The local list or image; else (or for docker://REF) the remote one. */
static int inspect_any(struct gantry_store *s, const char *ref, const struct cli_registry_opts *reg,
                       struct gantry_manifest_info *info, struct gantry_error **err)
{
    bool remote = strncmp(ref, "docker://", 9) == 0;
    struct gantry_error *local = NULL;
    if (!remote && gantry_manifest_inspect(s, ref, info, &local) == 0)
        return 0;
    /* Not local: a registry is asked only for docker://REF or a name that
     * spells out its registry host, never for a bare name by surprise. */
    if (local && local->code != GANTRY_E_NOT_FOUND) {
        *err = local;
        return -1;
    }
    if (local && !gantry_ref_names_registry(ref)) {
        gantry_error_free(local);
        return gantry_error_set(err, GANTRY_E_NOT_FOUND, 0,
                                "no such image: '%s' (not in the store; write docker://%s to read "
                                "it from its registry)",
                                ref, ref);
    }
    gantry_error_free(local);
    struct gantry_registry_client *c = cli_registry_client(reg, err);
    if (!c)
        return -1;
    int rc = gantry_manifest_inspect_remote(s, c, ref, info, err);
    gantry_registry_client_free(c);
    return rc;
}

static int manifest_inspect(int argc, char **argv)
{
    if (cli_wants_help(argc, argv, help_inspect))
        return 0;
    struct inspect_args a = {0};
    int rc = parse_inspect(argc, argv, &a);
    if (rc != 0)
        return rc;
    struct gantry_store *s = open_store();
    if (!s)
        return 1;
    struct gantry_manifest_info info;
    struct gantry_error *err = NULL;
    rc = inspect_any(s, argv[optind], &a.reg, &info, &err);
    gantry_store_free(s);
    if (rc < 0)
        return cli_fail(err);
    if (a.raw)
        rc = fwrite(info.raw, 1, info.raw_len, stdout) == info.raw_len ? 0 : 1;
    else if (a.verbose)
        rc = print_verbose(&info);
    else
        rc = print_table(&info, a.format);
    gantry_manifest_info_release(&info);
    return rc;
}

struct push_args {
    struct gantry_manifest_push_opts o;
    struct cli_registry_opts reg; /* --insecure, --tls-verify, --jobs */
};

static int parse_push(int argc, char **argv, struct push_args *a)
{
    static const struct option opts[] = {
        {"all", no_argument, NULL, 'A'},
        {"allow-duplicates", no_argument, NULL, 'D'},
        {"purge", no_argument, NULL, 'p'},
        CLI_LONG_JOBS,
        CLI_LONG_TLS,
        {NULL, 0, NULL, 0},
    };
    int c, tls;
    opterr = 0;
    optind = 0;
    while ((c = getopt_long(argc, argv, ":pj:", opts, NULL)) != -1) {
        if ((tls = cli_registry_option("manifest push", c, optarg, &a->reg)) != 0) {
            if (tls < 0)
                return EXIT_USAGE;
        } else if (c == 'p') {
            a->o.purge = true;
        } else if (c == 'D') {
            a->o.allow_duplicates = true;
        } else if (c != 'A') {
            return cli_option_error("manifest push", c, argv);
        }
    }
    if (argc - optind < 1 || argc - optind > 2)
        return cli_usage_error("manifest push", "'manifest push' needs LIST and at most one DEST");
    a->o.jobs = a->reg.jobs;
    return 0;
}

static int manifest_push(int argc, char **argv)
{
    if (cli_wants_help(argc, argv, help_push))
        return 0;
    struct push_args a = {0};
    int rc = parse_push(argc, argv, &a);
    if (rc != 0)
        return rc;
    struct gantry_store *s = open_store();
    if (!s)
        return 1;
    struct gantry_registry_client *c = new_client(&a.reg);
    if (!c) {
        gantry_store_free(s);
        return 1;
    }
    struct gantry_error *err = NULL;
    struct gantry_transfer_result r = {0};
    rc = gantry_manifest_push(s, c, argv[optind], optind + 1 < argc ? argv[optind + 1] : NULL, &a.o,
                              &r, &err);
    gantry_registry_client_free(c);
    gantry_store_free(s);
    if (rc < 0)
        return cli_fail(err);
    gantry_log(GANTRY_LOG_DEBUG,
               "manifest push: %zu blobs uploaded (%llu bytes), %zu mounted, %zu already "
               "present, %zu manifests written",
               r.blobs_copied, (unsigned long long)r.bytes_copied, r.blobs_mounted, r.blobs_present,
               r.manifests_copied);
    struct gantry_ref ref = GANTRY_REF_INIT;
    bool ok = gantry_ref_parse(r.name, strlen(r.name), &ref, NULL) == 0;
    printf("%s: digest: %s size: %lld\n", ok && ref.tag ? ref.tag : r.name, r.digest,
           (long long)r.size);
    gantry_ref_release(&ref);
    gantry_transfer_result_release(&r);
    return 0;
}

static const struct {
    const char *name;
    int (*fn)(int argc, char **argv);
} subcommands[] = {
    {"add", manifest_add},         {"annotate", manifest_annotate}, {"create", manifest_create},
    {"inspect", manifest_inspect}, {"push", manifest_push},         {"remove", manifest_remove},
    {"rm", manifest_rm},
};

int cmd_manifest(int argc, char **argv)
{
    if (argc < 2) {
        fputs(help, stderr);
        return EXIT_USAGE;
    }
    const char *sub = argv[1];
    if (strcmp(sub, "-h") == 0 || strcmp(sub, "--help") == 0) {
        fputs(help, stdout);
        return 0;
    }
    for (size_t i = 0; i < ARRAY_SIZE(subcommands); i++)
        if (strcmp(sub, subcommands[i].name) == 0)
            return subcommands[i].fn(argc - 1, argv + 1);
    return cli_usage_error("manifest", "'%s' is not a manifest command", sub);
}
