/*
 * COPY, ADD and WORKDIR: the steps that make layers. Sources come from the
 * build context (.dockerignore applied) or, with --from, from a stage or
 * image extracted into a temporary directory. Paths never leave their
 * root: "../x" that climbs out of the context is an error. A step copying
 * from an image (not a stage) is keyed by its inputs before anything is
 * extracted, so a cache hit unpacks nothing (docs/build.md "Cache").
 */
#include <dirent.h>
#include <fcntl.h>
#include <glob.h>
#include <sys/stat.h>

#include <gantry/registry.h>

#include "build/build_internal.h"

struct copy_job {
    struct build_stage *st;
    const struct gantry_dockerfile_instruction *in;
    const char *what; /* "COPY" or "ADD" */
    const char *root; /* absolute directory the sources are in */
    const char *from; /* --from value, NULL: the build context */
    bool add;
    enum { UNPACK_DEFAULT, UNPACK_TRUE, UNPACK_FALSE } unpack; /* ADD --unpack */
    bool parents; /* COPY --parents: sources keep their directories */
    bool dry;     /* --check: sources resolved, nothing added */
    bool chown;
    uint32_t uid, gid;
    bool chmod;
    uint32_t mode;
    char *tmpdir; /* extraction of --from, temporary files of ADD */
    struct build_entries entries;
    char *checksum;                      /* ADD --checksum, expanded */
    struct gantry_dockerignore *exclude; /* --exclude patterns, or NULL */
    size_t src_prefix;                   /* bytes of rel before the source-relative path */
    struct build_stage img;              /* --from=<image>: the image, once set up */
    bool have_img;
};

static void job_release(struct copy_job *j)
{
    if (j->tmpdir)
        build_rm_rf(j->tmpdir);
    free(j->tmpdir);
    free(j->checksum);
    gantry_dockerignore_free(j->exclude);
    build_entries_release(&j->entries);
    if (j->have_img)
        build_stage_release(&j->img);
}

static int job_fail(struct copy_job *j, struct gantry_error **err)
{
    build_error_redact(err); /* D17: no URL password in any message */
    return gantry_error_prefix(err, "%s:%zu", j->st->ctx->df->name, j->in->line);
}

static int make_tmpdir(struct copy_job *j, struct gantry_error **err)
{
    if (j->tmpdir)
        return 0;
    j->tmpdir = xasprintf("%s/tmp/build-XXXXXX", gantry_store_root(j->st->ctx->store));
    if (!mkdtemp(j->tmpdir)) {
        int e = errno;
        free(steal_pointer(&j->tmpdir));
        return gantry_error_set(err, GANTRY_E_IO, e, "create a temporary directory");
    }
    return 0;
}

/* Whether rel (context-relative) is excluded by .dockerignore. */
static bool ignored(const struct copy_job *j, const char *rel)
{
    bool ex = false;
    if (j->from || !j->st->ctx->ignore || strcmp(rel, ".") == 0)
        return false;
    if (gantry_dockerignore_matches(j->st->ctx->ignore, rel, &ex, NULL) < 0)
        return false;
    return ex;
}

/* Whether --exclude drops path (relative to the source being copied). */
static bool excluded(const struct copy_job *j, const char *path)
{
    bool ex = false;
    if (!j->exclude || !*path)
        return false;
    return gantry_dockerignore_matches(j->exclude, path, &ex, NULL) == 0 && ex;
}

/*
 * Whether --from sources keep their owners, as BuildKit's do: only where
 * the extractor set them, which it does when running as root (context
 * files are always 0:0). Part of the --from=<image> step key.
 */
static bool from_keeps_owners(void)
{
    return geteuid() == 0;
}

static void add_entry(struct copy_job *j, const char *dest, const char *src, const struct stat *sb)
{
    struct build_entry e = {.path = (char *)dest,
                            .mode = j->chmod ? j->mode : (uint32_t)(sb->st_mode & 07777),
                            .uid = j->chown ? j->uid : 0,
                            .gid = j->chown ? j->gid : 0,
                            .mtime = build_clamp_time((int64_t)sb->st_mtime, j->st->ctx->epoch)};
    if (!j->chown && j->from && from_keeps_owners()) {
        e.uid = (uint32_t)sb->st_uid;
        e.gid = (uint32_t)sb->st_gid;
    }
    _cleanup_free_ char *target = NULL;
    if (S_ISDIR(sb->st_mode)) {
        e.type = GANTRY_LAYER_DIR;
    } else if (S_ISLNK(sb->st_mode)) {
        target = xcalloc(1, (size_t)sb->st_size + 1);
        if (readlink(src, target, (size_t)sb->st_size) < 0)
            return;
        e.type = GANTRY_LAYER_SYMLINK;
        e.link_target = target;
        e.mode = 0777;
    } else if (S_ISREG(sb->st_mode)) {
        e.type = GANTRY_LAYER_FILE;
        e.src = (char *)src;
        e.size = (uint64_t)sb->st_size;
    } else {
        return; /* sockets, devices, FIFOs of the context are skipped */
    }
    build_entries_add(&j->entries, &e);
    build_entries_add_parents(&j->entries, dest, e.mtime);
}

