/* GGUF v3: a writer and a validating reader (the export of an HF model is in gguf_export.c).
 *
 * Layout: "GGUF", u32 version, u64 tensor count, u64 kv count, the key/values
 * (u64-length string key, u32 type, value; arrays are u32 element type + u64 count +
 * elements), the tensor infos (name, u32 n_dims, u64 dims innermost first, u32 ggml
 * type, u64 offset from the data section), padding to the alignment, then the data.
 * All numbers little-endian. */
#include "lg_export.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lg_io.h"
#include "lg_safetensors.h"

static const char GGUF_MAGIC[4] = {'G', 'G', 'U', 'F'};

const char *lg_gguf_type_name(lg_gguf_type t)
{
    static const char *const names[] = {
        "UINT8", "INT8", "UINT16", "INT16", "UINT32", "INT32", "FLOAT32",
        "BOOL", "STRING", "ARRAY", "UINT64", "INT64", "FLOAT64",
    };
    return (unsigned)t < sizeof names / sizeof names[0] ? names[t] : "?";
}

const char *lg_ggml_type_name(lg_ggml_type t)
{
    switch (t) {
    case LG_GGML_F32: return "F32";
    case LG_GGML_F16: return "F16";
    case LG_GGML_BF16: return "BF16";
    }
    return "?";
}

size_t lg_ggml_type_size(lg_ggml_type t)
{
    switch (t) {
    case LG_GGML_F32: return 4;
    case LG_GGML_F16: return 2;
    case LG_GGML_BF16: return 2;
    }
    return 0;
}

/* Size of one scalar of a fixed-size value type; 0 for STRING, ARRAY and unknown types. */
static size_t scalar_size(uint32_t t)
{
    switch (t) {
    case LG_GGUF_UINT8: case LG_GGUF_INT8: case LG_GGUF_BOOL: return 1;
    case LG_GGUF_UINT16: case LG_GGUF_INT16: return 2;
    case LG_GGUF_UINT32: case LG_GGUF_INT32: case LG_GGUF_FLOAT32: return 4;
    case LG_GGUF_UINT64: case LG_GGUF_INT64: case LG_GGUF_FLOAT64: return 8;
    }
    return 0;
}

static uint64_t align_up(uint64_t x, uint64_t a)
{
    return (x + a - 1) / a * a;
}

static int is_power_of_two(uint64_t x)
{
    return x != 0 && (x & (x - 1)) == 0;
}

/* ==== Writer ===================================================================== */

/* A growable byte buffer holding one value's encoding. */
typedef struct {
    unsigned char *p;
    size_t len, cap;
} bytes;

static int bytes_put(bytes *b, const void *src, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n)
            cap *= 2;
        unsigned char *p = realloc(b->p, cap);
        if (!p)
            return -1;
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, src, n);
    b->len += n;
    return 0;
}

static int bytes_le(bytes *b, uint64_t v, size_t n)
{
    unsigned char tmp[8];
    for (size_t i = 0; i < n; i++)
        tmp[i] = (unsigned char)(v >> (8 * i));
    return bytes_put(b, tmp, n);
}

static int bytes_str(bytes *b, const char *s, size_t n)
{
    return bytes_le(b, n, 8) || bytes_put(b, s, n) ? -1 : 0;
}

static uint32_t f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

typedef struct {
    char *key;
    uint32_t type;
    bytes value;           /* the encoded value after the type field */
    uint64_t scalar_bits;  /* a scalar's value, kept to read general.alignment back */
} writer_kv;

typedef struct {
    char *name;
    uint32_t type;
    int n_dims;
    int64_t dims[LG_GGUF_MAX_DIMS];
    size_t nbytes;
    uint64_t offset;
    const void *data;
    lg_gguf_fill_fn fill;
    void *ctx;
} writer_tensor;

struct lg_gguf_writer {
    writer_kv *kv;
    size_t n_kv, cap_kv;
    writer_tensor *tensors;
    size_t n_tensors, cap_tensors;
};

lg_gguf_writer *lg_gguf_writer_new(void)
{
    return calloc(1, sizeof(lg_gguf_writer));
}

void lg_gguf_writer_free(lg_gguf_writer *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->n_kv; i++) {
        free(w->kv[i].key);
        free(w->kv[i].value.p);
    }
    for (size_t i = 0; i < w->n_tensors; i++)
        free(w->tensors[i].name);
    free(w->kv);
    free(w->tensors);
    free(w);
}

static writer_kv *find_writer_kv(lg_gguf_writer *w, const char *key)
{
    for (size_t i = 0; i < w->n_kv; i++)
        if (strcmp(w->kv[i].key, key) == 0)
            return &w->kv[i];
    return NULL;
}

