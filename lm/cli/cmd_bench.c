/* `lm bench`: training / LoRA / forward throughput of the core on the benchmark shapes, the
 * sgemm peak of the machine, and the shared random weights tools/bench/ feeds to PyTorch. */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "lg_arch.h"
#include "lg_bench.h"
#include "lg_cli.h"
#include "lg_dist.h"
#include "lm_cmds.h"
#include "lg_lora.h"
#include "lg_model.h"
#include "lg_optim.h"
#include "lg_rng.h"
#include "lg_safetensors.h"
#include "lg_wmat.h"

#define PROG "lm bench"
#define IDS_NAME "bench.input_ids"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static double peak_rss_mib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1024.0; /* KiB on Linux */
}

/* Resets the kernel's RSS high-water mark, so that the peak reported is the one of the steps
 * (plus what stays resident), not that of the weights file mapped while loading. */
static void reset_peak_rss(void)
{
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (f) {
        fputs("5", f);
        fclose(f);
    }
}

/* Median seconds of `runs` 2048³ products after one untimed; -1 when out of memory. */
static double sgemm_seconds(int runs)
{
    const int n = 2048;
    const size_t nn = (size_t)n * n;
    float *a = malloc(nn * sizeof *a), *b = malloc(nn * sizeof *b), *c = malloc(nn * sizeof *c);
    double *t = malloc((size_t)runs * sizeof *t);
    double med = -1;
    if (!a || !b || !c || !t)
        goto out;
    lg_rng r;
    lg_rng_seed(&r, 7);
    for (size_t i = 0; i < nn; i++) {
        a[i] = lg_rng_float(&r) - 0.5f;
        b[i] = lg_rng_float(&r) - 0.5f;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, b, n, 0, c, n);
    for (int i = 0; i < runs; i++) {
        double t0 = now();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, b, n, 0, c, n);
        t[i] = now() - t0;
    }
    med = median(t, runs);
out:
    free(a);
    free(b);
    free(c);
    free(t);
    return med;
}

static int run_sgemm(int threads, int runs)
{
    const int n = 2048;
    double med = sgemm_seconds(runs);
    if (med < 0) {
        fprintf(stderr, PROG ": out of memory for the sgemm matrices\n");
        return 1;
    }
    printf("{\"impl\":\"sgemm\",\"n\":%d,\"threads\":%d,\"runs\":%d,\"seconds_median\":%.6f,"
           "\"gflops\":%.2f,\"blas_core\":\"%s\"}\n",
           n, threads, runs, med, 2.0 * n * n * (double)n / med / 1e9, openblas_get_corename());
    return 0;
}

/* The median seconds of summing n floats across the ranks of an MPI job with lg_dist, as
 * lm train sums its gradients (one untimed sum first); rank 0 prints the line. */
static int run_allreduce(double floats, int runs)
{
    lg_error err;
    if (lg_dist_init(&err) < 0) {
        fprintf(stderr, PROG ": %s\n", err.msg);
        return 1;
    }
    const size_t n = (size_t)floats;
    float *buf = malloc(n * sizeof *buf + 1);
    double *t = malloc((size_t)runs * sizeof *t);
    int rc = 0;
    if (!buf || !t) {
        fprintf(stderr, PROG ": out of memory for %zu floats\n", n);
        rc = 1;
    }
    for (size_t i = 0; rc == 0 && i < n; i++)
        buf[i] = (float)(i % 1000) * 1e-3f;
    for (int r = -1; rc == 0 && r < runs; r++) {
        if (lg_dist_barrier("benchmark", &err) < 0) {
            rc = 1;
            break;
        }
        double t0 = now();
        if (lg_dist_sum_f32(buf, n, "benchmark buffer", &err) < 0)
            rc = 1;
        if (r >= 0)
            t[r] = now() - t0;
    }
    if (rc == 1 && err.msg[0])
        fprintf(stderr, PROG ": %s\n", err.msg);
    if (rc == 0 && lg_dist_rank() == 0) {
        double med = median(t, runs);
        printf("{\"impl\":\"allreduce\",\"ranks\":%d,\"floats\":%zu,\"bytes\":%zu,\"runs\":%d,"
               "\"seconds_median\":%.6f,\"algbw_gbytes_per_s\":%.3f}\n", lg_dist_size(), n,
               n * sizeof(float), runs, med, med > 0 ? (double)(n * sizeof(float)) / med / 1e9 : 0.0);
    }
    free(buf);
    free(t);
    if (rc != 0 && lg_dist_size() > 1)
        lg_dist_abort(rc);
    lg_dist_finalize();
    return rc;
}

