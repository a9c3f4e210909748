/* lg_record_writer — the extractors' output: one record a line, fields joined by tabs.
 *
 * "doc<TAB>english<TAB>target" for pairs, "doc<TAB>text" for monolingual text.
 * Tabs, newlines and carriage returns inside a field become spaces so a record
 * always stays one line; the file is written atomically (lg_atomic_file). */
#ifndef LG_RECORD_WRITER_H
#define LG_RECORD_WRITER_H

#include "lg_io.h"
#include "lg_error.h"

typedef struct {
    lg_atomic_file af;
    long records;
} lg_record_writer;

int lg_record_open(lg_record_writer *w, const char *path, lg_error *err);
/* Writes one record of n fields (2 or 3). */
void lg_record_put(lg_record_writer *w, int n, const char *const *fields);
int lg_record_commit(lg_record_writer *w, lg_error *err);
void lg_record_abort(lg_record_writer *w);

#endif
