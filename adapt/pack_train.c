/* lm train over a pack: the model, the pack and the tokenizer opened, then the core's loop. */
#include "lg_pack.h"
#include "lg_spm.h"
#include "lg_train.h"

lg_tokenizer *lg_pack_tokenizer(const char *tokenizer, const char *pack, lg_error *err)
{
    char path[4096];
    if (!tokenizer && pack && lg_pack_tokenizer_path(pack, path))
        tokenizer = path;
    if (!tokenizer) {
        lg_fail(err, "no tokenizer: give --tokenizer%s", pack ? " (the pack has none)" : "");
        return NULL;
    }
    if (pack && lg_pack_check_tokenizer(pack, tokenizer, err) < 0)
        return NULL;
    return lg_tokenizer_load(tokenizer, err);
}

int lg_pack_train(const lg_train_options *o, lg_error *err)
{
    lg_tokenizer *tok = NULL;
    if ((o->data_text || o->eval_text || o->tokenizer) &&
        !(tok = lg_pack_tokenizer(o->tokenizer, o->pack, err)))
        return -1;
    /* under LoRA the base's matrices are frozen: they stay as stored (and its tables too
     * unless the embeddings are trained); full training needs them as float32 */
    const int embeddings = o->train_embeddings || o->train_rows_from >= 0;
    const unsigned flags =
        o->lora_rank > 0 ? LG_LOAD_STORED | (embeddings ? 0 : LG_LOAD_STORED_VOCAB) : 0;
    lg_model *m = lg_model_open_ex(o->model_dir, o->pack, flags, err);
    /* LoRA: one layer's activations, each block's remade in backward (lg_model.h) */
    if (m && o->lora_rank > 0)
        lg_model_set_recompute(m, 1);
    int rc = m ? lg_train_run(o, m, tok, err) : -1;
    if (m)
        lg_model_free(m);
    lg_tokenizer_free(tok);
    return rc;
}
