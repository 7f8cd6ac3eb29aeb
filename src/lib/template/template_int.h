/*
 * Internals of the template module: tokens, syntax tree, execution state
 * and the Go-compatible value formatting shared by the functions.
 *
 * Pipeline: lex.c (tokens, on demand) -> parse.c (tree in an arena owned
 * by the template) -> exec.c (walks the tree over a json_t) which calls
 * funcs.c (builtins) and print.c/printf.c (Go's fmt and encoding/json).
 *
 * Values during execution are json_t references; NULL stands for Go's
 * "invalid" value (a missing map key), printed as <no value>.
 */
#ifndef GANTRY_TEMPLATE_INT_H
#define GANTRY_TEMPLATE_INT_H

#include <jansson.h>
#include <stdbool.h>

#include <gantry/template.h>

#include "util.h"

static inline void tpl_json_decrefp(json_t **j)
{
    json_decref(*j);
}
#define _cleanup_tval_ __attribute__((cleanup(tpl_json_decrefp)))

/*
 * Append to a scratch buffer. An unbounded one can only fail on size_t
 * overflow (abort, like out of memory). A capped one keeps what fits and
 * then stays full: formatting code stops early when tpl_full(), and the
 * caller reports the value as too large (see tpl_exec.limit).
 */
static inline void tpl_put(struct gantry_buf *b, const void *s, size_t n)
{
    if (gantry_buf_add(b, s, n) == 0)
        return;
    if (!b->cap)
        oom();
    if (b->len < b->cap && gantry_buf_add(b, s, b->cap - b->len) < 0)
        oom();
}

static inline bool tpl_full(const struct gantry_buf *b)
{
    return b->cap && b->len >= b->cap;
}

static inline void tpl_puts(struct gantry_buf *b, const char *s)
{
    tpl_put(b, s, strlen(s));
}

static inline void tpl_putc(struct gantry_buf *b, char c)
{
    tpl_put(b, &c, 1);
}

/* ---- tokens (lex.c) ---- */

enum tpl_tok {
    TOK_EOF,
    TOK_ERROR,
    TOK_TEXT,
    TOK_LDELIM,
    TOK_RDELIM,
    TOK_FIELD,    /* .A or .A.B */
    TOK_VARIABLE, /* $, $x or $x.A.B */
    TOK_DOT,
    TOK_IDENT,
    TOK_STRING,
    TOK_RAWSTRING,
    TOK_CHAR,
    TOK_NUMBER,
    TOK_BOOL,
    TOK_NIL,
    TOK_PIPE,
    TOK_LPAREN,
    TOK_RPAREN,
    TOK_DECLARE,
    TOK_ASSIGN,
    TOK_COMMA,
    TOK_OTHER,   /* any other printable ASCII character */
    TOK_KEYWORD, /* keywords follow */
    TOK_IF = TOK_KEYWORD,
    TOK_ELSE,
    TOK_END,
    TOK_RANGE,
    TOK_WITH,
    TOK_BREAK,
    TOK_CONTINUE,
    TOK_DEFINE,
    TOK_TEMPLATE,
    TOK_BLOCK,
};

struct tpl_token {
    enum tpl_tok type;
    size_t pos, len;   /* span in the source */
    bool space_before; /* separated from the previous token by blanks */
    char msg[96];      /* TOK_ERROR: what is wrong */
};

struct tpl_lexer {
    const char *s;
    size_t n;
    size_t pos;
    bool in_action;
    bool trim_next; /* the last action ended with " -}}" */
    int paren;
    bool done; /* EOF or an error was returned: keep returning it */
    struct tpl_token last;
};

void tpl_lex_init(struct tpl_lexer *lx, const char *s, size_t n);
void tpl_lex_next(struct tpl_lexer *lx, struct tpl_token *tok);

/* ---- syntax tree (parse.c) ---- */

enum tpl_arg_type {
    TPL_ARG_FIELD,   /* .A.B: fields of dot */
    TPL_ARG_VAR,     /* $x.A.B */
    TPL_ARG_DOT,     /* . */
    TPL_ARG_NIL,     /* nil */
    TPL_ARG_FUNC,    /* function name */
    TPL_ARG_LITERAL, /* string, number, char, bool */
    TPL_ARG_PIPE,    /* ( pipeline ) */
    TPL_ARG_CHAIN,   /* (pipeline).A.B or func.A */
};

struct tpl_exec;

enum tpl_call { TPL_CALL_EAGER, TPL_CALL_AND, TPL_CALL_OR };

struct tpl_func {
    const char *name;
    int min_args;
    int max_args;       /* -1: variadic */
    enum tpl_call kind; /* and/or evaluate their arguments lazily, call is NULL */
    /* args[i] may be NULL (missing); *out gets a new reference or NULL. */
    int (*call)(struct tpl_exec *ex, json_t *const *args, size_t n, json_t **out);
};

struct tpl_pipe;

struct tpl_arg {
    enum tpl_arg_type type;
    size_t pos, end;
    const char *name; /* variable ("$x") or function name */
    const struct tpl_func *func;
    const char **fields;
    size_t n_fields;
    json_t *literal; /* borrowed from the template's literal pool */
    struct tpl_pipe *pipe;
    struct tpl_arg *base; /* TPL_ARG_CHAIN */
    struct tpl_arg *next;
};

