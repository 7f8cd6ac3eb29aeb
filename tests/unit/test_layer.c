/* Unit tests for layer: compression streams, tar reading and writing, import. */
#include <archive.h>
#include <archive_entry.h>
#include <bzlib.h>
#include <fcntl.h>
#include <locale.h>
#include <lzma.h>

#include <gantry/layer.h>

#include "layer/layer_internal.h"
#include "unit_helpers.h"

#define MTIME 1700000000
#define BIG_SIZE (3u * 1024u * 1024u + 12345u)

/* ---- helpers ------------------------------------------------------------ */

static int buf_write(void *user, const void *data, size_t len, struct gantry_error **err)
{
    if (gantry_buf_add(user, data, len) < 0)
        return gantry_error_set(err, GANTRY_E_IO, errno, "test buffer");
    return 0;
}

/* A memory input handing out at most step bytes per read (0 = no limit). */
struct mem_in {
    const unsigned char *p;
    size_t len;
    size_t pos;
    size_t step;
};

static ssize_t mem_read(void *user, void *buf, size_t len, struct gantry_error **err)
{
    (void)err;
    struct mem_in *m = user;
    size_t n = m->len - m->pos;
    if (n > len)
        n = len;
    if (m->step && n > m->step)
        n = m->step;
    memcpy(buf, m->p + m->pos, n);
    m->pos += n;
    return (ssize_t)n;
}

static int tmp_fd(void)
{
    _cleanup_free_ char *path = xasprintf("%s/test_layer.XXXXXX", test_tmp_base());
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    unlink(path);
    return fd;
}

static int tmp_file(const void *data, size_t len)
{
    int fd = tmp_fd();
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    return fd;
}

/* Compressible but not trivial content. */
static unsigned char *pattern(size_t len, unsigned seed)
{
    unsigned char *p = xmalloc(len);
    uint32_t x = seed;
    for (size_t i = 0; i < len; i++) {
        x = x * 1103515245u + 12345u;
        p[i] = (unsigned char)("abcdefgh ijklmnop\n"[(x >> 16) % 18]);
    }
    return p;
}

static void expect_error(struct gantry_error *err, enum gantry_error_code code, const char *needle)
{
    assert_non_null(err);
    if (err->code != code || !strstr(err->message, needle))
        fail_msg("got code %d '%s', want code %d with '%s'", err->code, err->message, code, needle);
}

/* Uncompress a whole blob through the source. */
static void decompress_all(const struct gantry_buf *blob, struct gantry_buf *out)
{
    struct mem_in in = {(const unsigned char *)blob->data, blob->len, 0, 0};
    struct gantry_layer_source *src = gantry_layer_source_new(mem_read, &in, NULL);
    _cleanup_error_ struct gantry_error *err = NULL;
    const void *data;
    ssize_t n;
    while ((n = gantry_layer_source_read(src, &data, &err)) > 0)
        assert_int_equal(gantry_buf_add(out, data, (size_t)n), 0);
    if (n < 0)
        fail_msg("decompress: %s", err->message);
    gantry_layer_source_free(src);
}

/* ---- the reference layer ------------------------------------------------ */

struct want {
    struct gantry_layer_entry e;
    const unsigned char *data; /* regular files */
    const char *whiteout;      /* written with add_whiteout of this path */
    bool opaque;
};

static char long_dir[200];
static char long_file[400];
static char long_target[300];
static unsigned char *big_data;

static void make_names(void)
{
    memset(long_dir, 'd', 150);
    long_dir[150] = '/';
    long_dir[151] = '\0';
    snprintf(long_file, sizeof(long_file), "%s%s", long_dir,
             "a-file-name-that-is-long-enough-to-need-a-pax-header-on-its-own-"
             "because-it-is-more-than-one-hundred-bytes-long.txt");
    memset(long_target, 't', 220);
    long_target[220] = '\0';
}

static size_t reference(struct want *w)
{
    static const unsigned char hostname[] = "gantry\n";
    if (!big_data) {
        make_names();
        big_data = pattern(BIG_SIZE, 7);
    }
    size_t n = 0;
    w[n++] = (struct want){
        .e = {.path = "etc/", .type = GANTRY_LAYER_DIR, .mode = 0755, .mtime = MTIME}};
    w[n++] = (struct want){.e = {.path = "etc/hostname",
                                 .type = GANTRY_LAYER_FILE,
                                 .mode = 0644,
                                 .uid = 1000,
                                 .gid = 1001,
                                 .mtime = MTIME,
                                 .size = 7},
                           .data = hostname};
    w[n++] = (struct want){
        .e = {.path = long_dir, .type = GANTRY_LAYER_DIR, .mode = 0700, .mtime = MTIME}};
    w[n++] = (struct want){.e = {.path = long_file,
                                 .type = GANTRY_LAYER_FILE,
                                 .mode = 0600,
                                 .mtime = MTIME + 1,
                                 .size = BIG_SIZE},
                           .data = big_data};
    w[n++] = (struct want){.e = {.path = "etc/link",
                                 .link_target = long_target,
                                 .type = GANTRY_LAYER_SYMLINK,
                                 .mode = 0777,
                                 .mtime = MTIME}};
    w[n++] = (struct want){.e = {.path = "etc/hard",
                                 .link_target = "etc/hostname",
                                 .type = GANTRY_LAYER_HARDLINK,
                                 .mode = 0644,
                                 .mtime = MTIME}};
    w[n++] = (struct want){.e = {.path = "bin/su",
                                 .type = GANTRY_LAYER_FILE,
                                 .mode = 04755,
                                 .mtime = MTIME,
                                 .size = 0},
                           .data = hostname};
    w[n++] = (struct want){.e = {.path = "dev/null",
                                 .type = GANTRY_LAYER_CHAR,
                                 .mode = 0666,
                                 .mtime = MTIME,
                                 .devmajor = 1,
                                 .devminor = 3}};
    w[n++] = (struct want){
        .e = {.path = "dev/fifo", .type = GANTRY_LAYER_FIFO, .mode = 0600, .mtime = MTIME}};
    w[n++] = (struct want){.e = {.path = "usr/.wh.old", .type = GANTRY_LAYER_FILE, .mtime = MTIME},
                           .whiteout = "usr/old"};
    w[n++] =
        (struct want){.e = {.path = "var/.wh..wh..opq", .type = GANTRY_LAYER_FILE, .mtime = MTIME},
                      .whiteout = "var/",
                      .opaque = true};
    return n;
}

static void add_want(struct gantry_layer_tar_writer *w, const struct want *x)
{
    _cleanup_error_ struct gantry_error *err = NULL;
    int rc = -1;
    if (x->whiteout) {
        rc = gantry_layer_tar_writer_add_whiteout(w, x->whiteout, x->opaque, MTIME, &err);
    } else if (x->e.type == GANTRY_LAYER_FILE) {
        _cleanup_close_ int fd = tmp_file(x->data, x->e.size);
        rc = gantry_layer_tar_writer_add_file(w, &x->e, fd, &err);
    } else if (x->e.type == GANTRY_LAYER_DIR) {
        rc = gantry_layer_tar_writer_add_dir(w, &x->e, &err);
    } else if (x->e.type == GANTRY_LAYER_SYMLINK) {
        rc = gantry_layer_tar_writer_add_symlink(w, &x->e, &err);
    } else if (x->e.type == GANTRY_LAYER_HARDLINK) {
        rc = gantry_layer_tar_writer_add_hardlink(w, &x->e, &err);
    } else {
        rc = gantry_layer_tar_writer_add_special(w, &x->e, &err);
    }
    if (rc < 0)
        fail_msg("add '%s': %s", x->e.path, err->message);
}

