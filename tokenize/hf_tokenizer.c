/* A tokenizer.json read and run as Hugging Face's tokenizers (0.23) does (hf_tokenizer.h):
 * the file, its normalizer, added tokens and decoder here; pre-tokenizers in hf_pretok.c,
 * the BPE model in hf_bpe.c. */
#include "hf_tokenizer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unicode/uchar.h>
#include <unicode/utf16.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>

#include "hf_internal.h"
#include "lg_io.h"
#include "lg_text.h"

int hf_metaspace_options(const cJSON *o, const char *file, const char *field, char rep[8],
                         size_t *rep_len, uint32_t *rep_cp, int *prepend, int *split, lg_error *err);

/* ---- normalizers ------------------------------------------------------------------- */

enum nm_kind { NM_SEQUENCE, NM_UNORM, NM_LOWER, NM_STRIP, NM_PREPEND, NM_REPLACE };

typedef struct hf_norm {
    enum nm_kind kind;
    struct hf_norm **sub;
    int n_sub;
    const UNormalizer2 *unorm;
    int ascii_same; /* the form leaves ASCII text as it is */
    int left, right;
    char *text;     /* Prepend's prepend, Replace's content */
    hf_pattern *pat;
} hf_norm;

static void norm_free(hf_norm *n)
{
    if (!n)
        return;
    for (int i = 0; i < n->n_sub; i++)
        norm_free(n->sub[i]);
    free(n->sub);
    free(n->text);
    hf_pattern_free(n->pat);
    free(n);
}

static hf_norm *norm_parse(const cJSON *j, const char *file, const char *field, lg_error *err)
{
    const char *type;
    hf_norm *n = hf_component_new(j, sizeof *n, file, field, &type, err);
    if (!n)
        return NULL;
    char sub[256];
    UErrorCode st = U_ZERO_ERROR;
    if (!strcmp(type, "Sequence")) {
        n->kind = NM_SEQUENCE;
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(j, "normalizers");
        if (!cJSON_IsArray(a)) {
            lg_fail(err, "%s: %s.normalizers: not an array", file, field);
            goto fail;
        }
        n->sub = calloc((size_t)cJSON_GetArraySize(a) + 1, sizeof *n->sub);
        if (!n->sub) {
            lg_fail(err, "%s: out of memory", file);
            goto fail;
        }
        int i = 0;
        for (const cJSON *c = a->child; c; c = c->next, i++) {
            snprintf(sub, sizeof sub, "%s.normalizers[%d]", field, i);
            if (!(n->sub[i] = norm_parse(c, file, sub, err)))
                goto fail;
            n->n_sub = i + 1;
        }
    } else if (!strcmp(type, "NFC") || !strcmp(type, "NFKC") || !strcmp(type, "NFD") ||
               !strcmp(type, "NFKD")) {
        n->kind = NM_UNORM;
        n->ascii_same = 1;
        n->unorm = !strcmp(type, "NFC")    ? unorm2_getNFCInstance(&st)
                   : !strcmp(type, "NFKC") ? unorm2_getNFKCInstance(&st)
                   : !strcmp(type, "NFD")  ? unorm2_getNFDInstance(&st)
                                           : unorm2_getNFKDInstance(&st);
        if (U_FAILURE(st)) {
            lg_fail(err, "%s: %s: ICU has no %s normaliser (%s)", file, field, type, u_errorName(st));
            goto fail;
        }
    } else if (!strcmp(type, "Lowercase")) {
        n->kind = NM_LOWER;
    } else if (!strcmp(type, "Strip")) {
        n->kind = NM_STRIP;
        const cJSON *l = cJSON_GetObjectItemCaseSensitive(j, "strip_left");
        const cJSON *r = cJSON_GetObjectItemCaseSensitive(j, "strip_right");
        n->left = !l || cJSON_IsTrue(l);
        n->right = !r || cJSON_IsTrue(r);
    } else if (!strcmp(type, "Prepend")) {
        n->kind = NM_PREPEND;
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(j, "prepend");
        if (!cJSON_IsString(p)) {
            lg_fail(err, "%s: %s.prepend: not a string", file, field);
            goto fail;
        }
        if (!(n->text = strdup(p->valuestring))) {
            lg_fail(err, "%s: out of memory", file);
            goto fail;
        }
    } else if (!strcmp(type, "Replace")) {
        n->kind = NM_REPLACE;
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(j, "content");
        if (!cJSON_IsString(c)) {
            lg_fail(err, "%s: %s.content: not a string", file, field);
            goto fail;
        }
        snprintf(sub, sizeof sub, "%s.pattern", field);
        if (!(n->pat = hf_pattern_parse(cJSON_GetObjectItemCaseSensitive(j, "pattern"), file, sub,
                                        err)))
            goto fail;
        if (!(n->text = strdup(c->valuestring))) {
            lg_fail(err, "%s: out of memory", file);
            goto fail;
        }
    } else {
        lg_fail(err, "%s: %s: normalizer \"%.40s\" is not supported (supported: Sequence, NFC, "
                     "NFD, NFKC, NFKD, Lowercase, Strip, Prepend, Replace)", file, field, type);
        goto fail;
    }
    return n;
fail:
    norm_free(n);
    return NULL;
}

static int is_ascii(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] >= 0x80)
            return 0;
    return 1;
}

/* UTF-8 -> UTF-16 -> f -> UTF-8 */
typedef int32_t (*u16_fn)(const hf_norm *n, UChar *dst, int32_t cap, const UChar *src,
                          int32_t len, UErrorCode *st);

static int32_t do_unorm(const hf_norm *n, UChar *dst, int32_t cap, const UChar *src, int32_t len,
                        UErrorCode *st)
{
    return unorm2_normalize(n->unorm, src, len, dst, cap, st);
}

/* Each code point's full lowercase mapping on its own, as tokenizers' per-character
 * to_lowercase (no final-sigma context: "ΣΟΣ" -> "σοσ"). */
static int32_t do_lower(const hf_norm *n, UChar *dst, int32_t cap, const UChar *src, int32_t len,
                        UErrorCode *st)
{
    (void)n;
    int32_t o = 0;
    for (int32_t i = 0; i < len;) {
        int32_t a = i;
        UChar32 c;
        U16_NEXT(src, i, len, c);
        (void)c;
        UChar tmp[8];
        UErrorCode e = U_ZERO_ERROR;
        int32_t m = u_strToLower(tmp, 8, src + a, i - a, "", &e);
        if (U_FAILURE(e)) {
            *st = e;
            return 0;
        }
        if (o + m <= cap)
            memcpy(dst + o, tmp, (size_t)m * sizeof *tmp);
        o += m;
    }
    if (o > cap)
        *st = U_BUFFER_OVERFLOW_ERROR;
    return o;
}

