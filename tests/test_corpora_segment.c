/* Segment cleaning and pair filters: accelerators, markup, placeholders, white
 * space, invalid UTF-8, and the reasons a pair is dropped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "lg_segment.h"
#include "lg_seen_set.h"

static void expect_clean(const char *in, const char *want)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s", in);
    lg_segment_rules rules = lg_segment_default_rules();
    rules.min_letters = 0;
    lg_segment_clean(buf, &rules);
    if (strcmp(buf, want) != 0)
        fail_msg("clean(\"%s\") = \"%s\", want \"%s\"", in, buf, want);
}

static void removes_accelerators(void **state)
{
    (void)state;
    expect_clean("Reset All De~fault Templates", "Reset All Default Templates");
    expect_clean("Op_slaan als...", "Opslaan als...");
    expect_clean("&Open File", "Open File");
    expect_clean("Fish && Chips", "Fish & Chips");
    /* two underscores: identifiers, not an accelerator */
    expect_clean("set max_width and min_width", "set max_width and min_width");
}

static void removes_markup(void **state)
{
    (void)state;
    expect_clean("Click <b>Save</b> &amp; close", "Click Save & close");
    expect_clean("line one<br/>line two", "line one line two");
    expect_clean("a &lt;file&gt; argument", "a <file> argument");
    expect_clean("x < y and y > z", "x < y and y > z");
    expect_clean("caf&#233; &#x263A;", "caf\xc3\xa9 \xe2\x98\xba");
}

static void removes_placeholders(void **state)
{
    (void)state;
    expect_clean("Cannot open %s: %s", "Cannot open:");
    expect_clean("copied %1$d of %2$lu files (%3$.1f%%)", "copied of files (%)");
    expect_clean("file '%s' is missing", "file is missing");
    expect_clean("Hello { $name }, you have {0} new {count}", "Hello, you have new");
    expect_clean("%(user)s logged in via ${shell} at $(ARG1)", "logged in via at");
    expect_clean("Welcome to %PRODUCTNAME %PRODUCTVERSION", "Welcome to LibreOffice");
    expect_clean("A template named $1 exists in $2.", "A template named exists in.");
}

static void normalises_white_space(void **state)
{
    (void)state;
    expect_clean("  two\t\twords \n", "two words");
    expect_clean("non\xc2\xa0" "breaking\xe2\x80\x83space", "non breaking space");
    expect_clean("zero\xe2\x80\x8bwidth", "zerowidth");
}

static void checks_utf8(void **state)
{
    (void)state;
    assert_true(lg_segment_utf8_valid("gr\xc3\xbc\xc3\x9f", 6));
    assert_false(lg_segment_utf8_valid("\xc3\x28", 2));        /* bad continuation */
    assert_false(lg_segment_utf8_valid("\xc0\xaf", 2));        /* overlong */
    assert_false(lg_segment_utf8_valid("\xed\xa0\x80", 3));    /* surrogate */
    assert_false(lg_segment_utf8_valid("\xe2\x82", 2));        /* truncated */
    char bad[] = "caf\xe9 au lait";
    lg_segment_rules rules = lg_segment_default_rules();
    assert_int_equal(lg_segment_clean(bad, &rules), LG_VERDICT_INVALID_UTF8);
}

static lg_verdict check(const char *en, const char *target)
{
    char a[512], b[512];
    snprintf(a, sizeof a, "%s", en);
    snprintf(b, sizeof b, "%s", target);
    lg_segment_rules rules = lg_segment_default_rules();
    return lg_pair_check(a, b, &rules);
}

static void judges_pairs(void **state)
{
    (void)state;
    assert_int_equal(check("Open the file", "Open het bestand"), LG_VERDICT_KEPT);
    assert_int_equal(check("Gtk+", "Gtk+"), LG_VERDICT_IDENTICAL);
    assert_int_equal(check("LibreOffice Writer", "libreoffice writer"), LG_VERDICT_IDENTICAL);
    /* identical once the accelerators are gone: untranslated */
    assert_int_equal(check("_Inkscape", "Inkscape"), LG_VERDICT_IDENTICAL);
    assert_int_equal(check("%s: %s", "%s: %s"), LG_VERDICT_PLACEHOLDERS);
    assert_int_equal(check("%s (%d%%) %s", "%s (%d%%) %s"), LG_VERDICT_PLACEHOLDERS);
    assert_int_equal(check("{ $count -> [one] file *[other] files }",
                           "{ $count -> [one] bestand *[other] bestanden }"),
                     LG_VERDICT_PLACEHOLDERS);
    assert_int_equal(check("OK", "Oké"), LG_VERDICT_SHORT);
    assert_int_equal(check("", "leeg"), LG_VERDICT_EMPTY);
    assert_int_equal(check("Yes", "Dit is een veel te lange vertaling voor een woord van drie letters"),
                     LG_VERDICT_RATIO);
    assert_string_equal(lg_verdict_name(LG_VERDICT_IDENTICAL), "identical");
}

static void counts_words(void **state)
{
    (void)state;
    assert_int_equal(lg_segment_words(""), 0);
    assert_int_equal(lg_segment_words("  een  twee\tdrie "), 3);
}

static void seen_set_remembers(void **state)
{
    (void)state;
    lg_seen_set set;
    lg_seen_init(&set);
    char word[32];
    for (int i = 0; i < 5000; i++) {
        snprintf(word, sizeof word, "segment %d", i);
        assert_int_equal(lg_seen_add(&set, lg_fingerprint(word, strlen(word))), 1);
    }
    for (int i = 0; i < 5000; i++) {
        snprintf(word, sizeof word, "segment %d", i);
        assert_int_equal(lg_seen_add(&set, lg_fingerprint(word, strlen(word))), 0);
    }
    assert_int_equal(set.count, 5000);
    assert_false(lg_seen_has(&set, lg_fingerprint("segment 5000", 12)));
    lg_seen_free(&set);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(removes_accelerators), cmocka_unit_test(removes_markup),
        cmocka_unit_test(removes_placeholders), cmocka_unit_test(normalises_white_space),
        cmocka_unit_test(checks_utf8),          cmocka_unit_test(judges_pairs),
        cmocka_unit_test(counts_words),         cmocka_unit_test(seen_set_remembers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
