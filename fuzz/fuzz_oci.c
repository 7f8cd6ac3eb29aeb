/*
 * libFuzzer target for the oci parsers (docs/fuzzing.md): manifest, index,
 * config, descriptor, gantry_oci_detect and the oci-layout check.
 *
 * The input is one document, given as exactly len bytes with no NUL after
 * them. Manifests and indexes are parsed with no expected type and with the
 * OCI and Docker types. Checked:
 *   - parsing never crashes; a failure sets an error with a documented code
 *     and a one-line message, and returns NULL;
 *   - a parse that succeeds keeps raw bytes equal to the input (and
 *     NUL-terminated) and digest = sha256 of them, and agrees with
 *     gantry_oci_detect (a manifest is never also an index);
 *   - the descriptors of a parsed document are valid;
 *   - _to_json of a parsed document succeeds and re-parses, and the
 *     re-parsed document gives the same bytes again (canonical form is a
 *     fixed point); _serialize leaves exactly those bytes in raw.
 */
#include <stdint.h>

#include <gantry/digest.h>
#include <gantry/oci.h>

#include "util.h"

/* A broken invariant: print it and abort, which libFuzzer reports as a crash. */
#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_oci: invariant failed: %s (%s:%d)\n", #cond, __FILE__,           \
                    __LINE__);                                                                     \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die_err(const char *what, struct gantry_error *err)
{
    fprintf(stderr, "fuzz_oci: %s failed: %s\n", what, err ? err->message : "(no error)");
    abort();
}

/* A failed call: error set, one line, one of the codes parsers document. */
static void check_error(struct gantry_error *err)
{
    FUZZ_CHECK(err != NULL && err->message != NULL);
    FUZZ_CHECK(err->code == GANTRY_E_PARSE || err->code == GANTRY_E_TOO_LARGE ||
               err->code == GANTRY_E_UNSUPPORTED);
    if (strchr(err->message, '\n')) {
        fprintf(stderr, "fuzz_oci: error message is not one line: %s\n", err->message);
        abort();
    }
    gantry_error_free(err);
}

/* The raw bytes and digest kept by a successful parse. */
static void check_raw(const char *raw, size_t raw_len, const char *digest,
                      const struct json_t *json, const char *s, size_t size)
{
    FUZZ_CHECK(raw != NULL && raw_len == size);
    FUZZ_CHECK(size == 0 || memcmp(raw, s, size) == 0);
    FUZZ_CHECK(raw[size] == '\0');
    char want[GANTRY_DIGEST_MAX];
    gantry_digest_bytes(GANTRY_DIGEST_SHA256, s, size, want);
    FUZZ_CHECK(strcmp(digest, want) == 0);
    FUZZ_CHECK(json != NULL);
}

static void check_descriptors(const struct gantry_oci_descriptor *d, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct gantry_error *err = NULL;
        if (gantry_oci_descriptor_validate(&d[i], &err) < 0)
            die_err("descriptor_validate of a parsed descriptor", err);
    }
}

/* What gantry_oci_detect says of the input: a kind, or -1 on error. */
static int detect(const char *s, size_t size, const char *expected)
{
    enum gantry_oci_kind kind = GANTRY_OCI_KIND_UNKNOWN;
    struct gantry_error *err = NULL;
    if (gantry_oci_detect(s, size, expected, &kind, &err) < 0) {
        check_error(err);
        return -1;
    }
    FUZZ_CHECK(err == NULL);
    return (int)kind;
}

/* to_json of m, then parse, then to_json again: the same bytes. */
static void check_manifest_json(struct gantry_oci_manifest *m)
{
    _cleanup_buf_ struct gantry_buf b1 = GANTRY_BUF_INIT;
    _cleanup_buf_ struct gantry_buf b2 = GANTRY_BUF_INIT;
    struct gantry_error *err = NULL;
    if (gantry_oci_manifest_to_json(m, &b1, &err) < 0)
        die_err("manifest_to_json of a parsed manifest", err);
    struct gantry_oci_manifest *again = gantry_oci_manifest_parse(b1.data, b1.len, NULL, &err);
    if (!again)
        die_err("manifest_parse of manifest_to_json output", err);
    check_raw(again->raw, again->raw_len, again->digest, again->json, b1.data, b1.len);
    if (gantry_oci_manifest_to_json(again, &b2, &err) < 0)
        die_err("manifest_to_json of a re-parsed manifest", err);
    FUZZ_CHECK(b1.len == b2.len && memcmp(b1.data, b2.data, b1.len) == 0);
    gantry_oci_manifest_free(again);
    if (gantry_oci_manifest_serialize(m, &err) < 0)
        die_err("manifest_serialize of a parsed manifest", err);
    check_raw(m->raw, m->raw_len, m->digest, m->json, b1.data, b1.len);
}

