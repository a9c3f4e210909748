/* The command-line kit (lg_cli.h): option tables parsed, checked and documented in one place. */
#include "lg_cli.h"
#include "lg_dist.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lg_io.h"

#ifndef LG_VERSION
#define LG_VERSION "unknown"
#endif

const char *lg_cli_version(void) { return LG_VERSION; }

/* The program's name in messages: "lingraft-lm" when run under that installed name, else
 * the table's ("lm"). Set once by lg_cli_main; markers always use the table's name. */
static const char *shown_prog;

static const char *shown(const char *prog) { return shown_prog ? shown_prog : prog; }

void lg_cli_passive_threads(char **argv)
{
    if (getenv("OMP_WAIT_POLICY"))
        return;
    setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
    execv("/proc/self/exe", argv);
    /* no /proc: carry on with libgomp's default policy */
}

/* ---- values ------------------------------------------------------------------ */

static int is_output(lg_opt_type t)
{
    return t == LG_OPT_OUTPUT || t == LG_OPT_OUTDIR || t == LG_OPT_OUTTREE;
}

static int takes_list(const lg_opt *o)
{
    return o->type == LG_OPT_INPUTS || (o->flags & LG_OPT_REPEAT);
}

/* "[1, 4096]", "(0, 1)", "> 0", ">= 1" */
static void range_text(const lg_opt *o, char *buf, size_t size)
{
    const int lo = isfinite(o->min), hi = isfinite(o->max);
    const int lo_open = (o->flags & LG_OPT_MIN_OPEN) != 0, hi_open = (o->flags & LG_OPT_MAX_OPEN) != 0;
    if (o->type == LG_OPT_U64 && o->max >= 18446744073709551615.0 && !lo_open)
        snprintf(buf, size, "in [%.0f, 18446744073709551615]", o->min); /* any uint64 */
    else if (lo && hi)
        snprintf(buf, size, "in %c%.17g, %.17g%c", lo_open ? '(' : '[', o->min, o->max,
                 hi_open ? ')' : ']');
    else if (lo)
        snprintf(buf, size, "%s %.17g", lo_open ? ">" : ">=", o->min);
    else if (hi)
        snprintf(buf, size, "%s %.17g", hi_open ? "<" : "<=", o->max);
    else
        snprintf(buf, size, "any number");
}

static int in_range(const lg_opt *o, double v)
{
    if (v < o->min || ((o->flags & LG_OPT_MIN_OPEN) && v == o->min))
        return 0;
    if (v > o->max || ((o->flags & LG_OPT_MAX_OPEN) && v == o->max))
        return 0;
    return 1;
}

/* "--steps" or "MODEL_DIR" for messages */
static void opt_label(const lg_opt *o, char *buf, size_t size)
{
    if (o->flags & LG_OPT_POSITIONAL || o->type == LG_OPT_INPUTS)
        snprintf(buf, size, "%s", o->name);
    else
        snprintf(buf, size, "--%s", o->name);
}

