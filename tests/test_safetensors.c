/* safetensors: the real Hugging Face fixtures read right (checked against the values HF
 * itself wrote into reference.safetensors), the writer round-trips, the half-float
 * conversions round to nearest even, and every kind of broken file is refused with a
 * message naming the file and the problem. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <cJSON.h>
#include <dirent.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lg_model.h"
#include "lg_safetensors.h"

#define FIX "tests/fixtures/hf"
#define LLAMA FIX "/llama-tiny"
#define SHARDED FIX "/llama-tiny-tied-bf16-sharded"

typedef struct {
    char dir[64];
} fixture;

/* ------------------------------------------------------------ helpers */

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    buf[n] = 0;
    *len = (size_t)n;
    return buf;
}

static void spit(const char *path, const void *bytes, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(bytes, 1, len, f), len);
    fclose(f);
}

static uint64_t header_len(const unsigned char *b)
{
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--)
        n = n << 8 | b[i];
    return n;
}

static void set_header_len(unsigned char *b, uint64_t n)
{
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(n >> (8 * i));
}

/* A file with the given header and `data_len` zero data bytes. */
static void make_file(const char *path, const char *header, size_t data_len)
{
    size_t h = strlen(header), len = 8 + h + data_len;
    unsigned char *b = calloc(1, len);
    set_header_len(b, h);
    memcpy(b + 8, header, h);
    spit(path, b, len);
    free(b);
}

/* Opening `path` fails and the message names the file and contains `problem`. */
static void assert_refused(const char *path, const char *problem)
{
    lg_error err = {{0}};
    lg_safetensors *st = lg_st_open(path, &err);
    if (st || !strstr(err.msg, path) || !strstr(err.msg, problem))
        fail_msg("%s: expected a refusal mentioning '%s', got %s: '%s'", path, problem,
                 st ? "success" : "failure", err.msg);
    lg_st_close(st);
}

static int remove_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb; (void)flag; (void)ftw;
    return remove(p);
}

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    snprintf(fx->dir, sizeof fx->dir, "build/test_st_XXXXXX");
    if (!mkdtemp(fx->dir))
        return -1;
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    nftw(fx->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(fx);
    return 0;
}

static const lg_tensor_info *must_find(const lg_safetensors *st, const char *name)
{
    const lg_tensor_info *t = lg_st_find(st, name);
    if (!t)
        fail_msg("tensor %s not found", name);
    return t;
}

/* ------------------------------------------------------- real fixtures */

static void llama_tiny_names_and_shapes_match_config(void **state)
{
    (void)state;
    lg_error err = {{0}};
    lg_config cfg;
    assert_int_equal(lg_config_load_dir(LLAMA, &cfg, &err), 0);
    lg_safetensors *st = lg_st_open(LLAMA "/model.safetensors", &err);
    assert_non_null(st);
    int64_t C = cfg.hidden_size, V = cfg.vocab_size, I = cfg.intermediate_size;
    int64_t q = (int64_t)cfg.n_heads * cfg.head_dim, kv = (int64_t)cfg.n_kv_heads * cfg.head_dim;
    /* embed, final norm, untied head, 9 tensors per layer */
    assert_int_equal(lg_st_count(st), 3 + 9 * cfg.n_layers);
    assert_int_equal(lg_tensor_expect_shape(must_find(st, "model.embed_tokens.weight"), 2,
                                            (int64_t[]){V, C}, &err), 0);
    assert_int_equal(lg_tensor_expect_shape(must_find(st, "lm_head.weight"), 2,
                                            (int64_t[]){V, C}, &err), 0);
    assert_int_equal(lg_tensor_expect_shape(must_find(st, "model.norm.weight"), 1,
                                            (int64_t[]){C}, &err), 0);
    char name[128];
    for (int l = 0; l < cfg.n_layers; l++) {
        struct { const char *suffix; int ndim; int64_t shape[2]; } expect[] = {
            {"self_attn.q_proj.weight", 2, {q, C}}, {"self_attn.k_proj.weight", 2, {kv, C}},
            {"self_attn.v_proj.weight", 2, {kv, C}}, {"self_attn.o_proj.weight", 2, {C, q}},
            {"mlp.gate_proj.weight", 2, {I, C}}, {"mlp.up_proj.weight", 2, {I, C}},
            {"mlp.down_proj.weight", 2, {C, I}}, {"input_layernorm.weight", 1, {C, 0}},
            {"post_attention_layernorm.weight", 1, {C, 0}},
        };
        for (size_t k = 0; k < sizeof expect / sizeof expect[0]; k++) {
            snprintf(name, sizeof name, "model.layers.%d.%s", l, expect[k].suffix);
            const lg_tensor_info *t = must_find(st, name);
            assert_int_equal(t->dtype, LG_DT_F32);
            if (lg_tensor_expect_shape(t, expect[k].ndim, expect[k].shape, &err) != 0)
                fail_msg("%s", err.msg);
        }
    }
    assert_null(lg_st_find(st, "model.layers.2.mlp.up_proj.weight"));
    /* Every tensor is reachable by index and found by its own name. */
    for (int i = 0; i < lg_st_count(st); i++)
        assert_ptr_equal(lg_st_find(st, lg_st_tensor(st, i)->name), lg_st_tensor(st, i));
    /* A wrong expectation gets a message naming file, tensor and both shapes. */
    assert_int_equal(lg_tensor_expect_shape(must_find(st, "model.embed_tokens.weight"), 2,
                                            (int64_t[]){V + 1, C}, &err), -1);
    assert_non_null(strstr(err.msg, "model.safetensors"));
    assert_non_null(strstr(err.msg, "model.embed_tokens.weight has shape [301, 64], "
                                    "expected [302, 64]"));
    lg_st_close(st);
}

