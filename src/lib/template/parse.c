/*
 * Template parser: recursive descent after Go's text/template/parse, with
 * the same error messages where Go has one. The tree lives in an arena
 * owned by the template, so freeing is one walk over the chunks and no
 * node needs its own destructor. Nesting is capped (GANTRY_TEMPLATE_MAX_DEPTH)
 * so hostile input cannot exhaust the stack here or in exec.c.
 */
#include "template_int.h"

enum stop { STOP_EOF, STOP_END, STOP_ELSE };

struct parser {
    struct tpl_lexer lx;
    struct tpl_token la[3]; /* lookahead */
    size_t n_la;
    struct gantry_template *t;
    const char **vars; /* variables in scope, innermost last */
    size_t n_vars, alloc_vars;
    int depth;
    int range_depth;
    size_t stop_pos; /* where the {{end}} or {{else}} that stopped a list is */
    size_t last_end; /* end of the last token taken */
    struct gantry_error **err;
};

static struct tpl_pipe *parse_pipeline(struct parser *p, const char *context, enum tpl_tok end,
                                       size_t max_decl);
static int parse_list(struct parser *p, struct tpl_node **out, enum stop *stop);

void *tpl_alloc(struct gantry_template *t, size_t size)
{
    size_t unit = sizeof(max_align_t);
    size = (size + unit - 1) / unit * unit;
    struct tpl_chunk *c = t->arena;
    if (!c || c->size - c->used < size) {
        size_t cap = size > 4096 ? size : 4096;
        c = xmalloc(sizeof(*c) + cap);
        c->size = cap;
        c->used = 0;
        c->next = t->arena;
        t->arena = c;
    }
    void *r = (char *)c->data + c->used;
    c->used += size;
    memset(r, 0, size);
    return r;
}

char *tpl_strndup(struct gantry_template *t, const char *s, size_t n)
{
    char *r = tpl_alloc(t, n + 1);
    memcpy(r, s, n);
    r[n] = '\0';
    return r;
}

void tpl_linecol(const char *src, size_t pos, size_t *line, size_t *col)
{
    size_t l = 1, start = 0;
    for (size_t i = 0; i < pos; i++) {
        if (src[i] == '\n') {
            l++;
            start = i + 1;
        }
    }
    *line = l;
    *col = pos - start + 1;
}

void gantry_template_free(struct gantry_template *t)
{
    if (!t)
        return;
    while (t->arena) {
        struct tpl_chunk *next = t->arena->next;
        free(t->arena);
        t->arena = next;
    }
    json_decref(t->literals);
    free(t->src);
    free(t);
}

static int GANTRY_PRINTF(3, 4) perr(struct parser *p, size_t pos, const char *fmt, ...)
{
    va_list ap;
    char *msg = NULL;
    va_start(ap, fmt);
    if (vasprintf(&msg, fmt, ap) < 0)
        oom();
    va_end(ap);
    size_t line, col;
    tpl_linecol(p->t->src, pos, &line, &col);
    gantry_error_set(p->err, GANTRY_E_PARSE, 0, "template: %zu:%zu: %s", line, col, msg);
    free(msg);
    return -1;
}

/* ---- tokens ---- */

static const struct tpl_token *peek_at(struct parser *p, size_t k)
{
    while (p->n_la <= k)
        tpl_lex_next(&p->lx, &p->la[p->n_la++]);
    return &p->la[k];
}

static const struct tpl_token *peek(struct parser *p)
{
    return peek_at(p, 0);
}

static struct tpl_token next(struct parser *p)
{
    peek(p);
    struct tpl_token t = p->la[0];
    p->last_end = t.pos + t.len;
    p->n_la--;
    memmove(p->la, p->la + 1, p->n_la * sizeof(p->la[0]));
    return t;
}

static const char *tok_text(struct parser *p, const struct tpl_token *tok)
{
    return p->t->src + tok->pos;
}