/* Appends an empty key of the given type; the caller encodes the value into ->value. */
static writer_kv *new_kv(lg_gguf_writer *w, const char *key, uint32_t type, lg_error *err)
{
    if (!key || !*key) {
        lg_fail(err, "gguf: empty key");
        return NULL;
    }
    if (find_writer_kv(w, key)) {
        lg_fail(err, "gguf: key %s set twice", key);
        return NULL;
    }
    if (w->n_kv == w->cap_kv) {
        size_t cap = w->cap_kv ? 2 * w->cap_kv : 32;
        writer_kv *kv = realloc(w->kv, cap * sizeof *kv);
        if (!kv) {
            lg_fail(err, "gguf: out of memory");
            return NULL;
        }
        w->kv = kv;
        w->cap_kv = cap;
    }
    writer_kv *kv = &w->kv[w->n_kv];
    memset(kv, 0, sizeof *kv);
    kv->key = strdup(key);
    if (!kv->key) {
        lg_fail(err, "gguf: out of memory");
        return NULL;
    }
    kv->type = type;
    w->n_kv++;
    return kv;
}

/* Removes the last key again after its value failed to encode. */
static int drop_last_kv(lg_gguf_writer *w, lg_error *err)
{
    writer_kv *kv = &w->kv[--w->n_kv];
    lg_fail(err, "gguf: out of memory encoding %s", kv->key);
    free(kv->key);
    free(kv->value.p);
    return -1;
}

static int set_scalar(lg_gguf_writer *w, const char *key, uint32_t type, uint64_t bits,
                      lg_error *err)
{
    writer_kv *kv = new_kv(w, key, type, err);
    if (!kv)
        return -1;
    kv->scalar_bits = bits;
    if (bytes_le(&kv->value, bits, scalar_size(type)))
        return drop_last_kv(w, err);
    return 0;
}

int lg_gguf_set_u32(lg_gguf_writer *w, const char *key, uint32_t v, lg_error *err)
{
    return set_scalar(w, key, LG_GGUF_UINT32, v, err);
}

int lg_gguf_set_i32(lg_gguf_writer *w, const char *key, int32_t v, lg_error *err)
{
    return set_scalar(w, key, LG_GGUF_INT32, (uint32_t)v, err);
}

int lg_gguf_set_u64(lg_gguf_writer *w, const char *key, uint64_t v, lg_error *err)
{
    return set_scalar(w, key, LG_GGUF_UINT64, v, err);
}

int lg_gguf_set_f32(lg_gguf_writer *w, const char *key, float v, lg_error *err)
{
    return set_scalar(w, key, LG_GGUF_FLOAT32, f32_bits(v), err);
}

int lg_gguf_set_bool(lg_gguf_writer *w, const char *key, int v, lg_error *err)
{
    return set_scalar(w, key, LG_GGUF_BOOL, v ? 1 : 0, err);
}

int lg_gguf_set_str(lg_gguf_writer *w, const char *key, const char *v, lg_error *err)
{
    writer_kv *kv = new_kv(w, key, LG_GGUF_STRING, err);
    if (!kv)
        return -1;
    if (bytes_str(&kv->value, v, strlen(v)))
        return drop_last_kv(w, err);
    return 0;
}

int lg_gguf_set_arr_str(lg_gguf_writer *w, const char *key, const char *const *v, size_t n,
                        lg_error *err)
{
    writer_kv *kv = new_kv(w, key, LG_GGUF_ARRAY, err);
    if (!kv)
        return -1;
    if (bytes_le(&kv->value, LG_GGUF_STRING, 4) || bytes_le(&kv->value, n, 8))
        return drop_last_kv(w, err);
    for (size_t i = 0; i < n; i++)
        if (bytes_str(&kv->value, v[i], strlen(v[i])))
            return drop_last_kv(w, err);
    return 0;
}

static int set_arr_u32_bits(lg_gguf_writer *w, const char *key, uint32_t elem,
                            const void *v, size_t n, lg_error *err)
{
    writer_kv *kv = new_kv(w, key, LG_GGUF_ARRAY, err);
    if (!kv)
        return -1;
    if (bytes_le(&kv->value, elem, 4) || bytes_le(&kv->value, n, 8))
        return drop_last_kv(w, err);
    const unsigned char *src = v;
    for (size_t i = 0; i < n; i++) {
        uint32_t bits;
        memcpy(&bits, src + 4 * i, 4);
        if (bytes_le(&kv->value, bits, 4))
            return drop_last_kv(w, err);
    }
    return 0;
}

int lg_gguf_set_arr_f32(lg_gguf_writer *w, const char *key, const float *v, size_t n,
                        lg_error *err)
{
    return set_arr_u32_bits(w, key, LG_GGUF_FLOAT32, v, n, err);
}

int lg_gguf_set_arr_i32(lg_gguf_writer *w, const char *key, const int32_t *v, size_t n,
                        lg_error *err)
{
    return set_arr_u32_bits(w, key, LG_GGUF_INT32, v, n, err);
}