/* Parses s into o->dest; 0, or a usage error message in msg. */
static int set_value(const lg_opt *o, const char *s, char *msg, size_t size)
{
    char label[128], range[128];
    opt_label(o, label, sizeof label);
    range_text(o, range, sizeof range);
    if (o->type == LG_OPT_INT || o->type == LG_OPT_LONG || o->type == LG_OPT_U64) {
        char *end;
        errno = 0;
        long long v = 0;
        unsigned long long u = 0;
        int digits = s[0] && (s[0] == '-' || s[0] == '+' || (s[0] >= '0' && s[0] <= '9'));
        if (o->type == LG_OPT_U64) {
            digits = digits && s[0] != '-';
            u = strtoull(s, &end, 10);
        } else {
            v = strtoll(s, &end, 10);
        }
        if (!digits || end == s || *end) {
            snprintf(msg, size, "%s: '%s' is not a whole number", label, s);
            return -1;
        }
        double d = o->type == LG_OPT_U64 ? (double)u : (double)v;
        if (errno == ERANGE || !in_range(o, d) ||
            (o->type == LG_OPT_INT && (v < INT32_MIN || v > INT32_MAX))) {
            snprintf(msg, size, "%s: %s is out of range: it must be %s", label, s, range);
            return -1;
        }
        if (o->type == LG_OPT_INT)
            *(int *)o->dest = (int)v;
        else if (o->type == LG_OPT_LONG)
            *(long *)o->dest = (long)v;
        else
            *(uint64_t *)o->dest = (uint64_t)u;
        return 0;
    }
    if (o->type == LG_OPT_FLOAT || o->type == LG_OPT_DOUBLE) {
        char *end;
        errno = 0;
        double v = strtod(s, &end);
        if (end == s || *end || s[0] == ' ' || s[0] == '\t') {
            snprintf(msg, size, "%s: '%s' is not a number", label, s);
            return -1;
        }
        if (!isfinite(v) || errno == ERANGE || !in_range(o, v) ||
            (o->type == LG_OPT_FLOAT && fabs(v) > 3.4e38)) {
            snprintf(msg, size, "%s: %s is out of range: it must be %s", label, s, range);
            return -1;
        }
        if (o->type == LG_OPT_FLOAT)
            *(float *)o->dest = (float)v;
        else
            *(double *)o->dest = v;
        return 0;
    }
    if (o->type == LG_OPT_CHOICE) {
        size_t n = strlen(s);
        for (const char *c = o->choices; c && *c;) {
            const char *bar = strchr(c, '|');
            size_t len = bar ? (size_t)(bar - c) : strlen(c);
            if (len == n && !strncmp(c, s, n)) {
                *(const char **)o->dest = s;
                return 0;
            }
            c += len + (bar != NULL);
        }
        snprintf(msg, size, "%s: '%s' is not one of %s", label, s, o->choices);
        return -1;
    }
    if (!s[0]) {
        snprintf(msg, size, "%s: an empty value", label);
        return -1;
    }
    if (!strcmp(s, "-") && !(o->flags & LG_OPT_STDIO) &&
        (o->type == LG_OPT_INPUT || o->type == LG_OPT_INPUTS || is_output(o->type))) {
        snprintf(msg, size, "%s: '-' (standard %s) is not possible here: this %s is %s",
                 label, is_output(o->type) ? "output" : "input",
                 is_output(o->type) ? "output" : "input",
                 o->type == LG_OPT_OUTPUT || o->type == LG_OPT_INPUT ? "a file, not a stream"
                                                                     : "a directory");
        return -1;
    }
    *(const char **)o->dest = s;
    return 0;
}

/* ---- help -------------------------------------------------------------------- */

enum { HELP_COL = 24, HELP_WIDTH = 56 };

static void print_lines(FILE *f, const char *text, int col, int first_indent_done)
{
    const char *p = text;
    int first = 1;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        if (!(first && first_indent_done))
            fprintf(f, "%*s", col, "");
        fprintf(f, "%.*s\n", (int)len, p);
        first = 0;
        p += len + (nl != NULL);
    }
}

static void default_text(const lg_opt *o, char *buf, size_t size)
{
    buf[0] = '\0';
    if (o->def) {
        if (o->def[0])
            snprintf(buf, size, "%s", o->def);
        return;
    }
    if (!o->dest || takes_list(o))
        return;
    switch (o->type) {
    case LG_OPT_INT: snprintf(buf, size, "%d", *(int *)o->dest); break;
    case LG_OPT_LONG: snprintf(buf, size, "%ld", *(long *)o->dest); break;
    case LG_OPT_U64: snprintf(buf, size, "%llu", (unsigned long long)*(uint64_t *)o->dest); break;
    case LG_OPT_FLOAT: snprintf(buf, size, "%g", (double)*(float *)o->dest); break;
    case LG_OPT_DOUBLE: snprintf(buf, size, "%g", *(double *)o->dest); break;
    case LG_OPT_STRING:
    case LG_OPT_CHOICE:
    case LG_OPT_INPUT:
        if (*(const char **)o->dest)
            snprintf(buf, size, "%s", *(const char **)o->dest);
        break;
    default: break;
    }
}

static int has_outputs(const lg_cli *c)
{
    if (c->derived_outputs)
        return 1;
    for (const lg_opt *o = c->opts; o->type; o++)
        if (is_output(o->type))
            return 1;
    return 0;
}

