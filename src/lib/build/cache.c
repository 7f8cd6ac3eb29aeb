/*
 * The step cache of a build (docs/build.md "Cache"): records key -> layer
 * in the store's cache/, a stat cache that spares re-reading unchanged
 * context files, and in-flight keys so that two platform threads making
 * the same layer make it once.
 *
 * Stat cache: (dev, ino, size, mtime_ns, ctime_ns) -> sha256 of the
 * content, one record per context directory. ctime changes with every
 * write, chmod, rename or link of the inode, so an equal identity means
 * equal content; a file changed within RACY_NS of its hashing is not
 * remembered, because a second write inside the same clock tick could
 * leave the identity unchanged (git's "racy clean" problem). The record
 * names its context directory on its second line, so that prune can drop
 * the records of contexts that are gone.
 *
 * Pruning (gantry_build_cache_prune) holds the store's lock file
 * exclusively while it judges and deletes records; writers of records hold
 * it shared, so a record being replaced is never judged on its old bytes.
 * Readers take no lock: a record deleted under them is a miss.
 */
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#include "build/build_internal.h"

#define STAT_MAGIC "gantry-stat-v2\n"
#define RECORD_MAGIC "gantry-build-cache-v1"
#define STAT_MAX_ENTRIES 1000000u
#define RACY_NS 50000000LL
#define HEX_LEN 64

struct stat_slot {
    struct build_file_id id;
    char hex[HEX_LEN + 1];
    bool set;
    bool used;
};

struct build_cache {
    struct gantry_store *store;
    char *context;   /* files under it are remembered */
    char *stat_name; /* record name of the context's stat cache, NULL: none */
    bool no_cache;
    pthread_mutex_t lock;
    pthread_cond_t flight_done;
    struct stat_slot *slots; /* open addressing on (dev, ino) */
    size_t cap, n;
    bool loaded, dirty;
    char **flights; /* keys being made now */
    size_t n_flights;
};

struct build_cache *build_cache_new(struct gantry_store *s, const char *context, bool no_cache)
{
    struct build_cache *c = xcalloc(1, sizeof *c);
    char d[GANTRY_DIGEST_MAX];
    gantry_digest_bytes(GANTRY_DIGEST_SHA256, context, strlen(context), d);
    c->store = s;
    c->context = xstrdup(context);
    /* The record's second line names the context: a newline in its path
     * cannot be written there, so such a context gets no stat cache. */
    if (!strchr(context, '\n'))
        c->stat_name = xasprintf("stat/%s", gantry_digest_hex(d));
    c->no_cache = no_cache;
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->flight_done, NULL);
    return c;
}

void build_cache_free(struct build_cache *c)
{
    if (!c)
        return;
    pthread_mutex_destroy(&c->lock);
    pthread_cond_destroy(&c->flight_done);
    free(c->slots);
    free(c->context);
    free(c->stat_name);
    free(c->flights);
    free(c);
}

bool build_cache_no_cache(const struct build_cache *c)
{
    return c->no_cache;
}

void build_file_id_of(const struct stat *sb, struct build_file_id *id)
{
    *id = (struct build_file_id){
        .dev = (uint64_t)sb->st_dev,
        .ino = (uint64_t)sb->st_ino,
        .size = (uint64_t)sb->st_size,
        .mtime_ns = (int64_t)sb->st_mtim.tv_sec * 1000000000LL + sb->st_mtim.tv_nsec,
        .ctime_ns = (int64_t)sb->st_ctim.tv_sec * 1000000000LL + sb->st_ctim.tv_nsec};
}

bool build_file_id_equal(const struct build_file_id *a, const struct build_file_id *b)
{
    return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           a->mtime_ns == b->mtime_ns && a->ctime_ns == b->ctime_ns;
}

/* ---- the stat cache table (callers hold c->lock) ---- */

static size_t slot_of(struct stat_slot *slots, size_t cap, const struct build_file_id *id)
{
    uint64_t h = (id->dev * 0x9e3779b97f4a7c15ull) ^ (id->ino * 0xc2b2ae3d27d4eb4full);
    size_t i = (size_t)(h ^ (h >> 29)) & (cap - 1);
    while (slots[i].set && (slots[i].id.dev != id->dev || slots[i].id.ino != id->ino))
        i = (i + 1) & (cap - 1);
    return i;
}

