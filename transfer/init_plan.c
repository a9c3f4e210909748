/* How each new token's row is made: the plan of convex combinations of base rows. */
#include "lg_transfer.h"

#include <stdlib.h>
#include <string.h>

#include "piece_trie.h"

static const char *const METHOD_NAMES[LG_INIT_METHODS] = {
    "trans", "dict", "hull", "random", "mvn", "mean"};
static const char *const SOURCE_NAMES[LG_ROW_KINDS] = {
    "base", "special", "aligned", "copy", "trie", "hull", "mean", "random", "mvn"};

const char *lg_init_method_name(lg_init_method m)
{
    return m >= 0 && m < LG_INIT_METHODS ? METHOD_NAMES[m] : "?";
}

int lg_init_method_parse(const char *name, lg_init_method *m)
{
    for (int i = 0; i < LG_INIT_METHODS; i++)
        if (!strcmp(name, METHOD_NAMES[i])) {
            *m = (lg_init_method)i;
            return 0;
        }
    return -1;
}

const char *lg_row_source_name(lg_row_source s)
{
    return s >= 0 && s < LG_ROW_KINDS ? SOURCE_NAMES[s] : "?";
}

void lg_init_opts_default(lg_init_opts *o)
{
    memset(o, 0, sizeof *o);
    o->method = LG_INIT_TRANS;
    o->min_count = 1.0;
    o->max_terms = 64;
    o->seed = 1;
    o->mvn_scale = 1.0;
}

void lg_init_plan_free(lg_init_plan *plan)
{
    free(plan->off);
    free(plan->base_id);
    free(plan->weight);
    free(plan->source);
    memset(plan, 0, sizeof *plan);
}

/* A dense accumulator over base ids with the list of ids touched. */
typedef struct {
    double *acc;
    int32_t *touched;
    int n_touched;
    /* the plan's growing entry arrays */
    int64_t n, cap;
} builder;

typedef struct {
    int32_t id;
    double w;
} term;

static int by_weight_desc(const void *a, const void *b)
{
    const term *x = a, *y = b;
    if (x->w != y->w)
        return x->w > y->w ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

static void add(builder *b, int32_t id, double w)
{
    if (w <= 0)
        return;
    if (b->acc[id] == 0)
        b->touched[b->n_touched++] = id;
    b->acc[id] += w;
}

/* Turns the accumulator into row t's entries: the max_terms largest weights, normalised to
 * sum 1.  Returns 1 when something was emitted, 0 when the accumulator was empty, -1. */
static int emit(builder *b, lg_init_plan *plan, int32_t t, lg_row_source src, int max_terms,
                term *scratch, lg_error *err)
{
    int n = 0;
    for (int i = 0; i < b->n_touched; i++) {
        scratch[n].id = b->touched[i];
        scratch[n].w = b->acc[b->touched[i]];
        b->acc[b->touched[i]] = 0;
        n++;
    }
    b->n_touched = 0;
    if (n == 0)
        return 0;
    qsort(scratch, (size_t)n, sizeof *scratch, by_weight_desc);
    if (n > max_terms)
        n = max_terms;
    double total = 0;
    for (int i = 0; i < n; i++)
        total += scratch[i].w;
    if (b->n + n > b->cap) {
        int64_t nc = b->cap ? b->cap : 1 << 16;
        while (nc < b->n + n)
            nc *= 2;
        int32_t *ids = realloc(plan->base_id, (size_t)nc * sizeof *ids);
        if (ids)
            plan->base_id = ids;
        float *ws = ids ? realloc(plan->weight, (size_t)nc * sizeof *ws) : NULL;
        if (ws)
            plan->weight = ws;
        if (!ws)
            return lg_fail(err, "out of memory for the initialisation plan");
        b->cap = nc;
    }
    for (int i = 0; i < n; i++) {
        plan->base_id[b->n + i] = scratch[i].id;
        plan->weight[b->n + i] = (float)(scratch[i].w / total);
    }
    b->n += n;
    plan->off[t + 1] = b->n;
    plan->source[t] = (uint8_t)src;
    plan->counts[src]++;
    return 1;
}

/* No entries: a draw from base statistics. */
static void emit_draw(builder *b, lg_init_plan *plan, int32_t t, lg_row_source src)
{
    plan->off[t + 1] = b->n;
    plan->source[t] = (uint8_t)src;
    plan->counts[src]++;
}

static int is_special(const lg_tokenizer *tok, int id)
{
    return id >= 0 && (id == tok->ops->bos_id(tok) || id == tok->ops->eos_id(tok) ||
                       id == lg_tokenizer_unk_id(tok) || id == tok->ops->pad_id(tok));
}

static int special_counterpart(const lg_tokenizer *base, const lg_tokenizer *tok, int id)
{
    if (id == tok->ops->bos_id(tok))
        return base->ops->bos_id(base);
    if (id == tok->ops->eos_id(tok))
        return base->ops->eos_id(base);
    if (id == lg_tokenizer_unk_id(tok))
        return lg_tokenizer_unk_id(base);
    if (id == tok->ops->pad_id(tok))
        return base->ops->pad_id(base);
    return -1;
}

/* The two tokenizers and how each spells its pieces. */
typedef struct {
    const lg_tokenizer *base, *tok;
    lg_piece_spelling base_sp, tok_sp;
} tokenizers;

static int valid_utf8(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        unsigned c = p[i];
        size_t k = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (!k || i + k > n || (k == 2 && c < 0xC2))
            return 0;
        for (size_t j = 1; j < k; j++)
            if ((p[i + j] & 0xC0) != 0x80)
                return 0;
        i += k;
    }
    return 1;
}

