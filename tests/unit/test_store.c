/*
 * Unit tests for store: layout creation and M16, verified blob writes and
 * reads, refs in index.json (also under concurrent updaters), gc, verify
 * (M15) and partial images.
 */
#include <fcntl.h>
#include <sys/time.h>
#include <sys/wait.h>

#include "unit_helpers.h"

static int setup(void **state)
{
    return store_fixture_setup(state, "test_store");
}

/* Put a document and fill *d with its descriptor. */
static void put_doc(struct gantry_store *s, const char *mt, const char *data, size_t len,
                    struct gantry_oci_descriptor *d)
{
    char digest[GANTRY_DIGEST_MAX];
    put_blob(s, data, len, digest);
    memset(d, 0, sizeof(*d));
    gantry_oci_descriptor_init(d, mt, digest, (int64_t)len);
}

/* A one-layer image: config, layer, manifest in the store; *out is the manifest. */
static void put_image(struct gantry_store *s, const char *layer_data, const char *arch,
                      struct gantry_oci_descriptor *out)
{
    _cleanup_error_ struct gantry_error *err = NULL;
    struct gantry_oci_descriptor layer, config;
    put_doc(s, GANTRY_MT_OCI_LAYER, layer_data, strlen(layer_data), &layer);
    struct gantry_oci_config *c = gantry_oci_config_new("linux", arch, NULL);
    gantry_oci_config_add_layer(c, layer.digest, NULL);
    assert_int_equal(gantry_oci_config_serialize(c, &err), 0);
    put_doc(s, GANTRY_MT_OCI_CONFIG, c->raw, c->raw_len, &config);
    gantry_oci_config_free(c);
    struct gantry_oci_manifest *m = gantry_oci_manifest_build(NULL, &config, &layer, 1, &err);
    assert_non_null(m);
    put_doc(s, GANTRY_MT_OCI_MANIFEST, m->raw, m->raw_len, out);
    out->platform = xcalloc(1, sizeof(*out->platform));
    out->platform->os = xstrdup("linux");
    out->platform->architecture = xstrdup(arch);
    gantry_oci_manifest_free(m);
    gantry_oci_descriptor_release(&layer);
    gantry_oci_descriptor_release(&config);
}

static void expect_error(struct gantry_error *err, enum gantry_error_code code, const char *needle)
{
    assert_non_null(err);
    if (err->code != code || !strstr(err->message, needle))
        fail_msg("got code %d '%s', want code %d with '%s'", err->code, err->message, code, needle);
}

static void test_store__create_layout(void **state)
{
    struct store_fixture *f = *state;
    _cleanup_error_ struct gantry_error *err = NULL;
    _cleanup_free_ char *layout = store_path_in(f, "oci-layout");
    _cleanup_buf_ struct gantry_buf b = GANTRY_BUF_INIT;
    assert_int_equal(gantry_buf_read_file(&b, layout, &err), 0);
    assert_string_equal(b.data, "{\"imageLayoutVersion\":\"1.0.0\"}");
    _cleanup_free_ char *index = store_path_in(f, "index.json");
    gantry_buf_reset(&b);
    assert_int_equal(gantry_buf_read_file(&b, index, &err), 0);
    struct gantry_oci_index *idx = gantry_oci_index_parse(b.data, b.len, GANTRY_MT_OCI_INDEX, &err);
    assert_non_null(idx);
    assert_int_equal(idx->n_manifests, 0);
    gantry_oci_index_free(idx);
    assert_int_equal(store_count_entries(f, "blobs/sha256"), 0);
    assert_int_equal(store_count_entries(f, "tmp"), 0);
    assert_string_equal(gantry_store_root(f->s), f->store_dir);
    /* an existing layout opens without CREATE, and CREATE does not touch it */
    struct gantry_store *again = gantry_store_open(f->store_dir, 0, &err);
    assert_non_null(again);
    gantry_store_free(again);
    again = gantry_store_open(f->store_dir, GANTRY_STORE_CREATE, &err);
    assert_non_null(again);
    gantry_store_free(again);
}

