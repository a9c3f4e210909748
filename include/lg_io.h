/* lg_io — files: bounded whole-file reads, outputs that are complete or absent, small JSON
 * files, streamed corpus lines (plain or gzip), SHA-256 checksums, and the rule every
 * output path follows (lg_output_check) with the clean-up of temporaries on a signal. */
#ifndef LG_IO_H
#define LG_IO_H

#include <cJSON.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lg_error.h"

/* ---- lg_file — reading a small whole file (JSON configs, manifests, states) into memory.
 *
 * lg_read_file returns the bytes NUL-terminated (so text parsers can take them as they
 * are), refuses files larger than `limit` bytes instead of truncating them, and names
 * the file in every error. */

/* The whole file, malloc'ed, NUL-terminated; its length in *len_out when not NULL. */
char *lg_read_file(const char *path, size_t limit, size_t *len_out, lg_error *err);

/* ---- lg_atomic_file — outputs that are either complete or absent.
 *
 * Write to a temporary file beside the destination, then lg_atomic_commit()
 * flushes, fsyncs and renames it into place; lg_atomic_abort() removes it.
 * A directory output the same way: lg_atomic_dir_begin() makes DIR.tmp.PID to write into,
 * lg_atomic_dir_commit() renames it over DIR, lg_atomic_dir_abort() removes it.
 * A crash or an error never leaves a half-written output under the real name. */

typedef struct {
    FILE *fp;            /* write here */
    char path[4096];     /* final destination */
    char tmp_path[4096]; /* DEST.tmp.PID.N in the same directory */
    int temp_slot;       /* lg_temp_register's slot + 1, 0: none */
} lg_atomic_file;

int lg_atomic_open(lg_atomic_file *af, const char *path, lg_error *err);
int lg_atomic_commit(lg_atomic_file *af, lg_error *err);
void lg_atomic_abort(lg_atomic_file *af);

/* Removes a directory tree (a failed or superseded temporary output); returns 0, or -1
 * when something could not be removed (or did not exist). */
int lg_remove_tree(const char *dir);

/* Renames a finished temporary directory into place, replacing an older one. */
int lg_atomic_replace_dir(const char *tmp_dir, const char *dir, lg_error *err);

/* Removes a directory tree without ever leaving part of it under its name: it is renamed
 * to DIR.removing.PID first (removed on a signal too), then deleted. */
int lg_remove_dir(const char *dir, lg_error *err);

typedef struct {
    const char *dir; /* final destination; must outlive the struct */
    char tmp[4096];  /* DIR.tmp.PID beside it: write here; "" once committed or removed */
    int temp_slot;   /* lg_temp_register's slot + 1, 0: none */
} lg_atomic_dir;

/* lg_atomic_dir_begin flag: first remove a DIR.tmp.PID that an earlier failure of this
 * process id left (without it, such a leftover makes begin fail). */
enum { LG_ATOMIC_DIR_CLEAR_STALE = 1 };

/* Creates d->tmp; on failure nothing was created and d->tmp is "". */
int lg_atomic_dir_begin(lg_atomic_dir *d, const char *dir, int flags, lg_error *err);
/* Renames d->tmp over d->dir (lg_atomic_replace_dir); on failure removes d->tmp. */
int lg_atomic_dir_commit(lg_atomic_dir *d, lg_error *err);
/* Removes d->tmp; does nothing after a commit, or on a zeroed struct. */
void lg_atomic_dir_abort(lg_atomic_dir *d);

/* ---- lg_json_file — small JSON files whole: read and parsed, or printed and written atomically.
 *
 * lg_json_read reads through lg_read_file (bounded, never truncating) and names the file when
 * it is not JSON; lg_json_write prints the document with a trailing newline into an atomic
 * file (lg_io.h), so a reader never sees half of it. */

/* The parsed document (cJSON_Delete it), or NULL with an error. */
cJSON *lg_json_read(const char *path, size_t limit, lg_error *err);
/* 0, or -1 with an error and no file written. */
int lg_json_write(const char *path, const cJSON *json, lg_error *err);