/* The base piece identical to new piece t: in the same spelling the same string; across
 * spellings (byte-level and word-mark) the base piece of the same text, spelt as the base
 * spells it (a whole character's byte piece too: "a" is the base's "a"), else for a byte
 * piece the base's piece of that byte; -1 when none. */
static int identical_piece(const tokenizers *k, int32_t t, char *text, size_t cap, char *spelt)
{
    const char *piece = k->tok->ops->piece(k->tok, t);
    if (k->tok_sp.byte_level == k->base_sp.byte_level)
        return lg_tokenizer_piece_to_id(k->base, piece);
    int byte = lg_piece_byte(&k->tok_sp, k->tok, t);
    long n = lg_piece_text(&k->tok_sp, k->tok, t, text, cap);
    if ((byte < 0 || byte < 0x80) && n > 0 && valid_utf8(text, (size_t)n) &&
        lg_piece_spell(&k->base_sp, text, (size_t)n, spelt, 4 * cap) >= 0) {
        int id = lg_tokenizer_piece_to_id(k->base, spelt);
        if (id >= 0)
            return id;
    }
    return byte >= 0 ? k->base_sp.byte_id[byte] : -1;
}

/* The distribution P(. | t) of table row t, entries with count >= min_count, added with
 * weight scale; returns whether the row had any. */
static int add_table_row(builder *b, const lg_align_result *tab, int32_t t, double min_count,
                         double scale)
{
    if (!tab || t >= tab->tgt_vocab)
        return 0;
    double total = 0;
    for (int64_t k = tab->row[t]; k < tab->row[t + 1]; k++)
        if (tab->count[k] >= min_count)
            total += tab->count[k];
    if (total <= 0)
        return 0;
    for (int64_t k = tab->row[t]; k < tab->row[t + 1]; k++)
        if (tab->count[k] >= min_count)
            add(b, tab->src[k], scale * tab->count[k] / total);
    return 1;
}

/* Aligned pieces related to an unaligned piece: those that start with it (trie subtree)
 * and those inside it (walks from each character offset), each weighted by the bytes of
 * the piece it shares. */
static int add_trie_relatives(builder *b, const piece_trie *trie, const lg_align_result *tab,
                              const tokenizers *k, const char *piece, double min_count)
{
    size_t len = strlen(piece);
    int found = 0;
    int32_t toks[64];
    int lens[64];
    int32_t node = piece_trie_find(trie, piece, len);
    if (node >= 0) {
        int n = piece_trie_below(trie, node, toks, 32);
        for (int i = 0; i < n; i++)
            found += add_table_row(b, tab, toks[i], min_count, (double)len);
    }
    for (size_t s = 0; s < len; s++) {
        if (((unsigned char)piece[s] & 0xc0) == 0x80)
            continue; /* not a character boundary */
        int n = piece_trie_prefixes(trie, piece + s, len - s, 2, toks, lens, 64);
        for (int i = 0; i < n; i++) {
            if ((size_t)lens[i] == len) /* the piece itself */
                continue;
            const char *p = k->tok->ops->piece(k->tok, toks[i]);
            if (!strcmp(p, k->tok_sp.mark))
                continue; /* a bare word boundary says nothing */
            found += add_table_row(b, tab, toks[i], min_count, (double)lens[i]);
        }
    }
    return found > 0;
}