/* Go's item.String(): <keyword>, or the quoted text cut at 10 characters. */
static void describe_token(struct parser *p, const struct tpl_token *tok, struct gantry_buf *b)
{
    const char *s = tok_text(p, tok);
    if (tok->type >= TOK_KEYWORD || tok->type == TOK_DOT || tok->type == TOK_NIL) {
        tpl_putc(b, '<');
        tpl_put(b, s, tok->len);
        tpl_putc(b, '>');
        return;
    }
    size_t n = 0, runes = 0;
    while (n < tok->len && runes < 10) {
        long r;
        n += tpl_utf8_decode(s + n, tok->len - n, &r);
        runes++;
    }
    tpl_quote(b, s, n, '"', false);
    if (n < tok->len)
        tpl_puts(b, "...");
}

static int unexpected(struct parser *p, const struct tpl_token *tok, const char *context)
{
    if (tok->type == TOK_ERROR)
        return perr(p, tok->pos, "%s", tok->msg);
    if (tok->type == TOK_EOF)
        return perr(p, tok->pos, "unexpected EOF");
    _cleanup_buf_ struct gantry_buf d = GANTRY_BUF_INIT;
    describe_token(p, tok, &d);
    return perr(p, tok->pos, "unexpected %s in %s", d.data, context);
}

static int expect(struct parser *p, enum tpl_tok type, const char *context)
{
    struct tpl_token t = next(p);
    return t.type == type ? 0 : unexpected(p, &t, context);
}

static bool is_operand_start(enum tpl_tok type)
{
    switch (type) {
    case TOK_BOOL:
    case TOK_CHAR:
    case TOK_DOT:
    case TOK_FIELD:
    case TOK_IDENT:
    case TOK_NUMBER:
    case TOK_NIL:
    case TOK_RAWSTRING:
    case TOK_STRING:
    case TOK_VARIABLE:
    case TOK_LPAREN:
        return true;
    default:
        return false;
    }
}

/* ---- variables in scope ---- */

static bool var_defined(struct parser *p, const char *name, size_t len)
{
    for (size_t i = p->n_vars; i-- > 0;)
        if (strlen(p->vars[i]) == len && memcmp(p->vars[i], name, len) == 0)
            return true;
    return false;
}

static void var_push(struct parser *p, const char *name)
{
    if (p->n_vars == p->alloc_vars) {
        p->alloc_vars = p->alloc_vars ? 2 * p->alloc_vars : 16;
        p->vars = xrealloc(p->vars, p->alloc_vars * sizeof(*p->vars));
    }
    p->vars[p->n_vars++] = name;
}

/* ---- operands ---- */

static struct tpl_arg *new_arg(struct parser *p, enum tpl_arg_type type, size_t pos, size_t end)
{
    struct tpl_arg *a = tpl_alloc(p->t, sizeof(*a));
    a->type = type;
    a->pos = pos;
    a->end = end;
    return a;
}

/* ".A.B" (s starts at the first dot) into arg->fields. */
static void set_fields(struct parser *p, struct tpl_arg *arg, const char *s, size_t n)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        count += s[i] == '.';
    arg->fields = tpl_alloc(p->t, count * sizeof(*arg->fields));
    arg->n_fields = count;
    for (size_t i = 0, k = 0; i < n; k++) {
        size_t j = i + 1;
        while (j < n && s[j] != '.')
            j++;
        arg->fields[k] = tpl_strndup(p->t, s + i + 1, j - i - 1);
        i = j;
    }
}

static struct tpl_arg *literal(struct parser *p, struct tpl_arg *arg, json_t *v)
{
    if (!v)
        oom();
    json_array_append_new(p->t->literals, v);
    arg->type = TPL_ARG_LITERAL;
    arg->literal = v;
    return arg;
}

static struct tpl_arg *term_func(struct parser *p, struct tpl_arg *arg, const struct tpl_token *tok)
{
    const char *s = tok_text(p, tok);
    arg->func = tpl_func_lookup(s, tok->len);
    if (!arg->func) {
        perr(p, tok->pos, "function \"%.*s\" not defined", (int)tok->len, s);
        return NULL;
    }
    arg->type = TPL_ARG_FUNC;
    arg->name = arg->func->name;
    return arg;
}

