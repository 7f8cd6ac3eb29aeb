/*
 * Template execution, after Go's text/template/exec.go: walk the tree with
 * dot and a stack of variables, evaluate pipelines left to right, the
 * previous command's value becoming the last argument of the next one.
 *
 * Where Go and Docker differ because Docker formats typed structs, we
 * follow Docker: fields of null or of a missing value are missing (Go
 * would fail with "nil pointer evaluating"), and len of null is 0.
 */
#include "template_int.h"

struct call {
    const struct tpl_func *fn;
    const struct tpl_arg *args; /* explicit arguments */
    size_t n_args;
    bool has_final; /* the value piped in, as the last argument */
    json_t *final;
    size_t pos, end;
};

static int exec_list(struct tpl_exec *ex, json_t *dot, const struct tpl_node *n);
static int eval_pipe(struct tpl_exec *ex, json_t *dot, const struct tpl_pipe *pipe, bool bind,
                     json_t **out);
static int eval_arg(struct tpl_exec *ex, json_t *dot, const struct tpl_arg *arg, json_t **out);

static void at(struct tpl_exec *ex, size_t pos, size_t end)
{
    ex->at_pos = pos;
    ex->at_end = end;
}

static int GANTRY_PRINTF(3, 0)
    vfail(struct tpl_exec *ex, enum gantry_error_code code, const char *fmt, va_list ap)
{
    char *msg = NULL;
    msg = xvasprintf(fmt, ap);
    size_t line, col;
    tpl_linecol(ex->t->src, ex->at_pos, &line, &col);
    const char *ctx = ex->t->src + ex->at_pos;
    size_t n = ex->at_end > ex->at_pos ? ex->at_end - ex->at_pos : 0;
    bool cut = n > 20;
    if (cut) /* as Go's ErrorContext, at a character boundary */
        for (n = 20; n > 0 && (ctx[n] & 0xC0) == 0x80; n--)
            ;
    gantry_error_set(ex->err, code, 0, "template: %zu:%zu: executing at <%.*s%s>: %s", line, col,
                     (int)n, ctx, cut ? "..." : "", msg);
    free(msg);
    return -1;
}

int tpl_fail(struct tpl_exec *ex, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(ex, GANTRY_E_INVALID_ARG, fmt, ap);
    va_end(ap);
    return -1;
}

static int fail_code(struct tpl_exec *ex, enum gantry_error_code code, const char *fmt, ...)
    GANTRY_PRINTF(3, 4);

static int fail_code(struct tpl_exec *ex, enum gantry_error_code code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(ex, code, fmt, ap);
    va_end(ap);
    return -1;
}

int tpl_fail_size(struct tpl_exec *ex, const char *what)
{
    return fail_code(ex, GANTRY_E_TOO_LARGE, "%s larger than %zu bytes", what, ex->limit);
}

void tpl_scratch_init(const struct tpl_exec *ex, struct gantry_buf *b)
{
    gantry_buf_init(b, ex->limit + 1);
}

bool tpl_is_true(const json_t *v)
{
    switch (v ? json_typeof(v) : JSON_NULL) {
    case JSON_STRING:
        return json_string_length(v) > 0;
    case JSON_INTEGER:
        return json_integer_value(v) != 0;
    case JSON_REAL:
        return json_real_value(v) != 0;
    case JSON_TRUE:
        return true;
    case JSON_ARRAY:
        return json_array_size(v) > 0;
    case JSON_OBJECT:
        return json_object_size(v) > 0;
    default:
        return false;
    }
}

static int emit(struct tpl_exec *ex, const char *s, size_t n)
{
    if (gantry_buf_add(ex->out, s, n) < 0)
        return gantry_error_set(ex->err, GANTRY_E_TOO_LARGE, 0,
                                "template: output larger than %zu bytes", ex->out->cap);
    return 0;
}

/* ---- variables ---- */

static void var_push(struct tpl_exec *ex, const char *name, json_t *v)
{
    if (ex->n_vars == ex->alloc_vars) {
        ex->alloc_vars = ex->alloc_vars ? 2 * ex->alloc_vars : 16;
        ex->vars = xrealloc(ex->vars, ex->alloc_vars * sizeof(*ex->vars));
    }
    ex->vars[ex->n_vars++] = (struct tpl_var){name, json_incref(v)};
}

