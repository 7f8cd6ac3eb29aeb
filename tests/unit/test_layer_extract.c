/*
 * Unit tests for the safe extractor (layer/extract.c), one per row of
 * bad-inputs.md 4.4 that applies. Each test extracts into base/root next
 * to base/sentinel, a directory holding one file, and checks the sentinel
 * is untouched. Hostile links point at the sentinel by absolute path and
 * by "../" chains. Every test runs twice: with openat2 and with the hand
 * walk (GANTRY_EXTRACT_NO_OPENAT2=1).
 */
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#include <gantry/layer.h>

#include "unit_helpers.h"

#define MTIME 1600000000
#define SENTINEL_DATA "keep"

/* ---- tars ---- */

/* One entry: type f(ile) d(ir) l(symlink) h(ardlink) c(har) b(lock) p(fifo). */
struct ent {
    char type;
    const char *name;
    const char *arg; /* file data, or link target */
    unsigned mode;
    unsigned uid;
    unsigned gid;
};

static la_ssize_t tar_write_cb(struct archive *a, void *user, const void *data, size_t len)
{
    (void)a;
    return gantry_buf_add(user, data, len) < 0 ? -1 : (la_ssize_t)len;
}

static void add_ent(struct archive *a, struct archive_entry *ae, const struct ent *x)
{
    static const struct {
        char type;
        unsigned ae;
    } types[] = {{'f', AE_IFREG}, {'d', AE_IFDIR}, {'l', AE_IFLNK},
                 {'c', AE_IFCHR}, {'b', AE_IFBLK}, {'p', AE_IFIFO}};
    archive_entry_clear(ae);
    archive_entry_set_pathname(ae, x->name);
    archive_entry_set_mtime(ae, MTIME, 0);
    archive_entry_set_uid(ae, x->uid);
    archive_entry_set_gid(ae, x->gid);
    for (size_t i = 0; i < ARRAY_SIZE(types); i++)
        if (types[i].type == x->type)
            archive_entry_set_filetype(ae, types[i].ae);
    archive_entry_set_perm(ae, x->mode ? x->mode : (x->type == 'd' ? 0755 : 0644));
    if (x->type == 'h') {
        archive_entry_set_filetype(ae, AE_IFREG);
        archive_entry_set_hardlink(ae, x->arg);
    } else if (x->type == 'l') {
        archive_entry_set_symlink(ae, x->arg);
    } else if (x->type == 'c' || x->type == 'b') {
        archive_entry_set_rdevmajor(ae, 1);
        archive_entry_set_rdevminor(ae, 3);
    }
    size_t len = x->type == 'f' && x->arg ? strlen(x->arg) : 0;
    archive_entry_set_size(ae, (la_int64_t)len);
    assert_int_equal(archive_write_header(a, ae), ARCHIVE_OK);
    if (len)
        assert_int_equal(archive_write_data(a, x->arg, len), (la_ssize_t)len);
}

/* A pax tar of the n entries into out (replaced). */
static void make_tar(struct gantry_buf *out, const struct ent *ents, size_t n)
{
    gantry_buf_release(out);
    struct archive *a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    archive_write_set_bytes_per_block(a, 0);
    assert_int_equal(archive_write_open(a, out, NULL, tar_write_cb, NULL), ARCHIVE_OK);
    struct archive_entry *ae = archive_entry_new();
    for (size_t i = 0; i < n; i++)
        add_ent(a, ae, &ents[i]);
    archive_entry_free(ae);
    assert_int_equal(archive_write_close(a), ARCHIVE_OK);
    archive_write_free(a);
}

struct mem_in {
    const char *p;
    size_t len;
    size_t pos;
};

static ssize_t mem_read(void *user, void *buf, size_t len, struct gantry_error **err)
{
    (void)err;
    struct mem_in *m = user;
    size_t n = m->len - m->pos < len ? m->len - m->pos : len;
    memcpy(buf, m->p + m->pos, n);
    m->pos += n;
    return (ssize_t)n;
}