/* M16: a directory without oci-layout, or an oci-layout without version. */
static void test_store__open_rejects_non_layouts(void **state)
{
    struct store_fixture *f = *state;
    struct gantry_error *err = NULL;
    _cleanup_free_ char *dir = xasprintf("%s/other", f->root);
    _cleanup_free_ char *file = xasprintf("%s/other/readme", f->root);
    _cleanup_free_ char *layout = xasprintf("%s/other/oci-layout", f->root);
    _cleanup_free_ char *missing = xasprintf("%s/missing", f->root);

    assert_null(gantry_store_open(missing, 0, &err));
    expect_error(err, GANTRY_E_NOT_FOUND, "missing");
    gantry_error_free(err), err = NULL;

    assert_int_equal(mkdir(dir, 0755), 0);
    test_write_file(file, "hello");
    assert_null(gantry_store_open(dir, 0, &err));
    expect_error(err, GANTRY_E_NOT_FOUND, "is not an OCI image layout: no oci-layout file");
    gantry_error_free(err), err = NULL;
    assert_null(gantry_store_open(dir, GANTRY_STORE_CREATE, &err));
    expect_error(err, GANTRY_E_INVALID_ARG, "refusing to create a store there");
    gantry_error_free(err), err = NULL;
    assert_int_equal(access(layout, F_OK), -1); /* nothing written */

    test_write_file(layout, "{\"version\":\"1.0.0\"}");
    assert_null(gantry_store_open(dir, GANTRY_STORE_CREATE, &err));
    expect_error(err, GANTRY_E_PARSE, "missing 'imageLayoutVersion'");
    gantry_error_free(err), err = NULL;
    test_write_file(layout, "{\"imageLayoutVersion\":\"2.0.0\"}");
    assert_null(gantry_store_open(dir, 0, &err));
    expect_error(err, GANTRY_E_UNSUPPORTED, "unsupported image layout version '2.0.0'");
    gantry_error_free(err), err = NULL;

    assert_null(gantry_store_open(file, 0, &err));
    expect_error(err, GANTRY_E_INVALID_ARG, "is not a directory");
    gantry_error_free(err), err = NULL;
    assert_null(gantry_store_open("", 0, &err));
    expect_error(err, GANTRY_E_INVALID_ARG, "empty store path");
    gantry_error_free(err);
}

static void test_store__default_root(void **state)
{
    (void)state;
    _cleanup_free_ char *saved = getenv("GANTRY_ROOT") ? xstrdup(getenv("GANTRY_ROOT")) : NULL;
    setenv("GANTRY_ROOT", "/srv/images", 1);
    _cleanup_free_ char *r1 = gantry_store_default_root(NULL);
    assert_string_equal(r1, "/srv/images");
    unsetenv("GANTRY_ROOT");
    setenv("XDG_DATA_HOME", "/xdg", 1);
    _cleanup_free_ char *r2 = gantry_store_default_root(NULL);
    assert_string_equal(r2, geteuid() == 0 ? "/var/lib/gantry" : "/xdg/gantry");
    unsetenv("XDG_DATA_HOME");
    setenv("HOME", "/home/u", 1);
    _cleanup_free_ char *r3 = gantry_store_default_root(NULL);
    assert_string_equal(r3, geteuid() == 0 ? "/var/lib/gantry" : "/home/u/.local/share/gantry");
    if (saved)
        setenv("GANTRY_ROOT", saved, 1);
}

static void test_store__blob_write_and_read(void **state)
{
    struct store_fixture *f = *state;
    _cleanup_error_ struct gantry_error *err = NULL;
    const char *data = "hello, layer content";
    size_t len = strlen(data);
    char want[GANTRY_DIGEST_MAX], got[GANTRY_DIGEST_MAX];
    gantry_digest_bytes(GANTRY_DIGEST_SHA256, data, len, want);

    struct gantry_store_blob_writer *w =
        gantry_store_blob_writer_new(f->s, want, (int64_t)len, &err);
    assert_non_null(w);
    for (size_t i = 0; i < len; i += 3)
        assert_int_equal(
            gantry_store_blob_writer_write(w, data + i, len - i < 3 ? len - i : 3, &err), 0);
    assert_int_equal(gantry_store_blob_writer_size(w), len);
    assert_int_equal(store_count_entries(f, "tmp"), 1);
    assert_false(gantry_store_blob_exists(f->s, want)); /* not visible before commit */
    assert_int_equal(gantry_store_blob_writer_commit(w, got, &err), 0);
    gantry_store_blob_writer_free(w);
    assert_string_equal(got, want);
    assert_int_equal(store_count_entries(f, "tmp"), 0);
    assert_true(gantry_store_blob_exists(f->s, want));
    int64_t size = 0;
    assert_int_equal(gantry_store_blob_size(f->s, want, &size, &err), 0);
    assert_int_equal(size, len);

    struct gantry_store_blob_reader *r = gantry_store_blob_reader_open(f->s, want, &err);
    assert_non_null(r);
    assert_int_equal(gantry_store_blob_reader_size(r), len);
    char buf[8];
    _cleanup_buf_ struct gantry_buf all = GANTRY_BUF_INIT;
    ssize_t n;
    while ((n = gantry_store_blob_reader_read(r, buf, sizeof(buf), &err)) > 0)
        assert_int_equal(gantry_buf_add(&all, buf, (size_t)n), 0);
    assert_int_equal(n, 0);
    assert_string_equal(all.data, data);
    gantry_store_blob_reader_free(r);

    /* the same content again: fine, one file */
    put_blob(f->s, data, len, got);
    assert_string_equal(got, want);
    assert_int_equal(store_count_entries(f, "blobs/sha256"), 1);
    _cleanup_buf_ struct gantry_buf doc = GANTRY_BUF_INIT_CAP(1024);
    assert_int_equal(gantry_store_read_blob(f->s, want, &doc, &err), 0);
    assert_string_equal(doc.data, data);
    _cleanup_free_ char *path = gantry_store_blob_path(f->s, want, &err);
    _cleanup_free_ char *expect_path = xasprintf("%s/blobs/sha256/%s", f->store_dir, want + 7);
    assert_string_equal(path, expect_path);
}

