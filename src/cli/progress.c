/*
 * Progress display on stderr, like `docker pull` and `docker push`.
 *
 * On a terminal ("auto" when stderr is a tty): one line per item (short
 * digest, action, a bar and bytes/total), the lines of the items still
 * moving redrawn in place with cursor-up escapes, at most every 100 ms
 * unless an item starts or finishes. Items are kept in the order they
 * first reported; the finished ones at the top of the table are final and
 * no longer redrawn, so only the moving part of the table is rewritten.
 * Otherwise ("plain") one line per finished item; nothing for "quiet".
 * On a terminal the display also takes the log lines (--debug, warnings):
 * each is printed where the moving part of the table was, and the table
 * drawn again below it, so neither overwrites the other.
 * Other displays (the steps of `gantry build`) add lines of their own
 * below the table with cli_progress_live: printed once above the moving
 * part, or redrawn in place as part of it. Every drawn line ends with a
 * newline and the cursor is never hidden, so whenever the process stops
 * the cursor is on a fresh line.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "util.h"

#define DRAW_INTERVAL_MS 100
#define BAR_WIDTH 30

enum progress_mode { PROGRESS_TTY, PROGRESS_PLAIN, PROGRESS_QUIET };

struct item {
    char id[40];
    char action[40];
    uint64_t done;
    uint64_t total;
    bool finished;
};

static enum progress_mode mode = PROGRESS_QUIET;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct item *items;
static size_t n_items;
static size_t top;   /* items[top..] are the lines drawn last, redrawn in place */
static size_t drawn; /* lines drawn below the final part of the table */
static char **live;  /* cli_progress_live's lines, drawn below the table */
static size_t n_live;
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
    return ms >= DRAW_INTERVAL_MS;
}

/* Columns and rows of the terminal, with defaults when unknown. */
static void term_size(size_t *cols, size_t *rows)
{
    struct winsize ws;
    bool ok = ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0;
    *cols = ok && ws.ws_col > 0 ? ws.ws_col : 80;
    *rows = ok && ws.ws_row > 0 ? ws.ws_row : 24;
}

/* "Pull complete": the action with a capital, as docker shows it. */
static void action_label(const char *action, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s", action);
    if (out[0] >= 'a' && out[0] <= 'z')
        out[0] = (char)(out[0] - 'a' + 'A');
}

/* One table line, cut to fit cols - 1 so that it never wraps. */
static void format_line(const struct item *it, size_t cols, char *out, size_t outlen)
{
    char label[40], done[16], total[16], bar[BAR_WIDTH + 1];
    action_label(it->action, label, sizeof(label));
    human_size(it->done, done, sizeof(done));
    human_size(it->total, total, sizeof(total));
    if (it->finished) {
        snprintf(out, outlen, "%s: %s", it->id, label);
    } else if (it->total && cols < 80) {
        /* No room for a bar: keep the counts. */
        snprintf(out, outlen, "%s: %s %s/%s", it->id, label, done, total);
    } else if (it->total) {
        size_t fill =
            (size_t)(it->done >= it->total ? BAR_WIDTH : it->done * BAR_WIDTH / it->total);
        memset(bar, '=', fill);
        if (fill < BAR_WIDTH)
            bar[fill] = '>';
        memset(bar + fill + 1, ' ', fill < BAR_WIDTH ? BAR_WIDTH - fill - 1 : 0);
        bar[BAR_WIDTH] = '\0';
        snprintf(out, outlen, "%s: %-15s [%s] %7s/%s", it->id, label, bar, done, total);
    } else {
        snprintf(out, outlen, "%s: %-15s %s", it->id, label, done);
    }
    if (cols > 1 && strlen(out) > cols - 1)
        out[cols - 1] = '\0';
}

/* Print s cut to cols - 1 columns (counting bytes, cutting between UTF-8 characters). */
static void put_cut(const char *s, size_t cols)
{
    size_t n = strlen(s);
    if (cols > 1 && n > cols - 1) {
        n = cols - 1;
        while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
            n--;
    }
    fprintf(stderr, "\r\033[K%.*s\n", (int)n, s);
}

/* Rewrite the moving part of the table and the live lines, then let
 * finished items at the table's top settle. final: lines printed once
 * above them. */
