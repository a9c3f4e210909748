/* adapt list: the packs a base model carries, each checked against it. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lg_adapt_cli.h"
#include "lg_cli.h"
#include "lg_pack.h"

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int has_pack_json(const char *dir)
{
    char path[4300];
    struct stat st;
    snprintf(path, sizeof path, "%s/pack.json", dir);
    return stat(path, &st) == 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Checks one pack and prints its row; 1 when it is bad (the reason on stderr). */
static int list_one(const char *base, const char *pack)
{
    lg_pack_summary s;
    lg_error err;
    if (lg_pack_verify(base, pack, &s, &err) < 0) {
        printf("%-32s BAD\n", pack);
        fprintf(stderr, "adapt list: %s: %s\n", pack, err.msg);
        return 1;
    }
    printf("%-32s ok   %-6s %-6s %-8s %6lld  %-7s %s\n", pack, s.language[0] ? s.language : "-",
           s.script[0] ? s.script : "-", s.method[0] ? s.method : "-", s.vocab_size,
           s.has_adapter ? "adapter" : "-", s.has_vectors ? "vectors" : "-");
    return 0;
}

/* The packs in DIR: its subdirectories that hold a pack.json or are named *.pack. */
static int list_dir(const char *base, const char *dir, int *n_packs)
{
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "adapt list: %s: cannot read the directory\n", dir);
        return 1;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    const struct dirent *e;
    int bad = 0;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        size_t len = strlen(e->d_name);
        int named = len > 5 && !strcmp(e->d_name + len - 5, ".pack");
        if (!is_dir(path) || !(named || has_pack_json(path)))
            continue;
        if (n == cap) {
            char **t = realloc(names, (cap = cap ? 2 * cap : 16) * sizeof *t);
            if (!t) {
                bad = 1;
                break;
            }
            names = t;
        }
        if (!(names[n] = strdup(path))) {
            bad = 1;
            break;
        }
        n++;
    }
    closedir(d);
    if (bad)
        fprintf(stderr, "adapt list: out of memory\n");
    if (n)
        qsort(names, n, sizeof *names, by_name);
    for (size_t i = 0; i < n; i++) {
        bad |= list_one(base, names[i]);
        free(names[i]);
    }
    free(names);
    *n_packs += (int)n;
    return bad;
}

int lg_adapt_list(int argc, char **argv)
{
    const char *base = NULL;
    lg_cli_list packs = {0};
    lg_opt opts[] = {
        {LG_INPUT(&base), .name = "base", .flags = LG_OPT_REQUIRED, .arg = "DIR",
         .help = "the base model the packs go over"},
        {LG_INPUTS(&packs), .name = "PACK", .flags = LG_OPT_REQUIRED,
         .help = "a pack directory, a `transfer init` table, or\na directory of packs (its "
                 "subdirectories with a\npack.json or named *.pack)"},
        {0}};
    lg_cli c = {.prog = "adapt", .name = "list", .opts = opts,
                .usage = "--base DIR PACK|DIR...",
                .about = "Lists the packs a base model carries, one line each (language, "
                         "script,\ninitialisation, vocabulary, adapter, vectors), and checks "
                         "each as loading\nwould: the sha256 of every file against pack.json, "
                         "the base fingerprint,\nthe table's shapes against the base. Reads no "
                         "weights of the base. Exit 1\nwhen any pack is bad (each named on "
                         "stderr with the reason) or a directory\nholds none."};
    int rc = lg_cli_parse(&c, argc, argv);
    if (rc != LG_CLI_RUN)
        return rc;
    printf("%-32s %-4s %-6s %-6s %-8s %6s  %-7s %s\n", "pack", "", "lang", "script", "init",
           "vocab", "adapter", "vectors");
    int bad = 0, n = 0;
    for (int i = 0; i < packs.n; i++) {
        const char *p = packs.v[i];
        if (is_dir(p) && !has_pack_json(p)) {
            int before = n;
            bad |= list_dir(base, p, &n);
            if (n == before) {
                fprintf(stderr, "adapt list: %s: no packs in it (subdirectories with a "
                                "pack.json or named *.pack)\n", p);
                bad = 1;
            }
        } else {
            bad |= list_one(base, p);
            n++;
        }
    }
    printf("%d pack%s over %s%s\n", n, n == 1 ? "" : "s", base, bad ? ": some are bad" : "");
    return lg_cli_finish(&c, bad ? 1 : 0);
}