/* Copy the contents of directory src (context path rel) to dest. */
static int add_tree(struct copy_job *j, const char *src, const char *rel, const char *dest,
                    struct gantry_error **err)
{
    DIR *d = opendir(src);
    if (!d)
        return gantry_error_set(err, GANTRY_E_IO, errno, "open directory '%s'", rel);
    struct dirent *de;
    int rc = 0;
    while (rc == 0 && (de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        _cleanup_free_ char *s = xasprintf("%s/%s", src, de->d_name);
        _cleanup_free_ char *r =
            strcmp(rel, ".") ? xasprintf("%s/%s", rel, de->d_name) : xstrdup(de->d_name);
        _cleanup_free_ char *t = *dest ? xasprintf("%s/%s", dest, de->d_name) : xstrdup(de->d_name);
        struct stat sb;
        if (ignored(j, r) || excluded(j, r + j->src_prefix) || lstat(s, &sb) < 0)
            continue;
        add_entry(j, t, s, &sb);
        if (S_ISDIR(sb.st_mode))
            rc = add_tree(j, s, r, t, err);
    }
    closedir(d);
    return rc;
}

static int add_archive(struct copy_job *j, const char *src, const char *shown, const char *dest,
                       bool *was_archive, struct gantry_error **err);

/* One resolved source (rel inside root) to the destination. */
static int add_source(struct copy_job *j, const char *rel, const char *dest, bool dest_dir,
                      struct gantry_error **err)
{
    _cleanup_free_ char *src = build_path_in_root(j->root, rel);
    struct stat sb;
    if (!src || lstat(src, &sb) < 0)
        return gantry_error_set(err, GANTRY_E_NOT_FOUND, errno, "%s failed: '%s' not found",
                                j->what, rel);
    if (S_ISDIR(sb.st_mode)) {
        if (*dest)
            add_entry(j, dest, src, &sb);
        j->src_prefix = strcmp(rel, ".") ? strlen(rel) + 1 : 0;
        return add_tree(j, src, rel, dest, err);
    }
    const char *base = strrchr(rel, '/') ? strrchr(rel, '/') + 1 : rel;
    if (excluded(j, base))
        return 0;
    _cleanup_free_ char *target =
        dest_dir ? (*dest ? xasprintf("%s/%s", dest, base) : xstrdup(base)) : xstrdup(dest);
    if (j->add && j->unpack != UNPACK_FALSE && S_ISREG(sb.st_mode)) {
        bool was = false;
        if (add_archive(j, src, rel, dest, &was, err) < 0)
            return -1;
        if (was)
            return 0;
    }
    add_entry(j, target, src, &sb);
    return 0;
}

static bool has_glob(const char *s)
{
    return strpbrk(s, "*?[") != NULL;
}

static int not_found(struct copy_job *j, const char *arg, struct gantry_error **err)
{
    if (j->from)
        return gantry_error_set(err, GANTRY_E_NOT_FOUND, 0, "%s failed: '%s' not found in '%s'",
                                j->what, arg, j->from);
    return gantry_error_set(err, GANTRY_E_NOT_FOUND, 0,
                            "%s failed: '%s' not found in build context", j->what, arg);
}

/* The source paths a wildcard matches, sorted (.dockerignore not applied yet). */
static int glob_matches(struct copy_job *j, const char *rel, char ***items, size_t *n,
                        struct gantry_error **err)
{
    if (j->parents || strstr(rel, "**"))
        return build_glob(j->root, rel, items, n, err);
    _cleanup_free_ char *pat = xasprintf("%s/%s", j->root, rel);
    glob_t g = {0};
    *items = NULL;
    *n = 0;
    if (glob(pat, 0, NULL, &g) == 0) {
        size_t skip = strlen(j->root) + 1;
        *items = xcalloc(g.gl_pathc + 1, sizeof **items);
        for (size_t i = 0; i < g.gl_pathc; i++)
            (*items)[(*n)++] = xstrdup(g.gl_pathv[i] + skip);
    }
    globfree(&g);
    return 0;
}

/*
 * COPY --parents: the source rel (under prefix, the part before a "/./"
 * pivot, "." without one) goes to dest/<rel after prefix>; the directories
 * in between are copied with their own modes and times.
 */
static int parents_source(struct copy_job *j, const char *rel, const char *prefix, const char *dest,
                          struct gantry_error **err)
{
    size_t pl = strcmp(prefix, ".") == 0 ? 0 : strlen(prefix) + (strcmp(rel, prefix) != 0);
    const char *part = rel + pl;
    _cleanup_free_ char *p = xstrdup(part);
    for (char *s = strchr(p, '/'); s; s = strchr(s + 1, '/')) {
        *s = '\0';
        _cleanup_free_ char *r = pl ? xasprintf("%s/%s", prefix, p) : xstrdup(p);
        _cleanup_free_ char *src = build_path_in_root(j->root, r);
        _cleanup_free_ char *t = *dest ? xasprintf("%s/%s", dest, p) : xstrdup(p);
        struct stat sb;
        if (src && lstat(src, &sb) == 0 && S_ISDIR(sb.st_mode))
            add_entry(j, t, src, &sb);
        *s = '/';
    }
    _cleanup_free_ char *target =
        *part ? (*dest ? xasprintf("%s/%s", dest, part) : xstrdup(part)) : xstrdup(dest);
    return add_source(j, rel, target, !*part, err);
}

/* One named or matched source: at dest, or under --parents (prefix set) below it. */
static int place_source(struct copy_job *j, const char *rel, const char *prefix, const char *dest,
                        bool dest_dir, struct gantry_error **err)
{
    if (j->dry)
        return 0;
    if (prefix)
        return parents_source(j, rel, prefix, dest, err);
    return add_source(j, rel, dest, dest_dir, err);
}

/* Expand a glob source into the matching paths (ignored ones dropped). */
static int glob_source(struct copy_job *j, const char *rel, const char *prefix, const char *dest,
                       bool dest_dir, struct gantry_error **err)
{
    char **items = NULL;
    size_t n = 0, found = 0;
    if (glob_matches(j, rel, &items, &n, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        found += !ignored(j, items[i]);
    int rc = 0;
    /* As Docker: several matches need a directory destination; one
     * match is copied to the destination path itself. */
    if (found > 1 && !dest_dir)
        rc = gantry_error_set(err, GANTRY_E_INVALID_ARG, 0,
                              "When using %s with more than one source file, the "
                              "destination must be a directory and end with a /",
                              j->what);
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (!ignored(j, items[i]))
            rc = place_source(j, items[i], prefix, dest, dest_dir, err);
    build_glob_free(items, n);
    if (rc == 0 && !found)
        return not_found(j, rel, err);
    return rc;
}

/* --parents: the cleaned part of arg before its "/./" pivot ("." without one). */
static int parents_prefix(struct copy_job *j, const char *arg, char **prefix,
                          struct gantry_error **err)
{
    const char *pivot = strstr(arg, "/./");
    _cleanup_free_ char *raw = pivot ? xstrndup(arg, (size_t)(pivot - arg)) : xstrdup(".");
    if (has_glob(raw))
        return gantry_error_set(err, GANTRY_E_UNSUPPORTED, 0,
                                "%s failed: wildcards before the '/./' of --parents are not "
                                "supported: '%s'",
                                j->what, arg);
    *prefix = build_context_path(raw, strlen(raw));
    if (!*prefix)
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0,
                                "%s failed: forbidden path outside the build context: '%s'",
                                j->what, arg);
    return 0;
}

static bool path_under(const char *rel, const char *prefix)
{
    size_t n = strlen(prefix);
    return strcmp(prefix, ".") == 0 ||
           (strncmp(rel, prefix, n) == 0 && (rel[n] == '\0' || rel[n] == '/'));
}

/*
 * ADD <url>: a file downloaded, stored as is, 0600; with --unpack=true an
 * archive is extracted into dest by the same code as a local one.
 */
static int url_source(struct copy_job *j, const char *url, const char *dest, bool dest_dir,
                      struct gantry_error **err)
{
    struct build_url_file f;
    if (build_url_fetch(j->st, url, j->checksum, &f, err) < 0) {
        build_url_file_release(&f);
        return gantry_error_prefix(err, "ADD failed");
    }
    bool was = false;
    if (j->unpack == UNPACK_TRUE) {
        _cleanup_free_ char *shown = gantry_registry_redact(url);
        int rc = add_archive(j, f.path, shown, dest, &was, err);
        if (rc < 0 || was) {
            build_url_file_release(&f);
            return rc;
        }
    }
    _cleanup_free_ char *target =
        dest_dir ? (*dest ? xasprintf("%s/%s", dest, f.name) : xstrdup(f.name)) : xstrdup(dest);
    struct build_entry e = {.path = target,
                            .src = f.path,
                            .type = GANTRY_LAYER_FILE,
                            .mode = j->chmod ? j->mode : 0600,
                            .uid = j->chown ? j->uid : 0,
                            .gid = j->chown ? j->gid : 0,
                            .mtime = f.mtime,
                            .size = f.size};
    build_entries_add(&j->entries, &e);
    build_entries_add_parents(&j->entries, target, e.mtime);
    build_url_file_release(&f);
    return 0;
}

/* Remote sources: URLs for ADD; git sources refused (D16); a URL for COPY. */
static int remote_source(struct copy_job *j, const char *arg, const char *dest, bool dest_dir,
                         struct gantry_error **err)
{
    _cleanup_free_ char *shown = gantry_registry_redact(arg);
    if (j->add && build_is_git_source(arg))
        return gantry_error_set(err, GANTRY_E_UNSUPPORTED, 0,
                                "ADD failed: git sources are not supported: '%s'", shown);
    if (!j->add)
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0,
                                "COPY failed: source can't be a URL for COPY: '%s'", shown);
    return url_source(j, arg, dest, dest_dir, err);
}

static int one_source(struct copy_job *j, const char *arg, const char *dest, bool dest_dir,
                      struct gantry_error **err)
{
    bool remote = build_is_url(arg) || (j->add && build_is_git_source(arg));
    if (remote)
        return remote_source(j, arg, dest, dest_dir, err);
    if (j->checksum)
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0,
                                "ADD failed: --checksum can only be used with an http(s) "
                                "source, not '%s'",
                                arg);
    _cleanup_free_ char *prefix = NULL;
    if (j->parents && parents_prefix(j, arg, &prefix, err) < 0)
        return -1;
    _cleanup_free_ char *rel = build_context_path(arg, strlen(arg));
    if (!rel)
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0,
                                "%s failed: forbidden path outside the build context: '%s'",
                                j->what, arg);
    if (prefix && !path_under(rel, prefix))
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0,
                                "%s failed: --parents source leaves its '/./' directory: '%s'",
                                j->what, arg);
    if (has_glob(rel))
        return glob_source(j, rel, prefix, dest, dest_dir, err);
    _cleanup_free_ char *full = build_path_in_root(j->root, rel);
    struct stat sb;
    if (ignored(j, rel) || !full || lstat(full, &sb) < 0)
        return not_found(j, arg, err);
    return place_source(j, rel, prefix, dest, dest_dir, err);
}

