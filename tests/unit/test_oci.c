/*
 * Unit tests for oci: media types, the input rules of bad-inputs.md 4.3
 * (M1-M4, M10, M11, M13), raw bytes, round trips, canonical output, the
 * JSON files of Docker archives (manifest.json, repositories).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <jansson.h>

#include <gantry/oci.h>

#include "util.h"

/* clang-format off */
#define HEX64(c) c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c \
    c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c
#define DA "sha256:" HEX64("a")
#define DB "sha256:" HEX64("b")
#define DC "sha256:" HEX64("c")
#define DD "sha256:" HEX64("d")

#define DESC(mt, d, size) "{\"mediaType\":\"" mt "\",\"digest\":\"" d "\",\"size\":" #size "}"
#define CONFIG_DESC DESC(GANTRY_MT_OCI_CONFIG, DA, 1)
#define MAX_LAYER_DESC DESC(GANTRY_MT_OCI_LAYER, DB, 9007199254740992)
#define SHORT_DIGEST_DESC DESC(GANTRY_MT_OCI_CONFIG, "sha256:abc", 1)
#define UPPER_DIGEST_DESC DESC(GANTRY_MT_OCI_MANIFEST, "sha256:" HEX64("A"), 1)
#define MD5_DIGEST_DESC DESC(GANTRY_MT_OCI_MANIFEST, "md5:" HEX64("a"), 1)

static const char manifest_doc[] =
    "{\n  \"schemaVersion\": 2,\n  \"mediaType\": \"" GANTRY_MT_OCI_MANIFEST "\",\n"
    "  \"config\": " DESC(GANTRY_MT_OCI_CONFIG, DA, 7023) ",\n"
    "  \"layers\": [{\"mediaType\": \"" GANTRY_MT_OCI_LAYER_GZIP "\", \"digest\": \"" DB "\","
    " \"size\": 32654, \"x-extra\": [1, 2]},\n"
    "    {\"mediaType\": \"" GANTRY_MT_OCI_LAYER_ND_GZIP "\", \"digest\": \"" DC "\","
    " \"size\": 9, \"urls\": [\"https://example.com/layer\"]}],\n"
    "  \"annotations\": {\"com.example.key\": \"value\"},\n"
    "  \"x-custom\": {\"keep\": true}\n}\n";
/* clang-format on */

static const char index_doc[] =
    "{\"schemaVersion\":2,\"mediaType\":\"" GANTRY_MT_OCI_INDEX "\",\"manifests\":["
    "{\"mediaType\":\"" GANTRY_MT_OCI_MANIFEST "\",\"digest\":\"" DA "\",\"size\":500,"
    "\"platform\":{\"architecture\":\"arm\",\"os\":\"linux\",\"variant\":\"v7\"}},"
    "{\"mediaType\":\"" GANTRY_MT_OCI_MANIFEST "\",\"digest\":\"" DB "\",\"size\":600,"
    "\"platform\":{\"architecture\":\"amd64\",\"os\":\"windows\",\"os.version\":\"10.0.17763.1\","
    "\"os.features\":[\"win32k\"],\"features\":[\"sse4\"]}},"
    "{\"mediaType\":\"application/vnd.example.unknown+json\",\"digest\":\"" DC "\",\"size\":3},"
    "{\"mediaType\":\"" GANTRY_MT_OCI_MANIFEST "\",\"digest\":\"" DD "\",\"size\":700,"
    "\"platform\":{\"architecture\":\"unknown\",\"os\":\"unknown\"},"
    "\"annotations\":{\"vnd.docker.reference.digest\":\"" DA "\","
    "\"vnd.docker.reference.type\":\"attestation-manifest\"}}],"
    "\"annotations\":{\"org.opencontainers.image.created\":\"2024-01-01T00:00:00Z\"}}";

static const char config_doc[] =
    "{\"architecture\":\"arm64\",\"os\":\"linux\",\"variant\":\"v8\","
    "\"created\":\"2024-01-02T03:04:05Z\",\"author\":\"someone\","
    "\"config\":{\"User\":\"www\",\"Env\":[\"PATH=/usr/bin\",\"A=b=c\"],\"Entrypoint\":null,"
    "\"Cmd\":[\"httpd-foreground\"],\"WorkingDir\":\"/srv\",\"Labels\":{\"l1\":\"v1\"},"
    "\"ExposedPorts\":{\"80/tcp\":{}},\"Volumes\":{\"/data\":{}},\"StopSignal\":\"SIGWINCH\","
    "\"Healthcheck\":{\"Test\":[\"CMD\",\"true\"]},\"OnBuild\":null},"
    "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" DA "\",\"" DB "\"]},"
    "\"history\":[{\"created\":\"2024-01-01T00:00:00Z\",\"created_by\":\"ADD x /\"},"
    "{\"created_by\":\"ENV A=b\",\"empty_layer\":true},{\"comment\":\"c\"}],"
    "\"docker_version\":\"20.10\"}";

enum which { MANIFEST, INDEX, CONFIG, DETECT };

/* Parse with the chosen function; return 0 on success, -1 with *err set. */
static int try_parse(enum which w, const char *doc, size_t len, const char *expected,
                     struct gantry_error **err)
{
    enum gantry_oci_kind kind;
    void *p = NULL;
    switch (w) {
    case MANIFEST:
        p = gantry_oci_manifest_parse(doc, len, expected, err);
        gantry_oci_manifest_free(p);
        break;
    case INDEX:
        p = gantry_oci_index_parse(doc, len, expected, err);
        gantry_oci_index_free(p);
        break;
    case CONFIG:
        p = gantry_oci_config_parse(doc, len, err);
        gantry_oci_config_free(p);
        break;
    case DETECT:
        return gantry_oci_detect(doc, len, expected, &kind, err);
    }
    return p ? 0 : -1;
}

static void expect_fail_len(enum which w, const char *doc, size_t len, const char *expected,
                            enum gantry_error_code code, const char *needle)
{
    _cleanup_error_ struct gantry_error *err = NULL;
    if (try_parse(w, doc, len, expected, &err) == 0)
        fail_msg("accepted: %.300s", doc);
    assert_non_null(err);
    if (err->code != code || !strstr(err->message, needle))
        fail_msg("doc %.200s: got code %d '%s', want code %d with '%s'", doc, err->code,
                 err->message, code, needle);
}

static void expect_fail(enum which w, const char *doc, const char *expected,
                        enum gantry_error_code code, const char *needle)
{
    expect_fail_len(w, doc, strlen(doc), expected, code, needle);
}

static void expect_ok(enum which w, const char *doc, const char *expected)
{
    _cleanup_error_ struct gantry_error *err = NULL;
    if (try_parse(w, doc, strlen(doc), expected, &err) < 0)
        fail_msg("rejected %.200s: %s", doc, err->message);
}