/* Write the reference layer with compression c into blob. */
static size_t build_layer(enum gantry_compression c, struct gantry_buf *blob,
                          struct gantry_layer_result *res)
{
    struct want wants[16];
    size_t n = reference(wants);
    _cleanup_error_ struct gantry_error *err = NULL;
    struct gantry_layer_sink *s = gantry_layer_sink_new(c, buf_write, blob);
    struct gantry_layer_tar_writer *w = gantry_layer_tar_writer_new(s);
    for (size_t i = 0; i < n; i++)
        add_want(w, &wants[i]);
    assert_int_equal(gantry_layer_tar_writer_finish(w, &err), 0);
    assert_int_equal(gantry_layer_sink_finish(s, res, &err), 0);
    gantry_layer_tar_writer_free(w);
    gantry_layer_sink_free(s);
    return n;
}

static void check_entry(struct gantry_layer_reader *r, const struct gantry_layer_entry *got,
                        const struct want *x)
{
    assert_string_equal(got->path, x->e.path);
    assert_int_equal(got->type, x->e.type);
    assert_int_equal(got->mode, x->e.mode);
    assert_int_equal(got->uid, x->e.uid);
    assert_int_equal(got->gid, x->e.gid);
    assert_int_equal(got->mtime, x->e.mtime);
    assert_int_equal(got->devmajor, x->e.devmajor);
    assert_int_equal(got->devminor, x->e.devminor);
    if (x->e.link_target)
        assert_string_equal(got->link_target, x->e.link_target);
    else
        assert_null(got->link_target);
    if (x->e.type != GANTRY_LAYER_FILE)
        return;
    assert_int_equal(got->size, x->e.size);
    _cleanup_buf_ struct gantry_buf data = GANTRY_BUF_INIT;
    _cleanup_error_ struct gantry_error *err = NULL;
    char chunk[70000];
    ssize_t k;
    while ((k = gantry_layer_reader_read_data(r, chunk, sizeof(chunk), &err)) > 0)
        assert_int_equal(gantry_buf_add(&data, chunk, (size_t)k), 0);
    assert_int_equal(k, 0);
    assert_int_equal(data.len, x->e.size);
    assert_memory_equal(data.data, x->data, x->e.size);
}

/* Read blob back (step bytes per read) and compare with the reference. */
static void check_layer(const struct gantry_buf *blob, size_t step)
{
    struct want wants[16];
    size_t n = reference(wants);
    struct mem_in in = {(const unsigned char *)blob->data, blob->len, 0, step};
    _cleanup_error_ struct gantry_error *err = NULL;
    struct gantry_layer_reader *r = gantry_layer_reader_open(mem_read, &in, NULL, &err);
    if (!r)
        fail_msg("open: %s", err->message);
    struct gantry_layer_entry e;
    for (size_t i = 0; i < n; i++) {
        int rc = gantry_layer_reader_next(r, &e, &err);
        if (rc != 1)
            fail_msg("entry %zu: rc %d: %s", i, rc, err ? err->message : "end");
        check_entry(r, &e, &wants[i]);
    }
    assert_int_equal(gantry_layer_reader_next(r, &e, &err), 0);
    assert_int_equal(gantry_layer_reader_entries(r), n);
    assert_int_equal(in.pos, blob->len);
    gantry_layer_reader_free(r);
}

/* Count entries with libarchive's own decompressors (zlib, libzstd). */
static size_t libarchive_count(const struct gantry_buf *blob)
{
    struct archive *a = archive_read_new();
    archive_read_support_filter_all(a);
    archive_read_support_format_tar(a);
    assert_int_equal(archive_read_open_memory(a, blob->data, blob->len), ARCHIVE_OK);
    struct archive_entry *ae;
    size_t n = 0;
    int rc;
    while ((rc = archive_read_next_header(a, &ae)) == ARCHIVE_OK) {
        assert_int_equal(archive_read_data_skip(a), ARCHIVE_OK);
        n++;
    }
    assert_int_equal(rc, ARCHIVE_EOF);
    archive_read_free(a);
    return n;
}

/* ---- tests -------------------------------------------------------------- */

static const enum gantry_compression all_comps[] = {
    GANTRY_COMPRESSION_NONE, GANTRY_COMPRESSION_GZIP, GANTRY_COMPRESSION_ZSTD};

static void test_layer__round_trip(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(all_comps); i++) {
        _cleanup_buf_ struct gantry_buf blob = GANTRY_BUF_INIT;
        struct gantry_layer_result res;
        size_t n = build_layer(all_comps[i], &blob, &res);
        check_layer(&blob, 0);
        check_layer(&blob, 4093);
        assert_int_equal(libarchive_count(&blob), n);
        enum gantry_compression got;
        assert_int_equal(gantry_compression_detect(blob.data, blob.len, &got, NULL), 0);
        assert_int_equal(got, all_comps[i]);
    }
}

static void test_layer__digests(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(all_comps); i++) {
        _cleanup_buf_ struct gantry_buf blob = GANTRY_BUF_INIT;
        _cleanup_buf_ struct gantry_buf tar = GANTRY_BUF_INIT;
        struct gantry_layer_result res;
        char want[GANTRY_DIGEST_MAX];
        build_layer(all_comps[i], &blob, &res);
        decompress_all(&blob, &tar);
        gantry_digest_bytes(GANTRY_DIGEST_SHA256, tar.data, tar.len, want);
        assert_string_equal(res.diff_id, want);
        assert_int_equal(res.uncompressed_size, tar.len);
        gantry_digest_bytes(GANTRY_DIGEST_SHA256, blob.data, blob.len, want);
        assert_string_equal(res.digest, want);
        assert_int_equal(res.size, blob.len);
        if (all_comps[i] == GANTRY_COMPRESSION_NONE)
            assert_string_equal(res.digest, res.diff_id);
        else
            assert_true(blob.len < tar.len);
        /* Unblocked output: entries, then exactly the two zero blocks. */
        static const char zeros[1024];
        assert_int_equal(tar.len % 512, 0);
        assert_memory_equal(tar.data + tar.len - 1024, zeros, 1024);
        assert_memory_not_equal(tar.data + tar.len - 1536, zeros, 512);
    }
}

static void test_layer__writer_is_deterministic(void **state)
{
    (void)state;
    _cleanup_buf_ struct gantry_buf a = GANTRY_BUF_INIT;
    _cleanup_buf_ struct gantry_buf b = GANTRY_BUF_INIT;
    struct gantry_layer_result ra, rb;
    build_layer(GANTRY_COMPRESSION_GZIP, &a, &ra);
    build_layer(GANTRY_COMPRESSION_GZIP, &b, &rb);
    assert_string_equal(ra.digest, rb.digest);
    assert_string_equal(ra.diff_id, rb.diff_id);
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.data, b.data, a.len);
}