/* HF Llama's initialisation: matrices N(0, 0.02), norm weights 1; q_proj and k_proj
 * N(0, qk_std) (lg_bench_qk_std). */
static void random_weights(lg_model *m, uint64_t seed, double qk_std)
{
    lg_rng r;
    lg_rng_seed(&r, seed);
    for (int i = 0; i < m->n_entries; i++) {
        lg_param_entry *e = &m->entries[i];
        const double std = strstr(e->name, ".q_proj.weight") || strstr(e->name, ".k_proj.weight")
                               ? qk_std : 0.02;
        for (size_t j = 0; j < e->numel; j++)
            e->param[j] = e->is_matrix ? (float)(std * lg_rng_normal(&r)) : 1.0f;
    }
}

static void random_ids(int32_t *ids, int n, int vocab, uint64_t seed)
{
    lg_rng r;
    lg_rng_seed(&r, seed ^ 0x9e3779b97f4a7c15ull);
    for (int i = 0; i < n; i++)
        ids[i] = (int32_t)(lg_rng_next(&r) % (uint64_t)vocab);
}

static int write_weights(const lg_model *m, const int32_t *ids, int B, int T, lg_dtype dtype,
                         const char *path, lg_error *err)
{
    lg_st_writer *w = lg_st_writer_new();
    if (!w)
        return lg_fail(err, "out of memory");
    int rc = 0;
    for (int i = 0; i < m->n_entries && rc == 0; i++) {
        const lg_param_entry *e = &m->entries[i];
        rc = lg_st_writer_add_f32(w, e->name, dtype, e->ndim, e->shape, e->param, err);
    }
    int64_t shape[2] = {B, T};
    if (rc == 0)
        rc = lg_st_writer_add(w, IDS_NAME, LG_DT_I32, 2, shape, ids, err);
    if (rc == 0)
        rc = lg_st_writer_write(w, path, err);
    lg_st_writer_free(w);
    return rc;
}

/* Copies the input ids the file holds (t: its IDS_NAME tensor, or NULL) into ids[B*T]. */
static int take_ids(const lg_tensor_info *t, int32_t *ids, int B, int T, const char *path,
                    lg_error *err)
{
    if (!t)
        return lg_fail(err, "%s: no tensor " IDS_NAME, path);
    if (t->dtype != LG_DT_I32 || t->ndim != 2 || t->shape[0] != B || t->shape[1] != T)
        return lg_fail(err, "%s: " IDS_NAME " is not I32 [%d, %d] (use the same --batch/--seq)",
                       path, B, T);
    memcpy(ids, t->data, sizeof(int32_t) * (size_t)B * T);
    return 0;
}

static int read_weights(lg_model *m, int32_t *ids, int B, int T, const char *path, lg_error *err)
{
    lg_safetensors *st = lg_st_open(path, err);
    if (!st)
        return -1;
    int rc = 0;
    for (int i = 0; i < m->n_entries && rc == 0; i++) {
        lg_param_entry *e = &m->entries[i];
        const lg_tensor_info *t = lg_st_find(st, e->name);
        if (!t)
            rc = lg_fail(err, "%s: no tensor %s (not written for this shape?)", path, e->name);
        else if (lg_tensor_expect_shape(t, e->ndim, e->shape, err) < 0 ||
                 lg_tensor_to_f32(t, e->param, err) < 0)
            rc = -1;
    }
    if (rc == 0)
        rc = take_ids(lg_st_find(st, IDS_NAME), ids, B, T, path, err);
    lg_st_close(st);
    return rc;
}

/* A --weights file whose block matrices are BF16, in lora and forward modes: the model with
 * its frozen matrices (and embed_tokens, lm_head) kept as stored, read where the file maps
 * them, as lm eval and LoRA training keep them (LG_F32_WEIGHTS=1: converted to float32 at
 * load instead). 1 when opened so, 0 when the file's matrices are not BF16 (read_weights
 * then converts them as before), -1 on error. */
