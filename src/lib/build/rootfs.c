/*
 * Reading the file trees of built stages and base images from their layer
 * blobs: a header walk (does WORKDIR exist?) and a safe extraction into a
 * directory (the source tree of COPY --from, /etc/passwd for --chown
 * names, --output type=local) by the layer module's extractor.
 */
#include <ftw.h>
#include <sys/stat.h>

#include "build/build_internal.h"

typedef int (*entry_fn)(void *user, struct gantry_layer_reader *r,
                        const struct gantry_layer_entry *e, const char *path,
                        struct gantry_error **err);

static ssize_t blob_read(void *user, void *buf, size_t len, struct gantry_error **err)
{
    return gantry_store_blob_reader_read(user, buf, len, err);
}

static void cleanup_blobp(struct gantry_store_blob_reader **r)
{
    gantry_store_blob_reader_free(*r);
}
static void cleanup_readerp(struct gantry_layer_reader **r)
{
    gantry_layer_reader_free(*r);
}

/* Call fn for every entry of one layer, with its path cleaned (escapes skipped). */
static int walk_layer(struct gantry_store *s, const char *digest, entry_fn fn, void *user,
                      struct gantry_error **err)
{
    __attribute__((cleanup(cleanup_blobp))) struct gantry_store_blob_reader *br =
        gantry_store_blob_reader_open(s, digest, err);
    if (!br)
        return -1;
    __attribute__((cleanup(cleanup_readerp))) struct gantry_layer_reader *r =
        gantry_layer_reader_open(blob_read, br, NULL, err);
    if (!r)
        return -1;
    struct gantry_layer_entry e;
    int rc;
    while ((rc = gantry_layer_reader_next(r, &e, err)) == 1) {
        _cleanup_free_ char *p = build_context_path(e.path, strlen(e.path));
        if (p && strcmp(p, ".") != 0 && fn(user, r, &e, p, err) < 0)
            return -1;
    }
    return rc;
}

struct has_dir {
    const char *want;
    bool found;
};

static int has_dir_fn(void *user, struct gantry_layer_reader *r, const struct gantry_layer_entry *e,
                      const char *path, struct gantry_error **err)
{
    (void)r, (void)err;
    struct has_dir *h = user;
    size_t wl = strlen(h->want);
    /* A deeper entry implies its parent directories; a later layer's entry wins. */
    if (strcmp(path, h->want) == 0)
        h->found = e->type == GANTRY_LAYER_DIR;
    else if (strncmp(path, h->want, wl) == 0 && path[wl] == '/')
        h->found = true;
    return 0;
}

int build_stage_has_dir(struct build_stage *st, const char *path, struct gantry_error **err)
{
    _cleanup_free_ char *want = build_context_path(path, strlen(path));
    if (!want || strcmp(want, ".") == 0)
        return 1;
    struct has_dir h = {.want = want};
    for (size_t i = 0; i < st->n_layers; i++)
        if (walk_layer(st->ctx->store, st->layers[i].digest, has_dir_fn, &h, err) < 0)
            return -1;
    return h.found ? 1 : 0;
}

static int rm_fn(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
    (void)sb, (void)flag, (void)f;
    remove(p);
    return 0;
}

void build_rm_rf(const char *dir)
{
    nftw(dir, rm_fn, 16, FTW_DEPTH | FTW_PHYS);
}

static void cleanup_extractorp(struct gantry_layer_extractor **x)
{
    gantry_layer_extractor_free(*x);
}

/* One layer blob applied by x. */
static int extract_blob(struct gantry_store *s, const char *digest,
                        struct gantry_layer_extractor *x, struct gantry_error **err)
{
    __attribute__((cleanup(cleanup_blobp))) struct gantry_store_blob_reader *br =
        gantry_store_blob_reader_open(s, digest, err);
    if (!br)
        return -1;
    __attribute__((cleanup(cleanup_readerp))) struct gantry_layer_reader *r =
        gantry_layer_reader_open(blob_read, br, NULL, err);
    if (!r)
        return -1;
    return gantry_layer_extract_layer(x, r, err);
}

/*
 * The layer module's safe extractor: every name, link and hard link
 * target resolved inside dir, so a hostile base image cannot write
 * outside it; device nodes and FIFOs are skipped, so COPY never opens one.
 */
int build_layers_extract(struct gantry_store *s, const struct gantry_oci_descriptor *layers,
                         size_t n_layers, const char *dir, struct gantry_error **err)
{
    const struct gantry_layer_extract_opts o = {.flags = GANTRY_LAYER_EXTRACT_MTIMES};
    __attribute__((cleanup(cleanup_extractorp))) struct gantry_layer_extractor *x =
        gantry_layer_extractor_new(dir, &o, err);
    if (!x)
        return -1;
    for (size_t i = 0; i < n_layers; i++)
        if (extract_blob(s, layers[i].digest, x, err) < 0)
            return gantry_error_prefix(err, "read layer %s", layers[i].digest);
    return 0;
}

