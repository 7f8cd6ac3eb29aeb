/*
 * Internal interfaces of the build module (not installed). The step
 * executor is a table of one function per instruction kind (steps.c), each
 * working on a struct build_stage: the image config being assembled and
 * the layers made so far. RUN will plug in as one more step function plus
 * a rootfs snapshot of the stage, which this module leaves out for now.
 */
#ifndef GANTRY_BUILD_INTERNAL_H
#define GANTRY_BUILD_INTERNAL_H

#include <stdint.h>

#include <gantry/build.h>
#include <gantry/dockerfile.h>
#include <gantry/layer.h>
#include <gantry/oci.h>
#include <gantry/platform.h>
#include <gantry/store.h>

#include "strset.h"
#include "util.h"

/* ---- pure helpers (paths.c) ---- */

/*
 * Clean a build-context path as Go's path.Clean, relative to the context
 * root: a leading '/' is dropped, "." segments and repeated slashes go,
 * ".." pops a segment. The context itself is "." . Returns a new string
 * (caller frees) or NULL when the path leaves the context.
 */
char *build_context_path(const char *p, size_t len);

/*
 * The absolute destination of a COPY/ADD/WORKDIR: dest when absolute,
 * else workdir (NULL or "" means "/") joined with dest, cleaned. A
 * trailing '/' (or "." at the end) of dest sets *is_dir. Caller frees.
 */
char *build_dest_path(const char *workdir, const char *dest, bool *is_dir);

/*
 * Parse a --chown value "user[:group]": numbers, or names looked up in the
 * given /etc/passwd and /etc/group texts (either may be NULL). A user
 * without a group takes the user's primary group (from passwd, else the
 * uid). Errors: GANTRY_E_INVALID_ARG "invalid --chown 'S': ..." for an
 * empty part or an unknown name.
 */
int build_chown_parse(const char *spec, const char *passwd, const char *group, uint32_t *uid,
                      uint32_t *gid, struct gantry_error **err) GANTRY_WUR;

/* Parse a --chmod value (octal, at most 07777). GANTRY_E_INVALID_ARG on error. */
int build_chmod_parse(const char *spec, uint32_t *mode, struct gantry_error **err) GANTRY_WUR;

/*
 * root/rel with every symbolic link on the way resolved inside root, as if
 * root were "/" (absolute targets restart at root, ".." stops there), so a
 * hostile tree cannot make a later stat() or open() reach a host file. A
 * missing component ends the walk (the rest is appended as is, for the
 * caller's stat to report). NULL after 40 links. Caller frees.
 */
char *build_path_in_root(const char *root, const char *rel);

/* "2006-01-02T15:04:05Z" for t (UTC). Caller frees. */
char *build_format_time(int64_t t);

/* min(t, epoch) when epoch >= 0, else t: SOURCE_DATE_EPOCH clamping. */
int64_t build_clamp_time(int64_t t, int64_t epoch);

/* ---- layer entries (layer.c) ---- */

/* One entry of a layer being made. path is relative ("bin/busybox"). */
struct build_entry {
    char *path;
    char *src; /* host file to read for regular files, else NULL */
    char *link_target;
    enum gantry_layer_entry_type type;
    uint32_t mode;
    uint32_t uid;
    uint32_t gid;
    int64_t mtime;
    uint64_t size;
    /* A parent added by build_entries_add_parents: build_layer_write gives
     * it the mode and owner of the same directory in the stage's layers. */
    bool implicit;
};

struct build_entries {
    struct build_entry *items;
    size_t n_items;
    struct strset paths; /* the paths present, for _add_parents */
};

/* Append an entry (strings copied); a later entry of the same path wins. */
void build_entries_add(struct build_entries *l, const struct build_entry *e);
/* Add directory entries for every parent of path not yet present (0755,
 * root, marked implicit). */
void build_entries_add_parents(struct build_entries *l, const char *path, int64_t mtime);
/* Sort by path and drop earlier duplicates. */
void build_entries_sort(struct build_entries *l);
void build_entries_release(struct build_entries *l);

/*
 * Write the entries (sorted) as one layer blob of the stage's build
 * (store, compression, step cache); fills *desc (media type, digest, size)
 * and diff_id. Implicit entries first take the metadata of the stage's
 * lower directories (build_dirs_resolve). A layer whose key (entries and
 * file contents, cache.c) has a record whose blob is present is reused
 * instead (st->layers_cached).
 */
struct build_stage;
int build_layer_write(struct build_stage *st, struct build_entries *l,
                      struct gantry_oci_descriptor *desc, char diff_id[GANTRY_DIGEST_MAX],
                      struct gantry_error **err) GANTRY_WUR;

