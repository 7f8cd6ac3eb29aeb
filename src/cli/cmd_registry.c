/* gantry registry: one distribution-API request at a time, for debugging. */
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <gantry/oci.h>
#include <gantry/ref.h>
#include <gantry/registry.h>

#include "cli.h"
#include "util.h"

static const char help[] =
    "Usage: gantry registry [OPTIONS] COMMAND ARGS...\n"
    "\n"
    "Talk to a registry one request type at a time: a debugging tool for\n"
    "registries and for gantry. References are normalized as everywhere\n"
    "('localhost:5000/app:1'); credentials come from Docker's config file.\n"
    "\n"
    "Commands:\n"
    "  ping HOST...                  Check /v2/ (and the credentials) of each HOST\n"
    "  get-manifest REF...           Print the raw manifest of each REF\n"
    "  head-manifest REF...          Print '<digest> <media type> <size>' per REF\n"
    "  put-manifest [--media-type T] REF FILE\n"
    "                                Push FILE as REF's manifest; print its digest\n"
    "  get-blob [-o FILE] [--size N] REPO@DIGEST\n"
    "                                Write the blob, verified, to FILE (only once\n"
    "                                complete and verified) or to stdout\n"
    "  head-blob REPO@DIGEST...      Print each blob's size; exit 1 when one is missing\n"
    "  put-blob [--mount-from REPO] [--chunk-size N] REPO FILE\n"
    "                                Upload FILE as a blob; print its digest and\n"
    "                                'mounted' or 'uploaded'\n"
    "  tags [--page-size N] REPO     List the tags of REPO, following pagination\n"
    "\n"
    "Options:\n"
    "      --insecure        Allow plain HTTP and skip TLS verification for every\n"
    "                        host (loopback hosts are always allowed plain HTTP)\n"
    "      --tls-verify=false  Same as --insecure\n"
    "      --sleep SECONDS   Pause between the arguments of one command (to watch\n"
    "                        token expiry, rate limits or connection reuse)\n"
    "  -h, --help            Show this help\n";

#define _cleanup_ref_ __attribute__((cleanup(gantry_ref_release)))

struct reg_cli {
    struct gantry_registry_client *client;
    unsigned sleep_s;
};

#define usage(...) cli_usage_error("registry", __VA_ARGS__)

static int parse_ref(const char *s, struct gantry_ref *ref)
{
    struct gantry_error *err = NULL;
    if (gantry_ref_parse(s, strlen(s), ref, &err) < 0)
        return cli_fail(err);
    return 0;
}

static void pause_between(const struct reg_cli *rc, int i, int first)
{
    if (rc->sleep_s && i > first)
        sleep(rc->sleep_s);
}

static int do_ping(struct reg_cli *rc, int argc, char **argv)
{
    if (argc < 2)
        return usage("'registry %s' needs a host", argv[0]);
    for (int i = 1; i < argc; i++) {
        pause_between(rc, i, 1);
        struct gantry_error *err = NULL;
        if (gantry_registry_ping(rc->client, argv[i], &err) < 0)
            return cli_fail(err);
        printf("%s: ok\n", argv[i]);
    }
    return 0;
}

static int do_get_manifest(struct reg_cli *rc, int argc, char **argv, bool head)
{
    if (argc < 2)
        return usage("'registry %s' needs a reference", argv[0]);
    for (int i = 1; i < argc; i++) {
        pause_between(rc, i, 1);
        struct gantry_ref ref;
        if (parse_ref(argv[i], &ref) != 0)
            return 1;
        struct gantry_registry_manifest m = GANTRY_REGISTRY_MANIFEST_INIT;
        struct gantry_error *err = NULL;
        int r = head ? gantry_registry_head_manifest(rc->client, &ref, &m, &err)
                     : gantry_registry_get_manifest(rc->client, &ref, &m, &err);
        gantry_ref_release(&ref);
        if (r < 0)
            return cli_fail(err);
        if (head)
            printf("%s %s %zu\n", *m.digest ? m.digest : "-", m.media_type ? m.media_type : "-",
                   m.len);
        else
            fwrite(m.data, 1, m.len, stdout);
        gantry_registry_manifest_release(&m);
    }
    return 0;
}

