/* Streaming digests through OpenSSL EVP, and digest string validation. */
#include <openssl/evp.h>

#include <gantry/digest.h>

#include "util.h"

struct gantry_hasher {
    EVP_MD_CTX *ctx;
    enum gantry_digest_alg alg;
    uint64_t size;
};

static const EVP_MD *alg_md(enum gantry_digest_alg alg)
{
    return alg == GANTRY_DIGEST_SHA512 ? EVP_sha512() : EVP_sha256();
}

static const char *alg_name(enum gantry_digest_alg alg)
{
    return alg == GANTRY_DIGEST_SHA512 ? "sha512" : "sha256";
}

struct gantry_hasher *gantry_hasher_new(enum gantry_digest_alg alg)
{
    struct gantry_hasher *h = xcalloc(1, sizeof(*h));
    h->ctx = EVP_MD_CTX_new();
    if (!h->ctx || EVP_DigestInit_ex(h->ctx, alg_md(alg), NULL) != 1)
        oom();
    h->alg = alg;
    return h;
}

void gantry_hasher_update(struct gantry_hasher *h, const void *data, size_t len)
{
    if (len && EVP_DigestUpdate(h->ctx, data, len) != 1)
        abort(); /* cannot fail for in-memory digests once initialised */
    h->size += len;
}

uint64_t gantry_hasher_size(const struct gantry_hasher *h)
{
    return h->size;
}

static void to_hex(const unsigned char *md, unsigned n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (unsigned i = 0; i < n; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[2 * n] = '\0';
}

void gantry_hasher_final(struct gantry_hasher *h, char out[GANTRY_DIGEST_MAX])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    if (EVP_DigestFinal_ex(h->ctx, md, &n) != 1)
        abort();
    size_t pl = strlen(alg_name(h->alg));
    memcpy(out, alg_name(h->alg), pl);
    out[pl] = ':';
    to_hex(md, n, out + pl + 1);
    if (EVP_DigestInit_ex(h->ctx, alg_md(h->alg), NULL) != 1)
        oom();
    h->size = 0;
}

void gantry_hasher_free(struct gantry_hasher *h)
{
    if (!h)
        return;
    EVP_MD_CTX_free(h->ctx);
    free(h);
}

void gantry_digest_bytes(enum gantry_digest_alg alg, const void *data, size_t len,
                         char out[GANTRY_DIGEST_MAX])
{
    struct gantry_hasher *h = gantry_hasher_new(alg);
    gantry_hasher_update(h, data, len);
    gantry_hasher_final(h, out);
    gantry_hasher_free(h);
}

int gantry_digest_validate(const char *s, size_t len, enum gantry_digest_alg *alg,
                           struct gantry_error **err)
{
    const char *colon = memchr(s, ':', len);
    if (!colon || colon == s)
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0, "invalid digest '%.*s'",
                                (int)(len > 200 ? 200 : len), s);
    size_t alen = (size_t)(colon - s);
    enum gantry_digest_alg a;
    size_t want;
    if (alen == 6 && memcmp(s, "sha256", 6) == 0) {
        a = GANTRY_DIGEST_SHA256;
        want = 64;
    } else if (alen == 6 && memcmp(s, "sha512", 6) == 0) {
        a = GANTRY_DIGEST_SHA512;
        want = 128;
    } else {
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0, "unsupported digest algorithm '%.*s'",
                                (int)(alen > 64 ? 64 : alen), s);
    }
    const char *hex = colon + 1;
    size_t hlen = len - alen - 1;
    if (hlen != want)
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0,
                                "invalid digest length for %s: got %zu hex characters, want %zu",
                                alg_name(a), hlen, want);
    for (size_t i = 0; i < hlen; i++) {
        char c = hex[i];
        if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))
            continue;
        if (c >= 'A' && c <= 'F')
            return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0,
                                    "invalid digest: %s hex must be lowercase", alg_name(a));
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0,
                                "invalid digest: non-hex character in %s digest", alg_name(a));
    }
    if (alg)
        *alg = a;
    return 0;
}

const char *gantry_digest_hex(const char *digest)
{
    const char *c = strchr(digest, ':');
    return c ? c + 1 : digest;
}