static void table_grow(struct build_cache *c)
{
    size_t cap = c->cap ? c->cap * 2 : 1024;
    struct stat_slot *slots = xcalloc(cap, sizeof *slots);
    for (size_t i = 0; i < c->cap; i++)
        if (c->slots[i].set)
            slots[slot_of(slots, cap, &c->slots[i].id)] = c->slots[i];
    free(c->slots);
    c->slots = slots;
    c->cap = cap;
}

static struct stat_slot *table_put(struct build_cache *c, const struct build_file_id *id,
                                   const char *hex)
{
    if ((c->n + 1) * 2 > c->cap)
        table_grow(c);
    struct stat_slot *s = &c->slots[slot_of(c->slots, c->cap, id)];
    if (!s->set)
        c->n++;
    s->set = true;
    s->id = *id;
    memcpy(s->hex, hex, HEX_LEN);
    s->hex[HEX_LEN] = '\0';
    return s;
}

static bool parse_stat_line(char *line, struct build_file_id *id, const char **hex)
{
    char *p = line, *end = NULL;
    uint64_t v[3];
    int64_t t[2];
    for (int i = 0; i < 3; i++, p = end) {
        v[i] = strtoull(p, &end, 16);
        if (end == p || *end != ' ')
            return false;
    }
    for (int i = 0; i < 2; i++, p = end) {
        t[i] = strtoll(p, &end, 10);
        if (end == p || *end != ' ')
            return false;
    }
    *id = (struct build_file_id){v[0], v[1], v[2], t[0], t[1]};
    *hex = end + 1;
    return strlen(*hex) == HEX_LEN && strspn(*hex, "0123456789abcdef") == HEX_LEN;
}

/* The entries of a stat record after its header (magic, context line), or
 * NULL when the header is not that of context. */
static char *stat_entries(char *data, const char *context)
{
    if (!str_has_prefix(data, STAT_MAGIC))
        return NULL;
    char *line = data + strlen(STAT_MAGIC);
    char *nl = strchr(line, '\n');
    if (!nl || (size_t)(nl - line) != strlen(context) || strncmp(line, context, strlen(context)))
        return NULL;
    return nl + 1;
}

