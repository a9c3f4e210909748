/* Parallel corpora of token ids: two line-aligned files or one src<TAB>tgt file, plain or gzip. */
#include "lg_transfer.h"
#include "lg_spm.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

void lg_parallel_init(lg_parallel *pc)
{
    memset(pc, 0, sizeof *pc);
}

void lg_parallel_free(lg_parallel *pc)
{
    free(pc->src_off);
    free(pc->tgt_off);
    free(pc->src_tok);
    free(pc->tgt_tok);
    memset(pc, 0, sizeof *pc);
}

static int grow(void **p, int64_t *cap, int64_t need, size_t elem, lg_error *err)
{
    if (need <= *cap)
        return 0;
    int64_t n = *cap ? *cap : 1024;
    while (n < need)
        n *= 2;
    void *q = realloc(*p, (size_t)n * elem);
    if (!q)
        return lg_fail(err, "out of memory for %lld corpus entries", (long long)n);
    *p = q;
    *cap = n;
    return 0;
}

static int ensure_pairs(lg_parallel *pc, int64_t need, lg_error *err)
{
    if (need + 1 <= pc->cap_pairs)
        return 0;
    int64_t cap = pc->cap_pairs;
    if (grow((void **)&pc->src_off, &cap, need + 1, sizeof(int64_t), err) < 0)
        return -1;
    cap = pc->cap_pairs;
    if (grow((void **)&pc->tgt_off, &cap, need + 1, sizeof(int64_t), err) < 0)
        return -1;
    if (pc->cap_pairs == 0) {
        pc->src_off[0] = 0;
        pc->tgt_off[0] = 0;
    }
    pc->cap_pairs = cap;
    return 0;
}

static int32_t limit_of(int32_t limit)
{
    return limit > 0 ? limit : LG_PARALLEL_MAX_IDS;
}

int lg_parallel_bound(lg_parallel *pc, const char *src_tokenizer, const char *tgt_tokenizer,
                      lg_error *err)
{
    const char *paths[2] = {src_tokenizer, tgt_tokenizer};
    for (int k = 0; k < 2; k++) {
        if (!paths[k])
            continue;
        lg_tokenizer *m = lg_tokenizer_load(paths[k], err);
        if (!m)
            return -1;
        int n = m->ops->vocab_size(m);
        lg_tokenizer_free(m);
        if (k == 0) {
            pc->src_limit = n;
            pc->src_tokenizer = paths[k];
        } else {
            pc->tgt_limit = n;
            pc->tgt_tokenizer = paths[k];
        }
    }
    return 0;
}

int lg_parallel_add(lg_parallel *pc, const int32_t *src, int n_src, const int32_t *tgt,
                    int n_tgt, lg_error *err)
{
    for (int i = 0; i < n_src; i++)
        if (src[i] >= limit_of(pc->src_limit))
            return lg_fail(err, "source token id %d is outside the vocabulary (%d)", src[i],
                           limit_of(pc->src_limit));
    for (int i = 0; i < n_tgt; i++)
        if (tgt[i] >= limit_of(pc->tgt_limit))
            return lg_fail(err, "target token id %d is outside the vocabulary (%d)", tgt[i],
                           limit_of(pc->tgt_limit));
    if (ensure_pairs(pc, pc->n_pairs + 1, err) < 0)
        return -1;
    int64_t s0 = pc->src_off[pc->n_pairs], t0 = pc->tgt_off[pc->n_pairs];
    if (grow((void **)&pc->src_tok, &pc->cap_src, s0 + n_src, sizeof(int32_t), err) < 0 ||
        grow((void **)&pc->tgt_tok, &pc->cap_tgt, t0 + n_tgt, sizeof(int32_t), err) < 0)
        return -1;
    for (int i = 0; i < n_src; i++) {
        if (src[i] < 0)
            return lg_fail(err, "negative source token id %d", src[i]);
        pc->src_tok[s0 + i] = src[i];
        if (src[i] >= pc->src_vocab)
            pc->src_vocab = src[i] + 1;
    }
    for (int i = 0; i < n_tgt; i++) {
        if (tgt[i] < 0)
            return lg_fail(err, "negative target token id %d", tgt[i]);
        pc->tgt_tok[t0 + i] = tgt[i];
        if (tgt[i] >= pc->tgt_vocab)
            pc->tgt_vocab = tgt[i] + 1;
    }
    pc->n_pairs++;
    pc->src_off[pc->n_pairs] = s0 + n_src;
    pc->tgt_off[pc->n_pairs] = t0 + n_tgt;
    return 0;
}

