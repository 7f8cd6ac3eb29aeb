/*
 * Unit tests for image/nest.c, the platform choice through nested indexes
 * shared by local selection and the copy engine: documents come from a
 * table, so that cycles (which content addressing keeps out of a real
 * store) and absent children can be made at will.
 */
#include <gantry/oci.h>

#include "image/image_internal.h"
#include "image/image_nest.h"
#include "unit_helpers.h"

#define MT_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_MAN "application/vnd.oci.image.manifest.v1+json"

/* "sha256:" and 64 times c. */
static char *fake_digest(char c)
{
    char hex[65];
    memset(hex, c, 64);
    hex[64] = '\0';
    return xasprintf("sha256:%s", hex);
}

/* An index entry: a manifest of platform "os/arch[/variant]", or a nested index (plat NULL). */
static char *entry(char c, const char *plat)
{
    _cleanup_free_ char *d = fake_digest(c);
    if (!plat)
        return xasprintf("{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":100}", MT_INDEX, d);
    _cleanup_free_ char *os = xstrndup(plat, strcspn(plat, "/"));
    const char *arch = plat + strlen(os) + 1;
    _cleanup_free_ char *a = xstrndup(arch, strcspn(arch, "/"));
    const char *variant = arch[strlen(a)] ? arch + strlen(a) + 1 : NULL;
    _cleanup_free_ char *v = variant ? xasprintf(",\"variant\":\"%s\"", variant) : xstrdup("");
    return xasprintf("{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":100,"
                     "\"platform\":{\"os\":\"%s\",\"architecture\":\"%s\"%s}}",
                     MT_MAN, d, os, a, v);
}

/* An index document of up to 3 entries (NULL ends the list early). */
static char *index_doc(char *e0, char *e1, char *e2)
{
    _cleanup_free_ char *a = e0;
    _cleanup_free_ char *b = e1;
    _cleanup_free_ char *c = e2;
    return xasprintf("{\"schemaVersion\":2,\"mediaType\":\"%s\",\"manifests\":[%s%s%s%s%s]}",
                     MT_INDEX, a ? a : "", b ? "," : "", b ? b : "", c ? "," : "", c ? c : "");
}

/* The documents behind fake digests, and what the walk asked for. */
struct docs {
    char key[8];     /* key[i]: the digest character of doc[i] */
    char *doc[8];    /* NULL: not available */
    char missing[8]; /* manifests that are not present */
    int fetches;
    size_t chain0; /* entries of the last pick's chain[0] (0: none) */
};

static void docs_release(struct docs *d)
{
    for (size_t i = 0; i < ARRAY_SIZE(d->doc); i++)
        free(d->doc[i]);
}
#define _cleanup_docs_ __attribute__((cleanup(docs_release)))

static void docs_put(struct docs *d, char c, char *doc)
{
    size_t i = strlen(d->key);
    assert_true(i < ARRAY_SIZE(d->key) - 1);
    d->key[i] = c;
    d->doc[i] = doc;
}

static int fetch(void *user, const struct gantry_oci_descriptor *desc, struct gantry_buf *out,
                 struct gantry_error **err)
{
    struct docs *d = user;
    d->fetches++;
    gantry_buf_reset(out);
    const char *c = strchr(d->key, gantry_digest_hex(desc->digest)[0]);
    if (!c || !d->doc[c - d->key])
        return 0;
    if (gantry_buf_add(out, d->doc[c - d->key], strlen(d->doc[c - d->key])) < 0)
        return gantry_error_set(err, GANTRY_E_INTERNAL, 0, "buffer");
    return 1;
}

/* Entries whose digest character is in d->missing are not present. */
static int entry_fn(void *user, const struct gantry_oci_descriptor *desc,
                    struct gantry_platform *out, bool *present, struct gantry_error **err)
{
    (void)err;
    struct docs *d = user;
    *present = !strchr(d->missing, gantry_digest_hex(desc->digest)[0]);
    image_platform_from_oci(desc->platform, out);
    return 1;
}