static int open_stored(const lg_config *cfg, const char *path, int32_t *ids, int B, int T,
                       lg_model **out, lg_error *err)
{
    lg_weights *w = lg_weights_open_dir(path, err);
    if (!w)
        return -1;
    const lg_arch_desc *d = lg_arch_get(cfg->arch);
    char q[160];
    snprintf(q, sizeof q, "%s0.%s", d->layer_prefix, d->roles[LG_ROLE_Q].hf);
    const lg_tensor_info *t = lg_weights_find(w, q);
    if (!t || t->dtype != LG_DT_BF16) {
        lg_weights_close(w);
        return 0;
    }
    if (take_ids(lg_weights_find(w, IDS_NAME), ids, B, T, path, err) < 0) {
        lg_weights_close(w);
        return -1;
    }
    lg_weights_drop(w, IDS_NAME); /* not a model tensor */
    /* takes w over (closes it on failure) */
    *out = lg_model_from_weights(cfg, w, LG_LOAD_STORED | LG_LOAD_STORED_VOCAB, 0, path, err);
    return *out ? 1 : -1;
}

int lg_cmd_bench(int argc, char **argv)
{
    const char *shape = "tiny", *mode_name = "train", *weights = NULL, *write_path = NULL;
    const char *dtype_name = "f32";
    int threads = 0, steps = 5, warmup = 1, B = 4, T = 256, no_optim = 0, sgemm = 0;
    int sgemm_runs = 7, sgemm_after = 0;
    double allreduce = 0;
    uint64_t seed = 1234;
    lg_opt opts[] = {
        {LG_CHOICE(&shape), .name = "shape", .choices = LG_BENCH_SHAPE_CHOICES,
         .help = "model shape: tiny (hidden 256, 4 layers), small\n(512, 8), base (768, 12); "
                 "small-llama3\n(Llama-3.1 RoPE scaling, theta 500000),\nsmall-qwen3 (q/k-norm, "
                 "head_dim 128)"},
        {LG_CHOICE(&mode_name), .name = "mode", .choices = "train|lora|forward",
         .help = "full training with AdamW, LoRA r=8 on q,k,v,o,\ngate,up,down with the base "
                 "frozen, or forward\nwith loss"},
        LG_THREADS_OPT(&threads),
        {LG_INT(&steps), .name = "steps", .min = 1, .max = 1000000, .arg = "N",
         .help = "timed steps; tokens/s is their median"},
        {LG_INT(&warmup), .name = "warmup", .min = 0, .max = 1000000, .arg = "N",
         .help = "untimed steps before them"},
        {LG_INT(&B), .name = "batch", .min = 1, .max = 4096, .arg = "N", .help = "batch rows"},
        {LG_INT(&T), .name = "seq", .min = 2, .max = 2048, .arg = "N",
         .help = "sequence length (at most the shapes' 2048)"},
        {LG_INPUT(&weights), .name = "weights", .arg = "FILE",
         .help = "weights and input ids written by --write-weights\n(BF16 ones: kept as stored "
                 "in lora and forward\nmodes, as lm eval and LoRA training keep them)"},
        {LG_U64(&seed), .name = "seed", .min = 0, .max = 1.8446744073709552e19, .arg = "N",
         .help = "random weights and ids when no --weights"},
        {LG_FLAG(&no_optim), .name = "no-optim", .help = "leave out the optimizer step"},
        {LG_SECTION("sgemm")},
        {LG_FLAG(&sgemm), .name = "sgemm",
         .help = "only the GFLOP/s of a 2048^3 cblas_sgemm\n(median)"},
        {LG_INT(&sgemm_runs), .name = "sgemm-runs", .min = 1, .max = 10000, .arg = "N",
         .help = "sgemm repetitions"},
        {LG_FLAG(&sgemm_after), .name = "sgemm-after",
         .help = "also measure the sgemm peak right after the\nsteps (sgemm_gflops; the "
                 "machine's drift is\nthen shared)"},
        {LG_SECTION("MPI")},
        {LG_DOUBLE(&allreduce), .name = "allreduce", .min = 1, .max = 4e9, .arg = "FLOATS",
         .def = "",
         .help = "only the median seconds of summing FLOATS\nfloats across the ranks of an MPI "
                 "job, as lm\ntrain sums its gradients (--steps times; run\nunder mpirun)"},
        {LG_SECTION("weights for tools/bench")},
        {LG_OUTPUT(&write_path), .name = "write-weights", .arg = "FILE",
         .help = "write random weights + input ids of --shape\n(--seed, --batch, --seq) as "
                 "safetensors and\nstop"},
        {LG_CHOICE(&dtype_name), .name = "dtype", .choices = "f32|bf16",
         .help = "the dtype --write-weights stores the weights in"},
        {0}};
    lg_cli c = {.prog = "lm", .name = "bench", .opts = opts, .usage = "[options]",
                .about = "One JSON line on stdout: tokens/s, loss, peak RSS and FLOPs of "
                         "training, LoRA or\nforward steps on a benchmark shape, the dtype its "
                         "block weights are computed\nin (weights: f32 converted, F32 or BF16 as "
                         "stored) and which bf16 kernels ran\n(bf16_kernel: rows, tiled, onednn "
                         "joined by +, or none); or the sgemm peak\n(--sgemm); or the shared "
                         "random weights tools/bench/ feeds to PyTorch\n(--write-weights)."};
    int status = lg_cli_parse(&c, argc, argv);
    if (status != LG_CLI_RUN)
        return status;
    if (sgemm && (write_path || weights))
        return lg_cli_finish(&c, lg_cli_usage(&c, "--sgemm measures only the sgemm peak: "
                                                  "no --weights or --write-weights"));
    const lg_dtype dtype = !strcmp(dtype_name, "bf16") ? LG_DT_BF16 : LG_DT_F32;
    if (dtype != LG_DT_F32 && !write_path)
        return lg_cli_finish(&c, lg_cli_usage(&c, "--dtype is the dtype --write-weights "
                                                  "stores; a --weights file is read in the "
                                                  "dtype it holds"));
    lg_bench_mode mode;
    lg_bench_parse_mode(mode_name, &mode, NULL); /* one of the row's choices */
    const int optim = !no_optim;
    threads = lg_cli_threads(threads);
    lg_set_threads(threads);
    if (sgemm)
        return lg_cli_finish(&c, run_sgemm(threads, sgemm_runs));
    if (allreduce > 0)
        return lg_cli_finish(&c, run_allreduce(allreduce, steps));

    lg_error err;
    lg_config cfg;
    if (lg_bench_shape(shape, &cfg, &err) < 0)
        return lg_cli_finish(&c, lg_cli_fail(&c, &err));
    const int N = B * T;
    int32_t *ids = malloc(sizeof *ids * (size_t)N), *targets = malloc(sizeof *targets * (size_t)N);
    lg_model *m = NULL;
    int loaded = 0; /* 1: opened with its BF16 matrices as stored (ids read too) */
    if (ids && targets && weights && !write_path && mode != LG_BENCH_TRAIN)
        loaded = open_stored(&cfg, weights, ids, B, T, &m, &err);
    if (ids && targets && loaded == 0)
        m = lg_model_create(&cfg, &err);
    if (!m || !ids || !targets) {
        if (!ids || !targets)
            lg_fail(&err, "out of memory");
        free(ids);
        free(targets);
        lg_model_free(m);
        return lg_cli_finish(&c, lg_cli_fail(&c, &err));
    }
    int rc = 1;
    lg_adamw opt = {0};
    lg_param_entry **trainable = NULL;
    if (loaded) {
        /* the weights and ids are in place */
    } else if (weights) {
        if (read_weights(m, ids, B, T, weights, &err) < 0)
            goto out;
    } else {
        random_weights(m, seed, lg_bench_qk_std(shape));
        random_ids(ids, N, cfg.vocab_size, seed);
    }
    if (write_path) {
        if (write_weights(m, ids, B, T, dtype, write_path, &err) < 0)
            goto out;
        rc = 0;
        goto out;
    }
    lg_shift_targets(targets, ids, B, T);

    const int rank = 8;
    const unsigned lora_mask = (1u << LG_LORA_NTARGETS) - 1;
    if (mode == LG_BENCH_TRAIN) {
        if (lg_model_alloc_grads(m, &err) < 0)
            goto out;
    } else if (mode == LG_BENCH_LORA) {
        int *none = calloc((size_t)m->n_entries, sizeof *none);
        int ok = none && lg_model_alloc_grads_for(m, none, &err) == 0;
        free(none);
        if (!ok)
            goto out;
        lg_lora_config lc = {.rank = rank, .alpha = 16, .target_mask = lora_mask};
        lg_lora *l = lg_lora_attach(m, &lc, seed + 1, &err);
        if (!l || lg_lora_alloc_grads(l, &err) < 0)
            goto out;
    }
    /* forward only: the layers share one set of activations (as PyTorch under no_grad), and
     * the head and the loss run over chunks of rows (the same products, less memory) */
    if (mode == LG_BENCH_FORWARD)
        lg_model_set_loss_only(m, 0);
    long long n_trainable = 0;
    if (mode != LG_BENCH_FORWARD) {
        int max = m->n_entries + (m->lora ? m->lora->n_entries : 0);
        trainable = calloc((size_t)max, sizeof *trainable);
        if (!trainable) {
            lg_fail(&err, "out of memory");
            goto out;
        }
        int n = lg_model_trainable(m, trainable, max);
        for (int i = 0; i < n; i++)
            n_trainable += (long long)trainable[i]->numel;
        if (optim && lg_adamw_init(&opt, trainable, n, lg_adamw_defaults(), 0, &err) < 0)
            goto out;
    }
    if (lg_model_reserve(m, B, T, &err) < 0 || (m->lora && lg_lora_reserve(m->lora, N, &err) < 0))
        goto out;

    const float lr[LG_N_GROUPS] = {1e-4f, 1e-4f};
    const int total = warmup + steps;
    double *times = malloc(sizeof *times * (size_t)steps);
    if (!times) {
        lg_fail(&err, "out of memory");
        goto out;
    }
    float first_loss = NAN, last_loss = NAN;
    const double load_peak = peak_rss_mib();
    reset_peak_rss();
    lg_wmat_reset_used();
    for (int s = 0; s < total; s++) {
        double t0 = now();
        if (mode != LG_BENCH_FORWARD)
            lg_model_zero_grads(m);
        if (lg_model_forward(m, ids, targets, B, T, &err) < 0) {
            free(times);
            goto out;
        }
        if (mode != LG_BENCH_FORWARD) {
            lg_model_backward(m, ids, 1.0f);
            if (optim)
                lg_adamw_step(&opt, lr);
        }
        double dt = now() - t0;
        if (s == 0)
            first_loss = m->last_loss;
        last_loss = m->last_loss;
        if (s >= warmup)
            times[s - warmup] = dt;
    }
    double step = median(times, steps);
    free(times);
    double flops = lg_bench_step_flops(&cfg, B, T, mode, rank, lora_mask);
    const double peak_rss = peak_rss_mib();
    double sgemm_gflops = 0;
    if (sgemm_after) {
        double sec = sgemm_seconds(sgemm_runs);
        sgemm_gflops = sec > 0 ? 2.0 * 2048 * 2048 * 2048.0 / sec / 1e9 : 0;
    }
    const char *kernel = lg_wmat_kernel_used();
    printf("{\"impl\":\"lingraft\",\"shape\":\"%s\",\"arch\":\"%s\",\"mode\":\"%s\","
           "\"threads\":%d,\"batch\":%d,"
           "\"seq\":%d,\"steps\":%d,\"warmup\":%d,\"optimizer\":\"%s\",\"params\":%lld,"
           "\"trainable\":%lld,\"step_s_median\":%.6f,\"tokens_per_s\":%.2f,"
           "\"first_loss\":%.7f,\"last_loss\":%.7f,\"peak_rss_mib\":%.1f,\"step_gflop\":%.4f,"
           "\"gflops\":%.2f,\"sgemm_gflops\":%.2f,\"load_peak_rss_mib\":%.1f,\"blas_core\":\"%s\","
           "\"weights\":\"%s\",\"bf16_kernel\":\"%s\"}\n",
           shape, cfg.model_type, lg_bench_mode_name(mode), threads, B, T, steps, warmup,
           mode == LG_BENCH_FORWARD ? "none" : optim ? "adamw" : "none",
           lg_config_param_count(&cfg), n_trainable, step, N / step, first_loss, last_loss,
           peak_rss, flops / 1e9, flops / step / 1e9, sgemm_gflops, load_peak, openblas_get_corename(),
           lg_model_weight_dtype(m), *kernel ? kernel : "none");
    rc = 0;
out:
    if (rc)
        lg_cli_fail(&c, &err);
    lg_adamw_free(&opt);
    free(trainable);
    free(ids);
    free(targets);
    lg_model_free(m);
    return lg_cli_finish(&c, rc);
}
