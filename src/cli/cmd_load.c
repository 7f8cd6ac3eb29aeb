/* gantry load: read images from a tar archive (OCI layout or docker save format). */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include <gantry/store.h>
#include <gantry/transfer.h>

#include "cli.h"
#include "util.h"

static const char help[] =
    "Usage: gantry load [OPTIONS]\n"
    "\n"
    "Load images from a tar archive read from standard input unless -i is\n"
    "given: an OCI archive (gantry save, skopeo oci-archive:, docker save 25+)\n"
    "or a docker save archive, plain, gzip or zstd compressed. Every blob is\n"
    "verified; names are set only once the whole archive was read.\n"
    "\n"
    "Prints 'Loaded image: NAME' for each name, and 'Loaded image ID: ID' for\n"
    "an image that has none (name it with --tag, or it goes at the next prune).\n"
    "\n"
    "Options:\n"
    "  -i, --input FILE   Read the archive from FILE\n"
    "  -q, --quiet        Show no progress\n"
    "  -t, --tag NAME     Name the archive's unnamed image NAME (or its only\n"
    "                     image, as an extra name)\n"
    "  -h, --help         Show this help\n";

struct load_args {
    const char *input;
    const char *tag;
    bool quiet;
};

/* Options into a; returns 0, or the exit code after printing an error. */
static int parse_options(int argc, char **argv, struct load_args *a)
{
    static const struct option opts[] = {
        {"input", required_argument, NULL, 'i'},
        {"quiet", no_argument, NULL, 'q'},
        {"tag", required_argument, NULL, 't'},
        {NULL, 0, NULL, 0},
    };
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":i:qt:", opts, NULL)) != -1) {
        if (c == 'i') {
            a->input = optarg;
        } else if (c == 'q') {
            a->quiet = true;
        } else if (c == 't') {
            a->tag = optarg;
        } else {
            return cli_option_error("load", c, argv);
        }
    }
    if (optind < argc)
        return cli_usage_error("load", "'load' takes no arguments (use -i FILE)");
    return 0;
}

static void print_result(const struct gantry_transfer_load_result *res)
{
    for (size_t i = 0; i < res->n_items; i++) {
        if (res->items[i].name)
            printf("Loaded image: %s\n", res->items[i].name);
        else
            printf("Loaded image ID: %s\n", res->items[i].id);
    }
}

static int load_run(const struct load_args *a, int fd)
{
    struct gantry_error *err = NULL;
    struct gantry_transfer_load_opts o = {.tag = a->tag};
    struct gantry_transfer_load_result res;
    struct gantry_store *s = cli_open_store(&err);
    if (!s)
        return cli_fail(err);
    int rc = gantry_transfer_load_fd(s, fd, &o, &res, &err);
    gantry_store_free(s);
    if (rc < 0) {
        gantry_error_prefix(&err, "load '%s'", a->input ? a->input : "-");
        return cli_fail(err);
    }
    print_result(&res);
    gantry_transfer_load_result_release(&res);
    return 0;
}

int cmd_load(int argc, char **argv)
{
    struct load_args a = {0};
    if (cli_wants_help(argc, argv, help))
        return 0;
    int rc = parse_options(argc, argv, &a);
    if (rc != 0)
        return rc;
    if (a.quiet)
        gantry_set_progress_handler(NULL, NULL);
    if (!a.input) {
        if (isatty(STDIN_FILENO))
            return cli_errorf("refusing to read an archive from a terminal: use -i FILE or "
                              "redirect the input");
        return load_run(&a, STDIN_FILENO);
    }
    _cleanup_close_ int fd = open(a.input, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return cli_errorf("open '%s': %s", a.input, strerror(errno));
    return load_run(&a, fd);
}
