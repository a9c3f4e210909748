/* Byte-level BPE training (hf_train.h). */
#include "hf_train.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hf_heap.h"
#include "hf_internal.h"
#include "hf_tokenizer.h"
#include "lg_text.h"

/* ---- the tokenizer.json components -------------------------------------------------- */

static const char RE_LLAMA3[] = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|"
                                "\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|"
                                "\\s+(?!\\S)|\\s+";
static const char RE_QWEN2[] = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|"
                               "\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|"
                               "\\s+(?!\\S)|\\s+";

static cJSON *byte_level(int add_prefix_space, int trim_offsets, int use_regex)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", "ByteLevel");
    cJSON_AddBoolToObject(o, "add_prefix_space", add_prefix_space);
    cJSON_AddBoolToObject(o, "trim_offsets", trim_offsets);
    cJSON_AddBoolToObject(o, "use_regex", use_regex);
    return o;
}

static cJSON *pre_tokenizer_json(const char *name)
{
    if (!strcmp(name, "gpt2"))
        return byte_level(0, 1, 1);
    cJSON *o = cJSON_CreateObject(), *seq = cJSON_CreateArray(), *split = cJSON_CreateObject(),
          *pat = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", "Sequence");
    cJSON_AddStringToObject(split, "type", "Split");
    cJSON_AddStringToObject(pat, "Regex", !strcmp(name, "qwen2") ? RE_QWEN2 : RE_LLAMA3);
    cJSON_AddItemToObject(split, "pattern", pat);
    cJSON_AddStringToObject(split, "behavior", "Isolated");
    cJSON_AddBoolToObject(split, "invert", 0);
    cJSON_AddItemToArray(seq, split);
    cJSON_AddItemToArray(seq, byte_level(0, strcmp(name, "qwen2") != 0, 0));
    cJSON_AddItemToObject(o, "pretokenizers", seq);
    return o;
}

static cJSON *normalizer_json(const char *name)
{
    if (!strcmp(name, "none"))
        return cJSON_CreateNull();
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", !strcmp(name, "nfkc") ? "NFKC" : "NFC");
    return o;
}

/* ---- the trainer ------------------------------------------------------------------- */

typedef struct {
    int32_t *v;
    int32_t n, cap;
} i32_list;

typedef struct {
    int32_t a, b;
    int64_t count;
    i32_list where;   /* words holding the pair (may repeat, may be stale) */
    uint32_t changed; /* the merge number that last raised the count */
    int merged;       /* already in the merges (met again through a token reached twice) */
} pair_t;

typedef struct {
    int64_t count;
    int32_t a, b, pair;
} heap_item;

struct lg_hf_trainer {
    lg_hf_train_options o;
    char **special;   /* bos, eos, then the others (non-empty ones) */
    int n_special;
    lg_hf *skeleton;  /* the tokenizer without merges: what the words are read through */
    uint8_t byte_of_id[256];
    int id_of_byte[256];
    /* words: unique byte strings and their counts */
    hf_buf wtext;
    size_t *woff;
    uint32_t *wlen;
    int64_t *wcount;
    size_t nw, wcap;
    uint32_t *wtable; /* word index + 1, 0 empty */
    size_t wmask;
    int64_t total_words;
};

static void put_item(cJSON *arr, const char *content, int id)
{
    cJSON *a = cJSON_CreateObject();
    cJSON_AddNumberToObject(a, "id", id);
    cJSON_AddStringToObject(a, "content", content);
    cJSON_AddBoolToObject(a, "single_word", 0);
    cJSON_AddBoolToObject(a, "lstrip", 0);
    cJSON_AddBoolToObject(a, "rstrip", 0);
    cJSON_AddBoolToObject(a, "normalized", 0);
    cJSON_AddBoolToObject(a, "special", 1);
    cJSON_AddItemToArray(arr, a);
}

static cJSON *template_item(const char *special, const char *seq, int type_id)
{
    cJSON *o = cJSON_CreateObject(), *in = cJSON_CreateObject();
    cJSON_AddStringToObject(in, "id", special ? special : seq);
    cJSON_AddNumberToObject(in, "type_id", type_id);
    cJSON_AddItemToObject(o, special ? "SpecialToken" : "Sequence", in);
    return o;
}

