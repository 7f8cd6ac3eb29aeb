/* gantry login: check credentials with a registry and save them as docker does. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>

#include <gantry/registry.h>

#include "cli.h"
#include "util.h"

static const char help[] =
    "Usage: gantry login [OPTIONS] [SERVER]\n"
    "\n"
    "Log in to a registry: check the credentials against it (/v2/, with Basic\n"
    "auth or a token), then save them in Docker's config file\n"
    "($DOCKER_CONFIG/config.json, else ~/.docker/config.json), or in the\n"
    "credential helper it names, so that docker and gantry share one login.\n"
    "SERVER defaults to Docker Hub (docker.io). Without -u, the credentials\n"
    "already saved for SERVER are checked again; on a terminal gantry asks.\n"
    "\n"
    "Options:\n"
    "  -u, --username USER     Username\n"
    "  -p, --password PASS     Password or token (visible to other users of\n"
    "                          this machine: prefer --password-stdin)\n"
    "      --password-stdin    Read the password from standard input\n"
    "      --insecure          Allow plain HTTP and skip TLS verification\n"
    "      --tls-verify=false  Same as --insecure\n"
    "  -h, --help              Show this help\n";

struct login_args {
    const char *server;
    char *username;
    char *password;
    bool password_stdin;
    struct cli_registry_opts reg; /* --insecure, --tls-verify */
};

static int parse(int argc, char **argv, struct login_args *a)
{
    static const struct option opts[] = {
        {"username", required_argument, NULL, 'u'},
        {"password", required_argument, NULL, 'p'},
        {"password-stdin", no_argument, NULL, 's'},
        CLI_LONG_TLS,
        {NULL, 0, NULL, 0},
    };
    int c;
    opterr = 0;
    optind = 0;
    while ((c = getopt_long(argc, argv, ":u:p:", opts, NULL)) != -1) {
        int r = cli_registry_option("login", c, optarg, &a->reg);
        if (r < 0)
            return EXIT_USAGE;
        if (r > 0)
            continue;
        if (c == 'u') {
            a->username = xstrdup(optarg);
        } else if (c == 'p') {
            a->password = xstrdup(optarg);
        } else if (c == 's') {
            a->password_stdin = true;
        } else {
            return cli_usage_error("login", "invalid or unknown option '%s'", argv[optind - 1]);
        }
    }
    if (argc - optind > 1)
        return cli_usage_error("login", "'login' takes at most one server");
    a->server = optind < argc ? argv[optind] : "docker.io";
    if (a->password && a->password_stdin)
        return cli_usage_error("login", "--password and --password-stdin are mutually exclusive");
    if (a->password_stdin && !a->username)
        return cli_usage_error("login", "--password-stdin needs --username");
    return 0;
}

/* One line of stdin without its line end; with echo off for a password. */
static char *read_line(const char *prompt, bool secret)
{
    struct termios old, quiet;
    bool tty = isatty(STDIN_FILENO);
    if (prompt && tty)
        fprintf(stderr, "%s", prompt);
    bool hidden = secret && tty && tcgetattr(STDIN_FILENO, &old) == 0;
    if (hidden) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = getline(&line, &cap, stdin);
    if (hidden) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fputc('\n', stderr);
    }
    if (n < 0) {
        free(line);
        return NULL;
    }
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    return line;
}

/* Fill in what the command line did not give: saved credentials or a prompt. */
static int complete(struct login_args *a, struct gantry_registry_credentials *cred,
                    const char *config)
{
    if (a->password_stdin && !(a->password = read_line(NULL, true)))
        return cli_errorf("no password on standard input");
    if (!a->username && !a->password) {
        struct gantry_error *err = NULL;
        if (gantry_registry_config_get(config, a->server, cred, &err) < 0)
            return cli_fail(err);
        if (cred->username || cred->identity_token)
            return 0;
    }
    if (!a->username && isatty(STDIN_FILENO))
        a->username = read_line("Username: ", false);
    if (!a->username || !*a->username)
        return cli_usage_error("login", "no username: give --username (and --password-stdin)");
    if (!a->password && isatty(STDIN_FILENO))
        a->password = read_line("Password: ", true);
    if (!a->password || !*a->password)
        return cli_usage_error("login", "no password: give --password-stdin");
    cred->username = steal_pointer(&a->username);
    cred->password = steal_pointer(&a->password);
    return 0;
}

static int login(const struct login_args *a, const struct gantry_registry_credentials *cred,
                 const char *config)
{
    struct gantry_error *err = NULL;
    struct gantry_registry_opts o = {.insecure = a->reg.insecure, .config_path = config};
    struct gantry_registry_client *c = gantry_registry_client_new(&o, &err);
    if (!c)
        return cli_fail(err);
    int r = gantry_registry_login(c, a->server, cred, &err);
    gantry_registry_client_free(c);
    if (r < 0)
        return cli_fail(err);
    bool helper = false;
    if (gantry_registry_config_store(config, a->server, cred, &helper, &err) < 0)
        return cli_fail(err);
    if (!helper)
        fprintf(stderr, "WARNING! Your password will be stored unencrypted in %s.\n", config);
    printf("Login Succeeded\n");
    return 0;
}

int cmd_login(int argc, char **argv)
{
    if (cli_wants_help(argc, argv, help))
        return 0;
    struct login_args a = {0};
    int r = parse(argc, argv, &a);
    struct gantry_registry_credentials cred = {0};
    struct gantry_error *err = NULL;
    _cleanup_free_ char *config = r == 0 ? gantry_registry_config_path(&err) : NULL;
    if (r == 0 && !config)
        r = cli_fail(err);
    if (r == 0 && a.password && !a.password_stdin)
        fprintf(stderr, "WARNING! Using --password via the CLI is insecure. "
                        "Use --password-stdin.\n");
    if (r == 0)
        r = complete(&a, &cred, config);
    if (r == 0)
        r = login(&a, &cred, config);
    gantry_registry_credentials_release(&cred);
    struct gantry_registry_credentials leftovers = {.username = a.username, .password = a.password};
    gantry_registry_credentials_release(&leftovers);
    return r;
}
