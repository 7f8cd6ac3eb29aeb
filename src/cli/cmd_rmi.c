/* gantry rmi (rm): remove image names; the blobs stay until `gantry prune`. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <gantry/image.h>
#include <gantry/ref.h>
#include <gantry/store.h>

#include "cli.h"
#include "util.h"

static const char help[] =
    "Usage: gantry rmi [OPTIONS] REF...\n"
    "\n"
    "Remove the names REF... from the store and print 'Untagged: NAME' for\n"
    "each. A digest or an image id removes every name of that image, which\n"
    "needs -f when there are several. The blobs stay in the store until\n"
    "'gantry prune'. Every REF is tried; the exit status is 1 when one failed.\n"
    "\n"
    "Options:\n"
    "  -f, --force   Remove all names of an image given by id or digest\n"
    "  -h, --help    Show this help\n"
    "\n"
    "Alias: gantry rm\n";

static void print_untagged(char **names)
{
    for (char **p = names; p && *p; p++) {
        struct gantry_ref ref = GANTRY_REF_INIT;
        _cleanup_free_ char *shown = NULL;
        if (gantry_ref_parse(*p, strlen(*p), &ref, NULL) == 0) {
            shown = gantry_ref_familiar(&ref);
            gantry_ref_release(&ref);
        }
        printf("Untagged: %s\n", shown ? shown : *p);
        free(*p);
    }
    free(names);
}

int cmd_rmi(int argc, char **argv)
{
    if (cli_wants_help(argc, argv, help))
        return 0;
    static const struct option opts[] = {
        {"force", no_argument, NULL, 'f'},
        {NULL, 0, NULL, 0},
    };
    bool force = false;
    int c;
    opterr = 0;
    optind = 0;
    while ((c = getopt_long(argc, argv, ":f", opts, NULL)) != -1) {
        if (c != 'f')
            return cli_option_error("rmi", c, argv);
        force = true;
    }
    if (optind >= argc)
        return cli_usage_error("rmi", "'rmi' needs at least one REF");
    struct gantry_error *err = NULL;
    struct gantry_store *s = cli_open_store(&err);
    if (!s)
        return cli_fail(err);
    int rc = 0;
    for (int i = optind; i < argc; i++) {
        char **removed = NULL;
        if (gantry_image_remove(s, argv[i], force, &removed, &err) < 0)
            rc = cli_fail(steal_pointer(&err));
        else
            print_untagged(removed);
    }
    gantry_store_free(s);
    return rc;
}
