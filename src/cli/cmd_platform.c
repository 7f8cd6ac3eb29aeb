/* gantry platform: normalize, match and show platforms. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <gantry/platform.h>

#include "cli.h"
#include "util.h"

static const char help[] =
    "Usage: gantry platform normalize SPEC...\n"
    "       gantry platform match [--strict] WANT CANDIDATE...\n"
    "       gantry platform host\n"
    "\n"
    "Work with platform specifiers (os[/arch[/variant]], arch, or\n"
    "os(version+feature...)/arch), using containerd's rules.\n"
    "\n"
    "  normalize   Print each SPEC normalized, one per line ('Aarch64' is\n"
    "              linux/arm64 on a Linux host, 'armhf' linux/arm/v7); at the\n"
    "              first invalid SPEC print an error and exit 1\n"
    "  match       Print the CANDIDATEs that can run where WANT is asked for,\n"
    "              best first, as they were written; exit 1 when none does\n"
    "  host        Print the platform gantry runs on\n"
    "\n"
    "Options:\n"
    "      --strict    (match) exact platform only: aliases, no fallbacks\n"
    "                  (amd64 does not take 386, arm/v7 does not take arm/v6)\n"
    "  -h, --help      Show this help\n"
    "\n"
    "Environment:\n"
    "  GANTRY_HOST_PLATFORM   Use this platform instead of the host's\n";

/* getopt over argv (argv[0] = the subcommand); returns optind or -1. */
static int parse_options(int argc, char **argv, bool *strict)
{
    static const struct option opts[] = {
        {"strict", no_argument, NULL, 's'},
        {NULL, 0, NULL, 0},
    };
    int c;
    opterr = 0;
    optind = 0;
    while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        if (c != 's' || !strict) {
            cli_option_error("platform", c, argv);
            return -1;
        }
        *strict = true;
    }
    return optind;
}

static int platform_normalize(int argc, char **argv)
{
    int first = parse_options(argc, argv, NULL);
    if (first < 0)
        return EXIT_USAGE;
    if (first >= argc)
        return cli_usage_error("platform", "'platform normalize' needs at least one platform");
    for (int i = first; i < argc; i++) {
        struct gantry_platform p;
        struct gantry_error *err = NULL;
        if (gantry_platform_parse(argv[i], strlen(argv[i]), &p, &err) < 0)
            return cli_fail(err);
        _cleanup_free_ char *s = gantry_platform_format(&p);
        gantry_platform_release(&p);
        printf("%s\n", s);
    }
    return 0;
}

struct ranked {
    const char *spec;
    int rank;
    int index;
};

/* Best rank first, non-matches (-1) last, ties in the order given. */
static int cmp_ranked(const void *a, const void *b)
{
    const struct ranked *x = a, *y = b;
    unsigned rx = (unsigned)x->rank, ry = (unsigned)y->rank; /* -1 sorts last */
    if (rx != ry)
        return rx < ry ? -1 : 1;
    return x->index < y->index ? -1 : (x->index > y->index);
}

/* Rank every candidate; -1 with the error printed on an invalid one. */
static int rank_candidates(const struct gantry_platform *want, char **specs, int n, bool strict,
                           struct ranked *out)
{
    for (int i = 0; i < n; i++) {
        struct gantry_platform c;
        struct gantry_error *err = NULL;
        if (gantry_platform_parse(specs[i], strlen(specs[i]), &c, &err) < 0) {
            cli_fail(err);
            return -1;
        }
        out[i] = (struct ranked){specs[i], gantry_platform_match_rank(want, &c, strict), i};
        gantry_platform_release(&c);
    }
    qsort(out, (size_t)n, sizeof(*out), cmp_ranked);
    return 0;
}

static int no_match(const char *want, char **specs, int n)
{
    fprintf(stderr, "gantry: no candidate matches platform '%s'; candidates:", want);
    for (int i = 0; i < n; i++)
        fprintf(stderr, "%s %s", i ? "," : "", specs[i]);
    fputc('\n', stderr);
    return 1;
}

static int platform_match(int argc, char **argv)
{
    bool strict = false;
    int first = parse_options(argc, argv, &strict);
    if (first < 0)
        return EXIT_USAGE;
    if (argc - first < 2)
        return cli_usage_error("platform", "'platform match' needs WANT and a CANDIDATE");
    struct gantry_error *err = NULL;
    struct gantry_platform want;
    if (gantry_platform_parse(argv[first], strlen(argv[first]), &want, &err) < 0)
        return cli_fail(err);
    int n = argc - first - 1;
    _cleanup_free_ struct ranked *r = xcalloc((size_t)n, sizeof(*r));
    int rc = rank_candidates(&want, argv + first + 1, n, strict, r);
    gantry_platform_release(&want);
    if (rc < 0)
        return 1;
    if (r[0].rank < 0)
        return no_match(argv[first], argv + first + 1, n);
    for (int i = 0; i < n && r[i].rank >= 0; i++)
        printf("%s\n", r[i].spec);
    return 0;
}

static int platform_host(int argc, char **argv)
{
    int first = parse_options(argc, argv, NULL);
    if (first < 0)
        return EXIT_USAGE;
    if (first < argc)
        return cli_usage_error("platform", "'platform host' takes no arguments");
    struct gantry_platform p;
    struct gantry_error *err = NULL;
    if (gantry_platform_host(&p, &err) < 0)
        return cli_fail(err);
    _cleanup_free_ char *s = gantry_platform_format(&p);
    gantry_platform_release(&p);
    printf("%s\n", s);
    return 0;
}

int cmd_platform(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*fn)(int argc, char **argv);
    } subs[] = {
        {"host", platform_host},
        {"match", platform_match},
        {"normalize", platform_normalize},
    };
    if (cli_wants_help(argc, argv, help))
        return 0;
    if (argc < 2)
        return cli_usage_error("platform", "'platform' needs a subcommand: normalize, match "
                                           "or host");
    for (size_t i = 0; i < ARRAY_SIZE(subs); i++)
        if (strcmp(argv[1], subs[i].name) == 0)
            return subs[i].fn(argc - 1, argv + 1);
    return cli_usage_error("platform", "unknown subcommand 'platform %s'", argv[1]);
}
