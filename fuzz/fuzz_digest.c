/*
 * libFuzzer target for the digest module (docs/fuzzing.md).
 *
 * gantry_digest_validate gets a malloc'd copy of exactly len bytes, no NUL
 * after it, so AddressSanitizer catches any read past len. Its verdict is
 * compared with an independent oracle of the grammar in digest.h, and the
 * streaming hasher, fed in input-driven chunks, must equal the one-shot.
 */
#include <stdint.h>

#include <gantry/digest.h>

#include "util.h"

/* A broken invariant: print it and abort, which libFuzzer reports as a crash. */
#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_digest: invariant failed: %s (%s:%d)\n", #cond, __FILE__,        \
                    __LINE__);                                                                     \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool is_lower_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* The grammar of digest.h: "sha256:" + 64 or "sha512:" + 128 lower-case hex. */
static bool oracle_valid(const char *s, size_t len, enum gantry_digest_alg *alg)
{
    size_t want;
    if (len >= 7 && memcmp(s, "sha256:", 7) == 0) {
        want = 64;
        *alg = GANTRY_DIGEST_SHA256;
    } else if (len >= 7 && memcmp(s, "sha512:", 7) == 0) {
        want = 128;
        *alg = GANTRY_DIGEST_SHA512;
    } else {
        return false;
    }
    if (len != 7 + want)
        return false;
    for (size_t i = 7; i < len; i++)
        if (!is_lower_hex(s[i]))
            return false;
    return true;
}

static void check_validate(const uint8_t *data, size_t size)
{
    /* Exactly size bytes: a read of s[size] is a heap overflow. */
    _cleanup_free_ char *s = xmalloc(size);
    if (size)
        memcpy(s, data, size);
    struct gantry_error *err = NULL;
    enum gantry_digest_alg alg = (enum gantry_digest_alg)42, want_alg;
    int r = gantry_digest_validate(s, size, &alg, &err);
    bool ok = oracle_valid(s, size, &want_alg);
    FUZZ_CHECK(r == 0 || r == -1);
    FUZZ_CHECK((r == 0) == ok);
    if (r == 0) {
        FUZZ_CHECK(err == NULL);
        FUZZ_CHECK(alg == want_alg);
        _cleanup_free_ char *z = xstrndup(s, size);
        FUZZ_CHECK(gantry_digest_hex(z) == z + 7);
        return;
    }
    FUZZ_CHECK(err != NULL && err->message != NULL && err->message[0] != '\0');
    FUZZ_CHECK(err->code == GANTRY_E_INVALID_ARG);
    FUZZ_CHECK(strchr(err->message, '\n') == NULL);
    FUZZ_CHECK(alg == (enum gantry_digest_alg)42);
    gantry_error_free(err);
}

/* Streaming in chunks whose sizes come from the input equals one-shot. */
static void check_hasher(const uint8_t *data, size_t size)
{
    enum gantry_digest_alg alg =
        size && (data[0] & 1) ? GANTRY_DIGEST_SHA512 : GANTRY_DIGEST_SHA256;
    char oneshot[GANTRY_DIGEST_MAX], streamed[GANTRY_DIGEST_MAX];
    gantry_digest_bytes(alg, data, size, oneshot);
    struct gantry_hasher *h = gantry_hasher_new(alg);
    size_t off = 0;
    for (size_t i = 0; off < size; i++) {
        size_t chunk = 1 + (size_t)data[i % size] % 97;
        if (chunk > size - off)
            chunk = size - off;
        gantry_hasher_update(h, data + off, chunk);
        off += chunk;
    }
    FUZZ_CHECK(gantry_hasher_size(h) == size);
    gantry_hasher_final(h, streamed);
    FUZZ_CHECK(gantry_hasher_size(h) == 0);
    gantry_hasher_free(h);
    FUZZ_CHECK(strcmp(oneshot, streamed) == 0);
    enum gantry_digest_alg got;
    FUZZ_CHECK(gantry_digest_validate(oneshot, strlen(oneshot), &got, NULL) == 0);
    FUZZ_CHECK(got == alg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_validate(data, size);
    check_hasher(data, size);
    return 0;
}