static struct gantry_oci_index *parse(const char *doc)
{
    struct gantry_error *err = NULL;
    struct gantry_oci_index *idx = gantry_oci_index_parse(doc, strlen(doc), MT_INDEX, &err);
    if (!idx)
        fail_msg("parse: %s", err->message);
    return idx;
}

/*
 * Select want in top; the chosen entry's digest character, or 0 for none.
 * pick keeps its owned members (platform, seen); entry and chain dangle.
 */
static char pick_in(struct docs *d, const char *top_doc, const char *want_s, bool strict,
                    struct image_nest_pick *pick)
{
    _cleanup_index_ struct gantry_oci_index *top = parse(top_doc);
    _cleanup_platform_ struct gantry_platform want = GANTRY_PLATFORM_INIT;
    struct gantry_error *err = NULL;
    if (gantry_platform_parse(want_s, strlen(want_s), &want, &err) < 0)
        fail_msg("platform: %s", err->message);
    struct image_nest n = {.fetch = fetch, .entry = entry_fn, .user = d, .name = "app:1"};
    if (image_nest_select(&n, top, &want, strict, pick, &err) < 0)
        fail_msg("select %s: %s", want_s, err->message);
    char c = pick->entry ? gantry_digest_hex(pick->entry->digest)[0] : 0;
    /* entry and chain borrow from top and n: look at them before they go. */
    d->chain0 = pick->n_chain ? pick->chain[0]->n_manifests : 0;
    image_nest_release(&n);
    return c;
}

/* The error of selecting want in top (caller frees). */
static struct gantry_error *select_fails(struct docs *d, const char *top_doc, const char *want_s)
{
    _cleanup_index_ struct gantry_oci_index *top = parse(top_doc);
    _cleanup_platform_ struct gantry_platform want = GANTRY_PLATFORM_INIT;
    struct gantry_error *err = NULL;
    assert_int_equal(gantry_platform_parse(want_s, strlen(want_s), &want, &err), 0);
    struct image_nest n = {.fetch = fetch, .user = d, .name = "app:1"};
    _cleanup_nest_pick_ struct image_nest_pick pick = IMAGE_NEST_PICK_INIT;
    assert_int_equal(image_nest_select(&n, top, &want, false, &pick, &err), -1);
    assert_non_null(err);
    image_nest_release(&n);
    return err;
}

static void test_image_nest__best_through_levels(void **state)
{
    (void)state;
    _cleanup_docs_ struct docs d = {0};
    docs_put(&d, 'a', index_doc(entry('2', "linux/arm64"), entry('3', "linux/amd64"), NULL));
    _cleanup_free_ char *top = index_doc(entry('1', "linux/arm/v7"), entry('a', NULL), NULL);
    _cleanup_nest_pick_ struct image_nest_pick p = IMAGE_NEST_PICK_INIT;
    /* A direct exact match: nothing read. */
    assert_int_equal(pick_in(&d, top, "linux/arm/v7", false, &p), '1');
    assert_int_equal(p.n_chain, 0);
    assert_int_equal(d.fetches, 0);
    /* arm/v7 would do for arm64, but the nested arm64 is exact. */
    assert_int_equal(pick_in(&d, top, "linux/arm64", false, &p), '2');
    assert_int_equal(p.rank, 0);
    assert_int_equal(p.n_chain, 1);
    assert_int_equal(d.chain0, 2);
    assert_string_equal(p.platform.architecture, "arm64");
    assert_int_equal(d.fetches, 1);
    /* amd64/v2 falls back to amd64, found one level down. */
    assert_int_equal(pick_in(&d, top, "linux/amd64/v2", false, &p), '3');
    assert_true(p.rank > 0);
    /* Strict: only exact. */
    assert_int_equal(pick_in(&d, top, "linux/arm64/v8", true, &p), '2');
    assert_int_equal(pick_in(&d, top, "linux/riscv64", false, &p), 0);
    assert_string_equal(p.seen.data, "linux/arm/v7, linux/arm64, linux/amd64");
    assert_false(p.missing_match);
}

