/* lg_manifest — writes a corpus's MANIFEST.json.
 *
 * Joins the recipe's source table (SOURCES.tsv: name, status, packages as
 * "pkg=version=sha256" words, licence, message), the counts lg_corpus_assemble
 * wrote (DIR/counts.json) and the output checksums (DIR/SHA256SUMS, sha256sum's
 * format) into DIR/MANIFEST.json: what went in, from which package versions, under
 * which licence, what failed and why, and how much text each source gave. */
#ifndef LG_MANIFEST_H
#define LG_MANIFEST_H

#include <cJSON.h>

#include "lg_error.h"

/* build_seconds < 0 leaves the build time out. */
int lg_manifest_write(const char *lang, const char *dir, const char *sources_tsv,
                      double build_seconds, lg_error *err);

/* The same for a corpus whose sources are described by the caller (corpora import): an array
 * of objects, each with a "name" that counts.json's sources use (each gets its "counts");
 * the array is taken over (freed here). made_by names the writer ("corpora import"). */
int lg_manifest_write_sources(const char *lang, const char *dir, cJSON *sources,
                              const char *made_by, double build_seconds, lg_error *err);

#endif