static void test_oci__media_types(void **state)
{
    (void)state;
    assert_true(gantry_oci_is_index_type(GANTRY_MT_OCI_INDEX));
    assert_true(gantry_oci_is_index_type(GANTRY_MT_DOCKER_MANIFEST_LIST));
    assert_false(gantry_oci_is_index_type(GANTRY_MT_OCI_MANIFEST));
    assert_false(gantry_oci_is_index_type(NULL));
    assert_true(gantry_oci_is_manifest_type(GANTRY_MT_DOCKER_MANIFEST));
    assert_true(
        gantry_oci_is_manifest_type(" Application/VND.oci.image.manifest.v1+json ; charset=utf-8"));
    assert_false(gantry_oci_is_manifest_type(GANTRY_MT_OCI_MANIFEST "x"));
    assert_true(gantry_oci_is_config_type(GANTRY_MT_DOCKER_CONFIG));
    assert_true(gantry_oci_is_schema1_type(GANTRY_MT_DOCKER_SCHEMA1_SIGNED));
    assert_int_equal(gantry_oci_layer_compression(GANTRY_MT_OCI_LAYER),
                     GANTRY_OCI_COMPRESSION_NONE);
    assert_int_equal(gantry_oci_layer_compression(GANTRY_MT_OCI_LAYER_GZIP),
                     GANTRY_OCI_COMPRESSION_GZIP);
    assert_int_equal(gantry_oci_layer_compression(GANTRY_MT_DOCKER_LAYER_GZIP),
                     GANTRY_OCI_COMPRESSION_GZIP);
    assert_int_equal(gantry_oci_layer_compression(GANTRY_MT_OCI_LAYER_ZSTD),
                     GANTRY_OCI_COMPRESSION_ZSTD);
    assert_int_equal(gantry_oci_layer_compression(GANTRY_MT_OCI_CONFIG),
                     GANTRY_OCI_COMPRESSION_UNKNOWN);
    assert_true(gantry_oci_is_layer_type(GANTRY_MT_DOCKER_LAYER_FOREIGN));
    assert_false(gantry_oci_is_layer_type(GANTRY_MT_OCI_INDEX));
}

static void test_oci__detect(void **state)
{
    (void)state;
    enum gantry_oci_kind kind;
    assert_int_equal(gantry_oci_detect(manifest_doc, strlen(manifest_doc), NULL, &kind, NULL), 0);
    assert_int_equal(kind, GANTRY_OCI_KIND_MANIFEST);
    assert_int_equal(
        gantry_oci_detect(index_doc, strlen(index_doc), GANTRY_MT_OCI_INDEX, &kind, NULL), 0);
    assert_int_equal(kind, GANTRY_OCI_KIND_INDEX);
    /* no mediaType: inferred from the members */
    const char *bare = "{\"schemaVersion\":2,\"manifests\":[]}";
    assert_int_equal(gantry_oci_detect(bare, strlen(bare), NULL, &kind, NULL), 0);
    assert_int_equal(kind, GANTRY_OCI_KIND_INDEX);
    const char *other = "{\"mediaType\":\"application/vnd.example+json\",\"blobs\":[]}";
    assert_int_equal(gantry_oci_detect(other, strlen(other), NULL, &kind, NULL), 0);
    assert_int_equal(kind, GANTRY_OCI_KIND_UNKNOWN);
    assert_int_equal(gantry_oci_detect(config_doc, strlen(config_doc), NULL, &kind, NULL), 0);
    assert_int_equal(kind, GANTRY_OCI_KIND_UNKNOWN);
}

/* M1: the declared type (Content-Type, descriptor) must match the body. */
static void test_oci__m1_media_type_mismatch(void **state)
{
    (void)state;
    expect_fail(DETECT, index_doc, GANTRY_MT_OCI_MANIFEST, GANTRY_E_PARSE,
                "media type mismatch: document says '" GANTRY_MT_OCI_INDEX
                "', expected '" GANTRY_MT_OCI_MANIFEST "'");
    expect_fail(INDEX, index_doc, GANTRY_MT_DOCKER_MANIFEST_LIST, GANTRY_E_PARSE,
                "media type mismatch");
    expect_fail(MANIFEST, manifest_doc, GANTRY_MT_DOCKER_MANIFEST, GANTRY_E_PARSE,
                "media type mismatch");
    /* parameters and case of a Content-Type do not matter */
    expect_ok(INDEX, index_doc, "application/vnd.OCI.image.index.v1+json; charset=utf-8");
    /* a body without mediaType takes the declared type, checked against the members */
    const char *bare = "{\"schemaVersion\":2,\"manifests\":[]}";
    expect_fail(MANIFEST, bare, GANTRY_MT_OCI_MANIFEST, GANTRY_E_PARSE, "has 'manifests'");
    _cleanup_error_ struct gantry_error *err = NULL;
    struct gantry_oci_index *idx =
        gantry_oci_index_parse(bare, strlen(bare), GANTRY_MT_DOCKER_MANIFEST_LIST "; x=y", &err);
    assert_non_null(idx);
    assert_string_equal(idx->media_type, GANTRY_MT_DOCKER_MANIFEST_LIST);
    gantry_oci_index_free(idx);
}

/* M2: manifests together with layers or config is ambiguous (CVE-2021-41190). */
static void test_oci__m2_ambiguous(void **state)
{
    (void)state;
    const char *both = "{\"schemaVersion\":2,\"manifests\":[],\"layers\":[]}";
    expect_fail(DETECT, both, NULL, GANTRY_E_PARSE, "ambiguous document");
    expect_fail(INDEX, both, NULL, GANTRY_E_PARSE, "ambiguous document");
    const char *cfg = "{\"schemaVersion\":2,\"mediaType\":\"" GANTRY_MT_OCI_INDEX "\","
                      "\"manifests\":[],\"config\":" DESC(GANTRY_MT_OCI_CONFIG, DA, 1) "}";
    expect_fail(INDEX, cfg, NULL, GANTRY_E_PARSE, "both 'manifests' and 'config'");
    const char *idx_layers = "{\"schemaVersion\":2,\"mediaType\":\"" GANTRY_MT_OCI_INDEX "\","
                             "\"layers\":[]}";
    expect_fail(DETECT, idx_layers, NULL, GANTRY_E_PARSE, "has 'layers' or 'config'");
}

/* M3: schemaVersion, config and layers. */
static void test_oci__m3_required_members(void **state)
{
    (void)state;
#define MT "\"mediaType\":\"" GANTRY_MT_OCI_MANIFEST "\","
#define CFG "\"config\":" CONFIG_DESC
    expect_fail(MANIFEST, "{" MT CFG ",\"layers\":[]}", NULL, GANTRY_E_PARSE,
                "missing 'schemaVersion'");
    expect_fail(MANIFEST, "{\"schemaVersion\":3," MT CFG ",\"layers\":[]}", NULL, GANTRY_E_PARSE,
                "unsupported 'schemaVersion' 3");
    expect_fail(MANIFEST, "{\"schemaVersion\":\"2\"," MT CFG ",\"layers\":[]}", NULL,
                GANTRY_E_PARSE, "'schemaVersion' must be the integer 2");
    expect_fail(MANIFEST, "{\"schemaVersion\":2.0," MT CFG ",\"layers\":[]}", NULL, GANTRY_E_PARSE,
                "'schemaVersion' must be the integer 2");
    expect_fail(MANIFEST, "{\"schemaVersion\":2," MT "\"layers\":[]}", NULL, GANTRY_E_PARSE,
                "missing 'config'");
    expect_fail(MANIFEST, "{\"schemaVersion\":2," MT CFG "}", NULL, GANTRY_E_PARSE,
                "missing 'layers'");
    expect_fail(MANIFEST, "{\"schemaVersion\":2," MT CFG ",\"layers\":{}}", NULL, GANTRY_E_PARSE,
                "'layers' must be an array");
    expect_fail(MANIFEST, "{\"schemaVersion\":2," MT CFG ",\"layers\":[1]}", NULL, GANTRY_E_PARSE,
                "layers[0]: descriptor must be an object");
    expect_fail(MANIFEST,
                "{\"schemaVersion\":2," MT "\"config\":[],"
                "\"layers\":[]}",
                NULL, GANTRY_E_PARSE, "config: descriptor must be an object");
    expect_fail(INDEX, "{\"schemaVersion\":2,\"mediaType\":\"" GANTRY_MT_OCI_INDEX "\"}", NULL,
                GANTRY_E_PARSE, "missing 'manifests'");
    expect_ok(MANIFEST, "{\"schemaVersion\":2," MT CFG ",\"layers\":[]}", NULL);
    expect_ok(MANIFEST, "{\"schemaVersion\":2," CFG ",\"layers\":[]}", NULL);
#undef MT
#undef CFG
}

