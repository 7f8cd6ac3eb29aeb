/*
 * CLI plumbing shared by the cmd_*.c files: the command table, exit codes,
 * error printing. Commands parse options, call the library, print, and map
 * errors to exit codes; no business logic lives here.
 */
#ifndef GANTRY_CLI_H
#define GANTRY_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#include <gantry/core.h>
#include <gantry/platform.h>

#define EXIT_USAGE 2

struct cli_globals {
    const char *root;     /* --root, or NULL for the default store */
    const char *progress; /* auto|plain|quiet */
    bool debug;
};

extern struct cli_globals cli_globals;

/* Every command: int cmd_<name>(int argc, char **argv), argv[0] = name. */
#define GANTRY_COMMAND(name, fn, summary) int fn(int argc, char **argv);
#include "commands.def"
#undef GANTRY_COMMAND

/* Print "gantry: <msg>" for err, free it, return 1. */
int cli_fail(struct gantry_error *err);
/* Print "gantry: <fmt>" and return 1 (or the given code with cli_failx). */
int cli_errorf(const char *fmt, ...) GANTRY_PRINTF(1, 2);
/* Print "gantry: <fmt>\nSee 'gantry <cmd> --help'." and return EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) GANTRY_PRINTF(2, 3);

/*
 * Standard option loop helper: returns true when argv asks for --help
 * (anywhere before "--"), after printing help to stdout.
 */
bool cli_wants_help(int argc, char **argv, const char *help);

/*
 * Report what getopt_long (optstring starting with ':') returned for a bad
 * option, c being '?' or ':' (or an option the command refuses), naming the
 * option as it was written; returns EXIT_USAGE.
 */
int cli_option_error(const char *cmd, int c, char **argv);

/* The platforms of a repeatable --platform option taking comma-separated lists. */
struct cli_platforms {
    struct gantry_platform *v;
    size_t n;
};

/* Add each platform of the comma-separated list; 0, or 1 after printing the error. */
int cli_platforms_add(struct cli_platforms *l, const char *list);
/* Free the platforms and zero l. */
void cli_platforms_release(struct cli_platforms *l);

/*
 * Open the store of --root, $GANTRY_ROOT or the default location, creating
 * it when missing; cli_open_existing_store does not create it. NULL with
 * *err.
 */
struct gantry_store;
struct gantry_store *cli_open_store(struct gantry_error **err);
struct gantry_store *cli_open_existing_store(struct gantry_error **err);

/*
 * Install the progress display for --progress auto|plain|quiet. Returns 0,
 * or 1 after printing an error for an unknown mode.
 */
int cli_progress_setup(const char *how);
/*
 * --jobs N (1 to 64) and --tls-verify true|false (false sets *insecure):
 * 0, or EXIT_USAGE after printing a usage error naming cmd.
 */
int cli_parse_jobs(const char *cmd, const char *s, unsigned *out);

/* --chunk-size N[k|m|g] (binary units, at most 1 TiB): 0, or EXIT_USAGE
 * after printing a usage error for cmd. */
int cli_parse_chunk_size(const char *cmd, const char *s, size_t *out);
int cli_parse_tls_verify(const char *cmd, const char *s, bool *insecure);

/* Docker's human sizes: "1.2MB", "512B" (powers of 1000). */
void cli_human_size(uint64_t n, char *out, size_t outlen);

#endif