/* A growable line reader over gzread (which reads plain files unchanged). */
typedef struct {
    gzFile gz;
    const char *path;
    char *buf;
    size_t cap;
    int64_t line_no;
} line_reader;

static int reader_open(line_reader *r, const char *path, lg_error *err)
{
    memset(r, 0, sizeof *r);
    r->path = path;
    r->gz = strcmp(path, "-") == 0 ? gzdopen(0, "rb") : gzopen(path, "rb");
    if (!r->gz)
        return lg_fail(err, "%s: cannot open: %s", path, errno ? strerror(errno) : "gzopen failed");
    gzbuffer(r->gz, 1 << 18);
    r->cap = 1 << 12;
    r->buf = malloc(r->cap);
    if (!r->buf) {
        gzclose(r->gz);
        return lg_fail(err, "out of memory");
    }
    return 0;
}

static void reader_close(line_reader *r)
{
    if (r->gz)
        gzclose(r->gz);
    free(r->buf);
    r->gz = NULL;
    r->buf = NULL;
}

/* Returns 1 with the line (newline stripped) in r->buf, 0 at end of file, -1 on error. */
static int reader_next(line_reader *r, lg_error *err)
{
    size_t len = 0;
    for (;;) {
        if (!gzgets(r->gz, r->buf + len, (int)(r->cap - len))) {
            int code;
            const char *msg = gzerror(r->gz, &code);
            if (code != Z_OK && code != Z_STREAM_END)
                return lg_fail(err, "%s: read error: %s", r->path, msg);
            if (len == 0)
                return 0;
            break;
        }
        len += strlen(r->buf + len);
        if (len > 0 && r->buf[len - 1] == '\n')
            break;
        if (len + 1 < r->cap) /* end of file without a newline */
            continue;
        char *nb = realloc(r->buf, r->cap * 2);
        if (!nb)
            return lg_fail(err, "%s: out of memory for a long line", r->path);
        r->buf = nb;
        r->cap *= 2;
    }
    while (len > 0 && (r->buf[len - 1] == '\n' || r->buf[len - 1] == '\r'))
        r->buf[--len] = 0;
    r->line_no++;
    return 1;
}

typedef struct {
    int32_t *v;
    int n, cap;
} id_list;

/* The side of a corpus being read: its bound and the tokenizer behind it. */
typedef struct {
    int32_t limit;
    const char *tokenizer;
} id_bound;

static id_bound src_bound(const lg_parallel *pc)
{
    return (id_bound){limit_of(pc->src_limit), pc->src_limit > 0 ? pc->src_tokenizer : NULL};
}

static id_bound tgt_bound(const lg_parallel *pc)
{
    return (id_bound){limit_of(pc->tgt_limit), pc->tgt_limit > 0 ? pc->tgt_tokenizer : NULL};
}

/* Parses space-separated non-negative integer ids of s[0..len), each below bound.limit. */
static int parse_ids(const char *s, size_t len, id_list *out, id_bound bound, const char *path,
                     int64_t line_no, lg_error *err)
{
    out->n = 0;
    size_t i = 0;
    while (i < len) {
        while (i < len && (s[i] == ' ' || s[i] == '\t'))
            i++;
        if (i >= len)
            break;
        size_t b = i;
        long long v = 0;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            if (v < bound.limit) /* beyond it the value no longer matters: no overflow */
                v = v * 10 + (s[i] - '0');
            i++;
        }
        if (i > b && (i == len || s[i] == ' ' || s[i] == '\t') && v >= bound.limit) {
            if (bound.tokenizer)
                return lg_fail(err, "%s:%lld: token id %.*s is outside the vocabulary of %s "
                                    "(%d pieces)", path, (long long)line_no,
                               (int)(i - b > 24 ? 24 : i - b), s + b, bound.tokenizer,
                               bound.limit);
            return lg_fail(err, "%s:%lld: token id %.*s is beyond %d, the largest id read "
                                "without the tokenizer that made the ids", path,
                           (long long)line_no, (int)(i - b > 24 ? 24 : i - b), s + b,
                           bound.limit - 1);
        }
        if (i == b || (i < len && s[i] != ' ' && s[i] != '\t')) {
            size_t e = b;
            while (e < len && s[e] != ' ' && s[e] != '\t')
                e++;
            return lg_fail(err, "%s:%lld: '%.*s' is not a token id (expected space-separated "
                           "non-negative integers)", path, (long long)line_no,
                           (int)(e - b > 40 ? 40 : e - b), s + b);
        }
        if (out->n == out->cap) {
            int nc = out->cap ? out->cap * 2 : 256;
            int32_t *nv = realloc(out->v, (size_t)nc * sizeof *nv);
            if (!nv)
                return lg_fail(err, "out of memory");
            out->v = nv;
            out->cap = nc;
        }
        out->v[out->n++] = (int32_t)v;
    }
    return 0;
}

