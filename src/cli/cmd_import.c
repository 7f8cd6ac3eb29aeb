/* gantry import: a rootfs tarball becomes a one-layer image. */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <gantry/image.h>
#include <gantry/store.h>

#include "cli.h"
#include "util.h"

static const char help[] =
    "Usage: gantry import [OPTIONS] FILE|- REF\n"
    "\n"
    "Create a single-layer image named REF from a rootfs tarball (plain, gzip\n"
    "or zstd, recognised from its content). FILE '-' reads standard input, so\n"
    "the tarball can come from a pipe; it is read once and never copied. Prints\n"
    "the image id (the config digest).\n"
    "\n"
    "Options:\n"
    "  -c, --change INSTR      Apply a Dockerfile instruction to the image config:\n"
    "                          CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, STOPSIGNAL, USER,\n"
    "                          VOLUME or WORKDIR (repeatable)\n"
    "  -m, --message TEXT      Comment for the image's history\n"
    "      --platform P        Platform of the image (default: the host's)\n"
    "      --compression C     Layer compression: gzip (default), zstd or none\n"
    "  -h, --help              Show this help\n"
    "\n"
    "Environment:\n"
    "  SOURCE_DATE_EPOCH       Creation time (seconds since 1970) instead of now\n"
    "\n"
    "Example:\n"
    "  gantry import --platform linux/arm64 -c 'CMD [\"sh\"]' rootfs.tar.gz myimg:1\n";

struct import_args {
    const char **changes;
    size_t n_changes;
    const char *message;
    const char *platform;
    enum gantry_compression compression;
    const char *file;
    const char *ref;
};

static int parse_compression(const char *s, enum gantry_compression *c)
{
    static const enum gantry_compression all[] = {GANTRY_COMPRESSION_GZIP, GANTRY_COMPRESSION_ZSTD,
                                                  GANTRY_COMPRESSION_NONE};
    for (size_t i = 0; i < ARRAY_SIZE(all); i++) {
        if (strcmp(s, gantry_compression_name(all[i])) == 0) {
            *c = all[i];
            return 0;
        }
    }
    return cli_usage_error("import", "invalid --compression '%s': want gzip, zstd or none", s);
}

static int parse_args(int argc, char **argv, struct import_args *a)
{
    static const struct option opts[] = {
        {"change", required_argument, NULL, 'c'},
        {"message", required_argument, NULL, 'm'},
        {"platform", required_argument, NULL, 'p'},
        {"compression", required_argument, NULL, 'z'},
        {NULL, 0, NULL, 0},
    };
    int c;
    opterr = 0;
    optind = 0;
    while ((c = getopt_long(argc, argv, ":c:m:", opts, NULL)) != -1) {
        if (c == 'c') {
            a->changes = xrealloc(a->changes, (a->n_changes + 1) * sizeof(*a->changes));
            a->changes[a->n_changes++] = optarg;
        } else if (c == 'm') {
            a->message = optarg;
        } else if (c == 'p') {
            a->platform = optarg;
        } else if (c == 'z') {
            if (parse_compression(optarg, &a->compression) != 0)
                return EXIT_USAGE;
        } else {
            return cli_option_error("import", c, argv);
        }
    }
    if (argc - optind != 2)
        return cli_usage_error("import", "'import' needs a FILE (or -) and a REF");
    a->file = argv[optind];
    a->ref = argv[optind + 1];
    return 0;
}

static int open_input(const char *file, uint64_t *size)
{
    *size = 0;
    int fd = strcmp(file, "-") == 0 ? dup(STDIN_FILENO) : open(file, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
        *size = (uint64_t)st.st_size;
    return fd;
}

static int run_import(const struct import_args *a, int fd, uint64_t size)
{
    struct gantry_error *err = NULL;
    struct gantry_platform p = GANTRY_PLATFORM_INIT;
    if (a->platform && gantry_platform_parse(a->platform, strlen(a->platform), &p, &err) < 0)
        return cli_fail(err);
    struct gantry_store *s = cli_open_store(&err);
    if (!s) {
        gantry_platform_release(&p);
        return cli_fail(err);
    }
    struct gantry_image_import_opts o = {
        .platform = a->platform ? &p : NULL,
        .changes = a->changes,
        .n_changes = a->n_changes,
        .message = a->message,
        .compression = a->compression,
        .progress_id = "import",
        .progress_total = size,
    };
    char id[GANTRY_DIGEST_MAX];
    int rc = gantry_image_import(s, fd, a->ref, &o, id, &err);
    gantry_store_free(s);
    gantry_platform_release(&p);
    if (rc < 0)
        return cli_fail(err);
    printf("%s\n", id);
    return 0;
}

int cmd_import(int argc, char **argv)
{
    if (cli_wants_help(argc, argv, help))
        return 0;
    struct import_args a = {.compression = GANTRY_COMPRESSION_GZIP};
    int rc = parse_args(argc, argv, &a);
    if (rc == 0) {
        uint64_t size = 0;
        _cleanup_close_ int fd = open_input(a.file, &size);
        if (fd < 0)
            rc = cli_errorf("open '%s': %s", a.file, strerror(errno));
        else
            rc = run_import(&a, fd, size);
    }
    free(a.changes);
    return rc;
}
