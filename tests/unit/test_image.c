/*
 * Unit tests for image: --change (pure) and path cleaning, then
 * resolve, platform selection, import, list, inspect, tag, remove and prune
 * over a real store in a temporary directory.
 */
#include <fcntl.h>
#include <jansson.h>

#include <gantry/image.h>

#include "image/image_internal.h"
#include "unit_helpers.h"

/* ---- --change ---- */

static struct gantry_oci_config *cfg(void)
{
    return gantry_oci_config_new("linux", "amd64", NULL);
}

static void change_ok(struct gantry_oci_config *c, const char *s)
{
    struct gantry_error *err = NULL;
    if (gantry_image_apply_change(c, s, strlen(s), &err) < 0) {
        fail_msg("change '%s': %s", s, err->message);
        gantry_error_free(err);
    }
}

static void change_fails(struct gantry_oci_config *c, const char *s, enum gantry_error_code code,
                         const char *needle)
{
    _cleanup_error_ struct gantry_error *err = NULL;
    assert_int_equal(gantry_image_apply_change(c, s, strlen(s), &err), -1);
    assert_non_null(err);
    assert_int_equal(err->code, code);
    if (!strstr(err->message, needle))
        fail_msg("'%s': message '%s' lacks '%s'", s, err->message, needle);
    if (!strstr(err->message, "invalid change '"))
        fail_msg("'%s': message '%s' does not name the change", s, err->message);
}

static void assert_strv(char *const *v, size_t n, const char *const *want, size_t n_want)
{
    assert_non_null(v);
    assert_int_equal(n, n_want);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(v[i], want[i]);
    assert_null(v[n]);
}

static void test_image__change_cmd_entrypoint(void **state)
{
    (void)state;
    _cleanup_config_ struct gantry_oci_config *c = cfg();
    change_ok(c, "CMD [\"sh\", \"-c\", \"echo \\\"hi\\\" \\u00e9\"]");
    assert_strv(c->config.cmd, c->config.n_cmd,
                (const char *const[]){"sh", "-c", "echo \"hi\" \xc3\xa9"}, 3);
    change_ok(c, "cmd echo $HOME  && ls  ");
    assert_strv(c->config.cmd, c->config.n_cmd,
                (const char *const[]){"/bin/sh", "-c", "echo $HOME  && ls"}, 3);
    change_ok(c, "ENTRYPOINT []");
    assert_strv(c->config.entrypoint, c->config.n_entrypoint, NULL, 0);
    /* Not a JSON array: Docker takes the shell form. */
    change_ok(c, "ENTRYPOINT [\"a\" \"b\"]");
    assert_strv(c->config.entrypoint, c->config.n_entrypoint,
                (const char *const[]){"/bin/sh", "-c", "[\"a\" \"b\"]"}, 3);
    change_fails(c, "CMD", GANTRY_E_INVALID_ARG, "CMD needs an argument");
    _cleanup_config_ struct gantry_oci_config *w = gantry_oci_config_new("windows", "amd64", NULL);
    /* The shell form is the shell's business: quotes are not checked. */
    change_ok(c, "CMD echo 'it");
    assert_strv(c->config.cmd, c->config.n_cmd, (const char *const[]){"/bin/sh", "-c", "echo 'it"},
                3);
    change_fails(c, "CMD [\"a\", 1]", GANTRY_E_INVALID_ARG, "arrays must be comprised of strings");
    change_ok(w, "CMD dir C:\\");
    assert_strv(w->config.cmd, w->config.n_cmd, (const char *const[]){"cmd", "/S", "dir C:\\"}, 3);
}

static void test_image__change_env_label(void **state)
{
    (void)state;
    _cleanup_config_ struct gantry_oci_config *c = cfg();
    change_ok(c, "ENV A=1 B=\"two words\" C='it''s' D=a\\ b E=\"q\\\"x\\n\"");
    assert_strv(c->config.env, c->config.n_env,
                (const char *const[]){"A=1", "B=two words", "C=its", "D=a b", "E=q\"x\\n"}, 5);
    change_ok(c, "env A replaced value");
    assert_string_equal(c->config.env[0], "A=replaced value");
    assert_int_equal(c->config.n_env, 5);
    /* Variables are not expanded, escapes are processed. */
    change_ok(c, "ENV H=$HOME\\$X");
    assert_string_equal(c->config.env[5], "H=$HOME$X");
    change_ok(c, "ENV EMPTY=");
    assert_string_equal(c->config.env[6], "EMPTY=");
    change_fails(c, "ENV PATH", GANTRY_E_INVALID_ARG, "ENV must have two arguments");
    change_fails(c, "ENV X=1 Y", GANTRY_E_INVALID_ARG,
                 "can't find = in 'Y'; must be of the form: name=value");
    change_fails(c, "ENV A=\"open", GANTRY_E_INVALID_ARG,
                 "unexpected end of statement while looking for matching double-quote");
    change_fails(c, "ENV =v", GANTRY_E_INVALID_ARG, "ENV names can not be blank");
    /* Failed changes left the config as it was. */
    assert_int_equal(c->config.n_env, 7);
    change_ok(c, "LABEL org.example.a=1 \"b c\"=\"d e\"");
    change_ok(c, "LABEL org.example.a=2");
    assert_int_equal(c->config.n_labels, 2);
    assert_string_equal(c->config.labels[0].key, "org.example.a");
    assert_string_equal(c->config.labels[0].value, "2");
    assert_string_equal(c->config.labels[1].key, "b c");
    assert_string_equal(c->config.labels[1].value, "d e");
}

