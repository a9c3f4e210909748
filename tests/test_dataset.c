/* Datasets: documents framed by bos/eos and packed into sequences, bad ids and empty files
 * refused with file and line, the shuffled order a permutation that depends on the seed
 * only, a saved position that continues identically, and text encoded through
 * SentencePiece with its bytes counted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lg_train.h"
#include "lg_spm.h"

static char *write_temp(const char *text)
{
    char *path = strdup("build/test_dataset_XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    size_t n = strlen(text);
    assert_int_equal(write(fd, text, n), (ssize_t)n);
    close(fd);
    return path;
}

static lg_dataset_options options(int T, int vocab, int bos, int eos)
{
    return (lg_dataset_options){.seq_len = T, .vocab_size = vocab, .bos_id = bos, .eos_id = eos,
                                .seed = 1, .shuffle = 0};
}

static void documents_are_framed_and_packed(void **state)
{
    (void)state;
    char *path = write_temp("5 6 7\n\n8  9\r\n");
    lg_error err;
    lg_dataset_options o = options(4, 10, 1, 2);
    lg_dataset *ds = lg_dataset_load_ids(path, &o, &err);
    assert_non_null(ds);
    assert_int_equal(ds->n_docs, 2);
    const int32_t stream[] = {1, 5, 6, 7, 2, 1, 8, 9, 2};
    assert_int_equal(ds->n_tokens, 9);
    assert_memory_equal(ds->tokens, stream, sizeof stream);
    assert_int_equal(ds->n_seqs, 2); /* the ninth token does not fill a sequence */
    int32_t batch[8];
    lg_dataset_next_batch(ds, batch, 2);
    assert_memory_equal(batch, stream, sizeof batch);
    /* the next batch starts the second epoch */
    lg_dataset_next_batch(ds, batch, 1);
    assert_int_equal(ds->pos.epoch, 1);
    assert_memory_equal(batch, stream, 4 * sizeof *batch);
    lg_dataset_free(ds);

    /* a model without markers: the ids alone */
    o = options(2, 10, -1, -1);
    ds = lg_dataset_load_ids(path, &o, &err);
    assert_non_null(ds);
    const int32_t plain[] = {5, 6, 7, 8, 9};
    assert_int_equal(ds->n_tokens, 5);
    assert_memory_equal(ds->tokens, plain, sizeof plain);
    lg_dataset_free(ds);
    remove(path);
    free(path);
}

static void bad_ids_name_file_and_line(void **state)
{
    (void)state;
    lg_error err;
    lg_dataset_options o = options(2, 300, -1, -1);
    char *path = write_temp("1 2 3\n4 300 5\n");
    assert_null(lg_dataset_load_ids(path, &o, &err));
    char want[128];
    snprintf(want, sizeof want, "%s:2: token id 300 is outside the vocabulary (300)", path);
    assert_string_equal(err.msg, want);
    remove(path);
    free(path);

    path = write_temp("1 2\n3 x4\n");
    assert_null(lg_dataset_load_ids(path, &o, &err));
    snprintf(want, sizeof want, "%s:2: 'x4' is not a token id", path);
    assert_string_equal(err.msg, want);
    remove(path);
    free(path);

    path = write_temp("1 -2\n");
    assert_null(lg_dataset_load_ids(path, &o, &err));
    assert_non_null(strstr(err.msg, ":1: '-2' is not a token id"));
    remove(path);
    free(path);
}

static void empty_and_short_files_are_refused(void **state)
{
    (void)state;
    lg_error err;
    lg_dataset_options o = options(4, 300, -1, -1);
    const char *empties[] = {"", "\n\n  \n"};
    for (int i = 0; i < 2; i++) {
        char *path = write_temp(empties[i]);
        assert_null(lg_dataset_load_ids(path, &o, &err));
        assert_non_null(strstr(err.msg, path));
        assert_non_null(strstr(err.msg, "empty"));
        remove(path);
        free(path);
    }
    char *path = write_temp("1 2 3\n");
    assert_null(lg_dataset_load_ids(path, &o, &err));
    assert_non_null(strstr(err.msg, "3 tokens, fewer than one sequence of 4"));
    remove(path);
    free(path);
    assert_null(lg_dataset_load_ids("build/no/such/file.ids", &o, &err));
    assert_non_null(strstr(err.msg, "build/no/such/file.ids"));
}