/* Apply one tar (len bytes) with x. */
static int apply_bytes(struct gantry_layer_extractor *x, const char *data, size_t len,
                       struct gantry_error **err)
{
    struct mem_in m = {.p = data, .len = len};
    struct gantry_layer_reader *r = gantry_layer_reader_open(mem_read, &m, NULL, err);
    if (!r)
        return -1;
    int rc = gantry_layer_extract_layer(x, r, err);
    gantry_layer_reader_free(r);
    return rc;
}

static int apply(struct gantry_layer_extractor *x, const struct ent *ents, size_t n,
                 struct gantry_error **err)
{
    _cleanup_buf_ struct gantry_buf tar = GANTRY_BUF_INIT;
    make_tar(&tar, ents, n);
    return apply_bytes(x, tar.data, tar.len, err);
}

/* ---- fixture: base/root and base/sentinel ---- */

struct fx {
    char *base;
    char *root;
    char *sentinel;
    struct gantry_layer_extractor *x;
};

static int fx_setup(void **state)
{
    struct fx *f = xcalloc(1, sizeof(*f));
    *state = f;
    f->base = test_mkdtemp("extract");
    if (!f->base)
        return -1;
    f->root = xasprintf("%s/root", f->base);
    f->sentinel = xasprintf("%s/sentinel", f->base);
    _cleanup_free_ char *keep = xasprintf("%s/keep", f->sentinel);
    if (mkdir(f->root, 0755) < 0 || mkdir(f->sentinel, 0755) < 0)
        return -1;
    test_write_file(keep, SENTINEL_DATA);
    return 0;
}

static int fx_teardown(void **state)
{
    struct fx *f = *state;
    gantry_layer_extractor_free(f->x);
    if (f->base)
        test_rmtree(f->base);
    free(f->base);
    free(f->root);
    free(f->sentinel);
    free(f);
    return 0;
}

/* (Re)open f->x with flags and quotas. */
static void fx_open(struct fx *f, const struct gantry_layer_extract_opts *o)
{
    gantry_layer_extractor_free(f->x);
    _cleanup_error_ struct gantry_error *err = NULL;
    f->x = gantry_layer_extractor_new(f->root, o, &err);
    if (!f->x)
        fail_msg("extractor: %s", err->message);
}

/* The sentinel holds exactly its one file, unchanged and not linked elsewhere. */
static void sentinel_intact(const struct fx *f)
{
    DIR *d = opendir(f->sentinel);
    assert_non_null(d);
    size_t n = 0;
    const struct dirent *de;
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            n++;
    closedir(d);
    assert_int_equal(n, 1);
    _cleanup_free_ char *keep = xasprintf("%s/keep", f->sentinel);
    _cleanup_buf_ struct gantry_buf b = GANTRY_BUF_INIT;
    assert_int_equal(gantry_buf_read_file(&b, keep, NULL), 0);
    assert_string_equal(b.data, SENTINEL_DATA);
    struct stat st;
    assert_int_equal(stat(keep, &st), 0);
    assert_int_equal(st.st_nlink, 1);
}

/* lstat of root/rel; -1 when missing. */
static int lstat_in(const struct fx *f, const char *rel, struct stat *st)
{
    _cleanup_free_ char *p = xasprintf("%s/%s", f->root, rel);
    return lstat(p, st);
}

static bool exists_in(const struct fx *f, const char *rel)
{
    struct stat st;
    return lstat_in(f, rel, &st) == 0;
}

static void expect_content(const struct fx *f, const char *rel, const char *want)
{
    _cleanup_free_ char *p = xasprintf("%s/%s", f->root, rel);
    _cleanup_buf_ struct gantry_buf b = GANTRY_BUF_INIT;
    if (gantry_buf_read_file(&b, p, NULL) < 0)
        fail_msg("'%s' missing", rel);
    assert_string_equal(b.data, want);
}

static void expect_error(struct gantry_error *err, enum gantry_error_code code, const char *needle)
{
    assert_non_null(err);
    if (err->code != code || !strstr(err->message, needle))
        fail_msg("want code %d with '%s', got %d: %s", code, needle, err->code, err->message);
}

/* ---- tests ---- */

