/* gantry build: build a Dockerfile for one or many platforms into the store. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <gantry/build.h>
#include <gantry/registry.h>
#include <gantry/store.h>

#include "cli.h"
#include "util.h"

static const char help[] =
    "Usage: gantry build [OPTIONS] CONTEXT|-\n"
    "\n"
    "Build the Dockerfile of CONTEXT into the store, for one or several\n"
    "platforms (several give a multi-platform image). RUN is not supported yet.\n"
    "With CONTEXT '-', stdin is a tar of the context (plain, gzip or zstd), or\n"
    "a Dockerfile alone with an empty context.\n"
    "\n"
    "Options:\n"
    "  -f, --file FILE          The Dockerfile (default CONTEXT/Dockerfile)\n"
    "  -t, --tag NAME           Name the result (repeatable)\n"
    "      --platform P[,P...]  Target platforms (default: the host's)\n"
    "      --build-arg K=V      Set a build-time variable (repeatable)\n"
    "      --target STAGE       Build this stage instead of the last\n"
    "      --label K=V          Add a label to the image (repeatable)\n"
    "      --compression C      Layer compression: gzip (default), zstd or none\n"
    "      --no-cache           Do not use the step cache (records are refreshed)\n"
    "      --progress MODE      Steps on stderr: auto (a live view on a terminal,\n"
    "                           else plain), tty, plain or quiet\n"
    "      --jobs N             Stages built at once (default: CPUs)\n"
    "      --iidfile FILE       Write the image id to FILE\n"
    "      --push               Push the result to every -t name (HOST/REPO:TAG)\n"
    "  -o, --output SPEC        Also send the result to: type=oci,dest=FILE,\n"
    "                           type=docker,dest=FILE (one platform; dest=- is\n"
    "                           stdout), type=local,dest=DIR, type=registry\n"
    "      --metadata-file FILE Write the result's digests and names as JSON\n"
    "      --check              Check the whole build for every platform without\n"
    "                           building: every problem, one a line\n"
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
    /* step cache, progress, parallelism (--no-cache, --progress, --jobs) */
    bool no_cache;
    unsigned jobs;
    /* outputs (--push, --output, --metadata-file) */
    bool push;
    const char *output;
    const char *metadata_file;
    /* --check */
    bool check;
};

enum { OPT_CHECK = 0x300 };

enum { OPT_PUSH = 0x200, OPT_METADATA_FILE };

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
        a->no_cache = true;
        return 0;
    case 'J':
        return cli_parse_jobs("build", optarg, &a->jobs);
    case 'P':
        a->progress = optarg;
        return 0;
    case 'i':
        a->iidfile = optarg;
        return 0;
    case 'q':
        a->quiet = true;
        return 0;
    case OPT_PUSH:
        a->push = true;
        return 0;
    case 'o':
        a->output = optarg;
        return 0;
    case OPT_METADATA_FILE:
        a->metadata_file = optarg;
        return 0;
    case OPT_CHECK:
        a->check = true;
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
        {"jobs", required_argument, NULL, 'J'},
        {"iidfile", required_argument, NULL, 'i'},
        {"quiet", no_argument, NULL, 'q'},
        {"push", no_argument, NULL, OPT_PUSH},
        {"output", required_argument, NULL, 'o'},
        {"metadata-file", required_argument, NULL, OPT_METADATA_FILE},
        {"check", no_argument, NULL, OPT_CHECK},
        {NULL, 0, NULL, 0},
    };
    int c, rc = 0;
    opterr = 0;
    while (rc == 0 && (c = getopt_long(argc, argv, ":f:t:qo:", opts, NULL)) != -1)
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

/* ---- outputs: --push, --output, --metadata-file, and the context '-' ---- */

struct build_outputs {
    struct gantry_build_output out;
    struct gantry_build_stdin stdin_ctx;
    char *dockerfile; /* -f inside a context read from stdin */
};

