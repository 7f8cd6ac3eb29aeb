/*
 * Unit tests for manifest: the pure logic (os/arch pairs, duplicate
 * detection, annotate, matching entries), then create, add, remove,
 * annotate, delete and inspect over a real store in a temporary directory.
 */
#include <gantry/image.h>
#include <gantry/manifest.h>

#include "manifest/manifest_internal.h"
#include "unit_helpers.h"

/* Takes the error by address, as must() does. */
static void expect_error(int rc, struct gantry_error **err, enum gantry_error_code code,
                         const char *needle)
{
    assert_int_equal(rc, -1);
    assert_non_null(*err);
    if ((*err)->code != code || !strstr((*err)->message, needle))
        fail_msg("error '%s' (code %d): want code %d and '%s'", (*err)->message, (*err)->code, code,
                 needle);
    gantry_error_free(*err);
    *err = NULL;
}

/* A descriptor with a digest made of the repeated hex digit c. */
static void fake_entry(struct gantry_oci_descriptor *d, char c, const char *os, const char *arch,
                       const char *variant)
{
    char digest[GANTRY_DIGEST_MAX] = "sha256:";
    memset(digest + 7, c, 64);
    digest[71] = '\0';
    gantry_oci_descriptor_init(d, GANTRY_MT_OCI_MANIFEST, digest, 500);
    if (os)
        set_platform(d, os, arch, variant);
}

static void release_all(struct gantry_oci_descriptor *d, size_t n)
{
    for (size_t i = 0; i < n; i++)
        gantry_oci_descriptor_release(&d[i]);
}

/* ---- pure logic ---- */

static void test_manifest__os_arch_pairs(void **state)
{
    (void)state;
    assert_true(gantry_manifest_os_arch_valid("linux", "arm64"));
    assert_true(gantry_manifest_os_arch_valid("linux", "s390x"));
    assert_true(gantry_manifest_os_arch_valid("windows", "amd64"));
    assert_true(gantry_manifest_os_arch_valid("windows", "arm64"));
    assert_true(gantry_manifest_os_arch_valid("darwin", "386")); /* docker's list */
    assert_true(gantry_manifest_os_arch_valid("linux", "riscv64"));
    assert_false(gantry_manifest_os_arch_valid("linux", "sparc"));
    assert_false(gantry_manifest_os_arch_valid("windows", "s390x"));
    assert_false(gantry_manifest_os_arch_valid("linux", "aarch64")); /* not normalized */
    assert_false(gantry_manifest_os_arch_valid("Linux", "amd64"));
    assert_false(gantry_manifest_os_arch_valid("plan9", "arm64"));
    assert_false(gantry_manifest_os_arch_valid(NULL, "amd64"));
}

static void test_manifest__duplicates(void **state)
{
    (void)state;
    struct gantry_oci_descriptor d[6] = {0};
    fake_entry(&d[0], 'a', "linux", "amd64", NULL);
    fake_entry(&d[1], 'b', "linux", "arm", "v7");
    fake_entry(&d[2], 'c', "unknown", "unknown", NULL);
    gantry_oci_descriptor_set_annotation(&d[2], GANTRY_OCI_ANNOTATION_REFERENCE_TYPE,
                                         "attestation-manifest");
    fake_entry(&d[3], 'd', "unknown", "unknown", NULL);
    gantry_oci_descriptor_set_annotation(&d[3], GANTRY_OCI_ANNOTATION_REFERENCE_TYPE,
                                         "attestation-manifest");
    fake_entry(&d[4], 'e', NULL, NULL, NULL); /* no platform: never a duplicate */
    fake_entry(&d[5], 'f', NULL, NULL, NULL);
    must(gantry_manifest_check_duplicates(d, 6, 0, NULL), NULL);

    /* Normalization: x86_64 is amd64, arm is arm/v7. */
    set_platform(&d[5], "linux", "x86_64", NULL);
    struct gantry_error *err = NULL;
    expect_error(gantry_manifest_check_duplicates(d, 6, 0, &err), &err, GANTRY_E_INVALID_ARG,
                 "duplicate platform 'linux/amd64': sha256:aaaa");
    set_platform(&d[5], "linux", "ARM", NULL);
    err = NULL;
    expect_error(gantry_manifest_check_duplicates(d, 6, 5, &err), &err, GANTRY_E_INVALID_ARG,
                 "duplicate platform 'linux/arm/v7'");
    assert_int_equal(manifest_check_duplicate_of(d, 6, 1, NULL), -1);
    assert_int_equal(manifest_check_duplicate_of(d, 6, 0, NULL), 0);

    /* Pairs wholly before first_new are not re-checked. */
    must(gantry_manifest_check_duplicates(d, 6, 6, NULL), NULL);

    /* Other variants, OS features or OS versions are other platforms. */
    set_platform(&d[5], "linux", "arm", "v6");
    must(gantry_manifest_check_duplicates(d, 6, 0, NULL), NULL);
    set_platform(&d[5], "linux", "amd64", NULL);
    d[5].platform->os_features = xcalloc(2, sizeof(char *));
    d[5].platform->os_features[0] = xstrdup("gpu");
    d[5].platform->n_os_features = 1;
    must(gantry_manifest_check_duplicates(d, 6, 0, NULL), NULL);
    release_all(d, 6);
}

