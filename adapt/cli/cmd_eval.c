/* adapt eval: one base model loaded once, packs switched in and out of it, each evaluated
 * on its own text. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lg_adapt_cli.h"
#include "lg_cli.h"
#include "lg_pack.h"
#include "lg_lora.h"
#include "lg_model.h"
#include "lg_safetensors.h"
#include "lg_tokenizer.h"
#include "lg_train.h"

enum { USE_BASE, USE_PACK, USE_LAYERS, USE_MERGED };
static const char *const mode_names[] = {"base", "pack", "layers", "merged"};

/* SPEC: TEXT, PACK=TEXT, PACK:layers=TEXT or PACK:merged=TEXT (split at the last '='). */
static int parse_spec(const char *spec, char *pack, size_t cap, const char **text, int *mode)
{
    const char *eq = strrchr(spec, '=');
    if (!eq) {
        *mode = USE_BASE;
        pack[0] = '\0';
        *text = spec;
        return *text[0] ? 0 : -1;
    }
    size_t n = (size_t)(eq - spec);
    if (n == 0 || n >= cap || !eq[1])
        return -1;
    memcpy(pack, spec, n);
    pack[n] = '\0';
    *text = eq + 1;
    *mode = USE_PACK;
    const char *suffix[] = {":layers", ":merged"};
    for (int i = 0; i < 2; i++) {
        size_t k = strlen(suffix[i]);
        if (n > k && !strcmp(pack + n - k, suffix[i])) {
            pack[n - k] = '\0';
            *mode = i ? USE_MERGED : USE_LAYERS;
        }
    }
    return 0;
}

/* The base's layers back after a merge changed them (only they are read). */
static int reload_layers(lg_model *m, const char *base, lg_error *err)
{
    lg_weights *w = lg_weights_open_dir(base, err);
    if (!w)
        return -1;
    int rc = lg_model_load_weights_ex(m, w, base, 1, err);
    lg_weights_close(w);
    return rc;
}

static int eval_one(lg_model *m, const char *base, const char *pack, const char *text, int mode,
                    int window_opt, int *merged, int json, lg_error *err)
{
    if (*merged) { /* a merged adapter changed the layers: the base's back first */
        if (reload_layers(m, base, err) < 0)
            return -1;
        *merged = 0;
    }
    int rc = mode == USE_BASE   ? lg_model_use_pack(m, base, NULL, err)
             : mode == USE_PACK ? lg_model_use_pack(m, base, pack, err)
                                : lg_model_use_pack_layers(m, base, pack, err);
    if (rc < 0)
        return -1;
    if (mode == USE_MERGED) {
        if (lg_lora_merge(m, err) < 0)
            return -1;
        *merged = 1;
    }
    char tok_path[4200];
    if (mode == USE_PACK) {
        if (!lg_pack_tokenizer_path(pack, tok_path))
            return lg_fail(err, "%s: has no tokenizer.model to encode %s with", pack, text);
    } else {
        snprintf(tok_path, sizeof tok_path, "%s/tokenizer.model", base);
    }
    lg_tokenizer *tok = lg_pack_tokenizer(tok_path, mode == USE_PACK ? pack : NULL, err);
    if (!tok)
        return -1;
    /* as lm eval: a pack's bos/eos are its tokenizer's, the base's its config's */
    lg_dataset_options d = {.seq_len = 0, .vocab_size = m->cfg.vocab_size,
                            .bos_id = m->cfg.bos_token_id, .eos_id = m->cfg.eos_token_id};
    if (mode == USE_PACK || (d.bos_id < 0 && d.eos_id < 0)) {
        d.bos_id = tok->ops->bos_id(tok);
        d.eos_id = tok->ops->eos_id(tok);
    }
    lg_dataset *ds = lg_dataset_load_text(text, tok, &d, err);
    lg_tokenizer_free(tok);
    if (!ds)
        return -1;
    int window = window_opt;
    if (window <= 0)
        window = m->cfg.max_position_embeddings > 0 && m->cfg.max_position_embeddings < 1024
                     ? m->cfg.max_position_embeddings : 1024;
    if (ds->n_tokens < (size_t)window)
        window = ds->n_tokens < 2 ? 2 : (int)ds->n_tokens;
    lg_eval_result r;
    rc = lg_eval_tokens(m, ds->tokens, ds->n_tokens, ds->n_bytes, window, 0, &r, err);
    if (rc < 0)
        lg_fail_context(err, "%s", ds->path);
    else if (json)
        printf("{\"use\": \"%s\", \"pack\": \"%s\", \"text\": \"%s\", \"tokens\": %zu, "
               "\"bytes\": %zu, \"window\": %d, \"nats\": %.17g, \"loss\": %.17g, "
               "\"bits_per_byte\": %.17g}\n",
               mode_names[mode], pack ? pack : "", text, r.tokens, r.bytes, r.window, r.nats,
               r.loss, r.bits_per_byte);
    else
        printf("%-7s %-28s %-28s %8zu tokens  %.6f bits/byte  loss %.6f\n", mode_names[mode],
               pack && pack[0] ? pack : "-", text, r.tokens, r.bits_per_byte, r.loss);
    fflush(stdout);
    lg_dataset_free(ds);
    return rc;
}