static void outputs_release(struct build_outputs *bo)
{
    gantry_build_output_release(&bo->out);
    gantry_build_stdin_release(&bo->stdin_ctx);
    free(bo->dockerfile);
}

/* An option conflict: one line, exit code 2 (cli_usage_error adds a --help hint). */
GANTRY_PRINTF(1, 2) static int usage_errorf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    _cleanup_free_ char *msg = xvasprintf(fmt, ap);
    va_end(ap);
    cli_errorf("%s", msg);
    return EXIT_USAGE;
}

static int usage_fail(struct gantry_error *err)
{
    cli_fail(err);
    return EXIT_USAGE;
}

/* --output and --push into bo->out; a usage error for a bad or conflicting spec. */
static int outputs_parse(const struct build_args *a, struct build_outputs *bo)
{
    struct gantry_error *err = NULL;
    bo->out = (struct gantry_build_output){.type = GANTRY_BUILD_OUTPUT_IMAGE};
    if (a->output && gantry_build_output_parse(a->output, &bo->out, &err) < 0)
        return usage_fail(err);
    if (a->push && bo->out.type == GANTRY_BUILD_OUTPUT_IMAGE)
        bo->out.type = GANTRY_BUILD_OUTPUT_REGISTRY;
    if (a->push && bo->out.type != GANTRY_BUILD_OUTPUT_REGISTRY)
        return usage_errorf("--push cannot be combined with --output '%s'", a->output);
    bool archive =
        bo->out.type == GANTRY_BUILD_OUTPUT_OCI || bo->out.type == GANTRY_BUILD_OUTPUT_DOCKER;
    if (archive && strcmp(bo->out.dest, "-") == 0 && isatty(STDOUT_FILENO))
        return usage_errorf("refusing to write the archive to a terminal: give dest=FILE or "
                            "redirect stdout");
    return 0;
}

/* Check the outputs against o before building, then read a context from stdin. */
static int outputs_prepare(const struct build_args *a, struct build_outputs *bo,
                           struct gantry_build_opts *o)
{
    struct gantry_error *err = NULL;
    if (gantry_build_output_check(&bo->out, o, &err) < 0)
        return usage_fail(err);
    if (strcmp(a->context, "-") != 0)
        return 0;
    if (gantry_build_stdin_read(STDIN_FILENO, NULL, &bo->stdin_ctx, &err) < 0)
        return cli_fail(err);
    if (bo->stdin_ctx.dockerfile && a->file)
        return cli_errorf("-f cannot name a Dockerfile when stdin is the Dockerfile");
    o->context = bo->stdin_ctx.context;
    if (bo->stdin_ctx.dockerfile)
        o->dockerfile = bo->stdin_ctx.dockerfile;
    else if (a->file) /* as docker: -f names a file of the context read from stdin */
        o->dockerfile = bo->dockerfile = xasprintf("%s/%s", bo->stdin_ctx.context, a->file);
    return 0;
}

/* After the build: the output, then the metadata file. */
static int outputs_finish(struct gantry_store *s, struct gantry_registry_client *c,
                          const struct build_args *a, const struct build_outputs *bo,
                          const struct gantry_build_result *r)
{
    struct gantry_error *err = NULL;
    if (gantry_build_output_write(s, c, &bo->out, r, &err) < 0)
        return cli_fail(err);
    if (bo->out.type == GANTRY_BUILD_OUTPUT_REGISTRY && !a->quiet)
        for (size_t i = 0; i < r->n_names; i++)
            fprintf(stderr, "Pushed %s\n", r->names[i]);
    if (a->metadata_file && gantry_build_metadata_write(s, r, a->metadata_file, &err) < 0)
        return cli_fail(err);
    return 0;
}

/* ---- step progress: BuildKit's plain lines on stderr ---- */

