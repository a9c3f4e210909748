/* transfer init's rules on byte-level BPE tokenizers (tokenizer.json, the GPT-2 byte
 * alphabet): the spelling is recognised (Ġ the word mark, the 256 alphabet characters the
 * byte pieces); a new byte piece takes the base's piece of the same byte, wherever the two
 * vocabularies put them; a Ġ piece copies the identical base piece; a piece the base lacks
 * is the mean of the base pieces of its text (the base tokenizer's own encoding of " huis");
 * across spellings (a byte-level new tokenizer over a SentencePiece base) "Ġt" copies "▁t",
 * the byte piece "a" the base's "a", the byte pieces of a newline and of 0xC3 the base's
 * <0x0A> and <0xC3>.
 * Base: tests/data/bytelevel/tokenizer.json (Llama-3's first 1000 merges); the new
 * tokenizers are written here, their byte alphabet in reverse order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lg_spm.h"
#include "lg_transfer.h"

#define BASE "tests/data/bytelevel/tokenizer.json"
#define DIR "build/test_transfer_bytelevel"

static const char *const MERGES[][2] = {
    {"Ġ", "t"}, {"h", "e"}, {"Ġt", "he"}, {"Ġ", "h"}, {"u", "i"}, {"Ġh", "ui"}, {"Ġhui", "s"}};
#define N_MERGES (int)(sizeof MERGES / sizeof *MERGES)

static size_t put_cp(char *o, unsigned c)
{
    if (c < 0x80) {
        o[0] = (char)c;
        return 1;
    }
    o[0] = (char)(0xC0 | (c >> 6));
    o[1] = (char)(0x80 | (c & 0x3F));
    return 2;
}

/* A JSON string of s (the alphabet needs escapes only for '"' and '\\'). */
static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

/* The new tokenizer: byte b at id 255 - b, then the merges' results in order. */
static void write_new(const char *path)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("{\"version\":\"1.0\",\"added_tokens\":[],\"normalizer\":null,"
          "\"pre_tokenizer\":{\"type\":\"ByteLevel\",\"add_prefix_space\":false,"
          "\"trim_offsets\":true,\"use_regex\":true},\"post_processor\":null,"
          "\"decoder\":{\"type\":\"ByteLevel\",\"add_prefix_space\":true,\"trim_offsets\":true,"
          "\"use_regex\":true},\"model\":{\"type\":\"BPE\",\"dropout\":null,\"unk_token\":null,"
          "\"continuing_subword_prefix\":null,\"end_of_word_suffix\":null,\"fuse_unk\":false,"
          "\"byte_fallback\":false,\"ignore_merges\":false,\"vocab\":{", f);
    for (int b = 0; b < 256; b++) {
        char c[4] = {0};
        put_cp(c, lg_byte_level_char((unsigned)b));
        json_str(f, c);
        fprintf(f, ":%d,", 255 - b);
    }
    for (int i = 0; i < N_MERGES; i++) {
        char p[64];
        snprintf(p, sizeof p, "%s%s", MERGES[i][0], MERGES[i][1]);
        json_str(f, p);
        fprintf(f, ":%d%s", 256 + i, i + 1 < N_MERGES ? "," : "");
    }
    fputs("},\"merges\":[", f);
    for (int i = 0; i < N_MERGES; i++) {
        char p[64];
        snprintf(p, sizeof p, "%s %s", MERGES[i][0], MERGES[i][1]);
        json_str(f, p);
        fputs(i + 1 < N_MERGES ? "," : "", f);
    }
    fputs("]}}\n", f);
    fclose(f);
}

static lg_tokenizer *load(const char *path)
{
    lg_error err;
    lg_tokenizer *t = lg_tokenizer_load(path, &err);
    if (!t)
        fail_msg("%s", err.msg);
    return t;
}

static int row_is(const lg_init_plan *p, int t, lg_row_source src, int base_id)
{
    return p->source[t] == src && p->off[t + 1] - p->off[t] == 1 &&
           p->base_id[p->off[t]] == base_id;
}

