/* libFuzzer harness: arbitrary bytes through lingraft's own SentencePiece ModelProto reader
 * and extender (lg_spm_proto_parse, lg_spm_proto_extend: `tokenize extend` runs them on the
 * base and target .model files before libsentencepiece sees the result), the input as the
 * target and as the base, tests/data/gguf/tiny301.model the other; and
 * lg_spm_proto_set_identity (the model without its normaliser, as the GGUF export's
 * check builds it), which must parse back with the same pieces and an identity spec. The extended bytes must
 * be the base's with the added pieces right after its last one. Built by `make fuzz-build`,
 * run by tests/fuzz/run.sh. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "lg_spm.h"
#include "spm_proto.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t *fixed;
static size_t fixed_len;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    lg_error err = {{0}};
    fixed = (uint8_t *)lg_read_file(FUZZ_FIXTURE("tests/data/gguf/tiny301.model"), 1 << 20,
                                    &fixed_len, &err);
    if (!fixed) {
        fprintf(stderr, "fuzz harness: %s\n", err.msg);
        abort();
    }
    return 0;
}

static void check_pieces(const lg_spm_proto *p, const uint8_t *data, size_t size)
{
    if (p->pieces_end > size)
        abort();
    for (size_t i = 0; i < p->n; i++) {
        const lg_spm_proto_piece *q = &p->pieces[i];
        if (q->piece_len && (q->piece < data || q->piece + q->piece_len > data + size))
            abort();                    /* the piece's bytes lie in the input */
        if (q->type < LG_SPM_NORMAL || q->type > LG_SPM_BYTE)
            abort();                    /* a SentencePiece type, as protobuf reads it */
    }
}

/* Extends base with target; on success the result must parse, hold base's pieces then
 * n_added new ones, and keep every byte of base around them. */
static void extend(const uint8_t *base, size_t base_len, const char *base_name,
                   const uint8_t *target, size_t target_len, const char *target_name,
                   lg_spm_score_policy policy)
{
    lg_error err = {{0}};
    uint8_t *merged;
    size_t merged_len, n_added;
    int *target_ids;
    if (lg_spm_proto_extend(base, base_len, base_name, target, target_len, target_name, policy,
                            &merged, &merged_len, &target_ids, &n_added, &err) < 0) {
        if (!strstr(err.msg, base_name) && !strstr(err.msg, target_name))
            fuzz_refusal(&err, "fuzz.model");
        return;
    }
    lg_spm_proto bp, mp, tp;
    if (lg_spm_proto_parse(base, base_len, "base", &bp, &err) < 0 ||
        lg_spm_proto_parse(target, target_len, "target", &tp, &err) < 0 ||
        lg_spm_proto_parse(merged, merged_len, "merged", &mp, &err) < 0) {
        fprintf(stderr, "fuzz harness: %s\n", err.msg);
        abort();
    }
    if (mp.n != bp.n + n_added || memcmp(merged, base, bp.pieces_end) != 0 ||
        merged_len < base_len - bp.pieces_end ||
        memcmp(merged + merged_len - (base_len - bp.pieces_end), base + bp.pieces_end,
               base_len - bp.pieces_end) != 0)
        abort();
    for (size_t k = 0; k < n_added; k++) {
        const lg_spm_proto_piece *added = &mp.pieces[bp.n + k];
        if (target_ids[k] < 0 || (size_t)target_ids[k] >= tp.n)
            abort();
        const lg_spm_proto_piece *from = &tp.pieces[target_ids[k]];
        if (added->piece_len != from->piece_len ||
            (added->piece_len && memcmp(added->piece, from->piece, added->piece_len)) ||
            added->type != from->type)
            abort();
    }
    lg_spm_proto_free(&bp);
    lg_spm_proto_free(&tp);
    lg_spm_proto_free(&mp);
    free(merged);
    free(target_ids);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lg_error err = {{0}};
    lg_spm_proto p;
    if (lg_spm_proto_parse(data, size, "fuzz.model", &p, &err) < 0) {
        fuzz_refusal(&err, "fuzz.model");
        return 0;
    }
    check_pieces(&p, data, size);
    if (p.model_type < 1 || p.model_type > 4 || p.normalizer.name[sizeof p.normalizer.name - 1])
        abort();
    /* the model without its normaliser (lg_spm_count_normalized builds it): the same
     * pieces, an identity NormalizerSpec with spaces kept */
    uint8_t *plain;
    size_t plain_len;
    if (lg_spm_proto_set_identity(data, size, "fuzz.model", p.normalizer.add_dummy_prefix,
                                  p.normalizer.escape_whitespaces, &plain, &plain_len, &err) < 0)
        fuzz_refusal(&err, "fuzz.model");
    else {
        lg_spm_proto q;
        if (lg_spm_proto_parse(plain, plain_len, "plain", &q, &err) < 0)
            abort();
        if (q.n != p.n || strcmp(q.normalizer.name, "identity") || q.normalizer.charsmap_len ||
            q.normalizer.remove_extra_whitespaces ||
            q.normalizer.add_dummy_prefix != p.normalizer.add_dummy_prefix ||
            q.model_type != p.model_type)
            abort();
        lg_spm_proto_free(&q);
        free(plain);
    }
    lg_spm_proto_free(&p);
    extend(fixed, fixed_len, "base.model", data, size, "fuzz.model", LG_SPM_SCORE_BELOW);
    extend(data, size, "fuzz.model", fixed, fixed_len, "base.model", LG_SPM_SCORE_ZERO);
    return 0;
}
