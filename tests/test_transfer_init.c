/* transfer init: each method's defining property on a small synthetic base model with
 * SentencePiece tokenizers trained on real English and Dutch text:
 * special tokens and identical pieces copied, trans-tokenization rows the convex
 * combination P(src | tgt) gives (weights summing to 1, inside the base rows' hull),
 * subtoken means made of exactly the base pieces of the text, related aligned pieces found
 * through the trie, baselines matching base statistics, --extend keeping base rows,
 * and the pack's round trip and checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "lg_transfer.h"
#include "lg_model.h"
#include "lg_rng.h"
#include "lg_safetensors.h"
#include "lg_io.h"
#include "lg_spm.h"

#define TRAIN "tests/data/transfer/en-nl-train.tsv.gz"
#define DIR "build/test_transfer_init"
#define HIDDEN 8

typedef struct {
    char **lines;
    int n, next;
} line_source;

static int next_line(void *ctx, const char **line, size_t *len, lg_error *err)
{
    (void)err;
    line_source *s = ctx;
    if (s->next >= s->n)
        return 0;
    *line = s->lines[s->next++];
    *len = strlen(*line);
    return 1;
}

/* Shared fixture: tokenizers, base model, corpus. */
static struct {
    lg_spm *base_tok, *new_tok;
    lg_tokenizer *base_t, *new_t; /* the same files behind the tokenizer interface */
    char base_path[256], new_path[256];
    line_source en, nl;
    lg_weights *w;
    const lg_tensor_info *embed;
    float *base_rows; /* n_base x HIDDEN, as written */
    int n_base;
} fx;