static void annotate_ok(struct gantry_oci_descriptor *d, const struct gantry_manifest_annotation *a)
{
    struct gantry_error *err = NULL;
    must(gantry_manifest_annotate_entry(d, a, &err), &err);
}

static void assert_platform(const struct gantry_oci_descriptor *d, const char *os, const char *arch,
                            const char *variant)
{
    assert_non_null(d->platform);
    assert_string_equal(d->platform->os, os);
    assert_string_equal(d->platform->architecture, arch);
    if (variant)
        assert_string_equal(d->platform->variant, variant);
    else
        assert_null(d->platform->variant);
}

static void test_manifest__annotate_platform(void **state)
{
    (void)state;
    struct gantry_oci_descriptor d = GANTRY_OCI_DESCRIPTOR_INIT;
    fake_entry(&d, 'a', "linux", "arm", "v6");
    /* A new architecture is normalized and drops the old variant. */
    annotate_ok(&d, &(struct gantry_manifest_annotation){.architecture = "aarch64"});
    assert_platform(&d, "linux", "arm64", NULL);
    annotate_ok(&d, &(struct gantry_manifest_annotation){.architecture = "armhf"});
    assert_platform(&d, "linux", "arm", "v7");
    annotate_ok(&d, &(struct gantry_manifest_annotation){.variant = "v5"});
    assert_platform(&d, "linux", "arm", "v5");
    annotate_ok(&d,
                &(struct gantry_manifest_annotation){.os = "Windows", .architecture = "x86_64"});
    assert_platform(&d, "windows", "amd64", NULL);
    annotate_ok(&d, &(struct gantry_manifest_annotation){.os_version = "10.0.17763.1"});
    assert_string_equal(d.platform->os_version, "10.0.17763.1");
    annotate_ok(&d, &(struct gantry_manifest_annotation){.os_version = ""});
    assert_null(d.platform->os_version);
    assert_platform(&d, "windows", "amd64", NULL);
    gantry_oci_descriptor_release(&d);
}

static void test_manifest__annotate_features_annotations(void **state)
{
    (void)state;
    struct gantry_oci_descriptor d = GANTRY_OCI_DESCRIPTOR_INIT;
    fake_entry(&d, 'a', "linux", "amd64", NULL);
    const char *f1[] = {"sse4", "gpu"};
    annotate_ok(&d, &(struct gantry_manifest_annotation){.os_features = f1, .n_os_features = 2});
    const char *f2[] = {"gpu", "avx"};
    const char *kv[] = {"org.example.a=1", "org.example.b=x=y", "org.example.a=2"};
    annotate_ok(&d,
                &(struct gantry_manifest_annotation){
                    .os_features = f2, .n_os_features = 2, .annotations = kv, .n_annotations = 3});
    assert_int_equal(d.platform->n_os_features, 3);
    assert_string_equal(d.platform->os_features[0], "avx");
    assert_string_equal(d.platform->os_features[1], "gpu");
    assert_string_equal(d.platform->os_features[2], "sse4");
    assert_null(d.platform->os_features[3]);
    assert_string_equal(gantry_oci_descriptor_annotation(&d, "org.example.a"), "2");
    assert_string_equal(gantry_oci_descriptor_annotation(&d, "org.example.b"), "x=y");
    assert_platform(&d, "linux", "amd64", NULL);
    gantry_oci_descriptor_release(&d);
}

static void annotate_fails(struct gantry_oci_descriptor *d,
                           const struct gantry_manifest_annotation *a, const char *needle)
{
    struct gantry_oci_platform *before = gantry_oci_platform_dup(d->platform);
    size_t n_ann = d->n_annotations;
    struct gantry_error *err = NULL;
    expect_error(gantry_manifest_annotate_entry(d, a, &err), &err, GANTRY_E_INVALID_ARG, needle);
    /* Nothing changed. */
    if (before) {
        assert_string_equal(d->platform->os, before->os);
        assert_string_equal(d->platform->architecture, before->architecture);
        assert_int_equal(d->platform->n_os_features, before->n_os_features);
        assert_true((d->platform->variant == NULL) == (before->variant == NULL));
    } else {
        assert_null(d->platform);
    }
    assert_int_equal(d->n_annotations, n_ann);
    gantry_oci_platform_free(before);
}