static int via_utf16(const hf_norm *n, u16_fn f, const hf_buf *in, hf_buf *out, lg_error *err)
{
    UErrorCode st = U_ZERO_ERROR;
    int32_t n16 = 0;
    u_strFromUTF8(NULL, 0, &n16, in->p, (int32_t)in->n, &st);
    if (st != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(st))
        return lg_fail(err, "normalizer: %s", u_errorName(st));
    UChar *a = malloc(((size_t)n16 + 1) * sizeof *a);
    int32_t cap = 3 * n16 + 16;
    UChar *b = malloc((size_t)cap * sizeof *b);
    int rc = lg_fail(err, "out of memory"); /* replaced below unless an allocation fails */
    if (!a || !b)
        goto done;
    st = U_ZERO_ERROR;
    u_strFromUTF8(a, n16 + 1, NULL, in->p, (int32_t)in->n, &st);
    int32_t m = f(n, b, cap, a, n16, &st);
    if (st == U_BUFFER_OVERFLOW_ERROR) {
        free(b);
        cap = m + 1;
        if (!(b = malloc((size_t)cap * sizeof *b)))
            goto done;
        st = U_ZERO_ERROR;
        m = f(n, b, cap, a, n16, &st);
    }
    if (U_FAILURE(st)) {
        rc = lg_fail(err, "normalizer: %s", u_errorName(st));
        goto done;
    }
    int32_t n8 = 0;
    st = U_ZERO_ERROR;
    u_strToUTF8(NULL, 0, &n8, b, m, &st);
    out->n = 0;
    if (hf_buf_reserve(out, (size_t)n8 + 1) < 0)
        goto done;
    st = U_ZERO_ERROR;
    u_strToUTF8(out->p, n8 + 1, NULL, b, m, &st);
    out->n = (size_t)n8;
    out->p[n8] = '\0';
    rc = U_FAILURE(st) ? lg_fail(err, "normalizer: %s", u_errorName(st)) : 0;
done:
    free(a);
    free(b);
    return rc;
}

/* Normalizes buf in place (tmp: scratch). */
static int norm_run(const hf_norm *n, hf_buf *buf, hf_buf *tmp, lg_error *err)
{
    switch (n->kind) {
    case NM_SEQUENCE:
        for (int i = 0; i < n->n_sub; i++)
            if (norm_run(n->sub[i], buf, tmp, err) < 0)
                return -1;
        return 0;
    case NM_UNORM:
    case NM_LOWER: {
        if (buf->n == 0)
            return 0;
        if (is_ascii(buf->p, buf->n)) {
            if (n->kind == NM_LOWER)
                for (size_t i = 0; i < buf->n; i++)
                    if (buf->p[i] >= 'A' && buf->p[i] <= 'Z')
                        buf->p[i] |= 0x20;
            return 0;
        }
        if (via_utf16(n, n->kind == NM_UNORM ? do_unorm : do_lower, buf, tmp, err) < 0)
            return -1;
        hf_buf t = *buf;
        *buf = *tmp;
        *tmp = t;
        return 0;
    }
    case NM_STRIP: {
        size_t a = 0, b = buf->n, l;
        while (n->left && a < b && (hf_uclass[hf_utf8_next((unsigned char *)buf->p + a, &l)] & HF_WS))
            a += l;
        while (n->right && b > a) {
            size_t k = b - 1;
            while (k > a && ((unsigned char)buf->p[k] & 0xC0) == 0x80)
                k--;
            if (!(hf_uclass[hf_utf8_next((unsigned char *)buf->p + k, &l)] & HF_WS))
                break;
            b = k;
        }
        memmove(buf->p, buf->p + a, b - a);
        buf->n = b - a;
        if (buf->p)
            buf->p[buf->n] = '\0';
        return 0;
    }
    case NM_PREPEND:
        if (buf->n == 0)
            return 0;
        tmp->n = 0;
        if (hf_buf_add(tmp, n->text, strlen(n->text)) < 0 || hf_buf_add(tmp, buf->p, buf->n) < 0)
            return lg_fail(err, "out of memory");
        break;
    case NM_REPLACE: {
        size_t *m = NULL, cap = 0, nm = 0;
        if (hf_pattern_find(n->pat, buf->p ? buf->p : "", buf->n, &m, &cap, &nm, err) < 0) {
            free(m);
            return -1;
        }
        if (nm == 0) {
            free(m);
            return 0;
        }
        tmp->n = 0;
        size_t prev = 0, cl = strlen(n->text);
        int bad = 0;
        for (size_t i = 0; i < nm && !bad; i++) {
            bad = hf_buf_add(tmp, buf->p + prev, m[2 * i] - prev) < 0 ||
                  hf_buf_add(tmp, n->text, cl) < 0;
            prev = m[2 * i + 1];
        }
        free(m);
        if (bad || hf_buf_add(tmp, buf->p + prev, buf->n - prev) < 0)
            return lg_fail(err, "out of memory");
        break;
    }
    }
    hf_buf t = *buf;
    *buf = *tmp;
    *tmp = t;
    return 0;
}

/* ---- decoders --------------------------------------------------------------------- */

enum dec_kind { DEC_SEQUENCE, DEC_BYTELEVEL, DEC_METASPACE, DEC_BYTEFALLBACK, DEC_FUSE, DEC_STRIP,
                DEC_REPLACE };

typedef struct hf_dec {
    enum dec_kind kind;
    struct hf_dec **sub;
    int n_sub;
    char rep[8];
    size_t rep_len;
    uint32_t rep_cp;
    int prepend;
    uint32_t content; /* Strip's character */
    int start, stop;
    char *pattern, *with; /* Replace: a String pattern */
} hf_dec;

static void dec_free(hf_dec *d)
{
    if (!d)
        return;
    for (int i = 0; i < d->n_sub; i++)
        dec_free(d->sub[i]);
    free(d->sub);
    free(d->pattern);
    free(d->with);
    free(d);
}

