// libFuzzer harness: arbitrary bytes as a SentencePiece .model through lingraft's loader
// (lg_spm_load_serialized: its own protobuf reading, then libsentencepiece; what
// lg_spm_load and lg_tokenizer_load run over a file's bytes). A model it accepts must
// answer look-ups, encode and decode; extending tests/data/gguf/tiny301.model with it
// (lg_spm_proto_extend, as `tokenize extend` does) must give a model that loads, keeps
// every base id and adds the pieces reported. Built by `make fuzz-build`, run by
// tests/fuzz/run.sh.
#include <cstdint>
#include <cstdlib>
#include <cstring>

extern "C" {
#include "fuzz_common.h"
#include "lg_spm.h"
}
#include "spm_proto.h"

extern "C" int LLVMFuzzerInitialize(int *argc, char ***argv);
extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *base_bytes;
static size_t base_len;
static lg_spm *base;

extern "C" int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    lg_error err = {{0}};
    const char *path = FUZZ_FIXTURE("tests/data/gguf/tiny301.model");
    if (!(base_bytes = lg_read_file(path, 1 << 20, &base_len, &err)) ||
        !(base = lg_spm_load_serialized(base_bytes, base_len, path, &err))) {
        fprintf(stderr, "fuzz harness: %s\n", err.msg);
        abort();
    }
    return 0;
}

static void use_model(const lg_spm *m)
{
    lg_error err = {{0}};
    int n = lg_spm_vocab_size(m);
    for (int id = 0; id < n; id++) {
        const char *piece = lg_spm_id_to_piece(m, id);
        int back = lg_spm_piece_to_id(m, piece);
        if (back != -1 && strcmp(lg_spm_id_to_piece(m, back), piece) != 0)
            abort();
        (void)lg_spm_score(m, id);
        int type = lg_spm_type(m, id);
        if (type < 1 || type > 6)
            abort();
    }
    if (lg_spm_id_to_piece(m, n)[0] || lg_spm_id_to_piece(m, -1)[0])
        abort();
    int specials[] = {lg_spm_unk_id(m), lg_spm_bos_id(m), lg_spm_eos_id(m), lg_spm_pad_id(m)};
    for (int s : specials)
        if (s < -1 || s >= n)
            abort();
    static const char text[] = "The pack\xe2\x80\x99s 12 \xc4\xb3sberen d\xc3\xa9j\xc3\xa0 vu.\n\tx";
    lg_token_ids ids = {};
    if (lg_spm_encode(m, text, sizeof text - 1, &ids, &err) == 0) {
        for (size_t i = 0; i < ids.n; i++)
            if (ids.ids[i] < 0 || ids.ids[i] >= n)
                abort();
        free(lg_spm_decode(m, ids.ids, ids.n, &err));
    }
    lg_token_ids_free(&ids);
    lg_spm_pieces pieces = {};
    if (lg_spm_encode_pieces(m, text, sizeof text - 1, &pieces, &err) == 0 && pieces.n) {
        const char **list = static_cast<const char **>(malloc(pieces.n * sizeof *list));
        const char *p = pieces.data;
        for (size_t i = 0; i < pieces.n; i++, p += strlen(p) + 1)
            list[i] = p;
        free(lg_spm_decode_pieces(m, list, pieces.n, &err));
        free(list);
    }
    lg_spm_pieces_free(&pieces);
}

// The promise `tokenize extend` checks: the merged model loads, every base id keeps its
// piece and type, and it has the base's pieces plus those reported added.
static void extend(const uint8_t *target, size_t len)
{
    lg_error err = {{0}};
    uint8_t *merged;
    size_t merged_len, n_added;
    int *target_ids;
    if (lg_spm_proto_extend(reinterpret_cast<const uint8_t *>(base_bytes), base_len, "base.model",
                            target, len, "fuzz.model", LG_SPM_SCORE_BELOW, &merged, &merged_len,
                            &target_ids, &n_added, &err) < 0) {
        /* the one refusal allowed: a piece SentencePiece cannot key (a NUL byte in it) */
        if (!strstr(err.msg, "NUL byte")) {
            fprintf(stderr, "fuzz harness: a model that loads cannot extend another: %s\n",
                    err.msg);
            abort();
        }
        fuzz_refusal(&err, "fuzz.model");
        return;
    }
    lg_spm *m = lg_spm_load_serialized(merged, merged_len, "merged.model", &err);
    if (!m) {
        fprintf(stderr, "fuzz harness: the extended model does not load: %s\n", err.msg);
        abort();
    }
    int base_n = lg_spm_vocab_size(base);
    if (lg_spm_vocab_size(m) != base_n + static_cast<int>(n_added))
        abort();
    for (int id = 0; id < base_n; id++)
        if (strcmp(lg_spm_id_to_piece(base, id), lg_spm_id_to_piece(m, id)) ||
            lg_spm_type(base, id) != lg_spm_type(m, id))
            abort();
    use_model(m);
    lg_spm_free(m);
    free(merged);
    free(target_ids);
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lg_error err = {{0}};
    lg_spm *m = lg_spm_load_serialized(data, size, "fuzz.model", &err);
    if (!m) {
        fuzz_refusal(&err, "fuzz.model");
        return 0;
    }
    use_model(m);
    uint8_t *copy;
    size_t copy_len;
    if (lg_spm_serialized(m, &copy, &copy_len, &err) != 0 || copy_len != size ||
        (size && memcmp(copy, data, size)))
        abort();
    free(copy);
    lg_spm_free(m);
    extend(data, size);
    return 0;
}
