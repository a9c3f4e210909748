/* lg_import — the corpora people download turned into a lingraft corpus (`corpora import`).
 *
 * Readers, one per format, stream a file (gzip, xz or zstd told by its magic bytes,
 * lg_zstream.h) and hand each segment to a callback with its document:
 *   parallel  Moses/OPUS pairs of line-aligned files (PREFIX.en + PREFIX.LANG), OPUS TMX
 *             (expat, streamed; the pair chosen by xml:lang/lang: en and the target, region
 *             subtags matched: nl-NL, en_US), TSV (english and target columns);
 *   mono      plain text (a document a line, or documents separated by blank lines with a
 *             segment a line, as CC-100), JSON Lines with a named string field (HF datasets
 *             exports, CulturaX, FineWeb-2, MADLAD: a document a line, a segment a line of
 *             its text).
 * Input that is not what its format says (invalid UTF-8, a <tu> without the target language,
 * a JSON line without the field, files of different lengths) is an error naming the file
 * and the line: the import stops and writes nothing.
 *
 * lg_import_corpus then runs every source through the records lg_corpus_assemble reads (the
 * Debian recipes' cleaning, filters, duplicate removal and held-out split by document) and
 * writes the corpus directory whole or not at all: mono.txt.gz, en-LANG.tsv.gz, heldout.txt,
 * heldout.en-LANG.tsv, counts.json, SHA256SUMS and MANIFEST.json (each input's format,
 * compression, size and sha256; the counts; the outputs' sha256). */
#ifndef LG_IMPORT_H
#define LG_IMPORT_H

#include <stdint.h>

#include "lg_error.h"
#include "lg_segment.h"

typedef enum {
    LG_IMPORT_MOSES,  /* path: PREFIX (PREFIX.en + PREFIX.LANG), or path + path2 */
    LG_IMPORT_TMX,
    LG_IMPORT_TSV,
    LG_IMPORT_TEXT,
    LG_IMPORT_JSONL,
} lg_import_format;

const char *lg_import_format_name(lg_import_format f);
int lg_import_is_parallel(lg_import_format f);

typedef struct {
    const char *lang;        /* the target language ("nl"); TMX's tuv are matched to it */
    int doc_size;            /* formats without documents (Moses, TMX, TSV): this many
                                segments make one document of the held-out split */
    int tsv_en_col, tsv_target_col; /* 1-based columns of a TSV */
    int text_blank_docs;     /* text: blank lines separate documents (else a line each) */
    int text_join_lines;     /* with text_blank_docs: a document's lines are one segment */
    const char *json_field;  /* JSON Lines: the field holding the text ("text") */
    int tmx_skip_incomplete; /* TMX: a <tu> without en or the target is skipped (counted in
                                skipped), not an error */
} lg_import_options;

/* A segment: doc names its document (unique within the source), en is NULL for monolingual
 * text. Returns 0, or -1 with an error to stop the reader. */
typedef int (*lg_import_emit)(void *ctx, const char *doc, const char *en, const char *text,
                              lg_error *err);

typedef struct {
    char format[8];          /* the compression: plain, gzip, xz, zstd */
    char sha256[65];         /* of the file's bytes */
    int64_t bytes;           /* the file's size */
    long units;              /* lines, <tu> or JSON lines read */
    long segments;           /* segments handed to the callback */
    long skipped;            /* <tu>/lines skipped as allowed (blank JSON lines, other tuv) */
} lg_import_file_stats;

/* One reader per format; 0, or -1 with an error naming the file (and line). The stats
 * (st2: the Moses target file) may be NULL. */
int lg_import_tmx(const char *path, const lg_import_options *opt, lg_import_emit emit,
                  void *ctx, lg_import_file_stats *st, lg_error *err);
int lg_import_tsv(const char *path, const lg_import_options *opt, lg_import_emit emit,
                  void *ctx, lg_import_file_stats *st, lg_error *err);
int lg_import_moses(const char *en_path, const char *target_path, const lg_import_options *opt,
                    lg_import_emit emit, void *ctx, lg_import_file_stats *st,
                    lg_import_file_stats *st2, lg_error *err);
int lg_import_text(const char *path, const lg_import_options *opt, lg_import_emit emit,
                   void *ctx, lg_import_file_stats *st, lg_error *err);
int lg_import_jsonl(const char *path, const lg_import_options *opt, lg_import_emit emit,
                    void *ctx, lg_import_file_stats *st, lg_error *err);

/* 1 when a TMX/BCP 47 language tag names the language code: "nl", "NL", "nl-NL", "nl_BE"
 * all name "nl" (the primary subtag, case-insensitive). */
int lg_import_lang_matches(const char *tag, const char *code);

/* The Moses files of PREFIX for language code: PREFIX.code, else PREFIX.code.gz/.xz/.zst
 * (the first that exists); 0, or -1 when none exists (out then holds PREFIX.code). */
int lg_import_moses_file(const char *prefix, const char *code, char *out, size_t cap);

typedef struct {
    lg_import_format format;
    const char *path;
    const char *path2;       /* Moses: the target file (path: the English one) */
} lg_import_source;

typedef struct {
    lg_import_options read;
    int heldout_permille;
    lg_segment_rules rules;
    const lg_import_source *sources;
    int n_sources;
    const char *out_dir;     /* written whole (lg_atomic_dir): complete or untouched */
} lg_import_run;

int lg_import_corpus(const lg_import_run *run, lg_error *err);

#endif
