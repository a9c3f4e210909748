/* Vocabulary extension: the base ModelProto with the target's missing pieces appended. */
#include "spm_proto.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lg_spm.h"

/* An open-addressing set of the base pieces (indices into the parsed proto). */
typedef struct {
    size_t *slots;  /* index + 1, 0 = empty */
    size_t mask;
} piece_set;

static uint64_t hash_bytes(const uint8_t *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ s[i]) * 1099511628211ull;
    return h;
}

static int set_build(piece_set *set, const lg_spm_proto *p)
{
    size_t cap = 16;
    while (cap < 2 * p->n)
        cap *= 2;
    set->slots = calloc(cap, sizeof *set->slots);
    if (!set->slots)
        return -1;
    set->mask = cap - 1;
    for (size_t i = 0; i < p->n; i++) {
        size_t h = (size_t)hash_bytes(p->pieces[i].piece, p->pieces[i].piece_len) & set->mask;
        while (set->slots[h])
            h = (h + 1) & set->mask;
        set->slots[h] = i + 1;
    }
    return 0;
}

static int set_contains(const piece_set *set, const lg_spm_proto *p, const uint8_t *s, size_t n)
{
    size_t h = (size_t)hash_bytes(s, n) & set->mask;
    while (set->slots[h]) {
        const lg_spm_proto_piece *q = &p->pieces[set->slots[h] - 1];
        if (q->piece_len == n && memcmp(q->piece, s, n) == 0)
            return 1;
        h = (h + 1) & set->mask;
    }
    return 0;
}

static int appendable(int type) { return type == LG_SPM_NORMAL || type == LG_SPM_USER_DEFINED; }

int lg_spm_proto_extend(const uint8_t *base, size_t base_len, const char *base_name,
                        const uint8_t *target, size_t target_len, const char *target_name,
                        lg_spm_score_policy policy, uint8_t **merged, size_t *merged_len,
                        int **target_ids, size_t *n_added, lg_error *err)
{
    lg_spm_proto bp, tp;
    piece_set set = {0};
    *merged = NULL;
    *target_ids = NULL;
    if (lg_spm_proto_parse(base, base_len, base_name, &bp, err) < 0)
        return -1;
    if (lg_spm_proto_parse(target, target_len, target_name, &tp, err) < 0) {
        lg_spm_proto_free(&bp);
        return -1;
    }
    int rc = -1;
    if (set_build(&set, &bp) < 0) {
        lg_fail(err, "%s: out of memory", base_name);
        goto done;
    }
    float base_min = INFINITY, target_max = -INFINITY;
    for (size_t i = 0; i < bp.n; i++)
        if (bp.pieces[i].type == LG_SPM_NORMAL && bp.pieces[i].score < base_min)
            base_min = bp.pieces[i].score;
    if (base_min == INFINITY)
        base_min = 0.0f;
    size_t extra = 0, count = 0;
    for (size_t i = 0; i < tp.n; i++) {
        const lg_spm_proto_piece *q = &tp.pieces[i];
        if (!appendable(q->type) || set_contains(&set, &bp, q->piece, q->piece_len))
            continue;
        /* SentencePiece keys its tries by C string: a NUL byte ends the piece there (an
         * empty key makes a unigram base fail to load), so such a piece cannot be added */
        if (memchr(q->piece, 0, q->piece_len)) {
            lg_fail(err, "%s: piece %zu contains a NUL byte, which SentencePiece cannot hold",
                    target_name, i);
            goto done;
        }
        extra += lg_spm_proto_piece_size(q->piece_len);
        count++;
        if (q->score > target_max)
            target_max = q->score;
    }
    *merged = malloc(base_len + extra);
    *target_ids = malloc((count ? count : 1) * sizeof **target_ids);
    if (!*merged || !*target_ids) {
        lg_fail(err, "%s: out of memory", base_name);
        goto done;
    }
    memcpy(*merged, base, bp.pieces_end);
    size_t at = bp.pieces_end, k = 0;
    for (size_t i = 0; i < tp.n; i++) {
        const lg_spm_proto_piece *q = &tp.pieces[i];
        if (!appendable(q->type) || set_contains(&set, &bp, q->piece, q->piece_len))
            continue;
        float score = policy == LG_SPM_SCORE_ZERO ? 0.0f
                                                  : base_min - 1.0f + (q->score - target_max);
        at += lg_spm_proto_write_piece(*merged + at, (const char *)q->piece, q->piece_len, score,
                                       q->type);
        (*target_ids)[k++] = (int)i;
    }
    memcpy(*merged + at, base + bp.pieces_end, base_len - bp.pieces_end);
    *merged_len = at + base_len - bp.pieces_end;
    *n_added = count;
    rc = 0;
done:
    if (rc < 0) {
        free(*merged);
        free(*target_ids);
        *merged = NULL;
        *target_ids = NULL;
    }
    free(set.slots);
    lg_spm_proto_free(&bp);
    lg_spm_proto_free(&tp);
    return rc;
}