int build_copy_check_source(struct build_stage *st, const struct gantry_dockerfile_instruction *in,
                            const char *src, struct gantry_error **err)
{
    const char *parents = gantry_dockerfile_flag(in, "parents");
    bool add = in->kind == GANTRY_DOCKERFILE_ADD;
    __attribute__((cleanup(job_release))) struct copy_job j = {
        .st = st,
        .in = in,
        .add = add,
        .what = add ? "ADD" : "COPY",
        .root = st->ctx->context,
        .parents = parents && strcmp(parents, "true") == 0,
        .dry = true};
    if (one_source(&j, src, "", true, err) < 0)
        return job_fail(&j, err);
    return 0;
}

/* The /etc/passwd and /etc/group of the stage, for --chown names. */
static int chown_names(struct copy_job *j, const char *spec, struct gantry_error **err)
{
    if (strspn(spec, "0123456789:") == strlen(spec))
        return build_chown_parse(spec, NULL, NULL, &j->uid, &j->gid, err);
    _cleanup_free_ char *dir = NULL;
    {
        struct copy_job tmp = {.st = j->st};
        if (make_tmpdir(&tmp, err) < 0)
            return -1;
        dir = steal_pointer(&tmp.tmpdir);
    }
    _cleanup_buf_ struct gantry_buf pw = GANTRY_BUF_INIT_CAP(1u << 20);
    _cleanup_buf_ struct gantry_buf gr = GANTRY_BUF_INIT_CAP(1u << 20);
    int rc = build_layers_extract(j->st->ctx->store, j->st->layers, j->st->n_layers, dir, err);
    if (rc == 0) {
        _cleanup_free_ char *p = build_path_in_root(dir, "etc/passwd");
        _cleanup_free_ char *g = build_path_in_root(dir, "etc/group");
        bool have_pw = p && gantry_buf_read_file(&pw, p, NULL) == 0;
        bool have_gr = g && gantry_buf_read_file(&gr, g, NULL) == 0;
        rc = build_chown_parse(spec, have_pw ? pw.data : NULL, have_gr ? gr.data : NULL, &j->uid,
                               &j->gid, err);
    }
    build_rm_rf(dir);
    return rc;
}