/* hidden.0 in HF's reference is the embedding rows of input_ids: an oracle for the values. */
static void check_embeddings_against_reference(const lg_tensor_info *embed, const char *ref_path)
{
    lg_error err = {{0}};
    lg_safetensors *ref = lg_st_open(ref_path, &err);
    assert_non_null(ref);
    const lg_tensor_info *ids = lg_st_find(ref, "input_ids");
    const lg_tensor_info *h0 = lg_st_find(ref, "hidden.0");
    assert_non_null(ids);
    assert_non_null(h0);
    assert_int_equal(ids->dtype, LG_DT_I64);
    assert_int_equal(ids->ndim, 2);
    int64_t C = embed->shape[1], V = embed->shape[0];
    assert_int_equal(h0->numel, ids->numel * C);
    int64_t *tok = malloc((size_t)ids->numel * sizeof *tok);
    float *e = malloc((size_t)embed->numel * sizeof *e);
    float *h = malloc((size_t)h0->numel * sizeof *h);
    assert_int_equal(lg_tensor_to_i64(ids, tok, &err), 0);
    assert_int_equal(lg_tensor_to_f32(embed, e, &err), 0);
    assert_int_equal(lg_tensor_to_f32(h0, h, &err), 0);
    for (int64_t i = 0; i < ids->numel; i++) {
        assert_in_range(tok[i], 0, V - 1);
        for (int64_t c = 0; c < C; c++)
            if (e[tok[i] * C + c] != h[i * C + c])
                fail_msg("token %lld dim %lld: %g != reference %g", (long long)tok[i],
                         (long long)c, e[tok[i] * C + c], h[i * C + c]);
    }
    /* I64 is not a float type: a clear refusal. */
    assert_int_equal(lg_tensor_to_f32(ids, h, &err), -1);
    assert_non_null(strstr(err.msg, "input_ids"));
    free(tok);
    free(e);
    free(h);
    lg_st_close(ref);
}

static void llama_tiny_values_match_reference(void **state)
{
    (void)state;
    lg_error err = {{0}};
    lg_weights *w = lg_weights_open_dir(LLAMA, &err);
    assert_non_null(w);
    const lg_tensor_info *embed = lg_weights_find(w, "model.embed_tokens.weight");
    assert_non_null(embed);
    check_embeddings_against_reference(embed, LLAMA "/reference.safetensors");
    lg_weights_close(w);
}

/* lg_weights_drop: the tensor leaves the set's index (count, find, the sorted walk), the
 * others stay found, a pointer taken before stays valid; dropping it again is -1 */
static void weights_drop_leaves_one_out(void **state)
{
    (void)state;
    lg_error err = {{0}};
    lg_weights *w = lg_weights_open_dir(LLAMA, &err);
    assert_non_null(w);
    const int n = lg_weights_count(w);
    assert_true(n > 3);
    const lg_tensor_info *mid = lg_weights_tensor(w, n / 2);
    const lg_tensor_info *first = lg_weights_tensor(w, 0), *last = lg_weights_tensor(w, n - 1);
    const char *name = mid->name;
    assert_int_equal(lg_weights_drop(w, name), 0);
    assert_int_equal(lg_weights_count(w), n - 1);
    assert_null(lg_weights_find(w, name));
    assert_ptr_equal(lg_weights_find(w, first->name), first);
    assert_ptr_equal(lg_weights_find(w, last->name), last);
    for (int i = 0; i < n - 1; i++) {
        assert_ptr_not_equal(lg_weights_tensor(w, i), mid);
        assert_ptr_equal(lg_weights_find(w, lg_weights_tensor(w, i)->name), lg_weights_tensor(w, i));
    }
    assert_string_equal(mid->name, name); /* still valid */
    assert_int_equal(lg_weights_drop(w, name), -1);
    assert_int_equal(lg_weights_drop(w, last->name), 0); /* the last one too */
    assert_int_equal(lg_weights_count(w), n - 2);
    assert_null(lg_weights_tensor(w, n - 2));
    lg_weights_close(w);
}

