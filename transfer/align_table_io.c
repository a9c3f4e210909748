/* Alignment tables and links as text: `tgt<TAB>src<TAB>p<TAB>count` and Pharaoh `i-j`. */
#include "lg_transfer.h"

#include <errno.h>
#include <math.h>
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

/* One table line: four tab-separated fields, two whole numbers and two numbers. */
static int parse_entry(const char *line, long long *t, long long *s, double *p, double *c)
{
    const char *q = line;
    char *end;
    long long ids[2];
    for (int k = 0; k < 2; k++) {
        if (!((*q >= '0' && *q <= '9') || *q == '-'))
            return -1;
        errno = 0;
        ids[k] = strtoll(q, &end, 10);
        if (end == q || *end != '\t')
            return -1;
        q = end + 1;
    }
    double v[2];
    for (int k = 0; k < 2; k++) {
        if (*q == ' ' || *q == '\t' || !*q)
            return -1;
        v[k] = strtod(q, &end);
        if (end == q || (k == 0 && *end != '\t'))
            return -1;
        q = k == 0 ? end + 1 : end;
    }
    while (*q == ' ' || *q == '\r' || *q == '\n')
        q++;
    if (*q)
        return -1;
    *t = ids[0]; /* strtoll saturates: an id beyond 64 bits still reads as out of range */
    *s = ids[1];
    *p = v[0];
    *c = v[1];
    return 0;
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
        long long t, s;
        double p, c;
        if (parse_entry(line, &t, &s, &p, &c) < 0) {
            rc = lg_fail(err, "%s:%lld: not a `tgt<TAB>src<TAB>p<TAB>count` line", path,
                         (long long)line_no);
            break;
        }
        if (t < 0 || s < 0 || t >= LG_PARALLEL_MAX_IDS || s >= LG_PARALLEL_MAX_IDS) {
            rc = lg_fail(err, "%s:%lld: token id %lld is outside [0, %d]", path, (long long)line_no,
                         t < 0 || t >= LG_PARALLEL_MAX_IDS ? t : s, LG_PARALLEL_MAX_IDS - 1);
            break;
        }
        if (!(p >= 0 && p <= 1)) { /* NaN too */
            rc = lg_fail(err, "%s:%lld: probability %g is not in [0, 1]", path,
                         (long long)line_no, p);
            break;
        }
        if (!(c >= 0) || !isfinite(c)) {
            rc = lg_fail(err, "%s:%lld: expected count %g is not a finite number >= 0", path,
                         (long long)line_no, c);
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
        tg[n] = (int32_t)t;
        res->src[n] = (int32_t)s;
        res->count[n] = c;
        n++;
        if (t >= res->tgt_vocab)
            res->tgt_vocab = (int32_t)t + 1;
        if (s >= res->src_vocab)
            res->src_vocab = (int32_t)s + 1;
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
