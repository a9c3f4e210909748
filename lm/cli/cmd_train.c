/* `lm train`: the command line of lg_train_run. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lg_cli.h"
#include "lm_cmds.h"
#include "lg_lora.h"
#include "lg_model.h"
#include "lg_pack.h"
#include "lg_train.h"

static void usage(FILE *f)
{
    fprintf(f,
        "usage: lm train MODEL_DIR (--data IDS | --text TEXT --tokenizer SPM) --out DIR [options]\n"
        "Causal-LM training of a Hugging Face model directory: full, LoRA (base frozen), and/or\n"
        "trainable embeddings. Documents (lines) get the model's bos/eos and are packed into\n"
        "sequences of --seq-len tokens. Checkpoints go to DIR/checkpoint-STEP (DIR/last is the\n"
        "newest): model/ or adapter/ (PEFT), optimizer.safetensors, trainer_state.json.\n\n"
        "data\n"
        "  --data FILE           token ids, one document a line (spm_encode --output_format=id)\n"
        "  --text FILE           UTF-8 text, one document a line, encoded with --tokenizer\n"
        "  --tokenizer FILE      SentencePiece .model for --text and --eval-file (default: the\n"
        "                        pack's tokenizer.model)\n"
        "  --pack PACK           a language pack or `transfer init` table: its vocabulary\n"
        "                        (embeddings, head, adapter, vectors) replaces the base's\n"
        "  --lang CODE           LangSAMP: tag every sequence with this ISO 639-3 language\n"
        "  --script CODE         and ISO 15924 script and train their vectors (created at\n"
        "                        zero unless the pack has them; saved as langsamp.safetensors)\n"
        "  --eval-file FILE      held-out text: loss and bits per byte every --eval-every steps\n"
        "  --eval-every N        (default 0: never; with N, also before the first step)\n"
        "steps\n"
        "  --steps N             optimizer steps (default 1000)\n"
        "  --batch B             sequences a micro-batch (default 8)\n"
        "  --seq-len T           tokens a sequence (default 256; at most the model's maximum)\n"
        "  --accum N             micro-batches a step (gradient accumulation, default 1)\n"
        "  --lr X                peak learning rate (default 3e-4)\n"
        "  --embed-lr X          peak learning rate of embed_tokens / lm_head (default --lr)\n"
        "  --warmup N            linear warmup steps (default 0), then cosine decay to\n"
        "  --min-lr-ratio X      this fraction of the peak (default 0.1)\n"
        "  --clip X              global gradient-norm limit (default 1.0; 0: off)\n"
        "  --weight-decay X      AdamW decay of 2-D weights (default 0; norms/biases never)\n"
        "  --beta1 X --beta2 X   AdamW betas (default 0.9, 0.999)\n"
        "  --seed N              data order and LoRA init (default 0)\n"
        "  --threads N           (default: LG_THREADS or all CPUs; results repeat for a count)\n"
        "what is trained (default: everything)\n"
        "  --lora-r R            LoRA of rank R on --lora-targets; the base is frozen\n"
        "  --lora-alpha A        (default 16); scale alpha/r, or alpha/sqrt(r) with --rslora\n"
        "  --lora-targets LIST   q,k,v,o,gate,up,down or all (default q,v)\n"
        "  --rslora              rank-stabilised scaling\n"
        "  --train-embeddings    embed_tokens and lm_head too (PEFT modules_to_save); without\n"
        "                        --lora-r only them\n"
        "  --train-rows FROM     only rows >= FROM of embed_tokens / lm_head (new tokens)\n"
        "output\n"
        "  -o, --out DIR         checkpoints (created if missing)\n"
        "  --save-every N        checkpoint every N steps (default 0: only at the end)\n"
        "  --keep N              checkpoints kept (default 2; 0: all)\n"
        "  --resume CKPT         continue from a checkpoint with the same options\n"
        "  --log FILE            JSON lines appended: step, lr, loss, grad_norm, tokens_per_s,\n"
        "                        and eval results\n"
        "  -q, --quiet           no summary lines on stderr\n"
        "  -h, --help            this text\n");
}

enum {
    O_DATA = 256, O_TEXT, O_TOKENIZER, O_EVAL_FILE, O_EVAL_EVERY, O_STEPS, O_BATCH, O_SEQ_LEN,
    O_ACCUM, O_LR, O_EMBED_LR, O_WARMUP, O_MIN_LR, O_CLIP, O_WD, O_BETA1, O_BETA2, O_SEED,
    O_THREADS, O_LORA_R, O_LORA_ALPHA, O_LORA_TARGETS, O_RSLORA, O_TRAIN_EMB, O_TRAIN_ROWS,
    O_SAVE_EVERY, O_KEEP, O_RESUME, O_LOG, O_PACK, O_LANG, O_SCRIPT,
};

int lg_cmd_train(int argc, char **argv)
{
    static const struct option longs[] = {
        {"data", required_argument, 0, O_DATA}, {"text", required_argument, 0, O_TEXT},
        {"tokenizer", required_argument, 0, O_TOKENIZER},
        {"eval-file", required_argument, 0, O_EVAL_FILE},
        {"eval-every", required_argument, 0, O_EVAL_EVERY},
        {"steps", required_argument, 0, O_STEPS}, {"batch", required_argument, 0, O_BATCH},
        {"seq-len", required_argument, 0, O_SEQ_LEN}, {"accum", required_argument, 0, O_ACCUM},
        {"lr", required_argument, 0, O_LR}, {"embed-lr", required_argument, 0, O_EMBED_LR},
        {"warmup", required_argument, 0, O_WARMUP},
        {"min-lr-ratio", required_argument, 0, O_MIN_LR},
        {"clip", required_argument, 0, O_CLIP}, {"weight-decay", required_argument, 0, O_WD},
        {"beta1", required_argument, 0, O_BETA1}, {"beta2", required_argument, 0, O_BETA2},
        {"seed", required_argument, 0, O_SEED}, {"threads", required_argument, 0, O_THREADS},
        {"lora-r", required_argument, 0, O_LORA_R},
        {"lora-alpha", required_argument, 0, O_LORA_ALPHA},
        {"lora-targets", required_argument, 0, O_LORA_TARGETS},
        {"rslora", no_argument, 0, O_RSLORA},
        {"train-embeddings", no_argument, 0, O_TRAIN_EMB},
        {"train-rows", required_argument, 0, O_TRAIN_ROWS},
        {"out", required_argument, 0, 'o'}, {"save-every", required_argument, 0, O_SAVE_EVERY},
        {"keep", required_argument, 0, O_KEEP}, {"resume", required_argument, 0, O_RESUME},
        {"log", required_argument, 0, O_LOG}, {"quiet", no_argument, 0, 'q'},
        {"pack", required_argument, 0, O_PACK}, {"lang", required_argument, 0, O_LANG},
        {"script", required_argument, 0, O_SCRIPT},
        {"help", no_argument, 0, 'h'}, {0, 0, 0, 0},
    };
    lg_train_options o;
    lg_train_defaults(&o);
    lg_error err;
    const char *targets = NULL;
    int threads = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:qh", longs, NULL)) != -1) {
        switch (c) {
        case O_DATA: o.data_ids = optarg; break;
        case O_TEXT: o.data_text = optarg; break;
        case O_TOKENIZER: o.tokenizer = optarg; break;
        case O_EVAL_FILE: o.eval_text = optarg; break;
        case O_EVAL_EVERY: o.eval_every = atol(optarg); break;
        case O_STEPS: o.steps = atol(optarg); break;
        case O_BATCH: o.batch = atoi(optarg); break;
        case O_SEQ_LEN: o.seq_len = atoi(optarg); break;
        case O_ACCUM: o.accum = atoi(optarg); break;
        case O_LR: o.lr = strtof(optarg, NULL); break;
        case O_EMBED_LR: o.embed_lr = strtof(optarg, NULL); break;
        case O_WARMUP: o.warmup = atol(optarg); break;
        case O_MIN_LR: o.min_lr_ratio = strtof(optarg, NULL); break;
        case O_CLIP: o.clip = strtof(optarg, NULL); break;
        case O_WD: o.weight_decay = strtof(optarg, NULL); break;
        case O_BETA1: o.beta1 = strtof(optarg, NULL); break;
        case O_BETA2: o.beta2 = strtof(optarg, NULL); break;
        case O_SEED: o.seed = strtoull(optarg, NULL, 10); break;
        case O_THREADS: threads = atoi(optarg); break;
        case O_LORA_R: o.lora_rank = atoi(optarg); break;
        case O_LORA_ALPHA: o.lora_alpha = strtof(optarg, NULL); break;
        case O_LORA_TARGETS: targets = optarg; break;
        case O_RSLORA: o.rslora = 1; break;
        case O_TRAIN_EMB: o.train_embeddings = 1; break;
        case O_TRAIN_ROWS: o.train_rows_from = atol(optarg); break;
        case 'o': o.out_dir = optarg; break;
        case O_SAVE_EVERY: o.save_every = atol(optarg); break;
        case O_KEEP: o.keep_checkpoints = atol(optarg); break;
        case O_RESUME: o.resume_dir = optarg; break;
        case O_LOG: o.log_path = optarg; break;
        case O_PACK: o.pack = optarg; break;
        case O_LANG: o.lang = optarg; break;
        case O_SCRIPT: o.script = optarg; break;
        case 'q': o.quiet = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind + 1 != argc || !o.out_dir || !o.data_ids == !o.data_text) {
        fprintf(stderr, "lm train: give MODEL_DIR, one of --data or --text, and --out\n");
        usage(stderr);
        return 2;
    }
    o.model_dir = argv[optind];
    if (targets && lg_lora_parse_targets(targets, &o.lora_targets, &err) < 0)
        goto fail;
    if (o.train_rows_from < -1) {
        lg_fail(&err, "--train-rows must be a row number (0 or more)");
        goto fail;
    }
    o.threads = lg_cli_threads(threads);
    lg_set_threads(o.threads);
    if (lg_pack_train(&o, &err) < 0)
        goto fail;
    return 0;
fail:
    lg_error_print("lm train", &err);
    return 1;
}