static void byte_level_alphabet(void **state)
{
    (void)state;
    /* GPT-2's bytes_to_unicode: printable bytes as themselves, the others from U+0100 */
    assert_int_equal(lg_byte_level_char(' '), 0x120);
    assert_int_equal(lg_byte_level_char('\n'), 0x10A);
    assert_int_equal(lg_byte_level_char('a'), 'a');
    assert_int_equal(lg_byte_level_char(0xAD), 0x143);
    for (unsigned b = 0; b < 256; b++)
        assert_int_equal(lg_byte_level_byte(lg_byte_level_char(b)), (int)b);
    assert_int_equal(lg_byte_level_byte(0x2581), -1);
}

static void spelling_is_recognised(void **state)
{
    (void)state;
    lg_tokenizer *base = load(BASE);
    lg_piece_spelling sp;
    lg_error err;
    assert_int_equal(lg_piece_spelling_init(&sp, base, &err), 0);
    assert_int_equal(sp.byte_level, 1);
    assert_string_equal(sp.mark, "\xc4\xa0");
    assert_int_equal(lg_piece_byte(&sp, base, sp.byte_id[' ']), ' ');
    int id = lg_tokenizer_piece_to_id(base, "\xc4\xa0the");
    assert_true(id >= 256);
    assert_int_equal(lg_piece_byte(&sp, base, id), -1);
    char text[64], spelt[64];
    assert_int_equal(lg_piece_text(&sp, base, id, text, sizeof text), 4);
    assert_string_equal(text, " the");
    assert_int_equal(lg_piece_spell(&sp, " \xc3\xa9", 3, spelt, sizeof spelt), 6);
    assert_string_equal(spelt, "\xc4\xa0\xc3\x83\xc2\xa9"); /* "ĠÃ©" */
    lg_tokenizer_free(base);
    /* a SentencePiece model: the word mark, <0xNN> byte pieces */
    lg_tokenizer *spm = load("tests/data/gguf/bpe301.model");
    assert_int_equal(lg_piece_spelling_init(&sp, spm, &err), 0);
    assert_int_equal(sp.byte_level, 0);
    assert_string_equal(sp.mark, "\xe2\x96\x81");
    int nl = lg_tokenizer_piece_to_id(spm, "<0x0A>");
    assert_true(nl >= 0);
    assert_int_equal(sp.byte_id['\n'], nl);
    assert_int_equal(lg_piece_byte(&sp, spm, nl), '\n');
    lg_tokenizer_free(spm);
}

static void byte_level_copy_rules(void **state)
{
    (void)state;
    mkdir("build", 0755);
    mkdir(DIR, 0755);
    write_new(DIR "/new.json");
    lg_tokenizer *base = load(BASE), *tok = load(DIR "/new.json");
    lg_init_opts o;
    lg_init_opts_default(&o);
    o.method = LG_INIT_HULL;
    lg_init_plan plan;
    lg_error err;
    assert_int_equal(lg_init_plan_build(base, tok, NULL, &o, &plan, &err), 0);
    lg_piece_spelling bsp;
    assert_int_equal(lg_piece_spelling_init(&bsp, base, &err), 0);
    /* every byte piece from the base's piece of that byte (ids differ: 255 - b and b) */
    for (int b = 0; b < 256; b++) {
        assert_int_equal(bsp.byte_id[b], b); /* the base's alphabet in byte order */
        if (!row_is(&plan, 255 - b, LG_ROW_COPY, bsp.byte_id[b]))
            fail_msg("byte 0x%02X (new id %d): source %s, not a copy of base id %d", b, 255 - b,
                     lg_row_source_name((lg_row_source)plan.source[255 - b]), bsp.byte_id[b]);
    }
    /* Ġ pieces the base has: copied */
    const char *same[] = {"\xc4\xa0t", "he", "\xc4\xa0the", "\xc4\xa0h"};
    for (size_t i = 0; i < sizeof same / sizeof *same; i++) {
        int t = lg_tokenizer_piece_to_id(tok, same[i]), b = lg_tokenizer_piece_to_id(base, same[i]);
        assert_true(t >= 256 && b >= 0);
        if (!row_is(&plan, t, LG_ROW_COPY, b))
            fail_msg("%s: source %s, not a copy of base id %d", same[i],
                     lg_row_source_name((lg_row_source)plan.source[t]), b);
    }
    /* "Ġhuis", not in the base: the mean of the base's own pieces of " huis" */
    int t = lg_tokenizer_piece_to_id(tok, "\xc4\xa0huis");
    assert_true(t >= 0);
    assert_int_equal(lg_tokenizer_piece_to_id(base, "\xc4\xa0huis"), -1);
    lg_token_ids ids = {0};
    assert_int_equal(base->ops->encode(base, " huis", 5, &ids, &err), 0);
    assert_true(ids.n >= 2);
    assert_int_equal(plan.source[t], LG_ROW_HULL);
    assert_int_equal(plan.off[t + 1] - plan.off[t], (int64_t)ids.n); /* distinct pieces here */
    for (size_t i = 0; i < ids.n; i++) {
        int found = 0;
        for (int64_t k = plan.off[t]; k < plan.off[t + 1]; k++)
            found |= plan.base_id[k] == ids.ids[i];
        if (!found)
            fail_msg("Ġhuis: base piece %d ('%s') of \" huis\" is not in its row", ids.ids[i],
                     base->ops->piece(base, ids.ids[i]));
    }
    lg_token_ids_free(&ids);
    lg_init_plan_free(&plan);
    lg_tokenizer_free(base);
    lg_tokenizer_free(tok);
}

