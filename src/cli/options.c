/*
 * Option values several commands share: --jobs, --tls-verify and
 * --chunk-size, and the registry options of pull, push, copy, manifest and
 * inspect parsed in one place.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <gantry/registry.h>

#include "cli.h"

int cli_parse_jobs(const char *cmd, const char *s, unsigned *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || end == s || *end || v < 1 || v > 64)
        return cli_usage_error(cmd, "invalid --jobs '%s': want a number from 1 to 64", s);
    *out = (unsigned)v;
    return 0;
}

int cli_parse_tls_verify(const char *cmd, const char *s, bool *insecure)
{
    if (strcmp(s, "false") == 0)
        *insecure = true;
    else if (strcmp(s, "true") != 0)
        return cli_usage_error(cmd, "invalid --tls-verify '%s': want true or false", s);
    return 0;
}

/* --chunk-size N[k|m|g] (binary units): 0, or EXIT_USAGE after a usage error. */
int cli_parse_chunk_size(const char *cmd, const char *s, size_t *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long long n = strtoull(s, &end, 10);
    unsigned shift = 0;
    if (end && *end && strchr("kKmMgG", *end) && end[1] == '\0')
        shift = strchr("kK", *end) ? 10 : strchr("mM", *end) ? 20 : 30;
    else if (!end || *end)
        n = 0;
    if (errno || end == s || n == 0 || n > (1ull << 40) >> shift)
        return cli_usage_error(
            cmd, "invalid --chunk-size '%s': want bytes, or a number with k, m or g", s);
    *out = (size_t)(n << shift);
    return 0;
}

int cli_registry_option(const char *cmd, int c, const char *arg, struct cli_registry_opts *o)
{
    int rc = 0;
    switch (c) {
    case CLI_OPT_INSECURE:
        o->insecure = true;
        break;
    case CLI_OPT_TLS_VERIFY:
        rc = cli_parse_tls_verify(cmd, arg, &o->insecure);
        break;
    case 'j':
        rc = cli_parse_jobs(cmd, arg, &o->jobs);
        break;
    case CLI_OPT_CHUNK_SIZE:
        rc = cli_parse_chunk_size(cmd, arg, &o->chunk_size);
        break;
    default:
        return 0;
    }
    return rc == 0 ? 1 : -1;
}

struct gantry_registry_client *cli_registry_client(const struct cli_registry_opts *o,
                                                   struct gantry_error **err)
{
    struct gantry_registry_opts ro = {.insecure = o->insecure};
    return gantry_registry_client_new(&ro, err);
}
