/* The tokenizer.json reader behind the core's interface: lg_tokenizer_load picks it by
 * name, by content and in a model directory, and keeps SentencePiece's .model; ids, pieces,
 * special ids, byte pieces and decoding of tests/data/tokenize/tiny-tokenizer.json and of
 * the byte-fallback fuzz seed (their ids are what tokenizers@0.23.2 gives: see
 * tests/hf_tokenizer_parity.sh, which compares every line with it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../tokenize/hf_tokenizer.h"
#include "lg_io.h"
#include "lg_spm.h"

#define TINY "tests/data/tokenize/tiny-tokenizer.json"
#define SEED "tests/fuzz/seeds/hf_tokenizer/metaspace-bytefallback.json"

static void encode_is(lg_tokenizer *t, const char *text, const int *want, size_t n)
{
    lg_token_ids ids = {0};
    lg_error err = {{0}};
    assert_int_equal(t->ops->encode(t, text, strlen(text), &ids, &err), 0);
    assert_int_equal(ids.n, n);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(ids.ids[i], want[i]);
    lg_token_ids_free(&ids);
}

static void tiny_by_name(void **state)
{
    (void)state;
    lg_error err = {{0}};
    lg_tokenizer *t = lg_tokenizer_load(TINY, &err);
    assert_non_null(t);
    assert_string_equal(t->ops->kind, "tokenizer.json");
    assert_null(lg_tokenizer_spm(t));
    assert_non_null(lg_tokenizer_hf(t));
    assert_int_equal(t->ops->vocab_size(t), 10);
    /* NFKC + Lowercase, split before whitespace, digits apart, merges a b, ab c, b a */
    encode_is(t, "abc ab ba", (const int[]){6, 4, 5, 4, 7}, 5);
    /* the special <s> is matched before normalizing; "[X]" (normalized, single_word,
     * lstrip, rstrip) only as a word of its own; unknown characters fused into one <unk> */
    encode_is(t, "<s>ABC [x] xy", (const int[]){8, 6, 9, 0}, 4);
    assert_int_equal(t->ops->bos_id(t), 8); /* TemplateProcessing's first special token */
    assert_int_equal(t->ops->eos_id(t), -1);
    assert_int_equal(lg_tokenizer_unk_id(t), 0);
    assert_string_equal(t->ops->piece(t, 6), "abc");
    assert_string_equal(t->ops->piece(t, 9), "[X]");
    assert_string_equal(t->ops->piece(t, 99), "");
    assert_int_equal(lg_tokenizer_piece_to_id(t, "ba"), 7);
    assert_int_equal(lg_tokenizer_piece_to_id(t, "<s>"), 8);
    assert_int_equal(lg_tokenizer_piece_to_id(t, "zz"), -1);
    assert_int_equal(lg_tokenizer_byte_of(t, 1), -1);
    /* decoder: Replace "ab" -> "AB", Fuse */
    char *s = t->ops->decode(t, (const int[]){8, 6, 4, 7}, 4, &err);
    assert_non_null(s);
    assert_string_equal(s, "<s>ABc ba");
    free(s);
    /* invalid UTF-8 is an error, never replaced */
    lg_token_ids ids = {0};
    assert_int_equal(t->ops->encode(t, "ab\xff", 3, &ids, &err), -1);
    assert_non_null(strstr(err.msg, "invalid UTF-8 at byte 2"));
    lg_token_ids_free(&ids);
    lg_tokenizer_free(t);
}

static void by_content_and_directory(void **state)
{
    (void)state;
    lg_error err = {{0}};
    char dir[] = "build/test_hf_tokenizer.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    /* a file not named .json whose content is JSON */
    snprintf(path, sizeof path, "%s/tok", dir);
    size_t len;
    char *text = lg_read_file(SEED, 1 << 20, &len, &err);
    assert_non_null(text);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    fclose(f);
    lg_tokenizer *t = lg_tokenizer_load(path, &err);
    assert_non_null(t);
    assert_string_equal(t->ops->kind, "tokenizer.json");
    /* byte fallback: "ñ" is not in the vocabulary, its two bytes are; <0xC3> is id 3+0xC3 */
    encode_is(t, "hello ñ", (const int[]){271, 259, 3 + 0xC3, 3 + 0xB1}, 4);
    assert_int_equal(lg_tokenizer_byte_of(t, 3 + 0xC3), 0xC3);
    assert_int_equal(lg_tokenizer_byte_of(t, 271), -1);
    assert_int_equal(t->ops->bos_id(t), 1);
    assert_int_equal(t->ops->eos_id(t), 2);
    char *s = t->ops->decode(t, (const int[]){271, 259, 3 + 0xC3, 3 + 0xB1}, 4, &err);
    assert_non_null(s);
    assert_string_equal(s, "hello ñ");
    free(s);
    lg_tokenizer_free(t);
    remove(path);
    /* a directory holding tokenizer.json */
    snprintf(path, sizeof path, "%s/tokenizer.json", dir);
    f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    fclose(f);
    free(text);
    t = lg_tokenizer_load(dir, &err);
    assert_non_null(t);
    assert_int_equal(t->ops->vocab_size(t), 272);
    lg_tokenizer_free(t);
    remove(path);
    rmdir(dir);
}

static void sentencepiece_still(void **state)
{
    (void)state;
    lg_error err = {{0}};
    lg_tokenizer *t = lg_tokenizer_load("tests/data/gguf/bpe301.model", &err);
    assert_non_null(t);
    assert_string_equal(t->ops->kind, "sentencepiece");
    assert_non_null(lg_tokenizer_spm(t));
    assert_null(lg_tokenizer_hf(t));
    const lg_spm *m = lg_tokenizer_spm(t);
    int byte_id = lg_spm_piece_to_id(m, "<0x41>");
    if (byte_id >= 0)
        assert_int_equal(lg_tokenizer_byte_of(t, byte_id), 0x41);
    assert_int_equal(lg_tokenizer_unk_id(t), lg_spm_unk_id(m));
    assert_int_equal(lg_tokenizer_piece_to_id(t, lg_spm_id_to_piece(m, 5)), 5);
    lg_tokenizer_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tiny_by_name),
        cmocka_unit_test(by_content_and_directory),
        cmocka_unit_test(sentencepiece_still),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