int lg_parallel_read(lg_parallel *pc, const char *src_path, const char *tgt_path, lg_error *err)
{
    line_reader rs, rt;
    if (reader_open(&rs, src_path, err) < 0)
        return -1;
    if (reader_open(&rt, tgt_path, err) < 0) {
        reader_close(&rs);
        return -1;
    }
    id_list a = {0}, b = {0};
    int rc = -1;
    for (;;) {
        int gs = reader_next(&rs, err);
        if (gs < 0)
            goto done;
        int gt = reader_next(&rt, err);
        if (gt < 0)
            goto done;
        if (gs != gt) {
            /* count the rest of the longer file to name both counts */
            line_reader *longer = gs ? &rs : &rt;
            int g;
            while ((g = reader_next(longer, err)) > 0)
                ;
            if (g < 0)
                goto done;
            lg_fail(err, "%s has %lld lines but %s has %lld: the files are not line-aligned",
                    src_path, (long long)rs.line_no, tgt_path, (long long)rt.line_no);
            goto done;
        }
        if (!gs)
            break;
        if (parse_ids(rs.buf, strlen(rs.buf), &a, src_bound(pc), src_path, rs.line_no, err) < 0 ||
            parse_ids(rt.buf, strlen(rt.buf), &b, tgt_bound(pc), tgt_path, rt.line_no, err) < 0)
            goto done;
        if ((a.n == 0) != (b.n == 0)) {
            lg_fail(err, "%s:%lld: empty line while %s:%lld has %d tokens",
                    a.n == 0 ? src_path : tgt_path, (long long)rs.line_no,
                    a.n == 0 ? tgt_path : src_path, (long long)rt.line_no, a.n == 0 ? b.n : a.n);
            goto done;
        }
        if (lg_parallel_add(pc, a.v, a.n, b.v, b.n, err) < 0)
            goto done;
    }
    rc = 0;
done:
    free(a.v);
    free(b.v);
    reader_close(&rs);
    reader_close(&rt);
    return rc;
}

int lg_parallel_read_tsv(lg_parallel *pc, const char *path, lg_error *err)
{
    line_reader r;
    if (reader_open(&r, path, err) < 0)
        return -1;
    id_list a = {0}, b = {0};
    int rc = -1;
    int g;
    while ((g = reader_next(&r, err)) > 0) {
        char *tab = strchr(r.buf, '\t');
        if (!tab) {
            lg_fail(err, "%s:%lld: no tab between the source and target ids", path,
                    (long long)r.line_no);
            goto done;
        }
        if (strchr(tab + 1, '\t')) {
            lg_fail(err, "%s:%lld: more than one tab (expected src ids<TAB>tgt ids)", path,
                    (long long)r.line_no);
            goto done;
        }
        if (parse_ids(r.buf, (size_t)(tab - r.buf), &a, src_bound(pc), path, r.line_no, err) < 0 ||
            parse_ids(tab + 1, strlen(tab + 1), &b, tgt_bound(pc), path, r.line_no, err) < 0)
            goto done;
        if ((a.n == 0) != (b.n == 0)) {
            lg_fail(err, "%s:%lld: the %s side is empty while the other has %d tokens", path,
                    (long long)r.line_no, a.n == 0 ? "source" : "target", a.n == 0 ? b.n : a.n);
            goto done;
        }
        if (lg_parallel_add(pc, a.v, a.n, b.v, b.n, err) < 0)
            goto done;
    }
    if (g == 0)
        rc = 0;
done:
    free(a.v);
    free(b.v);
    reader_close(&r);
    return rc;
}
