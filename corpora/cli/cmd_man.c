/* `corpora man`: rendered man pages paired paragraph by paragraph. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corpora_cmds.h"
#include "lg_io.h"
#include "lg_man_align.h"

enum { MAX_DROPS = 31 };

static int man_pair(void *ctx, const char *en, const char *target)
{
    cor_doc_records *m = ctx;
    const char *rec[3] = {m->doc, en, target};
    lg_record_put(m->w, 3, rec);
    return 0;
}

/* One line of LIST, split in place: doc, english.txt, target.txt; 0 when it has fewer
 * than three fields (skipped). */
static int split_line(char *line, char **en, char **target)
{
    line[strcspn(line, "\n")] = '\0';
    *en = strchr(line, '\t');
    *target = *en ? strchr(*en + 1, '\t') : NULL;
    if (!*target)
        return 0;
    *(*en)++ = '\0';
    *(*target)++ = '\0';
    return 1;
}

int cor_cmd_man(int argc, char **argv)
{
    const char *out = NULL, *list_path = NULL;
    lg_cli_list drops = {0};
    lg_opt opts[] = {
        {LG_OUTPUT(&out), .name = "output", .short_name = 'o',
         .flags = LG_OPT_REQUIRED | LG_OPT_STDIO, .arg = "OUT.pairs",
         .help = "the records (- is standard output)"},
        {LG_STRINGS(&drops), .name = "drop-section", .arg = "NAME",
         .help = "leave out the section of this heading (repeatable,\nup to 31)"},
        {LG_INPUT(&list_path), .name = "LIST", .flags = LG_OPT_POSITIONAL | LG_OPT_REQUIRED,
         .help = "lines doc<TAB>english.txt<TAB>target.txt"},
        {0}};
    lg_cli c = {.prog = "corpora", .name = "man", .opts = opts,
                .about = "Rendered man pages (plain text) paired section by section and paragraph\n"
                         "by paragraph: doc<TAB>english<TAB>target records."};
    int rc = lg_cli_parse(&c, argc, argv);
    if (rc != LG_CLI_RUN)
        return rc;
    if (drops.n > MAX_DROPS)
        return lg_cli_finish(&c, lg_cli_usage(&c, "--drop-section: at most %d", MAX_DROPS));
    const char *drop[MAX_DROPS + 1];
    for (int i = 0; i < drops.n; i++)
        drop[i] = drops.v[i];
    drop[drops.n] = NULL;
    lg_error err;
    size_t size;
    char *list = lg_read_file(list_path, (size_t)1 << 30, &size, &err);
    if (!list)
        return lg_cli_finish(&c, lg_cli_fail(&c, &err));
    /* the listed pages are inputs too: the output is never one of them */
    cor_names pages = {0};
    char *copy = strdup(list);
    rc = copy ? 0 : -1;
    for (char *save = NULL, *line = copy ? strtok_r(copy, "\n", &save) : NULL; rc == 0 && line;
         line = strtok_r(NULL, "\n", &save)) {
        char *en, *target;
        if (split_line(line, &en, &target) &&
            (cor_names_add(&pages, en) < 0 || cor_names_add(&pages, target) < 0))
            rc = -1;
    }
    free(copy);
    if (rc < 0) {
        free(list);
        cor_names_free(&pages);
        lg_fail(&err, "out of memory");
        return lg_cli_finish(&c, lg_cli_fail(&c, &err));
    }
    rc = cor_check_output_against(&c, out, (const char *const *)pages.v, pages.n);
    cor_names_free(&pages);
    if (rc) {
        free(list);
        return lg_cli_finish(&c, rc);
    }
    cor_records r;
    if (cor_records_open(&r, out, &err) < 0) {
        free(list);
        return lg_cli_finish(&c, lg_cli_fail(&c, &err));
    }
    long n_pages = 0, aligned = 0;
    for (char *save = NULL, *line = strtok_r(list, "\n", &save); rc == 0 && line;
         line = strtok_r(NULL, "\n", &save)) {
        char *en, *target;
        if (!split_line(line, &en, &target))
            continue;
        size_t en_size, target_size;
        char *en_text = cor_slurp(en, &en_size);
        int en_errno = errno;
        char *target_text = en_text ? cor_slurp(target, &target_size) : NULL;
        if (en_text && target_text) {
            cor_doc_records m = {&r.w, line};
            long n = lg_man_align(en_text, target_text, drop, man_pair, &m);
            n_pages++;
            aligned += n > 0;
        } else {
            rc = lg_fail(&err, "%s: cannot read rendered page: %s", en_text ? target : en,
                         strerror(en_text ? errno : en_errno));
        }
        free(en_text);
        free(target_text);
    }
    free(list);
    if (rc < 0) {
        cor_records_abort(&r);
        return lg_cli_finish(&c, lg_cli_fail(&c, &err));
    }
    fprintf(stderr, "corpora man: %ld page pairs, %ld aligned, %ld paragraph pairs\n", n_pages,
            aligned, r.w.records);
    rc = cor_records_commit(&r, &err);
    return lg_cli_finish(&c, rc < 0 ? lg_cli_fail(&c, &err) : 0);
}
