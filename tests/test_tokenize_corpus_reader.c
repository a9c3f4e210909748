/* Corpus reader: plain and gzip files, long lines, CRLF, missing final newline, errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "lg_io.h"

/* Three lines: "first", a line of `long_len` 'x's, "last" (CRLF ending, no final newline). */
static char *make_content(size_t long_len, size_t *len)
{
    char *s = malloc(long_len + 64);
    size_t n = 0;
    memcpy(s, "first\n", 6);
    n = 6;
    memset(s + n, 'x', long_len);
    n += long_len;
    memcpy(s + n, "\n\nlast\r", 7);
    n += 7;
    *len = n;
    return s;
}

static void check_lines(const char *path, size_t long_len)
{
    lg_error err;
    lg_corpus_reader *r = lg_corpus_open(path, &err);
    assert_non_null(r);
    const char *line;
    size_t len;
    assert_int_equal(lg_corpus_next(r, &line, &len, &err), 1);
    assert_string_equal(line, "first");
    assert_int_equal(lg_corpus_line_number(r), 1);
    assert_int_equal(lg_corpus_next(r, &line, &len, &err), 1);
    assert_int_equal(len, long_len);
    assert_int_equal(strlen(line), long_len);
    assert_true(line[0] == 'x' && line[long_len - 1] == 'x');
    assert_int_equal(lg_corpus_next(r, &line, &len, &err), 1);
    assert_int_equal(len, 0);
    assert_int_equal(lg_corpus_next(r, &line, &len, &err), 1);
    assert_string_equal(line, "last");
    assert_int_equal(lg_corpus_line_number(r), 4);
    assert_int_equal(lg_corpus_next(r, &line, &len, &err), 0);
    assert_int_equal(lg_corpus_next(r, &line, &len, &err), 0);
    lg_corpus_close(r);
}

static void plain_file(void **state)
{
    (void)state;
    char path[] = "build/test_corpus_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    size_t long_len = 300000, n;
    char *content = make_content(long_len, &n);
    assert_int_equal(write(fd, content, n), (ssize_t)n);
    close(fd);
    check_lines(path, long_len);
    unlink(path);
    free(content);
}

static void gzip_file(void **state)
{
    (void)state;
    char path[] = "build/test_corpus_gz_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    size_t long_len = 200003, n;
    char *content = make_content(long_len, &n);
    gzFile gz = gzopen(path, "wb");
    assert_non_null(gz);
    assert_int_equal(gzwrite(gz, content, (unsigned)n), (int)n);
    assert_int_equal(gzclose(gz), Z_OK);
    check_lines(path, long_len);

    /* A truncated gzip stream is an error, not a short corpus. */
    FILE *f = fopen(path, "rb");
    char buf[4096];
    size_t got = fread(buf, 1, sizeof buf, f);
    fclose(f);
    assert_true(got > 40);
    f = fopen(path, "wb");
    fwrite(buf, 1, got - 20, f);
    fclose(f);
    lg_error err;
    lg_corpus_reader *r = lg_corpus_open(path, &err);
    assert_non_null(r);
    const char *line;
    size_t len;
    int rc;
    while ((rc = lg_corpus_next(r, &line, &len, &err)) > 0)
        ;
    assert_int_equal(rc, -1);
    assert_non_null(strstr(err.msg, path));
    lg_corpus_close(r);
    unlink(path);
    free(content);
}

static void missing_file(void **state)
{
    (void)state;
    lg_error err;
    assert_null(lg_corpus_open("build/no/such/corpus.txt", &err));
    assert_non_null(strstr(err.msg, "build/no/such/corpus.txt"));
}

static void empty_file(void **state)
{
    (void)state;
    char path[] = "build/test_corpus_empty_XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    lg_error err;
    lg_corpus_reader *r = lg_corpus_open(path, &err);
    const char *line;
    size_t len;
    assert_int_equal(lg_corpus_next(r, &line, &len, &err), 0);
    assert_int_equal(lg_corpus_line_number(r), 0);
    lg_corpus_close(r);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(plain_file),
        cmocka_unit_test(gzip_file),
        cmocka_unit_test(missing_file),
        cmocka_unit_test(empty_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
