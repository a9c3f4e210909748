/* The dictionary variant: a bilingual word list as a parallel corpus of token ids. */
#include "lg_transfer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

int lg_init_dict_corpus(const char *path, const lg_tokenizer *base_tok,
                        const lg_tokenizer *new_tok, lg_parallel *pc, lg_error *err)
{
    gzFile gz = gzopen(path, "rb");
    if (!gz)
        return lg_fail(err, "%s: cannot open: %s", path, strerror(errno));
    char line[8192];
    lg_token_ids a = {0}, b = {0};
    int64_t line_no = 0, used = 0;
    int rc = 0;
    while (rc == 0 && gzgets(gz, line, sizeof line)) {
        line_no++;
        line[strcspn(line, "\r\n")] = 0;
        char *tab = strchr(line, '\t');
        if (!tab) {
            rc = lg_fail(err, "%s:%lld: expected `english<TAB>translation`", path, (long long)line_no);
            break;
        }
        *tab = 0;
        const char *en = line, *tr = tab + 1;
        if (!*en || !*tr)
            continue; /* an entry without one side aligns nothing */
        if (base_tok->ops->encode(base_tok, en, strlen(en), &a, err) < 0 ||
            new_tok->ops->encode(new_tok, tr, strlen(tr), &b, err) < 0) {
            rc = lg_fail_context(err, "%s:%lld", path, (long long)line_no);
            break;
        }
        if (a.n == 0 || b.n == 0)
            continue;
        int32_t *sa = malloc(a.n * sizeof *sa), *sb = malloc(b.n * sizeof *sb);
        if (!sa || !sb) {
            free(sa);
            free(sb);
            rc = lg_fail(err, "out of memory");
            break;
        }
        for (size_t i = 0; i < a.n; i++)
            sa[i] = a.ids[i];
        for (size_t i = 0; i < b.n; i++)
            sb[i] = b.ids[i];
        rc = lg_parallel_add(pc, sa, (int)a.n, sb, (int)b.n, err);
        free(sa);
        free(sb);
        used++;
    }
    gzclose(gz);
    lg_token_ids_free(&a);
    lg_token_ids_free(&b);
    if (rc == 0 && used == 0)
        rc = lg_fail(err, "%s: no usable entries", path);
    return rc;
}
