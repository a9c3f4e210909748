/* `corpora mo` and `corpora text`: each of a list of files into records, one output. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corpora_cmds.h"
#include "lg_html_text.h"
#include "lg_mo.h"
#include "lg_text_paragraphs.h"

typedef int (*extract_fn)(lg_record_writer *w, const char *file, const char *own, lg_error *err);

/* -o OUT [--OWN VALUE] [--list FILE]... FILE...: every file's records into OUT, whole or
 * none. own is the row of the command's own option (--doc-prefix, --strip). */
static int records_from_files(lg_cli *c, int argc, char **argv, const char **out,
                              lg_cli_list *lists, lg_cli_list *files, const char **own,
                              extract_fn extract)
{
    int rc = lg_cli_parse(c, argc, argv);
    if (rc != LG_CLI_RUN)
        return rc;
    lg_error err;
    cor_names names = {0};
    rc = 0;
    for (int i = 0; rc == 0 && i < lists->n; i++)
        if (cor_names_add_list(&names, lists->v[i], &err) < 0)
            rc = -1;
    for (int i = 0; rc == 0 && i < files->n; i++)
        if (cor_names_add(&names, files->v[i]) < 0)
            rc = lg_fail(&err, "out of memory");
    if (rc < 0) {
        cor_names_free(&names);
        return lg_cli_finish(c, lg_cli_fail(c, &err));
    }
    if (names.n == 0) {
        cor_names_free(&names);
        return lg_cli_finish(c, lg_cli_usage(c, "no input: give files or --list"));
    }
    if ((rc = cor_check_output_against(c, *out, (const char *const *)names.v, names.n)) != 0) {
        cor_names_free(&names);
        return lg_cli_finish(c, rc);
    }
    cor_records r;
    if (cor_records_open(&r, *out, &err) < 0)
        rc = -1;
    for (int i = 0; rc == 0 && i < names.n; i++)
        if (extract(&r.w, names.v[i], *own ? *own : "", &err) < 0)
            rc = -1;
    if (rc == 0)
        rc = cor_records_commit(&r, &err);
    else
        cor_records_abort(&r);
    cor_names_free(&names);
    return lg_cli_finish(c, rc < 0 ? lg_cli_fail(c, &err) : 0);
}

/* ---- mo ---- */

static int mo_message(void *ctx, const lg_mo_message *msg)
{
    cor_doc_records *m = ctx;
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
    cor_doc_records m = {w, doc};
    return lg_mo_each(file, mo_message, &m, err);
}

int cor_cmd_mo(int argc, char **argv)
{
    const char *out = NULL, *prefix = NULL;
    lg_cli_list lists = {0}, files = {0};
    lg_opt opts[] = {
        {LG_OUTPUT(&out), .name = "output", .short_name = 'o',
         .flags = LG_OPT_REQUIRED | LG_OPT_STDIO, .arg = "OUT.pairs",
         .help = "the records (- is standard output)"},
        {LG_STRING(&prefix), .name = "doc-prefix", .arg = "P",
         .help = "put before each catalog's file name (the document)"},
        {.type = LG_OPT_INPUT, .dest = &lists, .name = "list", .flags = LG_OPT_REPEAT,
         .arg = "FILE", .help = "more catalogs, named one a line (repeatable)"},
        {LG_INPUTS(&files), .name = "CATALOG.mo", .help = "gettext catalogs"},
        {0}};
    lg_cli c = {.prog = "corpora", .name = "mo", .opts = opts,
                .usage = "-o OUT.pairs [--doc-prefix P] [--list FILE] CATALOG.mo...",
                .about = "gettext catalogs to doc<TAB>english<TAB>target records: the English\n"
                         "msgid and the translated msgstr, contexts and plurals included."};
    return records_from_files(&c, argc, argv, &out, &lists, &files, &prefix, extract_mo);
}

/* ---- text ---- */

static int text_paragraph(void *ctx, const char *text)
{
    cor_doc_records *t = ctx;
    const char *rec[2] = {t->doc, text};
    lg_record_put(t->w, 2, rec);
    return 0;
}

static int html_file_paragraphs(const char *path, lg_paragraph_callback cb, void *ctx,
                                lg_error *err)
{
    size_t size;
    char *html = cor_slurp(path, &size);
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
    cor_doc_records t = {w, doc};
    int html = (l > 5 && strcmp(file + l - 5, ".html") == 0) ||
               (l > 4 && strcmp(file + l - 4, ".htm") == 0);
    return html ? html_file_paragraphs(file, text_paragraph, &t, err)
                : lg_text_paragraphs(file, text_paragraph, &t, err);
}

int cor_cmd_text(int argc, char **argv)
{
    const char *out = NULL, *strip = NULL;
    lg_cli_list lists = {0}, files = {0};
    lg_opt opts[] = {
        {LG_OUTPUT(&out), .name = "output", .short_name = 'o',
         .flags = LG_OPT_REQUIRED | LG_OPT_STDIO, .arg = "OUT.mono",
         .help = "the records (- is standard output)"},
        {LG_STRING(&strip), .name = "strip", .arg = "PREFIX",
         .help = "cut from the front of each file's name (the document)"},
        {.type = LG_OPT_INPUT, .dest = &lists, .name = "list", .flags = LG_OPT_REPEAT,
         .arg = "FILE", .help = "more files, named one a line (repeatable)"},
        {LG_INPUTS(&files), .name = "FILE", .help = "text, reStructuredText (gzip too) or HTML"},
        {0}};
    lg_cli c = {.prog = "corpora", .name = "text", .opts = opts,
                .usage = "-o OUT.mono [--strip PREFIX] [--list FILE] FILE...",
                .about = "Plain text or reStructuredText (gzip too), or HTML (*.html, *.htm: its\n"
                         "running text), to doc<TAB>text records, one paragraph a record."};
    return records_from_files(&c, argc, argv, &out, &lists, &files, &strip, extract_text);
}
