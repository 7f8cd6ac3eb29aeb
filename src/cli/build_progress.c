/*
 * The live view of `gantry build` on a terminal, like BuildKit's tty mode:
 *
 *      => [linux/amd64 1/3] COPY a.txt /a.txt                 DONE 0.1s
 *      => [linux/arm64 1/3] COPY a.txt /a.txt                    CACHED
 *     [+] Building 1.4s (2/6)
 *      => [linux/amd64 2/3] COPY big/ /big/                        1.3s
 *
 * A finished step is printed once, permanently, above the live part (the
 * header and the running steps), which is redrawn in place through
 * progress.c (cli_progress_live) on every event and by a ticker thread
 * every TICK_MS, so elapsed times move while a long step runs. Drawing
 * through progress.c keeps warnings and --debug lines above the live part
 * and the push/pull table of a base image pulled meanwhile above it too.
 * The live part never has more lines than the terminal minus two, so
 * cursor-up always reaches its top.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <gantry/build.h>

#include "cli.h"
#include "util.h"

#define TICK_MS 200
#define LINE_MAX_BYTES 1024

struct vstep {
    unsigned id;
    char *label; /* "[linux/amd64 tools 2/3] COPY a /a" */
    struct timespec t0;
};

/* A stage seen, by its platform and index: its steps count in the total. */
struct vstage {
    char *platform;
    size_t index;
};

struct cli_build_view {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t ticker;
    bool stop;
    struct timespec t0;
    struct vstep *running; /* started, not finished, in order of start */
    size_t n_running;
    struct vstage *stages;
    size_t n_stages;
    size_t total; /* steps of the stages seen */
    size_t done;  /* finished steps */
};

