/*
 * Heredocs (BuildKit parser.go): which words of a line open one, what the
 * delimiter is, whether the body is expanded, and "<<-" tab stripping.
 */
#include "dockerfile_internal.h"

/* "^(\d*)<<(-?)": the length of that prefix, or 0. */
static size_t heredoc_prefix(const char *w, unsigned *fd, bool *chomp)
{
    size_t i = 0;
    unsigned long v = 0;
    while (w[i] >= '0' && w[i] <= '9') {
        /* ParseUint errors are ignored by BuildKit: the fd is then 0. */
        v = v > 0xFFFFFFFFul ? v : v * 10 + (unsigned long)(w[i] - '0');
        i++;
    }
    if (w[i] != '<' || w[i + 1] != '<')
        return 0;
    i += 2;
    *chomp = w[i] == '-';
    if (*chomp)
        i++;
    *fd = v > 0xFFFFFFFFul ? 0 : (unsigned)v;
    return i;
}

static size_t count_quotes(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\'' || *s == '"';
    return n;
}

static int lex_words(const char *s, bool raw_quotes, char ***v, size_t *n, char **msg)
{
    struct gantry_dockerfile_expand_opts o = {.raw_quotes = raw_quotes, .skip_unset = true};
    struct df_lex_result res = {0};
    enum gantry_error_code code;
    if (df_lex(s, strlen(s), &o, true, &res, &code, msg) < 0)
        return -1;
    free(res.str);
    *v = res.words;
    *n = res.n_words;
    return 0;
}

int df_heredoc_parse_word(const char *word, struct gantry_dockerfile_heredoc *h, char **msg)
{
    unsigned fd = 0;
    bool chomp = false;
    size_t pre = heredoc_prefix(word, &fd, &chomp);
    const char *rest = word + pre;
    if (!pre || !*rest || strchr(rest, '<'))
        return 0;
    char **w = NULL, **raw = NULL;
    size_t nw = 0, nraw = 0;
    if (lex_words(rest, false, &w, &nw, msg) < 0)
        return -1;
    if (nw != 1) {
        gantry_dockerfile_strv_free(w, nw);
        return 0;
    }
    if (lex_words(rest, true, &raw, &nraw, msg) < 0) {
        gantry_dockerfile_strv_free(w, nw);
        return -1;
    }
    int r = 1;
    if (nraw != nw) {
        _cleanup_free_ char *q = df_quote(rest, strlen(rest));
        *msg = xasprintf("internal lexing of heredoc produced inconsistent results: %s", q);
        r = -1;
    } else {
        /* A quote anywhere in the delimiter turns expansion off. */
        h->expand = count_quotes(w[0]) == count_quotes(raw[0]);
        h->chomp = chomp;
        h->fd = fd;
        h->name = xstrdup(w[0]);
        h->content = NULL;
    }
    gantry_dockerfile_strv_free(w, nw);
    gantry_dockerfile_strv_free(raw, nraw);
    return r;
}

/* "<<", "<<-", "3<<": an operator separated from its delimiter. */
static bool bare_operator(const char *w)
{
    unsigned fd;
    bool chomp;
    size_t pre = heredoc_prefix(w, &fd, &chomp);
    return pre && w[pre] == '\0';
}

int df_heredocs_from_line(const char *line, struct gantry_dockerfile_heredoc **out, size_t *n,
                          char **msg)
{
    struct gantry_dockerfile_expand_opts o = {
        .raw_quotes = true, .raw_escapes = true, .skip_unset = true};
    struct df_lex_result res = {0};
    enum gantry_error_code code;
    _cleanup_free_ char *lexmsg = NULL;
    *out = NULL;
    *n = 0;
    /* A line that does not lex has no heredocs (BuildKit ignores the error). */
    if (df_lex(line, strlen(line), &o, true, &res, &code, &lexmsg) < 0)
        return 0;
    free(res.str);
    int r = 0;
    for (size_t i = 0; i < res.n_words && r == 0; i++) {
        _cleanup_free_ char *word = NULL;
        if (bare_operator(res.words[i]) && i + 1 < res.n_words) {
            word = xasprintf("%s %s", res.words[i], res.words[i + 1]);
            i++;
        } else {
            word = xstrdup(res.words[i]);
        }
        struct gantry_dockerfile_heredoc h = {0};
        r = df_heredoc_parse_word(word, &h, msg);
        if (r == 1) {
            *out = xrealloc(*out, (*n + 1) * sizeof(**out));
            (*out)[(*n)++] = h;
            r = 0;
        }
    }
    gantry_dockerfile_strv_free(res.words, res.n_words);
    if (r < 0) {
        for (size_t i = 0; i < *n; i++)
            free((*out)[i].name);
        free(*out);
        *out = NULL;
        *n = 0;
    }
    return r;
}

char *df_heredoc_chomp(const char *s)
{
    _cleanup_buf_ struct gantry_buf b = GANTRY_BUF_INIT;
    bool bol = true;
    for (; *s; s++) {
        if (bol && *s == '\t')
            continue;
        bol = *s == '\n';
        df_putc(&b, *s);
    }
    return gantry_buf_detach(&b, NULL);
}
