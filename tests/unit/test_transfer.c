/*
 * Unit tests for transfer's pure parts: archive paths, image names from
 * index.json annotations, the archive writer. Docker's manifest.json is
 * tested with its model in test_oci.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
