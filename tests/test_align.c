/* The aligner: recovers a known dictionary from a synthetic corpus, gives the same table
 * for any thread count, rejects malformed parallel files, symmetrises and scores links as defined. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lg_transfer.h"

enum { VOCAB = 200, NOISE_VOCAB = 30, PAIRS = 3000 };

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Source token s translates to target token dict[s] (a permutation of 0..VOCAB-1);
 * frequencies Zipf-like; the target side swaps neighbours (p 0.2), inserts a noise token
 * from VOCAB.. (p 0.3 a sentence) and drops a token (p 0.05 a token). */
static void make_corpus(lg_parallel *pc, int *dict, int *occurrences)
{
    uint64_t rng = 88172645463325252ULL;
    for (int s = 0; s < VOCAB; s++)
        dict[s] = s;
    for (int s = VOCAB - 1; s > 0; s--) {
        int r = (int)(rng_next(&rng) % (uint64_t)(s + 1));
        int t = dict[s];
        dict[s] = dict[r];
        dict[r] = t;
    }
    double cdf[VOCAB], z = 0;
    for (int s = 0; s < VOCAB; s++)
        z += 1.0 / (s + 1);
    double acc = 0;
    for (int s = 0; s < VOCAB; s++) {
        acc += 1.0 / (s + 1) / z;
        cdf[s] = acc;
    }
    memset(occurrences, 0, VOCAB * sizeof *occurrences);
    lg_parallel_init(pc);
    for (int k = 0; k < PAIRS; k++) {
        int32_t src[20], tgt[24];
        int n = 4 + (int)(rng_next(&rng) % 12), m = 0;
        for (int i = 0; i < n; i++) {
            double u = (double)(rng_next(&rng) >> 11) / 9007199254740992.0;
            int s = 0;
            while (s < VOCAB - 1 && cdf[s] < u)
                s++;
            src[i] = s;
            if (rng_next(&rng) % 100 >= 5) {
                tgt[m++] = dict[s];
                occurrences[s]++;
            }
        }
        for (int i = 0; i + 1 < m; i++)
            if (rng_next(&rng) % 100 < 20) {
                int32_t t = tgt[i];
                tgt[i] = tgt[i + 1];
                tgt[i + 1] = t;
                i++;
            }
        if (rng_next(&rng) % 100 < 30)
            tgt[m++] = VOCAB + (int)(rng_next(&rng) % NOISE_VOCAB);
        if (m == 0)
            tgt[m++] = dict[src[0]];
        lg_error err;
        assert_int_equal(lg_parallel_add(pc, src, n, tgt, m, &err), 0);
    }
}

/* Fraction of dictionary entries (seen >= 5 times) for which the most probable source of
 * dict[s] is s. */
static double recovered(const lg_align_result *res, const int *dict, const int *occ)
{
    int ok = 0, n = 0;
    for (int s = 0; s < VOCAB; s++) {
        if (occ[s] < 5)
            continue;
        n++;
        int t = dict[s];
        int best = -1;
        double bc = -1;
        for (int64_t k = res->row[t]; k < res->row[t + 1]; k++)
            if (res->count[k] > bc) {
                bc = res->count[k];
                best = res->src[k];
            }
        ok += best == s;
    }
    assert_true(n > 50);
    return (double)ok / n;
}

static void recovers_known_dictionary(void **state)
{
    (void)state;
    lg_parallel pc;
    int dict[VOCAB], occ[VOCAB];
    make_corpus(&pc, dict, occ);
    static const lg_align_direction dirs[] = {LG_DIR_FORWARD, LG_DIR_REVERSE, LG_DIR_BOTH};
    for (int d = 0; d < 3; d++) {
        lg_align_opts o;
        lg_align_opts_default(&o);
        o.direction = dirs[d];
        o.threads = 2;
        lg_align_result res;
        lg_error err;
        assert_int_equal(lg_align_train(&pc, &o, &res, &err), 0);
        double r = recovered(&res, dict, occ);
        printf("direction %d: %.3f of the dictionary recovered\n", d, r);
        assert_true(r >= 0.97);
        /* P(src | tgt) of a recovered entry dominates its row */
        int t = dict[0];
        double total = lg_align_row_total(&res, t), best = 0;
        for (int64_t k = res.row[t]; k < res.row[t + 1]; k++)
            if (res.src[k] == 0)
                best = res.count[k] / total;
        assert_true(best > 0.8);
        lg_align_result_free(&res);
    }
    lg_parallel_free(&pc);
}