/* The data of the reader's current entry into a new temporary file *tmp of the job. */
static int entry_data(struct copy_job *j, struct gantry_layer_reader *r, char **tmp,
                      struct gantry_error **err)
{
    _cleanup_free_ char *path = xasprintf("%s/f-XXXXXX", j->tmpdir);
    _cleanup_close_ int fd = mkstemp(path);
    if (fd < 0)
        return gantry_error_set(err, GANTRY_E_IO, errno, "create a temporary file");
    char buf[65536];
    ssize_t n;
    while ((n = gantry_layer_reader_read_data(r, buf, sizeof buf, err)) > 0)
        if (gantry_write_all(fd, buf, (size_t)n) < 0)
            return gantry_error_set(err, GANTRY_E_IO, errno, "write '%s'", path);
    if (n < 0)
        return -1;
    *tmp = steal_pointer(&path);
    return 0;
}

/*
 * A hard link's target inside dest, as its entry's path is. A target
 * that leaves the archive is refused: it could only name a host file.
 */
static int hardlink_target(const struct gantry_layer_entry *e, const char *dest, char **out,
                           struct gantry_error **err)
{
    _cleanup_free_ char *t = build_context_path(e->link_target, strlen(e->link_target));
    if (!t || strcmp(t, ".") == 0)
        return gantry_error_set(err, GANTRY_E_PARSE, 0,
                                "hard link '%s' points outside the archive: '%s'", e->path,
                                e->link_target);
    *out = *dest ? xasprintf("%s/%s", dest, t) : xstrdup(t);
    return 0;
}

/*
 * One archive entry under dest; file data goes to a temporary file. Names
 * are cleaned as context paths ("/x" is dest/x); an entry whose name
 * climbs out of the archive ("../x") is skipped with a warning. Symbolic
 * links are kept as written: they are resolved inside the image's root
 * when the layer is applied (bad-inputs.md T1-T3).
 */
static int archive_entry(struct copy_job *j, struct gantry_layer_reader *r,
                         const struct gantry_layer_entry *e, const char *dest,
                         struct gantry_error **err)
{
    _cleanup_free_ char *rel = build_context_path(e->path, strlen(e->path));
    if (!rel) {
        gantry_log(GANTRY_LOG_WARN, "%s: skipping archive entry '%s': it leaves the archive",
                   j->what, e->path);
        return 0;
    }
    if (strcmp(rel, ".") == 0)
        return 0;
    _cleanup_free_ char *path = *dest ? xasprintf("%s/%s", dest, rel) : xstrdup(rel);
    _cleanup_free_ char *tmp = NULL;
    _cleanup_free_ char *link = NULL;
    struct build_entry be = {.path = path,
                             .type = e->type,
                             .mode = e->mode,
                             .uid = j->chown ? j->uid : e->uid,
                             .gid = j->chown ? j->gid : e->gid,
                             .mtime = build_clamp_time(e->mtime, j->st->ctx->epoch),
                             .size = e->size,
                             .link_target = (char *)e->link_target};
    if (e->type == GANTRY_LAYER_HARDLINK) {
        if (hardlink_target(e, dest, &link, err) < 0)
            return -1;
        be.link_target = link;
    } else if (e->type == GANTRY_LAYER_FILE) {
        if (entry_data(j, r, &tmp, err) < 0)
            return -1;
        be.src = tmp;
    } else if (e->type == GANTRY_LAYER_SYMLINK) {
        be.mode = 0777; /* as extracted on Linux, and as COPY writes links */
    }
    build_entries_add(&j->entries, &be);
    build_entries_add_parents(&j->entries, path, be.mtime);
    return 0;
}

static void cleanup_readerp(struct gantry_layer_reader **r)
{
    gantry_layer_reader_free(*r);
}

