/* lg_text — text handling with ICU: UTF-8 validation, cleaning, normalisation, scripts.
 *
 * lg_text_cleaner turns one raw line into the form lingraft trains on: invalid UTF-8 is
 * rejected (or replaced by U+FFFD), control characters are removed (TAB becomes a
 * space, a BOM is dropped), and the text is normalised to NFKC (default) or NFC.
 * Scripts are ISO 15924 codes ("Latn", "Cyrl", "Taml", "Zyyy" for common, "Zinh" for
 * inherited marks) from ICU's uscript, per character and per line. */
#ifndef LG_TEXT_H
#define LG_TEXT_H

#include <stddef.h>
#include <stdint.h>
#include "lg_error.h"

typedef enum { LG_TEXT_NFKC = 0, LG_TEXT_NFC = 1, LG_TEXT_NO_NORMALIZATION = 2 } lg_text_form;

typedef struct lg_text_cleaner lg_text_cleaner;

/* replace_invalid: 0 rejects invalid UTF-8, 1 replaces each bad sequence by U+FFFD. */
lg_text_cleaner *lg_text_cleaner_new(lg_text_form form, int replace_invalid, lg_error *err);
void lg_text_cleaner_free(lg_text_cleaner *c);
/* Cleans len bytes; *out (NUL-terminated, owned by c, valid until the next call) and
 * *out_len.  Returns 0, or -1 with "invalid UTF-8 at byte N" in err (the caller adds
 * file and line). */
int lg_text_clean(lg_text_cleaner *c, const char *in, size_t len, const char **out,
                  size_t *out_len, lg_error *err);

/* Returns 1 when s[0..len) is valid UTF-8 (no surrogates, no overlongs), else 0 and the
 * byte offset of the first bad sequence in *bad_offset (when not NULL). */
int lg_utf8_valid(const char *s, size_t len, size_t *bad_offset);
/* Number of code points in valid UTF-8. */
size_t lg_utf8_length(const char *s, size_t len);

/* ICU's UScriptCode of a code point (0 = Common, 1 = Inherited), or -1 on error. */
int lg_text_script(uint32_t codepoint);
/* The ISO 15924 four-letter code of a UScriptCode ("Zzzz" when unknown). */
const char *lg_text_script_code(int script);
/* The UScriptCode of an ISO 15924 code or name, or -1. */
int lg_text_script_from_code(const char *code);
/* The script with most letters in valid UTF-8 text, ignoring Common and Inherited;
 * Common (0) when there are none. */
int lg_text_line_script(const char *s, size_t len);
/* Adds to counts[script] the number of non-space code points of each script; counts has
 * lg_text_script_count() entries. */
void lg_text_script_histogram(const char *s, size_t len, int64_t *counts);
int lg_text_script_count(void);

#endif
