/* lg_atomic_file — outputs that are either complete or absent.
 *
 * Write to a temporary file beside the destination, then lg_atomic_commit()
 * flushes, fsyncs and renames it into place; lg_atomic_abort() removes it.
 * A crash or an error never leaves a half-written output under the real name. */
#ifndef LG_ATOMIC_FILE_H
#define LG_ATOMIC_FILE_H

#include <stdio.h>
#include "lg_error.h"

typedef struct {
    FILE *fp;            /* write here */
    char path[4096];     /* final destination */
    char tmp_path[4096]; /* DEST.tmp.PID.N in the same directory */
} lg_atomic_file;

int lg_atomic_open(lg_atomic_file *af, const char *path, lg_error *err);
int lg_atomic_commit(lg_atomic_file *af, lg_error *err);
void lg_atomic_abort(lg_atomic_file *af);

/* Removes a directory tree (a failed or superseded temporary output); returns 0, or -1
 * when something could not be removed (or did not exist). */
int lg_remove_tree(const char *dir);

/* Renames a finished temporary directory into place, replacing an older one. */
int lg_atomic_replace_dir(const char *tmp_dir, const char *dir, lg_error *err);

#endif
