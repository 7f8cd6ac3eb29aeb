/*
 * .dockerignore with moby/patternmatcher's rules: the file is read as
 * ignorefile.ReadAll does, each pattern is checked as filepath.Match would
 * and compiled as patternmatcher does (exact; prefix for "dir" followed by
 * a final "**"; suffix for a leading "**" and no other wildcard; or a
 * regular expression), and a path matches as
 * MatchesOrParentMatches: every pattern in order, on the path and on each
 * parent directory, the last match wins. The regular expressions are run
 * as a set-of-states simulation over a few token kinds, so no pattern can
 * make matching slow.
 */
#include "dockerfile_internal.h"

enum ig_type { IG_EXACT, IG_PREFIX, IG_SUFFIX, IG_REGEXP };

enum ig_kind {
    T_LIT,         /* one rune */
    T_ONE,         /* '?': [^/] */
    T_STAR,        /* '*': [^/]* */
    T_CLASS,       /* [...] */
    T_DSTAR_SLASH, /* "**" before more: any text ending in a slash, or nothing */
    T_DSTAR_END,   /* "**" at the end: .* */
    T_ANCHOR,      /* a '^' of the pattern: a start-of-text assertion */
};

struct ig_range {
    int lo, hi;
};

struct ig_tok {
    enum ig_kind kind;
    size_t len;
    char lit[4];
    bool neg;
    struct ig_range *ranges;
    size_t n_ranges;
};

struct ig_pattern {
    char *text; /* cleaned, without the '!' */
    bool exception;
    enum ig_type type;
    struct ig_tok *t;
    size_t n;
};

struct gantry_dockerignore {
    struct ig_pattern *p;
    size_t n;
};

static void pattern_release(struct ig_pattern *p)
{
    free(p->text);
    for (size_t i = 0; i < p->n; i++)
        free(p->t[i].ranges);
    free(p->t);
}

void gantry_dockerignore_free(struct gantry_dockerignore *ig)
{
    if (!ig)
        return;
    for (size_t i = 0; i < ig->n; i++)
        pattern_release(&ig->p[i]);
    free(ig->p);
    free(ig);
}

size_t gantry_dockerignore_count(const struct gantry_dockerignore *ig)
{
    return ig ? ig->n : 0;
}

const char *gantry_dockerignore_pattern(const struct gantry_dockerignore *ig, size_t i,
                                        bool *exception)
{
    if (!ig || i >= ig->n)
        return NULL;
    if (exception)
        *exception = ig->p[i].exception;
    return ig->p[i].text;
}

/* Go's path.Clean. Caller frees. */
static char *path_clean(const char *path)
{
    size_t n = strlen(path), w = 0, r = 0, dotdot = 0;
    if (n == 0)
        return xstrdup(".");
    char *out = xmalloc(n + 3);
    bool rooted = path[0] == '/';
    if (rooted)
        out[w++] = '/', r = 1, dotdot = 1;
    while (r < n) {
        if (path[r] == '/') {
            r++;
        } else if (path[r] == '.' && (r + 1 == n || path[r + 1] == '/')) {
            r++;
        } else if (path[r] == '.' && path[r + 1] == '.' && (r + 2 == n || path[r + 2] == '/')) {
            r += 2;
            if (w > dotdot) {
                for (w--; w > dotdot && out[w] != '/'; w--)
                    ;
            } else if (!rooted) {
                if (w > 0)
                    out[w++] = '/';
                out[w++] = '.';
                out[w++] = '.';
                dotdot = w;
            }
        } else {
            if ((rooted && w != 1) || (!rooted && w != 0))
                out[w++] = '/';
            for (; r < n && path[r] != '/'; r++)
                out[w++] = path[r];
        }
    }
    if (w == 0)
        out[w++] = '.';
    out[w] = '\0';
    return out;
}

/* filepath.Match's getEsc: one class item at p[*j]. */
static bool class_item(const char *p, size_t n, size_t *j, int *r)
{
    if (*j >= n || p[*j] == '-' || p[*j] == ']')
        return false;
    if (p[*j] == '\\' && ++*j >= n)
        return false;
    size_t w = df_utf8_decode(p + *j, n - *j, r);
    if (*r == DF_RUNE_ERROR && w == 1)
        return false;
    *j += w;
    return *j < n;
}

/* A class at p[*i] == '['; fills tok when not NULL. False when malformed. */
static bool class_parse(const char *p, size_t n, size_t *i, struct ig_tok *tok)
{
    size_t j = *i + 1, nrange = 0;
    bool neg = j < n && p[j] == '^';
    j += neg;
    for (;;) {
        if (j < n && p[j] == ']' && nrange > 0) {
            j++;
            break;
        }
        int lo, hi;
        if (!class_item(p, n, &j, &lo))
            return false;
        hi = lo;
        if (p[j] == '-') {
            j++;
            if (!class_item(p, n, &j, &hi))
                return false;
        }
        if (tok) {
            tok->ranges = xrealloc(tok->ranges, (tok->n_ranges + 1) * sizeof(*tok->ranges));
            tok->ranges[tok->n_ranges++] = (struct ig_range){lo, hi};
        }
        nrange++;
    }
    if (tok)
        tok->neg = neg;
    *i = j;
    return true;
}

