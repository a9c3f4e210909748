/* Small JSON files: what lg_json_write wrote, lg_json_read gives back; text that is not JSON
 * and a missing file are errors naming the file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lg_io.h"

static void written_json_reads_back(void **state)
{
    (void)state;
    const char *path = "build/test_json_file.json";
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "hidden_size", 64);
    cJSON_AddStringToObject(j, "model_type", "llama");
    lg_error err;
    assert_int_equal(lg_json_write(path, j, &err), 0);
    cJSON *back = lg_json_read(path, 1 << 20, &err);
    assert_non_null(back);
    assert_true(cJSON_Compare(j, back, 1));
    cJSON_Delete(back);
    cJSON_Delete(j);
    FILE *f = fopen(path, "rb");
    char text[256] = {0};
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    assert_true(n > 0 && text[n - 1] == '\n'); /* a trailing newline */
    unlink(path);
}

static void bad_json_and_missing_file_are_named(void **state)
{
    (void)state;
    const char *path = "build/test_json_file_bad.json";
    FILE *f = fopen(path, "wb");
    fputs("{\"a\": ", f);
    fclose(f);
    lg_error err;
    assert_null(lg_json_read(path, 1 << 20, &err));
    assert_non_null(strstr(err.msg, path));
    assert_non_null(strstr(err.msg, "not valid JSON"));
    unlink(path);
    assert_null(lg_json_read(path, 1 << 20, &err));
    assert_non_null(strstr(err.msg, path));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(written_json_reads_back),
        cmocka_unit_test(bad_json_and_missing_file_are_named),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
