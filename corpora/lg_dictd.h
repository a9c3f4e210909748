/* lg_dictd — reads FreeDict dictionaries in dictd form (.index + .dict.dz).
 *
 * Each index line names a headword and the base64 offset/length of its article in
 * the (dictzip = gzip) data. An article is "headword /pronunciation/" followed by
 * translation lines ("1. in staat om", "altijd, immer, steeds"). lg_dictd_pairs()
 * writes one "english<TAB>target" line per translation; reverse = 1 for a
 * target→English dictionary. The 00-database-* entries are skipped and the Dutch
 * ligature ĳ is written as "ij". */
#ifndef LG_DICTD_H
#define LG_DICTD_H

#include <stdio.h>
#include "lg_error.h"

/* Returns the number of lines written to out, or -1. */
long lg_dictd_pairs(const char *index_path, const char *dict_path, int reverse, FILE *out,
                    lg_error *err);

#endif
