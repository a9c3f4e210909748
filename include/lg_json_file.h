/* lg_json_file — small JSON files whole: read and parsed, or printed and written atomically.
 *
 * lg_json_read reads through lg_read_file (bounded, never truncating) and names the file when
 * it is not JSON; lg_json_write prints the document with a trailing newline into an atomic
 * file (lg_atomic_file.h), so a reader never sees half of it. */
#ifndef LG_JSON_FILE_H
#define LG_JSON_FILE_H

#include <stddef.h>

#include <cJSON.h>

#include "lg_error.h"

/* The parsed document (cJSON_Delete it), or NULL with an error. */
cJSON *lg_json_read(const char *path, size_t limit, lg_error *err);
/* 0, or -1 with an error and no file written. */
int lg_json_write(const char *path, const cJSON *json, lg_error *err);

#endif
