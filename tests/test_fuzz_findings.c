/* What the libFuzzer harnesses (tests/fuzz/) found, kept as tests of the plain and the
 * ASan/UBSan builds; the inputs themselves are in tests/fuzz/crashes/NAME/, replayed by
 * tests/fuzz_smoke.sh.
 *
 * fuzz_trainer_state: a checkpoint's trainer_state.json as `lm train --resume` reads it
 * (lg_checkpoint_read_state): the file lm train writes is read back whole; a number outside
 * what its field can hold (1e300 steps, a vocabulary of -1e300, 2.5 layers, batch 0) is
 * refused with the field and the file named, where converting it was undefined behaviour.
 *
 * fuzz_spm: a .model with an empty piece makes SentencePiece throw inside its loader; the
 * refusal names the file and frees the half-loaded model (it leaked: LeakSanitizer in the
 * ASan build).
 *
 * fuzz_spm: a piece type outside SentencePiece's enum reads as protobuf reads it (NORMAL).
 *
 * fuzz_spm: `tokenize extend` with a target holding the piece "\0" (it loads: a BPE model
 * keeps no trie) wrote a model libsentencepiece cannot load (an empty key in the unigram
 * base's trie); the extension is refused, naming the target and the piece.
 *
 * fuzz_adapter_config: a PEFT adapter_config.json's r is a whole number whose adapter fits
 * in adapter_model.safetensors, checked before anything is allocated; lora_alpha is finite. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lg_checkpoint.h"
#include "lg_lora.h"
#include "lg_model.h"
#include "lg_spm.h"
#include "spm_proto.h"

#define DIR "build/test_fuzz_findings"
#define SEED "tests/fuzz/seeds/trainer_state/full.json"

/* Writes dst: the file src with the text `from` (when not NULL) replaced by `to`. */
static void write_variant(const char *src, const char *dst, const char *from, const char *to)
{
    lg_error err;
    char *text = lg_read_file(src, 1 << 20, NULL, &err);
    assert_non_null(text);
    FILE *f = fopen(dst, "w");
    assert_non_null(f);
    char *at = from ? strstr(text, from) : NULL;
    if (from)
        assert_non_null(at);
    if (at) {
        fwrite(text, 1, (size_t)(at - text), f);
        fputs(to, f);
        fputs(at + strlen(from), f);
    } else {
        fputs(text, f);
    }
    assert_int_equal(fclose(f), 0);
    free(text);
}

/* DIR/trainer_state.json: the seed (written by lm train) with `from` replaced by `to`. */
static void write_state(const char *from, const char *to)
{
    mkdir("build", 0755);
    mkdir(DIR, 0755);
    write_variant(SEED, DIR "/trainer_state.json", from, to);
}

static void reads_what_lm_train_writes(void **state)
{
    (void)state;
    write_state(NULL, NULL);
    lg_train_state st;
    lg_error err = {{0}};
    assert_int_equal(lg_checkpoint_read_state(DIR, &st, &err), 0);
    assert_int_equal(st.step, 2);
    assert_int_equal(st.data.next, 4);
    assert_int_equal(st.seed, 7);
    assert_int_equal(st.lora, 0);
    assert_int_equal(st.train_rows_from, -1);
    assert_int_equal(st.batch, 2);
    assert_int_equal(st.seq_len, 32);
    assert_int_equal(st.data_tokens, 19134);
    assert_int_equal(st.model.vocab_size, 301);
    assert_int_equal(st.model.intermediate_size, 176);
    assert_string_equal(st.model.model_type, "llama");
}

static void refused(const char *from, const char *to, const char *field)
{
    write_state(from, to);
    lg_train_state st;
    lg_error err = {{0}};
    assert_int_equal(lg_checkpoint_read_state(DIR, &st, &err), -1);
    assert_non_null(strstr(err.msg, DIR "/trainer_state.json"));
    assert_non_null(strstr(err.msg, field));
}

static void refuses_numbers_its_fields_cannot_hold(void **state)
{
    (void)state;
    refused("\"step\":\t2", "\"step\":\t1e300", "\"step\"");
    refused("\"step\":\t2", "\"step\":\t-1", "\"step\"");
    refused("\"data_next_sequence\":\t4", "\"data_next_sequence\":\t1e20", "data_next_sequence");
    refused("\"train_rows_from\":\t-1", "\"train_rows_from\":\t-2", "train_rows_from");
    refused("\"batch\":\t2", "\"batch\":\t0", "\"batch\"");
    refused("\"seq_len\":\t32", "\"seq_len\":\t3e9", "seq_len");
    refused("\"accum\":\t1", "\"accum\":\t1.5", "accum");
    refused("\"vocab_size\":\t301", "\"vocab_size\":\t-1e300301", "vocab_size");
    refused("\"num_hidden_layers\":\t2", "\"num_hidden_layers\":\t2.5", "num_hidden_layers");
    refused("\"hidden_size\":\t64", "\"hidden_size\":\t1e999", "hidden_size");
}

static void spm_model_that_throws_is_refused_and_freed(void **state)
{
    (void)state;
    const char *path = "tests/fuzz/crashes/spm/empty-piece-leak.model";
    lg_error err = {{0}};
    assert_null(lg_spm_load(path, &err));
    assert_non_null(strstr(err.msg, path));
}

#define ADAPTER DIR "/adapter"
#define LORA "tests/fixtures/hf/llama-tiny-lora"