/* Load the context's stat cache once; a damaged one is dropped whole. */
static void stat_load(struct build_cache *c)
{
    if (c->loaded || !c->stat_name)
        return;
    c->loaded = true;
    _cleanup_buf_ struct gantry_buf b = GANTRY_BUF_INIT_CAP(256u << 20);
    if (gantry_store_cache_get(c->store, c->stat_name, &b, NULL) < 0)
        return;
    char *entries = stat_entries(b.data, c->context);
    if (!entries)
        return;
    char *save = NULL;
    for (char *line = strtok_r(entries, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        struct build_file_id id;
        const char *hex = NULL;
        if (!parse_stat_line(line, &id, &hex)) {
            memset(c->slots, 0, c->cap * sizeof *c->slots);
            c->n = 0;
            return;
        }
        table_put(c, &id, hex);
    }
}

static bool stat_lookup(struct build_cache *c, const struct build_file_id *id, char *digest)
{
    pthread_mutex_lock(&c->lock);
    stat_load(c);
    struct stat_slot *s = c->cap ? &c->slots[slot_of(c->slots, c->cap, id)] : NULL;
    bool hit = s && s->set && build_file_id_equal(&s->id, id);
    if (hit) {
        s->used = true;
        snprintf(digest, GANTRY_DIGEST_MAX, "sha256:%s", s->hex);
    }
    pthread_mutex_unlock(&c->lock);
    return hit;
}

static void stat_remember(struct build_cache *c, const struct build_file_id *id, const char *digest)
{
    pthread_mutex_lock(&c->lock);
    table_put(c, id, gantry_digest_hex(digest))->used = true;
    c->dirty = true;
    pthread_mutex_unlock(&c->lock);
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void cleanup_hasherp(struct gantry_hasher **h)
{
    gantry_hasher_free(*h);
}

/* sha256 of the file; *same: its identity did not change meanwhile. */
static int hash_file(const char *path, const struct build_file_id *id, char *digest, bool *same,
                     struct gantry_error **err)
{
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return gantry_error_set(err, GANTRY_E_IO, errno, "open '%s'", path);
    __attribute__((cleanup(cleanup_hasherp))) struct gantry_hasher *h =
        gantry_hasher_new(GANTRY_DIGEST_SHA256);
    char buf[65536];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return gantry_error_set(err, GANTRY_E_IO, errno, "read '%s'", path);
        gantry_hasher_update(h, buf, (size_t)n);
    }
    gantry_hasher_final(h, digest);
    struct stat sb;
    struct build_file_id after;
    *same = fstat(fd, &sb) == 0;
    if (*same) {
        build_file_id_of(&sb, &after);
        *same = build_file_id_equal(&after, id);
    }
    return 0;
}

int build_cache_file_digest(struct build_cache *c, const char *path, const struct build_file_id *id,
                            char digest[GANTRY_DIGEST_MAX], struct gantry_error **err)
{
    if (!c->no_cache && stat_lookup(c, id, digest))
        return 0;
    int64_t start = now_ns();
    bool same = false;
    if (hash_file(path, id, digest, &same, err) < 0)
        return -1;
    size_t cl = strlen(c->context);
    bool in_context = strncmp(path, c->context, cl) == 0 && path[cl] == '/';
    bool racy = id->mtime_ns > start - RACY_NS || id->ctime_ns > start - RACY_NS;
    if (same && in_context && !racy)
        stat_remember(c, id, digest);
    return 0;
}

/* Used entries first, then others up to the cap. */
static void stat_serialize(struct build_cache *c, struct gantry_buf *b)
{
    size_t kept = 0;
    (void)!gantry_buf_addf(b, "%s%s\n", STAT_MAGIC, c->context);
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < c->cap && kept < STAT_MAX_ENTRIES; i++) {
            const struct stat_slot *s = &c->slots[i];
            if (!s->set || s->used != (pass == 0))
                continue;
            (void)!gantry_buf_addf(b, "%llx %llx %llx %lld %lld %s\n",
                                   (unsigned long long)s->id.dev, (unsigned long long)s->id.ino,
                                   (unsigned long long)s->id.size, (long long)s->id.mtime_ns,
                                   (long long)s->id.ctime_ns, s->hex);
            kept++;
        }
}

/*
 * The store's lock file ($ROOT/lock, store.h), flocked with op on a fresh
 * open file description (so threads of one process exclude each other):
 * the fd to close, or -1.
 */
static int cache_lock(struct gantry_store *s, int op, struct gantry_error **err)
{
    _cleanup_free_ char *path = xasprintf("%s/lock", gantry_store_root(s));
    _cleanup_close_ int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0 && (errno == EACCES || errno == EROFS) && op == LOCK_SH)
        fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return gantry_error_set(err, GANTRY_E_IO, errno, "open lock '%s'", path);
    while (flock(fd, op) < 0)
        if (errno != EINTR)
            return gantry_error_set(err, GANTRY_E_IO, errno, "lock '%s'", path);
    return steal_fd(&fd);
}

/* Replace a record under the shared lock (best effort: a warning). */
static bool record_write(struct gantry_store *s, const char *name, const void *data, size_t len)
{
    _cleanup_error_ struct gantry_error *e = NULL;
    _cleanup_close_ int lock = cache_lock(s, LOCK_SH, &e);
    if (lock < 0 || gantry_store_cache_put(s, name, data, len, &e) < 0) {
        gantry_log(GANTRY_LOG_WARN, "build cache: %s", e->message);
        return false;
    }
    return true;
}

void build_cache_save(struct build_cache *c)
{
    if (!c || !c->dirty || !c->stat_name)
        return;
    _cleanup_buf_ struct gantry_buf b = GANTRY_BUF_INIT;
    stat_serialize(c, &b);
    if (record_write(c->store, c->stat_name, b.data, b.len))
        c->dirty = false;
}

/* ---- records: key -> layer ---- */

static char *record_name(const char *key)
{
    return xasprintf("step/%s", key);
}

