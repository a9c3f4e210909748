/* Running text of generic HTML pages: a tag scanner that knows which elements
 * break paragraphs and which hold no prose. */
#include "lg_html_text.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int name_in(const char *name, const char *const *list)
{
    for (int i = 0; list[i]; i++)
        if (strcmp(name, list[i]) == 0)
            return 1;
    return 0;
}

/* Flushes the paragraph in buf[0..*n) if it has any non-space character. */
static int flush(char *buf, size_t *n, lg_html_paragraph_callback cb, void *ctx, long *count)
{
    int stop = 0;
    buf[*n] = '\0';
    for (size_t i = 0; i < *n; i++) {
        if (!isspace((unsigned char)buf[i])) {
            (*count)++;
            stop = cb(ctx, buf);
            break;
        }
    }
    *n = 0;
    return stop;
}

long lg_html_paragraphs(const char *html, size_t len, lg_html_paragraph_callback cb, void *ctx)
{
    static const char *const blocks[] = {"p", "div", "li", "td", "th", "tr", "table", "ul", "ol",
                                         "dl", "dt", "dd", "h1", "h2", "h3", "h4", "h5", "h6",
                                         "blockquote", "br", "hr", "body", "section", "figure",
                                         "caption", "title", NULL};
    static const char *const hidden[] = {"head", "script", "style", "pre", NULL};
    size_t cap = 8192, n = 0;
    char *buf = malloc(cap);
    if (!buf)
        return -1;
    long count = 0;
    int stop = 0;
    char skipping[16] = ""; /* the element whose contents are being left out */
    const char *p = html, *end = html + len;
    while (p < end && !stop) {
        if (*p == '<') {
            const char *gt = memchr(p, '>', (size_t)(end - p));
            if (!gt)
                break;
            if (p + 3 < end && strncmp(p, "<!--", 4) == 0) {  /* comment */
                const char *close = p + 4;
                while (close + 2 < end && strncmp(close, "-->", 3) != 0)
                    close++;
                p = close + 3;
                continue;
            }
            int closing = p[1] == '/';
            char name[16];
            size_t l = 0;
            for (const char *q = p + 1 + closing; q < gt && isalnum((unsigned char)*q) && l + 1 < sizeof name; q++)
                name[l++] = (char)tolower((unsigned char)*q);
            name[l] = '\0';
            p = gt + 1;
            if (skipping[0]) {
                if (closing && strcmp(name, skipping) == 0)
                    skipping[0] = '\0';
                continue;
            }
            if (!closing && name_in(name, hidden) && gt[-1] != '/') {
                stop = flush(buf, &n, cb, ctx, &count);
                memcpy(skipping, name, l + 1);
                continue;
            }
            if (name_in(name, blocks))
                stop = flush(buf, &n, cb, ctx, &count);
            continue;
        }
        if (!skipping[0]) {
            if (n + 2 >= cap) {
                char *grown = realloc(buf, cap * 2);
                if (!grown) {
                    free(buf);
                    return -1;
                }
                buf = grown;
                cap *= 2;
            }
            char c = *p;
            buf[n++] = (c == '\t' || c == '\n' || c == '\r') ? ' ' : c;
        }
        p++;
    }
    if (!stop)
        flush(buf, &n, cb, ctx, &count);
    free(buf);
    return count;
}