static hf_dec *dec_parse(const cJSON *j, const char *file, const char *field, lg_error *err)
{
    const char *type;
    hf_dec *d = hf_component_new(j, sizeof *d, file, field, &type, err);
    if (!d)
        return NULL;
    char sub[256];
    if (!strcmp(type, "Sequence")) {
        d->kind = DEC_SEQUENCE;
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(j, "decoders");
        if (!cJSON_IsArray(a)) {
            lg_fail(err, "%s: %s.decoders: not an array", file, field);
            goto fail;
        }
        d->sub = calloc((size_t)cJSON_GetArraySize(a) + 1, sizeof *d->sub);
        if (!d->sub) {
            lg_fail(err, "%s: out of memory", file);
            goto fail;
        }
        int i = 0;
        for (const cJSON *c = a->child; c; c = c->next, i++) {
            snprintf(sub, sizeof sub, "%s.decoders[%d]", field, i);
            if (!(d->sub[i] = dec_parse(c, file, sub, err)))
                goto fail;
            d->n_sub = i + 1;
        }
    } else if (!strcmp(type, "ByteLevel")) {
        d->kind = DEC_BYTELEVEL;
    } else if (!strcmp(type, "ByteFallback")) {
        d->kind = DEC_BYTEFALLBACK;
    } else if (!strcmp(type, "Fuse")) {
        d->kind = DEC_FUSE;
    } else if (!strcmp(type, "Metaspace")) {
        d->kind = DEC_METASPACE;
        if (hf_metaspace_options(j, file, field, d->rep, &d->rep_len, &d->rep_cp, &d->prepend,
                                 NULL, err) < 0)
            goto fail;
    } else if (!strcmp(type, "Strip")) {
        d->kind = DEC_STRIP;
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(j, "content");
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(j, "start");
        const cJSON *b = cJSON_GetObjectItemCaseSensitive(j, "stop");
        size_t l;
        if (!cJSON_IsString(c) || !c->valuestring[0] ||
            (hf_utf8_next((const unsigned char *)c->valuestring, &l), c->valuestring[l])) {
            lg_fail(err, "%s: %s.content: not one character", file, field);
            goto fail;
        }
        if (!cJSON_IsNumber(a) || !cJSON_IsNumber(b) || a->valuedouble < 0 || b->valuedouble < 0 ||
            a->valuedouble > 1e6 || b->valuedouble > 1e6) {
            lg_fail(err, "%s: %s: start and stop must be counts", file, field);
            goto fail;
        }
        d->content = hf_utf8_next((const unsigned char *)c->valuestring, &l);
        d->start = (int)a->valuedouble;
        d->stop = (int)b->valuedouble;
    } else if (!strcmp(type, "Replace")) {
        d->kind = DEC_REPLACE;
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(j, "pattern");
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(p, "String");
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(j, "content");
        if (!cJSON_IsString(s) || !s->valuestring[0]) {
            lg_fail(err, "%s: %s.pattern: only a non-empty {\"String\": ...} is supported", file,
                    field);
            goto fail;
        }
        if (!cJSON_IsString(c)) {
            lg_fail(err, "%s: %s.content: not a string", file, field);
            goto fail;
        }
        if (!(d->pattern = strdup(s->valuestring)) || !(d->with = strdup(c->valuestring))) {
            lg_fail(err, "%s: out of memory", file);
            goto fail;
        }
    } else {
        lg_fail(err, "%s: %s: decoder \"%.40s\" is not supported (supported: Sequence, ByteLevel, "
                     "Metaspace, ByteFallback, Fuse, Strip, Replace)", file, field, type);
        goto fail;
    }
    return d;
fail:
    dec_free(d);
    return NULL;
}

/* Rust's String::from_utf8_lossy: each maximal invalid subpart becomes U+FFFD. */
static int lossy_utf8(const unsigned char *s, size_t n, hf_buf *out)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t need = 0;
        unsigned lo = 0x80, hi = 0xBF;
        if (c < 0x80) {
            if (hf_buf_add(out, s + i, 1) < 0)
                return -1;
            i++;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            need = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            need = 2;
            if (c == 0xE0)
                lo = 0xA0;
            if (c == 0xED)
                hi = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            need = 3;
            if (c == 0xF0)
                lo = 0x90;
            if (c == 0xF4)
                hi = 0x8F;
        } else {
            if (hf_buf_add(out, "\xEF\xBF\xBD", 3) < 0)
                return -1;
            i++;
            continue;
        }
        size_t k = 1;
        for (; k <= need && i + k < n; k++) {
            unsigned d = s[i + k];
            if (k == 1 ? (d < lo || d > hi) : (d < 0x80 || d > 0xBF))
                break;
        }
        if (k == need + 1) {
            if (hf_buf_add(out, s + i, k) < 0)
                return -1;
        } else if (hf_buf_add(out, "\xEF\xBF\xBD", 3) < 0) {
            return -1;
        }
        i += k;
    }
    return 0;
}

/* One decoder over the token strings in (-> out, cleared first). */
static int dec_run(const hf_dec *d, const hf_pieces *in, hf_pieces *out, lg_error *err)
{
    hf_pieces_clear(out);
    hf_buf b = {0}, c = {0};
    int rc = 0;
#define TOK(i) (in->text.p + in->v[i].off)
    switch (d->kind) {
    case DEC_SEQUENCE: {
        hf_pieces x = {0}, y = {0};
        const hf_pieces *cur = in;
        for (int k = 0; k < d->n_sub && rc == 0; k++) {
            hf_pieces *dst = k == d->n_sub - 1 ? out : (cur == &x ? &y : &x);
            rc = dec_run(d->sub[k], cur, dst, err);
            cur = dst;
        }
        if (d->n_sub == 0)
            for (size_t i = 0; i < in->n && rc == 0; i++)
                if (hf_pieces_add(out, TOK(i), in->v[i].len, 0) < 0)
                    rc = lg_fail(err, "out of memory");
        hf_pieces_free(&x);
        hf_pieces_free(&y);
        break;
    }
    case DEC_BYTELEVEL:
        for (size_t i = 0; i < in->n && rc == 0; i++) {
            const unsigned char *s = (const unsigned char *)TOK(i);
            size_t n = in->v[i].len, start = b.n;
            for (size_t k = 0; k < n && rc == 0;) {
                size_t l;
                int byte = lg_byte_level_byte(hf_utf8_next(s + k, &l));
                if (byte < 0) { /* not all in the alphabet: the token's own bytes */
                    b.n = start;
                    rc = hf_buf_add(&b, s, n);
                    break;
                }
                unsigned char ch = (unsigned char)byte;
                rc = hf_buf_add(&b, &ch, 1);
                k += l;
            }
        }
        if (rc == 0)
            rc = lossy_utf8((const unsigned char *)(b.p ? b.p : ""), b.n, &c);
        if (rc == 0)
            rc = hf_pieces_add(out, c.p ? c.p : "", c.n, 0);
        break;
    case DEC_BYTEFALLBACK:
        for (size_t i = 0; i <= in->n && rc == 0; i++) {
            int byte = -1;
            if (i < in->n && in->v[i].len == 6 && !memcmp(TOK(i), "<0x", 3) && TOK(i)[5] == '>') {
                /* u8::from_str_radix(.., 16): an optional '+', hex digits */
                const char *h = TOK(i) + 3;
                int v = 0, ok = 1, k = h[0] == '+' ? 1 : 0;
                if (k == 1 && h[1] == '+')
                    ok = 0;
                for (; k < 2 && ok; k++) {
                    char x = h[k];
                    int dv = x >= '0' && x <= '9' ? x - '0'
                             : x >= 'a' && x <= 'f' ? x - 'a' + 10
                             : x >= 'A' && x <= 'F' ? x - 'A' + 10 : -1;
                    if (dv < 0)
                        ok = 0;
                    else
                        v = v * 16 + dv;
                }
                if (ok)
                    byte = v;
            }
            if (byte >= 0) {
                unsigned char ch = (unsigned char)byte;
                rc = hf_buf_add(&b, &ch, 1);
                continue;
            }
            if (b.n) {
                size_t bad;
                if (lg_utf8_valid(b.p, b.n, &bad))
                    rc = hf_pieces_add(out, b.p, b.n, 0);
                else
                    for (size_t k = 0; k < b.n && rc == 0; k++)
                        rc = hf_pieces_add(out, "\xEF\xBF\xBD", 3, 0);
                b.n = 0;
            }
            if (i < in->n && rc == 0)
                rc = hf_pieces_add(out, TOK(i), in->v[i].len, 0);
        }
        break;
    case DEC_FUSE:
        for (size_t i = 0; i < in->n && rc == 0; i++)
            rc = hf_buf_add(&b, TOK(i), in->v[i].len);
        if (rc == 0)
            rc = hf_pieces_add(out, b.p ? b.p : "", b.n, 0);
        break;
    case DEC_METASPACE:
        for (size_t i = 0; i < in->n && rc == 0; i++) {
            const unsigned char *s = (const unsigned char *)TOK(i);
            b.n = 0;
            /* as tokenizers does: in the first token every replacement is dropped (unless
             * the scheme is "never"), elsewhere each becomes a space */
            const int drop = i == 0 && d->prepend != 2 /* never */;
            for (size_t k = 0; k < in->v[i].len && rc == 0;) {
                size_t l;
                uint32_t cp = hf_utf8_next(s + k, &l);
                if (cp != d->rep_cp)
                    rc = hf_buf_add(&b, s + k, l);
                else if (!drop)
                    rc = hf_buf_add(&b, " ", 1);
                k += l;
            }
            if (rc == 0)
                rc = hf_pieces_add(out, b.n ? b.p : "", b.n, 0);
        }
        break;
    case DEC_STRIP:
        for (size_t i = 0; i < in->n && rc == 0; i++) {
            const unsigned char *s = (const unsigned char *)TOK(i);
            size_t n = in->v[i].len, a = 0, e = n, l;
            for (int k = 0; k < d->start && a < n; k++) {
                if (hf_utf8_next(s + a, &l) != d->content)
                    break;
                a += l;
            }
            for (int k = 0; k < d->stop && e > a; k++) {
                size_t q = e - 1;
                while (q > a && (s[q] & 0xC0) == 0x80)
                    q--;
                if (hf_utf8_next(s + q, &l) != d->content)
                    break;
                e = q;
            }
            rc = hf_pieces_add(out, (const char *)s + a, e - a, 0);
        }
        break;
    case DEC_REPLACE: {
        size_t pl = strlen(d->pattern), wl = strlen(d->with);
        for (size_t i = 0; i < in->n && rc == 0; i++) {
            const char *s = TOK(i);
            size_t n = in->v[i].len, k = 0;
            b.n = 0;
            while (k < n && rc == 0) {
                const char *f = memmem(s + k, n - k, d->pattern, pl);
                if (!f) {
                    rc = hf_buf_add(&b, s + k, n - k);
                    break;
                }
                rc = hf_buf_add(&b, s + k, (size_t)(f - s) - k);
                if (rc == 0)
                    rc = hf_buf_add(&b, d->with, wl);
                k = (size_t)(f - s) + pl;
            }
            if (rc == 0)
                rc = hf_pieces_add(out, b.n ? b.p : "", b.n, 0);
        }
        break;
    }
    }
#undef TOK
    hf_buf_free(&b);
    hf_buf_free(&c);
    /* a nested Sequence's failure has its message; every other -1 here is memory */
    return rc < 0 && d->kind != DEC_SEQUENCE ? lg_fail(err, "out of memory") : rc;
}