/*
 * ADD of a tar archive (plain, gzip, zstd, bzip2 or xz) at src, a local
 * source or a download (shown: its name in messages): its entries under
 * dest, and *was_archive set. A file that does not open as a tar archive is
 * left to the caller (copied as is). An archive that breaks later fails the step.
 */
static int add_archive(struct copy_job *j, const char *src, const char *shown, const char *dest,
                       bool *was_archive, struct gantry_error **err)
{
    _cleanup_close_ int fd = open(src, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return gantry_error_set(err, GANTRY_E_IO, errno, "open '%s'", shown);
    struct gantry_error *e = NULL;
    const struct gantry_layer_opts o = {.archive = true};
    __attribute__((cleanup(cleanup_readerp))) struct gantry_layer_reader *r =
        gantry_layer_reader_open_fd(fd, &o, &e);
    struct gantry_layer_entry ent;
    int rc = r ? gantry_layer_reader_next(r, &ent, &e) : -1;
    if (rc < 0) { /* not an archive we read: copied as a plain file */
        gantry_error_free(e);
        return 0;
    }
    *was_archive = true;
    if (make_tmpdir(j, err) < 0)
        return -1;
    while (rc == 1) {
        if (archive_entry(j, r, &ent, dest, err) < 0)
            break;
        rc = gantry_layer_reader_next(r, &ent, err);
    }
    if (rc == 1 || rc < 0)
        return gantry_error_prefix(err, "%s failed: extract '%s'", j->what, shown);
    return 0;
}

/* The resolved --from of the job's instruction, or NULL. */
static const struct gantry_dockerfile_source *from_source(const struct copy_job *j)
{
    size_t idx = j->st - j->st->all;
    const struct gantry_dockerfile_resolved_stage *rs = &j->st->res->stages[idx];
    for (size_t i = 0; i < rs->n_sources; i++)
        if (rs->sources[i].line == j->in->line)
            return &rs->sources[i];
    return NULL;
}

/* The image of --from=<image> in j->img (its config and layers; nothing extracted). */
static int setup_from_image(struct copy_job *j, const struct gantry_dockerfile_source *src,
                            const char *from, struct gantry_error **err)
{
    if (j->have_img)
        return 0;
    size_t idx = j->st - j->st->all;
    j->img = (struct build_stage){.ctx = j->st->ctx};
    j->have_img = true;
    if (build_stage_init_image(&j->img, src->image, &j->st->res->stages[idx].platform, err) < 0)
        return gantry_error_prefix(err, "%s --from=%s: not a stage of the Dockerfile", j->what,
                                   from);
    return 0;
}

/* --from: the stage or image whose files are the sources, extracted to tmpdir. */
static int setup_from(struct copy_job *j, const char *from, struct gantry_error **err)
{
    const struct gantry_dockerfile_source *src = from_source(j);
    if (!src)
        return gantry_error_set(err, GANTRY_E_INTERNAL, 0, "unresolved --from '%s'", from);
    j->from = from;
    if (make_tmpdir(j, err) < 0)
        return -1;
    j->root = j->tmpdir;
    const struct build_stage *b = &j->img;
    if (src->stage != GANTRY_DOCKERFILE_NO_STAGE)
        b = &j->st->all[src->stage];
    else if (setup_from_image(j, src, from, err) < 0)
        return -1;
    gantry_log(GANTRY_LOG_DEBUG, "%s --from: extracting '%s'", j->what, from);
    return build_layers_extract(j->st->ctx->store, b->layers, b->n_layers, j->tmpdir, err);
}

/* --exclude=PATTERN (repeatable, expanded): a matcher over source-relative paths. */
static int setup_exclude(struct copy_job *j, struct gantry_error **err)
{
    char **pats = xcalloc(j->in->n_flags + 1, sizeof *pats);
    size_t n = 0;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < j->in->n_flags; i++)
        if (strcmp(j->in->flags[i].name, "exclude") == 0)
            rc = build_stage_expand(j->st, j->in, j->in->flags[i].value, &pats[n++], err);
    if (rc == 0 && n)
        rc = gantry_dockerignore_new((const char *const *)pats, n, &j->exclude, err);
    if (rc < 0)
        gantry_error_prefix(err, "%s --exclude", j->what);
    gantry_dockerfile_strv_free(pats, n);
    return rc;
}

/* Flags of remote sources and filters: refused ones, --checksum, --exclude. */
static int setup_extra_flags(struct copy_job *j, struct gantry_error **err)
{
    const char *sum = gantry_dockerfile_flag(j->in, "checksum");
    const char *parents = gantry_dockerfile_flag(j->in, "parents");
    const char *keep_git = gantry_dockerfile_flag(j->in, "keep-git-dir");
    j->parents = parents && strcmp(parents, "true") == 0;
    const char *unpack = gantry_dockerfile_flag(j->in, "unpack");
    if (unpack) /* the parser took only true or false */
        j->unpack = strcmp(unpack, "true") == 0 ? UNPACK_TRUE : UNPACK_FALSE;
    if (j->add && keep_git && strcmp(keep_git, "true") == 0)
        return gantry_error_set(err, GANTRY_E_UNSUPPORTED, 0,
                                "ADD --keep-git-dir: git sources are not supported");
    if (sum && build_stage_expand(j->st, j->in, sum, &j->checksum, err) < 0)
        return -1;
    return setup_exclude(j, err);
}

