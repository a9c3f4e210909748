/* Pre-tokenizers of a tokenizer.json, as Hugging Face's tokenizers (0.23) splits: Split
 * (a string, or a regex: the GPT-2, Llama-3 and Qwen2/3 patterns are matched by hand with
 * Oniguruma's semantics, any other regex by ICU), ByteLevel, Metaspace, Digits, Whitespace,
 * WhitespaceSplit, Punctuation and Sequence, with the five split behaviours and invert.
 * Unicode classes come from ICU, tabulated once. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unicode/uchar.h>
#include <unicode/uregex.h>
#include <unicode/utext.h>

#include "hf_internal.h"

/* ---- Unicode classes ---------------------------------------------------------------- */

static uint8_t uclass_table[0x110000];
const uint8_t *hf_uclass = uclass_table;
static pthread_once_t uclass_once = PTHREAD_ONCE_INIT;

static void uclass_build(void)
{
    for (UChar32 c = 0; c < 0x110000; c++) {
        uint32_t gc = U_GET_GC_MASK(c);
        uint8_t f = 0;
        if (gc & U_GC_L_MASK)
            f |= HF_L;
        if (gc & U_GC_N_MASK)
            f |= HF_N;
        if (u_hasBinaryProperty(c, UCHAR_WHITE_SPACE))
            f |= HF_WS;
        int alpha = u_hasBinaryProperty(c, UCHAR_ALPHABETIC);
        if (alpha || (gc & U_GC_N_MASK))
            f |= HF_ALNUM;
        if (alpha || (gc & (U_GC_M_MASK | U_GC_ND_MASK | U_GC_PC_MASK)) ||
            u_hasBinaryProperty(c, UCHAR_JOIN_CONTROL))
            f |= HF_WORD;
        if ((c < 128 && c > 32 && c != 127 && !(f & (HF_L | HF_N))) || (gc & U_GC_P_MASK))
            f |= HF_PUNCT;
        uclass_table[c] = f;
    }
}

void hf_unicode_init(void) { pthread_once(&uclass_once, uclass_build); }

static inline uint8_t cls_at(const char *s, size_t i, size_t *l)
{
    return hf_uclass[hf_utf8_next((const unsigned char *)s + i, l)];
}

/* ---- the byte alphabet of ByteLevel (GPT-2's bytes_to_unicode: lg_byte_level_char) ---- */

static char byte_utf8[256][2];
static pthread_once_t bytes_once = PTHREAD_ONCE_INIT;

static void bytes_build(void)
{
    for (unsigned b = 0; b < 256; b++) {
        /* every one of them is two bytes of UTF-8 except the ASCII ones */
        char tmp[4];
        size_t l = hf_utf8_put(tmp, lg_byte_level_char(b));
        byte_utf8[b][0] = tmp[0];
        byte_utf8[b][1] = l == 2 ? tmp[1] : 0;
    }
}

/* ---- pieces --------------------------------------------------------------------------- */

int hf_pieces_add(hf_pieces *l, const char *s, size_t len, int first)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 32;
        hf_piece *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return -1;
        l->v = v;
        l->cap = cap;
    }
    size_t off = l->text.n;
    if (hf_buf_add(&l->text, s, len) < 0)
        return -1;
    l->v[l->n++] = (hf_piece){off, len, first};
    return 0;
}

void hf_pieces_clear(hf_pieces *l)
{
    l->n = 0;
    l->text.n = 0;
}

void hf_pieces_free(hf_pieces *l)
{
    hf_buf_free(&l->text);
    free(l->v);
    memset(l, 0, sizeof *l);
}

/* ---- patterns ------------------------------------------------------------------------- */

enum pat_kind { PAT_STRING, PAT_GPT2, PAT_LLAMA3, PAT_QWEN, PAT_ICU };

struct hf_pattern {
    enum pat_kind kind;
    char *str;
    size_t len;
    URegularExpression *re;
    pthread_mutex_t lock;
};

static const char RE_LLAMA3[] =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| "
    "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
static const char RE_QWEN[] =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| "
    "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
static const char RE_GPT2[] =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

