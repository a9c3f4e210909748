/* lg_dataset — training and evaluation text as one stream of token ids.
 *
 * Input is either a token-id file (one document a line, ids separated by spaces, as
 * `spm_encode --output_format=id` or `tokenize encode --ids` print) or UTF-8 text (one
 * document a line) encoded with a SentencePiece model. Each document becomes
 * [bos] ids [eos] (the markers the model has) in one stream held in memory (4 bytes a
 * token). For training the stream is cut into sequences of seq_len tokens (the tail that
 * does not fill one is dropped, as HF's group_texts does), visited in an order shuffled
 * per epoch from the seed; the position (epoch, sequence) can be saved and restored. */
#ifndef LG_DATASET_H
#define LG_DATASET_H

#include <stddef.h>
#include <stdint.h>

#include "lg_error.h"

struct lg_spm;

typedef struct {
    int seq_len;        /* tokens a sequence; 0: no packing (evaluation reads `tokens`) */
    int vocab_size;     /* every id must be below it */
    int bos_id, eos_id; /* put around each document when ≥ 0 */
    uint64_t seed;      /* order of the sequences in each epoch */
    int shuffle;        /* 0: sequences in file order */
} lg_dataset_options;

typedef struct {
    long epoch;         /* completed passes over the data */
    size_t next;        /* index into this epoch's order of the next sequence */
} lg_data_position;

typedef struct {
    char path[4096];
    lg_dataset_options opt;
    int32_t *tokens;    /* the whole stream */
    size_t n_tokens;
    size_t n_docs;      /* non-empty documents */
    size_t n_bytes;     /* UTF-8 bytes of the text, newlines included (0 for id files) */
    size_t n_seqs;      /* n_tokens / seq_len */
    size_t *order;      /* this epoch's order of the sequences */
    lg_data_position pos;
} lg_dataset;

/* Reads a token-id file ("-" for stdin). Errors: an empty file or one without tokens, a
 * field that is not an id or an id ≥ vocab_size ("data.ids:12: token id 512 is outside
 * the vocabulary (500)"), fewer tokens than one sequence. */
lg_dataset *lg_dataset_load_ids(const char *path, const lg_dataset_options *opt, lg_error *err);
/* Reads UTF-8 text and encodes each line with the SentencePiece model. */
lg_dataset *lg_dataset_load_text(const char *path, const struct lg_spm *spm,
                                 const lg_dataset_options *opt, lg_error *err);
void lg_dataset_free(lg_dataset *ds);

/* Copies the next B sequences into ids[B × seq_len], starting a new, reshuffled epoch when
 * one ends. Allocates nothing. */
void lg_dataset_next_batch(lg_dataset *ds, int32_t *ids, int B);

/* Moves to a saved position (the order of its epoch is recomputed from the seed). */
int lg_dataset_seek(lg_dataset *ds, lg_data_position pos, lg_error *err);

#endif