/* 60 sequences of 2 tokens: sequence s is (s, s). */
static lg_dataset *numbered(uint64_t seed, char **path_out)
{
    char text[2048] = "";
    for (int s = 0; s < 60; s++)
        snprintf(text + strlen(text), sizeof text - strlen(text), "%d %d\n", s, s);
    char *path = write_temp(text);
    lg_dataset_options o = options(2, 100, -1, -1);
    o.shuffle = 1;
    o.seed = seed;
    lg_error err;
    lg_dataset *ds = lg_dataset_load_ids(path, &o, &err);
    assert_non_null(ds);
    *path_out = path;
    return ds;
}

static void shuffle_is_a_seeded_permutation(void **state)
{
    (void)state;
    char *p1, *p2, *p3;
    lg_dataset *a = numbered(7, &p1), *b = numbered(7, &p2), *c = numbered(8, &p3);
    int32_t ba[120], bb[120], bc[120];
    lg_dataset_next_batch(a, ba, 60);
    lg_dataset_next_batch(b, bb, 60);
    lg_dataset_next_batch(c, bc, 60);
    assert_memory_equal(ba, bb, sizeof ba);
    assert_memory_not_equal(ba, bc, sizeof ba);
    int seen[60] = {0}, in_order = 1;
    for (int i = 0; i < 60; i++) {
        assert_int_equal(ba[2 * i], ba[2 * i + 1]);
        seen[ba[2 * i]]++;
        in_order &= ba[2 * i] == i;
    }
    for (int s = 0; s < 60; s++)
        assert_int_equal(seen[s], 1);
    assert_false(in_order);
    /* the second epoch is shuffled differently */
    int32_t second[120];
    lg_dataset_next_batch(a, second, 60);
    assert_memory_not_equal(ba, second, sizeof ba);
    lg_dataset_free(a);
    lg_dataset_free(b);
    lg_dataset_free(c);
    remove(p1), remove(p2), remove(p3);
    free(p1), free(p2), free(p3);
}

static void saved_position_continues_identically(void **state)
{
    (void)state;
    char *p1, *p2;
    lg_dataset *a = numbered(3, &p1), *b = numbered(3, &p2);
    int32_t skip[2 * 45], ca[2 * 50], cb[2 * 50];
    lg_dataset_next_batch(a, skip, 45); /* into the first epoch */
    lg_dataset_next_batch(a, skip, 45); /* into the second */
    lg_data_position pos = a->pos;
    assert_int_equal(pos.epoch, 1);
    lg_dataset_next_batch(a, ca, 50);
    lg_error err;
    assert_int_equal(lg_dataset_seek(b, pos, &err), 0);
    lg_dataset_next_batch(b, cb, 50);
    assert_memory_equal(ca, cb, sizeof ca);
    lg_data_position bad = {.epoch = 0, .next = 61};
    assert_int_equal(lg_dataset_seek(b, bad, &err), -1);
    assert_non_null(strstr(err.msg, p2));
    lg_dataset_free(a);
    lg_dataset_free(b);
    remove(p1), remove(p2);
    free(p1), free(p2);
}

static void text_is_encoded_and_bytes_counted(void **state)
{
    (void)state;
    lg_error err;
    lg_tokenizer *tok = lg_tokenizer_load("tests/data/lm/en.model", &err);
    assert_non_null(tok);
    const lg_spm *spm = lg_tokenizer_spm(tok);
    const char *text = "This License applies to any program.\n\nYou may copy it.\n";
    char *path = write_temp(text);
    lg_dataset_options o = options(4, 512, lg_spm_bos_id(spm), lg_spm_eos_id(spm));
    lg_dataset *ds = lg_dataset_load_text(path, tok, &o, &err);
    assert_non_null(ds);
    assert_int_equal(ds->n_bytes, strlen(text));
    assert_int_equal(ds->n_docs, 2);
    lg_token_ids a = {0}, b = {0};
    assert_int_equal(lg_spm_encode(spm, "This License applies to any program.", 36, &a, &err), 0);
    assert_int_equal(lg_spm_encode(spm, "You may copy it.", 16, &b, &err), 0);
    assert_int_equal(ds->n_tokens, a.n + b.n + 4);
    assert_int_equal(ds->tokens[0], lg_spm_bos_id(spm));
    assert_int_equal(ds->tokens[1], a.ids[0]);
    assert_int_equal(ds->tokens[a.n + 1], lg_spm_eos_id(spm));
    assert_int_equal(ds->tokens[a.n + 2], lg_spm_bos_id(spm));
    assert_int_equal(ds->tokens[ds->n_tokens - 1], lg_spm_eos_id(spm));
    lg_dataset_free(ds);
    /* a tokenizer larger than the model's vocabulary is refused */
    o.vocab_size = 100;
    assert_null(lg_dataset_load_text(path, tok, &o, &err));
    assert_non_null(strstr(err.msg, "512"));
    lg_token_ids_free(&a);
    lg_token_ids_free(&b);
    lg_tokenizer_free(tok);
    remove(path);
    free(path);
}

