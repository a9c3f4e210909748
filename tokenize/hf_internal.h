/* Internals of the tokenizer.json reader (hf_tokenizer.c, hf_bpe.c, hf_pretok.c): shared
 * between those files only. Everything works on valid UTF-8 (the input is checked once). */
#ifndef LG_HF_INTERNAL_H
#define LG_HF_INTERNAL_H

#include <cJSON.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "lg_error.h"
#include "lg_tokenizer.h"

/* ---- growable byte buffer ---------------------------------------------------------- */
typedef struct {
    char *p;
    size_t n, cap;
} hf_buf;

int hf_buf_reserve(hf_buf *b, size_t extra);
int hf_buf_add(hf_buf *b, const void *s, size_t n);
void hf_buf_free(hf_buf *b);

/* ---- Unicode classes (ICU, tabulated once) ------------------------------------------ */
enum {
    HF_L = 1,      /* General_Category L* */
    HF_N = 2,      /* N* (Rust's char::is_numeric) */
    HF_WS = 4,     /* White_Space (Oniguruma's \s, Rust's char::is_whitespace) */
    HF_ALNUM = 8,  /* Alphabetic or N* (Rust's char::is_alphanumeric) */
    HF_WORD = 16,  /* the regex crate's \w: Alphabetic, M*, Nd, Pc, Join_Control */
    HF_PUNCT = 32, /* ASCII punctuation or P* (tokenizers' is_punc) */
};
extern const uint8_t *hf_uclass; /* 0x110000 entries, after hf_unicode_init */
void hf_unicode_init(void);

/* A component of tokenizer.json (normalizer, pre-tokenizer, decoder) at `field`: checks it
 * is an object with a string "type" (*type points into j) and returns size zeroed bytes for
 * it, or NULL with the error naming file and field. */
void *hf_component_new(const cJSON *j, size_t size, const char *file, const char *field,
                       const char **type, lg_error *err);
/* The code point at s (valid UTF-8) and its length in *n. */
static inline uint32_t hf_utf8_next(const unsigned char *s, size_t *n)
{
    uint32_t c = s[0];
    if (c < 0x80) {
        *n = 1;
        return c;
    }
    if (c < 0xE0) {
        *n = 2;
        return ((c & 0x1F) << 6) | (s[1] & 0x3F);
    }
    if (c < 0xF0) {
        *n = 3;
        return ((c & 0x0F) << 12) | ((uint32_t)(s[1] & 0x3F) << 6) | (s[2] & 0x3F);
    }
    *n = 4;
    return ((c & 0x07) << 18) | ((uint32_t)(s[1] & 0x3F) << 12) | ((uint32_t)(s[2] & 0x3F) << 6) |
           (s[3] & 0x3F);
}
static inline size_t hf_utf8_put(char *o, uint32_t c)
{
    if (c < 0x80) {
        o[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        o[0] = (char)(0xC0 | (c >> 6));
        o[1] = (char)(0x80 | (c & 0x3F));
        return 2;
    }
    if (c < 0x10000) {
        o[0] = (char)(0xE0 | (c >> 12));
        o[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        o[2] = (char)(0x80 | (c & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (c >> 18));
    o[1] = (char)(0x80 | ((c >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((c >> 6) & 0x3F));
    o[3] = (char)(0x80 | (c & 0x3F));
    return 4;
}

/* ---- pieces: the pre-tokenized string ----------------------------------------------- */
typedef struct {
    size_t off, len;  /* in the list's buffer */
    int first;        /* starts at offset 0 of the original text (Metaspace "first") */
} hf_piece;

typedef struct {
    hf_buf text;
    hf_piece *v;
    size_t n, cap;
} hf_pieces;

int hf_pieces_add(hf_pieces *l, const char *s, size_t len, int first);
void hf_pieces_clear(hf_pieces *l);
void hf_pieces_free(hf_pieces *l);

/* ---- pre-tokenizers (hf_pretok.c) --------------------------------------------------- */
typedef struct hf_pretok hf_pretok;
/* Parsed from the tokenizer.json "pre_tokenizer" object (NULL json: none). `field` names it
 * in messages ("pre_tokenizer", "pre_tokenizer.pretokenizers[1]"). */
hf_pretok *hf_pretok_parse(const cJSON *json, const char *file, const char *field, lg_error *err);
void hf_pretok_free(hf_pretok *p);
/* Splits every piece of in into out (cleared first). */
int hf_pretok_run(const hf_pretok *p, const hf_pieces *in, hf_pieces *out, lg_error *err);
/* The 256-character byte alphabet of ByteLevel is the core's: lg_byte_level_char (code point
 * of a byte) and lg_byte_level_byte (the byte of a code point, or -1), lg_tokenizer.h. */

/* A Split/Replace pattern: a fixed string, a known regex matched by hand, or ICU's regex. */
typedef struct hf_pattern hf_pattern;
hf_pattern *hf_pattern_parse(const cJSON *json, const char *file, const char *field, lg_error *err);
void hf_pattern_free(hf_pattern *p);
/* Matches of p in s[0..n): (start, end) pairs in *m (realloc'd, *cap its size), count in
 * *nm; non-overlapping, left to right. */
int hf_pattern_find(const hf_pattern *p, const char *s, size_t n, size_t **m, size_t *cap,
                    size_t *nm, lg_error *err);

/* ---- the BPE model (hf_bpe.c) ------------------------------------------------------- */
typedef struct hf_bpe hf_bpe;
hf_bpe *hf_bpe_parse(const cJSON *model, const char *file, lg_error *err);
void hf_bpe_free(hf_bpe *m);
int hf_bpe_size(const hf_bpe *m);                       /* ids 0..size-1 */
const char *hf_bpe_piece(const hf_bpe *m, int id, size_t *len); /* NULL out of range */
int hf_bpe_lookup(const hf_bpe *m, const char *s, size_t len);  /* -1 when absent */
int hf_bpe_unk(const hf_bpe *m);
int hf_bpe_byte_fallback(const hf_bpe *m);
/* Appends the ids of one word (a pre-tokenized piece). */
int hf_bpe_word(hf_bpe *m, const char *s, size_t len, lg_token_ids *out, lg_error *err);

uint64_t hf_hash(const void *s, size_t n);

#endif
