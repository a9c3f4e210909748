/* Atomic outputs: committed files appear whole, aborted ones leave nothing behind. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lg_atomic_file.h"

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(commit_writes_whole_file),
        cmocka_unit_test(abort_leaves_nothing),
        cmocka_unit_test(open_in_missing_dir_fails_with_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