static void test_layer__sink_empty_and_small_writes(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(all_comps); i++) {
        _cleanup_buf_ struct gantry_buf blob = GANTRY_BUF_INIT;
        _cleanup_buf_ struct gantry_buf back = GANTRY_BUF_INIT;
        struct gantry_layer_result res;
        _cleanup_free_ unsigned char *data = pattern(2500000, 3);
        struct gantry_layer_sink *s = gantry_layer_sink_new(all_comps[i], buf_write, &blob);
        for (size_t off = 0; off < 2500000; off += 1000)
            assert_int_equal(gantry_layer_sink_write(s, data + off, 1000, NULL), 0);
        assert_int_equal(gantry_layer_sink_finish(s, &res, NULL), 0);
        assert_int_equal(gantry_layer_sink_write(s, "x", 1, NULL), -1);
        gantry_layer_sink_free(s);
        decompress_all(&blob, &back);
        assert_int_equal(back.len, 2500000);
        assert_memory_equal(back.data, data, back.len);
        char want[GANTRY_DIGEST_MAX];
        gantry_digest_bytes(GANTRY_DIGEST_SHA256, data, 2500000, want);
        assert_string_equal(res.diff_id, want);
    }
    struct gantry_layer_result res;
    struct gantry_buf blob = GANTRY_BUF_INIT;
    struct gantry_layer_sink *s = gantry_layer_sink_new(GANTRY_COMPRESSION_GZIP, buf_write, &blob);
    assert_int_equal(gantry_layer_sink_finish(s, &res, NULL), 0);
    gantry_layer_sink_free(s);
    assert_string_equal(res.diff_id,
                        "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assert_true(blob.len >= 20); /* a valid empty gzip member */
    gantry_buf_release(&blob);
}