static int add_tensor(lg_gguf_writer *w, const char *name, lg_ggml_type type, int n_dims,
                      const int64_t *dims, const void *data, lg_gguf_fill_fn fill, void *ctx,
                      lg_error *err)
{
    if (!name || !*name)
        return lg_fail(err, "gguf: tensor with an empty name");
    if (lg_ggml_type_size(type) == 0)
        return lg_fail(err, "gguf: tensor %s: unsupported ggml type %d", name, (int)type);
    if (n_dims < 1 || n_dims > LG_GGUF_MAX_DIMS)
        return lg_fail(err, "gguf: tensor %s: %d dimensions (1 to %d allowed)", name, n_dims,
                       LG_GGUF_MAX_DIMS);
    size_t nbytes = lg_ggml_type_size(type);
    for (int d = 0; d < n_dims; d++) {
        if (dims[d] <= 0)
            return lg_fail(err, "gguf: tensor %s: dimension %d is %" PRId64, name, d, dims[d]);
        if ((uint64_t)dims[d] > SIZE_MAX / nbytes)
            return lg_fail(err, "gguf: tensor %s is too large", name);
        nbytes *= (size_t)dims[d];
    }
    for (size_t i = 0; i < w->n_tensors; i++)
        if (strcmp(w->tensors[i].name, name) == 0)
            return lg_fail(err, "gguf: tensor %s added twice", name);
    if (w->n_tensors == w->cap_tensors) {
        size_t cap = w->cap_tensors ? 2 * w->cap_tensors : 64;
        writer_tensor *t = realloc(w->tensors, cap * sizeof *t);
        if (!t)
            return lg_fail(err, "gguf: out of memory");
        w->tensors = t;
        w->cap_tensors = cap;
    }
    writer_tensor *t = &w->tensors[w->n_tensors];
    memset(t, 0, sizeof *t);
    t->name = strdup(name);
    if (!t->name)
        return lg_fail(err, "gguf: out of memory");
    t->type = type;
    t->n_dims = n_dims;
    memcpy(t->dims, dims, (size_t)n_dims * sizeof *dims);
    t->nbytes = nbytes;
    t->data = data;
    t->fill = fill;
    t->ctx = ctx;
    w->n_tensors++;
    return 0;
}

int lg_gguf_add_tensor(lg_gguf_writer *w, const char *name, lg_ggml_type type, int n_dims,
                       const int64_t *dims, const void *data, lg_error *err)
{
    if (!data)
        return lg_fail(err, "gguf: tensor %s has no data", name ? name : "?");
    return add_tensor(w, name, type, n_dims, dims, data, NULL, NULL, err);
}

int lg_gguf_add_tensor_fill(lg_gguf_writer *w, const char *name, lg_ggml_type type, int n_dims,
                            const int64_t *dims, lg_gguf_fill_fn fill, void *ctx,
                            lg_error *err)
{
    if (!fill)
        return lg_fail(err, "gguf: tensor %s has no fill function", name ? name : "?");
    return add_tensor(w, name, type, n_dims, dims, NULL, fill, ctx, err);
}

static int write_le(FILE *f, uint64_t v, size_t n)
{
    unsigned char tmp[8];
    for (size_t i = 0; i < n; i++)
        tmp[i] = (unsigned char)(v >> (8 * i));
    return fwrite(tmp, 1, n, f) == n ? 0 : -1;
}

static int write_str(FILE *f, const char *s)
{
    size_t n = strlen(s);
    return write_le(f, n, 8) || fwrite(s, 1, n, f) != n ? -1 : 0;
}

static int write_zeros(FILE *f, uint64_t n)
{
    static const unsigned char zeros[64];
    while (n > 0) {
        size_t k = n < sizeof zeros ? (size_t)n : sizeof zeros;
        if (fwrite(zeros, 1, k, f) != k)
            return -1;
        n -= k;
    }
    return 0;
}

static int write_body(lg_gguf_writer *w, FILE *f, uint64_t alignment, const char *path,
                      lg_error *err)
{
    /* Header and key/values. */
    int bad = fwrite(GGUF_MAGIC, 1, 4, f) != 4 || write_le(f, LG_GGUF_VERSION, 4) ||
              write_le(f, w->n_tensors, 8) || write_le(f, w->n_kv, 8);
    for (size_t i = 0; !bad && i < w->n_kv; i++) {
        const writer_kv *kv = &w->kv[i];
        bad = write_str(f, kv->key) || write_le(f, kv->type, 4) ||
              fwrite(kv->value.p, 1, kv->value.len, f) != kv->value.len;
    }
    /* Tensor infos; offsets packed in order, each aligned. */
    uint64_t offset = 0;
    for (size_t i = 0; !bad && i < w->n_tensors; i++) {
        writer_tensor *t = &w->tensors[i];
        t->offset = offset;
        offset = align_up(offset + t->nbytes, alignment);
        bad = write_str(f, t->name) || write_le(f, (uint64_t)t->n_dims, 4);
        for (int d = 0; !bad && d < t->n_dims; d++)
            bad = write_le(f, (uint64_t)t->dims[d], 8);
        bad = bad || write_le(f, t->type, 4) || write_le(f, t->offset, 8);
    }
    if (bad)
        return lg_fail(err, "%s: write failed", path);
    long pos = ftell(f);
    if (pos < 0 || write_zeros(f, align_up((uint64_t)pos, alignment) - (uint64_t)pos))
        return lg_fail(err, "%s: write failed", path);
    /* Data. */
    for (size_t i = 0; i < w->n_tensors; i++) {
        const writer_tensor *t = &w->tensors[i];
        if (t->fill) {
            void *buf = malloc(t->nbytes);
            if (!buf)
                return lg_fail(err, "%s: out of memory for tensor %s (%zu bytes)", path, t->name,
                               t->nbytes);
            if (t->fill(t->ctx, buf, t->nbytes, err) < 0) {
                free(buf);
                return lg_fail_context(err, "%s: tensor %s", path, t->name);
            }
            bad = fwrite(buf, 1, t->nbytes, f) != t->nbytes;
            free(buf);
        } else {
            bad = fwrite(t->data, 1, t->nbytes, f) != t->nbytes;
        }
        uint64_t end = t->offset + t->nbytes;
        if (bad || (i + 1 < w->n_tensors && write_zeros(f, align_up(end, alignment) - end)))
            return lg_fail(err, "%s: write failed", path);
    }
    return 0;
}