static void test_store__blob_sha512(void **state)
{
    struct store_fixture *f = *state;
    _cleanup_error_ struct gantry_error *err = NULL;
    char want[GANTRY_DIGEST_MAX], got[GANTRY_DIGEST_MAX];
    gantry_digest_bytes(GANTRY_DIGEST_SHA512, "abc", 3, want);
    struct gantry_store_blob_writer *w = gantry_store_blob_writer_new(f->s, want, -1, &err);
    assert_non_null(w);
    assert_int_equal(gantry_store_blob_writer_write(w, "abc", 3, &err), 0);
    assert_int_equal(gantry_store_blob_writer_commit(w, got, &err), 0);
    gantry_store_blob_writer_free(w);
    assert_string_equal(got, want);
    assert_int_equal(store_count_entries(f, "blobs/sha512"), 1);
    _cleanup_buf_ struct gantry_buf b = GANTRY_BUF_INIT;
    assert_int_equal(gantry_store_read_blob(f->s, want, &b, &err), 0);
    assert_string_equal(b.data, "abc");
}

static void test_store__digest_mismatch_leaves_nothing(void **state)
{
    struct store_fixture *f = *state;
    struct gantry_error *err = NULL;
    char other[GANTRY_DIGEST_MAX], actual[GANTRY_DIGEST_MAX];
    gantry_digest_bytes(GANTRY_DIGEST_SHA256, "something else", 14, other);
    gantry_digest_bytes(GANTRY_DIGEST_SHA256, "payload", 7, actual);
    struct gantry_store_blob_writer *w = gantry_store_blob_writer_new(f->s, other, 7, &err);
    assert_non_null(w);
    assert_int_equal(gantry_store_blob_writer_write(w, "payload", 7, &err), 0);
    assert_int_equal(gantry_store_blob_writer_commit(w, NULL, &err), -1);
    _cleanup_free_ char *msg = xasprintf("digest mismatch: got %s, want %s", actual, other);
    expect_error(err, GANTRY_E_DIGEST_MISMATCH, msg);
    gantry_error_free(err), err = NULL;
    assert_int_equal(store_count_entries(f, "blobs/sha256"), 0);
    assert_int_equal(store_count_entries(f, "tmp"), 0);
    /* the writer is dead */
    assert_int_equal(gantry_store_blob_writer_commit(w, NULL, &err), -1);
    gantry_error_free(err), err = NULL;
    gantry_store_blob_writer_free(w);

    /* short content (M5: a huge declared size with a small body) */
    w = gantry_store_blob_writer_new(f->s, NULL, 1000000000000000, &err);
    assert_non_null(w);
    assert_int_equal(gantry_store_blob_writer_write(w, "payload", 7, &err), 0);
    assert_int_equal(gantry_store_blob_writer_commit(w, NULL, &err), -1);
    expect_error(err, GANTRY_E_DIGEST_MISMATCH,
                 "size mismatch: got 7 bytes, want 1000000000000000");
    gantry_error_free(err), err = NULL;
    gantry_store_blob_writer_free(w);
    assert_int_equal(store_count_entries(f, "blobs/sha256"), 0);
    assert_int_equal(store_count_entries(f, "tmp"), 0);

    /* a writer freed without commit removes its file */
    w = gantry_store_blob_writer_new(f->s, NULL, -1, &err);
    assert_non_null(w);
    assert_int_equal(gantry_store_blob_writer_write(w, "x", 1, &err), 0);
    gantry_store_blob_writer_free(w);
    assert_int_equal(store_count_entries(f, "tmp"), 0);

    assert_null(gantry_store_blob_writer_new(f->s, "sha256:1234", -1, &err));
    expect_error(err, GANTRY_E_INVALID_ARG, "invalid digest length");
    gantry_error_free(err);
}

/* M7: more than the expected size stops at once. */
static void test_store__size_overflow(void **state)
{
    struct store_fixture *f = *state;
    struct gantry_error *err = NULL;
    struct gantry_store_blob_writer *w = gantry_store_blob_writer_new(f->s, NULL, 4, &err);
    assert_non_null(w);
    assert_int_equal(gantry_store_blob_writer_write(w, "ab", 2, &err), 0);
    assert_int_equal(gantry_store_blob_writer_write(w, "cde", 3, &err), -1);
    expect_error(err, GANTRY_E_TOO_LARGE, "got more than 4 bytes");
    gantry_error_free(err), err = NULL;
    assert_int_equal(store_count_entries(f, "tmp"), 0);
    assert_int_equal(gantry_store_blob_writer_write(w, "c", 1, &err), -1);
    gantry_error_free(err), err = NULL;
    assert_int_equal(gantry_store_blob_writer_commit(w, NULL, &err), -1);
    gantry_error_free(err);
    gantry_store_blob_writer_free(w);
    assert_int_equal(store_count_entries(f, "blobs/sha256"), 0);
}

