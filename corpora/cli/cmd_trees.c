/* `corpora help` and `corpora mozilla`: files of the same relative path in an English and
 * a translated tree, their entries paired by id. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "corpora_cmds.h"
#include "lg_fluent.h"
#include "lg_help_html.h"

typedef struct {
    char **ids, **texts;
    int n, cap;
} paragraph_list;

static int collect_paragraph(void *ctx, const char *id, const char *text)
{
    paragraph_list *l = ctx;
    if (l->n == l->cap) {
        int cap = l->cap ? l->cap * 2 : 256;
        char **ids = realloc(l->ids, (size_t)cap * sizeof *ids);
        if (ids)
            l->ids = ids;
        char **texts = realloc(l->texts, (size_t)cap * sizeof *texts);
        if (texts)
            l->texts = texts;
        if (!ids || !texts)
            return 1;
        l->cap = cap;
    }
    l->ids[l->n] = strdup(id);
    l->texts[l->n] = strdup(text);
    l->n++;
    return 0;
}

static void paragraph_list_clear(paragraph_list *l)
{
    for (int i = 0; i < l->n; i++) {
        free(l->ids[i]);
        free(l->texts[i]);
    }
    l->n = 0;
}

/* Reads one file of a pair into id → text entries. */
typedef int (*keyed_parser)(const char *path, paragraph_list *out, lg_error *err);

static int parse_help_page(const char *path, paragraph_list *out, lg_error *err)
{
    size_t size;
    char *html = cor_slurp(path, &size);
    if (!html)
        return lg_fail(err, "%s: cannot read: %s", path, strerror(errno));
    long n = lg_help_paragraphs(html, size, collect_paragraph, out);
    free(html);
    return n < 0 ? lg_fail(err, "%s: out of memory", path) : 0;
}

static int parse_mozilla(const char *path, paragraph_list *out, lg_error *err)
{
    size_t l = strlen(path);
    if (l > 4 && strcmp(path + l - 4, ".ftl") == 0)
        return lg_fluent_each(path, collect_paragraph, out, err) < 0 ? -1 : 0;
    return lg_properties_each(path, collect_paragraph, out, err) < 0 ? -1 : 0;
}

typedef struct {
    const char *en_root, *target_root;
    const char *const *suffixes; /* files taken from the English tree */
    keyed_parser parse;
    lg_record_writer *w;
    paragraph_list en, target;
    long pages, pages_missing;
} help_walk;

static int has_suffix(const char *name, const char *const *suffixes)
{
    size_t l = strlen(name);
    for (int i = 0; suffixes[i]; i++) {
        size_t s = strlen(suffixes[i]);
        if (l > s && strcmp(name + l - s, suffixes[i]) == 0)
            return 1;
    }
    return 0;
}

static int help_page(help_walk *h, const char *rel, lg_error *err)
{
    char en_path[4096], target_path[4096];
    if (snprintf(en_path, sizeof en_path, "%s/%s", h->en_root, rel) >= (int)sizeof en_path ||
        snprintf(target_path, sizeof target_path, "%s/%s", h->target_root, rel) >=
            (int)sizeof target_path)
        return lg_fail(err, "%s/%s: path too long", h->en_root, rel);
    struct stat st;
    if (stat(target_path, &st) != 0) {
        h->pages_missing++;
        return 0;
    }
    paragraph_list_clear(&h->en);
    paragraph_list_clear(&h->target);
    if (h->parse(en_path, &h->en, err) < 0 || h->parse(target_path, &h->target, err) < 0)
        return -1;
    h->pages++;
    for (int i = 0; i < h->en.n; i++) {
        for (int j = 0; j < h->target.n; j++) {
            if (strcmp(h->en.ids[i], h->target.ids[j]) == 0) {
                const char *rec[3] = {rel, h->en.texts[i], h->target.texts[j]};
                lg_record_put(h->w, 3, rec);
                break;
            }
        }
    }
    return 0;
}

