/* Segment cleaning. Every pass reads s and writes back into s (output never runs
 * ahead of input), so the whole clean happens in place without allocation. */
#include "lg_segment.h"

#include <ctype.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

lg_segment_rules lg_segment_default_rules(void)
{
    lg_segment_rules r = {.clean_flags = LG_CLEAN_ALL, .min_letters = 3, .max_ratio = 4.0};
    return r;
}

const char *lg_verdict_name(lg_verdict v)
{
    static const char *const names[LG_VERDICT_COUNT] = {
        "kept", "invalid_utf8", "empty", "placeholders", "short", "identical", "length_ratio"};
    return (unsigned)v < LG_VERDICT_COUNT ? names[v] : "unknown";
}

/* Length of the UTF-8 sequence at s (at most n bytes), or 0 when malformed. */
static size_t utf8_seq(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned char c = s[0];
    if (c < 0x80) {
        *cp = c;
        return c ? 1 : 0;
    }
    size_t len;
    uint32_t v, min;
    if ((c & 0xe0) == 0xc0) { len = 2; v = c & 0x1f; min = 0x80; }
    else if ((c & 0xf0) == 0xe0) { len = 3; v = c & 0x0f; min = 0x800; }
    else if ((c & 0xf8) == 0xf0) { len = 4; v = c & 0x07; min = 0x10000; }
    else return 0;
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        v = v << 6 | (s[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = v;
    return len;
}

int lg_segment_utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    uint32_t cp;
    while (i < n) {
        size_t l = utf8_seq(p + i, n - i, &cp);
        if (!l)
            return 0;
        i += l;
    }
    return 1;
}

static int is_word_char(unsigned char c)
{
    return isalnum(c) || c >= 0x80;
}

/* ~Open, Op~slaan (LibreOffice), _Open (GTK), &Open (Qt/KDE, but not &amp;).
 * '_' and '&' are only taken as accelerators when the segment has one of them,
 * so identifiers like file_name survive; "&&" stands for a literal '&'. */
static void strip_accelerators(char *s)
{
    int underscores = 0, ampersands = 0;
    for (const char *p = s; *p; p++) {
        if (*p == '_' && is_word_char((unsigned char)p[1]))
            underscores++;
        if (*p == '&' && isalpha((unsigned char)p[1])) {
            const char *q = p + 1;
            while (isalnum((unsigned char)*q))
                q++;
            if (*q != ';')
                ampersands++;
        }
    }
    char *out = s;
    for (const char *p = s; *p; p++) {
        if (*p == '~' && p[1] && !isspace((unsigned char)p[1]) && p[1] != '~')
            continue;
        if (*p == '_' && underscores == 1 && is_word_char((unsigned char)p[1]))
            continue;
        if (*p == '&' && p[1] == '&') {
            *out++ = '&';
            p++;
            continue;
        }
        if (*p == '&' && ampersands == 1 && isalpha((unsigned char)p[1])) {
            const char *q = p + 1;
            while (isalnum((unsigned char)*q))
                q++;
            if (*q != ';')
                continue;
        }
        *out++ = *p;
    }
    *out = '\0';
}

/* Writes the UTF-8 encoding of cp at out; returns its length. */
static size_t put_utf8(char *out, uint32_t cp)
{
    if (cp < 0x80) { out[0] = (char)cp; return 1; }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | cp >> 6); out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | cp >> 12); out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | cp >> 18); out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3f)); out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* Decodes the entity at p ("&amp;", "&#233;", "&#xE9;"): returns the bytes it spans
 * and writes the code point, or 0 when p does not start a known entity. */