static void test_layer__detect(void **state)
{
    (void)state;
    static const struct {
        const char *bytes;
        size_t len;
        int rc;
        enum gantry_compression c;
        const char *msg;
    } cases[] = {
        {"\x1f\x8b\x08\x00\x00\x00", 6, 0, GANTRY_COMPRESSION_GZIP, NULL},
        {"\x28\xb5\x2f\xfd\x00\x00", 6, 0, GANTRY_COMPRESSION_ZSTD, NULL},
        {"etc/\0\0", 6, 0, GANTRY_COMPRESSION_NONE, NULL},
        {"\x1f", 1, 0, GANTRY_COMPRESSION_NONE, NULL},
        {"", 0, 0, GANTRY_COMPRESSION_NONE, NULL},
        {"BZh91AY&SY", 10, -1, GANTRY_COMPRESSION_NONE, "unsupported compression 'bzip2'"},
        {"\xfd"
         "7zXZ\0\0\0",
         8, -1, GANTRY_COMPRESSION_NONE, "unsupported compression 'xz'"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        _cleanup_error_ struct gantry_error *err = NULL;
        enum gantry_compression c;
        assert_int_equal(gantry_compression_detect(cases[i].bytes, cases[i].len, &c, &err),
                         cases[i].rc);
        if (cases[i].rc == 0)
            assert_int_equal(c, cases[i].c);
        else
            expect_error(err, GANTRY_E_UNSUPPORTED, cases[i].msg);
    }
    assert_string_equal(gantry_compression_name(GANTRY_COMPRESSION_ZSTD), "zstd");
}

static void test_layer__reader_rejects_xz_and_empty(void **state)
{
    (void)state;
    static const unsigned char xz[] = {0xfd, '7', 'z', 'X', 'Z', 0, 0, 4, 0xe6, 0xd6};
    struct mem_in in = {xz, sizeof(xz), 0, 0};
    _cleanup_error_ struct gantry_error *err = NULL;
    assert_null(gantry_layer_reader_open(mem_read, &in, NULL, &err));
    expect_error(err, GANTRY_E_UNSUPPORTED, "unsupported compression 'xz'");
    struct mem_in empty = {xz, 0, 0, 0};
    _cleanup_error_ struct gantry_error *err2 = NULL;
    assert_null(gantry_layer_reader_open(mem_read, &empty, NULL, &err2));
    expect_error(err2, GANTRY_E_PARSE, "empty layer stream");
    struct mem_in junk = {(const unsigned char *)"hello world, not a tar at all", 29, 0, 0};
    _cleanup_error_ struct gantry_error *err3 = NULL;
    assert_null(gantry_layer_reader_open(mem_read, &junk, NULL, &err3));
    expect_error(err3, GANTRY_E_PARSE, "not a tar archive");
}

/* Read all entries (and their data) of blob; return the final status. */
static int read_all(const void *data, size_t len, const struct gantry_layer_opts *opts,
                    struct gantry_error **err)
{
    struct mem_in in = {data, len, 0, 0};
    struct gantry_layer_reader *r = gantry_layer_reader_open(mem_read, &in, opts, err);
    if (!r)
        return -1;
    struct gantry_layer_entry e;
    char chunk[65536];
    int rc;
    while ((rc = gantry_layer_reader_next(r, &e, err)) == 1) {
        ssize_t k;
        while ((k = gantry_layer_reader_read_data(r, chunk, sizeof(chunk), err)) > 0)
            ;
        if (k < 0) {
            rc = -1;
            break;
        }
    }
    gantry_layer_reader_free(r);
    return rc;
}

static void test_layer__codec_detect(void **state)
{
    (void)state;
    static const struct {
        const char *bytes;
        size_t len;
        enum layer_codec k;
    } cases[] = {
        {"\x1f\x8b\x08\x00", 4, LAYER_CODEC_GZIP},
        {"\x28\xb5\x2f\xfd", 4, LAYER_CODEC_ZSTD},
        {"BZh91AY&SY", 10, LAYER_CODEC_BZIP2},
        {"BZh1", 4, LAYER_CODEC_BZIP2},
        {"BZh0", 4, LAYER_CODEC_NONE}, /* no block size: a file named "BZh0…" */
        {"BZhx.txt", 8, LAYER_CODEC_NONE},
        {"BZh", 3, LAYER_CODEC_NONE},
        {"\xfd"
         "7zXZ\0\0\4",
         8, LAYER_CODEC_XZ},
        {"\xfd"
         "7zXZ",
         5, LAYER_CODEC_NONE},
        {"etc/\0\0", 6, LAYER_CODEC_NONE},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
        assert_int_equal(layer_codec_detect(cases[i].bytes, cases[i].len), cases[i].k);
    assert_string_equal(layer_codec_name(LAYER_CODEC_XZ), "xz");
    assert_string_equal(layer_codec_name(LAYER_CODEC_BZIP2), "bzip2");
}

/* data compressed whole with xz (check CRC64) or bzip2, appended to out. */
static void compress_xz(const void *data, size_t len, struct gantry_buf *out)
{
    size_t cap = lzma_stream_buffer_bound(len), pos = 0;
    _cleanup_free_ unsigned char *b = xmalloc(cap);
    assert_int_equal(lzma_easy_buffer_encode(6, LZMA_CHECK_CRC64, NULL, data, len, b, &pos, cap),
                     LZMA_OK);
    assert_int_equal(gantry_buf_add(out, b, pos), 0);
}

static void compress_bz2(const void *data, size_t len, struct gantry_buf *out)
{
    unsigned cap = (unsigned)(len + len / 100 + 600);
    _cleanup_free_ char *b = xmalloc(cap);
    assert_int_equal(BZ2_bzBuffToBuffCompress(b, &cap, (char *)data, (unsigned)len, 9, 0, 0),
                     BZ_OK);
    assert_int_equal(gantry_buf_add(out, b, cap), 0);
}

/* Every byte of blob through a source (archive or not), in step-sized reads. */
static int source_drain(const struct gantry_buf *blob, size_t step, bool archive,
                        struct gantry_buf *out, struct gantry_error **err)
{
    struct mem_in in = {(const unsigned char *)blob->data, blob->len, 0, step};
    const struct gantry_layer_opts o = {.archive = archive};
    struct gantry_layer_source *src = gantry_layer_source_new(mem_read, &in, &o);
    const void *d;
    ssize_t n;
    while ((n = gantry_layer_source_read(src, &d, err)) > 0)
        if (out)
            assert_int_equal(gantry_buf_add(out, d, (size_t)n), 0);
    gantry_layer_source_free(src);
    return n < 0 ? -1 : 0;
}

static void test_layer__xz_bzip2_archives(void **state)
{
    (void)state;
    _cleanup_buf_ struct gantry_buf tar = GANTRY_BUF_INIT;
    struct gantry_layer_result res;
    build_layer(GANTRY_COMPRESSION_NONE, &tar, &res);
    void (*const enc[])(const void *, size_t, struct gantry_buf *) = {compress_xz, compress_bz2};
    const char *names[] = {"xz", "bzip2"};
    for (size_t i = 0; i < ARRAY_SIZE(enc); i++) {
        _cleanup_buf_ struct gantry_buf z = GANTRY_BUF_INIT;
        enc[i](tar.data, tar.len, &z);
        /* Whole, in 1-byte and 7-byte reads: the tar comes back. */
        for (size_t step = 0; step < 8; step += 7) {
            _cleanup_buf_ struct gantry_buf got = GANTRY_BUF_INIT;
            assert_int_equal(source_drain(&z, step ? step : 1, true, &got, NULL), 0);
            assert_int_equal(got.len, tar.len);
            assert_memory_equal(got.data, tar.data, tar.len);
        }
        assert_int_equal(
            read_all(z.data, z.len, &(struct gantry_layer_opts){.archive = true}, NULL), 0);
        /* A layer blob is never xz or bzip2. */
        _cleanup_error_ struct gantry_error *e1 = NULL;
        assert_int_equal(source_drain(&z, 0, false, NULL, &e1), -1);
        _cleanup_free_ char *want = xasprintf("unsupported compression '%s'", names[i]);
        expect_error(e1, GANTRY_E_UNSUPPORTED, want);
        /* Cut short: truncated; cut in the header: also an error. */
        _cleanup_error_ struct gantry_error *e2 = NULL;
        struct gantry_buf cut = {.data = z.data, .len = z.len - 9};
        assert_int_equal(source_drain(&cut, 0, true, NULL, &e2), -1);
        _cleanup_free_ char *trunc = xasprintf("truncated %s stream", names[i]);
        expect_error(e2, GANTRY_E_PARSE, trunc);
        /* Two streams are one; any other byte after them is an error. */
        size_t one = z.len;
        _cleanup_free_ char *copy = xmalloc(one);
        memcpy(copy, z.data, one);
        assert_int_equal(gantry_buf_add(&z, copy, one), 0);
        _cleanup_buf_ struct gantry_buf two = GANTRY_BUF_INIT;
        assert_int_equal(source_drain(&z, 0, true, &two, NULL), 0);
        assert_int_equal(two.len, 2 * tar.len);
        assert_int_equal(gantry_buf_add(&z, "\0", 1), 0);
        _cleanup_error_ struct gantry_error *e3 = NULL;
        assert_int_equal(source_drain(&z, 0, true, NULL, &e3), -1);
        _cleanup_free_ char *trail =
            xasprintf("trailing data after %s stream at byte %zu", names[i], 2 * one);
        expect_error(e3, GANTRY_E_PARSE, trail);
        /* The cap counts uncompressed bytes. */
        _cleanup_error_ struct gantry_error *e4 = NULL;
        struct gantry_buf first = {.data = z.data, .len = one};
        assert_int_equal(
            read_all(first.data, first.len,
                     &(struct gantry_layer_opts){.archive = true, .max_uncompressed = tar.len / 2},
                     &e4),
            -1);
        expect_error(e4, GANTRY_E_TOO_LARGE, "uncompressed");
    }
}

/* An xz stream whose block header claims a 1 GiB dictionary (CRC fixed up). */
static void test_layer__xz_memlimit(void **state)
{
    (void)state;
    _cleanup_buf_ struct gantry_buf z = GANTRY_BUF_INIT;
    compress_xz("hello", 5, &z);
    unsigned char *p = (unsigned char *)z.data + 12; /* after the stream header */
    size_t hsize = ((size_t)p[0] + 1) * 4;
    unsigned char *f = memchr(p + 2, 0x21, hsize - 6); /* LZMA2 filter id, props size 1 */
    assert_non_null(f);
    assert_int_equal(f[1], 1);
    f[2] = 36; /* (2 | 0) << (36 / 2 + 11) = 1 GiB */
    uint32_t crc = lzma_crc32(p, hsize - 4, 0);
    for (int i = 0; i < 4; i++)
        p[hsize - 4 + i] = (unsigned char)(crc >> (8 * i));
    _cleanup_error_ struct gantry_error *err = NULL;
    assert_int_equal(source_drain(&z, 0, true, NULL, &err), -1);
    expect_error(err, GANTRY_E_TOO_LARGE, "xz dictionary larger than the limit of 256 MiB");
}

static void test_layer__truncated_tar(void **state)
{
    (void)state;
    _cleanup_buf_ struct gantry_buf tar = GANTRY_BUF_INIT;
    struct gantry_layer_result res;
    build_layer(GANTRY_COMPRESSION_NONE, &tar, &res);
    assert_int_equal(read_all(tar.data, tar.len, NULL, NULL), 0);
    _cleanup_error_ struct gantry_error *e1 = NULL;
    assert_int_equal(read_all(tar.data, tar.len / 2, NULL, &e1), -1);
    expect_error(e1, GANTRY_E_PARSE, "truncated");
    /* Cut exactly at an entry boundary: only the missing marker tells. */
    _cleanup_error_ struct gantry_error *e2 = NULL;
    assert_int_equal(read_all(tar.data, tar.len - 1024, NULL, &e2), -1);
    expect_error(e2, GANTRY_E_PARSE, "end-of-archive marker missing");
    /* Cut inside a header. */
    _cleanup_error_ struct gantry_error *e3 = NULL;
    assert_int_equal(read_all(tar.data, 512 + 100, NULL, &e3), -1);
    expect_error(e3, GANTRY_E_PARSE, "truncated");
}

static void test_layer__bad_header_checksum(void **state)
{
    (void)state;
    _cleanup_buf_ struct gantry_buf tar = GANTRY_BUF_INIT;
    struct gantry_layer_result res;
    build_layer(GANTRY_COMPRESSION_NONE, &tar, &res);
    /* Entry 2 ("etc/hostname") starts at 512, after the directory header. */
    assert_string_equal(tar.data + 512, "etc/hostname");
    tar.data[512] = 'E';
    _cleanup_error_ struct gantry_error *err = NULL;
    assert_int_equal(read_all(tar.data, tar.len, NULL, &err), -1);
    expect_error(err, GANTRY_E_PARSE, "bad header checksum");
    tar.data[0] = 'E';
    _cleanup_error_ struct gantry_error *err2 = NULL;
    assert_int_equal(read_all(tar.data, tar.len, NULL, &err2), -1);
    expect_error(err2, GANTRY_E_PARSE, "not a tar archive");
}

static void test_layer__truncated_gzip(void **state)
{
    (void)state;
    _cleanup_buf_ struct gantry_buf blob = GANTRY_BUF_INIT;
    struct gantry_layer_result res;
    build_layer(GANTRY_COMPRESSION_GZIP, &blob, &res);
    _cleanup_error_ struct gantry_error *e1 = NULL;
    assert_int_equal(read_all(blob.data, blob.len / 2, NULL, &e1), -1);
    expect_error(e1, GANTRY_E_PARSE, "truncated gzip stream");
    /* Only the size trailer missing: the tar is complete, the blob is not. */
    _cleanup_error_ struct gantry_error *e2 = NULL;
    assert_int_equal(read_all(blob.data, blob.len - 4, NULL, &e2), -1);
    expect_error(e2, GANTRY_E_PARSE, "truncated gzip stream");
    /* A flipped CRC byte. */
    blob.data[blob.len - 6] ^= 0x55;
    _cleanup_error_ struct gantry_error *e3 = NULL;
    assert_int_equal(read_all(blob.data, blob.len, NULL, &e3), -1);
    expect_error(e3, GANTRY_E_PARSE, "crc mismatch");
}

static void test_layer__truncated_zstd(void **state)
{
    (void)state;
    _cleanup_buf_ struct gantry_buf blob = GANTRY_BUF_INIT;
    struct gantry_layer_result res;
    build_layer(GANTRY_COMPRESSION_ZSTD, &blob, &res);
    _cleanup_error_ struct gantry_error *e1 = NULL;
    assert_int_equal(read_all(blob.data, blob.len - 3, NULL, &e1), -1);
    expect_error(e1, GANTRY_E_PARSE, "truncated zstd stream");
}

static void test_layer__trailing_garbage(void **state)
{
    (void)state;
    static const char *const tails[] = {"garbage", "\0\0\0\0", "\x1f"};
    static const size_t tail_len[] = {7, 4, 1};
    for (size_t c = 1; c < ARRAY_SIZE(all_comps); c++) {
        for (size_t i = 0; i < ARRAY_SIZE(tails); i++) {
            _cleanup_buf_ struct gantry_buf blob = GANTRY_BUF_INIT;
            struct gantry_layer_result res;
            build_layer(all_comps[c], &blob, &res);
            assert_int_equal(gantry_buf_add(&blob, tails[i], tail_len[i]), 0);
            _cleanup_error_ struct gantry_error *err = NULL;
            assert_int_equal(read_all(blob.data, blob.len, NULL, &err), -1);
            assert_int_equal(err->code, GANTRY_E_PARSE);
        }
    }
    _cleanup_buf_ struct gantry_buf blob = GANTRY_BUF_INIT;
    struct gantry_layer_result res;
    build_layer(GANTRY_COMPRESSION_GZIP, &blob, &res);
    assert_int_equal(gantry_buf_addstr(&blob, "garbage"), 0);
    _cleanup_error_ struct gantry_error *err = NULL;
    assert_int_equal(read_all(blob.data, blob.len, NULL, &err), -1);
    expect_error(err, GANTRY_E_PARSE, "trailing data after gzip stream");
}

static void gzip_part(struct gantry_buf *out, const void *data, size_t len)
{
    struct gantry_layer_result res;
    struct gantry_layer_sink *s = gantry_layer_sink_new(GANTRY_COMPRESSION_GZIP, buf_write, out);
    assert_int_equal(gantry_layer_sink_write(s, data, len, NULL), 0);
    assert_int_equal(gantry_layer_sink_finish(s, &res, NULL), 0);
    gantry_layer_sink_free(s);
}

static void test_layer__concatenated_gzip_members(void **state)
{
    (void)state;
    _cleanup_buf_ struct gantry_buf tar = GANTRY_BUF_INIT;
    _cleanup_buf_ struct gantry_buf blob = GANTRY_BUF_INIT;
    _cleanup_buf_ struct gantry_buf back = GANTRY_BUF_INIT;
    struct gantry_layer_result res;
    build_layer(GANTRY_COMPRESSION_NONE, &tar, &res);
    gzip_part(&blob, tar.data, 777777);
    gzip_part(&blob, tar.data + 777777, 0);
    gzip_part(&blob, tar.data + 777777, tar.len - 777777);
    check_layer(&blob, 0);
    check_layer(&blob, 7919);
    decompress_all(&blob, &back);
    assert_int_equal(back.len, tar.len);
    assert_memory_equal(back.data, tar.data, tar.len);
}

/* A gzip or zstd layer holding one 16 MiB file of zeros. */
static void bomb(enum gantry_compression c, struct gantry_buf *blob)
{
    _cleanup_close_ int fd = tmp_fd();
    assert_int_equal(ftruncate(fd, 16 << 20), 0);
    struct gantry_layer_result res;
    struct gantry_layer_sink *s = gantry_layer_sink_new(c, buf_write, blob);
    struct gantry_layer_tar_writer *w = gantry_layer_tar_writer_new(s);
    struct gantry_layer_entry e = {.path = "zeros", .mode = 0644, .size = 16 << 20};
    assert_int_equal(gantry_layer_tar_writer_add_file(w, &e, fd, NULL), 0);
    assert_int_equal(gantry_layer_tar_writer_finish(w, NULL), 0);
    assert_int_equal(gantry_layer_sink_finish(s, &res, NULL), 0);
    gantry_layer_tar_writer_free(w);
    gantry_layer_sink_free(s);
}

static void test_layer__size_cap(void **state)
{
    (void)state;
    for (size_t c = 1; c < ARRAY_SIZE(all_comps); c++) {
        _cleanup_buf_ struct gantry_buf blob = GANTRY_BUF_INIT;
        bomb(all_comps[c], &blob);
        assert_true(blob.len < (1 << 20));
        struct gantry_layer_opts opts = {.max_uncompressed = 1 << 20};
        _cleanup_error_ struct gantry_error *err = NULL;
        assert_int_equal(read_all(blob.data, blob.len, &opts, &err), -1);
        expect_error(err, GANTRY_E_TOO_LARGE, "limit of 1048576 bytes");
        opts.max_uncompressed = 17 << 20;
        assert_int_equal(read_all(blob.data, blob.len, &opts, NULL), 0);
    }
}

static void test_layer__zstd_window_limit(void **state)
{
    (void)state;
    /* Frame header: magic, descriptor 0, window descriptor for 2^31. */
    static const unsigned char frame[] = {0x28,           0xb5, 0x2f, 0xfd, 0x00,
                                          (31 - 10) << 3, 0x01, 0x00, 0x00};
    struct mem_in in = {frame, sizeof(frame), 0, 0};
    struct gantry_layer_source *src = gantry_layer_source_new(mem_read, &in, NULL);
    _cleanup_error_ struct gantry_error *err = NULL;
    const void *data;
    assert_int_equal(gantry_layer_source_read(src, &data, &err), -1);
    expect_error(err, GANTRY_E_TOO_LARGE, "zstd window");
    gantry_layer_source_free(src);
}

/* A plain tar holding the given names as empty files, written by libarchive. */
static void raw_tar(struct gantry_buf *out, const char *const *names, size_t n)
{
    struct archive *a = archive_write_new();
    archive_write_set_format_ustar(a);
    archive_write_set_bytes_per_block(a, 0);
    size_t used = 0;
    gantry_buf_release(out);
    static char mem[65536];
    assert_int_equal(archive_write_open_memory(a, mem, sizeof(mem), &used), ARCHIVE_OK);
    struct archive_entry *ae = archive_entry_new();
    for (size_t i = 0; i < n; i++) {
        archive_entry_clear(ae);
        archive_entry_set_pathname(ae, names[i]);
        archive_entry_set_filetype(ae, AE_IFREG);
        archive_entry_set_perm(ae, 0644);
        assert_int_equal(archive_write_header(a, ae), ARCHIVE_OK);
    }
    archive_entry_free(ae);
    assert_int_equal(archive_write_close(a), ARCHIVE_OK);
    archive_write_free(a);
    assert_int_equal(gantry_buf_add(out, mem, used), 0);
}

static void test_layer__invalid_whiteouts(void **state)
{
    (void)state;
    static const char *const bad[] = {".wh..",      ".wh...", "etc/.wh..",
                                      "etc/.wh...", ".wh.",   "a/b/.wh./"};
    static const struct {
        const char *path;
        enum gantry_whiteout kind;
    } good[] = {
        {"etc/.wh.passwd", GANTRY_WHITEOUT_FILE},   {".wh..wh..opq", GANTRY_WHITEOUT_OPAQUE},
        {"a/.wh..wh..opq", GANTRY_WHITEOUT_OPAQUE}, {"a/.wh..wh.plnk", GANTRY_WHITEOUT_META},
        {"a/wh.x", GANTRY_WHITEOUT_NONE},           {"a/.whx", GANTRY_WHITEOUT_NONE},
        {".wh..x", GANTRY_WHITEOUT_FILE},           {"x/.wh.y/", GANTRY_WHITEOUT_FILE},
    };
    enum gantry_whiteout kind;
    for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
        assert_int_equal(
            gantry_layer_whiteout_classify(good[i].path, strlen(good[i].path), &kind, NULL), 0);
        assert_int_equal(kind, good[i].kind);
    }
    _cleanup_buf_ struct gantry_buf tar = GANTRY_BUF_INIT;
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        _cleanup_error_ struct gantry_error *err = NULL;
        assert_int_equal(gantry_layer_whiteout_classify(bad[i], strlen(bad[i]), &kind, &err), -1);
        expect_error(err, GANTRY_E_PARSE, "invalid whiteout");
        const char *names[] = {"ok", bad[i]};
        raw_tar(&tar, names, 2);
        _cleanup_error_ struct gantry_error *err2 = NULL;
        assert_int_equal(read_all(tar.data, tar.len, NULL, &err2), -1);
        expect_error(err2, GANTRY_E_PARSE, "invalid whiteout");
    }
    const char *names[] = {"ok", "etc/.wh.passwd", ".wh..wh..opq"};
    raw_tar(&tar, names, 3);
    assert_int_equal(read_all(tar.data, tar.len, NULL, NULL), 0);
}