/* What filepath.Match(pattern, ".") would call a bad pattern. */
static bool glob_valid(const char *p)
{
    size_t n = strlen(p);
    for (size_t i = 0; i < n;) {
        if (p[i] == '\\') {
            if (i + 1 >= n)
                return false;
            int r;
            i += 1 + df_utf8_decode(p + i + 1, n - i - 1, &r);
        } else if (p[i] == '[') {
            if (!class_parse(p, n, &i, NULL))
                return false;
        } else {
            i++;
        }
    }
    return true;
}

static struct ig_tok *push(struct ig_pattern *p, enum ig_kind kind, const char *s, size_t len)
{
    p->t = xrealloc(p->t, (p->n + 1) * sizeof(*p->t));
    struct ig_tok *t = &p->t[p->n++];
    memset(t, 0, sizeof(*t));
    t->kind = kind;
    t->len = len;
    if (len)
        memcpy(t->lit, s, len);
    return t;
}

/* "**" at s[*i] (the first '*' consumed already). */
static void double_star(struct ig_pattern *p, const char *s, size_t n, size_t *i, bool first)
{
    (*i)++;
    if (*i < n && s[*i] == '/')
        (*i)++;
    if (*i >= n) {
        if (p->type == IG_EXACT) {
            p->type = IG_PREFIX;
        } else {
            push(p, T_DSTAR_END, NULL, 0);
            p->type = IG_REGEXP;
        }
    } else {
        push(p, T_DSTAR_SLASH, NULL, 0);
        p->type = IG_REGEXP;
    }
    if (first)
        p->type = IG_SUFFIX;
}

/* patternmatcher's compile; false when a class range is reversed (Go's
 * regexp refuses it). */
static bool compile(struct ig_pattern *p)
{
    const char *s = p->text;
    size_t n = strlen(s);
    p->type = IG_EXACT;
    for (size_t i = 0, it = 0; i < n; it++) {
        int r;
        size_t w = df_utf8_decode(s + i, n - i, &r);
        if (r == '*') {
            i++;
            if (i < n && s[i] == '*') {
                double_star(p, s, n, &i, it == 0);
                continue;
            }
            push(p, T_STAR, NULL, 0), p->type = IG_REGEXP;
            continue;
        }
        if (r == '[') {
            struct ig_tok *t = push(p, T_CLASS, NULL, 0);
            if (!class_parse(s, n, &i, t))
                return false;
            for (size_t k = 0; k < t->n_ranges; k++)
                if (t->ranges[k].lo > t->ranges[k].hi)
                    return false;
            p->type = IG_REGEXP;
            continue;
        }
        if (r == '?') {
            push(p, T_ONE, NULL, 0), p->type = IG_REGEXP;
        } else if (r == '\\' && i + 1 < n) {
            int e;
            size_t ew = df_utf8_decode(s + i + 1, n - i - 1, &e);
            push(p, T_LIT, s + i + 1, ew), p->type = IG_REGEXP;
            w += ew;
        } else if (r == ']') {
            push(p, T_LIT, "]", 1), p->type = IG_REGEXP;
        } else if (r == '^') {
            push(p, T_ANCHOR, NULL, 0);
        } else {
            push(p, T_LIT, s + i, w);
        }
        i += w;
    }
    return true;
}

static bool in_class(const struct ig_tok *t, int r)
{
    bool in = false;
    for (size_t k = 0; k < t->n_ranges && !in; k++)
        in = r >= t->ranges[k].lo && r <= t->ranges[k].hi;
    return in != t->neg;
}

/* Epsilon moves: optional tokens, and '^' at the start only. */
static void closure(const struct ig_pattern *p, unsigned char *st, size_t pos)
{
    for (size_t i = 0; i < p->n; i++) {
        enum ig_kind k = p->t[i].kind;
        if ((st[2 * i] & 1) &&
            (k == T_STAR || k == T_DSTAR_END || k == T_DSTAR_SLASH || (k == T_ANCHOR && pos == 0)))
            st[2 * (i + 1)] |= 1;
    }
}

/* States: st[2i] "before token i", st[2i+1] "inside the optional group of
 * token i" (a T_DSTAR_SLASH that consumed something). */
