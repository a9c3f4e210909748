/* A byte-level BPE tokenizer.json extended with a target's pieces (hf_extend.h). */
#include "hf_extend.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hf_internal.h"
#include "hf_tokenizer.h"
#include "lg_spm.h"
#include "lg_text.h"

void lg_hf_new_pieces_free(lg_hf_new_piece *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(p[i].bytes);
    free(p);
}

/* s with every U+2581 a space, as bytes appended to b. */
static int unmeta(hf_buf *b, const char *s)
{
    for (; *s; s++) {
        /* byte by byte: s may end before three bytes */
        if ((unsigned char)s[0] == 0xe2 && (unsigned char)s[1] == 0x96 &&
            (unsigned char)s[2] == 0x81) {
            if (hf_buf_add(b, " ", 1) < 0)
                return -1;
            s += 2;
        } else if (hf_buf_add(b, s, 1) < 0) {
            return -1;
        }
    }
    return 0;
}

/* A byte-level string's bytes appended to b; 0, or 1 when a character is outside the
 * alphabet. */
static int unbyte(hf_buf *b, const char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        size_t k;
        int c = lg_byte_level_byte(hf_utf8_next((const unsigned char *)s + i, &k));
        if (c < 0)
            return 1;
        unsigned char byte = (unsigned char)c;
        if (hf_buf_add(b, &byte, 1) < 0)
            return -1;
        i += k;
    }
    return 0;
}

static int is_byte_level(const lg_hf *h)
{
    for (unsigned b = 0; b < 256; b++) {
        char s[8];
        s[hf_utf8_put(s, lg_byte_level_char(b))] = 0;
        if (lg_hf_piece_to_id(h, s) < 0)
            return 0;
    }
    return 1;
}

int lg_hf_target_pieces(const lg_tokenizer *target, lg_hf_new_piece **out, size_t *n,
                        lg_error *err)
{
    *out = NULL;
    *n = 0;
    const lg_spm *spm = lg_tokenizer_spm(target);
    const lg_hf *h = lg_tokenizer_hf(target);
    int size = target->ops->vocab_size(target);
    int byte_level = h && is_byte_level(h);
    lg_hf_new_piece *v = calloc((size_t)size + 1, sizeof *v);
    if (!v)
        return lg_fail(err, "%s: out of memory", target->path);
    size_t k = 0;
    hf_buf b = {0};
    for (int id = 0; id < size; id++) {
        b.n = 0;
        int rc;
        if (spm) {
            int type = lg_spm_type(spm, id);
            if (type != LG_SPM_NORMAL && type != LG_SPM_USER_DEFINED)
                continue;
            rc = unmeta(&b, lg_spm_id_to_piece(spm, id));
        } else {
            if (lg_hf_is_special(h, id) || lg_hf_byte_of(h, id) >= 0)
                continue;
            const char *p = lg_hf_piece(h, id);
            rc = byte_level ? unbyte(&b, p) : unmeta(&b, p);
            if (rc == 1) /* not a byte-level string: an added token's content */
                continue;
        }
        if (rc < 0 || (b.n && !(v[k].bytes = malloc(b.n)))) {
            hf_buf_free(&b);
            lg_hf_new_pieces_free(v, k);
            return lg_fail(err, "%s: out of memory", target->path);
        }
        if (b.n == 0)
            continue;
        memcpy(v[k].bytes, b.p, b.n);
        v[k].len = b.n;
        v[k].source_id = id;
        k++;
    }
    hf_buf_free(&b);
    *out = v;
    *n = k;
    return 0;
}

/* ---- the extension ------------------------------------------------------------------ */

typedef struct {
    char **tok; /* id -> byte-level string */
    int n, cap;
    int *table; /* id, -1 empty */
    size_t mask;
    /* merges: (a, b) -> result id */
    uint64_t *mkey;
    int *mres, *mrank;
    size_t mmask, nm;
} ext;

static int vocab_find(const ext *e, const char *s, size_t len)
{
    size_t h = hf_hash(s, len) & e->mask;
    for (int x; (x = e->table[h]) >= 0; h = (h + 1) & e->mask)
        if (strlen(e->tok[x]) == len && !memcmp(e->tok[x], s, len))
            return x;
    return -1;
}

static int grow_table(ext *e)
{
    if (2 * ((size_t)e->n + 1) <= e->mask + 1)
        return 0;
    size_t size = e->mask ? 2 * (e->mask + 1) : 1024;
    int *t = malloc(size * sizeof *t);
    if (!t)
        return -1;
    memset(t, 0xff, size * sizeof *t);
    for (int id = 0; id < e->n; id++) {
        size_t h = hf_hash(e->tok[id], strlen(e->tok[id])) & (size - 1);
        while (t[h] >= 0)
            h = (h + 1) & (size - 1);
        t[h] = id;
    }
    free(e->table);
    e->table = t;
    e->mask = size - 1;
    return 0;
}

