/* Corpus assembly in two streaming passes over the extracted records: the first
 * collects the held-out documents (so their text is known before any training
 * segment is written), the second writes the training files. */
#include "lg_corpus_assemble.h"

#include <cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "lg_io.h"
#include "lg_progress.h"
#include "lg_seen_set.h"

typedef struct {
    char name[128];
    int is_pairs;
    long read, kept, duplicates, heldout_overlap, malformed;
    long verdicts[LG_VERDICT_COUNT];
    long words_en, words_target;
    long docs, heldout_docs, heldout_records, heldout_words;
} source_counts;

/* A gzip stream through an lg_atomic_file: complete or absent. */
typedef struct {
    lg_atomic_file af;
    gzFile gz;
} gz_output;

static int gz_output_open(gz_output *o, const char *path, lg_error *err)
{
    if (lg_atomic_open(&o->af, path, err) < 0)
        return -1;
    int fd = dup(fileno(o->af.fp));
    o->gz = fd >= 0 ? gzdopen(fd, "wb6") : NULL;
    if (!o->gz) {
        if (fd >= 0)
            close(fd);
        lg_atomic_abort(&o->af);
        return lg_fail(err, "%s: cannot start gzip stream", path);
    }
    return 0;
}

static int gz_output_commit(gz_output *o, lg_error *err)
{
    int rc = gzclose(o->gz);
    o->gz = NULL;
    if (rc != Z_OK) {
        lg_atomic_abort(&o->af);
        return lg_fail(err, "%s: gzip write failed", o->af.path);
    }
    return lg_atomic_commit(&o->af, err);
}

static void gz_output_abort(gz_output *o)
{
    if (o->gz)
        gzclose(o->gz);
    o->gz = NULL;
    lg_atomic_abort(&o->af);
}

int lg_heldout_doc(const char *source, const char *doc, int permille)
{
    char key[4096];
    int n = snprintf(key, sizeof key, "%s/%s", source, doc);
    if (n < 0)
        return 0;
    size_t len = (size_t)n < sizeof key ? (size_t)n : sizeof key - 1;
    return (int)(lg_fingerprint(key, len) % 1000) < permille;
}

/* Reads one line (without the newline) into *buf; returns its length or -1 at the end. */
static long read_line(gzFile in, char **buf, size_t *cap)
{
    size_t n = 0;
    for (;;) {
        if (*cap - n < 2) {
            size_t grown_cap = *cap ? *cap * 2 : 65536;
            char *grown = realloc(*buf, grown_cap);
            if (!grown)
                return -2;
            *buf = grown;
            *cap = grown_cap;
        }
        if (!gzgets(in, *buf + n, (int)(*cap - n))) {
            if (n == 0)
                return -1;
            break;
        }
        n += strlen(*buf + n);
        if (n > 0 && (*buf)[n - 1] == '\n') {
            (*buf)[--n] = '\0';
            break;
        }
    }
    if (n > 0 && (*buf)[n - 1] == '\r')
        (*buf)[--n] = '\0';
    return (long)n;
}

/* SOURCE from ".../SOURCE.pairs[.gz]"; sets is_pairs. */
static int source_name(const char *path, source_counts *sc, lg_error *err)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    snprintf(sc->name, sizeof sc->name, "%s", base);
    char *gz = strstr(sc->name, ".gz");
    if (gz && !gz[3])
        *gz = '\0';
    char *dot = strrchr(sc->name, '.');
    if (dot && strcmp(dot, ".pairs") == 0)
        sc->is_pairs = 1;
    else if (dot && strcmp(dot, ".mono") == 0)
        sc->is_pairs = 0;
    else
        return lg_fail(err, "%s: input must be named SOURCE.pairs or SOURCE.mono", path);
    *dot = '\0';
    return 0;
}

typedef struct {
    const lg_assemble_options *opt;
    int english_only;
    lg_seen_set heldout_text;   /* every held-out segment, both languages */
    lg_seen_set heldout_lines;  /* heldout.txt lines already written */
    lg_seen_set heldout_pairs;
    lg_seen_set train_pairs;
    lg_seen_set mono_lines;
    FILE *heldout_txt, *heldout_tsv;
    gzFile pairs_gz, mono_gz;
    source_counts *sources;
    lg_progress progress;
    long records_done;
} assembly;

static uint64_t fp_str(const char *s)
{
    return lg_fingerprint(s, strlen(s));
}