/* Walks dir (relative to en_root) in sorted order so the output is reproducible. */
static int help_walk_dir(help_walk *h, const char *rel, lg_error *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s%s%s", h->en_root, rel[0] ? "/" : "", rel);
    struct dirent **entries;
    int n = scandir(path, &entries, NULL, alphasort);
    if (n < 0)
        return lg_fail(err, "%s: cannot list: %s", path, strerror(errno));
    int rc = 0;
    for (int i = 0; i < n; i++) {
        const char *name = entries[i]->d_name;
        if (rc == 0 && name[0] != '.') {
            char child[4096], full[8192];
            snprintf(child, sizeof child, "%s%s%s", rel, rel[0] ? "/" : "", name);
            snprintf(full, sizeof full, "%s/%s", h->en_root, child);
            struct stat st;
            if (stat(full, &st) == 0 && S_ISDIR(st.st_mode))
                rc = help_walk_dir(h, child, err);
            else if (has_suffix(name, h->suffixes))
                rc = help_page(h, child, err);
        }
        free(entries[i]);
    }
    free(entries);
    return rc;
}

static int paired_trees(int argc, char **argv, const char *command, const char *about,
                        const char *const *suffixes, keyed_parser parse)
{
    const char *out = NULL, *en_root = NULL, *target_root = NULL;
    lg_opt opts[] = {
        {LG_OUTPUT(&out), .name = "output", .short_name = 'o',
         .flags = LG_OPT_REQUIRED | LG_OPT_STDIO, .arg = "OUT.pairs",
         .help = "the records (- is standard output)"},
        {LG_INPUT(&en_root), .name = "EN_ROOT", .flags = LG_OPT_POSITIONAL | LG_OPT_REQUIRED,
         .help = "the English tree"},
        {LG_INPUT(&target_root), .name = "TARGET_ROOT",
         .flags = LG_OPT_POSITIONAL | LG_OPT_REQUIRED, .help = "the translated tree"},
        {0}};
    lg_cli c = {.prog = "corpora", .name = command, .opts = opts, .about = about};
    int rc = lg_cli_parse(&c, argc, argv);
    if (rc != LG_CLI_RUN)
        return rc;
    lg_error err;
    cor_records r;
    if (cor_records_open(&r, out, &err) < 0)
        return lg_cli_finish(&c, lg_cli_fail(&c, &err));
    help_walk h = {.en_root = en_root, .target_root = target_root, .w = &r.w,
                   .suffixes = suffixes, .parse = parse};
    rc = help_walk_dir(&h, "", &err);
    paragraph_list_clear(&h.en);
    paragraph_list_clear(&h.target);
    free(h.en.ids);
    free(h.en.texts);
    free(h.target.ids);
    free(h.target.texts);
    if (rc == 0 && h.pages == 0)
        rc = lg_fail(&err, "%s: no file has a counterpart in %s", h.en_root, h.target_root);
    if (rc < 0) {
        cor_records_abort(&r);
        return lg_cli_finish(&c, lg_cli_fail(&c, &err));
    }
    fprintf(stderr, "corpora %s: %ld files paired, %ld without a translation, %ld entries\n",
            command, h.pages, h.pages_missing, r.w.records);
    rc = cor_records_commit(&r, &err);
    return lg_cli_finish(&c, rc < 0 ? lg_cli_fail(&c, &err) : 0);
}

int cor_cmd_help(int argc, char **argv)
{
    static const char *const suffixes[] = {".html", NULL};
    return paired_trees(argc, argv, "help",
                        "LibreOffice help pages (*.html) of the same path in both trees, their\n"
                        "paragraphs paired by id (par_id, hd_id): doc<TAB>english<TAB>target\n"
                        "records.",
                        suffixes, parse_help_page);
}

int cor_cmd_mozilla(int argc, char **argv)
{
    static const char *const suffixes[] = {".ftl", ".properties", NULL};
    return paired_trees(argc, argv, "mozilla",
                        "Firefox/Thunderbird Fluent (.ftl) and .properties files of the same path\n"
                        "in both trees, their messages paired by id: doc<TAB>english<TAB>target\n"
                        "records.",
                        suffixes, parse_mozilla);
}
