/*
 * Parser-level splitting of a logical line, after BuildKit's
 * split_command.go and line_parsers.go: keyword, "--flags", words with
 * their quotes kept, white-space separated lists. Nothing is expanded here.
 */
#include "dockerfile_internal.h"

bool df_is_space_byte(unsigned char c)
{
    /* BuildKit casts bytes to runes here, so 0x85 and 0xA0 count. */
    return c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r' || c == ' ' || c == 0x85 ||
           c == 0xA0;
}

/* [\t\v\f\r ] (BuildKit's reWhitespace and tokenWhitespace). */
static bool is_re_ws(char c)
{
    return c == '\t' || c == '\v' || c == '\f' || c == '\r' || c == ' ';
}

void df_split_command(const char *line, size_t len, size_t *kw_len, size_t *rest_off)
{
    size_t i = 0;
    while (i < len && !is_re_ws(line[i]))
        i++;
    *kw_len = i;
    while (i < len && is_re_ws(line[i]))
        i++;
    *rest_off = i;
}

struct flag_scan {
    const char *s;
    size_t len;
    struct gantry_buf word;
    bool blank_ok;
    char **v;
    size_t n;
};

/* The end of a flag word: keep it unless it is "--" or empty. */
static void flag_word_end(struct flag_scan *fs)
{
    if ((fs->blank_ok || fs->word.len) && strcmp(fs->word.data, "--") != 0)
        df_strv_push(&fs->v, &fs->n, xstrdup(fs->word.data));
    gantry_buf_reset(&fs->word);
    fs->blank_ok = false;
}

/* Scan one flag word starting at pos; returns the offset after it and
 * sets *stop when the word was "--" (the arguments start after it). */
static size_t scan_flag_word(struct flag_scan *fs, size_t pos, bool *stop)
{
    char quote = 0;
    for (; pos < fs->len; pos++) {
        char ch = fs->s[pos];
        if (!quote && df_is_space_byte((unsigned char)ch)) {
            *stop = strcmp(fs->word.data, "--") == 0;
            if (!*stop)
                flag_word_end(fs);
            return pos;
        }
        if (!quote && (ch == '\'' || ch == '"')) {
            quote = ch;
            fs->blank_ok = true;
            continue;
        }
        if (quote && ch == quote) {
            quote = 0;
            continue;
        }
        if (ch == '\\') {
            if (pos + 1 == fs->len)
                continue; /* a backslash at the end is dropped */
            ch = fs->s[++pos];
        }
        df_putc(&fs->word, ch);
    }
    *stop = false;
    flag_word_end(fs);
    return pos;
}

void df_extract_flags(const char *rest, size_t len, char ***flags, size_t *n_flags,
                      size_t *args_off)
{
    struct flag_scan fs = {.s = rest, .len = len, .word = GANTRY_BUF_INIT};
    size_t pos = 0;
    *args_off = len;
    while (pos < len) {
        if (df_is_space_byte((unsigned char)rest[pos])) {
            pos++;
            continue;
        }
        /* Only words starting with "--" are flags. */
        if (rest[pos] != '-' || pos + 1 == len || rest[pos + 1] != '-') {
            *args_off = pos;
            break;
        }
        bool stop = false;
        pos = scan_flag_word(&fs, pos, &stop);
        if (stop) {
            *args_off = pos;
            break;
        }
    }
    gantry_buf_release(&fs.word);
    *flags = fs.v;
    *n_flags = fs.n;
}

struct word_scan {
    struct gantry_buf b;
    bool blank_ok;
    char **v;
    size_t n;
};

static void word_end(struct word_scan *ws)
{
    if (ws->blank_ok || ws->b.len)
        df_strv_push(&ws->v, &ws->n, xstrdup(ws->b.data));
    gantry_buf_reset(&ws->b);
    ws->blank_ok = false;
}

/* One word of parseWords starting at pos (not white space). */
static size_t scan_word(struct word_scan *ws, const char *s, size_t n, size_t pos, char escape)
{
    int quote = 0;
    while (pos < n) {
        int ch;
        size_t w = df_utf8_decode(s + pos, n - pos, &ch);
        if (!quote && df_is_space_rune(ch))
            break;
        if (quote && ch == quote) {
            quote = 0;
        } else if (!quote && (ch == '\'' || ch == '"')) {
            quote = ch;
            ws->blank_ok = true;
        } else if (ch == (unsigned char)escape && quote != '\'') {
            if (pos + w == n) {
                pos += w; /* an escape at the end is dropped */
                break;
            }
            df_put(&ws->b, s + pos, w);
            pos += w;
            w = df_utf8_decode(s + pos, n - pos, &ch);
        }
        df_put(&ws->b, s + pos, w);
        pos += w;
    }
    word_end(ws);
    return pos;
}

void df_parse_words(const char *s, size_t n, char escape, char ***words, size_t *n_words)
{
    struct word_scan ws = {.b = GANTRY_BUF_INIT};
    for (size_t pos = 0; pos < n;) {
        int ch;
        size_t w = df_utf8_decode(s + pos, n - pos, &ch);
        if (df_is_space_rune(ch)) {
            pos += w;
            continue;
        }
        pos = scan_word(&ws, s, n, pos, escape);
    }
    gantry_buf_release(&ws.b);
    *words = ws.v;
    *n_words = ws.n;
}

void df_split_ws(const char *s, size_t n, int max, char ***out, size_t *n_out)
{
    char **v = NULL;
    size_t nv = 0, i = 0;
    for (;;) {
        size_t j = i;
        bool last = max > 0 && nv + 1 == (size_t)max;
        while (!last && j < n && !is_re_ws(s[j]))
            j++;
        if (last)
            j = n;
        df_strv_push(&v, &nv, xstrndup(s + i, j - i));
        if (j >= n)
            break;
        while (j < n && is_re_ws(s[j]))
            j++;
        i = j;
    }
    *out = v;
    *n_out = nv;
}