static struct tpl_arg *term_var(struct parser *p, struct tpl_arg *arg, const struct tpl_token *tok)
{
    const char *s = tok_text(p, tok);
    const char *dot = memchr(s, '.', tok->len);
    size_t name_len = dot ? (size_t)(dot - s) : tok->len;
    if (!var_defined(p, s, name_len)) {
        perr(p, tok->pos, "undefined variable \"%.*s\"", (int)name_len, s);
        return NULL;
    }
    arg->type = TPL_ARG_VAR;
    arg->name = tpl_strndup(p->t, s, name_len);
    if (dot)
        set_fields(p, arg, dot, tok->len - name_len);
    return arg;
}

static struct tpl_arg *term_number(struct parser *p, struct tpl_arg *arg,
                                   const struct tpl_token *tok)
{
    const char *s = tok_text(p, tok);
    json_t *v = NULL;
    int r = tpl_parse_number(s, tok->len, &v);
    if (r == -2)
        perr(p, tok->pos, "%.*s overflows int", (int)tok->len, s);
    else if (r < 0)
        perr(p, tok->pos, "illegal number syntax: \"%.*s\"", (int)tok->len, s);
    return r < 0 ? NULL : literal(p, arg, v);
}

static struct tpl_arg *term_quoted(struct parser *p, struct tpl_arg *arg,
                                   const struct tpl_token *tok)
{
    const char *s = tok_text(p, tok);
    if (tok->type == TOK_CHAR) {
        long r;
        if (tpl_unquote_char(s, tok->len, &r) < 0) {
            perr(p, tok->pos, "malformed character constant: %.*s", (int)tok->len, s);
            return NULL;
        }
        return literal(p, arg, json_integer(r));
    }
    _cleanup_buf_ struct gantry_buf b = GANTRY_BUF_INIT;
    if (tpl_unquote(s, tok->len, &b) < 0) {
        perr(p, tok->pos, "invalid syntax in quoted string %.*s", (int)tok->len, s);
        return NULL;
    }
    return literal(p, arg, json_stringn_nocheck(b.data, b.len));
}

static struct tpl_arg *term_paren(struct parser *p, struct tpl_arg *arg)
{
    if (++p->depth > GANTRY_TEMPLATE_MAX_DEPTH) {
        perr(p, arg->pos, "exceeded maximum nesting depth of %d", GANTRY_TEMPLATE_MAX_DEPTH);
        return NULL;
    }
    arg->type = TPL_ARG_PIPE;
    arg->pipe = parse_pipeline(p, "parenthesized pipeline", TOK_RPAREN, 1);
    p->depth--;
    if (!arg->pipe)
        return NULL;
    arg->end = p->last_end; /* the ')' */
    return arg;
}

static struct tpl_arg *parse_term(struct parser *p)
{
    struct tpl_token tok = next(p);
    struct tpl_arg *arg = new_arg(p, TPL_ARG_DOT, tok.pos, tok.pos + tok.len);
    switch (tok.type) {
    case TOK_IDENT:
        return term_func(p, arg, &tok);
    case TOK_DOT:
        return arg;
    case TOK_NIL:
        arg->type = TPL_ARG_NIL;
        return arg;
    case TOK_FIELD:
        arg->type = TPL_ARG_FIELD;
        set_fields(p, arg, tok_text(p, &tok), tok.len);
        return arg;
    case TOK_VARIABLE:
        return term_var(p, arg, &tok);
    case TOK_BOOL:
        return literal(p, arg, json_boolean(tok_text(p, &tok)[0] == 't'));
    case TOK_NUMBER:
        return term_number(p, arg, &tok);
    case TOK_CHAR:
    case TOK_STRING:
    case TOK_RAWSTRING:
        return term_quoted(p, arg, &tok);
    case TOK_LPAREN:
        return term_paren(p, arg);
    default:
        unexpected(p, &tok, "operand");
        return NULL;
    }
}

