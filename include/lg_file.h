/* lg_file — reading a small whole file (JSON configs, manifests, states) into memory.
 *
 * lg_read_file returns the bytes NUL-terminated (so text parsers can take them as they
 * are), refuses files larger than `limit` bytes instead of truncating them, and names
 * the file in every error. */
#ifndef LG_FILE_H
#define LG_FILE_H

#include <stddef.h>

#include "lg_error.h"

/* The whole file, malloc'ed, NUL-terminated; its length in *len_out when not NULL. */
char *lg_read_file(const char *path, size_t limit, size_t *len_out, lg_error *err);

#endif
