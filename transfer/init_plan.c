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

static int is_special(const lg_spm *tok, int id)
{
    return id >= 0 && (id == lg_spm_bos_id(tok) || id == lg_spm_eos_id(tok) ||
                       id == lg_spm_unk_id(tok) || id == lg_spm_pad_id(tok));
}

static int special_counterpart(const lg_spm *base, const lg_spm *tok, int id)
{
    if (id == lg_spm_bos_id(tok))
        return lg_spm_bos_id(base);
    if (id == lg_spm_eos_id(tok))
        return lg_spm_eos_id(base);
    if (id == lg_spm_unk_id(tok))
        return lg_spm_unk_id(base);
    if (id == lg_spm_pad_id(tok))
        return lg_spm_pad_id(base);
    return -1;
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

#define SPACE_MARK "\xe2\x96\x81" /* U+2581, SentencePiece's word boundary */

/* Aligned pieces related to an unaligned piece: those that start with it (trie subtree)
 * and those inside it (walks from each character offset), each weighted by the bytes of
 * the piece it shares. */
static int add_trie_relatives(builder *b, const piece_trie *trie, const lg_align_result *tab,
                              const lg_spm *new_tok, const char *piece, double min_count)
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
            const char *p = lg_spm_id_to_piece(new_tok, toks[i]);
            if (!strcmp(p, SPACE_MARK))
                continue; /* a bare word boundary says nothing */
            found += add_table_row(b, tab, toks[i], min_count, (double)lens[i]);
        }
    }
    return found > 0;
}

/* The subtoken mean: the piece's text encoded with the base tokenizer. */
static int add_subtoken_mean(builder *b, const lg_spm *base_tok, const char *piece,
                             lg_token_ids *ids, char *text, lg_error *err)
{
    size_t len = strlen(piece);
    if (len >= 4 && piece[0] == '<' && piece[1] == '0' && piece[2] == 'x')
        return 0; /* a byte piece: no text of its own */
    /* replace the word-boundary mark by a space, as the text was */
    size_t w = 0;
    int leading_mark = !strncmp(piece, SPACE_MARK, 3);
    for (size_t i = 0; i < len;) {
        if (!strncmp(piece + i, SPACE_MARK, 3)) {
            text[w++] = ' ';
            i += 3;
        } else {
            text[w++] = piece[i++];
        }
    }
    text[w] = 0;
    if (w == 0)
        return 0;
    if (lg_spm_encode(base_tok, text, w, ids, err) < 0)
        return -1;
    int unk = lg_spm_unk_id(base_tok);
    size_t first = 0;
    /* a word-internal piece: SentencePiece's dummy prefix adds a boundary it did not have */
    if (!leading_mark && ids->n > 1 && !strcmp(lg_spm_id_to_piece(base_tok, ids->ids[0]), SPACE_MARK))
        first = 1;
    int n = 0;
    for (size_t i = first; i < ids->n; i++)
        if (ids->ids[i] != unk && !is_special(base_tok, ids->ids[i]))
            n++;
    for (size_t i = first; i < ids->n; i++)
        if (ids->ids[i] != unk && !is_special(base_tok, ids->ids[i]))
            add(b, ids->ids[i], 1.0 / n);
    return n > 0;
}

int lg_init_plan_build(const lg_spm *base_tok, const lg_spm *new_tok, const lg_align_result *tab,
                       const lg_init_opts *o, lg_init_plan *plan, lg_error *err)
{
    memset(plan, 0, sizeof *plan);
    int32_t n_new = lg_spm_vocab_size(new_tok), n_base = lg_spm_vocab_size(base_tok);
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
            if (strcmp(lg_spm_id_to_piece(new_tok, t), lg_spm_id_to_piece(base_tok, t)))
                return lg_fail(err, "--extend: piece %d is '%s' in the new tokenizer but '%s' in the "
                               "base one: not an extension", t, lg_spm_id_to_piece(new_tok, t),
                               lg_spm_id_to_piece(base_tok, t));
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
    char *text = malloc(text_cap);
    int rc = 0;
    if (!plan->off || !plan->source || !b.acc || !b.touched || !scratch || !text) {
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
                const char *p = lg_spm_id_to_piece(new_tok, t);
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
        const char *piece = lg_spm_id_to_piece(new_tok, t);
        if (uses_table && add_table_row(&b, tab, t, o->min_count, 1.0)) {
            rc = emit(&b, plan, t, LG_ROW_ALIGNED, o->max_terms, scratch, err);
            continue;
        }
        int same = lg_spm_piece_to_id(base_tok, piece);
        if (same >= 0 && lg_spm_type(new_tok, t) != LG_SPM_UNUSED) {
            add(&b, same, 1.0);
            rc = emit(&b, plan, t, LG_ROW_COPY, o->max_terms, scratch, err);
            continue;
        }
        if (o->method == LG_INIT_RANDOM || o->method == LG_INIT_MVN || o->method == LG_INIT_MEAN) {
            emit_draw(&b, plan, t, draw);
            continue;
        }
        if (uses_table && add_trie_relatives(&b, &trie, tab, new_tok, piece, o->min_count)) {
            rc = emit(&b, plan, t, LG_ROW_TRIE, o->max_terms, scratch, err);
            continue;
        }
        size_t len = strlen(piece);
        if (len + 1 > text_cap) {
            char *nt = realloc(text, len + 1);
            if (!nt) {
                rc = lg_fail(err, "out of memory");
                break;
            }
            text = nt;
            text_cap = len + 1;
        }
        int h = add_subtoken_mean(&b, base_tok, piece, &ids, text, err);
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
    lg_token_ids_free(&ids);
    piece_trie_free(&trie);
    if (rc < 0) {
        lg_init_plan_free(plan);
        return -1;
    }
    return 0;
}
