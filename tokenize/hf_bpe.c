/* The BPE model of a tokenizer.json ("model": {"type": "BPE", ...}), as Hugging Face's
 * tokenizers (0.23) runs it: the word's characters looked up (continuing_subword_prefix,
 * end_of_word_suffix, byte_fallback's <0xNN> pieces, unk with fuse_unk), then merged lowest
 * rank first (leftmost among equals) until no pair of neighbours has a merge;
 * ignore_merges takes a word found whole in the vocabulary as is. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hf_heap.h"
#include "hf_internal.h"

uint64_t hf_hash(const void *s, size_t n)
{
    const unsigned char *p = s;
    uint64_t h = 0x9E3779B97F4A7C15ull ^ (n * 0xff51afd7ed558ccdull);
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
        h ^= h >> 29;
        p += 8;
        n -= 8;
    }
    uint64_t w = 0;
    memcpy(&w, p, n);
    h = (h ^ w) * 0x94d049bb133111ebull;
    h ^= h >> 31;
    return h;
}

int hf_buf_reserve(hf_buf *b, size_t extra)
{
    if (b->n + extra <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->n + extra)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p)
        return -1;
    b->p = p;
    b->cap = cap;
    return 0;
}

int hf_buf_add(hf_buf *b, const void *s, size_t n)
{
    if (hf_buf_reserve(b, n + 1) < 0)
        return -1;
    if (n)
        memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
    return 0;
}

void hf_buf_free(hf_buf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

/* ---- the vocabulary: id <-> piece --------------------------------------------------- */

typedef struct {
    uint64_t key; /* a << 32 | b */
    int32_t rank, new_id;
} merge_slot;

typedef struct {
    uint64_t hash;
    size_t key_off, key_len, ids_off, n_ids;
} cache_slot;

typedef struct {
    int32_t rank, pos, new_id;
} heap_item;

static int heap_less(const void *a, const void *b)
{
    const heap_item *x = a, *y = b;
    return x->rank < y->rank || (x->rank == y->rank && x->pos < y->pos);
}

typedef struct {
    int *c, *prev, *next;
    size_t *len;
    hf_heap heap; /* of heap_item */
    size_t n, cap;
} word;
static void word_free(word *w);

/* The word cache is split in shards by hash, each with its own lock, so that threads
 * encoding at once rarely wait (a busy shard is skipped: the word is merged without it). */
enum { CACHE_SHARDS = 16, CACHE_SLOTS = 1 << 12, CACHE_MAX = CACHE_SLOTS / 2, CACHE_MAX_KEY = 256 };

typedef struct {
    pthread_mutex_t lock;
    cache_slot *slots;
    size_t n;
    hf_buf keys;
    lg_token_ids ids;
    word scratch; /* one word's merge, under lock (a local one when the shard is busy) */
} cache_shard;

struct hf_bpe {
    int n;                 /* ids 0..n-1 */
    size_t *off, *len;     /* each id's piece in text */
    hf_buf text;
    int32_t *table;        /* piece -> id, open addressing, -1 empty */
    size_t table_mask;
    merge_slot *merges;
    size_t merge_mask;
    int unk, byte_fallback, fuse_unk, ignore_merges;
    char *prefix, *suffix; /* continuing_subword_prefix, end_of_word_suffix (NULL: none) */
    int byte_id[256];      /* <0xNN> pieces, -1 when absent */
    cache_shard cache[CACHE_SHARDS]; /* words up to CACHE_MAX_KEY bytes, as tokenizers' own */
};

int hf_bpe_size(const hf_bpe *m) { return m->n; }
int hf_bpe_unk(const hf_bpe *m) { return m->unk; }
int hf_bpe_byte_fallback(const hf_bpe *m) { return m->byte_fallback; }

const char *hf_bpe_piece(const hf_bpe *m, int id, size_t *len)
{
    if (id < 0 || id >= m->n)
        return NULL;
    if (len)
        *len = m->len[id];
    return m->text.p + m->off[id];
}