/* ---- lg_corpus_reader — streaming line reader for corpora: plain or gzip files, "-" for stdin.
 *
 *   lg_corpus_reader *r = lg_corpus_open("corpus.txt.gz", &err);
 *   const char *line; size_t len;
 *   while ((rc = lg_corpus_next(r, &line, &len, &err)) > 0) ... lg_corpus_line_number(r) ...
 *   lg_corpus_close(r);
 * gzip is detected by its magic bytes (zlib reads plain files unchanged), lines may be of
 * any length, the trailing "\n" (and "\r") is removed; only one line is held in memory. */

typedef struct lg_corpus_reader lg_corpus_reader;

lg_corpus_reader *lg_corpus_open(const char *path, lg_error *err);
/* 1 and the line (NUL-terminated, valid until the next call), 0 at the end, -1 on a read
 * or decompression error. */
int lg_corpus_next(lg_corpus_reader *r, const char **line, size_t *len, lg_error *err);
/* 1-based number of the line last returned. */
int64_t lg_corpus_line_number(const lg_corpus_reader *r);
/* Compressed bytes read so far, for progress against the file size. */
int64_t lg_corpus_offset(const lg_corpus_reader *r);
/* The path as given ("-" for stdin): for messages. */
const char *lg_corpus_path(const lg_corpus_reader *r);
void lg_corpus_close(lg_corpus_reader *r);

/* ---- lg_sha256 — SHA-256 (FIPS 180-4) of memory or of a file, as lowercase hex, to tie
 * outputs to the exact tokenizer files they were made for. */

typedef struct {
    uint32_t h[8];
    uint64_t total;      /* bytes hashed so far */
    uint8_t block[64];
    size_t fill;
} lg_sha256;

void lg_sha256_init(lg_sha256 *s);
void lg_sha256_update(lg_sha256 *s, const void *data, size_t len);
/* Writes 64 hex digits and a NUL into hex. */
void lg_sha256_final_hex(lg_sha256 *s, char hex[65]);
/* The checksum of a whole file. */
int lg_sha256_file(const char *path, char hex[65], lg_error *err);

/* ---- Temporaries removed on a signal.
 *
 * lg_atomic_open and lg_atomic_dir_begin register their temporaries, commit and abort
 * release them; a program calls lg_cleanup_on_signals() once, and then SIGINT, SIGTERM,
 * SIGHUP, SIGQUIT or SIGPIPE removes every registered temporary before the process ends
 * with that signal (signals its parent ignored stay ignored). Up to 64 at once. */

/* The slot, or -1 when all are taken (the temporary is then not removed on a signal). */
int lg_temp_register(const char *path, int is_dir);
void lg_temp_unregister(int slot);   /* -1 is fine */
void lg_cleanup_on_signals(void);
/* What the handler does (async-signal-safe), for tests. */
void lg_temp_remove_all(void);

/* ---- The output rule: what an output path may be.
 *
 * An output is refused when it is one of the inputs, when it is a directory that holds an
 * input (replacing it would delete the input), or when it lies inside an input directory
 * (inputs are never modified). An output that exists is refused unless the user forces
 * replacement, or it is an empty directory, or a directory whose marker file
 * (.lingraft-output, written by lg_output_mark) names the same writer ("lm init"): then it
 * is the user's previous output of the same command. A file is never replaced by a
 * directory or the other way round. */
typedef enum {
    LG_OUT_FILE,  /* a file, replaced whole */
    LG_OUT_DIR,   /* a directory, replaced whole (lg_atomic_dir) */
    LG_OUT_TREE,  /* a directory written into (training checkpoints): inputs may lie inside */
} lg_output_kind;

#define LG_OUTPUT_MARKER ".lingraft-output"

/* 0 when path may be written, else -1 with a message naming path and the way out. inputs
 * are the command's input paths ("-" and NULL are skipped). */
int lg_output_check(const char *path, lg_output_kind kind, const char *writer, int force,
                    const char *const *inputs, int n_inputs, lg_error *err);
/* Writes DIR/.lingraft-output naming the writer (atomically). */
int lg_output_mark(const char *dir, const char *writer, lg_error *err);

#endif
