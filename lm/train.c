/* The training loop: setup (model, adapter, data, optimizer, resume), steps, logging,
 * evaluation and checkpoints. */
#include "lg_train.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lg_checkpoint.h"
#include "lg_dist.h"
#include "lg_io.h"
#include "lg_langsamp.h"
#include "lg_lora.h"
#include "lg_model.h"
#include "lg_ops.h"
#include "lg_optim.h"
#include "lg_progress.h"
#include "lg_tokenizer.h"

void lg_train_defaults(lg_train_options *o)
{
    memset(o, 0, sizeof *o);
    o->batch = 8;
    o->seq_len = 256;
    o->accum = 1;
    o->steps = 1000;
    o->warmup = 0;
    o->keep_checkpoints = 2;
    o->lr = 3e-4f;
    o->embed_lr = 0; /* 0: the same as lr */
    o->min_lr_ratio = 0.1f;
    o->clip = 1.0f;
    lg_adamw_hparams h = lg_adamw_defaults();
    o->beta1 = h.beta1;
    o->beta2 = h.beta2;
    o->eps = h.eps;
    o->weight_decay = 0.0f; /* as HF's Trainer */
    o->lora_alpha = 16;
    o->lora_targets = (1u << LG_LORA_Q) | (1u << LG_LORA_V);
    o->train_rows_from = -1;
}

typedef struct {
    const lg_train_options *o;
    lg_model *m;               /* the caller's */
    const lg_tokenizer *tok;   /* the caller's, or NULL */
    lg_dataset *data, *eval;
    lg_adamw opt;
    lg_train_state st;
    int32_t *ids, *targets;
    FILE *log;
    int made_out;              /* this run created OUT (for its log) */
    int saved;                 /* checkpoints this run saved */
    int rank, world;           /* data parallelism (lg_dist.h): rank 0 alone writes */
} run;

static void run_free(run *r)
{
    if (r->log)
        fclose(r->log);
    lg_adamw_free(&r->opt);
    free(r->ids);
    free(r->targets);
    lg_dataset_free(r->data);
    lg_dataset_free(r->eval);
}

static int load_data(run *r, lg_error *err)
{
    const lg_train_options *o = r->o;
    const lg_config *c = &r->m->cfg;
    const lg_tokenizer *tok = r->tok;
    lg_dataset_options d = {.seq_len = o->seq_len, .vocab_size = c->vocab_size,
                            .bos_id = c->bos_token_id, .eos_id = c->eos_token_id,
                            .seed = o->seed, .shuffle = 1};
    /* a pack's vocabulary is its tokenizer's: the base config's ids do not apply */
    if (tok && (o->pack || (d.bos_id < 0 && d.eos_id < 0))) {
        d.bos_id = tok->ops->bos_id(tok);
        d.eos_id = tok->ops->eos_id(tok);
    }
    if (o->data_ids)
        r->data = lg_dataset_load_ids(o->data_ids, &d, err);
    else if (tok)
        r->data = lg_dataset_load_text(o->data_text, tok, &d, err);
    else
        return lg_fail(err, "%s: text data needs --tokenizer", o->data_text);
    if (!r->data)
        return -1;
    if (o->eval_text) {
        if (!tok)
            return lg_fail(err, "%s: evaluation text needs --tokenizer", o->eval_text);
        d.seq_len = 0;
        if (!(r->eval = lg_dataset_load_text(o->eval_text, tok, &d, err)))
            return -1;
    }
    return 0;
}

/* LangSAMP: the vectors of --lang/--script (created at zero when the model has none, or
 * read from a checkpoint being resumed) and every sequence tagged with them. */
