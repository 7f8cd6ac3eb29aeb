/* gantry pull: fetch an image (one platform, or all) from a registry into the store. */
#include <stdio.h>
#include <string.h>

#include <gantry/ref.h>
#include <gantry/registry.h>
#include <gantry/store.h>
#include <gantry/transfer.h>

#include "cli.h"
#include "util.h"

static const char help[] =
    "Usage: gantry pull [OPTIONS] IMAGE\n"
    "\n"
    "Download an image from a registry into the store. From a multi-platform\n"
    "image only the platform that suits the host (or --platform) is fetched;\n"
    "the index is kept whole, so the other platforms can be pulled later.\n"
    "\n"
    "Options:\n"
    "      --platform P        Pull platform P (e.g. linux/arm64) instead of the host's\n"
    "  -a, --all-platforms     Pull every platform of a multi-platform image\n"
    "  -j, --jobs N            Fetch N blobs at once (default 4)\n"
    "  -q, --quiet             No progress; print only the image's full name\n"
    "      --insecure          Allow plain HTTP and skip TLS verification\n"
    "      --tls-verify=false  Same as --insecure\n"
    "  -h, --help              Show this help\n";

struct pull_args {
    struct cli_platforms platforms; /* at most one */
    bool all_platforms;
    bool quiet;
    struct cli_registry_opts reg;
    const char *ref;
};

/* --platform P: the last one given wins, as with docker pull. */
static int parse_platform(struct pull_args *a, const char *s)
{
    cli_platforms_release(&a->platforms);
    if (strchr(s, ','))
        return cli_usage_error("pull", "'pull' takes one platform, not a list: '%s'", s);
    return cli_platforms_add(&a->platforms, s);
}

static int parse(int argc, char **argv, struct pull_args *a)
{
    static const struct option opts[] = {
        {"platform", required_argument, NULL, 'p'},
        {"all-platforms", no_argument, NULL, 'a'},
        CLI_LONG_JOBS,
        {"quiet", no_argument, NULL, 'q'},
        CLI_LONG_TLS,
        {NULL, 0, NULL, 0},
    };
    int c, rc = 0, reg;
    opterr = 0;
    while (rc == 0 && (c = getopt_long(argc, argv, ":aj:q", opts, NULL)) != -1) {
        if ((reg = cli_registry_option("pull", c, optarg, &a->reg)) != 0)
            rc = reg < 0 ? EXIT_USAGE : 0;
        else if (c == 'p')
            rc = parse_platform(a, optarg);
        else if (c == 'a')
            a->all_platforms = true;
        else if (c == 'q')
            a->quiet = true;
        else
            rc = cli_option_error("pull", c, argv);
    }
    if (rc != 0)
        return rc;
    if (a->platforms.n && a->all_platforms)
        return cli_usage_error("pull", "--platform and --all-platforms are mutually exclusive");
    if (argc - optind != 1)
        return cli_usage_error("pull", "'pull' needs exactly one image");
    a->ref = argv[optind];
    return 0;
}

/* What docker pull prints at the end. */
static void print_result(const struct pull_args *a, const struct gantry_transfer_result *r)
{
    if (!a->quiet) {
        struct gantry_ref ref = GANTRY_REF_INIT;
        _cleanup_free_ char *familiar = NULL;
        if (gantry_ref_parse(r->name, strlen(r->name), &ref, NULL) == 0)
            familiar = gantry_ref_familiar(&ref);
        gantry_ref_release(&ref);
        printf("Digest: %s\n", r->digest);
        printf("Status: %s %s\n",
               r->changed || r->blobs_copied ? "Downloaded newer image for"
                                             : "Image is up to date for",
               familiar ? familiar : r->name);
    }
    printf("%s\n", r->name);
}

static int pull_run(const struct pull_args *a)
{
    struct gantry_error *err = NULL;
    if (a->quiet)
        gantry_set_progress_handler(NULL, NULL); /* -q: no progress either */
    struct gantry_registry_client *c = cli_registry_client(&a->reg, &err);
    if (!c)
        return cli_fail(err);
    struct gantry_store *s = cli_open_store(&err);
    if (!s) {
        gantry_registry_client_free(c);
        return cli_fail(err);
    }
    struct gantry_transfer_pull_opts po = {.platform = a->platforms.n ? a->platforms.v : NULL,
                                           .all_platforms = a->all_platforms,
                                           .jobs = a->reg.jobs};
    struct gantry_transfer_result r = {0};
    int rc = gantry_transfer_pull(s, c, a->ref, &po, &r, &err);
    gantry_store_free(s);
    gantry_registry_client_free(c);
    if (rc < 0)
        return cli_fail(err);
    gantry_log(GANTRY_LOG_DEBUG, "pull: %zu blobs fetched (%llu bytes), %zu already present",
               r.blobs_copied, (unsigned long long)r.bytes_copied, r.blobs_present);
    print_result(a, &r);
    gantry_transfer_result_release(&r);
    return 0;
}

int cmd_pull(int argc, char **argv)
{
    struct pull_args a = {0};
    if (cli_wants_help(argc, argv, help))
        return 0;
    int rc = parse(argc, argv, &a);
    if (rc == 0)
        rc = pull_run(&a);
    cli_platforms_release(&a.platforms);
    return rc;
}
