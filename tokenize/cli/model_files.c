/* NAME.model and NAME.vocab: the files `tokenize train` and `tokenize extend` write. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lg_io.h"
#include "lg_spm.h"
#include "tokenize_cmds.h"

int tok_model_paths_of(const lg_cli *c, const char *name, tok_model_paths *p)
{
    if (!strcmp(name, "-"))
        return lg_cli_usage(c, "--output: '-' (standard output) is not possible here: "
                               "NAME.model and NAME.vocab are files");
    size_t n = strlen(name);
    if (n >= sizeof p->prefix)
        return lg_cli_usage(c, "--output: the name is too long");
    memcpy(p->prefix, name, n + 1);
    if (n > 6 && !strcmp(p->prefix + n - 6, ".model"))
        p->prefix[n - 6] = '\0';
    snprintf(p->model, sizeof p->model, "%s.model", p->prefix);
    snprintf(p->vocab, sizeof p->vocab, "%s.vocab", p->prefix);
    return 0;
}

int tok_model_paths_check(const lg_cli *c, const tok_model_paths *p)
{
    if (lg_cli_check_output(c, p->model, LG_OUT_FILE, NULL))
        return 1;
    return lg_cli_check_output(c, p->vocab, LG_OUT_FILE, NULL);
}

/* Writes bytes to path through a temporary file; nothing under path on failure. */
static int write_file(const char *path, const void *data, size_t len, lg_error *err)
{
    lg_atomic_file af;
    if (lg_atomic_open(&af, path, err) < 0)
        return -1;
    if (fwrite(data, 1, len, af.fp) != len) {
        int e = errno;
        lg_atomic_abort(&af);
        return lg_fail(err, "%s: write failed: %s", path, strerror(e));
    }
    return lg_atomic_commit(&af, err);
}

/* NAME.vocab: "piece<TAB>score" per id, as spm_train writes it. */
static int write_vocab(const char *path, const lg_spm *m, lg_error *err)
{
    lg_atomic_file af;
    if (lg_atomic_open(&af, path, err) < 0)
        return -1;
    for (int id = 0; id < lg_spm_vocab_size(m); id++)
        fprintf(af.fp, "%s\t%g\n", lg_spm_id_to_piece(m, id), (double)lg_spm_score(m, id));
    if (ferror(af.fp)) {
        lg_atomic_abort(&af);
        return lg_fail(err, "%s: write failed", path);
    }
    return lg_atomic_commit(&af, err);
}

int tok_write_model(const tok_model_paths *p, const uint8_t *bytes, size_t len, lg_error *err)
{
    lg_spm *m = lg_spm_load_serialized(bytes, len, p->model, err);
    if (!m)
        return -1;
    int rc = write_vocab(p->vocab, m, err);
    if (rc == 0)
        rc = write_file(p->model, bytes, len, err);
    if (rc < 0)
        remove(p->vocab);
    lg_spm_free(m);
    return rc;
}

void tok_note_llama_cpp(const lg_spm *m, const char *cmd, const char *path)
{
    char why[1024];
    lg_error err;
    int same = lg_spm_llama_cpp_check(m, why, sizeof why, &err);
    if (same > 0)
        fprintf(stderr, "tokenize %s: %s: llama.cpp tokenizes text exactly as it does "
                "(adapt export --gguf)\n", cmd, path);
    else if (same == 0)
        fprintf(stderr, "tokenize %s: %s: adapt export --gguf will refuse it, as llama.cpp "
                "would tokenize text differently: %s\n", cmd, path, why);
}
