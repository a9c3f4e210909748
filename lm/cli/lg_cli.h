/* lg_cli — the subcommands of the `lm` program, one function each (lm/cmd_*.c), so that
 * lm/cli/lm_main.c only dispatches. Each takes the subcommand's argv (argv[0] = its name)
 * and returns the process exit status. */
#ifndef LG_CLI_H
#define LG_CLI_H

int lg_cmd_check(int argc, char **argv);
int lg_cmd_info(int argc, char **argv);
int lg_cmd_merge(int argc, char **argv);
int lg_cmd_logits(int argc, char **argv);
int lg_cmd_bench(int argc, char **argv);
int lg_cmd_generate(int argc, char **argv);
int lg_cmd_init(int argc, char **argv);
int lg_cmd_train(int argc, char **argv);
int lg_cmd_eval(int argc, char **argv);

/* A program made of subcommands (lm, adapt): one row a command. */
typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *what;
} lg_cli_command;

/* Runs argv[1] from the table with its own argv, or prints the list (--help, or no or an
 * unknown command: exit status 2). */
int lg_cli_dispatch(const char *program, const lg_cli_command *commands, int n, int argc,
                    char **argv);

/* Makes idle OpenMP threads sleep rather than spin (OMP_WAIT_POLICY=PASSIVE) unless the
 * user chose a policy. libgomp reads the variable once, when it is loaded, so the program
 * sets it and executes itself again; call first thing in main. Spinning threads cost a few
 * percent on an idle machine and several times the run time on a shared one, where they
 * take the cores OpenBLAS and the other threads are waiting for. */
void lg_cli_passive_threads(char **argv);

/* Threads to use: --threads N, else LG_THREADS, else the number of online CPUs. */
int lg_cli_threads(int requested);

#endif
