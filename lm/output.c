/* The output rule (lg_io.h): an output never destroys an input or data the user did not
 * ask to replace. */
#include "lg_io.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The absolute path that path names, symbolic links resolved as far as it exists: the
 * realpath of its longest existing ancestor with the rest of path appended. */
static void resolve(const char *path, char out[PATH_MAX * 2])
{
    char norm[PATH_MAX], head[PATH_MAX], real[PATH_MAX];
    size_t n = strlen(path);
    if (n >= sizeof head) { /* too long to resolve: compared as given */
        snprintf(out, PATH_MAX * 2, "%.*s", PATH_MAX * 2 - 1, path);
        return;
    }
    while (n > 1 && path[n - 1] == '/') /* "dir/" names what "dir" names */
        n--;
    memcpy(norm, path, n);
    norm[n] = '\0';
    path = norm;
    memcpy(head, path, n + 1);
    const char *tail = ""; /* the part of path below head ("/a/b"), or all of it */
    int relative_tail = 0; /* tail is all of path: a "/" goes between */
    for (;;) {
        while (n > 1 && head[n - 1] == '/')
            head[--n] = '\0';
        if (realpath(n ? head : ".", real)) {
            size_t r = strcmp(real, "/") ? strlen(real) : 0, t = strlen(tail);
            if (r + relative_tail + t >= PATH_MAX * 2)
                t = PATH_MAX * 2 - 1 - r - relative_tail;
            memcpy(out, real, r);
            if (relative_tail)
                out[r] = '/';
            memcpy(out + r + relative_tail, tail, t);
            out[r + relative_tail + t] = '\0';
            if (!out[0])
                strcpy(out, "/");
            return;
        }
        char *slash = strrchr(head, '/');
        if (!slash) { /* "name": below the current directory */
            tail = path;
            relative_tail = 1;
            head[n = 0] = '\0';
        } else {
            tail = path + (slash - head);
            n = slash == head ? 1 : (size_t)(slash - head); /* "/x" -> "/", "a/b" -> "a" */
            head[n] = '\0';
        }
    }
}

/* 1 when a is b or lies inside it. */
static int within(const char *a, const char *b)
{
    if (!strcmp(b, "/"))
        return 1;
    size_t n = strlen(b);
    return !strncmp(a, b, n) && (a[n] == '\0' || a[n] == '/');
}

static int is_empty_dir(const char *path)
{
    DIR *d = opendir(path);
    if (!d)
        return 0;
    const struct dirent *e;
    int empty = 1;
    while (empty && (e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            empty = 0;
    closedir(d);
    return empty;
}

/* 1 when DIR/.lingraft-output names writer. */
static int marked_by(const char *dir, const char *writer)
{
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/" LG_OUTPUT_MARKER, dir);
    struct stat sb;
    if (stat(path, &sb) != 0)
        return 0;
    cJSON *j = lg_json_read(path, 1 << 16, NULL);
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(j, "written_by");
    int same = cJSON_IsString(w) && writer && !strcmp(w->valuestring, writer);
    cJSON_Delete(j);
    return same;
}

int lg_output_check(const char *path, lg_output_kind kind, const char *writer, int force,
                    const char *const *inputs, int n_inputs, lg_error *err)
{
    if (!path || !path[0])
        return lg_fail(err, "an empty output path");
    char out[PATH_MAX * 2], in[PATH_MAX * 2];
    resolve(path, out);
    for (int i = 0; i < n_inputs; i++) {
        if (!inputs[i] || !strcmp(inputs[i], "-"))
            continue;
        resolve(inputs[i], in);
        if (!strcmp(out, in))
            return lg_fail(err, "%s: the output is also an input (%s); an input is never "
                                "overwritten: choose another output", path, inputs[i]);
        if (kind != LG_OUT_TREE && within(in, out))
            return lg_fail(err, "%s: the output directory holds the input %s, which writing it "
                                "would delete: choose another output", path, inputs[i]);
        struct stat sb;
        if (stat(inputs[i], &sb) == 0 && S_ISDIR(sb.st_mode) && within(out, in))
            return lg_fail(err, "%s: the output lies inside the input directory %s, which is "
                                "never modified: choose another output", path, inputs[i]);
    }
    struct stat sb;
    if (lstat(path, &sb) != 0) {
        if (errno == ENOENT)
            return 0;
        return lg_fail(err, "%s: %s", path, strerror(errno));
    }
    if (stat(path, &sb) != 0) /* a dangling link: replacing it loses nothing */
        return 0;
    const int is_dir = S_ISDIR(sb.st_mode);
    if (kind == LG_OUT_FILE && is_dir)
        return lg_fail(err, "%s: is a directory; this output is a file", path);
    if (kind != LG_OUT_FILE && !is_dir)
        return lg_fail(err, "%s: exists and is not a directory; this output is a directory",
                       path);
    if (force || (is_dir && (is_empty_dir(path) || marked_by(path, writer))))
        return 0;
    if (is_dir)
        return lg_fail(err, "%s: the directory exists and was not written by %s; give --force "
                            "to replace it, or choose another output", path,
                       writer ? writer : "this command");
    return lg_fail(err, "%s: exists; give --force to replace it, or choose another output",
                   path);
}

int lg_output_mark(const char *dir, const char *writer, lg_error *err)
{
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/" LG_OUTPUT_MARKER, dir);
    cJSON *j = cJSON_CreateObject();
    if (!j || !cJSON_AddStringToObject(j, "written_by", writer)) {
        cJSON_Delete(j);
        return lg_fail(err, "%s: out of memory", path);
    }
    int rc = lg_json_write(path, j, err);
    cJSON_Delete(j);
    return rc;
}
