/*
 * Unit tests for transfer's pure parts: archive paths, image names from
 * index.json annotations, the archive writer, `copy` endpoints, and the
 * copy engine's platform choice and its "no X image in Y" message.
 * Docker's manifest.json is tested with its model in test_oci.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <gantry/oci.h>
#include <gantry/platform.h>
#include <gantry/transfer.h>

#include "transfer/copy_internal.h"
#include "transfer/transfer_internal.h"
#include "util.h"

#define SHA_HEX "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define SHA_A "sha256:" SHA_HEX

static void expect_clean(const char *in, const char *want)
{
    _cleanup_free_ char *got = transfer_path_clean(in, strlen(in));
    if (!want) {
        if (got)
            fail_msg("'%s': expected NULL, got '%s'", in, got);
        return;
    }
    if (!got || strcmp(got, want) != 0)
        fail_msg("'%s': expected '%s', got '%s'", in, want, got ? got : "(null)");
}

static void test_transfer__path_clean(void **state)
{
    (void)state;
    expect_clean("manifest.json", "manifest.json");
    expect_clean("./manifest.json", "manifest.json");
    expect_clean("/blobs//sha256/./x", "blobs/sha256/x");
    expect_clean("a/b/../c/", "a/c");
    expect_clean("a/..", NULL);
    expect_clean("../x", NULL);
    expect_clean("./", NULL);
    expect_clean("", NULL);
}

static void test_transfer__path_link_target(void **state)
{
    (void)state;
    _cleanup_free_ char *a = transfer_path_link_target("id1/layer.tar", "../abc.tar");
    _cleanup_free_ char *b = transfer_path_link_target("id1/layer.tar", "/id2/layer.tar");
    _cleanup_free_ char *c = transfer_path_link_target("top", "sub/./f");
    _cleanup_free_ char *d = transfer_path_link_target("id1/layer.tar", "../../etc/passwd");
    assert_string_equal(a, "abc.tar");
    assert_string_equal(b, "id2/layer.tar");
    assert_string_equal(c, "sub/f");
    assert_null(d);
}

static void test_transfer__path_blob_digest(void **state)
{
    (void)state;
    char d[GANTRY_DIGEST_MAX];
    assert_true(transfer_path_blob_digest("blobs/sha256/" SHA_HEX, d));
    assert_string_equal(d, SHA_A);
    assert_false(transfer_path_blob_digest("blobs/sha256/abc", d));
    assert_false(transfer_path_blob_digest("blobs/md5/d41d8cd98f00b204e9800998ecf8427e", d));
    assert_false(transfer_path_blob_digest("x/blobs/sha256/" SHA_HEX, d));
    assert_false(transfer_path_blob_digest("blobs/sha256", d));
}

static void test_transfer__path_classify(void **state)
{
    (void)state;
    assert_int_equal(transfer_path_classify("oci-layout"), TRANSFER_ENTRY_OCI_LAYOUT);
    assert_int_equal(transfer_path_classify("index.json"), TRANSFER_ENTRY_INDEX);
    assert_int_equal(transfer_path_classify("manifest.json"), TRANSFER_ENTRY_DOCKER_MANIFEST);
    assert_int_equal(transfer_path_classify("repositories"), TRANSFER_ENTRY_IGNORED);
    assert_int_equal(transfer_path_classify("abc/json"), TRANSFER_ENTRY_IGNORED);
    assert_int_equal(transfer_path_classify("abc/VERSION"), TRANSFER_ENTRY_IGNORED);
    assert_int_equal(transfer_path_classify("blobs/sha256/zz"), TRANSFER_ENTRY_IGNORED);
    assert_int_equal(transfer_path_classify("abc/layer.tar"), TRANSFER_ENTRY_FILE);
    assert_int_equal(transfer_path_classify("abc.json"), TRANSFER_ENTRY_FILE);
    assert_int_equal(transfer_path_classify("blobs/sha256/" SHA_HEX), TRANSFER_ENTRY_BLOB);
}

/* The name an entry with these annotations (NULL: absent) loads under. */
static char *name_of(const char *containerd, const char *ref_name, struct gantry_error **err)
{
    struct gantry_oci_descriptor d = GANTRY_OCI_DESCRIPTOR_INIT;
    char *name = NULL;
    gantry_oci_descriptor_init(&d, GANTRY_MT_OCI_MANIFEST, SHA_A, 2);
    if (containerd)
        gantry_oci_descriptor_set_annotation(&d, "io.containerd.image.name", containerd);
    if (ref_name)
        gantry_oci_descriptor_set_annotation(&d, GANTRY_OCI_ANNOTATION_REF_NAME, ref_name);
    int rc = transfer_name_from_annotations(&d, &name, err);
    gantry_oci_descriptor_release(&d);
    assert_true(rc == 0 || !name);
    return name;
}

