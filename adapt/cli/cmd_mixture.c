/* adapt mixture: one LoRA adapter trained over several languages at once, each through its
 * own pack (lg_train_mixture, lg_train.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lg_adapt_cli.h"
#include "lg_cli.h"
#include "lg_lora.h"
#include "lg_model.h"
#include "lg_pack.h"
#include "lg_tokenizer.h"
#include "lg_train.h"

#define MAX_LANGS 16
#define REPEATED(p) .dest = (p), .flags = LG_OPT_REPEAT

int lg_adapt_mixture(int argc, char **argv)
{
    lg_train_options o;
    lg_train_defaults(&o);
    o.batch = 8;
    o.seq_len = 128;
    o.lora_rank = 8;
    o.steps = 150;
    lg_cli_list packs = {0}, toks = {0}, texts = {0}, evals = {0}, langs = {0}, scripts = {0};
    const char *targets = NULL;
    int vectors = 0, threads = 0;
    lg_opt opts[] = {
        {LG_INPUT(&o.model_dir), .name = "base", .flags = LG_OPT_REQUIRED, .arg = "DIR",
         .help = "the base model (never modified)"},
        {LG_SECTION("each language, in the same order (repeat each option)")},
        {.type = LG_OPT_STRING, REPEATED(&langs), .name = "lang", .arg = "CODE",
         .help = "its ISO 639-3 code (names OUT/CODE; its\nlanguage vector with --vectors)"},
        {.type = LG_OPT_INPUT, REPEATED(&packs), .name = "pack", .arg = "PACK",
         .help = "its pack or `transfer init` table (no adapter\nor vectors)"},
        {.type = LG_OPT_INPUT, REPEATED(&toks), .name = "tokenizer", .arg = "FILE",
         .def = "the pack's", .help = "its SentencePiece .model"},
        {.type = LG_OPT_INPUT, REPEATED(&texts), .name = "text", .arg = "FILE",
         .help = "its training text, one document a line"},
        {.type = LG_OPT_INPUT, REPEATED(&evals), .name = "eval-file", .arg = "FILE",
         .def = "", .help = "its held-out text (all languages or none)"},
        {.type = LG_OPT_STRING, REPEATED(&scripts), .name = "script", .arg = "CODE",
         .def = "Latn", .help = "its ISO 15924 script (once: for all)"},
        {LG_FLAG(&vectors), .name = "vectors",
         .help = "LangSAMP: train one table of language and\nscript vectors, each "
                 "sequence tagged with its\nown (OUT/langsamp.safetensors)"},
        {LG_SECTION("steps (each: --batch sequences of every language)")},
        {LG_LONG(&o.steps), .name = "steps", .min = 1, .max = 1e12, .arg = "N",
         .help = "optimizer steps"},
        {LG_INT(&o.batch), .name = "batch", .min = 1, .max = 4096, .arg = "B",
         .help = "sequences of each language a step"},
        {LG_INT(&o.seq_len), .name = "seq-len", .min = 2, .max = 1 << 20, .arg = "T",
         .help = "tokens a sequence"},
        {LG_FLOAT(&o.lr), .name = "lr", .min = 0, .max = 1, .flags = LG_OPT_MIN_OPEN,
         .arg = "X", .help = "peak learning rate"},
        {LG_FLOAT(&o.embed_lr), .name = "embed-lr", .min = 0, .max = 1, .flags = LG_OPT_MIN_OPEN,
         .arg = "X", .def = "--lr", .help = "peak learning rate of the embeddings"},
        {LG_LONG(&o.warmup), .name = "warmup", .min = 0, .max = 1e12, .arg = "N",
         .help = "linear warmup steps, then cosine decay"},
        {LG_FLOAT(&o.clip), .name = "clip", .min = 0, .max = 1e30, .arg = "X",
         .help = "global gradient-norm limit (0: off)"},
        {LG_U64(&o.seed), .name = "seed", .min = 0, .max = 1.8446744073709552e19, .arg = "N",
         .help = "data order and LoRA init (as lm train's)"},
        {LG_LONG(&o.eval_every), .name = "eval-every", .min = 0, .max = 1e12, .arg = "N",
         .help = "held-out bits per byte of each language\n(0: never; else also before step 1)"},
        LG_THREADS_OPT(&threads),
        {LG_SECTION("what is trained")},
        {LG_INT(&o.lora_rank), .name = "lora-r", .min = 1, .max = 4096, .arg = "R",
         .help = "rank of the shared LoRA adapter"},
        {LG_FLOAT(&o.lora_alpha), .name = "lora-alpha", .min = 0, .max = 1e6,
         .flags = LG_OPT_MIN_OPEN, .arg = "A", .help = "scale alpha/r"},
        {LG_STRING(&targets), .name = "lora-targets", .arg = "LIST", .def = "q,v",
         .help = "q,k,v,o,gate,up,down or all"},
        {LG_FLAG(&o.train_embeddings), .name = "train-embeddings",
         .help = "each language's embeddings and head too"},
        {LG_SECTION("output")},
        {LG_OUTDIR(&o.out_dir), .name = "out", .short_name = 'o', .flags = LG_OPT_REQUIRED,
         .arg = "DIR", .help = "DIR/CODE/adapter per language (PEFT), and\nDIR/langsamp.safetensors"},
        {LG_STRING(&o.log_path), .name = "log", .arg = "FILE",
         .help = "JSON lines appended: steps (loss per\nlanguage), held-out results with \"lang\""},
        {LG_FLAG(&o.quiet), .name = "quiet", .short_name = 'q', .help = "no summary lines"},
        {0}};
    lg_cli c = {.prog = "adapt", .name = "mixture", .opts = opts,
                .usage = "--base DIR (--lang CODE --pack PACK --text FILE\n"
                         "           [--tokenizer SPM] [--eval-file FILE])... -o DIR [options]",
                .about = "Trains one LoRA adapter over a mixture of languages over one base: "
                         "each step\nreads --batch sequences of every language (in the order "
                         "lm train would\nread each alone with the same seed: the same tokens "
                         "as separate runs), each\nthrough its own pack's embeddings and head, "
                         "and updates the shared adapter\n(and with --train-embeddings each "
                         "language's embeddings) on the mean loss.\nAssemble each language's "
                         "pack with adapt pack --adapter DIR/CODE/adapter.\nNo checkpoints: "
                         "the outputs are written at the end."};
    int rc = lg_cli_parse(&c, argc, argv);
    if (rc != LG_CLI_RUN)
        return rc;
    const int n = langs.n;
    if (n < 1 || n > MAX_LANGS)
        return lg_cli_finish(&c, lg_cli_usage(&c, "give 1 to %d languages (--lang)", MAX_LANGS));
    if (packs.n != n || texts.n != n || (toks.n && toks.n != n) || (evals.n && evals.n != n) ||
        (scripts.n > 1 && scripts.n != n))
        return lg_cli_finish(&c, lg_cli_usage(&c, "%d languages: give --pack and --text (and "
                                              "--tokenizer, --eval-file, --script if any) as "
                                              "many times", n));
    lg_error err;
    if (targets && lg_lora_parse_targets(targets, &o.lora_targets, &err) < 0)
        return lg_cli_finish(&c, lg_cli_usage(&c, "--lora-targets: %s", err.msg));
    o.threads = lg_cli_threads(threads);
    lg_set_threads(o.threads);
    lg_model *ms[MAX_LANGS] = {0};
    lg_tokenizer *tk[MAX_LANGS] = {0};
    lg_mixture_part parts[MAX_LANGS];
    rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        parts[i] = (lg_mixture_part){.lang = langs.v[i], .text = texts.v[i],
                                     .script = scripts.n ? scripts.v[scripts.n > 1 ? i : 0] : "Latn",
                                     .eval_text = evals.n ? evals.v[i] : NULL};
        if (!(ms[i] = lg_model_open(o.model_dir, packs.v[i], &err)) ||
            !(tk[i] = lg_pack_tokenizer(toks.n ? toks.v[i] : NULL, packs.v[i], &err)))
            rc = -1;
    }
    if (rc == 0)
        rc = lg_train_mixture(&o, ms, (const lg_tokenizer *const *)tk, parts, n, vectors, &err);
    for (int i = 0; i < n; i++) {
        lg_model_free(ms[i]);
        lg_tokenizer_free(tk[i]);
    }
    if (rc < 0)
        return lg_cli_finish(&c, lg_cli_fail(&c, &err));
    if (!o.quiet)
        fprintf(stderr, "mixture: %d adapters in %s\n", n, o.out_dir);
    return lg_cli_finish(&c, 0);
}