/* ---- the step cache (cache.c) ---- */

/* What identifies a file's content without reading it. */
struct build_file_id {
    uint64_t dev, ino, size;
    int64_t mtime_ns, ctime_ns;
};

struct stat;
void build_file_id_of(const struct stat *sb, struct build_file_id *id);
bool build_file_id_equal(const struct build_file_id *a, const struct build_file_id *b);

/*
 * The cache of one build: records in the store's cache/ and the stat cache
 * of the context (files under context are remembered). Thread-safe.
 * no_cache: lookups miss, but records and digests are still written.
 */
struct build_cache;
struct build_cache *build_cache_new(struct gantry_store *s, const char *context, bool no_cache);
void build_cache_free(struct build_cache *c);
bool build_cache_no_cache(const struct build_cache *c);
/* Write the stat cache back when it changed (best effort: a warning). */
void build_cache_save(struct build_cache *c);

/* sha256 of the file at path whose identity is *id, from the stat cache or read. */
int build_cache_file_digest(struct build_cache *c, const char *path, const struct build_file_id *id,
                            char digest[GANTRY_DIGEST_MAX], struct gantry_error **err) GANTRY_WUR;

/*
 * The layer recorded under key (64 hex digits; a step computes it over
 * everything that makes the layer's bytes, RUN over its parent chain and
 * command): true and *desc (caller releases) and diff_id filled when the
 * record exists and its blob is in the store with its size.
 */
bool build_cache_get(struct build_cache *c, const char *key, struct gantry_oci_descriptor *desc,
                     char diff_id[GANTRY_DIGEST_MAX]);
/* Record key -> layer (best effort: a warning). */
void build_cache_put(struct build_cache *c, const char *key,
                     const struct gantry_oci_descriptor *desc, const char *diff_id);

/*
 * Other records of the cache ("ns/<64 hex>", url.c): get appends the
 * record name to out (false when absent, unreadable, or with --no-cache);
 * put replaces it atomically under the store's shared lock, as step
 * records (best effort: a warning).
 */
bool build_cache_record_get(struct build_cache *c, const char *name, struct gantry_buf *out);
void build_cache_record_put(struct build_cache *c, const char *name, const void *data, size_t len);
/* The same for a store without a build cache (rootfs.c's "dirs/" records). */
void build_cache_store_put(struct gantry_store *s, const char *name, const void *data, size_t len);

/*
 * Make one key at a time: begin waits while another thread has key in
 * flight (key is borrowed until end), so the second finds the record.
 */
void build_cache_flight_begin(struct build_cache *c, const char *key);
void build_cache_flight_end(struct build_cache *c, const char *key);

/* ---- the build and its stages ---- */

struct build_ctx {
    struct gantry_store *store;
    const struct gantry_build_opts *opts;
    struct gantry_dockerfile *df;
    struct gantry_dockerignore *ignore; /* NULL: nothing excluded */
    char *context;                      /* absolute, real path */
    int64_t epoch;                      /* SOURCE_DATE_EPOCH, or -1 */
    int64_t created;                    /* epoch, else the start of the build */
    struct gantry_platform host;
    /* bcache: step cache, step events, parallel platforms (build.c, cache.c) */
    struct build_cache *cache;
};

struct build_stage {
    struct build_ctx *ctx;
    const struct gantry_dockerfile_stage *df_stage;
    const struct gantry_dockerfile_resolved *res;
    struct build_stage *all; /* every stage of this platform, for --from */
    struct gantry_oci_config *config;
    struct gantry_oci_descriptor *layers;
    size_t n_layers;
    struct gantry_dockerfile_vars args; /* ARGs declared in the stage */
    char **shell;                       /* SHELL, NULL: /bin/sh -c */
    size_t n_shell;
    bool cmd_set; /* a CMD of this stage (ENTRYPOINT then keeps it) */
    bool built;
    /* bcache: layers made by build_layer_write, and how many came from the cache */
    unsigned layers_written, layers_cached;
    const struct gantry_platform *target; /* the platform built, for step events */
};

/* Lookup for expansion: ENV of the config first, then the stage's ARGs. */
bool build_stage_lookup(void *user, const char *name, const char **value);

/* Expand one raw word in the stage's scope; caller frees *out. */
int build_stage_expand(struct build_stage *st, const struct gantry_dockerfile_instruction *in,
                       const char *word, char **out, struct gantry_error **err) GANTRY_WUR;

/* A copy of c (caller frees); c is only read, so built stages are shared safely. */
struct gantry_oci_config *build_config_dup(const struct gantry_oci_config *c,
                                           struct gantry_error **err);