static void test_manifest__annotate_refused(void **state)
{
    (void)state;
    struct gantry_oci_descriptor d = GANTRY_OCI_DESCRIPTOR_INIT;
    fake_entry(&d, 'a', "linux", "arm", "v7");
    const char *ok_feature[] = {"gpu"};
    const char *bad_kv[] = {"novalue"};
    annotate_fails(&d,
                   &(struct gantry_manifest_annotation){
                       .architecture = "sparc", .os_features = ok_feature, .n_os_features = 1},
                   "unsupported os/arch combination 'linux/sparc'");
    annotate_fails(&d,
                   &(struct gantry_manifest_annotation){.os = "windows", .architecture = "s390x"},
                   "unsupported os/arch combination 'windows/s390x'");
    annotate_fails(&d, &(struct gantry_manifest_annotation){.architecture = "amd 64"},
                   "invalid platform 'linux/amd 64'");
    annotate_fails(&d, &(struct gantry_manifest_annotation){.os = ""}, "empty os");
    annotate_fails(&d, &(struct gantry_manifest_annotation){.variant = "v7/x"}, "invalid platform");
    annotate_fails(&d,
                   &(struct gantry_manifest_annotation){
                       .os_version = "1", .annotations = bad_kv, .n_annotations = 1},
                   "invalid annotation 'novalue': not of the form key=value");
    const char *empty_feature[] = {""};
    annotate_fails(
        &d, &(struct gantry_manifest_annotation){.os_features = empty_feature, .n_os_features = 1},
        "empty os feature");
    assert_platform(&d, "linux", "arm", "v7");
    gantry_oci_descriptor_release(&d);

    /* An entry without a platform needs both os and architecture. */
    fake_entry(&d, 'b', NULL, NULL, NULL);
    annotate_fails(&d, &(struct gantry_manifest_annotation){.variant = "v7"}, "has no platform");
    annotate_fails(&d, &(struct gantry_manifest_annotation){.os_version = "1"}, "has no platform");
    annotate_ok(&d, &(struct gantry_manifest_annotation){.os = "linux", .architecture = "arm64"});
    assert_platform(&d, "linux", "arm64", NULL);
    gantry_oci_descriptor_release(&d);
}

static void test_manifest__match_entries(void **state)
{
    (void)state;
    struct gantry_oci_descriptor d[4] = {0};
    fake_entry(&d[0], 'a', "linux", "amd64", NULL);
    fake_entry(&d[1], 'b', "linux", "arm", "v7");
    fake_entry(&d[2], 'c', "unknown", "unknown", NULL);
    gantry_oci_descriptor_set_annotation(&d[2], GANTRY_OCI_ANNOTATION_REFERENCE_TYPE,
                                         "attestation-manifest");
    gantry_oci_descriptor_set_annotation(&d[2], GANTRY_OCI_ANNOTATION_REFERENCE_DIGEST,
                                         d[1].digest);
    fake_entry(&d[3], 'd', "linux", "arm64", NULL);
    bool *hit = NULL;
    size_t n = 0;
    must(manifest_match_entries(d, 4, "linux/arm", &hit, &n, NULL), NULL);
    assert_int_equal(n, 2); /* arm/v7 and its attestation */
    assert_true(hit[1] && hit[2] && !hit[0] && !hit[3]);
    free(hit);
    must(manifest_match_entries(d, 4, d[3].digest, &hit, &n, NULL), NULL);
    assert_int_equal(n, 1);
    assert_true(hit[3]);
    free(hit);
    must(manifest_match_entries(d, 4, "linux/s390x", &hit, &n, NULL), NULL);
    assert_int_equal(n, 0);
    free(hit);
    struct gantry_error *err = NULL;
    expect_error(manifest_match_entries(d, 4, "sha256:abc", &hit, &n, &err), &err,
                 GANTRY_E_INVALID_ARG, "invalid digest 'sha256:abc'");
    err = NULL;
    expect_error(manifest_match_entries(d, 4, "linux/&x", &hit, &n, &err), &err,
                 GANTRY_E_INVALID_ARG, "invalid platform 'linux/&x'");
    release_all(d, 4);
}

/* ---- over a store ---- */

static int setup(void **state)
{
    return pinned_store_setup(state, "test_manifest");
}

/*
 * Store a one-layer image named name (docker.io/library/NAME) whose config
 * says os/arch/variant (raw spelling), of the manifest media type mt.
 */
static void put_image(struct store_fixture *f, const char *name, const char *mt, const char *os,
                      const char *arch, const char *variant, struct gantry_oci_descriptor *d)
{
    bool docker = strcmp(mt, GANTRY_MT_DOCKER_MANIFEST) == 0;
    char layer[GANTRY_DIGEST_MAX], config[GANTRY_DIGEST_MAX], man[GANTRY_DIGEST_MAX];
    _cleanup_free_ char *ldata = xasprintf("layer of %s", name);
    put_string(f->s, ldata, layer);
    _cleanup_free_ char *cdata = xasprintf(
        "{\"architecture\":\"%s\",\"os\":\"%s\"%s%s%s,\"rootfs\":{\"type\":\"layers\","
        "\"diff_ids\":[]}}",
        arch, os, variant ? ",\"variant\":\"" : "", variant ? variant : "", variant ? "\"" : "");
    put_string(f->s, cdata, config);
    _cleanup_free_ char *mdata = xasprintf(
        "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{\"mediaType\":\"%s\","
        "\"digest\":\"%s\",\"size\":%zu},\"layers\":[{\"mediaType\":\"%s\",\"digest\":\"%s\","
        "\"size\":%zu}]}",
        mt, docker ? GANTRY_MT_DOCKER_CONFIG : GANTRY_MT_OCI_CONFIG, config, strlen(cdata),
        docker ? GANTRY_MT_DOCKER_LAYER : GANTRY_MT_OCI_LAYER, layer, strlen(ldata));
    put_string(f->s, mdata, man);
    gantry_oci_descriptor_init(d, mt, man, (int64_t)strlen(mdata));
    _cleanup_free_ char *full = xasprintf("docker.io/library/%s", name);
    set_ref(f->s, full, d);
    /* The expected size: manifest + config + layer. */
    d->size = (int64_t)(strlen(mdata) + strlen(cdata) + strlen(ldata));
}