static void corrupt_blob(struct store_fixture *f, const char *digest, const char *content)
{
    _cleanup_error_ struct gantry_error *err = NULL;
    _cleanup_free_ char *path = gantry_store_blob_path(f->s, digest, &err);
    assert_non_null(path);
    test_write_file(path, content);
}

static void test_store__corrupt_blob_detected(void **state)
{
    struct store_fixture *f = *state;
    struct gantry_error *err = NULL;
    char digest[GANTRY_DIGEST_MAX], bad[GANTRY_DIGEST_MAX];
    put_blob(f->s, "original", 8, digest);
    corrupt_blob(f, digest, "0riginal");
    gantry_digest_bytes(GANTRY_DIGEST_SHA256, "0riginal", 8, bad);

    struct gantry_store_blob_reader *r = gantry_store_blob_reader_open(f->s, digest, &err);
    assert_non_null(r);
    char buf[64];
    assert_int_equal(gantry_store_blob_reader_read(r, buf, sizeof(buf), &err), 8);
    assert_int_equal(gantry_store_blob_reader_read(r, buf, sizeof(buf), &err), -1);
    _cleanup_free_ char *msg = xasprintf("blob %s is corrupt: content hashes to %s", digest, bad);
    expect_error(err, GANTRY_E_DIGEST_MISMATCH, msg);
    gantry_error_free(err), err = NULL;
    assert_int_equal(gantry_store_blob_reader_read(r, buf, sizeof(buf), &err), -1);
    gantry_error_free(err), err = NULL;
    gantry_store_blob_reader_free(r);

    struct gantry_buf out = GANTRY_BUF_INIT;
    assert_int_equal(gantry_buf_addstr(&out, "keep"), 0);
    assert_int_equal(gantry_store_read_blob(f->s, digest, &out, &err), -1);
    expect_error(err, GANTRY_E_DIGEST_MISMATCH, "is corrupt");
    gantry_error_free(err), err = NULL;
    assert_string_equal(out.data, "keep");
    gantry_buf_release(&out);
}

static void test_store__blob_lookup_errors(void **state)
{
    struct store_fixture *f = *state;
    struct gantry_error *err = NULL;
    char digest[GANTRY_DIGEST_MAX];
    put_blob(f->s, "0123456789", 10, digest);
    struct gantry_buf small = GANTRY_BUF_INIT_CAP(4);
    assert_int_equal(gantry_store_read_blob(f->s, digest, &small, &err), -1);
    expect_error(err, GANTRY_E_TOO_LARGE, "is 10 bytes, more than the 4 byte limit");
    gantry_error_free(err), err = NULL;
    gantry_buf_release(&small);

    assert_false(gantry_store_blob_exists(f->s, "sha256:../../../../etc/passwd"));
    assert_false(gantry_store_blob_exists(f->s, NULL));
    assert_null(gantry_store_blob_path(f->s, "sha256:../x", &err));
    expect_error(err, GANTRY_E_INVALID_ARG, "invalid digest");
    gantry_error_free(err), err = NULL;
    char absent[GANTRY_DIGEST_MAX];
    gantry_digest_bytes(GANTRY_DIGEST_SHA256, "absent", 6, absent);
    assert_null(gantry_store_blob_reader_open(f->s, absent, &err));
    expect_error(err, GANTRY_E_NOT_FOUND, "is not in the store");
    gantry_error_free(err), err = NULL;
    int64_t size;
    assert_int_equal(gantry_store_blob_size(f->s, absent, &size, &err), -1);
    expect_error(err, GANTRY_E_NOT_FOUND, "is not in the store");
    gantry_error_free(err);
}

static void expect_names(struct gantry_store *s, const char *const *names, size_t n)
{
    _cleanup_error_ struct gantry_error *err = NULL;
    struct gantry_store_ref *refs = NULL;
    size_t count = 0;
    assert_int_equal(gantry_store_ref_list(s, &refs, &count, &err), 0);
    assert_int_equal(count, n);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(refs[i].name, names[i]);
    gantry_store_ref_list_free(refs, count);
}

