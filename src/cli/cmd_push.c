/* gantry push: upload an image of the store (all its platforms, or some) to a registry. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gantry/ref.h>
#include <gantry/registry.h>
#include <gantry/store.h>
#include <gantry/transfer.h>

#include "cli.h"
#include "util.h"

static const char help[] =
    "Usage: gantry push [OPTIONS] IMAGE [DESTINATION]\n"
    "\n"
    "Upload an image of the store to a registry: to DESTINATION (a reference\n"
    "with a tag) when given, else to the name of IMAGE. Blobs the registry has\n"
    "are not sent again; the child manifests go before the index and the tag\n"
    "is written last, so it never points at missing content. Platforms missing\n"
    "from the store are fine when the registry has them already.\n"
    "\n"
    "Options:\n"
    "      --platform P        Push only platform P: one gives that manifest alone,\n"
    "                          several (repeat, or comma-separated) a smaller index\n"
    "      --mount-from REPO   Mount the blobs the destination lacks from REPO, a\n"
    "                          repository of the same registry, before uploading\n"
    "  -j, --jobs N            Upload N blobs at once (default 4)\n"
    "      --chunk-size N      Upload blobs larger than N bytes (k, m, g: KiB, MiB,\n"
    "                          GiB) in PATCH requests of N bytes (default: blobs\n"
    "                          over 32 MiB in one streamed request)\n"
    "  -q, --quiet             No progress; print only the destination's full name\n"
    "      --insecure          Allow plain HTTP and skip TLS verification\n"
    "      --tls-verify=false  Same as --insecure\n"
    "  -h, --help              Show this help\n";

struct push_args {
    struct cli_platforms platforms;
    bool quiet;
    struct cli_registry_opts reg;
    const char *mount_from;
    const char *src;
    const char *dest;
};

static int parse(int argc, char **argv, struct push_args *a)
{
    static const struct option opts[] = {
        {"platform", required_argument, NULL, 'p'},
        CLI_LONG_JOBS,
        CLI_LONG_CHUNK_SIZE,
        {"mount-from", required_argument, NULL, 'm'},
        {"quiet", no_argument, NULL, 'q'},
        CLI_LONG_TLS,
        {NULL, 0, NULL, 0},
    };
    int c, rc = 0, reg;
    opterr = 0;
    while (rc == 0 && (c = getopt_long(argc, argv, ":j:q", opts, NULL)) != -1) {
        if ((reg = cli_registry_option("push", c, optarg, &a->reg)) != 0)
            rc = reg < 0 ? EXIT_USAGE : 0;
        else if (c == 'p')
            rc = cli_platforms_add(&a->platforms, optarg);
        else if (c == 'm')
            a->mount_from = optarg;
        else if (c == 'q')
            a->quiet = true;
        else
            rc = cli_option_error("push", c, argv);
    }
    if (rc != 0)
        return rc;
    if (argc - optind < 1 || argc - optind > 2)
        return cli_usage_error("push", "'push' needs an image and at most one destination");
    a->src = argv[optind];
    a->dest = optind + 1 < argc ? argv[optind + 1] : NULL;
    return 0;
}

/* docker push's closing line: "<tag>: digest: sha256:... size: N". */
static void print_result(const struct push_args *a, const struct gantry_transfer_result *r)
{
    if (a->quiet) {
        printf("%s\n", r->name);
        return;
    }
    struct gantry_ref ref = GANTRY_REF_INIT;
    bool ok = gantry_ref_parse(r->name, strlen(r->name), &ref, NULL) == 0;
    printf("%s: digest: %s size: %lld\n", ok && ref.tag ? ref.tag : r->name, r->digest,
           (long long)r->size);
    gantry_ref_release(&ref);
}

static int push_run(const struct push_args *a)
{
    struct gantry_error *err = NULL;
    if (a->quiet)
        gantry_set_progress_handler(NULL, NULL); /* -q: no progress either */
    struct gantry_registry_client *c = cli_registry_client(&a->reg, &err);
    if (!c)
        return cli_fail(err);
    struct gantry_store *s = cli_open_existing_store(&err);
    if (!s) {
        gantry_registry_client_free(c);
        return cli_fail(err);
    }
    struct gantry_transfer_push_opts po = {.platforms = a->platforms.v,
                                           .n_platforms = a->platforms.n,
                                           .jobs = a->reg.jobs,
                                           .chunk_size = a->reg.chunk_size,
                                           .mount_from = a->mount_from};
    struct gantry_transfer_result r = {0};
    int rc = gantry_transfer_push(s, c, a->src, a->dest, &po, &r, &err);
    gantry_store_free(s);
    gantry_registry_client_free(c);
    if (rc < 0)
        return cli_fail(err);
    gantry_log(GANTRY_LOG_DEBUG,
               "push: %zu blobs uploaded (%llu bytes), %zu mounted, %zu already present, "
               "%zu manifests written",
               r.blobs_copied, (unsigned long long)r.bytes_copied, r.blobs_mounted, r.blobs_present,
               r.manifests_copied);
    print_result(a, &r);
    gantry_transfer_result_release(&r);
    return 0;
}

int cmd_push(int argc, char **argv)
{
    struct push_args a = {0};
    if (cli_wants_help(argc, argv, help))
        return 0;
    int rc = parse(argc, argv, &a);
    if (rc == 0)
        rc = push_run(&a);
    cli_platforms_release(&a.platforms);
    return rc;
}