static void test_layer__writer_rejects_bad_entries(void **state)
{
    (void)state;
    _cleanup_buf_ struct gantry_buf blob = GANTRY_BUF_INIT;
    struct gantry_layer_sink *s = gantry_layer_sink_new(GANTRY_COMPRESSION_NONE, buf_write, &blob);
    struct gantry_layer_tar_writer *w = gantry_layer_tar_writer_new(s);
    _cleanup_error_ struct gantry_error *e1 = NULL;
    struct gantry_layer_entry bad = {.path = "etc/.wh..", .mode = 0755};
    assert_int_equal(gantry_layer_tar_writer_add_dir(w, &bad, &e1), -1);
    expect_error(e1, GANTRY_E_PARSE, "invalid whiteout");
    _cleanup_error_ struct gantry_error *e2 = NULL;
    struct gantry_layer_entry empty = {.path = "", .mode = 0755};
    assert_int_equal(gantry_layer_tar_writer_add_dir(w, &empty, &e2), -1);
    expect_error(e2, GANTRY_E_PARSE, "empty path");
    _cleanup_error_ struct gantry_error *e3 = NULL;
    struct gantry_layer_entry nolink = {.path = "l", .mode = 0777};
    assert_int_equal(gantry_layer_tar_writer_add_symlink(w, &nolink, &e3), -1);
    expect_error(e3, GANTRY_E_PARSE, "empty symlink target");
    _cleanup_error_ struct gantry_error *e4 = NULL;
    assert_int_equal(gantry_layer_tar_writer_add_whiteout(w, "..", false, 0, &e4), -1);
    expect_error(e4, GANTRY_E_PARSE, "invalid whiteout");
    _cleanup_free_ char *huge = xmalloc(GANTRY_LAYER_PATH_MAX + 2);
    memset(huge, 'p', GANTRY_LAYER_PATH_MAX + 1);
    huge[GANTRY_LAYER_PATH_MAX + 1] = '\0';
    _cleanup_error_ struct gantry_error *e5 = NULL;
    struct gantry_layer_entry big = {.path = huge, .mode = 0755};
    assert_int_equal(gantry_layer_tar_writer_add_dir(w, &big, &e5), -1);
    expect_error(e5, GANTRY_E_PARSE, "path too long");
    /* Rejected entries wrote nothing: the tar is still fine. */
    struct gantry_layer_result res;
    assert_int_equal(gantry_layer_tar_writer_finish(w, NULL), 0);
    assert_int_equal(gantry_layer_sink_finish(s, &res, NULL), 0);
    assert_int_equal(blob.len, 1024);
    gantry_layer_tar_writer_free(w);
    gantry_layer_sink_free(s);
}