static void print_row(FILE *f, const char *left, const char *help, const char *def)
{
    int n = fprintf(f, "%s", left);
    char text[2048];
    /* the default goes on the help's last line, or on a line of its own when that one
     * would grow past the column limit */
    const char *last = help ? strrchr(help, '\n') : NULL;
    last = last ? last + 1 : help ? help : "";
    const int own_line = def[0] && last[0] && strlen(last) + strlen(def) + 11 > HELP_WIDTH;
    snprintf(text, sizeof text, "%s%s%s%s", help ? help : "",
             def[0] && help && help[0] ? own_line ? "\n" : " " : "",
             def[0] ? "(default " : "", def[0] ? def : "");
    if (def[0])
        strncat(text, ")", sizeof text - strlen(text) - 1);
    if (!text[0]) {
        fputc('\n', f);
        return;
    }
    if (n < HELP_COL) {
        fprintf(f, "%*s", HELP_COL - n, "");
        print_lines(f, text, HELP_COL, 1);
    } else {
        fputc('\n', f);
        print_lines(f, text, HELP_COL, 0);
    }
}

static void usage_line(FILE *f, const lg_cli *c)
{
    fprintf(f, "usage: %s %s", shown(c->prog), c->name);
    if (c->usage) {
        fprintf(f, " %s\n", c->usage);
        return;
    }
    for (const lg_opt *o = c->opts; o->type; o++)
        if (o->flags & LG_OPT_POSITIONAL || o->type == LG_OPT_INPUTS)
            fprintf(f, o->flags & LG_OPT_REQUIRED ? " %s%s" : " [%s%s]", o->name,
                    o->type == LG_OPT_INPUTS ? "..." : "");
    for (const lg_opt *o = c->opts; o->type; o++)
        if (o->flags & LG_OPT_REQUIRED && !(o->flags & LG_OPT_POSITIONAL) &&
            o->type != LG_OPT_INPUTS)
            fprintf(f, " --%s %s", o->name, o->arg ? o->arg : "X");
    fprintf(f, " [options]\n");
}

static void print_help(FILE *f, const lg_cli *c)
{
    usage_line(f, c);
    if (c->about)
        fprintf(f, "%s\n", c->about);
    char left[256], def[1024];
    int heading = 0;
    for (const lg_opt *o = c->opts; o->type; o++) {
        if (!(o->flags & LG_OPT_POSITIONAL) && o->type != LG_OPT_INPUTS)
            continue;
        if (!heading++)
            fprintf(f, "\narguments\n");
        snprintf(left, sizeof left, "  %s%s", o->name, o->type == LG_OPT_INPUTS ? "..." : "");
        default_text(o, def, sizeof def);
        print_row(f, left, o->help, def);
    }
    int section = 0;
    for (const lg_opt *o = c->opts; o->type; o++) {
        if (o->type == LG_OPT_SECTION) {
            fprintf(f, "\n%s\n", o->name);
            section = 1;
            continue;
        }
        if (o->flags & (LG_OPT_POSITIONAL | LG_OPT_HIDDEN) || o->type == LG_OPT_INPUTS)
            continue;
        if (!section) {
            fprintf(f, "\noptions\n");
            section = 1;
        }
        const char *arg = o->type == LG_OPT_FLAG ? "" : o->arg ? o->arg : "X";
        if (o->type == LG_OPT_CHOICE && !o->arg)
            arg = o->choices;
        snprintf(left, sizeof left, "  %c%c%s--%s%s%s", o->short_name ? '-' : ' ',
                 o->short_name ? o->short_name : ' ', o->short_name ? ", " : "  ",
                 o->short_name == 'o' ? "output" : o->name, arg[0] ? " " : "", arg);
        default_text(o, def, sizeof def);
        print_row(f, left, o->help, def);
    }
    fprintf(f, "\ncommon\n");
    if (has_outputs(c))
        print_row(f, "      --force", "replace an existing output (never one of the inputs)", "");
    print_row(f, "  -h, --help", "this text", "");
    print_row(f, "      --version", "the lingraft version", "");
}

/* ---- parsing ----------------------------------------------------------------- */

int lg_cli_usage(const lg_cli *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s %s: ", shown(c->prog), c->name);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n(%s %s --help lists the options)\n", shown(c->prog), c->name);
    return 2;
}

int lg_cli_fail(const lg_cli *c, const lg_error *err)
{
    fprintf(stderr, "%s %s: %s\n", shown(c->prog), c->name,
            err && err->msg[0] ? err->msg : "failed");
    return 1;
}

static int list_add(const lg_opt *o, const char *s)
{
    lg_cli_list *l = o->dest;
    const char **v = realloc(l->v, (size_t)(l->n + 1) * sizeof *v);
    if (!v)
        return -1;
    l->v = v;
    l->v[l->n++] = s;
    return 0;
}