/* A term, then ".A.B" right after it: (pipeline).Field, func.Field. */
static struct tpl_arg *parse_operand(struct parser *p)
{
    struct tpl_arg *arg = parse_term(p);
    if (!arg)
        return NULL;
    const struct tpl_token *tok = peek(p);
    if (tok->type != TOK_FIELD || tok->space_before)
        return arg;
    if (arg->type == TPL_ARG_LITERAL || arg->type == TPL_ARG_DOT || arg->type == TPL_ARG_NIL) {
        perr(p, tok->pos, "unexpected . after term \"%.*s\"", (int)(arg->end - arg->pos),
             p->t->src + arg->pos);
        return NULL;
    }
    struct tpl_token f = next(p);
    struct tpl_arg *chain = new_arg(p, TPL_ARG_CHAIN, arg->pos, f.pos + f.len);
    chain->base = arg;
    set_fields(p, chain, tok_text(p, &f), f.len);
    return chain;
}

/* Operands separated by blanks, up to "|", "}}" or ")" (not consumed). */
static struct tpl_cmd *parse_command(struct parser *p)
{
    struct tpl_cmd *cmd = tpl_alloc(p->t, sizeof(*cmd));
    cmd->pos = peek(p)->pos;
    struct tpl_arg **tail = &cmd->args;
    for (;;) {
        struct tpl_arg *arg = parse_operand(p);
        if (!arg)
            return NULL;
        *tail = arg;
        tail = &arg->next;
        cmd->n_args++;
        cmd->end = arg->end;
        const struct tpl_token *tok = peek(p);
        if (tok->type == TOK_RDELIM || tok->type == TOK_RPAREN || tok->type == TOK_PIPE)
            return cmd;
        if (!tok->space_before || !is_operand_start(tok->type)) {
            struct tpl_token t = next(p);
            unexpected(p, &t, "operand");
            return NULL;
        }
    }
}

/* ---- pipelines ---- */

static bool plain_variable(struct parser *p, const struct tpl_token *tok)
{
    return tok->type == TOK_VARIABLE && !memchr(tok_text(p, tok), '.', tok->len);
}

static bool is_decl_op(enum tpl_tok type)
{
    return type == TOK_DECLARE || type == TOK_ASSIGN;
}

/* "$x :=", "$x =", and in range "$i, $x :=". */
static int parse_decl(struct parser *p, struct tpl_pipe *pipe, const char *context, size_t max_decl)
{
    if (!plain_variable(p, peek_at(p, 0)))
        return 0;
    enum tpl_tok op = peek_at(p, 1)->type;
    if (!is_decl_op(op) && op != TOK_COMMA)
        return 0;
    struct tpl_token v = next(p);
    struct tpl_token sep = next(p);
    pipe->decl[pipe->n_decl++] = tpl_strndup(p->t, tok_text(p, &v), v.len);
    if (sep.type == TOK_COMMA) {
        if (max_decl < 2)
            return perr(p, sep.pos, "too many declarations in %s", context);
        if (!plain_variable(p, peek_at(p, 0)) || !is_decl_op(peek_at(p, 1)->type))
            return perr(p, peek(p)->pos, "range can only initialize variables");
        v = next(p);
        sep = next(p);
        pipe->decl[pipe->n_decl++] = tpl_strndup(p->t, tok_text(p, &v), v.len);
    }
    pipe->is_assign = sep.type == TOK_ASSIGN;
    for (size_t i = 0; pipe->is_assign && i < pipe->n_decl; i++)
        if (!var_defined(p, pipe->decl[i], strlen(pipe->decl[i])))
            return perr(p, pipe->pos, "undefined variable \"%s\"", pipe->decl[i]);
    return 0;
}

static bool executable(const struct tpl_cmd *cmd)
{
    enum tpl_arg_type t = cmd->args->type;
    return t != TPL_ARG_LITERAL && t != TPL_ARG_DOT && t != TPL_ARG_NIL;
}