static int setup_langsamp(run *r, lg_error *err)
{
    const lg_train_options *o = r->o;
    lg_model *m = r->m;
    if (!o->lang && !o->script)
        return 0;
    char path[4200];
    struct stat sb;
    if (o->resume_dir) {
        snprintf(path, sizeof path, "%s/langsamp.safetensors", o->resume_dir);
        if (stat(path, &sb) == 0) {
            lg_safetensors *st = lg_st_open(path, err);
            lg_langsamp *ls = st ? lg_langsamp_from_file(st, path, m->cfg.hidden_size, err) : NULL;
            lg_st_close(st);
            if (!ls)
                return -1;
            lg_model_attach_langsamp(m, ls);
        }
    }
    if (!m->langsamp) {
        lg_langsamp *ls = lg_langsamp_create(m->cfg.hidden_size, o->lang, o->script, err);
        if (!ls)
            return -1;
        lg_model_attach_langsamp(m, ls);
    }
    return lg_model_tag_codes(m, o->lang, o->script, o->pack ? o->pack : o->model_dir, err);
}

/* Gradients for what this run trains: everything, or the adapter and/or the embeddings. */
static int setup_trainables(run *r, lg_error *err)
{
    const lg_train_options *o = r->o;
    lg_model *m = r->m;
    const int embeddings = o->train_embeddings || o->train_rows_from >= 0;
    if (o->lora_rank > 0) {
        char path[4200];
        snprintf(path, sizeof path, "%s/adapter", o->resume_dir ? o->resume_dir : "");
        if (o->resume_dir) {
            /* the checkpoint's adapter replaces one that came with the pack */
            lg_lora_free(m->lora);
            m->lora = NULL;
            if (!lg_lora_load_peft(m, path, err))
                return -1;
        } else if (!m->lora) {
            lg_lora_config lc = {.rank = o->lora_rank, .alpha = o->lora_alpha,
                                 .use_rslora = o->rslora, .target_mask = o->lora_targets,
                                 .save_embed_tokens = embeddings,
                                 .save_lm_head = embeddings && !m->cfg.tie_word_embeddings};
            if (!lg_lora_attach(m, &lc, o->seed, err))
                return -1;
        }
        if (lg_lora_alloc_grads(m->lora, err) < 0)
            return -1;
    }
    if (m->langsamp && (o->lang || o->script) && lg_langsamp_alloc_grads(m->langsamp, err) < 0)
        return -1;
    if (o->lora_rank > 0 || embeddings) {
        int *mask = calloc((size_t)m->n_entries, sizeof *mask);
        if (!mask)
            return lg_fail(err, "out of memory");
        for (int i = 0; i < m->n_entries; i++)
            mask[i] = embeddings && lg_param_group(&m->entries[i]) == LG_GROUP_EMBED;
        int rc = lg_model_alloc_grads_for(m, mask, err);
        free(mask);
        return rc;
    }
    return lg_model_alloc_grads(m, err);
}

/* Creates OUT for a log to be written inside it before the first checkpoint (its parent
 * must exist), marked as o->out_marker's. */
static int make_out(run *r, lg_error *err)
{
    const lg_train_options *o = r->o;
    if (mkdir(o->out_dir, 0755) != 0) {
        if (errno == EEXIST)
            return 0;
        return lg_fail(err, "%s: cannot create: %s", o->out_dir, strerror(errno));
    }
    r->made_out = 1;
    if (o->out_marker && lg_output_mark(o->out_dir, o->out_marker, err) < 0) {
        rmdir(o->out_dir);
        r->made_out = 0;
        return -1;
    }
    return 0;
}

