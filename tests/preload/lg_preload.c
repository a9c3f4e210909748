/* A test shim loaded with LD_PRELOAD into a lingraft program, to stop it at a chosen moment
 * of writing its output (tests/interrupt_lm_adapt.sh). Not part of any build: the test
 * compiles it (cc -shared -fPIC).
 *
 *   LG_PRELOAD_STALL=TEXT      fsync() of a file whose path contains TEXT first creates the
 *                              file LG_PRELOAD_READY (when set), then sleeps 60 s: the
 *                              program holds its temporary output, complete or not, for a
 *                              signal sent by the test to find.
 *   LG_PRELOAD_KILL_ON_REMOVE=TEXT
 *                              remove() of a path containing TEXT removes it, then the
 *                              process kills itself (SIGKILL): a crash in the middle of
 *                              deleting a directory tree. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int fsync(int fd)
{
    static int (*real)(int);
    if (!real)
        real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    const char *stall = getenv("LG_PRELOAD_STALL");
    if (stall && stall[0]) {
        char link[64], path[4096];
        snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        ssize_t n = readlink(link, path, sizeof path - 1);
        if (n > 0) {
            path[n] = '\0';
            if (strstr(path, stall)) {
                const char *ready = getenv("LG_PRELOAD_READY");
                if (ready && ready[0]) {
                    int r = open(ready, O_WRONLY | O_CREAT | O_TRUNC, 0644);
                    if (r >= 0) {
                        if (write(r, path, (size_t)n) < 0)
                            abort();
                        close(r);
                    }
                }
                struct timespec t = {60, 0};
                while (nanosleep(&t, &t) != 0)
                    ;
            }
        }
    }
    return real(fd);
}

int remove(const char *path)
{
    static int (*real)(const char *);
    if (!real)
        real = (int (*)(const char *))dlsym(RTLD_NEXT, "remove");
    int rc = real(path);
    const char *kill_on = getenv("LG_PRELOAD_KILL_ON_REMOVE");
    if (kill_on && kill_on[0] && strstr(path, kill_on))
        raise(SIGKILL);
    return rc;
}