void hf_pattern_free(hf_pattern *p)
{
    if (!p)
        return;
    free(p->str);
    if (p->re)
        uregex_close(p->re);
    if (p->kind == PAT_ICU)
        pthread_mutex_destroy(&p->lock);
    free(p);
}

static hf_pattern *pattern_new(enum pat_kind kind, const char *s, const char *file, lg_error *err)
{
    hf_pattern *p = calloc(1, sizeof *p);
    if (!p || !(p->str = strdup(s))) {
        free(p);
        lg_fail(err, "%s: out of memory", file);
        return NULL;
    }
    p->kind = kind;
    p->len = strlen(s);
    return p;
}

hf_pattern *hf_pattern_parse(const cJSON *json, const char *file, const char *field, lg_error *err)
{
    hf_unicode_init();
    const cJSON *str = cJSON_GetObjectItemCaseSensitive(json, "String");
    const cJSON *re = cJSON_GetObjectItemCaseSensitive(json, "Regex");
    if (cJSON_IsString(str)) {
        if (!str->valuestring[0]) {
            lg_fail(err, "%s: %s.String: an empty pattern", file, field);
            return NULL;
        }
        return pattern_new(PAT_STRING, str->valuestring, file, err);
    }
    if (!cJSON_IsString(re)) {
        lg_fail(err, "%s: %s: not {\"String\": ...} or {\"Regex\": ...}", file, field);
        return NULL;
    }
    const char *r = re->valuestring;
    if (!strcmp(r, RE_LLAMA3))
        return pattern_new(PAT_LLAMA3, r, file, err);
    if (!strcmp(r, RE_QWEN))
        return pattern_new(PAT_QWEN, r, file, err);
    if (!strcmp(r, RE_GPT2))
        return pattern_new(PAT_GPT2, r, file, err);
    hf_pattern *p = pattern_new(PAT_ICU, r, file, err);
    if (!p)
        return NULL;
    UErrorCode st = U_ZERO_ERROR;
    UParseError pe;
    UText *pt = utext_openUTF8(NULL, r, (int64_t)p->len, &st);
    p->re = uregex_openUText(pt, 0, &pe, &st);
    utext_close(pt);
    if (U_FAILURE(st)) {
        lg_fail(err, "%s: %s.Regex: \"%.80s\" does not compile (%s at offset %d)", file, field, r,
                u_errorName(st), pe.offset);
        p->re = NULL;
        free(p->str);
        free(p);
        return NULL;
    }
    pthread_mutex_init(&p->lock, NULL);
    return p;
}

/* The end of the match of the GPT-2 / Llama-3 / Qwen pattern at p (never empty; every
 * character is matched by one of the alternatives). */
