/* LibreOffice help pages (a real page pair from libreoffice-help-en-us / -nl):
 * paragraphs found by id, hidden platform variants dropped, unclosed paragraphs
 * ended at the next one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lg_help_html.h"
#include "lg_segment.h"

typedef struct {
    char ids[32][64];
    char texts[32][1024];
    int n;
} page;

static int keep(void *ctx, const char *id, const char *text)
{
    page *p = ctx;
    if (p->n < 32) {
        snprintf(p->ids[p->n], sizeof p->ids[0], "%s", id);
        snprintf(p->texts[p->n], sizeof p->texts[0], "%s", text);
        lg_segment_rules rules = lg_segment_default_rules();
        lg_segment_clean(p->texts[p->n], &rules);
    }
    p->n++;
    return 0;
}

static const char *text_of(const page *p, const char *id)
{
    for (int i = 0; i < p->n && i < 32; i++)
        if (strcmp(p->ids[i], id) == 0)
            return p->texts[i];
    return NULL;
}

static void parse(const char *path, page *p)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static char html[65536];
    size_t n = fread(html, 1, sizeof html, f);
    fclose(f);
    memset(p, 0, sizeof *p);
    long got = lg_help_paragraphs(html, n, keep, p);
    assert_int_equal(got, p->n);
}

static void pairs_paragraphs_by_id(void **state)
{
    (void)state;
    static page en, nl;
    parse("tests/data/corpora/help/en-US/text/shared/guide/workfolder.html", &en);
    parse("tests/data/corpora/help/nl/text/shared/guide/workfolder.html", &nl);
    /* h1 + 5 paragraphs + "Related Topics" + its link; bm_module etc. carry no pairing id */
    assert_int_equal(en.n, 8);
    assert_int_equal(nl.n, 8);
    assert_string_equal(text_of(&en, "hd_id3149346"), "Changing Your Working Directory");
    assert_string_equal(text_of(&nl, "hd_id3149346"), "Uw werkmap wijzigen");
    /* the macOS variant (hidden span, class MAC) is dropped, the default kept */
    assert_string_equal(text_of(&en, "par_id3153681"), "Choose Tools - Options - LibreOffice - Paths.");
    assert_string_equal(text_of(&nl, "par_id3153681"), "Kies Extra - Opties - LibreOffice - Paden.");
    for (int i = 0; i < en.n; i++)
        assert_null(strstr(en.texts[i], "Preferences"));
    /* <p class="related"> is never closed: it ends where the next paragraph starts */
    assert_string_equal(text_of(&en, "par_id3147212"), "Related Topics");
    assert_string_equal(text_of(&en, "par_id3154286"), "Paths");
    assert_string_equal(text_of(&nl, "par_id3154286"), "Paden");
}

static void ignores_text_without_ids(void **state)
{
    (void)state;
    const char html[] = "<p>no id</p><p id=\"bm_module\">bookmark</p>"
                        "<h2 id=\"hd_id1\">Title <span class=\"x\">here</span></h2>";
    page p;
    memset(&p, 0, sizeof p);
    assert_int_equal(lg_help_paragraphs(html, strlen(html), keep, &p), 1);
    assert_string_equal(p.ids[0], "hd_id1");
    assert_string_equal(p.texts[0], "Title here");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pairs_paragraphs_by_id),
        cmocka_unit_test(ignores_text_without_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
