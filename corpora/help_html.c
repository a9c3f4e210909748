/* LibreOffice help HTML: a small tag scanner, enough for the generated pages;
 * not a general HTML parser. */
#include "lg_help_html.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Value of attribute name inside the tag text [tag, end), copied to out. */
static int tag_attr(const char *tag, const char *end, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    for (const char *p = tag; p + nl + 2 < end; p++) {
        if (strncmp(p, name, nl) == 0 && p[nl] == '=' && p[nl + 1] == '"' &&
            (p == tag || isspace((unsigned char)p[-1]))) {
            const char *v = p + nl + 2;
            const char *q = memchr(v, '"', (size_t)(end - v));
            if (!q || (size_t)(q - v) >= cap)
                return 0;
            memcpy(out, v, (size_t)(q - v));
            out[q - v] = '\0';
            return 1;
        }
    }
    return 0;
}

/* Ids that pair across languages: par_id…, hd_id…, and similar "xx_id…". */
static int pairing_id(const char *id)
{
    const char *u = strstr(id, "_id");
    if (!u || u == id || !id[u - id + 3])
        return 0;
    for (const char *p = id; p < u; p++)
        if (!islower((unsigned char)*p))
            return 0;
    return 1;
}

/* Element name of the tag at p (just after '<' or "</"): "p", "h2", "span" ... */
static size_t tag_name(const char *p, const char *end, char *out, size_t cap)
{
    size_t n = 0;
    while (p + n < end && isalnum((unsigned char)p[n]) && n + 1 < cap) {
        out[n] = (char)tolower((unsigned char)p[n]);
        n++;
    }
    out[n] = '\0';
    return n;
}

long lg_help_paragraphs(const char *html, size_t len, lg_help_callback cb, void *ctx)
{
    const char *p = html, *end = html + len;
    long delivered = 0;
    size_t cap = 4096;
    char *text = malloc(cap);
    if (!text)
        return -1;
    while (p < end) {
        const char *lt = memchr(p, '<', (size_t)(end - p));
        if (!lt)
            break;
        const char *gt = memchr(lt, '>', (size_t)(end - lt));
        if (!gt)
            break;
        char name[16], id[128];
        p = gt + 1;
        if (!tag_name(lt + 1, gt, name, sizeof name))
            continue;
        int is_para = strcmp(name, "p") == 0 ||
                      (name[0] == 'h' && name[1] >= '1' && name[1] <= '6' && !name[2]);
        if (!is_para || !tag_attr(lt, gt, "id", id, sizeof id) || !pairing_id(id))
            continue;
        /* Collect the inner text up to the element's closing tag. */
        size_t n = 0;
        int hidden_depth = 0, span_depth = 0;
        const char *q = p;
        while (q < end) {
            if (*q == '<') {
                const char *tgt = memchr(q, '>', (size_t)(end - q));
                if (!tgt)
                    break;
                char inner[16];
                int closing = q + 1 < end && q[1] == '/';
                tag_name(q + 1 + closing, tgt, inner, sizeof inner);
                if (closing && strcmp(inner, name) == 0) {
                    q = tgt + 1;
                    break;
                }
                /* an unclosed <p class="related"> ends where the next paragraph starts */
                if (!closing && (strcmp(inner, "p") == 0 ||
                                 (inner[0] == 'h' && inner[1] >= '1' && inner[1] <= '6' && !inner[2])))
                    break;
                if (strcmp(inner, "span") == 0) {
                    if (closing) {
                        if (hidden_depth && span_depth == hidden_depth)
                            hidden_depth = 0;
                        if (span_depth > 0)
                            span_depth--;
                    } else if (tgt[-1] != '/') {
                        span_depth++;
                        char hidden[16], span_id[128];
                        if (!hidden_depth && tag_attr(q, tgt, "hidden", hidden, sizeof hidden) &&
                            !(tag_attr(q, tgt, "id", span_id, sizeof span_id) &&
                              strncmp(span_id, "default", 7) == 0))
                            hidden_depth = span_depth;
                    }
                } else if (strcmp(inner, "br") == 0 || strcmp(inner, "li") == 0) {
                    if (!hidden_depth && n + 1 < cap)
                        text[n++] = ' ';
                }
                q = tgt + 1;
                continue;
            }
            if (!hidden_depth) {
                if (n + 2 >= cap) {
                    char *grown = realloc(text, cap * 2);
                    if (!grown) {
                        free(text);
                        return -1;
                    }
                    text = grown;
                    cap *= 2;
                }
                char c = *q;
                text[n++] = (c == '\t' || c == '\n' || c == '\r') ? ' ' : c;
            }
            q++;
        }
        text[n] = '\0';
        p = q;
        delivered++;
        if (cb(ctx, id, text))
            break;
    }
    free(text);
    return delivered;
}
