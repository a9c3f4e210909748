/* Atomic outputs: committed files appear whole, aborted ones leave nothing behind. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lg_io.h"

static void commit_writes_whole_file(void **state)
{
    (void)state;
    char path[] = "build/test_atomic_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    lg_atomic_file af;
    lg_error err;
    assert_int_equal(lg_atomic_open(&af, path, &err), 0);
    fputs("hello", af.fp);
    assert_int_equal(access(path, F_OK), 0); /* old file still there until commit */
    assert_int_equal(lg_atomic_commit(&af, &err), 0);
    FILE *f = fopen(path, "rb");
    char buf[16] = {0};
    assert_int_equal(fread(buf, 1, sizeof buf, f), 5);
    fclose(f);
    assert_string_equal(buf, "hello");
    assert_int_not_equal(access(af.tmp_path, F_OK), 0);
    unlink(path);
}

static void abort_leaves_nothing(void **state)
{
    (void)state;
    lg_atomic_file af;
    lg_error err;
    const char *path = "build/test_atomic_abort.out";
    unlink(path);
    assert_int_equal(lg_atomic_open(&af, path, &err), 0);
    fputs("partial", af.fp);
    lg_atomic_abort(&af);
    assert_int_not_equal(access(path, F_OK), 0);
    assert_int_not_equal(access(af.tmp_path, F_OK), 0);
}

static void open_in_missing_dir_fails_with_name(void **state)
{
    (void)state;
    lg_atomic_file af;
    lg_error err;
    assert_int_equal(lg_atomic_open(&af, "build/no/such/dir/file", &err), -1);
    assert_non_null(strstr(err.msg, "build/no/such/dir/file"));
}

static int file_exists(const char *dir, const char *name)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return access(path, F_OK) == 0;
}

static void touch(const char *dir, const char *name)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fclose(f);
}

/* Begins a directory output holding one file; tmp gets a copy of its temporary path. */
static void begin_with_file(lg_atomic_dir *d, const char *dir, const char *name, char *tmp,
                            size_t tmp_size)
{
    lg_error err;
    assert_int_equal(lg_atomic_dir_begin(d, dir, 0, &err), 0);
    touch(d->tmp, name);
    snprintf(tmp, tmp_size, "%s", d->tmp);
}

static void dir_commit_replaces_old_dir(void **state)
{
    (void)state;
    const char *dir = "build/test_atomic_dir.out";
    lg_remove_tree(dir);
    assert_int_equal(mkdir(dir, 0755), 0);
    touch(dir, "old");
    lg_atomic_dir d;
    char tmp[4096];
    begin_with_file(&d, dir, "new", tmp, sizeof tmp);
    assert_true(file_exists(dir, "old")); /* the old output stays until the commit */
    lg_error err;
    assert_int_equal(lg_atomic_dir_commit(&d, &err), 0);
    assert_true(file_exists(dir, "new"));
    assert_false(file_exists(dir, "old"));
    assert_int_not_equal(access(tmp, F_OK), 0);
    lg_atomic_dir_abort(&d); /* after a commit: nothing to do */
    assert_true(file_exists(dir, "new"));
    lg_remove_tree(dir);
}

static void dir_abort_leaves_nothing(void **state)
{
    (void)state;
    const char *dir = "build/test_atomic_dir_abort.out";
    lg_remove_tree(dir);
    lg_atomic_dir d;
    char tmp[4096];
    begin_with_file(&d, dir, "partial", tmp, sizeof tmp);
    lg_atomic_dir_abort(&d);
    assert_int_not_equal(access(tmp, F_OK), 0);
    assert_int_not_equal(access(dir, F_OK), 0);
    lg_atomic_dir zeroed = {0};
    lg_atomic_dir_abort(&zeroed); /* never begun: nothing to do */
}

static void dir_stale_temporary(void **state)
{
    (void)state;
    const char *dir = "build/test_atomic_dir_stale.out";
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", dir, (long)getpid());
    lg_remove_tree(dir);
    lg_remove_tree(tmp);
    assert_int_equal(mkdir(tmp, 0755), 0);
    touch(tmp, "stale");
    lg_atomic_dir d;
    lg_error err;
    /* without the flag a leftover is an error, and is not removed */
    assert_int_equal(lg_atomic_dir_begin(&d, dir, 0, &err), -1);
    assert_non_null(strstr(err.msg, "cannot create"));
    lg_atomic_dir_abort(&d);
    assert_true(file_exists(tmp, "stale"));
    /* with it the leftover goes first */
    assert_int_equal(lg_atomic_dir_begin(&d, dir, LG_ATOMIC_DIR_CLEAR_STALE, &err), 0);
    assert_false(file_exists(d.tmp, "stale"));
    assert_int_equal(lg_atomic_dir_commit(&d, &err), 0);
    assert_int_equal(access(dir, F_OK), 0);
    lg_remove_tree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(commit_writes_whole_file),
        cmocka_unit_test(abort_leaves_nothing),
        cmocka_unit_test(open_in_missing_dir_fails_with_name),
        cmocka_unit_test(dir_commit_replaces_old_dir),
        cmocka_unit_test(dir_abort_leaves_nothing),
        cmocka_unit_test(dir_stale_temporary),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