/* ---- added tokens: a byte trie, matched leftmost-longest ---------------------------- */

typedef struct {
    int first_child, next_sibling, token; /* token: index into added, -1 */
    unsigned char byte;
} trie_node;

typedef struct {
    trie_node *v;
    size_t n, cap;
} trie;

static int trie_insert(trie *t, const char *s, int token)
{
    if (t->n == 0) {
        if (!(t->v = malloc(64 * sizeof *t->v)))
            return -1;
        t->cap = 64;
        t->v[0] = (trie_node){-1, -1, -1, 0};
        t->n = 1;
    }
    int node = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        int c = t->v[node].first_child;
        while (c >= 0 && t->v[c].byte != *p)
            c = t->v[c].next_sibling;
        if (c < 0) {
            if (t->n == t->cap) {
                trie_node *g = realloc(t->v, 2 * t->cap * sizeof *g);
                if (!g)
                    return -1;
                t->v = g;
                t->cap *= 2;
            }
            c = (int)t->n++;
            t->v[c] = (trie_node){-1, t->v[node].first_child, -1, *p};
            t->v[node].first_child = c;
        }
        node = c;
    }
    if (t->v[node].token < 0)
        t->v[node].token = token;
    return 0;
}

/* The longest token matching s[i..n), its end in *end; -1 when none. */
static int trie_match(const trie *t, const char *s, size_t n, size_t i, size_t *end)
{
    int node = 0, best = -1;
    for (size_t k = i; k < n; k++) {
        int c = t->v[node].first_child;
        while (c >= 0 && t->v[c].byte != (unsigned char)s[k])
            c = t->v[c].next_sibling;
        if (c < 0)
            break;
        node = c;
        if (t->v[node].token >= 0) {
            best = t->v[node].token;
            *end = k + 1;
        }
    }
    return best;
}

typedef struct {
    int id;
    char *content;
    char *normed; /* a normalized token's content after the normalizer (NULL: content) */
    int special, lstrip, rstrip, single_word, normalized;
} added_token;

struct lg_hf {
    char path[4096];
    hf_bpe *model;
    hf_norm *norm;
    hf_pretok *pretok;
    hf_dec *dec;
    added_token *added;
    int n_added;
    int size;            /* model ids and added ids past them */
    int *added_of_id;    /* id -> index into added, -1 */
    trie raw, normed;    /* added tokens matched on the text / after normalizing */
    uint8_t raw_first[256], normed_first[256];
    int bos, eos, pad;
    /* the post-processor's single template: ids before and after the text (--add-special);
     * post_error: why it cannot be applied ("" when it can) */
    int *tpl_pre, *tpl_post;
    int n_tpl_pre, n_tpl_post;
    char post_error[256];
    /* lg_hf_pretokenize: each pre-tokenized word goes here instead of the BPE model */
    int (*word_cb)(void *ctx, const char *word, size_t len, lg_error *err);
    void *word_ctx;
};

void lg_hf_free(lg_hf *t)
{
    if (!t)
        return;
    hf_bpe_free(t->model);
    norm_free(t->norm);
    hf_pretok_free(t->pretok);
    dec_free(t->dec);
    for (int i = 0; i < t->n_added; i++) {
        free(t->added[i].content);
        free(t->added[i].normed);
    }
    free(t->added);
    free(t->added_of_id);
    free(t->raw.v);
    free(t->normed.v);
    free(t->tpl_pre);
    free(t->tpl_post);
    free(t);
}

int lg_hf_vocab_size(const lg_hf *t) { return t->size; }
int lg_hf_unk_id(const lg_hf *t) { return hf_bpe_unk(t->model); }
int lg_hf_bos_id(const lg_hf *t) { return t->bos; }
int lg_hf_eos_id(const lg_hf *t) { return t->eos; }
int lg_hf_pad_id(const lg_hf *t) { return t->pad; }

const char *lg_hf_piece(const lg_hf *t, int id)
{
    if (id < 0 || id >= t->size)
        return "";
    if (t->added_of_id[id] >= 0)
        return t->added[t->added_of_id[id]].content;
    const char *p = hf_bpe_piece(t->model, id, NULL);
    return p ? p : "";
}

int lg_hf_piece_to_id(const lg_hf *t, const char *piece)
{
    for (int i = 0; i < t->n_added; i++)
        if (!strcmp(t->added[i].content, piece))
            return t->added[i].id;
    return hf_bpe_lookup(t->model, piece, strlen(piece));
}

int lg_hf_is_special(const lg_hf *t, int id)
{
    return id >= 0 && id < t->size && t->added_of_id[id] >= 0 && t->added[t->added_of_id[id]].special;
}

