/* Terminal progress bar: redrawn in place with \r, throttled, silent when not a tty. */
#include "lg_progress.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

double lg_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void lg_progress_start(lg_progress *p, const char *label, int64_t total)
{
    memset(p, 0, sizeof *p);
    snprintf(p->label, sizeof p->label, "%s", label);
    p->total = total;
    p->t_start = lg_now();
    p->enabled = isatty(STDERR_FILENO) && !getenv("LG_NO_PROGRESS");
}

static void format_duration(char *buf, size_t n, double s)
{
    if (s < 0 || s > 1e7)
        snprintf(buf, n, "--:--");
    else if (s >= 3600)
        snprintf(buf, n, "%d:%02d:%02d", (int)s / 3600, ((int)s / 60) % 60, (int)s % 60);
    else
        snprintf(buf, n, "%02d:%02d", (int)s / 60, (int)s % 60);
}

void lg_progress_update(lg_progress *p, int64_t done, const char *fmt, ...)
{
    if (!p->enabled)
        return;
    double now = lg_now();
    if (now - p->t_last_draw < 0.1 && done != p->total)
        return;
    p->t_last_draw = now;
    double elapsed = now - p->t_start;
    double rate = elapsed > 0 ? (double)done / elapsed : 0;
    char extra[256] = "";
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(extra, sizeof extra, fmt, ap);
        va_end(ap);
    }
    char eta[32], el[32];
    format_duration(el, sizeof el, elapsed);
    if (p->total > 0) {
        const int width = 24;
        int filled = (int)((double)width * (double)done / (double)p->total);
        if (filled > width)
            filled = width;
        char bar[32];
        for (int i = 0; i < width; i++)
            bar[i] = i < filled ? '#' : '.';
        bar[width] = 0;
        format_duration(eta, sizeof eta, rate > 0 ? (double)(p->total - done) / rate : -1);
        fprintf(stderr, "\r\033[K%s [%s] %lld/%lld %.1f/s %s ETA %s %s", p->label, bar,
                (long long)done, (long long)p->total, rate, el, eta, extra);
    } else {
        fprintf(stderr, "\r\033[K%s %lld %.1f/s %s %s", p->label, (long long)done, rate, el, extra);
    }
    fflush(stderr);
}

void lg_progress_finish(lg_progress *p)
{
    if (p->enabled) {
        fputc('\n', stderr);
        fflush(stderr);
    }
}