static void expect_size_fail(const char *size, const char *needle)
{
    _cleanup_free_ char *doc = xasprintf("{\"schemaVersion\":2,\"config\":" CONFIG_DESC
                                         ",\"layers\":[{\"mediaType\":\"" GANTRY_MT_OCI_LAYER
                                         "\",\"digest\":\"" DB "\",\"size\":%s}]}",
                                         size);
    expect_fail(MANIFEST, doc, NULL, GANTRY_E_PARSE, needle);
}

/* M4: sizes are integers in 0..2^53. */
static void test_oci__m4_sizes(void **state)
{
    (void)state;
    expect_size_fail("-1", "layers[0]: 'size' must not be negative: -1");
    expect_size_fail("1.5", "'size' must be an integer");
    expect_size_fail("1e3", "'size' must be an integer");
    expect_size_fail("\"10\"", "'size' must be an integer");
    expect_size_fail("null", "'size' must be an integer");
    expect_size_fail("9007199254740993", "above 2^53");
    expect_size_fail("99999999999999999999999", "invalid JSON");
    _cleanup_error_ struct gantry_error *err = NULL;
    const char *doc =
        "{\"schemaVersion\":2,\"config\":" CONFIG_DESC ",\"layers\":[" MAX_LAYER_DESC "]}";
    struct gantry_oci_manifest *m = gantry_oci_manifest_parse(doc, strlen(doc), NULL, &err);
    assert_non_null(m);
    assert_int_equal(m->layers[0].size, GANTRY_OCI_SIZE_MAX);
    gantry_oci_manifest_free(m);
}

static void test_oci__bad_digests(void **state)
{
    (void)state;
    expect_fail(MANIFEST, "{\"schemaVersion\":2,\"config\":" SHORT_DIGEST_DESC ",\"layers\":[]}",
                NULL, GANTRY_E_PARSE, "config: invalid digest length");
    expect_fail(INDEX, "{\"schemaVersion\":2,\"manifests\":[" UPPER_DIGEST_DESC "]}", NULL,
                GANTRY_E_PARSE, "manifests[0]: invalid digest");
    expect_fail(INDEX, "{\"schemaVersion\":2,\"manifests\":[" MD5_DIGEST_DESC "]}", NULL,
                GANTRY_E_PARSE, "unsupported digest algorithm");
    expect_fail(INDEX, "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"x\",\"size\":1}]}",
                NULL, GANTRY_E_PARSE, "missing 'digest'");
    expect_fail(INDEX, "{\"schemaVersion\":2,\"manifests\":[{\"digest\":\"" DA "\",\"size\":1}]}",
                NULL, GANTRY_E_PARSE, "missing 'mediaType'");
}

/* M11: I-JSON rules, plus BOM, trailing bytes and the 4 MiB cap (M8). */
static void test_oci__m11_json_rules(void **state)
{
    (void)state;
    expect_fail(INDEX, "{\"schemaVersion\":2,\"schemaVersion\":2,\"manifests\":[]}", NULL,
                GANTRY_E_PARSE, "duplicate");
    expect_fail(INDEX, "{\"schemaVersion\":2,\"manifests\":[],\"annotations\":{\"a\":\"\xff\"}}",
                NULL, GANTRY_E_PARSE, "invalid JSON");
    expect_fail(INDEX,
                "{\"schemaVersion\":2,\"manifests\":[],\"annotations\":{\"a\":\"\xed\xa0\x80\"}}",
                NULL, GANTRY_E_PARSE, "invalid JSON");
    expect_fail(INDEX, "\xef\xbb\xbf{\"schemaVersion\":2,\"manifests\":[]}", NULL, GANTRY_E_PARSE,
                "byte order mark");
    expect_fail(INDEX, "{\"schemaVersion\":2,\"manifests\":[]} {}", NULL, GANTRY_E_PARSE,
                "invalid JSON");
    expect_fail(INDEX, "{\"schemaVersion\":2,\"manifests\":[],\"a\":\"\\u0000\"}", NULL,
                GANTRY_E_PARSE, "invalid JSON");
    expect_fail_len(INDEX, "{\"schemaVersion\":2,\"manifests\":[]}\0", 36, NULL, GANTRY_E_PARSE,
                    "invalid JSON");
    expect_fail(INDEX, "[]", NULL, GANTRY_E_PARSE, "not an object");
    expect_fail(INDEX, "", NULL, GANTRY_E_PARSE, "invalid JSON");
    expect_fail(CONFIG, "{\"os\":\"linux\",\"os\":\"linux\"}", NULL, GANTRY_E_PARSE, "duplicate");

    /* exactly the cap is fine, one byte more is refused before parsing */
    size_t n = strlen(manifest_doc);
    char *big = xmalloc(GANTRY_MANIFEST_MAX + 2);
    memcpy(big, manifest_doc, n);
    memset(big + n, ' ', GANTRY_MANIFEST_MAX + 1 - n);
    big[GANTRY_MANIFEST_MAX + 1] = '\0';
    _cleanup_error_ struct gantry_error *err = NULL;
    struct gantry_oci_manifest *m = gantry_oci_manifest_parse(big, GANTRY_MANIFEST_MAX, NULL, &err);
    assert_non_null(m);
    assert_int_equal(m->raw_len, GANTRY_MANIFEST_MAX);
    gantry_oci_manifest_free(m);
    expect_fail_len(MANIFEST, big, GANTRY_MANIFEST_MAX + 1, NULL, GANTRY_E_TOO_LARGE,
                    "document too large: 4194305 bytes");
    free(big);
}

static void test_oci__schema1_refused(void **state)
{
    (void)state;
    const char *s1 = "{\"schemaVersion\":1,\"name\":\"x\",\"tag\":\"y\",\"fsLayers\":[]}";
    expect_fail(DETECT, s1, NULL, GANTRY_E_UNSUPPORTED, "docker schema 1");
    expect_fail(MANIFEST, s1, GANTRY_MT_DOCKER_SCHEMA1_SIGNED, GANTRY_E_UNSUPPORTED,
                "unsupported manifest type '" GANTRY_MT_DOCKER_SCHEMA1_SIGNED "'");
    expect_fail(MANIFEST, "{\"schemaVersion\":1,\"mediaType\":\"" GANTRY_MT_DOCKER_SCHEMA1 "\"}",
                NULL, GANTRY_E_UNSUPPORTED, "docker schema 1");
}

