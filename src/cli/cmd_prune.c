/* gantry prune: delete the blobs no name needs any more. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <gantry/image.h>
#include <gantry/store.h>

#include "cli.h"
#include "util.h"

static const char help[] =
    "Usage: gantry prune [OPTIONS]\n"
    "\n"
    "Delete every blob of the store that no name reaches (left by 'gantry rmi',\n"
    "a replaced tag, or an interrupted import) and stale temporary files, then\n"
    "print 'Deleted N blobs, reclaimed SIZE'. It refuses to run while another\n"
    "gantry process has the store open.\n"
    "\n"
    "Options:\n"
    "  -f, --force   Accepted for docker compatibility (there is no prompt)\n"
    "  -h, --help    Show this help\n";

int cmd_prune(int argc, char **argv)
{
    if (cli_wants_help(argc, argv, help))
        return 0;
    static const struct option opts[] = {
        {"force", no_argument, NULL, 'f'},
        {NULL, 0, NULL, 0},
    };
    int c;
    opterr = 0;
    optind = 0;
    while ((c = getopt_long(argc, argv, ":f", opts, NULL)) != -1)
        if (c != 'f')
            return cli_option_error("prune", c, argv);
    if (optind < argc)
        return cli_usage_error("prune", "'prune' takes no arguments");
    struct gantry_error *err = NULL;
    struct gantry_store *s = cli_open_store(&err);
    if (!s)
        return cli_fail(err);
    struct gantry_image_prune_result r = {0};
    int rc = gantry_image_prune(s, &r, &err);
    gantry_store_free(s);
    if (rc < 0)
        return cli_fail(err);
    char size[32];
    cli_human_size(r.bytes_reclaimed, size, sizeof(size));
    printf("Deleted %llu blob%s, reclaimed %s\n", (unsigned long long)r.blobs_deleted,
           r.blobs_deleted == 1 ? "" : "s", size);
    return 0;
}