static void test_transfer__name_from_annotations(void **state)
{
    (void)state;
    _cleanup_free_ char *a = name_of("demo/busybox:arm64", "arm64", NULL);
    _cleanup_free_ char *b = name_of(NULL, "localhost:5000/x/y:1", NULL);
    _cleanup_free_ char *c = name_of(NULL, "arm64", NULL);
    _cleanup_free_ char *d = name_of(NULL, "busybox", NULL);
    _cleanup_free_ char *e = name_of(NULL, NULL, NULL);
    _cleanup_free_ char *f = name_of(NULL, "alpine:3", NULL);
    assert_string_equal(a, "docker.io/demo/busybox:arm64");
    assert_string_equal(b, "localhost:5000/x/y:1");
    assert_null(c);
    assert_null(d);
    assert_null(e);
    assert_string_equal(f, "docker.io/library/alpine:3");
    _cleanup_error_ struct gantry_error *err = NULL;
    assert_null(name_of("Bad Name", NULL, &err));
    assert_non_null(err);
    assert_non_null(strstr(err->message, "annotation 'io.containerd.image.name'"));
}

static void test_transfer__set_name_annotations(void **state)
{
    (void)state;
    struct gantry_oci_descriptor d = GANTRY_OCI_DESCRIPTOR_INIT;
    gantry_oci_descriptor_init(&d, GANTRY_MT_OCI_MANIFEST, SHA_A, 2);
    transfer_set_name_annotations(&d, "docker.io/demo/busybox:arm64");
    assert_string_equal(gantry_oci_descriptor_annotation(&d, "io.containerd.image.name"),
                        "docker.io/demo/busybox:arm64");
    assert_string_equal(gantry_oci_descriptor_annotation(&d, GANTRY_OCI_ANNOTATION_REF_NAME),
                        "arm64");
    _cleanup_free_ char *back = NULL;
    assert_int_equal(transfer_name_from_annotations(&d, &back, NULL), 0);
    assert_string_equal(back, "docker.io/demo/busybox:arm64");
    gantry_oci_descriptor_release(&d);
}

static int buf_write(void *user, const void *data, size_t len, struct gantry_error **err)
{
    (void)err;
    return gantry_buf_add(user, data, len);
}

struct mem_in {
    const char *p;
    size_t left;
};

static ssize_t mem_read(void *user, void *buf, size_t len, struct gantry_error **err)
{
    (void)err;
    struct mem_in *in = user;
    size_t n = len < in->left ? len : in->left;
    memcpy(buf, in->p, n);
    in->p += n;
    in->left -= n;
    return (ssize_t)n;
}

