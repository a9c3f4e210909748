/* lg_hydra — swappable language packs over one unchanged base model (the Hydra idea).
 *
 * A pack is a directory LANG.pack/ holding
 *   pack.safetensors   the embedding table pack written by `transfer init`
 *                      (model.embed_tokens.weight, lm_head.weight when untied, optional
 *                      lang_embed/script_embed) with its metadata, plus base_fingerprint
 *   tokenizer.model    the language's tokenizer: a SentencePiece model, or tokenizer.json for
 *   (tokenizer.json)   a Hugging Face one (its sha256 is in the metadata; pack.json records
 *                      tokenizer_kind and tokenizer_file)
 *   adapter/           optional PEFT LoRA adapter trained with the pack (lm train --pack);
 *                      its modules_to_save (trained embed_tokens/lm_head) replace the table's
 *   langsamp.safetensors  optional language/script vectors (lg_langsamp.h)
 *   pack.json          what the pack holds: language, script, base fingerprint, the sha256
 *                      of every file
 * A bare table file (transfer's output) is accepted wherever a pack is, for evaluating an
 * initialisation before any training. Loading swaps the pack's vocabulary into the base:
 * every other tensor comes from the base directory, which is never modified.
 * The base fingerprint (lg_base_fingerprint, lg_model.h) ties a pack and a bare table to
 * the checkpoint they were made for.
 *
 * Every load verifies: a pack directory's pack.json (required) lists the sha256 of every
 * file the load reads (pack.safetensors, tokenizer.model or .json, langsamp.safetensors,
 * adapter/adapter_config.json, adapter/adapter_model.safetensors), and each must match; its
 * base_fingerprint must be the base's. A bare table carries the base fingerprint in its
 * metadata (transfer init writes it), checked the same way. A tokenizer named beside a pack
 * must be the one the table was made for (lg_pack_check_tokenizer). */
#ifndef LG_PACK_H
#define LG_PACK_H

#include "lg_error.h"
#include "lg_model.h"

/* Path of the table inside a pack (PACK/pack.safetensors), or the path itself when it is a
 * file. out must hold 4096 bytes. */
void lg_pack_table_path(const char *pack, char *out);
/* PACK/tokenizer.json or PACK/tokenizer.model when pack is a directory that has one
 * (1; 0 otherwise). */
int lg_pack_tokenizer_path(const char *pack, char *out /* 4096 */);

/* Loads the base model directory and, when pack is not NULL, swaps in the pack's
 * embeddings, LM head, language/script vectors and adapter. Verifies the pack first (the
 * checksums and base fingerprint above), then the hidden size and the head (an untied base
 * needs a head in the pack). The base's special token ids are kept where the pack's
 * vocabulary has them and dropped (-1) beyond it. */
lg_model *lg_model_open(const char *base_dir, const char *pack, lg_error *err);
/* The same, with lg_model_load_dir_ex's flags (LG_LOAD_STORED: the base's block matrices kept
 * in their stored dtype; LG_LOAD_STORED_VOCAB: the base's embed_tokens/lm_head too, without
 * a pack). */
lg_model *lg_model_open_ex(const char *base_dir, const char *pack, unsigned flags,
                           lg_error *err);

/* What lg_pack_verify read of a pack (pack.json's language/script over the table's). */
typedef struct {
    char language[32], script[32], method[32];
    long long vocab_size;
    int has_adapter, has_vectors;
} lg_pack_summary;

/* Every check lg_model_open makes of a pack before it reads the base's layers: the table's
 * shapes against the base's config (hidden size, a head for an untied base), pack.json's
 * checksums of every file and its base fingerprint, the table's own fingerprint. Reads no
 * weights of the base. out (may be NULL) receives what the pack holds. */
int lg_pack_verify(const char *base_dir, const char *pack, lg_pack_summary *out, lg_error *err);

/* Switching packs without reloading the base: m was opened from base_dir (lg_model_open,
 * with a pack or none). Drops m's adapter, vectors and tags, then swaps in the pack's
 * embeddings, head, vectors and adapter, verified as lg_model_open verifies them; pack NULL
 * puts the base's own embeddings and head back (read again from base_dir), so that the
 * model is again the untouched base, bit for bit. Only the vocabulary side is read: the
 * pack's vocabulary must have the loaded model's size (else an error: open it with
 * lg_model_open instead), and a head that is tied stays tied. On failure m is left with
 * no adapter or vectors and must be swapped again before use. */
int lg_model_use_pack(lg_model *m, const char *base_dir, const char *pack, lg_error *err);

/* The pack's adapter over the base's own embeddings and head: what a language's training
 * did to the layers, seen through the base's vocabulary (forgetting). The pack must have an
 * adapter; its trained embeddings, if it saves them, are replaced by the base's. */
int lg_model_use_pack_layers(lg_model *m, const char *base_dir, const char *pack, lg_error *err);

/* 0 when the tokenizer file is the one the pack's table was made for (its sha256 is the
 * table's tokenizer_sha256), else an error naming both. */
int lg_pack_check_tokenizer(const char *pack, const char *tokenizer_path, lg_error *err);

/* The tokenizer to use with a pack: the explicit path when given, else the pack's tokenizer
 * (an error when neither exists); with a pack, checked by lg_pack_check_tokenizer. Free with
 * lg_tokenizer_free. */
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