/* Set up st from its FROM (scratch, an earlier stage, a local or pulled image). */
int build_stage_init_base(struct build_stage *st, size_t index,
                          struct gantry_error **err) GANTRY_WUR;

/* Release what a stage holds (not ctx). */
void build_stage_release(struct build_stage *st);

/* Append a layer and its history entry to the stage. */
void build_stage_add_layer(struct build_stage *st, const struct gantry_oci_descriptor *desc,
                           const char *diff_id, const char *created_by);
/* Append an empty_layer history entry. */
void build_stage_add_history(struct build_stage *st, const char *created_by);

/* bcache (run.c): build every platform (stages, shared ones once); descs[i] gets
 * platform i's manifest, config_digest platform 0's config. */
int build_run_platforms(struct build_ctx *c, const struct gantry_platform *plats, size_t n,
                        struct gantry_oci_descriptor *descs, char config_digest[GANTRY_DIGEST_MAX],
                        struct gantry_error **err) GANTRY_WUR;
/* Store the built target stage's config and manifest (build.c); *desc: the manifest's. */
int build_store_image(struct build_stage *st, struct gantry_oci_descriptor *desc,
                      char config_digest[GANTRY_DIGEST_MAX], struct gantry_error **err) GANTRY_WUR;

/* Run one instruction on the stage (the step table). */
int build_step_run(struct build_stage *st, const struct gantry_dockerfile_instruction *in,
                   struct gantry_error **err) GANTRY_WUR;

/* ---- ONBUILD triggers of a stage's base (onbuild.c) ---- */

/* items[k]: "ONBUILD <trigger k>" parsed; items[k]->trigger is what runs. */
struct build_triggers {
    struct gantry_dockerfile_instruction **items;
    size_t n_items;
};

/*
 * Take the OnBuild triggers of st's config (stage index, just set up from
 * its base) into *t (release with build_triggers_release, also on error)
 * and clear them from the config. Each trigger's line is the FROM's.
 * Errors: the parser's (ONBUILD ONBUILD, FROM, MAINTAINER...) and
 * GANTRY_E_UNSUPPORTED for COPY/ADD --from, as
 * "<name>:<line>: ONBUILD trigger N of '<base>': ...".
 */
int build_onbuild_take(struct build_stage *st, size_t index, struct build_triggers *t,
                       struct gantry_error **err) GANTRY_WUR;
/* Name trigger k (from 0) of stage index in the step error *err. */
void build_onbuild_error(const struct build_stage *st, size_t index, size_t k,
                         struct gantry_error **err);
void build_triggers_release(struct build_triggers *t);

/* WORKDIR (copy.c): sets the directory, and makes it in a layer when missing. */
int build_step_workdir(struct build_stage *st, const struct gantry_dockerfile_instruction *in,
                       struct gantry_error **err) GANTRY_WUR;

/* The config and layers of image ref for platform p (local, else pulled). */
int build_stage_init_image(struct build_stage *st, const char *ref, const struct gantry_platform *p,
                           struct gantry_error **err) GANTRY_WUR;

/*
 * Directories of lower layers (rootfs.c). Give every implicit entry of l
 * (sorted) the mode, uid and gid of the directory of the same path in the
 * stage's layers when they have one (a later layer's entry wins; its
 * whiteouts hide lower ones; a directory only implied by deeper entries
 * has no metadata to give). Each layer's directories and whiteouts come
 * from its record "dirs/<digest hex>" in the store's cache, made from the
 * layer's tar headers when missing or damaged. Errors: reading a layer.
 */
int build_dirs_resolve(struct build_stage *st, struct build_entries *l,
                       struct gantry_error **err) GANTRY_WUR;
/* Record the directories of the layer digest just written from l (best effort). */
void build_dirs_record_entries(struct gantry_store *s, const char *digest,
                               const struct build_entries *l);

/* True when path ("/a/b") is a directory in the stage's layers; -1 on error. */
int build_stage_has_dir(struct build_stage *st, const char *path,
                        struct gantry_error **err) GANTRY_WUR;

/*
 * Wildcard sources (glob.c): the paths under root (relative, cleaned,
 * sorted) that pattern (a cleaned relative path; "*", "?", "[...]" within
 * a segment and "**" for any number of directories, Docker's pattern
 * rules) matches. The tree is walked from the pattern's literal leading
 * directories without following symbolic links; a matched directory is
 * not descended. *items: free with build_glob_free. Errors: an invalid
 * pattern (GANTRY_E_INVALID_ARG), a tree nested too deep.
 */
