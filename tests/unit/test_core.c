/* Unit tests for core: errors, buffers and writing to a file descriptor. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "util.h"

static void test_core__error_set_and_prefix(void **state)
{
    (void)state;
    struct gantry_error *err = NULL;
    assert_int_equal(gantry_error_set(&err, GANTRY_E_IO, ENOENT, "open '%s'", "x"), -1);
    assert_non_null(err);
    assert_int_equal(err->code, GANTRY_E_IO);
    assert_int_equal(err->errno_value, ENOENT);
    assert_string_equal(err->message, "open 'x': No such file or directory");
    gantry_error_prefix(&err, "import '%s'", "f.tar");
    assert_string_equal(err->message, "import 'f.tar': open 'x': No such file or directory");
    gantry_error_free(err);
    /* NULL err is allowed and still fails */
    assert_int_equal(gantry_error_set(NULL, GANTRY_E_IO, 0, "x"), -1);
    assert_int_equal(gantry_error_prefix(NULL, "x"), -1);
}

static void test_core__error_http_status(void **state)
{
    (void)state;
    _cleanup_error_ struct gantry_error *err = NULL;
    gantry_error_set_http(&err, GANTRY_E_UNAUTHORIZED, 401, "fetch manifest: HTTP %d", 401);
    assert_int_equal(err->http_status, 401);
    assert_string_equal(gantry_error_code_name(err->code), "unauthorized");
}

static void test_core__error_is_one_line(void **state)
{
    (void)state;
    _cleanup_error_ struct gantry_error *err = NULL;
    gantry_error_set(&err, GANTRY_E_PARSE, 0, "media type '%s'", "a\nb\tc\x1b[0m");
    assert_string_equal(err->message, "media type 'a\\nb\\tc\\x1b[0m'");
    gantry_error_prefix(&err, "pull '%s'", "x\ry");
    assert_string_equal(err->message, "pull 'x\\x0dy': media type 'a\\nb\\tc\\x1b[0m'");
}

static void test_core__buf_invariants(void **state)
{
    (void)state;
    struct gantry_buf b = GANTRY_BUF_INIT;
    assert_non_null(b.data);
    assert_string_equal(b.data, "");
    assert_int_equal(gantry_buf_addstr(&b, "hello"), 0);
    assert_int_equal(gantry_buf_addf(&b, " %d", 42), 0);
    assert_string_equal(b.data, "hello 42");
    assert_int_equal(b.len, 8);
    size_t len = 0;
    char *s = gantry_buf_detach(&b, &len);
    assert_string_equal(s, "hello 42");
    assert_int_equal(len, 8);
    free(s);
    assert_string_equal(b.data, "");
    gantry_buf_release(&b);
}

static void test_core__buf_cap(void **state)
{
    (void)state;
    struct gantry_buf b = GANTRY_BUF_INIT_CAP(4);
    assert_int_equal(gantry_buf_add(&b, "abcd", 4), 0);
    errno = 0;
    assert_int_equal(gantry_buf_add(&b, "e", 1), -1);
    assert_int_equal(errno, EFBIG);
    assert_string_equal(b.data, "abcd");
    gantry_buf_release(&b);
}

static void test_core__write_all(void **state)
{
    (void)state;
    enum { N = 300000 }; /* more than one write(2) may take */
    char *data = xmalloc(N), *back = xmalloc(N);
    for (size_t i = 0; i < N; i++)
        data[i] = (char)('a' + i % 26);
    FILE *f = tmpfile();
    assert_non_null(f);
    assert_int_equal(gantry_write_all(fileno(f), data, N), 0);
    assert_int_equal(lseek(fileno(f), 0, SEEK_SET), 0);
    assert_int_equal(read(fileno(f), back, N), N);
    assert_memory_equal(back, data, N);
    fclose(f);
    free(data);
    free(back);
    errno = 0;
    assert_int_equal(gantry_write_all(-1, "x", 1), -1);
    assert_int_equal(errno, EBADF);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_core__error_set_and_prefix),
        cmocka_unit_test(test_core__error_http_status),
        cmocka_unit_test(test_core__error_is_one_line),
        cmocka_unit_test(test_core__buf_invariants),
        cmocka_unit_test(test_core__buf_cap),
        cmocka_unit_test(test_core__write_all),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
