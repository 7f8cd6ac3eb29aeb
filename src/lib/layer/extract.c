/*
 * Safe extraction of layers into a directory (bad-inputs.md 4.4). Every
 * name is resolved below a descriptor of the root: openat2 with
 * RESOLVE_IN_ROOT when the kernel has it (Linux >= 5.6), else a walk one
 * component at a time with O_NOFOLLOW that reads symbolic links and
 * resolves them inside the root by hand, with the same rules (".." stops
 * at the root, absolute targets start from it, 40 links at most). openat2
 * is only a shortcut for parents that exist: every failure falls back to
 * the walk, which makes missing directories and words the errors.
 * GANTRY_EXTRACT_NO_OPENAT2=1 in the environment forces the walk (tests).
 */
#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>

#include "layer_internal.h"
#include "util.h"

#define LINKS_MAX 40

/* What the current layer made at a path: whiteouts leave these alone. */
enum made_kind {
    MADE_NONE,
    MADE_LEAF, /* a file, link or device */
    MADE_DIR,  /* a directory entry, or the parent of an entry */
};

/* A string set with a kind per key (open addressing, FNV-1a). */
struct made_set {
    char **keys;
    unsigned char *kinds;
    size_t cap;
    size_t n;
};

struct dir_time {
    char *path;
    int64_t mtime;
};

struct gantry_layer_extractor {
    int root;
    unsigned flags;
    bool privileged;
    bool use_openat2;
    uint64_t max_bytes;
    uint64_t max_entries;
    uint64_t bytes;
    uint64_t entries;
    uint64_t skipped;
    uint64_t skipped_layer;
    char *root_name;
    struct made_set made;
    struct dir_time *times;
    size_t n_times;
    size_t cap_times;
};

/* ---- the set of paths made by the current layer ---- */

static size_t made_hash(const char *k, size_t len)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)k[i]) * 1099511628211ull;
    return (size_t)h;
}

/* The slot of key k[0..len), or the empty slot where it would go. */
static size_t made_slot(const struct made_set *m, const char *k, size_t len)
{
    size_t i = made_hash(k, len) & (m->cap - 1);
    while (m->keys[i] && (strncmp(m->keys[i], k, len) != 0 || m->keys[i][len] != '\0'))
        i = (i + 1) & (m->cap - 1);
    return i;
}

static void made_grow(struct made_set *m)
{
    struct made_set old = *m;
    m->cap = old.cap ? old.cap * 2 : 256;
    m->keys = xcalloc(m->cap, sizeof(*m->keys));
    m->kinds = xcalloc(m->cap, 1);
    for (size_t i = 0; i < old.cap; i++) {
        if (!old.keys[i])
            continue;
        size_t j = made_slot(m, old.keys[i], strlen(old.keys[i]));
        m->keys[j] = old.keys[i];
        m->kinds[j] = old.kinds[i];
    }
    free(old.keys);
    free(old.kinds);
}

/* Record k[0..len) as kind; an existing key changes only when overwrite is set. */
static void made_put(struct made_set *m, const char *k, size_t len, enum made_kind kind,
                     bool overwrite)
{
    if ((m->n + 1) * 2 > m->cap)
        made_grow(m);
    size_t i = made_slot(m, k, len);
    if (!m->keys[i]) {
        m->keys[i] = xstrndup(k, len);
        m->n++;
    } else if (!overwrite) {
        return;
    }
    m->kinds[i] = (unsigned char)kind;
}

static enum made_kind made_get(const struct made_set *m, const char *k)
{
    if (!m->cap)
        return MADE_NONE;
    size_t i = made_slot(m, k, strlen(k));
    return m->keys[i] ? (enum made_kind)m->kinds[i] : MADE_NONE;
}

/* path (clean, relative) as made, its parents as directories. */
static void made_add(struct made_set *m, const char *path, enum made_kind kind)
{
    made_put(m, path, strlen(path), kind, true);
    for (const char *s = strchr(path, '/'); s; s = strchr(s + 1, '/'))
        made_put(m, path, (size_t)(s - path), MADE_DIR, false);
}

