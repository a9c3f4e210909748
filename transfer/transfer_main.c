/* transfer — token alignment of parallel text and initialisation of new-language embeddings.
 *
 *   transfer align --src en.ids --tgt nl.ids --out table.tsv [--links links.txt]
 *   transfer init ...   (see transfer init --help) */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lg_align.h"
#include "lg_error.h"

static const char *const PROG = "transfer";

static void usage_main(FILE *f)
{
    fprintf(f,
            "usage: transfer COMMAND [options]\n"
            "\n"
            "commands:\n"
            "  align   learn token translation probabilities P(src | tgt) from parallel token ids\n"
            "  init    initialise the new tokenizer's embeddings (trans-tokenization, hull, ...)\n"
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
            "  --min-count C         write only entries with expected count >= C (0)\n"
            "  --threads N           OpenMP threads (default: all); results are identical\n"
            "                        for the same thread count\n"
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
           O_SYM, O_BEAM, O_LINKT, O_MINC, O_THREADS };
    static const struct option longs[] = {
        {"src", required_argument, 0, O_SRC},       {"tgt", required_argument, 0, O_TGT},
        {"tsv", required_argument, 0, O_TSV},       {"out", required_argument, 0, 'o'},
        {"links", required_argument, 0, O_LINKS},   {"model1-iters", required_argument, 0, O_M1},
        {"model2-iters", required_argument, 0, O_M2}, {"p-null", required_argument, 0, O_PNULL},
        {"tension", required_argument, 0, O_TENSION}, {"fixed-tension", no_argument, 0, O_FIXED},
        {"direction", required_argument, 0, O_DIR}, {"sym", required_argument, 0, O_SYM},
        {"beam", required_argument, 0, O_BEAM},     {"link-threshold", required_argument, 0, O_LINKT},
        {"min-count", required_argument, 0, O_MINC}, {"threads", required_argument, 0, O_THREADS},
        {"verbose", no_argument, 0, 'v'},           {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    lg_align_opts o;
    lg_align_opts_default(&o);
    const char *src = NULL, *tgt = NULL, *tsv = NULL, *out = NULL, *links = NULL;
    double min_count = 0;
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
    int rc = tsv ? lg_parallel_read_tsv(&pc, tsv, &err) : lg_parallel_read(&pc, src, tgt, &err);
    if (rc == 0)
        rc = lg_align_train(&pc, &o, &res, &err);
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

int main(int argc, char **argv)
{
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
    lg_error err;
    lg_fail(&err, "unknown command '%s' (try transfer --help)", cmd);
    lg_error_print(PROG, &err);
    return 2;
}