/* A byte-level new tokenizer over a SentencePiece base: pieces compared by their text. */
static void across_spellings(void **state)
{
    (void)state;
    write_new(DIR "/new.json");
    lg_tokenizer *base = load("tests/data/gguf/bpe301.model"), *tok = load(DIR "/new.json");
    lg_init_opts o;
    lg_init_opts_default(&o);
    o.method = LG_INIT_HULL;
    lg_init_plan plan;
    lg_error err;
    assert_int_equal(lg_init_plan_build(base, tok, NULL, &o, &plan, &err), 0);
    /* byte pieces: the base's piece of the same character, else of the same byte */
    int a = lg_tokenizer_piece_to_id(base, "a"), nl = lg_tokenizer_piece_to_id(base, "<0x0A>");
    int c3 = lg_tokenizer_piece_to_id(base, "<0xC3>");
    assert_true(a >= 0 && nl >= 0 && c3 >= 0 && lg_tokenizer_piece_to_id(base, "\n") < 0);
    assert_true(row_is(&plan, 255 - 'a', LG_ROW_COPY, a));
    assert_true(row_is(&plan, 255 - '\n', LG_ROW_COPY, nl));
    assert_true(row_is(&plan, 255 - 0xC3, LG_ROW_COPY, c3));
    /* a space: the word mark */
    assert_true(row_is(&plan, 255 - ' ', LG_ROW_COPY, lg_tokenizer_piece_to_id(base, "\xe2\x96\x81")));
    /* "Ġt" is "▁t"; "Ġthe" (the base has no "▁the") the base's pieces of " the" */
    int t = lg_tokenizer_piece_to_id(tok, "\xc4\xa0t"), bt = lg_tokenizer_piece_to_id(base, "\xe2\x96\x81t");
    assert_true(t >= 0 && bt >= 0);
    assert_true(row_is(&plan, t, LG_ROW_COPY, bt));
    assert_int_equal(lg_tokenizer_piece_to_id(base, "\xe2\x96\x81the"), -1);
    t = lg_tokenizer_piece_to_id(tok, "\xc4\xa0the");
    assert_int_equal(plan.source[t], LG_ROW_HULL);
    lg_token_ids ids = {0};
    assert_int_equal(base->ops->encode(base, " the", 4, &ids, &err), 0);
    for (size_t i = 0; i < ids.n; i++) {
        int found = 0;
        for (int64_t k = plan.off[t]; k < plan.off[t + 1]; k++)
            found |= plan.base_id[k] == ids.ids[i];
        assert_true(found);
    }
    lg_token_ids_free(&ids);
    lg_init_plan_free(&plan);
    lg_tokenizer_free(base);
    lg_tokenizer_free(tok);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(byte_level_alphabet),
        cmocka_unit_test(spelling_is_recognised),
        cmocka_unit_test(byte_level_copy_rules),
        cmocka_unit_test(across_spellings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