static char *index_json(struct store_fixture *f)
{
    _cleanup_free_ char *path = xasprintf("%s/index.json", f->store_dir);
    struct gantry_buf b = GANTRY_BUF_INIT;
    struct gantry_error *err = NULL;
    must(gantry_buf_read_file(&b, path, &err), &err);
    return gantry_buf_detach(&b, NULL);
}

/* Three images a (linux/amd64), b (linux/arm64/v8) and c (linux/arm/v7). */
static void put_three(struct store_fixture *f, struct gantry_oci_descriptor d[3])
{
    put_image(f, "a:1", GANTRY_MT_OCI_MANIFEST, "linux", "amd64", NULL, &d[0]);
    put_image(f, "b:1", GANTRY_MT_OCI_MANIFEST, "linux", "arm64", "v8", &d[1]);
    put_image(f, "c:1", GANTRY_MT_OCI_MANIFEST, "linux", "arm", "v7", &d[2]);
}

/* put_three, and the list m:1 of a:1 and b:1. */
static void put_list_ab(struct store_fixture *f, struct gantry_oci_descriptor d[3])
{
    put_three(f, d);
    const char *refs[] = {"a:1", "b:1"};
    struct gantry_error *err = NULL;
    must(gantry_manifest_create(f->s, "m:1", refs, 2, NULL, NULL, &err), &err);
}

static void inspect_ok(struct store_fixture *f, const char *ref, struct gantry_manifest_info *info)
{
    struct gantry_error *err = NULL;
    must(gantry_manifest_inspect(f->s, ref, info, &err), &err);
}

static void test_manifest__create_inspect(void **state)
{
    struct store_fixture *f = *state;
    struct gantry_oci_descriptor d[3] = {0};
    put_three(f, d);
    const char *refs[] = {"a:1", "b:1", "c:1", "a:1"}; /* a twice: kept once */
    struct gantry_manifest_edit_result res;
    struct gantry_error *err = NULL;
    must(gantry_manifest_create(f->s, "multi:1", refs, 4, NULL, &res, &err), &err);
    assert_int_equal(res.n_duplicates, 0);
    char digest[GANTRY_DIGEST_MAX];
    snprintf(digest, sizeof(digest), "%s", res.digest);
    gantry_manifest_edit_result_release(&res);

    struct gantry_manifest_info info;
    inspect_ok(f, "multi:1", &info);
    assert_string_equal(info.name, "docker.io/library/multi:1");
    assert_string_equal(info.digest, digest);
    assert_string_equal(info.media_type, GANTRY_MT_OCI_INDEX);
    assert_true(info.is_index);
    assert_int_equal(info.n_entries, 3);
    const char *want[] = {"linux/amd64", "linux/arm64", "linux/arm/v7"};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(info.entries[i].kind, GANTRY_MANIFEST_ENTRY_IMAGE);
        assert_string_equal(info.entries[i].platform, want[i]);
        assert_string_equal(info.entries[i].desc.digest, d[i].digest);
        assert_int_equal(info.entries[i].size, d[i].size);
        assert_true(info.entries[i].local);
        assert_non_null(info.entries[i].manifest);
    }
    /* Written as the config spells it: arm64 keeps its v8. */
    assert_string_equal(info.entries[1].desc.platform->variant, "v8");
    /* The raw bytes are the stored index, and hash to its digest. */
    char again[GANTRY_DIGEST_MAX];
    gantry_digest_bytes(GANTRY_DIGEST_SHA256, info.raw, info.raw_len, again);
    assert_string_equal(again, digest);
    gantry_manifest_info_release(&info);

    /* Selecting a platform of the list goes through the image module. */
    _cleanup_mdesc_ struct gantry_oci_descriptor top = GANTRY_OCI_DESCRIPTOR_INIT;
    _cleanup_mdesc_ struct gantry_oci_descriptor man = GANTRY_OCI_DESCRIPTOR_INIT;
    must(gantry_image_resolve(f->s, "multi:1", &top, NULL, &err), &err);
    _cleanup_mplatform_ struct gantry_platform armv7 = GANTRY_PLATFORM_INIT;
    must(gantry_platform_parse("linux/arm/v7", 12, &armv7, &err), &err);
    must(gantry_image_select_platform(f->s, &top, &armv7, false, &man, &err), &err);
    assert_string_equal(man.digest, d[2].digest);

    /* --platform is exact: an arm/v7 image is not taken for arm64. */
    _cleanup_mplatform_ struct gantry_platform arm64 = GANTRY_PLATFORM_INIT;
    must(gantry_platform_parse("linux/arm64", 11, &arm64, &err), &err);
    struct gantry_manifest_create_opts o = {.platform = &arm64};
    const char *c1[] = {"c:1"};
    expect_error(gantry_manifest_create(f->s, "x:1", c1, 1, &o, NULL, &err), &err,
                 GANTRY_E_NOT_FOUND, "image 'c:1' is linux/arm/v7, not linux/arm64");

    /* A single image inspects as one entry, its platform from the config. */
    inspect_ok(f, "b:1", &info);
    assert_false(info.is_index);
    assert_int_equal(info.n_entries, 1);
    assert_string_equal(info.entries[0].platform, "linux/arm64");
    assert_null(
        gantry_oci_descriptor_annotation(&info.entries[0].desc, GANTRY_OCI_ANNOTATION_REF_NAME));
    gantry_manifest_info_release(&info);
    release_all(d, 3);
}