/* Every input path given, in a malloc'd array (*n of them); NULL when out of memory. */
static const char **collect_inputs(const lg_cli *c, int *n)
{
    int cap = 1;
    for (const lg_opt *o = c->opts; o->type; o++)
        if (o->type == LG_OPT_INPUT || o->type == LG_OPT_INPUTS)
            cap += takes_list(o) ? ((const lg_cli_list *)o->dest)->n : 1;
    const char **v = malloc((size_t)cap * sizeof *v);
    *n = 0;
    if (!v)
        return NULL;
    for (const lg_opt *o = c->opts; o->type; o++) {
        if (o->type != LG_OPT_INPUT && o->type != LG_OPT_INPUTS)
            continue;
        if (takes_list(o)) {
            const lg_cli_list *l = o->dest;
            for (int k = 0; k < l->n; k++)
                v[(*n)++] = l->v[k];
        } else if (*(const char **)o->dest) {
            v[(*n)++] = *(const char **)o->dest;
        }
    }
    return v;
}

/* The output rule for one output path; 0, or 1 after printing why it is refused. */
static int check_output(const lg_cli *c, const char *path, lg_output_kind kind, const char *writer)
{
    int n;
    const char **inputs = collect_inputs(c, &n);
    if (!inputs) {
        fprintf(stderr, "%s %s: out of memory\n", shown(c->prog), c->name);
        return 1;
    }
    lg_error err;
    int rc = lg_output_check(path, kind, writer, c->force, inputs, n, &err) < 0
                 ? lg_cli_fail(c, &err) : 0;
    free(inputs);
    return rc;
}

static void writer_name(const lg_cli *c, const lg_opt *o, char *buf, size_t size)
{
    if (o->flags & LG_OPT_POSITIONAL || o->short_name == 'o')
        snprintf(buf, size, "%s %s", c->prog, c->name);
    else
        snprintf(buf, size, "%s %s --%s", c->prog, c->name, o->name);
}

int lg_cli_check_output(const lg_cli *c, const char *path, int kind, const char *option)
{
    char writer[256];
    snprintf(writer, sizeof writer, "%s %s%s%s", c->prog, c->name, option ? " " : "",
             option ? option : "");
    return check_output(c, path, (lg_output_kind)kind, writer);
}

enum { OPT_HELP = 0x1000, OPT_VERSION, OPT_FORCE, OPT_ROW = 0x2000 };

