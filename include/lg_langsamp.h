/* lg_langsamp — learnable language and script vectors (LangSAMP).
 *
 * One vector per language (ISO 639-3, e.g. "nld") and per script (ISO 15924, e.g. "Latn"),
 * each of the model's hidden size. For every sequence tagged with a language/script, the
 * two vectors are added to each token's output of the last transformer block, before the
 * final norm and the LM head (lg_model_set_tags). Untagged sequences are unchanged, so the
 * vectors are optional at inference. They start at zero: attaching them does not change
 * the model until they are trained. Stored in table packs as "lang_embed" [n, C] and
 * "script_embed" [n, C] with the codes in the metadata ("langsamp.langs": "nld,eng"). */
#ifndef LG_LANGSAMP_H
#define LG_LANGSAMP_H

#include "lg_error.h"
#include "lg_model.h"
#include "lg_safetensors.h"

#define LG_LANGSAMP_MAX 64

typedef struct lg_langsamp {
    int C;
    int n_langs, n_scripts;
    char langs[LG_LANGSAMP_MAX][16];
    char scripts[LG_LANGSAMP_MAX][8];
    float *lang, *script;          /* [n_langs, C], [n_scripts, C] */
    float *dlang, *dscript;        /* gradients, NULL until lg_langsamp_alloc_grads */
    lg_param_entry entries[2];     /* "lang_embed", "script_embed" */
} lg_langsamp;

/* codes: comma-separated lists, e.g. "nld,eng" and "Latn" */
lg_langsamp *lg_langsamp_create(int C, const char *langs, const char *scripts, lg_error *err);
void lg_langsamp_free(lg_langsamp *ls);
int lg_langsamp_alloc_grads(lg_langsamp *ls, lg_error *err);
/* index of a code, or -1 */
int lg_langsamp_lang(const lg_langsamp *ls, const char *code);
int lg_langsamp_script(const lg_langsamp *ls, const char *code);

/* Adds lang_embed/script_embed and their metadata to a writer (tensors are referenced). */
int lg_langsamp_add_to_writer(const lg_langsamp *ls, lg_st_writer *w, lg_error *err);
/* Reads them from a file that has them; returns NULL with no error (err->msg empty) when
 * the file holds none. */
lg_langsamp *lg_langsamp_from_file(const lg_safetensors *st, const char *path, int C, lg_error *err);

/* Attaches (m takes ownership) and tags sequences: lang_idx/script_idx[b] (−1: none).
 * Tags for fewer sequences than a later batch repeat (sequence b uses tag b % B), so one
 * tag tags every sequence; they stay until set again (NULL, NULL: untagged). */
void lg_model_attach_langsamp(lg_model *m, lg_langsamp *ls);
int lg_model_set_tags(lg_model *m, const int32_t *lang_idx, const int32_t *script_idx, int B,
                      lg_error *err);

/* Tags every sequence with the vectors of these codes (either may be NULL); an error
 * naming `where` when the model has no vector for one of them. */
int lg_model_tag_codes(lg_model *m, const char *lang, const char *script, const char *where,
                       lg_error *err);

#endif
