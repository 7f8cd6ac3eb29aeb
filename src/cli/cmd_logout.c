/* gantry logout: forget the credentials of a registry, as docker logout does. */
#include <stdio.h>
#include <string.h>

#include <gantry/registry.h>

#include "cli.h"
#include "util.h"

static const char help[] = "Usage: gantry logout [SERVER]\n"
                           "\n"
                           "Remove the credentials saved for SERVER (default Docker Hub) from\n"
                           "Docker's config file ($DOCKER_CONFIG/config.json, else\n"
                           "~/.docker/config.json) and from the credential helper it names.\n"
                           "\n"
                           "Options:\n"
                           "  -h, --help   Show this help\n";

int cmd_logout(int argc, char **argv)
{
    if (cli_wants_help(argc, argv, help))
        return 0;
    if (argc > 2)
        return cli_usage_error("logout", "'logout' takes at most one server");
    if (argc == 2 && argv[1][0] == '-')
        return cli_usage_error("logout", "unknown option '%s'", argv[1]);
    const char *server = argc == 2 ? argv[1] : "docker.io";
    struct gantry_error *err = NULL;
    _cleanup_free_ char *key = gantry_registry_server_key(server, &err);
    _cleanup_free_ char *config = key ? gantry_registry_config_path(&err) : NULL;
    if (!config)
        return cli_fail(err);
    bool found = false;
    if (gantry_registry_config_erase(config, server, &found, &err) < 0)
        return cli_fail(err);
    if (found)
        printf("Removing login credentials for %s\n", key);
    else
        printf("Not logged in to %s\n", key);
    return 0;
}
