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
    struct cli_platforms platforms;
};

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
            if (cli_platforms_add(&a->platforms, optarg) != 0)
                return -1;
        } else {
            return -cli_option_error("save", c, argv);
        }
    }
    if (optind >= argc)
        return -cli_usage_error("save", "'save' needs at least one image");
    return optind;
}

static int save_run(struct save_args *a, const char *const *refs, size_t n)
{
    struct gantry_error *err = NULL;
    struct gantry_transfer_save_opts o = {
        .format = a->format, .platforms = a->platforms.v, .n_platforms = a->platforms.n};
    if (!a->output && isatty(STDOUT_FILENO))
        return cli_errorf("refusing to write an archive to a terminal: use -o FILE or redirect "
                          "the output");
    struct gantry_store *s = cli_open_existing_store(&err);
    if (!s)
        return cli_fail(err);
    int rc = a->output ? gantry_transfer_save_file(s, refs, n, &o, a->output, &err)
                       : gantry_transfer_save_fd(s, refs, n, &o, STDOUT_FILENO, &err);
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
    cli_platforms_release(&a.platforms);
    return rc;
}