int lg_hf_byte_of(const lg_hf *t, int id)
{
    if (!hf_bpe_byte_fallback(t->model) || id < 0 || id >= hf_bpe_size(t->model))
        return -1;
    size_t len;
    const char *p = hf_bpe_piece(t->model, id, &len);
    if (len != 6 || memcmp(p, "<0x", 3) || p[5] != '>')
        return -1;
    unsigned v;
    char hex[3] = {p[3], p[4], 0};
    if (sscanf(hex, "%2x", &v) != 1)
        return -1;
    char again[8];
    snprintf(again, sizeof again, "<0x%02X>", v);
    return strcmp(again, p) ? -1 : (int)v;
}

static int json_bool(const cJSON *o, const char *key, int def)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsBool(v) ? cJSON_IsTrue(v) : def;
}

static int parse_added(lg_hf *t, const cJSON *arr, const char *file, lg_error *err)
{
    if (!arr || cJSON_IsNull(arr))
        return 0;
    if (!cJSON_IsArray(arr))
        return lg_fail(err, "%s: added_tokens: not an array", file);
    int n = cJSON_GetArraySize(arr), model_n = hf_bpe_size(t->model);
    if (!(t->added = calloc((size_t)n + 1, sizeof *t->added)))
        return lg_fail(err, "%s: out of memory", file);
    int max_id = model_n - 1, i = 0;
    for (const cJSON *a = arr->child; a; a = a->next, i++) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(a, "id");
        const cJSON *content = cJSON_GetObjectItemCaseSensitive(a, "content");
        if (!cJSON_IsNumber(id) || id->valuedouble < 0 || id->valuedouble > 1e9 ||
            id->valuedouble != (double)(int)id->valuedouble)
            return lg_fail(err, "%s: added_tokens[%d].id: not an id (a whole number >= 0)", file, i);
        if (!cJSON_IsString(content) || !content->valuestring[0])
            return lg_fail(err, "%s: added_tokens[%d].content: not a non-empty string", file, i);
        added_token *x = &t->added[i];
        x->id = (int)id->valuedouble;
        if (!(x->content = strdup(content->valuestring)))
            return lg_fail(err, "%s: out of memory", file);
        t->n_added = i + 1;
        x->special = json_bool(a, "special", 0);
        x->lstrip = json_bool(a, "lstrip", 0);
        x->rstrip = json_bool(a, "rstrip", 0);
        x->single_word = json_bool(a, "single_word", 0);
        x->normalized = json_bool(a, "normalized", !x->special);
        int in_vocab = hf_bpe_lookup(t->model, x->content, strlen(x->content));
        if (in_vocab >= 0 && in_vocab != x->id)
            return lg_fail(err, "%s: added_tokens[%d].id: %d, but model.vocab gives \"%.60s\" id %d",
                           file, i, x->id, x->content, in_vocab);
        if (in_vocab < 0 && x->id < model_n)
            return lg_fail(err, "%s: added_tokens[%d].id: %d belongs to \"%.60s\" in model.vocab, "
                                "not to \"%.60s\"", file, i, x->id,
                           hf_bpe_piece(t->model, x->id, NULL), x->content);
        if (x->id > max_id)
            max_id = x->id;
    }
    /* ids past the model's vocabulary continue it without gaps or duplicates (what the
     * library would give them when loading) */
    if ((int64_t)max_id - model_n + 1 > n)
        return lg_fail(err, "%s: added_tokens: id %d is past the vocabulary (model.vocab has %d "
                            "pieces and only %d added tokens follow it)", file, max_id, model_n, n);
    t->size = max_id + 1;
    if (!(t->added_of_id = malloc((size_t)t->size * sizeof *t->added_of_id)))
        return lg_fail(err, "%s: out of memory", file);
    for (int k = 0; k < t->size; k++)
        t->added_of_id[k] = -1;
    for (int k = 0; k < t->n_added; k++) {
        int id = t->added[k].id;
        if (t->added_of_id[id] >= 0)
            return lg_fail(err, "%s: added_tokens[%d].id: duplicate id %d (also added_tokens[%d])",
                           file, k, id, t->added_of_id[id]);
        t->added_of_id[id] = k;
    }
    for (int k = model_n; k < t->size; k++)
        if (t->added_of_id[k] < 0)
            return lg_fail(err, "%s: added_tokens: id %d is missing (ids past model.vocab's %d "
                                "must follow it without gaps)", file, k, model_n);
    return 0;
}

static int find_named(const lg_hf *t, const char *const *names)
{
    for (; *names; names++) {
        int id = lg_hf_piece_to_id(t, *names);
        if (id >= 0)
            return id;
    }
    return -1;
}

static int add_tpl_id(int **v, int *n, int id)
{
    int *g = realloc(*v, (size_t)(*n + 1) * sizeof *g);
    if (!g)
        return -1;
    g[(*n)++] = id;
    *v = g;
    return 0;
}

/* The post-processor's "single" template as ids before and after the text (what
 * tokenizers adds with add_special_tokens). ByteLevel changes offsets only; Sequence runs
 * its processors in turn; TemplateProcessing adds its special tokens. Any other processor,
 * or a template this cannot express, is recorded in post_error: refused only when
 * --add-special asks for it. A malformed TemplateProcessing is an error. */
