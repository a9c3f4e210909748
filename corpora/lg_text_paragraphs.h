/* lg_text_paragraphs — splits a plain-text or reStructuredText file into paragraphs.
 *
 * Paragraphs are runs of non-blank lines; their lines are joined with one space.
 * reStructuredText decoration is left out: section underlines ("====="), directive
 * and comment lines (".. note::"), table borders ("+---+"). gzip files are read too. */
#ifndef LG_TEXT_PARAGRAPHS_H
#define LG_TEXT_PARAGRAPHS_H

#include "lg_error.h"

typedef int (*lg_paragraph_callback)(void *ctx, const char *text);

/* Returns the number of paragraphs passed to cb, or -1. */
long lg_text_paragraphs(const char *path, lg_paragraph_callback cb, void *ctx, lg_error *err);

#endif
