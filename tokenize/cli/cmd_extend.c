/* `tokenize extend`: a base model with a target model's new pieces appended after its own. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lg_io.h"
#include "lg_spm.h"
#include "spm_proto.h"
#include "tokenize_cmds.h"

/* A serialized model whole (SentencePiece's protobuf stays below 2 GiB). */
static int read_model(const char *path, uint8_t **data, size_t *len, lg_error *err)
{
    char *bytes = lg_read_file(path, (size_t)1 << 31, len, err);
    if (!bytes)
        return -1;
    if (*len == 0) {
        free(bytes);
        return lg_fail(err, "%s: empty file, not a SentencePiece model", path);
    }
    *data = (uint8_t *)bytes;
    return 0;
}

int tok_measure_change(tok_encode_fn encode, void *a, void *b, const char *path, lg_error *err)
{
    lg_corpus_reader *r = lg_corpus_open(path, err);
    if (!r)
        return -1;
    lg_token_ids ia = {0}, ib = {0};
    int64_t lines = 0, changed = 0, tokens_a = 0, tokens_b = 0;
    const char *line;
    size_t len;
    int rc;
    while ((rc = lg_corpus_next(r, &line, &len, err)) > 0) {
        if (encode(a, line, len, &ia, err) < 0 || encode(b, line, len, &ib, err) < 0) {
            rc = lg_fail_context(err, "%s: line %lld", path, (long long)lg_corpus_line_number(r));
            break;
        }
        lines++;
        tokens_a += (int64_t)ia.n;
        tokens_b += (int64_t)ib.n;
        if (ia.n != ib.n || (ia.n && memcmp(ia.ids, ib.ids, ia.n * sizeof *ia.ids)))
            changed++;
    }
    if (rc == 0)
        printf("%s: %lld of %lld lines (%.2f%%) encode differently; tokens %lld -> %lld\n",
               path, (long long)changed, (long long)lines, 100 * tok_ratio(changed, lines),
               (long long)tokens_a, (long long)tokens_b);
    lg_token_ids_free(&ia);
    lg_token_ids_free(&ib);
    lg_corpus_close(r);
    return rc;
}

static int spm_encode(void *m, const char *text, size_t len, lg_token_ids *out, lg_error *err)
{
    return lg_spm_encode(m, text, len, out, err);
}

