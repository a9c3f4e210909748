/* lg_cli — the command-line kit every lingraft program is built on (program code only: the
 * library never parses options or exits).
 *
 * A command writes its options once, as rows of a table (name, type, range, default, help);
 * lg_cli_parse drives getopt_long from the rows, checks every value (a whole number, a finite
 * number inside its range, one of the choices), applies the output rule of lg_io.h to every
 * output (refused when it exists unless --force or it is this command's own earlier output;
 * never one of the inputs), and prints --help from the same rows. A program is a table of
 * commands run by lg_cli_main, which also answers --version, removes temporaries when a
 * signal stops the process, and fails when standard output could not be written.
 * Exit statuses everywhere: 0 success, 1 failure, 2 usage (a bad option or argument).
 *
 *   lg_opt opts[] = {
 *       {LG_INT(&batch), .name = "batch", .min = 1, .max = 4096, .arg = "B",
 *        .help = "sequences a micro-batch"},
 *       {LG_OUTDIR(&out), .name = "output", .short_name = 'o', .flags = LG_OPT_REQUIRED,
 *        .arg = "DIR", .help = "the model directory to write"},
 *       {0}};
 *   lg_cli c = {.prog = "lm", .name = "init", .about = "...", .opts = opts};
 *   int rc = lg_cli_parse(&c, argc, argv);
 *   if (rc != LG_CLI_RUN) return rc;
 *   ... return lg_cli_finish(&c, status);
 */
#ifndef LG_CLI_H
#define LG_CLI_H

#include <stdint.h>

#include "lg_error.h"

typedef enum {
    LG_OPT_END = 0,
    LG_OPT_SECTION,  /* a heading in --help (name is the heading) */
    LG_OPT_FLAG,     /* int: set to 1 */
    LG_OPT_INT,      /* int */
    LG_OPT_LONG,     /* long */
    LG_OPT_U64,      /* uint64_t */
    LG_OPT_FLOAT,    /* float */
    LG_OPT_DOUBLE,   /* double */
    LG_OPT_STRING,   /* const char *: free text (a code, a list) */
    LG_OPT_CHOICE,   /* const char *: one of .choices ("unigram|bpe") */
    LG_OPT_INPUT,    /* const char *: a path read */
    LG_OPT_OUTPUT,   /* const char *: a file written whole */
    LG_OPT_OUTDIR,   /* const char *: a directory written whole */
    LG_OPT_OUTTREE,  /* const char *: a directory written into (checkpoints) */
    LG_OPT_INPUTS,   /* lg_cli_list: every remaining positional argument, each a path read */
} lg_opt_type;

enum {
    LG_OPT_REQUIRED = 1 << 0,   /* must be given */
    LG_OPT_POSITIONAL = 1 << 1, /* an argument, not an option: .name is its metavar */
    LG_OPT_STDIO = 1 << 2,      /* "-" is standard input / output (a stream) */
    LG_OPT_MIN_OPEN = 1 << 3,   /* the range excludes .min */
    LG_OPT_MAX_OPEN = 1 << 4,   /* the range excludes .max */
    LG_OPT_REPEAT = 1 << 5,     /* STRING or INPUT given several times: dest is lg_cli_list */
    LG_OPT_HIDDEN = 1 << 6,     /* accepted, not listed (an old spelling) */
};

typedef struct {
    const char **v;
    int n;
} lg_cli_list;

typedef struct {
    lg_opt_type type;
    void *dest;
    const char *name;      /* long name without "--", or a positional's metavar */
    char short_name;       /* 0: none */
    unsigned flags;
    double min, max;       /* inclusive range of a number (see LG_OPT_MIN_OPEN/MAX_OPEN) */
    const char *arg;       /* the value's name in --help: "N", "FILE" */
    const char *choices;   /* LG_OPT_CHOICE: "a|b|c" */
    const char *help;      /* lines separated by '\n' */
    const char *def;       /* the default as --help shows it, when the destination's value
                              before parsing is not it (e.g. "all CPUs"); "" shows none */
} lg_opt;

/* Row heads: the type and a destination of the matching C type (a mismatch is a compiler
 * diagnostic: the conditional needs compatible pointers). */
