/* gantry save: write images to a tar archive (OCI layout or docker load format). */
#include <stdio.h>
#include <string.h>

#include <gantry/store.h>
#include <gantry/transfer.h>

#include "cli.h"
#include "util.h"

static const char help[] =
    "Usage: gantry save [OPTIONS] IMAGE...\n"
    "\n"
    "Save one or more images to a tar archive, written to standard output\n"
    "unless -o is given (never to a terminal).\n"
    "\n"
    "Options:\n"
    "  -o, --output FILE     Write the archive to FILE (complete, or not at all)\n"
    "      --format FORMAT   oci (default): an OCI image layout with whole\n"
    "                        multi-platform images, for skopeo oci-archive:,\n"
    "                        containerd and Docker 25+; docker: the docker load\n"
    "                        format, one platform per image\n"
    "      --platform P      Save only platform P (repeat the option or list\n"
    "                        several, comma-separated); docker format without\n"
    "                        it takes the host's platform\n"
    "  -h, --help            Show this help\n";

struct save_args {
    const char *output;
    enum gantry_archive_format format;
    struct gantry_platform *platforms;
    size_t n_platforms;
};

static void save_args_release(struct save_args *a)
{
    for (size_t i = 0; i < a->n_platforms; i++)
        gantry_platform_release(&a->platforms[i]);
    free(a->platforms);
}

/* Add each platform of a comma-separated list; 1 after printing an error. */
static int add_platforms(struct save_args *a, const char *list)
{
    for (const char *p = list;; p++) {
        const char *end = strchrnul(p, ',');
        struct gantry_error *err = NULL;
        a->platforms = xrealloc(a->platforms, (a->n_platforms + 1) * sizeof(*a->platforms));
        if (gantry_platform_parse(p, (size_t)(end - p), &a->platforms[a->n_platforms], &err) < 0)
            return cli_fail(err);
        a->n_platforms++;
        if (!*end)
            return 0;
        p = end;
    }
}

/* Options into a; returns the index of the first image, or -(exit code). */
static int parse_options(int argc, char **argv, struct save_args *a)
{
    static const struct option opts[] = {
        {"output", required_argument, NULL, 'o'},
        {"format", required_argument, NULL, 'f'},
        {"platform", required_argument, NULL, 'p'},
        {NULL, 0, NULL, 0},
    };
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:", opts, NULL)) != -1) {
        if (c == 'o') {
            a->output = optarg;
        } else if (c == 'f' && strcmp(optarg, "oci") == 0) {
            a->format = GANTRY_ARCHIVE_OCI;
        } else if (c == 'f' && strcmp(optarg, "docker") == 0) {
            a->format = GANTRY_ARCHIVE_DOCKER;
        } else if (c == 'f') {
            return -cli_usage_error("save", "invalid format '%s': use oci or docker", optarg);
        } else if (c == 'p') {
            if (add_platforms(a, optarg) != 0)
                return -1;
        } else if (c == ':') {
            return -cli_usage_error("save", "option '%s' needs a value", argv[optind - 1]);
        } else {
            char shortopt[] = {'-', (char)optopt, '\0'};
            return -cli_usage_error("save", "unknown option '%s'",
                                    optopt ? shortopt : argv[optind - 1]);
        }
    }
    if (optind >= argc)
        return -cli_usage_error("save", "'save' needs at least one image");
    return optind;
}

static struct gantry_store *open_store(struct gantry_error **err)
{
    _cleanup_free_ char *root =
        cli_globals.root ? xstrdup(cli_globals.root) : gantry_store_default_root(err);
    if (!root)
        return NULL;
    return gantry_store_open(root, 0, err);
}

static int write_fd(void *user, const void *data, size_t len, struct gantry_error **err)
{
    int fd = *(int *)user;
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return gantry_error_set(err, GANTRY_E_IO, errno, "write the archive");
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int save_run(struct save_args *a, const char *const *refs, size_t n)
{
    struct gantry_error *err = NULL;
    struct gantry_transfer_save_opts o = {
        .format = a->format, .platforms = a->platforms, .n_platforms = a->n_platforms};
    if (!a->output && isatty(STDOUT_FILENO))
        return cli_errorf("refusing to write an archive to a terminal: use -o FILE or redirect "
                          "the output");
    struct gantry_store *s = open_store(&err);
    if (!s)
        return cli_fail(err);
    int fd = STDOUT_FILENO;
    int rc = a->output ? gantry_transfer_save_file(s, refs, n, &o, a->output, &err)
                       : gantry_transfer_save(s, refs, n, &o, write_fd, &fd, &err);
    gantry_store_free(s);
    return rc < 0 ? cli_fail(err) : 0;
}

int cmd_save(int argc, char **argv)
{
    struct save_args a = {0};
    if (cli_wants_help(argc, argv, help))
        return 0;
    int first = parse_options(argc, argv, &a);
    int rc = first < 0 ? -first
                       : save_run(&a, (const char *const *)argv + first, (size_t)(argc - first));
    save_args_release(&a);
    return rc;
}