int lg_gguf_writer_write(lg_gguf_writer *w, const char *path, lg_error *err)
{
    uint64_t alignment = LG_GGUF_DEFAULT_ALIGNMENT;
    writer_kv *a = find_writer_kv(w, "general.alignment");
    if (a) {
        if (a->type != LG_GGUF_UINT32 || !is_power_of_two(a->scalar_bits))
            return lg_fail(err, "%s: general.alignment must be a UINT32 power of two", path);
        alignment = a->scalar_bits;
    }
    lg_atomic_file af;
    if (lg_atomic_open(&af, path, err) < 0)
        return -1;
    if (write_body(w, af.fp, alignment, path, err) < 0) {
        lg_atomic_abort(&af);
        return -1;
    }
    return lg_atomic_commit(&af, err);
}

/* ==== Reader ===================================================================== */

struct lg_gguf {
    char *name;                /* for messages */
    void *map;                 /* mmap of the file, or NULL for memory input */
    size_t map_len;
    const unsigned char *bytes;
    size_t len;
    uint32_t version;
    uint32_t alignment;
    uint64_t data_offset;
    lg_gguf_kv *kv;
    int n_kv;
    lg_gguf_tensor *tensors;
    int n_tensors;
};

/* A bounds-checked cursor over the file. */
typedef struct {
    const unsigned char *p;
    size_t len, pos;
    const char *name;
    lg_error *err;
} cursor;

static int need(cursor *c, uint64_t n, const char *what)
{
    if (n > c->len - c->pos)
        return lg_fail(c->err, "%s: truncated: %s at byte %zu needs %" PRIu64
                       " bytes, %zu left", c->name, what, c->pos, n, c->len - c->pos);
    return 0;
}

static int read_le(cursor *c, size_t n, uint64_t *v, const char *what)
{
    if (need(c, n, what) < 0)
        return -1;
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++)
        x |= (uint64_t)c->p[c->pos + i] << (8 * i);
    c->pos += n;
    *v = x;
    return 0;
}

/* Reads a GGUF string into a fresh NUL-terminated copy. */
static char *read_str(cursor *c, uint64_t *len_out, const char *what)
{
    uint64_t n;
    if (read_le(c, 8, &n, what) < 0 || need(c, n, what) < 0)
        return NULL;
    char *s = malloc((size_t)n + 1);
    if (!s) {
        lg_fail(c->err, "%s: out of memory reading %s", c->name, what);
        return NULL;
    }
    memcpy(s, c->p + c->pos, (size_t)n);
    s[n] = 0;
    c->pos += (size_t)n;
    if (len_out)
        *len_out = n;
    return s;
}

static double f32_from_bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static double f64_from_bits(uint64_t u)
{
    double f;
    memcpy(&f, &u, 8);
    return f;
}

/* Decodes a scalar of fixed-size type t into the kv's u/i/f members. */
static void set_scalar_value(lg_gguf_kv *kv, uint32_t t, uint64_t raw)
{
    switch (t) {
    case LG_GGUF_UINT8: case LG_GGUF_UINT16: case LG_GGUF_UINT32: case LG_GGUF_UINT64:
        kv->u = raw;
        kv->i = (int64_t)raw;
        kv->f = (double)raw;
        break;
    case LG_GGUF_BOOL:
        kv->u = raw;
        kv->i = (int64_t)raw;
        kv->f = (double)raw;
        break;
    case LG_GGUF_INT8: kv->i = (int8_t)raw; break;
    case LG_GGUF_INT16: kv->i = (int16_t)raw; break;
    case LG_GGUF_INT32: kv->i = (int32_t)raw; break;
    case LG_GGUF_INT64: kv->i = (int64_t)raw; break;
    case LG_GGUF_FLOAT32: kv->f = f32_from_bits((uint32_t)raw); break;
    case LG_GGUF_FLOAT64: kv->f = f64_from_bits(raw); break;
    }
    if (t == LG_GGUF_INT8 || t == LG_GGUF_INT16 || t == LG_GGUF_INT32 || t == LG_GGUF_INT64) {
        kv->u = (uint64_t)kv->i;
        kv->f = (double)kv->i;
    }
}

/* Stores element k of a numeric array (raw bits) as its C type. */
static void store_elem(void *arr, uint32_t t, uint64_t k, uint64_t raw)
{
    switch (t) {
    case LG_GGUF_UINT8: case LG_GGUF_INT8: case LG_GGUF_BOOL:
        ((uint8_t *)arr)[k] = (uint8_t)raw;
        break;
    case LG_GGUF_UINT16: case LG_GGUF_INT16:
        ((uint16_t *)arr)[k] = (uint16_t)raw;
        break;
    case LG_GGUF_UINT32: case LG_GGUF_INT32: case LG_GGUF_FLOAT32:
        ((uint32_t *)arr)[k] = (uint32_t)raw;
        break;
    default:
        ((uint64_t *)arr)[k] = raw;
        break;
    }
}