/* Adds s (copied) as id e->n. */
static int vocab_add(ext *e, const char *s, size_t len)
{
    if (e->n == e->cap) {
        int cap = e->cap ? 2 * e->cap : 1024;
        char **g = realloc(e->tok, (size_t)cap * sizeof *g);
        if (!g)
            return -1;
        e->tok = g;
        e->cap = cap;
    }
    char *c = malloc(len + 1);
    if (!c)
        return -1;
    memcpy(c, s, len);
    c[len] = 0;
    e->tok[e->n++] = c;
    if (grow_table(e) < 0)
        return -1;
    size_t h = hf_hash(c, len) & e->mask;
    while (e->table[h] >= 0)
        h = (h + 1) & e->mask;
    e->table[h] = e->n - 1;
    return e->n - 1;
}

static size_t mhash(uint64_t k) { return (size_t)((k * 0x9E3779B97F4A7C15ull) >> 17); }

static int merge_find(const ext *e, int a, int b, int *rank)
{
    uint64_t k = (uint64_t)(uint32_t)a << 32 | (uint32_t)b;
    for (size_t h = mhash(k) & e->mmask; e->mres[h] >= 0; h = (h + 1) & e->mmask)
        if (e->mkey[h] == k) {
            *rank = e->mrank[h];
            return e->mres[h];
        }
    return -1;
}

static int merge_add(ext *e, int a, int b, int res)
{
    if (2 * (e->nm + 1) > e->mmask + 1) {
        size_t size = e->mmask ? 2 * (e->mmask + 1) : 1 << 16;
        uint64_t *k = malloc(size * sizeof *k);
        int *r = malloc(size * sizeof *r), *rk = malloc(size * sizeof *rk);
        if (!k || !r || !rk) {
            free(k);
            free(r);
            free(rk);
            return -1;
        }
        memset(r, 0xff, size * sizeof *r);
        for (size_t i = 0; e->mmask && i <= e->mmask; i++)
            if (e->mres[i] >= 0) {
                size_t h = mhash(e->mkey[i]) & (size - 1);
                while (r[h] >= 0)
                    h = (h + 1) & (size - 1);
                k[h] = e->mkey[i];
                r[h] = e->mres[i];
                rk[h] = e->mrank[i];
            }
        free(e->mkey);
        free(e->mres);
        free(e->mrank);
        e->mkey = k;
        e->mres = r;
        e->mrank = rk;
        e->mmask = size - 1;
    }
    uint64_t key = (uint64_t)(uint32_t)a << 32 | (uint32_t)b;
    size_t h = mhash(key) & e->mmask;
    while (e->mres[h] >= 0) {
        if (e->mkey[h] == key) /* a later duplicate replaces an earlier one (as the reader) */
            break;
        h = (h + 1) & e->mmask;
    }
    if (e->mres[h] < 0)
        e->nm++;
    e->mkey[h] = key;
    e->mres[h] = res;
    e->mrank[h] = (int)e->nm - 1;
    return 0;
}

static void ext_free(ext *e)
{
    for (int i = 0; i < e->n; i++)
        free(e->tok[i]);
    free(e->tok);
    free(e->table);
    free(e->mkey);
    free(e->mres);
    free(e->mrank);
}

/* BPE of byte-level string s with e's merges: ids in *sym (count returned). */
static int bpe(const ext *e, const char *s, int **sym, size_t *cap)
{
    size_t len = strlen(s), n = 0;
    if (len > *cap) {
        int *g = realloc(*sym, len * sizeof *g);
        if (!g)
            return -1;
        *sym = g;
        *cap = len;
    }
    int *v = *sym;
    for (size_t i = 0; i < len;) {
        size_t k;
        hf_utf8_next((const unsigned char *)s + i, &k);
        v[n++] = vocab_find(e, s + i, k);
        i += k;
    }
    for (;;) {
        int best = -1, best_rank = 0, best_res = 0;
        for (size_t i = 0; i + 1 < n; i++) {
            int rank, res = merge_find(e, v[i], v[i + 1], &rank);
            if (res >= 0 && (best < 0 || rank < best_rank)) {
                best = (int)i;
                best_rank = rank;
                best_res = res;
            }
        }
        if (best < 0)
            break;
        v[best] = best_res;
        memmove(v + best + 1, v + best + 2, (n - (size_t)best - 2) * sizeof *v);
        n--;
    }
    return (int)n;
}

