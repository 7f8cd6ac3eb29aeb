/* --format handling shared by the read commands: tables, templates, JSON. */
#include <jansson.h>
#include <string.h>
#include <time.h>

#include <gantry/store.h>
#include <gantry/template.h>

#include "cli.h"
#include "output.h"
#include "util.h"

/* Go's tabwriter settings of the docker CLI (minwidth 10, padding 3). */
#define TABLE_MINWIDTH 10
#define TABLE_PADDING 3

/* Format text as docker prepares it: no "table", blanks trimmed, \t and \n. */
static char *prepare_format(const char *format, bool *table)
{
    *table = str_has_prefix(format, "table");
    if (*table)
        format += strlen("table");
    while (*format == ' ')
        format++;
    size_t len = strlen(format);
    while (len > 0 && format[len - 1] == ' ')
        len--;
    char *out = xmalloc(len + 1);
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (format[i] == '\\' && i + 1 < len && (format[i + 1] == 't' || format[i + 1] == 'n')) {
            out[o++] = format[++i] == 't' ? '\t' : '\n';
            continue;
        }
        out[o++] = format[i];
    }
    out[o] = '\0';
    return out;
}

int cli_output_init(struct cli_output *o, const char *format, const char *default_table,
                    struct json_t *headers, struct gantry_error **err)
{
    *o = (struct cli_output){.mode = CLI_OUTPUT_LINES, .text = GANTRY_BUF_INIT};
    if (!format || !*format || strcmp(format, "table") == 0)
        format = default_table;
    if (strcmp(format, "json") == 0) {
        o->mode = CLI_OUTPUT_JSON;
        return 0;
    }
    bool table = false;
    _cleanup_free_ char *text = prepare_format(format, &table);
    o->tmpl = gantry_template_parse(text, strlen(text), err);
    if (!o->tmpl)
        return -1;
    if (!table)
        return 0;
    o->mode = CLI_OUTPUT_TABLE;
    /* As docker does, a header that fails to render is printed as far as it got. */
    int rc = gantry_template_execute(o->tmpl, headers, &o->text, NULL);
    (void)rc;
    if (gantry_buf_addstr(&o->text, "\n") < 0)
        oom();
    return 0;
}

int cli_output_row(struct cli_output *o, struct json_t *row, struct gantry_error **err)
{
    if (o->mode == CLI_OUTPUT_JSON) {
        _cleanup_free_ char *s = json_dumps(row, JSON_COMPACT | JSON_ENCODE_ANY);
        if (!s)
            oom();
        if (gantry_buf_addstr(&o->text, s) < 0 || gantry_buf_addstr(&o->text, "\n") < 0)
            oom();
        return 0;
    }
    if (gantry_template_execute(o->tmpl, row, &o->text, err) < 0)
        return -1;
    if (gantry_buf_addstr(&o->text, "\n") < 0)
        oom();
    return 0;
}

void cli_output_flush(struct cli_output *o, FILE *f)
{
    if (o->mode == CLI_OUTPUT_TABLE)
        cli_tabwrite(o->text.data, o->text.len, f, TABLE_MINWIDTH, TABLE_PADDING);
    else
        fwrite(o->text.data, 1, o->text.len, f);
    gantry_buf_reset(&o->text);
}

void cli_output_release(struct cli_output *o)
{
    gantry_template_free(o->tmpl);
    o->tmpl = NULL;
    gantry_buf_release(&o->text);
}

/* One line split into cells: starts and lengths, the last cell not tab-ended. */
struct tab_line {
    const char *start;
    size_t len;
    size_t n_cells;
    size_t *widths; /* column width for each tab-ended cell */
};

static size_t utf8_width(const char *s, size_t n)
{
    size_t w = 0;
    for (size_t i = 0; i < n; i++)
        w += ((unsigned char)s[i] & 0xc0) != 0x80;
    return w;
}

/* Width of cell col of line l (a count of UTF-8 characters). */
static size_t cell_width(const struct tab_line *l, size_t col)
{
    const char *p = l->start, *end = l->start + l->len;
    for (size_t c = 0; c < col; c++)
        p = (const char *)memchr(p, '\t', (size_t)(end - p)) + 1;
    const char *tab = memchr(p, '\t', (size_t)(end - p));
    return utf8_width(p, (size_t)((tab ? tab : end) - p));
}

/* Columns are sized per block of consecutive lines that have them (Go's rule). */
static void size_columns(struct tab_line *lines, size_t n, size_t minwidth, size_t padding)
{
    size_t max_cols = 0;
    for (size_t i = 0; i < n; i++)
        max_cols = lines[i].n_cells > max_cols ? lines[i].n_cells : max_cols;
    for (size_t col = 0; col + 1 < max_cols; col++) {
        for (size_t i = 0; i < n;) {
            if (lines[i].n_cells <= col + 1) {
                i++;
                continue;
            }
            size_t j = i, width = minwidth;
            for (; j < n && lines[j].n_cells > col + 1; j++) {
                size_t w = cell_width(&lines[j], col) + padding;
                width = w > width ? w : width;
            }
            for (; i < j; i++)
                lines[i].widths[col] = width;
        }
    }
}

