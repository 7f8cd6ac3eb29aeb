/*
 * Template lexer, after Go's text/template/parse/lex.go, but pulled one
 * token at a time by the parser instead of running in a goroutine. Blanks
 * inside actions are not tokens: each token records whether blanks came
 * before it, which is all the parser needs ("$x.A" vs "$x .A").
 */
#include "template_int.h"

static const struct {
    const char *word;
    enum tpl_tok type;
} keywords[] = {
    {"if", TOK_IF},
    {"else", TOK_ELSE},
    {"end", TOK_END},
    {"range", TOK_RANGE},
    {"with", TOK_WITH},
    {"break", TOK_BREAK},
    {"continue", TOK_CONTINUE},
    {"define", TOK_DEFINE},
    {"template", TOK_TEMPLATE},
    {"block", TOK_BLOCK},
    {"true", TOK_BOOL},
    {"false", TOK_BOOL},
    {"nil", TOK_NIL},
};

void tpl_lex_init(struct tpl_lexer *lx, const char *s, size_t n)
{
    *lx = (struct tpl_lexer){.s = s, .n = n};
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Go's isAlphaNumeric; any non-ASCII byte counts as a letter. */
static bool is_alnum(unsigned char c)
{
    return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c >= 0x80;
}

static bool is_ident_start(unsigned char c)
{
    return is_alnum(c) && !(c >= '0' && c <= '9');
}

static bool at(const struct tpl_lexer *lx, size_t pos, const char *lit)
{
    size_t k = strlen(lit);
    return pos <= lx->n && lx->n - pos >= k && memcmp(lx->s + pos, lit, k) == 0;
}

/* " -}}" at pos: a closing delimiter that trims the following text. */
static bool at_trim_rdelim(const struct tpl_lexer *lx, size_t pos)
{
    return pos < lx->n && is_blank(lx->s[pos]) && at(lx, pos + 1, "-}}");
}

static void emit(struct tpl_lexer *lx, struct tpl_token *tok, enum tpl_tok type, size_t start)
{
    tok->type = type;
    tok->pos = start;
    tok->len = lx->pos - start;
}

static void GANTRY_PRINTF(4, 5)
    lex_error(struct tpl_lexer *lx, struct tpl_token *tok, size_t pos, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tok->msg, sizeof(tok->msg), fmt, ap);
    va_end(ap);
    tok->type = TOK_ERROR;
    tok->pos = pos;
    tok->len = 0;
    lx->done = true;
}

/* Go's %#U: U+0040 '@' (the character only when printable). */
static void describe_char(struct tpl_lexer *lx, size_t pos, char *out, size_t size)
{
    long r;
    size_t k = tpl_utf8_decode(lx->s + pos, lx->n - pos, &r);
    if (r < 0)
        r = 0xFFFD;
    if (r >= 0x20 && r != 0x7f && k == 1)
        snprintf(out, size, "U+%04lX '%c'", r, (char)r);
    else if (r >= 0xa0 && r != 0xFFFD)
        snprintf(out, size, "U+%04lX '%.*s'", r, (int)k, lx->s + pos);
    else
        snprintf(out, size, "U+%04lX", r);
}

/* Go's atTerminator: what may follow a field, variable or identifier. */
static bool at_terminator(const struct tpl_lexer *lx)
{
    if (lx->pos >= lx->n)
        return true;
    char c = lx->s[lx->pos];
    return is_blank(c) || c == '.' || c == ',' || c == '|' || c == ':' || c == ')' || c == '(' ||
           at(lx, lx->pos, "}}");
}

static void check_terminator(struct tpl_lexer *lx, struct tpl_token *tok)
{
    if (at_terminator(lx))
        return;
    char what[32];
    describe_char(lx, lx->pos, what, sizeof(what));
    lex_error(lx, tok, lx->pos, "bad character %s", what);
}

static void scan_word(struct tpl_lexer *lx)
{
    while (lx->pos < lx->n && is_alnum((unsigned char)lx->s[lx->pos]))
        lx->pos++;
}

/* ".A.B" chains after a field or variable: one token. */
static void scan_chain(struct tpl_lexer *lx)
{
    while (lx->pos + 1 < lx->n && lx->s[lx->pos] == '.' &&
           is_ident_start((unsigned char)lx->s[lx->pos + 1])) {
        lx->pos++;
        scan_word(lx);
    }
}

static void lex_field(struct tpl_lexer *lx, struct tpl_token *tok, size_t start)
{
    lx->pos++; /* '.' */
    if (lx->pos >= lx->n || !is_ident_start((unsigned char)lx->s[lx->pos])) {
        emit(lx, tok, TOK_DOT, start);
        return;
    }
    scan_word(lx);
    scan_chain(lx);
    emit(lx, tok, TOK_FIELD, start);
    check_terminator(lx, tok);
}