static size_t match_fixed(enum pat_kind k, const char *s, size_t n, size_t p)
{
    size_t l0, l1 = 0, q;
    uint32_t c0 = hf_utf8_next((const unsigned char *)s + p, &l0);
    uint8_t f0 = hf_uclass[c0], f1 = 0;
    uint32_t c1 = 0;
    if (p + l0 < n) {
        c1 = hf_utf8_next((const unsigned char *)s + p + l0, &l1);
        f1 = hf_uclass[c1];
    }
    /* 's|'t|'re|'ve|'m|'ll|'d (case-insensitive for Llama-3/Qwen: ſ folds to s) */
    if (c0 == '\'' && p + l0 < n) {
        uint32_t a = c1, b = p + 1 + l1 < n ? (unsigned char)s[p + 1 + l1] : 0;
        if (k != PAT_GPT2) {
            if (a == 0x17F)
                a = 's';
            else if (a < 128)
                a |= 0x20 * (a >= 'A' && a <= 'Z');
            if (b >= 'A' && b <= 'Z')
                b |= 0x20;
        }
        if (a == 's' || a == 't' || a == 'm' || a == 'd')
            return p + 1 + l1;
        if (((a == 'r' || a == 'v') && b == 'e') || (a == 'l' && b == 'l'))
            return p + 2 + l1;
    }
    if (k == PAT_GPT2) {
        /* ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+ */
        size_t start = p;
        uint8_t f = f0;
        if (c0 == ' ' && p + l0 < n) {
            start = p + l0;
            f = f1;
        }
        uint8_t want = f & HF_L ? HF_L : f & HF_N ? HF_N : f & HF_WS ? 0 : 0xFF;
        if (want) {
            q = start;
            while (q < n) {
                size_t l;
                uint8_t g = cls_at(s, q, &l);
                int ok = want == 0xFF ? !(g & (HF_WS | HF_L | HF_N)) : (g & want) != 0;
                if (!ok)
                    break;
                q += l;
            }
            if (q > start)
                return q;
        }
    } else {
        /* [^\r\n\p{L}\p{N}]?\p{L}+ */
        q = SIZE_MAX;
        if (c0 != '\r' && c0 != '\n' && !(f0 & (HF_L | HF_N)) && (f1 & HF_L))
            q = p + l0;
        else if (f0 & HF_L)
            q = p;
        if (q != SIZE_MAX) {
            while (q < n) {
                size_t l;
                if (!(cls_at(s, q, &l) & HF_L))
                    break;
                q += l;
            }
            return q;
        }
        /* \p{N}{1,3} (Llama-3) or \p{N} (Qwen) */
        if (f0 & HF_N) {
            q = p + l0;
            for (int d = 1; d < (k == PAT_LLAMA3 ? 3 : 1) && q < n; d++) {
                size_t l;
                if (!(cls_at(s, q, &l) & HF_N))
                    break;
                q += l;
            }
            return q;
        }
        /* ?[^\s\p{L}\p{N}]+[\r\n]* */
        q = SIZE_MAX;
        if (c0 == ' ' && p + l0 < n && !(f1 & (HF_WS | HF_L | HF_N)))
            q = p + l0;
        else if (!(f0 & (HF_WS | HF_L | HF_N)))
            q = p;
        if (q != SIZE_MAX) {
            while (q < n) {
                size_t l;
                if (cls_at(s, q, &l) & (HF_WS | HF_L | HF_N))
                    break;
                q += l;
            }
            while (q < n && (s[q] == '\r' || s[q] == '\n'))
                q++;
            return q;
        }
    }
    /* here c0 is white space: W = the run of it from p */
    size_t w_end = p, last_start = p, last_crlf = SIZE_MAX, count = 0;
    while (w_end < n) {
        size_t l;
        uint32_t c = hf_utf8_next((const unsigned char *)s + w_end, &l);
        if (!(hf_uclass[c] & HF_WS))
            break;
        if (c == '\r' || c == '\n')
            last_crlf = w_end;
        last_start = w_end;
        w_end += l;
        count++;
    }
    if (w_end == p) /* not reached: every character belongs to an alternative above */
        return p + l0;
    /* \s*[\r\n]+ (Llama-3/Qwen) */
    if (k != PAT_GPT2 && last_crlf != SIZE_MAX)
        return last_crlf + 1;
    /* \s+(?!\S) */
    if (w_end == n)
        return w_end;
    if (count >= 2)
        return last_start;
    /* \s+ */
    return w_end;
}

static int add_match(size_t **m, size_t *cap, size_t *nm, size_t a, size_t b)
{
    if (2 * (*nm + 1) > *cap) {
        size_t c = *cap ? 2 * *cap : 64;
        size_t *g = realloc(*m, c * sizeof *g);
        if (!g)
            return -1;
        *m = g;
        *cap = c;
    }
    (*m)[2 * *nm] = a;
    (*m)[2 * *nm + 1] = b;
    (*nm)++;
    return 0;
}