/* T1 (layers: cleaned inside the root, containerd's policy), T2. */
static void test_extract__dotdot_and_absolute_names(void **state)
{
    struct fx *f = *state;
    fx_open(f, NULL);
    const struct ent l[] = {
        {'f', "../sentinel/evil", "x", 0, 0, 0},
        {'f', "../../../../etc/passwd", "inside", 0, 0, 0},
        {'f', "/abs/file", "abs", 0, 0, 0},
        {'f', "a/../../b", "b", 0, 0, 0},
    };
    struct gantry_error *err = NULL;
    must(apply(f->x, l, ARRAY_SIZE(l), &err), &err);
    expect_content(f, "sentinel/evil", "x");
    expect_content(f, "etc/passwd", "inside");
    expect_content(f, "abs/file", "abs");
    expect_content(f, "b", "b");
    sentinel_intact(f);
}

/* T3: absolute and relative symbolic links as parents resolve inside the root. */
static void test_extract__symlink_parents_stay_inside(void **state)
{
    struct fx *f = *state;
    fx_open(f, NULL);
    const struct ent l[] = {
        {'l', "localetc", "/etc", 0, 0, 0},
        {'f', "localetc/unbroken", "u", 0, 0, 0},
        {'l', "abs", f->sentinel, 0, 0, 0},
        {'f', "abs/pwned", "p", 0, 0, 0},
        {'l', "rel", "../sentinel", 0, 0, 0},
        {'f', "rel/pwned", "p", 0, 0, 0},
        {'l', "up", "../../../../..", 0, 0, 0},
        {'f', "up/top", "t", 0, 0, 0},
        {'d', "deep/er", NULL, 0, 0, 0},
        {'l', "deep/er/link", "../../../sentinel", 0, 0, 0},
        {'f', "deep/er/link/pwned", "p", 0, 0, 0},
        {'l', "deep/er/abs", "/etc", 0, 0, 0},
        {'f', "deep/er/abs/from-deep", "d", 0, 0, 0},
        {'l', "deep/er/habs", f->sentinel, 0, 0, 0},
        {'f', "deep/er/habs/from-deep", "d", 0, 0, 0},
    };
    struct gantry_error *err = NULL;
    must(apply(f->x, l, ARRAY_SIZE(l), &err), &err);
    expect_content(f, "etc/unbroken", "u");
    _cleanup_free_ char *in = xasprintf("%s/pwned", f->sentinel + 1);
    expect_content(f, in, "p");
    expect_content(f, "sentinel/pwned", "p");
    expect_content(f, "top", "t");
    expect_content(f, "etc/from-deep", "d");
    _cleanup_free_ char *deep = xasprintf("%s/from-deep", f->sentinel + 1);
    expect_content(f, deep, "d");
    struct stat st;
    assert_int_equal(lstat_in(f, "localetc", &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    sentinel_intact(f);
}

/* T5, T6: hard link targets resolve inside the root, never to host files. */
static void test_extract__hardlinks_stay_inside(void **state)
{
    struct fx *f = *state;
    fx_open(f, NULL);
    _cleanup_free_ char *host_keep = xasprintf("%s/keep", f->sentinel);
    _cleanup_free_ char *rel_keep = xasprintf("../../../../../..%s", host_keep);
    const struct ent l[] = {
        {'f', "etc/passwd", "inside", 0, 0, 0},
        {'h', "localpasswd", "../../../../../etc/passwd", 0, 0, 0},
        {'h', "abspasswd", "/etc/passwd", 0, 0, 0},
        {'l', "breakouts/d1", "../../etc", 0, 0, 0},
        {'h', "breakouts/lp", "/breakouts/d1/passwd", 0, 0, 0},
    };
    struct gantry_error *err = NULL;
    must(apply(f->x, l, ARRAY_SIZE(l), &err), &err);
    struct stat want, st;
    assert_int_equal(lstat_in(f, "etc/passwd", &want), 0);
    const char *links[] = {"localpasswd", "abspasswd", "breakouts/lp"};
    for (size_t i = 0; i < ARRAY_SIZE(links); i++) {
        assert_int_equal(lstat_in(f, links[i], &st), 0);
        assert_int_equal(st.st_ino, want.st_ino);
    }
    assert_int_equal(want.st_nlink, 4);
    /* A link to the host file, by absolute or "../" path, finds nothing inside. */
    const struct ent bad[][1] = {{{'h', "h1", host_keep, 0, 0, 0}},
                                 {{'h', "h2", rel_keep, 0, 0, 0}}};
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        _cleanup_error_ struct gantry_error *e = NULL;
        assert_int_equal(apply(f->x, bad[i], 1, &e), -1);
        expect_error(e, GANTRY_E_NOT_FOUND, "hard link");
    }
    sentinel_intact(f);
}

/* T9: a symbolic link replaces a directory; later writes under it stay inside. */
static void test_extract__symlink_over_directory(void **state)
{
    struct fx *f = *state;
    fx_open(f, NULL);
    const struct ent l1[] = {{'d', "localetc", NULL, 0, 0, 0}, {'f', "localetc/a", "a", 0, 0, 0}};
    const struct ent l2[] = {
        {'l', "localetc", f->sentinel, 0, 0, 0},
        {'f', "localetc/b", "b", 0, 0, 0},
        {'l', "sneaky", "../sentinel/keep", 0, 0, 0},
        {'f', "sneaky", "overwritten", 0, 0, 0},
    };
    struct gantry_error *err = NULL;
    must(apply(f->x, l1, ARRAY_SIZE(l1), &err), &err);
    must(apply(f->x, l2, ARRAY_SIZE(l2), &err), &err);
    struct stat st;
    assert_int_equal(lstat_in(f, "localetc", &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    _cleanup_free_ char *b = xasprintf("%s/b", f->sentinel + 1);
    expect_content(f, b, "b");
    expect_content(f, "sneaky", "overwritten");
    assert_int_equal(lstat_in(f, "sneaky", &st), 0);
    assert_true(S_ISREG(st.st_mode));
    sentinel_intact(f);
}

/* T11, T12: invalid whiteouts are errors. */
static void test_extract__invalid_whiteouts(void **state)
{
    struct fx *f = *state;
    fx_open(f, NULL);
    static const char *const bad[] = {".wh..", ".wh...", "etc/.wh..", "etc/.wh...", ".wh."};
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        const struct ent l[] = {{'f', "ok", "x", 0, 0, 0}, {'f', bad[i], NULL, 0, 0, 0}};
        _cleanup_error_ struct gantry_error *e = NULL;
        assert_int_equal(apply(f->x, l, ARRAY_SIZE(l), &e), -1);
        expect_error(e, GANTRY_E_PARSE, "invalid whiteout");
    }
    sentinel_intact(f);
}

/* T13: whiteouts hide lower layers only, as if they came first in their layer. */
static void test_extract__whiteouts(void **state)
{
    struct fx *f = *state;
    fx_open(f, NULL);
    const struct ent l1[] = {
        {'f', "a/old", "o", 0, 0, 0},      {'f', "a/sub/old2", "o", 0, 0, 0},
        {'f', "a/sub/keep", "o", 0, 0, 0}, {'f', "gone", "g", 0, 0, 0},
        {'d', "gonedir/x", NULL, 0, 0, 0}, {'f', "same", "s", 0, 0, 0},
        {'l', "w", f->sentinel, 0, 0, 0},
    };
    const struct ent l2[] = {
        {'f', "a/b", "new", 0, 0, 0},           {'f', "a/sub/new", "new", 0, 0, 0},
        {'f', "a/sub/keep", "again", 0, 0, 0},  {'f', "a/.wh..wh..opq", NULL, 0, 0, 0},
        {'f', ".wh.gone", NULL, 0, 0, 0},       {'f', ".wh.gonedir", NULL, 0, 0, 0},
        {'f', "same2", "s", 0, 0, 0},           {'f', ".wh.same2", NULL, 0, 0, 0},
        {'f', "a/.wh..wh.plnk", NULL, 0, 0, 0}, {'f', "w/.wh.keep", NULL, 0, 0, 0},
        {'f', "w/.wh..wh..opq", NULL, 0, 0, 0}, {'f', ".wh.missing/.wh.x", NULL, 0, 0, 0},
    };
    struct gantry_error *err = NULL;
    must(apply(f->x, l1, ARRAY_SIZE(l1), &err), &err);
    must(apply(f->x, l2, ARRAY_SIZE(l2), &err), &err);
    expect_content(f, "a/b", "new");
    expect_content(f, "a/sub/new", "new");
    expect_content(f, "a/sub/keep", "again");
    expect_content(f, "same", "s");
    expect_content(f, "same2", "s");
    const char *hidden[] = {"a/old",   "a/sub/old2",     "gone",
                            "gonedir", "a/.wh..wh.plnk", "a/.wh..wh..opq"};
    for (size_t i = 0; i < ARRAY_SIZE(hidden); i++)
        if (exists_in(f, hidden[i]))
            fail_msg("'%s' should be hidden", hidden[i]);
    sentinel_intact(f);
}

/* NO_WHITEOUTS (build contexts): `.wh.` names are ordinary files. */
static void test_extract__whiteouts_as_data(void **state)
{
    struct fx *f = *state;
    fx_open(f, &(struct gantry_layer_extract_opts){.flags = GANTRY_LAYER_EXTRACT_NO_WHITEOUTS});
    const struct ent l[] = {{'f', "x", "x", 0, 0, 0},
                            {'f', ".wh.x", "w", 0, 0, 0},
                            {'f', "d/.wh..wh..opq", "o", 0, 0, 0}};
    struct gantry_error *err = NULL;
    must(apply(f->x, l, ARRAY_SIZE(l), &err), &err);
    expect_content(f, "x", "x");
    expect_content(f, ".wh.x", "w");
    expect_content(f, "d/.wh..wh..opq", "o");
}

static const struct ent specials[] = {
    {'c', "dev/null", NULL, 0666, 0, 0},
    {'b', "dev/sda", NULL, 0660, 0, 0},
    {'p', "fifo", NULL, 0644, 0, 0},
    {'f', "file", "f", 04755, 1234, 5678},
};

/* T16 unprivileged, in a child running as nobody: no mknod, owners ignored. */
static int unprivileged_child(const struct fx *f)
{
    if (geteuid() == 0 && (chown(f->root, 65534, 65534) < 0 || setgid(65534) < 0 ||
                           setuid(65534) < 0 || geteuid() == 0))
        return 10;
    struct gantry_error *err = NULL;
    struct gantry_layer_extractor *x = gantry_layer_extractor_new(
        f->root, &(struct gantry_layer_extract_opts){.flags = GANTRY_LAYER_EXTRACT_DEVICES}, &err);
    if (!x)
        return 11;
    int rc = apply(x, specials, ARRAY_SIZE(specials), &err);
    uint64_t skipped = gantry_layer_extractor_skipped(x);
    gantry_layer_extractor_free(x);
    if (rc < 0)
        return 12;
    struct stat st;
    if (skipped != 3 || exists_in(f, "dev/null") || exists_in(f, "dev/sda") || exists_in(f, "fifo"))
        return 13;
    if (lstat_in(f, "file", &st) < 0 || st.st_uid != geteuid() || (st.st_mode & 07777) != 04755)
        return 14;
    return 0;
}

static void test_extract__devices_unprivileged(void **state)
{
    struct fx *f = *state;
    if (geteuid() == 0)
        assert_int_equal(chmod(f->base, 0755), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(unprivileged_child(f));
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    sentinel_intact(f);
}

/* T16 as root: skipped without GANTRY_LAYER_EXTRACT_DEVICES; with it a FIFO is made. */
static void test_extract__devices_privileged(void **state)
{
    struct fx *f = *state;
    if (geteuid() != 0)
        skip();
    fx_open(f, NULL);
    struct gantry_error *err = NULL;
    must(apply(f->x, specials, ARRAY_SIZE(specials), &err), &err);
    assert_int_equal(gantry_layer_extractor_skipped(f->x), 3);
    assert_false(exists_in(f, "dev/null"));
    assert_false(exists_in(f, "fifo"));
    fx_open(f, &(struct gantry_layer_extract_opts){.flags = GANTRY_LAYER_EXTRACT_DEVICES});
    must(apply(f->x, &specials[2], 1, &err), &err);
    struct stat st;
    assert_int_equal(lstat_in(f, "fifo", &st), 0);
    assert_true(S_ISFIFO(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0644);
}

/* T17: setuid and setgid bits kept, owners applied as root, the root made 0700. */
static void test_extract__modes_and_owners(void **state)
{
    struct fx *f = *state;
    fx_open(f, NULL);
    const struct ent l[] = {
        {'d', ".", NULL, 0777, 0, 0},      {'f', "suid", "s", 04755, 1234, 5678},
        {'f', "sgid", "s", 02711, 0, 0},   {'d', "ro", NULL, 0555, 42, 43},
        {'l', "ln", "suid", 0777, 77, 78},
    };
    struct gantry_error *err = NULL;
    must(apply(f->x, l, ARRAY_SIZE(l), &err), &err);
    struct stat st;
    assert_int_equal(stat(f->root, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0700);
    assert_int_equal(lstat_in(f, "suid", &st), 0);
    assert_int_equal(st.st_mode & 07777, 04755);
    assert_int_equal(lstat_in(f, "sgid", &st), 0);
    assert_int_equal(st.st_mode & 07777, 02711);
    if (geteuid() != 0)
        return;
    assert_int_equal(lstat_in(f, "suid", &st), 0);
    assert_int_equal(st.st_uid, 1234);
    assert_int_equal(st.st_gid, 5678);
    assert_int_equal(lstat_in(f, "ro", &st), 0);
    assert_int_equal(st.st_mode & 07777, 0555);
    assert_int_equal(st.st_uid, 42);
    assert_int_equal(lstat_in(f, "ln", &st), 0);
    assert_int_equal(st.st_uid, 77);
    assert_int_equal(st.st_gid, 78);
}

/* GANTRY_LAYER_EXTRACT_MTIMES: files, links and directories (after their contents). */
static void test_extract__mtimes(void **state)
{
    struct fx *f = *state;
    fx_open(f, &(struct gantry_layer_extract_opts){.flags = GANTRY_LAYER_EXTRACT_MTIMES});
    const struct ent l[] = {
        {'d', "d", NULL, 0, 0, 0},     {'f', "d/f", "x", 0, 0, 0},     {'l', "d/l", "f", 0, 0, 0},
        {'d', "d/sub", NULL, 0, 0, 0}, {'f', "d/sub/g", "y", 0, 0, 0},
    };
    struct gantry_error *err = NULL;
    must(apply(f->x, l, ARRAY_SIZE(l), &err), &err);
    const char *paths[] = {"d", "d/f", "d/l", "d/sub", "d/sub/g"};
    for (size_t i = 0; i < ARRAY_SIZE(paths); i++) {
        struct stat st;
        assert_int_equal(lstat_in(f, paths[i], &st), 0);
        assert_int_equal(st.st_mtime, MTIME);
    }
}

/* T18: long names and link targets. */
static void test_extract__long_names(void **state)
{
    struct fx *f = *state;
    fx_open(f, NULL);
    char dir[181], file[420], target[380];
    memset(dir, 'd', sizeof(dir) - 1);
    dir[sizeof(dir) - 1] = '\0';
    snprintf(file, sizeof(file), "%s/%s/file-with-a-long-name", dir, dir);
    snprintf(target, sizeof(target), "%s/%s", dir, dir);
    const struct ent l[] = {
        {'f', file, "long", 0, 0, 0},
        {'l', "ln", target, 0, 0, 0},
        {'h', "hl", file, 0, 0, 0},
    };
    struct gantry_error *err = NULL;
    must(apply(f->x, l, ARRAY_SIZE(l), &err), &err);
    expect_content(f, file, "long");
    expect_content(f, "hl", "long");
    _cleanup_free_ char *ln = xasprintf("%s/ln", f->root);
    char got[420];
    ssize_t n = readlink(ln, got, sizeof(got));
    assert_int_equal(n, (ssize_t)strlen(target));
    assert_memory_equal(got, target, (size_t)n);
}

/* T21: duplicates, last entry wins, whatever the types. */
static void test_extract__duplicates_last_wins(void **state)
{
    struct fx *f = *state;
    fx_open(f, NULL);
    const struct ent l[] = {
        {'f', "a", "one", 0, 0, 0},  {'f', "a", "two", 0, 0, 0},      {'d', "d", NULL, 0, 0, 0},
        {'f', "d/x", "x", 0, 0, 0},  {'f', "d", "file now", 0, 0, 0}, {'f', "g", "file", 0, 0, 0},
        {'d', "g", NULL, 0, 0, 0},   {'f', "g/y", "y", 0, 0, 0},      {'l', "s", "a", 0, 0, 0},
        {'f', "s", "real", 0, 0, 0}, {'d', "e", NULL, 0700, 0, 0},    {'d', "e", NULL, 0750, 0, 0},
    };
    struct gantry_error *err = NULL;
    must(apply(f->x, l, ARRAY_SIZE(l), &err), &err);
    expect_content(f, "a", "two");
    expect_content(f, "d", "file now");
    expect_content(f, "g/y", "y");
    expect_content(f, "s", "real");
    struct stat st;
    assert_int_equal(lstat_in(f, "e", &st), 0);
    assert_int_equal(st.st_mode & 0777, geteuid() == 0 ? 0750 : 0750 | 0700);
}

/* T22: a truncated tar is an error. */
static void test_extract__truncated(void **state)
{
    struct fx *f = *state;
    fx_open(f, NULL);
    char big[4000];
    memset(big, 'z', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    const struct ent l[] = {{'f', "big", big, 0, 0, 0}};
    _cleanup_buf_ struct gantry_buf tar = GANTRY_BUF_INIT;
    make_tar(&tar, l, 1);
    _cleanup_error_ struct gantry_error *err = NULL;
    assert_int_equal(apply_bytes(f->x, tar.data, 512 + 1500, &err), -1);
    expect_error(err, GANTRY_E_PARSE, "truncated");
}

/* T24: byte and entry quotas. */
static void test_extract__quotas(void **state)
{
    struct fx *f = *state;
    char data[3000];
    memset(data, 'q', sizeof(data) - 1);
    data[sizeof(data) - 1] = '\0';
    const struct ent l[] = {{'f', "small", "s", 0, 0, 0}, {'f', "big", data, 0, 0, 0}};
    fx_open(f, &(struct gantry_layer_extract_opts){.max_bytes = 2000});
    _cleanup_error_ struct gantry_error *e1 = NULL;
    assert_int_equal(apply(f->x, l, ARRAY_SIZE(l), &e1), -1);
    expect_error(e1, GANTRY_E_TOO_LARGE, "more than 2000 bytes");
    assert_false(exists_in(f, "big"));
    const struct ent many[] = {
        {'f', "1", "1", 0, 0, 0}, {'f', "2", "2", 0, 0, 0}, {'f', "a/b/3", "3", 0, 0, 0}};
    fx_open(f, &(struct gantry_layer_extract_opts){.max_entries = 4});
    _cleanup_error_ struct gantry_error *e2 = NULL;
    assert_int_equal(apply(f->x, many, ARRAY_SIZE(many), &e2), -1);
    expect_error(e2, GANTRY_E_TOO_LARGE, "more than 4 entries");
    fx_open(f, &(struct gantry_layer_extract_opts){.max_entries = 5, .max_bytes = 3});
    struct gantry_error *err = NULL;
    must(apply(f->x, many, ARRAY_SIZE(many), &err), &err);
}

/* STRICT (build contexts): breakouts and symbolic link parents are errors. */
static void test_extract__strict(void **state)
{
    struct fx *f = *state;
    const struct gantry_layer_extract_opts o = {.flags = GANTRY_LAYER_EXTRACT_STRICT,
                                                .root_name = "context"};
    fx_open(f, &o);
    const struct ent dotdot[] = {{'f', "../sentinel/evil", "x", 0, 0, 0}};
    _cleanup_error_ struct gantry_error *e1 = NULL;
    assert_int_equal(apply(f->x, dotdot, 1, &e1), -1);
    expect_error(e1, GANTRY_E_INVALID_ARG, "entry '../sentinel/evil' leaves the context");
    const struct ent up[] = {{'l', "up", "../sentinel", 0, 0, 0}, {'f', "up/evil", "x", 0, 0, 0}};
    _cleanup_error_ struct gantry_error *e2 = NULL;
    assert_int_equal(apply(f->x, up, ARRAY_SIZE(up), &e2), -1);
    expect_error(e2, GANTRY_E_INVALID_ARG, "'up' is not a directory");
    const struct ent hl[] = {{'h', "hl", "../sentinel/keep", 0, 0, 0}};
    _cleanup_error_ struct gantry_error *e3 = NULL;
    assert_int_equal(apply(f->x, hl, 1, &e3), -1);
    expect_error(e3, GANTRY_E_INVALID_ARG, "link target '../sentinel/keep' leaves the context");
    const struct ent ok[] = {{'f', "/abs", "a", 0, 0, 0}, {'f', "d/../e", "e", 0, 0, 0}};
    struct gantry_error *err = NULL;
    must(apply(f->x, ok, ARRAY_SIZE(ok), &err), &err);
    expect_content(f, "abs", "a");
    expect_content(f, "e", "e");
    sentinel_intact(f);
}

/* Link loops and non-directory parents are errors, not hangs. */
static void test_extract__bad_parents(void **state)
{
    struct fx *f = *state;
    fx_open(f, NULL);
    const struct ent loop[] = {
        {'l', "a", "b", 0, 0, 0}, {'l', "b", "/a", 0, 0, 0}, {'f', "a/x", "x", 0, 0, 0}};
    _cleanup_error_ struct gantry_error *e1 = NULL;
    assert_int_equal(apply(f->x, loop, ARRAY_SIZE(loop), &e1), -1);
    expect_error(e1, GANTRY_E_INVALID_ARG, "resolve 'a'");
    assert_int_equal(e1->errno_value, ELOOP);
    const struct ent file[] = {{'f', "plain", "p", 0, 0, 0}, {'f', "plain/x", "x", 0, 0, 0}};
    _cleanup_error_ struct gantry_error *e2 = NULL;
    assert_int_equal(apply(f->x, file, ARRAY_SIZE(file), &e2), -1);
    expect_error(e2, GANTRY_E_INVALID_ARG, "'plain' is not a directory");
    /* A dangling link as a parent: its target is made inside the root. */
    const struct ent dangling[] = {{'l', "dl", "/nowhere/deeper", 0, 0, 0},
                                   {'f', "dl/x", "x", 0, 0, 0}};
    struct gantry_error *err = NULL;
    must(apply(f->x, dangling, ARRAY_SIZE(dangling), &err), &err);
    expect_content(f, "nowhere/deeper/x", "x");
    sentinel_intact(f);
}

static void set_walk(bool walk)
{
    if (walk)
        setenv("GANTRY_EXTRACT_NO_OPENAT2", "1", 1);
    else
        unsetenv("GANTRY_EXTRACT_NO_OPENAT2");
}

#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_extract__dotdot_and_absolute_names),
        T(test_extract__symlink_parents_stay_inside),
        T(test_extract__hardlinks_stay_inside),
        T(test_extract__symlink_over_directory),
        T(test_extract__invalid_whiteouts),
        T(test_extract__whiteouts),
        T(test_extract__whiteouts_as_data),
        T(test_extract__devices_unprivileged),
        T(test_extract__devices_privileged),
        T(test_extract__modes_and_owners),
        T(test_extract__mtimes),
        T(test_extract__long_names),
        T(test_extract__duplicates_last_wins),
        T(test_extract__truncated),
        T(test_extract__quotas),
        T(test_extract__strict),
        T(test_extract__bad_parents),
    };
    int rc = 0;
    for (int walk = 0; walk <= 1; walk++) {
        set_walk(walk);
        fprintf(stderr, "-- %s\n", walk ? "hand walk" : "openat2");
        rc |= cmocka_run_group_tests_name(walk ? "walk" : "openat2", tests, NULL, NULL);
    }
    return rc;
}