/* The mediaType a document says it has (put-manifest without --media-type). */
static char *document_type(const char *data, size_t len, struct gantry_error **err)
{
    enum gantry_oci_kind kind;
    if (gantry_oci_detect(data, len, NULL, &kind, err) < 0)
        return NULL;
    char *t = NULL;
    if (kind == GANTRY_OCI_KIND_INDEX) {
        struct gantry_oci_index *x = gantry_oci_index_parse(data, len, NULL, err);
        t = x ? xstrdup(x->media_type) : NULL;
        gantry_oci_index_free(x);
    } else if (kind == GANTRY_OCI_KIND_MANIFEST) {
        struct gantry_oci_manifest *m = gantry_oci_manifest_parse(data, len, NULL, err);
        t = m ? xstrdup(m->media_type) : NULL;
        gantry_oci_manifest_free(m);
    } else {
        gantry_error_set(err, GANTRY_E_INVALID_ARG, 0,
                         "not a manifest or index: give its type with --media-type");
    }
    return t;
}

static int put_manifest(struct reg_cli *rc, const char *type, const char *refs, const char *file)
{
    _cleanup_buf_ struct gantry_buf b = GANTRY_BUF_INIT_CAP(GANTRY_MANIFEST_MAX);
    struct gantry_error *err = NULL;
    if (gantry_buf_read_file(&b, file, &err) < 0)
        return cli_fail(err);
    _cleanup_free_ char *t = type ? xstrdup(type) : document_type(b.data, b.len, &err);
    if (!t) {
        gantry_error_prefix(&err, "'%s'", file);
        return cli_fail(err);
    }
    struct gantry_ref ref;
    if (parse_ref(refs, &ref) != 0)
        return 1;
    struct gantry_registry_manifest m = {.media_type = t, .data = b.data, .len = b.len};
    char digest[GANTRY_DIGEST_MAX];
    int r = gantry_registry_put_manifest(rc->client, &ref, &m, digest, &err);
    gantry_ref_release(&ref);
    if (r < 0)
        return cli_fail(err);
    printf("%s\n", digest);
    return 0;
}

static int do_put_manifest(struct reg_cli *rc, int argc, char **argv)
{
    static const struct option opts[] = {
        {"media-type", required_argument, NULL, 't'},
        {NULL, 0, NULL, 0},
    };
    const char *type = NULL;
    int c;
    opterr = 0;
    optind = 0;
    while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        if (c != 't')
            return usage("unknown or incomplete option '%s'", argv[optind - 1]);
        type = optarg;
    }
    if (argc - optind != 2)
        return usage("'registry %s' needs a reference and a file", argv[0]);
    return put_manifest(rc, type, argv[optind], argv[optind + 1]);
}