int hf_pattern_find(const hf_pattern *p, const char *s, size_t n, size_t **m, size_t *cap,
                    size_t *nm, lg_error *err)
{
    *nm = 0;
    if (p->kind == PAT_STRING) {
        for (size_t i = 0; i + p->len <= n;) {
            const char *f = memmem(s + i, n - i, p->str, p->len);
            if (!f)
                break;
            size_t a = (size_t)(f - s);
            if (add_match(m, cap, nm, a, a + p->len) < 0)
                return lg_fail(err, "out of memory");
            i = a + p->len;
        }
        return 0;
    }
    if (p->kind != PAT_ICU) {
        for (size_t i = 0; i < n;) {
            size_t e = match_fixed(p->kind, s, n, i);
            if (add_match(m, cap, nm, i, e) < 0)
                return lg_fail(err, "out of memory");
            i = e;
        }
        return 0;
    }
    hf_pattern *mp = (hf_pattern *)p;
    pthread_mutex_lock(&mp->lock);
    UErrorCode st = U_ZERO_ERROR;
    UText *ut = utext_openUTF8(NULL, s, (int64_t)n, &st);
    uregex_setUText(mp->re, ut, &st);
    int rc = 0;
    while (U_SUCCESS(st) && uregex_findNext(mp->re, &st)) {
        int64_t a = uregex_start64(mp->re, 0, &st), b = uregex_end64(mp->re, 0, &st);
        if (U_FAILURE(st))
            break;
        if (add_match(m, cap, nm, (size_t)a, (size_t)b) < 0) {
            rc = lg_fail(err, "out of memory");
            break;
        }
    }
    if (rc == 0 && U_FAILURE(st))
        rc = lg_fail(err, "regex \"%.60s\": %s", p->str, u_errorName(st));
    uregex_setText(mp->re, (const UChar *)u"", 0, &st);
    utext_close(ut);
    pthread_mutex_unlock(&mp->lock);
    return rc;
}

/* ---- splitting with a behaviour ----------------------------------------------------- */

enum behavior { B_REMOVED, B_ISOLATED, B_PREV, B_NEXT, B_CONTIGUOUS };

typedef struct {
    size_t a, b;
    int match;
} seg;

typedef struct {
    seg *v;
    size_t n, cap;
    size_t *m, mcap, nm; /* pattern matches */
} seg_list;

static int seg_add(seg_list *l, size_t a, size_t b, int match)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        seg *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return -1;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = (seg){a, b, match};
    return 0;
}

/* Pieces of s from its segments (covering it, in order) by behaviour, onto out. */
static int split_emit(seg_list *l, enum behavior bh, int invert, const char *s, int first,
                      hf_pieces *out)
{
    if (invert)
        for (size_t i = 0; i < l->n; i++)
            l->v[i].match = !l->v[i].match;
    size_t k = 0; /* segments folded in place: v[0..k) */
    int prev = 0;
    if (bh == B_NEXT) {
        /* right to left */
        seg *v = l->v;
        size_t n = l->n;
        for (size_t j = n; j-- > 0;) {
            seg x = v[j];
            if (x.match && !prev && k > 0) {
                v[n - k].a = x.a; /* the folded list grows from the end: v[n-k .. n) */
            } else {
                k++;
                v[n - k] = x;
                v[n - k].match = 0;
            }
            prev = x.match;
        }
        for (size_t j = 0; j < k; j++)
            v[j] = v[n - k + j];
    } else {
        for (size_t j = 0; j < l->n; j++) {
            seg x = l->v[j];
            int rm = bh == B_REMOVED && x.match;
            if (bh == B_CONTIGUOUS && k > 0 && x.match == prev) {
                l->v[k - 1].b = x.b;
            } else if (bh == B_PREV && x.match && !prev && k > 0) {
                l->v[k - 1].b = x.b;
            } else {
                l->v[k] = x;
                l->v[k].match = rm;
                k++;
            }
            prev = x.match;
        }
    }
    for (size_t j = 0; j < k; j++) {
        const seg *x = &l->v[j];
        if (x->match || x->b == x->a)
            continue;
        if (hf_pieces_add(out, s + x->a, x->b - x->a, first && x->a == 0) < 0)
            return -1;
    }
    return 0;
}

