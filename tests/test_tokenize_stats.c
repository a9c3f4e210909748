/* Token statistics on a fixed text: word, character and byte counts by hand, byte
 * fallback and unknown tokens counted where the text forces them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "../tokenize/token_stats.h"
#include "lg_io.h"

static int next_line(void *ctx, const char **line, size_t *len, lg_error *err)
{
    return lg_corpus_next(ctx, line, len, err);
}

static lg_spm *train(int byte_fallback)
{
    lg_spm_train_options opt;
    lg_spm_train_defaults(&opt);
    opt.vocab_size = 500;
    opt.byte_fallback = byte_fallback;
    lg_error err;
    lg_corpus_reader *r = lg_corpus_open("tests/data/tokenize/nl.txt", &err);
    uint8_t *bytes = NULL;
    size_t len;
    assert_int_equal(lg_spm_train(&opt, next_line, r, "nl.txt", &bytes, &len, &err), 0);
    lg_corpus_close(r);
    lg_spm *m = lg_spm_load_serialized(bytes, len, "nl-500", &err);
    free(bytes);
    assert_non_null(m);
    return m;
}

static void word_counts(void **state)
{
    (void)state;
    assert_int_equal(lg_count_words("", 0), 0);
    assert_int_equal(lg_count_words("   ", 3), 0);
    assert_int_equal(lg_count_words(" de kat  zit ", 13), 3);
    const char *nbsp = "op\xc2\xa0" "de\tmat"; /* no-break space and tab separate words */
    assert_int_equal(lg_count_words(nbsp, strlen(nbsp)), 3);
}

static void fixed_text(void **state)
{
    (void)state;
    /* Cyrillic is absent from the Dutch training text. */
    const char *lines[] = {"de kat zit op de mat", "\xd0\xb6", "Toont of controleert"};
    lg_error err;
    for (int fallback = 0; fallback <= 1; fallback++) {
        lg_spm *m = train(fallback);
        lg_token_stats s;
        assert_int_equal(lg_token_stats_init(&s, m, &err), 0);
        int64_t tokens = 0;
        lg_token_ids ids = {0};
        for (int i = 0; i < 3; i++) {
            assert_int_equal(lg_token_stats_add(&s, lines[i], strlen(lines[i]), &err), 0);
            assert_int_equal(lg_spm_encode(m, lines[i], strlen(lines[i]), &ids, &err), 0);
            tokens += (int64_t)ids.n;
        }
        lg_token_ids_free(&ids);
        assert_int_equal(s.lines, 3);
        assert_int_equal(s.words, 6 + 1 + 3);
        assert_int_equal(s.bytes, 20 + 2 + 20);
        assert_int_equal(s.chars, 20 + 1 + 20);
        assert_int_equal(s.tokens, tokens);
        assert_true(s.vocab_used > 0 && s.vocab_used <= s.tokens);
        if (fallback) {
            assert_int_equal(s.byte_fallback, 2); /* ж = D0 B6 */
            assert_int_equal(s.unknown, 0);
        } else {
            assert_int_equal(s.byte_fallback, 0);
            assert_int_equal(s.unknown, 1);
        }
        lg_token_stats_free(&s);
        lg_spm_free(m);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(word_counts),
        cmocka_unit_test(fixed_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