static void test_oci__wrong_kind(void **state)
{
    (void)state;
    expect_fail(MANIFEST, index_doc, NULL, GANTRY_E_PARSE, "document is an image index");
    expect_fail(INDEX, manifest_doc, NULL, GANTRY_E_PARSE, "document is an image manifest");
    expect_fail(MANIFEST, "{\"mediaType\":\"application/vnd.example+json\"}", NULL,
                GANTRY_E_UNSUPPORTED, "media type 'application/vnd.example+json' is not");
    expect_fail(MANIFEST, "{\"schemaVersion\":2}", NULL, GANTRY_E_PARSE,
                "document is not an image manifest");
}

/* M10: unknown entry types are kept; M13: urls are kept for the policy above. */
static void test_oci__index_entries(void **state)
{
    (void)state;
    _cleanup_error_ struct gantry_error *err = NULL;
    struct gantry_oci_index *idx = gantry_oci_index_parse(index_doc, strlen(index_doc), NULL, &err);
    assert_non_null(idx);
    assert_int_equal(idx->n_manifests, 4);
    assert_string_equal(idx->manifests[2].media_type, "application/vnd.example.unknown+json");
    assert_null(idx->manifests[2].platform);
    const struct gantry_oci_platform *p = idx->manifests[0].platform;
    assert_string_equal(p->architecture, "arm");
    assert_string_equal(p->variant, "v7");
    assert_null(p->os_version);
    p = idx->manifests[1].platform;
    assert_string_equal(p->os_version, "10.0.17763.1");
    assert_int_equal(p->n_os_features, 1);
    assert_string_equal(p->os_features[0], "win32k");
    assert_null(p->os_features[1]);
    assert_string_equal(p->features[0], "sse4");
    assert_false(gantry_oci_descriptor_is_attestation(&idx->manifests[0]));
    assert_false(gantry_oci_descriptor_is_attestation(&idx->manifests[2]));
    assert_true(gantry_oci_descriptor_is_attestation(&idx->manifests[3]));
    assert_string_equal(gantry_oci_descriptor_annotation(&idx->manifests[3],
                                                         GANTRY_OCI_ANNOTATION_REFERENCE_DIGEST),
                        DA);
    gantry_oci_index_free(idx);

    struct gantry_oci_manifest *m =
        gantry_oci_manifest_parse(manifest_doc, strlen(manifest_doc), NULL, &err);
    assert_non_null(m);
    assert_int_equal(m->layers[1].n_urls, 1);
    assert_string_equal(m->layers[1].urls[0], "https://example.com/layer");
    gantry_oci_manifest_free(m);

    expect_fail(INDEX,
                "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"x\",\"digest\":\"" DA
                "\",\"size\":1,\"platform\":{\"architecture\":\"amd64\"}}]}",
                NULL, GANTRY_E_PARSE, "manifests[0]: platform: missing 'os'");
    expect_fail(INDEX,
                "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"x\",\"digest\":\"" DA
                "\",\"size\":1,\"annotations\":{\"a\":1}}]}",
                NULL, GANTRY_E_PARSE, "value of 'a' must be a string");
}

static void test_oci__raw_bytes_kept(void **state)
{
    (void)state;
    _cleanup_error_ struct gantry_error *err = NULL;
    size_t n = strlen(manifest_doc);
    struct gantry_oci_manifest *m = gantry_oci_manifest_parse(manifest_doc, n, NULL, &err);
    assert_non_null(m);
    assert_int_equal(m->raw_len, n);
    assert_memory_equal(m->raw, manifest_doc, n);
    char want[GANTRY_DIGEST_MAX];
    gantry_digest_bytes(GANTRY_DIGEST_SHA256, manifest_doc, n, want);
    assert_string_equal(m->digest, want);
    assert_string_equal(m->media_type, GANTRY_MT_OCI_MANIFEST);
    assert_string_equal(m->config.digest, DA);
    assert_int_equal(m->config.size, 7023);
    assert_int_equal(m->n_layers, 2);
    assert_int_equal(m->layers[0].size, 32654);
    json_t *tree = gantry_oci_manifest_json(m);
    assert_true(json_is_true(json_object_get(json_object_get(tree, "x-custom"), "keep")));
    gantry_oci_manifest_free(m);
}

static void test_oci__manifest_round_trip(void **state)
{
    (void)state;
    _cleanup_error_ struct gantry_error *err = NULL;
    _cleanup_buf_ struct gantry_buf out = GANTRY_BUF_INIT;
    struct gantry_oci_manifest *a =
        gantry_oci_manifest_parse(manifest_doc, strlen(manifest_doc), NULL, &err);
    assert_non_null(a);
    assert_int_equal(gantry_oci_manifest_to_json(a, &out, &err), 0);
    /* canonical: compact, unknown members kept at both levels */
    assert_null(strchr(out.data, '\n'));
    assert_non_null(strstr(out.data, "\"x-custom\":{\"keep\":true}"));
    assert_non_null(strstr(out.data, "\"x-extra\":[1,2]"));
    struct gantry_oci_manifest *b = gantry_oci_manifest_parse(out.data, out.len, NULL, &err);
    assert_non_null(b);
    assert_string_equal(b->config.digest, a->config.digest);
    assert_int_equal(b->n_layers, a->n_layers);
    for (size_t i = 0; i < a->n_layers; i++) {
        assert_string_equal(b->layers[i].digest, a->layers[i].digest);
        assert_string_equal(b->layers[i].media_type, a->layers[i].media_type);
        assert_int_equal(b->layers[i].size, a->layers[i].size);
    }
    assert_int_equal(b->n_annotations, 1);
    assert_string_equal(b->annotations[0].value, "value");
    /* the second serialization of canonical bytes is identical */
    _cleanup_buf_ struct gantry_buf again = GANTRY_BUF_INIT;
    assert_int_equal(gantry_oci_manifest_to_json(b, &again, &err), 0);
    assert_string_equal(again.data, out.data);
    assert_string_equal(a->raw, manifest_doc); /* to_json leaves raw alone */
    gantry_oci_manifest_free(a);
    gantry_oci_manifest_free(b);
}

static void test_oci__index_round_trip(void **state)
{
    (void)state;
    _cleanup_error_ struct gantry_error *err = NULL;
    _cleanup_buf_ struct gantry_buf out = GANTRY_BUF_INIT;
    struct gantry_oci_index *a = gantry_oci_index_parse(index_doc, strlen(index_doc), NULL, &err);
    assert_non_null(a);
    assert_int_equal(gantry_oci_index_to_json(a, &out, &err), 0);
    struct gantry_oci_index *b = gantry_oci_index_parse(out.data, out.len, NULL, &err);
    assert_non_null(b);
    assert_int_equal(b->n_manifests, a->n_manifests);
    for (size_t i = 0; i < a->n_manifests; i++) {
        assert_string_equal(b->manifests[i].digest, a->manifests[i].digest);
        assert_int_equal(b->manifests[i].n_annotations, a->manifests[i].n_annotations);
        assert_int_equal(!!b->manifests[i].platform, !!a->manifests[i].platform);
    }
    assert_string_equal(b->manifests[1].platform->os_features[0], "win32k");
    assert_string_equal(b->manifests[1].platform->os_version, "10.0.17763.1");
    assert_true(gantry_oci_descriptor_is_attestation(&b->manifests[3]));
    assert_string_equal(b->annotations[0].key, GANTRY_OCI_ANNOTATION_CREATED);
    gantry_oci_index_free(a);
    gantry_oci_index_free(b);
}

