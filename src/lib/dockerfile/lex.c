/*
 * Variable expansion and word splitting with the semantics of BuildKit's
 * shell lexer (frontend/dockerfile/shell/lex.go): the same special
 * characters, the same error cases, the same quirks (an escape at the end
 * of a word is dropped, "$$" is an unset variable, "${V:=w}" is refused).
 * Runes are decoded where BuildKit looks at runes; bytes that are not
 * UTF-8 are copied unchanged where Go would write U+FFFD.
 */
#include "dockerfile_internal.h"

#define LEX_EOF (-1)

struct lexer {
    const char *s;
    size_t len;
    size_t pos;
    const struct gantry_dockerfile_expand_opts *o;
    int escape;
    bool raw_escapes;
    enum gantry_error_code code;
    char *msg;
};

/* BuildKit's wordsStruct: the words of ProcessWords, built on the way. */
struct words {
    struct gantry_buf word;
    bool in_word;
    char **v;
    size_t n;
};

static int peek(const struct lexer *lx)
{
    if (lx->pos >= lx->len)
        return LEX_EOF;
    int r;
    df_utf8_decode(lx->s + lx->pos, lx->len - lx->pos, &r);
    return r;
}

/* Consume one rune; *at and *w give its bytes. */
static int next(struct lexer *lx, size_t *at, size_t *w)
{
    if (lx->pos >= lx->len) {
        *at = lx->pos;
        *w = 0;
        return LEX_EOF;
    }
    int r;
    *at = lx->pos;
    *w = df_utf8_decode(lx->s + lx->pos, lx->len - lx->pos, &r);
    lx->pos += *w;
    return r;
}

