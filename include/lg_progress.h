/* lg_progress — a one-line progress bar on stderr, drawn only when stderr is a terminal.
 *
 *   lg_progress p; lg_progress_start(&p, "align", total);
 *   for (...) lg_progress_update(&p, done, "loss %.3f", loss);
 *   lg_progress_finish(&p);
 * Redraws at most ~10 times a second; shows done/total, rate and ETA. */
#ifndef LG_PROGRESS_H
#define LG_PROGRESS_H

#include <stdint.h>

typedef struct {
    char label[64];
    int64_t total;       /* 0 when unknown */
    double t_start;      /* seconds, monotonic */
    double t_last_draw;
    int enabled;         /* stderr is a terminal and LG_NO_PROGRESS is unset */
} lg_progress;

void lg_progress_start(lg_progress *p, const char *label, int64_t total);
void lg_progress_update(lg_progress *p, int64_t done, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void lg_progress_finish(lg_progress *p);

/* Monotonic wall clock in seconds. */
double lg_now(void);

#endif