/*
 * ---- directories of lower layers ----
 *
 * The record "dirs/<digest hex>" of a layer lists, in tar order, its
 * directories ("d <mode octal> <uid> <gid> <path>"), whiteouts
 * ("w <path>": path deleted) and opaque directories ("o <path>": what
 * lower layers have under path deleted; "" is the root), each item ended
 * by a NUL (paths may hold newlines), after a magic line and before
 * "end <count>". It is a pure function of the blob: made once from its tar
 * headers (or from the entries of a layer just written) and replaced
 * whenever it does not parse. Non-directories are not listed: a file that
 * replaces a lower directory leaves it visible here (a COPY under such a
 * path is an error for BuildKit anyway).
 */

#define DIRS_MAGIC "gantry-dirs-v1\n"
#define DIRS_MAX (256u << 20)

/* A record being made; failed once the buffer's cap was reached. */
struct dirs_out {
    struct gantry_buf *b;
    size_t n;
    bool failed;
};

static void out_item(struct dirs_out *o, const char *item)
{
    if (gantry_buf_add(o->b, item, strlen(item) + 1) < 0)
        o->failed = true;
    o->n++;
}

/* A whiteout's item: the path it deletes, or the opaque directory. */
static char *whiteout_item(const char *path, enum gantry_whiteout kind)
{
    const char *slash = strrchr(path, '/');
    int dl = slash ? (int)(slash - path) : 0;
    if (kind == GANTRY_WHITEOUT_OPAQUE)
        return xasprintf("o %.*s", dl, path);
    const char *base = (slash ? slash + 1 : path) + strlen(".wh.");
    return xasprintf("w %.*s%s%s", dl, path, slash ? "/" : "", base);
}

/* The item of one entry (path cleaned), if it has one. */
static int out_entry(struct dirs_out *o, const char *path, const struct gantry_layer_entry *e,
                     struct gantry_error **err)
{
    _cleanup_free_ char *item = NULL;
    enum gantry_whiteout kind = GANTRY_WHITEOUT_NONE;
    if (e->type == GANTRY_LAYER_DIR)
        item = xasprintf("d %o %u %u %s", e->mode & 07777, e->uid, e->gid, path);
    else if (gantry_layer_whiteout_classify(path, strlen(path), &kind, err) < 0)
        return -1;
    else if (kind == GANTRY_WHITEOUT_FILE || kind == GANTRY_WHITEOUT_OPAQUE)
        item = whiteout_item(path, kind);
    if (item)
        out_item(o, item);
    return 0;
}

static int dirs_fn(void *user, struct gantry_layer_reader *r, const struct gantry_layer_entry *e,
                   const char *path, struct gantry_error **err)
{
    (void)r;
    return out_entry(user, path, e, err);
}

static void out_end(struct dirs_out *o)
{
    char end[48];
    snprintf(end, sizeof end, "end %zu", o->n);
    if (gantry_buf_add(o->b, end, strlen(end) + 1) < 0)
        o->failed = true;
}

/* "dirs/<hex>" for a sha256 digest; NULL (no record kept) for others. */
static char *dirs_name(const char *digest)
{
    const char *hex = gantry_digest_hex(digest);
    if (!str_has_prefix(digest, "sha256:") || strlen(hex) != 64)
        return NULL;
    return xasprintf("dirs/%s", hex);
}

void build_dirs_record_entries(struct gantry_store *s, const char *digest,
                               const struct build_entries *l)
{
    _cleanup_free_ char *name = dirs_name(digest);
    _cleanup_buf_ struct gantry_buf b = GANTRY_BUF_INIT_CAP(DIRS_MAX);
    struct dirs_out o = {.b = &b};
    if (!name || gantry_buf_addstr(&b, DIRS_MAGIC) < 0)
        return;
    for (size_t i = 0; i < l->n_items; i++) {
        const struct build_entry *e = &l->items[i];
        _cleanup_free_ char *p = build_context_path(e->path, strlen(e->path));
        struct gantry_layer_entry m = {
            .type = e->type, .mode = e->mode, .uid = e->uid, .gid = e->gid};
        /* A name the tar walk would refuse: leave the record to that walk. */
        if (p && strcmp(p, ".") != 0 && out_entry(&o, p, &m, NULL) < 0)
            return;
    }
    out_end(&o);
    if (!o.failed)
        build_cache_store_put(s, name, b.data, b.len);
}

/* "d" item: its fields, false when malformed. */
static bool parse_dir_item(const char *item, uint32_t *mode, uint32_t *uid, uint32_t *gid,
                           const char **path)
{
    char *end = NULL;
    const char *p = item + 2;
    unsigned long v[3];
    for (int i = 0; i < 3; i++, p = end + 1) {
        errno = 0;
        v[i] = strtoul(p, &end, i == 0 ? 8 : 10);
        if (end == p || *end != ' ' || errno || v[i] > UINT32_MAX || *p == '-')
            return false;
    }
    if (v[0] > 07777 || !*p)
        return false;
    *mode = (uint32_t)v[0], *uid = (uint32_t)v[1], *gid = (uint32_t)v[2];
    *path = p;
    return true;
}

/* Whether a record's items (after the magic, data[len] is a NUL) all parse
 * and its end line counts them. */
