/* lg_corpus_reader — streaming line reader for corpora: plain or gzip files, "-" for stdin.
 *
 *   lg_corpus_reader *r = lg_corpus_open("corpus.txt.gz", &err);
 *   const char *line; size_t len;
 *   while ((rc = lg_corpus_next(r, &line, &len, &err)) > 0) ... lg_corpus_line_number(r) ...
 *   lg_corpus_close(r);
 * gzip is detected by its magic bytes (zlib reads plain files unchanged), lines may be of
 * any length, the trailing "\n" (and "\r") is removed; only one line is held in memory. */
#ifndef LG_CORPUS_READER_H
#define LG_CORPUS_READER_H

#include <stddef.h>
#include <stdint.h>
#include "lg_error.h"

typedef struct lg_corpus_reader lg_corpus_reader;

lg_corpus_reader *lg_corpus_open(const char *path, lg_error *err);
/* 1 and the line (NUL-terminated, valid until the next call), 0 at the end, -1 on a read
 * or decompression error. */
int lg_corpus_next(lg_corpus_reader *r, const char **line, size_t *len, lg_error *err);
/* 1-based number of the line last returned. */
int64_t lg_corpus_line_number(const lg_corpus_reader *r);
/* Compressed bytes read so far, for progress against the file size. */
int64_t lg_corpus_offset(const lg_corpus_reader *r);
/* The path as given ("-" for stdin): for messages. */
const char *lg_corpus_path(const lg_corpus_reader *r);
void lg_corpus_close(lg_corpus_reader *r);

#endif