static void test_store__refs(void **state)
{
    struct store_fixture *f = *state;
    struct gantry_error *err = NULL;
    struct gantry_oci_descriptor img1, img2, got;
    put_image(f->s, "layer one", "amd64", &img1);
    put_image(f->s, "layer two", "arm64", &img2);
    const char *a = "docker.io/library/httpd:latest", *b = "localhost:5000/x/y@sha256:abc";

    assert_int_equal(gantry_store_ref_set(f->s, a, &img1, &err), 0);
    assert_int_equal(gantry_store_ref_set(f->s, b, &img2, &err), 0);
    assert_int_equal(gantry_store_ref_get(f->s, a, &got, &err), 0);
    assert_string_equal(got.digest, img1.digest);
    assert_string_equal(got.media_type, GANTRY_MT_OCI_MANIFEST);
    assert_string_equal(got.platform->architecture, "amd64");
    assert_string_equal(gantry_oci_descriptor_annotation(&got, GANTRY_OCI_ANNOTATION_REF_NAME), a);
    gantry_oci_descriptor_release(&got);

    /* replace in place: order kept */
    assert_int_equal(gantry_store_ref_set(f->s, a, &img2, &err), 0);
    const char *ab[] = {a, b};
    expect_names(f->s, ab, 2);
    assert_int_equal(gantry_store_ref_get(f->s, a, &got, &err), 0);
    assert_string_equal(got.digest, img2.digest);
    gantry_oci_descriptor_release(&got);

    assert_int_equal(gantry_store_ref_delete(f->s, a, &err), 0);
    const char *only_b[] = {b};
    expect_names(f->s, only_b, 1);
    assert_int_equal(gantry_store_ref_delete(f->s, a, &err), -1);
    expect_error(err, GANTRY_E_NOT_FOUND, "image 'docker.io/library/httpd:latest' not found");
    gantry_error_free(err), err = NULL;
    assert_int_equal(gantry_store_ref_get(f->s, a, &got, &err), -1);
    expect_error(err, GANTRY_E_NOT_FOUND, "not found");
    gantry_error_free(err), err = NULL;

    /* names point at blobs in the store only; names must be sane */
    struct gantry_oci_descriptor ghost = GANTRY_OCI_DESCRIPTOR_INIT;
    gantry_oci_descriptor_init(
        &ghost, GANTRY_MT_OCI_MANIFEST,
        "sha256:0000000000000000000000000000000000000000000000000000000000000000", 5);
    assert_int_equal(gantry_store_ref_set(f->s, a, &ghost, &err), -1);
    expect_error(err, GANTRY_E_NOT_FOUND, "is not in the store");
    gantry_error_free(err), err = NULL;
    assert_int_equal(gantry_store_ref_set(f->s, "", &img1, &err), -1);
    expect_error(err, GANTRY_E_INVALID_ARG, "empty image name");
    gantry_error_free(err), err = NULL;
    assert_int_equal(gantry_store_ref_set(f->s, "a\nb", &img1, &err), -1);
    expect_error(err, GANTRY_E_INVALID_ARG, "control character");
    gantry_error_free(err), err = NULL;
    ghost.size = -1;
    assert_int_equal(gantry_store_ref_set(f->s, a, &ghost, &err), -1);
    expect_error(err, GANTRY_E_INVALID_ARG, "out of range");
    gantry_error_free(err);
    expect_names(f->s, only_b, 1);
    gantry_oci_descriptor_release(&ghost);
    gantry_oci_descriptor_release(&img1);
    gantry_oci_descriptor_release(&img2);
}

/* Entries written by other tools keep their members; unnamed ones stay unlisted. */
static void test_store__refs_keep_foreign_entries(void **state)
{
    struct store_fixture *f = *state;
    _cleanup_error_ struct gantry_error *err = NULL;
    struct gantry_oci_descriptor img;
    put_image(f->s, "layer", "amd64", &img);
    _cleanup_free_ char *index = store_path_in(f, "index.json");
    _cleanup_free_ char *doc =
        xasprintf("{\"schemaVersion\":2,\"manifests\":["
                  "{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%lld,\"x-tool\":{\"a\":1}},"
                  "{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%lld,\"annotations\":{"
                  "\"org.opencontainers.image.ref.name\":\"other\",\"com.example\":\"kept\"}}]}",
                  img.media_type, img.digest, (long long)img.size, img.media_type, img.digest,
                  (long long)img.size);
    test_write_file(index, doc);
    assert_int_equal(gantry_store_ref_set(f->s, "mine", &img, &err), 0);
    const char *names[] = {"other", "mine"};
    expect_names(f->s, names, 2);
    _cleanup_buf_ struct gantry_buf b = GANTRY_BUF_INIT;
    assert_int_equal(gantry_buf_read_file(&b, index, &err), 0);
    assert_non_null(strstr(b.data, "\"x-tool\":{\"a\":1}"));
    assert_non_null(strstr(b.data, "\"com.example\":\"kept\""));
    gantry_oci_descriptor_release(&img);
}