int lg_cli_parse(lg_cli *c, int argc, char **argv)
{
    int n_rows = 0;
    while (c->opts[n_rows].type)
        n_rows++;
    c->force = 0;
    /* getopt_long's table: each named row (twice for an -o whose name is not "output"),
     * then --help, --version, --force */
    struct option *longs = calloc((size_t)(2 * n_rows + 4), sizeof *longs);
    char shorts[3 * 64 + 4] = ":"; /* ':' first: a missing value is told from an unknown option */
    if (!longs) {
        fprintf(stderr, "%s %s: out of memory\n", shown(c->prog), c->name);
        return 1;
    }
    int nl = 0;
    size_t ns = 1;
    for (int i = 0; i < n_rows; i++) {
        const lg_opt *o = &c->opts[i];
        if (o->type == LG_OPT_SECTION || o->flags & LG_OPT_POSITIONAL || o->type == LG_OPT_INPUTS)
            continue;
        const int has_arg = o->type == LG_OPT_FLAG ? no_argument : required_argument;
        longs[nl++] = (struct option){o->name, has_arg, NULL, OPT_ROW + i};
        if (o->short_name == 'o' && strcmp(o->name, "output"))
            longs[nl++] = (struct option){"output", has_arg, NULL, OPT_ROW + i};
        if (o->short_name && ns + 3 < sizeof shorts - 4) {
            shorts[ns++] = o->short_name;
            if (has_arg == required_argument)
                shorts[ns++] = ':';
        }
    }
    shorts[ns++] = 'h';
    shorts[ns] = '\0';
    longs[nl++] = (struct option){"help", no_argument, NULL, OPT_HELP};
    longs[nl++] = (struct option){"version", no_argument, NULL, OPT_VERSION};
    if (has_outputs(c))
        longs[nl++] = (struct option){"force", no_argument, NULL, OPT_FORCE};

    int rc = LG_CLI_RUN, ch, index;
    char msg[1024];
    opterr = 0;
    optind = 0; /* 0, not 1: glibc then forgets the state of an earlier parse too */
    while (rc == LG_CLI_RUN && (ch = getopt_long(argc, argv, shorts, longs, &index)) != -1) {
        const lg_opt *o = NULL;
        if (ch >= OPT_ROW)
            o = &c->opts[ch - OPT_ROW];
        else if (ch != OPT_HELP && ch != OPT_VERSION && ch != OPT_FORCE && ch != '?' && ch != ':')
            for (int i = 0; i < n_rows; i++)
                if (c->opts[i].short_name == ch && !(c->opts[i].flags & LG_OPT_POSITIONAL))
                    o = &c->opts[i];
        if (ch == 'h' || ch == OPT_HELP) {
            print_help(stdout, c);
            rc = 0;
        } else if (ch == OPT_VERSION) {
            printf("%s (lingraft) %s\n", shown(c->prog), lg_cli_version());
            rc = 0;
        } else if (ch == OPT_FORCE) {
            c->force = 1;
        } else if (ch == ':') {
            rc = lg_cli_usage(c, "%s needs a value", argv[optind - 1]);
        } else if (!o) {
            if (optopt)
                rc = lg_cli_usage(c, "unknown option -%c", optopt);
            else
                rc = lg_cli_usage(c, "unknown option %s", argv[optind - 1]);
        } else if (o->type == LG_OPT_FLAG) {
            *(int *)o->dest = 1;
        } else if (o->flags & LG_OPT_REPEAT) {
            if (list_add(o, optarg) < 0) {
                fprintf(stderr, "%s %s: out of memory\n", shown(c->prog), c->name);
                rc = 1;
            }
        } else if (set_value(o, optarg, msg, sizeof msg) < 0) {
            rc = lg_cli_usage(c, "%s", msg);
        }
    }
    free(longs);
    if (rc != LG_CLI_RUN)
        return rc;

    /* positional arguments, in the table's order; an INPUTS row takes the rest */
    int next = optind;
    for (int i = 0; i < n_rows && rc == LG_CLI_RUN; i++) {
        const lg_opt *o = &c->opts[i];
        if (o->type == LG_OPT_INPUTS) {
            lg_cli_list *l = o->dest;
            l->v = (const char **)(argv + next);
            l->n = argc - next;
            next = argc;
            for (int k = 0; k < l->n && rc == LG_CLI_RUN; k++)
                if (!strcmp(l->v[k], "-") && !(o->flags & LG_OPT_STDIO))
                    rc = lg_cli_usage(c, "%s: '-' (standard input) is not possible here",
                                      o->name);
            if (rc == LG_CLI_RUN && o->flags & LG_OPT_REQUIRED && l->n == 0)
                rc = lg_cli_usage(c, "missing %s", o->name);
            continue;
        }
        if (!(o->flags & LG_OPT_POSITIONAL))
            continue;
        if (next < argc) {
            if (set_value(o, argv[next++], msg, sizeof msg) < 0)
                rc = lg_cli_usage(c, "%s", msg);
        } else if (o->flags & LG_OPT_REQUIRED) {
            rc = lg_cli_usage(c, "missing %s", o->name);
        }
    }
    if (rc == LG_CLI_RUN && next < argc)
        rc = lg_cli_usage(c, "unexpected argument '%s'", argv[next]);
    /* required options */
    for (int i = 0; i < n_rows && rc == LG_CLI_RUN; i++) {
        const lg_opt *o = &c->opts[i];
        if (!(o->flags & LG_OPT_REQUIRED) || o->flags & LG_OPT_POSITIONAL ||
            o->type == LG_OPT_INPUTS)
            continue;
        int given = takes_list(o) ? ((lg_cli_list *)o->dest)->n > 0
                                  : *(const char **)o->dest != NULL;
        if (o->type != LG_OPT_STRING && o->type != LG_OPT_CHOICE && !takes_list(o) &&
            !(o->type == LG_OPT_INPUT || is_output(o->type)))
            given = 1; /* a required number has a default: the row is wrong, not the user */
        if (!given)
            rc = lg_cli_usage(c, "missing --%s %s", o->short_name == 'o' ? "output" : o->name,
                              o->arg ? o->arg : "");
    }
    if (rc != LG_CLI_RUN)
        return rc;

    /* every output checked against the inputs */
    for (int i = 0; i < n_rows && rc == LG_CLI_RUN; i++) {
        const lg_opt *o = &c->opts[i];
        const char *path = is_output(o->type) ? *(const char **)o->dest : NULL;
        if (!path || !strcmp(path, "-"))
            continue;
        char writer[256];
        writer_name(c, o, writer, sizeof writer);
        rc = check_output(c, path, o->type == LG_OPT_OUTPUT   ? LG_OUT_FILE
                                   : o->type == LG_OPT_OUTDIR ? LG_OUT_DIR
                                                              : LG_OUT_TREE, writer);
        if (rc == 0)
            rc = LG_CLI_RUN;
    }
    return rc;
}