static struct tpl_pipe *parse_pipeline(struct parser *p, const char *context, enum tpl_tok end,
                                       size_t max_decl)
{
    struct tpl_pipe *pipe = tpl_alloc(p->t, sizeof(*pipe));
    pipe->pos = peek(p)->pos;
    if (parse_decl(p, pipe, context, max_decl) < 0)
        return NULL;
    struct tpl_cmd **tail = &pipe->cmds;
    for (;;) {
        struct tpl_token t = *peek(p);
        if (t.type == end && pipe->n_cmds == 0) {
            perr(p, t.pos, "missing value for %s", context);
            return NULL;
        }
        if (!is_operand_start(t.type)) {
            unexpected(p, &t, context);
            return NULL;
        }
        struct tpl_cmd *cmd = parse_command(p);
        if (!cmd)
            return NULL;
        if (pipe->n_cmds > 0 && !executable(cmd)) {
            perr(p, cmd->pos, "non executable command in pipeline stage %zu", pipe->n_cmds + 1);
            return NULL;
        }
        *tail = cmd;
        tail = &cmd->next;
        pipe->n_cmds++;
        pipe->end = cmd->end;
        t = next(p);
        if (t.type == end)
            break;
        if (t.type != TOK_PIPE || peek(p)->type == end) {
            if (t.type == TOK_PIPE)
                perr(p, t.pos, "missing command after \"|\"");
            else
                unexpected(p, &t, context);
            return NULL;
        }
    }
    for (size_t i = 0; !pipe->is_assign && i < pipe->n_decl; i++)
        var_push(p, pipe->decl[i]);
    return pipe;
}

/* ---- actions and control structures ---- */

static struct tpl_node *new_node(struct parser *p, enum tpl_node_type type, size_t pos)
{
    struct tpl_node *n = tpl_alloc(p->t, sizeof(*n));
    n->type = type;
    n->pos = pos;
    return n;
}

static int parse_else(struct parser *p, enum tpl_node_type type, struct tpl_node **out);

/* {{if}}, {{range}}, {{with}}: the keyword is consumed. */
static int parse_control(struct parser *p, enum tpl_node_type type, size_t pos,
                         struct tpl_node **out)
{
    static const char *const names[] = {
        [TPL_IF] = "if", [TPL_RANGE] = "range", [TPL_WITH] = "with"};
    if (++p->depth > GANTRY_TEMPLATE_MAX_DEPTH)
        return perr(p, pos, "exceeded maximum nesting depth of %d", GANTRY_TEMPLATE_MAX_DEPTH);
    size_t mark = p->n_vars;
    struct tpl_node *n = new_node(p, type, pos);
    n->pipe = parse_pipeline(p, names[type], TOK_RDELIM, type == TPL_RANGE ? 2 : 1);
    if (!n->pipe)
        return -1;
    size_t body_mark = type == TPL_RANGE ? mark : p->n_vars;
    enum stop stop;
    p->range_depth += type == TPL_RANGE;
    int r = parse_list(p, &n->list, &stop);
    p->range_depth -= type == TPL_RANGE;
    if (r < 0)
        return -1;
    p->n_vars = body_mark;
    if (stop == STOP_EOF)
        return perr(p, p->t->len, "unexpected EOF");
    if (stop == STOP_ELSE && parse_else(p, type, &n->else_list) < 0)
        return -1;
    p->n_vars = mark;
    p->depth--;
    *out = n;
    return 0;
}

/* After {{else: "}}" and a list up to {{end}}, or "if ..."/"with ...". */
static int parse_else(struct parser *p, enum tpl_node_type type, struct tpl_node **out)
{
    const struct tpl_token *tok = peek(p);
    if ((type == TPL_IF && tok->type == TOK_IF) || (type == TPL_WITH && tok->type == TOK_WITH)) {
        struct tpl_token kw = next(p);
        return parse_control(p, type, kw.pos, out);
    }
    if (expect(p, TOK_RDELIM, "else") < 0)
        return -1;
    enum stop stop;
    if (parse_list(p, out, &stop) < 0)
        return -1;
    if (stop == STOP_EOF)
        return perr(p, p->t->len, "unexpected EOF");
    if (stop == STOP_ELSE)
        return perr(p, p->stop_pos, "expected end; found {{else}}");
    return 0;
}