static void var_pop(struct tpl_exec *ex, size_t mark)
{
    while (ex->n_vars > mark)
        json_decref(ex->vars[--ex->n_vars].value);
}

static struct tpl_var *var_find(struct tpl_exec *ex, const char *name)
{
    for (size_t i = ex->n_vars; i-- > 0;)
        if (strcmp(ex->vars[i].name, name) == 0)
            return &ex->vars[i];
    tpl_fail(ex, "undefined variable: %s", name);
    return NULL;
}

static int var_set(struct tpl_exec *ex, const char *name, json_t *v)
{
    struct tpl_var *var = var_find(ex, name);
    if (!var)
        return -1;
    json_decref(var->value);
    var->value = json_incref(v);
    return 0;
}

static int bind(struct tpl_exec *ex, const struct tpl_pipe *pipe, size_t i, json_t *v)
{
    if (pipe->is_assign)
        return var_set(ex, pipe->decl[i], v);
    var_push(ex, pipe->decl[i], v);
    return 0;
}

/* ---- evaluation ---- */

/* .A.B of recv (a reference this function takes over). */
static int eval_fields(struct tpl_exec *ex, json_t *recv, const struct tpl_arg *arg, bool has_args,
                       json_t **out)
{
    _cleanup_tval_ json_t *v = recv;
    for (size_t i = 0; i < arg->n_fields; i++) {
        if (!v || json_is_null(v)) {
            json_decref(v);
            v = NULL;
            continue;
        }
        if (!json_is_object(v))
            return tpl_fail(ex, "can't evaluate field %s in type %s", arg->fields[i],
                            tpl_kind_name(v));
        json_t *next = json_incref(json_object_get(v, arg->fields[i]));
        json_decref(v);
        v = next;
    }
    if (has_args && arg->n_fields)
        return tpl_fail(ex, "%s is not a method but has arguments", arg->fields[arg->n_fields - 1]);
    *out = steal_pointer(&v);
    return 0;
}

static void args_free(json_t ***argv)
{
    free(*argv);
}

static void args_release(json_t **argv, size_t n)
{
    for (size_t i = 0; i < n; i++)
        json_decref(argv[i]);
}

/* and, or: Go 1.18 semantics, stop at the first argument that decides. */
static int call_logic(struct tpl_exec *ex, json_t *dot, const struct call *c, size_t n,
                      json_t **out)
{
    _cleanup_tval_ json_t *val = NULL;
    const struct tpl_arg *a = c->args;
    for (size_t i = 0; i < n; i++) {
        json_decref(val);
        val = NULL;
        if (a) {
            if (eval_arg(ex, dot, a, &val) < 0)
                return -1;
            a = a->next;
        } else {
            val = json_incref(c->final);
        }
        bool truth = tpl_is_true(val);
        if (c->fn->kind == TPL_CALL_AND ? !truth : truth)
            break;
    }
    *out = steal_pointer(&val);
    return 0;
}

static int call_func(struct tpl_exec *ex, json_t *dot, const struct call *c, json_t **out)
{
    const struct tpl_func *fn = c->fn;
    size_t n = c->n_args + c->has_final;
    at(ex, c->pos, c->end);
    if (fn->max_args < 0 && n < (size_t)fn->min_args)
        return tpl_fail(ex, "wrong number of args for %s: want at least %d got %zu", fn->name,
                        fn->min_args, n);
    if (fn->max_args >= 0 && n != (size_t)fn->min_args)
        return tpl_fail(ex, "wrong number of args for %s: want %d got %zu", fn->name, fn->min_args,
                        n);
    if (fn->kind != TPL_CALL_EAGER)
        return call_logic(ex, dot, c, n, out);
    __attribute__((cleanup(args_free))) json_t **argv = xcalloc(n ? n : 1, sizeof(*argv));
    const struct tpl_arg *a = c->args;
    for (size_t i = 0; i < c->n_args; i++, a = a->next) {
        if (eval_arg(ex, dot, a, &argv[i]) < 0) {
            args_release(argv, i);
            return -1;
        }
    }
    if (c->has_final)
        argv[n - 1] = json_incref(c->final);
    at(ex, c->pos, c->end);
    int r = fn->call(ex, argv, n, out);
    args_release(argv, n);
    return r;
}