static int parse_post(lg_hf *t, const cJSON *pp, const char *file, const char *field,
                      lg_error *err)
{
    if (!pp || cJSON_IsNull(pp))
        return 0;
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(pp, "type");
    if (!cJSON_IsObject(pp) || !cJSON_IsString(type))
        return lg_fail(err, "%s: %s: not an object with a string \"type\"", file, field);
    if (!strcmp(type->valuestring, "ByteLevel"))
        return 0;
    if (!strcmp(type->valuestring, "Sequence")) {
        const cJSON *ps = cJSON_GetObjectItemCaseSensitive(pp, "processors");
        if (!cJSON_IsArray(ps))
            return lg_fail(err, "%s: %s.processors: not an array", file, field);
        int i = 0;
        for (const cJSON *q = ps->child; q; q = q->next, i++) {
            char sub[200];
            snprintf(sub, sizeof sub, "%s.processors[%d]", field, i);
            if (parse_post(t, q, file, sub, err) < 0)
                return -1;
        }
        return 0;
    }
    if (strcmp(type->valuestring, "TemplateProcessing")) {
        if (!t->post_error[0])
            snprintf(t->post_error, sizeof t->post_error,
                     "%s: %s: \"%.40s\" is not supported for --add-special (only "
                     "TemplateProcessing, ByteLevel and Sequence)", file, field, type->valuestring);
        return 0;
    }
    const cJSON *single = cJSON_GetObjectItemCaseSensitive(pp, "single");
    const cJSON *specials = cJSON_GetObjectItemCaseSensitive(pp, "special_tokens");
    if (!cJSON_IsArray(single))
        return lg_fail(err, "%s: %s.single: not an array", file, field);
    if (t->n_tpl_pre || t->n_tpl_post) {
        snprintf(t->post_error, sizeof t->post_error,
                 "%s: %s: a second TemplateProcessing is not supported", file, field);
        return 0;
    }
    int seen_a = 0, i = 0;
    for (const cJSON *it = single->child; it; it = it->next, i++) {
        const cJSON *seq = cJSON_GetObjectItemCaseSensitive(it, "Sequence");
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(it, "SpecialToken");
        if (seq) {
            const cJSON *sid = cJSON_GetObjectItemCaseSensitive(seq, "id");
            if (!cJSON_IsString(sid) || strcmp(sid->valuestring, "A") || seen_a)
                return lg_fail(err, "%s: %s.single[%d]: the single template takes sequence A once",
                               file, field, i);
            seen_a = 1;
            continue;
        }
        const cJSON *sid = cJSON_GetObjectItemCaseSensitive(st, "id");
        if (!cJSON_IsString(sid))
            return lg_fail(err, "%s: %s.single[%d]: neither a Sequence nor a SpecialToken with an id",
                           file, field, i);
        const cJSON *def = cJSON_GetObjectItemCaseSensitive(specials, sid->valuestring);
        const cJSON *ids = cJSON_GetObjectItemCaseSensitive(def, "ids");
        if (!cJSON_IsArray(ids) || cJSON_GetArraySize(ids) == 0)
            return lg_fail(err, "%s: %s.special_tokens[\"%.60s\"].ids: missing or empty", file,
                           field, sid->valuestring);
        for (const cJSON *x = ids->child; x; x = x->next) {
            if (!cJSON_IsNumber(x) || x->valuedouble < 0 || x->valuedouble >= t->size ||
                x->valuedouble != (double)(int)x->valuedouble)
                return lg_fail(err, "%s: %s.special_tokens[\"%.60s\"].ids: not an id of the "
                                    "vocabulary (0..%d)", file, field, sid->valuestring, t->size - 1);
            if (add_tpl_id(seen_a ? &t->tpl_post : &t->tpl_pre,
                           seen_a ? &t->n_tpl_post : &t->n_tpl_pre, (int)x->valuedouble) < 0)
                return lg_fail(err, "%s: out of memory", file);
        }
    }
    if (!seen_a)
        return lg_fail(err, "%s: %s.single: no Sequence A", file, field);
    return 0;
}

static lg_hf *load_doc(const cJSON *doc, const char *name, lg_error *err)
{
    hf_unicode_init();
    if (!cJSON_IsObject(doc)) {
        lg_fail(err, "%s: not a tokenizer.json (not a JSON object)", name);
        return NULL;
    }
    lg_hf *t = calloc(1, sizeof *t);
    if (!t) {
        lg_fail(err, "%s: out of memory", name);
        return NULL;
    }
    snprintf(t->path, sizeof t->path, "%s", name);
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(doc, "model");
    if (!cJSON_IsObject(model)) {
        lg_fail(err, "%s: model: missing (not a tokenizer.json?)", name);
        goto fail;
    }
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(model, "type");
    if (cJSON_IsString(type) && strcmp(type->valuestring, "BPE")) {
        lg_fail(err, "%s: model.type: \"%.40s\" is not supported (only BPE)", name,
                type->valuestring);
        goto fail;
    }
    if (!type && !cJSON_GetObjectItemCaseSensitive(model, "merges")) {
        lg_fail(err, "%s: model: no type and no merges (only BPE is supported)", name);
        goto fail;
    }
    if (type && !cJSON_IsString(type)) {
        lg_fail(err, "%s: model.type: not a string", name);
        goto fail;
    }
    if (!(t->model = hf_bpe_parse(model, name, err)))
        goto fail;
    const cJSON *j;
    if ((j = cJSON_GetObjectItemCaseSensitive(doc, "normalizer")) && !cJSON_IsNull(j) &&
        !(t->norm = norm_parse(j, name, "normalizer", err)))
        goto fail;
    if ((j = cJSON_GetObjectItemCaseSensitive(doc, "pre_tokenizer")) && !cJSON_IsNull(j) &&
        !(t->pretok = hf_pretok_parse(j, name, "pre_tokenizer", err)))
        goto fail;
    if ((j = cJSON_GetObjectItemCaseSensitive(doc, "decoder")) && !cJSON_IsNull(j) &&
        !(t->dec = dec_parse(j, name, "decoder", err)))
        goto fail;
    t->size = hf_bpe_size(t->model);
    if (parse_added(t, cJSON_GetObjectItemCaseSensitive(doc, "added_tokens"), name, err) < 0)
        goto fail;
    if (!t->added_of_id) {
        if (!(t->added_of_id = malloc(((size_t)t->size + 1) * sizeof *t->added_of_id))) {
            lg_fail(err, "%s: out of memory", name);
            goto fail;
        }
        for (int k = 0; k < t->size; k++)
            t->added_of_id[k] = -1;
    }
    for (int k = 0; k < t->n_added; k++) {
        added_token *x = &t->added[k];
        if (x->normalized && t->norm) {
            /* matched after normalizing: the content normalized too */
            hf_buf b = {0}, tmp = {0};
            int rc = hf_buf_add(&b, x->content, strlen(x->content)) < 0 ? lg_fail(err, "out of memory") : 0;
            if (rc == 0)
                rc = norm_run(t->norm, &b, &tmp, err);
            if (rc == 0 && b.n && trie_insert(&t->normed, b.p, k) < 0)
                rc = lg_fail(err, "out of memory");
            if (rc == 0 && b.n)
                t->normed_first[(unsigned char)b.p[0]] = 1;
            if (rc == 0 && !(t->added[k].normed = strdup(b.p ? b.p : "")))
                rc = lg_fail(err, "out of memory");
            hf_buf_free(&b);
            hf_buf_free(&tmp);
            if (rc < 0) {
                lg_fail_context(err, "%s: added_tokens[%d]", name, k);
                goto fail;
            }
        } else {
            if (trie_insert(&t->raw, x->content, k) < 0) {
                lg_fail(err, "%s: out of memory", name);
                goto fail;
            }
            t->raw_first[(unsigned char)x->content[0]] = 1;
        }
    }
    if (parse_post(t, cJSON_GetObjectItemCaseSensitive(doc, "post_processor"), name, "post_processor",
                   err) < 0)
        goto fail;
    /* BOS: the post-processor's first special token, else a known name */
    t->bos = -1;
    const cJSON *pp = cJSON_GetObjectItemCaseSensitive(doc, "post_processor");
    const cJSON *ppt = cJSON_GetObjectItemCaseSensitive(pp, "type");
    if (cJSON_IsString(ppt) && !strcmp(ppt->valuestring, "TemplateProcessing")) {
        const cJSON *single = cJSON_GetObjectItemCaseSensitive(pp, "single");
        const cJSON *first = cJSON_IsArray(single) ? single->child : NULL;
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(first, "SpecialToken");
        const cJSON *sid = cJSON_GetObjectItemCaseSensitive(st, "id");
        if (cJSON_IsString(sid))
            t->bos = lg_hf_piece_to_id(t, sid->valuestring);
    }
    static const char *const bos_names[] = {"<|begin_of_text|>", "<s>", "<bos>", NULL};
    static const char *const eos_names[] = {"<|end_of_text|>", "<|endoftext|>", "</s>", "<eos>", NULL};
    static const char *const pad_names[] = {"<pad>", "<|pad|>", "[PAD]", NULL};
    if (t->bos < 0)
        t->bos = find_named(t, bos_names);
    t->eos = find_named(t, eos_names);
    t->pad = find_named(t, pad_names);
    return t;
fail:
    lg_hf_free(t);
    return NULL;
}

