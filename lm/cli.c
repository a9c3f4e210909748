/* Helpers shared by the command-line programs. */
#include "lg_cli.h"

#include <stdlib.h>
#include <unistd.h>

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
