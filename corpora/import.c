/* `corpora import` (lg_import.h): each source read once into the records the Debian recipes'
 * extractors write (SOURCE.pairs / SOURCE.mono), lg_corpus_assemble over them, SHA256SUMS
 * and MANIFEST.json, all in a temporary directory renamed into place at the end. */
#include <cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "lg_corpus_assemble.h"
#include "lg_import.h"
#include "lg_io.h"
#include "lg_manifest.h"
#include "lg_progress.h"
#include "lg_record_writer.h"

typedef struct {
    lg_record_writer *w;
    int parallel;
    lg_progress *progress;
    long segments;
} emit_ctx;

static int emit_record(void *ctx, const char *doc, const char *en, const char *text, lg_error *err)
{
    (void)err;
    emit_ctx *e = ctx;
    if (++e->segments % 65536 == 0)
        lg_progress_update(e->progress, e->segments, "segments");
    if (e->parallel) {
        const char *f[3] = {doc, en ? en : "", text};
        lg_record_put(e->w, 3, f);
    } else {
        const char *f[2] = {doc, text};
        lg_record_put(e->w, 2, f);
    }
    return 0;
}

/* A source's name from its path: the file name without the format's and the compression's
 * suffixes ("OpenSubtitles.en-nl.tmx.gz" -> "OpenSubtitles.en-nl"; a Moses source's PREFIX),
 * unique among names[]. */
static void source_name(const char *path, int moses, char *out, size_t cap, char names[][96],
                        int n)
{
    static const char *const strip[] = {".gz", ".xz", ".zst", ".zstd", ".tmx", ".tsv", ".txt",
                                        ".jsonl", ".json", ".ndjson", ".text"};
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    char name[96];
    snprintf(name, sizeof name, "%s", *base ? base : "source");
    for (int again = 1; again;) {
        again = 0;
        size_t len = strlen(name);
        for (size_t i = 0; i < sizeof strip / sizeof *strip; i++) {
            size_t sl = strlen(strip[i]);
            if (len > sl && !strcasecmp(name + len - sl, strip[i])) {
                name[len - sl] = '\0';
                again = 1;
                break;
            }
        }
    }
    size_t len = strlen(name);
    if (moses && len > 3 && !strcmp(name + len - 3, ".en")) /* PREFIX.en: the prefix */
        name[len - 3] = '\0';
    /* tabs, slashes and newlines never reach a record or a key */
    for (char *p = name; *p; p++)
        if (*p == '\t' || *p == '\n' || *p == '\r' || *p == '/')
            *p = '_';
    snprintf(out, cap, "%s", name);
    for (int k = 2;; k++) {
        int clash = 0;
        for (int i = 0; i < n; i++)
            clash |= !strcmp(names[i], out);
        if (!clash)
            return;
        snprintf(out, cap, "%.80s-%d", name, k);
    }
}

static cJSON *file_json(const char *path, const lg_import_file_stats *st)
{
    cJSON *f = cJSON_CreateObject();
    cJSON_AddStringToObject(f, "path", path);
    cJSON_AddStringToObject(f, "compression", st->format);
    cJSON_AddNumberToObject(f, "bytes", (double)st->bytes);
    cJSON_AddStringToObject(f, "sha256", st->sha256);
    return f;
}

static int read_source(const lg_import_run *run, const lg_import_source *src, const char *records,
                       lg_progress *progress, lg_import_file_stats *st,
                       lg_import_file_stats *st2, lg_error *err)
{
    lg_record_writer w;
    if (lg_record_open(&w, records, err) < 0)
        return -1;
    emit_ctx e = {.w = &w, .parallel = lg_import_is_parallel(src->format), .progress = progress};
    const lg_import_options *o = &run->read;
    int rc;
    switch (src->format) {
    case LG_IMPORT_MOSES:
        rc = lg_import_moses(src->path, src->path2, o, emit_record, &e, st, st2, err);
        break;
    case LG_IMPORT_TMX:
        rc = lg_import_tmx(src->path, o, emit_record, &e, st, err);
        break;
    case LG_IMPORT_TSV:
        rc = lg_import_tsv(src->path, o, emit_record, &e, st, err);
        break;
    case LG_IMPORT_TEXT:
        rc = lg_import_text(src->path, o, emit_record, &e, st, err);
        break;
    default:
        rc = lg_import_jsonl(src->path, o, emit_record, &e, st, err);
        break;
    }
    if (rc == 0 && st->segments == 0)
        rc = lg_fail(err, "%s: no %s in the file", src->path,
                     e.parallel ? "pairs" : "text");
    if (rc < 0) {
        lg_record_abort(&w);
        return -1;
    }
    return lg_record_commit(&w, err);
}

/* SHA256SUMS of the corpus files, in sha256sum's format. */
static int write_sums(const char *dir, const char *lang, lg_error *err)
{
    char names[4][64], path[8400];
    int n = 0;
    snprintf(names[n++], sizeof names[0], "mono.txt.gz");
    snprintf(names[n++], sizeof names[0], "heldout.txt");
    if (strcmp(lang, "en")) {
        snprintf(names[n++], sizeof names[0], "en-%s.tsv.gz", lang);
        snprintf(names[n++], sizeof names[0], "heldout.en-%s.tsv", lang);
    }
    lg_atomic_file af;
    snprintf(path, sizeof path, "%s/SHA256SUMS", dir);
    if (lg_atomic_open(&af, path, err) < 0)
        return -1;
    for (int i = 0; i < n; i++) {
        char hex[65];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (lg_sha256_file(path, hex, err) < 0) {
            lg_atomic_abort(&af);
            return -1;
        }
        fprintf(af.fp, "%s  %s\n", hex, names[i]);
    }
    return lg_atomic_commit(&af, err);
}

