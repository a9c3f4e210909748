/* lg_hydra — swappable language packs over one unchanged base model (the Hydra idea).
 *
 * A pack is a directory LANG.pack/ holding
 *   pack.safetensors   the embedding table pack written by `transfer init`
 *                      (model.embed_tokens.weight, lm_head.weight when untied, optional
 *                      lang_embed/script_embed) with its metadata, plus base_fingerprint
 *   tokenizer.model    the language's SentencePiece model (its sha256 is in the metadata)
 *   adapter/           optional PEFT LoRA adapter trained with the pack (lm train --pack);
 *                      its modules_to_save (trained embed_tokens/lm_head) replace the table's
 *   langsamp.safetensors  optional language/script vectors (lg_langsamp.h)
 *   pack.json          what the pack holds: language, script, base fingerprint, the sha256
 *                      of every file
 * A bare table file (transfer's output) is accepted wherever a pack is, for evaluating an
 * initialisation before any training. Loading swaps the pack's vocabulary into the base:
 * every other tensor comes from the base directory, which is never modified.
 * The base fingerprint is the sha256 of config.json, every weight file's safetensors
 * header and the first and last MiB of its data: cheap on a 7B model, and different for
 * another checkpoint or shape. */
#ifndef LG_PACK_H
#define LG_PACK_H

#include "lg_error.h"
#include "lg_model.h"

int lg_base_fingerprint(const char *base_dir, char hex[65], lg_error *err);

/* Path of the table inside a pack (PACK/pack.safetensors), or the path itself when it is a
 * file. out must hold 4096 bytes. */
void lg_pack_table_path(const char *pack, char *out);
/* PACK/tokenizer.model when pack is a directory that has one; NULL otherwise. */
int lg_pack_tokenizer_path(const char *pack, char *out /* 4096 */);

/* Loads the base model directory and, when pack is not NULL, swaps in the pack's
 * embeddings, LM head, language/script vectors and adapter. Checks the hidden size, the
 * head (untied base needs a head in the pack) and, when the pack records one, the base
 * fingerprint. */
lg_model *lg_model_open(const char *base_dir, const char *pack, lg_error *err);

/* The tokenizer to use with a pack: the explicit path when given, else PACK/tokenizer.model
 * (an error when neither exists). Free with lg_tokenizer_free. */
struct lg_tokenizer *lg_pack_tokenizer(const char *tokenizer, const char *pack, lg_error *err);

/* `lm train` as a library call: opens o->model_dir with o->pack swapped in (lg_model_open)
 * and the tokenizer (lg_pack_tokenizer; only when text is to be encoded or one was named),
 * then runs the core's loop (lg_train_run, lg_train.h). */
struct lg_train_options;
int lg_pack_train(const struct lg_train_options *o, lg_error *err);

/* adapt pack: assembles OUT (a directory, written atomically) from a table file, a
 * tokenizer, optionally an adapter directory and a language/script vectors file, and
 * writes pack.json with the base fingerprint. Checks the table against the tokenizer's
 * checksum and the base's shapes first. */
typedef struct {
    const char *table, *tokenizer, *adapter_dir, *langsamp, *base_dir;
    const char *language, *script;   /* override the table's metadata when set */
} lg_pack_parts;
int lg_pack_assemble(const char *out, const lg_pack_parts *parts, lg_error *err);

#endif
