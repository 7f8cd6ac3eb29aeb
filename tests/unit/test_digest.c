/* Unit tests for digest: known vectors, streaming, validation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <gantry/digest.h>

#include "util.h"

static void test_digest__known_vectors(void **state)
{
    (void)state;
    char out[GANTRY_DIGEST_MAX];
    gantry_digest_bytes(GANTRY_DIGEST_SHA256, "", 0, out);
    assert_string_equal(out,
                        "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    gantry_digest_bytes(GANTRY_DIGEST_SHA256, "abc", 3, out);
    assert_string_equal(out,
                        "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    gantry_digest_bytes(GANTRY_DIGEST_SHA512, "abc", 3, out);
    assert_string_equal(out,
                        "sha512:ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
                        "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
}

static void test_digest__streaming_equals_oneshot(void **state)
{
    (void)state;
    char a[GANTRY_DIGEST_MAX], b[GANTRY_DIGEST_MAX];
    const char *msg = "the quick brown fox jumps over the lazy dog";
    struct gantry_hasher *h = gantry_hasher_new(GANTRY_DIGEST_SHA256);
    for (size_t i = 0; i < strlen(msg); i += 5)
        gantry_hasher_update(h, msg + i, strlen(msg) - i < 5 ? strlen(msg) - i : 5);
    assert_int_equal(gantry_hasher_size(h), strlen(msg));
    gantry_hasher_final(h, a);
    gantry_hasher_free(h);
    gantry_digest_bytes(GANTRY_DIGEST_SHA256, msg, strlen(msg), b);
    assert_string_equal(a, b);
}

static void expect_invalid(const char *s, const char *needle)
{
    _cleanup_error_ struct gantry_error *err = NULL;
    assert_int_equal(gantry_digest_validate(s, strlen(s), NULL, &err), -1);
    assert_non_null(err);
    if (!strstr(err->message, needle))
        fail_msg("'%s': message '%s' lacks '%s'", s, err->message, needle);
}

static void test_digest__validate(void **state)
{
    (void)state;
    enum gantry_digest_alg alg;
    const char *ok = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    assert_int_equal(gantry_digest_validate(ok, strlen(ok), &alg, NULL), 0);
    assert_int_equal(alg, GANTRY_DIGEST_SHA256);
    assert_string_equal(gantry_digest_hex(ok), ok + 7);
    expect_invalid("sha256:ffffffffffffffffffffffffffffffffff", "invalid digest length");
    expect_invalid("invaliddigest:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
                   "unsupported digest algorithm");
    expect_invalid("sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
                   "lowercase");
    expect_invalid("sha256:g3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                   "non-hex");
    expect_invalid("nocolon", "invalid digest");
    expect_invalid(":abc", "invalid digest");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_digest__known_vectors),
        cmocka_unit_test(test_digest__streaming_equals_oneshot),
        cmocka_unit_test(test_digest__validate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
