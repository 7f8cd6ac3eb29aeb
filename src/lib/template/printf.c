/*
 * fmt.Sprintf over JSON values: Go's directive syntax (flags "#0+- ",
 * width and precision as numbers or '*', argument indexes "[n]") and its
 * in-band error reports: %!d(string=x), %!s(MISSING), %!(EXTRA int=1),
 * %!(NOVERB), %!(BADWIDTH), %!(BADPREC), %!v(BADINDEX).
 */
#include "template_int.h"

#define FMT_MAX_NUM 1000000 /* fmt's tooLarge: widths past this are errors */

struct fmt_state {
    const char *f;
    size_t n, i;
    json_t *const *args;
    size_t nargs, argi;
    bool reordered, good_argnum;
};

/* fmt.parsenum: digits at st->i up to end; false if none or too large. */
static bool parse_num(struct fmt_state *st, size_t end, int *out)
{
    long num = 0;
    bool any = false;
    while (st->i < end && st->f[st->i] >= '0' && st->f[st->i] <= '9') {
        if (num > FMT_MAX_NUM) {
            st->i = end;
            return false;
        }
        num = num * 10 + (st->f[st->i++] - '0');
        any = true;
    }
    if (num > FMT_MAX_NUM) { /* Go lets a last digit through; we do not */
        st->i = end;
        return false;
    }
    *out = (int)num;
    return any;
}

/* fmt.argNumber: an optional "[n]"; true when one was read. */
static bool arg_number(struct fmt_state *st)
{
    if (st->i >= st->n || st->f[st->i] != '[')
        return false;
    st->reordered = true;
    size_t close = st->i + 1;
    while (close < st->n && st->f[close] != ']')
        close++;
    if (st->n - st->i < 3 || close >= st->n) {
        st->i++;
        st->good_argnum = false;
        return false;
    }
    st->i++;
    int index;
    bool ok = parse_num(st, close, &index) && st->i == close;
    st->i = close + 1;
    if (ok && index >= 1 && (size_t)index <= st->nargs) {
        st->argi = (size_t)index - 1;
        return true;
    }
    st->good_argnum = false;
    return ok;
}

/* fmt.intFromArg for '*': the next argument, which must be an integer. */
static bool int_from_arg(struct fmt_state *st, int *out)
{
    *out = 0;
    if (st->argi >= st->nargs)
        return false;
    const json_t *a = st->args[st->argi++];
    if (!json_is_integer(a))
        return false;
    json_int_t v = json_integer_value(a);
    if (v > FMT_MAX_NUM || v < -FMT_MAX_NUM)
        return false;
    *out = (int)v;
    return true;
}

static void parse_flags(struct fmt_state *st, struct tpl_spec *sp)
{
    for (; st->i < st->n; st->i++) {
        switch (st->f[st->i]) {
        case '#':
            sp->sharp = true;
            break;
        case '0':
            sp->zero = !sp->minus;
            break;
        case '+':
            sp->plus = true;
            break;
        case '-':
            sp->minus = true;
            sp->zero = false;
            break;
        case ' ':
            sp->space = true;
            break;
        default:
            return;
        }
    }
}

static bool parse_width(struct fmt_state *st, struct tpl_spec *sp, struct gantry_buf *b,
                        bool after_index)
{
    if (st->i < st->n && st->f[st->i] == '*') {
        st->i++;
        sp->has_width = int_from_arg(st, &sp->width);
        if (!sp->has_width)
            tpl_puts(b, "%!(BADWIDTH)");
        if (sp->width < 0) {
            sp->width = -sp->width;
            sp->minus = true;
            sp->zero = false;
        }
        return false;
    }
    sp->has_width = parse_num(st, st->n, &sp->width);
    if (after_index && sp->has_width)
        st->good_argnum = false;
    return after_index;
}

static bool parse_precision(struct fmt_state *st, struct tpl_spec *sp, struct gantry_buf *b,
                            bool after_index)
{
    if (!(st->i + 1 < st->n && st->f[st->i] == '.'))
        return after_index;
    st->i++;
    if (after_index)
        st->good_argnum = false;
    after_index = arg_number(st);
    if (st->i < st->n && st->f[st->i] == '*') {
        st->i++;
        sp->has_prec = int_from_arg(st, &sp->prec);
        if (sp->prec < 0) {
            sp->prec = 0;
            sp->has_prec = false;
        }
        if (!sp->has_prec)
            tpl_puts(b, "%!(BADPREC)");
        return false;
    }
    if (!parse_num(st, st->n, &sp->prec))
        sp->prec = 0;
    sp->has_prec = true;
    return after_index;
}

static void verb_error(struct gantry_buf *b, long verb, const char *what)
{
    tpl_puts(b, "%!");
    tpl_utf8_encode(b, verb);
    tpl_puts(b, what);
}

/* One directive after '%'; false when the format ended without a verb. */
static bool directive(struct fmt_state *st, struct gantry_buf *b)
{
    struct tpl_spec sp = {0};
    parse_flags(st, &sp);
    bool after_index = arg_number(st);
    after_index = parse_width(st, &sp, b, after_index);
    after_index = parse_precision(st, &sp, b, after_index);
    if (!after_index)
        arg_number(st);
    if (st->i >= st->n) {
        tpl_puts(b, "%!(NOVERB)");
        return false;
    }
    long verb;
    st->i += tpl_utf8_decode(st->f + st->i, st->n - st->i, &verb);
    if (verb < 0)
        verb = 0xFFFD;
    if (verb == '%') {
        tpl_putc(b, '%');
    } else if (!st->good_argnum) {
        verb_error(b, verb, "(BADINDEX)");
    } else if (st->argi >= st->nargs) {
        verb_error(b, verb, "(MISSING)");
    } else {
        if (verb == 'v') {
            /* %+v and %#v change only structs and Go syntax: not ours */
            sp.plus = false;
            sp.sharp = false;
        }
        tpl_fmt_value(b, st->args[st->argi++], (int)verb, &sp);
    }
    return true;
}

void tpl_sprintf(struct gantry_buf *b, const char *format, size_t flen, json_t *const *args,
                 size_t n)
{
    struct fmt_state st = {.f = format, .n = flen, .args = args, .nargs = n};
    static const struct tpl_spec plain;
    while (st.i < st.n && !tpl_full(b)) {
        size_t lit = st.i;
        while (st.i < st.n && st.f[st.i] != '%')
            st.i++;
        tpl_put(b, st.f + lit, st.i - lit);
        if (st.i >= st.n)
            break;
        st.i++;
        st.good_argnum = true;
        if (!directive(&st, b))
            break;
    }
    if (st.reordered || st.argi >= st.nargs)
        return;
    tpl_puts(b, "%!(EXTRA ");
    for (size_t i = st.argi; i < st.nargs; i++) {
        if (i > st.argi)
            tpl_puts(b, ", ");
        if (!args[i] || json_is_null(args[i])) {
            tpl_puts(b, "<nil>");
            continue;
        }
        tpl_puts(b, tpl_go_type(args[i]));
        tpl_putc(b, '=');
        tpl_fmt_value(b, args[i], 'v', &plain);
    }
    tpl_putc(b, ')');
}
