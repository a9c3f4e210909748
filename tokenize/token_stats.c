/* Fertility, characters and bytes per token, unknown/byte-fallback shares, vocabulary use. */
#include "token_stats.h"

#include <stdlib.h>
#include <string.h>
#include <unicode/uchar.h>
#include <unicode/utf8.h>

#include "lg_text.h"

int lg_token_stats_init(lg_token_stats *s, const lg_spm *model, lg_error *err)
{
    memset(s, 0, sizeof *s);
    s->model = model;
    s->seen = calloc((size_t)lg_spm_vocab_size(model), 1);
    if (!s->seen)
        return lg_fail(err, "stats: out of memory");
    return 0;
}

int lg_token_stats_init_tokenizer(lg_token_stats *s, const lg_tokenizer *tok, lg_error *err)
{
    memset(s, 0, sizeof *s);
    s->tok = tok;
    s->seen = calloc((size_t)tok->ops->vocab_size(tok), 1);
    if (!s->seen)
        return lg_fail(err, "stats: out of memory");
    return 0;
}

int64_t lg_count_words(const char *line, size_t len)
{
    int64_t words = 0;
    int in_word = 0;
    int32_t i = 0, n = (int32_t)len;
    while (i < n) {
        UChar32 c;
        U8_NEXT(line, i, n, c);
        int space = c >= 0 && u_isUWhiteSpace(c);
        if (!space && !in_word)
            words++;
        in_word = !space;
    }
    return words;
}

int lg_token_stats_add(lg_token_stats *s, const char *line, size_t len, lg_error *err)
{
    if ((s->tok ? s->tok->ops->encode(s->tok, line, len, &s->ids, err)
                : lg_spm_encode(s->model, line, len, &s->ids, err)) < 0)
        return -1;
    int unk = s->tok ? lg_tokenizer_unk_id(s->tok) : lg_spm_unk_id(s->model);
    s->lines++;
    s->words += lg_count_words(line, len);
    s->chars += (int64_t)lg_utf8_length(line, len);
    s->bytes += (int64_t)len;
    s->tokens += (int64_t)s->ids.n;
    for (size_t i = 0; i < s->ids.n; i++) {
        int id = s->ids.ids[i];
        if (id == unk)
            s->unknown++;
        else if (s->tok ? lg_tokenizer_byte_of(s->tok, id) >= 0
                        : lg_spm_type(s->model, id) == LG_SPM_BYTE)
            s->byte_fallback++;
        if (!s->seen[id]) {
            s->seen[id] = 1;
            s->vocab_used++;
        }
    }
    return 0;
}

void lg_token_stats_free(lg_token_stats *s)
{
    free(s->seen);
    lg_token_ids_free(&s->ids);
    memset(s, 0, sizeof *s);
}