static int setup_flags(struct copy_job *j, struct gantry_error **err)
{
    const char *from = gantry_dockerfile_flag(j->in, "from");
    const char *own = gantry_dockerfile_flag(j->in, "chown");
    const char *mod = gantry_dockerfile_flag(j->in, "chmod");
    _cleanup_free_ char *own_x = NULL;
    if (own && build_stage_expand(j->st, j->in, own, &own_x, err) < 0)
        return -1;
    if (own_x && *own_x) {
        j->chown = true;
        if (chown_names(j, own_x, err) < 0)
            return -1;
    }
    if (mod) {
        j->chmod = true;
        if (build_chmod_parse(mod, &j->mode, err) < 0)
            return -1;
    }
    if (from)
        return setup_from(j, from, err);
    j->root = j->st->ctx->context;
    return 0;
}

/* A temporary file of the job holding data[0..len); *path: caller frees. */
static int tmp_file(struct copy_job *j, const char *data, size_t len, char **path,
                    struct gantry_error **err)
{
    if (make_tmpdir(j, err) < 0)
        return -1;
    _cleanup_free_ char *tmp = xasprintf("%s/h-XXXXXX", j->tmpdir);
    _cleanup_close_ int fd = mkstemp(tmp);
    if (fd < 0)
        return gantry_error_set(err, GANTRY_E_IO, errno, "create a temporary file");
    if (gantry_write_all(fd, data, len) < 0)
        return gantry_error_set(err, GANTRY_E_IO, errno, "write '%s'", tmp);
    *path = steal_pointer(&tmp);
    return 0;
}

/*
 * A heredoc source (COPY <<EOF /file): its body, expanded unless the
 * delimiter was quoted, becomes a file named after the heredoc, mode 0644
 * as BuildKit's Mkfile.
 */
static int heredoc_source(struct copy_job *j, const struct gantry_dockerfile_heredoc *h,
                          const char *dest, bool dest_dir, struct gantry_error **err)
{
    _cleanup_free_ char *body = NULL;
    struct gantry_dockerfile_expand_opts xo = {.lookup = build_stage_lookup,
                                               .user = j->st,
                                               .escape = j->st->ctx->df->escape,
                                               .skip_quotes = true};
    if (!h->expand)
        body = xstrdup(h->content);
    else if (gantry_dockerfile_expand(h->content, strlen(h->content), &xo, &body, err) < 0)
        return -1;
    _cleanup_free_ char *tmp = NULL;
    if (tmp_file(j, body, strlen(body), &tmp, err) < 0)
        return -1;
    _cleanup_free_ char *target =
        dest_dir ? (*dest ? xasprintf("%s/%s", dest, h->name) : xstrdup(h->name)) : xstrdup(dest);
    struct build_entry e = {.path = target,
                            .src = tmp,
                            .type = GANTRY_LAYER_FILE,
                            .mode = j->chmod ? j->mode : 0644,
                            .uid = j->chown ? j->uid : 0,
                            .gid = j->chown ? j->gid : 0,
                            .mtime = j->st->ctx->created,
                            .size = strlen(body)};
    build_entries_add(&j->entries, &e);
    build_entries_add_parents(&j->entries, target, e.mtime);
    return 0;
}

/* Expand the sources and destination, then add every source. */
static int copy_sources(struct copy_job *j, struct gantry_error **err)
{
    const struct gantry_dockerfile_instruction *in = j->in;
    _cleanup_free_ char *dest_x = NULL;
    if (build_stage_expand(j->st, in, in->args[in->n_args - 1], &dest_x, err) < 0)
        return -1;
    bool dest_dir = false;
    _cleanup_free_ char *dest =
        build_dest_path(j->st->config->config.working_dir, dest_x, &dest_dir);
    dest_dir = dest_dir || j->parents; /* --parents always copies into a directory */
    if (in->n_args > 2 && !dest_dir)
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0,
                                "%s:%zu: When using %s with more than one source file, the "
                                "destination must be a directory and end with a /",
                                j->st->ctx->df->name, in->line, j->what);
    for (size_t i = 0; i + 1 < in->n_args; i++) {
        _cleanup_free_ char *src = NULL;
        const struct gantry_dockerfile_heredoc *h = gantry_dockerfile_heredoc_for(in, in->args[i]);
        if (h) {
            if (heredoc_source(j, h, dest + 1, dest_dir, err) < 0)
                return job_fail(j, err);
            continue;
        }
        if (build_stage_expand(j->st, in, in->args[i], &src, err) < 0)
            return -1;
        if (one_source(j, src, dest + 1, dest_dir, err) < 0)
            return job_fail(j, err);
    }
    return 0;
}

/* ---- COPY --from=<image>: keyed before anything is extracted ---- */

/* Bumped whenever what the key below covers, or the layer made from it, changes. */
/* v3: implicit parent directories take the stage's lower directories' metadata. */
#define FROM_IMAGE_KEY_VERSION "gantry-copy-from-image-key-v3"

static void key_str(struct gantry_hasher *h, const char *s)
{
    s = s ? s : "";
    gantry_hasher_update(h, s, strlen(s) + 1);
}

static void key_layers(struct gantry_hasher *h, const struct gantry_oci_descriptor *l, size_t n)
{
    char num[32];
    snprintf(num, sizeof num, "%zu", n);
    key_str(h, num);
    for (size_t i = 0; i < n; i++)
        key_str(h, l[i].digest);
}

/*
 * Each flag expanded, then every source expanded: false when one is not
 * content-addressed. urls: every source must be a URL (keyed without its
 * user info), else none may be.
 */
