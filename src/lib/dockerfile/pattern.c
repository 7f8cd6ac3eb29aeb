/*
 * Shell patterns of ${V#pat}, ${V%pat} and ${V/pat/repl}: '*' any run of
 * characters, '?' one character (neither crosses a newline, as the '.' of
 * the regular expression BuildKit builds), '\' escapes '*', '?' and '\'
 * ("\}" and "\/" are the characters themselves); anything else is literal.
 * Matching is a set-of-states simulation, linear in the input for each
 * start position, so no pattern can make it explode.
 */
#include "dockerfile_internal.h"

enum pt_kind {
    PT_LIT,  /* one rune, as bytes */
    PT_ANY,  /* '?' */
    PT_STAR, /* '*' */
};

struct pt_tok {
    enum pt_kind kind;
    size_t len;
    char lit[4];
};

struct df_pattern {
    struct pt_tok *t;
    size_t n;
};

static void push(struct df_pattern *p, enum pt_kind kind, const char *s, size_t len)
{
    p->t = xrealloc(p->t, (p->n + 1) * sizeof(*p->t));
    struct pt_tok *t = &p->t[p->n++];
    t->kind = kind;
    t->len = len;
    if (len)
        memcpy(t->lit, s, len);
}

void df_pattern_free(struct df_pattern *p)
{
    if (!p)
        return;
    free(p->t);
    free(p);
}

struct df_pattern *df_pattern_compile(const char *pat, char **msg)
{
    struct df_pattern *p = xcalloc(1, sizeof(*p));
    size_t len = strlen(pat);
    for (size_t i = 0; i < len;) {
        int r;
        size_t w = df_utf8_decode(pat + i, len - i, &r);
        if (r == '*' || r == '?') {
            push(p, r == '*' ? PT_STAR : PT_ANY, NULL, 0);
        } else if (r == '\\') {
            char nx = pat[i + 1];
            if (nx == '}' || nx == '/') {
                i++; /* the backslash only protected the delimiter */
                continue;
            }
            if (nx != '*' && nx != '?' && nx != '\\') {
                int e = 0;
                size_t ew = nx ? df_utf8_decode(pat + i + 1, len - i - 1, &e) : 0;
                *msg = xasprintf("invalid escape '\\%.*s'", (int)ew, pat + i + 1);
                df_pattern_free(p);
                return NULL;
            }
            push(p, PT_LIT, &nx, 1);
            w = 2;
        } else {
            push(p, PT_LIT, pat + i, w);
        }
        i += w;
    }
    return p;
}

static void closure(const struct df_pattern *p, unsigned char *st)
{
    for (size_t i = 0; i < p->n; i++)
        if (st[i] && p->t[i].kind == PT_STAR)
            st[i + 1] = 1;
}

/* Advance the state set cur over one rune (bytes s[0..w), value r). */
static bool step(const struct df_pattern *p, const unsigned char *cur, unsigned char *nxt,
                 const char *s, size_t w, int r)
{
    bool any = false;
    memset(nxt, 0, p->n + 1);
    for (size_t i = 0; i < p->n; i++) {
        if (!cur[i])
            continue;
        const struct pt_tok *t = &p->t[i];
        if (t->kind == PT_LIT && t->len == w && memcmp(t->lit, s, w) == 0)
            nxt[i + 1] = 1, any = true;
        else if (t->kind == PT_ANY && r != '\n')
            nxt[i + 1] = 1, any = true;
        else if (t->kind == PT_STAR && r != '\n')
            nxt[i] = 1, any = true;
    }
    closure(p, nxt);
    return any;
}

/*
 * Offsets e >= from such that p matches s[from..e) exactly: the smallest
 * in *lo and the largest in *hi. False when there is none.
 */
static bool match_ends(const struct df_pattern *p, const char *s, size_t len, size_t from,
                       size_t *lo, size_t *hi)
{
    _cleanup_free_ unsigned char *cur = xcalloc(p->n + 1, 1);
    _cleanup_free_ unsigned char *nxt = xcalloc(p->n + 1, 1);
    bool found = false;
    cur[0] = 1;
    closure(p, cur);
    for (size_t i = from;;) {
        if (cur[p->n]) {
            if (!found)
                *lo = i;
            *hi = i;
            found = true;
        }
        if (i >= len)
            break;
        int r;
        size_t w = df_utf8_decode(s + i, len - i, &r);
        if (!step(p, cur, nxt, s + i, w, r))
            break;
        unsigned char *tmp = cur;
        cur = nxt;
        nxt = tmp;
        i += w;
    }
    return found;
}

char *df_pattern_trim_prefix(const struct df_pattern *p, const char *value, bool longest)
{
    size_t lo, hi, len = strlen(value);
    if (!match_ends(p, value, len, 0, &lo, &hi))
        return xstrdup(value);
    return xstrdup(value + (longest ? hi : lo));
}

/* s reversed rune by rune (bytes of each rune kept in order). */
static char *reverse_runes(const char *s, size_t len)
{
    char *r = xmalloc(len + 1);
    for (size_t i = 0; i < len;) {
        int c;
        size_t w = df_utf8_decode(s + i, len - i, &c);
        memcpy(r + len - i - w, s + i, w);
        i += w;
    }
    r[len] = '\0';
    return r;
}

