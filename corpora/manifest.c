/* MANIFEST.json: recipe sources + assembly counts + output checksums. */
#include "lg_manifest.h"

#include <cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lg_io.h"

static char *read_text(const char *path, lg_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        lg_fail(err, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 65536, n = 0;
    char *s = malloc(cap);
    size_t got;
    while (s && (got = fread(s + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (cap - n < 4096) {
            char *grown = realloc(s, cap * 2);
            if (!grown) {
                free(s);
                s = NULL;
                break;
            }
            s = grown;
            cap *= 2;
        }
    }
    fclose(f);
    if (!s) {
        lg_fail(err, "%s: out of memory", path);
        return NULL;
    }
    s[n] = '\0';
    return s;
}

/* Splits line at tabs into at most max fields; returns the count. */
static int split_tabs(char *line, char **fields, int max)
{
    int n = 0;
    fields[n++] = line;
    for (char *p = line; *p && n < max; p++) {
        if (*p == '\t') {
            *p = '\0';
            fields[n++] = p + 1;
        }
    }
    return n;
}

static cJSON *packages_json(char *words)
{
    cJSON *list = cJSON_CreateArray();
    for (char *save = NULL, *w = strtok_r(words, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
        cJSON *pkg = cJSON_CreateObject();
        char *version = strchr(w, '=');
        char *sha = version ? strchr(version + 1, '=') : NULL;
        if (version)
            *version++ = '\0';
        if (sha)
            *sha++ = '\0';
        cJSON_AddStringToObject(pkg, "package", w);
        cJSON_AddStringToObject(pkg, "version", version ? version : "");
        cJSON_AddStringToObject(pkg, "sha256", sha ? sha : "");
        cJSON_AddItemToArray(list, pkg);
    }
    return list;
}

/* "files": the outputs' names and sha256 from SHA256SUMS (sha256sum's format). */
static void add_files(cJSON *root, char *sums)
{
    cJSON *files = cJSON_AddArrayToObject(root, "files");
    for (char *save = NULL, *line = strtok_r(sums, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        char *space = strchr(line, ' ');
        if (!space)
            continue;
        *space = '\0';
        char *name = space + 1;
        while (*name == ' ' || *name == '*')
            name++;
        const char *base = strrchr(name, '/');
        cJSON *file = cJSON_CreateObject();
        cJSON_AddStringToObject(file, "name", base ? base + 1 : name);
        cJSON_AddStringToObject(file, "sha256", line);
        cJSON_AddItemToArray(files, file);
    }
}

/* "built": now in UTC, and "build_seconds" when known (>= 0). */
static void add_built(cJSON *root, double build_seconds)
{
    char stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
    cJSON_AddStringToObject(root, "built", stamp);
    if (build_seconds >= 0)
        cJSON_AddNumberToObject(root, "build_seconds", build_seconds);
}

int lg_manifest_write(const char *lang, const char *dir, const char *sources_tsv,
                      double build_seconds, lg_error *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/counts.json", dir);
    char *counts_text = read_text(path, err);
    if (!counts_text)
        return -1;
    cJSON *counts = cJSON_Parse(counts_text);
    free(counts_text);
    if (!counts)
        return lg_fail(err, "%s: not valid JSON", path);
    char *table = read_text(sources_tsv, err);
    snprintf(path, sizeof path, "%s/SHA256SUMS", dir);
    char *sums = table ? read_text(path, err) : NULL;
    if (!table || !sums) {
        free(table);
        cJSON_Delete(counts);
        return -1;
    }

    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "language", lang);
    add_built(root, build_seconds);
    cJSON *source_counts = cJSON_GetObjectItemCaseSensitive(counts, "sources");
    cJSON *sources = cJSON_AddArrayToObject(root, "sources");
    cJSON *missing = cJSON_AddArrayToObject(root, "missing");
    for (char *save = NULL, *line = strtok_r(table, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        char *f[5] = {0};
        if (split_tabs(line, f, 5) < 2)
            continue;
        cJSON *s = cJSON_CreateObject();
        cJSON_AddStringToObject(s, "name", f[0]);
        cJSON_AddStringToObject(s, "status", f[1]);
        cJSON_AddItemToObject(s, "packages", packages_json(f[2] ? f[2] : (char *)""));
        cJSON_AddStringToObject(s, "licence", f[3] ? f[3] : "");
        if (f[4] && f[4][0])
            cJSON_AddStringToObject(s, "message", f[4]);
        cJSON *c = cJSON_GetObjectItemCaseSensitive(source_counts, f[0]);
        if (c)
            cJSON_AddItemToObject(s, "counts", cJSON_Duplicate(c, 1));
        if (strcmp(f[1], "ok") != 0)
            cJSON_AddItemToArray(missing, cJSON_CreateString(f[0]));
        cJSON_AddItemToArray(sources, s);
    }
    cJSON *totals = cJSON_GetObjectItemCaseSensitive(counts, "totals");
    if (totals)
        cJSON_AddItemToObject(root, "totals", cJSON_Duplicate(totals, 1));
    add_files(root, sums);
    free(table);
    free(sums);
    cJSON_Delete(counts);

    snprintf(path, sizeof path, "%s/MANIFEST.json", dir);
    int rc = lg_json_write(path, root, err);
    cJSON_Delete(root);
    return rc;
}

int lg_manifest_write_sources(const char *lang, const char *dir, cJSON *sources,
                              const char *made_by, double build_seconds, lg_error *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/counts.json", dir);
    char *counts_text = read_text(path, err);
    cJSON *counts = counts_text ? cJSON_Parse(counts_text) : NULL;
    if (counts_text && !counts)
        lg_fail(err, "%s: not valid JSON", path);
    free(counts_text);
    snprintf(path, sizeof path, "%s/SHA256SUMS", dir);
    char *sums = counts ? read_text(path, err) : NULL;
    if (!counts || !sums) {
        cJSON_Delete(counts);
        cJSON_Delete(sources);
        return -1;
    }
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "language", lang);
    cJSON_AddStringToObject(root, "made_by", made_by);
    add_built(root, build_seconds);
    cJSON *source_counts = cJSON_GetObjectItemCaseSensitive(counts, "sources");
    cJSON *s;
    cJSON_ArrayForEach(s, sources) {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(s, "name");
        cJSON *c = cJSON_IsString(name)
                       ? cJSON_GetObjectItemCaseSensitive(source_counts, name->valuestring)
                       : NULL;
        if (c)
            cJSON_AddItemToObject(s, "counts", cJSON_Duplicate(c, 1));
    }
    cJSON_AddItemToObject(root, "sources", sources);
    cJSON_AddArrayToObject(root, "missing");
    cJSON *totals = cJSON_GetObjectItemCaseSensitive(counts, "totals");
    if (totals)
        cJSON_AddItemToObject(root, "totals", cJSON_Duplicate(totals, 1));
    add_files(root, sums);
    free(sums);
    cJSON_Delete(counts);
    snprintf(path, sizeof path, "%s/MANIFEST.json", dir);
    int rc = lg_json_write(path, root, err);
    cJSON_Delete(root);
    return rc;
}