static bool key_words(struct copy_job *j, struct gantry_hasher *h, bool urls)
{
    const struct gantry_dockerfile_instruction *in = j->in;
    for (size_t i = 0; i < in->n_flags; i++) {
        _cleanup_free_ char *v = NULL;
        if (build_stage_expand(j->st, in, in->flags[i].value, &v, NULL) < 0)
            return false;
        key_str(h, in->flags[i].name);
        key_str(h, v);
    }
    for (size_t i = 0; i + 1 < in->n_args; i++) {
        _cleanup_free_ char *v = NULL;
        if (gantry_dockerfile_heredoc_for(in, in->args[i]) ||
            build_stage_expand(j->st, in, in->args[i], &v, NULL) < 0 || build_is_url(v) != urls)
            return false;
        _cleanup_free_ char *k = urls ? build_url_key_form(v) : NULL;
        key_str(h, k ? k : v);
    }
    _cleanup_free_ char *dest_x = NULL;
    if (build_stage_expand(j->st, in, in->args[in->n_args - 1], &dest_x, NULL) < 0)
        return false;
    bool dest_dir = false;
    _cleanup_free_ char *dest =
        build_dest_path(j->st->config->config.working_dir, dest_x, &dest_dir);
    key_str(h, dest);
    key_str(h, dest_dir ? "dir" : "file");
    return true;
}

/* A step key's hasher, fed with what every such key covers. */
static struct gantry_hasher *key_begin(const struct build_stage *st, const char *version,
                                       const char *what)
{
    const struct build_ctx *ctx = st->ctx;
    struct gantry_hasher *h = gantry_hasher_new(GANTRY_DIGEST_SHA256);
    char epoch[32];
    snprintf(epoch, sizeof epoch, "%lld", (long long)ctx->epoch);
    const char *head[] = {version, gantry_version(), what,
                          gantry_compression_name(ctx->opts->compression), epoch};
    for (size_t i = 0; i < ARRAY_SIZE(head); i++)
        key_str(h, head[i]);
    return h;
}

/* Finish h (freed) into key, or "" when !ok. */
static void key_end(struct gantry_hasher *h, bool ok, char key[65])
{
    char d[GANTRY_DIGEST_MAX];
    gantry_hasher_final(h, d);
    gantry_hasher_free(h);
    if (ok)
        snprintf(key, 65, "%s", gantry_digest_hex(d));
}

/*
 * The key of a COPY --from=<image> step, from what alone makes its layer:
 * the source image's layer chain (fixed by its manifest digest), the
 * expanded flags (--chown, --chmod, --link, --exclude), sources and
 * destination (after WORKDIR), the stage's parent layers (--chown names
 * read its /etc/passwd), whether owners are kept, SOURCE_DATE_EPOCH,
 * compression and gantry's version. "" when the step is not keyed so (a
 * stage source, a heredoc or URL source, no cache): then only the layer's
 * own content key applies.
 */
static int from_image_key(struct copy_job *j, char key[65], struct gantry_error **err)
{
    const char *from = gantry_dockerfile_flag(j->in, "from");
    const struct gantry_dockerfile_source *src = from ? from_source(j) : NULL;
    struct build_ctx *ctx = j->st->ctx;
    key[0] = '\0';
    if (!src || src->stage != GANTRY_DOCKERFILE_NO_STAGE || !ctx->cache || j->checksum)
        return 0;
    if (setup_from_image(j, src, from, err) < 0)
        return -1;
    struct gantry_hasher *h = key_begin(j->st, FROM_IMAGE_KEY_VERSION, j->what);
    key_str(h, from_keeps_owners() ? "owners" : "root-owned");
    key_layers(h, j->img.layers, j->img.n_layers);
    key_layers(h, j->st->layers, j->st->n_layers);
    key_end(h, key_words(j, h, false), key);
    return 0;
}

/* ---- ADD --checksum=<digest> <url>: keyed before downloading ---- */

/* v3: the parent layers always (implicit parent directories take their metadata). */
#define URL_CHECKSUM_KEY_VERSION "gantry-add-url-checksum-key-v3"

/*
 * The key of an ADD whose sources are all URLs with --checksum: the file's
 * bytes are fixed by the checksum, so the layer depends only on the
 * expanded flags (--checksum, --chown, --chmod, --unpack: an extracted
 * archive is another layer...), the URLs without user
 * info (a directory destination takes its name from the URL), the
 * destination, the stage's parent layers when --chown is given (names are
 * read from its /etc/passwd), SOURCE_DATE_EPOCH, compression and gantry's
 * version. The file's name (Content-Disposition) and time (Last-Modified)
 * are those of the first download, as BuildKit. "" otherwise, or with
 * --no-cache.
 */
static void url_checksum_key(struct copy_job *j, char key[65])
{
    struct build_ctx *ctx = j->st->ctx;
    key[0] = '\0';
    if (!j->add || !j->checksum || !ctx->cache || build_cache_no_cache(ctx->cache))
        return;
    struct gantry_hasher *h = key_begin(j->st, URL_CHECKSUM_KEY_VERSION, j->what);
    key_layers(h, j->st->layers, j->st->n_layers);
    key_end(h, key_words(j, h, true), key);
}

/* Make a step's layer (written, or found by its content key). */
typedef int (*layer_make_fn)(void *arg, struct gantry_oci_descriptor *desc,
                             char diff_id[GANTRY_DIGEST_MAX], struct gantry_error **err);

/* The layer recorded under the step key (a hit), else make's, recorded; key "" : make's. */
static int layer_by_key(struct build_stage *st, const char *key, layer_make_fn make, void *arg,
                        struct gantry_oci_descriptor *desc, char diff_id[GANTRY_DIGEST_MAX],
                        struct gantry_error **err)
{
    if (*key && build_cache_get(st->ctx->cache, key, desc, diff_id)) {
        st->layers_written++;
        st->layers_cached++;
        return 0;
    }
    if (make(arg, desc, diff_id, err) < 0)
        return -1;
    if (*key)
        build_cache_put(st->ctx->cache, key, desc, diff_id);
    return 0;
}