static void test_layer__file_changed_size(void **state)
{
    (void)state;
    static const size_t declared[] = {2000, 500};
    _cleanup_free_ unsigned char *data = pattern(1000, 1);
    for (size_t i = 0; i < ARRAY_SIZE(declared); i++) {
        _cleanup_buf_ struct gantry_buf blob = GANTRY_BUF_INIT;
        struct gantry_layer_sink *s =
            gantry_layer_sink_new(GANTRY_COMPRESSION_NONE, buf_write, &blob);
        struct gantry_layer_tar_writer *w = gantry_layer_tar_writer_new(s);
        _cleanup_close_ int fd = tmp_file(data, 1000);
        struct gantry_layer_entry e = {.path = "f", .mode = 0644, .size = declared[i]};
        _cleanup_error_ struct gantry_error *err = NULL;
        assert_int_equal(gantry_layer_tar_writer_add_file(w, &e, fd, &err), -1);
        expect_error(err, GANTRY_E_IO, "file 'f' changed size while reading");
        _cleanup_error_ struct gantry_error *err2 = NULL;
        assert_int_equal(gantry_layer_tar_writer_finish(w, &err2), -1);
        expect_error(err2, GANTRY_E_INVALID_ARG, "earlier error");
        gantry_layer_tar_writer_free(w);
        gantry_layer_sink_free(s);
    }
}