/* Segments from a list of pattern matches (start, end pairs) over n bytes. */
static int segs_from_matches(seg_list *l, size_t n)
{
    l->n = 0;
    if (n == 0)
        return seg_add(l, 0, 0, 0);
    size_t prev = 0;
    for (size_t i = 0; i < l->nm; i++) {
        size_t a = l->m[2 * i], b = l->m[2 * i + 1];
        if (prev != a && seg_add(l, prev, a, 0) < 0)
            return -1;
        if (seg_add(l, a, b, 1) < 0)
            return -1;
        prev = b;
    }
    if (prev != n && seg_add(l, prev, n, 0) < 0)
        return -1;
    return 0;
}

/* Segments where every character with one of the class bits (or, when cp is set, equal to
 * it) is a match of its own. */
static int segs_from_chars(seg_list *l, const char *s, size_t n, uint8_t mask, uint32_t cp)
{
    l->n = 0;
    if (n == 0)
        return seg_add(l, 0, 0, 0);
    size_t last = 0, i = 0;
    while (i < n) {
        size_t cl;
        uint32_t c = hf_utf8_next((const unsigned char *)s + i, &cl);
        if (cp ? c == cp : (hf_uclass[c] & mask) != 0) {
            if (last < i && seg_add(l, last, i, 0) < 0)
                return -1;
            if (seg_add(l, i, i + cl, 1) < 0)
                return -1;
            last = i + cl;
        }
        i += cl;
    }
    if (n > last && seg_add(l, last, n, 0) < 0)
        return -1;
    return 0;
}

/* ---- the pre-tokenizers ------------------------------------------------------------- */

enum pt_kind { PT_SEQUENCE, PT_SPLIT, PT_BYTELEVEL, PT_METASPACE, PT_DIGITS, PT_WHITESPACE,
               PT_WSSPLIT, PT_PUNCT };
enum { PREPEND_ALWAYS, PREPEND_FIRST, PREPEND_NEVER };

struct hf_pretok {
    enum pt_kind kind;
    hf_pretok **sub;
    int n_sub;
    hf_pattern *pat;
    enum behavior behavior;
    int invert, add_prefix_space, use_regex, prepend, split, individual;
    char rep[8];
    size_t rep_len;
    uint32_t rep_cp;
};

void hf_pretok_free(hf_pretok *p)
{
    if (!p)
        return;
    for (int i = 0; i < p->n_sub; i++)
        hf_pretok_free(p->sub[i]);
    free(p->sub);
    hf_pattern_free(p->pat);
    free(p);
}

static int get_bool(const cJSON *o, const char *key, int def, const char *file, const char *field,
                    int *out, lg_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    *out = def;
    if (!v || cJSON_IsNull(v))
        return 0;
    if (!cJSON_IsBool(v))
        return lg_fail(err, "%s: %s.%s: not true or false", file, field, key);
    *out = cJSON_IsTrue(v);
    return 0;
}

static int get_behavior(const cJSON *o, const char *file, const char *field, enum behavior def,
                        enum behavior *out, lg_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "behavior");
    *out = def;
    if (!v)
        return 0;
    static const char *names[] = {"Removed", "Isolated", "MergedWithPrevious", "MergedWithNext",
                                  "Contiguous"};
    for (int i = 0; i < 5; i++)
        if (cJSON_IsString(v) && !strcmp(v->valuestring, names[i])) {
            *out = (enum behavior)i;
            return 0;
        }
    return lg_fail(err, "%s: %s.behavior: not one of Removed, Isolated, MergedWithPrevious, "
                        "MergedWithNext, Contiguous", file, field);
}

/* Metaspace's replacement and prepend scheme (also used by its decoder). */
int hf_metaspace_options(const cJSON *o, const char *file, const char *field, char rep[8],
                         size_t *rep_len, uint32_t *rep_cp, int *prepend, int *split, lg_error *err);
