/* Unit tests for build's pure helpers: context and destination paths, --chown, --chmod, entries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "build/build_internal.h"

static void check_ctx(const char *in, const char *want)
{
    char *got = build_context_path(in, strlen(in));
    if (!want) {
        assert_null(got);
        return;
    }
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

static void test_build__context_path_cleans_inside(void **state)
{
    (void)state;
    check_ctx("app.bin", "app.bin");
    check_ctx("/etc/passwd", "etc/passwd");
    check_ctx("./a//b/./c/", "a/b/c");
    check_ctx("a/../b", "b");
    check_ctx(".", ".");
    check_ctx("/", ".");
    check_ctx("a/..", ".");
}

static void test_build__context_path_refuses_escape(void **state)
{
    (void)state;
    check_ctx("../x", NULL);
    check_ctx("a/../../x", NULL);
    check_ctx("/..", NULL);
}

static void check_dest(const char *wd, const char *dest, const char *want, bool want_dir)
{
    bool is_dir = !want_dir;
    char *got = build_dest_path(wd, dest, &is_dir);
    assert_string_equal(got, want);
    assert_int_equal(is_dir, want_dir);
    free(got);
}

static void test_build__dest_path_joins_workdir(void **state)
{
    (void)state;
    check_dest(NULL, "/bin/busybox", "/bin/busybox", false);
    check_dest("/app", "src/", "/app/src", true);
    check_dest("/app", ".", "/app", true);
    check_dest("", "x", "/x", false);
    check_dest("/app", "/opt/", "/opt", true);
    check_dest("/a/b", "../c", "/a/c", false);
    check_dest("/", "../../x", "/x", false);
}

static const char passwd[] = "root:x:0:0:root:/root:/bin/sh\n"
                             "app:x:1000:1001:App:/home/app:/bin/sh\n"
                             "bad:x:abc:1:b:/:/bin/sh\n";
static const char group[] = "root:x:0:\nstaff:x:50:app\n";

static void test_build__chown_numeric_and_names(void **state)
{
    (void)state;
    uint32_t uid = 9, gid = 9;
    assert_int_equal(build_chown_parse("1000:1000", NULL, NULL, &uid, &gid, NULL), 0);
    assert_int_equal(uid, 1000);
    assert_int_equal(gid, 1000);
    assert_int_equal(build_chown_parse("42", NULL, NULL, &uid, &gid, NULL), 0);
    assert_int_equal(uid, 42);
    assert_int_equal(gid, 42);
    assert_int_equal(build_chown_parse("app", passwd, group, &uid, &gid, NULL), 0);
    assert_int_equal(uid, 1000);
    assert_int_equal(gid, 1001);
    assert_int_equal(build_chown_parse("app:staff", passwd, group, &uid, &gid, NULL), 0);
    assert_int_equal(gid, 50);
    assert_int_equal(build_chown_parse("root:0", passwd, group, &uid, &gid, NULL), 0);
    assert_int_equal(uid, 0);
    assert_int_equal(gid, 0);
}

static void test_build__chown_errors(void **state)
{
    (void)state;
    uint32_t uid, gid;
    struct gantry_error *err = NULL;
    assert_int_equal(build_chown_parse("nobody", passwd, group, &uid, &gid, &err), -1);
    assert_string_equal(err->message, "invalid --chown 'nobody': unknown user 'nobody'");
    gantry_error_free(err);
    err = NULL;
    assert_int_equal(build_chown_parse("app:wheel", passwd, group, &uid, &gid, &err), -1);
    assert_string_equal(err->message, "invalid --chown 'app:wheel': unknown group 'wheel'");
    gantry_error_free(err);
    err = NULL;
    assert_int_equal(build_chown_parse(":1", passwd, group, &uid, &gid, &err), -1);
    assert_string_equal(err->message, "invalid --chown ':1': empty user");
    gantry_error_free(err);
    err = NULL;
    assert_int_equal(build_chown_parse("bad", passwd, group, &uid, &gid, &err), -1);
    gantry_error_free(err);
    err = NULL;
    assert_int_equal(build_chown_parse("app", NULL, NULL, &uid, &gid, &err), -1);
    gantry_error_free(err);
}

static void test_build__chmod(void **state)
{
    (void)state;
    uint32_t mode = 0;
    assert_int_equal(build_chmod_parse("755", &mode, NULL), 0);
    assert_int_equal(mode, 0755);
    assert_int_equal(build_chmod_parse("4755", &mode, NULL), 0);
    assert_int_equal(mode, 04755);
    struct gantry_error *err = NULL;
    assert_int_equal(build_chmod_parse("u+x", &mode, &err), -1);
    assert_string_equal(err->message, "invalid --chmod 'u+x': want an octal mode up to 7777");
    gantry_error_free(err);
    err = NULL;
    assert_int_equal(build_chmod_parse("17777", &mode, &err), -1);
    gantry_error_free(err);
    err = NULL;
    assert_int_equal(build_chmod_parse("", &mode, &err), -1);
    gantry_error_free(err);
}

static void test_build__time_format_and_clamp(void **state)
{
    (void)state;
    char *t = build_format_time(1700000000);
    assert_string_equal(t, "2023-11-14T22:13:20Z");
    free(t);
    assert_int_equal(build_clamp_time(2000, 1000), 1000);
    assert_int_equal(build_clamp_time(500, 1000), 500);
    assert_int_equal(build_clamp_time(2000, -1), 2000);
}

static void test_build__entries_sorted_with_parents(void **state)
{
    (void)state;
    struct build_entries l = {0};
    struct build_entry f = {.path = (char *)"usr/bin/b", .type = GANTRY_LAYER_FILE, .mode = 0644};
    build_entries_add(&l, &f);
    build_entries_add_parents(&l, "usr/bin/b", 7);
    struct build_entry a = {.path = (char *)"usr/a", .type = GANTRY_LAYER_FILE, .mode = 0600};
    build_entries_add(&l, &a);
    struct build_entry a2 = {.path = (char *)"usr/a", .type = GANTRY_LAYER_FILE, .mode = 0640};
    build_entries_add(&l, &a2);
    build_entries_sort(&l);
    assert_int_equal(l.n_items, 4);
    assert_string_equal(l.items[0].path, "usr");
    assert_int_equal(l.items[0].type, GANTRY_LAYER_DIR);
    assert_int_equal(l.items[0].mtime, 7);
    assert_string_equal(l.items[1].path, "usr/a");
    assert_int_equal(l.items[1].mode, 0640); /* the later entry wins */
    assert_string_equal(l.items[2].path, "usr/bin");
    assert_string_equal(l.items[3].path, "usr/bin/b");
    build_entries_release(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_build__context_path_cleans_inside),
        cmocka_unit_test(test_build__context_path_refuses_escape),
        cmocka_unit_test(test_build__dest_path_joins_workdir),
        cmocka_unit_test(test_build__chown_numeric_and_names),
        cmocka_unit_test(test_build__chown_errors),
        cmocka_unit_test(test_build__chmod),
        cmocka_unit_test(test_build__time_format_and_clamp),
        cmocka_unit_test(test_build__entries_sorted_with_parents),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