int hf_bpe_lookup(const hf_bpe *m, const char *s, size_t len)
{
    size_t i = hf_hash(s, len) & m->table_mask;
    for (;; i = (i + 1) & m->table_mask) {
        int32_t id = m->table[i];
        if (id < 0)
            return -1;
        if (m->len[id] == len && !memcmp(m->text.p + m->off[id], s, len))
            return id;
    }
}

static const merge_slot *merge_get(const hf_bpe *m, int a, int b)
{
    uint64_t key = (uint64_t)(uint32_t)a << 32 | (uint32_t)b;
    size_t i = hf_hash(&key, 8) & m->merge_mask;
    for (;; i = (i + 1) & m->merge_mask) {
        const merge_slot *s = &m->merges[i];
        if (s->rank < 0)
            return NULL;
        if (s->key == key)
            return s;
    }
}

static size_t pow2_above(size_t n)
{
    size_t c = 16;
    while (c < 2 * n)
        c *= 2;
    return c;
}

void hf_bpe_free(hf_bpe *m)
{
    if (!m)
        return;
    free(m->off);
    free(m->len);
    hf_buf_free(&m->text);
    free(m->table);
    free(m->merges);
    free(m->prefix);
    free(m->suffix);
    for (int k = 0; k < CACHE_SHARDS; k++) {
        cache_shard *c = &m->cache[k];
        free(c->slots);
        hf_buf_free(&c->keys);
        lg_token_ids_free(&c->ids);
        word_free(&c->scratch);
        pthread_mutex_destroy(&c->lock);
    }
    free(m);
}

/* "a b" or ["a", "b"] -> the two ids; -1 with an error naming the merge. */
static int merge_pair(const hf_bpe *m, const cJSON *item, size_t rank, const char *file,
                      int *a, int *b, lg_error *err)
{
    const char *sa, *sb;
    size_t la, lb;
    if (cJSON_IsString(item)) {
        const char *s = item->valuestring, *sp = strchr(s, ' ');
        if (!sp || strchr(sp + 1, ' '))
            return lg_fail(err, "%s: model.merges[%zu]: \"%.60s\" is not two pieces separated "
                                "by one space", file, rank, s);
        sa = s;
        la = (size_t)(sp - s);
        sb = sp + 1;
        lb = strlen(sb);
    } else if (cJSON_IsArray(item) && cJSON_GetArraySize(item) == 2 &&
               cJSON_IsString(item->child) && cJSON_IsString(item->child->next)) {
        sa = item->child->valuestring;
        la = strlen(sa);
        sb = item->child->next->valuestring;
        lb = strlen(sb);
    } else {
        return lg_fail(err, "%s: model.merges[%zu]: not a string \"a b\" or a pair [\"a\", \"b\"]",
                       file, rank);
    }
    *a = hf_bpe_lookup(m, sa, la);
    *b = hf_bpe_lookup(m, sb, lb);
    if (*a < 0)
        return lg_fail(err, "%s: model.merges[%zu]: \"%.*s\" is not in model.vocab", file, rank,
                       (int)(la > 60 ? 60 : la), sa);
    if (*b < 0)
        return lg_fail(err, "%s: model.merges[%zu]: \"%.*s\" is not in model.vocab", file, rank,
                       (int)(lb > 60 ? 60 : lb), sb);
    return 0;
}

static char *opt_string(const cJSON *model, const char *key, const char *file, int *bad,
                        lg_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(model, key);
    if (!v || cJSON_IsNull(v))
        return NULL;
    if (!cJSON_IsString(v)) {
        *bad = lg_fail(err, "%s: model.%s: not a string or null", file, key);
        return NULL;
    }
    char *s = strdup(v->valuestring);
    if (!s)
        *bad = lg_fail(err, "%s: out of memory", file);
    return s;
}

static int opt_bool(const cJSON *model, const char *key, const char *file, int *out, lg_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(model, key);
    *out = 0;
    if (!v || cJSON_IsNull(v))
        return 0;
    if (!cJSON_IsBool(v))
        return lg_fail(err, "%s: model.%s: not true or false", file, key);
    *out = cJSON_IsTrue(v);
    return 0;
}