int hf_metaspace_options(const cJSON *o, const char *file, const char *field, char rep[8],
                         size_t *rep_len, uint32_t *rep_cp, int *prepend, int *split, lg_error *err)
{
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(o, "replacement");
    const char *rs = cJSON_IsString(r) ? r->valuestring : "\xe2\x96\x81";
    size_t l;
    if (!rs[0] || (hf_utf8_next((const unsigned char *)rs, &l), rs[l] != '\0') || l > 4)
        return lg_fail(err, "%s: %s.replacement: not one character", file, field);
    memcpy(rep, rs, l);
    rep[l] = '\0';
    *rep_len = l;
    *rep_cp = hf_utf8_next((const unsigned char *)rs, &l);
    const cJSON *ps = cJSON_GetObjectItemCaseSensitive(o, "prepend_scheme");
    if (cJSON_IsString(ps)) {
        if (!strcmp(ps->valuestring, "always"))
            *prepend = PREPEND_ALWAYS;
        else if (!strcmp(ps->valuestring, "first"))
            *prepend = PREPEND_FIRST;
        else if (!strcmp(ps->valuestring, "never"))
            *prepend = PREPEND_NEVER;
        else
            return lg_fail(err, "%s: %s.prepend_scheme: \"%.40s\" is not always, first or never",
                           file, field, ps->valuestring);
    } else {
        int aps;
        if (get_bool(o, "add_prefix_space", 1, file, field, &aps, err) < 0)
            return -1;
        *prepend = aps ? PREPEND_ALWAYS : PREPEND_NEVER;
    }
    return split ? get_bool(o, "split", 1, file, field, split, err) : 0;
}

void *hf_component_new(const cJSON *j, size_t size, const char *file, const char *field,
                       const char **type, lg_error *err)
{
    if (!cJSON_IsObject(j)) {
        lg_fail(err, "%s: %s: not an object", file, field);
        return NULL;
    }
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "type");
    if (!cJSON_IsString(t)) {
        lg_fail(err, "%s: %s.type: missing", file, field);
        return NULL;
    }
    *type = t->valuestring;
    void *c = calloc(1, size);
    if (!c)
        lg_fail(err, "%s: out of memory", file);
    return c;
}

hf_pretok *hf_pretok_parse(const cJSON *json, const char *file, const char *field, lg_error *err)
{
    hf_unicode_init();
    const char *type;
    hf_pretok *p = hf_component_new(json, sizeof *p, file, field, &type, err);
    if (!p)
        return NULL;
    char sub[256];
    if (!strcmp(type, "Sequence")) {
        p->kind = PT_SEQUENCE;
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(json, "pretokenizers");
        if (!cJSON_IsArray(a)) {
            lg_fail(err, "%s: %s.pretokenizers: not an array", file, field);
            goto fail;
        }
        int n = cJSON_GetArraySize(a);
        p->sub = calloc((size_t)n + 1, sizeof *p->sub);
        if (!p->sub) {
            lg_fail(err, "%s: out of memory", file);
            goto fail;
        }
        int i = 0;
        for (const cJSON *c = a->child; c; c = c->next, i++) {
            snprintf(sub, sizeof sub, "%s.pretokenizers[%d]", field, i);
            if (!(p->sub[i] = hf_pretok_parse(c, file, sub, err)))
                goto fail;
            p->n_sub = i + 1;
        }
    } else if (!strcmp(type, "Split")) {
        p->kind = PT_SPLIT;
        snprintf(sub, sizeof sub, "%s.pattern", field);
        if (!(p->pat = hf_pattern_parse(cJSON_GetObjectItemCaseSensitive(json, "pattern"), file,
                                        sub, err)) ||
            get_behavior(json, file, field, B_ISOLATED, &p->behavior, err) < 0 ||
            get_bool(json, "invert", 0, file, field, &p->invert, err) < 0)
            goto fail;
    } else if (!strcmp(type, "ByteLevel")) {
        p->kind = PT_BYTELEVEL;
        if (get_bool(json, "add_prefix_space", 1, file, field, &p->add_prefix_space, err) < 0 ||
            get_bool(json, "use_regex", 1, file, field, &p->use_regex, err) < 0)
            goto fail;
        if (p->use_regex) {
            cJSON *pj = cJSON_CreateObject();
            if (!pj || !cJSON_AddStringToObject(pj, "Regex", RE_GPT2)) {
                cJSON_Delete(pj);
                lg_fail(err, "%s: out of memory", file);
                goto fail;
            }
            p->pat = hf_pattern_parse(pj, file, field, err);
            cJSON_Delete(pj);
            if (!p->pat)
                goto fail;
        }
    } else if (!strcmp(type, "Metaspace")) {
        p->kind = PT_METASPACE;
        if (hf_metaspace_options(json, file, field, p->rep, &p->rep_len, &p->rep_cp, &p->prepend,
                                 &p->split, err) < 0)
            goto fail;
    } else if (!strcmp(type, "Digits")) {
        p->kind = PT_DIGITS;
        if (get_bool(json, "individual_digits", 0, file, field, &p->individual, err) < 0)
            goto fail;
    } else if (!strcmp(type, "Whitespace")) {
        p->kind = PT_WHITESPACE;
    } else if (!strcmp(type, "WhitespaceSplit")) {
        p->kind = PT_WSSPLIT;
    } else if (!strcmp(type, "Punctuation")) {
        p->kind = PT_PUNCT;
        if (get_behavior(json, file, field, B_ISOLATED, &p->behavior, err) < 0)
            goto fail;
    } else {
        lg_fail(err, "%s: %s: pre-tokenizer \"%.40s\" is not supported (supported: Sequence, "
                     "Split, ByteLevel, Metaspace, Digits, Whitespace, WhitespaceSplit, "
                     "Punctuation)", file, field, type);
        goto fail;
    }
    return p;
fail:
    hf_pretok_free(p);
    return NULL;
}

