/* libFuzzer harness: arbitrary bytes as a TMX file through lg_import_tmx, as `corpora import
 * --tmx` reads it (expat, streamed; gzip, xz or zstd when the bytes start like one), en and
 * nl chosen by xml:lang. Every pair it hands on must be two well-formed UTF-8 strings of a
 * named document, and every refusal names the file. Built by `make fuzz-build`, run by
 * tests/fuzz/run.sh. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "lg_import.h"
#include "lg_segment.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[4096];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fuzz_join(path, fuzz_dir("tmx"), "corpus.en-nl.tmx");
    return 0;
}

static int pair(void *ctx, const char *doc, const char *en, const char *text, lg_error *err)
{
    (void)err;
    long *count = ctx;
    (*count)++;
    if (!doc || !doc[0] || !en || !text || !lg_segment_utf8_valid(en, strlen(en)) ||
        !lg_segment_utf8_valid(text, strlen(text)))
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_write(path, data, size);
    /* odd sizes skip a <tu> without both languages, even ones refuse it */
    lg_import_options opt = {.lang = "nl", .doc_size = 3, .tmx_skip_incomplete = (int)(size & 1)};
    lg_import_file_stats st;
    memset(&st, 0, sizeof st);
    lg_error err = {{0}};
    long count = 0;
    if (lg_import_tmx(path, &opt, pair, &count, &st, &err) < 0)
        fuzz_refusal(&err, path);
    else if (count != st.segments || count < 1 || st.bytes != (int64_t)size ||
             (!opt.tmx_skip_incomplete && st.skipped))
        abort();
    return 0;
}
