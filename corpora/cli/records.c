/* What several corpora commands share: record output, name lists, whole files. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "corpora_cmds.h"
#include "lg_io.h"

int cor_records_open(cor_records *r, const char *path, lg_error *err)
{
    memset(r, 0, sizeof *r);
    if (strcmp(path, "-"))
        return lg_record_open(&r->w, path, err);
    r->to_stdout = 1;
    r->w.af.fp = stdout;
    return 0;
}

int cor_records_commit(cor_records *r, lg_error *err)
{
    /* standard output is checked by lg_cli_main when it closes it */
    return r->to_stdout ? 0 : lg_record_commit(&r->w, err);
}

void cor_records_abort(cor_records *r)
{
    if (!r->to_stdout)
        lg_record_abort(&r->w);
}

char *cor_slurp(const char *path, size_t *size)
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

int cor_names_add(cor_names *l, const char *name)
{
    char **grown = realloc(l->v, (size_t)(l->n + 1) * sizeof *l->v);
    if (!grown)
        return -1;
    l->v = grown;
    if (!(grown[l->n] = strdup(name)))
        return -1;
    l->n++;
    return 0;
}

int cor_names_add_list(cor_names *l, const char *list, lg_error *err)
{
    FILE *f = fopen(list, "r");
    if (!f)
        return lg_fail(err, "%s: cannot open: %s", list, strerror(errno));
    char line[4096];
    int rc = 0;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        if (line[0] && cor_names_add(l, line) < 0)
            rc = lg_fail(err, "%s: out of memory", list);
    }
    fclose(f);
    return rc;
}

void cor_names_free(cor_names *l)
{
    for (int i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

int cor_check_output_against(const lg_cli *c, const char *out, const char *const *inputs, int n)
{
    if (!strcmp(out, "-"))
        return 0;
    char writer[128];
    snprintf(writer, sizeof writer, "%s %s", c->prog, c->name);
    lg_error err;
    if (lg_output_check(out, LG_OUT_FILE, writer, c->force, inputs, n, &err) < 0)
        return lg_cli_fail(c, &err);
    return 0;
}

/* A language code names output files (en-LANG.tsv.gz): letters, digits, '-' and '_'. */
int cor_valid_lang(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 16)
        return 0;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_'))
            return 0;
    return 1;
}