static uint64_t fp_pair(const char *en, const char *tgt)
{
    return lg_fingerprint(en, strlen(en)) * 31 + lg_fingerprint(tgt, strlen(tgt));
}

static int write_heldout(assembly *a, source_counts *sc, const char *en, const char *text)
{
    if (lg_seen_add(&a->heldout_text, fp_str(text)) < 0 ||
        (en && lg_seen_add(&a->heldout_text, fp_str(en)) < 0))
        return -1;
    if (en) {
        int fresh = lg_seen_add(&a->heldout_pairs, fp_pair(en, text));
        if (fresh < 0)
            return -1;
        if (fresh)
            fprintf(a->heldout_tsv, "%s\t%s\n", en, text);
    }
    int fresh = lg_seen_add(&a->heldout_lines, fp_str(text));
    if (fresh < 0)
        return -1;
    if (fresh) {
        fprintf(a->heldout_txt, "%s\n", text);
        sc->heldout_records++;
        sc->heldout_words += lg_segment_words(text);
    }
    return 0;
}

/* Adds a target segment to mono.txt.gz unless already there. */
static int write_mono(assembly *a, const char *text, int *written)
{
    int fresh = lg_seen_add(&a->mono_lines, fp_str(text));
    if (fresh < 0)
        return -1;
    *written = fresh;
    if (fresh && (gzputs(a->mono_gz, text) < 0 || gzputc(a->mono_gz, '\n') < 0))
        return -1;
    return 0;
}

/* Handles one record in the given pass (0: held-out, 1: training). */
static int take_record(assembly *a, source_counts *sc, int pass, char *line, const char *path,
                       long lineno, lg_error *err)
{
    char *doc = line;
    char *tab = strchr(line, '\t');
    if (!tab) {
        if (pass == 1)
            sc->malformed++;
        return 0;
    }
    *tab = '\0';
    char *en = NULL, *text = tab + 1;
    if (sc->is_pairs) {
        char *tab2 = strchr(text, '\t');
        if (!tab2) {
            if (pass == 1)
                sc->malformed++;
            return 0;
        }
        *tab2 = '\0';
        en = text;
        text = tab2 + 1;
    }
    int heldout = lg_heldout_doc(sc->name, doc, a->opt->heldout_permille);
    if (pass == 1) {
        sc->read++;
    }
    if (heldout != (pass == 0))
        return 0;
    lg_verdict v = en ? lg_pair_check(en, text, &a->opt->rules)
                      : lg_segment_clean(text, &a->opt->rules);
    if (pass == 0) {
        if (v == LG_VERDICT_KEPT && write_heldout(a, sc, en, text) < 0)
            return lg_fail(err, "%s:%ld: out of memory", path, lineno);
        return 0;
    }
    sc->verdicts[v]++;
    if (v != LG_VERDICT_KEPT)
        return 0;
    if (lg_seen_has(&a->heldout_text, fp_str(text)) ||
        (en && lg_seen_has(&a->heldout_text, fp_str(en)))) {
        sc->heldout_overlap++;
        return 0;
    }
    if (en) {
        int fresh = lg_seen_add(&a->train_pairs, fp_pair(en, text));
        if (fresh < 0)
            return lg_fail(err, "out of memory");
        if (!fresh) {
            sc->duplicates++;
            return 0;
        }
        if (gzputs(a->pairs_gz, en) < 0 || gzputc(a->pairs_gz, '\t') < 0 ||
            gzputs(a->pairs_gz, text) < 0 || gzputc(a->pairs_gz, '\n') < 0)
            return lg_fail(err, "%s: write failed", a->opt->out_dir);
        sc->kept++;
        sc->words_en += lg_segment_words(en);
        sc->words_target += lg_segment_words(text);
        int written;
        if (write_mono(a, text, &written) < 0)
            return lg_fail(err, "%s: mono.txt.gz: write failed", a->opt->out_dir);
        return 0;
    }
    int written;
    if (write_mono(a, text, &written) < 0)
        return lg_fail(err, "%s: mono.txt.gz: write failed", a->opt->out_dir);
    if (!written) {
        sc->duplicates++;
        return 0;
    }
    sc->kept++;
    sc->words_target += lg_segment_words(text);
    return 0;
}