static cJSON *post_processor_json(const lg_hf_trainer *t, int model_n)
{
    cJSON *o = cJSON_CreateObject(), *seq = cJSON_CreateArray();
    cJSON_AddStringToObject(o, "type", "Sequence");
    cJSON_AddItemToArray(seq, byte_level(1, 0, 1));
    const char *bos = t->o.add_bos && t->o.bos && *t->o.bos ? t->o.bos : NULL;
    const char *eos = t->o.add_eos && t->o.eos && *t->o.eos ? t->o.eos : NULL;
    if (bos || eos) {
        cJSON *tp = cJSON_CreateObject(), *single = cJSON_CreateArray(),
              *pair = cJSON_CreateArray(), *st = cJSON_CreateObject();
        cJSON_AddStringToObject(tp, "type", "TemplateProcessing");
        for (int s = 0; s < 2; s++) {
            cJSON *arr = s ? pair : single;
            if (bos)
                cJSON_AddItemToArray(arr, template_item(bos, NULL, 0));
            cJSON_AddItemToArray(arr, template_item(NULL, "A", 0));
            if (eos)
                cJSON_AddItemToArray(arr, template_item(eos, NULL, 0));
            if (s) {
                if (bos)
                    cJSON_AddItemToArray(arr, template_item(bos, NULL, 1));
                cJSON_AddItemToArray(arr, template_item(NULL, "B", 1));
                if (eos)
                    cJSON_AddItemToArray(arr, template_item(eos, NULL, 1));
            }
        }
        for (int k = 0; k < t->n_special; k++) {
            const char *c = t->special[k];
            if ((!bos || strcmp(c, bos)) && (!eos || strcmp(c, eos)))
                continue;
            if (cJSON_GetObjectItemCaseSensitive(st, c))
                continue;
            cJSON *d = cJSON_CreateObject(), *ids = cJSON_CreateArray(), *toks = cJSON_CreateArray();
            cJSON_AddStringToObject(d, "id", c);
            cJSON_AddItemToArray(ids, cJSON_CreateNumber(model_n + k));
            cJSON_AddItemToArray(toks, cJSON_CreateString(c));
            cJSON_AddItemToObject(d, "ids", ids);
            cJSON_AddItemToObject(d, "tokens", toks);
            cJSON_AddItemToObject(st, c, d);
        }
        cJSON_AddItemToObject(tp, "single", single);
        cJSON_AddItemToObject(tp, "pair", pair);
        cJSON_AddItemToObject(tp, "special_tokens", st);
        cJSON_AddItemToArray(seq, tp);
    }
    cJSON_AddItemToObject(o, "processors", seq);
    return o;
}

