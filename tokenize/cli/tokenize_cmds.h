/* The subcommands of the `tokenize` program, one file each (tokenize/cli/cmd_*.c), and the
 * model files train and extend both write (model_files.c). Each command takes its argv
 * (argv[0] = its name) and returns the exit status (lg_cli.h: 0, 1 failure, 2 usage). */
#ifndef TOKENIZE_CMDS_H
#define TOKENIZE_CMDS_H

#include <stddef.h>
#include <stdint.h>

#include "lg_cli.h"
#include "lg_error.h"
#include "lg_tokenizer.h"

int tok_cmd_train(int argc, char **argv);
int tok_cmd_train_hf(int argc, char **argv); /* train --format hf-bpe */
int tok_cmd_encode(int argc, char **argv);
int tok_cmd_decode(int argc, char **argv);
int tok_cmd_stats(int argc, char **argv);
int tok_cmd_extend(int argc, char **argv);
/* Encodes each line of the text file at path with a and with b (through encode) and prints
 * how many lines encode differently and the token totals (tokenize extend --measure). */
typedef int (*tok_encode_fn)(void *model, const char *text, size_t len, lg_token_ids *out,
                             lg_error *err);
int tok_measure_change(tok_encode_fn encode, void *a, void *b, const char *path, lg_error *err);
/* extend with a tokenizer.json base (cmd_extend_hf.c): the exit status */
int tok_extend_hf(lg_cli *c, const char *base_path, const char *target_path, const char *output,
                  const char *map_path, const char *measure);
/* 1 when path names a tokenizer.json (a directory, *.json, or JSON content) */
int tok_is_tokenizer_json(const char *path);

/* The model files of -o NAME: NAME.model and NAME.vocab; "x.model" names the prefix "x". */
typedef struct {
    char prefix[4096], model[4200], vocab[4200];
} tok_model_paths;

/* Fills p from -o's value; 2 after a usage message when it is "-" or too long. */
int tok_model_paths_of(const lg_cli *c, const char *name, tok_model_paths *p);
/* The output rule for both files (lg_cli_check_output): 0, or 1 after a message. */
int tok_model_paths_check(const lg_cli *c, const tok_model_paths *p);

/* Writes PREFIX.model and PREFIX.vocab from serialized bytes, after loading them back;
 * neither is left when one fails. */
int tok_write_model(const tok_model_paths *p, const uint8_t *bytes, size_t len, lg_error *err);

/* Says on standard error whether llama.cpp (adapt export --gguf) tokenizes text exactly as
 * the written model m does, or why not: "CMD: PATH: ...". */
struct lg_spm;
void tok_note_llama_cpp(const struct lg_spm *m, const char *cmd, const char *path);

static inline double tok_ratio(int64_t a, int64_t b) { return b ? (double)a / (double)b : 0.0; }

#endif
