/* lg_man_align — pairs the paragraphs of an English man page with its translation.
 *
 * Both pages are rendered text (man -E UTF-8 | col -bx). Sections start at lines
 * without indentation; paragraphs are blocks separated by blank lines. Sections
 * named in drop (the translators' "VERTALING", the English "COLOPHON") are cut;
 * when both pages then have as many sections, sections with as many paragraphs
 * are paired paragraph by paragraph. Headings and the header/footer lines are
 * not paired. */
#ifndef LG_MAN_ALIGN_H
#define LG_MAN_ALIGN_H

typedef int (*lg_man_pair_callback)(void *ctx, const char *en, const char *target);

/* drop: NULL-terminated section names (compared case-insensitively), or NULL.
 * Returns the number of paragraph pairs passed to cb (0 when the pages do not
 * align), or -1 when out of memory. The texts are modified. */
long lg_man_align(char *en, char *target, const char *const *drop, lg_man_pair_callback cb,
                  void *ctx);

#endif