typedef struct {
    int words;
    const char *want;
    size_t want_len;
    int same;
} word_check;

static int check_word(void *ctx, const char *w, size_t n, lg_error *err)
{
    (void)err;
    word_check *c = ctx;
    c->words++;
    c->same = c->words == 1 && n == c->want_len && !memcmp(w, c->want, n);
    return 0;
}

int lg_hf_extend(const char *base_json, size_t base_len, const char *base_name,
                 const lg_hf_new_piece *pieces, size_t n, char **out_json, int **source,
                 lg_hf_extend_stats *st, lg_error *err)
{
    *out_json = NULL;
    *source = NULL;
    memset(st, 0, sizeof *st);
    ext e = {0};
    cJSON *doc = NULL;
    lg_hf *base = lg_hf_load_json(base_json, base_len, base_name, err), *result = NULL;
    hf_buf bl = {0}, cat = {0};
    int *sym = NULL, *src = NULL, *new_merges = NULL;
    size_t sym_cap = 0, nnew = 0, new_cap = 0;
    int rc = -1;
    if (!base)
        return -1;
    if (!is_byte_level(base)) {
        lg_fail(err, "%s: not a byte-level BPE (its vocabulary lacks the ByteLevel byte "
                     "alphabet); only a byte-level base (Llama-3, Qwen) can be extended as a "
                     "tokenizer.json", base_name);
        goto done;
    }
    if (!(doc = cJSON_ParseWithLength(base_json, base_len)))
        goto oom;
    cJSON *model = cJSON_GetObjectItemCaseSensitive(doc, "model");
    cJSON *vocab = cJSON_GetObjectItemCaseSensitive(model, "vocab");
    cJSON *merges = cJSON_GetObjectItemCaseSensitive(model, "merges");
    if (!cJSON_IsArray(merges)) {
        if (!(merges = cJSON_CreateArray()))
            goto oom;
        cJSON_DeleteItemFromObjectCaseSensitive(model, "merges");
        cJSON_AddItemToObject(model, "merges", merges);
    }
    st->base_size = lg_hf_vocab_size(base);
    int model_n = cJSON_GetArraySize(vocab); /* ids 0 .. model_n-1 (the reader checked) */
    for (int id = 0; id < st->base_size; id++) {
        const char *p = lg_hf_piece(base, id);
        if (vocab_add(&e, p, strlen(p)) < 0)
            goto oom;
        /* added tokens past model.vocab join it under their ids, so that new ids follow
         * without a gap */
        if (id >= model_n)
            cJSON_AddItemToObject(vocab, p, cJSON_CreateNumber(id));
    }
    int pair_format = 0, m = 0;
    for (const cJSON *x = merges->child; x; x = x->next, m++) {
        const char *a, *b;
        char *sp = NULL;
        if (cJSON_IsArray(x)) {
            pair_format = 1;
            a = x->child->valuestring;
            b = x->child->next->valuestring;
        } else {
            sp = strdup(x->valuestring);
            if (!sp)
                goto oom;
            char *space = strchr(sp, ' ');
            *space = 0;
            a = sp;
            b = space + 1;
        }
        int ia = vocab_find(&e, a, strlen(a)), ib = vocab_find(&e, b, strlen(b));
        cat.n = 0;
        if (hf_buf_add(&cat, a, strlen(a)) < 0 || hf_buf_add(&cat, b, strlen(b)) < 0) {
            free(sp);
            goto oom;
        }
        int res = vocab_find(&e, cat.p, cat.n);
        free(sp);
        if (ia < 0 || ib < 0 || res < 0) {
            lg_fail(err, "%s: model.merges[%d]: names a piece not in the vocabulary", base_name, m);
            goto done;
        }
        if (merge_add(&e, ia, ib, res) < 0)
            goto oom;
    }
    if (!(src = malloc((n + 1) * 64 * sizeof *src)))
        goto oom;
    for (size_t k = 0; k < n; k++) {
        const lg_hf_new_piece *p = &pieces[k];
        bl.n = 0;
        if (hf_buf_reserve(&bl, 2 * p->len + 1) < 0)
            goto oom;
        for (size_t i = 0; i < p->len; i++)
            bl.n += hf_utf8_put(bl.p + bl.n, lg_byte_level_char((unsigned char)p->bytes[i]));
        bl.p[bl.n] = 0;
        int have = vocab_find(&e, bl.p, bl.n);
        if (have >= st->base_size && src[have - st->base_size] < 0) {
            /* added earlier as a step of another piece's path: the target's own now */
            src[have - st->base_size] = (int)k;
            st->added_intermediate--;
            st->added_target++;
            continue;
        }
        if (have >= 0) {
            st->present++;
            continue;
        }
        /* the base's pre-tokenizer must keep the text one word */
        if (lg_utf8_valid(p->bytes, p->len, NULL)) {
            word_check wc = {.want = bl.p, .want_len = bl.n};
            if (lg_hf_pretokenize(base, p->bytes, p->len, check_word, &wc, err) < 0)
                goto done;
            if (wc.words != 1 || !wc.same) {
                st->split++;
                continue;
            }
        }
        int nt = bpe(&e, bl.p, &sym, &sym_cap);
        if (nt < 0)
            goto oom;
        int cur = sym[0];
        for (int i = 1; i < nt; i++) {
            cat.n = 0;
            if (hf_buf_add(&cat, e.tok[cur], strlen(e.tok[cur])) < 0 ||
                hf_buf_add(&cat, e.tok[sym[i]], strlen(e.tok[sym[i]])) < 0)
                goto oom;
            int id = vocab_find(&e, cat.p, cat.n);
            if (id < 0) {
                if ((id = vocab_add(&e, cat.p, cat.n)) < 0)
                    goto oom;
                if (nnew == (n + 1) * 64) {
                    lg_fail(err, "too many intermediate tokens");
                    goto done;
                }
                src[nnew++] = i == nt - 1 ? (int)k : -1;
                if (i == nt - 1)
                    st->added_target++;
                else
                    st->added_intermediate++;
                cJSON_AddItemToObject(vocab, cat.p, cJSON_CreateNumber(id));
            }
            if (new_cap == (size_t)st->new_merges) {
                size_t cap = new_cap ? 2 * new_cap : 1024;
                int *g = realloc(new_merges, 2 * cap * sizeof *g);
                if (!g)
                    goto oom;
                new_merges = g;
                new_cap = cap;
            }
            new_merges[2 * st->new_merges] = cur;
            new_merges[2 * st->new_merges + 1] = sym[i];
            st->new_merges++;
            if (merge_add(&e, cur, sym[i], id) < 0)
                goto oom;
            cur = id;
        }
    }
    for (int q = 0; q < st->new_merges; q++) {
        const char *a = e.tok[new_merges[2 * q]], *b = e.tok[new_merges[2 * q + 1]];
        cJSON *item;
        if (pair_format) {
            item = cJSON_CreateArray();
            cJSON_AddItemToArray(item, cJSON_CreateString(a));
            cJSON_AddItemToArray(item, cJSON_CreateString(b));
        } else {
            cat.n = 0;
            if (hf_buf_add(&cat, a, strlen(a)) < 0 || hf_buf_add(&cat, " ", 1) < 0 ||
                hf_buf_add(&cat, b, strlen(b)) < 0)
                goto oom;
            item = cJSON_CreateString(cat.p);
        }
        cJSON_AddItemToArray(merges, item);
    }
    st->size = e.n;
    if (!(*out_json = cJSON_Print(doc)))
        goto oom;
    /* what the file promises, read back */
    if (!(result = lg_hf_load_json(*out_json, strlen(*out_json), "the extended tokenizer.json",
                                   err)))
        goto done;
    if (lg_hf_vocab_size(result) != e.n) {
        lg_fail(err, "the extended tokenizer.json has %d ids, not %d", lg_hf_vocab_size(result), e.n);
        goto done;
    }
    for (int id = 0; id < st->base_size; id++)
        if (strcmp(lg_hf_piece(base, id), lg_hf_piece(result, id))) {
            lg_fail(err, "the extended tokenizer.json: id %d changed from \"%.60s\"", id,
                    lg_hf_piece(base, id));
            goto done;
        }
    lg_token_ids ids = {0};
    for (size_t q = 0; q < nnew; q++) {
        if (src[q] < 0)
            continue;
        const lg_hf_new_piece *p = &pieces[src[q]];
        if (!lg_utf8_valid(p->bytes, p->len, NULL))
            continue;
        if (lg_hf_encode(result, p->bytes, p->len, &ids, err) < 0) {
            lg_token_ids_free(&ids);
            goto done;
        }
        st->whole += ids.n == 1 && ids.ids[0] == st->base_size + (int)q;
    }
    lg_token_ids_free(&ids);
    *source = src;
    src = NULL;
    rc = 0;
    goto done;
oom:
    lg_fail(err, "%s: out of memory", base_name);
done:
    if (rc < 0) {
        free(*out_json);
        *out_json = NULL;
    }
    lg_hf_free(base);
    lg_hf_free(result);
    cJSON_Delete(doc);
    ext_free(&e);
    hf_buf_free(&bl);
    hf_buf_free(&cat);
    free(sym);
    free(src);
    free(new_merges);
    return rc;
}