static void model1_only_also_recovers(void **state)
{
    (void)state;
    lg_parallel pc;
    int dict[VOCAB], occ[VOCAB];
    make_corpus(&pc, dict, occ);
    lg_align_opts o;
    lg_align_opts_default(&o);
    o.model2_iters = 0;
    o.direction = LG_DIR_FORWARD;
    o.threads = 1;
    lg_align_result res;
    lg_error err;
    assert_int_equal(lg_align_train(&pc, &o, &res, &err), 0);
    assert_true(recovered(&res, dict, occ) >= 0.9);
    assert_true(res.tension[0] == 0);
    lg_align_result_free(&res);
    lg_parallel_free(&pc);
}

static void same_for_any_thread_count(void **state)
{
    (void)state;
    lg_parallel pc;
    int dict[VOCAB], occ[VOCAB];
    make_corpus(&pc, dict, occ);
    lg_align_opts o;
    lg_align_opts_default(&o);
    o.threads = 2;
    o.want_links = 1;
    lg_align_result a, b, c;
    lg_error err;
    assert_int_equal(lg_align_train(&pc, &o, &a, &err), 0);
    assert_int_equal(lg_align_train(&pc, &o, &b, &err), 0);
    assert_int_equal(a.nnz, b.nnz);
    assert_memory_equal(a.src, b.src, (size_t)a.nnz * sizeof *a.src);
    assert_memory_equal(a.count, b.count, (size_t)a.nnz * sizeof *a.count);
    assert_memory_equal(a.link_off, b.link_off, (size_t)(a.n_pairs + 1) * sizeof *a.link_off);
    /* one thread and three: the counts are summed in fixed point, so the order of the
     * additions does not matter and the table and links are the same, bit for bit */
    for (int threads = 1; threads <= 3; threads += 2) {
        o.threads = threads;
        assert_int_equal(lg_align_train(&pc, &o, &c, &err), 0);
        assert_int_equal(a.nnz, c.nnz);
        assert_memory_equal(a.row, c.row, (size_t)(a.tgt_vocab + 1) * sizeof *a.row);
        assert_memory_equal(a.src, c.src, (size_t)a.nnz * sizeof *a.src);
        assert_memory_equal(a.count, c.count, (size_t)a.nnz * sizeof *a.count);
        assert_memory_equal(a.link_off, c.link_off, (size_t)(a.n_pairs + 1) * sizeof *a.link_off);
        assert_memory_equal(a.link_src, c.link_src, (size_t)a.link_off[a.n_pairs] * sizeof *a.link_src);
        assert_memory_equal(a.link_tgt, c.link_tgt, (size_t)a.link_off[a.n_pairs] * sizeof *a.link_tgt);
        assert_true(a.tension[0] == c.tension[0] && a.tension[1] == c.tension[1]);
        if (threads == 1)
            lg_align_result_free(&c);
    }
    lg_align_result_free(&a);
    lg_align_result_free(&b);
    lg_align_result_free(&c);
    lg_parallel_free(&pc);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void rejects_bad_parallel_files(void **state)
{
    (void)state;
    const char *a = "build/test_align_a.ids", *b = "build/test_align_b.ids";
    lg_parallel pc;
    lg_error err;

    write_file(a, "1 2 3\n4 5\n6\n");
    write_file(b, "7 8\n9\n");
    lg_parallel_init(&pc);
    assert_int_equal(lg_parallel_read(&pc, a, b, &err), -1);
    assert_non_null(strstr(err.msg, a));
    assert_non_null(strstr(err.msg, b));
    assert_non_null(strstr(err.msg, "3 lines"));
    assert_non_null(strstr(err.msg, "2"));
    lg_parallel_free(&pc);

    write_file(b, "7 8\n\n9\n");
    lg_parallel_init(&pc);
    assert_int_equal(lg_parallel_read(&pc, a, b, &err), -1);
    assert_non_null(strstr(err.msg, "b.ids:2: empty line"));
    lg_parallel_free(&pc);

    write_file(b, "7 8\n9 x10\n9\n");
    lg_parallel_init(&pc);
    assert_int_equal(lg_parallel_read(&pc, a, b, &err), -1);
    assert_non_null(strstr(err.msg, "b.ids:2"));
    assert_non_null(strstr(err.msg, "x10"));
    lg_parallel_free(&pc);

    write_file(b, "7 8\n9 -1\n9\n");
    lg_parallel_init(&pc);
    assert_int_equal(lg_parallel_read(&pc, a, b, &err), -1);
    assert_non_null(strstr(err.msg, "-1"));
    lg_parallel_free(&pc);

    /* both sides empty is a pair with nothing to align, not an error */
    write_file(a, "1 2 3\n\n6\n");
    write_file(b, "7 8\n\n9\n");
    lg_parallel_init(&pc);
    assert_int_equal(lg_parallel_read(&pc, a, b, &err), 0);
    assert_int_equal(pc.n_pairs, 3);
    assert_int_equal(pc.src_vocab, 7);
    assert_int_equal(pc.tgt_vocab, 10);
    lg_parallel_free(&pc);

    write_file(a, "1 2\t3\n4 5 6\n");
    lg_parallel_init(&pc);
    assert_int_equal(lg_parallel_read_tsv(&pc, a, &err), -1);
    assert_non_null(strstr(err.msg, ":2: no tab"));
    lg_parallel_free(&pc);
    unlink(a);
    unlink(b);
}

static void has_link(const unsigned char *grid, int n_tgt, int i, int j)
{
    assert_int_equal(grid[i * n_tgt + j], 1);
}

static void symmetrizes_as_koehn(void **state)
{
    (void)state;
    /* 3 src x 3 tgt.  forward: tgt0<-src0, tgt1<-src2, tgt2<-src2;
     * reverse: src0->tgt0, src1->tgt1, src2->tgt2.  Intersection {0-0, 2-2};
     * grow-diag visits 0-0 first and adds its diagonal neighbour 1-1 (in the union, src1
     * unaligned); then 2-1 has both ends aligned and stays out. */
    int fwd[3] = {0, 2, 2}, rev[3] = {0, 1, 2};
    unsigned char g[9];
    lg_align_symmetrize(LG_SYM_INTERSECT, 3, 3, fwd, rev, g);
    assert_int_equal(g[0] + g[1] + g[2] + g[3] + g[4] + g[5] + g[6] + g[7] + g[8], 2);
    has_link(g, 3, 0, 0);
    has_link(g, 3, 2, 2);
    lg_align_symmetrize(LG_SYM_UNION, 3, 3, fwd, rev, g);
    assert_int_equal(g[0] + g[1] + g[2] + g[3] + g[4] + g[5] + g[6] + g[7] + g[8], 4);
    lg_align_symmetrize(LG_SYM_GDFA, 3, 3, fwd, rev, g);
    has_link(g, 3, 0, 0);
    has_link(g, 3, 2, 2);
    has_link(g, 3, 1, 1);
    assert_int_equal(g[0] + g[1] + g[2] + g[3] + g[4] + g[5] + g[6] + g[7] + g[8], 3);

    /* final-and: a union link far from the rest joins only when both ends are unaligned:
     * 4 src x 4 tgt, intersection {0-0}; forward also tgt3<-src3 (both unaligned: added);
     * reverse src1->tgt0 (tgt0 already aligned, not adjacent diagonally? it is: 1-0 is a
     * neighbour of 0-0 with src1 unaligned, so grow adds it). */
    int fwd2[4] = {0, -1, -1, 3}, rev2[4] = {0, 0, -1, -1};
    unsigned char h[16];
    lg_align_symmetrize(LG_SYM_GDFA, 4, 4, fwd2, rev2, h);
    int n = 0;
    for (int k = 0; k < 16; k++)
        n += h[k];
    assert_int_equal(n, 3);
    has_link(h, 4, 0, 0);
    has_link(h, 4, 1, 0);
    has_link(h, 4, 3, 3);
}

static void aer_matches_definition(void **state)
{
    (void)state;
    /* S = {0-0, 1-1}, P = S + {1-2}; A = {0-0, 1-2, 2-2}:
     * |A∩S| = 1, |A∩P| = 2, AER = 1 - 3/5 = 0.4 */
    int64_t sure[] = {0 * 65536 + 0, 1 * 65536 + 1};
    int64_t poss[] = {0 * 65536 + 0, 1 * 65536 + 1, 1 * 65536 + 2};
    int64_t a[] = {0 * 65536 + 0, 1 * 65536 + 2, 2 * 65536 + 2};
    lg_aer_counts c = {0};
    lg_aer_add(&c, a, 3, sure, 2, poss, 3);
    assert_true(fabs(lg_aer(&c) - 0.4) < 1e-12);
    lg_aer_add(&c, sure, 2, sure, 2, poss, 3); /* a perfect sentence lowers it */
    assert_true(fabs(lg_aer(&c) - (1 - 7.0 / 9)) < 1e-12);
}

static void table_round_trip(void **state)
{
    (void)state;
    lg_parallel pc;
    int dict[VOCAB], occ[VOCAB];
    make_corpus(&pc, dict, occ);
    lg_align_opts o;
    lg_align_opts_default(&o);
    o.threads = 2;
    o.model1_iters = 3;
    o.model2_iters = 2;
    lg_align_result res, back;
    lg_error err;
    assert_int_equal(lg_align_train(&pc, &o, &res, &err), 0);
    const char *path = "build/test_align_table.tsv";
    assert_int_equal(lg_align_write_table(&res, path, 0.5, &err), 0);
    assert_int_equal(lg_align_read_table(path, &back, &err), 0);
    /* every entry with count >= 0.5 survives; probabilities of a row sum to 1 */
    int64_t kept = 0;
    for (int64_t k = 0; k < res.nnz; k++)
        kept += res.count[k] >= 0.5;
    assert_int_equal(back.nnz, kept);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    int t, s, prev = -1, comments = 0;
    double p, c, sum = 0;
    char line[256];
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#') {
            comments++;
            continue;
        }
        assert_int_equal(sscanf(line, "%d\t%d\t%lf\t%lf", &t, &s, &p, &c), 4);
        if (t != prev) {
            if (prev >= 0)
                assert_true(fabs(sum - 1) < 1e-4);
            sum = 0;
            prev = t;
        }
        sum += p;
    }
    fclose(f);
    assert_int_equal(comments, 1); /* no tokenizer checksums known here */
    assert_true(prev >= 0);
    assert_true(fabs(sum - 1) < 1e-4);
    lg_align_result_free(&back);
    write_file(path, "3\t4\t0.5\n");
    assert_int_equal(lg_align_read_table(path, &back, &err), -1);
    assert_non_null(strstr(err.msg, ":1:"));
    unlink(path);
    lg_align_result_free(&res);
    lg_parallel_free(&pc);
}