static bool step(const struct ig_pattern *p, const unsigned char *cur, unsigned char *nxt,
                 const char *s, size_t w, int r)
{
    bool any = false;
    memset(nxt, 0, 2 * (p->n + 1));
    for (size_t i = 0; i < p->n; i++) {
        const struct ig_tok *t = &p->t[i];
        bool at = cur[2 * i] & 1, inside = cur[2 * i + 1] & 1;
        bool adv = false, stay = false, group = false;
        if (at && t->kind == T_LIT)
            adv = t->len == w && memcmp(t->lit, s, w) == 0;
        else if (at && t->kind == T_ONE)
            adv = r != '/';
        else if (at && t->kind == T_STAR)
            stay = r != '/';
        else if (at && t->kind == T_CLASS)
            adv = in_class(t, r);
        else if (at && t->kind == T_DSTAR_END)
            stay = r != '\n';
        if ((at || inside) && t->kind == T_DSTAR_SLASH) {
            adv = r == '/';
            group = r != '\n';
        }
        if (adv)
            nxt[2 * (i + 1)] = 1;
        if (stay)
            nxt[2 * i] = 1;
        if (group)
            nxt[2 * i + 1] = 1;
        any = any || adv || stay || group;
    }
    return any;
}

static bool regexp_match(const struct ig_pattern *p, const char *s)
{
    size_t len = strlen(s), ns = 2 * (p->n + 1);
    _cleanup_free_ unsigned char *cur = xcalloc(ns, 1);
    _cleanup_free_ unsigned char *nxt = xcalloc(ns, 1);
    cur[0] = 1;
    closure(p, cur, 0);
    for (size_t i = 0; i < len;) {
        int r;
        size_t w = df_utf8_decode(s + i, len - i, &r);
        if (!step(p, cur, nxt, s + i, w, r))
            return false;
        i += w;
        closure(p, nxt, i);
        unsigned char *tmp = cur;
        cur = nxt;
        nxt = tmp;
    }
    return cur[2 * p->n] & 1;
}

static bool pattern_match(const struct ig_pattern *p, const char *path)
{
    size_t tl = strlen(p->text), pl = strlen(path);
    switch (p->type) {
    case IG_EXACT:
        return strcmp(path, p->text) == 0;
    case IG_PREFIX:
        return strncmp(path, p->text, tl - 2) == 0;
    case IG_SUFFIX: {
        const char *suffix = p->text + 2;
        size_t sl = tl - 2;
        if (pl >= sl && strcmp(path + pl - sl, suffix) == 0)
            return true;
        /* a leading double star then "/foo" also matches "foo" itself */
        return suffix[0] == '/' && strcmp(path, suffix + 1) == 0;
    }
    default:
        return regexp_match(p, path);
    }
}

/* patternmatcher.New for one pattern; 0 skipped, 1 added, -1 error. */
static int add_pattern(struct gantry_dockerignore *ig, const char *raw, char **msg)
{
    size_t n = strlen(raw), lead = df_space_prefix(raw, n);
    n -= lead;
    n -= df_space_suffix(raw + lead, n);
    if (n == 0)
        return 0;
    _cleanup_free_ char *trimmed = xstrndup(raw + lead, n);
    _cleanup_free_ char *clean = path_clean(trimmed);
    bool exception = clean[0] == '!';
    if (exception && !clean[1]) {
        *msg = xstrdup("illegal exclusion pattern: '!'");
        return -1;
    }
    struct ig_pattern p = {.text = xstrdup(clean + exception), .exception = exception};
    if (!glob_valid(p.text) || !compile(&p)) {
        _cleanup_free_ char *q = df_quote(p.text, strlen(p.text));
        *msg = xasprintf("syntax error in pattern '%s'", q);
        pattern_release(&p);
        return -1;
    }
    ig->p = xrealloc(ig->p, (ig->n + 1) * sizeof(*ig->p));
    ig->p[ig->n++] = p;
    return 1;
}

int gantry_dockerignore_new(const char *const *patterns, size_t n, struct gantry_dockerignore **out,
                            struct gantry_error **err)
{
    struct gantry_dockerignore *ig = xcalloc(1, sizeof(*ig));
    for (size_t i = 0; i < n; i++) {
        _cleanup_free_ char *msg = NULL;
        if (add_pattern(ig, patterns[i], &msg) < 0) {
            gantry_dockerignore_free(ig);
            return gantry_error_set(err, GANTRY_E_PARSE, 0, "%s", msg);
        }
    }
    *out = ig;
    return 0;
}

