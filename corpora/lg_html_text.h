/* lg_html_text — the running text of an HTML page, one paragraph at a time.
 *
 * For monolingual sources (GIMP help, Debian FAQ, manuals): block elements (p, li,
 * td, h1..h6, div, dt, dd, blockquote, br) end a paragraph; the contents of head,
 * script, style and pre are left out; inline tags are dropped; entities are kept
 * for the segment cleaner. Tabs and newlines become spaces. */
#ifndef LG_HTML_TEXT_H
#define LG_HTML_TEXT_H

#include <stddef.h>

typedef int (*lg_html_paragraph_callback)(void *ctx, const char *text);

/* Scans html[0..len); returns the paragraphs passed to cb, or -1 when out of memory. */
long lg_html_paragraphs(const char *html, size_t len, lg_html_paragraph_callback cb, void *ctx);

#endif
