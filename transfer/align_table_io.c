/* Alignment tables and links as text: `tgt<TAB>src<TAB>p<TAB>count` and Pharaoh `i-j`. */
#include "lg_transfer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "lg_io.h"

typedef struct {
    int32_t src;
    double count;
} entry;

static int by_count_desc(const void *a, const void *b)
{
    const entry *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return (x->src > y->src) - (x->src < y->src);
}

int lg_align_write_table(const lg_align_result *res, const char *path, double min_count,
                         lg_error *err)
{
    lg_atomic_file af;
    if (lg_atomic_open(&af, path, err) < 0)
        return -1;
    int64_t widest = 0;
    for (int32_t t = 0; t < res->tgt_vocab; t++)
        if (res->row[t + 1] - res->row[t] > widest)
            widest = res->row[t + 1] - res->row[t];
    entry *row = malloc((size_t)widest * sizeof *row + 1);
    if (!row) {
        lg_atomic_abort(&af);
        return lg_fail(err, "%s: out of memory", path);
    }
    fprintf(af.fp, "# lingraft alignment table: tgt_id src_id P(src|tgt) expected_count\n");
    if (res->src_tokenizer_sha256[0])
        fprintf(af.fp, "# src_tokenizer_sha256 %s\n", res->src_tokenizer_sha256);
    if (res->tgt_tokenizer_sha256[0])
        fprintf(af.fp, "# tgt_tokenizer_sha256 %s\n", res->tgt_tokenizer_sha256);
    for (int32_t t = 0; t < res->tgt_vocab; t++) {
        int n = 0;
        double total = 0;
        for (int64_t k = res->row[t]; k < res->row[t + 1]; k++)
            if (res->count[k] >= min_count && res->count[k] > 0) {
                row[n].src = res->src[k];
                row[n].count = res->count[k];
                total += res->count[k];
                n++;
            }
        qsort(row, (size_t)n, sizeof *row, by_count_desc);
        for (int i = 0; i < n; i++)
            fprintf(af.fp, "%d\t%d\t%.6g\t%.6g\n", t, row[i].src, row[i].count / total, row[i].count);
    }
    free(row);
    return lg_atomic_commit(&af, err);
}

int lg_align_write_links(const lg_align_result *res, const char *path, lg_error *err)
{
    if (!res->link_off)
        return lg_fail(err, "%s: the alignment was run without links", path);
    lg_atomic_file af;
    if (lg_atomic_open(&af, path, err) < 0)
        return -1;
    for (int64_t k = 0; k < res->n_pairs; k++) {
        for (int64_t l = res->link_off[k]; l < res->link_off[k + 1]; l++)
            fprintf(af.fp, "%s%d-%d", l > res->link_off[k] ? " " : "", res->link_src[l],
                    res->link_tgt[l]);
        fputc('\n', af.fp);
    }
    return lg_atomic_commit(&af, err);
}

int lg_align_read_table(const char *path, lg_align_result *res, lg_error *err)
{
    memset(res, 0, sizeof *res);
    gzFile gz = gzopen(path, "rb");
    if (!gz)
        return lg_fail(err, "%s: cannot open: %s", path, strerror(errno));
    char line[256];
    int64_t n = 0, cap = 0, line_no = 0;
    int32_t *tg = NULL;
    int rc = 0;
    while (gzgets(gz, line, sizeof line)) {
        line_no++;
        if (line[0] == '#') {
            char hex[65];
            if (sscanf(line, "# src_tokenizer_sha256 %64s", hex) == 1)
                memcpy(res->src_tokenizer_sha256, hex, sizeof hex);
            else if (sscanf(line, "# tgt_tokenizer_sha256 %64s", hex) == 1)
                memcpy(res->tgt_tokenizer_sha256, hex, sizeof hex);
            continue;
        }
        int t, s;
        double p, c;
        char extra;
        if (sscanf(line, "%d\t%d\t%lf\t%lf %c", &t, &s, &p, &c, &extra) != 4 || t < 0 || s < 0 ||
            c < 0) {
            rc = lg_fail(err, "%s:%lld: not a `tgt<TAB>src<TAB>p<TAB>count` line", path,
                         (long long)line_no);
            break;
        }
        if (n > 0 && t < tg[n - 1]) {
            rc = lg_fail(err, "%s:%lld: target ids are not in ascending order", path,
                         (long long)line_no);
            break;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 4096;
            int32_t *a = realloc(tg, (size_t)cap * sizeof *a);
            int32_t *b = a ? realloc(res->src, (size_t)cap * sizeof *b) : NULL;
            double *d = b ? realloc(res->count, (size_t)cap * sizeof *d) : NULL;
            if (a)
                tg = a;
            if (b)
                res->src = b;
            if (d)
                res->count = d;
            if (!d) {
                rc = lg_fail(err, "%s: out of memory", path);
                break;
            }
        }
        tg[n] = t;
        res->src[n] = s;
        res->count[n] = c;
        n++;
        if (t >= res->tgt_vocab)
            res->tgt_vocab = t + 1;
        if (s >= res->src_vocab)
            res->src_vocab = s + 1;
    }
    gzclose(gz);
    if (rc == 0) {
        res->nnz = n;
        res->row = calloc((size_t)res->tgt_vocab + 1, sizeof *res->row);
        if (!res->row)
            rc = lg_fail(err, "%s: out of memory", path);
        else {
            for (int64_t k = 0; k < n; k++)
                res->row[tg[k] + 1]++;
            for (int32_t t = 0; t < res->tgt_vocab; t++)
                res->row[t + 1] += res->row[t];
        }
    }
    free(tg);
    if (rc < 0)
        lg_align_result_free(res);
    return rc;
}
