/* The subcommands of the `corpora` program (corpora/cli/cmd_*.c) and what several share
 * (records.c). Each command takes its argv (argv[0] = its name) and returns the exit
 * status (lg_cli.h: 0 success, 1 failure, 2 usage). */
#ifndef CORPORA_CMDS_H
#define CORPORA_CMDS_H

#include <stddef.h>

#include "lg_cli.h"
#include "lg_error.h"
#include "lg_record_writer.h"

int cor_cmd_mo(int argc, char **argv);
int cor_cmd_text(int argc, char **argv);
int cor_cmd_help(int argc, char **argv);
int cor_cmd_mozilla(int argc, char **argv);
int cor_cmd_man(int argc, char **argv);
int cor_cmd_dictd(int argc, char **argv);
int cor_cmd_assemble(int argc, char **argv);
int cor_cmd_manifest(int argc, char **argv);
int cor_cmd_import(int argc, char **argv);

/* 1 when s is a language code `assemble` and `import` take (it names output files:
 * 1 to 16 letters, digits, '-' and '_'), else 0. */
int cor_valid_lang(const char *s);

/* The extractors' output: a file written whole (lg_record_writer) or, for "-", standard
 * output (a stream: what was written stays written). */
typedef struct {
    lg_record_writer w;
    int to_stdout;
} cor_records;

int cor_records_open(cor_records *r, const char *path, lg_error *err);
int cor_records_commit(cor_records *r, lg_error *err);
void cor_records_abort(cor_records *r);

/* Records of one document (mo, text, man). */
typedef struct {
    lg_record_writer *w;
    const char *doc;
} cor_doc_records;

/* A whole file, NUL-terminated (its length in *size); NULL with errno set. */
char *cor_slurp(const char *path, size_t *size);

/* A growing list of names (copies). */
typedef struct {
    char **v;
    int n;
} cor_names;

int cor_names_add(cor_names *l, const char *name);
/* Adds the names listed one a line in a file. */
int cor_names_add_list(cor_names *l, const char *list, lg_error *err);
void cor_names_free(cor_names *l);

/* The output rule against inputs the command found itself (in a --list file): 0, or 1
 * after a message. "-" is never checked. */
int cor_check_output_against(const lg_cli *c, const char *out, const char *const *inputs, int n);

#endif
