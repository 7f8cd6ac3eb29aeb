/* gantry: entry point, global options and command dispatch. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "util.h"

struct cli_globals cli_globals = {.progress = "auto"};

struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
};

static const struct command commands[] = {
#define GANTRY_COMMAND(name, fn, summary) {name, fn, summary},
#include "commands.def"
#undef GANTRY_COMMAND
};

/* Aliases Docker users type. */
static const struct {
    const char *alias;
    const char *name;
} aliases[] = {
    {"ls", "images"},
    {"list", "images"},
    {"rm", "rmi"},
};

static void print_usage(FILE *out)
{
    fprintf(out, "Usage: gantry [OPTIONS] COMMAND [ARGS...]\n\n"
                 "Build, store, inspect and ship multi-platform container images.\n\n"
                 "Options:\n"
                 "      --root DIR        Store location (default $GANTRY_ROOT, else\n"
                 "                        $XDG_DATA_HOME/gantry, /var/lib/gantry for root)\n"
                 "      --progress MODE   Progress: auto, plain, tty or quiet (default auto)\n"
                 "      --debug           Show debug messages\n"
                 "  -h, --help            Show this help\n"
                 "  -v, --version         Show the version\n\n"
                 "Commands:\n");
    for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
        fprintf(out, "  %-12s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nRun 'gantry COMMAND --help' for more information on a command.\n");
}

static void log_to_stderr(void *user, enum gantry_log_level level, const char *msg)
{
    (void)user;
    if (level == GANTRY_LOG_DEBUG && !cli_globals.debug)
        return;
    fprintf(stderr, "%s%s\n", level == GANTRY_LOG_WARN ? "gantry: warning: " : "", msg);
}

int cli_fail(struct gantry_error *err)
{
    fprintf(stderr, "gantry: %s\n", err ? err->message : "unknown error");
    gantry_error_free(err);
    return 1;
}

int cli_errorf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("gantry: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 1;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("gantry: ", stderr);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nSee 'gantry %s --help'.\n", cmd);
    va_end(ap);
    return EXIT_USAGE;
}

bool cli_wants_help(int argc, char **argv, const char *help)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            break;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(help, stdout);
            return true;
        }
    }
    return false;
}

int main(int argc, char **argv)
{
    int i = 1;
    const char *env_root = getenv("GANTRY_ROOT");
    if (env_root && *env_root)
        cli_globals.root = env_root;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--root") == 0 && i + 1 < argc) {
            cli_globals.root = argv[++i];
        } else if (str_has_prefix(a, "--root=")) {
            cli_globals.root = a + 7;
        } else if (strcmp(a, "--progress") == 0 && i + 1 < argc) {
            cli_globals.progress = argv[++i];
        } else if (str_has_prefix(a, "--progress=")) {
            cli_globals.progress = a + 11;
        } else if (strcmp(a, "--debug") == 0 || strcmp(a, "-D") == 0) {
            cli_globals.debug = true;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            print_usage(stdout);
            return 0;
        } else if (strcmp(a, "-v") == 0 || strcmp(a, "--version") == 0) {
            {
                char vname[] = "version";
                return cmd_version(1, (char *[]){vname, NULL});
            }
        } else {
            fprintf(stderr, "gantry: unknown option '%s'\nSee 'gantry --help'.\n", a);
            return EXIT_USAGE;
        }
    }
    if (i >= argc) {
        print_usage(stderr);
        return EXIT_USAGE;
    }
    gantry_set_log_handler(log_to_stderr, NULL);
    if (cli_progress_setup(cli_globals.progress) != 0)
        return EXIT_USAGE;
    const char *name = argv[i];
    for (size_t k = 0; k < ARRAY_SIZE(aliases); k++)
        if (strcmp(name, aliases[k].alias) == 0)
            name = aliases[k].name;
    for (size_t k = 0; k < ARRAY_SIZE(commands); k++) {
        if (strcmp(name, commands[k].name) == 0) {
            optind = 0; /* reset getopt for the command's own parse */
            return commands[k].fn(argc - i, argv + i);
        }
    }
    fprintf(stderr, "gantry: '%s' is not a gantry command\nSee 'gantry --help'.\n", argv[i]);
    return EXIT_USAGE;
}