hf_bpe *hf_bpe_parse(const cJSON *model, const char *file, lg_error *err)
{
    const cJSON *vocab = cJSON_GetObjectItemCaseSensitive(model, "vocab");
    const cJSON *merges = cJSON_GetObjectItemCaseSensitive(model, "merges");
    if (!cJSON_IsObject(vocab)) {
        lg_fail(err, "%s: model.vocab: missing or not an object", file);
        return NULL;
    }
    if (merges && !cJSON_IsArray(merges) && !cJSON_IsNull(merges)) {
        lg_fail(err, "%s: model.merges: not an array", file);
        return NULL;
    }
    const cJSON *dropout = cJSON_GetObjectItemCaseSensitive(model, "dropout");
    if (dropout && !cJSON_IsNull(dropout) &&
        !(cJSON_IsNumber(dropout) && dropout->valuedouble == 0.0)) {
        lg_fail(err, "%s: model.dropout: BPE dropout is not supported (only null or 0)", file);
        return NULL;
    }
    hf_bpe *m = calloc(1, sizeof *m);
    if (!m) {
        lg_fail(err, "%s: out of memory", file);
        return NULL;
    }
    for (int k = 0; k < CACHE_SHARDS; k++)
        pthread_mutex_init(&m->cache[k].lock, NULL);
    int n = cJSON_GetArraySize(vocab), bad = 0;
    m->n = n;
    m->off = calloc((size_t)n + 1, sizeof *m->off);
    m->len = calloc((size_t)n + 1, sizeof *m->len);
    size_t tsize = pow2_above((size_t)n);
    m->table = malloc(tsize * sizeof *m->table);
    m->table_mask = tsize - 1;
    if (!m->off || !m->len || !m->table)
        goto oom;
    memset(m->table, 0xff, tsize * sizeof *m->table);
    for (int i = 0; i < n; i++)
        m->off[i] = SIZE_MAX;
    for (const cJSON *v = vocab->child; v; v = v->next) {
        if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0) ||
            v->valuedouble != floor(v->valuedouble)) {
            lg_fail(err, "%s: model.vocab[\"%.60s\"]: not an id (a whole number >= 0)", file,
                    v->string);
            goto fail;
        }
        if (v->valuedouble >= n) {
            lg_fail(err, "%s: model.vocab[\"%.60s\"]: id %g is past the vocabulary's %d "
                         "entries (ids must be 0..%d)", file, v->string, v->valuedouble, n, n - 1);
            goto fail;
        }
        int id = (int)v->valuedouble;
        if (m->off[id] != SIZE_MAX) {
            lg_fail(err, "%s: model.vocab: duplicate id %d (\"%.60s\" and \"%.60s\")", file, id,
                    m->text.p + m->off[id], v->string);
            goto fail;
        }
        size_t len = strlen(v->string);
        if (hf_bpe_lookup(m, v->string, len) >= 0) {
            lg_fail(err, "%s: model.vocab: duplicate piece \"%.60s\"", file, v->string);
            goto fail;
        }
        m->off[id] = m->text.n;
        m->len[id] = len;
        if (hf_buf_add(&m->text, v->string, len) < 0 || hf_buf_add(&m->text, "", 0) < 0)
            goto oom;
        m->text.n++; /* keep the NUL */
        size_t i = hf_hash(v->string, len) & m->table_mask;
        while (m->table[i] >= 0)
            i = (i + 1) & m->table_mask;
        m->table[i] = id;
    }
    if (opt_bool(model, "byte_fallback", file, &m->byte_fallback, err) < 0 ||
        opt_bool(model, "fuse_unk", file, &m->fuse_unk, err) < 0 ||
        opt_bool(model, "ignore_merges", file, &m->ignore_merges, err) < 0)
        goto fail;
    m->prefix = opt_string(model, "continuing_subword_prefix", file, &bad, err);
    m->suffix = opt_string(model, "end_of_word_suffix", file, &bad, err);
    char *unk = opt_string(model, "unk_token", file, &bad, err);
    if (bad) {
        free(unk);
        goto fail;
    }
    m->unk = -1;
    if (unk) {
        m->unk = hf_bpe_lookup(m, unk, strlen(unk));
        if (m->unk < 0) {
            lg_fail(err, "%s: model.unk_token: \"%.60s\" is not in model.vocab", file, unk);
            free(unk);
            goto fail;
        }
        free(unk);
    }
    for (int b = 0; b < 256; b++) {
        char piece[8];
        snprintf(piece, sizeof piece, "<0x%02X>", b);
        m->byte_id[b] = hf_bpe_lookup(m, piece, 6);
    }
    /* merges: (a, b) -> (rank, id of a+b); a later duplicate replaces an earlier one */
    size_t nm = merges ? (size_t)cJSON_GetArraySize(merges) : 0;
    size_t msize = pow2_above(nm);
    m->merges = malloc(msize * sizeof *m->merges);
    m->merge_mask = msize - 1;
    if (!m->merges)
        goto oom;
    for (size_t i = 0; i < msize; i++)
        m->merges[i].rank = -1;
    size_t plen = m->prefix ? strlen(m->prefix) : 0;
    hf_buf joined = {0};
    size_t rank = 0;
    for (const cJSON *it = merges ? merges->child : NULL; it; it = it->next, rank++) {
        int a = -1, b = -1;
        if (merge_pair(m, it, rank, file, &a, &b, err) < 0) {
            hf_buf_free(&joined);
            goto fail;
        }
        joined.n = 0;
        size_t lb = m->len[b];
        if (plen > lb) {
            lg_fail(err, "%s: model.merges[%zu]: \"%.60s\" is shorter than the "
                         "continuing_subword_prefix", file, rank, m->text.p + m->off[b]);
            hf_buf_free(&joined);
            goto fail;
        }
        size_t skip = plen;
        if (hf_buf_add(&joined, m->text.p + m->off[a], m->len[a]) < 0 ||
            hf_buf_add(&joined, m->text.p + m->off[b] + skip, lb - skip) < 0) {
            hf_buf_free(&joined);
            goto oom;
        }
        int id = hf_bpe_lookup(m, joined.p, joined.n);
        if (id < 0) {
            lg_fail(err, "%s: model.merges[%zu]: the merged piece \"%.60s\" is not in model.vocab",
                    file, rank, joined.p);
            hf_buf_free(&joined);
            goto fail;
        }
        uint64_t key = (uint64_t)(uint32_t)a << 32 | (uint32_t)b;
        size_t i = hf_hash(&key, 8) & m->merge_mask;
        while (m->merges[i].rank >= 0 && m->merges[i].key != key)
            i = (i + 1) & m->merge_mask;
        m->merges[i] = (merge_slot){key, (int32_t)rank, id};
    }
    hf_buf_free(&joined);
    for (int k = 0; k < CACHE_SHARDS; k++)
        if (!(m->cache[k].slots = calloc(CACHE_SLOTS, sizeof *m->cache[k].slots)))
            goto oom;
    return m;