static int read_kv(cursor *c, lg_gguf_kv *kv)
{
    kv->key = read_str(c, NULL, "key");
    if (!kv->key)
        return -1;
    if (!*kv->key)
        return lg_fail(c->err, "%s: empty key at byte %zu", c->name, c->pos);
    uint64_t t;
    if (read_le(c, 4, &t, kv->key) < 0)
        return -1;
    kv->type = (lg_gguf_type)t;
    if (t == LG_GGUF_STRING) {
        kv->str = read_str(c, &kv->str_len, kv->key);
        return kv->str ? 0 : -1;
    }
    if (t != LG_GGUF_ARRAY) {
        size_t size = scalar_size((uint32_t)t);
        if (size == 0)
            return lg_fail(c->err, "%s: key %s has unknown value type %" PRIu64, c->name,
                           kv->key, t);
        uint64_t raw;
        if (read_le(c, size, &raw, kv->key) < 0)
            return -1;
        if (t == LG_GGUF_BOOL && raw > 1)
            return lg_fail(c->err, "%s: key %s: BOOL value %" PRIu64, c->name, kv->key, raw);
        set_scalar_value(kv, (uint32_t)t, raw);
        return 0;
    }
    uint64_t et, n;
    if (read_le(c, 4, &et, kv->key) < 0 || read_le(c, 8, &n, kv->key) < 0)
        return -1;
    kv->arr_type = (lg_gguf_type)et;
    if (et == LG_GGUF_ARRAY)
        return lg_fail(c->err, "%s: key %s: nested arrays are not supported", c->name, kv->key);
    if (et == LG_GGUF_STRING) {
        /* Each string needs at least its 8-byte length: bounds the count by the file. */
        if (n > (c->len - c->pos) / 8)
            return lg_fail(c->err, "%s: key %s: array of %" PRIu64 " strings does not fit in "
                           "the %zu bytes left", c->name, kv->key, n, c->len - c->pos);
        kv->arr_str = calloc(n ? (size_t)n : 1, sizeof(char *));
        if (!kv->arr_str)
            return lg_fail(c->err, "%s: out of memory", c->name);
        kv->arr_count = n;
        for (uint64_t k = 0; k < n; k++)
            if (!(kv->arr_str[k] = read_str(c, NULL, kv->key)))
                return -1;
        return 0;
    }
    size_t size = scalar_size((uint32_t)et);
    if (size == 0)
        return lg_fail(c->err, "%s: key %s: array of unknown type %" PRIu64, c->name, kv->key, et);
    if (n > (c->len - c->pos) / size)
        return lg_fail(c->err, "%s: key %s: array of %" PRIu64 " %s does not fit in the %zu "
                       "bytes left", c->name, kv->key, n, lg_gguf_type_name((lg_gguf_type)et),
                       c->len - c->pos);
    kv->arr = malloc(n ? (size_t)n * size : 1);
    if (!kv->arr)
        return lg_fail(c->err, "%s: out of memory", c->name);
    kv->arr_count = n;
    for (uint64_t k = 0; k < n; k++) {
        uint64_t raw = 0;
        read_le(c, size, &raw, kv->key); /* cannot fail: bounds checked above */
        if (et == LG_GGUF_BOOL && raw > 1)
            return lg_fail(c->err, "%s: key %s: BOOL element %" PRIu64 " is %" PRIu64, c->name,
                           kv->key, k, raw);
        store_elem(kv->arr, (uint32_t)et, k, raw);
    }
    return 0;
}

static int read_tensor_info(cursor *c, lg_gguf_tensor *t)
{
    t->name = read_str(c, NULL, "tensor name");
    if (!t->name)
        return -1;
    if (!*t->name)
        return lg_fail(c->err, "%s: tensor with an empty name", c->name);
    uint64_t nd;
    if (read_le(c, 4, &nd, t->name) < 0)
        return -1;
    if (nd < 1 || nd > LG_GGUF_MAX_DIMS)
        return lg_fail(c->err, "%s: tensor %s has %" PRIu64 " dimensions (1 to %d allowed)",
                       c->name, t->name, nd, LG_GGUF_MAX_DIMS);
    t->n_dims = (int)nd;
    uint64_t numel = 1;
    for (int d = 0; d < t->n_dims; d++) {
        uint64_t v;
        if (read_le(c, 8, &v, t->name) < 0)
            return -1;
        if (v == 0 || v > INT64_MAX || numel > (uint64_t)INT64_MAX / v)
            return lg_fail(c->err, "%s: tensor %s: dimension %d is %" PRIu64, c->name, t->name,
                           d, v);
        t->dims[d] = (int64_t)v;
        numel *= v;
    }
    t->numel = (int64_t)numel;
    for (int d = t->n_dims; d < LG_GGUF_MAX_DIMS; d++)
        t->dims[d] = 1;
    uint64_t type, offset;
    if (read_le(c, 4, &type, t->name) < 0 || read_le(c, 8, &offset, t->name) < 0)
        return -1;
    t->type = (lg_ggml_type)type;
    size_t es = type <= 255 ? lg_ggml_type_size((lg_ggml_type)type) : 0;
    if (es == 0)
        return lg_fail(c->err, "%s: tensor %s has ggml type %" PRIu64 " (only F32, F16 and BF16 "
                       "are supported)", c->name, t->name, type);
    if (numel > (uint64_t)SIZE_MAX / es)
        return lg_fail(c->err, "%s: tensor %s is too large", c->name, t->name);
    t->nbytes = (size_t)numel * es;
    t->offset = offset;
    return 0;
}