int lg_adapt_eval(int argc, char **argv)
{
    const char *base = NULL;
    lg_cli_list specs = {0};
    int window = 0, json = 0, threads = 0;
    lg_opt opts[] = {
        {LG_INPUT(&base), .name = "base", .flags = LG_OPT_REQUIRED, .arg = "DIR",
         .help = "the base model, loaded once"},
        {.type = LG_OPT_STRING, .dest = &specs, .name = "eval",
         .flags = LG_OPT_REPEAT | LG_OPT_REQUIRED, .arg = "SPEC",
         .help = "in the order given, one evaluation each:\n"
                 "TEXT          the base alone (its tokenizer)\n"
                 "PACK=TEXT     the pack swapped in\n"
                 "PACK:layers=TEXT  the pack's adapter over the\n"
                 "              base's own embeddings and tokenizer\n"
                 "PACK:merged=TEXT  the same, merged into the\n"
                 "              layers (undone afterwards)"},
        {LG_INT(&window), .name = "window", .min = 2, .max = 1 << 20, .arg = "N",
         .def = "the model's maximum, at most 1024", .help = "tokens a forward pass (chunked)"},
        {LG_FLAG(&json), .name = "json", .help = "one JSON line per evaluation (17 digits)"},
        LG_THREADS_OPT(&threads),
        {0}};
    lg_cli c = {.prog = "adapt", .name = "eval", .opts = opts,
                .usage = "--base DIR --eval [PACK[:layers|:merged]=]TEXT ...",
                .about = "Loads the base once and evaluates each --eval in turn, switching "
                         "packs in\nand out without reloading the base's layers: bits per "
                         "byte of held-out\ntext as `lm eval` computes them (chunked windows). "
                         "The base alone gives\nits exact numbers back after any pack was in "
                         "(its embeddings and head are\nread again; after a merge, its "
                         "layers too). Packs must have the base's\nvocabulary size (else load "
                         "each with lm eval --pack)."};
    int rc = lg_cli_parse(&c, argc, argv);
    if (rc != LG_CLI_RUN)
        return rc;
    char pack[4096];
    const char *text;
    int mode;
    for (int i = 0; i < specs.n; i++)
        if (parse_spec(specs.v[i], pack, sizeof pack, &text, &mode) < 0)
            return lg_cli_finish(&c, lg_cli_usage(&c, "--eval %s: not TEXT, PACK=TEXT, "
                                                  "PACK:layers=TEXT or PACK:merged=TEXT",
                                                  specs.v[i]));
    lg_set_threads(lg_cli_threads(threads));
    lg_error err;
    lg_model *m = lg_model_open(base, NULL, &err);
    if (!m)
        return lg_cli_finish(&c, lg_cli_fail(&c, &err));
    lg_model_set_loss_only(m, 0);
    int merged = 0;
    for (int i = 0; i < specs.n && rc != 1; i++) {
        parse_spec(specs.v[i], pack, sizeof pack, &text, &mode);
        if (eval_one(m, base, pack, text, mode, window, &merged, json, &err) < 0)
            rc = lg_cli_fail(&c, &err);
    }
    lg_model_free(m);
    return lg_cli_finish(&c, rc == 1 ? 1 : 0);
}