static bool parse_record(char *data, struct gantry_oci_descriptor *desc, char *diff_id)
{
    char *save = NULL;
    const char *f[5];
    for (int i = 0; i < 5; i++) {
        f[i] = strtok_r(i ? NULL : data, "\n", &save);
        if (!f[i])
            return false;
    }
    char *end = NULL;
    long long size = strtoll(f[3], &end, 10);
    if (strcmp(f[0], RECORD_MAGIC) != 0 || *end || size < 0 ||
        gantry_digest_validate(f[2], strlen(f[2]), NULL, NULL) < 0 ||
        gantry_digest_validate(f[4], strlen(f[4]), NULL, NULL) < 0)
        return false;
    gantry_oci_descriptor_init(desc, f[1], f[2], size);
    snprintf(diff_id, GANTRY_DIGEST_MAX, "%s", f[4]);
    return true;
}

/* The layer of the step record name, when it parses and its blob is in s
 * with its size (the blob may have been pruned since: then the record is
 * worthless). */
static bool record_read(struct gantry_store *s, const char *name,
                        struct gantry_oci_descriptor *desc, char diff_id[GANTRY_DIGEST_MAX])
{
    _cleanup_buf_ struct gantry_buf b = GANTRY_BUF_INIT_CAP(4096);
    if (gantry_store_cache_get(s, name, &b, NULL) < 0)
        return false;
    struct gantry_oci_descriptor d = GANTRY_OCI_DESCRIPTOR_INIT;
    int64_t size = -1;
    if (!parse_record(b.data, &d, diff_id) ||
        gantry_store_blob_size(s, d.digest, &size, NULL) < 0 || size != d.size) {
        gantry_oci_descriptor_release(&d);
        return false;
    }
    *desc = d;
    return true;
}

bool build_cache_get(struct build_cache *c, const char *key, struct gantry_oci_descriptor *desc,
                     char diff_id[GANTRY_DIGEST_MAX])
{
    if (c->no_cache)
        return false;
    _cleanup_free_ char *name = record_name(key);
    return record_read(c->store, name, desc, diff_id);
}

void build_cache_put(struct build_cache *c, const char *key,
                     const struct gantry_oci_descriptor *desc, const char *diff_id)
{
    _cleanup_free_ char *name = record_name(key);
    _cleanup_free_ char *rec = xasprintf("%s\n%s\n%s\n%lld\n%s\n", RECORD_MAGIC, desc->media_type,
                                         desc->digest, (long long)desc->size, diff_id);
    (void)record_write(c->store, name, rec, strlen(rec));
}

/* ---- other records (url.c: downloads by URL) ---- */

bool build_cache_record_get(struct build_cache *c, const char *name, struct gantry_buf *out)
{
    return !c->no_cache && gantry_store_cache_get(c->store, name, out, NULL) == 0;
}

void build_cache_record_put(struct build_cache *c, const char *name, const void *data, size_t len)
{
    (void)record_write(c->store, name, data, len);
}

void build_cache_store_put(struct gantry_store *s, const char *name, const void *data, size_t len)
{
    (void)record_write(s, name, data, len);
}

/* ---- keys in flight ---- */

static size_t flight_find(const struct build_cache *c, const char *key)
{
    for (size_t i = 0; i < c->n_flights; i++)
        if (strcmp(c->flights[i], key) == 0)
            return i;
    return (size_t)-1;
}

void build_cache_flight_begin(struct build_cache *c, const char *key)
{
    pthread_mutex_lock(&c->lock);
    while (flight_find(c, key) != (size_t)-1)
        pthread_cond_wait(&c->flight_done, &c->lock);
    c->flights = xrealloc(c->flights, (c->n_flights + 1) * sizeof *c->flights);
    c->flights[c->n_flights++] = (char *)key;
    pthread_mutex_unlock(&c->lock);
}

void build_cache_flight_end(struct build_cache *c, const char *key)
{
    pthread_mutex_lock(&c->lock);
    size_t i = flight_find(c, key);
    if (i != (size_t)-1)
        c->flights[i] = c->flights[--c->n_flights];
    pthread_cond_broadcast(&c->flight_done);
    pthread_mutex_unlock(&c->lock);
}

/* ---- pruning ---- */