static int compare_offsets(const void *a, const void *b)
{
    const lg_gguf_tensor *x = *(const lg_gguf_tensor *const *)a;
    const lg_gguf_tensor *y = *(const lg_gguf_tensor *const *)b;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* Tensor data: aligned, inside the file, not overlapping each other. */
static int check_tensor_data(lg_gguf *g, lg_error *err)
{
    for (int i = 0; i < g->n_tensors; i++) {
        lg_gguf_tensor *t = &g->tensors[i];
        if (t->offset % g->alignment)
            return lg_fail(err, "%s: tensor %s: offset %" PRIu64 " is not a multiple of the "
                           "alignment %u", g->name, t->name, t->offset, g->alignment);
        uint64_t room = g->len - g->data_offset;
        if (t->offset > room || t->nbytes > room - t->offset)
            return lg_fail(err, "%s: tensor %s: data [%" PRIu64 ", %" PRIu64 ") lies beyond the "
                           "end of the file (%" PRIu64 " data bytes)", g->name, t->name,
                           t->offset, t->offset + (uint64_t)t->nbytes, room);
        t->data = g->bytes + g->data_offset + t->offset;
    }
    if (g->n_tensors < 2)
        return 0;
    const lg_gguf_tensor **order = malloc((size_t)g->n_tensors * sizeof *order);
    if (!order)
        return lg_fail(err, "%s: out of memory", g->name);
    for (int i = 0; i < g->n_tensors; i++)
        order[i] = &g->tensors[i];
    qsort(order, (size_t)g->n_tensors, sizeof *order, compare_offsets);
    int rc = 0;
    for (int i = 1; i < g->n_tensors && rc == 0; i++)
        if (order[i - 1]->offset + order[i - 1]->nbytes > order[i]->offset)
            rc = lg_fail(err, "%s: tensors %s and %s overlap", g->name, order[i - 1]->name,
                         order[i]->name);
    free(order);
    return rc;
}

static int parse(lg_gguf *g, lg_error *err)
{
    cursor c = {g->bytes, g->len, 0, g->name, err};
    if (g->len < 4 || memcmp(g->bytes, GGUF_MAGIC, 4) != 0)
        return lg_fail(err, "%s: not a GGUF file (bad magic)", g->name);
    c.pos = 4;
    uint64_t version, n_tensors, n_kv;
    if (read_le(&c, 4, &version, "version") < 0)
        return -1;
    if (version != 2 && version != 3)
        return lg_fail(err, "%s: GGUF version %" PRIu64 " is not supported (2 or 3)", g->name,
                       version);
    g->version = (uint32_t)version;
    if (read_le(&c, 8, &n_tensors, "tensor count") < 0 || read_le(&c, 8, &n_kv, "kv count") < 0)
        return -1;
    /* Smallest encodings: a kv 8+1+4+1 bytes, a tensor info 8+1+4+8+4+8. */
    if (n_kv > (c.len - c.pos) / 14)
        return lg_fail(err, "%s: %" PRIu64 " key/values cannot fit in a %zu-byte file", g->name,
                       n_kv, g->len);
    if (n_tensors > (c.len - c.pos) / 33)
        return lg_fail(err, "%s: %" PRIu64 " tensors cannot fit in a %zu-byte file", g->name,
                       n_tensors, g->len);
    g->kv = calloc(n_kv ? (size_t)n_kv : 1, sizeof *g->kv);
    g->tensors = calloc(n_tensors ? (size_t)n_tensors : 1, sizeof *g->tensors);
    if (!g->kv || !g->tensors)
        return lg_fail(err, "%s: out of memory", g->name);
    for (uint64_t i = 0; i < n_kv; i++) {
        g->n_kv = (int)i + 1; /* so that close() frees what was read */
        if (read_kv(&c, &g->kv[i]) < 0)
            return -1;
        for (uint64_t j = 0; j < i; j++)
            if (strcmp(g->kv[j].key, g->kv[i].key) == 0)
                return lg_fail(err, "%s: key %s appears twice", g->name, g->kv[i].key);
    }
    g->alignment = LG_GGUF_DEFAULT_ALIGNMENT;
    const lg_gguf_kv *a = lg_gguf_find_kv(g, "general.alignment");
    if (a) {
        if (a->type != LG_GGUF_UINT32)
            return lg_fail(err, "%s: general.alignment is %s, expected UINT32", g->name,
                           lg_gguf_type_name(a->type));
        if (!is_power_of_two(a->u))
            return lg_fail(err, "%s: general.alignment %" PRIu64 " is not a power of two",
                           g->name, a->u);
        g->alignment = (uint32_t)a->u;
    }
    for (uint64_t i = 0; i < n_tensors; i++) {
        g->n_tensors = (int)i + 1;
        if (read_tensor_info(&c, &g->tensors[i]) < 0)
            return -1;
        for (uint64_t j = 0; j < i; j++)
            if (strcmp(g->tensors[j].name, g->tensors[i].name) == 0)
                return lg_fail(err, "%s: tensor %s appears twice", g->name, g->tensors[i].name);
    }
    g->data_offset = align_up(c.pos, g->alignment);
    if (g->n_tensors > 0 && g->data_offset > g->len)
        return lg_fail(err, "%s: truncated: the data section would start at byte %" PRIu64
                       " of a %zu-byte file", g->name, g->data_offset, g->len);
    return check_tensor_data(g, err);
}

static lg_gguf *new_reader(const char *name, lg_error *err)
{
    lg_gguf *g = calloc(1, sizeof *g);
    if (g)
        g->name = strdup(name ? name : "gguf");
    if (!g || !g->name) {
        free(g);
        lg_fail(err, "%s: out of memory", name ? name : "gguf");
        return NULL;
    }
    return g;
}

lg_gguf *lg_gguf_open_memory(const void *bytes, size_t len, const char *name, lg_error *err)
{
    lg_gguf *g = new_reader(name, err);
    if (!g)
        return NULL;
    g->bytes = bytes;
    g->len = len;
    if (parse(g, err) < 0) {
        lg_gguf_close(g);
        return NULL;
    }
    return g;
}

lg_gguf *lg_gguf_open(const char *path, lg_error *err)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        lg_fail(err, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        lg_fail(err, "%s: not a regular file", path);
        return NULL;
    }
    lg_gguf *g = new_reader(path, err);
    if (!g) {
        close(fd);
        return NULL;
    }
    g->len = (size_t)st.st_size;
    if (g->len > 0) {
        g->map = mmap(NULL, g->len, PROT_READ, MAP_PRIVATE, fd, 0);
        if (g->map == MAP_FAILED) {
            g->map = NULL;
            close(fd);
            lg_fail(err, "%s: cannot map: %s", path, strerror(errno));
            lg_gguf_close(g);
            return NULL;
        }
        g->map_len = g->len;
        g->bytes = g->map;
    } else {
        g->bytes = (const unsigned char *)"";
    }
    close(fd);
    if (parse(g, err) < 0) {
        lg_gguf_close(g);
        return NULL;
    }
    return g;
}

