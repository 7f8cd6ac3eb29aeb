/*
 * Internals of the dockerfile module.
 *
 * Pipeline: scan.c cuts the text into physical lines, handles directives,
 * comments, continuations and heredoc bodies, and hands each logical line
 * to instr.c, which splits the keyword and flags (words.c), parses the
 * arguments per instruction (words.c, json.c) and checks them. lex.c is
 * BuildKit's shell lexer (expansion and word splitting), pattern.c the
 * ${V#pat} family, args.c and resolve.c the ARG scopes and FROM
 * resolution, ignore.c the .dockerignore matcher.
 *
 * Strings handled here are bytes; UTF-8 is decoded only where BuildKit
 * works on runes (white space, names, '?'). Invalid bytes pass through
 * unchanged.
 */
#ifndef GANTRY_DOCKERFILE_INTERNAL_H
#define GANTRY_DOCKERFILE_INTERNAL_H

#include <stdbool.h>

#include <gantry/dockerfile.h>

#include "util.h"

/* Longest piece of user input quoted back in a message. */
#define DF_QUOTE_MAX 200

/* Rune value given to a byte that is not valid UTF-8 (Go's RuneError). */
#define DF_RUNE_ERROR 0xFFFD

/* Decode the rune at s[0..n) (n > 0) into *r; returns its width (>= 1). */
size_t df_utf8_decode(const char *s, size_t n, int *r);

/* Go's unicode.IsSpace. */
bool df_is_space_rune(int r);

/* Bytes of leading / trailing Go white space (rune-wise) in s[0..n). */
size_t df_space_prefix(const char *s, size_t n);
size_t df_space_suffix(const char *s, size_t n);

/* Copy of s[0..n) for a message: at most DF_QUOTE_MAX bytes, control bytes
 * as '?', "..." when cut. Caller frees. */
char *df_quote(const char *s, size_t n);

/* Append to an unbounded buffer; out of memory aborts. */
void df_put(struct gantry_buf *b, const void *s, size_t n);
void df_putc(struct gantry_buf *b, char c);
void df_puts(struct gantry_buf *b, const char *s);

/* Append s (taken) to the array *v of *n strings. */
void df_strv_push(char ***v, size_t *n, char *s);

/* "<name>:<line>: <message>" as GANTRY_E_PARSE (line 0: "<name>: ...";
 * name NULL: the message alone, for a lone instruction). */
int df_error(struct gantry_error **err, const char *name, size_t line, const char *fmt, ...)
    GANTRY_PRINTF(4, 5);

/* Free the members of an instruction (not the struct itself). */
void df_instruction_release(struct gantry_dockerfile_instruction *in);

/* ---- lex.c ---- */

/* The result of one lexer run: the string, and the words when asked. */
struct df_lex_result {
    char *str;
    char **words;
    size_t n_words;
};

/*
 * Run BuildKit's lexer on word[0..len) with opts. On failure returns -1
 * with *code and *msg (caller frees) set; str/words are left NULL.
 */
int df_lex(const char *word, size_t len, const struct gantry_dockerfile_expand_opts *opts,
           bool want_words, struct df_lex_result *res, enum gantry_error_code *code, char **msg);

/* Syntax check of a word the builder will expand: every variable is
 * taken as set, so only quoting and ${} syntax errors remain. */
int df_check_word(const char *word, char escape, const char *name, size_t line,
                  struct gantry_error **err);

/* ---- pattern.c (${V#pat}, ${V%pat}, ${V/pat/repl}) ---- */

struct df_pattern;

/* Compile a shell pattern; NULL with *msg (caller frees) on error. */
struct df_pattern *df_pattern_compile(const char *pat, char **msg);
void df_pattern_free(struct df_pattern *p);

/* value without the shortest (or longest) prefix / suffix matching p. */
char *df_pattern_trim_prefix(const struct df_pattern *p, const char *value, bool longest);
char *df_pattern_trim_suffix(const struct df_pattern *p, const char *value, bool longest);
/* value with the first (or every) match of p replaced, Go's regexp
 * ReplaceAllString rules, $0 / ${0} in repl meaning the match. */
char *df_pattern_replace(const struct df_pattern *p, const char *value, const char *repl, bool all);

/* ---- json.c ---- */

enum df_json_result {
    DF_JSON_STRINGS = 0,     /* a JSON array of strings: *out filled */
    DF_JSON_NOT_ARRAY = 1,   /* not a (valid) JSON array: shell form */
    DF_JSON_NOT_STRINGS = 2, /* valid JSON, an element is not a string */
    DF_JSON_NUL = 3,         /* a string holds \u0000 */
};

/* Parse s[0..n) as BuildKit's parseJSON does (leading white space allowed). */
enum df_json_result df_json_strings(const char *s, size_t n, char ***out, size_t *n_out);

/* ---- words.c (parser-level splitting, BuildKit's line_parsers.go) ---- */

/* Go's unicode.IsSpace applied to one byte, as splitCommand does. */
bool df_is_space_byte(unsigned char c);

/* The keyword and the rest (after "[\t\v\f\r ]+") of a trimmed line. */
void df_split_command(const char *line, size_t len, size_t *kw_len, size_t *rest_off);

/* BuildKit's extractBuilderFlags: the "--x" words (quotes and '\' removed)
 * and the offset of the remaining arguments in rest. */
void df_extract_flags(const char *rest, size_t len, char ***flags, size_t *n_flags,
                      size_t *args_off);

/* BuildKit's parseWords (quotes and escapes kept in the words). */
void df_parse_words(const char *s, size_t n, char escape, char ***words, size_t *n_words);

/* Split on "[\t\v\f\r ]+" (regexp.Split(s, max); max -1 = all). */
void df_split_ws(const char *s, size_t n, int max, char ***out, size_t *n_out);

/* ---- heredoc.c ---- */

/* A heredoc word "<<EOF", "<<-'EOF'", "3<<EOF"...: 1 and *h filled (name,
 * expand, chomp, fd; no content), 0 when word is not one, -1 with *msg
 * (caller frees) when its delimiter does not lex. */
int df_heredoc_parse_word(const char *word, struct gantry_dockerfile_heredoc *h, char **msg);

/* The heredocs a logical line opens, in order (BuildKit heredocsFromLine). */
int df_heredocs_from_line(const char *line, struct gantry_dockerfile_heredoc **out, size_t *n,
                          char **msg);

/* Remove leading tabs of every line (<<-). Returns a new string. */
char *df_heredoc_chomp(const char *s);

/* ---- instr.c ---- */

struct df_instr_ctx {
    const char *name; /* the Dockerfile's name, for messages */
    char escape;
    size_t line;
};

/* Parse one logical line into *out (line numbers set by the caller). */
int df_parse_instruction(const struct df_instr_ctx *ctx, const char *line, size_t len,
                         struct gantry_dockerfile_instruction *out, struct gantry_error **err);

/* Whether heredocs of the line belong to this instruction (RUN, COPY, ADD
 * in shell form, directly or as an ONBUILD trigger). */
bool df_instruction_takes_heredocs(const struct gantry_dockerfile_instruction *in);

/* The value of key (case-insensitive, the last one) in a RUN --mount
 * value ("type=cache,target=/x,from=builder", CSV quoting), or NULL.
 * Caller frees. */
char *df_mount_value(const char *mount, const char *key);

/* Levenshtein distance, capped: returns at most cap + 1. */
size_t df_edit_distance(const char *a, const char *b, size_t cap);

#endif
