/* gantry tag: another name for an image. */
#include <stdio.h>
#include <string.h>

#include <gantry/image.h>
#include <gantry/store.h>

#include "cli.h"
#include "util.h"

static const char help[] =
    "Usage: gantry tag SOURCE TARGET\n"
    "\n"
    "Give the image SOURCE (a name, digest or image id prefix) the name TARGET.\n"
    "TARGET is normalized ('app' is docker.io/library/app:latest) and may not\n"
    "contain a digest; an image already named TARGET loses that name.\n"
    "\n"
    "Options:\n"
    "  -h, --help   Show this help\n"
    "\n"
    "Example:\n"
    "  gantry tag busybox:latest localhost:5000/busybox:1\n";

int cmd_tag(int argc, char **argv)
{
    if (cli_wants_help(argc, argv, help))
        return 0;
    int first = 1;
    if (first < argc && strcmp(argv[first], "--") == 0)
        first++;
    else if (first < argc && argv[first][0] == '-' && argv[first][1])
        return cli_usage_error("tag", "unknown option '%s'", argv[first]);
    if (argc - first != 2)
        return cli_usage_error("tag", "'tag' needs a SOURCE and a TARGET");
    struct gantry_error *err = NULL;
    struct gantry_store *s = cli_open_store(&err);
    if (!s)
        return cli_fail(err);
    int rc = gantry_image_tag(s, argv[first], argv[first + 1], &err);
    gantry_store_free(s);
    return rc < 0 ? cli_fail(err) : 0;
}
