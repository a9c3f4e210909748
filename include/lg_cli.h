/* lg_cli — the subcommands of the `lm` program, one function each (lm/cmd_*.c), so that
 * lm/lm_main.c only dispatches. Each takes the subcommand's argv (argv[0] = its name)
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

/* Threads to use: --threads N, else LG_THREADS, else the number of online CPUs. */
int lg_cli_threads(int requested);

#endif
