/* `lm train`: the command line of lg_train_run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lg_cli.h"
#include "lg_dist.h"
#include "lm_cmds.h"
#include "lg_io.h"
#include "lg_lora.h"
#include "lg_model.h"
#include "lg_pack.h"
#include "lg_train.h"

int lg_cmd_train(int argc, char **argv)
{
    lg_train_options o;
    lg_train_defaults(&o);
    const char *targets = NULL;
    int threads = 0;
    lg_opt opts[] = {
        {LG_INPUT(&o.model_dir), .name = "MODEL_DIR", .flags = LG_OPT_POSITIONAL | LG_OPT_REQUIRED,
         .help = "the Hugging Face model directory trained"},
        {LG_SECTION("data")},
        {LG_INPUT(&o.data_ids), .name = "data", .flags = LG_OPT_STDIO, .arg = "FILE",
         .help = "token ids, one document a line (spm_encode\n--output_format=id; - = stdin)"},
        {LG_INPUT(&o.data_text), .name = "text", .flags = LG_OPT_STDIO, .arg = "FILE",
         .help = "UTF-8 text, one document a line (plain, gzip\nor - for stdin), encoded "
                 "with --tokenizer"},
        {LG_INPUT(&o.tokenizer), .name = "tokenizer", .arg = "FILE", .def = "the pack's",
         .help = ".model or tokenizer.json for --text and\n--eval-file"},
        {LG_INPUT(&o.pack), .name = "pack", .arg = "PACK",
         .help = "a language pack or `transfer init` table: its\nvocabulary (embeddings, head, "
                 "adapter, vectors)\nreplaces the base's"},
        {LG_STRING(&o.lang), .name = "lang", .arg = "CODE",
         .help = "LangSAMP: tag every sequence with this ISO\n639-3 language"},
        {LG_STRING(&o.script), .name = "script", .arg = "CODE",
         .help = "and ISO 15924 script and train their vectors\n(zero unless the pack has "
                 "them; saved as\nlangsamp.safetensors)"},
        {LG_INPUT(&o.eval_text), .name = "eval-file", .arg = "FILE",
         .help = "held-out text: loss and bits per byte every\n--eval-every steps"},
        {LG_LONG(&o.eval_every), .name = "eval-every", .min = 0, .max = 1e12, .arg = "N",
         .help = "0: never; with N, also before the first step"},
        {LG_SECTION("steps")},
        {LG_LONG(&o.steps), .name = "steps", .min = 1, .max = 1e12, .arg = "N",
         .help = "optimizer steps"},
        {LG_INT(&o.batch), .name = "batch", .min = 1, .max = 4096, .arg = "B",
         .help = "sequences a micro-batch"},
        {LG_INT(&o.seq_len), .name = "seq-len", .min = 2, .max = 1 << 20, .arg = "T",
         .help = "tokens a sequence (at most the model's\nmax_position_embeddings)"},
        {LG_INT(&o.accum), .name = "accum", .min = 1, .max = 65536, .arg = "N",
         .help = "micro-batches a step (gradient accumulation)"},
        {LG_FLOAT(&o.lr), .name = "lr", .min = 0, .max = 1, .flags = LG_OPT_MIN_OPEN,
         .arg = "X", .help = "peak learning rate"},
        {LG_FLOAT(&o.embed_lr), .name = "embed-lr", .min = 0, .max = 1, .flags = LG_OPT_MIN_OPEN,
         .arg = "X", .def = "--lr", .help = "peak learning rate of embed_tokens / lm_head"},
        {LG_LONG(&o.warmup), .name = "warmup", .min = 0, .max = 1e12, .arg = "N",
         .help = "linear warmup steps, then cosine decay to"},
        {LG_FLOAT(&o.min_lr_ratio), .name = "min-lr-ratio", .min = 0, .max = 1, .arg = "X",
         .help = "this fraction of the peak"},
        {LG_FLOAT(&o.clip), .name = "clip", .min = 0, .max = 1e30, .arg = "X",
         .help = "global gradient-norm limit (0: off)"},
        {LG_FLOAT(&o.weight_decay), .name = "weight-decay", .min = 0, .max = 1, .arg = "X",
         .help = "AdamW decay of 2-D weights (norms and biases\nnever)"},
        {LG_FLOAT(&o.beta1), .name = "beta1", .min = 0, .max = 1, .flags = LG_OPT_MAX_OPEN,
         .arg = "X", .help = "AdamW beta1"},
        {LG_FLOAT(&o.beta2), .name = "beta2", .min = 0, .max = 1, .flags = LG_OPT_MAX_OPEN,
         .arg = "X", .help = "AdamW beta2"},
        {LG_U64(&o.seed), .name = "seed", .min = 0, .max = 1.8446744073709552e19, .arg = "N",
         .help = "data order and LoRA init"},
        LG_THREADS_OPT(&threads),
        {LG_SECTION("what is trained (default: everything)")},
        {LG_INT(&o.lora_rank), .name = "lora-r", .min = 1, .max = 4096, .arg = "R", .def = "",
         .help = "LoRA of rank R on --lora-targets; the base is\nfrozen"},
        {LG_FLOAT(&o.lora_alpha), .name = "lora-alpha", .min = 0, .max = 1e6,
         .flags = LG_OPT_MIN_OPEN, .arg = "A",
         .help = "scale alpha/r, or alpha/sqrt(r) with --rslora"},
        {LG_STRING(&targets), .name = "lora-targets", .arg = "LIST", .def = "q,v",
         .help = "q,k,v,o,gate,up,down or all; GPT-2: c_attn\n(= q, k or v), attn.c_proj, c_fc, mlp.c_proj"},
        {LG_FLAG(&o.rslora), .name = "rslora", .help = "rank-stabilised scaling"},
        {LG_FLAG(&o.train_embeddings), .name = "train-embeddings",
         .help = "embed_tokens and lm_head too (PEFT\nmodules_to_save); without --lora-r only "
                 "them"},
        {LG_LONG(&o.train_rows_from), .name = "train-rows", .min = 0, .max = 1 << 30,
         .arg = "FROM", .def = "",
         .help = "only rows >= FROM of embed_tokens / lm_head\n(new tokens)"},
        {LG_SECTION("output")},
        {LG_OUTTREE(&o.out_dir), .name = "out", .short_name = 'o', .flags = LG_OPT_REQUIRED,
         .arg = "DIR",
         .help = "checkpoints: DIR/checkpoint-STEP, DIR/last the\nnewest (created at the "
                 "first checkpoint)"},
        {LG_LONG(&o.save_every), .name = "save-every", .min = 0, .max = 1e12, .arg = "N",
         .help = "checkpoint every N steps (0: only at the end)"},
        {LG_LONG(&o.keep_checkpoints), .name = "keep", .min = 0, .max = 1e12, .arg = "N",
         .help = "checkpoints kept (0: all)"},
        {LG_INPUT(&o.resume_dir), .name = "resume", .arg = "CKPT",
         .help = "continue from a checkpoint with the same\noptions"},
        {LG_STRING(&o.log_path), .name = "log", .arg = "FILE",
         .help = "JSON lines appended: step, lr, loss, grad_norm,\ntokens_per_s, and eval "
                 "results"},
        {LG_FLAG(&o.quiet), .name = "quiet", .short_name = 'q',
         .help = "no summary lines on stderr"},
        {0}};
    lg_cli c = {.prog = "lm", .name = "train", .opts = opts,
                .usage = "MODEL_DIR (--data IDS | --text TEXT [--tokenizer SPM]) -o DIR "
                         "[options]",
                .about = "Causal-LM training of a Hugging Face model directory: full, LoRA (base "
                         "frozen),\nand/or trainable embeddings. Documents (lines) get the "
                         "model's bos/eos and are\npacked into sequences of --seq-len tokens. "
                         "A checkpoint holds model/ or adapter/\n(PEFT), optimizer.safetensors "
                         "and trainer_state.json.\n%s"};
    char about[1024];
    snprintf(about, sizeof about, c.about,
             lg_dist_available() ? "Under mpirun or srun: data-parallel, each rank --batch "
                                   "sequences of every\nmicro-batch, gradients summed with "
                                   "MPI; rank 0 logs and saves."
                                 : "This build has no MPI: one process (no data parallelism).");
    c.about = about;
    int rc = lg_cli_parse(&c, argc, argv);
    if (rc != LG_CLI_RUN)
        return rc;
    if (!o.data_ids == !o.data_text)
        return lg_cli_finish(&c, lg_cli_usage(&c, "give one of --data or --text"));
    lg_error err;
    if (targets && lg_lora_parse_targets(targets, &o.lora_targets, &err) < 0)
        return lg_cli_finish(&c, lg_cli_usage(&c, "--lora-targets: %s", err.msg));
    if (o.log_path) {
        /* appended to, never replaced: only the inputs are refused */
        const char *inputs[] = {o.model_dir, o.data_ids, o.data_text, o.tokenizer, o.pack,
                                o.eval_text, o.resume_dir};
        if (!strcmp(o.log_path, "-"))
            return lg_cli_finish(&c, lg_cli_usage(&c, "--log: '-' (standard output) is not "
                                                      "possible here: the log is a file"));
        if (lg_output_check(o.log_path, LG_OUT_FILE, NULL, 1, inputs,
                            (int)(sizeof inputs / sizeof *inputs), &err) < 0)
            return lg_cli_finish(&c, lg_cli_fail(&c, &err));
    }
    o.out_marker = "lm train"; /* the writer the kit's marker names (lg_cli_finish) */
    o.threads = lg_cli_threads(threads);
    lg_set_threads(o.threads);
    /* data parallelism: every rank has checked the same options; rank 0 alone writes */
    if (lg_dist_init(&err) < 0)
        return lg_cli_finish(&c, lg_cli_fail(&c, &err));
    if (lg_dist_rank() != 0) {
        o.out_marker = NULL;
        o.log_path = NULL;
        o.quiet = 1;
    }
    if (lg_dist_barrier("options", &err) < 0 || lg_pack_train(&o, &err) < 0) {
        rc = lg_cli_finish(&c, lg_cli_fail(&c, &err));
        /* the other ranks may be waiting for this one: end the job */
        if (lg_dist_size() > 1)
            lg_dist_abort(rc);
        return rc;
    }
    rc = lg_cli_finish(&c, 0);
    lg_dist_finalize();
    return rc;
}