/* A step record a build could use. */
static bool step_record_live(struct gantry_store *s, const char *name, const char *path)
{
    (void)path;
    _cleanup_descriptor_ struct gantry_oci_descriptor d = GANTRY_OCI_DESCRIPTOR_INIT;
    char diff_id[GANTRY_DIGEST_MAX];
    return record_read(s, name, &d, diff_id);
}

/* A stat record of the current format whose context is still a directory
 * (only its header is read: the entries may be large). */
static bool stat_record_live(struct gantry_store *s, const char *name, const char *path)
{
    (void)s, (void)name;
    _cleanup_fclose_ FILE *f = fopen(path, "re");
    _cleanup_free_ char *line = NULL;
    size_t cap = 0;
    if (!f || getline(&line, &cap, f) < 0 || strcmp(line, STAT_MAGIC) != 0)
        return false;
    ssize_t n = getline(&line, &cap, f);
    if (n < 2 || line[n - 1] != '\n')
        return false;
    line[n - 1] = '\0';
    struct stat sb;
    return stat(line, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* A directories record (rootfs.c) whose layer blob is still in the store. */
static bool dirs_record_live(struct gantry_store *s, const char *name, const char *path)
{
    (void)path;
    _cleanup_free_ char *digest = xasprintf("sha256:%s", name + strlen("dirs/"));
    return gantry_store_blob_exists(s, digest);
}

/* One namespace of cache/ ("step", "stat") and what pruning did there. */
struct prune_ns {
    const char *ns;
    bool (*live)(struct gantry_store *s, const char *name, const char *path);
    uint64_t deleted, kept;
};

/* Records are named by 64 hex digits; anything else in cache/ is not ours. */
static bool is_record_name(const char *name)
{
    return strlen(name) == HEX_LEN && strspn(name, "0123456789abcdef") == HEX_LEN;
}

static int prune_one(struct gantry_store *s, bool all, struct prune_ns *p, const char *dir,
                     const char *file, struct gantry_error **err)
{
    if (!is_record_name(file))
        return 0;
    _cleanup_free_ char *name = xasprintf("%s/%s", p->ns, file);
    _cleanup_free_ char *path = xasprintf("%s/%s", dir, file);
    if (!all && p->live(s, name, path)) {
        p->kept++;
        return 0;
    }
    if (gantry_store_cache_delete(s, name, err) < 0)
        return -1;
    p->deleted++;
    return 0;
}

static int prune_dir(struct gantry_store *s, bool all, struct prune_ns *p,
                     struct gantry_error **err)
{
    _cleanup_free_ char *dir = xasprintf("%s/cache/%s", gantry_store_root(s), p->ns);
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? 0 : gantry_error_set(err, GANTRY_E_IO, errno, "open '%s'", dir);
    int rc = 0;
    const struct dirent *e;
    while (rc == 0 && (e = readdir(d)))
        rc = prune_one(s, all, p, dir, e->d_name, err);
    closedir(d);
    return rc;
}

int gantry_build_cache_prune(struct gantry_store *s, bool all,
                             struct gantry_build_cache_prune_stats *out, struct gantry_error **err)
{
    struct prune_ns steps = {.ns = "step", .live = step_record_live};
    struct prune_ns stats = {.ns = "stat", .live = stat_record_live};
    struct prune_ns urls = {.ns = "url", .live = build_url_record_live};
    struct prune_ns dirs = {.ns = "dirs", .live = dirs_record_live};
    _cleanup_close_ int lock = cache_lock(s, LOCK_EX, err);
    int rc = lock < 0 ? -1 : prune_dir(s, all, &steps, err);
    if (rc == 0)
        rc = prune_dir(s, all, &stats, err);
    if (rc == 0)
        rc = prune_dir(s, all, &urls, err);
    if (rc == 0)
        rc = prune_dir(s, all, &dirs, err);
    /* Download records (url.c) count as step records: both name a blob.
     * Directories records (rootfs.c), an index of layers made again on
     * demand, are not counted. */
    if (out)
        *out =
            (struct gantry_build_cache_prune_stats){.steps_deleted = steps.deleted + urls.deleted,
                                                    .steps_kept = steps.kept + urls.kept,
                                                    .stats_deleted = stats.deleted,
                                                    .stats_kept = stats.kept};
    return rc < 0 ? gantry_error_prefix(err, "prune build cache") : 0;
}
