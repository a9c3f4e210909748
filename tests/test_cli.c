/* The command-line kit (lm/cli/lg_cli.h): every value checked against its row, outputs
 * against the output rule, --help made from the rows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lg_cli.h"
#include "lg_io.h"

typedef struct {
    int n, flag;
    long steps;
    uint64_t seed;
    float lr, beta;
    double cov;
    const char *kind, *in, *out, *dir, *text, *model;
    lg_cli_list files, models;
} vals;

static void defaults(vals *v)
{
    memset(v, 0, sizeof *v);
    v->n = 8;
    v->steps = 1000;
    v->lr = 3e-4f;
    v->beta = 0.9f;
    v->cov = 1.0;
}

/* Parses the words of line with a table of every kind of row; returns the status. */
static int parse(vals *v, const char *line)
{
    lg_opt opts[] = {
        {LG_INT(&v->n), .name = "batch", .short_name = 'b', .min = 1, .max = 4096, .arg = "B",
         .help = "sequences"},
        {LG_LONG(&v->steps), .name = "steps", .min = 1, .max = 1e12, .arg = "N", .help = "steps"},
        {LG_U64(&v->seed), .name = "seed", .min = 0, .max = 1.8e19, .arg = "N", .help = "seed"},
        {LG_FLOAT(&v->lr), .name = "lr", .min = 0, .max = 10, .flags = LG_OPT_MIN_OPEN,
         .arg = "X", .help = "learning rate"},
        {LG_FLOAT(&v->beta), .name = "beta1", .min = 0, .max = 1, .flags = LG_OPT_MAX_OPEN,
         .arg = "X", .help = "beta"},
        {LG_DOUBLE(&v->cov), .name = "coverage", .min = 0, .max = 1, .flags = LG_OPT_MIN_OPEN,
         .arg = "X", .help = "coverage"},
        {LG_FLAG(&v->flag), .name = "rslora", .help = "a flag"},
        {LG_CHOICE(&v->kind), .name = "model-type", .choices = "unigram|bpe", .help = "kind"},
        {LG_INPUT(&v->in), .name = "input", .flags = LG_OPT_STDIO, .arg = "FILE", .help = "in"},
        {LG_INPUT(&v->model), .name = "model", .short_name = 'm', .arg = "FILE", .help = "m"},
        {LG_STRINGS(&v->models), .name = "compare", .arg = "FILE", .help = "several"},
        {LG_OUTPUT(&v->out), .name = "out", .short_name = 'o', .flags = LG_OPT_REQUIRED,
         .arg = "FILE", .help = "the output"},
        {LG_OUTDIR(&v->dir), .name = "dir", .arg = "DIR", .help = "a directory output"},
        {LG_STRING(&v->text), .name = "TEXT", .flags = LG_OPT_POSITIONAL, .help = "words"},
        {LG_INPUTS(&v->files), .name = "FILE", .help = "inputs"},
        {0}};
    lg_cli c = {.prog = "test", .name = "cmd", .opts = opts};
    static char buf[1024], *argv[64]; /* values point into them after the return */
    snprintf(buf, sizeof buf, "cmd %s", line);
    int argc = 0;
    for (char *w = strtok(buf, " "); w && argc < 63; w = strtok(NULL, " "))
        argv[argc++] = w;
    argv[argc] = NULL;
    int rc = lg_cli_parse(&c, argc, argv);
    if (rc == LG_CLI_RUN) {
        int n_models = v->models.n;
        lg_cli_finish(&c, 1); /* as after a failed run: frees the lists, writes no marker */
        v->models.n = n_models;
    }
    return rc;
}

static void numbers_are_checked(void **state)
{
    (void)state;
    vals v;
    defaults(&v);
    assert_int_equal(parse(&v, "-o build/test_cli.out --batch 16 --steps 20 --seed 7 --lr 1e-3"),
                     LG_CLI_RUN);
    assert_int_equal(v.n, 16);
    assert_int_equal(v.steps, 20);
    assert_int_equal(v.seed, 7);
    assert_true(v.lr > 0.00099f && v.lr < 0.00101f);
    /* each of these was accepted before the kit (atoi/strtof/strtoull): now a usage error */
    const char *bad[] = {
        "--steps 1e3", "--seed abc", "--batch 2x", "--batch 0", "--batch 4097", "--batch ''",
        "--lr -1", "--lr 0", "--lr nan", "--lr inf", "--beta1 1.5", "--beta1 1", "--beta1 -0.1",
        "--coverage 0", "--steps -5", "--seed -1", "--batch 99999999999", "--batch 1.5",
        "--model-type wordpiece", "--batch", "--bogus", "-x", "--input", "-b 3 extra more -q",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char line[256];
        snprintf(line, sizeof line, "-o build/test_cli.out %s", bad[i]);
        defaults(&v);
        print_message("%s\n", line);
        assert_int_equal(parse(&v, line), 2);
    }
    defaults(&v);
    assert_int_equal(parse(&v, "-o build/test_cli.out --beta1 0 --coverage 1 --model-type bpe"),
                     LG_CLI_RUN);
    assert_string_equal(v.kind, "bpe");
}

