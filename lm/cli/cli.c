/* Helpers shared by the command-line programs. */
#include "lg_cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void lg_cli_passive_threads(char **argv)
{
    if (getenv("OMP_WAIT_POLICY"))
        return;
    setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
    execv("/proc/self/exe", argv);
    /* no /proc: carry on with libgomp's default policy */
}

int lg_cli_threads(int requested)
{
    if (requested > 0)
        return requested;
    const char *env = getenv("LG_THREADS");
    if (env && atoi(env) > 0)
        return atoi(env);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

static void list_commands(FILE *f, const char *program, const lg_cli_command *commands, int n)
{
    fprintf(f, "usage: %s COMMAND [OPTIONS]   (%s COMMAND --help for its options)\n\ncommands:\n",
            program, program);
    for (int i = 0; i < n; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].what);
}

int lg_cli_dispatch(const char *program, const lg_cli_command *commands, int n, int argc,
                    char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        list_commands(argc < 2 ? stderr : stdout, program, commands, n);
        return argc < 2 ? 2 : 0;
    }
    for (int i = 0; i < n; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "%s: unknown command '%s'\n", program, argv[1]);
    list_commands(stderr, program, commands, n);
    return 2;
}
