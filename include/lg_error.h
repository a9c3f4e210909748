/* lg_error — how every fallible lingraft function reports a problem.
 *
 * A function that can fail takes `lg_error *err` last and returns a negative
 * value (or NULL); the message names the file and the problem, e.g.
 * "model.safetensors: header claims 4096 bytes but the file has 100".
 * Programs print it once, prefixed with their name, and exit non-zero. */
#ifndef LG_ERROR_H
#define LG_ERROR_H

#include <stdarg.h>

typedef struct {
    char msg[1024];
} lg_error;

/* Formats the message into err (when err is not NULL) and returns -1. */
int lg_fail(lg_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prefixes the existing message: "context: old message". Returns -1. */
int lg_fail_context(lg_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints "program: message" to stderr. */
void lg_error_print(const char *program, const lg_error *err);

#endif
