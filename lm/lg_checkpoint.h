/* lg_checkpoint — training checkpoints that a resumed run continues bit for bit.
 *
 * A checkpoint is a directory, written under a temporary name and renamed into place:
 *   model/                   the full model (lg_model_save_dir, float32), or
 *   adapter/                 in LoRA mode the PEFT adapter with its modules_to_save
 *   optimizer.safetensors    AdamW's moments
 *   trainer_state.json       step, data position, seed and the run's shape: model sizes,
 *                            mode, batch, ranks (world_size), sequence length,
 *                            accumulation, data size
 * Resuming checks that shape first, so a checkpoint of another model or run is refused
 * with the field that differs. */
#ifndef LG_CHECKPOINT_H
#define LG_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "lg_train.h"
#include "lg_io.h"
#include "lg_error.h"
#include "lg_model.h"
#include "lg_optim.h"

/* What a run must keep equal to be resumed from a checkpoint, and where it was. */
typedef struct {
    long step;                  /* optimizer updates done */
    lg_data_position data;
    uint64_t seed;
    int lora;                   /* 1: LoRA mode (adapter/), 0: model/ */
    int lora_rank;
    long train_rows_from;       /* -1: no row restriction */
    int trains_embeddings;
    int batch, seq_len, accum;
    int world_size;             /* ranks of a data-parallel run (lg_dist.h); batch is each
                                   rank's, data counts the sequences all ranks read */
    size_t data_tokens;
    lg_config model;            /* sizes of the model trained */
    float last_loss;
} lg_train_state;

/* Writes DIR (replacing an older one) atomically. base_name goes into adapter_config.json. */
int lg_checkpoint_save(const char *dir, const lg_model *m, const lg_adamw *opt,
                       const lg_train_state *st, const char *base_name, lg_error *err);

/* Reads DIR/trainer_state.json. */
int lg_checkpoint_read_state(const char *dir, lg_train_state *st, lg_error *err);
/* Compares a checkpoint's state with the run about to resume from it; names the first
 * field that differs ("ckpt: checkpoint of another model: hidden_size is 128 there, 64 here"). */
int lg_checkpoint_check(const char *dir, const lg_train_state *saved, const lg_train_state *run,
                        lg_error *err);
/* Full mode: loads DIR/model into m (names and shapes checked). */
int lg_checkpoint_load_model(const char *dir, lg_model *m, lg_error *err);
/* Loads the optimizer's moments and sets its step. */
int lg_checkpoint_load_optimizer(const char *dir, lg_adamw *opt, long step, lg_error *err);

/* lg_remove_tree (lg_io.h) removes temporary and superseded checkpoints. */

#endif
