/* libFuzzer harness: arbitrary bytes through the gettext .mo reader (lg_mo_parse, what
 * lg_mo_each runs over the file's bytes); every message it passes on must be readable
 * strings. Built by `make fuzz-build`, run by tests/fuzz/run.sh. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "lg_mo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t *input;
static size_t input_size;

static void inside(const char *s)
{
    size_t n = strlen(s);
    if ((const uint8_t *)s < input || (const uint8_t *)s + n >= input + input_size)
        abort();                        /* a string of the catalog, NUL-terminated in it */
}

static int message(void *ctx, const lg_mo_message *m)
{
    long *count = ctx;
    (*count)++;
    if (!m->msgid || !m->msgid[0] || m->n_msgstr < 1 || m->n_msgstr > LG_MO_MAX_FORMS)
        abort();
    if (m->context)
        (void)strlen(m->context);
    inside(m->msgid);
    if (m->msgid_plural)
        inside(m->msgid_plural);
    for (int i = 0; i < m->n_msgstr; i++)
        inside(m->msgstr[i]);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lg_error err = {{0}};
    long count = 0;
    input = data;
    input_size = size;
    long n = lg_mo_parse(data, size, "fuzz.mo", message, &count, &err);
    if (n < 0)
        fuzz_refusal(&err, "fuzz.mo");
    else if (n != count)
        abort();
    return 0;
}