static lg_spm *train(line_source *src, int vocab, const char *path)
{
    lg_spm_train_options opt;
    lg_spm_train_defaults(&opt);
    opt.vocab_size = vocab;
    opt.character_coverage = 1.0;
    opt.normalization_rule = "identity";
    src->next = 0;
    uint8_t *model;
    size_t len;
    lg_error err;
    if (lg_spm_train(&opt, next_line, src, path, &model, &len, &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        return NULL;
    }
    FILE *f = fopen(path, "wb");
    fwrite(model, 1, len, f);
    fclose(f);
    free(model);
    return lg_spm_load(path, &err);
}

static void write_base_model(const char *dir, int rows, int hidden, int tied, float **rows_out)
{
    mkdir(dir, 0755);
    lg_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.arch = LG_ARCH_LLAMA;
    strcpy(cfg.model_type, "llama");
    cfg.vocab_size = rows;
    cfg.hidden_size = hidden;
    cfg.n_layers = 1;
    cfg.n_heads = 2;
    cfg.n_kv_heads = 2;
    cfg.head_dim = hidden / 2;
    cfg.intermediate_size = 16;
    cfg.max_position_embeddings = 64;
    cfg.rms_norm_eps = 1e-5f;
    cfg.rope_theta = 10000;
    cfg.tie_word_embeddings = tied;
    cfg.bos_token_id = 1;
    cfg.eos_token_id = 2;
    cfg.pad_token_id = -1;
    strcpy(cfg.torch_dtype, "float32");
    char path[512];
    lg_error err;
    snprintf(path, sizeof path, "%s/config.json", dir);
    assert_int_equal(lg_config_write(path, &cfg, &err), 0);
    float *e = malloc((size_t)rows * hidden * sizeof *e);
    float *h = malloc((size_t)rows * hidden * sizeof *h);
    lg_rng rng;
    lg_rng_seed(&rng, 42);
    for (int i = 0; i < rows * hidden; i++) {
        e[i] = (float)(0.5 * lg_rng_normal(&rng) + 0.1 * (i % hidden));
        h[i] = (float)lg_rng_normal(&rng);
    }
    lg_st_writer *w = lg_st_writer_new();
    int64_t shape[2] = {rows, hidden};
    assert_int_equal(lg_st_writer_add_f32(w, "model.embed_tokens.weight", LG_DT_F32, 2, shape, e, &err), 0);
    if (!tied)
        assert_int_equal(lg_st_writer_add_f32(w, "lm_head.weight", LG_DT_F32, 2, shape, h, &err), 0);
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    assert_int_equal(lg_st_writer_write(w, path, &err), 0);
    lg_st_writer_free(w);
    free(h);
    if (rows_out)
        *rows_out = e;
    else
        free(e);
}

static int setup(void **state)
{
    (void)state;
    mkdir("build", 0755);
    mkdir(DIR, 0755);
    gzFile gz = gzopen(TRAIN, "rb");
    if (!gz)
        return -1;
    char line[4096];
    int cap = 4096;
    fx.en.lines = malloc(cap * sizeof(char *));
    fx.nl.lines = malloc(cap * sizeof(char *));
    while (gzgets(gz, line, sizeof line) && fx.en.n < cap) {
        line[strcspn(line, "\n")] = 0;
        char *tab = strchr(line, '\t');
        if (!tab)
            continue;
        *tab = 0;
        fx.en.lines[fx.en.n++] = strdup(line);
        fx.nl.lines[fx.nl.n++] = strdup(tab + 1);
    }
    gzclose(gz);
    snprintf(fx.base_path, sizeof fx.base_path, "%s/base.model", DIR);
    snprintf(fx.new_path, sizeof fx.new_path, "%s/new.model", DIR);
    fx.base_tok = train(&fx.en, 300, fx.base_path);
    fx.new_tok = train(&fx.nl, 400, fx.new_path);
    if (!fx.base_tok || !fx.new_tok)
        return -1;
    lg_error terr;
    if (!(fx.base_t = lg_tokenizer_load(fx.base_path, &terr)) ||
        !(fx.new_t = lg_tokenizer_load(fx.new_path, &terr)))
        return -1;
    fx.n_base = lg_spm_vocab_size(fx.base_tok);
    write_base_model(DIR "/base", fx.n_base + 4 /* padding rows, as real models have */, HIDDEN, 0,
                     &fx.base_rows);
    lg_error err;
    fx.w = lg_weights_open_dir(DIR "/base", &err);
    if (!fx.w)
        return -1;
    fx.embed = lg_weights_find(fx.w, "model.embed_tokens.weight");
    return fx.embed ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    lg_weights_close(fx.w);
    lg_spm_free(fx.base_tok);
    lg_spm_free(fx.new_tok);
    lg_tokenizer_free(fx.base_t);
    lg_tokenizer_free(fx.new_t);
    for (int i = 0; i < fx.en.n; i++) {
        free(fx.en.lines[i]);
        free(fx.nl.lines[i]);
    }
    free(fx.en.lines);
    free(fx.nl.lines);
    free(fx.base_rows);
    return 0;
}

static const float *base_row(int id)
{
    return fx.base_rows + (size_t)id * HIDDEN;
}

/* Aligns the corpus tokenised with both tokenizers. */
static void align_corpus(lg_align_result *res)
{
    lg_parallel pc;
    lg_parallel_init(&pc);
    lg_token_ids a = {0}, b = {0};
    lg_error err;
    for (int i = 0; i < fx.en.n; i++) {
        assert_int_equal(lg_spm_encode(fx.base_tok, fx.en.lines[i], strlen(fx.en.lines[i]), &a, &err), 0);
        assert_int_equal(lg_spm_encode(fx.new_tok, fx.nl.lines[i], strlen(fx.nl.lines[i]), &b, &err), 0);
        int32_t sa[512], sb[512];
        assert_true(a.n < 512 && b.n < 512);
        for (size_t k = 0; k < a.n; k++)
            sa[k] = a.ids[k];
        for (size_t k = 0; k < b.n; k++)
            sb[k] = b.ids[k];
        if (a.n && b.n)
            assert_int_equal(lg_parallel_add(&pc, sa, (int)a.n, sb, (int)b.n, &err), 0);
    }
    lg_token_ids_free(&a);
    lg_token_ids_free(&b);
    lg_align_opts o;
    lg_align_opts_default(&o);
    o.threads = 2;
    assert_int_equal(lg_align_train(&pc, &o, res, &err), 0);
    lg_parallel_free(&pc);
}

static void build(lg_init_method m, const lg_align_result *tab, lg_init_plan *plan, float **rows)
{
    lg_init_opts o;
    lg_init_opts_default(&o);
    o.method = m;
    lg_error err = {{0}};
    if (lg_init_plan_build(fx.base_t, fx.new_t, tab, &o, plan, &err) < 0)
        fail_msg("%s", err.msg);
    *rows = malloc((size_t)plan->n_new * HIDDEN * sizeof **rows);
    assert_int_equal(lg_init_materialize(plan, fx.embed, &o, *rows, &err), 0);
}

static void assert_rows_equal(const float *a, const float *b)
{
    for (int c = 0; c < HIDDEN; c++)
        assert_true(a[c] == b[c]);
}

/* Checks every combination row: weights >= 0 sum to 1, the row is that combination of
 * base rows, and (a consequence of the hull) lies inside the base rows' bounding box. */
static void assert_convex(const lg_init_plan *plan, const float *rows, int t)
{
    double sum = 0, want[HIDDEN] = {0};
    assert_true(plan->off[t + 1] > plan->off[t]);
    for (int64_t k = plan->off[t]; k < plan->off[t + 1]; k++) {
        assert_true(plan->weight[k] >= 0);
        assert_true(plan->base_id[k] >= 0 && plan->base_id[k] < fx.n_base);
        sum += plan->weight[k];
        for (int c = 0; c < HIDDEN; c++)
            want[c] += plan->weight[k] * base_row(plan->base_id[k])[c];
    }
    assert_true(fabs(sum - 1) < 1e-5);
    for (int c = 0; c < HIDDEN; c++) {
        float lo = INFINITY, hi = -INFINITY;
        for (int i = 0; i < fx.n_base; i++) {
            lo = fminf(lo, base_row(i)[c]);
            hi = fmaxf(hi, base_row(i)[c]);
        }
        const float *r = rows + (size_t)t * HIDDEN;
        assert_true(fabs(r[c] - want[c]) < 1e-5);
        assert_true(r[c] >= lo - 1e-5 && r[c] <= hi + 1e-5);
    }
}

static void specials_and_identical_pieces_are_copied(void **state)
{
    (void)state;
    static const lg_init_method ms[] = {LG_INIT_HULL, LG_INIT_RANDOM, LG_INIT_MEAN};
    for (int mi = 0; mi < 3; mi++) {
        lg_init_plan plan;
        float *rows;
        build(ms[mi], NULL, &plan, &rows);
        int copies = 0;
        for (int t = 0; t < plan.n_new; t++) {
            const float *r = rows + (size_t)t * HIDDEN;
            if (t == lg_spm_unk_id(fx.new_tok))
                assert_rows_equal(r, base_row(lg_spm_unk_id(fx.base_tok)));
            else if (t == lg_spm_bos_id(fx.new_tok))
                assert_rows_equal(r, base_row(lg_spm_bos_id(fx.base_tok)));
            else if (t == lg_spm_eos_id(fx.new_tok))
                assert_rows_equal(r, base_row(lg_spm_eos_id(fx.base_tok)));
            else {
                int same = lg_spm_piece_to_id(fx.base_tok, lg_spm_id_to_piece(fx.new_tok, t));
                if (same >= 0) {
                    assert_rows_equal(r, base_row(same));
                    assert_int_equal(plan.source[t], LG_ROW_COPY);
                    copies++;
                }
            }
        }
        assert_true(copies > 20); /* English and Dutch share many pieces */
        assert_int_equal(plan.counts[LG_ROW_COPY], copies);
        assert_int_equal(plan.counts[LG_ROW_SPECIAL], 3);
        free(rows);
        lg_init_plan_free(&plan);
    }
}

static void trans_rows_are_the_aligned_convex_combination(void **state)
{
    (void)state;
    lg_align_result tab;
    align_corpus(&tab);
    lg_init_plan plan;
    float *rows;
    build(LG_INIT_TRANS, &tab, &plan, &rows);
    assert_true(plan.counts[LG_ROW_ALIGNED] > plan.n_new / 2);
    for (int t = 0; t < plan.n_new; t++) {
        if (plan.source[t] != LG_ROW_ALIGNED && plan.source[t] != LG_ROW_TRIE &&
            plan.source[t] != LG_ROW_HULL)
            continue;
        assert_convex(&plan, rows, t);
        if (plan.source[t] != LG_ROW_ALIGNED)
            continue;
        /* the weights are P(src | t) over entries with count >= 1, renormalised */
        double total = 0;
        for (int64_t k = tab.row[t]; k < tab.row[t + 1]; k++)
            if (tab.count[k] >= 1)
                total += tab.count[k];
        for (int64_t k = plan.off[t]; k < plan.off[t + 1]; k++) {
            double c = 0;
            for (int64_t l = tab.row[t]; l < tab.row[t + 1]; l++)
                if (tab.src[l] == plan.base_id[k])
                    c = tab.count[l];
            assert_true(c >= 1);
            if (plan.off[t + 1] - plan.off[t] < 64) /* not truncated */
                assert_true(fabs(plan.weight[k] - c / total) < 1e-5);
        }
    }
    free(rows);
    lg_init_plan_free(&plan);
    lg_align_result_free(&tab);
}

static void subtoken_mean_uses_the_base_pieces_of_the_text(void **state)
{
    (void)state;
    lg_init_plan plan;
    float *rows;
    build(LG_INIT_HULL, NULL, &plan, &rows);
    assert_true(plan.counts[LG_ROW_HULL] > 100);
    int checked = 0;
    for (int t = 0; t < plan.n_new; t++) {
        if (plan.source[t] != LG_ROW_HULL)
            continue;
        assert_convex(&plan, rows, t);
        /* weights are equal shares of the encoding; with distinct pieces, each 1/n */
        int n = (int)(plan.off[t + 1] - plan.off[t]);
        const char *piece = lg_spm_id_to_piece(fx.new_tok, t);
        char text[256];
        size_t w = 0;
        for (size_t i = 0; piece[i] && w < sizeof text - 1;) {
            if (!strncmp(piece + i, "\xe2\x96\x81", 3)) {
                text[w++] = ' ';
                i += 3;
            } else
                text[w++] = piece[i++];
        }
        text[w] = 0;
        lg_token_ids ids = {0};
        lg_error err;
        assert_int_equal(lg_spm_encode(fx.base_tok, text, w, &ids, &err), 0);
        /* every base id of the combination occurs in the text's base encoding */
        for (int64_t k = plan.off[t]; k < plan.off[t + 1]; k++) {
            int found = 0;
            for (size_t i = 0; i < ids.n; i++)
                found |= ids.ids[i] == plan.base_id[k];
            assert_true(found);
        }
        assert_true((size_t)n <= ids.n);
        lg_token_ids_free(&ids);
        checked++;
    }
    assert_true(checked > 100);
    free(rows);
    lg_init_plan_free(&plan);
}

static void trie_finds_longer_aligned_pieces(void **state)
{
    (void)state;
    /* a new piece p absent from the base vocabulary and a longer new piece q starting with p;
     * a table aligning only q (to base id 7) must give p the row of base id 7 */
    int p = -1, q = -1;
    for (int a = 3; a < lg_spm_vocab_size(fx.new_tok) && p < 0; a++) {
        const char *pa = lg_spm_id_to_piece(fx.new_tok, a);
        if (strlen(pa) < 2 || lg_spm_piece_to_id(fx.base_tok, pa) >= 0)
            continue;
        for (int b = 3; b < lg_spm_vocab_size(fx.new_tok); b++) {
            const char *pb = lg_spm_id_to_piece(fx.new_tok, b);
            if (b != a && strlen(pb) > strlen(pa) && !strncmp(pb, pa, strlen(pa))) {
                p = a;
                q = b;
                break;
            }
        }
    }
    assert_true(p >= 0);
    lg_align_result tab;
    memset(&tab, 0, sizeof tab);
    tab.tgt_vocab = q + 1;
    tab.src_vocab = 8;
    tab.row = calloc((size_t)q + 2, sizeof *tab.row);
    tab.src = malloc(sizeof *tab.src);
    tab.count = malloc(sizeof *tab.count);
    for (int t = q + 1; t <= q + 1; t++)
        tab.row[t] = 1;
    tab.src[0] = 7;
    tab.count[0] = 10;
    tab.nnz = 1;
    lg_init_plan plan;
    float *rows;
    build(LG_INIT_TRANS, &tab, &plan, &rows);
    assert_int_equal(plan.source[q], LG_ROW_ALIGNED);
    assert_int_equal(plan.source[p], LG_ROW_TRIE);
    assert_int_equal(plan.off[p + 1] - plan.off[p], 1);
    assert_int_equal(plan.base_id[plan.off[p]], 7);
    assert_rows_equal(rows + (size_t)p * HIDDEN, base_row(7));
    free(rows);
    lg_init_plan_free(&plan);
    lg_align_result_free(&tab);
}

static void baselines_follow_base_statistics(void **state)
{
    (void)state;
    double mean[HIDDEN] = {0}, var[HIDDEN] = {0};
    for (int i = 0; i < fx.n_base; i++)
        for (int c = 0; c < HIDDEN; c++)
            mean[c] += base_row(i)[c] / fx.n_base;
    for (int i = 0; i < fx.n_base; i++)
        for (int c = 0; c < HIDDEN; c++)
            var[c] += pow(base_row(i)[c] - mean[c], 2) / (fx.n_base - 1);
    static const lg_init_method ms[] = {LG_INIT_MEAN, LG_INIT_RANDOM, LG_INIT_MVN};
    for (int mi = 0; mi < 3; mi++) {
        lg_init_plan plan;
        float *rows;
        build(ms[mi], NULL, &plan, &rows);
        double m[HIDDEN] = {0}, v[HIDDEN] = {0};
        int n = 0;
        for (int t = 0; t < plan.n_new; t++)
            if (plan.off[t + 1] == plan.off[t]) {
                n++;
                for (int c = 0; c < HIDDEN; c++)
                    m[c] += rows[(size_t)t * HIDDEN + c];
            }
        assert_true(n > 100);
        for (int c = 0; c < HIDDEN; c++)
            m[c] /= n;
        for (int t = 0; t < plan.n_new; t++)
            if (plan.off[t + 1] == plan.off[t])
                for (int c = 0; c < HIDDEN; c++)
                    v[c] += pow(rows[(size_t)t * HIDDEN + c] - m[c], 2) / (n - 1);
        for (int c = 0; c < HIDDEN; c++) {
            if (ms[mi] == LG_INIT_MEAN) {
                assert_true(fabs(m[c] - mean[c]) < 1e-5);
                assert_true(v[c] < 1e-10);
            } else {
                /* sample mean within 5 standard errors, variance within 40% */
                assert_true(fabs(m[c] - mean[c]) < 5 * sqrt(var[c] / n));
                assert_true(v[c] > 0.6 * var[c] && v[c] < 1.4 * var[c]);
            }
        }
        free(rows);
        lg_init_plan_free(&plan);
    }
}

static void extend_keeps_base_rows(void **state)
{
    (void)state;
    lg_init_opts o;
    lg_init_opts_default(&o);
    o.method = LG_INIT_HULL;
    o.extend = 1;
    lg_init_plan plan;
    lg_error err;
    /* the base tokenizer is an extension of itself with nothing appended */
    assert_int_equal(lg_init_plan_build(fx.base_t, fx.base_t, NULL, &o, &plan, &err), 0);
    assert_int_equal(plan.counts[LG_ROW_BASE], fx.n_base);
    float *rows = malloc((size_t)plan.n_new * HIDDEN * sizeof *rows);
    assert_int_equal(lg_init_materialize(&plan, fx.embed, &o, rows, &err), 0);
    for (int t = 0; t < plan.n_new; t++)
        assert_rows_equal(rows + (size_t)t * HIDDEN, base_row(t));
    free(rows);
    lg_init_plan_free(&plan);
    /* a tokenizer that is not an extension is refused */
    assert_int_equal(lg_init_plan_build(fx.base_t, fx.new_t, NULL, &o, &plan, &err), -1);
    assert_non_null(strstr(err.msg, "not an extension"));
}

/* Rows made straight into bf16/f16 are the float32 rows rounded as the writer rounds them
 * (a bf16 table is never held as float32 whole); every kind of row (mean, random draws). */
static void rows_made_in_the_written_dtype(void **state)
{
    (void)state;
    lg_init_opts o;
    lg_init_opts_default(&o);
    o.method = LG_INIT_RANDOM;
    lg_init_plan plan;
    lg_error err;
    assert_int_equal(lg_init_plan_build(fx.base_t, fx.new_t, NULL, &o, &plan, &err), 0);
    const size_t cells = (size_t)plan.n_new * HIDDEN;
    float *f = malloc(cells * sizeof *f);
    uint16_t *h = malloc(cells * sizeof *h);
    assert_int_equal(lg_init_materialize(&plan, fx.embed, &o, f, &err), 0);
    const lg_dtype dts[2] = {LG_DT_BF16, LG_DT_F16};
    for (int d = 0; d < 2; d++) {
        assert_int_equal(lg_init_materialize_as(&plan, fx.embed, &o, h, dts[d], &err), 0);
        for (size_t i = 0; i < cells; i++)
            assert_int_equal(h[i], d ? lg_f32_to_f16(f[i]) : lg_f32_to_bf16(f[i]));
    }
    assert_int_equal(lg_init_materialize_as(&plan, fx.embed, &o, h, LG_DT_I32, &err), -1);
    free(f);
    free(h);
    lg_init_plan_free(&plan);
}

static void table_for_another_tokenizer_is_refused(void **state)
{
    (void)state;
    lg_align_result tab;
    memset(&tab, 0, sizeof tab);
    tab.tgt_vocab = lg_spm_vocab_size(fx.new_tok) + 5;
    tab.src_vocab = 1;
    tab.row = calloc((size_t)tab.tgt_vocab + 1, sizeof *tab.row);
    lg_init_opts o;
    lg_init_opts_default(&o);
    lg_init_plan plan;
    lg_error err;
    assert_int_equal(lg_init_plan_build(fx.base_t, fx.new_t, &tab, &o, &plan, &err), -1);
    assert_non_null(strstr(err.msg, "another tokenizer"));
    lg_align_result_free(&tab);
}

static void pack_round_trip_and_checks(void **state)
{
    (void)state;
    lg_init_plan plan;
    float *rows;
    build(LG_INIT_HULL, NULL, &plan, &rows);
    int n = plan.n_new;
    float *head = malloc((size_t)n * HIDDEN * sizeof *head);
    for (int i = 0; i < n * HIDDEN; i++)
        head[i] = -rows[i];
    char sha[65], base_sha[65];
    lg_error err;
    assert_int_equal(lg_sha256_file(fx.new_path, sha, &err), 0);
    assert_int_equal(lg_sha256_file(fx.base_path, base_sha, &err), 0);
    lg_pack_meta meta = {.base_model = DIR "/base", .tokenizer_sha256 = sha,
                         .base_tokenizer_sha256 = base_sha, .language = "nld", .script = "Latn",
                         .method = "hull", .counts = plan.counts};
    const char *path = DIR "/pack.safetensors";
    assert_int_equal(lg_pack_write(path, rows, head, n, HIDDEN, LG_DT_F32, &meta, &err), 0);
    lg_safetensors *st = lg_st_open(path, &err);
    assert_non_null(st);
    const lg_tensor_info *e = lg_st_find(st, "model.embed_tokens.weight");
    const lg_tensor_info *h = lg_st_find(st, "lm_head.weight");
    assert_non_null(e);
    assert_non_null(h);
    assert_int_equal(e->shape[0], n);
    assert_int_equal(e->shape[1], HIDDEN);
    assert_memory_equal(e->data, rows, (size_t)n * HIDDEN * sizeof(float));
    assert_memory_equal(h->data, head, (size_t)n * HIDDEN * sizeof(float));
    assert_string_equal(lg_st_metadata(st, "tokenizer_sha256"), sha);
    assert_string_equal(lg_st_metadata(st, "language"), "nld");
    assert_string_equal(lg_st_metadata(st, "method"), "hull");
    assert_non_null(strstr(lg_st_metadata(st, "init_counts"), "\"copy\""));
    lg_st_close(st);

    /* fits its tokenizer and base model */
    assert_int_equal(lg_pack_check(path, fx.new_path, DIR "/base", &err), 0);
    /* another tokenizer: checksum mismatch */
    assert_int_equal(lg_pack_check(path, fx.base_path, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "checksum mismatch"));
    /* a base model with another hidden size */
    write_base_model(DIR "/base16", 50, 16, 1, NULL);
    assert_int_equal(lg_pack_check(path, NULL, DIR "/base16", &err), -1);
    assert_non_null(strstr(err.msg, "hidden size 16"));
    /* bf16 storage round-trips to bf16 precision */
    assert_int_equal(lg_pack_write(path, rows, NULL, n, HIDDEN, LG_DT_BF16, &meta, &err), 0);
    st = lg_st_open(path, &err);
    e = lg_st_find(st, "model.embed_tokens.weight");
    assert_int_equal(e->dtype, LG_DT_BF16);
    assert_null(lg_st_find(st, "lm_head.weight"));
    float back[HIDDEN];
    lg_tensor_row_f32(e, 5, back);
    for (int c = 0; c < HIDDEN; c++)
        assert_true(fabs(back[c] - rows[5 * HIDDEN + c]) <= 1e-2 * fabs(rows[5 * HIDDEN + c]) + 1e-6);
    lg_st_close(st);
    /* the untied base model needs a head */
    assert_int_equal(lg_pack_check(path, NULL, DIR "/base", &err), -1);
    assert_non_null(strstr(err.msg, "untied"));
    free(head);
    free(rows);
    lg_init_plan_free(&plan);
}

/* Resident kB of this process's mappings of the file `path` (/proc/self/smaps). */
static long mapped_rss_kb(const char *path)
{
    char real[4096];
    assert_non_null(realpath(path, real));
    FILE *f = fopen("/proc/self/smaps", "r");
    assert_non_null(f);
    char line[8192];
    int in = 0;
    long total = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned long a, b;
        if (sscanf(line, "%lx-%lx ", &a, &b) == 2) { /* a mapping's first line ends in its path */
            line[strcspn(line, "\n")] = 0;
            size_t n = strlen(line), k = strlen(real);
            in = n >= k && !strcmp(line + n - k, real);
        } else if (in && !strncmp(line, "Rss:", 4)) {
            total += strtol(line + 4, NULL, 10);
        }
    }
    fclose(f);
    return total;
}

