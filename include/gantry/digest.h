/*
 * gantry digest: streaming SHA-256/SHA-512 (OpenSSL EVP) and digest strings.
 *
 * Basic outline of hashing a stream:
 *
 *     struct gantry_hasher *h = gantry_hasher_new(GANTRY_DIGEST_SHA256);
 *     while ((n = read(fd, buf, sizeof buf)) > 0)
 *         gantry_hasher_update(h, buf, n);
 *     char digest[GANTRY_DIGEST_MAX];
 *     gantry_hasher_final(h, digest);      // "sha256:<64 hex>"
 *     gantry_hasher_free(h);
 */
#ifndef GANTRY_DIGEST_H
#define GANTRY_DIGEST_H

#include <gantry/core.h>

#ifdef __cplusplus
extern "C" {
#endif

enum gantry_digest_alg {
    GANTRY_DIGEST_SHA256,
    GANTRY_DIGEST_SHA512,
};

/* "sha512:" + 128 hex + NUL */
#define GANTRY_DIGEST_MAX 136

struct gantry_hasher;

/* New hasher; caller frees with gantry_hasher_free(). Never NULL. */
GANTRY_API struct gantry_hasher *gantry_hasher_new(enum gantry_digest_alg alg);
GANTRY_API void gantry_hasher_update(struct gantry_hasher *h, const void *data, size_t len);
/* Bytes fed so far. */
GANTRY_API uint64_t gantry_hasher_size(const struct gantry_hasher *h);
/* Write "alg:hex" into out (GANTRY_DIGEST_MAX bytes); the hasher is reset. */
GANTRY_API void gantry_hasher_final(struct gantry_hasher *h, char out[GANTRY_DIGEST_MAX]);
GANTRY_API void gantry_hasher_free(struct gantry_hasher *h);

/* One-shot digest of a memory block into out ("sha256:..."). */
GANTRY_API void gantry_digest_bytes(enum gantry_digest_alg alg, const void *data, size_t len,
                                    char out[GANTRY_DIGEST_MAX]);

/*
 * Check a digest string: "sha256:" + 64 or "sha512:" + 128 lower-case hex
 * (OCI descriptor.md). Errors (GANTRY_E_INVALID_ARG) say what is wrong:
 * unsupported digest algorithm, invalid digest length, hex must be
 * lowercase... On success *alg (if not NULL) is set.
 */
GANTRY_API int gantry_digest_validate(const char *s, size_t len, enum gantry_digest_alg *alg,
                                      struct gantry_error **err) GANTRY_WUR;

/* The hex part of a valid digest string (pointer into s). */
GANTRY_API const char *gantry_digest_hex(const char *digest);

#ifdef __cplusplus
}
#endif
#endif