/* Ids are bounded by the tokenizers that made them (or, without one, by
 * LG_PARALLEL_MAX_IDS): the aligner's memory follows the largest id, so one id of 2·10^9
 * took over 7 GB. Refused as read, naming file, line and tokenizer. */
static void ids_are_bounded(void **state)
{
    (void)state;
    const char *a = "build/test_align_bound_a.ids", *b = "build/test_align_bound_b.ids";
    const char *tok = "tests/data/gguf/tiny301.model";
    lg_parallel pc;
    lg_error err = {{0}};
    write_file(a, "1 2 3\n4 5\n");
    write_file(b, "7 8\n9 2000000000\n");
    lg_parallel_init(&pc);
    assert_int_equal(lg_parallel_bound(&pc, tok, tok, &err), 0);
    assert_int_equal(pc.src_limit, 301);
    assert_int_equal(lg_parallel_read(&pc, a, b, &err), -1);
    assert_non_null(strstr(err.msg, "test_align_bound_b.ids:2: token id 2000000000"));
    assert_non_null(strstr(err.msg, "tiny301.model (301 pieces)"));
    lg_parallel_free(&pc);
    write_file(b, "7 8\n9 301\n");
    lg_parallel_init(&pc);
    assert_int_equal(lg_parallel_bound(&pc, NULL, tok, &err), 0);
    assert_int_equal(lg_parallel_read(&pc, a, b, &err), -1);
    assert_non_null(strstr(err.msg, ":2: token id 301"));
    lg_parallel_free(&pc);
    /* without a tokenizer: the fixed bound, digits beyond any integer type included */
    write_file(b, "7 8\n9 123456789012345678901234567890\n");
    lg_parallel_init(&pc);
    assert_int_equal(lg_parallel_read(&pc, a, b, &err), -1);
    assert_non_null(strstr(err.msg, ":2: token id 123456789012345678901234"));
    lg_parallel_free(&pc);
    write_file(b, "7 8\n9 16777216\n");
    lg_parallel_init(&pc);
    assert_int_equal(lg_parallel_read(&pc, a, b, &err), -1);
    lg_parallel_free(&pc);
    write_file(b, "7 8\n9 16777215\n");
    lg_parallel_init(&pc);
    assert_int_equal(lg_parallel_read(&pc, a, b, &err), 0);
    lg_parallel_free(&pc);
    /* the library entry checks too */
    lg_parallel_init(&pc);
    pc.tgt_limit = 10;
    const int32_t src[2] = {1, 2}, tgt[2] = {3, 10};
    assert_int_equal(lg_parallel_add(&pc, src, 2, tgt, 2, &err), -1);
    assert_non_null(strstr(err.msg, "target token id 10"));
    lg_parallel_free(&pc);
    unlink(a);
    unlink(b);
}