static int write_fd(void *user, const void *data, size_t len, struct gantry_error **err)
{
    int fd = *(int *)user;
    const char *p = data;
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return gantry_error_set(err, GANTRY_E_IO, errno, "write");
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int get_blob_to(struct reg_cli *rc, const struct gantry_ref *ref, int64_t size, int fd)
{
    struct gantry_registry_blob_get g = {
        .digest = ref->digest, .size = size, .write = write_fd, .user = &fd};
    struct gantry_error *err = NULL;
    if (gantry_registry_get_blob(rc->client, ref, &g, &err) < 0)
        return cli_fail(err);
    return 0;
}

/* Into FILE only when complete and verified: a temporary file, then rename. */
static int get_blob_file(struct reg_cli *rc, const struct gantry_ref *ref, int64_t size,
                         const char *out)
{
    _cleanup_free_ char *tmp = xasprintf("%s.tmp-XXXXXX", out);
    _cleanup_close_ int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
        return cli_errorf("create '%s': %s", tmp, strerror(errno));
    int r = get_blob_to(rc, ref, size, fd);
    if (r == 0 && (fsync(fd) < 0 || close(steal_fd(&fd)) < 0 || rename(tmp, out) < 0))
        r = cli_errorf("write '%s': %s", out, strerror(errno));
    if (r != 0)
        unlink(tmp);
    return r;
}

static int do_get_blob(struct reg_cli *rc, int argc, char **argv)
{
    static const struct option opts[] = {
        {"output", required_argument, NULL, 'o'},
        {"size", required_argument, NULL, 's'},
        {NULL, 0, NULL, 0},
    };
    const char *out = NULL;
    int64_t size = -1;
    int c;
    opterr = 0;
    optind = 0;
    while ((c = getopt_long(argc, argv, ":o:", opts, NULL)) != -1) {
        if (c == 'o')
            out = optarg;
        else if (c == 's' && strspn(optarg, "0123456789") == strlen(optarg) && *optarg)
            size = strtoll(optarg, NULL, 10);
        else
            return usage("invalid or unknown option '%s'", argv[optind - 1]);
    }
    if (argc - optind != 1)
        return usage("'registry %s' needs one REPO@DIGEST", argv[0]);
    _cleanup_ref_ struct gantry_ref ref = GANTRY_REF_INIT;
    if (parse_ref(argv[optind], &ref) != 0)
        return 1;
    if (!ref.digest)
        return usage("'%s' has no digest (REPO@sha256:...)", argv[optind]);
    return out ? get_blob_file(rc, &ref, size, out) : get_blob_to(rc, &ref, size, STDOUT_FILENO);
}

static int do_head_blob(struct reg_cli *rc, int argc, char **argv)
{
    if (argc < 2)
        return usage("'registry %s' needs REPO@DIGEST", argv[0]);
    for (int i = 1; i < argc; i++) {
        pause_between(rc, i, 1);
        _cleanup_ref_ struct gantry_ref ref = GANTRY_REF_INIT;
        if (parse_ref(argv[i], &ref) != 0)
            return 1;
        if (!ref.digest)
            return usage("'%s' has no digest (REPO@sha256:...)", argv[i]);
        int64_t size = -1;
        struct gantry_error *err = NULL;
        int r = gantry_registry_head_blob(rc->client, &ref, ref.digest, &size, &err);
        if (r < 0)
            return cli_fail(err);
        if (r == 0)
            return cli_errorf("blob '%s' not found", argv[i]);
        printf("%" PRId64 "\n", size);
    }
    return 0;
}

static ssize_t read_fd_at(void *user, uint64_t offset, void *buf, size_t len,
                          struct gantry_error **err)
{
    ssize_t n;
    while ((n = pread(*(int *)user, buf, len, (off_t)offset)) < 0 && errno == EINTR)
        ;
    if (n < 0)
        return gantry_error_set(err, GANTRY_E_IO, errno, "read");
    return n;
}

/* Digest and size of a file, read once. */
static int file_digest(int fd, char digest[GANTRY_DIGEST_MAX], int64_t *size)
{
    struct gantry_hasher *h = gantry_hasher_new(GANTRY_DIGEST_SHA256);
    char buf[65536];
    ssize_t n;
    while ((n = read(fd, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR))
        if (n > 0)
            gantry_hasher_update(h, buf, (size_t)n);
    *size = (int64_t)gantry_hasher_size(h);
    gantry_hasher_final(h, digest);
    gantry_hasher_free(h);
    return n < 0 ? -1 : 0;
}

static int put_blob(struct reg_cli *rc, const char *repo, const char *file, const char *from,
                    size_t chunk)
{
    _cleanup_close_ int fd = open(file, O_RDONLY | O_CLOEXEC);
    char digest[GANTRY_DIGEST_MAX];
    int64_t size;
    if (fd < 0 || file_digest(fd, digest, &size) < 0)
        return cli_errorf("read '%s': %s", file, strerror(errno));
    _cleanup_ref_ struct gantry_ref ref = GANTRY_REF_INIT;
    if (parse_ref(repo, &ref) != 0)
        return 1;
    struct gantry_registry_blob_push p = {
        .digest = digest,
        .size = size,
        .read = read_fd_at,
        .user = &fd,
        .mount_from = from,
        .chunk_size = chunk,
    };
    bool mounted = false;
    struct gantry_error *err = NULL;
    if (gantry_registry_push_blob(rc->client, &ref, &p, &mounted, &err) < 0)
        return cli_fail(err);
    printf("%s %s\n", digest, mounted ? "mounted" : "uploaded");
    return 0;
}

static bool parse_size(const char *s, size_t *out)
{
    if (!*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 12)
        return false;
    *out = (size_t)strtoull(s, NULL, 10);
    return *out > 0;
}

static int do_put_blob(struct reg_cli *rc, int argc, char **argv)
{
    static const struct option opts[] = {
        {"mount-from", required_argument, NULL, 'm'},
        {"chunk-size", required_argument, NULL, 'c'},
        {NULL, 0, NULL, 0},
    };
    const char *from = NULL;
    size_t chunk = 0;
    int c;
    opterr = 0;
    optind = 0;
    while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        if (c == 'm')
            from = optarg;
        else if (c != 'c' || !parse_size(optarg, &chunk))
            return usage("invalid or unknown option '%s'", argv[optind - 1]);
    }
    if (argc - optind != 2)
        return usage("'registry %s' needs a repository and a file", argv[0]);
    return put_blob(rc, argv[optind], argv[optind + 1], from, chunk);
}

static int do_tags(struct reg_cli *rc, int argc, char **argv)
{
    static const struct option opts[] = {
        {"page-size", required_argument, NULL, 'n'},
        {NULL, 0, NULL, 0},
    };
    size_t page = 0;
    int c;
    opterr = 0;
    optind = 0;
    while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1)
        if (c != 'n' || !parse_size(optarg, &page))
            return usage("invalid or unknown option '%s'", argv[optind - 1]);
    if (argc - optind != 1)
        return usage("'registry %s' needs one repository", argv[0]);
    _cleanup_ref_ struct gantry_ref ref = GANTRY_REF_INIT;
    if (parse_ref(argv[optind], &ref) != 0)
        return 1;
    char **tags = NULL;
    size_t n = 0;
    struct gantry_error *err = NULL;
    if (gantry_registry_list_tags(rc->client, &ref, page, &tags, &n, &err) < 0)
        return cli_fail(err);
    for (size_t i = 0; i < n; i++)
        printf("%s\n", tags[i]);
    gantry_registry_tags_free(tags, n);
    return 0;
}