static int parse_loop_control(struct parser *p, const struct tpl_token *kw, struct tpl_node **out)
{
    const char *what = kw->type == TOK_BREAK ? "{{break}}" : "{{continue}}";
    if (expect(p, TOK_RDELIM, what) < 0)
        return -1;
    if (p->range_depth == 0)
        return perr(p, kw->pos, "%s outside {{range}}", what);
    *out = new_node(p, kw->type == TOK_BREAK ? TPL_BREAK : TPL_CONTINUE, kw->pos);
    return 0;
}

/*
 * After "{{": one action. Returns 0 with *out set, 1 when the action is
 * {{end}} or {{else}} (which ends the current list), -1 on error.
 */
static int parse_action(struct parser *p, struct tpl_node **out, enum stop *stop)
{
    struct tpl_token tok = *peek(p);
    switch (tok.type) {
    case TOK_END:
    case TOK_ELSE:
        next(p);
        p->stop_pos = tok.pos;
        *stop = tok.type == TOK_END ? STOP_END : STOP_ELSE;
        if (tok.type == TOK_END && expect(p, TOK_RDELIM, "end") < 0)
            return -1;
        return 1;
    case TOK_IF:
    case TOK_RANGE:
    case TOK_WITH:
        next(p);
        return parse_control(p,
                             tok.type == TOK_IF      ? TPL_IF
                             : tok.type == TOK_RANGE ? TPL_RANGE
                                                     : TPL_WITH,
                             tok.pos, out);
    case TOK_BREAK:
    case TOK_CONTINUE:
        next(p);
        return parse_loop_control(p, &tok, out);
    case TOK_DEFINE:
    case TOK_TEMPLATE:
    case TOK_BLOCK:
        return perr(p, tok.pos, "{{%.*s}} is not supported", (int)tok.len, tok_text(p, &tok));
    default:
        *out = new_node(p, TPL_ACTION, tok.pos);
        (*out)->pipe = parse_pipeline(p, "command", TOK_RDELIM, 1);
        return (*out)->pipe ? 0 : -1;
    }
}

/* Text and actions up to {{end}}, {{else}} or EOF; *stop says which. */
static int parse_list(struct parser *p, struct tpl_node **out, enum stop *stop)
{
    struct tpl_node *head = NULL, **tail = &head;
    for (;;) {
        struct tpl_token tok = next(p);
        struct tpl_node *n = NULL;
        if (tok.type == TOK_EOF) {
            *stop = STOP_EOF;
            break;
        } else if (tok.type == TOK_TEXT) {
            n = new_node(p, TPL_TEXT, tok.pos);
            n->text = tok_text(p, &tok);
            n->len = tok.len;
        } else if (tok.type == TOK_LDELIM) {
            int r = parse_action(p, &n, stop);
            if (r < 0)
                return -1;
            if (r > 0)
                break;
        } else {
            return unexpected(p, &tok, "input");
        }
        *tail = n;
        tail = &n->next;
    }
    *out = head;
    return 0;
}

static void parser_release(struct parser *p)
{
    free(p->vars);
}

static void template_freep(struct gantry_template **t)
{
    gantry_template_free(*t);
}

struct gantry_template *gantry_template_parse(const char *text, size_t len,
                                              struct gantry_error **err)
{
    __attribute__((cleanup(template_freep))) struct gantry_template *t = xcalloc(1, sizeof(*t));
    t->src = xmalloc(len + 1);
    if (len)
        memcpy(t->src, text, len);
    t->src[len] = '\0';
    t->len = len;
    t->literals = json_array();
    if (!t->literals)
        oom();
    __attribute__((cleanup(parser_release))) struct parser p = {.t = t, .err = err};
    tpl_lex_init(&p.lx, t->src, len);
    var_push(&p, "$");
    enum stop stop = STOP_EOF;
    if (parse_list(&p, &t->root, &stop) < 0)
        return NULL;
    if (stop != STOP_EOF) {
        perr(&p, p.stop_pos, "unexpected {{%s}}", stop == STOP_END ? "end" : "else");
        return NULL;
    }
    return steal_pointer(&t);
}
