/* Man page alignment by structure: section, then paragraph within a section. */
#include "lg_man_align.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct {
    char *heading;
    char **paras;
    int n_paras;
} section;

typedef struct {
    section *sections;
    int n;
} page;

static void page_free(page *p)
{
    for (int i = 0; i < p->n; i++) {
        for (int j = 0; j < p->sections[i].n_paras; j++)
            free(p->sections[i].paras[j]);
        free(p->sections[i].paras);
    }
    free(p->sections);
}

static int dropped(const char *heading, const char *const *drop)
{
    for (int i = 0; drop && drop[i]; i++)
        if (strcasecmp(heading, drop[i]) == 0)
            return 1;
    return 0;
}

/* Appends a line's text (indentation removed) to the paragraph being built. */
static int grow_paragraph(char **para, const char *line)
{
    while (*line == ' ')
        line++;
    size_t old = *para ? strlen(*para) : 0, l = strlen(line);
    char *grown = realloc(*para, old + l + 2);
    if (!grown)
        return -1;
    if (old)
        grown[old++] = ' ';
    memcpy(grown + old, line, l + 1);
    *para = grown;
    return 0;
}

static int add_paragraph(section *s, char **para)
{
    if (!*para)
        return 0;
    char **grown = realloc(s->paras, (size_t)(s->n_paras + 1) * sizeof *grown);
    if (!grown)
        return -1;
    s->paras = grown;
    s->paras[s->n_paras++] = *para;
    *para = NULL;
    return 0;
}

/* Splits rendered text into sections; the first and last non-blank lines are the
 * page header and footer. */
static int parse_page(char *text, page *p)
{
    memset(p, 0, sizeof *p);
    char **lines = NULL;
    int n_lines = 0;
    for (char *l = text; l && *l;) {
        char *nl = strchr(l, '\n');
        if (nl)
            *nl = '\0';
        char **grown = realloc(lines, (size_t)(n_lines + 1) * sizeof *lines);
        if (!grown) {
            free(lines);
            return -1;
        }
        lines = grown;
        lines[n_lines++] = l;
        l = nl ? nl + 1 : NULL;
    }
    /* Header and footer: the first and last lines with text. */
    int first = 0, last = n_lines - 1;
    while (first < n_lines && !lines[first][strspn(lines[first], " ")])
        first++;
    while (last > first && !lines[last][strspn(lines[last], " ")])
        last--;
    char *para = NULL;
    section *cur = NULL;
    for (int i = first + 1; i < last; i++) {
        char *l = lines[i];
        size_t len = strlen(l);
        while (len && isspace((unsigned char)l[len - 1]))
            l[--len] = '\0';
        if (!len) {
            if (cur && add_paragraph(cur, &para) < 0)
                goto oom;
            continue;
        }
        if (l[0] != ' ') {
            if (cur && add_paragraph(cur, &para) < 0)
                goto oom;
            section *grown = realloc(p->sections, (size_t)(p->n + 1) * sizeof *grown);
            if (!grown)
                goto oom;
            p->sections = grown;
            cur = &p->sections[p->n++];
            memset(cur, 0, sizeof *cur);
            cur->heading = l;
            continue;
        }
        if (cur && grow_paragraph(&para, l) < 0)
            goto oom;
    }
    if (cur && add_paragraph(cur, &para) < 0)
        goto oom;
    free(para);
    free(lines);
    return 0;
oom:
    free(para);
    free(lines);
    page_free(p);
    return -1;
}

/* Removes dropped sections in place. */
static void cut_sections(page *p, const char *const *drop)
{
    int kept = 0;
    for (int i = 0; i < p->n; i++) {
        if (dropped(p->sections[i].heading, drop)) {
            for (int j = 0; j < p->sections[i].n_paras; j++)
                free(p->sections[i].paras[j]);
            free(p->sections[i].paras);
        } else {
            p->sections[kept++] = p->sections[i];
        }
    }
    p->n = kept;
}

long lg_man_align(char *en, char *target, const char *const *drop, lg_man_pair_callback cb,
                  void *ctx)
{
    page a, b;
    if (parse_page(en, &a) < 0)
        return -1;
    if (parse_page(target, &b) < 0) {
        page_free(&a);
        return -1;
    }
    cut_sections(&a, drop);
    cut_sections(&b, drop);
    long pairs = 0;
    if (a.n == b.n) {
        for (int i = 0; i < a.n; i++) {
            if (a.sections[i].n_paras != b.sections[i].n_paras)
                continue;
            for (int j = 0; j < a.sections[i].n_paras; j++) {
                pairs++;
                if (cb(ctx, a.sections[i].paras[j], b.sections[i].paras[j]))
                    goto done;
            }
        }
    }
done:
    page_free(&a);
    page_free(&b);
    return pairs;
}
