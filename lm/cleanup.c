/* Temporaries removed when the process is stopped by a signal.
 *
 * The registry is the one piece of process-wide state in the library: a signal ends the
 * whole process, so what it must clean up is the whole process's. Slots are claimed and
 * released with atomics, and the handler uses only async-signal-safe calls (unlink, openat,
 * getdents64, unlinkat), so it may run on any thread at any moment. */
#include "lg_io.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

enum { SLOTS = 64, FREE = 0, CLAIMED = 1, LIVE = 2 };

static struct {
    atomic_int state;
    int is_dir;
    char path[4096];
} slots[SLOTS];

int lg_temp_register(const char *path, int is_dir)
{
    if (strlen(path) >= sizeof slots[0].path)
        return -1;
    for (int i = 0; i < SLOTS; i++) {
        int expected = FREE;
        if (atomic_compare_exchange_strong(&slots[i].state, &expected, CLAIMED)) {
            strcpy(slots[i].path, path);
            slots[i].is_dir = is_dir;
            atomic_store(&slots[i].state, LIVE);
            return i;
        }
    }
    return -1; /* full: this temporary is not removed on a signal */
}

void lg_temp_unregister(int slot)
{
    if (slot >= 0 && slot < SLOTS)
        atomic_store(&slots[slot].state, FREE);
}

struct linux_dirent64 {
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

/* Removes what the directory fd holds, depth-first; async-signal-safe. Passes over the
 * directory until one removes nothing (removing entries while reading moves the rest). */
static void empty_dir(int fd, int depth)
{
    char buf[4096] __attribute__((aligned(8)));
    for (int removed = 1; removed;) {
        removed = 0;
        lseek(fd, 0, SEEK_SET);
        long n;
        while ((n = syscall(SYS_getdents64, fd, buf, sizeof buf)) > 0) {
            for (long off = 0; off < n;) {
                struct linux_dirent64 *e = (struct linux_dirent64 *)(buf + off);
                off += e->d_reclen;
                const char *name = e->d_name;
                if (name[0] == '.' && (!name[1] || (name[1] == '.' && !name[2])))
                    continue;
                if (unlinkat(fd, name, 0) == 0) {
                    removed = 1;
                    continue;
                }
                if (depth < 16) {
                    int sub = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                    if (sub >= 0) {
                        empty_dir(sub, depth + 1);
                        close(sub);
                    }
                }
                if (unlinkat(fd, name, AT_REMOVEDIR) == 0)
                    removed = 1;
            }
        }
    }
}

void lg_temp_remove_all(void)
{
    for (int i = 0; i < SLOTS; i++) {
        if (atomic_load(&slots[i].state) != LIVE)
            continue;
        if (!slots[i].is_dir) {
            unlink(slots[i].path);
            continue;
        }
        int fd = open(slots[i].path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd >= 0) {
            empty_dir(fd, 0);
            close(fd);
        }
        rmdir(slots[i].path);
    }
}

static void on_signal(int sig)
{
    lg_temp_remove_all();
    signal(sig, SIG_DFL);
    raise(sig); /* the exit status still says which signal stopped the process */
}

void lg_cleanup_on_signals(void)
{
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGQUIT};
    for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++) {
        struct sigaction sa, old;
        if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN)
            continue; /* ignored by the parent (nohup, a background job): keep it so */
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(sigs[i], &sa, NULL);
    }
}