static void test_image__change_expose_volume(void **state)
{
    (void)state;
    _cleanup_config_ struct gantry_oci_config *c = cfg();
    change_ok(c, "EXPOSE 80 53/UDP 8000-8002/tcp 80/tcp 9/sctp");
    assert_strv(
        c->config.exposed_ports, c->config.n_exposed_ports,
        (const char *const[]){"80/tcp", "53/udp", "8000/tcp", "8001/tcp", "8002/tcp", "9/sctp"}, 6);
    change_fails(c, "EXPOSE 80/foo", GANTRY_E_INVALID_ARG, "invalid port '80/foo'");
    change_fails(c, "EXPOSE 81 70000", GANTRY_E_INVALID_ARG, "invalid port '70000'");
    change_fails(c, "EXPOSE 9-3", GANTRY_E_INVALID_ARG, "invalid port range '9-3'");
    change_fails(c, "EXPOSE 1-60000", GANTRY_E_INVALID_ARG, "too large");
    change_fails(c, "EXPOSE", GANTRY_E_INVALID_ARG, "EXPOSE requires at least one argument");
    assert_int_equal(c->config.n_exposed_ports, 6);
    change_ok(c, "VOLUME [\"/data\", \"/var/log\"]");
    change_ok(c, "VOLUME /data /cache");
    assert_strv(c->config.volumes, c->config.n_volumes,
                (const char *const[]){"/data", "/var/log", "/cache"}, 3);
    change_fails(c, "VOLUME [\"\"]", GANTRY_E_INVALID_ARG, "can not be an empty string");
    change_fails(c, "VOLUME []", GANTRY_E_INVALID_ARG, "VOLUME requires at least one argument");
}

static void test_image__change_user_workdir_signal(void **state)
{
    (void)state;
    _cleanup_config_ struct gantry_oci_config *c = cfg();
    change_ok(c, "USER 1000:1000");
    assert_string_equal(c->config.user, "1000:1000");
    change_fails(c, "USER a b", GANTRY_E_INVALID_ARG, "USER takes exactly one argument");
    change_ok(c, "USER 'a b'");
    assert_string_equal(c->config.user, "a b");
    change_fails(c, "USER", GANTRY_E_INVALID_ARG, "USER requires exactly one argument");
    change_fails(c, "WORKDIR", GANTRY_E_INVALID_ARG, "WORKDIR requires exactly one argument");
    change_ok(c, "WORKDIR /srv//app/./x/..");
    assert_string_equal(c->config.working_dir, "/srv/app");
    change_ok(c, "WORKDIR sub dir");
    assert_string_equal(c->config.working_dir, "/srv/app/sub dir");
    change_ok(c, "WORKDIR ../../..");
    assert_string_equal(c->config.working_dir, "/");
    change_ok(c, "STOPSIGNAL SIGKILL");
    change_ok(c, "STOPSIGNAL rtmin+3");
    change_ok(c, "STOPSIGNAL 15");
    assert_string_equal(c->config.stop_signal, "15");
    change_fails(c, "STOPSIGNAL SIGFOO", GANTRY_E_INVALID_ARG, "invalid signal 'SIGFOO'");
    change_fails(c, "STOPSIGNAL 99", GANTRY_E_INVALID_ARG, "invalid signal '99'");
    change_fails(c, "STOPSIGNAL TERM+1", GANTRY_E_INVALID_ARG, "invalid signal");
    assert_string_equal(c->config.stop_signal, "15");
}

static void test_image__change_refused(void **state)
{
    (void)state;
    _cleanup_config_ struct gantry_oci_config *c = cfg();
    change_fails(c, "ONBUILD RUN make", GANTRY_E_UNSUPPORTED, "ONBUILD is not supported");
    change_fails(c, "run make", GANTRY_E_UNSUPPORTED, "RUN is not supported");
    change_fails(c, "FROM scratch", GANTRY_E_UNSUPPORTED, "FROM is not supported");
    change_fails(c, "FOO bar", GANTRY_E_INVALID_ARG, "unknown instruction 'FOO'");
    change_fails(c, "   ", GANTRY_E_INVALID_ARG, "empty instruction");
    _cleanup_error_ struct gantry_error *err = NULL;
    assert_int_equal(gantry_image_apply_change(c, "CMD a\0b", 7, &err), -1);
    assert_non_null(strstr(err->message, "NUL"));
    /* The changes survive serialization. */
    change_ok(c, "CMD [\"x\"]");
    change_ok(c, "EXPOSE 80");
    struct gantry_error *e2 = NULL;
    assert_int_equal(gantry_oci_config_serialize(c, &e2), 0);
    assert_non_null(strstr(c->raw, "\"Cmd\":[\"x\"]"));
    assert_non_null(strstr(c->raw, "\"ExposedPorts\":{\"80/tcp\":{}}"));
}