/* One pre-tokenizer (not a Sequence) on one piece. */
static int run_one(const hf_pretok *p, const char *s, size_t n, int first, hf_pieces *out,
                   hf_buf *tmp, seg_list *l, lg_error *err)
{
    switch (p->kind) {
    case PT_SPLIT:
        if (hf_pattern_find(p->pat, s, n, &l->m, &l->mcap, &l->nm, err) < 0)
            return -1;
        if (segs_from_matches(l, n) < 0)
            break;
        return split_emit(l, p->behavior, p->invert, s, first, out) < 0 ? lg_fail(err, "out of memory") : 0;
    case PT_DIGITS:
        if (segs_from_chars(l, s, n, HF_N, 0) < 0)
            break;
        return split_emit(l, p->individual ? B_ISOLATED : B_CONTIGUOUS, 0, s, first, out) < 0
                   ? lg_fail(err, "out of memory") : 0;
    case PT_PUNCT:
        if (segs_from_chars(l, s, n, HF_PUNCT, 0) < 0)
            break;
        return split_emit(l, p->behavior, 0, s, first, out) < 0 ? lg_fail(err, "out of memory") : 0;
    case PT_WSSPLIT:
        if (segs_from_chars(l, s, n, HF_WS, 0) < 0)
            break;
        return split_emit(l, B_REMOVED, 0, s, first, out) < 0 ? lg_fail(err, "out of memory") : 0;
    case PT_WHITESPACE: {
        /* \w+|[^\w\s]+, the matches kept */
        for (size_t i = 0; i < n;) {
            size_t cl;
            uint8_t f = cls_at(s, i, &cl);
            if (f & HF_WS) {
                i += cl;
                continue;
            }
            int word = (f & HF_WORD) != 0;
            size_t j = i + cl;
            while (j < n) {
                uint8_t g = cls_at(s, j, &cl);
                if (word ? !(g & HF_WORD) : (g & (HF_WORD | HF_WS)) != 0)
                    break;
                j += cl;
            }
            if (hf_pieces_add(out, s + i, j - i, first && i == 0) < 0)
                return lg_fail(err, "out of memory");
            i = j;
        }
        return 0;
    }
    case PT_BYTELEVEL: {
        /* optional prefix space, optional GPT-2 split, then bytes -> the byte alphabet */
        tmp->n = 0;
        if (p->add_prefix_space && (n == 0 || s[0] != ' ') && hf_buf_add(tmp, " ", 1) < 0)
            break;
        if (hf_buf_add(tmp, s, n) < 0)
            break;
        size_t nn = tmp->n;
        if (nn == 0)
            return 0;
        if (p->use_regex) {
            if (hf_pattern_find(p->pat, tmp->p, nn, &l->m, &l->mcap, &l->nm, err) < 0)
                return -1;
        } else {
            l->nm = 0;
            if (add_match(&l->m, &l->mcap, &l->nm, 0, nn) < 0)
                break;
        }
        for (size_t i = 0; i < l->nm; i++) {
            size_t a = l->m[2 * i], b = l->m[2 * i + 1];
            if (a == b)
                continue;
            size_t off = out->text.n;
            if (hf_buf_reserve(&out->text, 2 * (b - a) + 1) < 0)
                return lg_fail(err, "out of memory");
            char *o = out->text.p + off;
            for (size_t k = a; k < b; k++) {
                const char *u = byte_utf8[(unsigned char)tmp->p[k]];
                *o++ = u[0];
                if (u[1])
                    *o++ = u[1];
            }
            size_t len = (size_t)(o - (out->text.p + off));
            out->text.n = off + len;
            out->text.p[out->text.n] = '\0';
            if (hf_pieces_add(out, NULL, 0, first && a == 0) < 0)
                return lg_fail(err, "out of memory");
            out->v[out->n - 1].off = off;
            out->v[out->n - 1].len = len;
        }
        return 0;
    }
    case PT_METASPACE: {
        tmp->n = 0;
        int pre = 0;
        int starts = n >= p->rep_len && !memcmp(s, p->rep, p->rep_len);
        if (p->prepend == PREPEND_ALWAYS || (p->prepend == PREPEND_FIRST && first))
            pre = 1;
        /* the check is on the replaced text: a leading ' ' becomes the replacement too */
        if (n > 0 && s[0] == ' ')
            starts = 1;
        if (pre && !starts && hf_buf_add(tmp, p->rep, p->rep_len) < 0)
            break;
        for (size_t i = 0; i < n; i++) {
            if (s[i] == ' ' ? hf_buf_add(tmp, p->rep, p->rep_len) < 0 : hf_buf_add(tmp, s + i, 1) < 0)
                return lg_fail(err, "out of memory");
        }
        if (!p->split)
            return hf_pieces_add(out, tmp->p ? tmp->p : "", tmp->n, first) < 0
                       ? lg_fail(err, "out of memory") : 0;
        if (segs_from_chars(l, tmp->p ? tmp->p : "", tmp->n, 0, p->rep_cp) < 0)
            break;
        return split_emit(l, B_NEXT, 0, tmp->p ? tmp->p : "", first, out) < 0
                   ? lg_fail(err, "out of memory") : 0;
    }
    case PT_SEQUENCE:
        break;
    }
    return lg_fail(err, "out of memory");
}