/* An argument of a function: a value, never a call with arguments. */
static int eval_arg(struct tpl_exec *ex, json_t *dot, const struct tpl_arg *arg, json_t **out)
{
    at(ex, arg->pos, arg->end);
    json_t *base = NULL;
    struct tpl_var *var;
    switch (arg->type) {
    case TPL_ARG_DOT:
        *out = json_incref(dot);
        return 0;
    case TPL_ARG_NIL:
        *out = NULL;
        return 0;
    case TPL_ARG_LITERAL:
        *out = json_incref(arg->literal);
        return 0;
    case TPL_ARG_FIELD:
        return eval_fields(ex, json_incref(dot), arg, false, out);
    case TPL_ARG_VAR:
        if (!(var = var_find(ex, arg->name)))
            return -1;
        return eval_fields(ex, json_incref(var->value), arg, false, out);
    case TPL_ARG_PIPE:
        return eval_pipe(ex, dot, arg->pipe, true, out);
    case TPL_ARG_CHAIN:
        if (eval_arg(ex, dot, arg->base, &base) < 0)
            return -1;
        at(ex, arg->pos, arg->end);
        return eval_fields(ex, base, arg, false, out);
    default:
        return call_func(ex, dot, &(struct call){.fn = arg->func, .pos = arg->pos, .end = arg->end},
                         out);
    }
}

static int eval_cmd(struct tpl_exec *ex, json_t *dot, const struct tpl_cmd *cmd, bool has_final,
                    json_t *final, json_t **out)
{
    const struct tpl_arg *first = cmd->args;
    bool has_args = cmd->n_args > 1 || has_final;
    at(ex, first->pos, first->end);
    switch (first->type) {
    case TPL_ARG_FIELD:
        return eval_fields(ex, json_incref(dot), first, has_args, out);
    case TPL_ARG_FUNC:
        return call_func(ex, dot,
                         &(struct call){.fn = first->func,
                                        .args = first->next,
                                        .n_args = cmd->n_args - 1,
                                        .has_final = has_final,
                                        .final = final,
                                        .pos = cmd->pos,
                                        .end = cmd->end},
                         out);
    case TPL_ARG_NIL:
        return tpl_fail(ex, "nil is not a command");
    case TPL_ARG_CHAIN:
    case TPL_ARG_VAR:
        if (first->n_fields) {
            json_t *v = NULL;
            struct tpl_arg head = *first;
            head.n_fields = 0; /* the base value alone, fields checked below */
            if (eval_arg(ex, dot, first->type == TPL_ARG_CHAIN ? first->base : &head, &v) < 0)
                return -1;
            at(ex, first->pos, first->end);
            return eval_fields(ex, v, first, has_args, out);
        }
        break;
    default:
        break;
    }
    if (has_args)
        return tpl_fail(ex, "can't give argument to non-function %.*s",
                        (int)(first->end - first->pos), ex->t->src + first->pos);
    return eval_arg(ex, dot, first, out);
}

static int eval_pipe(struct tpl_exec *ex, json_t *dot, const struct tpl_pipe *pipe, bool do_bind,
                     json_t **out)
{
    _cleanup_tval_ json_t *val = NULL;
    bool has = false;
    for (const struct tpl_cmd *c = pipe->cmds; c; c = c->next) {
        json_t *next = NULL;
        if (eval_cmd(ex, dot, c, has, val, &next) < 0)
            return -1;
        json_decref(val);
        val = next;
        has = true;
    }
    for (size_t i = 0; do_bind && i < pipe->n_decl; i++)
        if (bind(ex, pipe, i, val) < 0)
            return -1;
    *out = steal_pointer(&val);
    return 0;
}

/* ---- statements ---- */

static int exec_action(struct tpl_exec *ex, json_t *dot, const struct tpl_node *n)
{
    _cleanup_tval_ json_t *v = NULL;
    if (eval_pipe(ex, dot, n->pipe, true, &v) < 0)
        return -1;
    if (n->pipe->n_decl)
        return 0;
    _cleanup_buf_ struct gantry_buf b = GANTRY_BUF_INIT;
    tpl_scratch_init(ex, &b);
    tpl_print_action(&b, v);
    if (b.len > ex->limit)
        return tpl_fail_size(ex, "output");
    return emit(ex, b.data, b.len);
}