static void test_manifest__create_refusals_change_nothing(void **state)
{
    struct store_fixture *f = *state;
    struct gantry_oci_descriptor d[3] = {0};
    put_three(f, d);
    struct gantry_oci_descriptor dup = GANTRY_OCI_DESCRIPTOR_INIT;
    put_image(f, "a:2", GANTRY_MT_OCI_MANIFEST, "linux", "x86_64", NULL, &dup);
    const char *refs[] = {"a:1", "b:1"};
    struct gantry_error *err = NULL;
    must(gantry_manifest_create(f->s, "multi:1", refs, 2, NULL, NULL, &err), &err);
    _cleanup_free_ char *before = index_json(f);

    const char *more[] = {"c:1"};
    expect_error(gantry_manifest_create(f->s, "multi:1", more, 1, NULL, NULL, &err), &err,
                 GANTRY_E_EXISTS, "'multi:1' already exists, use --amend");
    const char *missing[] = {"c:1", "nope:1"};
    struct gantry_manifest_create_opts amend = {.amend = true};
    expect_error(gantry_manifest_create(f->s, "multi:1", missing, 2, &amend, NULL, &err), &err,
                 GANTRY_E_NOT_FOUND, "no such image: 'nope:1'");
    const char *dups[] = {"c:1", "a:2"};
    struct gantry_manifest_create_opts docker = {.amend = true,
                                                 .format = GANTRY_MANIFEST_FORMAT_DOCKER};
    expect_error(gantry_manifest_create(f->s, "multi:1", more, 1, &docker, NULL, &err), &err,
                 GANTRY_E_INVALID_ARG, "a docker manifest list cannot hold");
    /* A plain image is not a list to amend. */
    expect_error(gantry_manifest_create(f->s, "a:1", more, 1, &amend, NULL, &err), &err,
                 GANTRY_E_INVALID_ARG, "'a:1' is not a manifest list");
    expect_error(
        gantry_manifest_create(f->s,
                               "multi@sha256:"
                               "0000000000000000000000000000000000000000000000000000000000000000",
                               more, 1, NULL, NULL, &err),
        &err, GANTRY_E_INVALID_ARG, "a digest is not allowed");
    _cleanup_free_ char *after = index_json(f);
    assert_string_equal(before, after);

    /* A duplicate platform is kept and reported (x86_64 is amd64); --amend extends. */
    struct gantry_manifest_edit_result res;
    must(gantry_manifest_create(f->s, "multi:1", dups, 2, &amend, &res, &err), &err);
    assert_int_equal(res.n_duplicates, 1);
    assert_string_equal(res.duplicates[0].platform, "linux/amd64");
    assert_string_equal(res.duplicates[0].first, d[0].digest);
    assert_string_equal(res.duplicates[0].second, dup.digest);
    struct gantry_manifest_info info;
    inspect_ok(f, "multi:1", &info);
    assert_string_equal(info.digest, res.digest);
    gantry_manifest_edit_result_release(&res);
    assert_int_equal(info.n_entries, 4);
    assert_string_equal(info.entries[3].platform, "linux/amd64");
    gantry_manifest_info_release(&info);
    /* Only pairs with a new entry are reported: adding another platform is clean. */
    struct gantry_oci_descriptor ppc = GANTRY_OCI_DESCRIPTOR_INIT;
    put_image(f, "p:1", GANTRY_MT_OCI_MANIFEST, "linux", "ppc64le", NULL, &ppc);
    must(gantry_manifest_add(f->s, "multi:1", "p:1", NULL, &res, &err), &err);
    assert_int_equal(res.n_duplicates, 0);
    gantry_manifest_edit_result_release(&res);
    /* The entries of a list with duplicates can still be annotated; a new
     * platform that clashes is refused. */
    struct gantry_manifest_annotation ann = {.annotations = (const char *[]){"k=v"},
                                             .n_annotations = 1};
    must(gantry_manifest_annotate(f->s, "multi:1", "a:2", &ann, NULL, &err), &err);
    struct gantry_manifest_annotation clash = {.architecture = "arm64"};
    expect_error(gantry_manifest_annotate(f->s, "multi:1", "p:1", &clash, NULL, &err), &err,
                 GANTRY_E_INVALID_ARG, "duplicate platform 'linux/arm64'");
    gantry_oci_descriptor_release(&ppc);
    gantry_oci_descriptor_release(&dup);
    release_all(d, 3);
}

