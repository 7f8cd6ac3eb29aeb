/* gantry ref: parse and normalize image references. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <gantry/ref.h>

#include "cli.h"
#include "util.h"

static const char help[] = "Usage: gantry ref normalize [--familiar] REF...\n"
                           "\n"
                           "Parse image references and print each one normalized, one per line:\n"
                           "'httpd' becomes 'docker.io/library/httpd:latest', 'user/app' becomes\n"
                           "'docker.io/user/app:latest', 'index.docker.io' becomes 'docker.io'.\n"
                           "The references are handled in order; at the first invalid one gantry\n"
                           "prints an error for it and exits 1 (the ones before it are printed).\n"
                           "\n"
                           "Options:\n"
                           "      --familiar   Print Docker's short form ('httpd:latest')\n"
                           "  -h, --help       Show this help\n";

static int ref_normalize(int argc, char **argv)
{
    static const struct option opts[] = {
        {"familiar", no_argument, NULL, 'f'},
        {NULL, 0, NULL, 0},
    };
    bool familiar = false;
    int c;
    opterr = 0;
    optind = 0;
    while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        if (c != 'f')
            return cli_option_error("ref", c, argv);
        familiar = true;
    }
    if (optind >= argc)
        return cli_usage_error("ref", "'ref normalize' needs at least one reference");
    for (int i = optind; i < argc; i++) {
        struct gantry_ref ref;
        struct gantry_error *err = NULL;
        if (gantry_ref_parse(argv[i], strlen(argv[i]), &ref, &err) < 0)
            return cli_fail(err);
        _cleanup_free_ char *s = familiar ? gantry_ref_familiar(&ref) : gantry_ref_to_string(&ref);
        gantry_ref_release(&ref);
        printf("%s\n", s);
    }
    return 0;
}

int cmd_ref(int argc, char **argv)
{
    if (cli_wants_help(argc, argv, help))
        return 0;
    if (argc < 2)
        return cli_usage_error("ref", "'ref' needs a subcommand: normalize");
    if (strcmp(argv[1], "normalize") != 0)
        return cli_usage_error("ref", "unknown subcommand 'ref %s'", argv[1]);
    return ref_normalize(argc - 1, argv + 1);
}