static void made_clear(struct made_set *m)
{
    for (size_t i = 0; i < m->cap; i++)
        free(m->keys[i]);
    free(m->keys);
    free(m->kinds);
    memset(m, 0, sizeof(*m));
}

/* ---- names ---- */

/*
 * A tar name as a clean path relative to the root ("." for the root).
 * ".." above the root stays at the root (containerd's policy for layers),
 * or gives NULL when strict (moby's: a breakout is an error).
 */
static char *clean_name(const char *name, bool strict)
{
    size_t len = strlen(name);
    _cleanup_free_ char *out = xmalloc(len + 2);
    size_t olen = 0;
    for (const char *s = name; *s;) {
        const char *e = strchrnul(s, '/');
        size_t n = (size_t)(e - s);
        if (n == 2 && s[0] == '.' && s[1] == '.') {
            if (olen == 0 && strict)
                return NULL;
            char *slash = olen ? memrchr(out, '/', olen) : NULL;
            olen = slash ? (size_t)(slash - out) : 0;
        } else if (n > 0 && !(n == 1 && s[0] == '.')) {
            if (olen)
                out[olen++] = '/';
            memcpy(out + olen, s, n);
            olen += n;
        }
        s = *e ? e + 1 : e;
    }
    out[olen] = '\0';
    return olen ? steal_pointer(&out) : xstrdup(".");
}

/* Split clean path into its parent ("." at the top) and base name; caller frees *parent. */
static const char *split_path(const char *path, char **parent)
{
    const char *slash = strrchr(path, '/');
    *parent = slash ? xstrndup(path, (size_t)(slash - path)) : xstrdup(".");
    return slash ? slash + 1 : path;
}

/* ---- resolving directories inside the root ---- */

static int count_entry(struct gantry_layer_extractor *x, struct gantry_error **err)
{
    if (x->max_entries && x->entries >= x->max_entries)
        return gantry_error_set(err, GANTRY_E_TOO_LARGE, 0,
                                "extraction quota exceeded: more than %llu entries",
                                (unsigned long long)x->max_entries);
    x->entries++;
    return 0;
}

/* openat2 shortcut: rel resolved as RESOLVE_IN_ROOT (or beneath, without links, when strict). */
static int open_in_root(struct gantry_layer_extractor *x, const char *rel)
{
    if (!x->use_openat2)
        return -1;
    struct open_how how = {
        .flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
        .resolve = (x->flags & GANTRY_LAYER_EXTRACT_STRICT)
                       ? RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS
                       : RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
    };
    long fd = syscall(SYS_openat2, x->root, rel, &how, sizeof(how));
    if (fd < 0 && (errno == ENOSYS || errno == EPERM || errno == E2BIG))
        x->use_openat2 = false; /* old kernel, or a seccomp filter refusing it */
    return (int)fd;
}

/* State of a hand walk: fd is a real directory depth levels below the root. */
struct walk {
    struct gantry_layer_extractor *x;
    const char *rel; /* what was asked, for messages */
    bool create;
    int fd;
    size_t depth;
    unsigned links;
    char *rest; /* components still to resolve */
    char *next; /* into rest */
};

static void walk_release(struct walk *w)
{
    if (w->fd >= 0)
        close(w->fd);
    free(w->rest);
}

static int walk_move(struct walk *w, int fd, struct gantry_error **err)
{
    if (fd < 0)
        return gantry_error_set(err, GANTRY_E_IO, errno, "open directory '%s'", w->rel);
    close(w->fd);
    w->fd = fd;
    return 0;
}

/* Component comp is a symbolic link: go on with its target, inside the root. */
static int walk_follow(struct walk *w, const char *comp, struct gantry_error **err)
{
    if (w->x->flags & GANTRY_LAYER_EXTRACT_STRICT)
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, ENOTDIR, "'%s' is not a directory",
                                w->rel);
    if (++w->links > LINKS_MAX)
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, ELOOP, "resolve '%s'", w->rel);
    char target[GANTRY_LAYER_PATH_MAX + 1];
    ssize_t n = readlinkat(w->fd, comp, target, sizeof(target));
    if (n < 0 || (size_t)n >= sizeof(target))
        return gantry_error_set(err, GANTRY_E_IO, n < 0 ? errno : ENAMETOOLONG, "read link in '%s'",
                                w->rel);
    target[n] = '\0';
    if (target[0] == '/') {
        if (walk_move(w, fcntl(w->x->root, F_DUPFD_CLOEXEC, 3), err) < 0)
            return -1;
        w->depth = 0;
    }
    char *rest = xasprintf("%s/%s", target, w->next);
    free(w->rest);
    w->rest = w->next = rest;
    return 0;
}

