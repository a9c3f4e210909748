/* Vocabulary extension: base ids unchanged, new pieces appended, other bytes kept. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../tokenize/spm_proto.h"
#include "lg_io.h"
#include "lg_spm.h"

typedef struct {
    uint8_t *base, *target;
    size_t base_len, target_len;
} models;

static int next_line(void *ctx, const char **line, size_t *len, lg_error *err)
{
    return lg_corpus_next(ctx, line, len, err);
}

static uint8_t *train(const char *path, const char *type, int vocab, const char *symbols,
                      size_t *len)
{
    lg_spm_train_options opt;
    lg_spm_train_defaults(&opt);
    opt.model_type = type;
    opt.vocab_size = vocab;
    opt.byte_fallback = 1;
    opt.user_defined_symbols = symbols;
    lg_error err;
    lg_corpus_reader *r = lg_corpus_open(path, &err);
    uint8_t *bytes = NULL;
    if (!r || lg_spm_train(&opt, next_line, r, path, &bytes, len, &err) < 0)
        fprintf(stderr, "%s\n", err.msg);
    lg_corpus_close(r);
    return bytes;
}

static int setup(void **state)
{
    models *m = calloc(1, sizeof *m);
    m->base = train("tests/data/tokenize/en.txt", "bpe", 700, NULL, &m->base_len);
    m->target = train("tests/data/tokenize/nl.txt", "unigram", 900, "<nl>", &m->target_len);
    *state = m;
    return m->base && m->target ? 0 : -1;
}

static int teardown(void **state)
{
    models *m = *state;
    free(m->base);
    free(m->target);
    free(m);
    return 0;
}

static void check_extension(const models *m, lg_spm_score_policy policy)
{
    lg_error err;
    uint8_t *merged;
    size_t merged_len, n_added;
    int *target_ids;
    assert_int_equal(lg_spm_proto_extend(m->base, m->base_len, "base", m->target, m->target_len,
                                         "target", policy, &merged, &merged_len, &target_ids,
                                         &n_added, &err),
                     0);
    lg_spm *base = lg_spm_load_serialized(m->base, m->base_len, "base", &err);
    lg_spm *target = lg_spm_load_serialized(m->target, m->target_len, "target", &err);
    lg_spm *out = lg_spm_load_serialized(merged, merged_len, "merged", &err);
    assert_non_null(out);
    int nb = lg_spm_vocab_size(base);
    assert_true(n_added > 100);
    assert_int_equal(lg_spm_vocab_size(out), nb + (int)n_added);

    /* Every base id keeps piece, score and type. */
    float base_min = INFINITY;
    for (int id = 0; id < nb; id++) {
        assert_string_equal(lg_spm_id_to_piece(out, id), lg_spm_id_to_piece(base, id));
        assert_true(lg_spm_score(out, id) == lg_spm_score(base, id));
        assert_int_equal(lg_spm_type(out, id), lg_spm_type(base, id));
        if (lg_spm_type(base, id) == LG_SPM_NORMAL && lg_spm_score(base, id) < base_min)
            base_min = lg_spm_score(base, id);
    }
    assert_int_equal(lg_spm_unk_id(out), lg_spm_unk_id(base));
    assert_int_equal(lg_spm_eos_id(out), lg_spm_eos_id(base));

    /* New ids are the target's missing pieces, in target order, with the target's type. */
    for (size_t k = 0; k < n_added; k++) {
        int id = nb + (int)k;
        const char *piece = lg_spm_id_to_piece(out, id);
        assert_string_equal(piece, lg_spm_id_to_piece(target, target_ids[k]));
        assert_int_equal(lg_spm_piece_to_id(base, piece), -1);
        assert_int_equal(lg_spm_type(out, id), lg_spm_type(target, target_ids[k]));
        if (k > 0)
            assert_true(target_ids[k] > target_ids[k - 1]);
        if (policy == LG_SPM_SCORE_ZERO)
            assert_true(lg_spm_score(out, id) == 0.0f);
        else
            assert_true(lg_spm_score(out, id) < base_min);
    }
    /* Every normal or user-defined target piece is now in the vocabulary. */
    for (int id = 0; id < lg_spm_vocab_size(target); id++) {
        int t = lg_spm_type(target, id);
        if (t == LG_SPM_NORMAL || t == LG_SPM_USER_DEFINED)
            assert_true(lg_spm_piece_to_id(out, lg_spm_id_to_piece(target, id)) >= 0);
    }
    assert_int_equal(lg_spm_type(out, lg_spm_piece_to_id(out, "<nl>")), LG_SPM_USER_DEFINED);

    /* Everything but the inserted records is base's bytes, unchanged. */
    lg_spm_proto bp;
    assert_int_equal(lg_spm_proto_parse(m->base, m->base_len, "base", &bp, &err), 0);
    size_t tail = m->base_len - bp.pieces_end;
    assert_true(tail > 0); /* trainer and normalizer specs follow the pieces */
    assert_memory_equal(merged, m->base, bp.pieces_end);
    assert_memory_equal(merged + merged_len - tail, m->base + bp.pieces_end, tail);
    lg_spm_proto_free(&bp);

    /* The merged tokenizer still round-trips text. */
    const char *text = "Deze licentie geeft u het recht the Program to modify";
    lg_token_ids ids = {0};
    assert_int_equal(lg_spm_encode(out, text, strlen(text), &ids, &err), 0);
    char *back = lg_spm_decode(out, ids.ids, ids.n, &err);
    assert_string_equal(back, text);
    free(back);
    lg_token_ids_free(&ids);

    lg_spm_free(base);
    lg_spm_free(target);
    lg_spm_free(out);
    free(merged);
    free(target_ids);
}

static void extend_below(void **state) { check_extension(*state, LG_SPM_SCORE_BELOW); }
static void extend_zero(void **state) { check_extension(*state, LG_SPM_SCORE_ZERO); }

static void extend_with_itself_changes_nothing(void **state)
{
    const models *m = *state;
    lg_error err;
    uint8_t *merged;
    size_t merged_len, n_added;
    int *ids;
    assert_int_equal(lg_spm_proto_extend(m->base, m->base_len, "base", m->base, m->base_len,
                                         "base", LG_SPM_SCORE_BELOW, &merged, &merged_len, &ids,
                                         &n_added, &err),
                     0);
    assert_int_equal(n_added, 0);
    assert_int_equal(merged_len, m->base_len);
    assert_memory_equal(merged, m->base, merged_len);
    free(merged);
    free(ids);
}

static void corrupt_base_is_an_error(void **state)
{
    const models *m = *state;
    lg_error err;
    uint8_t *merged;
    size_t merged_len, n_added;
    int *ids;
    lg_spm_proto bp;
    assert_int_equal(lg_spm_proto_parse(m->base, m->base_len, "base", &bp, &err), 0);
    size_t cut = bp.pieces_end - 3; /* inside the last piece record */
    lg_spm_proto_free(&bp);
    assert_int_equal(lg_spm_proto_extend(m->base, cut, "cut.model", m->target, m->target_len,
                                         "target", LG_SPM_SCORE_BELOW, &merged, &merged_len, &ids,
                                         &n_added, &err),
                     -1);
    assert_non_null(strstr(err.msg, "cut.model"));
    assert_null(merged);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(extend_below),
        cmocka_unit_test(extend_zero),
        cmocka_unit_test(extend_with_itself_changes_nothing),
        cmocka_unit_test(corrupt_base_is_an_error),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