static void check_manifest(const char *s, size_t size, const char *expected)
{
    struct gantry_error *err = NULL;
    struct gantry_oci_manifest *m = gantry_oci_manifest_parse(s, size, expected, &err);
    int kind = detect(s, size, expected);
    if (!m) {
        check_error(err);
        return;
    }
    FUZZ_CHECK(err == NULL);
    FUZZ_CHECK(kind == GANTRY_OCI_KIND_MANIFEST);
    check_raw(m->raw, m->raw_len, m->digest, m->json, s, size);
    FUZZ_CHECK(gantry_oci_manifest_json(m) == m->json);
    FUZZ_CHECK(gantry_oci_is_manifest_type(m->media_type));
    check_descriptors(&m->config, 1);
    check_descriptors(m->layers, m->n_layers);
    if (m->subject)
        check_descriptors(m->subject, 1);
    check_manifest_json(m);
    gantry_oci_manifest_free(m);
}

static void check_index_json(struct gantry_oci_index *idx)
{
    _cleanup_buf_ struct gantry_buf b1 = GANTRY_BUF_INIT;
    _cleanup_buf_ struct gantry_buf b2 = GANTRY_BUF_INIT;
    struct gantry_error *err = NULL;
    if (gantry_oci_index_to_json(idx, &b1, &err) < 0)
        die_err("index_to_json of a parsed index", err);
    struct gantry_oci_index *again = gantry_oci_index_parse(b1.data, b1.len, NULL, &err);
    if (!again)
        die_err("index_parse of index_to_json output", err);
    check_raw(again->raw, again->raw_len, again->digest, again->json, b1.data, b1.len);
    if (gantry_oci_index_to_json(again, &b2, &err) < 0)
        die_err("index_to_json of a re-parsed index", err);
    FUZZ_CHECK(b1.len == b2.len && memcmp(b1.data, b2.data, b1.len) == 0);
    gantry_oci_index_free(again);
    if (gantry_oci_index_serialize(idx, &err) < 0)
        die_err("index_serialize of a parsed index", err);
    check_raw(idx->raw, idx->raw_len, idx->digest, idx->json, b1.data, b1.len);
}

static void check_index(const char *s, size_t size, const char *expected)
{
    struct gantry_error *err = NULL;
    struct gantry_oci_index *idx = gantry_oci_index_parse(s, size, expected, &err);
    int kind = detect(s, size, expected);
    if (!idx) {
        check_error(err);
        return;
    }
    FUZZ_CHECK(err == NULL);
    FUZZ_CHECK(kind == GANTRY_OCI_KIND_INDEX);
    check_raw(idx->raw, idx->raw_len, idx->digest, idx->json, s, size);
    FUZZ_CHECK(gantry_oci_index_json(idx) == idx->json);
    FUZZ_CHECK(gantry_oci_is_index_type(idx->media_type));
    check_descriptors(idx->manifests, idx->n_manifests);
    if (idx->subject)
        check_descriptors(idx->subject, 1);
    check_index_json(idx);
    gantry_oci_index_free(idx);
}

static void check_config_json(struct gantry_oci_config *c)
{
    _cleanup_buf_ struct gantry_buf b1 = GANTRY_BUF_INIT;
    _cleanup_buf_ struct gantry_buf b2 = GANTRY_BUF_INIT;
    struct gantry_error *err = NULL;
    if (gantry_oci_config_to_json(c, &b1, &err) < 0)
        die_err("config_to_json of a parsed config", err);
    struct gantry_oci_config *again = gantry_oci_config_parse(b1.data, b1.len, &err);
    if (!again)
        die_err("config_parse of config_to_json output", err);
    check_raw(again->raw, again->raw_len, again->digest, again->json, b1.data, b1.len);
    if (gantry_oci_config_to_json(again, &b2, &err) < 0)
        die_err("config_to_json of a re-parsed config", err);
    FUZZ_CHECK(b1.len == b2.len && memcmp(b1.data, b2.data, b1.len) == 0);
    gantry_oci_config_free(again);
    if (gantry_oci_config_serialize(c, &err) < 0)
        die_err("config_serialize of a parsed config", err);
    check_raw(c->raw, c->raw_len, c->digest, c->json, b1.data, b1.len);
}