/* A missing component: make it (mode 0755, as containerd) or fail. */
static int walk_make(struct walk *w, const char *comp, struct gantry_error **err)
{
    if (!w->create)
        return gantry_error_set(err, GANTRY_E_NOT_FOUND, ENOENT, "resolve '%s'", w->rel);
    if (count_entry(w->x, err) < 0)
        return -1;
    if (mkdirat(w->fd, comp, 0755) < 0 && errno != EEXIST)
        return gantry_error_set(err, GANTRY_E_IO, errno, "mkdir in '%s'", w->rel);
    return walk_move(w, openat(w->fd, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), err);
}

static int walk_step(struct walk *w, const char *comp, struct gantry_error **err)
{
    if (strcmp(comp, "..") == 0) {
        if (w->depth == 0)
            return 0;
        w->depth--;
        return walk_move(w, openat(w->fd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC), err);
    }
    int sub = openat(w->fd, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (sub >= 0) {
        w->depth++;
        return walk_move(w, sub, err);
    }
    struct stat st;
    if (fstatat(w->fd, comp, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno != ENOENT)
            return gantry_error_set(err, GANTRY_E_IO, errno, "resolve '%s'", w->rel);
        if (walk_make(w, comp, err) < 0)
            return -1;
        w->depth++;
        return 0;
    }
    if (S_ISLNK(st.st_mode))
        return walk_follow(w, comp, err);
    return gantry_error_set(err, GANTRY_E_INVALID_ARG, ENOTDIR, "'%s' is not a directory", w->rel);
}

/* Directory rel (clean, relative) resolved by hand below the root; an O_PATH fd or -1. */
static int walk_dir(struct gantry_layer_extractor *x, const char *rel, bool create,
                    struct gantry_error **err)
{
    __attribute__((cleanup(walk_release))) struct walk w = {
        .x = x,
        .rel = rel,
        .create = create,
        .fd = fcntl(x->root, F_DUPFD_CLOEXEC, 3),
        .rest = xstrdup(strcmp(rel, ".") == 0 ? "" : rel),
    };
    if (w.fd < 0)
        return gantry_error_set(err, GANTRY_E_IO, errno, "open the extraction root");
    w.next = w.rest;
    while (*w.next) {
        char *comp = w.next;
        char *slash = strchr(comp, '/');
        w.next = slash ? slash + 1 : comp + strlen(comp);
        if (slash)
            *slash = '\0';
        if (*comp && strcmp(comp, ".") != 0 && walk_step(&w, comp, err) < 0)
            return -1;
    }
    return steal_fd(&w.fd);
}

/* Directory rel below the root, made when missing and create is set; an fd or -1. */
static int open_dir(struct gantry_layer_extractor *x, const char *rel, bool create,
                    struct gantry_error **err)
{
    if (strcmp(rel, ".") == 0) {
        int fd = fcntl(x->root, F_DUPFD_CLOEXEC, 3);
        return fd < 0 ? gantry_error_set(err, GANTRY_E_IO, errno, "open the extraction root") : fd;
    }
    int fd = open_in_root(x, rel);
    return fd >= 0 ? fd : walk_dir(x, rel, create, err);
}

/* ---- removing ---- */

/* Remove name in dirfd and everything below it, never following a link. */
static int rm_tree(int dirfd, const char *name)
{
    if (unlinkat(dirfd, name, 0) == 0 || errno == ENOENT)
        return 0;
    if (errno != EISDIR && errno != EPERM)
        return -1;
    int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -1;
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return -1;
    }
    int rc = 0;
    const struct dirent *de;
    while (rc == 0 && (de = readdir(d)))
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            rc = rm_tree(fd, de->d_name);
    closedir(d);
    return rc < 0 ? -1 : unlinkat(dirfd, name, AT_REMOVEDIR);
}