static void test_transfer__archive_out(void **state)
{
    (void)state;
    _cleanup_buf_ struct gantry_buf tar = GANTRY_BUF_INIT;
    struct transfer_out *o = transfer_out_new(buf_write, &tar);
    assert_int_equal(transfer_out_add_bytes(o, "oci-layout", "{}", 2, NULL), 0);
    assert_int_equal(transfer_out_add_bytes(o, "blobs/sha256/aa", "first", 5, NULL), 0);
    assert_true(transfer_out_has(o, "blobs/sha256/aa"));
    /* a path already written is not written again */
    assert_int_equal(transfer_out_add_bytes(o, "blobs/sha256/aa", "other!", 6, NULL), 0);
    assert_int_equal(transfer_out_add_bytes(o, "blobs/sha256/bb", "", 0, NULL), 0);
    assert_int_equal(transfer_out_finish(o, NULL), 0);
    transfer_out_free(o);

    const char *want[][2] = {{"oci-layout", "{}"},
                             {"blobs/", NULL},
                             {"blobs/sha256/", NULL},
                             {"blobs/sha256/aa", "first"},
                             {"blobs/sha256/bb", ""}};
    struct mem_in in = {tar.data, tar.len};
    struct gantry_layer_reader *r = gantry_layer_reader_open(mem_read, &in, NULL, NULL);
    assert_non_null(r);
    struct gantry_layer_entry e;
    for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
        char data[16] = {0};
        assert_int_equal(gantry_layer_reader_next(r, &e, NULL), 1);
        assert_string_equal(e.path, want[i][0]);
        assert_int_equal(e.type, want[i][1] ? GANTRY_LAYER_FILE : GANTRY_LAYER_DIR);
        assert_int_equal(e.uid, 0);
        assert_int_equal(e.mtime, 0);
        if (want[i][1]) {
            assert_int_equal(gantry_layer_reader_read_data(r, data, sizeof(data), NULL),
                             (ssize_t)strlen(want[i][1]));
            assert_string_equal(data, want[i][1]);
        }
    }
    assert_int_equal(gantry_layer_reader_next(r, &e, NULL), 0);
    gantry_layer_reader_free(r);
}

#define _cleanup_endpoint_ __attribute__((cleanup(gantry_transfer_endpoint_release)))

/* Parse s; expect kind, ref and path (NULL: absent). */
static void expect_endpoint(const char *s, enum gantry_transfer_kind kind, const char *ref,
                            const char *path)
{
    _cleanup_endpoint_ struct gantry_transfer_endpoint e;
    _cleanup_error_ struct gantry_error *err = NULL;
    if (gantry_transfer_endpoint_parse(s, strlen(s), &e, &err) < 0)
        fail_msg("'%s': %s", s, err ? err->message : "failed");
    if (e.kind != kind)
        fail_msg("'%s': kind %d, want %d", s, (int)e.kind, (int)kind);
    if ((ref == NULL) != (e.ref == NULL) || (ref && strcmp(ref, e.ref) != 0))
        fail_msg("'%s': ref '%s', want '%s'", s, e.ref ? e.ref : "(null)", ref ? ref : "(null)");
    if ((path == NULL) != (e.path == NULL) || (path && strcmp(path, e.path) != 0))
        fail_msg("'%s': path '%s', want '%s'", s, e.path ? e.path : "(null)",
                 path ? path : "(null)");
}

/* Parse s; expect a failure with code and a message containing want, and *out zeroed. */
static void expect_endpoint_error(const char *s, enum gantry_error_code code, const char *want)
{
    struct gantry_transfer_endpoint e = {.kind = GANTRY_TRANSFER_STORE};
    _cleanup_error_ struct gantry_error *err = NULL;
    if (gantry_transfer_endpoint_parse(s, strlen(s), &e, &err) == 0) {
        gantry_transfer_endpoint_release(&e);
        fail_msg("'%s': parsed, want an error", s);
    }
    assert_non_null(err);
    if (err->code != code || !strstr(err->message, want))
        fail_msg("'%s': error %d '%s', want %d '%s'", s, (int)err->code, err->message, (int)code,
                 want);
    assert_null(e.ref);
    assert_null(e.path);
    assert_int_equal(e.kind, 0);
}

static void test_transfer__endpoint_transports(void **state)
{
    (void)state;
    expect_endpoint("docker://alpine:3", GANTRY_TRANSFER_REGISTRY, "alpine:3", NULL);
    expect_endpoint("docker://localhost:5000/app@" SHA_A, GANTRY_TRANSFER_REGISTRY,
                    "localhost:5000/app@" SHA_A, NULL);
    expect_endpoint("gantry:demo/busybox:arm64", GANTRY_TRANSFER_STORE, "demo/busybox:arm64", NULL);
    expect_endpoint("oci:/tmp/layout", GANTRY_TRANSFER_OCI_DIR, NULL, "/tmp/layout");
    expect_endpoint("oci:layout:v1", GANTRY_TRANSFER_OCI_DIR, "v1", "layout");
    expect_endpoint("oci-archive:img.tar", GANTRY_TRANSFER_OCI_ARCHIVE, NULL, "img.tar");
    expect_endpoint("oci-archive:/x/img.tar:app", GANTRY_TRANSFER_OCI_ARCHIVE, "app", "/x/img.tar");
}