/* Expected cells of a plan over stored values v (rows x C floats): each combination row
 * Σ w·v in double in the plan's order, each mean row the mean of the base tokenizer's
 * rows, rounded to float; independent of the reader (v comes from the values written). */
static float *expected_rows(const lg_init_plan *plan, const float *v, int C)
{
    float *want = malloc((size_t)plan->n_new * C * sizeof *want);
    double *acc = malloc((size_t)C * sizeof *acc), *mean = calloc((size_t)C, sizeof *mean);
    for (int r = 0; r < plan->n_base; r++)
        for (int c = 0; c < C; c++)
            mean[c] += v[(size_t)r * C + c];
    for (int c = 0; c < C; c++)
        mean[c] /= (double)plan->n_base;
    for (int t = 0; t < plan->n_new; t++) {
        float *w = want + (size_t)t * C;
        if (plan->off[t + 1] == plan->off[t]) {
            assert_int_equal(plan->source[t], LG_ROW_MEAN);
            for (int c = 0; c < C; c++)
                w[c] = (float)mean[c];
            continue;
        }
        memset(acc, 0, (size_t)C * sizeof *acc);
        for (int64_t k = plan->off[t]; k < plan->off[t + 1]; k++)
            for (int c = 0; c < C; c++)
                acc[c] += (double)plan->weight[k] * v[(size_t)plan->base_id[k] * C + c];
        for (int c = 0; c < C; c++)
            w[c] = (float)acc[c];
    }
    free(acc);
    free(mean);
    return want;
}

