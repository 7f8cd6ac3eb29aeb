/*
 * Helpers shared by the unit tests, static inline so that each test takes
 * what it uses: scratch directories under $GANTRY_TEST_TMP, a fresh store
 * per test, blobs and names written into it, and failing the test on an
 * unexpected error.
 *
 *     static int setup(void **state)
 *     {
 *         return store_fixture_setup(state, "test_x");
 *     }
 *
 *     static void test_x__y(void **state)
 *     {
 *         struct store_fixture *f = *state;
 *         char digest[GANTRY_DIGEST_MAX];
 *         put_string(f->s, "data", digest);
 *         ...
 *     }
 *
 *     cmocka_unit_test_setup_teardown(test_x__y, setup, store_fixture_teardown)
 */
#ifndef GANTRY_UNIT_HELPERS_H
#define GANTRY_UNIT_HELPERS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <dirent.h>
#include <ftw.h>
#include <sys/stat.h>

#include <gantry/oci.h>
#include <gantry/platform.h>
#include <gantry/store.h>

#include "util.h"

/* Where scratch files go: $GANTRY_TEST_TMP (created if missing), or /tmp. */
static inline const char *test_tmp_base(void)
{
    const char *base = getenv("GANTRY_TEST_TMP");
    base = base && *base ? base : "/tmp";
    mkdir(base, 0755);
    return base;
}

/* A new empty directory "<base>/<name>-XXXXXX"; caller frees. NULL on failure. */
static inline char *test_mkdtemp(const char *name)
{
    char *dir = xasprintf("%s/%s-XXXXXX", test_tmp_base(), name);
    if (!mkdtemp(dir)) {
        free(dir);
        return NULL;
    }
    return dir;
}

static inline int test_rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Remove path and everything below it. */
static inline void test_rmtree(const char *path)
{
    nftw(path, test_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Create or replace the file path with the string data. */
static inline void test_write_file(const char *path, const char *data)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(data, fp);
    fclose(fp);
}

struct store_fixture {
    char *root; /* a fresh directory; the store lives in root/store */
    char *store_dir;
    struct gantry_store *s;
};

/* cmocka setup: a store_fixture in *state, its directory named after name. */
static inline int store_fixture_setup(void **state, const char *name)
{
    struct store_fixture *f = xcalloc(1, sizeof(*f));
    *state = f;
    f->root = test_mkdtemp(name);
    if (!f->root)
        return -1;
    f->store_dir = xasprintf("%s/store", f->root);
    struct gantry_error *err = NULL;
    f->s = gantry_store_open(f->store_dir, GANTRY_STORE_CREATE, &err);
    if (!f->s) {
        fprintf(stderr, "open: %s\n", err->message);
        gantry_error_free(err);
        return -1;
    }
    return 0;
}

/* cmocka teardown of store_fixture_setup: frees the store, removes the files. */
static inline int store_fixture_teardown(void **state)
{
    struct store_fixture *f = *state;
    gantry_store_free(f->s);
    if (f->root)
        test_rmtree(f->root);
    free(f->root);
    free(f->store_dir);
    free(f);
    return 0;
}

/*
 * store_fixture_setup, with results that do not depend on the machine or
 * the environment: the host platform pinned to linux/amd64 and no
 * SOURCE_DATE_EPOCH. Teardown: pinned_store_teardown.
 */
static inline int pinned_store_setup(void **state, const char *name)
{
    if (store_fixture_setup(state, name) < 0)
        return -1;
    unsetenv("SOURCE_DATE_EPOCH");
    setenv(GANTRY_HOST_PLATFORM_ENV, "linux/amd64", 1);
    return 0;
}

static inline int pinned_store_teardown(void **state)
{
    unsetenv(GANTRY_HOST_PLATFORM_ENV);
    return store_fixture_teardown(state);
}

/* "<store>/<rel>"; caller frees. */
static inline char *store_path_in(const struct store_fixture *f, const char *rel)
{
    return xasprintf("%s/%s", f->store_dir, rel);
}

/* Entries of the store's directory rel, not counting hidden ones. */
static inline size_t store_count_entries(const struct store_fixture *f, const char *rel)
{
    _cleanup_free_ char *dir = store_path_in(f, rel);
    DIR *d = opendir(dir);
    assert_non_null(d);
    size_t n = 0;
    const struct dirent *e;
    while ((e = readdir(d)))
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/*
 * Fail the test when rc < 0, with the message of *err (freed). The error
 * is taken by address: the call that fills it is an argument too, and C
 * leaves the order of evaluating arguments open.
 */
static inline void must(int rc, struct gantry_error **err)
{
    if (rc < 0) {
        fail_msg("unexpected error: %s", err && *err ? (*err)->message : "?");
        gantry_error_free(*err);
    }
}

/* Store len bytes of data as a blob; its digest into digest. */
static inline void put_blob(struct gantry_store *s, const void *data, size_t len,
                            char digest[GANTRY_DIGEST_MAX])
{
    _cleanup_error_ struct gantry_error *err = NULL;
    if (gantry_store_put_blob(s, data, len, digest, &err) < 0)
        fail_msg("put_blob: %s", err->message);
}

/* put_blob of a string (without its NUL). */
static inline void put_string(struct gantry_store *s, const char *data,
                              char digest[GANTRY_DIGEST_MAX])
{
    put_blob(s, data, strlen(data), digest);
}

/* Store an OCI index of kids[0..n); *out (overwritten) is its descriptor. */
static inline void put_oci_index(struct gantry_store *s, const struct gantry_oci_descriptor *kids,
                                 size_t n, struct gantry_oci_descriptor *out)
{
    struct gantry_error *err = NULL;
    struct gantry_oci_index *idx = gantry_oci_index_build(NULL, kids, n, &err);
    must(idx ? 0 : -1, &err);
    char digest[GANTRY_DIGEST_MAX];
    put_blob(s, idx->raw, idx->raw_len, digest);
    *out = (struct gantry_oci_descriptor)GANTRY_OCI_DESCRIPTOR_INIT;
    gantry_oci_descriptor_init(out, GANTRY_MT_OCI_INDEX, digest, (int64_t)idx->raw_len);
    gantry_oci_index_free(idx);
}

/* Point the name (a full reference) at d. */
static inline void set_ref(struct gantry_store *s, const char *name,
                           const struct gantry_oci_descriptor *d)
{
    struct gantry_error *err = NULL;
    must(gantry_store_ref_set(s, name, d, &err), &err);
}

/* Replace the platform of d with os/arch[/variant] (variant may be NULL). */
static inline void set_platform(struct gantry_oci_descriptor *d, const char *os, const char *arch,
                                const char *variant)
{
    gantry_oci_platform_free(d->platform);
    d->platform = xcalloc(1, sizeof(*d->platform));
    d->platform->os = xstrdup(os);
    d->platform->architecture = xstrdup(arch);
    d->platform->variant = variant ? xstrdup(variant) : NULL;
}

#endif