int lg_import_corpus(const lg_import_run *run, lg_error *err)
{
    double t0 = lg_now();
    const char *lang = run->read.lang;
    int english_only = strcmp(lang, "en") == 0;
    if (run->n_sources < 1)
        return lg_fail(err, "no input to import");
    if (run->read.doc_size < 1)
        return lg_fail(err, "the document size must be at least 1");
    for (int i = 0; i < run->n_sources; i++)
        if (english_only && lg_import_is_parallel(run->sources[i].format))
            return lg_fail(err, "%s: parallel text makes no sense for lang en",
                           run->sources[i].path);

    lg_atomic_dir stage;
    if (lg_atomic_dir_begin(&stage, run->out_dir, LG_ATOMIC_DIR_CLEAR_STALE, err) < 0)
        return -1;
    int n = run->n_sources;
    char (*names)[96] = calloc((size_t)n, sizeof *names);
    char **records = calloc((size_t)n, sizeof *records);
    lg_import_file_stats *stats = calloc((size_t)n * 2, sizeof *stats);
    cJSON *sources = cJSON_CreateArray();
    char rdir[4200];
    int rc = -1;
    if (!names || !records || !stats || !sources) {
        lg_fail(err, "out of memory");
        goto done;
    }
    snprintf(rdir, sizeof rdir, "%s/records", stage.tmp);
    if (mkdir(rdir, 0755) != 0) {
        lg_fail(err, "%s: cannot create: %s", run->out_dir, strerror(errno));
        goto done;
    }
    lg_progress progress;
    for (int i = 0; i < n; i++) {
        const lg_import_source *src = &run->sources[i];
        int parallel = lg_import_is_parallel(src->format);
        if (src->format == LG_IMPORT_MOSES && !src->path2) {
            lg_fail(err, "%s: a Moses source needs the English and the target file", src->path);
            goto done;
        }
        source_name(src->path, src->format == LG_IMPORT_MOSES, names[i], sizeof names[i], names, i);
        size_t len = strlen(rdir) + strlen(names[i]) + 16;
        if (!(records[i] = malloc(len))) {
            lg_fail(err, "out of memory");
            goto done;
        }
        snprintf(records[i], len, "%s/%s.%s", rdir, names[i], parallel ? "pairs" : "mono");
        lg_progress_start(&progress, names[i], 0);
        int r = read_source(run, src, records[i], &progress, &stats[2 * i], &stats[2 * i + 1], err);
        lg_progress_finish(&progress);
        if (r < 0)
            goto done;
        cJSON *s = cJSON_CreateObject();
        cJSON_AddStringToObject(s, "name", names[i]);
        cJSON_AddStringToObject(s, "format", lg_import_format_name(src->format));
        cJSON_AddStringToObject(s, "status", "ok");
        cJSON *files = cJSON_AddArrayToObject(s, "files");
        cJSON_AddItemToArray(files, file_json(src->path, &stats[2 * i]));
        if (src->path2)
            cJSON_AddItemToArray(files, file_json(src->path2, &stats[2 * i + 1]));
        cJSON_AddNumberToObject(s, "units_read", (double)stats[2 * i].units);
        cJSON_AddNumberToObject(s, "units_skipped", (double)stats[2 * i].skipped);
        cJSON_AddNumberToObject(s, "segments", (double)stats[2 * i].segments);
        cJSON_AddItemToArray(sources, s);
    }

    lg_assemble_options a = {.lang = lang, .out_dir = stage.tmp,
                             .heldout_permille = run->heldout_permille, .rules = run->rules,
                             .inputs = (const char *const *)records, .n_inputs = n};
    if (lg_corpus_assemble(&a, err) < 0)
        goto done;
    if (lg_remove_tree(rdir) != 0) {
        lg_fail(err, "%s: cannot remove the records: %s", run->out_dir, strerror(errno));
        goto done;
    }
    if (write_sums(stage.tmp, lang, err) < 0)
        goto done;
    rc = lg_manifest_write_sources(lang, stage.tmp, sources, "corpora import", lg_now() - t0, err);
    sources = NULL;
    if (rc < 0)
        goto done;
    rc = lg_atomic_dir_commit(&stage, err);
done:
    if (rc < 0) {
        /* an error names the user's paths, never the temporary directory's */
        char *at = stage.tmp[0] ? strstr(err->msg, stage.tmp) : NULL;
        if (at) {
            char msg[sizeof err->msg];
            snprintf(msg, sizeof msg, "%.*s%s%s", (int)(at - err->msg), err->msg, run->out_dir,
                     at + strlen(stage.tmp));
            snprintf(err->msg, sizeof err->msg, "%s", msg);
        }
        lg_atomic_dir_abort(&stage);
    }
    cJSON_Delete(sources);
    for (int i = 0; records && i < n; i++)
        free(records[i]);
    free(records);
    free(names);
    free(stats);
    return rc;
}
