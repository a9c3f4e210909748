/* lg_corpus_assemble — turns extracted records into a language's corpus files.
 *
 * Inputs are SOURCE.pairs files ("doc<TAB>english<TAB>target" lines) and
 * SOURCE.mono files ("doc<TAB>text"), plain or gzip, as the extractors write them.
 * Every segment is cleaned and checked (lg_segment); whole documents go to the
 * held-out split by a fixed hash of "source/doc"; duplicates and any training
 * segment equal to a held-out one are dropped. Writes into out_dir:
 *   mono.txt.gz          target text: target side of the training pairs + mono sources
 *   en-LANG.tsv.gz       english<TAB>target training pairs (not for lang "en")
 *   heldout.txt          held-out target text, one segment a line
 *   heldout.en-LANG.tsv  the held-out pairs (not for lang "en")
 *   counts.json          per source: records read, dropped by reason, kept, words */
#ifndef LG_CORPUS_ASSEMBLE_H
#define LG_CORPUS_ASSEMBLE_H

#include "lg_error.h"
#include "lg_segment.h"

typedef struct {
    const char *lang;          /* target language code; "en" builds English text only */
    const char *out_dir;
    int heldout_permille;      /* share of documents held out, in 1/1000 */
    lg_segment_rules rules;
    const char *const *inputs; /* SOURCE.pairs / SOURCE.mono[.gz] paths */
    int n_inputs;
} lg_assemble_options;

/* 1 when the document belongs to the held-out split: a fixed function of its names. */
int lg_heldout_doc(const char *source, const char *doc, int permille);

int lg_corpus_assemble(const lg_assemble_options *opt, lg_error *err);

#endif
