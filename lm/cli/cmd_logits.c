/* `lm logits`: the model's logits for a batch of token ids, written as a reference file in
 * the layout of tests/fixtures/hf (input_ids I64 [B, T], logits F32 [B, T, V]), so that
 * another implementation (llama.cpp on an export, say) can be compared with lingraft. */
#include <getopt.h>
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

static void usage(FILE *f)
{
    fprintf(f, "usage: lm logits MODEL_DIR [--pack PACK] --input REFERENCE.safetensors -o OUT.safetensors\n"
               "Runs the input_ids [B, T] of REFERENCE (e.g. a fixture's reference.safetensors)\n"
               "through the model (with the pack swapped in) and writes input_ids and logits.\n");
}

int lg_cmd_logits(int argc, char **argv)
{
    static const struct option opts[] = {{"pack", required_argument, NULL, 'p'},
                                         {"input", required_argument, NULL, 'i'},
                                         {"output", required_argument, NULL, 'o'},
                                         {"threads", required_argument, NULL, 't'},
                                         {"help", no_argument, NULL, 'h'},
                                         {0}};
    const char *pack = NULL, *input = NULL, *out = NULL;
    int threads = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'p': pack = optarg; break;
        case 'i': input = optarg; break;
        case 'o': out = optarg; break;
        case 't': threads = atoi(optarg); break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind + 1 != argc || !input || !out) {
        usage(stderr);
        return 2;
    }
    lg_set_threads(lg_cli_threads(threads));
    lg_error err;
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
    if (!(m = lg_model_open(argv[optind], pack, &err)) ||
        !(ids = lg_check_read_ids(t, m->cfg.vocab_size, input, &B, &T, &ids64, &err)))
        goto done;
    lg_lora_merge(m);
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
        lg_error_print("lm logits", &err);
    lg_st_writer_free(w);
    lg_st_close(st);
    lg_model_free(m);
    free(ids64);
    free(ids);
    return rc;
}
