/* The .mo reader on real Debian catalogs: sed's Dutch catalog (plural forms) and a
 * LibreOffice catalog (every message has a context). Expected values were read with
 * gettext's own msgunfmt, not with this reader. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lg_mo.h"

typedef struct {
    int messages, plurals, with_context;
    int found_plural, found_context;
} tally;

static int count_message(void *ctx, const lg_mo_message *msg)
{
    tally *t = ctx;
    t->messages++;
    if (msg->msgid_plural) {
        t->plurals++;
        if (strcmp(msg->msgid_plural, "couldn't write %llu items to %s: %s") == 0 &&
            msg->n_msgstr == 2 &&
            strcmp(msg->msgstr[0], "kan %llu item niet naar %s schrijven: %s") == 0 &&
            strcmp(msg->msgstr[1], "kan %llu items niet naar %s schrijven: %s") == 0)
            t->found_plural = 1;
    }
    if (msg->context) {
        t->with_context++;
        if (strcmp(msg->context, "RID_STR_ACC_ACTION_CHECK") == 0 &&
            strcmp(msg->msgid, "Check") == 0 && strcmp(msg->msgstr[0], "Activeren") == 0)
            t->found_context = 1;
    }
    return 0;
}

static void reads_plural_forms(void **state)
{
    (void)state;
    tally t = {0};
    lg_error err;
    long n = lg_mo_each("tests/data/corpora/sed.nl.mo", count_message, &t, &err);
    assert_int_equal(n, 146); /* msgunfmt: 147 entries, one of them the header */
    assert_int_equal(t.messages, 146);
    assert_int_equal(t.plurals, 1);
    assert_true(t.found_plural);
    assert_int_equal(t.with_context, 0);
}

static void reads_contexts(void **state)
{
    (void)state;
    tally t = {0};
    lg_error err;
    long n = lg_mo_each("tests/data/corpora/libreoffice-acc.nl.mo", count_message, &t, &err);
    assert_int_equal(n, 23);
    assert_int_equal(t.with_context, 23);
    assert_true(t.found_context);
}

static int stop_at_first(void *ctx, const lg_mo_message *msg)
{
    (void)msg;
    (*(int *)ctx)++;
    return 1;
}

static void callback_can_stop(void **state)
{
    (void)state;
    int calls = 0;
    lg_error err;
    lg_mo_each("tests/data/corpora/sed.nl.mo", stop_at_first, &calls, &err);
    assert_int_equal(calls, 1);
}

static unsigned char *load(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    unsigned char *data = malloc(1 << 20);
    *size = fread(data, 1, 1 << 20, f);
    fclose(f);
    return data;
}

static void refuses_damaged_catalogs(void **state)
{
    (void)state;
    size_t size;
    unsigned char *data = load("tests/data/corpora/sed.nl.mo", &size);
    tally t = {0};
    lg_error err = {{0}};
    /* truncated: the string tables point past the end */
    assert_true(lg_mo_parse(data, size / 3, "cut.mo", count_message, &t, &err) < 0);
    assert_non_null(strstr(err.msg, "cut.mo"));
    /* not a catalog at all */
    unsigned char junk[64] = "this is plain text, not a gettext catalog at all..........";
    assert_true(lg_mo_parse(junk, sizeof junk, "junk.mo", count_message, &t, &err) < 0);
    assert_non_null(strstr(err.msg, "magic"));
    /* a string offset moved beyond the file */
    unsigned char *bad = malloc(size);
    memcpy(bad, data, size);
    uint32_t orig_table = (uint32_t)bad[12] | (uint32_t)bad[13] << 8 | (uint32_t)bad[14] << 16 |
                          (uint32_t)bad[15] << 24;
    bad[orig_table + 8 + 4] = 0xff;
    bad[orig_table + 8 + 7] = 0x7f;
    assert_true(lg_mo_parse(bad, size, "bad.mo", count_message, &t, &err) < 0);
    assert_true(lg_mo_each("tests/data/corpora/no-such.mo", count_message, &t, &err) < 0);
    assert_non_null(strstr(err.msg, "no-such.mo"));
    free(bad);
    free(data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reads_plural_forms),
        cmocka_unit_test(reads_contexts),
        cmocka_unit_test(callback_can_stop),
        cmocka_unit_test(refuses_damaged_catalogs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