oom:
    lg_fail(err, "%s: out of memory", file);
fail:
    hf_bpe_free(m);
    return NULL;
}

/* ---- one word --------------------------------------------------------------------- */


static int word_reserve(word *w, size_t n)
{
    if (n <= w->cap)
        return 0;
    size_t cap = w->cap ? w->cap : 64;
    while (cap < n)
        cap *= 2;
    int *c = realloc(w->c, cap * sizeof *c);
    if (c)
        w->c = c;
    int *p = realloc(w->prev, cap * sizeof *p);
    if (p)
        w->prev = p;
    int *nx = realloc(w->next, cap * sizeof *nx);
    if (nx)
        w->next = nx;
    size_t *l = realloc(w->len, cap * sizeof *l);
    if (l)
        w->len = l;
    if (!c || !p || !nx || !l)
        return -1;
    w->cap = cap;
    return 0;
}

static void word_free(word *w)
{
    free(w->c);
    free(w->prev);
    free(w->next);
    free(w->len);
    free(w->heap.v);
}

static int word_add(word *w, int id, size_t len)
{
    if (word_reserve(w, w->n + 1) < 0)
        return -1;
    w->c[w->n] = id;
    w->len[w->n] = len;
    w->prev[w->n] = (int)w->n - 1;
    w->next[w->n] = (int)w->n + 1;
    w->n++;
    return 0;
}

