/* lg_adapt_cli — the subcommands of the `adapt` program (adapt/cli/cmd_*.c); adapt_main.c
 * only dispatches. Each takes its argv (argv[0] = its name) and returns the exit status. */
#ifndef LG_ADAPT_CLI_H
#define LG_ADAPT_CLI_H

int lg_adapt_langsamp(int argc, char **argv);
int lg_adapt_pack(int argc, char **argv);
int lg_adapt_info(int argc, char **argv);
int lg_adapt_list(int argc, char **argv);
int lg_adapt_eval(int argc, char **argv);
int lg_adapt_mixture(int argc, char **argv);
int lg_adapt_export(int argc, char **argv);

#endif
