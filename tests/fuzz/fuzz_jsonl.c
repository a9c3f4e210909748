/* libFuzzer harness: arbitrary bytes as a JSON Lines file through lg_import_jsonl, as
 * `corpora import --jsonl` reads it (cJSON a line; gzip, xz or zstd when the bytes start like
 * one), the text in the field "text". Every segment it hands on must be one non-blank line of
 * well-formed UTF-8 in a named document, and every refusal names the file. Built by `make
 * fuzz-build`, run by tests/fuzz/run.sh. */
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
    fuzz_join(path, fuzz_dir("jsonl"), "corpus.nl.jsonl");
    return 0;
}

static int segment(void *ctx, const char *doc, const char *en, const char *text, lg_error *err)
{
    (void)err;
    long *count = ctx;
    (*count)++;
    if (!doc || !doc[0] || en || !text || !text[0] || strchr(text, '\n') ||
        !lg_segment_utf8_valid(text, strlen(text)))
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_write(path, data, size);
    lg_import_options opt = {.lang = "nl", .doc_size = 3, .json_field = "text"};
    lg_import_file_stats st;
    memset(&st, 0, sizeof st);
    lg_error err = {{0}};
    long count = 0;
    if (lg_import_jsonl(path, &opt, segment, &count, &st, &err) < 0)
        fuzz_refusal(&err, path);
    else if (count != st.segments || st.bytes != (int64_t)size)
        abort();
    return 0;
}
