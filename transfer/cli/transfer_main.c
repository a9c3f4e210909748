/* transfer — token alignment of parallel text and initialisation of new-language embeddings.
 *
 *   transfer align --src en.ids --tgt nl.ids --out table.tsv [--links links.txt]
 *   transfer init ...   (see transfer init --help) */
#include <getopt.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lg_transfer.h"
#include "lg_cli.h"
#include "lg_model.h"
#include "lg_error.h"
#include "lg_safetensors.h"
#include "lg_io.h"
#include "lg_spm.h"

static const char *const PROG = "transfer";

static void usage_main(FILE *f)
{
    fprintf(f,
            "usage: transfer COMMAND [options]\n"
            "\n"
            "commands:\n"
            "  align   learn token translation probabilities P(src | tgt) from parallel token ids\n"
            "  init    initialise the new tokenizer's embeddings (trans-tokenization, hull, ...)\n"
            "  check   check that an embedding table pack fits a tokenizer and a base model\n"
            "\n"
            "transfer COMMAND --help describes each.\n");
}

static void usage_align(FILE *f)
{
    fprintf(f,
            "usage: transfer align (--src FILE --tgt FILE | --tsv FILE) --out TABLE [options]\n"
            "\n"
            "Aligns line-aligned token ids (one segment a line, space-separated ids, as\n"
            "`spm_encode --output_format=id` prints; plain or gzip; - is stdin) with IBM Model 1\n"
            "and then fast_align's diagonal Model 2, in both directions, symmetrised.  Writes\n"
            "`tgt_id<TAB>src_id<TAB>P(src|tgt)<TAB>expected count` lines.\n"
            "\n"
            "  --src FILE            source side (the base model's tokens)\n"
            "  --tgt FILE            target side (the new tokenizer's tokens)\n"
            "  --tsv FILE            instead: `src ids<TAB>tgt ids` lines\n"
            "  -o, --out FILE        the translation table\n"
            "  --links FILE          also write Pharaoh `i-j` links (src i, tgt j), one line a pair\n"
            "  --model1-iters N      IBM Model 1 iterations (5)\n"
            "  --model2-iters N      diagonal Model 2 iterations after them (5)\n"
            "  --p-null P            Model 2 NULL alignment probability (0.08)\n"
            "  --tension T           initial diagonal tension (4)\n"
            "  --fixed-tension       do not re-estimate the tension\n"
            "  --direction D         forward (tgt from src), reverse, both (both)\n"
            "  --sym S               combine directions: posterior (mean of the posteriors),\n"
            "                        gdfa (grow-diag-final-and), intersect, union (posterior)\n"
            "  --beam B              prune t(g|c) < B * row max after each iteration (1e-4; 0 off)\n"
            "  --link-threshold X    posterior links: mean posterior >= X (0.5)\n"
            "  --min-count C         write only entries with expected count >= C (0.01)\n"
            "  --src-tokenizer FILE  record the sha256 of the .model that made the source ids\n"
            "  --tgt-tokenizer FILE  the same for the target ids (transfer init checks them)\n"
            "  --threads N           OpenMP threads (default: all); results are identical\n"
            "                        for the same thread count\n"
            "  --cache-mb N          memory for cached table positions (1024; 0 = search)\n"
            "  -v, --verbose         one line per EM iteration on stderr\n"
            "  -h, --help            this text\n");
}

static int parse_double(const char *s, double *out)
{
    char *end;
    *out = strtod(s, &end);
    return *s && !*end ? 0 : -1;
}

static int parse_int(const char *s, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < 0 || v > 1 << 20)
        return -1;
    *out = (int)v;
    return 0;
}