int lg_cli_finish(lg_cli *c, int status)
{
    /* of the ranks of a data-parallel job (lg_dist.h) only rank 0 writes */
    for (const lg_opt *o = c->opts; status == 0 && lg_dist_rank() == 0 && o->type; o++) {
        if (o->type != LG_OPT_OUTDIR && o->type != LG_OPT_OUTTREE)
            continue;
        const char *path = *(const char **)o->dest;
        if (!path || access(path, F_OK) != 0)
            continue;
        char writer[256];
        writer_name(c, o, writer, sizeof writer);
        lg_error err;
        if (lg_output_mark(path, writer, &err) < 0)
            status = lg_cli_fail(c, &err);
    }
    for (const lg_opt *o = c->opts; o->type; o++)
        if (o->flags & LG_OPT_REPEAT) {
            lg_cli_list *l = o->dest;
            free(l->v);
            l->v = NULL;
            l->n = 0;
        }
    return status;
}

/* ---- programs ---------------------------------------------------------------- */

static long env_threads = 0; /* LG_THREADS, checked by lg_cli_main */

int lg_cli_threads(int requested)
{
    if (requested > 0)
        return requested;
    if (env_threads > 0)
        return (int)env_threads;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

static void list_commands(FILE *f, const char *prog, const char *about,
                          const lg_cli_command *commands, int n)
{
    fprintf(f, "usage: %s COMMAND [OPTIONS]   (%s COMMAND --help for its options)\n\n", prog,
            prog);
    if (about)
        fprintf(f, "%s\n", about);
    fprintf(f, "\ncommands:\n");
    for (int i = 0; i < n; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].what);
    fprintf(f, "\n%s --version prints the version. Exit status: 0 success, 1 failure, "
               "2 usage.\n", prog);
}

/* Flushes and closes standard output; a failure (a full disk, a closed pipe) is the
 * command's failure too. */
static int close_stdout(const char *prog, int status)
{
    int failed = fflush(stdout) != 0 || ferror(stdout);
    int saved = errno;
    if (fclose(stdout) != 0 && !failed) {
        failed = 1;
        saved = errno;
    }
    if (failed) {
        fprintf(stderr, "%s: standard output: %s\n", prog, saved ? strerror(saved) : "write error");
        return status ? status : 1;
    }
    return status;
}

int lg_cli_main(const char *prog, const char *about, const lg_cli_command *commands, int n,
                int argc, char **argv)
{
    lg_cli_passive_threads(argv);
    const char *base = argc > 0 && argv[0] ? strrchr(argv[0], '/') : NULL;
    base = base ? base + 1 : argc > 0 && argv[0] ? argv[0] : "";
    if (!strncmp(base, "lingraft-", 9) && !strcmp(base + 9, prog))
        shown_prog = prog = base;
    lg_cleanup_on_signals();
    const char *env = getenv("LG_THREADS");
    if (env && env[0]) {
        char *end;
        errno = 0;
        env_threads = strtol(env, &end, 10);
        if (errno || *end || end == env || env_threads < 1 || env_threads > 4096) {
            fprintf(stderr, "%s: LG_THREADS: '%s' is not a whole number in [1, 4096]\n", prog, env);
            return 2;
        }
    }
    int status;
    if (argc < 2) {
        list_commands(stderr, prog, about, commands, n);
        return 2;
    }
    /* a command of the program wins over the "help" spelling (corpora has a "help" command) */
    for (int i = 0; i < n; i++)
        if (!strcmp(argv[1], commands[i].name)) {
            status = commands[i].run(argc - 1, argv + 1);
            return close_stdout(prog, status);
        }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        list_commands(stdout, prog, about, commands, n);
        return close_stdout(prog, 0);
    }
    if (!strcmp(argv[1], "--version")) {
        printf("%s (lingraft) %s\n", prog, lg_cli_version());
        return close_stdout(prog, 0);
    }
    fprintf(stderr, "%s: unknown command '%s' (%s --help lists the commands)\n", prog, argv[1],
            prog);
    return 2;
}
