/* The subcommands of the `transfer` program, one file each (transfer/cli/cmd_*.c). Each
 * takes its argv (argv[0] = its name) and returns the exit status (lg_cli.h: 0 success,
 * 1 failure, 2 usage). */
#ifndef TRANSFER_CMDS_H
#define TRANSFER_CMDS_H

int tr_cmd_align(int argc, char **argv);
int tr_cmd_init(int argc, char **argv);
int tr_cmd_check(int argc, char **argv);

#endif
