/* lg_mo — reads GNU gettext binary catalogs (.mo files).
 *
 * lg_mo_each() calls back once per translated message with its context
 * (msgctxt, or NULL), the English msgid, the plural msgid (or NULL) and the
 * translations (msgstr[0..n)). The header entry (empty msgid) and untranslated
 * messages are skipped. Both byte orders are accepted; offsets are checked. */
#ifndef LG_MO_H
#define LG_MO_H

#include <stddef.h>
#include "lg_error.h"

#define LG_MO_MAX_FORMS 8

typedef struct {
    const char *context;      /* NULL when the message has no msgctxt */
    const char *msgid;
    const char *msgid_plural; /* NULL for a singular message */
    const char *msgstr[LG_MO_MAX_FORMS];
    int n_msgstr;             /* plural forms present (1 for a singular message) */
} lg_mo_message;

/* Returns 0 to go on, non-zero to stop early. */
typedef int (*lg_mo_callback)(void *ctx, const lg_mo_message *msg);

/* Parses a catalog held in memory; returns the number of messages passed to cb or -1. */
long lg_mo_parse(const unsigned char *data, size_t size, const char *name,
                 lg_mo_callback cb, void *ctx, lg_error *err);

/* Reads the file and parses it; name in messages is the path. */
long lg_mo_each(const char *path, lg_mo_callback cb, void *ctx, lg_error *err);

#endif