static void required_positional_and_repeated(void **state)
{
    (void)state;
    vals v;
    defaults(&v);
    assert_int_equal(parse(&v, "--batch 2"), 2); /* no -o */
    defaults(&v);
    assert_int_equal(parse(&v, "--output build/test_cli.out words a b c"), LG_CLI_RUN);
    assert_string_equal(v.text, "words");
    assert_int_equal(v.files.n, 3);
    defaults(&v);
    assert_int_equal(parse(&v, "-o build/test_cli.out --compare a --compare b --rslora"),
                     LG_CLI_RUN);
    assert_int_equal(v.models.n, 2);
    assert_int_equal(v.flag, 1);
}

static void standard_streams_only_where_a_stream(void **state)
{
    (void)state;
    vals v;
    defaults(&v);
    assert_int_equal(parse(&v, "-o build/test_cli.out --input -"), LG_CLI_RUN);
    defaults(&v);
    assert_int_equal(parse(&v, "-o build/test_cli.out -m -"), 2);   /* a file, not a stream */
    defaults(&v);
    assert_int_equal(parse(&v, "-o -"), 2);                         /* -o is a file here */
    defaults(&v);
    assert_int_equal(parse(&v, "-o build/test_cli.out --dir -"), 2);
}

static void outputs_follow_the_rule(void **state)
{
    (void)state;
    vals v;
    FILE *f = fopen("build/test_cli.exists", "w");
    assert_non_null(f);
    fputs("data\n", f);
    fclose(f);
    defaults(&v);
    assert_int_equal(parse(&v, "-o build/test_cli.exists"), 1);          /* exists */
    defaults(&v);
    assert_int_equal(parse(&v, "-o build/test_cli.exists --force"), LG_CLI_RUN);
    defaults(&v);
    assert_int_equal(parse(&v, "-o build/test_cli.exists --force -m build/test_cli.exists"), 1);
    defaults(&v);
    assert_int_equal(parse(&v, "-o build/./test_cli.exists --force x build/test_cli.exists"), 1);
    /* a directory output: refused over a file, over a non-empty directory not marked by
     * this command, and over a directory that holds an input */
    defaults(&v);
    assert_int_equal(parse(&v, "-o build/test_cli.out --dir build/test_cli.exists --force"), 1);
    mkdir("build/test_cli.dir", 0755);
    f = fopen("build/test_cli.dir/keep", "w");
    assert_non_null(f);
    fclose(f);
    defaults(&v);
    assert_int_equal(parse(&v, "-o build/test_cli.out --dir build/test_cli.dir"), 1);
    defaults(&v);
    assert_int_equal(parse(&v, "-o build/test_cli.out --dir build/test_cli.dir --force "
                               "-m build/test_cli.dir/keep"), 1);
    lg_error err;
    assert_int_equal(lg_output_mark("build/test_cli.dir", "test cmd --dir", &err), 0);
    defaults(&v);
    assert_int_equal(parse(&v, "-o build/test_cli.out --dir build/test_cli.dir"), LG_CLI_RUN);
    assert_int_equal(lg_output_mark("build/test_cli.dir", "other cmd", &err), 0);
    defaults(&v);
    assert_int_equal(parse(&v, "-o build/test_cli.out --dir build/test_cli.dir"), 1);
    unlink("build/test_cli.dir/keep");
    unlink("build/test_cli.dir/" LG_OUTPUT_MARKER);
    defaults(&v);
    assert_int_equal(parse(&v, "-o build/test_cli.out --dir build/test_cli.dir"), LG_CLI_RUN);
    rmdir("build/test_cli.dir");
    unlink("build/test_cli.exists");
}

static void help_lists_every_row_with_defaults(void **state)
{
    (void)state;
    vals v;
    defaults(&v);
    fflush(stdout);
    int saved = dup(1);
    FILE *f = freopen("build/test_cli.help", "w", stdout);
    assert_non_null(f);
    int rc = parse(&v, "--help");
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    assert_int_equal(rc, 0);
    size_t len;
    char *text = lg_read_file("build/test_cli.help", 1 << 20, &len, NULL);
    assert_non_null(text);
    assert_non_null(strstr(text, "usage: test cmd [TEXT] [FILE...] --out FILE [options]"));
    assert_non_null(strstr(text, "-b, --batch B"));
    assert_non_null(strstr(text, "sequences (default 8)"));
    assert_non_null(strstr(text, "learning rate (default 0.0003)"));
    assert_non_null(strstr(text, "-o, --output FILE"));
    assert_non_null(strstr(text, "--force"));
    assert_non_null(strstr(text, "--version"));
    free(text);
    unlink("build/test_cli.help");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(numbers_are_checked),
        cmocka_unit_test(required_positional_and_repeated),
        cmocka_unit_test(standard_streams_only_where_a_stream),
        cmocka_unit_test(outputs_follow_the_rule),
        cmocka_unit_test(help_lists_every_row_with_defaults),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