static void test_transfer__endpoint_layout_splits_at_first_colon(void **state)
{
    (void)state;
    /* As skopeo: the rest after the first ':' is the ref, colons and all. */
    expect_endpoint("oci:dir:docker.io/library/x:1", GANTRY_TRANSFER_OCI_DIR,
                    "docker.io/library/x:1", "dir");
    expect_endpoint("oci-archive:a.tar:b:c", GANTRY_TRANSFER_OCI_ARCHIVE, "b:c", "a.tar");
    /* An empty ref is no ref. */
    expect_endpoint("oci:dir:", GANTRY_TRANSFER_OCI_DIR, NULL, "dir");
}

static void test_transfer__endpoint_bare_reference(void **state)
{
    (void)state;
    expect_endpoint("alpine", GANTRY_TRANSFER_REGISTRY, "alpine", NULL);
    /* "host:port/..." is a reference, not a transport named "localhost". */
    expect_endpoint("localhost:5000/app:1", GANTRY_TRANSFER_REGISTRY, "localhost:5000/app:1", NULL);
    expect_endpoint("ghcr.io/o/app:v1.2", GANTRY_TRANSFER_REGISTRY, "ghcr.io/o/app:v1.2", NULL);
    /* "word:x" that is a valid name:tag stays a reference, whatever the word. */
    expect_endpoint("dir:x", GANTRY_TRANSFER_REGISTRY, "dir:x", NULL);
}

static void test_transfer__endpoint_length_bounds_input(void **state)
{
    (void)state;
    const char *s = "oci:dir:refXYZ";
    struct gantry_transfer_endpoint e;
    assert_int_equal(gantry_transfer_endpoint_parse(s, 11, &e, NULL), 0);
    assert_string_equal(e.path, "dir");
    assert_string_equal(e.ref, "ref");
    gantry_transfer_endpoint_release(&e);
    assert_int_equal(gantry_transfer_endpoint_parse("docker://alpine:3junk", 17, &e, NULL), 0);
    assert_string_equal(e.ref, "alpine:3");
    gantry_transfer_endpoint_release(&e);
}

static void test_transfer__endpoint_errors(void **state)
{
    (void)state;
    expect_endpoint_error("dir:/x", GANTRY_E_INVALID_ARG,
                          "unknown transport 'dir' in 'dir:/x' (want docker://, gantry:, oci: or "
                          "oci-archive:)");
    expect_endpoint_error("docker-daemon:alpine:3", GANTRY_E_INVALID_ARG,
                          "unknown transport 'docker-daemon'");
    expect_endpoint_error("docker://", GANTRY_E_INVALID_ARG,
                          "missing image reference in 'docker://'");
    expect_endpoint_error("gantry:", GANTRY_E_INVALID_ARG, "missing image reference in 'gantry:'");
    expect_endpoint_error("oci:", GANTRY_E_INVALID_ARG, "missing path in 'oci:'");
    expect_endpoint_error("oci::ref", GANTRY_E_INVALID_ARG, "missing path in 'oci::ref'");
    expect_endpoint_error("oci-archive:", GANTRY_E_INVALID_ARG, "missing path in 'oci-archive:'");
    /* A reference that does not parse keeps the reference parser's error. */
    expect_endpoint_error("docker://Alpine", GANTRY_E_INVALID_ARG, "");
    expect_endpoint_error("gantry:a b", GANTRY_E_INVALID_ARG, "");
    expect_endpoint_error("", GANTRY_E_INVALID_ARG, "");
    gantry_transfer_endpoint_release(NULL);
}