/* The subtoken mean: the text of new piece t encoded with the base tokenizer. A byte piece
 * has no text of its own, nor has a piece that is part of a character. */
static int add_subtoken_mean(builder *b, const tokenizers *k, int32_t t, lg_token_ids *ids,
                             char *text, size_t cap, lg_error *err)
{
    if (lg_piece_byte(&k->tok_sp, k->tok, t) >= 0)
        return 0;
    long w = lg_piece_text(&k->tok_sp, k->tok, t, text, cap);
    if (w <= 0 || !valid_utf8(text, (size_t)w))
        return 0;
    const lg_tokenizer *base = k->base;
    if (base->ops->encode(base, text, (size_t)w, ids, err) < 0)
        return -1;
    int unk = lg_tokenizer_unk_id(base);
    size_t first = 0;
    /* a word-internal piece: SentencePiece's dummy prefix adds a boundary it did not have */
    if (text[0] != ' ' && ids->n > 1 && !strcmp(base->ops->piece(base, ids->ids[0]), k->base_sp.mark))
        first = 1;
    int n = 0;
    for (size_t i = first; i < ids->n; i++)
        if (ids->ids[i] != unk && !is_special(base, ids->ids[i]))
            n++;
    for (size_t i = first; i < ids->n; i++)
        if (ids->ids[i] != unk && !is_special(base, ids->ids[i]))
            add(b, ids->ids[i], 1.0 / n);
    return n > 0;
}