static bool dirs_valid(const char *data, size_t len)
{
    size_t ml = strlen(DIRS_MAGIC), n = 0;
    if (len < ml || memcmp(data, DIRS_MAGIC, ml) != 0)
        return false;
    for (const char *it = data + ml; it < data + len; it += strlen(it) + 1, n++) {
        uint32_t m, u, g;
        const char *p;
        if (str_has_prefix(it, "end ")) {
            char num[32];
            snprintf(num, sizeof num, "%zu", n);
            return strcmp(it + 4, num) == 0 && it + strlen(it) + 1 == data + len;
        }
        bool ok = (it[0] == 'd' && it[1] == ' ' && parse_dir_item(it, &m, &u, &g, &p)) ||
                  (it[0] == 'w' && it[1] == ' ' && it[2]) || (it[0] == 'o' && it[1] == ' ');
        if (!ok)
            return false;
    }
    return false;
}

/* The record of one layer into b (reset): the stored one, else made and stored. */
static int layer_dirs(struct gantry_store *s, const char *digest, struct gantry_buf *b,
                      struct gantry_error **err)
{
    _cleanup_free_ char *name = dirs_name(digest);
    gantry_buf_reset(b);
    if (name && gantry_store_cache_get(s, name, b, NULL) == 0 && dirs_valid(b->data, b->len))
        return 0;
    gantry_buf_reset(b);
    struct dirs_out o = {.b = b};
    if (gantry_buf_addstr(b, DIRS_MAGIC) < 0 || walk_layer(s, digest, dirs_fn, &o, err) < 0)
        return -1;
    out_end(&o);
    if (o.failed)
        return gantry_error_set(err, GANTRY_E_TOO_LARGE, 0, "directory list of layer %s too large",
                                digest);
    if (name)
        build_cache_store_put(s, name, b->data, b->len);
    return 0;
}

/* The implicit entries being resolved: paths sorted, what lower layers give. */
struct dirs_state {
    struct build_entry **items;
    bool *found;
    uint32_t (*meta)[3];
    size_t n;
};

static void dirs_state_release(struct dirs_state *s)
{
    free(s->items);
    free(s->found);
    free(s->meta);
}

/* A whiteout of p (or, opaque, of what is under p) hides lower directories. */
static void dirs_hide(struct dirs_state *s, const char *p, bool opaque)
{
    size_t pl = strlen(p);
    for (size_t k = 0; k < s->n; k++) {
        const char *w = s->items[k]->path;
        bool under = pl == 0 || (strncmp(w, p, pl) == 0 && w[pl] == '/');
        if (under || (!opaque && strcmp(w, p) == 0))
            s->found[k] = false;
    }
}

static int cmp_want(const void *key, const void *elem)
{
    return strcmp(key, (*(struct build_entry *const *)elem)->path);
}

/* One layer's record (valid): whiteouts hide what is below, then its directories count. */
static void dirs_apply(struct dirs_state *s, const char *data, size_t len)
{
    const char *items = data + strlen(DIRS_MAGIC);
    for (int pass = 0; pass < 2; pass++)
        for (const char *it = items; it < data + len; it += strlen(it) + 1) {
            uint32_t m[3];
            const char *p;
            if (pass == 0 && (it[0] == 'w' || it[0] == 'o'))
                dirs_hide(s, it + 2, it[0] == 'o');
            if (pass == 0 || it[0] != 'd' || !parse_dir_item(it, &m[0], &m[1], &m[2], &p))
                continue;
            struct build_entry **e = bsearch(p, s->items, s->n, sizeof *s->items, cmp_want);
            if (e) {
                s->found[e - s->items] = true;
                memcpy(s->meta[e - s->items], m, sizeof m);
            }
        }
}

int build_dirs_resolve(struct build_stage *st, struct build_entries *l, struct gantry_error **err)
{
    __attribute__((cleanup(dirs_state_release))) struct dirs_state s = {0};
    for (size_t i = 0; i < l->n_items; i++)
        s.n += l->items[i].implicit;
    if (s.n == 0 || st->n_layers == 0)
        return 0;
    s.items = xcalloc(s.n, sizeof *s.items);
    s.found = xcalloc(s.n, sizeof *s.found);
    s.meta = xcalloc(s.n, sizeof *s.meta);
    for (size_t i = 0, k = 0; i < l->n_items; i++)
        if (l->items[i].implicit)
            s.items[k++] = &l->items[i];
    _cleanup_buf_ struct gantry_buf b = GANTRY_BUF_INIT_CAP(DIRS_MAX);
    for (size_t i = 0; i < st->n_layers; i++) {
        if (layer_dirs(st->ctx->store, st->layers[i].digest, &b, err) < 0)
            return gantry_error_prefix(err, "read layer %s", st->layers[i].digest);
        dirs_apply(&s, b.data, b.len);
    }
    for (size_t k = 0; k < s.n; k++)
        if (s.found[k]) {
            s.items[k]->mode = s.meta[k][0];
            s.items[k]->uid = s.meta[k][1];
            s.items[k]->gid = s.meta[k][2];
        }
    return 0;
}