static int run_pass(assembly *a, int pass, lg_error *err)
{
    const lg_assemble_options *opt = a->opt;
    char *buf = NULL;
    size_t cap = 0;
    for (int i = 0; i < opt->n_inputs; i++) {
        source_counts *sc = &a->sources[i];
        gzFile in = gzopen(opt->inputs[i], "rb");
        if (!in) {
            free(buf);
            return lg_fail(err, "%s: cannot open: %s", opt->inputs[i], strerror(errno));
        }
        gzbuffer(in, 1 << 18);
        long n, lineno = 0;
        char last_doc[1024] = "";
        while ((n = read_line(in, &buf, &cap)) >= 0) {
            lineno++;
            if (pass == 1) {
                const char *tab = strchr(buf, '\t');
                size_t dl = tab ? (size_t)(tab - buf) : 0;
                if (dl && (dl >= sizeof last_doc || strncmp(last_doc, buf, dl) != 0 || last_doc[dl])) {
                    snprintf(last_doc, sizeof last_doc, "%.*s", (int)dl, buf);
                    sc->docs++;
                    if (lg_heldout_doc(sc->name, last_doc, opt->heldout_permille))
                        sc->heldout_docs++;
                }
            }
            if (take_record(a, sc, pass, buf, opt->inputs[i], lineno, err) < 0) {
                gzclose(in);
                free(buf);
                return -1;
            }
            if (++a->records_done % 4096 == 0)
                lg_progress_update(&a->progress, a->records_done, "%s", sc->name);
        }
        int bad = n == -2;
        int zerr;
        const char *zmsg = gzerror(in, &zerr);
        gzclose(in);
        if (bad || (zerr != Z_OK && zerr != Z_STREAM_END)) {
            free(buf);
            return lg_fail(err, "%s: read failed: %s", opt->inputs[i], bad ? "out of memory" : zmsg);
        }
    }
    free(buf);
    return 0;
}

static cJSON *counts_json(const assembly *a)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *sources = cJSON_AddObjectToObject(root, "sources");
    long tot[6] = {0};
    for (int i = 0; i < a->opt->n_inputs; i++) {
        const source_counts *sc = &a->sources[i];
        cJSON *s = cJSON_AddObjectToObject(sources, sc->name);
        cJSON_AddStringToObject(s, "kind", sc->is_pairs ? "pairs" : "mono");
        cJSON_AddNumberToObject(s, "documents", (double)sc->docs);
        cJSON_AddNumberToObject(s, "heldout_documents", (double)sc->heldout_docs);
        cJSON_AddNumberToObject(s, "records_read", (double)sc->read);
        cJSON *dropped = cJSON_AddObjectToObject(s, "dropped");
        for (int v = 1; v < LG_VERDICT_COUNT; v++)
            cJSON_AddNumberToObject(dropped, lg_verdict_name((lg_verdict)v), (double)sc->verdicts[v]);
        cJSON_AddNumberToObject(dropped, "duplicate", (double)sc->duplicates);
        cJSON_AddNumberToObject(dropped, "equals_heldout", (double)sc->heldout_overlap);
        cJSON_AddNumberToObject(dropped, "malformed_line", (double)sc->malformed);
        cJSON_AddNumberToObject(s, sc->is_pairs ? "pairs_kept" : "lines_kept", (double)sc->kept);
        if (sc->is_pairs)
            cJSON_AddNumberToObject(s, "words_en", (double)sc->words_en);
        cJSON_AddNumberToObject(s, "words_target", (double)sc->words_target);
        cJSON_AddNumberToObject(s, "heldout_segments", (double)sc->heldout_records);
        cJSON_AddNumberToObject(s, "heldout_words", (double)sc->heldout_words);
        if (sc->is_pairs) {
            tot[0] += sc->kept;
            tot[1] += sc->words_en;
            tot[2] += sc->words_target;
        } else {
            tot[3] += sc->kept;
            tot[4] += sc->words_target;
        }
        tot[5] += sc->heldout_words;
    }
    cJSON *t = cJSON_AddObjectToObject(root, "totals");
    cJSON_AddNumberToObject(t, "pairs", (double)tot[0]);
    cJSON_AddNumberToObject(t, "pair_words_en", (double)tot[1]);
    cJSON_AddNumberToObject(t, "pair_words_target", (double)tot[2]);
    cJSON_AddNumberToObject(t, "mono_only_lines", (double)tot[3]);
    cJSON_AddNumberToObject(t, "mono_only_words", (double)tot[4]);
    cJSON_AddNumberToObject(t, "mono_lines", (double)a->mono_lines.count);
    cJSON_AddNumberToObject(t, "heldout_lines", (double)a->heldout_lines.count);
    cJSON_AddNumberToObject(t, "heldout_pairs", (double)a->heldout_pairs.count);
    cJSON_AddNumberToObject(t, "heldout_words", (double)tot[5]);
    return root;
}