static void sharded_bf16_opens_as_one_set(void **state)
{
    (void)state;
    lg_error err = {{0}};
    lg_weights *w = lg_weights_open_dir(SHARDED, &err);
    if (!w)
        fail_msg("%s", err.msg);
    size_t len;
    char *index = (char *)slurp(SHARDED "/model.safetensors.index.json", &len);
    cJSON *root = cJSON_Parse(index);
    const cJSON *map = cJSON_GetObjectItem(root, "weight_map");
    assert_int_equal(lg_weights_count(w), cJSON_GetArraySize(map));
    const cJSON *e;
    cJSON_ArrayForEach(e, map) {
        const lg_tensor_info *t = lg_weights_find(w, e->string);
        if (!t)
            fail_msg("%s missing", e->string);
        assert_int_equal(t->dtype, LG_DT_BF16);
        /* it comes from the shard the index names */
        size_t fl = strlen(t->file), sl = strlen(e->valuestring);
        assert_true(fl >= sl);
        assert_string_equal(t->file + fl - sl, e->valuestring);
        /* BF16 → F32 is the 16 bits moved up: check against that, element by element */
        float *f = malloc((size_t)t->numel * sizeof *f);
        assert_int_equal(lg_tensor_to_f32(t, f, &err), 0);
        const unsigned char *raw = t->data;
        for (int64_t i = 0; i < t->numel; i++) {
            uint32_t bits = (uint32_t)(raw[2 * i] | raw[2 * i + 1] << 8) << 16;
            float expect;
            memcpy(&expect, &bits, 4);
            assert_memory_equal(&f[i], &expect, 4);
        }
        free(f);
    }
    for (int i = 0; i < lg_weights_count(w); i++)
        assert_ptr_equal(lg_weights_find(w, lg_weights_tensor(w, i)->name),
                         lg_weights_tensor(w, i));
    /* Each shard is opened once: tensors of one shard share its one open file. */
    const cJSON *x, *y;
    cJSON_ArrayForEach(x, map) cJSON_ArrayForEach(y, map) {
        const lg_tensor_info *tx = lg_weights_find(w, x->string), *ty = lg_weights_find(w, y->string);
        assert_int_equal(tx->file == ty->file, strcmp(x->valuestring, y->valuestring) == 0);
    }
    assert_null(lg_weights_find(w, "lm_head.weight")); /* tied */
    check_embeddings_against_reference(lg_weights_find(w, "model.embed_tokens.weight"),
                                       SHARDED "/reference.safetensors");
    cJSON_Delete(root);
    free(index);
    lg_weights_close(w);
}

static void metadata_of_fixture(void **state)
{
    (void)state;
    lg_error err = {{0}};
    lg_safetensors *st = lg_st_open(LLAMA "/model.safetensors", &err);
    assert_non_null(st);
    size_t len;
    unsigned char *b = slurp(LLAMA "/model.safetensors", &len);
    cJSON *h = cJSON_ParseWithLength((const char *)b + 8, header_len(b));
    const cJSON *meta = cJSON_GetObjectItem(h, "__metadata__");
    const cJSON *fmt = cJSON_GetObjectItem(meta, "format");
    if (cJSON_IsString(fmt))
        assert_string_equal(lg_st_metadata(st, "format"), fmt->valuestring);
    else
        assert_null(lg_st_metadata(st, "format"));
    assert_null(lg_st_metadata(st, "no such key"));
    cJSON_Delete(h);
    free(b);
    lg_st_close(st);
}

/* --------------------------------------------------------- conversions */

static uint16_t bf16_of(float f) { return lg_f32_to_bf16(f); }

static float from_bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static void bf16_rounds_to_nearest_even(void **state)
{
    (void)state;
    assert_int_equal(bf16_of(1.0f), 0x3f80);
    assert_int_equal(bf16_of(-2.0f), 0xc000);
    assert_int_equal(bf16_of(from_bits(0x3f808000)), 0x3f80); /* tie, even stays */
    assert_int_equal(bf16_of(from_bits(0x3f818000)), 0x3f82); /* tie, odd rounds up */
    assert_int_equal(bf16_of(from_bits(0x3f808001)), 0x3f81); /* above the tie */
    assert_int_equal(bf16_of(from_bits(0x3f807fff)), 0x3f80); /* below the tie */
    assert_int_equal(bf16_of(INFINITY), 0x7f80);
    assert_int_equal(bf16_of(-INFINITY), 0xff80);
    assert_int_equal(bf16_of(from_bits(0x7f7fffff)), 0x7f80); /* FLT_MAX rounds to Inf */
    uint16_t nan = bf16_of(NAN);
    assert_true(isnan(lg_bf16_to_f32(nan)));
    /* A NaN whose payload sits only in the low bits must not become Inf. */
    assert_true(isnan(lg_bf16_to_f32(bf16_of(from_bits(0x7f800001)))));
    for (uint32_t h = 0; h < 0x10000; h++) {       /* every bf16 survives the round trip */
        float f = lg_bf16_to_f32((uint16_t)h);
        if (!isnan(f))
            assert_int_equal(bf16_of(f), h);
    }
}

static void f16_matches_the_compiler(void **state)
{
    (void)state;
    for (uint32_t h = 0; h < 0x10000; h++) {       /* every half survives the round trip */
        float f = lg_f16_to_f32((uint16_t)h);
        if (isnan(f))
            assert_int_equal(h & 0x7c00, 0x7c00);
        else
            assert_int_equal(lg_f32_to_f16(f), h);
    }
    assert_int_equal(lg_f32_to_f16(65504.0f), 0x7bff);
    assert_int_equal(lg_f32_to_f16(65520.0f), 0x7c00);  /* the tie above max goes to Inf */
    assert_int_equal(lg_f32_to_f16(0x1p-25f), 0x0000);  /* tie with 0 goes to even 0 */
    assert_int_equal(lg_f32_to_f16(0x1.000002p-25f), 0x0001);
    assert_int_equal(lg_f32_to_f16(0x1.8p-24f), 0x0002); /* 1.5 subnormal ulps: even 2 */
    assert_true(isnan(lg_f16_to_f32(lg_f32_to_f16(NAN))));
#ifdef __FLT16_MAX__
    /* The compiler's own float → _Float16 conversion (IEEE, nearest even) as the oracle. */
    uint32_t x = 12345;
    for (int i = 0; i < 2000000; i++) {
        x ^= x << 13; x ^= x >> 17; x ^= x << 5;
        /* exponents spread around the half range: 2^-30 .. 2^20 */
        uint32_t bits = (x & 0x807fffffu) | ((97u + (x >> 8) % 51u) << 23);
        float f = from_bits(bits);
        _Float16 c = (_Float16)f;
        uint16_t expect;
        memcpy(&expect, &c, 2);
        if (lg_f32_to_f16(f) != expect)
            fail_msg("%a: got %04x, compiler %04x", (double)f, lg_f32_to_f16(f), expect);
        assert_memory_equal(&(float){lg_f16_to_f32(expect)}, &(float){(float)c}, 4);
    }
#endif
}