static int exec_if_with(struct tpl_exec *ex, json_t *dot, const struct tpl_node *n)
{
    size_t mark = ex->n_vars;
    _cleanup_tval_ json_t *v = NULL;
    int r = eval_pipe(ex, dot, n->pipe, true, &v);
    if (r == 0 && tpl_is_true(v))
        r = exec_list(ex, n->type == TPL_WITH ? v : dot, n->list);
    else if (r == 0)
        r = exec_list(ex, dot, n->else_list);
    var_pop(ex, mark);
    return r;
}

/* One pass of a range body; false when the loop must stop. */
static int range_once(struct tpl_exec *ex, const struct tpl_node *n, json_t *key, json_t *elem,
                      bool *more)
{
    size_t mark = ex->n_vars;
    const struct tpl_pipe *p = n->pipe;
    int r = 0;
    if (p->n_decl == 1)
        r = bind(ex, p, 0, elem);
    else if (p->n_decl == 2 && (r = bind(ex, p, 0, key)) == 0)
        r = bind(ex, p, 1, elem);
    if (r == 0)
        r = exec_list(ex, elem, n->list);
    var_pop(ex, mark);
    *more = ex->flow != TPL_FLOW_BREAK;
    ex->flow = TPL_FLOW_NORMAL;
    return r;
}

static int range_over(struct tpl_exec *ex, const struct tpl_node *n, json_t *v)
{
    bool more = true;
    if (json_is_array(v)) {
        for (size_t i = 0; more && i < json_array_size(v); i++) {
            _cleanup_tval_ json_t *key = json_integer((json_int_t)i);
            if (range_once(ex, n, key, json_array_get(v, i), &more) < 0)
                return -1;
        }
        return 0;
    }
    size_t count;
    _cleanup_free_ const char **keys = tpl_sorted_keys(v, &count);
    for (size_t i = 0; more && i < count; i++) {
        _cleanup_tval_ json_t *key = json_string_nocheck(keys[i]);
        if (range_once(ex, n, key, json_object_get(v, keys[i]), &more) < 0)
            return -1;
    }
    return 0;
}

static int exec_range(struct tpl_exec *ex, json_t *dot, const struct tpl_node *n)
{
    _cleanup_tval_ json_t *v = NULL;
    if (eval_pipe(ex, dot, n->pipe, false, &v) < 0)
        return -1;
    size_t count = json_is_array(v) ? json_array_size(v) : json_object_size(v);
    if (v && !json_is_null(v) && !json_is_array(v) && !json_is_object(v)) {
        _cleanup_buf_ struct gantry_buf b = GANTRY_BUF_INIT_CAP(64);
        tpl_print_action(&b, v);
        at(ex, n->pipe->pos, n->pipe->end);
        return tpl_fail(ex, "range can't iterate over %s", b.data);
    }
    if (count == 0)
        return exec_list(ex, dot, n->else_list);
    return range_over(ex, n, v);
}

static int exec_node(struct tpl_exec *ex, json_t *dot, const struct tpl_node *n)
{
    switch (n->type) {
    case TPL_TEXT:
        return emit(ex, n->text, n->len);
    case TPL_ACTION:
        return exec_action(ex, dot, n);
    case TPL_IF:
    case TPL_WITH:
        return exec_if_with(ex, dot, n);
    case TPL_RANGE:
        return exec_range(ex, dot, n);
    case TPL_BREAK:
        ex->flow = TPL_FLOW_BREAK;
        return 0;
    case TPL_CONTINUE:
        ex->flow = TPL_FLOW_CONTINUE;
        return 0;
    }
    return 0;
}

static int exec_list(struct tpl_exec *ex, json_t *dot, const struct tpl_node *n)
{
    for (; n && ex->flow == TPL_FLOW_NORMAL; n = n->next)
        if (exec_node(ex, dot, n) < 0)
            return -1;
    return 0;
}

static void exec_release(struct tpl_exec *ex)
{
    var_pop(ex, 0);
    free(ex->vars);
}

int gantry_template_execute(const struct gantry_template *t, struct json_t *data,
                            struct gantry_buf *out, struct gantry_error **err)
{
    if (!t || !out)
        return gantry_error_set(err, GANTRY_E_INVALID_ARG, 0, "template: nothing to execute");
    __attribute__((cleanup(exec_release))) struct tpl_exec ex = {
        .t = t, .out = out, .err = err, .limit = out->cap ? out->cap : TPL_VALUE_MAX};
    var_push(&ex, "$", data);
    return exec_list(&ex, data, t->root);
}