lg_hf *lg_hf_load_json(const char *text, size_t len, const char *name, lg_error *err)
{
    /* JSON is UTF-8 (and every string taken from it is then valid UTF-8, as the pieces,
     * contents and patterns the encoder walks character by character must be) */
    size_t bad;
    if (!lg_utf8_valid(text, len, &bad)) {
        lg_fail(err, "%s: not valid UTF-8 at byte %zu", name, bad);
        return NULL;
    }
    const char *end = NULL;
    cJSON *doc = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!doc) {
        size_t at = end && end >= text && end <= text + len ? (size_t)(end - text) : 0;
        size_t line = 1;
        for (size_t i = 0; i < at; i++)
            line += text[i] == '\n';
        lg_fail(err, "%s: not valid JSON (near byte %zu, line %zu)", name, at, line);
        return NULL;
    }
    lg_hf *t = load_doc(doc, name, err);
    cJSON_Delete(doc);
    return t;
}

lg_hf *lg_hf_load(const char *path, lg_error *err)
{
    char file[4200];
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        snprintf(file, sizeof file, "%s/tokenizer.json", path);
    else
        snprintf(file, sizeof file, "%s", path);
    size_t len;
    char *text = lg_read_file(file, (size_t)1 << 30, &len, err);
    if (!text)
        return NULL;
    lg_hf *t = lg_hf_load_json(text, len, file, err);
    free(text);
    return t;
}

/* ---- encoding -------------------------------------------------------------------- */

typedef struct {
    size_t a, b;
    int added; /* index into added, -1 */
} span;

typedef struct {
    span *v;
    size_t n, cap;
} spans;

static int span_add(spans *s, size_t a, size_t b, int added)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 16;
        span *v = realloc(s->v, cap * sizeof *v);
        if (!v)
            return -1;
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = (span){a, b, added};
    return 0;
}

static int ends_with_word(const char *s, size_t n)
{
    if (n == 0)
        return 0;
    size_t k = n - 1, l;
    while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80)
        k--;
    uint32_t c = hf_utf8_next((const unsigned char *)s + k, &l);
    return (hf_uclass[c] & HF_WORD) != 0; /* the regex crate's \w, as \b sees it */
}

static int starts_with_word(const char *s, size_t n)
{
    if (n == 0)
        return 0;
    size_t l;
    uint32_t c = hf_utf8_next((const unsigned char *)s, &l);
    return (hf_uclass[c] & HF_WORD) != 0; /* the regex crate's \w, as \b sees it */
}

/* tokenizers' AddedVocabulary::find_matches over s[0..n). */
static int find_added(const lg_hf *t, const trie *tr, const uint8_t *first_byte, const char *s,
                      size_t n, spans *out)
{
    out->n = 0;
    size_t start_offset = 0, pos = 0;
    if (tr->n) {
        while (pos < n) {
            if (!first_byte[(unsigned char)s[pos]]) {
                pos++;
                continue;
            }
            size_t stop;
            int k = trie_match(tr, s, n, pos, &stop);
            if (k < 0) {
                pos++;
                continue;
            }
            size_t start = pos;
            pos = stop; /* the matcher goes on after the match as found */
            const added_token *x = &t->added[k];
            if (x->single_word) {
                int start_space = start == 0 || !ends_with_word(s, start);
                int stop_space = stop == n || !starts_with_word(s + stop, n - stop);
                if (!start_space || !stop_space)
                    continue;
            }
            if (x->lstrip) {
                size_t ns = start;
                while (ns > 0) {
                    size_t q = ns - 1, l;
                    while (q > 0 && ((unsigned char)s[q] & 0xC0) == 0x80)
                        q--;
                    if (!(hf_uclass[hf_utf8_next((const unsigned char *)s + q, &l)] & HF_WS))
                        break;
                    ns = q;
                }
                start = ns > start_offset ? ns : start_offset;
            }
            if (x->rstrip) {
                size_t l;
                while (stop < n && (hf_uclass[hf_utf8_next((const unsigned char *)s + stop, &l)] & HF_WS))
                    stop += l;
            }
            if (start_offset < start && span_add(out, start_offset, start, -1) < 0)
                return -1;
            if (span_add(out, start, stop, k) < 0)
                return -1;
            start_offset = stop;
        }
    }
    if (start_offset != n && span_add(out, start_offset, n, -1) < 0)
        return -1;
    if (n == 0 && span_add(out, 0, 0, -1) < 0)
        return -1;
    return 0;
}

static int push_id(lg_token_ids *out, int id)
{
    if (out->n == out->cap) {
        size_t cap = out->cap ? 2 * out->cap : 64;
        int *p = realloc(out->ids, cap * sizeof *p);
        if (!p)
            return -1;
        out->ids = p;
        out->cap = cap;
    }
    out->ids[out->n++] = id;
    return 0;
}

typedef struct {
    spans raw, normed;
    hf_buf nbuf, tmp;
    hf_pieces a, b;
} enc_scratch;

static void scratch_free(enc_scratch *w)
{
    free(w->raw.v);
    free(w->normed.v);
    hf_buf_free(&w->nbuf);
    hf_buf_free(&w->tmp);
    hf_pieces_free(&w->a);
    hf_pieces_free(&w->b);
}

/* Pre-tokenizes and encodes one piece of normalized text. */
static int encode_piece(lg_hf *t, const char *s, size_t n, int first, enc_scratch *w,
                        lg_token_ids *out, lg_error *err)
{
    if (n == 0)
        return 0;
    if (!t->pretok)
        return t->word_cb ? t->word_cb(t->word_ctx, s, n, err) : hf_bpe_word(t->model, s, n, out, err);
    hf_pieces_clear(&w->a);
    if (hf_pieces_add(&w->a, s, n, first) < 0)
        return lg_fail(err, "out of memory");
    if (hf_pretok_run(t->pretok, &w->a, &w->b, err) < 0)
        return -1;
    for (size_t i = 0; i < w->b.n; i++)
        if ((t->word_cb ? t->word_cb(t->word_ctx, w->b.text.p + w->b.v[i].off, w->b.v[i].len, err)
                        : hf_bpe_word(t->model, w->b.text.p + w->b.v[i].off, w->b.v[i].len, out,
                                      err)) < 0)
            return -1;
    return 0;
}

