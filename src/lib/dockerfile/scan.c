/*
 * The Dockerfile as lines (BuildKit parser.go): physical lines of at most
 * 65535 bytes, a byte order mark on the first, parser directives until the
 * first line that is not one, comment lines, continuation lines (the
 * escape character last on a line; comment and empty lines inside a
 * continuation are skipped), heredoc bodies after the line that opens
 * them. Each logical line becomes an instruction placed in the global
 * scope or in its stage.
 */
#include <strings.h>

#include "dockerfile_internal.h"

struct scanner {
    const char *name;
    const char *s;
    size_t len;
    size_t pos;
    size_t line; /* physical lines read so far */
    bool directives_done;
    bool seen_escape, seen_syntax, seen_check;
    struct gantry_dockerfile *df;
};

/* Next physical line: *l and *raw (with its newline), *n without the
 * trailing \r\n run. 1 when read, 0 at the end, -1 on error. */
static int read_line(struct scanner *sc, const char **l, size_t *raw, size_t *n,
                     struct gantry_error **err)
{
    if (sc->pos >= sc->len)
        return 0;
    const char *start = sc->s + sc->pos;
    const char *nl = memchr(start, '\n', sc->len - sc->pos);
    size_t rawlen = nl ? (size_t)(nl - start) + 1 : sc->len - sc->pos;
    sc->line++;
    if (rawlen - (nl != NULL) > GANTRY_DOCKERFILE_LINE_MAX)
        return df_error(err, sc->name, sc->line,
                        "dockerfile line greater than max allowed size of %d",
                        GANTRY_DOCKERFILE_LINE_MAX);
    if (memchr(start, '\0', rawlen))
        return df_error(err, sc->name, sc->line, "unexpected NUL byte");
    sc->pos += rawlen;
    size_t k = rawlen;
    while (k > 0 && (start[k - 1] == '\n' || start[k - 1] == '\r'))
        k--;
    *l = start;
    *raw = rawlen;
    *n = k;
    return 1;
}

/* Go's \s: [\t\n\f\r ] */
static bool is_re_space(char c)
{
    return c == '\t' || c == '\n' || c == '\f' || c == '\r' || c == ' ';
}