GANTRY_PRINTF(3, 4)
static int lex_fail(struct lexer *lx, enum gantry_error_code code, const char *fmt, ...)
{
    va_list ap;
    free(lx->msg);
    lx->msg = NULL;
    va_start(ap, fmt);
    lx->msg = xvasprintf(fmt, ap);
    va_end(ap);
    /* Messages quote pieces of the word: keep them on one line. */
    for (char *c = lx->msg; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = '?';
    lx->code = code;
    return -1;
}

static void words_push(struct words *w)
{
    df_strv_push(&w->v, &w->n, gantry_buf_detach(&w->word, NULL));
    w->in_word = false;
}

static void words_add_raw(struct words *w, const char *s, size_t n)
{
    if (!w)
        return;
    df_put(&w->word, s, n);
    w->in_word = true;
}

static void words_add_char(struct words *w, int r, const char *s, size_t n)
{
    if (!w)
        return;
    if (!df_is_space_rune(r)) {
        words_add_raw(w, s, n);
        return;
    }
    if (w->in_word && w->word.len)
        words_push(w);
}

/* Characters of an expanded value: white space splits words. */
static void words_add_string(struct words *w, const char *s, size_t n)
{
    for (size_t i = 0; w && i < n;) {
        int r;
        size_t k = df_utf8_decode(s + i, n - i, &r);
        words_add_char(w, r, s + i, k);
        i += k;
    }
}

static bool lookup(const struct lexer *lx, const char *name, const char **value)
{
    *value = "";
    if (!lx->o->lookup)
        return false;
    const char *v = NULL;
    if (!lx->o->lookup(lx->o->user, name, &v))
        return false;
    *value = v ? v : "";
    return true;
}

static bool is_name_letter(int r)
{
    if (r < 0x80)
        return (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z');
    /* Non-ASCII runes count as letters (Go asks unicode.IsLetter). */
    return r != DF_RUNE_ERROR && !df_is_space_rune(r);
}

static bool is_digit(int r)
{
    return r >= '0' && r <= '9';
}

/* POSIX special parameters: each a one-character name. */
static bool is_special_param(int r)
{
    return r == '@' || r == '*' || r == '#' || r == '?' || r == '-' || r == '$' || r == '!' ||
           r == '0';
}

static void process_name(struct lexer *lx, struct gantry_buf *name)
{
    size_t at, w;
    for (int r = peek(lx); r != LEX_EOF; r = peek(lx)) {
        if (name->len == 0 && is_digit(r)) {
            while (is_digit(peek(lx))) {
                next(lx, &at, &w);
                df_put(name, lx->s + at, w);
            }
            return;
        }
        if (name->len == 0 && is_special_param(r)) {
            next(lx, &at, &w);
            df_put(name, lx->s + at, w);
            return;
        }
        if (!is_name_letter(r) && !is_digit(r) && r != '_')
            return;
        next(lx, &at, &w);
        df_put(name, lx->s + at, w);
    }
}

static int stop_on(struct lexer *lx, int stop, bool raw_escapes, struct gantry_buf *out,
                   struct words *w);

static int single_quote(struct lexer *lx, struct gantry_buf *out)
{
    size_t at, w;
    next(lx, &at, &w);
    if (lx->o->raw_quotes)
        df_putc(out, '\'');
    for (;;) {
        int r = next(lx, &at, &w);
        if (r == LEX_EOF)
            return lex_fail(lx, GANTRY_E_PARSE,
                            "unexpected end of statement while looking for matching single-quote");
        if (r == '\'') {
            if (lx->o->raw_quotes)
                df_putc(out, '\'');
            return 0;
        }
        df_put(out, lx->s + at, w);
    }
}

static int dollar(struct lexer *lx, struct gantry_buf *out);

static int double_quote(struct lexer *lx, struct gantry_buf *out)
{
    size_t at, w;
    next(lx, &at, &w);
    if (lx->o->raw_quotes)
        df_putc(out, '"');
    for (;;) {
        int p = peek(lx);
        if (p == LEX_EOF)
            return lex_fail(lx, GANTRY_E_PARSE,
                            "unexpected end of statement while looking for matching double-quote");
        if (p == '"') {
            next(lx, &at, &w);
            if (lx->o->raw_quotes)
                df_putc(out, '"');
            return 0;
        }
        if (p == '$') {
            if (dollar(lx, out) < 0)
                return -1;
            continue;
        }
        int r = next(lx, &at, &w);
        if (r == lx->escape) {
            if (lx->raw_escapes)
                df_put(out, lx->s + at, w);
            int q = peek(lx);
            /* An escape before the end is dropped; the quote stays open. */
            if (q == LEX_EOF)
                continue;
            /* Only ", $ and the escape itself can be escaped in "..." */
            if (q == '"' || q == '$' || q == lx->escape)
                next(lx, &at, &w);
        }
        df_put(out, lx->s + at, w);
    }
}

/* ${name/pattern/replacement} and ${name//pattern/replacement} */
static int substitute(struct lexer *lx, const char *name, struct gantry_buf *out)
{
    size_t at, w;
    bool all = peek(lx) == '/';
    if (all)
        next(lx, &at, &w);
    _cleanup_buf_ struct gantry_buf pat = GANTRY_BUF_INIT;
    _cleanup_buf_ struct gantry_buf repl = GANTRY_BUF_INIT;
    if (stop_on(lx, '/', true, &pat, NULL) < 0) {
        if (peek(lx) == LEX_EOF)
            return lex_fail(lx, GANTRY_E_PARSE, "syntax error: missing '/' in ${}");
        return -1;
    }
    if (stop_on(lx, '}', true, &repl, NULL) < 0) {
        if (peek(lx) == LEX_EOF)
            return lex_fail(lx, GANTRY_E_PARSE, "syntax error: missing '}'");
        return -1;
    }
    const char *value;
    bool set = lookup(lx, name, &value);
    if (lx->o->skip_unset && !set) {
        /* BuildKit writes one '/' back even for "//". */
        df_puts(out, "${");
        df_puts(out, name);
        df_putc(out, '/');
        df_put(out, pat.data, pat.len);
        df_putc(out, '/');
        df_put(out, repl.data, repl.len);
        df_putc(out, '}');
        return 0;
    }
    _cleanup_free_ char *msg = NULL;
    struct df_pattern *p = df_pattern_compile(pat.data, &msg);
    if (!p)
        return lex_fail(lx, GANTRY_E_PARSE, "invalid pattern (%s) in substitution: %s", pat.data,
                        msg);
    _cleanup_free_ char *res = df_pattern_replace(p, value, repl.data, all);
    df_pattern_free(p);
    df_puts(out, res);
    return 0;
}

static int trim(struct lexer *lx, int op, const char *word, const char *value,
                struct gantry_buf *out)
{
    bool longest = word[0] == (char)op;
    if (longest)
        word++;
    _cleanup_free_ char *msg = NULL;
    struct df_pattern *p = df_pattern_compile(word, &msg);
    if (!p)
        return lex_fail(lx, GANTRY_E_PARSE, "invalid pattern (%s) in substitution: %s", word, msg);
    _cleanup_free_ char *res = op == '%' ? df_pattern_trim_suffix(p, value, longest)
                                         : df_pattern_trim_prefix(p, value, longest);
    df_pattern_free(p);
    df_puts(out, res);
    return 0;
}

static int required(struct lexer *lx, const char *name, const char *word, const char *why)
{
    return lex_fail(lx, GANTRY_E_INVALID_ARG, "%s: %s", name, *word ? word : why);
}

/* ${name<op>word} with op one of - + ? # % (after an optional ':'). */
static int modifier(struct lexer *lx, const char *name, int op, const char *ops, bool null_unset,
                    struct gantry_buf *out)
{
    _cleanup_buf_ struct gantry_buf word = GANTRY_BUF_INIT;
    if (stop_on(lx, '}', op == '#' || op == '%', &word, NULL) < 0) {
        if (peek(lx) == LEX_EOF)
            return lex_fail(lx, GANTRY_E_PARSE, "syntax error: missing '}'");
        return -1;
    }
    const char *value;
    bool set = lookup(lx, name, &value);
    if (lx->o->skip_unset && !set) {
        df_puts(out, "${");
        df_puts(out, name);
        df_puts(out, ops);
        df_put(out, word.data, word.len);
        df_putc(out, '}');
        return 0;
    }
    bool empty = !set || (null_unset && !*value);
    switch (op) {
    case '-':
        df_puts(out, empty ? word.data : value);
        return 0;
    case '+':
        df_puts(out, empty ? "" : word.data);
        return 0;
    case '?':
        if (!set)
            return required(lx, name, word.data, "is not allowed to be unset");
        if (empty)
            return required(lx, name, word.data, "is not allowed to be empty");
        df_puts(out, value);
        return 0;
    case '#':
    case '%':
        return trim(lx, op, word.data, value, out);
    default:
        return lex_fail(lx, GANTRY_E_PARSE, "unsupported modifier (%s) in substitution", ops);
    }
}

/* After "${name": the '}' or the operator. */
static int braced(struct lexer *lx, const char *name, struct gantry_buf *out)
{
    size_t at, w;
    int ch = next(lx, &at, &w);
    if (ch == LEX_EOF)
        return lex_fail(lx, GANTRY_E_PARSE, "syntax error: missing '}'");
    if (ch == '}') {
        const char *value;
        bool set = lookup(lx, name, &value);
        if (!set && lx->o->skip_unset) {
            df_puts(out, "${");
            df_puts(out, name);
            df_putc(out, '}');
        } else {
            df_puts(out, value);
        }
        return 0;
    }
    _cleanup_buf_ struct gantry_buf ops = GANTRY_BUF_INIT;
    df_put(&ops, lx->s + at, w);
    if (ch == ':') {
        ch = next(lx, &at, &w);
        df_put(&ops, ch == LEX_EOF ? "\xEF\xBF\xBD" : lx->s + at, ch == LEX_EOF ? 3 : w);
        return modifier(lx, name, ch, ops.data, true, out);
    }
    if (ch == '+' || ch == '-' || ch == '?' || ch == '#' || ch == '%')
        return modifier(lx, name, ch, ops.data, false, out);
    if (ch == '/')
        return substitute(lx, name, out);
    return lex_fail(lx, GANTRY_E_PARSE, "unsupported modifier (%s) in substitution", ops.data);
}

static int dollar(struct lexer *lx, struct gantry_buf *out)
{
    size_t at, w;
    next(lx, &at, &w);
    _cleanup_buf_ struct gantry_buf name = GANTRY_BUF_INIT;
    if (peek(lx) != '{') {
        process_name(lx, &name);
        if (name.len == 0) {
            df_putc(out, '$');
            return 0;
        }
        const char *value;
        bool set = lookup(lx, name.data, &value);
        if (!set && lx->o->skip_unset) {
            df_putc(out, '$');
            df_put(out, name.data, name.len);
        } else {
            df_puts(out, value);
        }
        return 0;
    }
    next(lx, &at, &w);
    int p = peek(lx);
    if (p == LEX_EOF)
        return lex_fail(lx, GANTRY_E_PARSE, "syntax error: missing '}'");
    if (p == '{' || p == '}' || p == ':')
        return lex_fail(lx, GANTRY_E_PARSE, "syntax error: bad substitution");
    process_name(lx, &name);
    return braced(lx, name.data, out);
}

/* A character outside quotes and '$'. Returns 1 when an escape ends the
 * input (BuildKit stops there), else 0. */
static int plain(struct lexer *lx, struct gantry_buf *out, struct words *w)
{
    size_t at, n;
    int r = next(lx, &at, &n);
    if (r != lx->escape) {
        words_add_char(w, r, lx->s + at, n);
        df_put(out, lx->s + at, n);
        return 0;
    }
    if (lx->raw_escapes) {
        words_add_raw(w, lx->s + at, n);
        df_put(out, lx->s + at, n);
    }
    if (next(lx, &at, &n) == LEX_EOF)
        return 1;
    words_add_raw(w, lx->s + at, n);
    df_put(out, lx->s + at, n);
    return 0;
}

static int special(struct lexer *lx, int ch, struct gantry_buf *out, struct words *w)
{
    _cleanup_buf_ struct gantry_buf tmp = GANTRY_BUF_INIT;
    int r = ch == '$'    ? dollar(lx, &tmp)
            : ch == '\'' ? single_quote(lx, &tmp)
                         : double_quote(lx, &tmp);
    if (r < 0)
        return -1;
    df_put(out, tmp.data, tmp.len);
    if (ch == '$')
        words_add_string(w, tmp.data, tmp.len);
    else
        words_add_raw(w, tmp.data, tmp.len);
    return 0;
}

static int stop_on_loop(struct lexer *lx, int stop, struct gantry_buf *out, struct words *w)
{
    for (int ch = peek(lx); ch != LEX_EOF; ch = peek(lx)) {
        if (stop != LEX_EOF && ch == stop) {
            size_t at, n;
            next(lx, &at, &n);
            return 0;
        }
        bool quote = !lx->o->skip_quotes && (ch == '\'' || ch == '"');
        if (ch == '$' || quote) {
            if (special(lx, ch, out, w) < 0)
                return -1;
            continue;
        }
        if (plain(lx, out, w))
            break;
    }
    if (stop != LEX_EOF)
        return lex_fail(lx, GANTRY_E_PARSE,
                        "unexpected end of statement while looking for matching %c", stop);
    return 0;
}

/* Process until stop (LEX_EOF: the end); raw_escapes applies meanwhile. */
static int stop_on(struct lexer *lx, int stop, bool raw_escapes, struct gantry_buf *out,
                   struct words *w)
{
    bool saved = lx->raw_escapes;
    lx->raw_escapes = raw_escapes;
    int r = stop_on_loop(lx, stop, out, w);
    lx->raw_escapes = saved;
    return r;
}

int df_lex(const char *word, size_t len, const struct gantry_dockerfile_expand_opts *opts,
           bool want_words, struct df_lex_result *res, enum gantry_error_code *code, char **msg)
{
    static const struct gantry_dockerfile_expand_opts defaults = {0};
    struct lexer lx = {
        .s = word,
        .len = len,
        .o = opts ? opts : &defaults,
    };
    lx.escape = lx.o->escape ? (unsigned char)lx.o->escape : '\\';
    lx.raw_escapes = lx.o->raw_escapes;
    /* Go's text/scanner skips a byte order mark at the start. */
    if (len >= 3 && memcmp(word, "\xEF\xBB\xBF", 3) == 0)
        lx.pos = 3;
    _cleanup_buf_ struct gantry_buf out = GANTRY_BUF_INIT;
    struct words w = {.word = GANTRY_BUF_INIT};
    int r = stop_on(&lx, LEX_EOF, lx.raw_escapes, &out, want_words ? &w : NULL);
    if (r == 0 && w.word.len)
        words_push(&w);
    gantry_buf_release(&w.word);
    if (r < 0) {
        gantry_dockerfile_strv_free(w.v, w.n);
        *code = lx.code;
        *msg = lx.msg;
        return -1;
    }
    res->str = gantry_buf_detach(&out, NULL);
    res->words = w.v;
    res->n_words = w.n;
    return 0;
}

static int expand_common(const char *word, size_t len,
                         const struct gantry_dockerfile_expand_opts *opts, bool want_words,
                         struct df_lex_result *res, struct gantry_error **err)
{
    if (memchr(word, '\0', len))
        return gantry_error_set(err, GANTRY_E_PARSE, 0, "failed to process word: NUL byte");
    enum gantry_error_code code = GANTRY_E_PARSE;
    _cleanup_free_ char *msg = NULL;
    if (df_lex(word, len, opts, want_words, res, &code, &msg) == 0)
        return 0;
    _cleanup_free_ char *q = df_quote(word, len);
    return gantry_error_set(err, code, 0, "failed to process '%s': %s", q, msg);
}

int gantry_dockerfile_expand(const char *word, size_t len,
                             const struct gantry_dockerfile_expand_opts *opts, char **out,
                             struct gantry_error **err)
{
    struct df_lex_result res = {0};
    if (expand_common(word, len, opts, false, &res, err) < 0)
        return -1;
    *out = res.str;
    return 0;
}

int gantry_dockerfile_expand_words(const char *word, size_t len,
                                   const struct gantry_dockerfile_expand_opts *opts, char ***words,
                                   size_t *n_words, struct gantry_error **err)
{
    struct df_lex_result res = {0};
    if (expand_common(word, len, opts, true, &res, err) < 0)
        return -1;
    free(res.str);
    *words = res.words;
    *n_words = res.n_words;
    return 0;
}

static bool everything_set(void *user, const char *name, const char **value)
{
    (void)user;
    (void)name;
    *value = "x";
    return true;
}

int df_check_word(const char *word, char escape, const char *name, size_t line,
                  struct gantry_error **err)
{
    struct gantry_dockerfile_expand_opts o = {.lookup = everything_set, .escape = escape};
    struct df_lex_result res = {0};
    enum gantry_error_code code = GANTRY_E_PARSE;
    _cleanup_free_ char *msg = NULL;
    if (df_lex(word, strlen(word), &o, false, &res, &code, &msg) == 0) {
        free(res.str);
        return 0;
    }
    _cleanup_free_ char *q = df_quote(word, strlen(word));
    return df_error(err, name, line, "failed to process '%s': %s", q, msg);
}