static void test_oci__config_round_trip(void **state)
{
    (void)state;
    _cleanup_error_ struct gantry_error *err = NULL;
    struct gantry_oci_config *c = gantry_oci_config_parse(config_doc, strlen(config_doc), &err);
    if (!c)
        fail_msg("%s", err->message);
    assert_string_equal(c->architecture, "arm64");
    assert_string_equal(c->variant, "v8");
    assert_string_equal(c->config.user, "www");
    assert_int_equal(c->config.n_env, 2);
    assert_string_equal(c->config.env[1], "A=b=c");
    assert_null(c->config.entrypoint); /* null is absent */
    assert_int_equal(c->config.n_cmd, 1);
    assert_string_equal(c->config.exposed_ports[0], "80/tcp");
    assert_string_equal(c->config.volumes[0], "/data");
    assert_string_equal(c->config.labels[0].value, "v1");
    assert_string_equal(c->config.stop_signal, "SIGWINCH");
    assert_int_equal(c->n_diff_ids, 2);
    assert_int_equal(c->n_history, 3);
    assert_true(c->history[1].empty_layer);
    assert_false(c->history[0].empty_layer);
    json_t *hc =
        json_object_get(json_object_get(gantry_oci_config_json(c), "config"), "Healthcheck");
    assert_true(json_is_object(hc));

    /* edit, serialize, parse again: edits land, unknown members stay */
    c->config.entrypoint = xcalloc(1, sizeof(char *)); /* [] */
    free(c->config.working_dir);
    c->config.working_dir = NULL;
    assert_int_equal(gantry_oci_config_serialize(c, &err), 0);
    assert_non_null(strstr(c->raw, "\"Entrypoint\":[]"));
    assert_null(strstr(c->raw, "WorkingDir"));
    assert_non_null(strstr(c->raw, "\"Healthcheck\":{\"Test\":[\"CMD\",\"true\"]}"));
    assert_non_null(strstr(c->raw, "\"docker_version\":\"20.10\""));
    struct gantry_oci_config *d = gantry_oci_config_parse(c->raw, c->raw_len, &err);
    assert_non_null(d);
    assert_non_null(d->config.entrypoint);
    assert_int_equal(d->config.n_entrypoint, 0);
    assert_int_equal(d->n_history, 3);
    assert_string_equal(d->history[2].comment, "c");
    assert_string_equal(d->diff_ids[1], DB);
    char want[GANTRY_DIGEST_MAX];
    gantry_digest_bytes(GANTRY_DIGEST_SHA256, c->raw, c->raw_len, want);
    assert_string_equal(c->digest, want);
    gantry_oci_config_free(c);
    gantry_oci_config_free(d);
}

static void test_oci__config_errors(void **state)
{
    (void)state;
#define ROOTFS "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}"
    expect_ok(CONFIG, "{\"os\":\"linux\",\"architecture\":\"amd64\"," ROOTFS "}", NULL);
    expect_fail(CONFIG, "{\"architecture\":\"amd64\"," ROOTFS "}", NULL, GANTRY_E_PARSE,
                "missing 'os'");
    expect_fail(CONFIG, "{\"os\":\"linux\",\"architecture\":\"amd64\"}", NULL, GANTRY_E_PARSE,
                "missing 'rootfs'");
    expect_fail(CONFIG, "{\"os\":\"linux\",\"architecture\":\"amd64\",\"rootfs\":{}}", NULL,
                GANTRY_E_PARSE, "missing 'diff_ids'");
    expect_fail(CONFIG,
                "{\"os\":\"linux\",\"architecture\":\"amd64\","
                "\"rootfs\":{\"diff_ids\":[\"sha256:1\"]}}",
                NULL, GANTRY_E_PARSE, "rootfs: diff_ids[0]: invalid digest length");
    expect_fail(CONFIG,
                "{\"os\":\"linux\",\"architecture\":\"amd64\"," ROOTFS
                ",\"config\":{\"Env\":\"A=b\"}}",
                NULL, GANTRY_E_PARSE, "config: 'Env' must be an array of strings");
    expect_fail(CONFIG,
                "{\"os\":\"linux\",\"architecture\":\"amd64\"," ROOTFS
                ",\"config\":{\"Cmd\":[\"a\",1]}}",
                NULL, GANTRY_E_PARSE, "'Cmd[1]' must be a string");
    expect_fail(CONFIG,
                "{\"os\":\"linux\",\"architecture\":\"amd64\"," ROOTFS
                ",\"history\":[{\"empty_layer\":\"yes\"}]}",
                NULL, GANTRY_E_PARSE, "history[0]: 'empty_layer' must be a boolean");
    expect_fail(CONFIG,
                "{\"os\":\"linux\",\"architecture\":\"amd64\"," ROOTFS
                ",\"history\":[{\"created_by\":\"x\",\"comment\":7}]}",
                NULL, GANTRY_E_PARSE, "history[0]: 'comment' must be a string");
#undef ROOTFS
}

static void test_oci__canonical_build(void **state)
{
    (void)state;
    _cleanup_error_ struct gantry_error *err = NULL;
    struct gantry_oci_descriptor cfg = GANTRY_OCI_DESCRIPTOR_INIT;
    struct gantry_oci_descriptor layer = GANTRY_OCI_DESCRIPTOR_INIT;
    gantry_oci_descriptor_init(&cfg, GANTRY_MT_OCI_CONFIG, DA, 2);
    gantry_oci_descriptor_init(&layer, GANTRY_MT_OCI_LAYER_GZIP, DB, 3);
    struct gantry_oci_manifest *m = gantry_oci_manifest_build(NULL, &cfg, &layer, 1, &err);
    assert_non_null(m);
    const char *want =
        "{\"config\":{\"digest\":\"" DA "\",\"mediaType\":\"" GANTRY_MT_OCI_CONFIG
        "\",\"size\":2},\"layers\":[{\"digest\":\"" DB
        "\",\"mediaType\":\"" GANTRY_MT_OCI_LAYER_GZIP
        "\",\"size\":3}],\"mediaType\":\"" GANTRY_MT_OCI_MANIFEST "\",\"schemaVersion\":2}";
    assert_string_equal(m->raw, want);
    char digest[GANTRY_DIGEST_MAX];
    gantry_digest_bytes(GANTRY_DIGEST_SHA256, want, strlen(want), digest);
    assert_string_equal(m->digest, digest);
    /* same input, same bytes */
    struct gantry_oci_manifest *m2 = gantry_oci_manifest_build(NULL, &cfg, &layer, 1, &err);
    assert_non_null(m2);
    assert_string_equal(m2->raw, m->raw);
    gantry_oci_manifest_free(m2);

    /* invalid fields are refused, not written */
    layer.size = -5;
    assert_null(gantry_oci_manifest_build(NULL, &cfg, &layer, 1, &err));
    assert_int_equal(err->code, GANTRY_E_INVALID_ARG);
    assert_non_null(strstr(err->message, "'size' must not be negative"));
    gantry_oci_descriptor_release(&cfg);
    gantry_oci_descriptor_release(&layer);
    gantry_oci_manifest_free(m);
}