/* -------------------------------------------------------------- writer */

static void writer_round_trip(void **state)
{
    fixture *fx = *state;
    char path[128];
    snprintf(path, sizeof path, "%s/out.safetensors", fx->dir);
    float a[6] = {1.0f, -2.5f, 3.25f, 0.1f, 1e-3f, -0.0f};
    float scalar = 42.0f;
    int64_t ids[4] = {0, 1, -7, 1LL << 40};
    lg_error err = {{0}};
    lg_st_writer *w = lg_st_writer_new();
    assert_int_equal(lg_st_writer_add(w, "z.first", LG_DT_F32, 2, (int64_t[]){2, 3}, a, &err), 0);
    assert_int_equal(lg_st_writer_add_f32(w, "a.bf16", LG_DT_BF16, 2, (int64_t[]){3, 2}, a, &err), 0);
    assert_int_equal(lg_st_writer_add_f32(w, "m.f16", LG_DT_F16, 1, (int64_t[]){6}, a, &err), 0);
    assert_int_equal(lg_st_writer_add(w, "ids", LG_DT_I64, 1, (int64_t[]){4}, ids, &err), 0);
    assert_int_equal(lg_st_writer_add(w, "scalar", LG_DT_F32, 0, NULL, &scalar, &err), 0);
    assert_int_equal(lg_st_writer_add(w, "empty", LG_DT_F32, 2, (int64_t[]){0, 5}, NULL, &err), 0);
    assert_int_equal(lg_st_writer_add(w, "ids", LG_DT_I64, 1, (int64_t[]){4}, ids, &err), -1);
    assert_non_null(strstr(err.msg, "ids"));
    assert_int_equal(lg_st_writer_add_f32(w, "bad", LG_DT_I32, 1, (int64_t[]){1}, a, &err), -1);
    assert_int_equal(lg_st_writer_set_metadata(w, "language", "tat \"Cyrl\"", &err), 0);
    assert_int_equal(lg_st_writer_write(w, path, &err), 0);
    lg_st_writer_free(w);

    size_t len;
    unsigned char *b = slurp(path, &len);
    uint64_t hl = header_len(b);
    assert_int_equal(hl % 8, 0);
    /* Independent reading of the header: __metadata__ first, tensors in insertion order. */
    cJSON *h = cJSON_ParseWithLength((const char *)b + 8, hl);
    assert_non_null(h);
    const char *order[] = {"__metadata__", "z.first", "a.bf16", "m.f16", "ids", "scalar", "empty"};
    int k = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, h) {
        assert_true(k < 7);
        assert_string_equal(e->string, order[k++]);
    }
    assert_int_equal(k, 7);
    const cJSON *meta = cJSON_GetObjectItem(h, "__metadata__");
    assert_string_equal(cJSON_GetObjectItem(meta, "format")->valuestring, "pt");
    assert_string_equal(cJSON_GetObjectItem(meta, "language")->valuestring, "tat \"Cyrl\"");
    /* Data in insertion order: the F32 block comes first, byte for byte. */
    assert_memory_equal(b + 8 + hl, a, sizeof a);
    assert_int_equal(len, 8 + hl + 24 + 12 + 12 + 32 + 4);
    cJSON_Delete(h);
    free(b);

    lg_safetensors *st = lg_st_open(path, &err);
    if (!st)
        fail_msg("%s", err.msg);
    assert_string_equal(lg_st_metadata(st, "format"), "pt");
    assert_string_equal(lg_st_metadata(st, "language"), "tat \"Cyrl\"");
    assert_int_equal(lg_st_count(st), 6);
    const lg_tensor_info *t = must_find(st, "z.first");
    assert_memory_equal(t->data, a, sizeof a);
    float back[6];
    t = must_find(st, "a.bf16");
    assert_int_equal(t->dtype, LG_DT_BF16);
    assert_int_equal(lg_tensor_to_f32(t, back, &err), 0);
    for (int i = 0; i < 6; i++)
        assert_true(fabsf(back[i] - a[i]) <= fabsf(a[i]) * 0x1p-8f);
    t = must_find(st, "m.f16");
    assert_int_equal(lg_tensor_to_f32(t, back, &err), 0);
    for (int i = 0; i < 6; i++)
        assert_true(fabsf(back[i] - a[i]) <= fabsf(a[i]) * 0x1p-11f);
    int64_t ids_back[4];
    assert_int_equal(lg_tensor_to_i64(must_find(st, "ids"), ids_back, &err), 0);
    assert_memory_equal(ids_back, ids, sizeof ids);
    t = must_find(st, "scalar");
    assert_int_equal(t->ndim, 0);
    assert_int_equal(t->numel, 1);
    t = must_find(st, "empty");
    assert_int_equal(t->numel, 0);
    assert_int_equal(t->nbytes, 0);
    lg_st_close(st);
}

