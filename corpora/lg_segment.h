/* lg_segment — cleaning and quality checks for corpus segments and EN↔target pairs.
 *
 * lg_segment_clean() rewrites one segment in place: invalid UTF-8 is refused,
 * accelerators (~Open, _Open, &Open), markup (<b>, &amp;) and placeholders (%s,
 * %1$d, %(name)s, { $name }, {0}, ${x}, $(ARG1)) are removed, every kind of white
 * space becomes one space. lg_pair_check() cleans both sides of a pair and says
 * whether to keep it, and if not, why (identical, untranslated, too short, ...). */
#ifndef LG_SEGMENT_H
#define LG_SEGMENT_H

#include <stddef.h>

enum {
    LG_CLEAN_ACCELERATORS = 1, /* UI accelerators: ~ & _ before a letter */
    LG_CLEAN_MARKUP = 2,       /* XML/HTML tags and entities */
    LG_CLEAN_PLACEHOLDERS = 4, /* printf, Qt, Python, Fluent and LibreOffice variables */
    LG_CLEAN_ALL = 7
};

typedef enum {
    LG_VERDICT_KEPT = 0,
    LG_VERDICT_INVALID_UTF8,
    LG_VERDICT_EMPTY,
    LG_VERDICT_PLACEHOLDERS, /* placeholders or Fluent selectors dominate the text */
    LG_VERDICT_SHORT,        /* fewer letters than the minimum */
    LG_VERDICT_IDENTICAL,    /* target equals the English (untranslated) */
    LG_VERDICT_RATIO,        /* lengths too different to be translations */
    LG_VERDICT_COUNT
} lg_verdict;

typedef struct {
    unsigned clean_flags; /* LG_CLEAN_* */
    int min_letters;      /* per side */
    double max_ratio;     /* longer/shorter side in bytes, checked when the longer has >= 40 */
} lg_segment_rules;

/* Defaults: everything cleaned, 3 letters, ratio 4. */
lg_segment_rules lg_segment_default_rules(void);

/* Short stable name of a verdict for manifests: "kept", "identical", ... */
const char *lg_verdict_name(lg_verdict v);

/* 1 when s[0..n) is well-formed UTF-8 (no overlongs, surrogates or NULs). */
int lg_segment_utf8_valid(const char *s, size_t n);

/* Cleans the NUL-terminated s in place (it only shrinks). Returns the verdict for
 * the segment alone: KEPT, INVALID_UTF8, EMPTY, PLACEHOLDERS or SHORT. */
lg_verdict lg_segment_clean(char *s, const lg_segment_rules *rules);

/* Cleans both sides in place and checks them as a translation pair. */
lg_verdict lg_pair_check(char *en, char *target, const lg_segment_rules *rules);

/* Words: maximal runs of non-space characters. */
long lg_segment_words(const char *s);

#endif
