/* gantry build: build a Dockerfile for one or many platforms into the store. */
#include <stdio.h>
#include <string.h>

#include <gantry/build.h>
#include <gantry/registry.h>
#include <gantry/store.h>

#include "cli.h"
#include "util.h"

static const char help[] =
    "Usage: gantry build [OPTIONS] CONTEXT\n"
    "\n"
    "Build the Dockerfile of CONTEXT into the store, for one or several\n"
    "platforms (several give a multi-platform image). RUN is not supported yet.\n"
    "\n"
    "Options:\n"
    "  -f, --file FILE          The Dockerfile (default CONTEXT/Dockerfile)\n"
    "  -t, --tag NAME           Name the result (repeatable)\n"
    "      --platform P[,P...]  Target platforms (default: the host's)\n"
    "      --build-arg K=V      Set a build-time variable (repeatable)\n"
    "      --target STAGE       Build this stage instead of the last\n"
    "      --label K=V          Add a label to the image (repeatable)\n"
    "      --compression C      Layer compression: gzip (default), zstd or none\n"
    "      --no-cache           Do not use the build cache (there is none yet)\n"
    "      --progress MODE      auto, plain or quiet\n"
    "      --iidfile FILE       Write the image id to FILE\n"
    "  -q, --quiet              Print only the image id\n"
    "  -h, --help               Show this help\n";

struct build_args {
    const char *file;
    const char **tags;
    size_t n_tags;
    struct cli_platforms platforms;
    struct gantry_dockerfile_vars build_args;
    const char *target;
    const char **labels;
    size_t n_labels;
    enum gantry_compression compression;
    const char *progress;
    const char *iidfile;
    bool quiet;
    const char *context;
};

static void push(const char ***v, size_t *n, const char *s)
{
    *v = xrealloc(*v, (*n + 1) * sizeof **v);
    (*v)[(*n)++] = s;
}

static int parse_build_arg(struct build_args *a, const char *s)
{
    const char *eq = strchr(s, '=');
    if (eq == s || !*s)
        return cli_usage_error("build", "invalid --build-arg '%s': want K=V", s);
    if (!eq) { /* "--build-arg K": the value from the environment, as docker */
        const char *v = getenv(s);
        if (v)
            gantry_dockerfile_vars_set(&a->build_args, s, v);
        return 0;
    }
    _cleanup_free_ char *k = xstrndup(s, (size_t)(eq - s));
    gantry_dockerfile_vars_set(&a->build_args, k, eq + 1);
    return 0;
}

static int parse_compression(struct build_args *a, const char *s)
{
    if (strcmp(s, "gzip") == 0)
        a->compression = GANTRY_COMPRESSION_GZIP;
    else if (strcmp(s, "zstd") == 0)
        a->compression = GANTRY_COMPRESSION_ZSTD;
    else if (strcmp(s, "none") == 0)
        a->compression = GANTRY_COMPRESSION_NONE;
    else
        return cli_usage_error("build", "invalid --compression '%s': want gzip, zstd or none", s);
    return 0;
}

static int parse_one(struct build_args *a, int c, char **argv)
{
    switch (c) {
    case 'f':
        a->file = optarg;
        return 0;
    case 't':
        push(&a->tags, &a->n_tags, optarg);
        return 0;
    case 'p':
        return cli_platforms_add(&a->platforms, optarg);
    case 'b':
        return parse_build_arg(a, optarg);
    case 'T':
        a->target = optarg;
        return 0;
    case 'l':
        push(&a->labels, &a->n_labels, optarg);
        return 0;
    case 'c':
        return parse_compression(a, optarg);
    case 'n':
        return 0;
    case 'P':
        a->progress = optarg;
        return 0;
    case 'i':
        a->iidfile = optarg;
        return 0;
    case 'q':
        a->quiet = true;
        return 0;
    default:
        return cli_option_error("build", c, argv);
    }
}

static int parse(int argc, char **argv, struct build_args *a)
{
    static const struct option opts[] = {
        {"file", required_argument, NULL, 'f'},
        {"tag", required_argument, NULL, 't'},
        {"platform", required_argument, NULL, 'p'},
        {"build-arg", required_argument, NULL, 'b'},
        {"target", required_argument, NULL, 'T'},
        {"label", required_argument, NULL, 'l'},
        {"compression", required_argument, NULL, 'c'},
        {"no-cache", no_argument, NULL, 'n'},
        {"progress", required_argument, NULL, 'P'},
        {"iidfile", required_argument, NULL, 'i'},
        {"quiet", no_argument, NULL, 'q'},
        {NULL, 0, NULL, 0},
    };
    int c, rc = 0;
    opterr = 0;
    while (rc == 0 && (c = getopt_long(argc, argv, ":f:t:q", opts, NULL)) != -1)
        rc = parse_one(a, c, argv);
    if (rc != 0)
        return rc;
    if (argc - optind != 1)
        return cli_usage_error("build", "'build' needs exactly one build context");
    a->context = argv[optind];
    if (a->progress && cli_progress_setup(a->progress) != 0)
        return EXIT_USAGE;
    return 0;
}

static int write_iidfile(const char *path, const char *id)
{
    FILE *f = fopen(path, "w");
    if (!f || fputs(id, f) < 0 || fclose(f) != 0)
        return cli_errorf("write '%s': %s", path, strerror(errno));
    return 0;
}

static int build_run(struct build_args *a)
{
    struct gantry_error *err = NULL;
    struct gantry_registry_client *c =
        gantry_registry_client_new(&(struct gantry_registry_opts){0}, &err);
    if (!c)
        return cli_fail(err);
    struct gantry_store *s = cli_open_store(&err);
    if (!s) {
        gantry_registry_client_free(c);
        return cli_fail(err);
    }
    struct gantry_build_opts o = {.context = a->context,
                                  .dockerfile = a->file,
                                  .tags = a->tags,
                                  .n_tags = a->n_tags,
                                  .platforms = a->platforms.v,
                                  .n_platforms = a->platforms.n,
                                  .build_args = &a->build_args,
                                  .target = a->target,
                                  .labels = a->labels,
                                  .n_labels = a->n_labels,
                                  .compression = a->compression,
                                  .client = c};
    struct gantry_build_result r = {0};
    int rc = gantry_build(s, &o, &r, &err);
    gantry_store_free(s);
    gantry_registry_client_free(c);
    if (rc < 0)
        return cli_fail(err);
    if (!a->quiet)
        for (size_t i = 0; i < r.n_names; i++)
            fprintf(stderr, "Named %s\n", r.names[i]);
    printf("%s\n", r.image_id);
    rc = a->iidfile ? write_iidfile(a->iidfile, r.image_id) : 0;
    gantry_build_result_release(&r);
    return rc;
}

int cmd_build(int argc, char **argv)
{
    struct build_args a = {.compression = GANTRY_COMPRESSION_GZIP};
    if (cli_wants_help(argc, argv, help))
        return 0;
    int rc = parse(argc, argv, &a);
    if (rc == 0)
        rc = build_run(&a);
    cli_platforms_release(&a.platforms);
    gantry_dockerfile_vars_release(&a.build_args);
    free(a.tags);
    free(a.labels);
    return rc;
}