#define SHA_TAIL "3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define DIG(c) "sha256:" c SHA_TAIL
#define MT_MAN "application/vnd.oci.image.manifest.v1+json"
#define MT_IDX "application/vnd.oci.image.index.v1+json"
/* An index entry: digest sha256:<c>..., then the JSON members in more. */
#define ENTRY(c, more) "{\"mediaType\":\"" MT_MAN "\",\"digest\":\"" DIG(c) "\",\"size\":1" more "}"
#define PLAT(os, arch) ",\"platform\":{\"os\":\"" os "\",\"architecture\":\"" arch "\"}"
#define PLATV(os, arch, v)                                                                         \
    ",\"platform\":{\"os\":\"" os "\",\"architecture\":\"" arch "\",\"variant\":\"" v "\"}"
#define ATTESTATION(c)                                                                             \
    ENTRY(c, PLAT("unknown", "unknown") ",\"annotations\":{"                                       \
                                        "\"vnd.docker.reference.type\":\"attestation-manifest\"}")
#define INDEX(entries)                                                                             \
    "{\"schemaVersion\":2,\"mediaType\":\"" MT_IDX "\",\"manifests\":[" entries "]}"

/* amd64, arm/v7, arm64, an attestation, an entry without platform, arm/v6. */
#define E_AMD64 ENTRY("1", PLAT("linux", "amd64"))
#define E_ARMV7 ENTRY("2", PLATV("linux", "arm", "v7"))
#define E_ARM64 ENTRY("3", PLAT("linux", "arm64"))
#define E_ATTEST ATTESTATION("4")
#define E_NONE ENTRY("5", "")
#define E_ARMV6 ENTRY("6", PLATV("linux", "arm", "v6"))
static const char multi_index[] =
    INDEX(E_AMD64 "," E_ARMV7 "," E_ARM64 "," E_ATTEST "," E_NONE "," E_ARMV6);

static struct gantry_oci_index *parse_index(const char *json)
{
    _cleanup_error_ struct gantry_error *err = NULL;
    struct gantry_oci_index *idx = gantry_oci_index_parse(json, strlen(json), NULL, &err);
    if (!idx)
        fail_msg("index: %s", err ? err->message : "failed");
    return idx;
}

static ssize_t select_for(const struct gantry_oci_index *idx, const char *spec)
{
    _cleanup_platform_ struct gantry_platform want = GANTRY_PLATFORM_INIT;
    assert_int_equal(gantry_platform_parse(spec, strlen(spec), &want, NULL), 0);
    return copy_select_entry(idx, &want);
}

static void test_transfer__select_entry(void **state)
{
    (void)state;
    struct gantry_oci_index *idx = parse_index(multi_index);
    assert_int_equal(idx->n_manifests, 6);
    assert_int_equal(select_for(idx, "linux/amd64"), 0);
    assert_int_equal(select_for(idx, "linux/arm64"), 2);
    assert_int_equal(select_for(idx, "linux/arm64/v8"), 2);
    assert_int_equal(select_for(idx, "linux/arm/v7"), 1);
    /* An exact variant beats a compatible one listed first. */
    assert_int_equal(select_for(idx, "linux/arm/v6"), 5);
    assert_int_equal(select_for(idx, "linux/riscv64"), -1);
    assert_int_equal(select_for(idx, "windows/amd64"), -1);
    gantry_oci_index_free(idx);
}

static void test_transfer__entry_is_runnable(void **state)
{
    (void)state;
    struct gantry_oci_index *idx = parse_index(multi_index);
    assert_true(copy_entry_is_runnable(&idx->manifests[0]));
    assert_false(copy_entry_is_runnable(&idx->manifests[3])); /* attestation */
    assert_false(copy_entry_is_runnable(&idx->manifests[4])); /* no platform */
    _cleanup_free_ char *p = copy_entry_platform_string(&idx->manifests[1]);
    assert_string_equal(p, "linux/arm/v7");
    gantry_oci_index_free(idx);
}