static void test_manifest__docker_format(void **state)
{
    struct store_fixture *f = *state;
    struct gantry_oci_descriptor d[2] = {0};
    put_image(f, "da:1", GANTRY_MT_DOCKER_MANIFEST, "linux", "amd64", NULL, &d[0]);
    put_image(f, "db:1", GANTRY_MT_DOCKER_MANIFEST, "linux", "arm64", NULL, &d[1]);
    const char *refs[] = {"da:1", "db:1"};
    struct gantry_manifest_create_opts o = {.format = GANTRY_MANIFEST_FORMAT_DOCKER};
    struct gantry_error *err = NULL;
    must(gantry_manifest_create(f->s, "dl:1", refs, 2, &o, NULL, &err), &err);
    struct gantry_manifest_info info;
    inspect_ok(f, "dl:1", &info);
    assert_string_equal(info.media_type, GANTRY_MT_DOCKER_MANIFEST_LIST);
    assert_non_null(strstr(info.raw, GANTRY_MT_DOCKER_MANIFEST_LIST));
    assert_int_equal(info.n_entries, 2);
    gantry_manifest_info_release(&info);
    release_all(d, 2);
}

/* An index image: linux/amd64, linux/s390x and an attestation of the s390x one. */
static void put_index(struct store_fixture *f, struct gantry_oci_descriptor kids[3])
{
    put_image(f, "i-amd64:1", GANTRY_MT_OCI_MANIFEST, "linux", "amd64", NULL, &kids[0]);
    put_image(f, "i-s390x:1", GANTRY_MT_OCI_MANIFEST, "linux", "s390x", NULL, &kids[1]);
    put_image(f, "i-att:1", GANTRY_MT_OCI_MANIFEST, "unknown", "unknown", NULL, &kids[2]);
    set_platform(&kids[0], "linux", "amd64", NULL);
    set_platform(&kids[1], "linux", "s390x", NULL);
    set_platform(&kids[2], "unknown", "unknown", NULL);
    gantry_oci_descriptor_set_annotation(&kids[2], GANTRY_OCI_ANNOTATION_REFERENCE_TYPE,
                                         "attestation-manifest");
    gantry_oci_descriptor_set_annotation(&kids[2], GANTRY_OCI_ANNOTATION_REFERENCE_DIGEST,
                                         kids[1].digest);
    /* The index wants the real manifest sizes. */
    struct gantry_error *err = NULL;
    for (size_t i = 0; i < 3; i++)
        must(gantry_store_blob_size(f->s, kids[i].digest, &kids[i].size, &err), &err);
    _cleanup_mdesc_ struct gantry_oci_descriptor top = GANTRY_OCI_DESCRIPTOR_INIT;
    put_oci_index(f->s, kids, 3, &top);
    set_ref(f->s, "docker.io/library/idx:1", &top);
}

static void test_manifest__index_refs_flattened(void **state)
{
    struct store_fixture *f = *state;
    struct gantry_oci_descriptor kids[3] = {0}, arm = GANTRY_OCI_DESCRIPTOR_INIT;
    put_index(f, kids);
    put_image(f, "arm:1", GANTRY_MT_OCI_MANIFEST, "linux", "arm64", NULL, &arm);
    const char *refs[] = {"idx:1", "arm:1"};
    struct gantry_error *err = NULL;
    must(gantry_manifest_create(f->s, "flat:1", refs, 2, NULL, NULL, &err), &err);
    struct gantry_manifest_info info;
    inspect_ok(f, "flat:1", &info);
    assert_int_equal(info.n_entries, 4);
    assert_int_equal(info.entries[2].kind, GANTRY_MANIFEST_ENTRY_ATTESTATION);
    assert_string_equal(info.entries[2].subject, kids[1].digest);
    assert_string_equal(info.entries[3].platform, "linux/arm64");
    gantry_manifest_info_release(&info);

    /* --platform: the best match of the index, with its attestation. */
    _cleanup_mplatform_ struct gantry_platform s390x = GANTRY_PLATFORM_INIT;
    must(gantry_platform_parse("linux/s390x", 11, &s390x, &err), &err);
    struct gantry_manifest_create_opts o = {.platform = &s390x};
    const char *one[] = {"idx:1"};
    must(gantry_manifest_create(f->s, "one:1", one, 1, &o, NULL, &err), &err);
    inspect_ok(f, "one:1", &info);
    assert_int_equal(info.n_entries, 2);
    assert_string_equal(info.entries[0].desc.digest, kids[1].digest);
    assert_int_equal(info.entries[1].kind, GANTRY_MANIFEST_ENTRY_ATTESTATION);
    gantry_manifest_info_release(&info);
    const char *wrong[] = {"arm:1"};
    expect_error(gantry_manifest_create(f->s, "two:1", wrong, 1, &o, NULL, &err), &err,
                 GANTRY_E_NOT_FOUND, "image 'arm:1' is linux/arm64, not linux/s390x");

    /* Removing the s390x platform takes its attestation along. */
    must(gantry_manifest_remove(f->s, "flat:1", "linux/s390x", NULL, &err), &err);
    inspect_ok(f, "flat:1", &info);
    assert_int_equal(info.n_entries, 2);
    assert_string_equal(info.entries[0].platform, "linux/amd64");
    assert_string_equal(info.entries[1].platform, "linux/arm64");
    gantry_manifest_info_release(&info);
    release_all(kids, 3);
    gantry_oci_descriptor_release(&arm);
}

