/* lg_fluent — messages of Mozilla localisation files, keyed the same in every language.
 *
 * lg_fluent_each() reads a Fluent file (.ftl: "id = value", indented continuation
 * lines, ".attr = value" attributes, "-term = value") and passes each message as
 * key "id" or "id.attr" with its value (continuation lines joined by a space;
 * select expressions are kept for the segment filter to drop).
 * lg_properties_each() reads a Java-style .properties file ("key = value",
 * backslash continuations, \uXXXX escapes). */
#ifndef LG_FLUENT_H
#define LG_FLUENT_H

#include "lg_error.h"

typedef int (*lg_keyed_callback)(void *ctx, const char *key, const char *value);

/* Both return the number of messages passed to cb, or -1. */
long lg_fluent_each(const char *path, lg_keyed_callback cb, void *ctx, lg_error *err);
long lg_properties_each(const char *path, lg_keyed_callback cb, void *ctx, lg_error *err);

#endif
