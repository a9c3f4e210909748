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
    lg_model *m = lg_model_open(o->model_dir, o->pack, err);
    int rc = m ? lg_train_run(o, m, tok, err) : -1;
    if (m)
        lg_model_free(m);
    lg_tokenizer_free(tok);
    return rc;
}