static void redraw_with(const char *const *final, size_t n_final)
{
    size_t cols, rows;
    term_size(&cols, &rows);
    size_t before = drawn;
    if (drawn)
        fprintf(stderr, "\033[%zuA", drawn);
    for (size_t i = 0; i < n_final; i++)
        put_cut(final[i], cols);
    char line[256];
    for (size_t i = top; i < n_items; i++) {
        format_line(&items[i], cols, line, sizeof(line));
        fprintf(stderr, "\r\033[K%s\n", line);
    }
    for (size_t i = 0; i < n_live; i++)
        put_cut(live[i], cols);
    drawn = n_items - top + n_live;
    if (n_final + drawn < before) /* fewer lines than last time: erase the rest */
        fprintf(stderr, "\033[J");
    /* Cursor-up cannot reach above the screen: lines beyond it are final. */
    while (top < n_items && (items[top].finished || drawn >= rows)) {
        top++;
        drawn--;
    }
    fflush(stderr);
    clock_gettime(CLOCK_MONOTONIC, &last_draw);
}

static void redraw(void)
{
    redraw_with(NULL, 0);
}

/* The item for id; a new one at the end when it is not in the table, or
 * when it scrolled off the screen (*added says so). */
static struct item *item_for(const char *id, bool *added)
{
    for (size_t i = n_items; i-- > top;)
        if (strcmp(items[i].id, id) == 0) {
            *added = false;
            return &items[i];
        }
    items = xrealloc(items, (n_items + 1) * sizeof(*items));
    struct item *it = &items[n_items++];
    *it = (struct item){0};
    snprintf(it->id, sizeof(it->id), "%s", id);
    *added = true;
    return it;
}

static void on_tty(const struct gantry_progress *p)
{
    bool added;
    struct item *it = item_for(p->id ? p->id : "", &added);
    snprintf(it->action, sizeof(it->action), "%s", p->action ? p->action : "");
    it->done = p->done;
    it->total = p->total;
    it->finished = p->finished;
    if (added || p->finished || draw_due())
        redraw();
}

static void on_progress(void *user, const struct gantry_progress *p)
{
    (void)user;
    pthread_mutex_lock(&lock);
    if (mode == PROGRESS_TTY) {
        on_tty(p);
    } else if (mode == PROGRESS_PLAIN && p->finished) {
        char label[40], done[16];
        action_label(p->action ? p->action : "", label, sizeof(label));
        human_size(p->done, done, sizeof(done));
        fprintf(stderr, "%s: %s %s\n", p->id ? p->id : "", label, done);
    }
    pthread_mutex_unlock(&lock);
}

/* main.c's log lines, printed above the moving part of the table. */
static void log_above_table(void *user, enum gantry_log_level level, const char *msg)
{
    (void)user;
    if (level == GANTRY_LOG_DEBUG && !cli_globals.debug)
        return;
    pthread_mutex_lock(&lock);
    if (drawn)
        fprintf(stderr, "\033[%zuA\r\033[J", drawn);
    drawn = 0;
    fprintf(stderr, "%s%s\n", level == GANTRY_LOG_WARN ? "gantry: warning: " : "", msg);
    if (top < n_items || n_live)
        redraw();
    else
        fflush(stderr);
    pthread_mutex_unlock(&lock);
}

static void live_set(const char *const *lines, size_t n)
{
    for (size_t i = 0; i < n_live; i++)
        free(live[i]);
    free(live);
    live = n ? xcalloc(n, sizeof(*live)) : NULL;
    for (size_t i = 0; i < n; i++)
        live[i] = xstrdup(lines[i]);
    n_live = n;
}

void cli_progress_live(const char *const *final, size_t n_final, const char *const *lines, size_t n)
{
    pthread_mutex_lock(&lock);
    if (mode == PROGRESS_TTY) {
        live_set(lines, n);
        redraw_with(final, n_final);
    }
    pthread_mutex_unlock(&lock);
}

bool cli_progress_on_tty(void)
{
    return mode == PROGRESS_TTY;
}

void cli_term_size(size_t *cols, size_t *rows)
{
    term_size(cols, rows);
}

int cli_progress_setup(const char *how)
{
    if (!how || strcmp(how, "auto") == 0)
        mode = isatty(STDERR_FILENO) ? PROGRESS_TTY : PROGRESS_QUIET;
    else if (strcmp(how, "tty") == 0)
        mode = PROGRESS_TTY;
    else if (strcmp(how, "plain") == 0)
        mode = PROGRESS_PLAIN;
    else if (strcmp(how, "quiet") == 0 || strcmp(how, "none") == 0)
        mode = PROGRESS_QUIET;
    else
        return cli_errorf("invalid --progress '%s': want auto, tty, plain or quiet", how);
    gantry_set_progress_handler(mode == PROGRESS_QUIET ? NULL : on_progress, NULL);
    if (mode == PROGRESS_TTY)
        gantry_set_log_handler(log_above_table, NULL);
    return 0;
}

void cli_human_size(uint64_t n, char *out, size_t outlen)
{
    human_size(n, out, outlen);
}
