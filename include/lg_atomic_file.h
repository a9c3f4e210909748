/* lg_atomic_file — outputs that are either complete or absent.
 *
 * Write to a temporary file beside the destination, then lg_atomic_commit()
 * flushes, fsyncs and renames it into place; lg_atomic_abort() removes it.
 * A directory output the same way: lg_atomic_dir_begin() makes DIR.tmp.PID to write into,
 * lg_atomic_dir_commit() renames it over DIR, lg_atomic_dir_abort() removes it.
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

typedef struct {
    const char *dir; /* final destination; must outlive the struct */
    char tmp[4096];  /* DIR.tmp.PID beside it: write here; "" once committed or removed */
} lg_atomic_dir;

/* lg_atomic_dir_begin flag: first remove a DIR.tmp.PID that an earlier failure of this
 * process id left (without it, such a leftover makes begin fail). */
enum { LG_ATOMIC_DIR_CLEAR_STALE = 1 };

/* Creates d->tmp; on failure nothing was created and d->tmp is "". */
int lg_atomic_dir_begin(lg_atomic_dir *d, const char *dir, int flags, lg_error *err);
/* Renames d->tmp over d->dir (lg_atomic_replace_dir); on failure removes d->tmp. */
int lg_atomic_dir_commit(lg_atomic_dir *d, lg_error *err);
/* Removes d->tmp; does nothing after a commit, or on a zeroed struct. */
void lg_atomic_dir_abort(lg_atomic_dir *d);

#endif
