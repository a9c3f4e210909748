/* UTF-8 validation, cleaning, ICU normalisation and script detection. */
#include "lg_text.h"

#include <stdlib.h>
#include <string.h>
#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/uscript.h>
#include <unicode/ustring.h>
#include <unicode/utf16.h>

struct lg_text_cleaner {
    const UNormalizer2 *norm;   /* NULL: no normalisation */
    int replace_invalid;
    UChar *raw, *normalized;    /* UTF-16 work buffers */
    int32_t raw_cap, normalized_cap;
    char *out;
    size_t out_cap;
};

/* Decodes one UTF-8 sequence at s[*i] (i < len); returns the code point or -1 when it is
 * invalid (then *i advances by one byte). Rejects overlongs, surrogates, > U+10FFFF. */
static int32_t utf8_next(const unsigned char *s, size_t len, size_t *i)
{
    unsigned char b = s[*i];
    int32_t c, min;
    int extra;
    if (b < 0x80) {
        (*i)++;
        return b;
    } else if ((b & 0xe0) == 0xc0) {
        c = b & 0x1f; extra = 1; min = 0x80;
    } else if ((b & 0xf0) == 0xe0) {
        c = b & 0x0f; extra = 2; min = 0x800;
    } else if ((b & 0xf8) == 0xf0) {
        c = b & 0x07; extra = 3; min = 0x10000;
    } else {
        (*i)++;
        return -1;
    }
    if (len - *i < (size_t)extra + 1) {
        (*i)++;
        return -1;
    }
    for (int k = 1; k <= extra; k++) {
        unsigned char t = s[*i + k];
        if ((t & 0xc0) != 0x80) {
            (*i)++;
            return -1;
        }
        c = (c << 6) | (t & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) {
        (*i)++;
        return -1;
    }
    *i += (size_t)extra + 1;
    return c;
}

int lg_utf8_valid(const char *s, size_t len, size_t *bad_offset)
{
    size_t i = 0;
    while (i < len) {
        size_t at = i;
        if (utf8_next((const unsigned char *)s, len, &i) < 0) {
            if (bad_offset)
                *bad_offset = at;
            return 0;
        }
    }
    return 1;
}

size_t lg_utf8_length(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += ((unsigned char)s[i] & 0xc0) != 0x80;
    return n;
}

lg_text_cleaner *lg_text_cleaner_new(lg_text_form form, int replace_invalid, lg_error *err)
{
    lg_text_cleaner *c = calloc(1, sizeof *c);
    if (!c) {
        lg_fail(err, "text cleaner: out of memory");
        return NULL;
    }
    UErrorCode st = U_ZERO_ERROR;
    if (form == LG_TEXT_NFKC)
        c->norm = unorm2_getNFKCInstance(&st);
    else if (form == LG_TEXT_NFC)
        c->norm = unorm2_getNFCInstance(&st);
    if (U_FAILURE(st)) {
        lg_fail(err, "ICU normaliser unavailable: %s", u_errorName(st));
        free(c);
        return NULL;
    }
    c->replace_invalid = replace_invalid;
    return c;
}

void lg_text_cleaner_free(lg_text_cleaner *c)
{
    if (!c)
        return;
    free(c->raw);
    free(c->normalized);
    free(c->out);
    free(c);
}

static int grow_uchars(UChar **buf, int32_t *cap, int64_t need)
{
    if (need <= *cap)
        return 0;
    if (need > INT32_MAX / 2)
        return -1;
    int32_t n = (int32_t)(need + need / 2 + 64);
    UChar *grown = realloc(*buf, (size_t)n * sizeof(UChar));
    if (!grown)
        return -1;
    *buf = grown;
    *cap = n;
    return 0;
}

int lg_text_clean(lg_text_cleaner *c, const char *in, size_t len, const char **out,
                  size_t *out_len, lg_error *err)
{
    /* UTF-8 -> UTF-16, validating and cleaning on the way (at most one UChar per byte). */
    if (grow_uchars(&c->raw, &c->raw_cap, (int64_t)len + 1) < 0)
        return lg_fail(err, "line of %zu bytes: out of memory", len);
    int32_t n = 0;
    size_t i = 0;
    while (i < len) {
        size_t at = i;
        int32_t cp = utf8_next((const unsigned char *)in, len, &i);
        if (cp < 0) {
            if (!c->replace_invalid)
                return lg_fail(err, "invalid UTF-8 at byte %zu", at);
            cp = 0xfffd;
        } else if (cp == 0xfeff) {
            continue; /* byte order mark / zero-width no-break space */
        } else if ((cp >= 0x09 && cp <= 0x0d) || cp == 0x85) {
            cp = ' ';
        } else if (u_charType(cp) == U_CONTROL_CHAR) {
            continue;
        }
        U16_APPEND_UNSAFE(c->raw, n, cp);
    }
    const UChar *text = c->raw;
    int32_t text_len = n;
    if (c->norm) {
        UErrorCode st = U_ZERO_ERROR;
        int32_t need = unorm2_normalize(c->norm, c->raw, n, c->normalized, c->normalized_cap, &st);
        if (st == U_BUFFER_OVERFLOW_ERROR) {
            if (grow_uchars(&c->normalized, &c->normalized_cap, need) < 0)
                return lg_fail(err, "line of %zu bytes: out of memory", len);
            st = U_ZERO_ERROR;
            need = unorm2_normalize(c->norm, c->raw, n, c->normalized, c->normalized_cap, &st);
        }
        if (U_FAILURE(st))
            return lg_fail(err, "normalisation failed: %s", u_errorName(st));
        text = c->normalized;
        text_len = need;
    }
    /* UTF-16 -> UTF-8: at most 3 bytes per UChar. */
    size_t need8 = (size_t)text_len * 3 + 1;
    if (need8 > c->out_cap) {
        char *grown = realloc(c->out, need8);
        if (!grown)
            return lg_fail(err, "line of %zu bytes: out of memory", len);
        c->out = grown;
        c->out_cap = need8;
    }
    UErrorCode st = U_ZERO_ERROR;
    int32_t written = 0;
    u_strToUTF8(c->out, (int32_t)c->out_cap, &written, text, text_len, &st);
    if (U_FAILURE(st))
        return lg_fail(err, "UTF-8 conversion failed: %s", u_errorName(st));
    c->out[written] = '\0';
    *out = c->out;
    *out_len = (size_t)written;
    return 0;
}

int lg_text_script(uint32_t codepoint)
{
    UErrorCode st = U_ZERO_ERROR;
    UScriptCode s = uscript_getScript((UChar32)codepoint, &st);
    return U_FAILURE(st) ? -1 : (int)s;
}

const char *lg_text_script_code(int script)
{
    const char *name = uscript_getShortName((UScriptCode)script);
    return name ? name : "Zzzz";
}

int lg_text_script_from_code(const char *code)
{
    UErrorCode st = U_ZERO_ERROR;
    UScriptCode out[8];
    int32_t n = uscript_getCode(code, out, 8, &st);
    if (U_FAILURE(st) || n < 1 || out[0] == USCRIPT_INVALID_CODE)
        return -1;
    return (int)out[0];
}

int lg_text_script_count(void) { return USCRIPT_CODE_LIMIT; }

void lg_text_script_histogram(const char *s, size_t len, int64_t *counts)
{
    size_t i = 0;
    while (i < len) {
        int32_t cp = utf8_next((const unsigned char *)s, len, &i);
        if (cp < 0 || u_isUWhiteSpace(cp))
            continue;
        int sc = lg_text_script((uint32_t)cp);
        if (sc >= 0 && sc < USCRIPT_CODE_LIMIT)
            counts[sc]++;
    }
}

int lg_text_line_script(const char *s, size_t len)
{
    /* A small tally of the scripts seen; lines rarely mix more than a few. */
    int scripts[16], counts[16], n = 0;
    size_t i = 0;
    while (i < len) {
        int32_t cp = utf8_next((const unsigned char *)s, len, &i);
        if (cp < 0)
            continue;
        int sc = lg_text_script((uint32_t)cp);
        if (sc <= USCRIPT_INHERITED)
            continue; /* Common (0), Inherited (1), errors */
        int k = 0;
        while (k < n && scripts[k] != sc)
            k++;
        if (k == n) {
            if (n == 16)
                continue;
            scripts[n] = sc;
            counts[n++] = 0;
        }
        counts[k]++;
    }
    int best = USCRIPT_COMMON, best_count = 0;
    for (int k = 0; k < n; k++)
        if (counts[k] > best_count) {
            best = scripts[k];
            best_count = counts[k];
        }
    return best;
}
