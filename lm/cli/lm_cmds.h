/* The subcommands of the `lm` program, one function each (lm/cli/cmd_*.c), so that
 * lm/cli/lm_main.c only dispatches. Each takes the subcommand's argv (argv[0] = its name)
 * and returns the exit status (lg_cli.h). */
#ifndef LM_CMDS_H
#define LM_CMDS_H

int lg_cmd_check(int argc, char **argv);
int lg_cmd_info(int argc, char **argv);
int lg_cmd_merge(int argc, char **argv);
int lg_cmd_logits(int argc, char **argv);
int lg_cmd_bench(int argc, char **argv);
int lg_cmd_generate(int argc, char **argv);
int lg_cmd_init(int argc, char **argv);
int lg_cmd_train(int argc, char **argv);
int lg_cmd_eval(int argc, char **argv);

#endif
