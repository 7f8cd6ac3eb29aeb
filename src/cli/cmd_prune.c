/* gantry prune: delete the blobs no name needs any more, and stale build cache records. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <gantry/build.h>
#include <gantry/image.h>
#include <gantry/store.h>

#include "cli.h"
#include "util.h"

static const char help[] =
    "Usage: gantry prune [OPTIONS]\n"
    "\n"
    "Delete every blob of the store that no name reaches (left by 'gantry rmi',\n"
    "a replaced tag, or an interrupted import) and stale temporary files, then\n"
    "the build cache records whose layer is gone or whose context directory is\n"
    "gone. Prints 'Deleted N blobs, reclaimed SIZE', and 'Deleted N build cache\n"
    "records' when there were any. It refuses to run while another gantry\n"
    "process has the store open.\n"
    "\n"
    "Options:\n"
    "      --cache   Delete every build cache record (like 'docker builder prune\n"
    "                -a'): the next build makes every layer again\n"
    "  -f, --force   Accepted for docker compatibility (there is no prompt)\n"
    "  -h, --help    Show this help\n";

enum { OPT_CACHE = 0x100 };

static int parse(int argc, char **argv, bool *all_cache)
{
    static const struct option opts[] = {
        {"force", no_argument, NULL, 'f'},
        {"cache", no_argument, NULL, OPT_CACHE},
        {NULL, 0, NULL, 0},
    };
    int c;
    opterr = 0;
    optind = 0;
    while ((c = getopt_long(argc, argv, ":f", opts, NULL)) != -1) {
        if (c == OPT_CACHE)
            *all_cache = true;
        else if (c != 'f')
            return cli_option_error("prune", c, argv);
    }
    if (optind < argc)
        return cli_usage_error("prune", "'prune' takes no arguments");
    return 0;
}

/* gc first: it refuses while another process has the store open, and
 * then nothing is deleted; the records of the layers it removed go next. */
static int prune_in(struct gantry_store *s, bool all_cache, struct gantry_image_prune_result *r,
                    struct gantry_build_cache_prune_stats *cs, struct gantry_error **err)
{
    if (gantry_image_prune(s, r, err) < 0)
        return -1;
    return gantry_build_cache_prune(s, all_cache, cs, err);
}

int cmd_prune(int argc, char **argv)
{
    if (cli_wants_help(argc, argv, help))
        return 0;
    bool all_cache = false;
    int rc = parse(argc, argv, &all_cache);
    if (rc != 0)
        return rc;
    struct gantry_error *err = NULL;
    struct gantry_store *s = cli_open_store(&err);
    if (!s)
        return cli_fail(err);
    struct gantry_image_prune_result r = {0};
    struct gantry_build_cache_prune_stats cs = {0};
    rc = prune_in(s, all_cache, &r, &cs, &err);
    gantry_store_free(s);
    if (rc < 0)
        return cli_fail(err);
    char size[32];
    cli_human_size(r.bytes_reclaimed, size, sizeof(size));
    printf("Deleted %llu blob%s, reclaimed %s\n", (unsigned long long)r.blobs_deleted,
           r.blobs_deleted == 1 ? "" : "s", size);
    unsigned long long n = cs.steps_deleted + cs.stats_deleted;
    if (n || all_cache)
        printf("Deleted %llu build cache record%s\n", n, n == 1 ? "" : "s");
    return 0;
}