static int heap_push(word *w, heap_item it)
{
    return hf_heap_push(&w->heap, &it, sizeof it, 64, heap_less);
}

static heap_item heap_pop(word *w)
{
    heap_item top;
    hf_heap_pop(&w->heap, &top, sizeof top, heap_less);
    return top;
}

static int merge_word(const hf_bpe *m, const char *s, size_t len, word *w, lg_token_ids *out,
                      lg_error *err)
{
    w->n = 0;
    w->heap.n = 0;
    int unk_id = -1;
    size_t unk_len = 0;
    size_t plen = m->prefix ? strlen(m->prefix) : 0, slen = m->suffix ? strlen(m->suffix) : 0;
    char small[64];
    hf_buf big = {0};
    for (size_t i = 0; i < len;) {
        size_t cl;
        hf_utf8_next((const unsigned char *)s + i, &cl);
        int first = i == 0, last = i + cl == len;
        const char *key = s + i;
        size_t klen = cl;
        if ((!first && plen) || (last && slen)) {
            size_t need = cl + (!first ? plen : 0) + (last ? slen : 0);
            char *k = small;
            if (need > sizeof small) {
                big.n = 0;
                if (hf_buf_reserve(&big, need + 1) < 0)
                    return lg_fail(err, "out of memory");
                k = big.p;
            }
            size_t o = 0;
            if (!first) {
                memcpy(k, m->prefix, plen);
                o = plen;
            }
            memcpy(k + o, s + i, cl);
            o += cl;
            if (last) {
                memcpy(k + o, m->suffix, slen);
                o += slen;
            }
            key = k;
            klen = o;
        }
        int id = hf_bpe_lookup(m, key, klen);
        if (id >= 0) {
            if (unk_id >= 0) {
                if (word_add(w, unk_id, unk_len) < 0)
                    goto oom;
                unk_id = -1;
            }
            if (word_add(w, id, cl) < 0)
                goto oom;
        } else {
            int done = 0;
            if (m->byte_fallback) {
                int all = 1;
                for (size_t k = 0; k < klen && all; k++)
                    all = m->byte_id[(unsigned char)key[k]] >= 0;
                if (all) {
                    for (size_t k = 0; k < klen; k++)
                        if (word_add(w, m->byte_id[(unsigned char)key[k]], 1) < 0)
                            goto oom;
                    done = 1;
                }
            }
            if (!done && m->unk >= 0) {
                if (unk_id >= 0 && m->fuse_unk) {
                    unk_len += cl;
                } else {
                    if (unk_id >= 0 && word_add(w, unk_id, unk_len) < 0)
                        goto oom;
                    unk_id = m->unk;
                    unk_len = cl;
                }
            }
        }
        i += cl;
    }
    hf_buf_free(&big);
    if (unk_id >= 0 && word_add(w, unk_id, unk_len) < 0)
        return lg_fail(err, "out of memory");
    if (w->n)
        w->next[w->n - 1] = -1;
    for (size_t i = 0; i + 1 < w->n; i++) {
        const merge_slot *ms = merge_get(m, w->c[i], w->c[i + 1]);
        if (ms && heap_push(w, (heap_item){ms->rank, (int32_t)i, ms->new_id}) < 0)
            return lg_fail(err, "out of memory");
    }
    while (w->heap.n) {
        heap_item top = heap_pop(w);
        int pos = top.pos;
        if (w->len[pos] == 0 || w->next[pos] < 0)
            continue;
        int nx = w->next[pos];
        const merge_slot *ms = merge_get(m, w->c[pos], w->c[nx]);
        if (!ms || ms->new_id != top.new_id)
            continue;
        w->c[pos] = top.new_id;
        w->len[pos] += w->len[nx];
        w->next[pos] = w->next[nx];
        w->len[nx] = 0;
        if (w->next[nx] >= 0)
            w->prev[w->next[nx]] = pos;
        if (w->prev[pos] >= 0) {
            int pv = w->prev[pos];
            const merge_slot *p2 = merge_get(m, w->c[pv], w->c[pos]);
            if (p2 && heap_push(w, (heap_item){p2->rank, pv, p2->new_id}) < 0)
                return lg_fail(err, "out of memory");
        }
        if (w->next[pos] >= 0) {
            const merge_slot *p2 = merge_get(m, w->c[pos], w->c[w->next[pos]]);
            if (p2 && heap_push(w, (heap_item){p2->rank, pos, p2->new_id}) < 0)
                return lg_fail(err, "out of memory");
        }
    }
    for (size_t i = 0; i < w->n; i++) {
        if (w->len[i] == 0)
            continue;
        if (out->n == out->cap) {
            size_t cap = out->cap ? 2 * out->cap : 64;
            int *ids = realloc(out->ids, cap * sizeof *ids);
            if (!ids)
                return lg_fail(err, "out of memory");
            out->ids = ids;
            out->cap = cap;
        }
        out->ids[out->n++] = w->c[i];
    }
    return 0;
oom:
    hf_buf_free(&big);
    return lg_fail(err, "out of memory");
}

