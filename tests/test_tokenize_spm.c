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

/* Trains one small byte-fallback unigram model on the Dutch text, shared by the tests,
 * with the library's defaults: no normaliser inside the model, spaces kept. */
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

/* What a model with NFKC inside (nmt_nfkc, SentencePiece's old default) gives back: the
 * ICU-cleaned line with SentencePiece's whitespace handling (runs of spaces collapsed,
 * none at either end). */
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

/* The line itself, but for the character "▁" (U+2581), which stands for a space in
 * SentencePiece's pieces and decodes as one (in llama.cpp too). */
static char *as_given(const char *line, size_t len)
{
    char *out = malloc(len + 1);
    size_t k = 0;
    for (size_t i = 0; i < len; i++) {
        if (i + 2 < len && !memcmp(line + i, "\u2581", 3)) {
            out[k++] = ' ';
            i += 2;
        } else {
            out[k++] = line[i];
        }
    }
    out[k] = 0;
    return out;
}

/* decode(encode(x)) must be x itself (U+2581 aside) for a model with no normaliser (every line as it
 * is: tabs, runs of spaces, characters NFKC would change), and the NFKC-normalised,
 * space-collapsed x for a model with NFKC inside (given that text). */
static void round_trip(const lg_spm *m, const char *path, int nfkc_model, int64_t *checked)
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
        char *expect = nfkc_model ? normalised(c, line, len) : as_given(line, len);
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
    round_trip(*state, "tests/data/tokenize/nl.txt", 0, &n);
    round_trip(*state, "tests/data/tokenize/ru.txt", 0, &n); /* unseen script: byte fallback */
    round_trip(*state, "tests/data/tokenize/en.txt", 0, &n);
    round_trip(*state, "tests/data/parity/crafted.txt", 0, &n); /* what NFKC would change */
    assert_true(n > 2000);
}

/* A model trained with SentencePiece's nmt_nfkc rule inside (and spaces collapsed): it
 * states so, counts the characters its normaliser rewrites, and llama.cpp's check says
 * why it cannot reproduce it. The default model: identity, nothing rewritten. */
static void normalisers(void **state)
{
    const lg_spm *plain = *state;
    lg_spm_info info;
    lg_spm_get_info(plain, &info);
    assert_string_equal(info.normalizer, "identity");
    assert_int_equal(info.charsmap_bytes, 0);
    assert_int_equal(info.remove_extra_whitespaces, 0);
    assert_int_equal(info.add_dummy_prefix, 1);
    assert_int_equal(info.escape_whitespaces, 1);
    assert_int_equal(info.model_type, 1);
    assert_int_equal(info.byte_pieces, 256);
    assert_int_equal(info.user_defined_pieces, 0);
    long count = -1;
    char examples[64];
    lg_error err;
    assert_int_equal(lg_spm_count_normalized(plain, &count, examples, sizeof examples, 3, &err), 0);
    assert_int_equal(count, 0);
    char why[1024];
    assert_int_equal(lg_spm_llama_cpp_check(plain, why, sizeof why, &err), 0);
    assert_non_null(strstr(why, "a unigram model"));    /* its only reason */
    assert_null(strstr(why, "normaliser"));

    lg_spm_train_options opt;
    lg_spm_train_defaults(&opt);
    opt.vocab_size = 800;
    opt.byte_fallback = 1;
    opt.model_type = "bpe";
    uint8_t *bytes;
    size_t len;
    assert_int_equal(train("tests/data/tokenize/nl.txt", &opt, &bytes, &len, &err), 0);
    lg_spm *bpe = lg_spm_load_serialized(bytes, len, "nl-bpe", &err);
    free(bytes);
    assert_non_null(bpe);
    assert_int_equal(lg_spm_llama_cpp_check(bpe, why, sizeof why, &err), 1);
    assert_string_equal(why, "");
    lg_spm_free(bpe);

    opt.normalization_rule = "nmt_nfkc";
    opt.keep_extra_whitespaces = 0;
    assert_int_equal(train("tests/data/tokenize/nl.txt", &opt, &bytes, &len, &err), 0);
    lg_spm *nfkc = lg_spm_load_serialized(bytes, len, "nl-nfkc", &err);
    free(bytes);
    assert_non_null(nfkc);
    lg_spm_get_info(nfkc, &info);
    assert_string_equal(info.normalizer, "nmt_nfkc");
    assert_true(info.charsmap_bytes > 0);
    assert_int_equal(info.remove_extra_whitespaces, 1);
    assert_int_equal(info.model_type, 2);
    char desc[200];
    lg_spm_describe_normalizer(nfkc, desc, sizeof desc);
    assert_non_null(strstr(desc, "NFKC inside the model"));
    assert_int_equal(lg_spm_count_normalized(nfkc, &count, examples, sizeof examples, 3, &err), 0);
    assert_true(count > 4000);      /* compatibility characters of every script */
    assert_string_equal(examples, "\u2026 \ufb01 \u00b2");
    assert_int_equal(lg_spm_llama_cpp_check(nfkc, why, sizeof why, &err), 0);
    assert_non_null(strstr(why, "'nmt_nfkc'"));
    int64_t n = 0;
    round_trip(nfkc, "tests/data/tokenize/nl.txt", 1, &n);
    assert_true(n > 500);   /* (nmt_nfkc also maps zero-width spaces: not ICU's NFKC) */
    lg_spm_free(nfkc);
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
        cmocka_unit_test(normalisers),
        cmocka_unit_test(serialized_round_trip),
        cmocka_unit_test(vocabulary_too_large),
        cmocka_unit_test(invalid_utf8_is_an_error),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