static void test_image_nest__ties_first_met(void **state)
{
    (void)state;
    _cleanup_docs_ struct docs d = {0};
    docs_put(&d, 'a', index_doc(entry('2', "linux/arm64"), NULL, NULL));
    docs_put(&d, 'b', index_doc(entry('3', "linux/arm64"), entry('4', "linux/arm/v7"), NULL));
    _cleanup_free_ char *top =
        index_doc(entry('1', "linux/arm/v6"), entry('a', NULL), entry('b', NULL));
    _cleanup_nest_pick_ struct image_nest_pick p = IMAGE_NEST_PICK_INIT;
    assert_int_equal(pick_in(&d, top, "linux/arm64", false, &p), '2');
    /* arm/v7 for arm/v8: the v7 two levels in beats the direct v6. */
    assert_int_equal(pick_in(&d, top, "linux/arm/v8", false, &p), '4');
    assert_string_equal(p.seen.data, "linux/arm/v6, linux/arm64, linux/arm/v7");
}

static void test_image_nest__missing_not_chosen_but_listed(void **state)
{
    (void)state;
    _cleanup_docs_ struct docs d = {.missing = "2"};
    docs_put(&d, 'a', index_doc(entry('2', "linux/arm64"), entry('b', NULL), NULL));
    docs_put(&d, 'b', NULL); /* a nested index that is not stored */
    _cleanup_free_ char *top = index_doc(entry('1', "linux/arm/v7"), entry('a', NULL), NULL);
    _cleanup_nest_pick_ struct image_nest_pick p = IMAGE_NEST_PICK_INIT;
    /* The missing arm64 is not taken; the present arm/v7 suits arm64 too. */
    assert_int_equal(pick_in(&d, top, "linux/arm64", false, &p), '1');
    assert_true(p.missing_match);
    assert_int_equal(pick_in(&d, top, "linux/s390x", false, &p), 0);
    assert_false(p.missing_match);
    assert_string_equal(p.seen.data, "linux/arm/v7, linux/arm64(missing), "
                                     "index bbbbbbbbbbbb(missing)");
    assert_int_equal(pick_in(&d, top, "linux/arm64", true, &p), 0);
    assert_true(p.missing_match);
}

static void test_image_nest__cycle_refused(void **state)
{
    (void)state;
    _cleanup_docs_ struct docs d = {0};
    docs_put(&d, 'a', index_doc(entry('2', "linux/arm64"), entry('b', NULL), NULL));
    docs_put(&d, 'b', index_doc(entry('3', "linux/amd64"), entry('a', NULL), NULL));
    docs_put(&d, 'c', index_doc(entry('c', NULL), NULL, NULL));
    _cleanup_free_ char *top = index_doc(entry('a', NULL), NULL, NULL);
    _cleanup_error_ struct gantry_error *err = select_fails(&d, top, "linux/s390x");
    assert_int_equal(err->code, GANTRY_E_INVALID_ARG);
    _cleanup_free_ char *a = fake_digest('a');
    _cleanup_free_ char *msg =
        xasprintf("index cycle in 'app:1': %s lists itself or an index above it", a);
    assert_string_equal(err->message, msg);
    /* An index listing itself. */
    _cleanup_free_ char *top2 = index_doc(entry('c', NULL), NULL, NULL);
    _cleanup_error_ struct gantry_error *err2 = select_fails(&d, top2, "linux/s390x");
    assert_int_equal(err2->code, GANTRY_E_INVALID_ARG);
    assert_non_null(strstr(err2->message, "cccccccc lists itself"));
}

