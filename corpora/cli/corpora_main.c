/* corpora — extracts EN↔target pairs and monolingual text from Debian package files
 * and assembles them into a language's corpus (see corpora/README.md and
 * corpora/build.sh, which drive it). */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "lg_corpus_assemble.h"
#include "lg_dictd.h"
#include "lg_error.h"
#include "lg_fluent.h"
#include "lg_help_html.h"
#include "lg_html_text.h"
#include "lg_man_align.h"
#include "lg_manifest.h"
#include "lg_mo.h"
#include "lg_record_writer.h"
#include "lg_text_paragraphs.h"

static const char *const usage =
    "usage: corpora COMMAND [options] ARGS\n"
    "Builds corpora from Debian package files. Extractors write records, one a line:\n"
    "SOURCE.pairs (doc<TAB>english<TAB>target) or SOURCE.mono (doc<TAB>text).\n"
    "\n"
    "  mo -o OUT.pairs [--doc-prefix P] [--list FILE] CATALOG.mo...\n"
    "        gettext catalogs: English msgid, translated msgstr (plurals and contexts)\n"
    "  help -o OUT.pairs EN_ROOT TARGET_ROOT\n"
    "        LibreOffice help pages, paragraphs paired by their ids\n"
    "  mozilla -o OUT.pairs EN_ROOT TARGET_ROOT\n"
    "        Firefox/Thunderbird Fluent (.ftl) and .properties files, messages paired by id\n"
    "  man -o OUT.pairs [--drop-section NAME]... LIST\n"
    "        rendered man pages paired paragraph by paragraph; LIST has lines\n"
    "        doc<TAB>english.txt<TAB>target.txt\n"
    "  text -o OUT.mono [--strip PREFIX] [--list FILE] FILE...\n"
    "        plain text or reStructuredText (gzip too), or HTML (*.html: running text),\n"
    "        one paragraph a record\n"
    "  dictd -o OUT.tsv [--reverse] INDEX DICT.dz\n"
    "        FreeDict dictionary to english<TAB>target lines (--reverse: target→english source)\n"
    "  assemble --lang L --out DIR [--heldout-permille N] [--min-letters N] INPUT...\n"
    "        cleans, filters, deduplicates and splits the records (lg_corpus_assemble.h)\n"
    "  manifest --lang L --dir DIR --sources SOURCES.tsv\n"
    "        writes DIR/MANIFEST.json from the recipe's source table, DIR/counts.json\n"
    "        and DIR/SHA256SUMS\n"
    "\n"
    "Every command takes --help; outputs are written whole or not at all.\n";

/* Adds a copy of name to a growing array; -1 when out of memory. */
static int push_name(char ***names, int *n, const char *name)
{
    char **grown = realloc(*names, (size_t)(*n + 1) * sizeof **names);
    if (!grown)
        return -1;
    *names = grown;
    if (!(grown[*n] = strdup(name)))
        return -1;
    (*n)++;
    return 0;
}

/* Names listed one a line in a file, added to a growing array. */
static int add_list(const char *list, char ***names, int *n, lg_error *err)
{
    FILE *f = fopen(list, "r");
    if (!f)
        return lg_fail(err, "%s: cannot open: %s", list, strerror(errno));
    char line[4096];
    int rc = 0;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        if (line[0] && push_name(names, n, line) < 0)
            rc = lg_fail(err, "%s: out of memory", list);
    }
    fclose(f);
    return rc;
}

