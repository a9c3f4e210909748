/* Shared by the libFuzzer harnesses tests/fuzz/fuzz_*.c (and the C++ one): a scratch
 * directory per process for parsers that take a path, whole-file writes, the fixtures'
 * place, and the rule that every refusal names the file. Built by `make fuzz-build`;
 * tests/fuzz/run.sh runs them. */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lg_error.h"
#include "lg_io.h"

/* The repository the harness was built in (the Makefile sets it): fixtures are read there. */
#ifndef LG_FUZZ_ROOT
#define LG_FUZZ_ROOT "."
#endif
#define FUZZ_FIXTURE(rel) LG_FUZZ_ROOT "/" rel

#ifdef __cplusplus
#define FUZZ_UNUSED [[maybe_unused]]
#else
#define FUZZ_UNUSED __attribute__((unused))
#endif

FUZZ_UNUSED static char fuzz_scratch[512];

FUZZ_UNUSED static void fuzz_scratch_remove(void)
{
    if (fuzz_scratch[0])
        lg_remove_tree(fuzz_scratch);
}

FUZZ_UNUSED static void fuzz_die(const char *what, const char *path)
{
    fprintf(stderr, "fuzz harness: %s %s: %s\n", what, path, strerror(errno));
    abort();
}

/* $TMPDIR/lingraft-fuzz-TAG.PID (one fixed name per process), made on the first call and
 * removed at exit. Inputs are written under it when the library's entry point takes a path. */
FUZZ_UNUSED static const char *fuzz_dir(const char *tag)
{
    if (!fuzz_scratch[0]) {
        const char *tmp = getenv("TMPDIR");
        snprintf(fuzz_scratch, sizeof fuzz_scratch, "%s/lingraft-fuzz-%s.%ld",
                 tmp && *tmp ? tmp : "/tmp", tag, (long)getpid());
        lg_remove_tree(fuzz_scratch);       /* a crashed run of the same pid left it */
        if (mkdir(fuzz_scratch, 0700) != 0)
            fuzz_die("cannot create", fuzz_scratch);
        atexit(fuzz_scratch_remove);
    }
    return fuzz_scratch;
}

/* out = dir/name (out holds 4096 bytes). */
FUZZ_UNUSED static char *fuzz_join(char *out, const char *dir, const char *name)
{
    if ((size_t)snprintf(out, 4096, "%s/%s", dir, name) >= 4096)
        abort();
    return out;
}

FUZZ_UNUSED static void fuzz_mkdir(const char *path)
{
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
        fuzz_die("cannot create", path);
}

FUZZ_UNUSED static void fuzz_symlink(const char *target, const char *path)
{
    unlink(path);
    if (access(target, R_OK) != 0)
        fuzz_die("fixture missing:", target);
    if (symlink(target, path) != 0)
        fuzz_die("cannot link", path);
}

/* Writes the bytes as the whole file (replacing it). */
FUZZ_UNUSED static void fuzz_write(const char *path, const void *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0)
        fuzz_die("cannot write", path);
}

/* A refusal must say what was refused: a message, naming `name` (the file or directory
 * the user gave). */
FUZZ_UNUSED static void fuzz_refusal(const lg_error *err, const char *name)
{
    if (!err->msg[0] || !strstr(err->msg, name)) {
        fprintf(stderr, "fuzz harness: a refusal does not name %s: '%s'\n", name, err->msg);
        abort();
    }
}

/* A sink for text the parsers write (a FILE on /dev/null, opened once). */
FUZZ_UNUSED static FILE *fuzz_null(void)
{
    static FILE *f;
    if (!f && !(f = fopen("/dev/null", "w")))
        fuzz_die("cannot open", "/dev/null");
    return f;
}

#endif
