/* `transfer align`: token translation probabilities P(src | tgt) from parallel token ids
 * (IBM Model 1, then fast_align's diagonal Model 2, both directions, symmetrised). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "lg_cli.h"
#include "lg_dist.h"
#include "lg_io.h"
#include "lg_spm.h"
#include "lg_transfer.h"
#include "transfer_cmds.h"

/* The vocabulary size and sha256 of a --src-tokenizer/--tgt-tokenizer (size 0 and no
 * checksum when path is NULL). */
int tr_cmd_align(int argc, char **argv)
{
    lg_align_opts o;
    lg_align_opts_default(&o);
    const char *src = NULL, *tgt = NULL, *tsv = NULL, *out = NULL, *links = NULL;
    const char *src_tok = NULL, *tgt_tok = NULL, *direction = "both", *sym = "posterior";
    double min_count = 0.01;
    int fixed_tension = 0, threads = 0;
    lg_opt opts[] = {
        {LG_SECTION("input")},
        {LG_INPUT(&src), .name = "src", .flags = LG_OPT_STDIO, .arg = "FILE",
         .help = "source side: the base model's token ids"},
        {LG_INPUT(&tgt), .name = "tgt", .flags = LG_OPT_STDIO, .arg = "FILE",
         .help = "target side: the new tokenizer's token ids"},
        {LG_INPUT(&tsv), .name = "tsv", .flags = LG_OPT_STDIO, .arg = "FILE",
         .help = "instead of --src/--tgt: `src ids<TAB>tgt ids` lines"},
        {LG_INPUT(&src_tok), .name = "src-tokenizer", .arg = "FILE",
         .help = "the tokenizer (.model or tokenizer.json) that\nmade the source ids: its sha256 is "
                 "recorded and every source id must be in it"},
        {LG_INPUT(&tgt_tok), .name = "tgt-tokenizer", .arg = "FILE",
         .help = "the same for the target ids (transfer init checks\nthe checksums)"},
        {LG_SECTION("output")},
        {LG_OUTPUT(&out), .name = "out", .short_name = 'o', .flags = LG_OPT_REQUIRED,
         .arg = "TABLE", .help = "the translation table: tgt_id, src_id, P(src|tgt),\n"
                                 "expected count"},
        {LG_OUTPUT(&links), .name = "links", .arg = "FILE",
         .help = "also Pharaoh `i-j` links (src i, tgt j), a line a pair"},
        {LG_DOUBLE(&min_count), .name = "min-count", .min = 0, .max = INFINITY, .arg = "C",
         .help = "write only entries with expected count >= C"},
        {LG_SECTION("model")},
        {LG_INT(&o.model1_iters), .name = "model1-iters", .min = 0, .max = 1000, .arg = "N",
         .help = "IBM Model 1 iterations"},
        {LG_INT(&o.model2_iters), .name = "model2-iters", .min = 0, .max = 1000, .arg = "N",
         .help = "diagonal Model 2 iterations after them (0: Model 1\nonly; the two add up to >= 1)"},
        {LG_DOUBLE(&o.p_null), .name = "p-null", .min = 0, .max = 1,
         .flags = LG_OPT_MIN_OPEN | LG_OPT_MAX_OPEN, .arg = "P",
         .help = "Model 2 NULL alignment probability, in (0, 1)"},
        {LG_DOUBLE(&o.tension), .name = "tension", .min = 0, .max = 1000,
         .flags = LG_OPT_MIN_OPEN, .arg = "T", .help = "initial diagonal tension"},
        {LG_FLAG(&fixed_tension), .name = "fixed-tension", .help = "do not re-estimate the tension"},
        {LG_CHOICE(&direction), .name = "direction", .choices = "forward|reverse|both",
         .arg = "D", .help = "forward (tgt from src), reverse, or both"},
        {LG_CHOICE(&sym), .name = "sym", .choices = "posterior|gdfa|grow-diag-final-and|intersect|union",
         .arg = "S", .help = "combine directions: posterior (mean of the\n"
                             "posteriors), gdfa (grow-diag-final-and), intersect,\nunion"},
        {LG_DOUBLE(&o.beam), .name = "beam", .min = 0, .max = 1, .flags = LG_OPT_MAX_OPEN,
         .arg = "B", .help = "prune t(g|c) < B * row max after each iteration,\n"
                             "in [0, 1) (0: off)"},
        {LG_DOUBLE(&o.link_threshold), .name = "link-threshold", .min = 0, .max = 1, .arg = "X",
         .help = "posterior links: mean posterior >= X, in [0, 1]"},
        {LG_SECTION("resources")},
        LG_THREADS_OPT(&threads),
        {LG_INT(&o.cache_mb), .name = "cache-mb", .min = 0, .max = 1 << 20, .arg = "N",
         .help = "memory for cached table positions (0: search)"},
        {LG_FLAG(&o.verbose), .name = "verbose", .short_name = 'v',
         .help = "one line per EM iteration on stderr"},
        {0}};
    lg_cli c = {.prog = "transfer", .name = "align", .opts = opts,
                .usage = "(--src FILE --tgt FILE | --tsv FILE) -o TABLE [options]",
                .about = "Aligns line-aligned token ids (one segment a line, space-separated ids, as\n"
                         "`spm_encode --output_format=id` prints; plain or gzip; - is stdin) with\n"
                         "IBM Model 1 and then fast_align's diagonal Model 2, in both directions,\n"
                         "symmetrised. Writes `tgt_id<TAB>src_id<TAB>P(src|tgt)<TAB>count` lines\n"
                         "after `#` lines naming the tokenizers' sha256.\n%s"};
    char about[1024];
    snprintf(about, sizeof about, c.about,
             lg_dist_available()
                 ? "Under mpirun or srun each rank aligns a share of the pairs (expected counts\n"
                   "summed with MPI); rank 0 writes. Same table for any threads and ranks."
                 : "This build has no MPI: one process. Same table for any --threads.");
    c.about = about;
    int rc = lg_cli_parse(&c, argc, argv);
    if (rc != LG_CLI_RUN)
        return rc;
    if (tsv ? (src || tgt) : (!src || !tgt))
        return lg_cli_finish(&c, lg_cli_usage(&c, "give either --src and --tgt, or --tsv"));
    if (src && tgt && !strcmp(src, "-") && !strcmp(tgt, "-"))
        return lg_cli_finish(&c, lg_cli_usage(&c, "at most one of --src and --tgt can be -"));
    if (o.model1_iters + o.model2_iters < 1)
        return lg_cli_finish(&c, lg_cli_usage(&c, "--model1-iters and --model2-iters are both 0"));
    if (links && !strcmp(links, out))
        return lg_cli_finish(&c, lg_cli_usage(&c, "--links: %s is also the table (-o)", links));
    o.optimize_tension = !fixed_tension;
    o.want_links = links != NULL;
    o.threads = lg_cli_threads(threads);
    o.direction = !strcmp(direction, "forward")   ? LG_DIR_FORWARD
                  : !strcmp(direction, "reverse") ? LG_DIR_REVERSE
                                                  : LG_DIR_BOTH;
    o.sym = !strcmp(sym, "posterior")   ? LG_SYM_POSTERIOR
            : !strcmp(sym, "intersect") ? LG_SYM_INTERSECT
            : !strcmp(sym, "union")     ? LG_SYM_UNION
                                        : LG_SYM_GDFA;

    lg_error err = {{0}};
    /* MPI: every rank reads the corpus and aligns its share; rank 0 alone writes */
    if (lg_dist_init(&err) < 0)
        return lg_cli_finish(&c, lg_cli_fail(&c, &err));
    const int writer = lg_dist_rank() == 0;
    if (!writer)
        o.verbose = 0;
    lg_parallel pc;
    lg_parallel_init(&pc);
    lg_align_result res;
    memset(&res, 0, sizeof res);
    char src_sha[65] = "", tgt_sha[65] = "";
    rc = 0;
    if (src_tok)
        rc = lg_sha256_file(src_tok, src_sha, &err);
    if (rc == 0 && tgt_tok)
        rc = lg_sha256_file(tgt_tok, tgt_sha, &err);
    /* ids bounded by the tokenizers while reading (file and line named), so that an id of
     * 2·10^9 never sizes anything */
    if (rc == 0)
        rc = lg_parallel_bound(&pc, src_tok, tgt_tok, &err);
    if (rc == 0)
        rc = tsv ? lg_parallel_read_tsv(&pc, tsv, &err) : lg_parallel_read(&pc, src, tgt, &err);
    if (rc == 0)
        rc = lg_align_train(&pc, &o, &res, &err);
    memcpy(res.src_tokenizer_sha256, src_sha, sizeof src_sha);
    memcpy(res.tgt_tokenizer_sha256, tgt_sha, sizeof tgt_sha);
    int links_written = 0;
    if (rc == 0 && writer && links && (rc = lg_align_write_links(&res, links, &err)) == 0)
        links_written = 1;
    if (rc == 0 && writer)
        rc = lg_align_write_table(&res, out, min_count, &err);
    if (rc == 0 && o.verbose)
        fprintf(stderr, "transfer align: %lld pairs, %lld table entries, tension %.3f / %.3f\n",
                (long long)pc.n_pairs, (long long)res.nnz, res.tension[0], res.tension[1]);
    if (rc < 0 && links_written)
        remove(links); /* the table failed after the links were written: leave neither */
    lg_align_result_free(&res);
    lg_parallel_free(&pc);
    rc = lg_cli_finish(&c, rc < 0 ? lg_cli_fail(&c, &err) : 0);
    if (rc != 0 && lg_dist_size() > 1)
        lg_dist_abort(rc); /* the other ranks may be waiting for this one */
    lg_dist_finalize();
    return rc;
}
