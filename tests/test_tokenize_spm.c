/* The SentencePiece wrapper: training from a stream, round trips, lookups, bad models. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lg_io.h"
#include "lg_spm.h"
#include "lg_text.h"

typedef struct {
    lg_corpus_reader *reader;
    lg_text_cleaner *cleaner;
} feed;

static int feed_next(void *ctx, const char **line, size_t *len, lg_error *err)
{
    feed *f = ctx;
    const char *raw;
    size_t raw_len;
    int rc = lg_corpus_next(f->reader, &raw, &raw_len, err);
    if (rc <= 0)
        return rc;
    return lg_text_clean(f->cleaner, raw, raw_len, line, len, err) < 0 ? -1 : 1;
}

static int train(const char *path, const lg_spm_train_options *opt, uint8_t **model,
                 size_t *len, lg_error *err)
{
    feed f = {lg_corpus_open(path, err), lg_text_cleaner_new(LG_TEXT_NFKC, 0, err)};
    assert_non_null(f.reader);
    int rc = lg_spm_train(opt, feed_next, &f, path, model, len, err);
    lg_corpus_close(f.reader);
    lg_text_cleaner_free(f.cleaner);
    return rc;
}

/* Trains one small byte-fallback unigram model on the Dutch text, shared by the tests. */
static int setup(void **state)
{
    lg_spm_train_options opt;
    lg_spm_train_defaults(&opt);
    opt.vocab_size = 800;
    opt.byte_fallback = 1;
    uint8_t *bytes;
    size_t len;
    lg_error err;
    if (train("tests/data/tokenize/nl.txt", &opt, &bytes, &len, &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    *state = lg_spm_load_serialized(bytes, len, "nl-800", &err);
    free(bytes);
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    lg_spm_free(*state);
    return 0;
}

/* What the tokenizer promises to give back: the ICU-cleaned line with SentencePiece's
 * whitespace handling (runs of spaces collapsed, none at either end). */
static char *normalised(lg_text_cleaner *c, const char *line, size_t len)
{
    const char *clean;
    size_t n;
    lg_error err;
    assert_int_equal(lg_text_clean(c, line, len, &clean, &n, &err), 0);
    char *out = malloc(n + 1);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (clean[i] == ' ' && (k == 0 || out[k - 1] == ' '))
            continue;
        out[k++] = clean[i];
    }
    while (k > 0 && out[k - 1] == ' ')
        k--;
    out[k] = '\0';
    return out;
}

static void round_trip(const lg_spm *m, const char *path, int64_t *checked)
{
    lg_error err;
    lg_corpus_reader *r = lg_corpus_open(path, &err);
    assert_non_null(r);
    lg_text_cleaner *c = lg_text_cleaner_new(LG_TEXT_NFKC, 0, &err);
    lg_token_ids ids = {0};
    lg_spm_pieces pieces = {0};
    const char *line;
    size_t len;
    while (lg_corpus_next(r, &line, &len, &err) > 0) {
        char *expect = normalised(c, line, len);
        assert_int_equal(lg_spm_encode(m, expect, strlen(expect), &ids, &err), 0);
        char *text = lg_spm_decode(m, ids.ids, ids.n, &err);
        assert_non_null(text);
        if (strcmp(text, expect))
            fail_msg("%s line %lld: decode(encode(x)) = '%s', x = '%s'", path,
                     (long long)lg_corpus_line_number(r), text, expect);
        free(text);
        /* Pieces agree with ids and decode the same way. */
        assert_int_equal(lg_spm_encode_pieces(m, expect, strlen(expect), &pieces, &err), 0);
        assert_int_equal(pieces.n, ids.n);
        const char **ptrs = malloc((pieces.n + 1) * sizeof *ptrs);
        const char *p = pieces.data;
        for (size_t i = 0; i < pieces.n; p += strlen(p) + 1, i++) {
            ptrs[i] = p;
            assert_string_equal(p, lg_spm_id_to_piece(m, ids.ids[i]));
        }
        text = lg_spm_decode_pieces(m, ptrs, pieces.n, &err);
        assert_string_equal(text, expect);
        free(text);
        free(ptrs);
        free(expect);
        (*checked)++;
    }
    lg_token_ids_free(&ids);
    lg_spm_pieces_free(&pieces);
    lg_text_cleaner_free(c);
    lg_corpus_close(r);
}

static void round_trips(void **state)
{
    int64_t n = 0;
    round_trip(*state, "tests/data/tokenize/nl.txt", &n);
    round_trip(*state, "tests/data/tokenize/ru.txt", &n); /* unseen script: byte fallback */
    round_trip(*state, "tests/data/tokenize/en.txt", &n);
    assert_true(n > 2000);
}

static void lookups(void **state)
{
    const lg_spm *m = *state;
    assert_int_equal(lg_spm_vocab_size(m), 800);
    assert_int_equal(lg_spm_unk_id(m), 0);
    assert_int_equal(lg_spm_bos_id(m), 1);
    assert_int_equal(lg_spm_eos_id(m), 2);
    assert_int_equal(lg_spm_pad_id(m), -1);
    assert_int_equal(lg_spm_type(m, 0), LG_SPM_UNKNOWN);
    assert_int_equal(lg_spm_type(m, 1), LG_SPM_CONTROL);
    int bytes = 0, normal = 0;
    for (int id = 0; id < lg_spm_vocab_size(m); id++) {
        const char *piece = lg_spm_id_to_piece(m, id);
        assert_int_equal(lg_spm_piece_to_id(m, piece), id);
        bytes += lg_spm_type(m, id) == LG_SPM_BYTE;
        if (lg_spm_type(m, id) == LG_SPM_NORMAL) {
            normal++;
            assert_true(lg_spm_score(m, id) < 0.0f); /* unigram log probabilities */
        }
    }
    assert_int_equal(bytes, 256);
    assert_int_equal(bytes + normal + 3, 800);
    assert_int_equal(lg_spm_type(m, lg_spm_piece_to_id(m, "<0x41>")), LG_SPM_BYTE);
    assert_int_equal(lg_spm_piece_to_id(m, "no such piece, surely"), -1);
    assert_string_equal(lg_spm_id_to_piece(m, 800), "");
    assert_string_equal(lg_spm_id_to_piece(m, -1), "");
    lg_error err;
    int bad = 800;
    assert_null(lg_spm_decode(m, &bad, 1, &err));
    assert_non_null(strstr(err.msg, "800"));
}

static void serialized_round_trip(void **state)
{
    const lg_spm *m = *state;
    uint8_t *bytes;
    size_t len;
    lg_error err;
    assert_int_equal(lg_spm_serialized(m, &bytes, &len, &err), 0);
    lg_spm *again = lg_spm_load_serialized(bytes, len, "copy", &err);
    assert_non_null(again);
    const char *text = "Toont of controleert controlesommen.";
    lg_token_ids a = {0}, b = {0};
    assert_int_equal(lg_spm_encode(m, text, strlen(text), &a, &err), 0);
    assert_int_equal(lg_spm_encode(again, text, strlen(text), &b, &err), 0);
    assert_int_equal(a.n, b.n);
    assert_memory_equal(a.ids, b.ids, a.n * sizeof *a.ids);
    lg_token_ids_free(&a);
    lg_token_ids_free(&b);
    lg_spm_free(again);

    /* Damaged copies: truncated inside a piece, garbage, empty. */
    lg_spm *broken = lg_spm_load_serialized(bytes, 50, "cut.model", &err);
    assert_null(broken);
    assert_non_null(strstr(err.msg, "cut.model"));
    memset(bytes, 0xff, 64);
    assert_null(lg_spm_load_serialized(bytes, len, "garbage.model", &err));
    assert_non_null(strstr(err.msg, "garbage.model"));
    free(bytes);
    assert_null(lg_spm_load("build/no-such.model", &err));
    assert_non_null(strstr(err.msg, "build/no-such.model"));
    assert_null(lg_spm_load("tests/data/tokenize/nl.txt", &err));
    assert_non_null(strstr(err.msg, "nl.txt"));
}

static void vocabulary_too_large(void **state)
{
    (void)state;
    lg_spm_train_options opt;
    lg_spm_train_defaults(&opt);
    opt.vocab_size = 100000;
    uint8_t *bytes = NULL;
    size_t len;
    lg_error err;
    assert_int_equal(train("tests/data/tokenize/ru.txt", &opt, &bytes, &len, &err), -1);
    assert_null(bytes);
    assert_non_null(strstr(err.msg, "ru.txt"));
    assert_non_null(strstr(err.msg, "larger than this corpus supports"));
}

/* One rule for text: invalid UTF-8 is an error where it is encoded (ids or pieces), with
 * the byte offset, even with byte fallback (which would encode the bytes). */
static void invalid_utf8_is_an_error(void **state)
{
    const lg_spm *m = *state;
    lg_token_ids ids = {0};
    lg_spm_pieces pieces = {0};
    lg_error err = {{0}};
    const char *bad = "goede\xffmorgen";
    assert_int_equal(lg_spm_encode(m, bad, strlen(bad), &ids, &err), -1);
    assert_non_null(strstr(err.msg, "invalid UTF-8 at byte 5"));
    assert_int_equal(lg_spm_encode_pieces(m, bad, strlen(bad), &pieces, &err), -1);
    assert_non_null(strstr(err.msg, "invalid UTF-8 at byte 5"));
    const char *good = "goede morgen \xc3\xa9\xc3\xa9n";
    assert_int_equal(lg_spm_encode(m, good, strlen(good), &ids, &err), 0);
    assert_true(ids.n > 0);
    lg_token_ids_free(&ids);
    lg_spm_pieces_free(&pieces);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trips),
        cmocka_unit_test(lookups),
        cmocka_unit_test(serialized_round_trip),
        cmocka_unit_test(vocabulary_too_large),
        cmocka_unit_test(invalid_utf8_is_an_error),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
