/* Option values several commands share: --jobs and --tls-verify. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

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