static void test_image_nest__depth_cap(void **state)
{
    (void)state;
    _cleanup_docs_ struct docs d = {0};
    /* a -> b -> c -> d -> e; only e has an image. */
    docs_put(&d, 'a', index_doc(entry('b', NULL), NULL, NULL));
    docs_put(&d, 'b', index_doc(entry('c', NULL), NULL, NULL));
    docs_put(&d, 'c', index_doc(entry('d', NULL), NULL, NULL));
    docs_put(&d, 'd', index_doc(entry('e', NULL), NULL, NULL));
    docs_put(&d, 'e', index_doc(entry('2', "linux/arm64"), NULL, NULL));
    /* e four levels below the top: found. */
    _cleanup_free_ char *four = index_doc(entry('b', NULL), NULL, NULL);
    _cleanup_nest_pick_ struct image_nest_pick p = IMAGE_NEST_PICK_INIT;
    assert_int_equal(pick_in(&d, four, "linux/arm64", false, &p), '2');
    assert_int_equal(p.n_chain, 4);
    /* Five: refused. */
    _cleanup_free_ char *five = index_doc(entry('a', NULL), NULL, NULL);
    _cleanup_error_ struct gantry_error *err = select_fails(&d, five, "linux/arm64");
    assert_int_equal(err->code, GANTRY_E_UNSUPPORTED);
    _cleanup_free_ char *e = fake_digest('e');
    _cleanup_free_ char *msg =
        xasprintf("indexes nested too deep in 'app:1': %s is more than 4 levels down", e);
    assert_string_equal(err->message, msg);
}

/* Documents under their real digests (already_read compares those). */
struct real_docs {
    struct gantry_oci_index *idx[2];
    int fetches;
};

static int fetch_real(void *user, const struct gantry_oci_descriptor *desc, struct gantry_buf *out,
                      struct gantry_error **err)
{
    struct real_docs *r = user;
    r->fetches++;
    gantry_buf_reset(out);
    for (size_t i = 0; i < ARRAY_SIZE(r->idx); i++)
        if (strcmp(r->idx[i]->digest, desc->digest) == 0)
            return gantry_buf_add(out, r->idx[i]->raw, r->idx[i]->raw_len) < 0 ? -1 : 1;
    return gantry_error_set(err, GANTRY_E_NOT_FOUND, 0, "no %s", desc->digest);
}

/* A nested-index entry for idx. */
static char *entry_of(const struct gantry_oci_index *idx)
{
    return xasprintf("{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu}", MT_INDEX, idx->digest,
                     idx->raw_len);
}

static void test_image_nest__read_all(void **state)
{
    (void)state;
    _cleanup_free_ char *b = index_doc(entry('3', "linux/amd64"), NULL, NULL);
    _cleanup_index_ struct gantry_oci_index *bi = parse(b);
    _cleanup_free_ char *a = index_doc(entry_of(bi), entry('2', "linux/arm64"), NULL);
    _cleanup_index_ struct gantry_oci_index *ai = parse(a);
    struct real_docs r = {.idx = {ai, bi}};
    _cleanup_free_ char *doc = index_doc(entry_of(ai), entry_of(bi), NULL);
    _cleanup_index_ struct gantry_oci_index *top = parse(doc);
    struct image_nest n = {.fetch = fetch_real, .user = &r, .name = "app:1"};
    struct gantry_error *err = NULL;
    assert_int_equal(image_nest_read_all(&n, top, &err), 0);
    /* Each index read once, after the indexes it lists: b, then a. */
    assert_int_equal(r.fetches, 2);
    assert_int_equal(n.n_read, 2);
    assert_string_equal(n.read[0]->digest, bi->digest);
    assert_string_equal(n.read[1]->digest, ai->digest);
    image_nest_release(&n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_image_nest__best_through_levels),
        cmocka_unit_test(test_image_nest__ties_first_met),
        cmocka_unit_test(test_image_nest__missing_not_chosen_but_listed),
        cmocka_unit_test(test_image_nest__cycle_refused),
        cmocka_unit_test(test_image_nest__depth_cap),
        cmocka_unit_test(test_image_nest__read_all),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
