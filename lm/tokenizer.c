/* The tokenizer interface's own helpers (implementations live in the tokenize module). */
#include "lg_tokenizer.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void lg_token_ids_free(lg_token_ids *ids)
{
    free(ids->ids);
    ids->ids = NULL;
    ids->n = ids->cap = 0;
}

void lg_tokenizer_free(lg_tokenizer *t)
{
    if (!t)
        return;
    if (t->ops && t->ops->close)
        t->ops->close(t);
    free(t);
}

/* ---- piece spelling ---------------------------------------------------------------- */

/* GPT-2's bytes_to_unicode: printable bytes stand for themselves, the k-th other byte for
 * U+0100 + k (68 of them: U+0100..U+0143). Both directions as tables, built once. */
static uint16_t byte_cp[256];
static int16_t cp_byte[324];
static pthread_once_t bytes_once = PTHREAD_ONCE_INIT;

static void bytes_build(void)
{
    unsigned k = 0;
    for (int i = 0; i < 324; i++)
        cp_byte[i] = -1;
    for (unsigned b = 0; b < 256; b++) {
        int keep = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174;
        byte_cp[b] = (uint16_t)(keep ? b : 256 + k++);
        cp_byte[byte_cp[b]] = (int16_t)b;
    }
}

unsigned lg_byte_level_char(unsigned b)
{
    pthread_once(&bytes_once, bytes_build);
    return byte_cp[b & 255];
}

int lg_byte_level_byte(unsigned c)
{
    pthread_once(&bytes_once, bytes_build);
    return c < 324 ? cp_byte[c] : -1;
}

static size_t utf8_put(char *o, unsigned c)
{
    if (c < 0x80) {
        o[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        o[0] = (char)(0xC0 | (c >> 6));
        o[1] = (char)(0x80 | (c & 0x3F));
        return 2;
    }
    o[0] = (char)(0xE0 | (c >> 12));
    o[1] = (char)(0x80 | ((c >> 6) & 0x3F));
    o[2] = (char)(0x80 | (c & 0x3F));
    return 3;
}

#define WORD_MARK "\xe2\x96\x81"  /* U+2581 */
#define SPACE_CHAR "\xc4\xa0"     /* U+0120, the byte-level alphabet's space */

int lg_piece_spelling_init(lg_piece_spelling *s, const lg_tokenizer *t, lg_error *err)
{
    int all = 1;
    for (unsigned b = 0; b < 256; b++) {
        char c[4] = {0};
        utf8_put(c, lg_byte_level_char(b));
        s->byte_id[b] = lg_tokenizer_piece_to_id(t, c);
        all &= s->byte_id[b] >= 0 && lg_tokenizer_byte_of(t, s->byte_id[b]) < 0;
    }
    s->byte_level = 0;
    if (all && strcmp(t->ops->kind, "sentencepiece")) {
        int sp = s->byte_id[' '];
        char *text = t->ops->decode(t, &sp, 1, err);
        if (!text)
            return -1;
        s->byte_level = !strcmp(text, " ");
        free(text);
    }
    s->mark = s->byte_level ? SPACE_CHAR : WORD_MARK;
    if (!s->byte_level) {
        for (int b = 0; b < 256; b++)
            s->byte_id[b] = -1;
        int n = t->ops->vocab_size(t);
        for (int id = 0; id < n; id++) {
            int b = lg_tokenizer_byte_of(t, id);
            if (b >= 0 && s->byte_id[b] < 0)
                s->byte_id[b] = id;
        }
    }
    return 0;
}

/* The code point at p (valid or not: a lone byte reads as itself) and its length. */
static unsigned utf8_next(const unsigned char *p, size_t *n)
{
    unsigned c = p[0];
    if (c >= 0xC0 && c < 0xE0 && (p[1] & 0xC0) == 0x80) {
        *n = 2;
        return ((c & 0x1F) << 6) | (p[1] & 0x3F);
    }
    if (c >= 0xE0 && c < 0xF0 && (p[1] & 0xC0) == 0x80 && (p[2] & 0xC0) == 0x80) {
        *n = 3;
        return ((c & 0x0F) << 12) | ((unsigned)(p[1] & 0x3F) << 6) | (p[2] & 0x3F);
    }
    *n = 1;
    return c < 0x80 ? c : 0x110000; /* never in the alphabet */
}

int lg_piece_byte(const lg_piece_spelling *s, const lg_tokenizer *t, int id)
{
    if (!s->byte_level)
        return lg_tokenizer_byte_of(t, id);
    const unsigned char *p = (const unsigned char *)t->ops->piece(t, id);
    if (!p[0])
        return -1;
    size_t n;
    unsigned c = utf8_next(p, &n);
    if (p[n])
        return -1;
    int b = lg_byte_level_byte(c);
    return b >= 0 && s->byte_id[b] == id ? b : -1;
}

long lg_piece_text(const lg_piece_spelling *s, const lg_tokenizer *t, int id, char *out,
                   size_t cap)
{
    size_t w = 0;
    int b = s->byte_level ? -1 : lg_tokenizer_byte_of(t, id);
    if (b >= 0) {
        if (cap < 2)
            return -1;
        out[w++] = (char)b;
        out[w] = 0;
        return (long)w;
    }
    const char *p = t->ops->piece(t, id);
    size_t len = strlen(p);
    for (size_t i = 0; i < len;) {
        if (w + 2 > cap)
            return -1;
        if (!s->byte_level) {
            if (!strncmp(p + i, WORD_MARK, 3)) {
                out[w++] = ' ';
                i += 3;
            } else {
                out[w++] = p[i++];
            }
            continue;
        }
        size_t n;
        int byte = lg_byte_level_byte(utf8_next((const unsigned char *)p + i, &n));
        if (byte < 0)
            return -1;
        out[w++] = (char)byte;
        i += n;
    }
    out[w] = 0;
    return (long)w;
}

long lg_piece_spell(const lg_piece_spelling *s, const char *text, size_t len, char *out,
                    size_t cap)
{
    size_t w = 0;
    for (size_t i = 0; i < len; i++) {
        if (w + 4 > cap)
            return -1;
        unsigned char c = (unsigned char)text[i];
        if (s->byte_level)
            w += utf8_put(out + w, lg_byte_level_char(c));
        else if (c == ' ') {
            memcpy(out + w, WORD_MARK, 3);
            w += 3;
        } else
            out[w++] = (char)c;
    }
    out[w] = 0;
    return (long)w;
}