static int cmd_align(int argc, char **argv)
{
    enum { O_SRC = 256, O_TGT, O_TSV, O_LINKS, O_M1, O_M2, O_PNULL, O_TENSION, O_FIXED, O_DIR,
           O_SYM, O_BEAM, O_LINKT, O_MINC, O_THREADS, O_SRCTOK, O_TGTTOK, O_CACHE };
    static const struct option longs[] = {
        {"src", required_argument, 0, O_SRC},       {"tgt", required_argument, 0, O_TGT},
        {"tsv", required_argument, 0, O_TSV},       {"out", required_argument, 0, 'o'},
        {"links", required_argument, 0, O_LINKS},   {"model1-iters", required_argument, 0, O_M1},
        {"model2-iters", required_argument, 0, O_M2}, {"p-null", required_argument, 0, O_PNULL},
        {"tension", required_argument, 0, O_TENSION}, {"fixed-tension", no_argument, 0, O_FIXED},
        {"direction", required_argument, 0, O_DIR}, {"sym", required_argument, 0, O_SYM},
        {"beam", required_argument, 0, O_BEAM},     {"link-threshold", required_argument, 0, O_LINKT},
        {"min-count", required_argument, 0, O_MINC}, {"threads", required_argument, 0, O_THREADS},
        {"src-tokenizer", required_argument, 0, O_SRCTOK}, {"cache-mb", required_argument, 0, O_CACHE},
        {"tgt-tokenizer", required_argument, 0, O_TGTTOK},
        {"verbose", no_argument, 0, 'v'},           {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    const char *src_tok = NULL, *tgt_tok = NULL;
    lg_align_opts o;
    lg_align_opts_default(&o);
    const char *src = NULL, *tgt = NULL, *tsv = NULL, *out = NULL, *links = NULL;
    double min_count = 0.01;
    lg_error err = {{0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:vh", longs, NULL)) != -1) {
        int bad = 0;
        switch (c) {
        case O_SRC: src = optarg; break;
        case O_TGT: tgt = optarg; break;
        case O_TSV: tsv = optarg; break;
        case 'o': out = optarg; break;
        case O_LINKS: links = optarg; o.want_links = 1; break;
        case O_M1: bad = parse_int(optarg, &o.model1_iters); break;
        case O_M2: bad = parse_int(optarg, &o.model2_iters); break;
        case O_PNULL: bad = parse_double(optarg, &o.p_null); break;
        case O_TENSION: bad = parse_double(optarg, &o.tension) || o.tension <= 0; break;
        case O_FIXED: o.optimize_tension = 0; break;
        case O_DIR:
            if (!strcmp(optarg, "forward")) o.direction = LG_DIR_FORWARD;
            else if (!strcmp(optarg, "reverse")) o.direction = LG_DIR_REVERSE;
            else if (!strcmp(optarg, "both")) o.direction = LG_DIR_BOTH;
            else bad = 1;
            break;
        case O_SYM:
            if (!strcmp(optarg, "posterior")) o.sym = LG_SYM_POSTERIOR;
            else if (!strcmp(optarg, "gdfa") || !strcmp(optarg, "grow-diag-final-and")) o.sym = LG_SYM_GDFA;
            else if (!strcmp(optarg, "intersect")) o.sym = LG_SYM_INTERSECT;
            else if (!strcmp(optarg, "union")) o.sym = LG_SYM_UNION;
            else bad = 1;
            break;
        case O_BEAM: bad = parse_double(optarg, &o.beam) || o.beam < 0 || o.beam >= 1; break;
        case O_LINKT: bad = parse_double(optarg, &o.link_threshold); break;
        case O_MINC: bad = parse_double(optarg, &min_count); break;
        case O_THREADS: bad = parse_int(optarg, &o.threads) || o.threads < 1; break;
        case O_SRCTOK: src_tok = optarg; break;
        case O_CACHE: bad = parse_int(optarg, &o.cache_mb); break;
        case O_TGTTOK: tgt_tok = optarg; break;
        case 'v': o.verbose = 1; break;
        case 'h': usage_align(stdout); return 0;
        default: usage_align(stderr); return 2;
        }
        if (bad) {
            lg_fail(&err, "invalid value '%s'", optarg);
            for (const struct option *lo = longs; lo->name; lo++)
                if (lo->val == c)
                    lg_fail(&err, "invalid value '%s' for --%s", optarg, lo->name);
            lg_error_print(PROG, &err);
            return 1;
        }
    }
    if (optind < argc) {
        lg_fail(&err, "align: unexpected argument '%s'", argv[optind]);
        lg_error_print(PROG, &err);
        return 1;
    }
    if (!out || (!tsv && (!src || !tgt)) || (tsv && (src || tgt))) {
        lg_fail(&err, "align: give --out and either --src and --tgt, or --tsv (see --help)");
        lg_error_print(PROG, &err);
        return 1;
    }
    lg_parallel pc;
    lg_parallel_init(&pc);
    lg_align_result res;
    memset(&res, 0, sizeof res);
    char src_sha[65] = "", tgt_sha[65] = "";
    int rc = 0;
    if (src_tok)
        rc = lg_sha256_file(src_tok, src_sha, &err);
    if (rc == 0 && tgt_tok)
        rc = lg_sha256_file(tgt_tok, tgt_sha, &err);
    if (rc == 0)
        rc = lg_parallel_bound(&pc, src_tok, tgt_tok, &err);
    if (rc == 0)
        rc = tsv ? lg_parallel_read_tsv(&pc, tsv, &err) : lg_parallel_read(&pc, src, tgt, &err);
    if (rc == 0)
        rc = lg_align_train(&pc, &o, &res, &err);
    memcpy(res.src_tokenizer_sha256, src_sha, sizeof src_sha);
    memcpy(res.tgt_tokenizer_sha256, tgt_sha, sizeof tgt_sha);
    if (rc == 0 && links)
        rc = lg_align_write_links(&res, links, &err);
    if (rc == 0)
        rc = lg_align_write_table(&res, out, min_count, &err);
    if (rc == 0 && o.verbose)
        fprintf(stderr, "align: %lld pairs, %lld table entries, tension %.3f / %.3f\n",
                (long long)pc.n_pairs, (long long)res.nnz, res.tension[0], res.tension[1]);
    if (rc < 0 && links && rc == -1 && res.link_off)
        remove(links); /* the table failed after the links were written: leave neither */
    lg_align_result_free(&res);
    lg_parallel_free(&pc);
    if (rc < 0) {
        lg_error_print(PROG, &err);
        return 1;
    }
    return 0;
}

static void usage_init(FILE *f)
{
    fprintf(f,
            "usage: transfer init --base DIR --base-tokenizer FILE --tokenizer FILE --out PACK\n"
            "                     [--method M] [--table TABLE | --dict WORDS] [options]\n"
            "\n"
            "Gives every piece of the new tokenizer an input embedding (and an LM head row when\n"
            "the base model's head is untied) made from the base model's rows, and writes them as\n"
            "an embedding table pack (safetensors with provenance metadata).\n"
            "\n"
            "  --base DIR            base model directory (config.json, *.safetensors)\n"
            "  --base-tokenizer FILE the base model's SentencePiece .model\n"
            "  --tokenizer FILE      the new SentencePiece .model\n"
            "  -o, --out FILE        the pack to write\n"
            "  --method M            trans (default): P(src|tgt) from --table, then identical\n"
            "                          piece, related aligned pieces (trie), subtoken mean, mean;\n"
            "                        dict: the same with a table aligned from --dict;\n"
            "                        hull: identical piece, else subtoken mean;\n"
            "                        random | mvn | mean: identical piece, else a draw from\n"
            "                          N(mean, std^2) per dimension, N(mean, scale*cov), or the mean\n"
            "  --table FILE          alignment table of transfer align (src = base ids)\n"
            "  --dict FILE           `english<TAB>translation` word list for --method dict\n"
            "  --min-count C         ignore alignment entries with expected count < C (1)\n"
            "  --max-terms N         at most N base rows per combination (64)\n"
            "  --extend              the new tokenizer extends the base one: keep base rows\n"
            "  --seed N              for the random draws (1)\n"
            "  --mvn-scale S         covariance multiplier of --method mvn (1)\n"
            "  --lang CODE           ISO 639-3 language of the new tokenizer (metadata)\n"
            "  --script CODE         ISO 15924 script (metadata)\n"
            "  --dtype T             f32, bf16, f16 or base (the base embeddings' type; default)\n"
            "  --threads N           OpenMP threads\n"
            "  -v, --verbose         progress notes on stderr\n"
            "  -h, --help            this text\n");
}

static int fail_usage(const char *msg)
{
    lg_error err;
    lg_fail(&err, "%s", msg);
    lg_error_print(PROG, &err);
    return 1;
}

static int cmd_init(int argc, char **argv)
{
    enum { O_BASE = 256, O_BASETOK, O_TOK, O_METHOD, O_TABLE, O_DICT, O_MINC, O_MAXT, O_EXTEND,
           O_SEED, O_MVN, O_LANG, O_SCRIPT, O_DTYPE, O_THREADS };
    static const struct option longs[] = {
        {"base", required_argument, 0, O_BASE},     {"base-tokenizer", required_argument, 0, O_BASETOK},
        {"tokenizer", required_argument, 0, O_TOK}, {"out", required_argument, 0, 'o'},
        {"method", required_argument, 0, O_METHOD}, {"table", required_argument, 0, O_TABLE},
        {"dict", required_argument, 0, O_DICT},     {"min-count", required_argument, 0, O_MINC},
        {"max-terms", required_argument, 0, O_MAXT}, {"extend", no_argument, 0, O_EXTEND},
        {"seed", required_argument, 0, O_SEED},     {"mvn-scale", required_argument, 0, O_MVN},
        {"lang", required_argument, 0, O_LANG},     {"script", required_argument, 0, O_SCRIPT},
        {"dtype", required_argument, 0, O_DTYPE},   {"threads", required_argument, 0, O_THREADS},
        {"verbose", no_argument, 0, 'v'},           {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    lg_init_opts o;
    lg_init_opts_default(&o);
    const char *base = NULL, *base_tok_path = NULL, *tok_path = NULL, *out = NULL, *table = NULL,
               *dict = NULL, *lang = NULL, *script = NULL, *dtype_name = "base";
    int threads = 0, verbose = 0;
    lg_error err = {{0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:vh", longs, NULL)) != -1) {
        int bad = 0;
        double d;
        switch (c) {
        case O_BASE: base = optarg; break;
        case O_BASETOK: base_tok_path = optarg; break;
        case O_TOK: tok_path = optarg; break;
        case 'o': out = optarg; break;
        case O_METHOD: bad = lg_init_method_parse(optarg, &o.method); break;
        case O_TABLE: table = optarg; break;
        case O_DICT: dict = optarg; break;
        case O_MINC: bad = parse_double(optarg, &o.min_count) || o.min_count < 0; break;
        case O_MAXT: bad = parse_int(optarg, &o.max_terms) || o.max_terms < 1; break;
        case O_EXTEND: o.extend = 1; break;
        case O_SEED: bad = parse_double(optarg, &d) || d < 0; o.seed = (uint64_t)d; break;
        case O_MVN: bad = parse_double(optarg, &o.mvn_scale) || o.mvn_scale <= 0; break;
        case O_LANG: lang = optarg; break;
        case O_SCRIPT: script = optarg; break;
        case O_DTYPE: dtype_name = optarg; break;
        case O_THREADS: bad = parse_int(optarg, &threads) || threads < 1; break;
        case 'v': verbose = 1; break;
        case 'h': usage_init(stdout); return 0;
        default: usage_init(stderr); return 2;
        }
        if (bad) {
            lg_fail(&err, "init: invalid value '%s'", optarg);
            lg_error_print(PROG, &err);
            return 1;
        }
    }
    if (optind < argc)
        return fail_usage("init: unexpected argument (see --help)");
    if (!base || !base_tok_path || !tok_path || !out)
        return fail_usage("init: give --base, --base-tokenizer, --tokenizer and --out (see --help)");
    if (o.method == LG_INIT_TRANS && !table)
        return fail_usage("init: --method trans needs --table (from transfer align)");
    if (o.method == LG_INIT_DICT && !dict)
        return fail_usage("init: --method dict needs --dict (english<TAB>translation lines)");
    lg_dtype dtype = LG_DT_F32;
    int dtype_from_base = !strcmp(dtype_name, "base");
    if (!dtype_from_base) {
        if (!strcmp(dtype_name, "f32")) dtype = LG_DT_F32;
        else if (!strcmp(dtype_name, "bf16")) dtype = LG_DT_BF16;
        else if (!strcmp(dtype_name, "f16")) dtype = LG_DT_F16;
        else return fail_usage("init: --dtype is f32, bf16, f16 or base");
    }
    if (threads > 0)
        omp_set_num_threads(threads);

    lg_spm *base_tok = NULL, *new_tok = NULL;
    lg_weights *w = NULL;
    lg_align_result tab;
    memset(&tab, 0, sizeof tab);
    lg_init_plan plan;
    memset(&plan, 0, sizeof plan);
    float *embed = NULL, *head = NULL;
    char base_sha[65], new_sha[65], table_sha[65] = "";
    int rc = -1, have_table = 0;
    lg_config cfg;
    if (lg_config_load_dir(base, &cfg, &err) < 0 ||
        lg_sha256_file(base_tok_path, base_sha, &err) < 0 ||
        lg_sha256_file(tok_path, new_sha, &err) < 0 ||
        !(base_tok = lg_spm_load(base_tok_path, &err)) || !(new_tok = lg_spm_load(tok_path, &err)))
        goto done;
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
            fprintf(stderr, "%s: warning: %s names no tokenizer checksums (align with "
                    "--src-tokenizer/--tgt-tokenizer); ids are trusted as they are\n", PROG, table);
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
    if (!(w = lg_weights_open_dir(base, &err)))
        goto done;
    const lg_tensor_info *te = lg_weights_find(w, "model.embed_tokens.weight");
    const lg_tensor_info *th = cfg.tie_word_embeddings ? NULL : lg_weights_find(w, "lm_head.weight");
    if (!te) {
        lg_fail(&err, "%s: no model.embed_tokens.weight", base);
        goto done;
    }
    if (!cfg.tie_word_embeddings && !th) {
        lg_fail(&err, "%s: config.json says the head is untied but there is no lm_head.weight", base);
        goto done;
    }
    if (te->ndim != 2 || te->shape[1] != cfg.hidden_size ||
        (th && (th->ndim != 2 || th->shape[1] != cfg.hidden_size || th->shape[0] != te->shape[0]))) {
        lg_fail(&err, "%s: embedding matrices do not match hidden size %d", base, cfg.hidden_size);
        goto done;
    }
    if (dtype_from_base)
        dtype = te->dtype == LG_DT_BF16 || te->dtype == LG_DT_F16 ? te->dtype : LG_DT_F32;
    size_t cells = (size_t)plan.n_new * (size_t)cfg.hidden_size;
    embed = malloc(cells * sizeof *embed);
    head = th ? malloc(cells * sizeof *head) : NULL;
    if (!embed || (th && !head)) {
        lg_fail(&err, "out of memory for %d x %d rows", plan.n_new, cfg.hidden_size);
        goto done;
    }
    if (lg_init_materialize(&plan, te, &o, embed, &err) < 0)
        goto done;
    if (th) {
        lg_init_opts oh = o;
        oh.seed = o.seed + 1; /* independent draws for the head */
        if (lg_init_materialize(&plan, th, &oh, head, &err) < 0)
            goto done;
    }
    lg_pack_meta meta = {
        .base_model = base, .tokenizer_sha256 = new_sha, .base_tokenizer_sha256 = base_sha,
        .language = lang, .script = script, .method = lg_init_method_name(o.method),
        .table_sha256 = table_sha[0] ? table_sha : NULL, .counts = plan.counts};
    if (lg_pack_write(out, embed, head, plan.n_new, cfg.hidden_size, dtype, &meta, &err) < 0)
        goto done;
    fprintf(stderr, "init: %d rows (%s):", plan.n_new, lg_init_method_name(o.method));
    for (int s = 0; s < LG_ROW_KINDS; s++)
        if (plan.counts[s])
            fprintf(stderr, " %s %lld", lg_row_source_name((lg_row_source)s), (long long)plan.counts[s]);
    fprintf(stderr, "\n");
    rc = 0;
done:
    free(embed);
    free(head);
    lg_init_plan_free(&plan);
    lg_align_result_free(&tab);
    lg_weights_close(w);
    lg_spm_free(base_tok);
    lg_spm_free(new_tok);
    if (rc < 0) {
        lg_error_print(PROG, &err);
        return 1;
    }
    return 0;
}

static int cmd_check(int argc, char **argv)
{
    static const struct option longs[] = {
        {"pack", required_argument, 0, 'p'}, {"tokenizer", required_argument, 0, 't'},
        {"base", required_argument, 0, 'b'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *pack = NULL, *tok = NULL, *base = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
        switch (c) {
        case 'p': pack = optarg; break;
        case 't': tok = optarg; break;
        case 'b': base = optarg; break;
        case 'h':
            printf("usage: transfer check --pack PACK [--tokenizer FILE] [--base DIR]\n"
                   "\n"
                   "Checks that an embedding table pack was made for this tokenizer (sha256) and\n"
                   "fits this base model (hidden size, untied head).  Exit 0 when it does.\n");
            return 0;
        default: return 2;
        }
    }
    if (!pack)
        return fail_usage("check: give --pack (see --help)");
    lg_error err;
    if (lg_pack_check(pack, tok, base, &err) < 0) {
        lg_error_print(PROG, &err);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    lg_cli_passive_threads(argv);
    if (argc < 2) {
        usage_main(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help")) {
        usage_main(stdout);
        return 0;
    }
    if (!strcmp(cmd, "align"))
        return cmd_align(argc - 1, argv + 1);
    if (!strcmp(cmd, "init"))
        return cmd_init(argc - 1, argv + 1);
    if (!strcmp(cmd, "check"))
        return cmd_check(argc - 1, argv + 1);
    lg_error err;
    lg_fail(&err, "unknown command '%s' (try transfer --help)", cmd);
    lg_error_print(PROG, &err);
    return 2;
}