static void test_store__index_valid_after_many_updates(void **state)
{
    struct store_fixture *f = *state;
    _cleanup_error_ struct gantry_error *err = NULL;
    struct gantry_oci_descriptor img;
    put_image(f->s, "layer", "amd64", &img);
    _cleanup_free_ char *index = store_path_in(f, "index.json");
    _cleanup_free_ char *index_tmp = store_path_in(f, "index.json.tmp");
    for (int i = 0; i < 60; i++) {
        /* every 7th update deletes the name the previous one set */
        _cleanup_free_ char *name = xasprintf("example.com/repo:%d", (i % 7 == 6 ? i - 1 : i) % 25);
        if (i % 7 == 6)
            assert_int_equal(gantry_store_ref_delete(f->s, name, &err), 0);
        else
            assert_int_equal(gantry_store_ref_set(f->s, name, &img, &err), 0);
        _cleanup_buf_ struct gantry_buf b = GANTRY_BUF_INIT;
        assert_int_equal(gantry_buf_read_file(&b, index, &err), 0);
        struct gantry_oci_index *idx = gantry_oci_index_parse(b.data, b.len, NULL, &err);
        if (!idx)
            fail_msg("update %d: %s", i, err->message);
        gantry_oci_index_free(idx);
        assert_int_equal(access(index_tmp, F_OK), -1);
    }
    gantry_oci_descriptor_release(&img);
}

static int child_updates(const char *root, int who, const struct gantry_oci_descriptor *img)
{
    struct gantry_error *err = NULL;
    struct gantry_store *s = gantry_store_open(root, 0, &err);
    if (!s)
        return 1;
    for (int i = 0; i < 20; i++) {
        char name[64];
        snprintf(name, sizeof(name), "example.com/p%d:%d", who, i);
        if (gantry_store_ref_set(s, name, img, &err) < 0) {
            fprintf(stderr, "child %d: %s\n", who, err->message);
            return 1;
        }
    }
    gantry_store_free(s);
    return 0;
}