void lg_gguf_close(lg_gguf *g)
{
    if (!g)
        return;
    for (int i = 0; i < g->n_kv; i++) {
        lg_gguf_kv *kv = &g->kv[i];
        free(kv->key);
        free(kv->str);
        free(kv->arr);
        if (kv->arr_str)
            for (uint64_t k = 0; k < kv->arr_count; k++)
                free(kv->arr_str[k]);
        free(kv->arr_str);
    }
    for (int i = 0; i < g->n_tensors; i++)
        free(g->tensors[i].name);
    free(g->kv);
    free(g->tensors);
    if (g->map)
        munmap(g->map, g->map_len);
    free(g->name);
    free(g);
}

uint32_t lg_gguf_version(const lg_gguf *g) { return g->version; }
uint32_t lg_gguf_alignment(const lg_gguf *g) { return g->alignment; }
uint64_t lg_gguf_data_offset(const lg_gguf *g) { return g->data_offset; }
int lg_gguf_kv_count(const lg_gguf *g) { return g->n_kv; }
int lg_gguf_tensor_count(const lg_gguf *g) { return g->n_tensors; }

const lg_gguf_kv *lg_gguf_kv_at(const lg_gguf *g, int i)
{
    return i >= 0 && i < g->n_kv ? &g->kv[i] : NULL;
}

const lg_gguf_tensor *lg_gguf_tensor_at(const lg_gguf *g, int i)
{
    return i >= 0 && i < g->n_tensors ? &g->tensors[i] : NULL;
}

const lg_gguf_kv *lg_gguf_find_kv(const lg_gguf *g, const char *key)
{
    for (int i = 0; i < g->n_kv; i++)
        if (g->kv[i].key && strcmp(g->kv[i].key, key) == 0)
            return &g->kv[i];
    return NULL;
}

const lg_gguf_tensor *lg_gguf_find_tensor(const lg_gguf *g, const char *name)
{
    for (int i = 0; i < g->n_tensors; i++)
        if (g->tensors[i].name && strcmp(g->tensors[i].name, name) == 0)
            return &g->tensors[i];
    return NULL;
}

static const lg_gguf_kv *typed_kv(const lg_gguf *g, const char *key, lg_gguf_type type,
                                  lg_error *err)
{
    const lg_gguf_kv *kv = lg_gguf_find_kv(g, key);
    if (!kv) {
        lg_fail(err, "%s: key %s is missing", g->name, key);
        return NULL;
    }
    if (kv->type != type) {
        lg_fail(err, "%s: %s is %s, expected %s", g->name, key, lg_gguf_type_name(kv->type),
                lg_gguf_type_name(type));
        return NULL;
    }
    return kv;
}