/* A table's probabilities and counts are numbers a distribution can have. */
static void table_values_are_checked(void **state)
{
    (void)state;
    const char *path = "build/test_align_values.tsv";
    const char *bad[] = {"3\t4\tnan\t2\n", "3\t4\t-0.1\t2\n", "3\t4\t1.5\t2\n",
                         "3\t4\t0.5\tnan\n", "3\t4\t0.5\t-1\n", "3\t4\t0.5\tinf\n",
                         "2000000000\t4\t0.5\t1\n", "3\t99999999999\t0.5\t1\n",
                         "3\t4\t0.5\t1\textra\n", "3 \t4\t0.5\t1\n"};
    lg_align_result res;
    lg_error err = {{0}};
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        char text[128];
        snprintf(text, sizeof text, "# a table\n1\t2\t1\t3\n%s", bad[k]);
        write_file(path, text);
        assert_int_equal(lg_align_read_table(path, &res, &err), -1);
        assert_non_null(strstr(err.msg, "test_align_values.tsv:3:"));
    }
    write_file(path, "# a table\n1\t2\t1\t3\n3\t4\t0.25\t0.5\r\n");
    assert_int_equal(lg_align_read_table(path, &res, &err), 0);
    assert_int_equal(res.nnz, 2);
    lg_align_result_free(&res);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(recovers_known_dictionary),
        cmocka_unit_test(model1_only_also_recovers),
        cmocka_unit_test(same_for_any_thread_count),
        cmocka_unit_test(rejects_bad_parallel_files),
        cmocka_unit_test(symmetrizes_as_koehn),
        cmocka_unit_test(aer_matches_definition),
        cmocka_unit_test(table_round_trip),
        cmocka_unit_test(ids_are_bounded),
        cmocka_unit_test(table_values_are_checked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