/* A bf16 base of 4 KiB rows: the rows made (trans with its mean rows, and mean) are exactly
 * the sums of the stored values, in float32 and bf16, and reading them leaves the base's
 * mapping unresident (rows are read with pread; reading them through the mapping, the
 * control at the end, makes them resident). */
static void base_rows_read_exactly_and_not_kept_mapped(void **state)
{
    (void)state;
    enum { C = 2048 };
    const int rows = fx.n_base + 4;
    float *e = malloc((size_t)rows * C * sizeof *e), *v = malloc((size_t)rows * C * sizeof *v);
    lg_rng rng;
    lg_rng_seed(&rng, 7);
    for (size_t i = 0; i < (size_t)rows * C; i++) {
        e[i] = (float)(0.02 * lg_rng_normal(&rng) + 0.001 * (double)(i % 97));
        v[i] = lg_bf16_to_f32(lg_f32_to_bf16(e[i])); /* the value the file stores */
    }
    const char *path = DIR "/base-bf16.safetensors";
    lg_error err = {{0}};
    lg_st_writer *wr = lg_st_writer_new();
    int64_t shape[2] = {rows, C};
    assert_int_equal(lg_st_writer_add_f32(wr, "model.embed_tokens.weight", LG_DT_BF16, 2, shape, e,
                                          &err), 0);
    assert_int_equal(lg_st_writer_write(wr, path, &err), 0);
    lg_st_writer_free(wr);
    lg_safetensors *st = lg_st_open(path, &err);
    assert_non_null(st);
    const lg_tensor_info *base = lg_st_find(st, "model.embed_tokens.weight");
    assert_non_null(base);
    const long before = mapped_rss_kb(path);

    lg_align_result tab;
    align_corpus(&tab);
    const lg_init_method ms[2] = {LG_INIT_TRANS, LG_INIT_MEAN};
    for (int mi = 0; mi < 2; mi++) {
        lg_init_opts o;
        lg_init_opts_default(&o);
        o.method = ms[mi];
        lg_init_plan plan;
        assert_int_equal(lg_init_plan_build(fx.base_t, fx.new_t, &tab, &o, &plan, &err), 0);
        if (ms[mi] == LG_INIT_MEAN) /* base statistics read too */
            assert_true(plan.counts[LG_ROW_MEAN] > 0);
        const size_t cells = (size_t)plan.n_new * C;
        float *f = malloc(cells * sizeof *f), *want = expected_rows(&plan, v, C);
        uint16_t *h = malloc(cells * sizeof *h);
        assert_int_equal(lg_init_materialize(&plan, base, &o, f, &err), 0);
        assert_int_equal(lg_init_materialize_as(&plan, base, &o, h, LG_DT_BF16, &err), 0);
        for (size_t i = 0; i < cells; i++) {
            if (memcmp(&f[i], &want[i], sizeof *f))
                fail_msg("method %s, row %zu, cell %zu: %.9g, expected %.9g",
                         lg_init_method_name(ms[mi]), i / C, i % C, f[i], want[i]);
            assert_int_equal(h[i], lg_f32_to_bf16(want[i]));
        }
        free(f);
        free(want);
        free(h);
        lg_init_plan_free(&plan);
    }
    lg_align_result_free(&tab);
    /* the table is 1.2 MiB; only the header's pages (and the kernel's fault-around next to
     * them) are mapped in */
    const long table_kb = (long)(base->nbytes / 1024), after = mapped_rss_kb(path);
    if (after > before + 16 || after > 128)
        fail_msg("%ld kB of the %ld kB base mapped in after the rows were made (%ld before)",
                 after, table_kb, before);
    /* control: the same rows through the mapping are counted */
    float *row = malloc(C * sizeof *row);
    for (int r = 0; r < rows; r++)
        lg_tensor_row_f32(base, r, row);
    const long touched = mapped_rss_kb(path);
    if (touched < table_kb)
        fail_msg("the control: %ld kB mapped in after reading all %ld kB through the mapping",
                 touched, table_kb);
    free(row);
    lg_st_close(st);
    free(e);
    free(v);
}

