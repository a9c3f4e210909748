/* Atomic outputs: temporary file in the destination's directory + fsync + rename. */
#include "lg_io.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <ftw.h>

int lg_atomic_open(lg_atomic_file *af, const char *path, lg_error *err)
{
    static atomic_uint counter; /* distinguishes temporaries of one process; not program state */
    memset(af, 0, sizeof *af);
    if (strlen(path) + 32 >= sizeof af->path)
        return lg_fail(err, "%s: path too long", path);
    snprintf(af->path, sizeof af->path, "%s", path);
    snprintf(af->tmp_path, sizeof af->tmp_path, "%s.tmp.%ld.%u", path, (long)getpid(),
             atomic_fetch_add(&counter, 1));
    af->temp_slot = lg_temp_register(af->tmp_path, 0) + 1;
    af->fp = fopen(af->tmp_path, "wb");
    if (!af->fp) {
        int saved = errno;
        lg_temp_unregister(af->temp_slot - 1);
        af->temp_slot = 0;
        return lg_fail(err, "%s: cannot create: %s", path, strerror(saved));
    }
    return 0;
}

int lg_atomic_commit(lg_atomic_file *af, lg_error *err)
{
    if (!af->fp)
        return lg_fail(err, "%s: not open", af->path);
    int failed = fflush(af->fp) != 0 || ferror(af->fp) || fsync(fileno(af->fp)) != 0;
    int saved = errno;
    if (fclose(af->fp) != 0 && !failed) {
        failed = 1;
        saved = errno;
    }
    af->fp = NULL;
    if (!failed && rename(af->tmp_path, af->path) != 0) {
        failed = 2;
        saved = errno;
    }
    if (failed)
        unlink(af->tmp_path);
    lg_temp_unregister(af->temp_slot - 1);
    af->temp_slot = 0;
    if (failed == 1)
        return lg_fail(err, "%s: write failed: %s", af->path, strerror(saved));
    if (failed)
        return lg_fail(err, "%s: cannot rename into place: %s", af->path, strerror(saved));
    return 0;
}

void lg_atomic_abort(lg_atomic_file *af)
{
    if (af->fp) {
        fclose(af->fp);
        af->fp = NULL;
    }
    if (af->tmp_path[0])
        unlink(af->tmp_path);
    lg_temp_unregister(af->temp_slot - 1);
    af->temp_slot = 0;
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb; (void)flag; (void)ftw;
    return remove(path);
}

int lg_remove_tree(const char *dir)
{
    return nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int lg_atomic_replace_dir(const char *tmp_dir, const char *dir, lg_error *err)
{
    /* rename() cannot replace a non-empty directory: move the old one aside first. */
    char old[4200];
    size_t len = strlen(dir);
    while (len > 1 && dir[len - 1] == '/')
        len--;
    snprintf(old, sizeof old, "%.*s.old.%ld", (int)len, dir, (long)getpid());
    struct stat st;
    int had_old = lstat(dir, &st) == 0;
    if (had_old && rename(dir, old) != 0)
        return lg_fail(err, "%s: cannot move the old directory aside: %s", dir, strerror(errno));
    if (rename(tmp_dir, dir) != 0) {
        int saved = errno;
        if (had_old)
            rename(old, dir);
        return lg_fail(err, "%s: cannot rename into place: %s", dir, strerror(saved));
    }
    if (had_old) {
        int slot = lg_temp_register(old, 1);
        lg_remove_tree(old);
        lg_temp_unregister(slot);
    }
    return 0;
}

int lg_remove_dir(const char *dir, lg_error *err)
{
    char gone[4200];
    size_t len = strlen(dir);
    while (len > 1 && dir[len - 1] == '/')
        len--;
    snprintf(gone, sizeof gone, "%.*s.removing.%ld", (int)len, dir, (long)getpid());
    if (rename(dir, gone) != 0)
        return lg_fail(err, "%s: cannot remove: %s", dir, strerror(errno));
    int slot = lg_temp_register(gone, 1);
    int rc = lg_remove_tree(gone);
    lg_temp_unregister(slot);
    if (rc != 0)
        return lg_fail(err, "%s: moved to %s but could not remove it all: %s", dir, gone,
                       strerror(errno));
    return 0;
}

int lg_atomic_dir_begin(lg_atomic_dir *d, const char *dir, int flags, lg_error *err)
{
    d->dir = dir;
    size_t len = strlen(dir);
    while (len > 1 && dir[len - 1] == '/') /* "out/" -> "out.tmp.PID", beside it */
        len--;
    snprintf(d->tmp, sizeof d->tmp, "%.*s.tmp.%ld", (int)len, dir, (long)getpid());
    if (flags & LG_ATOMIC_DIR_CLEAR_STALE)
        lg_remove_tree(d->tmp);
    d->temp_slot = 0;
    if (mkdir(d->tmp, 0755) != 0) {
        int saved = errno;
        lg_fail(err, "%s: cannot create (as %s): %s", dir, d->tmp, strerror(saved));
        d->tmp[0] = '\0'; /* not ours: abort must not remove it */
        return -1;
    }
    d->temp_slot = lg_temp_register(d->tmp, 1) + 1;
    return 0;
}

int lg_atomic_dir_commit(lg_atomic_dir *d, lg_error *err)
{
    int rc = lg_atomic_replace_dir(d->tmp, d->dir, err);
    if (rc < 0)
        lg_remove_tree(d->tmp);
    d->tmp[0] = '\0'; /* renamed or removed: nothing left for abort */
    lg_temp_unregister(d->temp_slot - 1);
    d->temp_slot = 0;
    return rc;
}

void lg_atomic_dir_abort(lg_atomic_dir *d)
{
    if (d->tmp[0])
        lg_remove_tree(d->tmp);
    d->tmp[0] = '\0';
    lg_temp_unregister(d->temp_slot - 1);
    d->temp_slot = 0;
}