/* The byte-level string of bytes s[0..n) into b (appended). */
static int byte_level_string(hf_buf *b, const uint8_t *s, size_t n)
{
    if (hf_buf_reserve(b, 2 * n + 1) < 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        b->n += hf_utf8_put(b->p + b->n, lg_byte_level_char(s[i]));
    b->p[b->n] = 0;
    return 0;
}

/* tokenizer.json: tokens (byte strings, id order) and merges (pairs of ids). */
static char *document(const lg_hf_trainer *t, const hf_buf *tok_text, const size_t *tok_off,
                      const uint32_t *tok_len, int model_n, const int32_t *merges, int n_merges)
{
    cJSON *doc = cJSON_CreateObject(), *added = cJSON_CreateArray(), *model = cJSON_CreateObject(),
          *vocab = cJSON_CreateObject(), *mlist = cJSON_CreateArray();
    char *out = NULL;
    hf_buf s = {0}, s2 = {0};
    cJSON_AddStringToObject(doc, "version", "1.0");
    cJSON_AddNullToObject(doc, "truncation");
    cJSON_AddNullToObject(doc, "padding");
    for (int k = 0; k < t->n_special; k++)
        put_item(added, t->special[k], model_n + k);
    cJSON_AddItemToObject(doc, "added_tokens", added);
    cJSON_AddItemToObject(doc, "normalizer", t->o.normalizer_json
                                                 ? cJSON_Parse(t->o.normalizer_json)
                                                 : normalizer_json(t->o.normalizer));
    cJSON_AddItemToObject(doc, "pre_tokenizer", t->o.pre_tokenizer_json
                                                    ? cJSON_Parse(t->o.pre_tokenizer_json)
                                                    : pre_tokenizer_json(t->o.pre_tokenizer));
    cJSON_AddItemToObject(doc, "post_processor", post_processor_json(t, model_n));
    cJSON_AddItemToObject(doc, "decoder", byte_level(1, 1, 1));
    cJSON_AddStringToObject(model, "type", "BPE");
    cJSON_AddNullToObject(model, "dropout");
    cJSON_AddNullToObject(model, "unk_token");
    cJSON_AddNullToObject(model, "continuing_subword_prefix");
    cJSON_AddNullToObject(model, "end_of_word_suffix");
    cJSON_AddBoolToObject(model, "fuse_unk", 0);
    cJSON_AddBoolToObject(model, "byte_fallback", 0);
    cJSON_AddBoolToObject(model, "ignore_merges", 0);
    for (int id = 0; id < model_n; id++) {
        s.n = 0;
        if (byte_level_string(&s, (const uint8_t *)tok_text->p + tok_off[id], tok_len[id]) < 0)
            goto done;
        cJSON_AddItemToObject(vocab, s.p, cJSON_CreateNumber(id));
    }
    for (int m = 0; m < n_merges; m++) {
        s.n = 0;
        int a = merges[2 * m], b = merges[2 * m + 1];
        if (byte_level_string(&s, (const uint8_t *)tok_text->p + tok_off[a], tok_len[a]) < 0 ||
            hf_buf_add(&s, " ", 1) < 0 ||
            byte_level_string(&s, (const uint8_t *)tok_text->p + tok_off[b], tok_len[b]) < 0)
            goto done;
        cJSON_AddItemToArray(mlist, cJSON_CreateString(s.p));
    }
    cJSON_AddItemToObject(model, "vocab", vocab);
    vocab = NULL;
    cJSON_AddItemToObject(model, "merges", mlist);
    mlist = NULL;
    cJSON_AddItemToObject(doc, "model", model);
    model = NULL;
    out = cJSON_PrintBuffered(doc, 1 << 20, 1);
done:
    cJSON_Delete(vocab);
    cJSON_Delete(mlist);
    cJSON_Delete(model);
    cJSON_Delete(doc);
    hf_buf_free(&s);
    hf_buf_free(&s2);
    return out;
}

static char *config_document(const lg_hf_trainer *t, int model_n)
{
    cJSON *doc = cJSON_CreateObject(), *dec = cJSON_CreateObject(), *names = cJSON_CreateArray();
    cJSON_AddBoolToObject(doc, "add_bos_token", t->o.add_bos && t->o.bos && *t->o.bos);
    cJSON_AddBoolToObject(doc, "add_eos_token", t->o.add_eos && t->o.eos && *t->o.eos);
    for (int k = 0; k < t->n_special; k++) {
        char id[32];
        snprintf(id, sizeof id, "%d", model_n + k);
        cJSON *a = cJSON_CreateObject();
        cJSON_AddStringToObject(a, "content", t->special[k]);
        cJSON_AddBoolToObject(a, "lstrip", 0);
        cJSON_AddBoolToObject(a, "normalized", 0);
        cJSON_AddBoolToObject(a, "rstrip", 0);
        cJSON_AddBoolToObject(a, "single_word", 0);
        cJSON_AddBoolToObject(a, "special", 1);
        cJSON_AddItemToObject(dec, id, a);
    }
    cJSON_AddItemToObject(doc, "added_tokens_decoder", dec);
    if (t->o.bos && *t->o.bos)
        cJSON_AddStringToObject(doc, "bos_token", t->o.bos);
    if (t->o.eos && *t->o.eos)
        cJSON_AddStringToObject(doc, "eos_token", t->o.eos);
    cJSON_AddBoolToObject(doc, "clean_up_tokenization_spaces", 0);
    cJSON_AddItemToArray(names, cJSON_CreateString("input_ids"));
    cJSON_AddItemToArray(names, cJSON_CreateString("attention_mask"));
    cJSON_AddItemToObject(doc, "model_input_names", names);
    cJSON_AddStringToObject(doc, "tokenizer_class", "PreTrainedTokenizerFast");
    char *out = cJSON_Print(doc);
    cJSON_Delete(doc);
    return out;
}

typedef struct {
    size_t bytes;
    int bad;
} byte_probe;

static int probe_word(void *ctx, const char *w, size_t n, lg_error *err)
{
    (void)err;
    byte_probe *p = ctx;
    for (size_t i = 0; i < n;) {
        size_t k;
        if (lg_byte_level_byte(hf_utf8_next((const unsigned char *)w + i, &k)) < 0)
            p->bad = 1;
        p->bytes++;
        i += k;
    }
    return 0;
}

void lg_hf_train_defaults(lg_hf_train_options *o)
{
    memset(o, 0, sizeof *o);
    o->vocab_size = 32000;
    o->min_frequency = 2;
    o->pre_tokenizer = "llama3";
    o->normalizer = "none";
    o->bos = "<|begin_of_text|>";
    o->eos = "<|end_of_text|>";
    o->add_bos = 1;
}

void lg_hf_trainer_free(lg_hf_trainer *t)
{
    if (!t)
        return;
    for (int k = 0; k < t->n_special; k++)
        free(t->special[k]);
    free(t->special);
    lg_hf_free(t->skeleton);
    hf_buf_free(&t->wtext);
    free(t->woff);
    free(t->wlen);
    free(t->wcount);
    free(t->wtable);
    free(t);
}

lg_hf_trainer *lg_hf_trainer_new(const lg_hf_train_options *o, lg_error *err)
{
    if (!o->pre_tokenizer_json && strcmp(o->pre_tokenizer, "llama3") &&
        strcmp(o->pre_tokenizer, "qwen2") && strcmp(o->pre_tokenizer, "gpt2")) {
        lg_fail(err, "pre-tokenizer \"%s\": not one of llama3, qwen2, gpt2", o->pre_tokenizer);
        return NULL;
    }
    if (!o->normalizer_json && strcmp(o->normalizer, "none") && strcmp(o->normalizer, "nfc") &&
        strcmp(o->normalizer, "nfkc")) {
        lg_fail(err, "normalizer \"%s\": not one of none, nfc, nfkc", o->normalizer);
        return NULL;
    }
    if (o->min_frequency < 1) {
        lg_fail(err, "minimum frequency %d: must be at least 1", o->min_frequency);
        return NULL;
    }
    lg_hf_trainer *t = calloc(1, sizeof *t);
    if (!t || !(t->special = calloc((size_t)o->n_specials + 2, sizeof *t->special))) {
        free(t);
        lg_fail(err, "out of memory");
        return NULL;
    }
    t->o = *o;
    const char *all[2 + 1024];
    int n = 0;
    if (o->bos && *o->bos)
        all[n++] = o->bos;
    if (o->eos && *o->eos)
        all[n++] = o->eos;
    for (int k = 0; k < o->n_specials && n < (int)(sizeof all / sizeof *all); k++)
        if (o->specials[k] && *o->specials[k])
            all[n++] = o->specials[k];
    if (o->n_specials > 1022) {
        lg_fail(err, "%d special tokens: at most 1022 besides BOS and EOS", o->n_specials);
        goto fail;
    }
    for (int k = 0; k < n; k++) {
        size_t bad;
        if (!lg_utf8_valid(all[k], strlen(all[k]), &bad)) {
            lg_fail(err, "special token %d: not valid UTF-8", k + 1);
            goto fail;
        }
        for (int j = 0; j < k; j++)
            if (!strcmp(all[j], all[k])) {
                lg_fail(err, "special token \"%.60s\" is given twice", all[k]);
                goto fail;
            }
        if (!(t->special[k] = strdup(all[k]))) {
            lg_fail(err, "out of memory");
            goto fail;
        }
        t->n_special = k + 1;
    }
    if ((o->add_bos && !(o->bos && *o->bos)) || (o->add_eos && !(o->eos && *o->eos))) {
        lg_fail(err, "the post-processor cannot add a %s that is not given",
                o->add_bos && !(o->bos && *o->bos) ? "BOS" : "EOS");
        goto fail;
    }
    if (o->vocab_size < 256 + t->n_special) {
        lg_fail(err, "vocabulary size %d is smaller than the byte alphabet (256) plus %d special "
                     "token%s", o->vocab_size, t->n_special, t->n_special == 1 ? "" : "s");
        goto fail;
    }
    /* ids 0..255: the bytes in GPT-2's order (printable ones first, as Llama-3 has them) */
    int k = 0;
    for (int b = 0; b < 256; b++)
        if ((b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174)
            t->byte_of_id[k++] = (uint8_t)b;
    for (int b = 0; b < 256; b++)
        if (!((b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174))
            t->byte_of_id[k++] = (uint8_t)b;
    for (int id = 0; id < 256; id++)
        t->id_of_byte[t->byte_of_id[id]] = id;
    /* the skeleton: the same file with the bytes alone */
    hf_buf text = {0};
    size_t off[256];
    uint32_t len[256];
    for (int id = 0; id < 256; id++) {
        off[id] = text.n;
        len[id] = 1;
        if (hf_buf_add(&text, &t->byte_of_id[id], 1) < 0) {
            hf_buf_free(&text);
            lg_fail(err, "out of memory");
            goto fail;
        }
    }
    char *json = document(t, &text, off, len, 256, NULL, 0);
    hf_buf_free(&text);
    if (!json) {
        lg_fail(err, "out of memory");
        goto fail;
    }
    t->skeleton = lg_hf_load_json(json, strlen(json), "the trained tokenizer.json", err);
    free(json);
    if (!t->skeleton)
        goto fail;
    /* the pre-tokenizer must give byte-level words: every byte of the text as a character of
     * the alphabet (a given one may lack ByteLevel) */
    {
        static const char probe[] = "Ab \xc3\xa9 12\t\xe2\x80\xa6";
        byte_probe bp = {0};
        if (lg_hf_pretokenize(t->skeleton, probe, sizeof probe - 1, probe_word, &bp, err) < 0)
            goto fail;
        if (bp.bad || bp.bytes == 0) {
            lg_fail(err, "the pre-tokenizer is not byte-level (its words are not the ByteLevel "
                         "alphabet's characters): a byte-level BPE needs a ByteLevel step");
            goto fail;
        }
    }
    t->wcap = 1024;
    t->wmask = 4095;
    t->woff = malloc(t->wcap * sizeof *t->woff);
    t->wlen = malloc(t->wcap * sizeof *t->wlen);
    t->wcount = malloc(t->wcap * sizeof *t->wcount);
    t->wtable = calloc(t->wmask + 1, sizeof *t->wtable);
    if (!t->woff || !t->wlen || !t->wcount || !t->wtable) {
        lg_fail(err, "out of memory");
        goto fail;
    }
    return t;
fail:
    lg_hf_trainer_free(t);
    return NULL;
}

static int word_grow(lg_hf_trainer *t)
{
    if (t->nw == t->wcap) {
        size_t cap = 2 * t->wcap;
        size_t *o = realloc(t->woff, cap * sizeof *o);
        if (o)
            t->woff = o;
        uint32_t *l = realloc(t->wlen, cap * sizeof *l);
        if (l)
            t->wlen = l;
        int64_t *c = realloc(t->wcount, cap * sizeof *c);
        if (c)
            t->wcount = c;
        if (!o || !l || !c)
            return -1;
        t->wcap = cap;
    }
    if (2 * (t->nw + 1) > t->wmask + 1) {
        size_t size = 2 * (t->wmask + 1);
        uint32_t *tab = calloc(size, sizeof *tab);
        if (!tab)
            return -1;
        for (size_t w = 0; w < t->nw; w++) {
            size_t h = hf_hash(t->wtext.p + t->woff[w], t->wlen[w]) & (size - 1);
            while (tab[h])
                h = (h + 1) & (size - 1);
            tab[h] = (uint32_t)w + 1;
        }
        free(t->wtable);
        t->wtable = tab;
        t->wmask = size - 1;
    }
    return 0;
}

/* One pre-tokenized word (byte-level characters) counted as its bytes. */
static int count_word(void *ctx, const char *w, size_t n, lg_error *err)
{
    lg_hf_trainer *t = ctx;
    uint8_t stack[256], *bytes = n <= sizeof stack ? stack : malloc(n);
    if (!bytes)
        return lg_fail(err, "out of memory");
    size_t nb = 0;
    for (size_t i = 0; i < n;) {
        size_t k;
        int b = lg_byte_level_byte(hf_utf8_next((const unsigned char *)w + i, &k));
        if (b < 0) {
            if (bytes != stack)
                free(bytes);
            return lg_fail(err, "the pre-tokenizer gave a character outside the byte alphabet");
        }
        bytes[nb++] = (uint8_t)b;
        i += k;
    }
    int rc = 0;
    if (nb > UINT32_MAX / 2) {
        rc = lg_fail(err, "a word of %zu bytes is too long", nb);
        goto done;
    }
    t->total_words++;
    size_t h = hf_hash(bytes, nb) & t->wmask;
    for (uint32_t x; (x = t->wtable[h]); h = (h + 1) & t->wmask)
        if (t->wlen[x - 1] == nb && !memcmp(t->wtext.p + t->woff[x - 1], bytes, nb)) {
            t->wcount[x - 1]++;
            goto done;
        }
    if (word_grow(t) < 0) {
        rc = lg_fail(err, "out of memory");
        goto done;
    }
    h = hf_hash(bytes, nb) & t->wmask;
    while (t->wtable[h])
        h = (h + 1) & t->wmask;
    t->woff[t->nw] = t->wtext.n;
    t->wlen[t->nw] = (uint32_t)nb;
    t->wcount[t->nw] = 1;
    if (hf_buf_add(&t->wtext, bytes, nb) < 0) {
        rc = lg_fail(err, "out of memory");
        goto done;
    }
    t->wtable[h] = (uint32_t)++t->nw;
done:
    if (bytes != stack)
        free(bytes);
    return rc;
}

int lg_hf_trainer_add(lg_hf_trainer *t, const char *text, size_t len, lg_error *err)
{
    return lg_hf_pretokenize(t->skeleton, text, len, count_word, t, err);
}

/* ---- merge counting ----------------------------------------------------------------- */

typedef struct {
    pair_t *p;
    size_t n, cap;
    int32_t *table; /* pair index, -1 empty */
    size_t mask;
    hf_heap heap;     /* of heap_item */
    int32_t *changed; /* pairs raised by the current merge */
    size_t nchanged, chcap;
    uint32_t merge_no;
} pairs_t;

static uint64_t pair_key(int32_t a, int32_t b) { return (uint64_t)(uint32_t)a << 32 | (uint32_t)b; }
static size_t pair_hash(uint64_t k) { return (size_t)((k * 0x9E3779B97F4A7C15ull) >> 20); }

static int32_t pair_find(pairs_t *P, int32_t a, int32_t b, int create)
{
    uint64_t k = pair_key(a, b);
    size_t h = pair_hash(k) & P->mask;
    for (int32_t x; (x = P->table[h]) >= 0; h = (h + 1) & P->mask)
        if (P->p[x].a == a && P->p[x].b == b)
            return x;
    if (!create)
        return -1;
    if (P->n == P->cap) {
        size_t cap = P->cap ? 2 * P->cap : 4096;
        pair_t *g = realloc(P->p, cap * sizeof *g);
        if (!g)
            return -2;
        P->p = g;
        P->cap = cap;
    }
    if (2 * (P->n + 1) > P->mask + 1) {
        size_t size = 2 * (P->mask + 1);
        int32_t *tab = malloc(size * sizeof *tab);
        if (!tab)
            return -2;
        memset(tab, 0xff, size * sizeof *tab);
        for (size_t i = 0; i < P->n; i++) {
            size_t g = pair_hash(pair_key(P->p[i].a, P->p[i].b)) & (size - 1);
            while (tab[g] >= 0)
                g = (g + 1) & (size - 1);
            tab[g] = (int32_t)i;
        }
        free(P->table);
        P->table = tab;
        P->mask = size - 1;
        h = pair_hash(k) & P->mask;
        while (P->table[h] >= 0)
            h = (h + 1) & P->mask;
    }
    int32_t x = (int32_t)P->n++;
    P->p[x] = (pair_t){.a = a, .b = b};
    P->table[h] = x;
    return x;
}

static int heap_before(const void *x, const void *y)
{
    const heap_item *p = x, *q = y;
    if (p->count != q->count)
        return p->count > q->count;
    if (p->a != q->a)
        return p->a < q->a;
    return p->b < q->b;
}

static int heap_push(pairs_t *P, int32_t x)
{
    const heap_item it = {P->p[x].count, P->p[x].a, P->p[x].b, x};
    return hf_heap_push(&P->heap, &it, sizeof it, 4096, heap_before);
}

static heap_item heap_pop(pairs_t *P)
{
    heap_item top;
    hf_heap_pop(&P->heap, &top, sizeof top, heap_before);
    return top;
}

static int list_add(i32_list *l, int32_t v)
{
    if (l->n && l->v[l->n - 1] == v)
        return 0;
    if (l->n == l->cap) {
        int32_t cap = l->cap ? 2 * l->cap : 4;
        int32_t *g = realloc(l->v, (size_t)cap * sizeof *g);
        if (!g)
            return -1;
        l->v = g;
        l->cap = cap;
    }
    l->v[l->n++] = v;
    return 0;
}

/* count(a, b) += delta; a raised pair notes word w and is pushed after the merge. */
static int pair_add(pairs_t *P, int32_t a, int32_t b, int64_t delta, int32_t w)
{
    int32_t x = pair_find(P, a, b, delta > 0);
    if (x == -2)
        return -1;
    if (x < 0)
        return 0;
    P->p[x].count += delta;
    if (delta > 0) {
        if (list_add(&P->p[x].where, w) < 0)
            return -1;
        if (P->p[x].changed != P->merge_no) {
            P->p[x].changed = P->merge_no;
            if (P->nchanged == P->chcap) {
                size_t cap = P->chcap ? 2 * P->chcap : 1024;
                int32_t *g = realloc(P->changed, cap * sizeof *g);
                if (!g)
                    return -1;
                P->changed = g;
                P->chcap = cap;
            }
            P->changed[P->nchanged++] = x;
        }
    }
    return 0;
}

static void pairs_free(pairs_t *P)
{
    for (size_t i = 0; i < P->n; i++)
        free(P->p[i].where.v);
    free(P->p);
    free(P->table);
    free(P->heap.v);
    free(P->changed);
}

int lg_hf_trainer_train(lg_hf_trainer *t, char **json, char **config, lg_hf_train_stats *st,
                        lg_error *err)
{
    *json = *config = NULL;
    memset(st, 0, sizeof *st);
    if (t->nw == 0)
        return lg_fail(err, "no text to train on (every line is empty or blank)");
    int target = t->o.vocab_size - t->n_special;
    int rc = -1;
    pairs_t P = {0};
    int32_t *sym = NULL, *merges = NULL;
    size_t *start = malloc(t->nw * sizeof *start);
    uint32_t *len = malloc(t->nw * sizeof *len);
    uint32_t *stamp = calloc(t->nw, sizeof *stamp);
    size_t *tok_off = malloc((size_t)target * sizeof *tok_off);
    uint32_t *tok_len = malloc((size_t)target * sizeof *tok_len);
    uint32_t *tok_table = NULL; /* token id + 1 by string */
    size_t tok_mask = 0;
    hf_buf tok_text = {0};
    int n_tok = 0, n_merges = 0, merges_cap = target;
    sym = malloc((t->wtext.n ? t->wtext.n : 1) * sizeof *sym);
    merges = malloc(2 * (size_t)target * sizeof *merges);
    if (!start || !len || !stamp || !tok_off || !tok_len || !sym || !merges)
        goto oom;
    /* tokens: the bytes */
    tok_mask = 1;
    while (tok_mask + 1 < 2 * (size_t)target)
        tok_mask = 2 * tok_mask + 1;
    if (!(tok_table = calloc(tok_mask + 1, sizeof *tok_table)))
        goto oom;
    for (int id = 0; id < 256; id++) {
        tok_off[id] = tok_text.n;
        tok_len[id] = 1;
        if (hf_buf_add(&tok_text, &t->byte_of_id[id], 1) < 0)
            goto oom;
        size_t h = hf_hash(&t->byte_of_id[id], 1) & tok_mask;
        while (tok_table[h])
            h = (h + 1) & tok_mask;
        tok_table[h] = (uint32_t)id + 1;
    }
    n_tok = 256;
    /* words as symbols; pair counts */
    P.mask = 65535;
    if (!(P.table = malloc((P.mask + 1) * sizeof *P.table)))
        goto oom;
    memset(P.table, 0xff, (P.mask + 1) * sizeof *P.table);
    for (size_t w = 0; w < t->nw; w++) {
        start[w] = t->woff[w];
        len[w] = t->wlen[w];
        const uint8_t *b = (const uint8_t *)t->wtext.p + t->woff[w];
        int32_t *s = sym + start[w];
        for (uint32_t i = 0; i < len[w]; i++)
            s[i] = t->id_of_byte[b[i]];
        for (uint32_t i = 0; i + 1 < len[w]; i++)
            if (pair_add(&P, s[i], s[i + 1], t->wcount[w], (int32_t)w) < 0)
                goto oom;
        st->chars += (int64_t)lg_utf8_length((const char *)b, len[w]) * t->wcount[w];
    }
    for (size_t i = 0; i < P.n; i++)
        if (heap_push(&P, (int32_t)i) < 0)
            goto oom;
    P.nchanged = 0;
    while (n_tok < target && P.heap.n) {
        heap_item top = heap_pop(&P);
        pair_t *q = &P.p[top.pair];
        if (top.count != q->count) {
            if (q->count > 0 && heap_push(&P, top.pair) < 0)
                goto oom;
            continue;
        }
        if (q->count < t->o.min_frequency)
            break;
        int32_t a = q->a, b = q->b;
        /* the merged token: new, or the same string reached another way */
        size_t nl = (size_t)tok_len[a] + tok_len[b];
        if (hf_buf_reserve(&tok_text, nl + 1) < 0)
            goto oom;
        size_t at = tok_text.n;
        memcpy(tok_text.p + at, tok_text.p + tok_off[a], tok_len[a]);
        memcpy(tok_text.p + at + tok_len[a], tok_text.p + tok_off[b], tok_len[b]);
        size_t h = hf_hash(tok_text.p + at, nl) & tok_mask;
        int32_t nt = -1;
        for (uint32_t x; (x = tok_table[h]); h = (h + 1) & tok_mask)
            if (tok_len[x - 1] == nl && !memcmp(tok_text.p + tok_off[x - 1], tok_text.p + at, nl)) {
                nt = (int32_t)x - 1;
                break;
            }
        if (nt < 0) {
            nt = n_tok++;
            tok_off[nt] = at;
            tok_len[nt] = (uint32_t)nl;
            tok_text.n += nl;
            tok_table[h] = (uint32_t)nt + 1;
        }
        if (!q->merged) {
            if (n_merges == merges_cap) {
                int32_t *g = realloc(merges, 4 * (size_t)merges_cap * sizeof *g);
                if (!g)
                    goto oom;
                merges = g;
                merges_cap *= 2;
            }
            merges[2 * n_merges] = a;
            merges[2 * n_merges + 1] = b;
            n_merges++;
            q->merged = 1;
        }
        st->last_count = q->count;
        /* rewrite the words holding (a, b) */
        P.merge_no++;
        P.nchanged = 0;
        i32_list where = q->where;
        q->where = (i32_list){0};
        for (int32_t k = 0; k < where.n; k++) {
            int32_t w = where.v[k];
            if (stamp[w] == P.merge_no)
                continue;
            stamp[w] = P.merge_no;
            int32_t *s = sym + start[w];
            int64_t c = t->wcount[w];
            uint32_t n = len[w], j = 0;
            for (uint32_t i = 0; i < n;) {
                if (i + 1 < n && s[i] == a && s[i + 1] == b) {
                    if (pair_add(&P, a, b, -c, w) < 0)
                        goto oom_where;
                    if (j > 0 && (pair_add(&P, s[j - 1], a, -c, w) < 0 ||
                                  pair_add(&P, s[j - 1], nt, c, w) < 0))
                        goto oom_where;
                    if (i + 2 < n && (pair_add(&P, b, s[i + 2], -c, w) < 0 ||
                                      pair_add(&P, nt, s[i + 2], c, w) < 0))
                        goto oom_where;
                    s[j++] = nt;
                    i += 2;
                } else {
                    s[j++] = s[i++];
                }
            }
            len[w] = j;
        }
        free(where.v);
        for (size_t k = 0; k < P.nchanged; k++)
            if (P.p[P.changed[k]].count > 0 && heap_push(&P, P.changed[k]) < 0)
                goto oom;
        continue;
    oom_where:
        free(where.v);
        goto oom;
    }
    for (size_t w = 0; w < t->nw; w++) {
        st->tokens += (int64_t)len[w] * t->wcount[w];
    }
    st->words = t->total_words;
    st->unique_words = (int64_t)t->nw;
    st->merges = n_merges;
    st->model_vocab = n_tok;
    st->vocab_size = n_tok + t->n_special;
    *json = document(t, &tok_text, tok_off, tok_len, n_tok, merges, n_merges);
    *config = config_document(t, n_tok);
    if (!*json || !*config)
        goto oom;
    rc = 0;
    goto done;
oom:
    rc = lg_fail(err, "out of memory");
    free(*json);
    free(*config);
    *json = *config = NULL;
done:
    pairs_free(&P);
    free(sym);
    free(merges);
    free(start);
    free(len);
    free(stamp);
    free(tok_off);
    free(tok_len);
    free(tok_table);
    hf_buf_free(&tok_text);
    return rc;
}
