/*
 * Progress display on stderr: a redrawn line per item on a terminal
 * ("auto" when stderr is a tty), one line when an item finishes otherwise
 * ("plain"), nothing for "quiet".
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "util.h"

enum progress_mode { PROGRESS_TTY, PROGRESS_PLAIN, PROGRESS_QUIET };

static enum progress_mode mode = PROGRESS_QUIET;
static struct timespec last_draw;

static void human_size(uint64_t n, char *out, size_t outlen)
{
    static const char *const units[] = {"B", "kB", "MB", "GB", "TB"};
    double v = (double)n;
    size_t u = 0;
    while (v >= 1000.0 && u + 1 < ARRAY_SIZE(units)) {
        v /= 1000.0;
        u++;
    }
    snprintf(out, outlen, u ? "%.3g%s" : "%.0f%s", v, units[u]);
}

static bool draw_due(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long ms = (now.tv_sec - last_draw.tv_sec) * 1000 + (now.tv_nsec - last_draw.tv_nsec) / 1000000;
    if (ms < 100)
        return false;
    last_draw = now;
    return true;
}

static void on_progress(void *user, const struct gantry_progress *p)
{
    (void)user;
    char done[32], total[32];
    human_size(p->done, done, sizeof(done));
    human_size(p->total, total, sizeof(total));
    if (mode == PROGRESS_TTY) {
        if (!p->finished && !draw_due())
            return;
        if (p->total)
            fprintf(stderr, "\r\033[K%s %s: %s / %s", p->id, p->action, done, total);
        else
            fprintf(stderr, "\r\033[K%s %s: %s", p->id, p->action, done);
        if (p->finished)
            fputc('\n', stderr);
    } else if (mode == PROGRESS_PLAIN && p->finished) {
        fprintf(stderr, "%s %s: %s\n", p->id, p->action, done);
    }
}

int cli_progress_setup(const char *how)
{
    if (!how || strcmp(how, "auto") == 0)
        mode = isatty(STDERR_FILENO) ? PROGRESS_TTY : PROGRESS_QUIET;
    else if (strcmp(how, "plain") == 0)
        mode = PROGRESS_PLAIN;
    else if (strcmp(how, "quiet") == 0 || strcmp(how, "none") == 0)
        mode = PROGRESS_QUIET;
    else
        return cli_errorf("invalid --progress '%s': want auto, plain or quiet", how);
    gantry_set_progress_handler(mode == PROGRESS_QUIET ? NULL : on_progress, NULL);
    return 0;
}

void cli_human_size(uint64_t n, char *out, size_t outlen)
{
    human_size(n, out, outlen);
}