static void writer_copies_fixture_byte_for_byte(void **state)
{
    fixture *fx = *state;
    char path[128];
    snprintf(path, sizeof path, "%s/copy.safetensors", fx->dir);
    lg_error err = {{0}};
    lg_safetensors *st = lg_st_open(LLAMA "/model.safetensors", &err);
    assert_non_null(st);
    lg_st_writer *w = lg_st_writer_new();
    for (int i = 0; i < lg_st_count(st); i++) {
        const lg_tensor_info *t = lg_st_tensor(st, i);
        assert_int_equal(lg_st_writer_add(w, t->name, t->dtype, t->ndim, t->shape, t->data,
                                          &err), 0);
    }
    assert_int_equal(lg_st_writer_write(w, path, &err), 0);
    lg_st_writer_free(w);
    lg_safetensors *copy = lg_st_open(path, &err);
    assert_non_null(copy);
    assert_int_equal(lg_st_count(copy), lg_st_count(st));
    for (int i = 0; i < lg_st_count(st); i++) {
        const lg_tensor_info *t = lg_st_tensor(st, i), *c = must_find(copy, t->name);
        assert_int_equal(c->nbytes, t->nbytes);
        assert_memory_equal(c->data, t->data, t->nbytes);
        assert_int_equal(((uintptr_t)c->data) % 8, 0); /* padded header aligns the data */
    }
    lg_st_close(copy);
    lg_st_close(st);
}

static void writer_failure_leaves_nothing(void **state)
{
    (void)state;
    lg_error err = {{0}};
    lg_st_writer *w = lg_st_writer_new();
    float x = 1;
    assert_int_equal(lg_st_writer_add(w, "x", LG_DT_F32, 1, (int64_t[]){1}, &x, &err), 0);
    assert_int_equal(lg_st_writer_write(w, "build/no/such/dir/x.safetensors", &err), -1);
    assert_non_null(strstr(err.msg, "build/no/such/dir/x.safetensors"));
    lg_st_writer_free(w);
}

/* A filled tensor's maker: bytes of `src` from `at`, recording what it was asked. */
typedef struct {
    const unsigned char *src;
    size_t next, largest, row;
    int calls, fail_at; /* fail on this call (0: never) */
} filler;

static int fill_from(void *ctx, size_t at, size_t n, void *dst, lg_error *err)
{
    filler *f = ctx;
    assert_int_equal(at, f->next); /* in order */
    assert_int_equal(at % f->row, 0); /* whole rows */
    assert_int_equal(n % f->row, 0);
    f->next = at + n;
    f->largest = n > f->largest ? n : f->largest;
    if (++f->calls == f->fail_at)
        return lg_fail(err, "the maker failed at byte %zu", at);
    memcpy(dst, f->src + at, n);
    return 0;
}

/* Tensors made while the file is written give the file that the same bytes added whole
 * give; a 6 MiB tensor is asked for in pieces of at most 4 MiB, in order, whole rows; a
 * maker's failure leaves nothing, with its message. */
static void writer_fills_stream_the_same_file(void **state)
{
    fixture *fx = *state;
    enum { ROWS = 1536, COLS = 1023 }; /* 6 MiB of F32; rows that do not divide 4 MiB */
    float *big = malloc((size_t)ROWS * COLS * sizeof *big);
    for (size_t i = 0; i < (size_t)ROWS * COLS; i++)
        big[i] = (float)((i * 2654435761u) % 1000003) * 1e-3f;
    uint16_t small[10];
    for (int i = 0; i < 10; i++)
        small[i] = lg_f32_to_bf16((float)i - 4.5f);
    char whole[128], filled[128];
    snprintf(whole, sizeof whole, "%s/whole.safetensors", fx->dir);
    snprintf(filled, sizeof filled, "%s/filled.safetensors", fx->dir);
    lg_error err = {{0}};
    for (int k = 0; k < 2; k++) {
        lg_st_writer *w = lg_st_writer_new();
        filler fb = {.src = (const unsigned char *)big, .row = COLS * 4};
        filler fs = {.src = (const unsigned char *)small, .row = 5 * 2};
        if (k) {
            assert_int_equal(lg_st_writer_add_fill(w, "big", LG_DT_F32, 2,
                                                   (int64_t[]){ROWS, COLS}, fill_from, &fb, &err), 0);
            assert_int_equal(lg_st_writer_add_fill(w, "small", LG_DT_BF16, 2, (int64_t[]){2, 5},
                                                   fill_from, &fs, &err), 0);
        } else {
            assert_int_equal(lg_st_writer_add(w, "big", LG_DT_F32, 2, (int64_t[]){ROWS, COLS}, big,
                                              &err), 0);
            assert_int_equal(lg_st_writer_add(w, "small", LG_DT_BF16, 2, (int64_t[]){2, 5}, small,
                                              &err), 0);
        }
        assert_int_equal(lg_st_writer_add(w, "after", LG_DT_BF16, 1, (int64_t[]){10}, small, &err), 0);
        assert_int_equal(lg_st_writer_set_metadata(w, "kind", "test", &err), 0);
        assert_int_equal(lg_st_writer_write(w, k ? filled : whole, &err), 0);
        lg_st_writer_free(w);
        if (k) {
            assert_int_equal(fb.next, (size_t)ROWS * COLS * 4);
            assert_true(fb.calls > 1 && fb.largest <= 4u << 20);
            assert_int_equal(fs.next, sizeof small);
        }
    }
    size_t la, lb;
    unsigned char *a = slurp(whole, &la), *b = slurp(filled, &lb);
    assert_int_equal(la, lb);
    assert_memory_equal(a, b, la);
    free(a);
    free(b);
    /* the maker fails on its second call: nothing is written, its message comes back */
    remove(filled);
    lg_st_writer *w = lg_st_writer_new();
    filler fb = {.src = (const unsigned char *)big, .row = COLS * 4, .fail_at = 2};
    assert_int_equal(lg_st_writer_add_fill(w, "big", LG_DT_F32, 2, (int64_t[]){ROWS, COLS},
                                           fill_from, &fb, &err), 0);
    assert_int_equal(lg_st_writer_write(w, filled, &err), -1);
    assert_non_null(strstr(err.msg, "the maker failed at byte"));
    assert_int_equal(access(filled, F_OK), -1);
    DIR *d = opendir(fx->dir); /* and no temporary is left */
    assert_non_null(d);
    for (struct dirent *de; (de = readdir(d));)
        if (strstr(de->d_name, ".tmp"))
            fail_msg("%s left in %s", de->d_name, fx->dir);
    closedir(d);
    assert_int_equal(lg_st_writer_add_fill(w, "none", LG_DT_F32, 1, (int64_t[]){1}, NULL, NULL,
                                           &err), -1);
    lg_st_writer_free(w);
    free(big);
}

