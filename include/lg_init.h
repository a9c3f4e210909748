/* lg_init — embeddings for a new tokenizer's tokens from a base model's embeddings.
 *
 * A plan says, for each new token, how its row is made: a convex combination of base rows
 * (special-token mapping, identical-piece copy, trans-tokenization P(src | tgt) from an
 * alignment table, the aligned distributions of related pieces found in a trie, the
 * subtoken mean that encodes the piece with the base tokenizer) or a draw from base
 * statistics (random normal per dimension, multivariate normal, overall mean).
 * Materialising a plan streams base rows from the mmapped tensor; the whole model is never
 * loaded.  The result is written as an embedding table pack (one safetensors file with
 * metadata naming base model, tokenizer checksum, language, method and per-source counts). */
#ifndef LG_INIT_H
#define LG_INIT_H

#include <stdint.h>
#include "lg_align.h"
#include "lg_error.h"
#include "lg_safetensors.h"
#include "lg_spm.h"

typedef enum {
    LG_INIT_TRANS,   /* trans-tokenization from an alignment table, with fallbacks */
    LG_INIT_DICT,    /* the same, the table aligned from a bilingual word list */
    LG_INIT_HULL,    /* subtoken mean (a point in the convex hull of the base rows) */
    LG_INIT_RANDOM,  /* N(mean_d, std_d^2) per dimension */
    LG_INIT_MVN,     /* N(mean, scale * covariance) */
    LG_INIT_MEAN,    /* the mean base row */
    LG_INIT_METHODS
} lg_init_method;

const char *lg_init_method_name(lg_init_method m);
int lg_init_method_parse(const char *name, lg_init_method *m);

/* Where one new row came from. */
typedef enum {
    LG_ROW_BASE,     /* --extend: the base row of the same id, kept */
    LG_ROW_SPECIAL,  /* bos/eos/unk/pad mapped to the base's */
    LG_ROW_ALIGNED,  /* P(src | tgt) of the alignment table */
    LG_ROW_COPY,     /* the identical piece of the base vocabulary */
    LG_ROW_TRIE,     /* aligned longer pieces starting with it and aligned substrings */
    LG_ROW_HULL,     /* mean of the base pieces of its text */
    LG_ROW_MEAN,     /* the mean base row */
    LG_ROW_RANDOM,   /* per-dimension normal draw */
    LG_ROW_MVN,      /* multivariate normal draw */
    LG_ROW_KINDS
} lg_row_source;

const char *lg_row_source_name(lg_row_source s);

typedef struct {
    lg_init_method method;
    double min_count;        /* alignment entries with a smaller expected count are ignored (1) */
    int extend;              /* the new tokenizer extends the base one: keep base rows */
    int max_terms;           /* at most this many base rows per combination (64) */
    uint64_t seed;           /* random draws */
    double mvn_scale;        /* covariance multiplier for LG_INIT_MVN (1) */
} lg_init_opts;

void lg_init_opts_default(lg_init_opts *o);

/* Row t is Σ weight[k] * base[base_id[k]] over k in off[t] .. off[t+1] (weights >= 0,
 * summing to 1), or, when that range is empty, a draw named by source[t]. */
typedef struct {
    int32_t n_new, n_base;
    int64_t *off;
    int32_t *base_id;
    float *weight;
    uint8_t *source;         /* lg_row_source */
    int64_t counts[LG_ROW_KINDS];
} lg_init_plan;

/* Builds the plan.  table (P(src | tgt), src = base ids, tgt = new ids) is needed for
 * LG_INIT_TRANS and LG_INIT_DICT and ignored otherwise.  Errors: a table id outside either
 * vocabulary, --extend with a tokenizer whose first pieces differ from the base's. */
int lg_init_plan_build(const lg_spm *base_tok, const lg_spm *new_tok, const lg_align_result *table,
                       const lg_init_opts *o, lg_init_plan *plan, lg_error *err);
void lg_init_plan_free(lg_init_plan *plan);

/* Fills out (plan->n_new x hidden floats) from the base matrix (a 2-D F32/F16/BF16/F64
 * tensor whose rows are base ids), reading only the rows the plan names plus one
 * streaming pass for the statistics when a draw needs them. */
int lg_init_materialize(const lg_init_plan *plan, const lg_tensor_info *base, const lg_init_opts *o,
                        float *out, lg_error *err);

/* Reads one row of a 2-D float tensor as float. */
void lg_tensor_row_f32(const lg_tensor_info *t, int64_t row, float *dst);

/* The dictionary variant's parallel data: each `english<TAB>target` line of a word list
 * encoded with the base (English) and new tokenizers, one pair a line. */
int lg_init_dict_corpus(const char *path, const lg_spm *base_tok, const lg_spm *new_tok,
                        lg_parallel *pc, lg_error *err);

/* ---- Embedding table packs ---------------------------------------------------------- */

typedef struct {
    const char *base_model;        /* the base model directory as given */
    const char *tokenizer_sha256;  /* of the new tokenizer's .model */
    const char *base_tokenizer_sha256;
    const char *language;          /* ISO 639-3, e.g. "nld" */
    const char *script;            /* ISO 15924, e.g. "Latn" */
    const char *method;
    const char *table_sha256;      /* the alignment table used, or NULL */
    const int64_t *counts;         /* LG_ROW_KINDS counts, or NULL */
} lg_pack_meta;

/* Writes model.embed_tokens.weight [n, hidden] and, when head is not NULL,
 * lm_head.weight, stored as `dtype` (F32, F16 or BF16), with the metadata; atomically. */
int lg_pack_write(const char *path, const float *embed, const float *head, int32_t n, int hidden,
                  lg_dtype dtype, const lg_pack_meta *meta, lg_error *err);

/* Checks that a pack fits a tokenizer file (sha256 in the metadata) and a base model
 * directory (hidden size, tied or untied head): a message naming the mismatch otherwise.
 * Either of tokenizer_path and base_dir may be NULL to skip that check. */
int lg_pack_check(const char *pack_path, const char *tokenizer_path, const char *base_dir,
                  lg_error *err);

#endif
