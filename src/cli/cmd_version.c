/* gantry version */
#include <stdio.h>

#include "cli.h"

static const char help[] = "Usage: gantry version\n\nShow the gantry and libgantry versions.\n";

int cmd_version(int argc, char **argv)
{
    if (cli_wants_help(argc, argv, help))
        return 0;
    if (argc > 1)
        return cli_usage_error("version", "'version' takes no arguments");
    printf("gantry %s (libgantry %s)\n", GANTRY_VERSION_STRING, gantry_version());
    return 0;
}