/* "#\s*key\s*=\s*(.+?)\s*$": the key and value of a directive line. */
static bool match_directive(const char *t, size_t n, char **key, char **value)
{
    if (n == 0 || t[0] != '#')
        return false;
    size_t i = 1 + df_space_prefix(t + 1, n - 1), k = i;
    if (i >= n || !((t[i] >= 'a' && t[i] <= 'z') || (t[i] >= 'A' && t[i] <= 'Z')))
        return false;
    while (k < n && ((t[k] >= 'a' && t[k] <= 'z') || (t[k] >= 'A' && t[k] <= 'Z') ||
                     (t[k] >= '0' && t[k] <= '9')))
        k++;
    size_t j = k;
    while (j < n && is_re_space(t[j]))
        j++;
    if (j >= n || t[j] != '=')
        return false;
    const char *r = t + j + 1;
    size_t rn = n - j - 1, lead = 0, trail = 0;
    if (rn == 0)
        return false;
    while (lead < rn && is_re_space(r[lead]))
        lead++;
    while (trail < rn - lead && is_re_space(r[rn - 1 - trail]))
        trail++;
    *key = xstrndup(t + i, k - i);
    /* All white space: the lazy group still takes one character. */
    *value = lead == rn ? xstrndup(r + rn - 1, 1) : xstrndup(r + lead, rn - lead - trail);
    for (char *c = *key; *c; c++)
        *c = (char)(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
    return true;
}

static int set_directive(struct scanner *sc, const char *key, char **value,
                         struct gantry_error **err)
{
    bool *seen = strcmp(key, "escape") == 0   ? &sc->seen_escape
                 : strcmp(key, "syntax") == 0 ? &sc->seen_syntax
                                              : &sc->seen_check;
    if (*seen)
        return df_error(err, sc->name, sc->line, "only one %s parser directive can be used", key);
    *seen = true;
    if (strcmp(key, "escape") == 0) {
        if (strcmp(*value, "`") != 0 && strcmp(*value, "\\") != 0) {
            _cleanup_free_ char *q = df_quote(*value, strlen(*value));
            return df_error(err, sc->name, sc->line,
                            "invalid escape token '%s' does not match ` or \\", q);
        }
        sc->df->escape = (*value)[0];
    } else if (strcmp(key, "syntax") == 0) {
        sc->df->syntax = steal_pointer(value);
    } else {
        sc->df->check = steal_pointer(value);
    }
    return 0;
}

/* Parser directives come first; the first other line ends them. */
static int directive(struct scanner *sc, const char *t, size_t n, struct gantry_error **err)
{
    if (sc->directives_done)
        return 0;
    _cleanup_free_ char *key = NULL;
    _cleanup_free_ char *value = NULL;
    if (!match_directive(t, n, &key, &value) ||
        (strcmp(key, "escape") != 0 && strcmp(key, "syntax") != 0 && strcmp(key, "check") != 0)) {
        sc->directives_done = true;
        return 0;
    }
    return set_directive(sc, key, &value, err);
}

static bool is_comment(const char *l, size_t n)
{
    size_t i = df_space_prefix(l, n);
    return i < n && l[i] == '#';
}

/* BuildKit's continuation regex "([^E])E[ \t]*$|^E[ \t]*$" (E the escape
 * character): true and *n shortened when the line continues. */
static bool continues(char escape, const char *l, size_t *n)
{
    size_t e = *n;
    while (e > 0 && (l[e - 1] == ' ' || l[e - 1] == '\t'))
        e--;
    if (e == 0 || l[e - 1] != escape)
        return false;
    if (e >= 2 && l[e - 2] == escape)
        return false;
    *n = e - 1;
    return true;
}

static void add_warning(struct scanner *sc, size_t line)
{
    df_strv_push(&sc->df->warnings, &sc->df->n_warnings,
                 xasprintf("%s:%zu: empty continuation line", sc->name, line));
}

/* Read the continuation lines of a logical line into b. */
static int continuation(struct scanner *sc, struct gantry_buf *b, size_t start,
                        struct gantry_error **err)
{
    const char *l;
    size_t raw, n;
    bool empty = false, cont = true;
    int r = 0;
    while (cont && (r = read_line(sc, &l, &raw, &n, err)) > 0) {
        if (directive(sc, l, n, err) < 0)
            return -1;
        if (is_comment(l, n))
            continue;
        if (df_space_prefix(l, n) == n) {
            empty = true;
            continue;
        }
        cont = continues(sc->df->escape, l, &n);
        df_put(b, l, n);
    }
    if (cont && r < 0)
        return -1;
    if (empty)
        add_warning(sc, start);
    return 0;
}

/* One heredoc body, up to its delimiter. */
static int heredoc_body(struct scanner *sc, struct gantry_dockerfile_heredoc *h, size_t start,
                        struct gantry_error **err)
{
    _cleanup_buf_ struct gantry_buf body = GANTRY_BUF_INIT;
    const char *l;
    size_t raw, n, nlen = strlen(h->name);
    int r;
    while ((r = read_line(sc, &l, &raw, &n, err)) > 0) {
        const char *t = l;
        size_t tn = n;
        while (h->chomp && tn > 0 && *t == '\t')
            t++, tn--;
        if (tn == nlen && memcmp(t, h->name, nlen) == 0) {
            h->content = h->chomp ? df_heredoc_chomp(body.data) : gantry_buf_detach(&body, NULL);
            return 0;
        }
        df_put(&body, l, raw);
    }
    if (r < 0)
        return -1;
    return df_error(err, sc->name, start, "unterminated heredoc");
}

static int read_heredocs(struct scanner *sc, struct gantry_dockerfile_instruction *in,
                         const char *line, struct gantry_error **err)
{
    struct gantry_dockerfile_instruction *t =
        in->kind == GANTRY_DOCKERFILE_ONBUILD ? in->trigger : in;
    _cleanup_free_ char *msg = NULL;
    if (df_heredocs_from_line(line, &t->heredocs, &t->n_heredocs, &msg) < 0)
        return df_error(err, sc->name, in->line, "%s", msg);
    for (size_t i = 0; i < t->n_heredocs; i++)
        if (heredoc_body(sc, &t->heredocs[i], in->line, err) < 0)
            return -1;
    return 0;
}

static int new_stage(struct scanner *sc, struct gantry_dockerfile_instruction *in,
                     struct gantry_error **err)
{
    struct gantry_dockerfile *df = sc->df;
    char *alias = NULL;
    if (in->n_args == 3) {
        alias = xstrdup(in->args[2]);
        for (char *c = alias; *c; c++)
            *c = (char)(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
        for (size_t i = 0; i < df->n_stages; i++) {
            if (df->stages[i].alias && strcmp(df->stages[i].alias, alias) == 0) {
                df_error(err, sc->name, in->line, "duplicate stage name '%s'", alias);
                free(alias);
                return -1;
            }
        }
    }
    df->stages = xrealloc(df->stages, (df->n_stages + 1) * sizeof(*df->stages));
    struct gantry_dockerfile_stage *st = &df->stages[df->n_stages];
    memset(st, 0, sizeof(*st));
    st->index = df->n_stages++;
    st->base = xstrdup(in->args[0]);
    st->alias = alias;
    const char *p = gantry_dockerfile_flag(in, "platform");
    st->platform = p ? xstrdup(p) : NULL;
    st->from = *in;
    memset(in, 0, sizeof(*in));
    return 0;
}

/* Put a parsed instruction where it belongs; takes it on success. */
static int place(struct scanner *sc, struct gantry_dockerfile_instruction *in,
                 struct gantry_error **err)
{
    struct gantry_dockerfile *df = sc->df;
    struct gantry_dockerfile_instruction **v;
    size_t *n;
    if (in->kind == GANTRY_DOCKERFILE_FROM)
        return new_stage(sc, in, err);
    if (df->n_stages) {
        v = &df->stages[df->n_stages - 1].instructions;
        n = &df->stages[df->n_stages - 1].n_instructions;
    } else if (in->kind == GANTRY_DOCKERFILE_ARG) {
        v = &df->global_args;
        n = &df->n_global_args;
    } else {
        return df_error(err, sc->name, in->line, "no build stage in current context");
    }
    *v = xrealloc(*v, (*n + 1) * sizeof(**v));
    (*v)[(*n)++] = *in;
    memset(in, 0, sizeof(*in));
    return 0;
}

static int instruction(struct scanner *sc, const struct gantry_buf *line, size_t start,
                       struct gantry_error **err)
{
    struct df_instr_ctx ctx = {.name = sc->name, .escape = sc->df->escape, .line = start};
    struct gantry_dockerfile_instruction in = {0};
    int r = df_parse_instruction(&ctx, line->data, line->len, &in, err);
    in.line = start;
    if (r == 0 && df_instruction_takes_heredocs(&in) && strstr(line->data, "<<"))
        r = read_heredocs(sc, &in, line->data, err);
    in.end_line = sc->line;
    if (in.trigger) {
        in.trigger->line = in.line;
        in.trigger->end_line = in.end_line;
    }
    if (r == 0)
        r = place(sc, &in, err);
    df_instruction_release(&in);
    return r;
}

/* One logical line starting with the physical line l[0..n). */
static int logical_line(struct scanner *sc, const char *l, size_t n, struct gantry_error **err)
{
    if (sc->line == 1 && n >= 3 && memcmp(l, "\xEF\xBB\xBF", 3) == 0)
        l += 3, n -= 3;
    size_t lead = df_space_prefix(l, n);
    l += lead, n -= lead;
    if (directive(sc, l, n, err) < 0)
        return -1;
    if (n && l[0] == '#')
        n = 0;
    size_t start = sc->line;
    bool cont = continues(sc->df->escape, l, &n);
    if (!cont && n == 0)
        return 0;
    _cleanup_buf_ struct gantry_buf b = GANTRY_BUF_INIT;
    df_put(&b, l, n);
    if (cont && continuation(sc, &b, start, err) < 0)
        return -1;
    return instruction(sc, &b, start, err);
}

static int scan_all(struct scanner *sc, struct gantry_error **err)
{
    const char *l;
    size_t raw, n;
    int r;
    while ((r = read_line(sc, &l, &raw, &n, err)) > 0)
        if (logical_line(sc, l, n, err) < 0)
            return -1;
    if (r < 0)
        return -1;
    if (sc->df->n_stages == 0 && sc->df->n_global_args == 0)
        return df_error(err, sc->name, 0, "file with no instructions");
    if (sc->df->n_stages == 0)
        return df_error(err, sc->name, 0, "dockerfile contains no stages to build");
    return 0;
}

int gantry_dockerfile_parse(const char *text, size_t len,
                            const struct gantry_dockerfile_parse_opts *opts,
                            struct gantry_dockerfile **out, struct gantry_error **err)
{
    struct gantry_dockerfile *df = xcalloc(1, sizeof(*df));
    df->name = xstrdup(opts && opts->name ? opts->name : "Dockerfile");
    df->escape = '\\';
    struct scanner sc = {.name = df->name, .s = text, .len = len, .df = df};
    if (scan_all(&sc, err) < 0) {
        gantry_dockerfile_free(df);
        return -1;
    }
    df->n_lines = sc.line;
    *out = df;
    return 0;
}

/* The line limit and the NUL byte of read_line(), for a lone instruction. */
static int check_lone_line(const char *text, size_t len, const char *name,
                           struct gantry_error **err)
{
    size_t line = name ? 1 : 0;
    if (len > GANTRY_DOCKERFILE_LINE_MAX)
        return df_error(err, name, line, "dockerfile line greater than max allowed size of %d",
                        GANTRY_DOCKERFILE_LINE_MAX);
    if (memchr(text, '\0', len))
        return df_error(err, name, line, "unexpected NUL byte");
    if (memchr(text, '\n', len))
        return df_error(err, name, line, "an instruction must fit on one line");
    if (len == 0)
        return df_error(err, name, line, "no instruction");
    return 0;
}

int gantry_dockerfile_parse_instruction(const char *text, size_t len,
                                        const struct gantry_dockerfile_parse_opts *opts,
                                        struct gantry_dockerfile_instruction **out,
                                        struct gantry_error **err)
{
    const char *name = opts ? opts->name : NULL;
    size_t lead = df_space_prefix(text, len);
    text += lead, len -= lead;
    len -= df_space_suffix(text, len);
    if (check_lone_line(text, len, name, err) < 0)
        return -1;
    struct df_instr_ctx ctx = {.name = name, .escape = '\\', .line = name ? 1 : 0};
    struct gantry_dockerfile_instruction *in = xcalloc(1, sizeof(*in));
    if (df_parse_instruction(&ctx, text, len, in, err) < 0) {
        gantry_dockerfile_instruction_free(in);
        return -1;
    }
    in->line = in->end_line = 1;
    if (in->trigger)
        in->trigger->line = in->trigger->end_line = 1;
    *out = in;
    return 0;
}