static void test_layer__pax_header_cap(void **state)
{
    (void)state;
    /* A pax 'x' header declaring 1 GiB of attributes, then a short body. */
    unsigned char tar[2048] = {0};
    memcpy(tar, "PaxHeader/x", 11);
    memcpy(tar + 100, "0000644", 7);
    memcpy(tar + 108, "0000000", 7);
    memcpy(tar + 116, "0000000", 7);
    memcpy(tar + 124, "10000000000", 11);
    memcpy(tar + 136, "00000000000", 11);
    tar[156] = 'x';
    memcpy(tar + 257,
           "ustar\0"
           "00",
           8);
    memset(tar + 148, ' ', 8);
    unsigned sum = 0;
    for (size_t i = 0; i < 512; i++)
        sum += tar[i];
    snprintf((char *)tar + 148, 8, "%06o", sum);
    memcpy(tar + 512, "30 path=aaaaaaaaaaaaaaaaaaaaa\n", 30);
    _cleanup_error_ struct gantry_error *err = NULL;
    assert_int_equal(read_all(tar, sizeof(tar), NULL, &err), -1);
    expect_error(err, GANTRY_E_PARSE, "too large");
}

static void test_layer__gnu_sparse_rejected(void **state)
{
    (void)state;
    /* Old GNU sparse 'S' entry: one 512-byte region of a 4096-byte file. */
    unsigned char tar[2048] = {0};
    memcpy(tar, "sparse", 6);
    memcpy(tar + 100, "0000644", 7);
    memcpy(tar + 108, "0000000", 7);
    memcpy(tar + 116, "0000000", 7);
    memcpy(tar + 124, "00000001000", 11);
    memcpy(tar + 136, "00000000000", 11);
    tar[156] = 'S';
    memcpy(tar + 257, "ustar  ", 8);
    memcpy(tar + 386, "00000000000", 11);
    memcpy(tar + 398, "00000001000", 11);
    memcpy(tar + 483, "00000010000", 11);
    memset(tar + 148, ' ', 8);
    unsigned sum = 0;
    for (size_t i = 0; i < 512; i++)
        sum += tar[i];
    snprintf((char *)tar + 148, 8, "%06o", sum);
    memset(tar + 512, 'A', 512);
    _cleanup_error_ struct gantry_error *err = NULL;
    assert_int_equal(read_all(tar, sizeof(tar), NULL, &err), -1);
    expect_error(err, GANTRY_E_UNSUPPORTED, "'sparse': GNU sparse files are not supported");
}

/* Paths of every entry of a tar stream, one per line. */
static void list_paths(const struct gantry_buf *blob, struct gantry_buf *out)
{
    struct mem_in in = {(const unsigned char *)blob->data, blob->len, 0, 0};
    _cleanup_error_ struct gantry_error *err = NULL;
    struct gantry_layer_reader *r = gantry_layer_reader_open(mem_read, &in, NULL, &err);
    assert_non_null(r);
    struct gantry_layer_entry e;
    int rc;
    while ((rc = gantry_layer_reader_next(r, &e, &err)) == 1)
        assert_int_equal(
            gantry_buf_addf(out, "%s>%s\n", e.path, e.link_target ? e.link_target : ""), 0);
    if (rc < 0)
        fail_msg("list: %s", err->message);
    gantry_layer_reader_free(r);
}

static void test_layer__gnu_long_names(void **state)
{
    (void)state;
    char name[301], target[201];
    memset(name, 'n', 300);
    name[300] = '\0';
    memset(target, 't', 200);
    target[200] = '\0';
    struct archive *a = archive_write_new();
    archive_write_set_format_gnutar(a);
    archive_write_set_bytes_per_block(a, 0);
    static char mem[16384];
    size_t used = 0;
    assert_int_equal(archive_write_open_memory(a, mem, sizeof(mem), &used), ARCHIVE_OK);
    struct archive_entry *ae = archive_entry_new();
    archive_entry_set_pathname(ae, name);
    archive_entry_set_filetype(ae, AE_IFLNK);
    archive_entry_set_perm(ae, 0777);
    archive_entry_set_symlink(ae, target);
    assert_int_equal(archive_write_header(a, ae), ARCHIVE_OK);
    archive_entry_free(ae);
    assert_int_equal(archive_write_close(a), ARCHIVE_OK);
    archive_write_free(a);
    _cleanup_buf_ struct gantry_buf tar = GANTRY_BUF_INIT;
    _cleanup_buf_ struct gantry_buf blob = GANTRY_BUF_INIT;
    _cleanup_buf_ struct gantry_buf want = GANTRY_BUF_INIT;
    _cleanup_buf_ struct gantry_buf got = GANTRY_BUF_INIT;
    assert_int_equal(gantry_buf_add(&tar, mem, used), 0);
    assert_non_null(memmem(tar.data, tar.len, "././@LongLink", 13));
    list_paths(&tar, &want);
    assert_int_equal(gantry_buf_addf(&got, "%s>%s\n", name, target), 0);
    assert_string_equal(want.data, got.data);
    _cleanup_close_ int fd = tmp_file(tar.data, tar.len);
    struct gantry_layer_result res;
    assert_int_equal(
        gantry_layer_from_tar(fd, GANTRY_COMPRESSION_NONE, buf_write, &blob, NULL, &res, NULL), 0);
    gantry_buf_reset(&got);
    list_paths(&blob, &got);
    assert_string_equal(want.data, got.data);
}

/*
 * Names are bytes: UTF-8 ones stay plain pax, others go out as
 * hdrcharset=BINARY, and the result does not depend on the locale.
 */
static void test_layer__names_are_bytes_in_any_locale(void **state)
{
    (void)state;
    static const char *const names[] = {"caf\xc3\xa9", "caf\xe9", "\xe6\x97\xa5\xe6\x9c\xac/"};
    char digests[2][GANTRY_DIGEST_MAX];
    for (int pass = 0; pass < 2; pass++) {
        assert_non_null(setlocale(LC_ALL, pass ? "C.UTF-8" : "C"));
        _cleanup_buf_ struct gantry_buf tar = GANTRY_BUF_INIT;
        _cleanup_buf_ struct gantry_buf list = GANTRY_BUF_INIT;
        struct gantry_layer_result res;
        struct gantry_layer_sink *s =
            gantry_layer_sink_new(GANTRY_COMPRESSION_NONE, buf_write, &tar);
        struct gantry_layer_tar_writer *w = gantry_layer_tar_writer_new(s);
        for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
            struct gantry_layer_entry e = {.path = names[i], .mode = 0755, .mtime = MTIME};
            assert_int_equal(gantry_layer_tar_writer_add_dir(w, &e, NULL), 0);
        }
        assert_int_equal(gantry_layer_tar_writer_finish(w, NULL), 0);
        assert_int_equal(gantry_layer_sink_finish(s, &res, NULL), 0);
        gantry_layer_tar_writer_free(w);
        gantry_layer_sink_free(s);
        list_paths(&tar, &list);
        assert_string_equal(list.data, "caf\xc3\xa9/>\ncaf\xe9/>\n\xe6\x97\xa5\xe6\x9c\xac/>\n");
        const char *hdr = memmem(tar.data, tar.len, "hdrcharset=BINARY", 17);
        assert_non_null(hdr);
        assert_null(memmem(hdr + 1, tar.len - (size_t)(hdr + 1 - tar.data), "hdrcharset", 10));
        memcpy(digests[pass], res.diff_id, GANTRY_DIGEST_MAX);
    }
    assert_non_null(setlocale(LC_ALL, "C"));
    assert_string_equal(digests[0], digests[1]);
}

