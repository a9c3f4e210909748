/* spm_proto — reads and extends SentencePiece's serialized ModelProto in C.
 *
 * Debian ships libsentencepiece without its .pb.h, so lingraft reads the protobuf wire
 * format itself: ModelProto field 1 is the repeated SentencePiece message
 * {piece = 1 (string), score = 2 (float), type = 3 (enum, NORMAL when absent)}.
 * Every other field is kept byte for byte when pieces are appended.
 * (Internal to the tokenize module; C and C++ both include it.) */
#ifndef LG_SPM_PROTO_H
#define LG_SPM_PROTO_H

#include <stddef.h>
#include <stdint.h>
#include "lg_error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    const uint8_t *piece;   /* points into the parsed bytes; not NUL-terminated */
    size_t piece_len;
    float score;
    int type;               /* enum lg_spm_type */
} lg_spm_proto_piece;

/* ModelProto field 3, NormalizerSpec: how SentencePiece rewrites text before encoding.
 * Absent fields take protobuf's defaults (the three flags 1). */
typedef struct {
    char name[64];                 /* field 1, e.g. "nmt_nfkc", "identity" ("" if absent;
                                      cut at 63 bytes) */
    size_t charsmap_len;           /* field 2, precompiled_charsmap: 0 = no character mapping */
    int add_dummy_prefix;          /* field 3 */
    int remove_extra_whitespaces;  /* field 4 */
    int escape_whitespaces;        /* field 5 */
} lg_spm_proto_normalizer;

typedef struct {
    lg_spm_proto_piece *pieces;
    size_t n;
    size_t pieces_end;      /* byte offset just past the last field-1 record */
    lg_spm_proto_normalizer normalizer;
    int model_type;                 /* TrainerSpec (field 2) field 3: 1 unigram (default),
                                       2 bpe, 3 word, 4 char */
    int treat_whitespace_as_suffix; /* TrainerSpec field 24 */
} lg_spm_proto;

/* Parses the top level and every field-1 record of data[0..len); `name` for messages. */
int lg_spm_proto_parse(const uint8_t *data, size_t len, const char *name, lg_spm_proto *out,
                       lg_error *err);
void lg_spm_proto_free(lg_spm_proto *p);

/* Writes one field-1 record (tag, length, piece, score, type) into buf, which must hold
 * lg_spm_proto_piece_size(piece_len) bytes; returns the bytes written. */
size_t lg_spm_proto_piece_size(size_t piece_len);
size_t lg_spm_proto_write_piece(uint8_t *buf, const char *piece, size_t piece_len, float score,
                                int type);

/* The model in data with its NormalizerSpec replaced by one that maps no character and
 * keeps every space (name "identity", no charsmap, remove_extra_whitespaces false,
 * add_dummy_prefix and escape_whitespaces as given): the same model without its
 * normaliser. *out (malloc'd) and *out_len receive it. */
int lg_spm_proto_set_identity(const uint8_t *data, size_t len, const char *name,
                              int add_dummy_prefix, int escape_whitespaces, uint8_t **out,
                              size_t *out_len, lg_error *err);

/* How appended pieces are scored. */
typedef enum {
    /* Below every base piece, keeping the target's order: score = min(base normal scores)
     * - 1 + (target score - max target score).  New pieces win only where the base model
     * has no competing segmentation (default). */
    LG_SPM_SCORE_BELOW = 0,
    /* 0 for every new piece, as Chinese-/Tamil-LLaMA's merge script does: above every
     * base score, so new pieces win merges and base-language encodings change more. */
    LG_SPM_SCORE_ZERO = 1,
} lg_spm_score_policy;

/* Appends to `base` the NORMAL and USER_DEFINED pieces of `target` that base lacks, in
 * target id order, right after base's last piece; every other byte of base is kept.
 * *merged (malloc'd) and *merged_len receive the new ModelProto; *target_ids (malloc'd)
 * the target id of each appended piece (merged id = base piece count + index), *n_added
 * their number.  Names are for messages. */
int lg_spm_proto_extend(const uint8_t *base, size_t base_len, const char *base_name,
                        const uint8_t *target, size_t target_len, const char *target_name,
                        lg_spm_score_policy policy, uint8_t **merged, size_t *merged_len,
                        int **target_ids, size_t *n_added, lg_error *err);

#ifdef __cplusplus
}
#endif
#endif