/* ------------------------------------------------------------ bad input */

static void refuses_truncated_and_lying_files(void **state)
{
    fixture *fx = *state;
    size_t len;
    unsigned char *orig = slurp(LLAMA "/model.safetensors", &len);
    unsigned char *b = malloc(len);
    char path[128];

    snprintf(path, sizeof path, "%s/truncated.safetensors", fx->dir);
    spit(path, orig, len - 100);
    assert_refused(path, "beyond the end of the file");

    snprintf(path, sizeof path, "%s/tiny.safetensors", fx->dir);
    spit(path, orig, 5);
    assert_refused(path, "too short");

    snprintf(path, sizeof path, "%s/trailing.safetensors", fx->dir);
    memcpy(b, orig, len);
    spit(path, b, len);
    FILE *f = fopen(path, "ab");
    fputs("extra", f);
    fclose(f);
    assert_refused(path, "header accounts for");

    snprintf(path, sizeof path, "%s/longheader.safetensors", fx->dir);
    memcpy(b, orig, len);
    set_header_len(b, len);
    spit(path, b, len);
    assert_refused(path, "header claims");

    snprintf(path, sizeof path, "%s/huge.safetensors", fx->dir);
    set_header_len(b, 1ULL << 40);
    spit(path, b, len);
    assert_refused(path, "exceeds the limit");
    set_header_len(b, UINT64_MAX);
    spit(path, b, len);
    assert_refused(path, "exceeds the limit");

    /* Real header bytes damaged: a dtype renamed, the JSON broken. */
    uint64_t hl = header_len(orig);
    snprintf(path, sizeof path, "%s/dtype.safetensors", fx->dir);
    memcpy(b, orig, len);
    char *dt = memmem(b + 8, hl, "\"F32\"", 5);
    assert_non_null(dt);
    memcpy(dt, "\"X32\"", 5);
    spit(path, b, len);
    assert_refused(path, "unknown dtype 'X32'");

    snprintf(path, sizeof path, "%s/json.safetensors", fx->dir);
    memcpy(b, orig, len);
    char *colon = memchr(b + 8, ':', hl);
    assert_non_null(colon);
    *colon = '#';
    spit(path, b, len);
    assert_refused(path, "not valid JSON");

    snprintf(path, sizeof path, "%s/nonexistent.safetensors", fx->dir);
    assert_refused(path, "cannot open");
    free(b);
    free(orig);
}

static void refuses_inconsistent_headers(void **state)
{
    fixture *fx = *state;
    char path[128];
    struct { const char *name, *header; size_t data; const char *problem; } cases[] = {
        {"beyond", "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8,
         "beyond the end of the file"},
        {"hole", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                 "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[12,20]}}", 20, "hole"},
        {"start", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, "hole"},
        {"overlap", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                    "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12,
         "overlaps"},
        {"size", "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8,
         "span 8 bytes but F32 [3] needs 12"},
        {"reversed", "{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,0]}}", 8,
         "end before they begin"},
        {"negative", "{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8,
         "not a non-negative integer"},
        {"fraction", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,8]}}", 8,
         "not a non-negative integer"},
        {"overflow", "{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4294967296],"
                     "\"data_offsets\":[0,8]}}", 8, "overflows"},
        {"unknown", "{\"a\":{\"dtype\":\"F8_E4M3\",\"shape\":[2],\"data_offsets\":[0,2]}}", 2,
         "unknown dtype 'F8_E4M3'"},
        {"duplicate", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                      "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8,
         "appears twice"},
        {"array", "[1,2,3]", 0, "not a JSON object"},
        {"garbage", "{}x", 0, "after its JSON object"},
        {"meta", "{\"__metadata__\":{\"format\":3}}", 0, "not a string"},
        {"dims", "{\"a\":{\"dtype\":\"U8\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,1]}}",
         1, "dimensions"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(path, sizeof path, "%s/%s.safetensors", fx->dir, cases[i].name);
        make_file(path, cases[i].header, cases[i].data);
        assert_refused(path, cases[i].problem);
    }
    /* The same machinery accepts a well-formed hand-made file with trailing header spaces. */
    snprintf(path, sizeof path, "%s/good.safetensors", fx->dir);
    make_file(path, "{\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]},"
                    "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}   ", 8);
    lg_error err = {{0}};
    lg_safetensors *st = lg_st_open(path, &err);
    if (!st)
        fail_msg("%s", err.msg);
    assert_string_equal(lg_st_tensor(st, 0)->name, "a");   /* data order */
    lg_st_close(st);
}