struct tpl_cmd {
    size_t pos, end;
    struct tpl_arg *args;
    size_t n_args;
    struct tpl_cmd *next;
};

struct tpl_pipe {
    size_t pos, end;
    bool is_assign; /* $x = ... rather than $x := ... */
    const char *decl[2];
    size_t n_decl;
    struct tpl_cmd *cmds;
    size_t n_cmds;
};

enum tpl_node_type {
    TPL_TEXT,
    TPL_ACTION,
    TPL_IF,
    TPL_RANGE,
    TPL_WITH,
    TPL_BREAK,
    TPL_CONTINUE,
};

struct tpl_node {
    enum tpl_node_type type;
    size_t pos;
    const char *text; /* TPL_TEXT: points into the template's source copy */
    size_t len;
    struct tpl_pipe *pipe;
    struct tpl_node *list;
    struct tpl_node *else_list;
    struct tpl_node *next;
};

struct tpl_chunk {
    struct tpl_chunk *next;
    size_t used, size;
    max_align_t data[];
};

struct gantry_template {
    char *src; /* copy of the text */
    size_t len;
    struct tpl_chunk *arena;
    json_t *literals; /* array that owns every literal value */
    struct tpl_node *root;
};

void *tpl_alloc(struct gantry_template *t, size_t size);
char *tpl_strndup(struct gantry_template *t, const char *s, size_t n);
void tpl_linecol(const char *src, size_t pos, size_t *line, size_t *col);

/* ---- literals (literal.c) ---- */

/* A number token as Go reads it: -1 bad syntax, -2 overflows int64. */
int tpl_parse_number(const char *s, size_t n, json_t **out);
/* A "..." or `...` token (quotes included), appended to b; -1 bad escape. */
int tpl_unquote(const char *s, size_t n, struct gantry_buf *b);
/* A '...' token: its rune (or byte for \x and octal escapes). */
int tpl_unquote_char(const char *s, size_t n, long *r);

/* ---- execution (exec.c, funcs.c) ---- */

struct tpl_var {
    const char *name;
    json_t *value; /* owned; NULL = missing */
};

enum tpl_flow { TPL_FLOW_NORMAL, TPL_FLOW_BREAK, TPL_FLOW_CONTINUE };

struct tpl_exec {
    const struct gantry_template *t;
    struct gantry_buf *out;
    struct gantry_error **err;
    struct tpl_var *vars;
    size_t n_vars, alloc_vars;
    size_t at_pos, at_end; /* node being evaluated, for messages */
    size_t limit;          /* largest value or action output, in bytes */
    enum tpl_flow flow;
};

/* Values larger than this fail, when out itself is unbounded. */
#define TPL_VALUE_MAX (64u * 1024u * 1024u)

/* Set *ex->err to "template: L:C: executing at <node>: msg"; returns -1. */
int tpl_fail(struct tpl_exec *ex, const char *fmt, ...) GANTRY_PRINTF(2, 3);
/* The same with GANTRY_E_TOO_LARGE: a value outgrew ex->limit. */
int tpl_fail_size(struct tpl_exec *ex, const char *what);
/* A scratch buffer that can hold one value of at most ex->limit bytes. */
void tpl_scratch_init(const struct tpl_exec *ex, struct gantry_buf *b);

const struct tpl_func *tpl_func_lookup(const char *name, size_t len);
bool tpl_is_true(const json_t *v);

/* ---- Go formatting (print.c, printf.c) ---- */

/* Flags of one fmt verb. */
struct tpl_spec {
    int width, prec;
    bool has_width, has_prec;
    bool minus, plus, sharp, zero, space;
};

/* "string", "number", "bool", "array", "object", "null" (NULL: "missing"). */
const char *tpl_kind_name(const json_t *v);
/* Go's reflect type name of the value decoded from JSON ("float64"...). */
const char *tpl_go_type(const json_t *v);

/* Go's fmt printArg for one value and verb; NULL prints <nil>. */
void tpl_fmt_value(struct gantry_buf *b, const json_t *v, int verb, const struct tpl_spec *sp);
/* How an action prints its value: fmt %v, but <no value> for nothing. */
void tpl_print_action(struct gantry_buf *b, const json_t *v);
/* Keys of an object in byte order (caller frees the array, not the keys). */
const char **tpl_sorted_keys(const json_t *obj, size_t *n);
/* fmt.Sprint / fmt.Sprintln of the arguments. */
void tpl_sprint(struct gantry_buf *b, json_t *const *args, size_t n, bool ln);
/* fmt.Sprintf (format of flen bytes). */
void tpl_sprintf(struct gantry_buf *b, const char *format, size_t flen, json_t *const *args,
                 size_t n);
/* Compact JSON as Go's encoding/json writes it, without HTML escaping. */
void tpl_json_encode(struct gantry_buf *b, const json_t *v);
/* Go strconv.Quote (ascii: QuoteToASCII); quote is '"' or '\''. */
void tpl_quote(struct gantry_buf *b, const char *s, size_t n, char quote, bool ascii);
/* Decode one UTF-8 sequence of s[0..n) (n > 0); *r = -1 when invalid. */
size_t tpl_utf8_decode(const char *s, size_t n, long *r);
void tpl_utf8_encode(struct gantry_buf *b, long r);
size_t tpl_utf8_count(const char *s, size_t n);

#endif
