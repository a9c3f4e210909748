/* `tokenize extend` with a tokenizer.json base: a byte-level BPE base with a target's new
 * pieces as new tokens and appended merges (hf_extend.h), written as a directory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hf_extend.h"
#include "hf_tokenizer.h"
#include "lg_io.h"
#include "lg_spm.h"
#include "tokenize_cmds.h"

int tok_is_tokenizer_json(const char *path)
{
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return 1;
    return lg_tokenizer_file_is_json(path);
}

static int write_text(const char *path, const char *shown, const char *text, size_t n,
                      lg_error *err)
{
    FILE *fp = fopen(path, "w");
    if (!fp)
        return lg_fail(err, "%s: cannot write", shown);
    int bad = fwrite(text, 1, n, fp) != n;
    if (fclose(fp) != 0 || bad)
        return lg_fail(err, "%s: write failed", shown);
    return 0;
}

static int hf_encode(void *t, const char *text, size_t len, lg_token_ids *out, lg_error *err)
{
    return lg_hf_encode(t, text, len, out, err);
}

int tok_extend_hf(lg_cli *c, const char *base_path, const char *target_path, const char *output,
                  const char *map_path, const char *measure)
{
    if (!strcmp(output, "-"))
        return lg_cli_usage(c, "--output: '-' is not possible here: the output is a directory");
    if (lg_cli_check_output(c, output, LG_OUT_DIR, NULL))
        return 1;
    lg_error err;
    int rc = -1;
    lg_tokenizer *base = NULL, *target = NULL;
    lg_hf_new_piece *pieces = NULL;
    size_t n_pieces = 0;
    char *base_text = NULL, *json = NULL, *config = NULL;
    int *source = NULL;
    lg_hf *base_hf = NULL, *merged = NULL;
    lg_atomic_dir d = {0};
    lg_hf_extend_stats st;
    if (!(base = lg_tokenizer_load(base_path, &err)) ||
        !(target = lg_tokenizer_load(target_path, &err)))
        goto done;
    if (!lg_tokenizer_hf(base)) {
        lg_fail(&err, "%s: not a tokenizer.json", base_path);
        goto done;
    }
    size_t base_len, config_len = 0;
    if (!(base_text = lg_read_file(base->path, (size_t)1 << 30, &base_len, &err)))
        goto done;
    /* tokenizer_config.json beside the base goes along (its ids are all kept) */
    char config_path[4200];
    snprintf(config_path, sizeof config_path, "%s", base->path);
    char *slash = strrchr(config_path, '/');
    snprintf(slash ? slash + 1 : config_path,
             sizeof config_path - (size_t)(slash ? slash + 1 - config_path : 0),
             "tokenizer_config.json");
    struct stat cst;
    if (stat(config_path, &cst) == 0 &&
        !(config = lg_read_file(config_path, (size_t)1 << 28, &config_len, &err)))
        goto done;
    if (lg_hf_target_pieces(target, &pieces, &n_pieces, &err) < 0 ||
        lg_hf_extend(base_text, base_len, base->path, pieces, n_pieces, &json, &source, &st,
                     &err) < 0)
        goto done;
    if (lg_atomic_dir_begin(&d, output, LG_ATOMIC_DIR_CLEAR_STALE, &err) < 0)
        goto done;
    char path[4300], shown[4300], shown_config[4300];
    snprintf(path, sizeof path, "%s/tokenizer.json", d.tmp);
    snprintf(shown, sizeof shown, "%s/tokenizer.json", output);
    if (write_text(path, shown, json, strlen(json), &err) < 0)
        goto done;
    if (config) {
        snprintf(path, sizeof path, "%s/tokenizer_config.json", d.tmp);
        snprintf(shown_config, sizeof shown_config, "%s/tokenizer_config.json", output);
        if (write_text(path, shown_config, config, config_len, &err) < 0)
            goto done;
    }
    if (!(merged = lg_hf_load_json(json, strlen(json), shown, &err)))
        goto done;
    /* the new ids: in the directory unless --map names another file */
    char map_tmp[4300];
    lg_atomic_file map = {0};
    FILE *mf;
    if (map_path) {
        if (lg_atomic_open(&map, map_path, &err) < 0)
            goto done;
        mf = map.fp;
    } else {
        snprintf(map_tmp, sizeof map_tmp, "%s/new-ids.tsv", d.tmp);
        if (!(mf = fopen(map_tmp, "w"))) {
            lg_fail(&err, "%s/new-ids.tsv: cannot write", output);
            goto done;
        }
    }
    fprintf(mf, "merged_id\tpiece\ttarget_id\tkind\n");
    for (int k = 0; k < st.size - st.base_size; k++) {
        const lg_hf_new_piece *p = source[k] >= 0 ? &pieces[source[k]] : NULL;
        fprintf(mf, "%d\t%s\t%d\t%s\n", st.base_size + k, lg_hf_piece(merged, st.base_size + k),
                p ? p->source_id : -1, p ? "target" : "intermediate");
    }
    if (map_path) {
        if (ferror(mf)) {
            lg_atomic_abort(&map);
            lg_fail(&err, "%s: write failed", map_path);
            goto done;
        }
        if (lg_atomic_commit(&map, &err) < 0)
            goto done;
    } else if (ferror(mf) | (fclose(mf) != 0)) {
        lg_fail(&err, "%s/new-ids.tsv: write failed", output);
        goto done;
    }
    if (lg_output_mark(d.tmp, "tokenize extend", &err) < 0 || lg_atomic_dir_commit(&d, &err) < 0)
        goto done;
    fprintf(stderr, "tokenize extend: %s/tokenizer.json: %d base ids + %d = %d: %d pieces of %s "
            "and %d intermediate tokens their merge paths need; %d new merges after the base's\n",
            output, st.base_size, st.size - st.base_size, st.size, st.added_target, target_path,
            st.added_intermediate, st.new_merges);
    fprintf(stderr, "tokenize extend: of %zu target pieces, %d were in %s already and %d would be "
            "split by its pre-tokenizer (left out); %d of the %d added encode as themselves when "
            "they are the whole text; new ids in %s%s\n", n_pieces, st.present, base_path,
            st.split, st.whole, st.added_target, map_path ? map_path : output,
            map_path ? "" : "/new-ids.tsv");
    rc = 0;
    if (measure) {
        if (!(base_hf = lg_hf_load(base->path, &err)) ||
                 tok_measure_change(hf_encode, base_hf, merged, measure, &err) < 0)
            rc = -1;
    }
done:
    lg_atomic_dir_abort(&d);
    lg_tokenizer_free(base);
    lg_tokenizer_free(target);
    lg_hf_new_pieces_free(pieces, n_pieces);
    lg_hf_free(base_hf);
    lg_hf_free(merged);
    free(base_text);
    free(json);
    free(config);
    free(source);
    return rc < 0 ? lg_cli_fail(c, &err) : 0;
}