/* layer_make_fn of COPY/ADD (arg: the copy_job): collect the sources, write the layer. */
static int make_layer(void *arg, struct gantry_oci_descriptor *desc,
                      char diff_id[GANTRY_DIGEST_MAX], struct gantry_error **err)
{
    struct copy_job *j = arg;
    if (setup_flags(j, err) < 0)
        return job_fail(j, err);
    if (copy_sources(j, err) < 0)
        return -1;
    build_entries_sort(&j->entries);
    if (build_layer_write(j->st, &j->entries, desc, diff_id, err) < 0)
        return job_fail(j, err);
    return 0;
}

/* The step under its key: the recorded layer without extracting, or a new one recorded. */
static int copy_keyed(struct copy_job *j, const char *key, struct gantry_error **err)
{
    struct build_stage *st = j->st;
    _cleanup_descriptor_ struct gantry_oci_descriptor desc = GANTRY_OCI_DESCRIPTOR_INIT;
    char diff_id[GANTRY_DIGEST_MAX];
    if (layer_by_key(st, key, make_layer, j, &desc, diff_id, err) < 0)
        return -1;
    _cleanup_free_ char *created_by = gantry_registry_redact(j->in->original);
    build_stage_add_layer(st, &desc, diff_id, created_by);
    return 0;
}

int build_step_copy(struct build_stage *st, const struct gantry_dockerfile_instruction *in,
                    bool add, struct gantry_error **err)
{
    __attribute__((cleanup(job_release))) struct copy_job j = {
        .st = st, .in = in, .add = add, .what = add ? "ADD" : "COPY"};
    char key[65];
    if (setup_extra_flags(&j, err) < 0 || from_image_key(&j, key, err) < 0)
        return job_fail(&j, err);
    if (!*key)
        url_checksum_key(&j, key);
    if (!*key)
        return copy_keyed(&j, key, err);
    /* Two platform threads copying from one image or URL: the second finds the record. */
    build_cache_flight_begin(st->ctx->cache, key);
    int rc = copy_keyed(&j, key, err);
    build_cache_flight_end(st->ctx->cache, key);
    return rc;
}

/* ---- WORKDIR ---- */

/* v2: implicit parent directories take the lower directories' metadata. */
#define WORKDIR_KEY_VERSION "gantry-workdir-key-v2"

/*
 * The key of a WORKDIR layer, from what alone makes it: the stage's parent
 * layers (whether the directory exists), the directory, SOURCE_DATE_EPOCH,
 * compression and gantry's version. Without SOURCE_DATE_EPOCH the
 * directory's mtime is the first build's time, reused afterwards, as
 * BuildKit does. "" with --no-cache.
 */
static void workdir_key(const struct build_stage *st, const char *dir, char key[65])
{
    key[0] = '\0';
    if (!st->ctx->cache || build_cache_no_cache(st->ctx->cache))
        return;
    struct gantry_hasher *h = key_begin(st, WORKDIR_KEY_VERSION, "WORKDIR");
    key_str(h, dir);
    key_layers(h, st->layers, st->n_layers);
    key_end(h, true, key);
}

struct workdir {
    struct build_stage *st;
    char *dir;
};

/* layer_make_fn of WORKDIR (arg: struct workdir): the directory and its parents, mtime the
 * build's time. */
static int workdir_layer(void *arg, struct gantry_oci_descriptor *desc,
                         char diff_id[GANTRY_DIGEST_MAX], struct gantry_error **err)
{
    struct build_stage *st = ((struct workdir *)arg)->st;
    char *dir = ((struct workdir *)arg)->dir;
    _cleanup_entries_ struct build_entries l = {0};
    int64_t t = st->ctx->created;
    struct build_entry e = {.path = dir + 1, .type = GANTRY_LAYER_DIR, .mode = 0755, .mtime = t};
    build_entries_add(&l, &e);
    build_entries_add_parents(&l, dir + 1, t);
    build_entries_sort(&l);
    return build_layer_write(st, &l, desc, diff_id, err);
}

int build_step_workdir(struct build_stage *st, const struct gantry_dockerfile_instruction *in,
                       struct gantry_error **err)
{
    _cleanup_free_ char *x = NULL;
    if (build_stage_expand(st, in, in->args[0], &x, err) < 0)
        return -1;
    bool is_dir = false;
    char *dir = build_dest_path(st->config->config.working_dir, x, &is_dir);
    free(st->config->config.working_dir);
    st->config->config.working_dir = dir;
    int has = build_stage_has_dir(st, dir, err);
    if (has < 0)
        return gantry_error_prefix(err, "%s:%zu", st->ctx->df->name, in->line);
    if (has) {
        build_stage_add_history(st, in->original);
        return 0;
    }
    char key[65];
    workdir_key(st, dir, key);
    _cleanup_descriptor_ struct gantry_oci_descriptor desc = GANTRY_OCI_DESCRIPTOR_INIT;
    char diff_id[GANTRY_DIGEST_MAX];
    struct workdir w = {.st = st, .dir = dir};
    if (layer_by_key(st, key, workdir_layer, &w, &desc, diff_id, err) < 0)
        return gantry_error_prefix(err, "%s:%zu", st->ctx->df->name, in->line);
    build_stage_add_layer(st, &desc, diff_id, in->original);
    return 0;
}
