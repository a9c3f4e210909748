/* Extractor records: tab-separated fields, one line each, written atomically. */
#include "lg_record_writer.h"

#include <stdio.h>

int lg_record_open(lg_record_writer *w, const char *path, lg_error *err)
{
    w->records = 0;
    return lg_atomic_open(&w->af, path, err);
}

void lg_record_put(lg_record_writer *w, int n, const char *const *fields)
{
    FILE *f = w->af.fp;
    for (int i = 0; i < n; i++) {
        if (i)
            putc('\t', f);
        for (const char *p = fields[i]; *p; p++)
            putc(*p == '\t' || *p == '\n' || *p == '\r' ? ' ' : *p, f);
    }
    putc('\n', f);
    w->records++;
}

int lg_record_commit(lg_record_writer *w, lg_error *err)
{
    return lg_atomic_commit(&w->af, err);
}

void lg_record_abort(lg_record_writer *w)
{
    lg_atomic_abort(&w->af);
}
