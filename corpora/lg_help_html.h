/* lg_help_html — paragraphs of LibreOffice help pages (the HTML that Debian's
 * libreoffice-help-LANG packages ship).
 *
 * Every paragraph and heading carries an id such as "par_id3166410" or
 * "hd_id3149346" that is the same in every language, so two pages pair exactly.
 * lg_help_paragraphs() passes each id'd <p>/<hN> with its inner text: tags removed
 * (entities kept for the segment cleaner), hidden platform variants (<span
 * hidden="true" class="MAC">) dropped except the default one, tabs and newlines
 * turned into spaces. */
#ifndef LG_HELP_HTML_H
#define LG_HELP_HTML_H

#include <stddef.h>

typedef int (*lg_help_callback)(void *ctx, const char *id, const char *text);

/* Scans html[0..len) (need not be NUL-terminated); returns paragraphs passed to cb. */
long lg_help_paragraphs(const char *html, size_t len, lg_help_callback cb, void *ctx);

#endif