static int hide_children(struct gantry_layer_extractor *x, int dirfd, const char *path,
                         struct gantry_error **err);

/*
 * Remove what lower layers put at path (name in dirfd): what the current
 * layer made there stays, as if the whiteout had come first.
 */
static int hide_lower(struct gantry_layer_extractor *x, int dirfd, const char *name,
                      const char *path, struct gantry_error **err)
{
    enum made_kind k = made_get(&x->made, path);
    if (k == MADE_LEAF)
        return 0;
    if (k == MADE_NONE) {
        if (rm_tree(dirfd, name) < 0)
            return gantry_error_set(err, GANTRY_E_IO, errno, "remove '%s'", path);
        return 0;
    }
    _cleanup_close_ int fd = openat(dirfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    return fd < 0 ? 0 : hide_children(x, fd, path, err);
}

/* The names in directory fd (a NULL-terminated array; caller frees both levels). */
static char **list_dir(int fd)
{
    int rfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = rfd >= 0 ? fdopendir(rfd) : NULL;
    if (!d) {
        if (rfd >= 0)
            close(rfd);
        return NULL;
    }
    size_t n = 0, cap = 16;
    char **names = xmalloc(cap * sizeof(*names));
    const struct dirent *de;
    while ((de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (n + 1 >= cap)
            names = xrealloc(names, (cap *= 2) * sizeof(*names));
        names[n++] = xstrdup(de->d_name);
    }
    names[n] = NULL;
    closedir(d);
    return names;
}

/* Empty directory fd (at path) of what lower layers put there. */
static int hide_children(struct gantry_layer_extractor *x, int dirfd, const char *path,
                         struct gantry_error **err)
{
    char **names = list_dir(dirfd);
    if (!names)
        return gantry_error_set(err, GANTRY_E_IO, errno, "list '%s'", path);
    int rc = 0;
    for (size_t i = 0; names[i]; i++) {
        if (rc == 0) {
            _cleanup_free_ char *child =
                strcmp(path, ".") == 0 ? xstrdup(names[i]) : xasprintf("%s/%s", path, names[i]);
            rc = hide_lower(x, dirfd, names[i], child, err);
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

/* A whiteout entry (path clean): hide the named file, or the directory's contents. */
static int apply_whiteout(struct gantry_layer_extractor *x, const char *path,
                          enum gantry_whiteout wk, struct gantry_error **err)
{
    if (wk == GANTRY_WHITEOUT_META)
        return 0; /* reserved names: never expected, skipped as containerd does */
    _cleanup_free_ char *parent = NULL;
    const char *base = split_path(path, &parent);
    _cleanup_error_ struct gantry_error *e = NULL;
    _cleanup_close_ int dir = open_dir(x, parent, false, &e);
    if (dir < 0) {
        if (e->code == GANTRY_E_NOT_FOUND || e->code == GANTRY_E_INVALID_ARG)
            return 0; /* nothing below to hide */
        if (err)
            *err = steal_pointer(&e);
        return -1;
    }
    if (wk == GANTRY_WHITEOUT_OPAQUE)
        return hide_children(x, dir, parent, err);
    _cleanup_free_ char *target =
        strcmp(parent, ".") == 0 ? xstrdup(base + 4) : xasprintf("%s/%s", parent, base + 4);
    return hide_lower(x, dir, base + 4, target, err);
}

/* ---- making entries ---- */

/* Owner (as root), mode and mtime of an open file or directory. */
static int set_meta_fd(struct gantry_layer_extractor *x, int fd, const char *path,
                       const struct gantry_layer_entry *e, uint32_t mode, struct gantry_error **err)
{
    /* chown before chmod: chown clears the setuid and setgid bits */
    if (x->privileged && fchown(fd, e->uid, e->gid) < 0)
        return gantry_error_set(err, GANTRY_E_IO, errno, "chown '%s'", path);
    if (fchmod(fd, mode) < 0)
        return gantry_error_set(err, GANTRY_E_IO, errno, "chmod '%s'", path);
    struct timespec ts[2] = {{.tv_sec = e->mtime}, {.tv_sec = e->mtime}};
    if ((x->flags & GANTRY_LAYER_EXTRACT_MTIMES) && e->type != GANTRY_LAYER_DIR &&
        futimens(fd, ts) < 0)
        return gantry_error_set(err, GANTRY_E_IO, errno, "set the time of '%s'", path);
    return 0;
}

/* Owner (as root) and mtime of a symbolic link or device node, never following it. */
static int set_meta_at(struct gantry_layer_extractor *x, int dir, const char *base,
                       const char *path, const struct gantry_layer_entry *e,
                       struct gantry_error **err)
{
    if (x->privileged && fchownat(dir, base, e->uid, e->gid, AT_SYMLINK_NOFOLLOW) < 0)
        return gantry_error_set(err, GANTRY_E_IO, errno, "chown '%s'", path);
    struct timespec ts[2] = {{.tv_sec = e->mtime}, {.tv_sec = e->mtime}};
    if ((x->flags & GANTRY_LAYER_EXTRACT_MTIMES) &&
        utimensat(dir, base, ts, AT_SYMLINK_NOFOLLOW) < 0)
        return gantry_error_set(err, GANTRY_E_IO, errno, "set the time of '%s'", path);
    return 0;
}

static int write_file(struct gantry_layer_extractor *x, struct gantry_layer_reader *r, int dir,
                      const char *base, const char *path, const struct gantry_layer_entry *e,
                      struct gantry_error **err)
{
    if (x->max_bytes && e->size > x->max_bytes - x->bytes)
        return gantry_error_set(err, GANTRY_E_TOO_LARGE, 0,
                                "extraction quota exceeded: more than %llu bytes at '%s'",
                                (unsigned long long)x->max_bytes, path);
    _cleanup_close_ int fd =
        openat(dir, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return gantry_error_set(err, GANTRY_E_IO, errno, "create '%s'", path);
    const void *buf;
    size_t len;
    int rc;
    while ((rc = layer_reader_data_block(r, &buf, &len, err)) == 1) {
        if (gantry_write_all(fd, buf, len) < 0)
            return gantry_error_set(err, GANTRY_E_IO, errno, "write '%s'", path);
        x->bytes += len;
    }
    if (rc < 0)
        return -1;
    return set_meta_fd(x, fd, path, e, e->mode & 07777, err);
}

static void defer_dir_time(struct gantry_layer_extractor *x, const char *path, int64_t mtime)
{
    if (x->n_times == x->cap_times) {
        x->cap_times = x->cap_times ? x->cap_times * 2 : 64;
        x->times = xrealloc(x->times, x->cap_times * sizeof(*x->times));
    }
    x->times[x->n_times++] = (struct dir_time){.path = xstrdup(path), .mtime = mtime};
}

static int write_dir(struct gantry_layer_extractor *x, int dir, const char *base, const char *path,
                     const struct gantry_layer_entry *e, struct gantry_error **err)
{
    if (mkdirat(dir, base, 0700) < 0 && errno != EEXIST)
        return gantry_error_set(err, GANTRY_E_IO, errno, "mkdir '%s'", path);
    _cleanup_close_ int fd = openat(dir, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return gantry_error_set(err, GANTRY_E_IO, errno, "open directory '%s'", path);
    /* unprivileged, keep the directory writable for the entries that follow */
    uint32_t mode = (e->mode & 07777) | (x->privileged ? 0 : 0700);
    if (set_meta_fd(x, fd, path, e, mode, err) < 0)
        return -1;
    if (x->flags & GANTRY_LAYER_EXTRACT_MTIMES)
        defer_dir_time(x, path, e->mtime);
    return 0;
}

/* A hard link to target, resolved inside the root like any name. */
static int write_hardlink(struct gantry_layer_extractor *x, int dir, const char *base,
                          const char *path, const char *target, struct gantry_error **err)
{
    _cleanup_free_ char *clean = clean_name(target, x->flags & GANTRY_LAYER_EXTRACT_STRICT);
    if (!clean || strcmp(clean, ".") == 0)
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0, "link target '%s' leaves the %s",
                                target, x->root_name);
    _cleanup_free_ char *tparent = NULL;
    const char *tbase = split_path(clean, &tparent);
    _cleanup_close_ int tdir = open_dir(x, tparent, false, err);
    if (tdir < 0)
        return gantry_error_prefix(err, "hard link '%s' to '%s'", path, target);
    if (linkat(tdir, tbase, dir, base, 0) < 0)
        return gantry_error_set(err, errno == ENOENT ? GANTRY_E_NOT_FOUND : GANTRY_E_IO, errno,
                                "hard link '%s' to '%s'", path, target);
    return 0;
}

static int write_special(struct gantry_layer_extractor *x, int dir, const char *base,
                         const char *path, const struct gantry_layer_entry *e,
                         struct gantry_error **err)
{
    if (!x->privileged || !(x->flags & GANTRY_LAYER_EXTRACT_DEVICES)) {
        x->skipped++;
        x->skipped_layer++;
        return 0;
    }
    mode_t type = e->type == GANTRY_LAYER_CHAR    ? S_IFCHR
                  : e->type == GANTRY_LAYER_BLOCK ? S_IFBLK
                                                  : S_IFIFO;
    if (mknodat(dir, base, type | 0600, makedev(e->devmajor, e->devminor)) < 0)
        return gantry_error_set(err, GANTRY_E_IO, errno, "mknod '%s'", path);
    if (set_meta_at(x, dir, base, path, e, err) < 0)
        return -1;
    /* fchmodat does not follow: base was just made, and it is not a link */
    if (fchmodat(dir, base, e->mode & 07777, 0) < 0)
        return gantry_error_set(err, GANTRY_E_IO, errno, "chmod '%s'", path);
    return 0;
}

/*
 * Clear the way for an entry at base: a directory stays for a directory
 * entry, anything else is removed (a link is removed, never followed).
 */
static int make_room(int dir, const char *base, const char *path, bool is_dir,
                     struct gantry_error **err)
{
    struct stat st;
    if (fstatat(dir, base, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno == ENOENT)
            return 0;
        return gantry_error_set(err, GANTRY_E_IO, errno, "stat '%s'", path);
    }
    if (is_dir && S_ISDIR(st.st_mode))
        return 0;
    if (rm_tree(dir, base) < 0)
        return gantry_error_set(err, GANTRY_E_IO, errno, "replace '%s'", path);
    return 0;
}

static int write_entry(struct gantry_layer_extractor *x, struct gantry_layer_reader *r,
                       const char *path, const struct gantry_layer_entry *e,
                       struct gantry_error **err)
{
    _cleanup_free_ char *parent = NULL;
    const char *base = split_path(path, &parent);
    _cleanup_close_ int dir = open_dir(x, parent, true, err);
    if (dir < 0 || count_entry(x, err) < 0 ||
        make_room(dir, base, path, e->type == GANTRY_LAYER_DIR, err) < 0)
        return -1;
    made_add(&x->made, path, e->type == GANTRY_LAYER_DIR ? MADE_DIR : MADE_LEAF);
    switch (e->type) {
    case GANTRY_LAYER_DIR:
        return write_dir(x, dir, base, path, e, err);
    case GANTRY_LAYER_FILE:
        return write_file(x, r, dir, base, path, e, err);
    case GANTRY_LAYER_SYMLINK:
        if (symlinkat(e->link_target, dir, base) < 0)
            return gantry_error_set(err, GANTRY_E_IO, errno, "symlink '%s'", path);
        return set_meta_at(x, dir, base, path, e, err);
    case GANTRY_LAYER_HARDLINK:
        return write_hardlink(x, dir, base, path, e->link_target, err);
    default:
        return write_special(x, dir, base, path, e, err);
    }
}

static int extract_entry(struct gantry_layer_extractor *x, struct gantry_layer_reader *r,
                         const struct gantry_layer_entry *e, struct gantry_error **err)
{
    _cleanup_free_ char *path = clean_name(e->path, x->flags & GANTRY_LAYER_EXTRACT_STRICT);
    if (!path)
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0, "entry '%s' leaves the %s", e->path,
                                x->root_name);
    if (strcmp(path, ".") == 0)
        return 0; /* the root keeps the mode the extractor gave it */
    enum gantry_whiteout wk = GANTRY_WHITEOUT_NONE;
    if (!(x->flags & GANTRY_LAYER_EXTRACT_NO_WHITEOUTS) &&
        gantry_layer_whiteout_classify(path, strlen(path), &wk, err) < 0)
        return -1;
    if (wk != GANTRY_WHITEOUT_NONE)
        return apply_whiteout(x, path, wk, err);
    return write_entry(x, r, path, e, err);
}

/* Directory times, once the layer's entries stopped changing them. */
static int apply_dir_times(struct gantry_layer_extractor *x, struct gantry_error **err)
{
    for (size_t i = 0; i < x->n_times; i++) {
        const struct dir_time *t = &x->times[i];
        _cleanup_free_ char *parent = NULL;
        const char *base = split_path(t->path, &parent);
        _cleanup_error_ struct gantry_error *e = NULL;
        _cleanup_close_ int dir = open_dir(x, parent, false, &e);
        struct stat st;
        if (dir < 0 || fstatat(dir, base, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
            continue; /* replaced or removed by a later entry */
        struct timespec ts[2] = {{.tv_sec = t->mtime}, {.tv_sec = t->mtime}};
        if (utimensat(dir, base, ts, AT_SYMLINK_NOFOLLOW) < 0)
            return gantry_error_set(err, GANTRY_E_IO, errno, "set the time of '%s'", t->path);
    }
    return 0;
}

static void layer_reset(struct gantry_layer_extractor *x)
{
    made_clear(&x->made);
    for (size_t i = 0; i < x->n_times; i++)
        free(x->times[i].path);
    x->n_times = 0;
    x->skipped_layer = 0;
}

int gantry_layer_extract_layer(struct gantry_layer_extractor *x, struct gantry_layer_reader *r,
                               struct gantry_error **err)
{
    layer_reset(x);
    struct gantry_layer_entry e;
    int rc;
    while ((rc = gantry_layer_reader_next(r, &e, err)) == 1)
        if (extract_entry(x, r, &e, err) < 0)
            return -1;
    if (rc < 0 || apply_dir_times(x, err) < 0)
        return -1;
    if (x->skipped_layer)
        gantry_log(GANTRY_LOG_WARN, "extraction skipped %llu device and FIFO entries",
                   (unsigned long long)x->skipped_layer);
    layer_reset(x);
    return 0;
}

struct gantry_layer_extractor *gantry_layer_extractor_new(const char *dir,
                                                          const struct gantry_layer_extract_opts *o,
                                                          struct gantry_error **err)
{
    _cleanup_close_ int root = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    /* setuid files of a layer must not be reachable by other users (CVE-2021-41091) */
    if (root < 0 || fchmod(root, 0700) < 0) {
        gantry_error_set(err, GANTRY_E_IO, errno, "%s '%s'", root < 0 ? "open" : "chmod", dir);
        return NULL;
    }
    struct gantry_layer_extractor *x = xcalloc(1, sizeof(*x));
    x->root = steal_fd(&root);
    x->privileged = geteuid() == 0;
    const char *no2 = getenv("GANTRY_EXTRACT_NO_OPENAT2");
    x->use_openat2 = !(no2 && strcmp(no2, "1") == 0);
    if (o) {
        x->flags = o->flags;
        x->max_bytes = o->max_bytes;
        x->max_entries = o->max_entries;
    }
    x->root_name = xstrdup(o && o->root_name ? o->root_name : "root");
    return x;
}

uint64_t gantry_layer_extractor_skipped(const struct gantry_layer_extractor *x)
{
    return x->skipped;
}

void gantry_layer_extractor_free(struct gantry_layer_extractor *x)
{
    if (!x)
        return;
    layer_reset(x);
    free(x->times);
    free(x->root_name);
    close(x->root);
    free(x);
}