int hf_pretok_run(const hf_pretok *p, const hf_pieces *in, hf_pieces *out, lg_error *err)
{
    hf_pieces_clear(out);
    hf_buf tmp = {0};
    int rc = 0;
    if (p->kind != PT_SEQUENCE) {
        pthread_once(&bytes_once, bytes_build);
        seg_list l = {0};
        for (size_t i = 0; i < in->n && rc == 0; i++)
            rc = run_one(p, in->text.p + in->v[i].off, in->v[i].len, in->v[i].first, out, &tmp,
                         &l, err);
        free(l.v);
        free(l.m);
        hf_buf_free(&tmp);
        return rc;
    }
    /* a Sequence: each step on the previous step's pieces */
    hf_pieces a = {0}, b = {0};
    const hf_pieces *cur = in;
    for (int k = 0; k < p->n_sub && rc == 0; k++) {
        hf_pieces *dst = k == p->n_sub - 1 ? out : (cur == &a ? &b : &a);
        rc = hf_pretok_run(p->sub[k], cur, dst, err);
        cur = dst;
    }
    if (rc == 0 && p->n_sub == 0)
        for (size_t i = 0; i < in->n && rc == 0; i++)
            if (hf_pieces_add(out, in->text.p + in->v[i].off, in->v[i].len, in->v[i].first) < 0)
                rc = lg_fail(err, "out of memory");
    hf_pieces_free(&a);
    hf_pieces_free(&b);
    hf_buf_free(&tmp);
    return rc;
}