int lg_hf_encode(lg_hf *t, const char *text, size_t len, lg_token_ids *out, lg_error *err)
{
    size_t bad;
    out->n = 0;
    if (!lg_utf8_valid(text, len, &bad))
        return lg_fail(err, "invalid UTF-8 at byte %zu", bad);
    enc_scratch w = {0};
    int rc = -1;
    if (find_added(t, &t->raw, t->raw_first, text, len, &w.raw) < 0)
        goto oom;
    for (size_t i = 0; i < w.raw.n; i++) {
        const span *sp = &w.raw.v[i];
        if (sp->added >= 0) {
            if (push_id(out, t->added[sp->added].id) < 0)
                goto oom;
            continue;
        }
        w.nbuf.n = 0;
        if (hf_buf_add(&w.nbuf, text + sp->a, sp->b - sp->a) < 0)
            goto oom;
        if (t->norm && norm_run(t->norm, &w.nbuf, &w.tmp, err) < 0)
            goto done;
        const char *ns = w.nbuf.p ? w.nbuf.p : "";
        if (t->normed.n == 0) {
            if (encode_piece(t, ns, w.nbuf.n, sp->a == 0, &w, out, err) < 0)
                goto done;
            continue;
        }
        if (find_added(t, &t->normed, t->normed_first, ns, w.nbuf.n, &w.normed) < 0)
            goto oom;
        for (size_t k = 0; k < w.normed.n; k++) {
            const span *q = &w.normed.v[k];
            if (q->added >= 0) {
                if (push_id(out, t->added[q->added].id) < 0)
                    goto oom;
            } else if (encode_piece(t, ns + q->a, q->b - q->a, sp->a == 0 && q->a == 0, &w, out,
                                    err) < 0) {
                goto done;
            }
        }
    }
    rc = 0;
    goto done;
oom:
    rc = lg_fail(err, "out of memory");
done:
    scratch_free(&w);
    return rc;
}

int lg_hf_pretokenize(lg_hf *t, const char *text, size_t len,
                      int (*word)(void *ctx, const char *w, size_t n, lg_error *err), void *ctx,
                      lg_error *err)
{
    lg_token_ids unused = {0};
    t->word_cb = word;
    t->word_ctx = ctx;
    int rc = lg_hf_encode(t, text, len, &unused, err);
    t->word_cb = NULL;
    t->word_ctx = NULL;
    lg_token_ids_free(&unused);
    return rc;
}

int lg_hf_add_special(const lg_hf *t, lg_token_ids *ids, lg_error *err)
{
    if (t->post_error[0])
        return lg_fail(err, "%s", t->post_error);
    size_t n = ids->n + (size_t)t->n_tpl_pre + (size_t)t->n_tpl_post;
    if (n > ids->cap) {
        int *g = realloc(ids->ids, n * sizeof *g);
        if (!g)
            return lg_fail(err, "out of memory");
        ids->ids = g;
        ids->cap = n;
    }
    if (ids->n)
        memmove(ids->ids + t->n_tpl_pre, ids->ids, ids->n * sizeof *ids->ids);
    if (t->n_tpl_pre)
        memcpy(ids->ids, t->tpl_pre, (size_t)t->n_tpl_pre * sizeof *ids->ids);
    if (t->n_tpl_post)
        memcpy(ids->ids + t->n_tpl_pre + ids->n, t->tpl_post,
               (size_t)t->n_tpl_post * sizeof *ids->ids);
    ids->n = n;
    return 0;
}

char *lg_hf_decode(const lg_hf *t, const int *ids, size_t n, int skip_special, lg_error *err)
{
    hf_pieces toks = {0}, res = {0};
    char *s = NULL;
    for (size_t i = 0; i < n; i++) {
        if (ids[i] < 0 || ids[i] >= t->size) {
            lg_fail(err, "%s: id %d is out of range (0..%d)", t->path, ids[i], t->size - 1);
            goto done;
        }
        if (skip_special && lg_hf_is_special(t, ids[i]))
            continue;
        /* a normalized added token decodes as its normalized content (as tokenizers does) */
        int a = t->added_of_id[ids[i]];
        const char *p = a >= 0 && t->added[a].normed ? t->added[a].normed : lg_hf_piece(t, ids[i]);
        if (hf_pieces_add(&toks, p, strlen(p), 0) < 0)
            goto oom;
    }
    hf_buf joined = {0};
    if (t->dec) {
        if (dec_run(t->dec, &toks, &res, err) < 0)
            goto done;
        for (size_t i = 0; i < res.n; i++)
            if (hf_buf_add(&joined, res.text.p + res.v[i].off, res.v[i].len) < 0) {
                hf_buf_free(&joined);
                goto oom;
            }
    } else {
        for (size_t i = 0; i < toks.n; i++)
            if ((i && hf_buf_add(&joined, " ", 1) < 0) ||
                hf_buf_add(&joined, toks.text.p + toks.v[i].off, toks.v[i].len) < 0) {
                hf_buf_free(&joined);
                goto oom;
            }
    }
    if (hf_buf_add(&joined, "", 0) < 0) {
        hf_buf_free(&joined);
        goto oom;
    }
    s = joined.p;
    goto done;
oom:
    lg_fail(err, "out of memory");
done:
    hf_pieces_free(&toks);
    hf_pieces_free(&res);
    return s;
}

/* ---- the core's interface -------------------------------------------------------- */

static lg_hf *hf_of(const lg_tokenizer *t) { return t->impl; }
static int hft_vocab_size(const lg_tokenizer *t) { return lg_hf_vocab_size(hf_of(t)); }
static int hft_bos(const lg_tokenizer *t) { return lg_hf_bos_id(hf_of(t)); }
static int hft_eos(const lg_tokenizer *t) { return lg_hf_eos_id(hf_of(t)); }
static int hft_pad(const lg_tokenizer *t) { return lg_hf_pad_id(hf_of(t)); }
static int hft_unk(const lg_tokenizer *t) { return lg_hf_unk_id(hf_of(t)); }
static int hft_byte(const lg_tokenizer *t, int id) { return lg_hf_byte_of(hf_of(t), id); }
static int hft_piece_to_id(const lg_tokenizer *t, const char *p)
{
    return lg_hf_piece_to_id(hf_of(t), p);
}
static int hft_encode(const lg_tokenizer *t, const char *text, size_t len, lg_token_ids *out,
                      lg_error *err)
{
    return lg_hf_encode(hf_of(t), text, len, out, err);
}
static char *hft_decode(const lg_tokenizer *t, const int *ids, size_t n, lg_error *err)
{
    return lg_hf_decode(hf_of(t), ids, n, 0, err);
}
static const char *hft_piece(const lg_tokenizer *t, int id) { return lg_hf_piece(hf_of(t), id); }
static void hft_close(lg_tokenizer *t) { lg_hf_free(t->impl); }

static const lg_tokenizer_ops hf_ops = {
    .kind = "tokenizer.json",
    .vocab_size = hft_vocab_size,
    .encode = hft_encode,
    .decode = hft_decode,
    .piece = hft_piece,
    .bos_id = hft_bos,
    .eos_id = hft_eos,
    .pad_id = hft_pad,
    .close = hft_close,
    .unk_id = hft_unk,
    .byte_of = hft_byte,
    .piece_to_id = hft_piece_to_id,
};

lg_tokenizer *lg_hf_tokenizer(lg_hf *h, const char *path, lg_error *err)
{
    lg_tokenizer *t = calloc(1, sizeof *t);
    if (!t) {
        lg_hf_free(h);
        lg_fail(err, "%s: out of memory", path);
        return NULL;
    }
    t->ops = &hf_ops;
    t->impl = h;
    snprintf(t->path, sizeof t->path, "%s", path);
    return t;
}

lg_hf *lg_tokenizer_hf(const lg_tokenizer *t) { return t && t->ops == &hf_ops ? t->impl : NULL; }
