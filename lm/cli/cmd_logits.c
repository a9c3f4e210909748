/* `lm logits`: the model's logits for a batch of token ids, written as a reference file in
 * the layout of tests/fixtures/hf (input_ids I64 [B, T], logits F32 [B, T, V]), so that
 * another implementation (llama.cpp on an export, say) can be compared with lingraft. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lg_check.h"
#include "lg_cli.h"
#include "lm_cmds.h"
#include "lg_pack.h"
#include "lg_lora.h"
#include "lg_model.h"
#include "lg_safetensors.h"

int lg_cmd_logits(int argc, char **argv)
{
    const char *dir = NULL, *pack = NULL, *input = NULL, *out = NULL;
    int threads = 0;
    lg_opt opts[] = {
        {LG_INPUT(&dir), .name = "MODEL_DIR", .flags = LG_OPT_POSITIONAL | LG_OPT_REQUIRED,
         .help = "a Hugging Face model directory"},
        {LG_INPUT(&pack), .name = "pack", .arg = "PACK",
         .help = "a language pack swapped into the model"},
        {LG_INPUT(&input), .name = "input", .flags = LG_OPT_REQUIRED,
         .arg = "REFERENCE.safetensors", .help = "its input_ids [B, T] are run"},
        LG_THREADS_OPT(&threads),
        {LG_OUTPUT(&out), .name = "output", .short_name = 'o', .flags = LG_OPT_REQUIRED,
         .arg = "OUT.safetensors", .help = "input_ids and logits [B, T, V] (float32)"},
        {0}};
    lg_cli cli = {.prog = "lm", .name = "logits", .opts = opts,
                  .about = "Runs the input_ids [B, T] of REFERENCE (e.g. a fixture's "
                           "reference.safetensors)\nthrough the model (with the pack swapped "
                           "in) and writes input_ids and logits."};
    int status = lg_cli_parse(&cli, argc, argv);
    if (status != LG_CLI_RUN)
        return status;
    lg_set_threads(lg_cli_threads(threads));
    lg_error err = {{0}};
    lg_model *m = NULL;
    lg_safetensors *st = NULL;
    lg_st_writer *w = NULL;
    int64_t *ids64 = NULL;
    int32_t *ids = NULL;
    int rc = 1;
    if (!(st = lg_st_open(input, &err)))
        goto done;
    const lg_tensor_info *t = lg_st_find(st, "input_ids");
    if (!t || t->ndim != 2 || t->numel <= 0) {
        lg_fail(&err, "%s: no 2-D input_ids tensor", input);
        goto done;
    }
    int B, T;
    /* frozen weights stay as stored, unless a pack may bring an adapter to merge into them */
    if (!(m = lg_model_open_ex(dir, pack, pack ? 0 : LG_LOAD_STORED | LG_LOAD_STORED_VOCAB,
                               &err)) ||
        !(ids = lg_check_read_ids(t, m->cfg.vocab_size, input, &B, &T, &ids64, &err)))
        goto done;
    if (lg_lora_merge(m, &err) < 0)
        goto done;
    lg_model_set_inference(m, 1); /* forward only: one layer's activations */
    if (lg_model_forward(m, ids, NULL, B, T, &err) < 0) {
        lg_fail_context(&err, "%s", input);
        goto done;
    }
    w = lg_st_writer_new();
    const int64_t ishape[2] = {B, T}, lshape[3] = {B, T, m->cfg.vocab_size};
    if (lg_st_writer_add(w, "input_ids", LG_DT_I64, 2, ishape, ids64, &err) < 0 ||
        lg_st_writer_add(w, "logits", LG_DT_F32, 3, lshape, m->a.logits, &err) < 0 ||
        lg_st_writer_write(w, out, &err) < 0)
        goto done;
    rc = 0;
done:
    if (rc)
        lg_cli_fail(&cli, &err);
    lg_st_writer_free(w);
    lg_st_close(st);
    lg_model_free(m);
    free(ids64);
    free(ids);
    return lg_cli_finish(&cli, rc);
}
