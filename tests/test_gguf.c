/* GGUF writer and reader: the writer's bytes against a hand-encoded file, a round trip of
 * every value type and tensor kind, and the reader's refusal of damaged files
 * (every truncation, bad magic/version, absurd counts and lengths, bad tensor infos). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lg_export.h"

/* ---- An independent little-endian encoder for expected files ---------------------- */

typedef struct {
    unsigned char b[4096];
    size_t n;
} buf;

static void put(buf *b, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        b->b[b->n++] = (unsigned char)(v >> (8 * i));
}

static void put_str(buf *b, const char *s)
{
    put(b, strlen(s), 8);
    memcpy(b->b + b->n, s, strlen(s));
    b->n += strlen(s);
}

static void put_raw(buf *b, const void *p, size_t n)
{
    memcpy(b->b + b->n, p, n);
    b->n += n;
}

static void pad_to(buf *b, size_t a)
{
    while (b->n % a)
        b->b[b->n++] = 0;
}

static unsigned char *read_whole(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *p = malloc((size_t)n + 1);
    assert_int_equal(fread(p, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return p;
}

/* A file with one u32 key, one string key and two F32 tensors {3} and {2, 2}. */
static void expected_small(buf *b, const float *t1, const float *t2)
{
    memset(b, 0, sizeof *b);
    put_raw(b, "GGUF", 4);
    put(b, 3, 4);     /* version */
    put(b, 2, 8);     /* tensors */
    put(b, 2, 8);     /* kvs */
    put_str(b, "general.alignment");
    put(b, 4, 4);     /* UINT32 */
    put(b, 32, 4);
    put_str(b, "general.name");
    put(b, 8, 4);     /* STRING */
    put_str(b, "tiny");
    put_str(b, "a");
    put(b, 1, 4);
    put(b, 3, 8);
    put(b, 0, 4);     /* F32 */
    put(b, 0, 8);     /* offset */
    put_str(b, "b");
    put(b, 2, 4);
    put(b, 2, 8);
    put(b, 2, 8);
    put(b, 0, 4);
    put(b, 32, 8);    /* 12 bytes of "a" padded to 32 */
    pad_to(b, 32);
    put_raw(b, t1, 12);
    pad_to(b, 32);
    put_raw(b, t2, 16);
}

static void write_small(const char *path, const float *t1, const float *t2)
{
    lg_error err;
    lg_gguf_writer *w = lg_gguf_writer_new();
    assert_non_null(w);
    assert_int_equal(lg_gguf_set_u32(w, "general.alignment", 32, &err), 0);
    assert_int_equal(lg_gguf_set_str(w, "general.name", "tiny", &err), 0);
    assert_int_equal(lg_gguf_add_tensor(w, "a", LG_GGML_F32, 1, (int64_t[]){3}, t1, &err), 0);
    assert_int_equal(lg_gguf_add_tensor(w, "b", LG_GGML_F32, 2, (int64_t[]){2, 2}, t2, &err), 0);
    assert_int_equal(lg_gguf_writer_write(w, path, &err), 0);
    lg_gguf_writer_free(w);
}

static const float T1[3] = {1.5f, -2.0f, 3.25f};
static const float T2[4] = {0.5f, 0.25f, -0.125f, 8.0f};

static void writer_bytes_match_hand_encoding(void **state)
{
    (void)state;
    const char *path = "build/test_gguf_small.gguf";
    write_small(path, T1, T2);
    buf want;
    expected_small(&want, T1, T2);
    size_t len;
    unsigned char *got = read_whole(path, &len);
    assert_int_equal(len, want.n);
    assert_memory_equal(got, want.b, want.n);
    free(got);
    unlink(path);
}

/* ---- Round trip of every value type ------------------------------------------------ */

typedef struct {
    int calls;
} fill_state;

static int fill_ramp(void *ctx, void *dst, size_t nbytes, lg_error *err)
{
    (void)err;
    fill_state *s = ctx;
    s->calls++;
    float *f = dst;
    for (size_t i = 0; i < nbytes / 4; i++)
        f[i] = (float)i * 0.5f - 3.0f;
    return 0;
}

static int fill_fails(void *ctx, void *dst, size_t nbytes, lg_error *err)
{
    (void)ctx; (void)dst; (void)nbytes;
    return lg_fail(err, "deliberate failure");
}

static void round_trip_every_type(void **state)
{
    (void)state;
    const char *path = "build/test_gguf_round.gguf";
    lg_error err;
    lg_gguf_writer *w = lg_gguf_writer_new();
    const char *strs[] = {"<unk>", "\xe2\x96\x81the", ""};
    const float fl[] = {0.0f, -1.5f, 1e-30f, 3.4e38f};
    const int32_t in[] = {1, 2, -3, INT32_MIN, INT32_MAX};
    assert_int_equal(lg_gguf_set_u32(w, "k.u32", 4000000000u, &err), 0);
    assert_int_equal(lg_gguf_set_i32(w, "k.i32", -123456, &err), 0);
    assert_int_equal(lg_gguf_set_u64(w, "k.u64", 0x123456789abcdef0ull, &err), 0);
    assert_int_equal(lg_gguf_set_f32(w, "k.f32", 1e-5f, &err), 0);
    assert_int_equal(lg_gguf_set_bool(w, "k.true", 7, &err), 0);
    assert_int_equal(lg_gguf_set_bool(w, "k.false", 0, &err), 0);
    assert_int_equal(lg_gguf_set_str(w, "k.str", "llama", &err), 0);
    assert_int_equal(lg_gguf_set_arr_str(w, "k.astr", strs, 3, &err), 0);
    assert_int_equal(lg_gguf_set_arr_f32(w, "k.af32", fl, 4, &err), 0);
    assert_int_equal(lg_gguf_set_arr_i32(w, "k.ai32", in, 5, &err), 0);
    assert_int_equal(lg_gguf_set_arr_i32(w, "k.empty", in, 0, &err), 0);
    assert_int_equal(lg_gguf_set_u32(w, "general.alignment", 64, &err), 0);
    /* a key twice is refused */
    assert_int_equal(lg_gguf_set_u32(w, "k.u32", 1, &err), -1);
    assert_non_null(strstr(err.msg, "k.u32"));

    float mat[5 * 3];
    for (int i = 0; i < 15; i++)
        mat[i] = (float)i - 7.0f;
    uint16_t half[7] = {0x3c00, 0xc000, 0x0000, 0x7bff, 0x0001, 0x8000, 0x3555};
    fill_state fs = {0};
    assert_int_equal(lg_gguf_add_tensor(w, "mat", LG_GGML_F32, 2, (int64_t[]){3, 5}, mat, &err), 0);
    assert_int_equal(lg_gguf_add_tensor(w, "half", LG_GGML_F16, 1, (int64_t[]){7}, half, &err), 0);
    assert_int_equal(lg_gguf_add_tensor_fill(w, "filled", LG_GGML_F32, 3, (int64_t[]){2, 3, 4},
                                             fill_ramp, &fs, &err), 0);
    assert_int_equal(lg_gguf_add_tensor(w, "mat", LG_GGML_F32, 1, (int64_t[]){1}, mat, &err), -1);
    assert_int_equal(lg_gguf_add_tensor(w, "five", LG_GGML_F32, 5,
                                        (int64_t[]){1, 1, 1, 1, 1}, mat, &err), -1);
    assert_int_equal(lg_gguf_add_tensor(w, "zero", LG_GGML_F32, 1, (int64_t[]){0}, mat, &err), -1);
    assert_int_equal(lg_gguf_writer_write(w, path, &err), 0);
    assert_int_equal(fs.calls, 1);
    lg_gguf_writer_free(w);

    lg_gguf *g = lg_gguf_open(path, &err);
    if (!g)
        fail_msg("%s", err.msg);
    assert_int_equal(lg_gguf_version(g), 3);
    assert_int_equal(lg_gguf_alignment(g), 64);
    assert_int_equal(lg_gguf_data_offset(g) % 64, 0);
    assert_int_equal(lg_gguf_kv_count(g), 12);
    /* order preserved */
    assert_string_equal(lg_gguf_kv_at(g, 0)->key, "k.u32");
    assert_string_equal(lg_gguf_kv_at(g, 11)->key, "general.alignment");

    uint32_t u32;
    int32_t i32;
    float f32;
    int b;
    assert_int_equal(lg_gguf_get_u32(g, "k.u32", &u32, &err), 0);
    assert_int_equal(u32, 4000000000u);
    assert_int_equal(lg_gguf_get_i32(g, "k.i32", &i32, &err), 0);
    assert_int_equal(i32, -123456);
    const lg_gguf_kv *kv = lg_gguf_find_kv(g, "k.u64");
    assert_int_equal(kv->type, LG_GGUF_UINT64);
    assert_true(kv->u == 0x123456789abcdef0ull);
    assert_int_equal(lg_gguf_get_f32(g, "k.f32", &f32, &err), 0);
    assert_true(f32 == 1e-5f);
    assert_int_equal(lg_gguf_get_bool(g, "k.true", &b, &err), 0);
    assert_int_equal(b, 1);
    assert_int_equal(lg_gguf_get_bool(g, "k.false", &b, &err), 0);
    assert_int_equal(b, 0);
    assert_string_equal(lg_gguf_get_str(g, "k.str", &err), "llama");
    kv = lg_gguf_get_arr(g, "k.astr", LG_GGUF_STRING, &err);
    assert_non_null(kv);
    assert_int_equal(kv->arr_count, 3);
    for (int i = 0; i < 3; i++)
        assert_string_equal(kv->arr_str[i], strs[i]);
    kv = lg_gguf_get_arr(g, "k.af32", LG_GGUF_FLOAT32, &err);
    assert_non_null(kv);
    assert_int_equal(kv->arr_count, 4);
    assert_memory_equal(kv->arr, fl, sizeof fl);
    kv = lg_gguf_get_arr(g, "k.ai32", LG_GGUF_INT32, &err);
    assert_non_null(kv);
    assert_memory_equal(kv->arr, in, sizeof in);
    kv = lg_gguf_get_arr(g, "k.empty", LG_GGUF_INT32, &err);
    assert_non_null(kv);
    assert_int_equal(kv->arr_count, 0);

    /* strict types, named in the message */
    assert_int_equal(lg_gguf_get_i32(g, "k.u32", &i32, &err), -1);
    assert_non_null(strstr(err.msg, "k.u32 is UINT32, expected INT32"));
    assert_int_equal(lg_gguf_get_u32(g, "no.such.key", &u32, &err), -1);
    assert_non_null(strstr(err.msg, "no.such.key"));
    assert_null(lg_gguf_get_arr(g, "k.af32", LG_GGUF_INT32, &err));

    assert_int_equal(lg_gguf_tensor_count(g), 3);
    const lg_gguf_tensor *t = lg_gguf_find_tensor(g, "mat");
    assert_non_null(t);
    assert_int_equal(t->n_dims, 2);
    assert_int_equal(t->dims[0], 3);
    assert_int_equal(t->dims[1], 5);
    assert_int_equal(t->type, LG_GGML_F32);
    assert_int_equal(t->nbytes, sizeof mat);
    assert_memory_equal(t->data, mat, sizeof mat);
    t = lg_gguf_find_tensor(g, "half");
    assert_int_equal(t->type, LG_GGML_F16);
    assert_int_equal(t->offset % 64, 0);
    assert_memory_equal(t->data, half, sizeof half);
    float hf[7];
    assert_int_equal(lg_gguf_tensor_to_f32(t, hf, &err), 0);
    assert_true(hf[0] == 1.0f && hf[1] == -2.0f && hf[2] == 0.0f && hf[3] == 65504.0f);
    t = lg_gguf_find_tensor(g, "filled");
    assert_int_equal(t->n_dims, 3);
    assert_int_equal(t->numel, 24);
    assert_int_equal(t->offset % 64, 0);
    for (int i = 0; i < 24; i++)
        assert_true(((const float *)t->data)[i] == (float)i * 0.5f - 3.0f);
    lg_gguf_close(g);
    unlink(path);
}

static void failed_fill_leaves_no_file(void **state)
{
    (void)state;
    const char *path = "build/test_gguf_failed.gguf";
    unlink(path);
    lg_error err;
    lg_gguf_writer *w = lg_gguf_writer_new();
    assert_int_equal(lg_gguf_add_tensor_fill(w, "x", LG_GGML_F32, 1, (int64_t[]){4}, fill_fails,
                                             NULL, &err), 0);
    assert_int_equal(lg_gguf_writer_write(w, path, &err), -1);
    assert_non_null(strstr(err.msg, "deliberate failure"));
    assert_non_null(strstr(err.msg, "x"));
    assert_int_not_equal(access(path, F_OK), 0);
    lg_gguf_writer_free(w);
}

/* ---- Damaged files ---------------------------------------------------------------- */

static void expect_refused(const buf *b, const char *needle)
{
    lg_error err = {{0}};
    lg_gguf *g = lg_gguf_open_memory(b->b, b->n, "bad.gguf", &err);
    if (g) {
        lg_gguf_close(g);
        fail_msg("accepted a damaged file (expected \"%s\")", needle);
    }
    assert_non_null(strstr(err.msg, "bad.gguf"));
    if (!strstr(err.msg, needle))
        fail_msg("message \"%s\" lacks \"%s\"", err.msg, needle);
}

static void every_truncation_is_refused(void **state)
{
    (void)state;
    buf full;
    expected_small(&full, T1, T2);
    lg_error err;
    lg_gguf *g = lg_gguf_open_memory(full.b, full.n, "ok.gguf", &err);
    assert_non_null(g);
    lg_gguf_close(g);
    for (size_t n = 0; n < full.n; n++) {
        /* a heap copy of exactly n bytes, so that ASan sees any read past the end */
        unsigned char *p = malloc(n ? n : 1);
        memcpy(p, full.b, n);
        g = lg_gguf_open_memory(p, n, "cut.gguf", &err);
        if (g)
            fail_msg("a file cut to %zu of %zu bytes was accepted", n, full.n);
        assert_non_null(strstr(err.msg, "cut.gguf"));
        free(p);
    }
}

static void bad_headers_are_refused(void **state)
{
    (void)state;
    buf b;
    expected_small(&b, T1, T2);
    b.b[0] = 'X';
    expect_refused(&b, "bad magic");

    expected_small(&b, T1, T2);
    b.b[4] = 1;   /* version 1 */
    expect_refused(&b, "version 1");

    expected_small(&b, T1, T2);
    b.b[4] = 4;
    expect_refused(&b, "version 4");

    /* absurd counts: bounded by the file size, before any allocation */
    expected_small(&b, T1, T2);
    memset(b.b + 8, 0xff, 7);              /* tensor count ~2^56 */
    expect_refused(&b, "tensors cannot fit");

    expected_small(&b, T1, T2);
    memset(b.b + 16, 0xff, 8);             /* kv count 2^64-1 */
    expect_refused(&b, "key/values cannot fit");
}

/* Byte offsets inside expected_small(). */
enum {
    KEY1_LEN = 24,                    /* u64 length of "general.alignment" */
    KEY1_TYPE = KEY1_LEN + 8 + 17,    /* 49 */
    KEY1_VALUE = KEY1_TYPE + 4,       /* 53 */
    KEY2_LEN = KEY1_VALUE + 4,        /* 57 */
    KEY2_VALUE_LEN = KEY2_LEN + 8 + 12 + 4,   /* u64 length of "tiny": 81 */
    T1_NAME = KEY2_VALUE_LEN + 8 + 4, /* 93 */
    T1_NDIMS = T1_NAME + 8 + 1,       /* 102 */
    T1_DIM0 = T1_NDIMS + 4,           /* 106 */
    T1_TYPE = T1_DIM0 + 8,            /* 114 */
    T1_OFFSET = T1_TYPE + 4,          /* 118 */
    T2_OFFSET = T1_OFFSET + 8 + 8 + 1 + 4 + 16 + 4,  /* 159 */
};

static void patch(buf *b, size_t at, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        b->b[at + (size_t)i] = (unsigned char)(v >> (8 * i));
}

static void bad_values_are_refused(void **state)
{
    (void)state;
    buf b;
    /* sanity: the offsets above point where they should */
    expected_small(&b, T1, T2);
    assert_int_equal(b.b[KEY1_TYPE], 4);
    assert_int_equal(b.b[KEY1_VALUE], 32);
    assert_memory_equal(b.b + KEY2_VALUE_LEN + 8, "tiny", 4);
    assert_int_equal(b.b[T1_NAME + 8], 'a');
    assert_int_equal(b.b[T1_NDIMS], 1);
    assert_int_equal(b.b[T1_DIM0], 3);
    assert_int_equal(b.b[T2_OFFSET], 32);

    patch(&b, KEY1_LEN, (uint64_t)1 << 62, 8);        /* key length far past the end */
    expect_refused(&b, "truncated");

    expected_small(&b, T1, T2);
    patch(&b, KEY2_VALUE_LEN, 100000, 8);              /* string value past the end */
    expect_refused(&b, "truncated");

    expected_small(&b, T1, T2);
    patch(&b, KEY1_TYPE, 13, 4);                       /* unknown value type */
    expect_refused(&b, "unknown value type 13");

    expected_small(&b, T1, T2);
    patch(&b, KEY1_VALUE, 24, 4);                      /* alignment not a power of two */
    expect_refused(&b, "not a power of two");

    expected_small(&b, T1, T2);
    patch(&b, KEY1_TYPE, LG_GGUF_INT32, 4);            /* alignment of the wrong type */
    expect_refused(&b, "expected UINT32");

    expected_small(&b, T1, T2);
    memcpy(b.b + KEY2_LEN + 8, "general.alig", 12);   /* same length as general.name */
    {
        lg_error err;
        lg_gguf *g = lg_gguf_open_memory(b.b, b.n, "ok.gguf", &err);
        assert_non_null(g);
        assert_non_null(lg_gguf_find_kv(g, "general.alig"));
        lg_gguf_close(g);
    }

    expected_small(&b, T1, T2);
    patch(&b, T1_NDIMS, 5, 4);
    expect_refused(&b, "5 dimensions");

    expected_small(&b, T1, T2);
    patch(&b, T1_DIM0, 0, 8);
    expect_refused(&b, "dimension 0 is 0");

    expected_small(&b, T1, T2);
    patch(&b, T1_DIM0, (uint64_t)1 << 40, 8);          /* data past the end of the file */
    expect_refused(&b, "beyond the end");

    expected_small(&b, T1, T2);
    patch(&b, T1_TYPE, 2, 4);                          /* Q4_0: not supported here */
    expect_refused(&b, "ggml type 2");

    expected_small(&b, T1, T2);
    patch(&b, T1_OFFSET, 4, 8);                        /* misaligned */
    expect_refused(&b, "not a multiple of the alignment");

    expected_small(&b, T1, T2);
    patch(&b, T1_OFFSET, 32, 8);                       /* both tensors at 32: overlap */
    expect_refused(&b, "overlap");

    expected_small(&b, T1, T2);
    patch(&b, T2_OFFSET, 64, 8);                       /* 16 bytes at 64: past the end */
    expect_refused(&b, "beyond the end");

    expected_small(&b, T1, T2);
    b.b[T1_NAME + 8] = 'b';                            /* two tensors named "b" */
    expect_refused(&b, "appears twice");
}

static void bad_arrays_are_refused(void **state)
{
    (void)state;
    buf b = {{0}, 0};
    put_raw(&b, "GGUF", 4);
    put(&b, 3, 4);
    put(&b, 0, 8);
    put(&b, 1, 8);
    put_str(&b, "arr");
    put(&b, LG_GGUF_ARRAY, 4);
    size_t elem_at = b.n;
    put(&b, LG_GGUF_FLOAT32, 4);
    size_t count_at = b.n;
    put(&b, 2, 8);
    put(&b, 0, 4);
    put(&b, 0, 4);
    lg_error err;
    lg_gguf *g = lg_gguf_open_memory(b.b, b.n, "ok.gguf", &err);
    assert_non_null(g);
    lg_gguf_close(g);

    patch(&b, count_at, (uint64_t)1 << 61, 8);
    expect_refused(&b, "does not fit");
    patch(&b, count_at, 2, 8);
    patch(&b, elem_at, LG_GGUF_STRING, 4);   /* two "strings" of length 0 would need 16 bytes */
    expect_refused(&b, "does not fit");
    patch(&b, elem_at, LG_GGUF_ARRAY, 4);
    expect_refused(&b, "nested");
    patch(&b, elem_at, 99, 4);
    expect_refused(&b, "unknown type 99");
    patch(&b, elem_at, LG_GGUF_BOOL, 4);     /* 8 bytes: 2 BOOLs of value 0 then junk ok */
    b.b[count_at + 8] = 2;
    expect_refused(&b, "BOOL element 0 is 2");
}

/* Random damage to a file with every value type: the reader refuses it or returns
 * tensors that lie inside the bytes, aligned (ASan watches every read). */
static void random_damage_is_refused_or_harmless(void **state)
{
    (void)state;
    const char *path = "build/test_gguf_fuzz.gguf";
    lg_error err;
    lg_gguf_writer *w = lg_gguf_writer_new();
    const char *strs[] = {"a", "bb", "ccc"};
    const float fl[] = {1, 2, 3};
    const int32_t in[] = {4, 5};
    float mat[6] = {1, 2, 3, 4, 5, 6};
    uint16_t half[4] = {1, 2, 3, 4};
    assert_int_equal(lg_gguf_set_str(w, "general.architecture", "llama", &err), 0);
    assert_int_equal(lg_gguf_set_u32(w, "general.alignment", 32, &err), 0);
    assert_int_equal(lg_gguf_set_arr_str(w, "t.tokens", strs, 3, &err), 0);
    assert_int_equal(lg_gguf_set_arr_f32(w, "t.scores", fl, 3, &err), 0);
    assert_int_equal(lg_gguf_set_arr_i32(w, "t.types", in, 2, &err), 0);
    assert_int_equal(lg_gguf_set_f32(w, "x.eps", 1e-5f, &err), 0);
    assert_int_equal(lg_gguf_set_bool(w, "x.flag", 1, &err), 0);
    assert_int_equal(lg_gguf_add_tensor(w, "m", LG_GGML_F32, 2, (int64_t[]){3, 2}, mat, &err), 0);
    assert_int_equal(lg_gguf_add_tensor(w, "h", LG_GGML_F16, 1, (int64_t[]){4}, half, &err), 0);
    assert_int_equal(lg_gguf_writer_write(w, path, &err), 0);
    lg_gguf_writer_free(w);
    size_t len;
    unsigned char *orig = read_whole(path, &len);
    unlink(path);

    uint64_t rng = 0x9e3779b97f4a7c15ull;
    int refused = 0, accepted = 0;
    for (int iter = 0; iter < 20000; iter++) {
        unsigned char *p = malloc(len);
        memcpy(p, orig, len);
        int flips = 1 + iter % 3;
        for (int k = 0; k < flips; k++) {
            rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
            size_t at = (size_t)(rng % len);
            p[at] = (unsigned char)(rng >> 32);
        }
        size_t n = len - (iter % 5 == 0 ? (size_t)(rng >> 40) % 16 : 0);
        lg_gguf *g = lg_gguf_open_memory(p, n, "fuzz.gguf", &err);
        if (!g) {
            refused++;
            assert_non_null(strstr(err.msg, "fuzz.gguf"));
        } else {
            accepted++;
            for (int i = 0; i < lg_gguf_tensor_count(g); i++) {
                const lg_gguf_tensor *t = lg_gguf_tensor_at(g, i);
                const unsigned char *d = t->data;
                assert_true(d >= p && d + t->nbytes <= p + n);
                assert_int_equal(t->offset % lg_gguf_alignment(g), 0);
                unsigned sum = 0;
                for (size_t b = 0; b < t->nbytes; b++)
                    sum += d[b];
                (void)sum;
            }
            for (int i = 0; i < lg_gguf_kv_count(g); i++) {
                const lg_gguf_kv *kv = lg_gguf_kv_at(g, i);
                assert_non_null(kv->key);
                if (kv->type == LG_GGUF_ARRAY && kv->arr_type == LG_GGUF_STRING)
                    for (uint64_t k = 0; k < kv->arr_count; k++)
                        assert_non_null(kv->arr_str[k]);
            }
            lg_gguf_close(g);
        }
        free(p);
    }
    /* both outcomes occur: flips in tensor data are harmless, flips in counts are not */
    assert_true(refused > 1000);
    assert_true(accepted > 1000);
    free(orig);
}

static void duplicate_keys_are_refused(void **state)
{
    (void)state;
    buf b = {{0}, 0};
    put_raw(&b, "GGUF", 4);
    put(&b, 3, 4);
    put(&b, 0, 8);
    put(&b, 2, 8);
    for (int i = 0; i < 2; i++) {
        put_str(&b, "dup");
        put(&b, LG_GGUF_UINT8, 4);
        put(&b, 1, 1);
    }
    expect_refused(&b, "dup appears twice");
}

static void open_reports_missing_and_empty_files(void **state)
{
    (void)state;
    lg_error err;
    assert_null(lg_gguf_open("build/no/such.gguf", &err));
    assert_non_null(strstr(err.msg, "build/no/such.gguf"));
    const char *path = "build/test_gguf_empty.gguf";
    FILE *f = fopen(path, "wb");
    fclose(f);
    assert_null(lg_gguf_open(path, &err));
    assert_non_null(strstr(err.msg, path));
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(writer_bytes_match_hand_encoding),
        cmocka_unit_test(round_trip_every_type),
        cmocka_unit_test(failed_fill_leaves_no_file),
        cmocka_unit_test(every_truncation_is_refused),
        cmocka_unit_test(bad_headers_are_refused),
        cmocka_unit_test(bad_values_are_refused),
        cmocka_unit_test(bad_arrays_are_refused),
        cmocka_unit_test(duplicate_keys_are_refused),
        cmocka_unit_test(random_damage_is_refused_or_harmless),
        cmocka_unit_test(open_reports_missing_and_empty_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