static size_t entity_at(const char *p, uint32_t *cp)
{
    static const struct { const char *name; uint32_t cp; } named[] = {
        {"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'}, {"apos", '\''},
        {"nbsp", 0xa0}, {"hellip", 0x2026}, {"ndash", 0x2013}, {"mdash", 0x2014}};
    if (p[1] == '#') {
        const char *q = p + 2;
        int hex = (*q == 'x' || *q == 'X');
        if (hex)
            q++;
        uint32_t v = 0;
        int digits = 0;
        while (digits < 8 && (hex ? isxdigit((unsigned char)*q) : isdigit((unsigned char)*q))) {
            v = v * (hex ? 16 : 10) + (uint32_t)(isdigit((unsigned char)*q) ? *q - '0'
                                                  : (tolower((unsigned char)*q) - 'a' + 10));
            q++;
            digits++;
        }
        if (!digits || *q != ';' || v == 0 || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
            return 0;
        *cp = v;
        return (size_t)(q + 1 - p);
    }
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++) {
        size_t l = strlen(named[i].name);
        if (strncmp(p + 1, named[i].name, l) == 0 && p[1 + l] == ';') {
            *cp = named[i].cp;
            return l + 2;
        }
    }
    return 0;
}

/* Block-level tags end a word; inline ones (<b>, <span>) may sit inside one. */
static int tag_separates_words(const char *name)
{
    static const char *const blocks[] = {"br", "p", "li", "td", "th", "tr", "div", "ul", "ol", "h1",
                                         "h2", "h3", "h4", "h5", "h6"};
    for (size_t i = 0; i < sizeof blocks / sizeof blocks[0]; i++) {
        size_t l = strlen(blocks[i]);
        if (strncasecmp(name, blocks[i], l) == 0 && !isalnum((unsigned char)name[l]))
            return 1;
    }
    return 0;
}

/* Removes tags "<b>", "</span>", "<a href=...>", "<br/>" then decodes entities.
 * A '<' not followed by a letter or '/' ("a < b") is text. Decoded '<' is not
 * re-parsed: "&lt;file&gt;" stays as "<file>". */
static void strip_markup(char *s)
{
    char *out = s;
    for (const char *p = s; *p;) {
        if (*p == '<' && (isalpha((unsigned char)p[1]) || (p[1] == '/' && isalpha((unsigned char)p[2])) ||
                          p[1] == '!' || p[1] == '?')) {
            const char *close = strpbrk(p + 1, "<>");
            if (close && *close == '>' && close - p < 400) {
                /* a block tag (<br/>, <p>, <li>) separates words; inline ones do not */
                int block = tag_separates_words(p + 1 + (p[1] == '/'));
                p = close + 1;
                if (block && out > s && out[-1] != ' ')
                    *out++ = ' ';
                continue;
            }
        }
        uint32_t cp;
        size_t l;
        if (*p == '&' && (l = entity_at(p, &cp)) > 0) {
            size_t w = put_utf8(out, cp);
            out += w;   /* every entity is at least as long as its encoding */
            p += l;
            continue;
        }
        *out++ = *p++;
    }
    *out = '\0';
}

/* printf conversion at p (after '%'): returns bytes spanned after the '%', or 0. */
static size_t printf_spec(const char *p)
{
    const char *q = p;
    if (*q == '(') { /* Python %(name)s */
        const char *close = strchr(q, ')');
        if (!close || close - q > 40)
            return 0;
        q = close + 1;
    } else {
        const char *d = q;
        while (isdigit((unsigned char)*d))
            d++;
        if (*d == '$' && d > q)
            q = d + 1;
    }
    while (*q && strchr("-+ #0'I", *q))
        q++;
    if (*q == '*') q++;
    else while (isdigit((unsigned char)*q)) q++;
    if (*q == '.') {
        q++;
        if (*q == '*') q++;
        else while (isdigit((unsigned char)*q)) q++;
    }
    while (*q && strchr("hlLqjzt", *q))
        q++;
    if (*q && strchr("diouxXeEfFgGaAcspnmS", *q))
        return (size_t)(q + 1 - p);
    /* inttypes macros as gettext keeps them: %<PRId64> */
    if (*q == '<') {
        const char *close = strchr(q, '>');
        if (close && close - q < 16)
            return (size_t)(close + 1 - p);
    }
    return 0;
}

/* After a placeholder is cut out of the text at out (input continues at next):
 * "file '%s' missing" leaves "file '' missing", so an emptied pair of quotes goes
 * too; "open %s: failed" leaves "open : failed", so the space before the
 * punctuation goes. Returns the input bytes consumed (a closing quote). */
static size_t tidy_after_removal(const char *start, char **out, const char *next)
{
    static const char *const quotes[][2] = {{"'", "'"}, {"\"", "\""}, {"`", "'"},
                                            {"\xe2\x80\x98", "\xe2\x80\x99"},
                                            {"\xe2\x80\x9c", "\xe2\x80\x9d"},
                                            {"\xe2\x80\x9e", "\xe2\x80\x9d"},
                                            {"\xc2\xab", "\xc2\xbb"}};
    size_t consumed = 0;
    for (size_t i = 0; i < sizeof quotes / sizeof quotes[0]; i++) {
        size_t ol = strlen(quotes[i][0]), cl = strlen(quotes[i][1]);
        if ((size_t)(*out - start) >= ol && memcmp(*out - ol, quotes[i][0], ol) == 0 &&
            strncmp(next, quotes[i][1], cl) == 0) {
            *out -= ol;
            consumed = cl;
            break;
        }
    }
    const char *after = next + consumed;
    if (*out > start && (*out)[-1] == ' ' && *after && strchr(",.:;!?)", *after))
        (*out)--;
    return consumed;
}

/* Removes placeholders; returns the bytes removed, or -1 when the segment holds
 * a Fluent selector ("{ $n -> [one] ... }"), which no cleaning can make plain. */
static long strip_placeholders(char *s)
{
    long removed = 0;
    char *out = s;
    for (const char *p = s; *p;) {
        size_t skip = 0;
        if (*p == '%') {
            if (p[1] == '%') {           /* literal percent sign */
                *out++ = '%';
                p += 2;
                continue;
            }
            if (strncmp(p, "%PRODUCTNAME", 12) == 0) {
                memcpy(out, "LibreOffice", 11); /* shorter than the variable */
                out += 11;
                p += 12;
                continue;
            }
            if (isdigit((unsigned char)p[1]) && !isdigit((unsigned char)p[2]) &&
                !(p[2] == '$')) {
                skip = 2;                /* Qt/LibreOffice %1 */
            } else if (isupper((unsigned char)p[1])) {
                const char *q = p + 1;   /* LibreOffice %FOO, %FOO% */
                while (isupper((unsigned char)*q) || *q == '_' || isdigit((unsigned char)*q))
                    q++;
                if (q - p > 2 && !islower((unsigned char)*q))
                    skip = (size_t)(q - p) + (*q == '%');
            }
            if (!skip) {
                size_t l = printf_spec(p + 1);
                if (l)
                    skip = l + 1;
            }
        } else if (*p == '{') {
            const char *close = strchr(p, '}');
            if (close && close - p < 80) {
                const char *arrow = strstr(p, "->");
                if (arrow && arrow < close)
                    return -1;
                int plain = 1;           /* {0} {name} { $name } { -brand-name } {{x}} */
                for (const char *q = p + 1; q < close; q++)
                    if (!(isalnum((unsigned char)*q) || strchr(" $_.-:{\"", *q)))
                        plain = 0;
                if (plain) {
                    skip = (size_t)(close + 1 - p);
                    if (close[1] == '}')
                        skip++;
                }
            }
        } else if (*p == '$' && isdigit((unsigned char)p[1])) {
            skip = 2;                    /* LibreOffice $1 */
        } else if (*p == '$' && (p[1] == '{' || p[1] == '(')) {
            const char *close = strchr(p, p[1] == '{' ? '}' : ')');
            if (close && close - p < 60)
                skip = (size_t)(close + 1 - p);
        }
        if (skip) {
            removed += (long)skip;
            p += skip;
            p += tidy_after_removal(s, &out, p);
            continue;
        }
        *out++ = *p++;
    }
    *out = '\0';
    return removed;
}

/* Every white-space or control character (ASCII, NBSP, U+2000..U+200A, U+2028/9,
 * U+202F, U+205F, U+3000) becomes one space; zero-width characters vanish; the
 * result has no leading or trailing space. Assumes valid UTF-8. */
static void normalise_space(char *s)
{
    char *out = s;
    int pending = 0;
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    const unsigned char *end = p + n;
    while (p < end) {
        uint32_t cp;
        size_t l = utf8_seq(p, (size_t)(end - p), &cp);
        if (!l) { l = 1; cp = 0xfffd; }
        int space = cp <= 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0xa0) ||
                    (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 || cp == 0x2029 ||
                    cp == 0x202f || cp == 0x205f || cp == 0x3000;
        int zero_width = cp == 0x200b || cp == 0x200c || cp == 0x200d || cp == 0x2060 ||
                         cp == 0xfeff || cp == 0xad;
        if (space) {
            pending = out > s;
        } else if (!zero_width) {
            if (pending)
                *out++ = ' ';
            pending = 0;
            memmove(out, p, l);
            out += l;
        }
        p += l;
    }
    *out = '\0';
}

/* Letters: ASCII letters plus every non-ASCII code point (scripts beyond Latin). */
static int count_letters(const char *s)
{
    int n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (isalpha(*p) || (*p >= 0xc0))
            n++;
    return n;
}

lg_verdict lg_segment_clean(char *s, const lg_segment_rules *rules)
{
    size_t n = strlen(s);
    if (!lg_segment_utf8_valid(s, n))
        return LG_VERDICT_INVALID_UTF8;
    long removed = 0;
    if (rules->clean_flags & LG_CLEAN_ACCELERATORS)
        strip_accelerators(s);
    if (rules->clean_flags & LG_CLEAN_MARKUP)
        strip_markup(s);
    if (rules->clean_flags & LG_CLEAN_PLACEHOLDERS) {
        removed = strip_placeholders(s);
        if (removed < 0) {
            s[0] = '\0';
            return LG_VERDICT_PLACEHOLDERS;
        }
    }
    normalise_space(s);
    if (!s[0])
        return removed > 0 ? LG_VERDICT_PLACEHOLDERS : LG_VERDICT_EMPTY;
    int letters = count_letters(s);
    if (removed > 0 && removed >= letters)
        return LG_VERDICT_PLACEHOLDERS;
    if (letters < rules->min_letters)
        return LG_VERDICT_SHORT;
    return LG_VERDICT_KEPT;
}

lg_verdict lg_pair_check(char *en, char *target, const lg_segment_rules *rules)
{
    lg_verdict v = lg_segment_clean(en, rules);
    lg_verdict w = lg_segment_clean(target, rules);
    if (v == LG_VERDICT_INVALID_UTF8 || w == LG_VERDICT_INVALID_UTF8)
        return LG_VERDICT_INVALID_UTF8;
    if (v != LG_VERDICT_KEPT)
        return v;
    if (w != LG_VERDICT_KEPT)
        return w;
    if (strcasecmp(en, target) == 0)
        return LG_VERDICT_IDENTICAL;
    size_t a = strlen(en), b = strlen(target);
    size_t longer = a > b ? a : b, shorter = a > b ? b : a;
    if (longer >= 40 && (double)longer > rules->max_ratio * (double)shorter)
        return LG_VERDICT_RATIO;
    return LG_VERDICT_KEPT;
}

long lg_segment_words(const char *s)
{
    long n = 0;
    int in_word = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (isspace(*p)) {
            in_word = 0;
        } else if (!in_word) {
            in_word = 1;
            n++;
        }
    }
    return n;
}