static void test_manifest__no_flatten(void **state)
{
    struct store_fixture *f = *state;
    struct gantry_oci_descriptor kids[3] = {0}, arm = GANTRY_OCI_DESCRIPTOR_INIT;
    put_index(f, kids);
    put_image(f, "arm:1", GANTRY_MT_OCI_MANIFEST, "linux", "arm64", NULL, &arm);
    _cleanup_mdesc_ struct gantry_oci_descriptor idx = GANTRY_OCI_DESCRIPTOR_INIT;
    struct gantry_error *err = NULL;
    must(gantry_image_resolve(f->s, "idx:1", &idx, NULL, &err), &err);
    const char *refs[] = {"idx:1", "arm:1"};
    struct gantry_manifest_create_opts o = {.no_flatten = true};
    must(gantry_manifest_create(f->s, "nest:1", refs, 2, &o, NULL, &err), &err);

    /* One entry for the index: its media type, digest and size, nothing else. */
    struct gantry_manifest_info info;
    inspect_ok(f, "nest:1", &info);
    assert_int_equal(info.n_entries, 2);
    const struct gantry_manifest_entry *e = &info.entries[0];
    assert_int_equal(e->kind, GANTRY_MANIFEST_ENTRY_INDEX);
    assert_string_equal(e->desc.media_type, GANTRY_MT_OCI_INDEX);
    assert_string_equal(e->desc.digest, idx.digest);
    assert_int_equal(e->desc.size, idx.size);
    assert_null(e->desc.platform);
    assert_int_equal(e->desc.n_annotations, 0);
    assert_string_equal(e->platform, "unknown");
    /* The platforms it holds (not its attestation), its size with theirs. */
    assert_string_equal(e->platforms, "linux/amd64, linux/s390x");
    int64_t want = idx.size;
    for (size_t i = 0; i < 3; i++) {
        struct gantry_manifest_info one;
        inspect_ok(f, i == 0 ? "i-amd64:1" : i == 1 ? "i-s390x:1" : "i-att:1", &one);
        want += one.entries[0].size;
        gantry_manifest_info_release(&one);
    }
    assert_int_equal(e->size, want);
    assert_true(e->local);
    assert_int_equal(info.entries[1].kind, GANTRY_MANIFEST_ENTRY_IMAGE);
    assert_null(info.entries[1].platforms);
    gantry_manifest_info_release(&info);

    /* A nested index never counts as a duplicate platform. */
    struct gantry_manifest_edit_result res;
    struct gantry_manifest_add_opts ao = {.no_flatten = true};
    must(gantry_manifest_add(f->s, "nest:1", "i-amd64:1", &ao, &res, &err), &err);
    assert_int_equal(res.n_duplicates, 0);
    gantry_manifest_edit_result_release(&res);

    /* Refused: with a platform; an index that nests an index. */
    _cleanup_mplatform_ struct gantry_platform s390x = GANTRY_PLATFORM_INIT;
    must(gantry_platform_parse("linux/s390x", 11, &s390x, &err), &err);
    ao.platform = &s390x;
    expect_error(gantry_manifest_add(f->s, "nest:1", "idx:1", &ao, NULL, &err), &err,
                 GANTRY_E_INVALID_ARG, "a platform and no-flatten cannot be combined");
    const char *outer[] = {"nest:1"};
    expect_error(gantry_manifest_create(f->s, "deep:1", outer, 1, &o, NULL, &err), &err,
                 GANTRY_E_UNSUPPORTED, "'nest:1' cannot be kept nested: its entry");
    release_all(kids, 3);
    gantry_oci_descriptor_release(&arm);
}

