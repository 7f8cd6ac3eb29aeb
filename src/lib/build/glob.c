/*
 * Wildcard sources that glob(3) cannot take: "**" (any number of
 * directories, as Docker's pattern matcher and COPY --parents use it). The
 * tree under the pattern's literal leading directories is walked without
 * following symbolic links, and every path is tested with the
 * .dockerignore matcher of the dockerfile module, which has Docker's
 * rules for "*", "?", "[...]" and "**".
 */
#include <dirent.h>
#include <sys/stat.h>

#include "build/build_internal.h"

struct walk {
    const char *root;
    struct gantry_dockerignore *m;
    char **items;
    size_t n_items;
};

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void names_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* The entries of dir but "." and "..", sorted; NULL (n 0) when unreadable. */
static char **dir_names(const char *dir, size_t *n)
{
    *n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return NULL;
    char **v = NULL;
    const struct dirent *de;
    while ((de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        v = xrealloc(v, (*n + 1) * sizeof *v);
        v[(*n)++] = xstrdup(de->d_name);
    }
    closedir(d);
    if (*n)
        qsort(v, *n, sizeof *v, cmp_str);
    return v;
}

/* Walk the directory rel ("." the root): matches are kept, not descended. */
static int walk_dir(struct walk *w, const char *rel, unsigned depth, struct gantry_error **err)
{
    if (depth > 256)
        return gantry_error_set(err, GANTRY_E_TOO_LARGE, 0, "directories nested too deep: '%s'",
                                rel);
    _cleanup_free_ char *dir = build_path_in_root(w->root, rel);
    size_t n = 0;
    char **names = dir ? dir_names(dir, &n) : NULL;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        _cleanup_free_ char *r =
            strcmp(rel, ".") ? xasprintf("%s/%s", rel, names[i]) : xstrdup(names[i]);
        bool hit = false;
        if (gantry_dockerignore_matches(w->m, r, &hit, NULL) == 0 && hit) {
            w->items = xrealloc(w->items, (w->n_items + 1) * sizeof *w->items);
            w->items[w->n_items++] = steal_pointer(&r);
            continue;
        }
        _cleanup_free_ char *full = xasprintf("%s/%s", dir, names[i]);
        struct stat sb;
        if (lstat(full, &sb) == 0 && S_ISDIR(sb.st_mode))
            rc = walk_dir(w, r, depth + 1, err);
    }
    names_free(names, n);
    return rc;
}

/* The leading segments of pattern without wildcards ("." when none). */
static char *literal_dir(const char *pattern)
{
    size_t end = 0;
    for (const char *s = pattern; *s;) {
        size_t len = strcspn(s, "/");
        if (memchr(s, '*', len) || memchr(s, '?', len) || memchr(s, '[', len) || !s[len])
            break;
        end = (size_t)(s - pattern) + len;
        s += len + 1;
    }
    return end ? xstrndup(pattern, end) : xstrdup(".");
}

int build_glob(const char *root, const char *pattern, char ***out, size_t *n,
               struct gantry_error **err)
{
    *out = NULL;
    *n = 0;
    /* A leading '!' would make the pattern an exception: escape it. */
    _cleanup_free_ char *pat = xasprintf("%s%s", pattern[0] == '!' ? "\\" : "", pattern);
    const char *pats[] = {pat};
    struct walk w = {.root = root};
    if (gantry_dockerignore_new(pats, 1, &w.m, err) < 0)
        return gantry_error_prefix(err, "invalid source pattern '%s'", pattern);
    _cleanup_free_ char *start = literal_dir(pattern);
    int rc = walk_dir(&w, start, 0, err);
    gantry_dockerignore_free(w.m);
    if (rc < 0) {
        names_free(w.items, w.n_items);
        return -1;
    }
    if (w.n_items)
        qsort(w.items, w.n_items, sizeof *w.items, cmp_str);
    *out = w.items;
    *n = w.n_items;
    return 0;
}

void build_glob_free(char **items, size_t n)
{
    names_free(items, n);
}