static void test_image__path_clean(void **state)
{
    (void)state;
    static const char *const paths[][2] = {
        {"/", "/"},      {"//a//b/", "/a/b"},    {"/a/./b/../c", "/a/c"},
        {"/../..", "/"}, {"/a/b/../../..", "/"}, {"/a/..b", "/a/..b"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(paths); i++) {
        _cleanup_free_ char *p = image_path_clean(paths[i][0]);
        assert_string_equal(p, paths[i][1]);
    }
}

static void test_image__times(void **state)
{
    (void)state;
    assert_int_equal(image_parse_time("1970-01-01T00:00:00Z"), 0);
    assert_int_equal(image_parse_time("2024-02-29T12:34:56.123456789Z"), 1709210096);
    assert_int_equal(image_parse_time("2024-02-29T13:34:56+01:00"), 1709210096);
    assert_int_equal(image_parse_time("2024-02-29T07:04:56-0530"), 1709210096);
    assert_int_equal(image_parse_time("2024-02-29"), -1);
    assert_int_equal(image_parse_time("2024-02-29T12:34:56"), -1);
    assert_int_equal(image_parse_time(NULL), -1);
    _cleanup_free_ char *t = image_format_time(1709210096);
    assert_string_equal(t, "2024-02-29T12:34:56Z");
}

static void test_image__layer_media_type(void **state)
{
    (void)state;
    assert_string_equal(gantry_image_layer_media_type(GANTRY_COMPRESSION_NONE),
                        GANTRY_MT_OCI_LAYER);
    assert_string_equal(gantry_image_layer_media_type(GANTRY_COMPRESSION_GZIP),
                        GANTRY_MT_OCI_LAYER_GZIP);
    assert_string_equal(gantry_image_layer_media_type(GANTRY_COMPRESSION_ZSTD),
                        GANTRY_MT_OCI_LAYER_ZSTD);
}

/* ---- over a store ---- */

static int setup(void **state)
{
    return pinned_store_setup(state, "test_image");
}

/* A stored one-layer manifest for os/arch[/variant]; its descriptor in *d. */
static void put_image(struct store_fixture *f, const char *os, const char *arch,
                      const char *variant, const char *author, struct gantry_oci_descriptor *d)
{
    char layer[GANTRY_DIGEST_MAX], config[GANTRY_DIGEST_MAX], man[GANTRY_DIGEST_MAX];
    _cleanup_free_ char *ldata = xasprintf("layer %s/%s/%s %s", os, arch, variant, author);
    put_string(f->s, ldata, layer);
    _cleanup_free_ char *cdata = xasprintf(
        "{\"architecture\":\"%s\",\"os\":\"%s\"%s%s%s,\"author\":\"%s\","
        "\"created\":\"2024-01-01T00:00:00Z\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}",
        arch, os, variant ? ",\"variant\":\"" : "", variant ? variant : "", variant ? "\"" : "",
        author);
    put_string(f->s, cdata, config);
    _cleanup_free_ char *mdata = xasprintf(
        "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{\"mediaType\":\"%s\","
        "\"digest\":\"%s\",\"size\":%zu},\"layers\":[{\"mediaType\":\"%s\",\"digest\":\"%s\","
        "\"size\":%zu}]}",
        GANTRY_MT_OCI_MANIFEST, GANTRY_MT_OCI_CONFIG, config, strlen(cdata), GANTRY_MT_OCI_LAYER,
        layer, strlen(ldata));
    put_string(f->s, mdata, man);
    gantry_oci_descriptor_init(d, GANTRY_MT_OCI_MANIFEST, man, (int64_t)strlen(mdata));
}

/*
 * docker.io/library/multi:1, an index of linux/amd64, linux/arm64,
 * linux/arm/v6, an attestation and linux/s390x (not stored); and
 * docker.io/library/single:1, a linux/amd64 manifest.
 */
static void put_multi(struct store_fixture *f, struct gantry_oci_descriptor kids[5])
{
    static const char *const plats[][3] = {{"linux", "amd64", NULL},
                                           {"linux", "arm64", NULL},
                                           {"linux", "arm", "v6"},
                                           {"unknown", "unknown", NULL},
                                           {"linux", "s390x", NULL}};
    for (size_t i = 0; i < 4; i++) {
        put_image(f, plats[i][0], plats[i][1], plats[i][2], "multi", &kids[i]);
        set_platform(&kids[i], plats[i][0], plats[i][1], plats[i][2]);
    }
    gantry_oci_descriptor_set_annotation(&kids[3], GANTRY_OCI_ANNOTATION_REFERENCE_TYPE,
                                         "attestation-manifest");
    gantry_oci_descriptor_init(
        &kids[4], GANTRY_MT_OCI_MANIFEST,
        "sha256:5555555555555555555555555555555555555555555555555555555555555555", 100);
    set_platform(&kids[4], "linux", "s390x", NULL);
    _cleanup_descriptor_ struct gantry_oci_descriptor top = GANTRY_OCI_DESCRIPTOR_INIT;
    put_oci_index(f->s, kids, 5, &top);
    set_ref(f->s, "docker.io/library/multi:1", &top);
    _cleanup_descriptor_ struct gantry_oci_descriptor single = GANTRY_OCI_DESCRIPTOR_INIT;
    put_image(f, "linux", "amd64", NULL, "single", &single);
    set_ref(f->s, "docker.io/library/single:1", &single);
}

static void release_kids(struct gantry_oci_descriptor kids[5])
{
    for (size_t i = 0; i < 5; i++)
        gantry_oci_descriptor_release(&kids[i]);
}

static void resolve_ok(struct store_fixture *f, const char *what, const char *digest,
                       const char *want_name)
{
    _cleanup_descriptor_ struct gantry_oci_descriptor d = GANTRY_OCI_DESCRIPTOR_INIT;
    _cleanup_free_ char *name = NULL;
    struct gantry_error *err = NULL;
    must(gantry_image_resolve(f->s, what, &d, &name, &err), &err);
    assert_string_equal(d.digest, digest);
    if (want_name)
        assert_string_equal(name, want_name);
    else
        assert_null(name);
}

static void resolve_fails(struct store_fixture *f, const char *what, enum gantry_error_code code,
                          const char *needle)
{
    struct gantry_oci_descriptor d = GANTRY_OCI_DESCRIPTOR_INIT;
    _cleanup_error_ struct gantry_error *err = NULL;
    assert_int_equal(gantry_image_resolve(f->s, what, &d, NULL, &err), -1);
    assert_null(d.digest);
    assert_int_equal(err->code, code);
    if (!strstr(err->message, needle))
        fail_msg("'%s': message '%s' lacks '%s'", what, err->message, needle);
}

static void test_image__resolve(void **state)
{
    struct store_fixture *f = *state;
    struct gantry_oci_descriptor kids[5] = {0};
    put_multi(f, kids);
    _cleanup_descriptor_ struct gantry_oci_descriptor top = GANTRY_OCI_DESCRIPTOR_INIT;
    struct gantry_error *err = NULL;
    must(gantry_store_ref_get(f->s, "docker.io/library/multi:1", &top, &err), &err);
    _cleanup_descriptor_ struct gantry_oci_descriptor single = GANTRY_OCI_DESCRIPTOR_INIT;
    must(gantry_store_ref_get(f->s, "docker.io/library/single:1", &single, &err), &err);
    resolve_ok(f, "multi:1", top.digest, "docker.io/library/multi:1");
    resolve_ok(f, "docker.io/library/single:1", single.digest, "docker.io/library/single:1");
    resolve_ok(f, top.digest, top.digest, NULL);
    _cleanup_free_ char *by_digest = xasprintf("multi@%s", top.digest);
    resolve_ok(f, by_digest, top.digest, "docker.io/library/multi:1");
    /* The id of a single-platform image is its config digest. */
    _cleanup_manifest_ struct gantry_oci_manifest *m = image_load_manifest(f->s, &single, &err);
    must(m ? 0 : -1, &err);
    _cleanup_free_ char *short_id = xstrndup(gantry_digest_hex(m->config.digest), 12);
    resolve_ok(f, short_id, single.digest, NULL);
    resolve_ok(f, m->config.digest, single.digest, NULL);
    resolve_fails(f, "multi:2", GANTRY_E_NOT_FOUND, "no such image: 'multi:2'");
    resolve_fails(f, "Uppercase:tag", GANTRY_E_INVALID_ARG, "repository name must be lowercase");
    _cleanup_free_ char *other = xasprintf("single@%s", top.digest);
    resolve_fails(f, other, GANTRY_E_NOT_FOUND, "no such image");
    resolve_fails(f, "ffffffffffff", GANTRY_E_NOT_FOUND, "no such image: 'ffffffffffff'");
    release_kids(kids);
}

static char *amb_config(unsigned author)
{
    return xasprintf("{\"architecture\":\"amd64\",\"os\":\"linux\",\"author\":\"%u\","
                     "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}",
                     author);
}

static void put_amb(struct store_fixture *f, unsigned author, unsigned k)
{
    _cleanup_free_ char *cd = amb_config(author);
    char cdig[GANTRY_DIGEST_MAX], mdig[GANTRY_DIGEST_MAX];
    put_string(f->s, cd, cdig);
    _cleanup_free_ char *md =
        xasprintf("{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{\"mediaType\":\"%s\","
                  "\"digest\":\"%s\",\"size\":%zu},\"layers\":[]}",
                  GANTRY_MT_OCI_MANIFEST, GANTRY_MT_OCI_CONFIG, cdig, strlen(cd));
    put_string(f->s, md, mdig);
    _cleanup_descriptor_ struct gantry_oci_descriptor d = GANTRY_OCI_DESCRIPTOR_INIT;
    gantry_oci_descriptor_init(&d, GANTRY_MT_OCI_MANIFEST, mdig, (int64_t)strlen(md));
    _cleanup_free_ char *name = xasprintf("docker.io/library/amb:%u", k);
    set_ref(f->s, name, &d);
}

/* Two images whose config digests share their first four hex digits. */
static void test_image__resolve_ambiguous_prefix(void **state)
{
    struct store_fixture *f = *state;
    static unsigned first[65536]; /* 1 + the author that gave this prefix */
    memset(first, 0, sizeof(first));
    for (unsigned i = 0; i < 100000; i++) {
        _cleanup_free_ char *data = amb_config(i);
        char d[GANTRY_DIGEST_MAX], hex4[5] = {0};
        gantry_digest_bytes(GANTRY_DIGEST_SHA256, data, strlen(data), d);
        memcpy(hex4, gantry_digest_hex(d), 4);
        unsigned p = (unsigned)strtoul(hex4, NULL, 16);
        if (!first[p]) {
            first[p] = i + 1;
            continue;
        }
        put_amb(f, first[p] - 1, 0);
        put_amb(f, i, 1);
        resolve_fails(f, hex4, GANTRY_E_INVALID_ARG, "image id prefix '");
        resolve_fails(f, hex4, GANTRY_E_INVALID_ARG, "is ambiguous");
        return;
    }
    fail_msg("no shared prefix found");
}

static void select_ok(struct store_fixture *f, const char *ref, const char *want, bool strict,
                      const struct gantry_oci_descriptor *expect, const char *expect_platform)
{
    _cleanup_descriptor_ struct gantry_oci_descriptor top = GANTRY_OCI_DESCRIPTOR_INIT;
    _cleanup_descriptor_ struct gantry_oci_descriptor child = GANTRY_OCI_DESCRIPTOR_INIT;
    _cleanup_platform_ struct gantry_platform p = GANTRY_PLATFORM_INIT;
    struct gantry_error *err = NULL;
    must(gantry_image_resolve(f->s, ref, &top, NULL, &err), &err);
    if (want)
        must(gantry_platform_parse(want, strlen(want), &p, &err), &err);
    must(gantry_image_select_platform(f->s, &top, want ? &p : NULL, strict, &child, &err), &err);
    assert_string_equal(child.digest, expect->digest);
    assert_non_null(child.platform);
    struct gantry_platform got = GANTRY_PLATFORM_INIT;
    image_platform_from_oci(child.platform, &got);
    _cleanup_free_ char *s = gantry_platform_format(&got);
    gantry_platform_release(&got);
    assert_string_equal(s, expect_platform);
}

static void select_fails(struct store_fixture *f, const char *ref, const char *want, bool strict,
                         const char *message)
{
    _cleanup_descriptor_ struct gantry_oci_descriptor top = GANTRY_OCI_DESCRIPTOR_INIT;
    struct gantry_oci_descriptor child = GANTRY_OCI_DESCRIPTOR_INIT;
    _cleanup_platform_ struct gantry_platform p = GANTRY_PLATFORM_INIT;
    struct gantry_error *err = NULL;
    must(gantry_image_resolve(f->s, ref, &top, NULL, &err), &err);
    must(gantry_platform_parse(want, strlen(want), &p, &err), &err);
    assert_int_equal(gantry_image_select_platform(f->s, &top, &p, strict, &child, &err), -1);
    assert_null(child.digest);
    assert_int_equal(err->code, GANTRY_E_NOT_FOUND);
    assert_string_equal(err->message, message);
    gantry_error_free(err);
}

static void test_image__select_platform(void **state)
{
    struct store_fixture *f = *state;
    struct gantry_oci_descriptor kids[5] = {0};
    put_multi(f, kids);
    select_ok(f, "multi:1", "linux/arm64", false, &kids[1], "linux/arm64");
    select_ok(f, "multi:1", "aarch64", false, &kids[1], "linux/arm64");
    select_ok(f, "multi:1", NULL, false, &kids[0], "linux/amd64");
    setenv(GANTRY_HOST_PLATFORM_ENV, "linux/arm64/v8", 1);
    select_ok(f, "multi:1", NULL, false, &kids[1], "linux/arm64");
    /* arm/v7 falls back to arm/v6, unless strict. */
    select_ok(f, "multi:1", "linux/arm/v7", false, &kids[2], "linux/arm/v6");
    const char *has = "(it has: linux/amd64, linux/arm64, linux/arm/v6, linux/s390x(missing))";
    _cleanup_free_ char *strict_msg =
        xasprintf("no matching manifest for linux/arm/v7 in 'docker.io/library/multi:1' %s", has);
    select_fails(f, "multi:1", "linux/arm/v7", true, strict_msg);
    _cleanup_free_ char *riscv =
        xasprintf("no matching manifest for linux/riscv64 in 'docker.io/library/multi:1' %s", has);
    select_fails(f, "multi:1", "linux/riscv64", false, riscv);
    _cleanup_free_ char *s390 = xasprintf(
        "manifest for linux/s390x in 'docker.io/library/multi:1' is not in the store %s", has);
    select_fails(f, "multi:1", "linux/s390x", false, s390);
    /* A single manifest: its config decides. */
    _cleanup_descriptor_ struct gantry_oci_descriptor single = GANTRY_OCI_DESCRIPTOR_INIT;
    struct gantry_error *err = NULL;
    must(gantry_store_ref_get(f->s, "docker.io/library/single:1", &single, &err), &err);
    select_ok(f, "single:1", "linux/amd64", true, &single, "linux/amd64");
    select_fails(f, "single:1", "linux/arm64", false,
                 "no matching manifest for linux/arm64 in 'docker.io/library/single:1' "
                 "(it has: linux/amd64)");
    release_kids(kids);
}

/* ---- import and the rest, from a hand-made tarball ---- */

static void octal(char *field, size_t width, uint64_t v)
{
    snprintf(field, width, "%0*llo", (int)width - 1, (unsigned long long)v);
}

/* A ustar archive with one regular file, into path. */
static void write_tar(const char *path, const char *name, const char *content, bool truncate)
{
    char hdr[512] = {0};
    snprintf(hdr, 100, "%s", name);
    octal(hdr + 100, 8, 0644);
    octal(hdr + 108, 8, 0);
    octal(hdr + 116, 8, 0);
    octal(hdr + 124, 12, strlen(content));
    octal(hdr + 136, 12, 0);
    hdr[156] = '0';
    memcpy(hdr + 257, "ustar", 6);
    memcpy(hdr + 263, "00", 2);
    memset(hdr + 148, ' ', 8);
    unsigned sum = 0;
    for (size_t i = 0; i < sizeof(hdr); i++)
        sum += (unsigned char)hdr[i];
    snprintf(hdr + 148, 8, "%06o", sum);
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    fwrite(hdr, 1, sizeof(hdr), fp);
    char block[512] = {0};
    memcpy(block, content, strlen(content));
    fwrite(block, 1, truncate ? 100 : sizeof(block), fp);
    char end[1024] = {0};
    if (!truncate)
        fwrite(end, 1, sizeof(end), fp);
    fclose(fp);
}

static int import_file(struct store_fixture *f, const char *ref,
                       const struct gantry_image_import_opts *o, bool truncate,
                       char id[GANTRY_DIGEST_MAX], struct gantry_error **err)
{
    _cleanup_free_ char *path = xasprintf("%s/rootfs.tar", f->root);
    write_tar(path, "etc/hello", "hello world\n", truncate);
    _cleanup_close_ int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    return gantry_image_import(f->s, fd, ref, o, id, err);
}

static void test_image__import_inspect(void **state)
{
    struct store_fixture *f = *state;
    _cleanup_platform_ struct gantry_platform p = GANTRY_PLATFORM_INIT;
    assert_int_equal(gantry_platform_parse("armhf", 5, &p, NULL), 0);
    const char *changes[] = {"CMD [\"/bin/sh\"]", "ENV A=1", "LABEL x=y"};
    struct gantry_image_import_opts o = {.platform = &p,
                                         .changes = changes,
                                         .n_changes = 3,
                                         .message = "from a test",
                                         .compression = GANTRY_COMPRESSION_GZIP};
    char id[GANTRY_DIGEST_MAX];
    struct gantry_error *err = NULL;
    must(import_file(f, "imp:1", &o, false, id, &err), &err);
    assert_true(str_has_prefix(id, "sha256:"));
    assert_int_equal(store_count_entries(f, "blobs/sha256"), 3);
    assert_int_equal(store_count_entries(f, "tmp"), 0);
    _cleanup_platform_ struct gantry_platform arm = GANTRY_PLATFORM_INIT;
    assert_int_equal(gantry_platform_parse("linux/arm/v7", 12, &arm, NULL), 0);
    json_t *j = gantry_image_inspect(f->s, "imp:1", &arm, &err);
    must(j ? 0 : -1, &err);
    assert_string_equal(json_string_value(json_object_get(j, "Id")), id);
    assert_string_equal(json_string_value(json_object_get(j, "Os")), "linux");
    assert_string_equal(json_string_value(json_object_get(j, "Architecture")), "arm");
    assert_string_equal(json_string_value(json_object_get(j, "Variant")), "v7");
    assert_string_equal(json_string_value(json_object_get(j, "Comment")), "from a test");
    json_t *tags = json_object_get(j, "RepoTags");
    assert_int_equal(json_array_size(tags), 1);
    assert_string_equal(json_string_value(json_array_get(tags, 0)), "imp:1");
    json_t *config = json_object_get(j, "Config");
    assert_string_equal(json_string_value(json_array_get(json_object_get(config, "Cmd"), 0)),
                        "/bin/sh");
    assert_string_equal(json_string_value(json_object_get(json_object_get(config, "Labels"), "x")),
                        "y");
    assert_int_equal(json_array_size(json_object_get(json_object_get(j, "RootFS"), "Layers")), 1);
    assert_null(json_object_get(j, "Manifests"));
    json_decref(j);
    /* The host (amd64) does not choose for a single-platform image... */
    j = gantry_image_inspect(f->s, "imp:1", NULL, &err);
    must(j ? 0 : -1, &err);
    assert_string_equal(json_string_value(json_object_get(j, "Architecture")), "arm");
    json_decref(j);
    /* ...but an explicit platform must match. */
    _cleanup_platform_ struct gantry_platform amd = GANTRY_PLATFORM_INIT;
    assert_int_equal(gantry_platform_parse("linux/amd64", 11, &amd, NULL), 0);
    j = gantry_image_inspect(f->s, "imp:1", &amd, &err);
    assert_null(j);
    assert_non_null(strstr(err->message, "no matching manifest for linux/amd64 in "
                                         "'docker.io/library/imp:1' (it has: linux/arm/v7)"));
    gantry_error_free(err);
}

static void test_image__import_reproducible(void **state)
{
    struct store_fixture *f = *state;
    setenv("SOURCE_DATE_EPOCH", "0", 1);
    struct gantry_image_import_opts o = {.compression = GANTRY_COMPRESSION_ZSTD};
    char a[GANTRY_DIGEST_MAX], b[GANTRY_DIGEST_MAX];
    struct gantry_error *err = NULL;
    must(import_file(f, "r:1", &o, false, a, &err), &err);
    must(import_file(f, "r:2", &o, false, b, &err), &err);
    assert_string_equal(a, b);
    json_t *j = gantry_image_inspect(f->s, "r:2", NULL, &err);
    must(j ? 0 : -1, &err);
    assert_string_equal(json_string_value(json_object_get(j, "Created")), "1970-01-01T00:00:00Z");
    assert_string_equal(json_string_value(json_object_get(j, "Architecture")), "amd64");
    assert_null(json_object_get(j, "Variant"));
    assert_int_equal(json_array_size(json_object_get(j, "RepoTags")), 2);
    json_decref(j);
    setenv("SOURCE_DATE_EPOCH", "soon", 1);
    assert_int_equal(import_file(f, "r:3", &o, false, a, &err), -1);
    assert_non_null(strstr(err->message, "invalid SOURCE_DATE_EPOCH 'soon'"));
    gantry_error_free(err);
    unsetenv("SOURCE_DATE_EPOCH");
}

static void import_fails(struct store_fixture *f, const char *ref,
                         const struct gantry_image_import_opts *o, bool truncate,
                         const char *needle)
{
    char id[GANTRY_DIGEST_MAX];
    _cleanup_error_ struct gantry_error *err = NULL;
    assert_int_equal(import_file(f, ref, o, truncate, id, &err), -1);
    if (!strstr(err->message, needle))
        fail_msg("import '%s': message '%s' lacks '%s'", ref, err->message, needle);
    assert_int_equal(store_count_entries(f, "blobs/sha256"), 0);
    assert_int_equal(store_count_entries(f, "tmp"), 0);
    struct gantry_store_ref *refs = NULL;
    size_t n = 0;
    assert_int_equal(gantry_store_ref_list(f->s, &refs, &n, NULL), 0);
    assert_int_equal(n, 0);
    gantry_store_ref_list_free(refs, n);
}

static void test_image__import_failures_leave_nothing(void **state)
{
    struct store_fixture *f = *state;
    struct gantry_image_import_opts o = {.compression = GANTRY_COMPRESSION_GZIP};
    import_fails(f, "ok:1", &o, true, "import 'ok:1'");
    import_fails(f, "Bad:1", &o, false, "repository name must be lowercase");
    import_fails(f, "x@sha256:5555555555555555555555555555555555555555555555555555555555555555", &o,
                 false, "a name cannot contain a digest");
    const char *bad_change[] = {"ONBUILD RUN x"};
    struct gantry_image_import_opts oc = {.changes = bad_change, .n_changes = 1};
    import_fails(f, "ok:1", &oc, false, "ONBUILD is not supported by import");
}

static void test_image__list_tag_remove_prune(void **state)
{
    struct store_fixture *f = *state;
    struct gantry_oci_descriptor kids[5] = {0};
    put_multi(f, kids);
    struct gantry_image_import_opts o = {.compression = GANTRY_COMPRESSION_NONE};
    char id[GANTRY_DIGEST_MAX];
    struct gantry_error *err = NULL;
    must(import_file(f, "localhost:5000/imp", &o, false, id, &err), &err);
    must(gantry_image_tag(f->s, "localhost:5000/imp", "imp:copy", &err), &err);
    struct gantry_image_list l = {0};
    must(gantry_image_list(f->s, NULL, &l, &err), &err);
    assert_int_equal(l.n_items, 4);
    /* Sorted by full name: docker.io/library/{imp,multi,single}, localhost:5000/imp. */
    assert_string_equal(l.items[0].repository, "imp");
    assert_string_equal(l.items[0].tag, "copy");
    assert_string_equal(l.items[0].id, id);
    assert_string_equal(l.items[3].repository, "localhost:5000/imp");
    assert_string_equal(l.items[3].tag, "latest");
    const struct gantry_image_summary *multi = &l.items[1];
    assert_true(multi->is_index);
    assert_string_equal(multi->id, multi->digest);
    assert_int_equal(multi->n_platforms, 4);
    assert_string_equal(multi->platforms[2].name, "linux/arm/v6");
    assert_true(multi->platforms[2].present);
    assert_string_equal(multi->platforms[3].name, "linux/s390x");
    assert_false(multi->platforms[3].present);
    assert_int_equal(multi->created, 1704067200);
    assert_true(multi->size > 0);
    gantry_image_list_release(&l);
    must(gantry_image_list(f->s, "imp", &l, &err), &err);
    assert_int_equal(l.n_items, 1);
    gantry_image_list_release(&l);
    must(gantry_image_list(f->s, "multi:2", &l, &err), &err);
    assert_int_equal(l.n_items, 0);
    gantry_image_list_release(&l);
    /* rmi by id: two names, so only with force. */
    _cleanup_error_ struct gantry_error *e = NULL;
    assert_int_equal(gantry_image_remove(f->s, id, false, NULL, &e), -1);
    assert_non_null(strstr(e->message, "referenced by several names"));
    char **removed = NULL;
    must(gantry_image_remove(f->s, id + 7, true, &removed, &err), &err);
    assert_strv(removed, 2,
                (const char *const[]){"localhost:5000/imp:latest", "docker.io/library/imp:copy"},
                2);
    image_strv_free(removed);
    must(gantry_image_remove(f->s, "single:1", false, NULL, &err), &err);
    struct gantry_image_prune_result r = {0};
    must(gantry_image_prune(f->s, &r, &err), &err);
    /* import: layer, config, manifest; single: layer, config, manifest. */
    assert_int_equal(r.blobs_deleted, 6);
    assert_true(r.bytes_reclaimed > 0);
    must(gantry_image_list(f->s, NULL, &l, &err), &err);
    assert_int_equal(l.n_items, 1);
    gantry_image_list_release(&l);
    release_kids(kids);
}

static void test_image__tag_rejects_bad_targets(void **state)
{
    struct store_fixture *f = *state;
    struct gantry_oci_descriptor kids[5] = {0};
    put_multi(f, kids);
    static const char *const bad[][2] = {
        {"Upper:1", "repository name must be lowercase"},
        {"a:.dot", "invalid tag"},
        {"a@sha256:5555555555555555555555555555555555555555555555555555555555555555",
         "a name cannot contain a digest"},
        {"[fe80::1%eth0]:5000/repo", "invalid reference"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        _cleanup_error_ struct gantry_error *err = NULL;
        assert_int_equal(gantry_image_tag(f->s, "multi:1", bad[i][0], &err), -1);
        if (!strstr(err->message, bad[i][1]))
            fail_msg("'%s': '%s' lacks '%s'", bad[i][0], err->message, bad[i][1]);
    }
    _cleanup_error_ struct gantry_error *err = NULL;
    assert_int_equal(gantry_image_tag(f->s, "nothere", "a:1", &err), -1);
    assert_string_equal(err->message, "no such image: 'nothere'");
    release_kids(kids);
}

static void test_image__inspect_corrupt_blob(void **state)
{
    struct store_fixture *f = *state;
    struct gantry_image_import_opts o = {.compression = GANTRY_COMPRESSION_GZIP};
    char id[GANTRY_DIGEST_MAX];
    struct gantry_error *err = NULL;
    must(import_file(f, "c:1", &o, false, id, &err), &err);
    _cleanup_free_ char *path = xasprintf("%s/blobs/sha256/%s", f->store_dir, id + 7);
    chmod(path, 0644);
    FILE *fp = fopen(path, "r+b");
    assert_non_null(fp);
    int c = fgetc(fp);
    fseek(fp, 0, SEEK_SET);
    fputc(c ^ 0x20, fp);
    fclose(fp);
    json_t *j = gantry_image_inspect(f->s, "c:1", NULL, &err);
    assert_null(j);
    if (!strstr(err->message, id))
        fail_msg("message '%s' does not name the blob %s", err->message, id);
    gantry_error_free(err);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, pinned_store_teardown)
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_image__change_cmd_entrypoint),
        cmocka_unit_test(test_image__change_env_label),
        cmocka_unit_test(test_image__change_expose_volume),
        cmocka_unit_test(test_image__change_user_workdir_signal),
        cmocka_unit_test(test_image__change_refused),
        cmocka_unit_test(test_image__path_clean),
        cmocka_unit_test(test_image__times),
        cmocka_unit_test(test_image__layer_media_type),
        T(test_image__resolve),
        T(test_image__resolve_ambiguous_prefix),
        T(test_image__select_platform),
        T(test_image__import_inspect),
        T(test_image__import_reproducible),
        T(test_image__import_failures_leave_nothing),
        T(test_image__list_tag_remove_prune),
        T(test_image__tag_rejects_bad_targets),
        T(test_image__inspect_corrupt_blob),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
