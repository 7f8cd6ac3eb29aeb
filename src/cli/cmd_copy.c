/* gantry copy: an image from one place to another (registry, store, OCI directory or archive). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gantry/registry.h>
#include <gantry/store.h>
#include <gantry/transfer.h>

#include "cli.h"
#include "util.h"

static const char help[] =
    "Usage: gantry copy [OPTIONS] SOURCE DESTINATION\n"
    "\n"
    "Copy an image, keeping its digests, between any two of:\n"
    "  docker://REF             a registry (a bare reference means this too)\n"
    "  gantry:REF               the local store\n"
    "  oci:DIR[:REF]            an OCI image layout directory (REF: its ref.name)\n"
    "  oci-archive:FILE[:REF]   an OCI layout in a tar file\n"
    "Between two repositories of one registry blobs are mounted, not copied.\n"
    "\n"
    "Options:\n"
    "      --platform P        Copy only platform P: one gives that manifest alone,\n"
    "                          several (repeat, or comma-separated) a smaller index\n"
    "  -a, --all-platforms     Copy the whole image (the default)\n"
    "  -j, --jobs N            Move N blobs at once (default 4)\n"
    "      --chunk-size N      Upload blobs larger than N bytes (k, m, g: KiB, MiB,\n"
    "                          GiB) in PATCH requests of N bytes (default: blobs\n"
    "                          over 32 MiB in one streamed request)\n"
    "  -q, --quiet             No progress; print only the destination's name\n"
    "      --insecure          Allow plain HTTP and skip TLS verification\n"
    "      --tls-verify=false  Same as --insecure\n"
    "  -h, --help              Show this help\n";

struct copy_args {
    struct cli_platforms platforms;
    bool all_platforms;
    bool quiet;
    struct cli_registry_opts reg;
    const char *src;
    const char *dst;
};

static int parse(int argc, char **argv, struct copy_args *a)
{
    static const struct option opts[] = {
        {"platform", required_argument, NULL, 'p'},
        {"all-platforms", no_argument, NULL, 'a'},
        CLI_LONG_JOBS,
        CLI_LONG_CHUNK_SIZE,
        {"quiet", no_argument, NULL, 'q'},
        CLI_LONG_TLS,
        {NULL, 0, NULL, 0},
    };
    int c, rc = 0, reg;
    opterr = 0;
    while (rc == 0 && (c = getopt_long(argc, argv, ":aj:q", opts, NULL)) != -1) {
        if ((reg = cli_registry_option("copy", c, optarg, &a->reg)) != 0)
            rc = reg < 0 ? EXIT_USAGE : 0;
        else if (c == 'p')
            rc = cli_platforms_add(&a->platforms, optarg);
        else if (c == 'a')
            a->all_platforms = true;
        else if (c == 'q')
            a->quiet = true;
        else
            rc = cli_option_error("copy", c, argv);
    }
    if (rc != 0)
        return rc;
    if (a->platforms.n && a->all_platforms)
        return cli_usage_error("copy", "--platform and --all-platforms are mutually exclusive");
    if (argc - optind != 2)
        return cli_usage_error("copy", "'copy' needs a source and a destination");
    a->src = argv[optind];
    a->dst = argv[optind + 1];
    return 0;
}

static int copy_run(const struct copy_args *a, const struct gantry_transfer_endpoint *src,
                    const struct gantry_transfer_endpoint *dst)
{
    struct gantry_error *err = NULL;
    struct gantry_store *s = NULL;
    if (a->quiet)
        gantry_set_progress_handler(NULL, NULL); /* -q: no progress either */
    bool wants_store = src->kind == GANTRY_TRANSFER_STORE || dst->kind == GANTRY_TRANSFER_STORE;
    if (wants_store && !(s = dst->kind == GANTRY_TRANSFER_STORE ? cli_open_store(&err)
                                                                : cli_open_existing_store(&err)))
        return cli_fail(err);
    struct gantry_registry_client *c = cli_registry_client(&a->reg, &err);
    if (!c) {
        gantry_store_free(s);
        return cli_fail(err);
    }
    struct gantry_transfer_copy_opts co = {
        .platforms = a->platforms.v,
        .n_platforms = a->platforms.n,
        .jobs = a->reg.jobs,
        .chunk_size = a->reg.chunk_size,
    };
    struct gantry_transfer_result r = {0};
    int rc = gantry_transfer_copy(s, c, src, dst, &co, &r, &err);
    gantry_registry_client_free(c);
    gantry_store_free(s);
    if (rc < 0)
        return cli_fail(err);
    gantry_log(GANTRY_LOG_DEBUG,
               "copy: %zu blobs copied (%llu bytes), %zu mounted, %zu already present, "
               "%zu manifests written",
               r.blobs_copied, (unsigned long long)r.bytes_copied, r.blobs_mounted, r.blobs_present,
               r.manifests_copied);
    if (a->quiet)
        printf("%s\n", r.name);
    else
        printf("%s: digest: %s size: %lld\n", r.name, r.digest, (long long)r.size);
    gantry_transfer_result_release(&r);
    return 0;
}

int cmd_copy(int argc, char **argv)
{
    struct copy_args a = {0};
    if (cli_wants_help(argc, argv, help))
        return 0;
    int rc = parse(argc, argv, &a);
    struct gantry_transfer_endpoint src = {0}, dst = {0};
    struct gantry_error *err = NULL;
    if (rc == 0 && (gantry_transfer_endpoint_parse(a.src, strlen(a.src), &src, &err) < 0 ||
                    gantry_transfer_endpoint_parse(a.dst, strlen(a.dst), &dst, &err) < 0))
        rc = cli_usage_error("copy", "%s", err->message);
    gantry_error_free(err);
    if (rc == 0)
        rc = copy_run(&a, &src, &dst);
    gantry_transfer_endpoint_release(&src);
    gantry_transfer_endpoint_release(&dst);
    cli_platforms_release(&a.platforms);
    return rc;
}