/* A copy of the sharded fixture in our temp dir, with shard files linked. */
static void copy_sharded(const char *dir, const char *skip_shard)
{
    assert_int_equal(mkdir(dir, 0755), 0);
    char src[512], dst[512];
    for (int i = 1; i <= 8; i++) {
        char shard[64];
        snprintf(shard, sizeof shard, "model-%05d-of-00008.safetensors", i);
        if (skip_shard && strcmp(shard, skip_shard) == 0)
            continue;
        char *real = realpath(SHARDED, NULL);
        snprintf(src, sizeof src, "%s/%s", real, shard);
        free(real);
        snprintf(dst, sizeof dst, "%s/%s", dir, shard);
        assert_int_equal(symlink(src, dst), 0);
    }
}

static void refuses_broken_sharded_dirs(void **state)
{
    fixture *fx = *state;
    size_t len;
    char *index = (char *)slurp(SHARDED "/model.safetensors.index.json", &len);
    char dir[128], path[256];
    lg_error err = {{0}};

    snprintf(dir, sizeof dir, "%s/missing_shard", fx->dir);
    copy_sharded(dir, "model-00003-of-00008.safetensors");
    snprintf(path, sizeof path, "%s/model.safetensors.index.json", dir);
    spit(path, index, len);
    assert_null(lg_weights_open_dir(dir, &err));
    assert_non_null(strstr(err.msg, "model-00003-of-00008.safetensors"));
    assert_non_null(strstr(err.msg, "missing"));

    snprintf(dir, sizeof dir, "%s/absent_tensor", fx->dir);
    copy_sharded(dir, NULL);
    cJSON *root = cJSON_Parse(index);
    cJSON *map = cJSON_GetObjectItem(root, "weight_map");
    cJSON_AddStringToObject(map, "lm_head.weight", "model-00001-of-00008.safetensors");
    char *text = cJSON_Print(root);
    snprintf(path, sizeof path, "%s/model.safetensors.index.json", dir);
    spit(path, text, strlen(text));
    assert_null(lg_weights_open_dir(dir, &err));
    assert_non_null(strstr(err.msg, "model-00001-of-00008.safetensors"));
    assert_non_null(strstr(err.msg, "lm_head.weight"));
    free(text);

    /* An index naming a file outside the directory is refused. */
    cJSON_ReplaceItemInObject(map, "lm_head.weight", cJSON_CreateString("../x.safetensors"));
    text = cJSON_Print(root);
    spit(path, text, strlen(text));
    assert_null(lg_weights_open_dir(dir, &err));
    assert_non_null(strstr(err.msg, "leaves the model directory"));
    free(text);
    cJSON_Delete(root);

    snprintf(dir, sizeof dir, "%s/empty_dir", fx->dir);
    assert_int_equal(mkdir(dir, 0755), 0);
    assert_null(lg_weights_open_dir(dir, &err));
    assert_non_null(strstr(err.msg, dir));
    assert_non_null(strstr(err.msg, "no model.safetensors"));
    free(index);
}

static void open_memory_matches_file(void **state)
{
    (void)state;
    size_t len;
    unsigned char *b = slurp(LLAMA "/model.safetensors", &len);
    lg_error err = {{0}};
    lg_safetensors *m = lg_st_open_memory(b, len, "in-memory", &err);
    assert_non_null(m);
    lg_safetensors *f = lg_st_open(LLAMA "/model.safetensors", &err);
    assert_int_equal(lg_st_count(m), lg_st_count(f));
    for (int i = 0; i < lg_st_count(f); i++) {
        const lg_tensor_info *a = lg_st_tensor(f, i), *c = lg_st_tensor(m, i);
        assert_string_equal(a->name, c->name);
        assert_memory_equal(a->data, c->data, a->nbytes);
    }
    assert_null(lg_st_open_memory(b, 3, "in-memory", &err));
    assert_non_null(strstr(err.msg, "in-memory"));
    lg_st_close(f);
    lg_st_close(m);
    free(b);
}

/* lg_tensor_read gives the bytes the mapping holds, for every tensor of a sharded set and
 * of a file, at any offset, from a file (pread) and from memory alike; a range outside the
 * tensor and a file cut short since it was opened are errors naming file and tensor. */