static int ids_append(lg_token_ids *out, const int *ids, size_t n)
{
    if (n == 0)
        return 0;
    if (out->n + n > out->cap) {
        size_t cap = out->cap ? out->cap : 64;
        while (cap < out->n + n)
            cap *= 2;
        int *p = realloc(out->ids, cap * sizeof *p);
        if (!p)
            return -1;
        out->ids = p;
        out->cap = cap;
    }
    memcpy(out->ids + out->n, ids, n * sizeof *ids);
    out->n += n;
    return 0;
}


int hf_bpe_word(hf_bpe *m, const char *s, size_t len, lg_token_ids *out, lg_error *err)
{
    if (len == 0)
        return 0;
    if (m->ignore_merges) {
        int id = hf_bpe_lookup(m, s, len);
        if (id >= 0)
            return ids_append(out, &id, 1) < 0 ? lg_fail(err, "out of memory") : 0;
    }
    const uint64_t h = hf_hash(s, len);
    cache_shard *c = &m->cache[(h >> 59) & (CACHE_SHARDS - 1)];
    const int cacheable = len <= CACHE_MAX_KEY;
    const int locked = pthread_mutex_trylock(&c->lock) == 0;
    if (cacheable && locked) {
        for (size_t i = h & (CACHE_SLOTS - 1);; i = (i + 1) & (CACHE_SLOTS - 1)) {
            const cache_slot *e = &c->slots[i];
            if (!e->key_len)
                break;
            if (e->hash == h && e->key_len == len && !memcmp(c->keys.p + e->key_off, s, len)) {
                int rc = e->n_ids ? ids_append(out, c->ids.ids + e->ids_off, e->n_ids) : 0;
                pthread_mutex_unlock(&c->lock);
                return rc < 0 ? lg_fail(err, "out of memory") : 0;
            }
        }
    }
    size_t start = out->n;
    word local = {0};
    int rc = merge_word(m, s, len, locked ? &c->scratch : &local, out, err);
    word_free(&local);
    if (rc == 0 && locked && cacheable) {
        if (c->n >= CACHE_MAX) {
            memset(c->slots, 0, CACHE_SLOTS * sizeof *c->slots);
            c->n = 0;
            c->keys.n = 0;
            c->ids.n = 0;
        }
        size_t key_off = c->keys.n, ids_off = c->ids.n, n_ids = out->n - start;
        if (hf_buf_add(&c->keys, s, len) == 0 &&
            ids_append(&c->ids, n_ids ? out->ids + start : NULL, n_ids) == 0) {
            size_t i = h & (CACHE_SLOTS - 1);
            while (c->slots[i].key_len)
                i = (i + 1) & (CACHE_SLOTS - 1);
            c->slots[i] = (cache_slot){h, key_off, len, ids_off, n_ids};
            c->n++;
        }
    }
    if (locked)
        pthread_mutex_unlock(&c->lock);
    return rc;
}