/* 0 when dir exists as a directory or its parent is a directory this process may write. */
static int out_creatable(const char *dir, lg_error *err)
{
    struct stat sb;
    if (stat(dir, &sb) == 0)
        return S_ISDIR(sb.st_mode) ? 0 : lg_fail(err, "%s: not a directory", dir);
    char parent[4096];
    snprintf(parent, sizeof parent, "%s", dir);
    size_t n = strlen(parent);
    while (n > 1 && parent[n - 1] == '/')
        parent[--n] = '\0';
    char *slash = strrchr(parent, '/');
    if (!slash)
        snprintf(parent, sizeof parent, ".");
    else
        slash[slash == parent] = '\0';
    if (stat(parent, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return lg_fail(err, "%s: cannot create: %s is not a directory", dir, parent);
    if (access(parent, W_OK | X_OK) != 0)
        return lg_fail(err, "%s: cannot create: %s", dir, strerror(errno));
    return 0;
}

/* After a failure: removes the OUT this run created when it holds nothing but the marker
 * (no checkpoint, no log). */
static void discard_out(run *r)
{
    if (!r->made_out || r->saved)
        return;
    char marker[4200];
    snprintf(marker, sizeof marker, "%s/" LG_OUTPUT_MARKER, r->o->out_dir);
    DIR *d = opendir(r->o->out_dir);
    const struct dirent *e;
    int others = 0;
    while (d && (e = readdir(d)))
        others += strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
                  strcmp(e->d_name, LG_OUTPUT_MARKER);
    if (d)
        closedir(d);
    if (d && !others) {
        unlink(marker);
        rmdir(r->o->out_dir);
        r->made_out = 0;
    }
}

static int setup(run *r, lg_error *err)
{
    const lg_train_options *o = r->o;
    if (o->batch < 1 || o->seq_len < 2 || o->accum < 1 || o->steps < 1)
        return lg_fail(err, "batch, accumulation and steps must be positive and the sequence "
                            "length at least 2");
    if (setup_langsamp(r, err) < 0)
        return -1;
    const lg_config *c = &r->m->cfg;
    if (c->max_position_embeddings > 0 && o->seq_len > c->max_position_embeddings)
        return lg_fail(err, "%s: sequence length %d exceeds the model's maximum %d "
                            "(max_position_embeddings)", o->model_dir, o->seq_len,
                       c->max_position_embeddings);
    if (o->train_rows_from >= c->vocab_size)
        return lg_fail(err, "--train-rows %ld is not below the vocabulary size %d",
                       o->train_rows_from, c->vocab_size);
    if (load_data(r, err) < 0)
        return -1;

    lg_train_state *st = &r->st;
    st->seed = o->seed;
    st->lora = o->lora_rank > 0;
    st->lora_rank = o->lora_rank;
    st->train_rows_from = o->train_rows_from;
    st->trains_embeddings = o->train_embeddings || o->train_rows_from >= 0;
    st->batch = o->batch;
    st->world_size = r->world;
    st->seq_len = o->seq_len;
    st->accum = o->accum;
    st->data_tokens = r->data->n_tokens;
    st->model = *c;
    if (o->resume_dir) {
        lg_train_state saved;
        if (lg_checkpoint_read_state(o->resume_dir, &saved, err) < 0 ||
            lg_checkpoint_check(o->resume_dir, &saved, st, err) < 0)
            return -1;
        st->step = saved.step;
        st->data = saved.data;
        st->last_loss = saved.last_loss;
        if (st->step > o->steps)
            return lg_fail(err, "%s: the checkpoint is at step %ld, beyond --steps %ld",
                           o->resume_dir, st->step, o->steps);
        if (!st->lora && lg_checkpoint_load_model(o->resume_dir, r->m, err) < 0)
            return -1;
        if (lg_dataset_seek(r->data, st->data, err) < 0)
            return -1;
    }
    if (setup_trainables(r, err) < 0)
        return -1;

    enum { MAX_TRAINABLE = 4096 };
    lg_param_entry **list = malloc(MAX_TRAINABLE * sizeof *list);
    if (!list)
        return lg_fail(err, "out of memory");
    int n = lg_model_trainable(r->m, list, MAX_TRAINABLE);
    lg_adamw_hparams h = {.beta1 = o->beta1, .beta2 = o->beta2, .eps = o->eps,
                          .weight_decay = o->weight_decay};
    int rc = lg_adamw_init(&r->opt, list, n, h,
                           o->train_rows_from > 0 ? (size_t)o->train_rows_from : 0, err);
    free(list);
    if (rc < 0)
        return -1;
    if (o->resume_dir && lg_checkpoint_load_optimizer(o->resume_dir, &r->opt, st->step, err) < 0)
        return -1;

    if (lg_model_reserve(r->m, o->batch, o->seq_len, err) < 0)
        return -1;
    const size_t N = (size_t)o->batch * o->seq_len;
    r->ids = malloc(N * sizeof *r->ids);
    r->targets = malloc(N * sizeof *r->targets);
    if (!r->ids || !r->targets)
        return lg_fail(err, "out of memory");

    /* Outputs only once everything has been checked. OUT itself waits for the first
     * checkpoint, unless the log is to be written inside it; whether it can be made is
     * known now, not after the steps before that checkpoint. Only rank 0 writes. */
    if (r->rank != 0)
        return 0;
    if (out_creatable(o->out_dir, err) < 0)
        return -1;
    if (o->log_path && !(r->log = fopen(o->log_path, "a"))) {
        int saved = errno;
        if (saved == ENOENT && !r->made_out && make_out(r, err) == 0 &&
            !(r->log = fopen(o->log_path, "a"))) {
            saved = errno;
            discard_out(r);
        }
        if (!r->log)
            return lg_fail(err, "%s: %s", o->log_path, strerror(saved));
    }
    return 0;
}

/* One JSON line into the log, flushed: a full disk fails the run at the line it loses. */
__attribute__((format(printf, 3, 4)))
static int log_line(run *r, lg_error *err, const char *fmt, ...)
{
    if (!r->log)
        return 0;
    errno = 0;
    va_list ap;
    va_start(ap, fmt);
    int n = vfprintf(r->log, fmt, ap);
    va_end(ap);
    if (n < 0 || fflush(r->log) != 0 || ferror(r->log))
        return lg_fail(err, "%s: cannot write the log: %s", r->o->log_path,
                       errno ? strerror(errno) : "write error");
    return 0;
}

/* Closes the log; a failure of the last write or of the close is the run's failure. */
static int close_log(run *r, lg_error *err)
{
    if (!r->log)
        return 0;
    int failed = fflush(r->log) != 0 || ferror(r->log);
    int saved = errno;
    if (fclose(r->log) != 0 && !failed) {
        failed = 1;
        saved = errno;
    }
    r->log = NULL;
    if (failed)
        return lg_fail(err, "%s: cannot write the log: %s", r->o->log_path,
                       saved ? strerror(saved) : "write error");
    return 0;
}

static int evaluate(run *r, long step, lg_error *err)
{
    if (r->rank != 0)
        return 0;
    lg_eval_result res;
    if (lg_eval_tokens(r->m, r->eval->tokens, r->eval->n_tokens, r->eval->n_bytes,
                       r->o->seq_len, 0, &res, err) < 0)
        return -1;
    if (log_line(r, err, "{\"step\": %ld, \"eval_loss\": %.9g, \"eval_perplexity\": %.9g, "
                         "\"eval_bits_per_byte\": %.9g, \"eval_tokens\": %zu, "
                         "\"eval_bytes\": %zu}\n", step, res.loss, res.perplexity,
                 res.bits_per_byte, res.tokens, res.bytes) < 0)
        return -1;
    if (!r->o->quiet)
        fprintf(stderr, "step %ld: held-out loss %.4f, perplexity %.2f, %.4f bits per byte\n",
                step, res.loss, res.perplexity, res.bits_per_byte);
    return 0;
}

static int by_step(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

/* 1 when the process id that names a temporary (PID in NAME.tmp.PID) is gone. */
static int writer_gone(const char *pid_text)
{
    char *end;
    long pid = strtol(pid_text, &end, 10);
    return pid > 0 && end != pid_text && kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

/* Keeps the newest `keep` OUT/checkpoint-STEP directories (0: all). Each is removed with
 * lg_remove_dir: renamed away first, so that a process stopped while deleting it never
 * leaves part of a checkpoint under its real name. Also removes what a run stopped by a
 * signal or a crash left (its process is gone): checkpoint-STEP.tmp.PID being written,
 * checkpoint-STEP.removing.PID being deleted, checkpoint-STEP.old.PID being replaced, and
 * .last.tmp.PID. */
static void prune_checkpoints(const char *out, long keep)
{
    DIR *d = opendir(out);
    if (!d)
        return;
    long *steps = NULL;
    size_t n = 0, cap = 0;
    char path[4400];
    const struct dirent *e;
    lg_error err;
    while ((e = readdir(d))) {
        if (!strncmp(e->d_name, ".last.tmp.", 10)) {
            if (writer_gone(e->d_name + 10)) {
                snprintf(path, sizeof path, "%s/%s", out, e->d_name);
                unlink(path);
            }
            continue;
        }
        if (strncmp(e->d_name, "checkpoint-", 11))
            continue;
        char *end;
        long step = strtol(e->d_name + 11, &end, 10);
        if (end == e->d_name + 11)
            continue;
        const char *pid = !strncmp(end, ".tmp.", 5)        ? end + 5
                          : !strncmp(end, ".removing.", 10) ? end + 10
                          : !strncmp(end, ".old.", 5)       ? end + 5
                                                            : NULL;
        if (pid) {
            if (writer_gone(pid)) {
                snprintf(path, sizeof path, "%s/%s", out, e->d_name);
                lg_remove_dir(path, &err);
            }
        } else if (!*end) {
            if (n == cap) {
                long *t = realloc(steps, (cap = cap ? 2 * cap : 16) * sizeof *t);
                if (!t)
                    break;
                steps = t;
            }
            steps[n++] = step;
        }
    }
    closedir(d);
    if (keep > 0 && n > (size_t)keep) {
        qsort(steps, n, sizeof *steps, by_step);
        for (size_t i = 0; i + (size_t)keep < n; i++) {
            snprintf(path, sizeof path, "%s/checkpoint-%ld", out, steps[i]);
            lg_remove_dir(path, &err);
        }
    }
    free(steps);
}

/* A message about the temporary tmp names the user's path instead. */
static void name_user_path(lg_error *err, const char *tmp, const char *path)
{
    char *at = err ? strstr(err->msg, tmp) : NULL;
    if (!at)
        return;
    char rest[sizeof err->msg];
    snprintf(rest, sizeof rest, "%s", at + strlen(tmp));
    snprintf(at, sizeof err->msg - (size_t)(at - err->msg), "%s%s", path, rest);
}

/* OUT/checkpoint-STEP, OUT/last → it, and the older ones beyond keep_checkpoints removed.
 * When OUT does not exist yet, the first checkpoint makes it whole: written (with its
 * marker and OUT/last) into OUT.tmp.PID, which a signal removes, then renamed to OUT. */
static int save(run *r, lg_error *err)
{
    const lg_train_options *o = r->o;
    if (r->rank != 0)
        return 0;
    char dir[4200], link_tmp[4300], link[4300], name[64];
    lg_atomic_dir fresh = {0};
    const char *out = o->out_dir;
    struct stat sb;
    if (stat(o->out_dir, &sb) != 0) {
        if (lg_atomic_dir_begin(&fresh, o->out_dir, LG_ATOMIC_DIR_CLEAR_STALE, err) < 0)
            return -1;
        out = fresh.tmp;
    }
    int rc = -1;
    snprintf(name, sizeof name, "checkpoint-%ld", r->st.step);
    snprintf(dir, sizeof dir, "%s/%s", out, name);
    r->st.data = r->data->pos;
    if (lg_checkpoint_save(dir, r->m, &r->opt, &r->st, o->model_dir, err) < 0)
        goto done;
    /* OUT is this writer's once it holds a checkpoint */
    if (!r->saved && o->out_marker && lg_output_mark(out, o->out_marker, err) < 0)
        goto done;
    snprintf(link, sizeof link, "%s/last", out);
    snprintf(link_tmp, sizeof link_tmp, "%s/.last.tmp.%ld", out, (long)getpid());
    unlink(link_tmp);
    if (symlink(name, link_tmp) != 0 || rename(link_tmp, link) != 0) {
        lg_fail(err, "%s/last: cannot point it at %s: %s", o->out_dir, name, strerror(errno));
        goto done;
    }
    /* a plain rename: never over a directory that appeared meanwhile */
    if (fresh.tmp[0] && rename(fresh.tmp, o->out_dir) != 0) {
        lg_fail(err, "%s: cannot rename into place: %s", o->out_dir, strerror(errno));
        goto done;
    }
    if (fresh.tmp[0]) {
        fresh.tmp[0] = '\0';
        lg_atomic_dir_abort(&fresh); /* releases the signal clean-up; nothing left to remove */
    }
    r->saved++;
    prune_checkpoints(o->out_dir, o->keep_checkpoints);
    rc = 0;
done:
    if (rc < 0 && fresh.tmp[0])
        name_user_path(err, fresh.tmp, o->out_dir);
    lg_atomic_dir_abort(&fresh);
    return rc;
}

/* Data parallelism: the one place between backward and the optimizer where the ranks'
 * gradients meet. Each rank's backward was scaled by 1/(accum × world), so the sum over
 * ranks is the gradient of the mean loss over all world × batch sequences: what one
 * process with batch world × batch computes, up to the order of the additions. Only the
 * trainable tensors have gradient storage: the model's grad_mem (everything, or only the
 * embeddings beside an adapter), the adapter's, LangSAMP's vectors. The losses are summed
 * with them. */
static int reduce_gradients(run *r, double *loss, lg_error *err)
{
    lg_model *m = r->m;
    if (r->world == 1)
        return 0;
    if (m->grad_mem && m->n_grads &&
        lg_dist_sum_f32(m->grad_mem, m->n_grads, "gradients", err) < 0)
        return -1;
    if (m->lora && m->lora->grad_mem &&
        lg_dist_sum_f32(m->lora->grad_mem, m->lora->n_params, "LoRA gradients", err) < 0)
        return -1;
    for (int i = 0; m->langsamp && i < 2; i++) {
        lg_param_entry *e = &m->langsamp->entries[i];
        if (e->grad && e->numel &&
            lg_dist_sum_f32(e->grad, e->numel, "language/script vector gradients", err) < 0)
            return -1;
    }
    return lg_dist_sum_f64(loss, 1, "losses", err);
}

/* One optimizer step over accum micro-batches: the mean loss into *loss. A failed forward
 * (an id the model does not have, a loss that is not finite) fails the step. With several
 * ranks each reads its share of every micro-batch (lg_dataset_next_batch_shard). */
static int train_step(run *r, float *loss_out, double *grad_norm, lg_error *err)
{
    const lg_train_options *o = r->o;
    lg_model *m = r->m;
    lg_model_zero_grads(m);
    double loss = 0;
    const float scale = 1.0f / (float)((long)o->accum * r->world);
    for (int a = 0; a < o->accum; a++) {
        lg_dataset_next_batch_shard(r->data, r->ids, o->batch, r->rank, r->world);
        lg_shift_targets(r->targets, r->ids, o->batch, o->seq_len);
        if (lg_model_forward(m, r->ids, r->targets, o->batch, o->seq_len, err) < 0) {
            if (!isfinite(m->last_loss) && m->counted)
                return lg_fail(err, "step %ld: the loss is %f; lower --lr or check the data",
                               r->st.step + 1, m->last_loss);
            return lg_fail_context(err, "step %ld", r->st.step + 1);
        }
        loss += m->last_loss;
        lg_model_backward(m, r->ids, scale);
    }
    if (reduce_gradients(r, &loss, err) < 0)
        return lg_fail_context(err, "step %ld", r->st.step + 1);
    *grad_norm = lg_adamw_clip(&r->opt, o->clip);
    *loss_out = (float)(loss / ((double)o->accum * r->world));
    return 0;
}

int lg_train_run(const lg_train_options *o, lg_model *m, const lg_tokenizer *tok, lg_error *err)
{
    run r = {.o = o, .m = m, .tok = tok, .rank = lg_dist_rank(), .world = lg_dist_size()};
    if (setup(&r, err) < 0) {
        run_free(&r);
        return -1;
    }
    lg_lr_schedule sched = {.warmup_steps = o->warmup, .total_steps = o->steps,
                            .min_ratio = o->min_lr_ratio};
    const float embed_lr = o->embed_lr > 0 ? o->embed_lr : o->lr;
    const double tokens_per_step = (double)o->batch * o->seq_len * o->accum * r.world;
    const int quiet = o->quiet || r.rank != 0;
    if (!quiet) {
        fprintf(stderr, "training %s: %s%s, %zu trainable tensors, %zu sequences of %d tokens "
                        "from %s, steps %ld to %ld\n",
                o->model_dir, r.st.lora ? "LoRA" : "full",
                r.st.trains_embeddings ? " + embeddings" : "", (size_t)r.opt.n_slots,
                r.data->n_seqs, o->seq_len, r.data->path, r.st.step + 1, o->steps);
        if (r.world > 1)
            fprintf(stderr, "data-parallel: %d ranks × batch %d = %ld sequences a micro-batch; "
                            "rank 0 logs, evaluates and saves\n",
                    r.world, o->batch, (long)r.world * o->batch);
    }
    int rc = 0;
    if (r.eval && o->eval_every > 0 && r.st.step == 0)
        rc = evaluate(&r, 0, err);
    lg_progress bar;
    lg_progress_start(&bar, "train", o->steps);
    bar.enabled &= r.rank == 0;
    double t_start = lg_now();
    long first = r.st.step;
    while (rc == 0 && r.st.step < o->steps) {
        double t0 = lg_now();
        double norm = 0;
        float loss = 0;
        if ((rc = train_step(&r, &loss, &norm, err)) < 0)
            break;
        float f = lg_lr_factor(&sched, r.st.step);
        const float lr[LG_N_GROUPS] = {o->lr * f, embed_lr * f};
        lg_adamw_step(&r.opt, lr);
        r.st.step++;
        r.st.last_loss = loss;
        double dt = lg_now() - t0;
        double tps = tokens_per_step / (dt > 0 ? dt : 1e-9);
        if ((rc = log_line(&r, err, "{\"step\": %ld, \"lr\": %.9g, \"loss\": %.9g, "
                                    "\"grad_norm\": %.17g, \"tokens_per_s\": %.1f}\n",
                           r.st.step, lr[0], loss, norm, tps)) < 0)
            break;
        double eta = (lg_now() - t_start) / (double)(r.st.step - first) *
                     (double)(o->steps - r.st.step);
        lg_progress_update(&bar, r.st.step, "loss %.4f  %.0f tok/s  ETA %.0fs", loss, tps, eta);
        if (r.eval && o->eval_every > 0 && r.st.step % o->eval_every == 0)
            rc = evaluate(&r, r.st.step, err);
        if (rc == 0 && ((o->save_every > 0 && r.st.step % o->save_every == 0) ||
                        r.st.step == o->steps))
            rc = save(&r, err);
    }
    lg_progress_finish(&bar);
    if (rc == 0)
        rc = close_log(&r, err);
    if (rc < 0)
        discard_out(&r);
    if (rc == 0 && !quiet)
        fprintf(stderr, "step %ld: loss %.4f; checkpoint %s/last\n", r.st.step, r.st.last_loss,
                o->out_dir);
    run_free(&r);
    return rc;
}