static void expect_no_platform(const char *index_json, const char *spec, const char *want)
{
    struct gantry_oci_index *idx = parse_index(index_json);
    _cleanup_platform_ struct gantry_platform p = GANTRY_PLATFORM_INIT;
    assert_int_equal(gantry_platform_parse(spec, strlen(spec), &p, NULL), 0);
    _cleanup_error_ struct gantry_error *err = NULL;
    assert_int_equal(copy_no_platform_error(idx, &p, "docker.io/library/foo:1.0", &err), -1);
    assert_non_null(err);
    assert_int_equal(err->code, GANTRY_E_NOT_FOUND);
    assert_string_equal(err->message, want);
    gantry_oci_index_free(idx);
}

static void test_transfer__no_platform_message(void **state)
{
    (void)state;
    /* Attestations and entries without a platform are not listed. */
    expect_no_platform(multi_index, "linux/riscv64",
                       "no linux/riscv64 image in docker.io/library/foo:1.0 (it has: "
                       "linux/amd64, linux/arm/v7, linux/arm64, linux/arm/v6)");
    expect_no_platform(INDEX(E_ATTEST "," E_NONE), "linux/arm64",
                       "no linux/arm64 image in docker.io/library/foo:1.0 (it has: no runnable "
                       "platform)");
    expect_no_platform(INDEX(""), "linux/amd64",
                       "no linux/amd64 image in docker.io/library/foo:1.0 (it has: no runnable "
                       "platform)");
}

/* Nested indexes: digest sha256:<c>... served by nested_fetch from docs. */
#define NESTED(c) "{\"mediaType\":\"" MT_IDX "\",\"digest\":\"" DIG(c) "\",\"size\":1}"

struct fake_docs {
    const char *const *map; /* digest, document, ... NULL */
    int fetches;
};

static int nested_fetch(void *user, const struct gantry_oci_descriptor *d, struct gantry_buf *out,
                        struct gantry_error **err)
{
    struct fake_docs *f = user;
    f->fetches++;
    for (size_t i = 0; f->map[i]; i += 2) {
        if (strcmp(f->map[i], d->digest) == 0) {
            gantry_buf_reset(out);
            return gantry_buf_addstr(out, f->map[i + 1]) < 0 ? -1 : 1;
        }
    }
    return gantry_error_set(err, GANTRY_E_NOT_FOUND, 0, "no %s", d->digest);
}

/* Select spec in top through docs: the chosen digest's first character, '-' for an error. */
static char nested_pick(const char *top_json, const char *const *map, const char *spec,
                        int *fetches, size_t *n_chain, struct gantry_error **err)
{
    struct fake_docs f = {.map = map};
    struct image_nest n = {.fetch = nested_fetch, .user = &f, .name = "x:1"};
    struct gantry_oci_index *top = parse_index(top_json);
    _cleanup_platform_ struct gantry_platform want = GANTRY_PLATFORM_INIT;
    assert_int_equal(gantry_platform_parse(spec, strlen(spec), &want, NULL), 0);
    _cleanup_nest_pick_ struct image_nest_pick pick = IMAGE_NEST_PICK_INIT;
    char got = '-';
    if (copy_nest_select(&n, top, &want, &pick, err) == 0) {
        got = pick.entry->digest[strlen("sha256:")];
        *n_chain = pick.n_chain;
    }
    *fetches = f.fetches;
    image_nest_release(&n);
    gantry_oci_index_free(top);
    return got;
}

static void test_transfer__nested_select(void **state)
{
    (void)state;
    static const char *const docs[] = {DIG("a"), INDEX(E_ARM64 "," E_AMD64), NULL};
    const char *top = INDEX(E_ARMV7 "," NESTED("a"));
    int fetches;
    size_t chain = 9;
    /* An exact direct match: no request. */
    assert_int_equal(nested_pick(top, docs, "linux/arm/v7", &fetches, &chain, NULL), '2');
    assert_int_equal(fetches, 0);
    assert_int_equal(chain, 0);
    /* arm64 runs arm/v7, but the nested exact arm64 wins. */
    assert_int_equal(nested_pick(top, docs, "linux/arm64", &fetches, &chain, NULL), '3');
    assert_int_equal(fetches, 1);
    assert_int_equal(chain, 1);
    _cleanup_error_ struct gantry_error *err = NULL;
    assert_int_equal(nested_pick(top, docs, "linux/s390x", &fetches, &chain, &err), '-');
    assert_int_equal(err->code, GANTRY_E_NOT_FOUND);
    assert_string_equal(
        err->message,
        "no linux/s390x image in x:1 (it has: linux/arm/v7, linux/arm64, linux/amd64)");
}