static int progress_calls;
static bool progress_finished;

static void on_progress(void *user, const struct gantry_progress *p)
{
    (void)user;
    assert_string_equal(p->id, "test");
    assert_string_equal(p->action, "importing");
    progress_calls++;
    if (p->finished)
        progress_finished = true;
}

static void import(int fd, enum gantry_compression c, struct gantry_buf *blob,
                   struct gantry_layer_result *res)
{
    _cleanup_error_ struct gantry_error *err = NULL;
    struct gantry_layer_opts opts = {.progress_id = "test"};
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    if (gantry_layer_from_tar(fd, c, buf_write, blob, &opts, res, &err) < 0)
        fail_msg("import: %s", err->message);
}

static void test_layer__import(void **state)
{
    (void)state;
    _cleanup_buf_ struct gantry_buf tar = GANTRY_BUF_INIT;
    _cleanup_buf_ struct gantry_buf gz = GANTRY_BUF_INIT;
    struct gantry_layer_result tres, gres;
    size_t n = build_layer(GANTRY_COMPRESSION_NONE, &tar, &tres);
    build_layer(GANTRY_COMPRESSION_GZIP, &gz, &gres);
    _cleanup_close_ int tar_fd = tmp_file(tar.data, tar.len);
    _cleanup_close_ int gz_fd = tmp_file(gz.data, gz.len);
    gantry_set_progress_handler(on_progress, NULL);
    for (size_t i = 0; i < ARRAY_SIZE(all_comps); i++) {
        _cleanup_buf_ struct gantry_buf a = GANTRY_BUF_INIT;
        _cleanup_buf_ struct gantry_buf b = GANTRY_BUF_INIT;
        _cleanup_buf_ struct gantry_buf back = GANTRY_BUF_INIT;
        struct gantry_layer_result ra, rb;
        progress_finished = false;
        import(tar_fd, all_comps[i], &a, &ra);
        assert_true(progress_finished);
        import(gz_fd, all_comps[i], &b, &rb);
        assert_int_equal(ra.entries, n);
        /* Our own tars re-write to the same bytes, whatever the input compression. */
        assert_string_equal(ra.diff_id, tres.diff_id);
        assert_string_equal(rb.diff_id, tres.diff_id);
        assert_string_equal(ra.digest, rb.digest);
        decompress_all(&a, &back);
        char want[GANTRY_DIGEST_MAX];
        gantry_digest_bytes(GANTRY_DIGEST_SHA256, back.data, back.len, want);
        assert_string_equal(want, ra.diff_id);
        gantry_digest_bytes(GANTRY_DIGEST_SHA256, a.data, a.len, want);
        assert_string_equal(want, ra.digest);
        check_layer(&a, 0);
    }
    gantry_set_progress_handler(NULL, NULL);
    assert_true(progress_calls > 0);
}

static void test_layer__import_errors(void **state)
{
    (void)state;
    _cleanup_buf_ struct gantry_buf gz = GANTRY_BUF_INIT;
    struct gantry_layer_result res;
    build_layer(GANTRY_COMPRESSION_GZIP, &gz, &res);
    _cleanup_close_ int fd = tmp_file(gz.data, gz.len - 4);
    _cleanup_buf_ struct gantry_buf out = GANTRY_BUF_INIT;
    _cleanup_error_ struct gantry_error *err = NULL;
    assert_int_equal(
        gantry_layer_from_tar(fd, GANTRY_COMPRESSION_GZIP, buf_write, &out, NULL, &res, &err), -1);
    expect_error(err, GANTRY_E_PARSE, "truncated gzip stream");
    _cleanup_close_ int empty = tmp_fd();
    _cleanup_error_ struct gantry_error *err2 = NULL;
    assert_int_equal(
        gantry_layer_from_tar(empty, GANTRY_COMPRESSION_GZIP, buf_write, &out, NULL, &res, &err2),
        -1);
    expect_error(err2, GANTRY_E_PARSE, "empty layer stream");
    _cleanup_buf_ struct gantry_buf zeros = GANTRY_BUF_INIT;
    bomb(GANTRY_COMPRESSION_ZSTD, &zeros);
    _cleanup_close_ int zfd = tmp_file(zeros.data, zeros.len);
    struct gantry_layer_opts opts = {.max_uncompressed = 4 << 20};
    _cleanup_error_ struct gantry_error *err3 = NULL;
    assert_int_equal(
        gantry_layer_from_tar(zfd, GANTRY_COMPRESSION_GZIP, buf_write, &out, &opts, &res, &err3),
        -1);
    expect_error(err3, GANTRY_E_TOO_LARGE, "limit");
}

static int failing_write(void *user, const void *data, size_t len, struct gantry_error **err)
{
    (void)user;
    (void)data;
    (void)len;
    return gantry_error_set(err, GANTRY_E_IO, ENOSPC, "write blob");
}

static void test_layer__sink_error_passes_up(void **state)
{
    (void)state;
    _cleanup_buf_ struct gantry_buf tar = GANTRY_BUF_INIT;
    struct gantry_layer_result res;
    build_layer(GANTRY_COMPRESSION_NONE, &tar, &res);
    _cleanup_close_ int fd = tmp_file(tar.data, tar.len);
    _cleanup_error_ struct gantry_error *err = NULL;
    assert_int_equal(
        gantry_layer_from_tar(fd, GANTRY_COMPRESSION_ZSTD, failing_write, NULL, NULL, &res, &err),
        -1);
    expect_error(err, GANTRY_E_IO, "write blob");
    assert_int_equal(err->errno_value, ENOSPC);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layer__round_trip),
        cmocka_unit_test(test_layer__digests),
        cmocka_unit_test(test_layer__writer_is_deterministic),
        cmocka_unit_test(test_layer__sink_empty_and_small_writes),
        cmocka_unit_test(test_layer__detect),
        cmocka_unit_test(test_layer__reader_rejects_xz_and_empty),
        cmocka_unit_test(test_layer__codec_detect),
        cmocka_unit_test(test_layer__xz_bzip2_archives),
        cmocka_unit_test(test_layer__xz_memlimit),
        cmocka_unit_test(test_layer__truncated_tar),
        cmocka_unit_test(test_layer__bad_header_checksum),
        cmocka_unit_test(test_layer__truncated_gzip),
        cmocka_unit_test(test_layer__truncated_zstd),
        cmocka_unit_test(test_layer__trailing_garbage),
        cmocka_unit_test(test_layer__concatenated_gzip_members),
        cmocka_unit_test(test_layer__size_cap),
        cmocka_unit_test(test_layer__zstd_window_limit),
        cmocka_unit_test(test_layer__invalid_whiteouts),
        cmocka_unit_test(test_layer__writer_rejects_bad_entries),
        cmocka_unit_test(test_layer__file_changed_size),
        cmocka_unit_test(test_layer__pax_header_cap),
        cmocka_unit_test(test_layer__gnu_sparse_rejected),
        cmocka_unit_test(test_layer__gnu_long_names),
        cmocka_unit_test(test_layer__names_are_bytes_in_any_locale),
        cmocka_unit_test(test_layer__import),
        cmocka_unit_test(test_layer__import_errors),
        cmocka_unit_test(test_layer__sink_error_passes_up),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    free(big_data);
    return rc;
}