typedef struct {
    lg_init_rows *rows[2];
    int32_t nan_row; /* of the head: made NaN (-1: none) */
} stream_ctx;

static int stream_rows(void *ctx, int head, int32_t t0, int32_t t1, void *dst, lg_error *err)
{
    stream_ctx *s = ctx;
    if (lg_init_rows_make(s->rows[head], t0, t1, dst, LG_DT_BF16, err) < 0)
        return -1;
    if (head && s->nan_row >= t0 && s->nan_row < t1)
        ((uint16_t *)dst)[(size_t)(s->nan_row - t0) * HIDDEN + 3] = 0x7fc0;
    return 0;
}

/* Rows made range by range (any ranges, draws included) are the rows made whole, and a pack
 * streamed from them is the file written from the whole tables, byte for byte; a row that is
 * not finite in a streamed range is named and nothing is written. */
static void streamed_rows_and_pack_match_the_whole(void **state)
{
    (void)state;
    const lg_tensor_info *head = lg_weights_find(fx.w, "lm_head.weight");
    assert_non_null(head);
    static const lg_init_method ms[] = {LG_INIT_HULL, LG_INIT_RANDOM, LG_INIT_MVN};
    for (int mi = 0; mi < 3; mi++) {
        lg_init_opts o, oh;
        lg_init_opts_default(&o);
        o.method = ms[mi];
        oh = o;
        oh.seed = o.seed + 1;
        lg_init_plan plan;
        lg_error err = {{0}};
        assert_int_equal(lg_init_plan_build(fx.base_t, fx.new_t, NULL, &o, &plan, &err), 0);
        const int32_t n = plan.n_new;
        const size_t cells = (size_t)n * HIDDEN;
        uint16_t *e = malloc(cells * 2), *h = malloc(cells * 2), *part = malloc(cells * 2);
        assert_int_equal(lg_init_materialize_as(&plan, fx.embed, &o, e, LG_DT_BF16, &err), 0);
        assert_int_equal(lg_init_materialize_as(&plan, head, &oh, h, LG_DT_BF16, &err), 0);
        lg_init_rows *r = lg_init_rows_new(&plan, fx.embed, &o, &err);
        assert_non_null(r);
        for (int32_t t0 = 0; t0 < n; t0 += 37) {
            const int32_t t1 = t0 + 37 < n ? t0 + 37 : n;
            assert_int_equal(lg_init_rows_make(r, t0, t1, part + (size_t)t0 * HIDDEN, LG_DT_BF16,
                                               &err), 0);
        }
        assert_memory_equal(part, e, cells * 2);
        assert_int_equal(lg_init_rows_make(r, 5, n + 1, part, LG_DT_BF16, &err), -1);
        lg_init_rows_free(r);

        char sha[65];
        assert_int_equal(lg_sha256_file(fx.new_path, sha, &err), 0);
        lg_pack_meta meta = {.base_model = DIR "/base", .tokenizer_sha256 = sha,
                             .method = lg_init_method_name(ms[mi]), .counts = plan.counts};
        const char *whole = DIR "/whole.safetensors", *streamed = DIR "/streamed.safetensors";
        assert_int_equal(lg_pack_write_as(whole, e, h, n, HIDDEN, LG_DT_BF16, &meta, &err), 0);
        stream_ctx sc = {{lg_init_rows_new(&plan, fx.embed, &o, &err),
                          lg_init_rows_new(&plan, head, &oh, &err)}, -1};
        assert_int_equal(lg_pack_write_rows(streamed, n, HIDDEN, 1, LG_DT_BF16, stream_rows, &sc,
                                            &meta, &err), 0);
        FILE *fa = fopen(whole, "rb"), *fb = fopen(streamed, "rb");
        assert_non_null(fa);
        assert_non_null(fb);
        for (int ca, cb;;) {
            ca = fgetc(fa);
            cb = fgetc(fb);
            assert_int_equal(ca, cb);
            if (ca == EOF)
                break;
        }
        fclose(fa);
        fclose(fb);
        /* a NaN in the head's row 17: named, nothing written */
        remove(streamed);
        sc.nan_row = 17;
        assert_int_equal(lg_pack_write_rows(streamed, n, HIDDEN, 1, LG_DT_BF16, stream_rows, &sc,
                                            &meta, &err), -1);
        assert_non_null(strstr(err.msg, "row 17 of lm_head.weight is not finite: nothing written"));
        assert_int_equal(access(streamed, F_OK), -1);
        lg_init_rows_free(sc.rows[0]);
        lg_init_rows_free(sc.rows[1]);
        free(e);
        free(h);
        free(part);
        lg_init_plan_free(&plan);
    }
}

static void sha256_known_answers(void **state)
{
    (void)state;
    /* FIPS 180-4 examples */
    lg_sha256 s;
    char hex[65];
    lg_sha256_init(&s);
    lg_sha256_update(&s, "abc", 3);
    lg_sha256_final_hex(&s, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    lg_sha256_init(&s);
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    lg_sha256_update(&s, two, strlen(two));
    lg_sha256_final_hex(&s, hex);
    assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sha256_known_answers),
        cmocka_unit_test(specials_and_identical_pieces_are_copied),
        cmocka_unit_test(trans_rows_are_the_aligned_convex_combination),
        cmocka_unit_test(subtoken_mean_uses_the_base_pieces_of_the_text),
        cmocka_unit_test(trie_finds_longer_aligned_pieces),
        cmocka_unit_test(baselines_follow_base_statistics),
        cmocka_unit_test(extend_keeps_base_rows),
        cmocka_unit_test(rows_made_in_the_written_dtype),
        cmocka_unit_test(table_for_another_tokenizer_is_refused),
        cmocka_unit_test(pack_round_trip_and_checks),
        cmocka_unit_test(base_rows_read_exactly_and_not_kept_mapped),
        cmocka_unit_test(streamed_rows_and_pack_match_the_whole),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