static double seconds_since(const struct timespec *t0)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t0->tv_sec) + (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

/* n, or less so that s is not cut inside a UTF-8 character. */
static size_t utf8_cut(const char *s, size_t n)
{
    while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
        n--;
    return n;
}

/* " => LABEL ...  STATUS" in cols - 1 columns, the label cut when long. */
static void format_step(const char *label, const char *status, char *out, size_t outlen)
{
    size_t cols, rows;
    cli_term_size(&cols, &rows);
    size_t width = cols > 1 ? cols - 1 : 1;
    if (width > outlen - 1)
        width = outlen - 1;
    size_t slen = strlen(status);
    size_t room = width > slen + 5 ? width - slen - 5 : 0; /* " => " and a space */
    size_t llen = strlen(label);
    if (llen > room)
        llen = utf8_cut(label, room);
    size_t pad = width >= 5 + llen + slen ? width - 4 - llen - slen : 1;
    snprintf(out, outlen, " => %.*s%*s%s", (int)llen, label, (int)pad, "", status);
}

static void header(const struct cli_build_view *v, const char *end, char *out, size_t outlen)
{
    size_t total = v->total > v->done + v->n_running ? v->total : v->done + v->n_running;
    snprintf(out, outlen, "[+] Building %.1fs (%zu/%zu)%s", seconds_since(&v->t0), v->done, total,
             end);
}

/* The header and the running steps (at most rows - 2 lines), then draw. */
static void draw(struct cli_build_view *v, const char *final)
{
    size_t cols, rows;
    cli_term_size(&cols, &rows);
    size_t max = rows > 3 ? rows - 2 : 1;
    size_t n = 1 + v->n_running < max ? 1 + v->n_running : max;
    char(*buf)[LINE_MAX_BYTES] = xcalloc(n, sizeof(*buf));
    const char **lines = xcalloc(n, sizeof(*lines));
    header(v, "", buf[0], sizeof(buf[0]));
    for (size_t i = 1; i < n; i++) {
        char el[32];
        snprintf(el, sizeof(el), "%.1fs", seconds_since(&v->running[i - 1].t0));
        format_step(v->running[i - 1].label, el, buf[i], sizeof(buf[i]));
    }
    if (n < 1 + v->n_running) /* no room for all: say how many are hidden */
        snprintf(buf[n - 1], sizeof(buf[n - 1]), " => ... %zu more steps running",
                 v->n_running - (n - 2));
    for (size_t i = 0; i < n; i++)
        lines[i] = buf[i];
    cli_progress_live(final ? &final : NULL, final ? 1 : 0, lines, n);
    free(lines);
    free(buf);
}

static void count_stage(struct cli_build_view *v, const struct gantry_build_step *ev)
{
    for (size_t i = 0; i < v->n_stages; i++)
        if (v->stages[i].index == ev->stage_index &&
            strcmp(v->stages[i].platform, ev->platform) == 0)
            return;
    v->stages = xrealloc(v->stages, (v->n_stages + 1) * sizeof(*v->stages));
    v->stages[v->n_stages++] = (struct vstage){xstrdup(ev->platform), ev->stage_index};
    v->total += ev->total;
}

static void step_started(struct cli_build_view *v, const struct gantry_build_step *ev)
{
    count_stage(v, ev);
    v->running = xrealloc(v->running, (v->n_running + 1) * sizeof(*v->running));
    struct vstep *s = &v->running[v->n_running++];
    s->id = ev->id;
    s->label = xasprintf("[%s%s%s %zu/%zu] %s", ev->platform, ev->stage ? " " : "",
                         ev->stage ? ev->stage : "", ev->n, ev->total, ev->text);
    /* One screen line each: an instruction continued over lines, a tab or
     * an escape would break the count of lines to redraw. */
    for (char *c = s->label; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = ' ';
    clock_gettime(CLOCK_MONOTONIC, &s->t0);
    draw(v, NULL);
}

static void step_finished(struct cli_build_view *v, const struct gantry_build_step *ev)
{
    size_t i = 0;
    while (i < v->n_running && v->running[i].id != ev->id)
        i++;
    if (i == v->n_running)
        return; /* never started: nothing to finish */
    char status[32], line[LINE_MAX_BYTES];
    if (ev->state == GANTRY_BUILD_STEP_CACHED)
        snprintf(status, sizeof(status), "CACHED");
    else
        snprintf(status, sizeof(status), "%s %.1fs",
                 ev->state == GANTRY_BUILD_STEP_ERROR ? "ERROR" : "DONE", ev->elapsed);
    format_step(v->running[i].label, status, line, sizeof(line));
    free(v->running[i].label);
    memmove(&v->running[i], &v->running[i + 1], (v->n_running - i - 1) * sizeof(*v->running));
    v->n_running--;
    v->done++;
    draw(v, line);
}

void cli_build_view_step(void *user, const struct gantry_build_step *ev)
{
    struct cli_build_view *v = user;
    pthread_mutex_lock(&v->lock);
    if (ev->state == GANTRY_BUILD_STEP_STARTED)
        step_started(v, ev);
    else
        step_finished(v, ev);
    pthread_mutex_unlock(&v->lock);
}

/* Redraw every TICK_MS until stopped, so that running times move. */
static void *ticker(void *arg)
{
    struct cli_build_view *v = arg;
    pthread_mutex_lock(&v->lock);
    while (!v->stop) {
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_nsec += TICK_MS * 1000000L;
        until.tv_sec += until.tv_nsec / 1000000000L;
        until.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&v->wake, &v->lock, &until);
        if (!v->stop)
            draw(v, NULL);
    }
    pthread_mutex_unlock(&v->lock);
    return NULL;
}

struct cli_build_view *cli_build_view_start(void)
{
    if (!cli_progress_on_tty())
        return NULL;
    struct cli_build_view *v = xcalloc(1, sizeof(*v));
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&v->wake, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&v->lock, NULL);
    clock_gettime(CLOCK_MONOTONIC, &v->t0);
    pthread_mutex_lock(&v->lock);
    draw(v, NULL);
    pthread_mutex_unlock(&v->lock);
    if (pthread_create(&v->ticker, NULL, ticker, v) != 0)
        v->stop = true; /* no ticker: events still redraw */
    return v;
}

static void view_free(struct cli_build_view *v)
{
    for (size_t i = 0; i < v->n_running; i++)
        free(v->running[i].label);
    for (size_t i = 0; i < v->n_stages; i++)
        free(v->stages[i].platform);
    free(v->running);
    free(v->stages);
    pthread_cond_destroy(&v->wake);
    pthread_mutex_destroy(&v->lock);
    free(v);
}

void cli_build_view_finish(struct cli_build_view *v, bool ok)
{
    if (!v)
        return;
    pthread_mutex_lock(&v->lock);
    bool had_ticker = !v->stop;
    v->stop = true;
    pthread_cond_signal(&v->wake);
    pthread_mutex_unlock(&v->lock);
    if (had_ticker)
        pthread_join(v->ticker, NULL);
    /* Steps still running (none unless the build broke off): canceled. */
    size_t n = v->n_running;
    const char **final = xcalloc(n + 1, sizeof(*final));
    char(*buf)[LINE_MAX_BYTES] = xcalloc(n + 1, sizeof(*buf));
    for (size_t i = 0; i < n; i++) {
        format_step(v->running[i].label, "CANCELED", buf[i], sizeof(buf[i]));
        final[i] = buf[i];
    }
    header(v, ok ? " FINISHED" : " FAILED", buf[n], sizeof(buf[n]));
    final[n] = buf[n];
    cli_progress_live(final, n + 1, NULL, 0);
    free(final);
    free(buf);
    view_free(v);
}
