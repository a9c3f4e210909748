/* `tokenize encode` and `tokenize decode`: text lines <-> pieces or ids, exactly as
 * SentencePiece's spm_encode / spm_decode for a .model, and as Hugging Face's tokenizers
 * (encode without special tokens, decode keeping them) for a tokenizer.json. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lg_io.h"
#include "hf_tokenizer.h"
#include "lg_spm.h"
#include "tokenize_cmds.h"

/* An id of m, or -1 when tok is not a whole number in [0, vocabulary size). */
static int parse_id(const char *tok, const lg_tokenizer *m)
{
    char *end;
    errno = 0;
    long v = strtol(tok, &end, 10);
    if (errno || end == tok || *end || tok[0] == '-' || tok[0] == '+' || v < 0 ||
        v >= m->ops->vocab_size(m))
        return -1;
    return (int)v;
}

/* One input line decoded onto out; 0, or -1 with err set. */
static int decode_line(const lg_tokenizer *m, char *line, int ids_mode, lg_token_ids *ids,
                       const char ***piece_ptrs, size_t *piece_cap, FILE *out, const char *input,
                       int64_t line_no, const char *model_path, lg_error *err)
{
    size_t n = 0;
    char *save = NULL;
    ids->n = 0;
    for (char *tok = strtok_r(line, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        if (n == *piece_cap) {
            size_t cap = *piece_cap ? 2 * *piece_cap : 64;
            const char **grown = realloc(*piece_ptrs, cap * sizeof *grown);
            if (grown)
                *piece_ptrs = grown;
            int *grown_ids = realloc(ids->ids, cap * sizeof *grown_ids);
            if (grown_ids)
                ids->ids = grown_ids;
            if (!grown || !grown_ids)
                return lg_fail(err, "%s: out of memory", input);
            *piece_cap = cap;
        }
        (*piece_ptrs)[n] = tok;
        if (ids_mode) {
            int id = parse_id(tok, m);
            if (id < 0)
                return lg_fail(err, "%s: line %lld: '%s' is not an id of %s (0..%d)", input,
                               (long long)line_no, tok, model_path, m->ops->vocab_size(m) - 1);
            ids->ids[n] = id;
        } else if (!lg_tokenizer_spm(m)) {
            /* a tokenizer.json: pieces are the vocabulary's strings */
            int id = lg_tokenizer_piece_to_id(m, tok);
            if (id < 0)
                return lg_fail(err, "%s: line %lld: '%s' is not a piece of %s", input,
                               (long long)line_no, tok, model_path);
            ids->ids[n] = id;
        }
        n++;
    }
    const lg_spm *spm = lg_tokenizer_spm(m);
    char *text = ids_mode || !spm ? m->ops->decode(m, ids->ids, n, err)
                                  : lg_spm_decode_pieces(spm, *piece_ptrs, n, err);
    if (!text)
        return -1;
    fputs(text, out);
    free(text);
    return 0;
}

/* A growable string (one encoded line). */
typedef struct {
    char *p;
    size_t n, cap;
} line_buf;

static int lb_add(line_buf *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? 2 * b->cap : 256;
        while (cap < b->n + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p)
            return -1;
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    return 0;
}

static int lb_id(line_buf *b, int id)
{
    char buf[16], *p = buf + sizeof buf;
    unsigned v = id < 0 ? 0u - (unsigned)id : (unsigned)id;
    do
        *--p = (char)('0' + v % 10);
    while (v /= 10);
    if (id < 0)
        *--p = '-';
    return lb_add(b, p, (size_t)(buf + sizeof buf - p));
}

/* One line encoded as its output text (without the newline) into b. */
static int encode_one(const lg_tokenizer *tok, const char *line, size_t len, int ids_mode,
                      int add_special, lg_token_ids *ids, lg_spm_pieces *pieces, line_buf *b,
                      lg_error *err)
{
    const lg_spm *m = lg_tokenizer_spm(tok);
    b->n = 0;
    if (ids_mode || !m) {
        if (tok->ops->encode(tok, line, len, ids, err) < 0)
            return -1;
        if (add_special && lg_hf_add_special(lg_tokenizer_hf(tok), ids, err) < 0)
            return -1;
        for (size_t i = 0; i < ids->n; i++) {
            if (i && lb_add(b, " ", 1) < 0)
                return lg_fail(err, "out of memory");
            const char *piece = ids_mode ? NULL : tok->ops->piece(tok, ids->ids[i]);
            if ((ids_mode ? lb_id(b, ids->ids[i]) : lb_add(b, piece, strlen(piece))) < 0)
                return lg_fail(err, "out of memory");
        }
        return 0;
    }
    if (lg_spm_encode_pieces(m, line, len, pieces, err) < 0)
        return -1;
    const char *p = pieces->data;
    for (size_t i = 0; i < pieces->n; p += strlen(p) + 1, i++)
        if ((i && lb_add(b, " ", 1) < 0) || lb_add(b, p, strlen(p)) < 0)
            return lg_fail(err, "out of memory");
    return 0;
}

enum { BLOCK_LINES = 4096 };

/* Every line of r encoded onto out in order, blocks of BLOCK_LINES lines spread over
 * `threads` threads. 0, or -1 with err naming the input and the first failing line. */
static int encode_all(const lg_tokenizer *tok, lg_corpus_reader *r, int ids_mode,
                      int add_special, int threads, FILE *out, const char *input, lg_error *err)
{
    line_buf text = {0};
    size_t *off = malloc((BLOCK_LINES + 1) * sizeof *off);
    line_buf *res = calloc(BLOCK_LINES, sizeof *res);
    int rc = 0;
    if (!off || !res) {
        free(off);
        free(res);
        return lg_fail(err, "out of memory");
    }
    int64_t first_line = 1;
    for (;;) {
        /* a block of lines, copied (the reader's line lives until its next call) */
        int n = 0;
        text.n = 0;
        const char *line;
        size_t len;
        while (n < BLOCK_LINES && (rc = lg_corpus_next(r, &line, &len, err)) > 0) {
            off[n++] = text.n;
            if (lb_add(&text, line, len) < 0 || lb_add(&text, "", 1) < 0) {
                rc = lg_fail(err, "out of memory");
                break;
            }
        }
        if (rc < 0)
            break;
        off[n] = text.n;
        int bad = n; /* the first failing line of the block */
        lg_error first_err = {{0}};
#pragma omp parallel num_threads(threads) if (threads > 1 && n > 64)
        {
            lg_token_ids ids = {0};
            lg_spm_pieces pieces = {0};
            lg_error e;
#pragma omp for schedule(dynamic, 16)
            for (int i = 0; i < n; i++) {
                if (encode_one(tok, text.p + off[i], off[i + 1] - off[i] - 1, ids_mode,
                               add_special, &ids, &pieces, &res[i], &e) < 0) {
#pragma omp critical(encode_error)
                    if (i < bad) {
                        bad = i;
                        first_err = e;
                    }
                }
            }
            lg_token_ids_free(&ids);
            lg_spm_pieces_free(&pieces);
        }
        for (int i = 0; i < bad; i++) {
            fwrite(res[i].p ? res[i].p : "", 1, res[i].n, out);
            putc('\n', out);
        }
        if (bad < n) {
            *err = first_err;
            rc = lg_fail_context(err, "%s: line %lld", input, (long long)(first_line + bad));
            break;
        }
        first_line += n;
        if (n < BLOCK_LINES)
            break;
    }
    for (int i = 0; i < BLOCK_LINES; i++)
        free(res[i].p);
    free(res);
    free(off);
    free(text.p);
    return rc < 0 ? -1 : 0;
}

static int codec(int argc, char **argv, int encode)
{
    const char *model_path = NULL, *input = "-", *output = "-";
    int ids_mode = 0, pieces_mode = 0, threads = 0, add_special = 0;
    lg_opt opts[] = {
        {LG_INPUT(&model_path), .name = "model", .short_name = 'm', .flags = LG_OPT_REQUIRED,
         .arg = "MODEL",
         .help = "a SentencePiece .model, a tokenizer.json or a\nmodel directory holding one"},
        {LG_FLAG(&ids_mode), .name = "ids", .help = "ids (default: pieces)"},
        {LG_FLAG(&pieces_mode), .name = "pieces", .help = "pieces"},
        LG_THREADS_OPT(&threads),
        {LG_FLAG(&add_special), .name = "add-special",
         .help = "a tokenizer.json: the special tokens its\n"
                 "post-processor adds (TemplateProcessing's BOS/EOS),\n"
                 "as tokenizers' addSpecialTokens"},
        {LG_OUTPUT(&output), .name = "output", .short_name = 'o', .flags = LG_OPT_STDIO,
         .arg = "FILE", .def = "-, standard output",
         .help = "where the lines go (a file is written whole or not\nat all)"},
        {LG_INPUT(&input), .name = "INPUT", .flags = LG_OPT_POSITIONAL | LG_OPT_STDIO,
         .def = "-, standard input", .help = "plain or gzip text"},
        {0}};
    if (!encode) /* --threads and --add-special are encode's only */
        memmove(&opts[3], &opts[5], sizeof opts - 5 * sizeof *opts);
    lg_cli c = {.prog = "tokenize", .name = encode ? "encode" : "decode", .opts = opts,
                .about = encode
                             ? "Encodes text one line at a time into pieces or ids, exactly as\n"
                               "`spm_encode --model MODEL --output_format=piece|id` does (no ICU\n"
                               "step: the model's own normaliser applies); a tokenizer.json\n"
                               "exactly as Hugging Face's tokenizers encodes (no special tokens\n"
                               "added; pieces are the vocabulary's strings)."
                             : "Decodes space-separated pieces or ids one line at a time, exactly\n"
                               "as `spm_decode --model MODEL --input_format=piece|id` does; a\n"
                               "tokenizer.json through its decoder, as Hugging Face's tokenizers\n"
                               "decodes (special tokens kept)."};
    int rc = lg_cli_parse(&c, argc, argv);
    if (rc != LG_CLI_RUN)
        return rc;
    if (ids_mode && pieces_mode)
        return lg_cli_finish(&c, lg_cli_usage(&c, "give one of --ids or --pieces"));
    lg_error err;
    lg_tokenizer *tok = lg_tokenizer_load(model_path, &err);
    if (!tok)
        return lg_cli_finish(&c, lg_cli_fail(&c, &err));
    const lg_spm *m = lg_tokenizer_spm(tok);
    if (add_special && m) {
        lg_tokenizer_free(tok);
        return lg_cli_finish(&c, lg_cli_usage(&c, "--add-special: %s is a SentencePiece model, "
                                                  "which has no post-processor (only a "
                                                  "tokenizer.json)", model_path));
    }
    lg_corpus_reader *r = lg_corpus_open(input, &err);
    if (!r) {
        lg_tokenizer_free(tok);
        return lg_cli_finish(&c, lg_cli_fail(&c, &err));
    }
    const int to_stdout = !strcmp(output, "-");
    lg_atomic_file af = {0};
    FILE *out = stdout;
    if (!to_stdout) {
        if (lg_atomic_open(&af, output, &err) < 0) {
            lg_corpus_close(r);
            lg_tokenizer_free(tok);
            return lg_cli_finish(&c, lg_cli_fail(&c, &err));
        }
        out = af.fp;
    }
    lg_token_ids ids = {0};
    lg_spm_pieces pieces = {0};
    const char **piece_ptrs = NULL;
    size_t piece_cap = 0;
    const char *line;
    size_t len;
    (void)m;
    if (encode)
        rc = encode_all(tok, r, ids_mode, add_special, lg_cli_threads(threads), out, input, &err);
    while (!encode && (rc = lg_corpus_next(r, &line, &len, &err)) > 0) {
        if ((rc = decode_line(tok, (char *)line /* ours until the next call */, ids_mode,
                                     &ids, &piece_ptrs, &piece_cap, out, input,
                                     lg_corpus_line_number(r), model_path, &err)) < 0) {
            break;
        }
        putc('\n', out);
    }
    /* standard output is checked by lg_cli_main when it closes it */
    if (!to_stdout) {
        if (rc == 0 && (fflush(out) != 0 || ferror(out)))
            rc = lg_fail(&err, "%s: write failed", output);
        if (rc == 0)
            rc = lg_atomic_commit(&af, &err);
        else
            lg_atomic_abort(&af);
    }
    lg_corpus_close(r);
    lg_token_ids_free(&ids);
    lg_spm_pieces_free(&pieces);
    free(piece_ptrs);
    lg_tokenizer_free(tok);
    return lg_cli_finish(&c, rc < 0 ? lg_cli_fail(&c, &err) : 0);
}

int tok_cmd_encode(int argc, char **argv) { return codec(argc, argv, 1); }
int tok_cmd_decode(int argc, char **argv) { return codec(argc, argv, 0); }
