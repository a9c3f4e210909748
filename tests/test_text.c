/* ICU text handling: UTF-8 validation, cleaning, NFKC/NFC, scripts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "lg_text.h"

static void utf8_validation(void **state)
{
    (void)state;
    size_t bad = 99;
    assert_true(lg_utf8_valid("plain ascii", 11, NULL));
    assert_true(lg_utf8_valid("na\xc3\xaf" "ef \xe0\xae\xa4 \xf0\x9f\x98\x80", 15, NULL));
    assert_false(lg_utf8_valid("ab\xff", 3, &bad));
    assert_int_equal(bad, 2);
    assert_false(lg_utf8_valid("x\xc0\xaf", 3, &bad));          /* overlong '/' */
    assert_int_equal(bad, 1);
    assert_false(lg_utf8_valid("\xed\xa0\x80", 3, &bad));       /* surrogate D800 */
    assert_false(lg_utf8_valid("ok\xe2\x82", 4, &bad));         /* truncated */
    assert_int_equal(bad, 2);
    assert_false(lg_utf8_valid("\xf4\x90\x80\x80", 4, &bad));   /* > U+10FFFF */
    assert_int_equal(lg_utf8_length("na\xc3\xaf" "ef", 6), 5);
}

static const char *clean(lg_text_cleaner *c, const char *in)
{
    const char *out;
    size_t len;
    lg_error err;
    assert_int_equal(lg_text_clean(c, in, strlen(in), &out, &len, &err), 0);
    assert_int_equal(strlen(out), len);
    return out;
}

static void nfkc_cleaning(void **state)
{
    (void)state;
    lg_error err;
    lg_text_cleaner *c = lg_text_cleaner_new(LG_TEXT_NFKC, 0, &err);
    assert_non_null(c);
    assert_string_equal(clean(c, "\xef\xac\x81le"), "file");                /* U+FB01 ligature */
    assert_string_equal(clean(c, "\xef\xbc\xa1\xef\xbc\xa2"), "AB");        /* full-width */
    assert_string_equal(clean(c, "e\xcc\x81t\xc3\xa9"), "\xc3\xa9t\xc3\xa9"); /* composed */
    assert_string_equal(clean(c, "a\tb\x01" "c\x7f"), "a bc");              /* controls */
    assert_string_equal(clean(c, "\xef\xbb\xbfstart"), "start");            /* BOM */
    assert_string_equal(clean(c, ""), "");
    const char *out;
    size_t len;
    assert_int_equal(lg_text_clean(c, "abcd\xfe", 5, &out, &len, &err), -1);
    assert_non_null(strstr(err.msg, "invalid UTF-8 at byte 4"));
    lg_text_cleaner_free(c);
}

static void nfc_keeps_compatibility_forms(void **state)
{
    (void)state;
    lg_error err;
    lg_text_cleaner *c = lg_text_cleaner_new(LG_TEXT_NFC, 1, &err);
    assert_non_null(c);
    assert_string_equal(clean(c, "\xef\xac\x81le"), "\xef\xac\x81le");
    assert_string_equal(clean(c, "e\xcc\x81"), "\xc3\xa9");
    /* replace mode: each bad byte becomes U+FFFD */
    assert_string_equal(clean(c, "a\xff" "b"), "a\xef\xbf\xbd" "b");
    lg_text_cleaner_free(c);
}

static void long_line(void **state)
{
    (void)state;
    size_t n = 3 * 200000;
    char *in = malloc(n + 1);
    for (size_t i = 0; i < n; i += 3)
        memcpy(in + i, "\xc3\xa9x", 3); /* é x: 2 bytes + 1 */
    in[n] = '\0';
    lg_error err;
    lg_text_cleaner *c = lg_text_cleaner_new(LG_TEXT_NFKC, 0, &err);
    const char *out;
    size_t len;
    assert_int_equal(lg_text_clean(c, in, n, &out, &len, &err), 0);
    assert_int_equal(len, n);
    assert_memory_equal(out, in, n);
    lg_text_cleaner_free(c);
    free(in);
}

static void scripts(void **state)
{
    (void)state;
    assert_string_equal(lg_text_script_code(lg_text_script('a')), "Latn");
    assert_string_equal(lg_text_script_code(lg_text_script(0x0436)), "Cyrl"); /* ж */
    assert_string_equal(lg_text_script_code(lg_text_script(0x0BA4)), "Taml"); /* த */
    assert_string_equal(lg_text_script_code(lg_text_script('7')), "Zyyy");
    assert_string_equal(lg_text_script_code(lg_text_script(0x0301)), "Zinh");
    assert_int_equal(lg_text_script_from_code("Cyrl"), lg_text_script(0x0436));
    assert_int_equal(lg_text_script_from_code("nope"), -1);
    const char *ru = "cat - \xd0\xbe\xd0\xb1\xd1\x8a\xd0\xb5\xd0\xb4"; /* cat - объед */
    assert_string_equal(lg_text_script_code(lg_text_line_script(ru, strlen(ru))), "Cyrl");
    assert_string_equal(lg_text_script_code(lg_text_line_script("1 + 2", 5)), "Zyyy");
    int64_t *hist = calloc((size_t)lg_text_script_count(), sizeof *hist);
    lg_text_script_histogram(ru, strlen(ru), hist);
    assert_int_equal(hist[lg_text_script_from_code("Latn")], 3);
    assert_int_equal(hist[lg_text_script_from_code("Cyrl")], 5);
    assert_int_equal(hist[lg_text_script_from_code("Zyyy")], 1); /* '-'; spaces not counted */
    free(hist);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(utf8_validation),
        cmocka_unit_test(nfkc_cleaning),
        cmocka_unit_test(nfc_keeps_compatibility_forms),
        cmocka_unit_test(long_line),
        cmocka_unit_test(scripts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