static void free_names(char **names, int n)
{
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* Records of one document (mo, text, man). */
typedef struct {
    lg_record_writer *w;
    const char *doc;
} doc_records;

/* mo and text: each of a list of files into records. */
typedef struct {
    const char *name;  /* the command */
    struct option own; /* its one option with a value (--doc-prefix, --strip); "" unless given */
    const char *what;  /* what the files are, for the usage error */
    int (*extract)(lg_record_writer *w, const char *file, const char *own, lg_error *err);
} file_command;

/* -o OUT [--OWN VALUE] [--list FILE] FILE...: every file's records into OUT, whole or none. */
static int records_from_files(int argc, char **argv, const file_command *cmd, lg_error *err)
{
    const struct option opts[] = {{"output", required_argument, 0, 'o'},
                                  cmd->own,
                                  {"list", required_argument, 0, 'l'},
                                  {"help", no_argument, 0, 'h'},
                                  {0, 0, 0, 0}};
    const char shortopts[] = {'o', ':', (char)cmd->own.val, ':', 'l', ':', 'h', '\0'};
    const char *out = NULL, *own = "";
    char **files = NULL;
    int n_files = 0, c, rc = -1;
    while ((c = getopt_long(argc, argv, shortopts, opts, NULL)) != -1) {
        if (c == 'o') {
            out = optarg;
        } else if (c == cmd->own.val) {
            own = optarg;
        } else if (c == 'l') {
            if (add_list(optarg, &files, &n_files, err) < 0)
                goto done;
        } else if (c == 'h') {
            fputs(usage, stdout);
            rc = 0;
            goto done;
        } else {
            lg_fail(err, "%s: bad option (see --help)", cmd->name);
            goto done;
        }
    }
    for (int i = optind; i < argc; i++) {
        if (push_name(&files, &n_files, argv[i]) < 0) {
            lg_fail(err, "out of memory");
            goto done;
        }
    }
    if (!out || n_files == 0) {
        lg_fail(err, "%s: need -o OUT and at least one %s", cmd->name, cmd->what);
        goto done;
    }
    lg_record_writer w;
    if (lg_record_open(&w, out, err) < 0)
        goto done;
    for (int i = 0; i < n_files; i++) {
        if (cmd->extract(&w, files[i], own, err) < 0) {
            lg_record_abort(&w);
            goto done;
        }
    }
    rc = lg_record_commit(&w, err);
done:
    free_names(files, n_files);
    return rc;
}

/* ---- mo ---- */

static int mo_message(void *ctx, const lg_mo_message *msg)
{
    doc_records *m = ctx;
    const char *rec[3] = {m->doc, msg->msgid, msg->msgstr[0]};
    if (msg->msgstr[0][0])
        lg_record_put(m->w, 3, rec);
    if (msg->msgid_plural && msg->n_msgstr > 1 && msg->msgstr[1][0] &&
        strcmp(msg->msgstr[1], msg->msgstr[0]) != 0) {
        rec[1] = msg->msgid_plural;
        rec[2] = msg->msgstr[1];
        lg_record_put(m->w, 3, rec);
    }
    return 0;
}

/* A catalog's messages; the document: prefix and the catalog's file name. */
static int extract_mo(lg_record_writer *w, const char *file, const char *prefix, lg_error *err)
{
    const char *base = strrchr(file, '/');
    base = base ? base + 1 : file;
    char doc[512];
    snprintf(doc, sizeof doc, "%s%s", prefix, base);
    doc_records m = {w, doc};
    return lg_mo_each(file, mo_message, &m, err);
}

static int cmd_mo(int argc, char **argv, lg_error *err)
{
    static const file_command mo = {"mo", {"doc-prefix", required_argument, 0, 'p'}, "catalog",
                                    extract_mo};
    return records_from_files(argc, argv, &mo, err);
}

/* ---- help ---- */

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

static char *slurp(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    struct stat st;
    char *data = NULL;
    if (fstat(fileno(f), &st) == 0 && (data = malloc((size_t)st.st_size + 1)) != NULL) {
        *size = fread(data, 1, (size_t)st.st_size, f);
        data[*size] = '\0';
    }
    fclose(f);
    return data;
}

/* Reads one file of a pair into id → text entries. */
typedef int (*keyed_parser)(const char *path, paragraph_list *out, lg_error *err);

static int parse_help_page(const char *path, paragraph_list *out, lg_error *err)
{
    size_t size;
    char *html = slurp(path, &size);
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

/* help and mozilla: files of the same relative path in two trees, entries paired by id. */
static int paired_trees(int argc, char **argv, const char *command, const char *const *suffixes,
                        keyed_parser parse, lg_error *err)
{
    static const struct option opts[] = {{"output", required_argument, 0, 'o'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *out = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 'h': fputs(usage, stdout); return 0;
        default: return lg_fail(err, "%s: bad option (see --help)", command);
        }
    }
    if (!out || argc - optind != 2)
        return lg_fail(err, "%s: need -o OUT EN_ROOT TARGET_ROOT", command);
    lg_record_writer w;
    if (lg_record_open(&w, out, err) < 0)
        return -1;
    help_walk h = {.en_root = argv[optind], .target_root = argv[optind + 1], .w = &w,
                   .suffixes = suffixes, .parse = parse};
    int rc = help_walk_dir(&h, "", err);
    paragraph_list_clear(&h.en);
    paragraph_list_clear(&h.target);
    free(h.en.ids); free(h.en.texts); free(h.target.ids); free(h.target.texts);
    if (rc == 0 && h.pages == 0)
        rc = lg_fail(err, "%s: no file has a counterpart in %s", h.en_root, h.target_root);
    if (rc < 0) {
        lg_record_abort(&w);
        return -1;
    }
    fprintf(stderr, "corpora %s: %ld files paired, %ld without a translation, %ld entries\n",
            command, h.pages, h.pages_missing, w.records);
    return lg_record_commit(&w, err);
}

static int cmd_help(int argc, char **argv, lg_error *err)
{
    static const char *const suffixes[] = {".html", NULL};
    return paired_trees(argc, argv, "help", suffixes, parse_help_page, err);
}

static int cmd_mozilla(int argc, char **argv, lg_error *err)
{
    static const char *const suffixes[] = {".ftl", ".properties", NULL};
    return paired_trees(argc, argv, "mozilla", suffixes, parse_mozilla, err);
}

/* ---- text ---- */

static int text_paragraph(void *ctx, const char *text)
{
    doc_records *t = ctx;
    const char *rec[2] = {t->doc, text};
    lg_record_put(t->w, 2, rec);
    return 0;
}

static int html_file_paragraphs(const char *path, lg_paragraph_callback cb, void *ctx, lg_error *err)
{
    size_t size;
    char *html = slurp(path, &size);
    if (!html)
        return lg_fail(err, "%s: cannot read: %s", path, strerror(errno));
    long n = lg_html_paragraphs(html, size, cb, ctx);
    free(html);
    return n < 0 ? lg_fail(err, "%s: out of memory", path) : 0;
}

/* A file's paragraphs; the document: the file's name without the --strip prefix. */
static int extract_text(lg_record_writer *w, const char *file, const char *strip, lg_error *err)
{
    size_t strip_len = strlen(strip), l = strlen(file);
    const char *doc = file;
    if (strip_len && strncmp(doc, strip, strip_len) == 0)
        doc += strip_len;
    doc_records t = {w, doc};
    int html = (l > 5 && strcmp(file + l - 5, ".html") == 0) ||
               (l > 4 && strcmp(file + l - 4, ".htm") == 0);
    return html ? html_file_paragraphs(file, text_paragraph, &t, err)
                : lg_text_paragraphs(file, text_paragraph, &t, err);
}

static int cmd_text(int argc, char **argv, lg_error *err)
{
    static const file_command text = {"text", {"strip", required_argument, 0, 's'}, "file",
                                      extract_text};
    return records_from_files(argc, argv, &text, err);
}

/* ---- man ---- */

static int man_pair(void *ctx, const char *en, const char *target)
{
    doc_records *m = ctx;
    const char *rec[3] = {m->doc, en, target};
    lg_record_put(m->w, 3, rec);
    return 0;
}

static int cmd_man(int argc, char **argv, lg_error *err)
{
    static const struct option opts[] = {{"output", required_argument, 0, 'o'},
                                         {"drop-section", required_argument, 0, 'd'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *out = NULL;
    const char *drop[32];
    int n_drop = 0, c;
    while ((c = getopt_long(argc, argv, "o:d:h", opts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 'd':
            if (n_drop < 31)
                drop[n_drop++] = optarg;
            break;
        case 'h': fputs(usage, stdout); return 0;
        default: return lg_fail(err, "man: bad option (see --help)");
        }
    }
    drop[n_drop] = NULL;
    if (!out || argc - optind != 1)
        return lg_fail(err, "man: need -o OUT LIST");
    FILE *list = fopen(argv[optind], "r");
    if (!list)
        return lg_fail(err, "%s: cannot open: %s", argv[optind], strerror(errno));
    lg_record_writer w;
    if (lg_record_open(&w, out, err) < 0) {
        fclose(list);
        return -1;
    }
    char line[8192];
    long pages = 0, aligned = 0;
    int rc = 0;
    while (rc == 0 && fgets(line, sizeof line, list)) {
        line[strcspn(line, "\n")] = '\0';
        char *en = strchr(line, '\t');
        char *target = en ? strchr(en + 1, '\t') : NULL;
        if (!target)
            continue;
        *en++ = '\0';
        *target++ = '\0';
        size_t en_size, target_size;
        char *en_text = slurp(en, &en_size), *target_text = slurp(target, &target_size);
        if (en_text && target_text) {
            doc_records m = {&w, line};
            long n = lg_man_align(en_text, target_text, drop, man_pair, &m);
            pages++;
            aligned += n > 0;
        } else {
            rc = lg_fail(err, "%s: cannot read rendered page", en_text ? target : en);
        }
        free(en_text);
        free(target_text);
    }
    fclose(list);
    if (rc < 0) {
        lg_record_abort(&w);
        return -1;
    }
    fprintf(stderr, "corpora man: %ld page pairs, %ld aligned, %ld paragraph pairs\n", pages,
            aligned, w.records);
    return lg_record_commit(&w, err);
}

/* ---- dictd ---- */

static int cmd_dictd(int argc, char **argv, lg_error *err)
{
    static const struct option opts[] = {{"output", required_argument, 0, 'o'},
                                         {"reverse", no_argument, 0, 'r'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *out = NULL;
    int reverse = 0, c;
    while ((c = getopt_long(argc, argv, "o:rh", opts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 'r': reverse = 1; break;
        case 'h': fputs(usage, stdout); return 0;
        default: return lg_fail(err, "dictd: bad option (see --help)");
        }
    }
    if (!out || argc - optind != 2)
        return lg_fail(err, "dictd: need -o OUT INDEX DICT.dz");
    lg_atomic_file af;
    if (lg_atomic_open(&af, out, err) < 0)
        return -1;
    long n = lg_dictd_pairs(argv[optind], argv[optind + 1], reverse, af.fp, err);
    if (n < 0) {
        lg_atomic_abort(&af);
        return -1;
    }
    fprintf(stderr, "corpora dictd: %ld translation pairs\n", n);
    return lg_atomic_commit(&af, err);
}

/* ---- assemble ---- */

static int cmd_assemble(int argc, char **argv, lg_error *err)
{
    static const struct option opts[] = {{"lang", required_argument, 0, 'L'},
                                         {"out", required_argument, 0, 'o'},
                                         {"heldout-permille", required_argument, 0, 'k'},
                                         {"min-letters", required_argument, 0, 'm'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    lg_assemble_options opt = {.heldout_permille = 20, .rules = lg_segment_default_rules()};
    int c;
    while ((c = getopt_long(argc, argv, "L:o:k:m:h", opts, NULL)) != -1) {
        switch (c) {
        case 'L': opt.lang = optarg; break;
        case 'o': opt.out_dir = optarg; break;
        case 'k': opt.heldout_permille = atoi(optarg); break;
        case 'm': opt.rules.min_letters = atoi(optarg); break;
        case 'h': fputs(usage, stdout); return 0;
        default: return lg_fail(err, "assemble: bad option (see --help)");
        }
    }
    if (!opt.lang || !opt.out_dir || optind >= argc)
        return lg_fail(err, "assemble: need --lang, --out and at least one input");
    if (opt.heldout_permille < 0 || opt.heldout_permille > 1000)
        return lg_fail(err, "assemble: --heldout-permille must lie in 0..1000");
    opt.inputs = (const char *const *)(argv + optind);
    opt.n_inputs = argc - optind;
    return lg_corpus_assemble(&opt, err);
}

/* ---- manifest ---- */

static int cmd_manifest(int argc, char **argv, lg_error *err)
{
    static const struct option opts[] = {{"lang", required_argument, 0, 'L'},
                                         {"dir", required_argument, 0, 'd'},
                                         {"sources", required_argument, 0, 's'},
                                         {"seconds", required_argument, 0, 't'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *lang = NULL, *dir = NULL, *sources = NULL;
    double seconds = -1;
    int c;
    while ((c = getopt_long(argc, argv, "L:d:s:t:h", opts, NULL)) != -1) {
        switch (c) {
        case 'L': lang = optarg; break;
        case 'd': dir = optarg; break;
        case 's': sources = optarg; break;
        case 't': seconds = atof(optarg); break;
        case 'h': fputs(usage, stdout); return 0;
        default: return lg_fail(err, "manifest: bad option (see --help)");
        }
    }
    if (!lang || !dir || !sources)
        return lg_fail(err, "manifest: need --lang, --dir and --sources");
    return lg_manifest_write(lang, dir, sources, seconds, err);
}

int main(int argc, char **argv)
{
    lg_error err = {{0}};
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2;
    }
    static const struct {
        const char *name;
        int (*run)(int, char **, lg_error *);
    } commands[] = {{"mo", cmd_mo},       {"help", cmd_help},         {"text", cmd_text},
                    {"mozilla", cmd_mozilla},
                    {"man", cmd_man},     {"dictd", cmd_dictd},       {"assemble", cmd_assemble},
                    {"manifest", cmd_manifest}};
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (strcmp(argv[1], commands[i].name) == 0) {
            if (commands[i].run(argc - 1, argv + 1, &err) < 0) {
                lg_error_print("corpora", &err);
                return 1;
            }
            return 0;
        }
    }
    err.msg[0] = '\0';
    lg_fail(&err, "unknown command '%s' (see --help)", argv[1]);
    lg_error_print("corpora", &err);
    return 1;
}
