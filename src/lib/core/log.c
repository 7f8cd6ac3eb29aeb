/* Process-wide log and progress hooks; the library itself never prints. */
#include "util.h"

static gantry_log_fn log_fn;
static void *log_user;
static gantry_progress_fn progress_fn;
static void *progress_user;

void gantry_set_log_handler(gantry_log_fn fn, void *user)
{
    log_fn = fn;
    log_user = user;
}

void gantry_set_progress_handler(gantry_progress_fn fn, void *user)
{
    progress_fn = fn;
    progress_user = user;
}

void gantry_log(enum gantry_log_level level, const char *fmt, ...)
{
    if (!log_fn)
        return;
    va_list ap;
    char *msg = NULL;
    va_start(ap, fmt);
    msg = xvasprintf(fmt, ap);
    va_end(ap);
    log_fn(log_user, level, msg);
    free(msg);
}

void gantry_progress(const struct gantry_progress *p)
{
    if (progress_fn)
        progress_fn(progress_user, p);
}

const char *gantry_version(void)
{
    return "0.1.0";
}