int lg_corpus_assemble(const lg_assemble_options *opt, lg_error *err)
{
    assembly a = {.opt = opt, .english_only = strcmp(opt->lang, "en") == 0};
    lg_seen_init(&a.heldout_text);
    lg_seen_init(&a.heldout_lines);
    lg_seen_init(&a.heldout_pairs);
    lg_seen_init(&a.train_pairs);
    lg_seen_init(&a.mono_lines);
    a.sources = calloc((size_t)opt->n_inputs + 1, sizeof *a.sources);
    char path[4096];
    lg_atomic_file heldout_txt = {0}, heldout_tsv = {0}, counts = {0};
    gz_output pairs = {0}, mono = {0};
    int rc = -1;
    if (!a.sources) {
        lg_fail(err, "out of memory");
        goto done;
    }
    for (int i = 0; i < opt->n_inputs; i++) {
        if (source_name(opt->inputs[i], &a.sources[i], err) < 0)
            goto done;
        if (a.sources[i].is_pairs && a.english_only) {
            lg_fail(err, "%s: pairs make no sense for lang en", opt->inputs[i]);
            goto done;
        }
    }
    snprintf(path, sizeof path, "%s/heldout.txt", opt->out_dir);
    if (lg_atomic_open(&heldout_txt, path, err) < 0)
        goto done;
    a.heldout_txt = heldout_txt.fp;
    if (!a.english_only) {
        snprintf(path, sizeof path, "%s/heldout.en-%s.tsv", opt->out_dir, opt->lang);
        if (lg_atomic_open(&heldout_tsv, path, err) < 0)
            goto done;
        a.heldout_tsv = heldout_tsv.fp;
        snprintf(path, sizeof path, "%s/en-%s.tsv.gz", opt->out_dir, opt->lang);
        if (gz_output_open(&pairs, path, err) < 0)
            goto done;
        a.pairs_gz = pairs.gz;
    }
    snprintf(path, sizeof path, "%s/mono.txt.gz", opt->out_dir);
    if (gz_output_open(&mono, path, err) < 0)
        goto done;
    a.mono_gz = mono.gz;

    lg_progress_start(&a.progress, "held-out", 0);
    if (run_pass(&a, 0, err) < 0)
        goto done;
    lg_progress_finish(&a.progress);
    a.records_done = 0;
    lg_progress_start(&a.progress, "training", 0);
    if (run_pass(&a, 1, err) < 0)
        goto done;
    lg_progress_finish(&a.progress);

    cJSON *json = counts_json(&a);
    char *text = json ? cJSON_Print(json) : NULL;
    cJSON_Delete(json);
    snprintf(path, sizeof path, "%s/counts.json", opt->out_dir);
    if (!text || lg_atomic_open(&counts, path, err) < 0) {
        if (!text)
            lg_fail(err, "out of memory");
        free(text);
        goto done;
    }
    fprintf(counts.fp, "%s\n", text);
    free(text);
    if (lg_atomic_commit(&heldout_txt, err) < 0 ||
        (a.heldout_tsv && lg_atomic_commit(&heldout_tsv, err) < 0) ||
        (a.pairs_gz && gz_output_commit(&pairs, err) < 0) ||
        gz_output_commit(&mono, err) < 0 || lg_atomic_commit(&counts, err) < 0)
        goto done;
    rc = 0;
done:
    if (rc < 0) {
        lg_atomic_abort(&heldout_txt);
        lg_atomic_abort(&heldout_tsv);
        lg_atomic_abort(&counts);
        if (pairs.gz || pairs.af.fp)
            gz_output_abort(&pairs);
        if (mono.gz || mono.af.fp)
            gz_output_abort(&mono);
    }
    lg_seen_free(&a.heldout_text);
    lg_seen_free(&a.heldout_lines);
    lg_seen_free(&a.heldout_pairs);
    lg_seen_free(&a.train_pairs);
    lg_seen_free(&a.mono_lines);
    free(a.sources);
    return rc;
}
