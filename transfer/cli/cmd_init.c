/* `transfer init`: embeddings for a new tokenizer's pieces made from a base model's rows,
 * written as an embedding table pack. */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lg_arch.h"
#include "lg_cli.h"
#include "lg_io.h"
#include "lg_model.h"
#include "lg_safetensors.h"
#include "lg_spm.h"
#include "lg_transfer.h"
#include "transfer_cmds.h"

/* The rows of the pack, made as the writer asks for them: the embedding's, then the head's
 * (its draws seeded apart); the embedding's statistics are let go before the head's are
 * made. */
typedef struct {
    lg_init_rows *rows[2];
    lg_dtype dtype;
} table_rows;

static int make_rows(void *ctx, int head, int32_t t0, int32_t t1, void *dst, lg_error *err)
{
    table_rows *tr = ctx;
    if (head && tr->rows[0]) {
        lg_init_rows_free(tr->rows[0]);
        tr->rows[0] = NULL;
    }
    return lg_init_rows_make(tr->rows[head], t0, t1, dst, tr->dtype, err);
}

int tr_cmd_init(int argc, char **argv)
{
    lg_init_opts o;
    lg_init_opts_default(&o);
    const char *base = NULL, *base_tok_path = NULL, *tok_path = NULL, *out = NULL, *table = NULL,
               *dict = NULL, *source = NULL, *lang = NULL, *script = NULL, *dtype_name = "base",
               *method = lg_init_method_name(o.method);
    int threads = 0, verbose = 0;
    lg_opt opts[] = {
        {LG_SECTION("inputs")},
        {LG_INPUT(&base), .name = "base", .flags = LG_OPT_REQUIRED, .arg = "DIR",
         .help = "base model directory (config.json, *.safetensors)"},
        {LG_INPUT(&base_tok_path), .name = "base-tokenizer", .flags = LG_OPT_REQUIRED,
         .arg = "FILE", .help = "the base model's tokenizer (.model or\ntokenizer.json)"},
        {LG_INPUT(&tok_path), .name = "tokenizer", .flags = LG_OPT_REQUIRED, .arg = "FILE",
         .help = "the new tokenizer (.model or\ntokenizer.json)"},
        {LG_INPUT(&table), .name = "table", .arg = "FILE",
         .help = "alignment table of transfer align (src = base ids)"},
        {LG_INPUT(&dict), .name = "dict", .arg = "FILE",
         .help = "`english<TAB>translation` word list (--method dict)"},
        {LG_INPUT(&source), .name = "source", .arg = "FILE",
         .help = "take the rows from another language's table\nover the same base instead of "
                 "the base's own\n(--base-tokenizer: that language's tokenizer):\na `transfer "
                 "init` table (checked against\n--base and --base-tokenizer) or a trained\n"
                 "adapter_model.safetensors (modules_to_save)"},
        {LG_SECTION("output")},
        {LG_OUTPUT(&out), .name = "out", .short_name = 'o', .flags = LG_OPT_REQUIRED,
         .arg = "PACK", .help = "the embedding table to write (.safetensors)"},
        {LG_CHOICE(&dtype_name), .name = "dtype", .choices = "f32|bf16|f16|base", .arg = "T",
         .help = "f32, bf16, f16 or base (the base embeddings' type)"},
        {LG_STRING(&lang), .name = "lang", .arg = "CODE",
         .help = "ISO 639-3 language of the new tokenizer (metadata)"},
        {LG_STRING(&script), .name = "script", .arg = "CODE", .help = "ISO 15924 script (metadata)"},
        {LG_SECTION("method")},
        {LG_CHOICE(&method), .name = "method", .choices = "trans|dict|hull|random|mvn|mean",
         .arg = "M",
         .help = "trans: P(src|tgt) from --table, then identical\n"
                 "  piece, related aligned pieces (trie), subtoken\n"
                 "  mean, mean;\n"
                 "dict: the same with a table aligned from --dict;\n"
                 "hull: identical piece, else subtoken mean;\n"
                 "random | mvn | mean: identical piece, else a draw\n"
                 "  from N(mean, std^2) per dimension, N(mean,\n"
                 "  scale*cov), or the mean"},
        {LG_DOUBLE(&o.min_count), .name = "min-count", .min = 0, .max = INFINITY, .arg = "C",
         .help = "ignore alignment entries with expected count < C"},
        {LG_INT(&o.max_terms), .name = "max-terms", .min = 1, .max = 1 << 20, .arg = "N",
         .help = "at most N base rows per combination"},
        {LG_FLAG(&o.extend), .name = "extend",
         .help = "the new tokenizer extends the base one: keep base rows"},
        {LG_U64(&o.seed), .name = "seed", .min = 0, .max = 1.8e19, .arg = "N",
         .help = "for the random draws"},
        {LG_DOUBLE(&o.mvn_scale), .name = "mvn-scale", .min = 0, .max = 1e6,
         .flags = LG_OPT_MIN_OPEN, .arg = "S", .help = "covariance multiplier of --method mvn"},
        {LG_SECTION("resources")},
        LG_THREADS_OPT(&threads),
        {LG_FLAG(&verbose), .name = "verbose", .short_name = 'v', .help = "progress notes on stderr"},
        {0}};
    lg_cli c = {.prog = "transfer", .name = "init", .opts = opts,
                .usage = "--base DIR --base-tokenizer FILE --tokenizer FILE -o PACK\n"
                         "                     [--method M] [--table TABLE | --dict WORDS] [options]",
                .about = "Gives every piece of the new tokenizer an input embedding (and an LM head\n"
                         "row when the base model's head is untied) made from the base model's rows,\n"
                         "and writes them as an embedding table pack (safetensors with provenance\n"
                         "metadata)."};
    int rc = lg_cli_parse(&c, argc, argv);
    if (rc != LG_CLI_RUN)
        return rc;
    if (lg_init_method_parse(method, &o.method) != 0)
        return lg_cli_finish(&c, lg_cli_usage(&c, "--method: '%s' is not a method", method));
    if (o.method == LG_INIT_TRANS && !table)
        return lg_cli_finish(&c, lg_cli_usage(&c, "--method trans needs --table (from transfer align)"));
    if (o.method == LG_INIT_DICT && !dict)
        return lg_cli_finish(&c, lg_cli_usage(&c, "--method dict needs --dict (english<TAB>translation lines)"));
    lg_error err = {{0}};
    lg_dtype dtype = LG_DT_F32;
    int dtype_from_base = !strcmp(dtype_name, "base");
    if (!strcmp(dtype_name, "bf16"))
        dtype = LG_DT_BF16;
    else if (!strcmp(dtype_name, "f16"))
        dtype = LG_DT_F16;
    omp_set_num_threads(lg_cli_threads(threads));

    lg_tokenizer *base_tok = NULL, *new_tok = NULL;
    lg_weights *w = NULL;
    lg_safetensors *src = NULL;
    lg_align_result tab;
    memset(&tab, 0, sizeof tab);
    lg_init_plan plan;
    memset(&plan, 0, sizeof plan);
    table_rows tr = {{NULL, NULL}, LG_DT_F32};
    char base_sha[65], new_sha[65], table_sha[65] = "";
    int have_table = 0;
    rc = -1;
    lg_config cfg;
    if (lg_config_load_dir(base, &cfg, &err) < 0 ||
        lg_sha256_file(base_tok_path, base_sha, &err) < 0 ||
        lg_sha256_file(tok_path, new_sha, &err) < 0 ||
        !(base_tok = lg_tokenizer_load(base_tok_path, &err)) ||
        !(new_tok = lg_tokenizer_load(tok_path, &err)))
        goto done;
    const lg_arch_desc *arch = lg_arch_get(cfg.arch);
    if (o.method == LG_INIT_TRANS) {
        if (lg_align_read_table(table, &tab, &err) < 0 || lg_sha256_file(table, table_sha, &err) < 0)
            goto done;
        have_table = 1;
        if (tab.tgt_tokenizer_sha256[0] && strcmp(tab.tgt_tokenizer_sha256, new_sha)) {
            lg_fail(&err, "%s: made for a target tokenizer with sha256 %.12s..., but %s has "
                    "%.12s...: checksum mismatch", table, tab.tgt_tokenizer_sha256, tok_path, new_sha);
            goto done;
        }
        if (tab.src_tokenizer_sha256[0] && strcmp(tab.src_tokenizer_sha256, base_sha)) {
            lg_fail(&err, "%s: made for a source tokenizer with sha256 %.12s..., but %s has "
                    "%.12s...: checksum mismatch", table, tab.src_tokenizer_sha256, base_tok_path,
                    base_sha);
            goto done;
        }
        if (!tab.tgt_tokenizer_sha256[0] || !tab.src_tokenizer_sha256[0])
            fprintf(stderr, "transfer init: warning: %s names no tokenizer checksums (align with "
                    "--src-tokenizer/--tgt-tokenizer); ids are trusted as they are\n", table);
    } else if (o.method == LG_INIT_DICT) {
        lg_parallel pc;
        lg_parallel_init(&pc);
        lg_align_opts ao;
        lg_align_opts_default(&ao);
        ao.verbose = verbose;
        int r = lg_init_dict_corpus(dict, base_tok, new_tok, &pc, &err);
        if (r == 0)
            r = lg_align_train(&pc, &ao, &tab, &err);
        lg_parallel_free(&pc);
        if (r < 0)
            goto done;
        have_table = 1;
        if (verbose)
            fprintf(stderr, "init: %lld dictionary entries aligned, %lld table entries\n",
                    (long long)pc.n_pairs, (long long)tab.nnz);
    }
    if (lg_init_plan_build(base_tok, new_tok, have_table ? &tab : NULL, &o, &plan, &err) < 0) {
        if (have_table && o.method == LG_INIT_TRANS)
            lg_fail_context(&err, "%s", table);
        goto done;
    }
    const lg_tensor_info *te, *th;
    const char *rows_from = source ? source : base;
    if (source) { /* another language's rows over the same base (issue 15) */
        if (!(src = lg_st_open(source, &err)))
            goto done;
        /* a table (lingraft's names) or a PEFT adapter (the architecture's, prefixed) */
        const int peft = !lg_st_find(src, "model.embed_tokens.weight");
        char pe[160], ph[160];
        snprintf(pe, sizeof pe, "base_model.model.%s", arch->embed);
        snprintf(ph, sizeof ph, "base_model.model.%s", arch->head);
        te = lg_st_find(src, peft ? pe : "model.embed_tokens.weight");
        th = cfg.tie_word_embeddings ? NULL
                                     : lg_st_find(src, peft ? ph : "lm_head.weight");
        const char *fp = lg_st_metadata(src, "base_fingerprint");
        const char *ts = lg_st_metadata(src, "tokenizer_sha256");
        char have[65];
        if (fp && (lg_base_fingerprint(base, have, &err) < 0 || strcmp(fp, have))) {
            if (!err.msg[0] || strcmp(fp, have) != 0)
                lg_fail(&err, "%s: made for a base model with fingerprint %.12s..., not %s's",
                        source, fp, base);
            goto done;
        }
        if (ts && strcmp(ts, base_sha)) {
            lg_fail(&err, "%s: made for a tokenizer with sha256 %.12s..., but --base-tokenizer "
                          "%s has %.12s...", source, ts, base_tok_path, base_sha);
            goto done;
        }
        if (te && te->ndim == 2 && te->shape[0] != base_tok->ops->vocab_size(base_tok)) {
            lg_fail(&err, "%s: %lld rows, but --base-tokenizer %s has %d pieces", source,
                    (long long)te->shape[0], base_tok_path, base_tok->ops->vocab_size(base_tok));
            goto done;
        }
    } else {
        if (!(w = lg_weights_open_dir(base, &err)))
            goto done;
        te = lg_weights_find(w, arch->embed);   /* the base's own names (GPT-2: wte) */
        th = cfg.tie_word_embeddings ? NULL : lg_weights_find(w, arch->head);
    }
    if (!te) {
        lg_fail(&err, "%s: no %s", rows_from, source ? "model.embed_tokens.weight" : arch->embed);
        goto done;
    }
    if (!cfg.tie_word_embeddings && !th) {
        lg_fail(&err, "%s: config.json says the head is untied but there is no %s", rows_from,
                source ? "lm_head.weight" : arch->head);
        goto done;
    }
    if (te->ndim != 2 || te->shape[1] != cfg.hidden_size ||
        (th && (th->ndim != 2 || th->shape[1] != cfg.hidden_size || th->shape[0] != te->shape[0]))) {
        lg_fail(&err, "%s: embedding matrices do not match hidden size %d", rows_from, cfg.hidden_size);
        goto done;
    }
    if (dtype_from_base)
        dtype = te->dtype == LG_DT_BF16 || te->dtype == LG_DT_F16 ? te->dtype : LG_DT_F32;
    /* the rows are made in the dtype they are written in, a few MiB at a time as they are
     * written: neither table is ever held whole */
    lg_init_opts oh = o;
    oh.seed = o.seed + 1; /* independent draws for the head */
    tr.dtype = dtype;
    if (!(tr.rows[0] = lg_init_rows_new(&plan, te, &o, &err)) ||
        (th && !(tr.rows[1] = lg_init_rows_new(&plan, th, &oh, &err))))
        goto done;
    lg_pack_meta meta = {
        .base_model = base, .tokenizer_sha256 = new_sha, .base_tokenizer_sha256 = base_sha,
        .language = lang, .script = script, .method = lg_init_method_name(o.method),
        .table_sha256 = table_sha[0] ? table_sha : NULL, .counts = plan.counts};
    if (lg_pack_write_rows(out, plan.n_new, cfg.hidden_size, th != NULL, dtype, make_rows, &tr,
                           &meta, &err) < 0)
        goto done;
    fprintf(stderr, "init: %d rows (%s):", plan.n_new, lg_init_method_name(o.method));
    for (int s = 0; s < LG_ROW_KINDS; s++)
        if (plan.counts[s])
            fprintf(stderr, " %s %lld", lg_row_source_name((lg_row_source)s), (long long)plan.counts[s]);
    fprintf(stderr, "\n");
    rc = 0;
done:
    lg_init_rows_free(tr.rows[0]);
    lg_init_rows_free(tr.rows[1]);
    lg_init_plan_free(&plan);
    lg_align_result_free(&tab);
    lg_weights_close(w);
    if (src)
        lg_st_close(src);
    lg_tokenizer_free(base_tok);
    lg_tokenizer_free(new_tok);
    return lg_cli_finish(&c, rc < 0 ? lg_cli_fail(&c, &err) : 0);
}