static void test_oci__index_add_remove(void **state)
{
    (void)state;
    _cleanup_error_ struct gantry_error *err = NULL;
    struct gantry_oci_descriptor d[3] = {GANTRY_OCI_DESCRIPTOR_INIT, GANTRY_OCI_DESCRIPTOR_INIT,
                                         GANTRY_OCI_DESCRIPTOR_INIT};
    gantry_oci_descriptor_init(&d[0], GANTRY_MT_OCI_MANIFEST, DA, 10);
    gantry_oci_descriptor_init(&d[1], GANTRY_MT_OCI_MANIFEST, DB, 11);
    gantry_oci_descriptor_init(&d[2], GANTRY_MT_OCI_MANIFEST, DC, 12);
    d[0].platform = xcalloc(1, sizeof(*d[0].platform));
    d[0].platform->os = xstrdup("linux");
    d[0].platform->architecture = xstrdup("amd64");
    gantry_oci_descriptor_set_annotation(&d[1], "k", "v1");
    gantry_oci_descriptor_set_annotation(&d[1], "k", "v2");
    gantry_oci_descriptor_set_annotation(&d[1], "gone", "x");
    gantry_oci_descriptor_set_annotation(&d[1], "gone", NULL);
    assert_int_equal(d[1].n_annotations, 1);
    struct gantry_oci_index *idx = gantry_oci_index_build(NULL, d, 2, &err);
    assert_non_null(idx);
    char first[GANTRY_DIGEST_MAX];
    memcpy(first, idx->digest, sizeof(first));
    gantry_oci_index_remove(idx, 0);
    gantry_oci_index_add(idx, &d[2]);
    assert_int_equal(gantry_oci_index_serialize(idx, &err), 0);
    assert_string_not_equal(idx->digest, first);
    assert_int_equal(idx->n_manifests, 2);
    assert_string_equal(idx->manifests[0].digest, DB);
    assert_string_equal(gantry_oci_descriptor_annotation(&idx->manifests[0], "k"), "v2");
    assert_string_equal(idx->manifests[1].digest, DC);
    assert_null(strstr(idx->raw, DA));
    assert_non_null(strstr(idx->raw, "\"annotations\":{\"k\":\"v2\"}"));
    /* a platform without os is refused at serialization */
    free(d[0].platform->os);
    d[0].platform->os = NULL;
    gantry_oci_index_add(idx, &d[0]);
    assert_int_equal(gantry_oci_index_serialize(idx, &err), -1);
    assert_int_equal(err->code, GANTRY_E_INVALID_ARG);
    assert_int_equal(idx->n_manifests, 3); /* fields untouched, raw still the old one */
    assert_null(strstr(idx->raw, DA));
    for (size_t i = 0; i < 3; i++)
        gantry_oci_descriptor_release(&d[i]);
    gantry_oci_index_free(idx);
}

static void test_oci__descriptor_json(void **state)
{
    (void)state;
    _cleanup_error_ struct gantry_error *err = NULL;
    const char *doc = "{ \"size\": 5, \"digest\": \"" DA "\", \"mediaType\": \"x/y\","
                      " \"x-unknown\": \"kept\", \"artifactType\": \"a/b\" }";
    struct gantry_oci_descriptor d = GANTRY_OCI_DESCRIPTOR_INIT;
    assert_int_equal(gantry_oci_descriptor_parse(doc, strlen(doc), &d, &err), 0);
    _cleanup_buf_ struct gantry_buf out = GANTRY_BUF_INIT;
    assert_int_equal(gantry_oci_descriptor_to_json(&d, &out, &err), 0);
    assert_string_equal(out.data, "{\"artifactType\":\"a/b\",\"digest\":\"" DA "\","
                                  "\"mediaType\":\"x/y\",\"size\":5,\"x-unknown\":\"kept\"}");
    struct gantry_oci_descriptor copy;
    gantry_oci_descriptor_copy(&copy, &d);
    gantry_oci_descriptor_release(&d);
    gantry_buf_reset(&out);
    assert_int_equal(gantry_oci_descriptor_to_json(&copy, &out, &err), 0);
    assert_non_null(strstr(out.data, "\"x-unknown\":\"kept\""));
    /* invalid UTF-8 in a model string is refused, not emitted */
    gantry_oci_descriptor_set_annotation(&copy, "bad", "\xc3\x28");
    gantry_buf_reset(&out);
    assert_int_equal(gantry_oci_descriptor_to_json(&copy, &out, &err), -1);
    assert_int_equal(err->code, GANTRY_E_INVALID_ARG);
    assert_non_null(strstr(err->message, "'bad' is not valid UTF-8"));
    assert_int_equal(out.len, 0);
    gantry_oci_descriptor_release(&copy);
    gantry_oci_descriptor_release(NULL);
    assert_int_equal(gantry_oci_descriptor_parse("{\"size\":1}", 10, &d, &err), -1);
    assert_null(d.media_type);
    /* found by fuzz_oci: an empty media type parsed but could not be written */
    static const char empty_mt[] = "{\"mediaType\":\"\",\"digest\":\"" DA "\",\"size\":0}";
    assert_int_equal(gantry_oci_descriptor_parse(empty_mt, strlen(empty_mt), &d, &err), -1);
    assert_non_null(strstr(err->message, "empty 'mediaType'"));
    assert_null(d.media_type);
}

static void test_oci__config_build(void **state)
{
    (void)state;
    _cleanup_error_ struct gantry_error *err = NULL;
    struct gantry_oci_config *c = gantry_oci_config_new("linux", "arm", "v7");
    struct gantry_oci_history_spec h = {.created_by = "COPY . /app", .empty_layer = true};
    gantry_oci_config_add_layer(c, DA, &h);
    struct gantry_oci_history_spec e = {.created_by = "ENV X=1", .empty_layer = true};
    gantry_oci_config_add_history(c, &e);
    assert_int_equal(gantry_oci_config_serialize(c, &err), 0);
    const char *want = "{\"architecture\":\"arm\",\"config\":{},\"history\":[{\"created_by\":"
                       "\"COPY . /app\"},{\"created_by\":\"ENV X=1\",\"empty_layer\":true}],"
                       "\"os\":\"linux\",\"rootfs\":{\"diff_ids\":[\"" DA "\"],\"type\":"
                       "\"layers\"},\"variant\":\"v7\"}";
    assert_string_equal(c->raw, want);
    gantry_oci_config_add_layer(c, "sha256:nothex", NULL);
    assert_int_equal(gantry_oci_config_serialize(c, &err), -1);
    assert_int_equal(err->code, GANTRY_E_INVALID_ARG);
    assert_string_equal(c->raw, want);
    gantry_oci_config_free(c);
}