static void lex_variable(struct tpl_lexer *lx, struct tpl_token *tok, size_t start)
{
    lx->pos++; /* '$' */
    scan_word(lx);
    scan_chain(lx);
    emit(lx, tok, TOK_VARIABLE, start);
    check_terminator(lx, tok);
}

static void lex_ident(struct tpl_lexer *lx, struct tpl_token *tok, size_t start)
{
    scan_word(lx);
    emit(lx, tok, TOK_IDENT, start);
    for (size_t i = 0; i < ARRAY_SIZE(keywords); i++)
        if (strlen(keywords[i].word) == tok->len &&
            memcmp(keywords[i].word, lx->s + start, tok->len) == 0)
            tok->type = keywords[i].type;
    check_terminator(lx, tok);
}

static void accept_run(struct tpl_lexer *lx, const char *set)
{
    while (lx->pos < lx->n && lx->s[lx->pos] && strchr(set, lx->s[lx->pos]))
        lx->pos++;
}

static bool accept(struct tpl_lexer *lx, const char *set)
{
    if (lx->pos < lx->n && lx->s[lx->pos] && strchr(set, lx->s[lx->pos])) {
        lx->pos++;
        return true;
    }
    return false;
}

/* Go's scanNumber; the value is checked by the parser. */
static void lex_number(struct tpl_lexer *lx, struct tpl_token *tok, size_t start)
{
    const char *digits = "0123456789_";
    accept(lx, "+-");
    if (accept(lx, "0")) {
        if (accept(lx, "xX"))
            digits = "0123456789abcdefABCDEF_";
        else if (accept(lx, "oO"))
            digits = "01234567_";
        else if (accept(lx, "bB"))
            digits = "01_";
    }
    accept_run(lx, digits);
    if (accept(lx, "."))
        accept_run(lx, digits);
    if (strlen(digits) == 11 && accept(lx, "eE")) {
        accept(lx, "+-");
        accept_run(lx, "0123456789_");
    }
    if (strlen(digits) == 23 && accept(lx, "pP")) {
        accept(lx, "+-");
        accept_run(lx, "0123456789_");
    }
    if (lx->pos < lx->n && is_alnum((unsigned char)lx->s[lx->pos])) {
        lx->pos++;
        lex_error(lx, tok, start, "bad number syntax: \"%.*s\"", (int)(lx->pos - start),
                  lx->s + start);
        return;
    }
    emit(lx, tok, TOK_NUMBER, start);
}

/* "...", '...' (escapes checked by the parser) and `...`. */
static void lex_quote(struct tpl_lexer *lx, struct tpl_token *tok, size_t start)
{
    char q = lx->s[start];
    const char *what = q == '"'   ? "unterminated quoted string"
                       : q == '`' ? "unterminated raw quoted string"
                                  : "unterminated character constant";
    lx->pos++;
    for (;;) {
        if (lx->pos >= lx->n || (q != '`' && lx->s[lx->pos] == '\n')) {
            lex_error(lx, tok, start, "%s", what);
            return;
        }
        char c = lx->s[lx->pos++];
        if (c == q)
            break;
        if (c == '\\' && q != '`' && lx->pos < lx->n && lx->s[lx->pos] != '\n')
            lx->pos++;
    }
    emit(lx, tok, q == '"' ? TOK_STRING : q == '`' ? TOK_RAWSTRING : TOK_CHAR, start);
}

/* Single-character tokens; false when c is not one. */
static bool lex_punct(struct tpl_lexer *lx, struct tpl_token *tok, size_t start, char c)
{
    static const char punct[] = "|(),=";
    static const enum tpl_tok types[] = {TOK_PIPE, TOK_LPAREN, TOK_RPAREN, TOK_COMMA, TOK_ASSIGN};
    const char *p = strchr(punct, c);
    if (!c || !p)
        return false;
    if (c == ')' && lx->paren == 0) {
        lex_error(lx, tok, start, "unexpected right paren");
        return true;
    }
    lx->paren += c == '(' ? 1 : c == ')' ? -1 : 0;
    lx->pos++;
    emit(lx, tok, types[p - punct], start);
    return true;
}

static void lex_rdelim(struct tpl_lexer *lx, struct tpl_token *tok, bool trim)
{
    size_t start = lx->pos + (trim ? 2 : 0);
    if (lx->paren > 0) {
        lex_error(lx, tok, start, "unclosed left paren");
        return;
    }
    lx->pos = start + 2;
    lx->in_action = false;
    lx->trim_next = trim;
    emit(lx, tok, TOK_RDELIM, start);
}