static int dispatch(struct reg_cli *rc, int argc, char **argv)
{
    const char *cmd = argv[0];
    if (strcmp(cmd, "ping") == 0)
        return do_ping(rc, argc, argv);
    if (strcmp(cmd, "get-manifest") == 0 || strcmp(cmd, "head-manifest") == 0)
        return do_get_manifest(rc, argc, argv, cmd[0] == 'h');
    if (strcmp(cmd, "put-manifest") == 0)
        return do_put_manifest(rc, argc, argv);
    if (strcmp(cmd, "get-blob") == 0)
        return do_get_blob(rc, argc, argv);
    if (strcmp(cmd, "head-blob") == 0)
        return do_head_blob(rc, argc, argv);
    if (strcmp(cmd, "put-blob") == 0)
        return do_put_blob(rc, argc, argv);
    if (strcmp(cmd, "tags") == 0)
        return do_tags(rc, argc, argv);
    return usage("unknown subcommand 'registry %s'", cmd);
}

/* The options before the subcommand; returns its index, or -1. */
static int global_options(int argc, char **argv, struct cli_registry_opts *reg, unsigned *sleep_s)
{
    static const struct option opts[] = {
        CLI_LONG_TLS,
        {"sleep", required_argument, NULL, 's'},
        {NULL, 0, NULL, 0},
    };
    int c;
    opterr = 0;
    optind = 0;
    while ((c = getopt_long(argc, argv, "+:", opts, NULL)) != -1) {
        size_t n;
        int r = cli_registry_option("registry", c, optarg, reg);
        if (r < 0)
            return -1;
        if (r > 0)
            continue;
        if (c == 's' && parse_size(optarg, &n) && n < 3600)
            *sleep_s = (unsigned)n;
        else
            return usage("invalid or unknown option '%s'", argv[optind - 1]), -1;
    }
    return optind;
}

int cmd_registry(int argc, char **argv)
{
    if (cli_wants_help(argc, argv, help))
        return 0;
    struct cli_registry_opts reg = {0};
    struct reg_cli rc = {0};
    int first = global_options(argc, argv, &reg, &rc.sleep_s);
    if (first < 0)
        return EXIT_USAGE;
    if (first >= argc)
        return usage("'registry' needs a command: ping, get-manifest, head-manifest, "
                     "put-manifest, get-blob, head-blob, put-blob, tags");
    struct gantry_error *err = NULL;
    rc.client = cli_registry_client(&reg, &err);
    if (!rc.client)
        return cli_fail(err);
    int r = dispatch(&rc, argc - first, argv + first);
    gantry_registry_client_free(rc.client);
    fflush(stdout);
    return r;
}