int tok_cmd_extend(int argc, char **argv)
{
    const char *base_path = NULL, *target_path = NULL, *output = NULL, *map_path = NULL,
               *measure = NULL, *score = NULL;
    lg_opt opts[] = {
        {LG_INPUT(&base_path), .name = "BASE.model", .flags = LG_OPT_POSITIONAL | LG_OPT_REQUIRED,
         .help = "the model whose ids are kept"},
        {LG_INPUT(&target_path), .name = "TARGET.model",
         .flags = LG_OPT_POSITIONAL | LG_OPT_REQUIRED, .help = "the model whose new pieces are added"},
        {LG_STRING(&output), .name = "output", .short_name = 'o', .flags = LG_OPT_REQUIRED,
         .arg = "MERGED.model", .help = "the merged model; MERGED.vocab is written beside it"},
        {LG_OUTPUT(&map_path), .name = "map", .arg = "FILE", .def = "MERGED.new-ids.tsv",
         .help = "the new ids: merged_id, piece, target_id, score"},
        {LG_CHOICE(&score), .name = "score", .choices = "below|zero", .arg = "POLICY",
         .def = "below",
         .help = "below: new pieces score below every base piece, in\n"
                 "the target's order; zero: score 0 (Chinese-LLaMA);\n"
                 "a .model base only"},
        {LG_INPUT(&measure), .name = "measure", .arg = "TEXT",
         .help = "report the share of TEXT's lines that encode\n"
                 "differently with MERGED than with BASE"},
        {0}};
    lg_cli c = {.prog = "tokenize", .name = "extend", .opts = opts, .derived_outputs = 1,
                .about = "Appends the pieces of TARGET that BASE lacks (normal and user-defined ones)\n"
                         "after BASE's last piece: every BASE id keeps its piece, score and type, and\n"
                         "every other field of BASE's model is kept byte for byte (its normaliser\n"
                         "too: MERGED normalises text as BASE does, which it states). Writes\n"
                         "MERGED.model, MERGED.vocab and a TSV of the new ids.\n"
                         "A byte-level BPE tokenizer.json BASE (Llama-3, Qwen; a file or a model\n"
                         "directory) takes TARGET's pieces (a .model or a tokenizer.json) as new\n"
                         "tokens after BASE's last id, each with merges appended after BASE's that\n"
                         "build it from what BASE's merges leave of it (intermediate tokens added\n"
                         "where needed; pieces BASE's pre-tokenizer would split are left out);\n"
                         "-o names a directory: tokenizer.json, BASE's tokenizer_config.json,\n"
                         "new-ids.tsv (merged_id, piece, target_id, kind)."};
    int rc = lg_cli_parse(&c, argc, argv);
    if (rc != LG_CLI_RUN)
        return rc;
    if (tok_is_tokenizer_json(base_path)) {
        if (score)
            return lg_cli_finish(&c, lg_cli_usage(&c, "--score: a tokenizer.json base has no "
                                                      "scores (new tokens rank after its merges)"));
        return lg_cli_finish(&c, tok_extend_hf(&c, base_path, target_path, output, map_path,
                                               measure));
    }
    if (!score)
        score = "below";
    tok_model_paths paths;
    char default_map[4200];
    if ((rc = tok_model_paths_of(&c, output, &paths)) != 0)
        return lg_cli_finish(&c, rc);
    snprintf(default_map, sizeof default_map, "%s.new-ids.tsv", paths.prefix);
    if (map_path && (!strcmp(map_path, paths.model) || !strcmp(map_path, paths.vocab)))
        return lg_cli_finish(&c, lg_cli_usage(&c, "--map: %s is also the merged model's file",
                                              map_path));
    if ((rc = tok_model_paths_check(&c, &paths)) != 0 ||
        (!map_path && (rc = lg_cli_check_output(&c, default_map, LG_OUT_FILE, "--map")) != 0))
        return lg_cli_finish(&c, rc);
    if (!map_path)
        map_path = default_map;
    lg_spm_score_policy policy = !strcmp(score, "zero") ? LG_SPM_SCORE_ZERO : LG_SPM_SCORE_BELOW;

    lg_error err;
    uint8_t *base = NULL, *target = NULL, *merged = NULL;
    size_t base_len, target_len, merged_len = 0, n_added = 0;
    int *target_ids = NULL;
    rc = -1;
    lg_spm *base_m = NULL, *target_m = NULL, *merged_m = NULL;
    lg_atomic_file map;
    map.fp = NULL;
    if (read_model(base_path, &base, &base_len, &err) < 0 ||
        read_model(target_path, &target, &target_len, &err) < 0)
        goto done;
    /* Both must be models SentencePiece accepts, not just parseable protobuf. */
    if (!(base_m = lg_spm_load_serialized(base, base_len, base_path, &err)) ||
        !(target_m = lg_spm_load_serialized(target, target_len, target_path, &err)))
        goto done;
    if (lg_spm_proto_extend(base, base_len, base_path, target, target_len, target_path, policy,
                            &merged, &merged_len, &target_ids, &n_added, &err) < 0)
        goto done;
    if (!(merged_m = lg_spm_load_serialized(merged, merged_len, paths.model, &err)))
        goto done;
    /* The promise of extension: every base id unchanged, the new ones after them. */
    int base_n = lg_spm_vocab_size(base_m);
    if (lg_spm_vocab_size(merged_m) != base_n + (int)n_added) {
        lg_fail(&err, "%s: merged model has %d pieces, expected %d", paths.model,
                lg_spm_vocab_size(merged_m), base_n + (int)n_added);
        goto done;
    }
    for (int id = 0; id < base_n; id++)
        if (strcmp(lg_spm_id_to_piece(base_m, id), lg_spm_id_to_piece(merged_m, id)) ||
            lg_spm_type(base_m, id) != lg_spm_type(merged_m, id)) {
            lg_fail(&err, "%s: id %d changed from '%s'", paths.model, id,
                    lg_spm_id_to_piece(base_m, id));
            goto done;
        }
    if (lg_atomic_open(&map, map_path, &err) < 0) {
        map.fp = NULL;
        goto done;
    }
    fprintf(map.fp, "merged_id\tpiece\ttarget_id\tscore\n");
    for (size_t k = 0; k < n_added; k++) {
        int id = base_n + (int)k;
        fprintf(map.fp, "%d\t%s\t%d\t%g\n", id, lg_spm_id_to_piece(merged_m, id), target_ids[k],
                (double)lg_spm_score(merged_m, id));
    }
    if (ferror(map.fp)) {
        lg_fail(&err, "%s: write failed", map_path);
        goto done;
    }
    if (tok_write_model(&paths, merged, merged_len, &err) < 0)
        goto done;
    if (lg_atomic_commit(&map, &err) < 0) {
        map.fp = NULL;
        goto done;
    }
    map.fp = NULL;
    fprintf(stderr, "tokenize extend: %s: %d base pieces + %zu from %s = %d; new ids in %s\n",
            paths.model,
            base_n, n_added, target_path, base_n + (int)n_added, map_path);
    /* The merged model is the base's in every field but its pieces: its normaliser too. */
    char desc[200], target_desc[200];
    lg_spm_describe_normalizer(merged_m, desc, sizeof desc);
    lg_spm_describe_normalizer(target_m, target_desc, sizeof target_desc);
    fprintf(stderr, "tokenize extend: %s normalises text as %s does: %s\n", paths.model,
            base_path, desc);
    if (strcmp(desc, target_desc))
        fprintf(stderr, "tokenize extend: note: %s normalises with %s; its pieces were learned "
                "from text normalised that way, the merged model does not apply it\n",
                target_path, target_desc);
    tok_note_llama_cpp(merged_m, "extend", paths.model);
    rc = 0;
    if (measure && tok_measure_change(spm_encode, base_m, merged_m, measure, &err) < 0)
        rc = -1;
done:
    if (map.fp)
        lg_atomic_abort(&map);
    lg_spm_free(base_m);
    lg_spm_free(target_m);
    lg_spm_free(merged_m);
    free(base);
    free(target);
    free(merged);
    free(target_ids);
    return lg_cli_finish(&c, rc < 0 ? lg_cli_fail(&c, &err) : 0);
}