int build_glob(const char *root, const char *pattern, char ***items, size_t *n,
               struct gantry_error **err) GANTRY_WUR;
void build_glob_free(char **items, size_t n);

/* Remove a directory tree (best effort). */
void build_rm_rf(const char *dir);

/* COPY and ADD (copy.c). */
int build_step_copy(struct build_stage *st, const struct gantry_dockerfile_instruction *in,
                    bool add, struct gantry_error **err) GANTRY_WUR;

/*
 * --check (copy.c): resolve src, one expanded local source of the COPY or
 * ADD in (not a URL: nothing is fetched), in the build context as the
 * build does (--parents pivot, globs and "**", .dockerignore), adding
 * nothing. Errors: the build's own, "<Dockerfile>:<line>: ...".
 */
int build_copy_check_source(struct build_stage *st, const struct gantry_dockerfile_instruction *in,
                            const char *src, struct gantry_error **err) GANTRY_WUR;

/*
 * Extract the files of a stage's or image's layers under prefix (relative,
 * "." for everything) into dir (which exists), applying whiteouts: the
 * source tree of COPY --from and /etc/passwd lookups.
 */
int build_layers_extract(struct gantry_store *s, const struct gantry_oci_descriptor *layers,
                         size_t n_layers, const char *dir, struct gantry_error **err) GANTRY_WUR;

/* ---- binstr: ADD of URLs, redaction, --check (url.c, check.c) ---- */

/* True for the http:// and https:// sources ADD downloads. */
bool build_is_url(const char *s);

/*
 * True for git sources, which gantry refuses without running git:
 * "git://", "git@", "ssh://", "git+ssh://" prefixes, and http(s) URLs
 * whose path ends in ".git" (a "#ref" fragment allowed), as BuildKit's
 * isGitURL.
 */
bool build_is_git_source(const char *s);

/*
 * The name of a downloaded file, as BuildKit's getFileName: the base name
 * of the Content-Disposition filename (disposition, may be NULL; ignored
 * when empty, ending in '/', or "." or ".."), else the base name of the
 * URL's path (percent-decoded; not "." or "/"), else "index". The result
 * never holds a '/' (D13: "../../etc/passwd" gives "passwd"). Caller frees.
 */
char *build_url_filename(const char *url, const char *disposition);

/* Redact the passwords of URLs in (*err)->message (D17); err may be NULL. */
void build_error_redact(struct gantry_error **err);

/*
 * ADD <url> (url.c): download into a store blob, or, when the URL's record
 * has validators and the server answers 304, take the recorded blob; see
 * docs/build.md.
 */
struct build_url_file {
    char *path;    /* the downloaded content: a blob file of the store */
    char *name;    /* build_url_filename() */
    int64_t mtime; /* Last-Modified clamped, else the build's created time */
    uint64_t size;
};
int build_url_fetch(struct build_stage *st, const char *url, const char *checksum,
                    struct build_url_file *out, struct gantry_error **err) GANTRY_WUR;
void build_url_file_release(struct build_url_file *f);

/* url without its user info ("user:password@"): what keys a download. Caller frees. */
char *build_url_key_form(const char *url);

/* prune (cache.c): a download record ("url/<hex>" at path) that parses and whose blob is in s. */
bool build_url_record_live(struct gantry_store *s, const char *name, const char *path);

/*
 * build.c: set up c for opts as gantry_build does (context, Dockerfile
 * parsed, .dockerignore, host, SOURCE_DATE_EPOCH) without the step cache;
 * build_ctx_close releases it (also after a failed open).
 */
int build_ctx_open(struct build_ctx *c, struct gantry_store *s, const struct gantry_build_opts *o,
                   struct gantry_error **err) GANTRY_WUR;
void build_ctx_close(struct build_ctx *c);

static inline void cleanup_configp(struct gantry_oci_config **c)
{
    gantry_oci_config_free(*c);
}
#define _cleanup_config_ __attribute__((cleanup(cleanup_configp)))
static inline void cleanup_manifestp(struct gantry_oci_manifest **m)
{
    gantry_oci_manifest_free(*m);
}
#define _cleanup_manifest_ __attribute__((cleanup(cleanup_manifestp)))
static inline void cleanup_descriptorp(struct gantry_oci_descriptor *d)
{
    gantry_oci_descriptor_release(d);
}
#define _cleanup_descriptor_ __attribute__((cleanup(cleanup_descriptorp)))
static inline void cleanup_entriesp(struct build_entries *l)
{
    build_entries_release(l);
}
#define _cleanup_entries_ __attribute__((cleanup(cleanup_entriesp)))

#endif
