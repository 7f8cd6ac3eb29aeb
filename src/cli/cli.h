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
 * Install the progress display for --progress auto|tty|plain|quiet ("tty":
 * the terminal display even when stderr is not one). Returns 0, or 1 after
 * printing an error for an unknown mode.
 */
int cli_progress_setup(const char *how);
/* True when the terminal display is on (auto on a tty, or tty). */
bool cli_progress_on_tty(void);
/* Columns and rows of stderr's terminal (80x24 when unknown). */
void cli_term_size(size_t *cols, size_t *rows);
/*
 * Lines of another display (build steps) on the terminal display: final
 * printed once above its moving part, lines (copied) replacing the live
 * lines redrawn in place below the push/pull table; each cut to the width.
 * cli_progress_live(final, n, NULL, 0) ends the live part. A no-op unless
 * cli_progress_on_tty().
 */
void cli_progress_live(const char *const *final, size_t n_final, const char *const *lines,
                       size_t n);
/*
 * build_progress.c: the live view of `gantry build` on the terminal
 * display (cli_progress_on_tty): a "[+] Building" header and the running
 * steps redrawn in place a few times a second by a ticker thread, finished
 * steps printed once above them. start returns the view (NULL: none);
 * cli_build_view_step is the build's on_step with the view as user;
 * finish stops the ticker, prints the summary line and frees the view.
 */
struct gantry_build_step;
struct cli_build_view;
struct cli_build_view *cli_build_view_start(void);
void cli_build_view_step(void *user, const struct gantry_build_step *ev);
void cli_build_view_finish(struct cli_build_view *v, bool ok);

/*
 * --jobs N (1 to 64) and --tls-verify true|false (false sets *insecure):
 * 0, or EXIT_USAGE after printing a usage error naming cmd.
 */
int cli_parse_jobs(const char *cmd, const char *s, unsigned *out);

/* --chunk-size N[k|m|g] (binary units, at most 1 TiB): 0, or EXIT_USAGE
 * after printing a usage error for cmd. */
int cli_parse_chunk_size(const char *cmd, const char *s, size_t *out);
int cli_parse_tls_verify(const char *cmd, const char *s, bool *insecure);

/*
 * The registry options pull, push, copy, manifest and inspect share:
 * --insecure, --tls-verify=BOOL, -j/--jobs N and --chunk-size N. A command
 * lists the entries it takes in its getopt_long table (and 'j' in its
 * optstring for -j), and offers every option to cli_registry_option before
 * its own:
 *
 *     static const struct option opts[] = {..., CLI_LONG_TLS, CLI_LONG_JOBS, {0}};
 *     while ((c = getopt_long(argc, argv, ":j:q", opts, NULL)) != -1) {
 *         int r = cli_registry_option("pull", c, optarg, &a->reg);
 *         if (r < 0)
 *             return EXIT_USAGE;
 *         if (r == 0) ... the command's own options ...
 *     }
 */
struct cli_registry_opts {
    bool insecure;     /* --insecure, --tls-verify=false */
    unsigned jobs;     /* --jobs; 0: the library's default */
    size_t chunk_size; /* --chunk-size; 0: the client's default */
};

/* getopt_long values of the long-only options, beyond any short letter. */
enum { CLI_OPT_INSECURE = 0x100, CLI_OPT_TLS_VERIFY, CLI_OPT_CHUNK_SIZE };

/* clang-format off */
#define CLI_LONG_TLS                                                                               \
    {"insecure", no_argument, NULL, CLI_OPT_INSECURE},                                             \
    {"tls-verify", required_argument, NULL, CLI_OPT_TLS_VERIFY}
#define CLI_LONG_JOBS {"jobs", required_argument, NULL, 'j'}
#define CLI_LONG_CHUNK_SIZE {"chunk-size", required_argument, NULL, CLI_OPT_CHUNK_SIZE}
/* clang-format on */

/*
 * Apply option c (what getopt_long returned, arg its optarg) to o when it
 * is one of the registry options: 1 consumed, 0 not one of them, -1 a bad
 * value (the usage error naming cmd is printed; exit with EXIT_USAGE).
 */
int cli_registry_option(const char *cmd, int c, const char *arg, struct cli_registry_opts *o);

/* A registry client for o (TLS settings). NULL with *err. */
struct gantry_registry_client;
struct gantry_registry_client *cli_registry_client(const struct cli_registry_opts *o,
                                                   struct gantry_error **err);

/* Docker's human sizes: "1.2MB", "512B" (powers of 1000). */
void cli_human_size(uint64_t n, char *out, size_t outlen);

#endif