static void test_store__concurrent_updaters(void **state)
{
    struct store_fixture *f = *state;
    _cleanup_error_ struct gantry_error *err = NULL;
    struct gantry_oci_descriptor img;
    put_image(f->s, "layer", "amd64", &img);
    pid_t pids[2];
    for (int who = 0; who < 2; who++) {
        pids[who] = fork();
        assert_true(pids[who] >= 0);
        if (pids[who] == 0)
            _exit(child_updates(f->store_dir, who, &img));
    }
    for (int who = 0; who < 2; who++) {
        int status = 0;
        assert_int_equal(waitpid(pids[who], &status, 0), pids[who]);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    struct gantry_store_ref *refs = NULL;
    size_t n = 0;
    assert_int_equal(gantry_store_ref_list(f->s, &refs, &n, &err), 0);
    assert_int_equal(n, 40);
    for (int who = 0; who < 2; who++) {
        for (int i = 0; i < 20; i++) {
            char name[64];
            snprintf(name, sizeof(name), "example.com/p%d:%d", who, i);
            bool found = false;
            for (size_t k = 0; k < n && !found; k++)
                found = strcmp(refs[k].name, name) == 0;
            if (!found)
                fail_msg("'%s' lost", name);
        }
    }
    gantry_store_ref_list_free(refs, n);
    gantry_oci_descriptor_release(&img);
}

static void age_file(const char *path, time_t seconds)
{
    struct timeval tv[2];
    gettimeofday(&tv[0], NULL);
    tv[0].tv_sec -= seconds;
    tv[1] = tv[0];
    assert_int_equal(utimes(path, tv), 0);
}

/* An index naming two images (one absent: a partial pull) and an artifact. */
static void put_index(struct store_fixture *f, const struct gantry_oci_descriptor *img,
                      struct gantry_oci_descriptor *artifact_layer,
                      struct gantry_oci_descriptor *out)
{
    _cleanup_error_ struct gantry_error *err = NULL;
    struct gantry_oci_descriptor entries[3];
    gantry_oci_descriptor_copy(&entries[0], img);
    memset(&entries[1], 0, sizeof(entries[1]));
    gantry_oci_descriptor_init(
        &entries[1], GANTRY_MT_OCI_MANIFEST,
        "sha256:1111111111111111111111111111111111111111111111111111111111111111", 99);
    /* an entry of an unknown type whose body is a manifest: gc keeps what it names */
    struct gantry_oci_descriptor cfg;
    put_doc(f->s, GANTRY_MT_OCI_EMPTY, "{}", 2, &cfg);
    put_doc(f->s, "application/vnd.example.data", "artifact data", 13, artifact_layer);
    struct gantry_oci_manifest *am = gantry_oci_manifest_build(NULL, &cfg, artifact_layer, 1, &err);
    assert_non_null(am);
    put_doc(f->s, "application/vnd.example.artifact+json", am->raw, am->raw_len, &entries[2]);
    gantry_oci_manifest_free(am);
    put_oci_index(f->s, entries, 3, out);
    for (size_t i = 0; i < 3; i++)
        gantry_oci_descriptor_release(&entries[i]);
    gantry_oci_descriptor_release(&cfg);
}

static void test_store__gc(void **state)
{
    struct store_fixture *f = *state;
    _cleanup_error_ struct gantry_error *err = NULL;
    struct gantry_oci_descriptor img, idx, art_layer, old;
    put_image(f->s, "kept layer", "amd64", &img);
    put_index(f, &img, &art_layer, &idx);
    assert_int_equal(gantry_store_ref_set(f->s, "example.com/app:1", &idx, &err), 0);
    put_image(f->s, "unreferenced layer", "arm64", &old); /* 3 unreachable blobs */
    char junk[GANTRY_DIGEST_MAX];
    put_blob(f->s, "junk", 4, junk);
    _cleanup_free_ char *stale = store_path_in(f, "tmp/blob-stale");
    _cleanup_free_ char *fresh = store_path_in(f, "tmp/blob-fresh");
    test_write_file(stale, "x");
    test_write_file(fresh, "y");
    age_file(stale, 2 * 3600);
    size_t before = store_count_entries(f, "blobs/sha256");

    struct gantry_store_gc_stats st;
    if (gantry_store_gc(f->s, &st, &err) < 0)
        fail_msg("gc: %s", err->message);
    assert_int_equal(st.blobs_removed, 4);
    assert_int_equal(st.blobs_kept, before - 4);
    assert_int_equal(st.missing, 1);
    assert_int_equal(st.tmp_removed, 1);
    assert_true(st.bytes_removed > 0);
    assert_false(gantry_store_blob_exists(f->s, junk));
    assert_false(gantry_store_blob_exists(f->s, old.digest));
    assert_true(gantry_store_blob_exists(f->s, idx.digest));
    assert_true(gantry_store_blob_exists(f->s, img.digest));
    assert_true(gantry_store_blob_exists(f->s, art_layer.digest));
    assert_int_equal(access(stale, F_OK), -1);
    assert_int_equal(access(fresh, F_OK), 0);

    /* a second run finds nothing more */
    assert_int_equal(gantry_store_gc(f->s, &st, &err), 0);
    assert_int_equal(st.blobs_removed, 0);
    gantry_oci_descriptor_release(&img);
    gantry_oci_descriptor_release(&idx);
    gantry_oci_descriptor_release(&art_layer);
    gantry_oci_descriptor_release(&old);
}

/* An import in progress holds a handle: gc refuses rather than race it. */
static void test_store__gc_waits_for_importers(void **state)
{
    struct store_fixture *f = *state;
    struct gantry_error *err = NULL;
    char digest[GANTRY_DIGEST_MAX];
    struct gantry_store *importer = gantry_store_open(f->store_dir, 0, &err);
    assert_non_null(importer);
    put_blob(importer, "fresh blob, not named yet", 25, digest);
    assert_int_equal(gantry_store_gc(f->s, NULL, &err), -1);
    expect_error(err, GANTRY_E_DENIED, "is in use by another process");
    gantry_error_free(err), err = NULL;
    assert_true(gantry_store_blob_exists(f->s, digest));
    gantry_store_free(importer);
    assert_int_equal(gantry_store_gc(f->s, NULL, &err), 0);
    assert_false(gantry_store_blob_exists(f->s, digest));
    /* the handle still works after gc */
    put_blob(f->s, "after", 5, digest);
    assert_true(gantry_store_blob_exists(f->s, digest));
}

static void test_store__gc_stops_on_corrupt_manifest(void **state)
{
    struct store_fixture *f = *state;
    struct gantry_error *err = NULL;
    struct gantry_oci_descriptor img;
    put_image(f->s, "layer", "amd64", &img);
    assert_int_equal(gantry_store_ref_set(f->s, "example.com/app:1", &img, &err), 0);
    char junk[GANTRY_DIGEST_MAX];
    put_blob(f->s, "junk", 4, junk);
    corrupt_blob(f, img.digest, "{\"schemaVersion\":2}");
    assert_int_equal(gantry_store_gc(f->s, NULL, &err), -1);
    expect_error(err, GANTRY_E_DIGEST_MISMATCH, "gc: image 'example.com/app:1': blob");
    gantry_error_free(err);
    assert_true(gantry_store_blob_exists(f->s, junk)); /* nothing removed */
    gantry_oci_descriptor_release(&img);
}

static const struct gantry_store_problem *find_problem(const struct gantry_store_problem *p,
                                                       size_t n,
                                                       enum gantry_store_problem_kind kind,
                                                       const char *digest)
{
    for (size_t i = 0; i < n; i++)
        if (p[i].kind == kind && strcmp(p[i].digest, digest) == 0)
            return &p[i];
    return NULL;
}

/* M15: blobs named in index.json may be missing; listing still works. */
static void test_store__verify(void **state)
{
    struct store_fixture *f = *state;
    _cleanup_error_ struct gantry_error *err = NULL;
    struct gantry_oci_descriptor img, broken, idx, art_layer;
    put_image(f->s, "good layer", "amd64", &img);
    put_image(f->s, "lost layer", "arm64", &broken);
    put_index(f, &img, &art_layer, &idx);
    assert_int_equal(gantry_store_ref_set(f->s, "good", &idx, &err), 0);
    assert_int_equal(gantry_store_ref_set(f->s, "broken", &broken, &err), 0);
    struct gantry_store_problem *p = NULL;
    size_t n = 0;
    assert_int_equal(gantry_store_verify(f->s, &p, &n, &err), 0);
    assert_int_equal(n, 1); /* only the partial child */
    assert_non_null(
        find_problem(p, n, GANTRY_STORE_PROBLEM_PARTIAL,
                     "sha256:1111111111111111111111111111111111111111111111111111111111111111"));
    gantry_store_problems_free(p, n);

    /* lose a layer, corrupt another blob, remove a named manifest */
    char lost[GANTRY_DIGEST_MAX];
    gantry_digest_bytes(GANTRY_DIGEST_SHA256, "lost layer", 10, lost);
    _cleanup_free_ char *lost_path = gantry_store_blob_path(f->s, lost, &err);
    assert_int_equal(unlink(lost_path), 0);
    corrupt_blob(f, art_layer.digest, "tampered");
    _cleanup_free_ char *idx_path = gantry_store_blob_path(f->s, idx.digest, &err);
    assert_int_equal(unlink(idx_path), 0);

    const char *names[] = {"good", "broken"};
    expect_names(f->s, names, 2);
    assert_int_equal(gantry_store_verify(f->s, &p, &n, &err), 0);
    assert_int_equal(n, 3);
    const struct gantry_store_problem *q = find_problem(p, n, GANTRY_STORE_PROBLEM_MISSING, lost);
    assert_non_null(q);
    assert_string_equal(q->ref, "broken");
    q = find_problem(p, n, GANTRY_STORE_PROBLEM_MISSING, idx.digest);
    assert_non_null(q);
    assert_string_equal(q->ref, "good");
    q = find_problem(p, n, GANTRY_STORE_PROBLEM_CORRUPT, art_layer.digest);
    assert_non_null(q);
    assert_null(q->ref);
    assert_non_null(strstr(q->message, "is corrupt: content hashes to"));
    gantry_store_problems_free(p, n);

    /* a read that needs the missing blob fails cleanly */
    struct gantry_store_child *c = NULL;
    assert_int_equal(gantry_store_image_children(f->s, &idx, &c, &n, &err), -1);
    assert_int_equal(err->code, GANTRY_E_NOT_FOUND);
    gantry_oci_descriptor_release(&img);
    gantry_oci_descriptor_release(&broken);
    gantry_oci_descriptor_release(&idx);
    gantry_oci_descriptor_release(&art_layer);
}

static void test_store__image_children(void **state)
{
    struct store_fixture *f = *state;
    _cleanup_error_ struct gantry_error *err = NULL;
    struct gantry_oci_descriptor img, idx, art_layer;
    put_image(f->s, "child layer", "amd64", &img);
    put_index(f, &img, &art_layer, &idx);
    struct gantry_store_child *c = NULL;
    size_t n = 0;
    assert_int_equal(gantry_store_image_children(f->s, &idx, &c, &n, &err), 0);
    assert_int_equal(n, 3);
    assert_string_equal(c[0].desc.digest, img.digest);
    assert_string_equal(c[0].desc.platform->architecture, "amd64");
    assert_true(c[0].local);
    assert_false(c[1].local); /* never pulled */
    assert_true(c[2].local);  /* unknown type: the blob is here */
    gantry_store_children_free(c, n);

    /* a manifest whose layer is gone is not local; a manifest lists itself */
    char layer[GANTRY_DIGEST_MAX];
    gantry_digest_bytes(GANTRY_DIGEST_SHA256, "child layer", 11, layer);
    _cleanup_free_ char *path = gantry_store_blob_path(f->s, layer, &err);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(gantry_store_image_children(f->s, &img, &c, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_false(c[0].local);
    gantry_store_children_free(c, n);
    gantry_oci_descriptor_release(&img);
    gantry_oci_descriptor_release(&idx);
    gantry_oci_descriptor_release(&art_layer);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, store_fixture_teardown)
    const struct CMUnitTest tests[] = {
        T(test_store__create_layout),
        T(test_store__open_rejects_non_layouts),
        T(test_store__default_root),
        T(test_store__blob_write_and_read),
        T(test_store__blob_sha512),
        T(test_store__digest_mismatch_leaves_nothing),
        T(test_store__size_overflow),
        T(test_store__corrupt_blob_detected),
        T(test_store__blob_lookup_errors),
        T(test_store__refs),
        T(test_store__refs_keep_foreign_entries),
        T(test_store__index_valid_after_many_updates),
        T(test_store__concurrent_updaters),
        T(test_store__gc),
        T(test_store__gc_waits_for_importers),
        T(test_store__gc_stops_on_corrupt_manifest),
        T(test_store__verify),
        T(test_store__image_children),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