static void print_step(void *user, const struct gantry_build_step *ev)
{
    (void)user;
    switch (ev->state) {
    case GANTRY_BUILD_STEP_STARTED:
        fprintf(stderr, "#%u [%s%s%s %zu/%zu] %s\n", ev->id, ev->platform, ev->stage ? " " : "",
                ev->stage ? ev->stage : "", ev->n, ev->total, ev->text);
        break;
    case GANTRY_BUILD_STEP_DONE:
        fprintf(stderr, "#%u DONE %.1fs\n", ev->id, ev->elapsed);
        break;
    case GANTRY_BUILD_STEP_CACHED:
        fprintf(stderr, "#%u CACHED\n", ev->id);
        break;
    case GANTRY_BUILD_STEP_ERROR:
        fprintf(stderr, "#%u ERROR %.1fs\n", ev->id, ev->elapsed);
        break;
    }
}

/* auto, tty and plain show the steps: live on the terminal display (build_progress.c). */
static bool steps_shown(const struct build_args *a)
{
    const char *p = a->progress ? a->progress : cli_globals.progress;
    return !a->quiet && !(p && (strcmp(p, "quiet") == 0 || strcmp(p, "none") == 0));
}

/* --check: the problems on stdout, one a line; exit 1 when there are any. */
static int check_run(struct gantry_store *s, const struct gantry_build_opts *o)
{
    struct gantry_error *err = NULL;
    struct gantry_build_check_result r = {0};
    if (gantry_build_check(s, o, &r, &err) < 0)
        return cli_fail(err);
    for (size_t i = 0; i < r.n_problems; i++)
        printf("%s\n", r.problems[i]);
    int rc = r.n_problems ? 1 : 0;
    if (rc)
        fprintf(stderr, "Check complete, %zu problem%s found\n", r.n_problems,
                r.n_problems == 1 ? "" : "s");
    else
        printf("Check complete, no warnings found.\n");
    gantry_build_check_result_release(&r);
    return rc;
}

static int build_in(struct gantry_store *s, struct gantry_registry_client *c, struct build_args *a,
                    struct build_outputs *bo)
{
    struct gantry_error *err = NULL;
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
                                  .client = c,
                                  .no_cache = a->no_cache,
                                  .jobs = a->jobs,
                                  .on_step = steps_shown(a) ? print_step : NULL};
    int rc = outputs_prepare(a, bo, &o);
    if (rc != 0 || a->check)
        return rc != 0 ? rc : check_run(s, &o);
    struct gantry_build_result r = {0};
    struct cli_build_view *view = o.on_step ? cli_build_view_start() : NULL;
    if (view) {
        o.on_step = cli_build_view_step;
        o.step_user = view;
    }
    rc = gantry_build(s, &o, &r, &err);
    cli_build_view_finish(view, rc == 0); /* the error goes below the summary */
    if (rc < 0)
        return cli_fail(err);
    if (!a->quiet)
        for (size_t i = 0; i < r.n_names; i++)
            fprintf(stderr, "Named %s\n", r.names[i]);
    rc = outputs_finish(s, c, a, bo, &r);
    bool to_stdout = bo->out.dest && strcmp(bo->out.dest, "-") == 0;
    if (rc == 0) /* an archive on stdout keeps it clean: the id goes to stderr */
        fprintf(to_stdout ? stderr : stdout, "%s\n", r.image_id);
    if (rc == 0 && a->iidfile)
        rc = write_iidfile(a->iidfile, r.image_id);
    gantry_build_result_release(&r);
    return rc;
}

static int build_run(struct build_args *a)
{
    struct gantry_error *err = NULL;
    __attribute__((cleanup(outputs_release))) struct build_outputs bo = {0};
    int rc = outputs_parse(a, &bo);
    if (rc != 0)
        return rc;
    struct gantry_registry_client *c =
        gantry_registry_client_new(&(struct gantry_registry_opts){0}, &err);
    if (!c)
        return cli_fail(err);
    struct gantry_store *s = cli_open_store(&err);
    if (!s) {
        gantry_registry_client_free(c);
        return cli_fail(err);
    }
    rc = build_in(s, c, a, &bo);
    gantry_store_free(s);
    gantry_registry_client_free(c);
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
