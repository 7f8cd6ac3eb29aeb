/* gantry inspect: Docker's `docker image inspect` for images of the store. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include <gantry/image.h>
#include <gantry/store.h>
#include <gantry/template.h>

#include "cli.h"
#include "output.h"
#include "util.h"

static const char help[] =
    "Usage: gantry inspect [OPTIONS] REF...\n"
    "\n"
    "Print a JSON array with one object per image, in the shape of\n"
    "`docker image inspect`: Id, RepoTags, RepoDigests, Created, Config,\n"
    "Architecture, Variant, Os, Size, RootFS... plus Descriptor (the manifest\n"
    "shown, with its platform) and, for a multi-platform image, Manifests (every\n"
    "platform, with Present telling whether it is stored). REF is a name, a\n"
    "digest, name@digest or a unique image id prefix. For a multi-platform\n"
    "image the host's platform is shown (GANTRY_HOST_PLATFORM overrides it).\n"
    "Images that cannot be inspected are reported on stderr and make the exit\n"
    "status 1; the others are still printed.\n"
    "\n"
    "Options:\n"
    "  -f, --format TEMPLATE   Print the Go template applied to each image, one\n"
    "                          line each, e.g. '{{.Os}}/{{.Architecture}}'\n"
    "      --platform P        Show this platform of a multi-platform image\n"
    "  -h, --help              Show this help\n";

struct inspect_args {
    const char *format;
    const char *platform;
    int first; /* index of the first REF */
};

static int parse_args(int argc, char **argv, struct inspect_args *a)
{
    static const struct option opts[] = {
        {"format", required_argument, NULL, 'f'},
        {"platform", required_argument, NULL, 'p'},
        {"type", required_argument, NULL, 't'},
        {NULL, 0, NULL, 0},
    };
    int c;
    opterr = 0;
    optind = 0;
    while ((c = getopt_long(argc, argv, ":f:", opts, NULL)) != -1) {
        if (c == 'f')
            a->format = optarg;
        else if (c == 'p')
            a->platform = optarg;
        else if (c == 't' && strcmp(optarg, "image") != 0)
            return cli_usage_error("inspect", "--type '%s' is not supported: only 'image'", optarg);
        else if (c != 't')
            return cli_option_error("inspect", c, argv);
    }
    if (optind >= argc)
        return cli_usage_error("inspect", "'inspect' needs at least one REF");
    a->first = optind;
    return 0;
}

/* One line per image from the template; 0, or 1 after printing the error. */
static int print_template(const struct gantry_template *t, json_t *results)
{
    struct gantry_error *err = NULL;
    struct gantry_buf out = GANTRY_BUF_INIT;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < json_array_size(results); i++) {
        rc = gantry_template_execute(t, json_array_get(results, i), &out, &err);
        if (rc == 0 && gantry_buf_addstr(&out, "\n") < 0)
            oom();
    }
    fwrite(out.data, 1, out.len, stdout);
    gantry_buf_release(&out);
    return rc < 0 ? cli_fail(err) : 0;
}

static int inspect_all(struct gantry_store *s, char **refs, int n,
                       const struct gantry_platform *want, json_t *results)
{
    int rc = 0;
    for (int i = 0; i < n; i++) {
        struct gantry_error *err = NULL;
        json_t *j = gantry_image_inspect(s, refs[i], want, &err);
        if (!j)
            rc = cli_fail(err);
        else
            json_array_append_new(results, j);
    }
    return rc;
}

/* Inspect every REF, then print; *tmpl (may be NULL) is freed here. */
static int run(const struct inspect_args *a, char **refs, int n, struct gantry_template *tmpl)
{
    struct gantry_error *err = NULL;
    struct gantry_platform want = GANTRY_PLATFORM_INIT;
    struct gantry_store *s = NULL;
    if ((a->platform && gantry_platform_parse(a->platform, strlen(a->platform), &want, &err) < 0) ||
        !(s = cli_open_store(&err))) {
        gantry_template_free(tmpl);
        return cli_fail(err);
    }
    json_t *results = json_array();
    int rc = inspect_all(s, refs, n, a->platform ? &want : NULL, results);
    gantry_store_free(s);
    gantry_platform_release(&want);
    int prc = tmpl ? print_template(tmpl, results) : 0;
    if (!tmpl)
        cli_print_json(stdout, results, true);
    json_decref(results);
    gantry_template_free(tmpl);
    return rc ? rc : prc;
}

int cmd_inspect(int argc, char **argv)
{
    if (cli_wants_help(argc, argv, help))
        return 0;
    struct inspect_args a = {0};
    int rc = parse_args(argc, argv, &a);
    if (rc != 0)
        return rc;
    struct gantry_error *err = NULL;
    struct gantry_template *tmpl = NULL;
    if (a.format && !(tmpl = gantry_template_parse(a.format, strlen(a.format), &err)))
        return cli_fail(err);
    return run(&a, argv + a.first, argc - a.first, tmpl);
}