/* A gzip file is read as the text it holds: the same tokens and byte count as plain. */
static void gzip_text_reads_as_plain(void **state)
{
    (void)state;
    lg_error err;
    lg_tokenizer *tok = lg_tokenizer_load("tests/data/lm/en.model", &err);
    assert_non_null(tok);
    const lg_spm *spm = lg_tokenizer_spm(tok);
    lg_dataset_options o = options(16, 512, lg_spm_bos_id(spm), lg_spm_eos_id(spm));
    assert_int_equal(system("gzip -c tests/data/lm/heldout.txt > build/test_dataset_heldout.txt.gz"), 0);
    lg_dataset *plain = lg_dataset_load_text("tests/data/lm/heldout.txt", tok, &o, &err);
    lg_dataset *gz = lg_dataset_load_text("build/test_dataset_heldout.txt.gz", tok, &o, &err);
    assert_non_null(plain);
    assert_non_null(gz);
    assert_int_equal(plain->n_tokens, gz->n_tokens);
    assert_int_equal(plain->n_bytes, gz->n_bytes);
    assert_memory_equal(plain->tokens, gz->tokens, plain->n_tokens * sizeof *plain->tokens);
    lg_dataset_free(plain);
    lg_dataset_free(gz);
    lg_tokenizer_free(tok);
}

/* Invalid UTF-8 in text is an error naming file and line (the rule of tokenize too), never
 * encoded as whatever the tokenizer makes of the bytes. */
static void invalid_utf8_names_file_and_line(void **state)
{
    (void)state;
    lg_error err = {{0}};
    lg_tokenizer *tok = lg_tokenizer_load("tests/data/lm/en.model", &err);
    assert_non_null(tok);
    const lg_spm *spm = lg_tokenizer_spm(tok);
    const char *bad[] = {"caf\xe9 au lait", "ok \xc3", "\xed\xa0\x80 surrogate",
                         "over \xc0\xaf long"};
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        char text[128];
        snprintf(text, sizeof text, "This License applies.\nYou may copy it.\n%s\n", bad[k]);
        char *path = write_temp(text);
        lg_dataset_options o = options(4, 512, lg_spm_bos_id(spm), lg_spm_eos_id(spm));
        assert_null(lg_dataset_load_text(path, tok, &o, &err));
        char want[64];
        snprintf(want, sizeof want, "%s:3: invalid UTF-8 at byte", path);
        assert_non_null(strstr(err.msg, want));
        remove(path);
        free(path);
    }
    lg_tokenizer_free(tok);
}

/* The markers that frame every document must be tokens of the model. */
static void markers_outside_the_vocabulary_are_refused(void **state)
{
    (void)state;
    lg_error err = {{0}};
    char *path = write_temp("1 2 3\n4 5 6\n");
    lg_dataset_options o = options(2, 10, 10, 2);
    assert_null(lg_dataset_load_ids(path, &o, &err));
    assert_non_null(strstr(err.msg, "bos id 10 is outside the vocabulary (10)"));
    o = options(2, 10, 1, 12);
    assert_null(lg_dataset_load_ids(path, &o, &err));
    assert_non_null(strstr(err.msg, "eos id 12"));
    remove(path);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(documents_are_framed_and_packed),
        cmocka_unit_test(bad_ids_name_file_and_line),
        cmocka_unit_test(empty_and_short_files_are_refused),
        cmocka_unit_test(shuffle_is_a_seeded_permutation),
        cmocka_unit_test(saved_position_continues_identically),
        cmocka_unit_test(text_is_encoded_and_bytes_counted),
        cmocka_unit_test(gzip_text_reads_as_plain),
        cmocka_unit_test(invalid_utf8_names_file_and_line),
        cmocka_unit_test(markers_outside_the_vocabulary_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