static void test_manifest__add_remove_annotate_delete(void **state)
{
    struct store_fixture *f = *state;
    struct gantry_oci_descriptor d[3] = {0};
    put_three(f, d);
    const char *refs[] = {"a:1"};
    struct gantry_error *err = NULL;
    must(gantry_manifest_create(f->s, "m:1", refs, 1, NULL, NULL, &err), &err);
    must(gantry_manifest_add(f->s, "m:1", "b:1", NULL, NULL, &err), &err);
    must(gantry_manifest_add(f->s, "m:1", "c:1", NULL, NULL, &err), &err);
    struct gantry_oci_descriptor other = GANTRY_OCI_DESCRIPTOR_INIT;
    put_image(f, "other:1", GANTRY_MT_OCI_MANIFEST, "linux", "ppc64le", NULL, &other);
    _cleanup_free_ char *before = index_json(f);

    expect_error(gantry_manifest_add(f->s, "none:1", "c:1", NULL, NULL, &err), &err,
                 GANTRY_E_NOT_FOUND, "no such manifest list: 'none:1'");
    expect_error(gantry_manifest_remove(f->s, "m:1", "linux/s390x", NULL, &err), &err,
                 GANTRY_E_NOT_FOUND, "no entry 'linux/s390x' in manifest list 'm:1'");
    struct gantry_manifest_annotation bad = {.architecture = "sparc"};
    expect_error(gantry_manifest_annotate(f->s, "m:1", "c:1", &bad, NULL, &err), &err,
                 GANTRY_E_INVALID_ARG, "unsupported os/arch combination 'linux/sparc'");
    struct gantry_manifest_annotation clash = {.architecture = "amd64"};
    expect_error(gantry_manifest_annotate(f->s, "m:1", "c:1", &clash, NULL, &err), &err,
                 GANTRY_E_INVALID_ARG, "duplicate platform 'linux/amd64'");
    struct gantry_manifest_annotation v6 = {.variant = "v6"};
    expect_error(gantry_manifest_annotate(f->s, "m:1", "other:1", &v6, NULL, &err), &err,
                 GANTRY_E_NOT_FOUND, "no entry 'other:1' in manifest list 'm:1'");
    expect_error(gantry_manifest_annotate(f->s, "m:1", "gone:1", &v6, NULL, &err), &err,
                 GANTRY_E_NOT_FOUND, "no such image: 'gone:1'");
    expect_error(gantry_manifest_delete(f->s, "a:1", &err), &err, GANTRY_E_INVALID_ARG,
                 "'a:1' is not a manifest list");
    _cleanup_free_ char *after = index_json(f);
    assert_string_equal(before, after);

    const char *feat[] = {"simd"};
    struct gantry_manifest_annotation a = {
        .variant = "v6", .os_features = feat, .n_os_features = 1};
    must(gantry_manifest_annotate(f->s, "m:1", "c:1", &a, NULL, &err), &err);
    must(gantry_manifest_remove(f->s, "m:1", d[1].digest, NULL, &err), &err);
    struct gantry_manifest_info info;
    inspect_ok(f, "m:1", &info);
    assert_int_equal(info.n_entries, 2);
    assert_string_equal(info.entries[1].platform, "linux(+simd)/arm/v6");
    gantry_manifest_info_release(&info);

    /* By digest too. */
    struct gantry_manifest_annotation ann = {.annotations = (const char *[]){"k=v"},
                                             .n_annotations = 1};
    must(gantry_manifest_annotate(f->s, "m:1", d[0].digest, &ann, NULL, &err), &err);
    inspect_ok(f, "m:1", &info);
    assert_string_equal(gantry_oci_descriptor_annotation(&info.entries[0].desc, "k"), "v");
    gantry_manifest_info_release(&info);

    must(gantry_manifest_delete(f->s, "m:1", &err), &err);
    expect_error(gantry_manifest_inspect(f->s, "m:1", &info, &err), &err, GANTRY_E_NOT_FOUND,
                 "no such image: 'm:1'");
    expect_error(gantry_manifest_delete(f->s, "m:1", &err), &err, GANTRY_E_NOT_FOUND,
                 "no such manifest list: 'm:1'");
    gantry_oci_descriptor_release(&other);
    release_all(d, 3);
}

static void test_manifest__concurrent_edit_refused(void **state)
{
    struct store_fixture *f = *state;
    struct gantry_oci_descriptor d[3] = {0};
    put_list_ab(f, d);
    struct gantry_error *err = NULL;
    _cleanup_mlist_ struct manifest_list l = {0};
    must(manifest_list_open(f->s, "m:1", MANIFEST_OPEN_EXISTING, &l, &err), &err);
    /* Another writer moves the name meanwhile. */
    must(gantry_manifest_add(f->s, "m:1", "c:1", NULL, NULL, &err), &err);
    _cleanup_free_ char *before = index_json(f);
    gantry_oci_index_remove(l.idx, 0);
    expect_error(manifest_list_save(f->s, &l, NULL, &err), &err, GANTRY_E_DENIED,
                 "was changed by another process");
    _cleanup_free_ char *after = index_json(f);
    assert_string_equal(before, after);
    release_all(d, 3);
}

static void test_manifest__inspect_partial(void **state)
{
    struct store_fixture *f = *state;
    struct gantry_oci_descriptor d[3] = {0};
    put_list_ab(f, d);
    struct gantry_error *err = NULL;
    /* Drop b's manifest blob: the list still inspects, b not local. */
    _cleanup_free_ char *path = gantry_store_blob_path(f->s, d[1].digest, &err);
    assert_int_equal(unlink(path), 0);
    struct gantry_manifest_info info;
    inspect_ok(f, "m:1", &info);
    assert_int_equal(info.n_entries, 2);
    assert_true(info.entries[0].local);
    assert_false(info.entries[1].local);
    assert_int_equal(info.entries[1].size, -1);
    assert_null(info.entries[1].manifest);
    assert_string_equal(info.entries[1].platform, "linux/arm64");
    gantry_manifest_info_release(&info);
    release_all(d, 3);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, pinned_store_teardown)
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_manifest__os_arch_pairs),
        cmocka_unit_test(test_manifest__duplicates),
        cmocka_unit_test(test_manifest__annotate_platform),
        cmocka_unit_test(test_manifest__annotate_features_annotations),
        cmocka_unit_test(test_manifest__annotate_refused),
        cmocka_unit_test(test_manifest__match_entries),
        T(test_manifest__create_inspect),
        T(test_manifest__create_refusals_change_nothing),
        T(test_manifest__docker_format),
        T(test_manifest__index_refs_flattened),
        T(test_manifest__no_flatten),
        T(test_manifest__add_remove_annotate_delete),
        T(test_manifest__concurrent_edit_refused),
        T(test_manifest__inspect_partial),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