static void test_oci__layout_check(void **state)
{
    (void)state;
    _cleanup_error_ struct gantry_error *err = NULL;
    const char *ok = "{\"imageLayoutVersion\": \"1.0.0\"}";
    assert_int_equal(gantry_oci_layout_check(ok, strlen(ok), &err), 0);
    const char *cases[][2] = {
        {"{}", "missing 'imageLayoutVersion'"},
        {"{\"imageLayoutVersion\":1}", "must be a string"},
        {"{\"imageLayoutVersion\":\"2.0.0\"}", "unsupported image layout version '2.0.0'"},
        {"", "invalid oci-layout: invalid JSON"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        gantry_error_free(err);
        err = NULL;
        assert_int_equal(gantry_oci_layout_check(cases[i][0], strlen(cases[i][0]), &err), -1);
        if (!strstr(err->message, cases[i][1]))
            fail_msg("'%s': got '%s'", cases[i][0], err->message);
    }
}

/* Docker archive manifest.json: the members used, others skipped at any depth. */
static void test_oci__docker_archive_manifest_parse(void **state)
{
    (void)state;
    const char *doc = "[{\"Config\":\"abc.json\",\"RepoTags\":[\"demo/busybox:arm64\",\"x:1\"],"
                      "\"Layers\":[\"l1/layer.tar\",\"l2/layer.tar\"],"
                      "\"LayerSources\":{\"sha256:1\":{\"size\":[1,-2.5e3,true,null,[[[{}]]]]}},"
                      "\"Parent\":\"\"},\n"
                      " { \"RepoTags\" : null , \"Layers\" : [ ] , \"Config\" : "
                      "\"c\\u00e9\\n\\ud83d\\ude00.json\" }]";
    struct gantry_oci_docker_archive_image *m = NULL;
    size_t n = 0;
    assert_int_equal(gantry_oci_docker_archive_manifest_parse(doc, strlen(doc), &m, &n, NULL), 0);
    assert_int_equal(n, 2);
    assert_string_equal(m[0].config, "abc.json");
    assert_int_equal(m[0].n_repo_tags, 2);
    assert_string_equal(m[0].repo_tags[0], "demo/busybox:arm64");
    assert_string_equal(m[0].repo_tags[1], "x:1");
    assert_null(m[0].repo_tags[2]);
    assert_int_equal(m[0].n_layers, 2);
    assert_string_equal(m[0].layers[1], "l2/layer.tar");
    assert_null(m[0].layers[2]);
    /* \u escapes, a surrogate pair joined into one 4-byte UTF-8 sequence */
    assert_string_equal(m[1].config, "c\xc3\xa9\n\xf0\x9f\x98\x80.json");
    assert_int_equal(m[1].n_repo_tags, 0);
    assert_null(m[1].repo_tags);
    assert_int_equal(m[1].n_layers, 0);
    assert_null(m[1].layers);
    gantry_oci_docker_archive_manifest_free(m, n);

    assert_int_equal(gantry_oci_docker_archive_manifest_parse(" [ ] ", 5, &m, &n, NULL), 0);
    assert_null(m);
    assert_int_equal(n, 0);
    gantry_oci_docker_archive_manifest_free(NULL, 0);
}

static void test_oci__docker_archive_manifest_round_trip(void **state)
{
    (void)state;
    char tag[] = "a/b:1", cfg[] = "cfg.json", cfg2[] = "\xc3\xa9.json", l0[] = "x/layer.tar";
    char l1[] = "quote\"back\\slash\x01/\n";
    char *tags[] = {tag, NULL};
    char *layers[] = {l0, l1, NULL};
    struct gantry_oci_docker_archive_image imgs[] = {{cfg, tags, 1, layers, 2},
                                                     {cfg2, NULL, 0, NULL, 0}};
    _cleanup_buf_ struct gantry_buf out = GANTRY_BUF_INIT;
    assert_int_equal(gantry_oci_docker_archive_manifest_to_json(imgs, 2, &out, NULL), 0);
    /* Docker's member order, not sorted; absent arrays written as [] */
    assert_string_equal(out.data,
                        "[{\"Config\":\"cfg.json\",\"RepoTags\":[\"a/b:1\"],"
                        "\"Layers\":[\"x/layer.tar\",\"quote\\\"back\\\\slash\\u0001/\\n\"]},"
                        "{\"Config\":\"\xc3\xa9.json\",\"RepoTags\":[],\"Layers\":[]}]");
    struct gantry_oci_docker_archive_image *back = NULL;
    size_t n = 0;
    assert_int_equal(gantry_oci_docker_archive_manifest_parse(out.data, out.len, &back, &n, NULL),
                     0);
    assert_int_equal(n, 2);
    assert_string_equal(back[0].layers[1], l1);
    assert_string_equal(back[0].repo_tags[0], tag);
    assert_string_equal(back[1].config, cfg2);
    /* the same images give the same bytes */
    _cleanup_buf_ struct gantry_buf again = GANTRY_BUF_INIT;
    assert_int_equal(gantry_oci_docker_archive_manifest_to_json(back, n, &again, NULL), 0);
    assert_string_equal(again.data, out.data);
    gantry_oci_docker_archive_manifest_free(back, n);

    _cleanup_buf_ struct gantry_buf none = GANTRY_BUF_INIT;
    assert_int_equal(gantry_oci_docker_archive_manifest_to_json(NULL, 0, &none, NULL), 0);
    assert_string_equal(none.data, "[]");
}

static void expect_bad_docker_manifest(const char *doc, size_t len, enum gantry_error_code code,
                                       const char *needle)
{
    _cleanup_error_ struct gantry_error *err = NULL;
    struct gantry_oci_docker_archive_image dummy = {0}, *m = &dummy; /* must be reset */
    size_t n = 99;
    assert_int_equal(gantry_oci_docker_archive_manifest_parse(doc, len, &m, &n, &err), -1);
    assert_non_null(err);
    if (err->code != code || !strstr(err->message, needle) ||
        !str_has_prefix(err->message, "invalid manifest.json: "))
        fail_msg("'%.60s': got code %d '%s', want code %d with '%s'", doc, err->code, err->message,
                 code, needle);
    assert_null(m);
    assert_int_equal(n, 0);
}

static void expect_bad_docker(const char *doc, const char *needle)
{
    expect_bad_docker_manifest(doc, strlen(doc), GANTRY_E_PARSE, needle);
}

static void test_oci__docker_archive_manifest_bad(void **state)
{
    (void)state;
    expect_bad_docker("", "invalid JSON at line 1");
    expect_bad_docker("{}", "not an array of images");
    expect_bad_docker("[1]", "image 0 is not an object");
    expect_bad_docker("[{\"Config\":\"a\"},{\"Layers\":[]}]", "image 1: missing 'Config'");
    expect_bad_docker("[{\"Config\":null}]", "image 0: missing 'Config'");
    expect_bad_docker("[{\"Config\":1}]", "image 0: 'Config' must be a string");
    expect_bad_docker("[{\"Config\":\"a\",\"RepoTags\":\"a:1\"}]",
                      "image 0: 'RepoTags' must be an array of strings");
    expect_bad_docker("[{\"Config\":\"a\",\"Layers\":[\"x\",1]}]",
                      "image 0: 'Layers[1]' must be a string");
    /* the JSON rules are jansson's, with its messages */
    expect_bad_docker("[{\"Config\":\"a\",\"Config\":\"b\"}]", "duplicate object key");
    expect_bad_docker("[{\"Config\":\"a\"}] x", "end of file expected");
    expect_bad_docker("[{\"Config\":\"a\"}", "']' expected");
    expect_bad_docker("[{\"Config\":\"a\",\"X\":tru}]", "invalid token");
    expect_bad_docker("[{\"Config\":\"a\\u0000\"}]", "\\u0000 is not allowed");
    expect_bad_docker_manifest("[{\"Config\":\"a\0\"}]", 17, GANTRY_E_PARSE,
                               "control character 0x0");
    expect_bad_docker("[{\"Config\":\"a\\ud800\"}]", "invalid Unicode '\\uD800'");
    expect_bad_docker("[{\"Config\":\"a\\udc00\"}]", "invalid Unicode '\\uDC00'");
    expect_bad_docker("[{\"Config\":\"a\\ud800\\u0041\"}]", "invalid Unicode");
    expect_bad_docker("[{\"Config\":\"a\\x\"}]", "invalid escape");
    expect_bad_docker("[{\"Config\":\"a\tb\"}]", "control character 0x9");
    expect_bad_docker("[{\"Config\":\"\xff\"}]", "unable to decode byte 0xff");
    expect_bad_docker("\xef\xbb\xbf[]", "byte order mark");

    /* nesting: jansson stops at JSON_PARSER_MAX_DEPTH, deep but legal values pass */
    char deep[3001];
    memset(deep, '[', sizeof(deep) - 1);
    deep[sizeof(deep) - 1] = '\0';
    _cleanup_free_ char *doc = xasprintf("[{\"Config\":\"a\",\"X\":%s}]", deep);
    expect_bad_docker(doc, "maximum parsing depth reached");
    memset(deep, '[', 1000);
    memset(deep + 1000, ']', 1000);
    deep[2000] = '\0';
    _cleanup_free_ char *ok = xasprintf("[{\"Config\":\"a\",\"X\":%s}]", deep);
    struct gantry_oci_docker_archive_image *m = NULL;
    size_t n = 0;
    assert_int_equal(gantry_oci_docker_archive_manifest_parse(ok, strlen(ok), &m, &n, NULL), 0);
    assert_int_equal(n, 1);
    gantry_oci_docker_archive_manifest_free(m, n);

    /* the 4 MiB cap, before parsing */
    char *big = xmalloc(GANTRY_MANIFEST_MAX + 1);
    memset(big, ' ', GANTRY_MANIFEST_MAX + 1);
    big[0] = '[';
    big[GANTRY_MANIFEST_MAX - 1] = ']';
    assert_int_equal(
        gantry_oci_docker_archive_manifest_parse(big, GANTRY_MANIFEST_MAX, &m, &n, NULL), 0);
    expect_bad_docker_manifest(big, GANTRY_MANIFEST_MAX + 1, GANTRY_E_TOO_LARGE,
                               "document too large: 4194305 bytes");
    free(big);
}

static void test_oci__docker_archive_manifest_to_json_errors(void **state)
{
    (void)state;
    _cleanup_error_ struct gantry_error *err = NULL;
    _cleanup_buf_ struct gantry_buf out = GANTRY_BUF_INIT;
    char bad[] = "l\xff/layer.tar", cfg[] = "c.json";
    char *layers[] = {bad, NULL};
    struct gantry_oci_docker_archive_image imgs[] = {{cfg, NULL, 0, layers, 1},
                                                     {NULL, NULL, 0, NULL, 0}};
    assert_int_equal(gantry_oci_docker_archive_manifest_to_json(&imgs[1], 1, &out, &err), -1);
    assert_int_equal(err->code, GANTRY_E_INVALID_ARG);
    assert_string_equal(err->message, "image 0 has no config");
    gantry_error_free(steal_pointer(&err));
    assert_int_equal(gantry_oci_docker_archive_manifest_to_json(imgs, 1, &out, &err), -1);
    assert_int_equal(err->code, GANTRY_E_INVALID_ARG);
    assert_string_equal(err->message, "manifest.json: 'Layers' is not valid UTF-8");
    assert_int_equal(out.len, 0);
    gantry_error_free(steal_pointer(&err));
    /* a capped buffer: too large, and left as it was */
    _cleanup_buf_ struct gantry_buf small = GANTRY_BUF_INIT_CAP(12);
    assert_int_equal(gantry_buf_addstr(&small, "x"), 0);
    bad[1] = 'a';
    assert_int_equal(gantry_oci_docker_archive_manifest_to_json(imgs, 1, &small, &err), -1);
    assert_int_equal(err->code, GANTRY_E_TOO_LARGE);
    assert_string_equal(small.data, "x");
}

static void test_oci__docker_repositories_json(void **state)
{
    (void)state;
    const struct gantry_oci_docker_repo_tag tags[] = {
        {"x", "1", "bbb"}, {"demo/busybox", "arm64", "aaa"}, {"demo/busybox", "7", "aaa"},
        {"x", "1", "ccc"}, {"q\"uote", "t", "\xc3\xa9"},
    };
    _cleanup_buf_ struct gantry_buf out = GANTRY_BUF_INIT;
    assert_int_equal(gantry_oci_docker_repositories_to_json(tags, ARRAY_SIZE(tags), &out, NULL), 0);
    /* keys sorted; a repo and tag given twice keeps the last layer */
    assert_string_equal(out.data, "{\"demo/busybox\":{\"7\":\"aaa\",\"arm64\":\"aaa\"},"
                                  "\"q\\\"uote\":{\"t\":\"\xc3\xa9\"},\"x\":{\"1\":\"ccc\"}}");
    _cleanup_buf_ struct gantry_buf empty = GANTRY_BUF_INIT;
    assert_int_equal(gantry_oci_docker_repositories_to_json(NULL, 0, &empty, NULL), 0);
    assert_string_equal(empty.data, "{}");

    _cleanup_error_ struct gantry_error *err = NULL;
    const struct gantry_oci_docker_repo_tag no_tag[] = {{"x", NULL, "a"}};
    assert_int_equal(gantry_oci_docker_repositories_to_json(no_tag, 1, &out, &err), -1);
    assert_int_equal(err->code, GANTRY_E_INVALID_ARG);
    assert_non_null(strstr(err->message, "repositories entry 0 lacks"));
    gantry_error_free(steal_pointer(&err));
    const struct gantry_oci_docker_repo_tag bad[] = {{"r\xff", "t", "a"}, {"r\xff", "u", "b"}};
    assert_int_equal(gantry_oci_docker_repositories_to_json(bad, 2, &empty, &err), -1);
    assert_int_equal(err->code, GANTRY_E_INVALID_ARG);
    assert_non_null(strstr(err->message, "is not valid UTF-8"));
    assert_string_equal(empty.data, "{}");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_oci__media_types),
        cmocka_unit_test(test_oci__detect),
        cmocka_unit_test(test_oci__m1_media_type_mismatch),
        cmocka_unit_test(test_oci__m2_ambiguous),
        cmocka_unit_test(test_oci__m3_required_members),
        cmocka_unit_test(test_oci__m4_sizes),
        cmocka_unit_test(test_oci__bad_digests),
        cmocka_unit_test(test_oci__m11_json_rules),
        cmocka_unit_test(test_oci__schema1_refused),
        cmocka_unit_test(test_oci__wrong_kind),
        cmocka_unit_test(test_oci__index_entries),
        cmocka_unit_test(test_oci__raw_bytes_kept),
        cmocka_unit_test(test_oci__manifest_round_trip),
        cmocka_unit_test(test_oci__index_round_trip),
        cmocka_unit_test(test_oci__config_round_trip),
        cmocka_unit_test(test_oci__config_errors),
        cmocka_unit_test(test_oci__canonical_build),
        cmocka_unit_test(test_oci__index_add_remove),
        cmocka_unit_test(test_oci__descriptor_json),
        cmocka_unit_test(test_oci__config_build),
        cmocka_unit_test(test_oci__layout_check),
        cmocka_unit_test(test_oci__docker_archive_manifest_parse),
        cmocka_unit_test(test_oci__docker_archive_manifest_round_trip),
        cmocka_unit_test(test_oci__docker_archive_manifest_bad),
        cmocka_unit_test(test_oci__docker_archive_manifest_to_json_errors),
        cmocka_unit_test(test_oci__docker_repositories_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