int lg_init_plan_build(const lg_tokenizer *base_tok, const lg_tokenizer *new_tok,
                       const lg_align_result *tab, const lg_init_opts *o, lg_init_plan *plan,
                       lg_error *err)
{
    memset(plan, 0, sizeof *plan);
    int32_t n_new = new_tok->ops->vocab_size(new_tok), n_base = base_tok->ops->vocab_size(base_tok);
    tokenizers k = {.base = base_tok, .tok = new_tok};
    if (lg_piece_spelling_init(&k.base_sp, base_tok, err) < 0 ||
        lg_piece_spelling_init(&k.tok_sp, new_tok, err) < 0)
        return -1;
    /* SentencePiece's unused pieces are never copied */
    const lg_spm *new_spm = lg_tokenizer_spm(new_tok);
    int uses_table = o->method == LG_INIT_TRANS || o->method == LG_INIT_DICT;
    if (uses_table) {
        if (!tab)
            return lg_fail(err, "method %s needs an alignment table", lg_init_method_name(o->method));
        if (tab->tgt_vocab > n_new)
            return lg_fail(err, "the alignment table has target id %d but the new tokenizer has "
                           "only %d pieces: a table for another tokenizer", tab->tgt_vocab - 1, n_new);
        if (tab->src_vocab > n_base)
            return lg_fail(err, "the alignment table has source id %d but the base tokenizer has "
                           "only %d pieces: a table for another tokenizer", tab->src_vocab - 1, n_base);
    }
    if (o->extend) {
        if (n_new < n_base)
            return lg_fail(err, "--extend: the new tokenizer has %d pieces, fewer than the base's %d",
                           n_new, n_base);
        for (int32_t t = 0; t < n_base; t++)
            if (strcmp(new_tok->ops->piece(new_tok, t), base_tok->ops->piece(base_tok, t)))
                return lg_fail(err, "--extend: piece %d is '%s' in the new tokenizer but '%s' in the "
                               "base one: not an extension", t, new_tok->ops->piece(new_tok, t),
                               base_tok->ops->piece(base_tok, t));
    }
    plan->n_new = n_new;
    plan->n_base = n_base;
    plan->off = calloc((size_t)n_new + 1, sizeof *plan->off);
    plan->source = calloc((size_t)n_new + 1, 1);
    builder b = {0};
    b.acc = calloc((size_t)n_base + 1, sizeof *b.acc);
    b.touched = malloc(((size_t)n_base + 1) * sizeof *b.touched);
    term *scratch = malloc(((size_t)n_base + 1) * sizeof *scratch);
    piece_trie trie = {0};
    lg_token_ids ids = {0};
    size_t text_cap = 4096;
    char *text = malloc(text_cap), *spelt = malloc(4 * text_cap);
    int rc = 0;
    if (!plan->off || !plan->source || !b.acc || !b.touched || !scratch || !text || !spelt) {
        rc = lg_fail(err, "out of memory for the initialisation plan");
        goto done;
    }
    if (uses_table) {
        if ((rc = piece_trie_init(&trie, err)) < 0)
            goto done;
        for (int32_t t = 0; t < tab->tgt_vocab && rc == 0; t++) {
            int any = 0;
            for (int64_t k = tab->row[t]; k < tab->row[t + 1]; k++)
                any |= tab->count[k] >= o->min_count;
            if (any) {
                const char *p = new_tok->ops->piece(new_tok, t);
                rc = piece_trie_insert(&trie, p, strlen(p), t, err);
            }
        }
        if (rc < 0)
            goto done;
    }
    lg_row_source draw = o->method == LG_INIT_RANDOM ? LG_ROW_RANDOM
                       : o->method == LG_INIT_MVN    ? LG_ROW_MVN
                                                     : LG_ROW_MEAN;
    for (int32_t t = 0; t < n_new && rc >= 0; t++) {
        plan->off[t + 1] = b.n;
        if (o->extend && t < n_base) {
            add(&b, t, 1.0);
            rc = emit(&b, plan, t, LG_ROW_BASE, o->max_terms, scratch, err);
            continue;
        }
        int sp = special_counterpart(base_tok, new_tok, t);
        if (sp >= 0) {
            add(&b, sp, 1.0);
            rc = emit(&b, plan, t, LG_ROW_SPECIAL, o->max_terms, scratch, err);
            continue;
        }
        const char *piece = new_tok->ops->piece(new_tok, t);
        size_t len = strlen(piece);
        if (len + 1 > text_cap) {
            char *nt = realloc(text, len + 1), *ns = nt ? realloc(spelt, 4 * (len + 1)) : NULL;
            if (nt)
                text = nt;
            if (ns)
                spelt = ns;
            if (!nt || !ns) {
                rc = lg_fail(err, "out of memory");
                break;
            }
            text_cap = len + 1;
        }
        if (uses_table && add_table_row(&b, tab, t, o->min_count, 1.0)) {
            rc = emit(&b, plan, t, LG_ROW_ALIGNED, o->max_terms, scratch, err);
            continue;
        }
        int same = identical_piece(&k, t, text, text_cap, spelt);
        if (same >= 0 && !(new_spm && lg_spm_type(new_spm, t) == LG_SPM_UNUSED)) {
            add(&b, same, 1.0);
            rc = emit(&b, plan, t, LG_ROW_COPY, o->max_terms, scratch, err);
            continue;
        }
        if (o->method == LG_INIT_RANDOM || o->method == LG_INIT_MVN || o->method == LG_INIT_MEAN) {
            emit_draw(&b, plan, t, draw);
            continue;
        }
        if (uses_table && add_trie_relatives(&b, &trie, tab, &k, piece, o->min_count)) {
            rc = emit(&b, plan, t, LG_ROW_TRIE, o->max_terms, scratch, err);
            continue;
        }
        int h = add_subtoken_mean(&b, &k, t, &ids, text, text_cap, err);
        if (h < 0) {
            rc = -1;
            break;
        }
        if (h > 0) {
            rc = emit(&b, plan, t, LG_ROW_HULL, o->max_terms, scratch, err);
            continue;
        }
        emit_draw(&b, plan, t, LG_ROW_MEAN);
    }
done:
    free(b.acc);
    free(b.touched);
    free(scratch);
    free(text);
    free(spelt);
    lg_token_ids_free(&ids);
    piece_trie_free(&trie);
    if (rc < 0) {
        lg_init_plan_free(plan);
        return -1;
    }
    return 0;
}