char *df_pattern_trim_suffix(const struct df_pattern *p, const char *value, bool longest)
{
    /* As BuildKit: reverse both, then trim a prefix. */
    size_t len = strlen(value), lo, hi;
    struct df_pattern rev = {.t = xmalloc((p->n ? p->n : 1) * sizeof(*p->t)), .n = p->n};
    for (size_t i = 0; i < p->n; i++)
        rev.t[i] = p->t[p->n - 1 - i];
    _cleanup_free_ char *rs = reverse_runes(value, len);
    bool found = match_ends(&rev, rs, len, 0, &lo, &hi);
    free(rev.t);
    if (!found)
        return xstrdup(value);
    return xstrndup(value, len - (longest ? hi : lo));
}

/* Epsilon moves carrying the smallest start position (SIZE_MAX: dead). */
static void closure_min(const struct df_pattern *p, size_t *st)
{
    for (size_t i = 0; i < p->n; i++)
        if (p->t[i].kind == PT_STAR && st[i] < st[i + 1])
            st[i + 1] = st[i];
}

static void step_min(const struct df_pattern *p, const size_t *cur, size_t *nxt, const char *s,
                     size_t w, int r)
{
    for (size_t i = 0; i <= p->n; i++)
        nxt[i] = SIZE_MAX;
    for (size_t i = 0; i < p->n; i++) {
        const struct pt_tok *t = &p->t[i];
        size_t to = i + 1;
        if (cur[i] == SIZE_MAX)
            continue;
        if (t->kind == PT_STAR)
            to = i;
        else if (t->kind == PT_LIT && !(t->len == w && memcmp(t->lit, s, w) == 0))
            continue;
        if (r == '\n' && t->kind != PT_LIT)
            continue;
        if (cur[i] < nxt[to])
            nxt[to] = cur[i];
    }
}

/*
 * The leftmost start of a match at or after from, in one pass: every
 * position starts a thread, each state keeps the smallest start that
 * reaches it, and the scan stops once no thread can start earlier than
 * the best match found.
 */
static bool leftmost_start(const struct df_pattern *p, const char *s, size_t len, size_t from,
                           size_t *start)
{
    _cleanup_free_ size_t *cur = xmalloc((p->n + 1) * sizeof(size_t));
    _cleanup_free_ size_t *nxt = xmalloc((p->n + 1) * sizeof(size_t));
    size_t best = SIZE_MAX;
    for (size_t i = 0; i <= p->n; i++)
        cur[i] = SIZE_MAX;
    for (size_t i = from;;) {
        if (i < best && i < cur[0])
            cur[0] = i;
        closure_min(p, cur);
        if (cur[p->n] < best)
            best = cur[p->n];
        bool alive = false;
        for (size_t k = 0; k < p->n && !alive; k++)
            alive = cur[k] < best;
        if (i >= len || (!alive && best != SIZE_MAX))
            break;
        int r;
        size_t w = df_utf8_decode(s + i, len - i, &r);
        step_min(p, cur, nxt, s + i, w, r);
        size_t *tmp = cur;
        cur = nxt;
        nxt = tmp;
        i += w;
    }
    *start = best;
    return best != SIZE_MAX;
}

/* Leftmost match at or after from: its start and (greedy) end. */
static bool find(const struct df_pattern *p, const char *s, size_t len, size_t from, size_t *a0,
                 size_t *a1)
{
    size_t lo;
    if (!leftmost_start(p, s, len, from, a0))
        return false;
    return match_ends(p, s, len, *a0, &lo, a1);
}

/* Go's regexp.Expand for a pattern without groups: "$0"/"${0}" is the
 * match, "$$" a dollar, other names nothing, a malformed '$' itself. */
static void expand_template(struct gantry_buf *out, const char *t, const char *m, size_t mlen)
{
    while (*t) {
        const char *d = strchr(t, '$');
        if (!d) {
            df_puts(out, t);
            return;
        }
        df_put(out, t, (size_t)(d - t));
        t = d + 1;
        if (*t == '$') {
            df_putc(out, '$');
            t++;
            continue;
        }
        bool brace = *t == '{';
        const char *n = t + brace;
        size_t k = 0;
        while (n[k] && ((n[k] >= '0' && n[k] <= '9') || (n[k] >= 'a' && n[k] <= 'z') ||
                        (n[k] >= 'A' && n[k] <= 'Z') || n[k] == '_' || (unsigned char)n[k] >= 0x80))
            k++;
        if (k == 0 || (brace && n[k] != '}')) {
            df_putc(out, '$');
            continue;
        }
        if (k == 1 && n[0] == '0')
            df_put(out, m, mlen);
        t = n + k + brace;
    }
}

char *df_pattern_replace(const struct df_pattern *p, const char *value, const char *repl, bool all)
{
    size_t len = strlen(value), a0, a1;
    _cleanup_buf_ struct gantry_buf out = GANTRY_BUF_INIT;
    if (!all) {
        if (!find(p, value, len, 0, &a0, &a1))
            return xstrdup(value);
        df_put(&out, value, a0);
        df_puts(&out, repl);
        df_puts(&out, value + a1);
        return gantry_buf_detach(&out, NULL);
    }
    /* Go's ReplaceAllString loop, empty matches included. */
    size_t last = 0, pos = 0;
    while (pos <= len && find(p, value, len, pos, &a0, &a1)) {
        df_put(&out, value + last, a0 - last);
        if (a1 > last || a0 == 0)
            expand_template(&out, repl, value + a0, a1 - a0);
        last = a1;
        int r;
        size_t w = pos < len ? df_utf8_decode(value + pos, len - pos, &r) : 0;
        if (pos + w > a1)
            pos += w;
        else if (pos + 1 > a1)
            pos++;
        else
            pos = a1;
    }
    df_puts(&out, value + last);
    return gantry_buf_detach(&out, NULL);
}