int lg_gguf_get_u32(const lg_gguf *g, const char *key, uint32_t *v, lg_error *err)
{
    const lg_gguf_kv *kv = typed_kv(g, key, LG_GGUF_UINT32, err);
    if (!kv)
        return -1;
    *v = (uint32_t)kv->u;
    return 0;
}

int lg_gguf_get_i32(const lg_gguf *g, const char *key, int32_t *v, lg_error *err)
{
    const lg_gguf_kv *kv = typed_kv(g, key, LG_GGUF_INT32, err);
    if (!kv)
        return -1;
    *v = (int32_t)kv->i;
    return 0;
}

int lg_gguf_get_f32(const lg_gguf *g, const char *key, float *v, lg_error *err)
{
    const lg_gguf_kv *kv = typed_kv(g, key, LG_GGUF_FLOAT32, err);
    if (!kv)
        return -1;
    *v = (float)kv->f;
    return 0;
}

int lg_gguf_get_bool(const lg_gguf *g, const char *key, int *v, lg_error *err)
{
    const lg_gguf_kv *kv = typed_kv(g, key, LG_GGUF_BOOL, err);
    if (!kv)
        return -1;
    *v = (int)kv->u;
    return 0;
}

const char *lg_gguf_get_str(const lg_gguf *g, const char *key, lg_error *err)
{
    const lg_gguf_kv *kv = typed_kv(g, key, LG_GGUF_STRING, err);
    return kv ? kv->str : NULL;
}

const lg_gguf_kv *lg_gguf_get_arr(const lg_gguf *g, const char *key, lg_gguf_type elem,
                                  lg_error *err)
{
    const lg_gguf_kv *kv = typed_kv(g, key, LG_GGUF_ARRAY, err);
    if (kv && kv->arr_type != elem) {
        lg_fail(err, "%s: %s is an array of %s, expected %s", g->name, key,
                lg_gguf_type_name(kv->arr_type), lg_gguf_type_name(elem));
        return NULL;
    }
    return kv;
}

int lg_gguf_tensor_to_f32(const lg_gguf_tensor *t, float *dst, lg_error *err)
{
    const unsigned char *src = t->data;
    for (int64_t k = 0; k < t->numel; k++) {
        switch (t->type) {
        case LG_GGML_F32:
            memcpy(&dst[k], src + 4 * k, 4);
            break;
        case LG_GGML_F16: {
            uint16_t h;
            memcpy(&h, src + 2 * k, 2);
            dst[k] = lg_f16_to_f32(h);
            break;
        }
        case LG_GGML_BF16: {
            uint16_t h;
            memcpy(&h, src + 2 * k, 2);
            dst[k] = lg_bf16_to_f32(h);
            break;
        }
        default:
            return lg_fail(err, "tensor %s: cannot convert ggml type %d", t->name, (int)t->type);
        }
    }
    return 0;
}

static void describe_value(FILE *f, const lg_gguf_kv *kv)
{
    switch (kv->type) {
    case LG_GGUF_STRING: fprintf(f, "\"%s\"", kv->str); break;
    case LG_GGUF_FLOAT32: case LG_GGUF_FLOAT64: fprintf(f, "%.9g", kv->f); break;
    case LG_GGUF_BOOL: fputs(kv->u ? "true" : "false", f); break;
    case LG_GGUF_INT8: case LG_GGUF_INT16: case LG_GGUF_INT32: case LG_GGUF_INT64:
        fprintf(f, "%" PRId64, kv->i);
        break;
    case LG_GGUF_ARRAY:
        fprintf(f, "[%s x %" PRIu64 "]", lg_gguf_type_name(kv->arr_type), kv->arr_count);
        if (kv->arr_type == LG_GGUF_STRING && kv->arr_count > 0)
            fprintf(f, " \"%s\"%s", kv->arr_str[0], kv->arr_count > 1 ? " ..." : "");
        break;
    default: fprintf(f, "%" PRIu64, kv->u); break;
    }
}

void lg_gguf_describe(const lg_gguf *g, void *file)
{
    FILE *f = file;
    fprintf(f, "%s: GGUF v%u, %d key/values, %d tensors, alignment %u, data at byte %" PRIu64
            "\n", g->name, g->version, g->n_kv, g->n_tensors, g->alignment, g->data_offset);
    for (int i = 0; i < g->n_kv; i++) {
        const lg_gguf_kv *kv = &g->kv[i];
        fprintf(f, "  %-44s %-8s ", kv->key, lg_gguf_type_name(kv->type));
        describe_value(f, kv);
        fputc('\n', f);
    }
    for (int i = 0; i < g->n_tensors; i++) {
        const lg_gguf_tensor *t = &g->tensors[i];
        fprintf(f, "  tensor %-36s %-4s {", t->name, lg_ggml_type_name(t->type));
        for (int d = 0; d < t->n_dims; d++)
            fprintf(f, "%s%" PRId64, d ? ", " : "", t->dims[d]);
        fprintf(f, "} at %" PRIu64 "\n", t->offset);
    }
}
