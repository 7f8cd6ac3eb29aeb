/*
 * --format for read commands, the way the docker CLI does it:
 *
 *     (none) or "table"   the command's default table
 *     "table TEMPLATE"    a header row, then one row per item, columns
 *                         separated by \t aligned like Go's tabwriter
 *                         (minimum width 10, padding 3)
 *     "json"              one compact JSON object per line
 *     TEMPLATE            one line per item, no header, no alignment
 *
 * The literal two-character sequences \t and \n in a format become a tab
 * and a newline. Outline:
 *
 *     struct cli_output o;
 *     if (cli_output_init(&o, format, DEFAULT_TABLE, headers, &err) < 0)
 *         return cli_fail(err);
 *     for (...)
 *         if (cli_output_row(&o, row_json, &err) < 0) ...;
 *     cli_output_flush(&o, stdout);
 *     cli_output_release(&o);
 *
 * headers maps each field name to its column title ({"ID": "IMAGE ID"}):
 * the header row is the template executed over it, as docker does.
 */
#ifndef GANTRY_CLI_OUTPUT_H
#define GANTRY_CLI_OUTPUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <gantry/core.h>

struct json_t;
struct gantry_template;

enum cli_output_mode {
    CLI_OUTPUT_TABLE,
    CLI_OUTPUT_LINES,
    CLI_OUTPUT_JSON,
};

struct cli_output {
    enum cli_output_mode mode;
    struct gantry_template *tmpl; /* NULL in JSON mode */
    struct gantry_buf text;       /* rendered so far */
};

/*
 * Prepare o for format (NULL or "" = default_table, which must start with
 * "table "). headers is borrowed for the call. Errors: the template's
 * parse errors (GANTRY_E_PARSE).
 */
int cli_output_init(struct cli_output *o, const char *format, const char *default_table,
                    struct json_t *headers, struct gantry_error **err) GANTRY_WUR;

/* Render one item (borrowed). Errors: the template's execution errors. */
int cli_output_row(struct cli_output *o, struct json_t *row, struct gantry_error **err) GANTRY_WUR;

/* Write what was rendered (aligned in table mode) to f and empty the buffer. */
void cli_output_flush(struct cli_output *o, FILE *f);

/* Free the template and buffer. */
void cli_output_release(struct cli_output *o);

/*
 * Align tab-separated cells like Go's text/tabwriter (flags 0): every cell
 * ended by a tab is padded to its column's widest cell plus padding, at
 * least minwidth; the last cell of a line is not padded. Widths count
 * UTF-8 characters.
 */
void cli_tabwrite(const char *text, size_t len, FILE *f, size_t minwidth, size_t padding);

/*
 * Print v as JSON: indented with 4 spaces (docker inspect's layout), or
 * compact; members in insertion order; a newline at the end.
 */
void cli_print_json(FILE *f, struct json_t *v, bool indent);

/*
 * Docker's HumanDuration for a number of seconds: "Less than a second",
 * "About a minute", "5 minutes", "3 days", "2 years". Caller frees.
 */
char *cli_human_duration(int64_t seconds);

/* "2 minutes ago" for a Unix time (now taken from the clock); "N/A" when t < 0. */
char *cli_time_since(int64_t t);

/* Go's time.Time.String() in local time: "2024-01-02 15:04:05 +0100 CET". */
char *cli_time_string(int64_t t);

#endif