/* ignorefile.ReadAll's handling of one line; NULL when it is skipped. */
static char *read_pattern(const char *l, size_t n)
{
    if (n && l[0] == '#')
        return NULL;
    size_t lead = df_space_prefix(l, n);
    l += lead, n -= lead;
    n -= df_space_suffix(l, n);
    if (n == 0)
        return NULL;
    bool invert = l[0] == '!';
    if (invert) {
        l++, n--;
        lead = df_space_prefix(l, n);
        l += lead, n -= lead;
    }
    _cleanup_free_ char *pat = xstrndup(l, n);
    _cleanup_free_ char *clean = n ? path_clean(pat) : xstrdup("");
    const char *c = clean;
    if (strlen(c) > 1 && c[0] == '/')
        c++;
    return xasprintf("%s%s", invert ? "!" : "", c);
}

static int parse_line(struct gantry_dockerignore *ig, const char *l, size_t n, size_t line,
                      struct gantry_error **err)
{
    if (n > GANTRY_DOCKERFILE_LINE_MAX)
        return df_error(err, ".dockerignore", line, "line greater than max allowed size of %d",
                        GANTRY_DOCKERFILE_LINE_MAX);
    if (memchr(l, '\0', n))
        return df_error(err, ".dockerignore", line, "unexpected NUL byte");
    if (line == 1 && n >= 3 && memcmp(l, "\xEF\xBB\xBF", 3) == 0)
        l += 3, n -= 3;
    _cleanup_free_ char *pat = read_pattern(l, n);
    _cleanup_free_ char *msg = NULL;
    if (pat && add_pattern(ig, pat, &msg) < 0)
        return df_error(err, ".dockerignore", line, "%s", msg);
    return 0;
}

int gantry_dockerignore_parse(const char *data, size_t len, struct gantry_dockerignore **out,
                              struct gantry_error **err)
{
    struct gantry_dockerignore *ig = xcalloc(1, sizeof(*ig));
    size_t pos = 0, line = 0;
    while (pos < len) {
        const char *l = data + pos;
        const char *nl = memchr(l, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - l) : len - pos;
        pos += n + (nl != NULL);
        line++;
        /* bufio.ScanLines drops one \r before the newline. */
        size_t k = n > 0 && l[n - 1] == '\r' ? n - 1 : n;
        if (parse_line(ig, l, k, line, err) < 0) {
            gantry_dockerignore_free(ig);
            return -1;
        }
    }
    *out = ig;
    return 0;
}

/* path relative to the context, cleaned; NULL (and *err) when it leaves. */
static char *context_path(const char *path, struct gantry_error **err)
{
    while (*path == '/')
        path++;
    char *c = path_clean(path);
    if (strcmp(c, "..") == 0 || strncmp(c, "../", 3) == 0) {
        _cleanup_free_ char *q = df_quote(path, strlen(path));
        free(c);
        gantry_error_set(err, GANTRY_E_INVALID_ARG, 0, "path '%s' is outside the build context", q);
        return NULL;
    }
    return c;
}

/* p on path, or on one of its parent directories. */
static bool match_or_parent(const struct ig_pattern *p, char *path)
{
    if (pattern_match(p, path))
        return true;
    for (char *s = strchr(path, '/'); s; s = strchr(s + 1, '/')) {
        *s = '\0';
        bool m = pattern_match(p, path);
        *s = '/';
        if (m)
            return true;
    }
    return false;
}

int gantry_dockerignore_matches(const struct gantry_dockerignore *ig, const char *path,
                                bool *excluded, struct gantry_error **err)
{
    _cleanup_free_ char *c = context_path(path, err);
    if (!c)
        return -1;
    bool matched = false;
    for (size_t i = 0; ig && strcmp(c, ".") != 0 && i < ig->n; i++) {
        const struct ig_pattern *p = &ig->p[i];
        /* An exception only matters once something matched, and a plain
         * pattern only while nothing has. */
        if (p->exception != matched)
            continue;
        if (match_or_parent(p, c))
            matched = !p->exception;
    }
    *excluded = matched;
    return 0;
}

static bool prefix_compatible(const char *a, size_t al, const char *b, size_t bl)
{
    size_t n = al < bl ? al : bl;
    return memcmp(a, b, n) == 0;
}

bool gantry_dockerignore_dir_may_reinclude(const struct gantry_dockerignore *ig, const char *dir)
{
    if (!ig)
        return false;
    _cleanup_error_ struct gantry_error *e = NULL;
    _cleanup_free_ char *c = context_path(dir, &e);
    if (!c)
        return true;
    _cleanup_free_ char *d = xasprintf("%s/", c);
    for (size_t i = 0; i < ig->n; i++) {
        if (!ig->p[i].exception)
            continue;
        if (strcmp(c, ".") == 0)
            return true;
        /* Every match of the exception starts with its literal prefix. */
        const char *t = ig->p[i].text;
        size_t lit = strcspn(t, "*?[\\^");
        _cleanup_free_ char *full = t[lit] ? xstrndup(t, lit) : xasprintf("%s/", t);
        if (prefix_compatible(full, strlen(full), d, strlen(d)))
            return true;
    }
    return false;
}
