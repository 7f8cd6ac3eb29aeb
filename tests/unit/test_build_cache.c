/*
 * The step cache: the store's cache records (names, atomic replace), the
 * stat cache of file digests and key -> layer records whose blob must
 * still be present.
 */
#include <fcntl.h>

#include "unit_helpers.h"

#include "build/build_internal.h"

static int setup(void **state)
{
    return store_fixture_setup(state, "test_build_cache");
}

static void test_build_cache__store_records(void **state)
{
    struct store_fixture *f = *state;
    struct gantry_error *err = NULL;
    _cleanup_buf_ struct gantry_buf b = GANTRY_BUF_INIT_CAP(1024);
    assert_int_equal(gantry_store_cache_get(f->s, "ns/a", &b, &err), -1);
    assert_int_equal(err->code, GANTRY_E_NOT_FOUND);
    gantry_error_free(steal_pointer(&err));
    assert_int_equal(gantry_store_cache_put(f->s, "ns/a", "one", 3, &err), 0);
    assert_int_equal(gantry_store_cache_put(f->s, "ns/a", "two!", 4, &err), 0);
    assert_int_equal(gantry_store_cache_get(f->s, "ns/a", &b, &err), 0);
    assert_string_equal(b.data, "two!");
    assert_int_equal(gantry_store_cache_delete(f->s, "ns/a", &err), 0);
    assert_int_equal(gantry_store_cache_delete(f->s, "ns/a", &err), 0);
    static const char *const bad[] = {"", "../x", "a/../b", ".hidden", "a/b/c", "a/", "/a", "a b"};
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        assert_int_equal(gantry_store_cache_put(f->s, bad[i], "x", 1, &err), -1);
        assert_int_equal(err->code, GANTRY_E_INVALID_ARG);
        gantry_error_free(steal_pointer(&err));
    }
}

static void file_id(const char *path, struct build_file_id *id)
{
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    build_file_id_of(&sb, id);
}

/* A file old enough not to be racy: mtime in the past, ctime 100 ms ago. */
static void write_old(const char *path, const char *data)
{
    test_write_file(path, data);
    struct timespec ts[2] = {{.tv_sec = 1000000000}, {.tv_sec = 1000000000}};
    assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
    usleep(100000);
}

static void test_build_cache__stat_cache(void **state)
{
    struct store_fixture *f = *state;
    struct gantry_error *err = NULL;
    _cleanup_free_ char *ctx = xasprintf("%s/ctx", f->root);
    _cleanup_free_ char *file = xasprintf("%s/ctx/a", f->root);
    assert_int_equal(mkdir(ctx, 0755), 0);
    write_old(file, "hello");
    struct build_file_id id;
    file_id(file, &id);
    char d1[GANTRY_DIGEST_MAX], want[GANTRY_DIGEST_MAX];
    gantry_digest_bytes(GANTRY_DIGEST_SHA256, "hello", 5, want);
    struct build_cache *c = build_cache_new(f->s, ctx, false);
    assert_int_equal(build_cache_file_digest(c, file, &id, d1, &err), 0);
    assert_string_equal(d1, want);
    build_cache_save(c);
    build_cache_free(c);
    /* A later build trusts the remembered digest for the same identity:
     * shown by asking with that identity after the content changed
     * behind its back (which ctime makes impossible in real life). */
    write_old(file, "HELLO");
    c = build_cache_new(f->s, ctx, false);
    assert_int_equal(build_cache_file_digest(c, file, &id, d1, &err), 0);
    assert_string_equal(d1, want);
    /* the real, new identity misses and reads the file */
    struct build_file_id now;
    file_id(file, &now);
    assert_false(build_file_id_equal(&id, &now));
    assert_int_equal(build_cache_file_digest(c, file, &now, d1, &err), 0);
    gantry_digest_bytes(GANTRY_DIGEST_SHA256, "HELLO", 5, want);
    assert_string_equal(d1, want);
    build_cache_free(c);
    /* --no-cache reads the file whatever the stat cache says */
    c = build_cache_new(f->s, ctx, true);
    gantry_digest_bytes(GANTRY_DIGEST_SHA256, "HELLO", 5, want);
    assert_int_equal(build_cache_file_digest(c, file, &id, d1, &err), 0);
    assert_string_equal(d1, want);
    build_cache_free(c);
}

/* A file changed within the clock tick of its hashing is not remembered. */
static void test_build_cache__racy_files_are_read_again(void **state)
{
    struct store_fixture *f = *state;
    struct gantry_error *err = NULL;
    _cleanup_free_ char *file = xasprintf("%s/fresh", f->root);
    test_write_file(file, "one");
    struct build_file_id id;
    file_id(file, &id);
    char d[GANTRY_DIGEST_MAX], want[GANTRY_DIGEST_MAX];
    struct build_cache *c = build_cache_new(f->s, f->root, false);
    assert_int_equal(build_cache_file_digest(c, file, &id, d, &err), 0);
    test_write_file(file, "two");
    assert_int_equal(build_cache_file_digest(c, file, &id, d, &err), 0);
    gantry_digest_bytes(GANTRY_DIGEST_SHA256, "two", 3, want);
    assert_string_equal(d, want);
    build_cache_free(c);
}

static void test_build_cache__records_need_their_blob(void **state)
{
    struct store_fixture *f = *state;
    struct gantry_error *err = NULL;
    char blob[GANTRY_DIGEST_MAX], diff[GANTRY_DIGEST_MAX];
    assert_int_equal(gantry_store_put_blob(f->s, "layer-bytes", 11, blob, &err), 0);
    gantry_digest_bytes(GANTRY_DIGEST_SHA256, "tar", 3, diff);
    struct gantry_oci_descriptor d = GANTRY_OCI_DESCRIPTOR_INIT, got = GANTRY_OCI_DESCRIPTOR_INIT;
    gantry_oci_descriptor_init(&d, GANTRY_MT_OCI_LAYER_GZIP, blob, 11);
    const char *key = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    struct build_cache *c = build_cache_new(f->s, f->root, false);
    char got_diff[GANTRY_DIGEST_MAX];
    assert_false(build_cache_get(c, key, &got, got_diff));
    build_cache_put(c, key, &d, diff);
    assert_true(build_cache_get(c, key, &got, got_diff));
    assert_string_equal(got.digest, blob);
    assert_string_equal(got.media_type, GANTRY_MT_OCI_LAYER_GZIP);
    assert_int_equal(got.size, 11);
    assert_string_equal(got_diff, diff);
    gantry_oci_descriptor_release(&got);
    build_cache_free(c);
    /* --no-cache: a miss */
    c = build_cache_new(f->s, f->root, true);
    assert_false(build_cache_get(c, key, &got, got_diff));
    build_cache_free(c);
    /* the blob gone (prune): a miss */
    _cleanup_free_ char *path = gantry_store_blob_path(f->s, blob, &err);
    assert_int_equal(unlink(path), 0);
    c = build_cache_new(f->s, f->root, false);
    assert_false(build_cache_get(c, key, &got, got_diff));
    build_cache_free(c);
    gantry_oci_descriptor_release(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_build_cache__store_records, setup,
                                        store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_build_cache__stat_cache, setup,
                                        store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_build_cache__racy_files_are_read_again, setup,
                                        store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_build_cache__records_need_their_blob, setup,
                                        store_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