/* ADAPTER: the PEFT fixture's weights with its adapter_config.json changed; loaded onto its
 * base, it must be refused naming the adapter (and not attached). */
static void adapter_refused(lg_model *m, const char *from, const char *to, const char *says)
{
    write_variant(LORA "/adapter_config.json", ADAPTER "/adapter_config.json", from, to);
    lg_error err = {{0}};
    assert_null(lg_lora_load_peft(m, ADAPTER, &err));
    assert_null(m->lora);
    assert_non_null(strstr(err.msg, ADAPTER "/"));
    assert_non_null(strstr(err.msg, says));
}

/* fuzz_adapter_config: r drove an allocation before the weights were looked at ("r": 1e9
 * asked for 9 TB, 4.1e96 became INT_MAX; under ASan an abort), 4.5 was read as 4, an empty
 * target_modules was refused without naming the adapter. */
static void adapter_config_rank_is_bounded_by_the_weights(void **state)
{
    (void)state;
    lg_error err = {{0}};
    lg_model *m = lg_model_load_dir("tests/fixtures/hf/llama-tiny", &err);
    assert_non_null(m);
    mkdir("build", 0755);
    mkdir(DIR, 0755);
    mkdir(ADAPTER, 0755);
    size_t len;
    char *weights = lg_read_file(LORA "/adapter_model.safetensors", 1 << 20, &len, &err);
    assert_non_null(weights);
    FILE *f = fopen(ADAPTER "/adapter_model.safetensors", "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(weights, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    free(weights);
    write_variant(LORA "/adapter_config.json", ADAPTER "/adapter_config.json", NULL, NULL);
    lg_lora *l = lg_lora_load_peft(m, ADAPTER, &err);
    assert_non_null(l);                 /* the fixture itself loads */
    assert_int_equal(l->cfg.rank, 4);
    m->lora = NULL;
    lg_lora_free(l);
    adapter_refused(m, "\"r\": 4,", "\"r\": 1000000000,", "LoRA of rank 1000000000");
    adapter_refused(m, "\"r\": 4,", "\"r\": 4111111111111111111111111111111111111111111111e50,",
                    "invalid r");
    adapter_refused(m, "\"r\": 4,", "\"r\": 4.5,", "invalid r");
    adapter_refused(m, "\"r\": 4,", "\"r\": 0,", "invalid r");
    adapter_refused(m, "\"lora_alpha\": 8,", "\"lora_alpha\": 1e300,", "lora_alpha");
    adapter_refused(m, "\"target_modules\": [", "\"target_modules\": [], \"x\": [",
                    "target module");
    lg_model_free(m);
}

/* fuzz_spm: a piece type the enum lacks (</s> with type 11) is an unknown field to protobuf,
 * so SentencePiece takes the piece as NORMAL; lingraft's own reader said 11, which is no
 * lg_spm_type (and disagreed with SentencePiece on what the piece is). */
static void spm_unknown_piece_type_reads_as_protobuf_reads_it(void **state)
{
    (void)state;
    const char *path = "tests/fuzz/crashes/spm/piece-type-11.model";
    lg_error err = {{0}};
    lg_spm *m = lg_spm_load(path, &err);
    assert_non_null(m);
    assert_string_equal(lg_spm_id_to_piece(m, 2), "</s>");
    assert_int_equal(lg_spm_type(m, 2), LG_SPM_NORMAL);
    assert_int_equal(lg_spm_type(m, 1), LG_SPM_CONTROL);
    for (int id = 0; id < lg_spm_vocab_size(m); id++)
        assert_true(lg_spm_type(m, id) >= LG_SPM_NORMAL && lg_spm_type(m, id) <= LG_SPM_BYTE);
    lg_spm_free(m);
}

/* fuzz_spm: a target piece with a NUL byte cannot be added to a SentencePiece model. */
static void extend_refuses_a_piece_with_a_nul_byte(void **state)
{
    (void)state;
    const char *base_path = "tests/data/gguf/tiny301.model";
    const char *target_path = "tests/fuzz/crashes/spm/nul-piece.model";
    lg_error err = {{0}};
    size_t base_len, target_len, merged_len, n_added;
    uint8_t *base = (uint8_t *)lg_read_file(base_path, 1 << 24, &base_len, &err);
    uint8_t *target = (uint8_t *)lg_read_file(target_path, 1 << 24, &target_len, &err);
    assert_non_null(base);
    assert_non_null(target);
    lg_spm *t = lg_spm_load(target_path, &err); /* the target itself loads */
    assert_non_null(t);
    lg_spm_free(t);
    uint8_t *merged = (uint8_t *)1;
    int *ids = (int *)1;
    assert_int_equal(lg_spm_proto_extend(base, base_len, base_path, target, target_len,
                                         target_path, LG_SPM_SCORE_BELOW, &merged, &merged_len,
                                         &ids, &n_added, &err),
                     -1);
    assert_non_null(strstr(err.msg, target_path));
    assert_non_null(strstr(err.msg, "piece 266 contains a NUL byte"));
    assert_null(merged);
    assert_null(ids);
    free(base);
    free(target);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reads_what_lm_train_writes),
        cmocka_unit_test(refuses_numbers_its_fields_cannot_hold),
        cmocka_unit_test(spm_model_that_throws_is_refused_and_freed),
        cmocka_unit_test(adapter_config_rank_is_bounded_by_the_weights),
        cmocka_unit_test(spm_unknown_piece_type_reads_as_protobuf_reads_it),
        cmocka_unit_test(extend_refuses_a_piece_with_a_nul_byte),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