static void write_line(const struct tab_line *l, FILE *f)
{
    const char *p = l->start, *end = l->start + l->len;
    for (size_t col = 0; col + 1 < l->n_cells; col++) {
        const char *tab = memchr(p, '\t', (size_t)(end - p));
        size_t w = utf8_width(p, (size_t)(tab - p));
        fwrite(p, 1, (size_t)(tab - p), f);
        for (; w < l->widths[col]; w++)
            fputc(' ', f);
        p = tab + 1;
    }
    fwrite(p, 1, (size_t)(end - p), f);
}

void cli_tabwrite(const char *text, size_t len, FILE *f, size_t minwidth, size_t padding)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += text[i] == '\n';
    n += len > 0 && text[len - 1] != '\n';
    _cleanup_free_ struct tab_line *lines = xcalloc(n, sizeof(*lines));
    const char *p = text, *end = text + len;
    for (size_t i = 0; i < n; i++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        lines[i].start = p;
        lines[i].len = (size_t)((nl ? nl : end) - p);
        lines[i].n_cells = 1;
        for (size_t k = 0; k < lines[i].len; k++)
            lines[i].n_cells += p[k] == '\t';
        lines[i].widths = xcalloc(lines[i].n_cells, sizeof(size_t));
        p = nl ? nl + 1 : end;
    }
    size_columns(lines, n, minwidth, padding);
    for (size_t i = 0; i < n; i++) {
        write_line(&lines[i], f);
        if (i + 1 < n || (len > 0 && text[len - 1] == '\n'))
            fputc('\n', f);
        free(lines[i].widths);
    }
}

void cli_print_json(FILE *f, struct json_t *v, bool indent)
{
    size_t flags = JSON_ENCODE_ANY | (indent ? JSON_INDENT(4) : JSON_COMPACT);
    _cleanup_free_ char *s = json_dumps(v, flags);
    if (!s)
        oom();
    fputs(s, f);
    fputc('\n', f);
}

char *cli_human_duration(int64_t seconds)
{
    int64_t minutes = seconds / 60, hours = (seconds + 1800) / 3600;
    if (seconds < 1)
        return xstrdup("Less than a second");
    if (seconds == 1)
        return xstrdup("1 second");
    if (seconds < 60)
        return xasprintf("%lld seconds", (long long)seconds);
    if (minutes == 1)
        return xstrdup("About a minute");
    if (minutes < 60)
        return xasprintf("%lld minutes", (long long)minutes);
    if (hours == 1)
        return xstrdup("About an hour");
    if (hours < 48)
        return xasprintf("%lld hours", (long long)hours);
    if (hours < 24 * 7 * 2)
        return xasprintf("%lld days", (long long)(hours / 24));
    if (hours < 24 * 30 * 2)
        return xasprintf("%lld weeks", (long long)(hours / 24 / 7));
    if (hours < 24 * 365 * 2)
        return xasprintf("%lld months", (long long)(hours / 24 / 30));
    return xasprintf("%lld years", (long long)(seconds / 3600 / 24 / 365));
}

char *cli_time_since(int64_t t)
{
    if (t < 0)
        return xstrdup("N/A");
    _cleanup_free_ char *d = cli_human_duration((int64_t)time(NULL) - t);
    return xasprintf("%s ago", d);
}

char *cli_time_string(int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    char buf[64];
    if (t < 0 || !localtime_r(&tt, &tm) ||
        strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S %z %Z", &tm) == 0)
        return xstrdup("N/A");
    return xstrdup(buf);
}

static struct gantry_store *open_store(int flags, struct gantry_error **err)
{
    _cleanup_free_ char *dflt = NULL;
    const char *root = cli_globals.root;
    if (!root || !*root) {
        dflt = gantry_store_default_root(err);
        if (!dflt)
            return NULL;
        root = dflt;
    }
    return gantry_store_open(root, flags, err);
}

struct gantry_store *cli_open_store(struct gantry_error **err)
{
    return open_store(GANTRY_STORE_CREATE, err);
}

struct gantry_store *cli_open_existing_store(struct gantry_error **err)
{
    return open_store(0, err);
}

int cli_platforms_add(struct cli_platforms *l, const char *list)
{
    for (const char *p = list;; p++) {
        const char *end = strchrnul(p, ',');
        struct gantry_error *err = NULL;
        l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
        if (gantry_platform_parse(p, (size_t)(end - p), &l->v[l->n], &err) < 0)
            return cli_fail(err);
        l->n++;
        if (!*end)
            return 0;
        p = end;
    }
}

void cli_platforms_release(struct cli_platforms *l)
{
    for (size_t i = 0; i < l->n; i++)
        gantry_platform_release(&l->v[i]);
    free(l->v);
    *l = (struct cli_platforms){0};
}

int cli_option_error(const char *cmd, int c, char **argv)
{
    const char *arg = argv[optind - 1];
    char shortopt[] = {'-', (char)optopt, '\0'};
    /* A short option may sit in a cluster ("-qx"): then name the letter. */
    const char *name = str_has_prefix(arg, "--") || !optopt ? arg : shortopt;
    if (c == ':')
        return cli_usage_error(cmd, "option '%s' needs a value", name);
    return cli_usage_error(cmd, "unknown option '%s'", name);
}