static void lex_inside(struct tpl_lexer *lx, struct tpl_token *tok)
{
    while (lx->pos < lx->n && is_blank(lx->s[lx->pos]) && !at_trim_rdelim(lx, lx->pos)) {
        lx->pos++;
        tok->space_before = true;
    }
    if (at(lx, lx->pos, "}}") || at_trim_rdelim(lx, lx->pos)) {
        lex_rdelim(lx, tok, !at(lx, lx->pos, "}}"));
        return;
    }
    size_t start = lx->pos;
    if (start >= lx->n) {
        lex_error(lx, tok, start, "unclosed action");
        return;
    }
    unsigned char c = (unsigned char)lx->s[start];
    unsigned char c1 = start + 1 < lx->n ? (unsigned char)lx->s[start + 1] : 0;
    if (lex_punct(lx, tok, start, (char)c))
        return;
    if (c == ':') {
        if (c1 != '=') {
            lex_error(lx, tok, start, "expected :=");
            return;
        }
        lx->pos += 2;
        emit(lx, tok, TOK_DECLARE, start);
    } else if (c == '"' || c == '`' || c == '\'') {
        lex_quote(lx, tok, start);
    } else if (c == '$') {
        lex_variable(lx, tok, start);
    } else if (c == '.' && c1 >= '0' && c1 <= '9') {
        lex_number(lx, tok, start);
    } else if (c == '.') {
        lex_field(lx, tok, start);
    } else if (c == '+' || c == '-' || (c >= '0' && c <= '9')) {
        lex_number(lx, tok, start);
    } else if (is_ident_start(c)) {
        lex_ident(lx, tok, start);
    } else if (c > 0x20 && c < 0x7f) {
        lx->pos++;
        emit(lx, tok, TOK_OTHER, start);
    } else {
        char what[32];
        describe_char(lx, start, what, sizeof(what));
        lex_error(lx, tok, start, "unrecognized character in action: %s", what);
    }
}

/* A comment action (optionally trimmed): consumed, nothing emitted. */
static bool lex_comment(struct tpl_lexer *lx, struct tpl_token *tok, size_t open)
{
    const char *s = lx->s + lx->pos + 2;
    size_t left = lx->n - lx->pos - 2;
    const char *end = memmem(s, left, "*/", 2);
    if (!end) {
        lex_error(lx, tok, open, "unclosed comment");
        return false;
    }
    lx->pos = (size_t)(end - lx->s) + 2;
    bool trim = at_trim_rdelim(lx, lx->pos);
    if (!trim && !at(lx, lx->pos, "}}")) {
        lex_error(lx, tok, lx->pos, "comment ends before closing delimiter");
        return false;
    }
    lx->pos += trim ? 4 : 2;
    lx->trim_next = trim;
    return true;
}

/* Text up to the next "{{" (trimmed as the markers ask), then the delimiter. */
static void lex_text(struct tpl_lexer *lx, struct tpl_token *tok)
{
    for (;;) {
        size_t start = lx->pos;
        if (lx->trim_next) {
            while (start < lx->n && is_blank(lx->s[start]))
                start++;
            lx->trim_next = false;
            lx->pos = start;
        }
        const char *d = memmem(lx->s + start, lx->n - start, "{{", 2);
        size_t open = d ? (size_t)(d - lx->s) : lx->n;
        bool trim = d && at(lx, open + 2, "-") && open + 3 < lx->n && is_blank(lx->s[open + 3]);
        size_t end = open;
        while (trim && end > start && is_blank(lx->s[end - 1]))
            end--;
        if (end > start) {
            lx->pos = open;
            tok->type = TOK_TEXT;
            tok->pos = start;
            tok->len = end - start;
            return;
        }
        if (!d) {
            lx->pos = lx->n;
            tok->type = TOK_EOF;
            tok->pos = lx->n;
            tok->len = 0;
            lx->done = true;
            return;
        }
        lx->pos = open + (trim ? 4 : 2);
        if (!at(lx, lx->pos, "/*")) {
            lx->in_action = true;
            lx->paren = 0;
            tok->type = TOK_LDELIM;
            tok->pos = open;
            tok->len = lx->pos - open;
            return;
        }
        if (!lex_comment(lx, tok, open))
            return;
    }
}

void tpl_lex_next(struct tpl_lexer *lx, struct tpl_token *tok)
{
    if (lx->done) {
        *tok = lx->last;
        return;
    }
    memset(tok, 0, sizeof(*tok));
    if (lx->in_action)
        lex_inside(lx, tok);
    else
        lex_text(lx, tok);
    if (lx->done)
        lx->last = *tok;
}