static void test_transfer__nested_cycle_and_depth(void **state)
{
    (void)state;
    /* A lying source: b lists itself. */
    static const char *const cycle[] = {DIG("b"), INDEX(NESTED("b")), NULL};
    int fetches;
    size_t chain;
    _cleanup_error_ struct gantry_error *e1 = NULL;
    assert_int_equal(nested_pick(INDEX(NESTED("b")), cycle, "linux/amd64", &fetches, &chain, &e1),
                     '-');
    assert_int_equal(e1->code, GANTRY_E_INVALID_ARG);
    assert_string_equal(e1->message,
                        "index cycle in 'x:1': " DIG("b") " lists itself or an index above it");
    /* 4 levels below the top are read, a fifth is refused. */
    static const char *const deep[] = {DIG("7"), INDEX(NESTED("8")), DIG("8"), INDEX(NESTED("9")),
                                       DIG("9"), INDEX(NESTED("c")), DIG("c"), INDEX(NESTED("d")),
                                       DIG("d"), INDEX(E_ARM64),     NULL};
    assert_int_equal(nested_pick(INDEX(NESTED("8")), deep, "linux/arm64", &fetches, &chain, NULL),
                     '3');
    assert_int_equal(chain, 4);
    _cleanup_error_ struct gantry_error *e2 = NULL;
    assert_int_equal(nested_pick(INDEX(NESTED("7")), deep, "linux/arm64", &fetches, &chain, &e2),
                     '-');
    assert_int_equal(e2->code, GANTRY_E_UNSUPPORTED);
    assert_string_equal(
        e2->message, "indexes nested too deep in 'x:1': " DIG("d") " is more than 4 levels down");
}

static void test_transfer__blobs_larger_first(void **state)
{
    (void)state;
    struct copy_blob items[] = {
        {.digest = "sha256:c", .size = 10},
        {.digest = "sha256:a", .size = 500},
        {.digest = "sha256:b", .size = 10},
        {.digest = "sha256:d", .size = 70},
    };
    struct copy_blobs l = {.items = items, .n_items = ARRAY_SIZE(items)};
    copy_blobs_sort_larger_first(&l);
    /* Largest first; equal sizes by digest, so the order is stable. */
    const char *want[] = {"sha256:a", "sha256:d", "sha256:b", "sha256:c"};
    for (size_t i = 0; i < ARRAY_SIZE(want); i++)
        assert_string_equal(items[i].digest, want[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_transfer__path_clean),
        cmocka_unit_test(test_transfer__path_link_target),
        cmocka_unit_test(test_transfer__path_blob_digest),
        cmocka_unit_test(test_transfer__path_classify),
        cmocka_unit_test(test_transfer__name_from_annotations),
        cmocka_unit_test(test_transfer__set_name_annotations),
        cmocka_unit_test(test_transfer__archive_out),
        cmocka_unit_test(test_transfer__endpoint_transports),
        cmocka_unit_test(test_transfer__endpoint_layout_splits_at_first_colon),
        cmocka_unit_test(test_transfer__endpoint_bare_reference),
        cmocka_unit_test(test_transfer__endpoint_length_bounds_input),
        cmocka_unit_test(test_transfer__endpoint_errors),
        cmocka_unit_test(test_transfer__select_entry),
        cmocka_unit_test(test_transfer__entry_is_runnable),
        cmocka_unit_test(test_transfer__no_platform_message),
        cmocka_unit_test(test_transfer__nested_select),
        cmocka_unit_test(test_transfer__nested_cycle_and_depth),
        cmocka_unit_test(test_transfer__blobs_larger_first),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