#define LG_CLI_DEST(T, p) ((void *)(1 ? (p) : (T)0))
#define LG_SECTION(title) .type = LG_OPT_SECTION, .name = (title)
#define LG_FLAG(p) .type = LG_OPT_FLAG, .dest = LG_CLI_DEST(int *, p)
#define LG_INT(p) .type = LG_OPT_INT, .dest = LG_CLI_DEST(int *, p)
#define LG_LONG(p) .type = LG_OPT_LONG, .dest = LG_CLI_DEST(long *, p)
#define LG_U64(p) .type = LG_OPT_U64, .dest = LG_CLI_DEST(uint64_t *, p)
#define LG_FLOAT(p) .type = LG_OPT_FLOAT, .dest = LG_CLI_DEST(float *, p)
#define LG_DOUBLE(p) .type = LG_OPT_DOUBLE, .dest = LG_CLI_DEST(double *, p)
#define LG_STRING(p) .type = LG_OPT_STRING, .dest = LG_CLI_DEST(const char **, p)
#define LG_STRINGS(p) .type = LG_OPT_STRING, .flags = LG_OPT_REPEAT, \
                      .dest = LG_CLI_DEST(lg_cli_list *, p)
#define LG_CHOICE(p) .type = LG_OPT_CHOICE, .dest = LG_CLI_DEST(const char **, p)
#define LG_INPUT(p) .type = LG_OPT_INPUT, .dest = LG_CLI_DEST(const char **, p)
#define LG_OUTPUT(p) .type = LG_OPT_OUTPUT, .dest = LG_CLI_DEST(const char **, p)
#define LG_OUTDIR(p) .type = LG_OPT_OUTDIR, .dest = LG_CLI_DEST(const char **, p)
#define LG_OUTTREE(p) .type = LG_OPT_OUTTREE, .dest = LG_CLI_DEST(const char **, p)
#define LG_INPUTS(p) .type = LG_OPT_INPUTS, .dest = LG_CLI_DEST(lg_cli_list *, p)

/* --threads N, in [1, 4096]; 0 (the value before parsing) means LG_THREADS or all CPUs. */
#define LG_THREADS_OPT(p)                                                                    \
    {LG_INT(p), .name = "threads", .min = 1, .max = 4096, .arg = "N",                        \
     .def = "LG_THREADS or all CPUs", .help = "threads (results repeat for a given count)"}

typedef struct {
    const char *prog;      /* "lm" */
    const char *name;      /* "train" */
    const char *usage;     /* what follows "usage: lm train " (NULL: made from the rows) */
    const char *about;     /* what the command does, for --help */
    lg_opt *opts;          /* rows, the last one {0} */
    int derived_outputs;   /* 1: the command also writes outputs it names itself (NAME.model
                              from -o NAME), checked with lg_cli_check_output: --force is
                              offered even when no row is an output */
    /* set by lg_cli_parse */
    int force;             /* --force: replace existing outputs */
} lg_cli;

enum { LG_CLI_RUN = -1 };

/* Parses argv (argv[0] is the command's name). Returns LG_CLI_RUN when the command should
 * run, else the exit status to return: 0 after --help, 2 for a usage error, 1 when an
 * output is refused (each with one message on stderr). */
int lg_cli_parse(lg_cli *c, int argc, char **argv);

/* The output rule for an output the command derives itself (NAME.model from -o NAME):
 * 0, or 1 after printing why it is refused. */
int lg_cli_check_output(const lg_cli *c, const char *path, int kind /* lg_output_kind */,
                        const char *option);

/* Prints "prog name: message" and returns 1 (a failure). */
int lg_cli_fail(const lg_cli *c, const lg_error *err);
/* Prints "prog name: message" and a pointer to --help; returns 2 (a usage error). */
int lg_cli_usage(const lg_cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Ends a command that ran: when status is 0, marks each directory output as written by
 * this command (lg_output_mark), so that running it again may replace it; frees the lists of
 * repeated options (the only allocation lg_cli_parse keeps). Returns status (1 when a mark
 * could not be written). */
int lg_cli_finish(lg_cli *c, int status);

/* A program: one row a command. */
typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *what;
} lg_cli_command;

/* main() of a program made of commands: --help lists them, --version prints the version,
 * argv[1] runs with its own argv. Installs the signal clean-up of temporaries, makes idle
 * OpenMP threads sleep (lg_cli_passive_threads), checks LG_THREADS, and turns a failed
 * write of standard output into a failure. */
int lg_cli_main(const char *prog, const char *about, const lg_cli_command *commands, int n,
                int argc, char **argv);

/* Makes idle OpenMP threads sleep rather than spin (OMP_WAIT_POLICY=PASSIVE) unless the
 * user chose a policy. libgomp reads the variable once, when it is loaded, so the program
 * sets it and executes itself again. Spinning threads cost a few percent on an idle machine
 * and several times the run time on a shared one. */
void lg_cli_passive_threads(char **argv);

/* Threads to use: requested when > 0, else LG_THREADS (checked by lg_cli_main), else the
 * number of online CPUs. */
int lg_cli_threads(int requested);

/* The version every program prints. */
const char *lg_cli_version(void);

#endif
