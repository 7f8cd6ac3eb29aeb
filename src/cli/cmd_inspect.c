/* gantry inspect: Docker's `docker image inspect` for images of the store or a registry. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include <gantry/image.h>
#include <gantry/registry.h>
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
    "With --remote, REF is looked up in its registry instead: the manifest (or\n"
    "index and the chosen manifest) and the config are fetched, no layer is\n"
    "downloaded and nothing is written to the store. RepoTags and RepoDigests\n"
    "then name REF, and Size is the compressed size of the layers.\n"
    "\n"
    "Options:\n"
    "  -f, --format TEMPLATE   Print the Go template applied to each image, one\n"
    "                          line each, e.g. '{{.Os}}/{{.Architecture}}'\n"
    "      --platform P        Show this platform of a multi-platform image\n"
    "      --remote            Inspect REF in its registry, without pulling it\n"
    "      --insecure          With --remote: allow plain HTTP, skip TLS checks\n"
    "      --tls-verify=false  Same as --insecure\n"
    "  -h, --help              Show this help\n";

struct inspect_args {
    const char *format;
    const char *platform;
    bool remote;
    struct cli_registry_opts reg; /* --insecure, --tls-verify */
    int first;                    /* index of the first REF */
};

static int parse_args(int argc, char **argv, struct inspect_args *a)
{
    static const struct option opts[] = {
        {"format", required_argument, NULL, 'f'},
        {"platform", required_argument, NULL, 'p'},
        {"type", required_argument, NULL, 't'},
        {"remote", no_argument, NULL, 'r'},
        CLI_LONG_TLS,
        {NULL, 0, NULL, 0},
    };
    int c, reg;
    opterr = 0;
    optind = 0;
    while ((c = getopt_long(argc, argv, ":f:", opts, NULL)) != -1) {
        if ((reg = cli_registry_option("inspect", c, optarg, &a->reg)) != 0) {
            if (reg < 0)
                return EXIT_USAGE;
        } else if (c == 'f')
            a->format = optarg;
        else if (c == 'p')
            a->platform = optarg;
        else if (c == 'r')
            a->remote = true;
        else if (c == 't' && strcmp(optarg, "image") != 0)
            return cli_usage_error("inspect", "--type '%s' is not supported: only 'image'", optarg);
        else if (c != 't')
            return cli_option_error("inspect", c, argv);
    }
    if (a->reg.insecure && !a->remote)
        return cli_usage_error("inspect", "--insecure and --tls-verify need --remote");
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

/* Where images are looked up: the store, or (--remote) a registry. */
struct source {
    struct gantry_store *store;
    struct gantry_registry_client *client;
};

static int source_open(const struct inspect_args *a, struct source *src, struct gantry_error **err)
{
    if (!a->remote)
        return (src->store = cli_open_store(err)) ? 0 : -1;
    return (src->client = cli_registry_client(&a->reg, err)) ? 0 : -1;
}

static void source_close(struct source *src)
{
    gantry_store_free(src->store);
    gantry_registry_client_free(src->client);
}

static int inspect_all(const struct source *src, char **refs, int n,
                       const struct gantry_platform *want, json_t *results)
{
    int rc = 0;
    for (int i = 0; i < n; i++) {
        struct gantry_error *err = NULL;
        json_t *j = src->client ? gantry_image_inspect_remote(src->client, refs[i], want, &err)
                                : gantry_image_inspect(src->store, refs[i], want, &err);
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
    struct source src = {0};
    if ((a->platform && gantry_platform_parse(a->platform, strlen(a->platform), &want, &err) < 0) ||
        source_open(a, &src, &err) < 0) {
        gantry_platform_release(&want);
        gantry_template_free(tmpl);
        return cli_fail(err);
    }
    json_t *results = json_array();
    int rc = inspect_all(&src, refs, n, a->platform ? &want : NULL, results);
    source_close(&src);
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