static void tensor_read_matches_the_mapping(void **state)
{
    fixture *fx = *state;
    lg_error err = {{0}};
    lg_weights *w = lg_weights_open_dir(SHARDED, &err);
    assert_non_null(w);
    for (int i = 0; i < lg_weights_count(w); i++) {
        const lg_tensor_info *t = lg_weights_tensor(w, i);
        assert_non_null(t->owner);
        unsigned char *buf = malloc(t->nbytes + 1);
        assert_int_equal(lg_tensor_read(t, 0, t->nbytes, buf, &err), 0);
        assert_memory_equal(buf, t->data, t->nbytes);
        size_t at = t->nbytes / 3, n = t->nbytes / 2 - t->nbytes / 3;
        memset(buf, 0xa5, n);
        assert_int_equal(lg_tensor_read(t, at, n, buf, &err), 0);
        assert_memory_equal(buf, (const unsigned char *)t->data + at, n);
        assert_int_equal(lg_tensor_read(t, t->nbytes, 0, buf, &err), 0);
        assert_int_equal(lg_tensor_read(t, t->nbytes - 1, 2, buf, &err), -1);
        assert_non_null(strstr(err.msg, t->name));
        assert_non_null(strstr(err.msg, t->file));
        free(buf);
    }
    lg_weights_close(w);
    /* from memory: the same bytes */
    size_t len;
    unsigned char *b = slurp(LLAMA "/model.safetensors", &len);
    lg_safetensors *m = lg_st_open_memory(b, len, "in-memory", &err);
    lg_safetensors *f = lg_st_open(LLAMA "/model.safetensors", &err);
    assert_non_null(m);
    assert_non_null(f);
    for (int i = 0; i < lg_st_count(f); i++) {
        const lg_tensor_info *a = lg_st_tensor(f, i), *c = lg_st_tensor(m, i);
        unsigned char *x = malloc(a->nbytes + 1), *y = malloc(c->nbytes + 1);
        assert_int_equal(lg_tensor_read(a, 1, a->nbytes - 1, x, &err), 0);
        assert_int_equal(lg_tensor_read(c, 1, c->nbytes - 1, y, &err), 0);
        assert_memory_equal(x, y, a->nbytes - 1);
        free(x);
        free(y);
    }
    lg_st_close(f);
    lg_st_close(m);
    /* a copy cut short after it was opened: the read fails (the mapping would fault) */
    char path[128];
    snprintf(path, sizeof path, "%s/cut.safetensors", fx->dir);
    spit(path, b, len);
    free(b);
    lg_safetensors *cut = lg_st_open(path, &err);
    assert_non_null(cut);
    const lg_tensor_info *last = lg_st_tensor(cut, lg_st_count(cut) - 1);
    assert_int_equal(truncate(path, (off_t)(len - 4)), 0);
    unsigned char tail[8];
    assert_int_equal(lg_tensor_read(last, last->nbytes - 8, 4, tail, &err), 0);
    assert_int_equal(lg_tensor_read(last, last->nbytes - 8, 8, tail, &err), -1);
    assert_non_null(strstr(err.msg, "ended early"));
    assert_non_null(strstr(err.msg, path));
    lg_st_close(cut);
}

/* A NaN or an infinity in stored weights is refused as the tensor is converted, naming the
 * tensor and the element, in every float dtype (a finite F64 beyond float's range too). */
static void non_finite_values_are_refused(void **state)
{
    (void)state;
    enum { N = 40000 }; /* more than one conversion block */
    static unsigned char raw[N * 8];
    static float out[N];
    const lg_dtype dts[] = {LG_DT_F32, LG_DT_BF16, LG_DT_F16, LG_DT_F64};
    for (size_t d = 0; d < sizeof dts / sizeof *dts; d++)
        for (int kind = 0; kind < 3; kind++) {
            const size_t es = lg_dtype_size(dts[d]);
            for (int64_t i = 0; i < N; i++) {
                float f = (float)(i % 13) * 0.25f;
                if (i == 33333)
                    f = kind == 0 ? NAN : kind == 1 ? INFINITY : -INFINITY;
                if (dts[d] == LG_DT_F32) {
                    memcpy(raw + 4 * i, &f, 4);
                } else if (dts[d] == LG_DT_F64) {
                    double v = f;
                    memcpy(raw + 8 * i, &v, 8);
                } else {
                    uint16_t h = dts[d] == LG_DT_BF16 ? lg_f32_to_bf16(f) : lg_f32_to_f16(f);
                    memcpy(raw + 2 * i, &h, 2);
                }
            }
            lg_tensor_info t = {.name = "model.norm.weight", .dtype = dts[d], .ndim = 1,
                                .shape = {N}, .numel = N, .data = raw, .nbytes = N * es,
                                .file = "w.safetensors"};
            lg_error err = {{0}};
            assert_int_equal(lg_tensor_to_f32(&t, out, &err), -1);
            assert_non_null(strstr(err.msg, "w.safetensors"));
            assert_non_null(strstr(err.msg, "model.norm.weight"));
            assert_non_null(strstr(err.msg, "element 33333"));
            assert_non_null(strstr(err.msg, kind == 0 ? "NaN" : "infinite"));
            /* the same data made finite converts */
            if (dts[d] == LG_DT_F32) {
                float f = 1;
                memcpy(raw + 4 * 33333, &f, 4);
                assert_int_equal(lg_tensor_to_f32(&t, out, &err), 0);
            }
        }
    double big = 1e300; /* finite, but no float */
    lg_tensor_info t = {.name = "x", .dtype = LG_DT_F64, .ndim = 1, .shape = {1}, .numel = 1,
                        .data = &big, .nbytes = 8, .file = "big.safetensors"};
    lg_error err;
    assert_int_equal(lg_tensor_to_f32(&t, out, &err), -1);
    assert_non_null(strstr(err.msg, "big.safetensors"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(llama_tiny_names_and_shapes_match_config),
        cmocka_unit_test(llama_tiny_values_match_reference),
        cmocka_unit_test(weights_drop_leaves_one_out),
        cmocka_unit_test(sharded_bf16_opens_as_one_set),
        cmocka_unit_test(metadata_of_fixture),
        cmocka_unit_test(bf16_rounds_to_nearest_even),
        cmocka_unit_test(f16_matches_the_compiler),
        cmocka_unit_test(writer_round_trip),
        cmocka_unit_test(writer_copies_fixture_byte_for_byte),
        cmocka_unit_test(writer_failure_leaves_nothing),
        cmocka_unit_test(refuses_truncated_and_lying_files),
        cmocka_unit_test(refuses_inconsistent_headers),
        cmocka_unit_test(refuses_broken_sharded_dirs),
        cmocka_unit_test(open_memory_matches_file),
        cmocka_unit_test(non_finite_values_are_refused),
        cmocka_unit_test(tensor_read_matches_the_mapping),
        cmocka_unit_test(writer_fills_stream_the_same_file),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