static void check_config(const char *s, size_t size)
{
    struct gantry_error *err = NULL;
    struct gantry_oci_config *c = gantry_oci_config_parse(s, size, &err);
    if (!c) {
        check_error(err);
        return;
    }
    FUZZ_CHECK(err == NULL);
    check_raw(c->raw, c->raw_len, c->digest, c->json, s, size);
    FUZZ_CHECK(gantry_oci_config_json(c) == c->json);
    FUZZ_CHECK(c->os != NULL && c->architecture != NULL);
    for (size_t i = 0; i < c->n_diff_ids; i++)
        FUZZ_CHECK(gantry_digest_validate(c->diff_ids[i], strlen(c->diff_ids[i]), NULL, NULL) == 0);
    check_config_json(c);
    gantry_oci_config_free(c);
}

static bool descriptor_is_zero(const struct gantry_oci_descriptor *d)
{
    return !d->media_type && !d->digest && d->size == 0 && !d->urls && d->n_urls == 0 &&
           !d->annotations && d->n_annotations == 0 && !d->platform && !d->artifact_type &&
           !d->data && !d->extra;
}

static void check_descriptor(const char *s, size_t size)
{
    static char garbage[] = "garbage";
    struct gantry_oci_descriptor d = {.media_type = garbage, .digest = garbage, .size = -1};
    struct gantry_error *err = NULL;
    if (gantry_oci_descriptor_parse(s, size, &d, &err) < 0) {
        FUZZ_CHECK(descriptor_is_zero(&d));
        check_error(err);
        return;
    }
    FUZZ_CHECK(err == NULL);
    check_descriptors(&d, 1);
    _cleanup_buf_ struct gantry_buf b1 = GANTRY_BUF_INIT;
    _cleanup_buf_ struct gantry_buf b2 = GANTRY_BUF_INIT;
    if (gantry_oci_descriptor_to_json(&d, &b1, &err) < 0)
        die_err("descriptor_to_json of a parsed descriptor", err);
    struct gantry_oci_descriptor again = GANTRY_OCI_DESCRIPTOR_INIT;
    if (gantry_oci_descriptor_parse(b1.data, b1.len, &again, &err) < 0)
        die_err("descriptor_parse of descriptor_to_json output", err);
    if (gantry_oci_descriptor_to_json(&again, &b2, &err) < 0)
        die_err("descriptor_to_json of a re-parsed descriptor", err);
    FUZZ_CHECK(b1.len == b2.len && memcmp(b1.data, b2.data, b1.len) == 0);
    gantry_oci_descriptor_release(&again);
    gantry_oci_descriptor_release(&d);
    FUZZ_CHECK(descriptor_is_zero(&d));
}

static void check_layout(const char *s, size_t size)
{
    struct gantry_error *err = NULL;
    if (gantry_oci_layout_check(s, size, &err) < 0)
        check_error(err);
    else
        FUZZ_CHECK(err == NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Exactly size bytes: a read of s[size] is a heap overflow. */
    _cleanup_free_ char *s = xmalloc(size);
    if (size)
        memcpy(s, data, size);
    static const char *const manifest_types[] = {NULL, GANTRY_MT_OCI_MANIFEST,
                                                 GANTRY_MT_DOCKER_MANIFEST};
    static const char *const index_types[] = {NULL, GANTRY_MT_OCI_INDEX,
                                              GANTRY_MT_DOCKER_MANIFEST_LIST};
    for (size_t i = 0; i < ARRAY_SIZE(manifest_types); i++)
        check_manifest(s, size, manifest_types[i]);
    for (size_t i = 0; i < ARRAY_SIZE(index_types); i++)
        check_index(s, size, index_types[i]);
    check_config(s, size);
    check_descriptor(s, size);
    check_layout(s, size);
    return 0;
}
