/* safetensors: validating reader (one file or a sharded model directory), writer,
 * and the F32/F16/BF16/F64 conversions. Data are little-endian, as on every machine
 * lingraft targets (x86-64, aarch64). */
#include "lg_safetensors.h"

#include "lg_io.h"

#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_HEADER_BYTES (100u * 1000u * 1000u)
/* Integers in a JSON header arrive as doubles: beyond 2^53 they are no longer exact. */
#define MAX_JSON_INT 9007199254740992.0

_Static_assert(sizeof(float) == 4, "float must be IEEE binary32");

/* ---------------------------------------------------------------- dtypes */

static const struct {
    const char *name;
    size_t size;
} dtype_table[] = {
    [LG_DT_F32] = {"F32", 4}, [LG_DT_F16] = {"F16", 2}, [LG_DT_BF16] = {"BF16", 2},
    [LG_DT_F64] = {"F64", 8}, [LG_DT_I64] = {"I64", 8}, [LG_DT_I32] = {"I32", 4},
    [LG_DT_I16] = {"I16", 2}, [LG_DT_I8] = {"I8", 1},   [LG_DT_U8] = {"U8", 1},
    [LG_DT_BOOL] = {"BOOL", 1},
};
#define N_DTYPES ((int)(sizeof dtype_table / sizeof dtype_table[0]))

size_t lg_dtype_size(lg_dtype dt)
{
    return (int)dt >= 0 && (int)dt < N_DTYPES ? dtype_table[dt].size : 0;
}

const char *lg_dtype_name(lg_dtype dt)
{
    return (int)dt >= 0 && (int)dt < N_DTYPES ? dtype_table[dt].name : "?";
}

int lg_dtype_parse(const char *name, lg_dtype *dt)
{
    for (int i = 0; i < N_DTYPES; i++)
        if (strcmp(name, dtype_table[i].name) == 0) {
            *dt = (lg_dtype)i;
            return 0;
        }
    return -1;
}

/* ---------------------------------------------------------- half floats */

static uint32_t float_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static float bits_float(uint32_t u)
{
    float f;
    memcpy(&f, &u, 4);
    return f;
}

float lg_bf16_to_f32(uint16_t h)
{
    return bits_float((uint32_t)h << 16);
}

uint16_t lg_f32_to_bf16(float f)
{
    uint32_t x = float_bits(f);
    if ((x & 0x7fffffffu) > 0x7f800000u)            /* NaN: keep sign, make it quiet */
        return (uint16_t)((x >> 16) | 0x0040u);
    /* Round to nearest even; Inf stays Inf, the largest finite values round up to Inf. */
    x += 0x7fffu + ((x >> 16) & 1u);
    return (uint16_t)(x >> 16);
}

float lg_f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu, mant = h & 0x3ffu;
    if (exp == 0) {                                  /* zero or subnormal: mant × 2^-24 */
        float v = (float)mant * 0x1p-24f;
        return sign ? -v : v;
    }
    if (exp == 31)                                   /* Inf or NaN */
        return bits_float(sign | 0x7f800000u | (mant << 13));
    return bits_float(sign | ((exp + 112u) << 23) | (mant << 13));
}

uint16_t lg_f32_to_f16(float f)
{
    uint32_t x = float_bits(f);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000u);
    x &= 0x7fffffffu;
    if (x > 0x7f800000u)                             /* NaN: quiet, keep the top payload */
        return sign | 0x7e00u | (uint16_t)((x >> 13) & 0x3ffu);
    if (x >= 0x477ff000u)                            /* ≥ 65520 rounds to Inf (and Inf) */
        return sign | 0x7c00u;
    if (x < 0x38800000u) {                           /* below 2^-14: subnormal half or 0 */
        if (x <= 0x33000000u)                        /* ≤ 2^-25 rounds (to even) to zero */
            return sign;
        uint32_t e = x >> 23, m = (x & 0x7fffffu) | 0x800000u;
        uint32_t shift = 126u - e;                   /* 14 ... 24 */
        uint32_t k = m >> shift, rem = m & ((1u << shift) - 1u), half = 1u << (shift - 1u);
        if (rem > half || (rem == half && (k & 1u)))
            k++;
        return sign | (uint16_t)k;
    }
    uint32_t h = (x - 0x38000000u) >> 13;            /* rebias the exponent 127 → 15 */
    uint32_t rem = x & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1u)))
        h++;
    return sign | (uint16_t)h;
}

/* ------------------------------------------------------------ tensors */

/* The first element of v[0..n) that is NaN or infinite, or -1. Branch-free over the
 * block (it vectorises); the caller runs it on a block it just wrote, still in cache. */
static int64_t first_nonfinite(const float *v, int64_t n)
{
    uint32_t bad = 0;
    for (int64_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &v[i], 4);
        bad |= (uint32_t)((u & 0x7f800000u) == 0x7f800000u);
    }
    if (!bad)
        return -1;
    for (int64_t i = 0; i < n; i++)
        if (!isfinite(v[i]))
            return i;
    return -1;
}

int lg_tensor_to_f32(const lg_tensor_info *t, float *dst, lg_error *err)
{
    return lg_tensor_range_to_f32(t, 0, t->numel, dst, err);
}

int lg_tensor_range_to_f32(const lg_tensor_info *t, int64_t first, int64_t count, float *dst,
                           lg_error *err)
{
    if (t->dtype != LG_DT_F32 && t->dtype != LG_DT_BF16 && t->dtype != LG_DT_F16 &&
        t->dtype != LG_DT_F64)
        return lg_fail(err, "%s: tensor %s has dtype %s, not a floating-point type", t->file,
                       t->name, lg_dtype_name(t->dtype));
    if (first < 0 || count < 0 || first > t->numel || count > t->numel - first)
        return lg_fail(err, "%s: tensor %s: elements %lld..%lld asked of %lld", t->file, t->name,
                       (long long)first, (long long)(first + count), (long long)t->numel);
    const unsigned char *p = (const unsigned char *)t->data + first * (int64_t)lg_dtype_size(t->dtype);
    const int64_t n = count;
    /* converted and checked a block at a time: one pass over the data */
    enum { BLOCK = 16384 };
    for (int64_t b = 0; b < n; b += BLOCK) {
        const int64_t e = n - b < BLOCK ? n : b + BLOCK;
        switch (t->dtype) {
        case LG_DT_F32:
            memcpy(dst + b, p + 4 * b, (size_t)(e - b) * 4);
            break;
        case LG_DT_BF16:
            for (int64_t i = b; i < e; i++) {
                uint16_t h;
                memcpy(&h, p + 2 * i, 2);
                dst[i] = lg_bf16_to_f32(h);
            }
            break;
        case LG_DT_F16:
            for (int64_t i = b; i < e; i++) {
                uint16_t h;
                memcpy(&h, p + 2 * i, 2);
                dst[i] = lg_f16_to_f32(h);
            }
            break;
        default: /* F64 */
            for (int64_t i = b; i < e; i++) {
                double d;
                memcpy(&d, p + 8 * i, 8);
                dst[i] = (float)d; /* a finite double beyond float's range becomes inf */
            }
            break;
        }
        const int64_t at = first_nonfinite(dst + b, e - b);
        if (at >= 0)
            return lg_fail(err, "%s: tensor %s holds %s at element %lld: its values must be "
                                "finite (a damaged file, or a diverged training run)",
                           t->file, t->name, isnan(dst[b + at]) ? "NaN" : "an infinite value",
                           (long long)(first + b + at));
    }
    return 0;
}

int lg_tensor_to_i64(const lg_tensor_info *t, int64_t *dst, lg_error *err)
{
    const unsigned char *p = t->data;
    int64_t n = t->numel;
    for (int64_t i = 0; i < n; i++) {
        switch (t->dtype) {
        case LG_DT_I64: memcpy(&dst[i], p + 8 * i, 8); break;
        case LG_DT_I32: { int32_t v; memcpy(&v, p + 4 * i, 4); dst[i] = v; break; }
        case LG_DT_I16: { int16_t v; memcpy(&v, p + 2 * i, 2); dst[i] = v; break; }
        case LG_DT_I8: dst[i] = (int8_t)p[i]; break;
        case LG_DT_U8: dst[i] = p[i]; break;
        case LG_DT_BOOL: dst[i] = p[i] != 0; break;
        default:
            return lg_fail(err, "%s: tensor %s has dtype %s, not an integer type", t->file,
                           t->name, lg_dtype_name(t->dtype));
        }
    }
    return 0;
}

static void format_shape(char *buf, size_t size, int ndim, const int64_t *shape)
{
    size_t len = 0;
    len += (size_t)snprintf(buf, size, "[");
    for (int i = 0; i < ndim && len < size; i++)
        len += (size_t)snprintf(buf + len, size - len, "%s%lld", i ? ", " : "",
                                (long long)shape[i]);
    if (len < size)
        snprintf(buf + len, size - len, "]");
}

int lg_tensor_expect_shape(const lg_tensor_info *t, int ndim, const int64_t *shape, lg_error *err)
{
    int same = t->ndim == ndim;
    for (int i = 0; same && i < ndim; i++)
        same = t->shape[i] == shape[i];
    if (same)
        return 0;
    char have[256], want[256];
    format_shape(have, sizeof have, t->ndim, t->shape);
    format_shape(want, sizeof want, ndim, shape);
    return lg_fail(err, "%s: %s has shape %s, expected %s", t->file, t->name, have, want);
}

/* ------------------------------------------------------------- reader */

struct lg_safetensors {
    char *path;
    void *map;              /* mmap of the whole file, or NULL for lg_st_open_memory */
    size_t map_len;
    int fd;                 /* the file, open for lg_tensor_read; -1 for lg_st_open_memory */
    int n;
    lg_tensor_info *tensors; /* in data order */
    int *by_name;            /* indices into tensors, sorted by name */
    int n_meta;
    char **meta_keys, **meta_values;
};

void lg_st_close(lg_safetensors *st)
{
    if (!st)
        return;
    for (int i = 0; i < st->n; i++)
        free((char *)st->tensors[i].name);
    for (int i = 0; i < st->n_meta; i++) {
        free(st->meta_keys[i]);
        free(st->meta_values[i]);
    }
    free(st->meta_keys);
    free(st->meta_values);
    free(st->tensors);
    free(st->by_name);
    if (st->map)
        munmap(st->map, st->map_len);
    if (st->fd >= 0)
        close(st->fd);
    free(st->path);
    free(st);
}

/* A non-negative integer that a JSON number represents exactly. */
static int json_count(const cJSON *item, int64_t *out)
{
    if (!cJSON_IsNumber(item))
        return -1;
    double d = item->valuedouble;
    if (!(d >= 0 && d <= MAX_JSON_INT) || d != floor(d))
        return -1;
    *out = (int64_t)d;
    return 0;
}

typedef struct {
    uint64_t begin;
    lg_tensor_info info;
} pending_tensor;

static int cmp_begin(const void *a, const void *b)
{
    const pending_tensor *x = a, *y = b;
    if (x->begin != y->begin)
        return x->begin < y->begin ? -1 : 1;
    return x->info.nbytes < y->info.nbytes ? -1 : x->info.nbytes > y->info.nbytes;
}

static int parse_tensor_entry(const char *path, const cJSON *e, lg_tensor_info *t,
                              uint64_t *begin_out, lg_error *err)
{
    const char *name = e->string;
    if (!cJSON_IsObject(e))
        return lg_fail(err, "%s: header entry '%s' is not an object", path, name);
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(e, "dtype");
    const cJSON *shape = cJSON_GetObjectItemCaseSensitive(e, "shape");
    const cJSON *offs = cJSON_GetObjectItemCaseSensitive(e, "data_offsets");
    if (!cJSON_IsString(dt))
        return lg_fail(err, "%s: tensor %s has no dtype string", path, name);
    if (lg_dtype_parse(dt->valuestring, &t->dtype) != 0)
        return lg_fail(err, "%s: tensor %s has unknown dtype '%s'", path, name, dt->valuestring);
    if (!cJSON_IsArray(shape))
        return lg_fail(err, "%s: tensor %s has no shape array", path, name);
    int ndim = cJSON_GetArraySize(shape);
    if (ndim > LG_MAX_DIMS)
        return lg_fail(err, "%s: tensor %s has %d dimensions (at most %d supported)", path,
                       name, ndim, LG_MAX_DIMS);
    t->ndim = ndim;
    int64_t numel = 1;
    int i = 0;
    const cJSON *d;
    cJSON_ArrayForEach(d, shape) {
        int64_t v;
        if (json_count(d, &v) != 0)
            return lg_fail(err, "%s: tensor %s has a shape entry that is not a non-negative "
                                "integer", path, name);
        t->shape[i++] = v;
        if (v != 0 && numel > INT64_MAX / v)
            return lg_fail(err, "%s: tensor %s: element count overflows", path, name);
        numel *= v;
    }
    size_t esize = lg_dtype_size(t->dtype);
    if (numel > (int64_t)(SIZE_MAX / 2 / esize))
        return lg_fail(err, "%s: tensor %s: byte size overflows", path, name);
    t->numel = numel;
    int64_t begin, end;
    if (!cJSON_IsArray(offs) || cJSON_GetArraySize(offs) != 2 ||
        json_count(cJSON_GetArrayItem(offs, 0), &begin) != 0 ||
        json_count(cJSON_GetArrayItem(offs, 1), &end) != 0)
        return lg_fail(err, "%s: tensor %s: data_offsets must be two non-negative integers",
                       path, name);
    if (end < begin)
        return lg_fail(err, "%s: tensor %s: data_offsets [%lld, %lld] end before they begin",
                       path, name, (long long)begin, (long long)end);
    if ((uint64_t)(end - begin) != (uint64_t)numel * esize) {
        char sh[256];
        format_shape(sh, sizeof sh, t->ndim, t->shape);
        return lg_fail(err, "%s: tensor %s: data_offsets span %lld bytes but %s %s needs %llu",
                       path, name, (long long)(end - begin), lg_dtype_name(t->dtype), sh,
                       (unsigned long long)((uint64_t)numel * esize));
    }
    t->nbytes = (size_t)(end - begin);
    *begin_out = (uint64_t)begin;
    return 0;
}

static int cmp_name_idx_ctx(const void *a, const void *b, void *ctx)
{
    const lg_tensor_info *t = ctx;
    return strcmp(t[*(const int *)a].name, t[*(const int *)b].name);
}

static int parse_metadata(lg_safetensors *st, const cJSON *meta, lg_error *err)
{
    if (!cJSON_IsObject(meta))
        return lg_fail(err, "%s: __metadata__ is not an object", st->path);
    int n = cJSON_GetArraySize(meta);
    st->meta_keys = calloc((size_t)n + 1, sizeof *st->meta_keys);
    st->meta_values = calloc((size_t)n + 1, sizeof *st->meta_values);
    if (!st->meta_keys || !st->meta_values)
        return lg_fail(err, "%s: out of memory", st->path);
    const cJSON *m;
    cJSON_ArrayForEach(m, meta) {
        if (!cJSON_IsString(m))
            return lg_fail(err, "%s: __metadata__ value '%s' is not a string", st->path,
                           m->string);
        st->meta_keys[st->n_meta] = strdup(m->string);
        st->meta_values[st->n_meta] = strdup(m->valuestring);
        st->n_meta++;
        if (!st->meta_keys[st->n_meta - 1] || !st->meta_values[st->n_meta - 1])
            return lg_fail(err, "%s: out of memory", st->path);
    }
    return 0;
}

/* Parses and validates bytes[0..len) into st (whose path is set). */
static int parse_file(lg_safetensors *st, const unsigned char *bytes, size_t len, lg_error *err)
{
    const char *path = st->path;
    if (len < 8)
        return lg_fail(err, "%s: too short for a safetensors file (%zu bytes)", path, len);
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--)
        hlen = hlen << 8 | bytes[i];
    if (hlen > MAX_HEADER_BYTES)
        return lg_fail(err, "%s: header length %llu exceeds the limit of %u bytes", path,
                       (unsigned long long)hlen, MAX_HEADER_BYTES);
    if (hlen > len - 8)
        return lg_fail(err, "%s: header claims %llu bytes but the file has only %zu after "
                            "the length field", path, (unsigned long long)hlen, len - 8);
    if (hlen < 2)
        return lg_fail(err, "%s: header of %llu bytes cannot hold a JSON object", path,
                       (unsigned long long)hlen);
    const char *json = (const char *)bytes + 8;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(json, (size_t)hlen, &end, 0);
    if (!root)
        return lg_fail(err, "%s: header is not valid JSON (near byte %lld of the header)", path,
                       (long long)((end ? end : cJSON_GetErrorPtr()) - json));
    int rc = -1;
    pending_tensor *pending = NULL;
    for (const char *p = end; p < json + hlen; p++)   /* only padding may follow */
        if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
            lg_fail(err, "%s: header has data after its JSON object (byte %lld)", path,
                    (long long)(p - json));
            goto out;
        }
    if (!cJSON_IsObject(root)) {
        lg_fail(err, "%s: header is not a JSON object", path);
        goto out;
    }
    int n = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, root)
        if (strcmp(e->string, "__metadata__") != 0)
            n++;
    pending = calloc((size_t)n + 1, sizeof *pending);
    st->tensors = calloc((size_t)n + 1, sizeof *st->tensors);
    st->by_name = calloc((size_t)n + 1, sizeof *st->by_name);
    if (!pending || !st->tensors || !st->by_name) {
        lg_fail(err, "%s: out of memory", path);
        goto out;
    }
    int seen_meta = 0, n_pending = 0;
    cJSON_ArrayForEach(e, root) {
        if (strcmp(e->string, "__metadata__") == 0) {
            if (seen_meta++) {
                lg_fail(err, "%s: __metadata__ appears twice", path);
                goto out;
            }
            if (parse_metadata(st, e, err) != 0)
                goto out;
            continue;
        }
        pending_tensor *p = &pending[n_pending++];
        if (parse_tensor_entry(path, e, &p->info, &p->begin, err) != 0)
            goto out;
        p->info.name = e->string;
    }
    /* Offsets sorted: contiguous from 0, no holes, no overlaps, up to the end of the file. */
    qsort(pending, (size_t)n_pending, sizeof *pending, cmp_begin);
    uint64_t data_len = len - 8 - hlen, expected = 0;
    for (int i = 0; i < n_pending; i++) {
        const pending_tensor *p = &pending[i];
        if (p->begin > expected) {
            lg_fail(err, "%s: hole in the data: bytes %llu..%llu belong to no tensor (before %s)",
                    path, (unsigned long long)expected, (unsigned long long)p->begin,
                    p->info.name);
            goto out;
        }
        if (p->begin < expected) {
            lg_fail(err, "%s: tensor %s overlaps the previous tensor's data (begins at %llu, "
                         "previous ends at %llu)", path, p->info.name,
                    (unsigned long long)p->begin, (unsigned long long)expected);
            goto out;
        }
        expected = p->begin + p->info.nbytes;
        if (expected > data_len) {
            lg_fail(err, "%s: data of tensor %s ends at byte %llu, beyond the end of the file "
                         "(%llu data bytes)", path, p->info.name, (unsigned long long)expected,
                    (unsigned long long)data_len);
            goto out;
        }
    }
    if (expected != data_len) {
        lg_fail(err, "%s: file has %llu data bytes but the header accounts for %llu", path,
                (unsigned long long)data_len, (unsigned long long)expected);
        goto out;
    }
    const unsigned char *data = bytes + 8 + hlen;
    for (int i = 0; i < n_pending; i++) {
        lg_tensor_info *t = &st->tensors[i];
        *t = pending[i].info;
        t->data = data + pending[i].begin;
        t->file = st->path;
        t->owner = st;
        if (!(t->name = strdup(pending[i].info.name))) {
            lg_fail(err, "%s: out of memory", path);
            goto out;
        }
        st->n++;
        st->by_name[i] = i;
    }
    qsort_r(st->by_name, (size_t)st->n, sizeof *st->by_name, cmp_name_idx_ctx, st->tensors);
    for (int i = 1; i < st->n; i++)
        if (strcmp(st->tensors[st->by_name[i]].name, st->tensors[st->by_name[i - 1]].name) == 0) {
            lg_fail(err, "%s: tensor %s appears twice in the header", path,
                    st->tensors[st->by_name[i]].name);
            goto out;
        }
    rc = 0;
out:
    free(pending);
    cJSON_Delete(root);
    return rc;
}

lg_safetensors *lg_st_open_memory(const void *bytes, size_t len, const char *name, lg_error *err)
{
    lg_safetensors *st = calloc(1, sizeof *st);
    if (!st || !(st->path = strdup(name))) {
        free(st);
        lg_fail(err, "%s: out of memory", name);
        return NULL;
    }
    st->fd = -1;
    if (parse_file(st, bytes, len, err) != 0) {
        lg_st_close(st);
        return NULL;
    }
    return st;
}

lg_safetensors *lg_st_open(const char *path, lg_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        lg_fail(err, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        lg_fail(err, "%s: not a regular file", path);
        close(fd);
        return NULL;
    }
    lg_safetensors *st = calloc(1, sizeof *st);
    if (!st || !(st->path = strdup(path))) {
        free(st);
        close(fd);
        lg_fail(err, "%s: out of memory", path);
        return NULL;
    }
    st->fd = fd; /* kept for lg_tensor_read; closed by lg_st_close */
    size_t len = (size_t)sb.st_size;
    const unsigned char *bytes = (const unsigned char *)"";
    if (len > 0) {
        void *map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map == MAP_FAILED) {
            lg_fail(err, "%s: cannot map: %s", path, strerror(errno));
            lg_st_close(st);
            return NULL;
        }
        st->map = map;
        st->map_len = len;
        bytes = map;
    }
    if (parse_file(st, bytes, len, err) != 0) {
        lg_st_close(st);
        return NULL;
    }
    return st;
}

int lg_tensor_read(const lg_tensor_info *t, size_t at, size_t n, void *dst, lg_error *err)
{
    if (at > t->nbytes || n > t->nbytes - at)
        return lg_fail(err, "%s: %s: bytes %zu..%zu lie outside its %zu bytes", t->file,
                       t->name, at, at + n, t->nbytes);
    const lg_safetensors *st = t->owner;
    if (!st || st->fd < 0 || !st->map) {
        if (n)
            memcpy(dst, (const unsigned char *)t->data + at, n);
        return 0;
    }
    off_t off = (off_t)((const unsigned char *)t->data - (const unsigned char *)st->map) + (off_t)at;
    unsigned char *p = dst;
    while (n > 0) {
        ssize_t got = pread(st->fd, p, n, off);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return lg_fail(err, "%s: reading %s: %s", t->file, t->name, strerror(errno));
        if (got == 0)
            return lg_fail(err, "%s: reading %s: the file ended early (changed since it was "
                                "opened?)", t->file, t->name);
        p += got;
        off += got;
        n -= (size_t)got;
    }
    return 0;
}

int lg_st_count(const lg_safetensors *st)
{
    return st->n;
}

const lg_tensor_info *lg_st_tensor(const lg_safetensors *st, int i)
{
    return i >= 0 && i < st->n ? &st->tensors[i] : NULL;
}

const lg_tensor_info *lg_st_find(const lg_safetensors *st, const char *name)
{
    int lo = 0, hi = st->n - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        const lg_tensor_info *t = &st->tensors[st->by_name[mid]];
        int c = strcmp(name, t->name);
        if (c == 0)
            return t;
        if (c < 0)
            hi = mid - 1;
        else
            lo = mid + 1;
    }
    return NULL;
}

const char *lg_st_metadata(const lg_safetensors *st, const char *key)
{
    for (int i = 0; i < st->n_meta; i++)
        if (strcmp(st->meta_keys[i], key) == 0)
            return st->meta_values[i];
    return NULL;
}

/* --------------------------------------------------- model directories */

struct lg_weights {
    int n_files;
    lg_safetensors **files;
    int n;
    const lg_tensor_info **tensors; /* sorted by name */
    lg_tensor_info *renamed;        /* GPT2Model's tensors under "transformer." (owned) */
    char *names;
};

void lg_weights_close(lg_weights *w)
{
    if (!w)
        return;
    for (int i = 0; i < w->n_files; i++)
        lg_st_close(w->files[i]);
    free(w->files);
    free(w->tensors);
    free(w->renamed);
    free(w->names);
    free(w);
}

static int cmp_info_name(const void *a, const void *b)
{
    return strcmp((*(const lg_tensor_info *const *)a)->name,
                  (*(const lg_tensor_info *const *)b)->name);
}

static int file_exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}


static int weights_add_file(lg_weights *w, const char *path, lg_error *err)
{
    lg_safetensors **grown = realloc(w->files, (size_t)(w->n_files + 1) * sizeof *grown);
    if (!grown)
        return lg_fail(err, "%s: out of memory", path);
    w->files = grown;
    lg_safetensors *st = lg_st_open(path, err);
    if (!st)
        return -1;
    w->files[w->n_files++] = st;
    return 0;
}

static int weights_from_index(lg_weights *w, const char *dir, const char *index_path,
                              lg_error *err)
{
    cJSON *root = lg_json_read(index_path, 64u << 20, err);
    if (!root)
        return -1;
    int rc = -1;
    const cJSON *map = cJSON_GetObjectItemCaseSensitive(root, "weight_map");
    if (!cJSON_IsObject(map)) {
        lg_fail(err, "%s: no \"weight_map\" object", index_path);
        goto out;
    }
    int n = cJSON_GetArraySize(map);
    w->tensors = calloc((size_t)n + 1, sizeof *w->tensors);
    if (!w->tensors) {
        lg_fail(err, "%s: out of memory", index_path);
        goto out;
    }
    const cJSON *e;
    cJSON_ArrayForEach(e, map) {
        if (!cJSON_IsString(e) || !e->valuestring[0]) {
            lg_fail(err, "%s: weight_map entry for %s is not a file name", index_path, e->string);
            goto out;
        }
        const char *shard = e->valuestring;
        if (shard[0] == '/' || strstr(shard, "..")) {
            lg_fail(err, "%s: shard name '%s' leaves the model directory", index_path, shard);
            goto out;
        }
        char path[4096];
        if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, shard) >= sizeof path) {
            lg_fail(err, "%s: shard path too long", index_path);
            goto out;
        }
        lg_safetensors *st = NULL;             /* each shard is opened once */
        for (int i = 0; i < w->n_files && !st; i++)
            if (strcmp(w->files[i]->path, path) == 0)
                st = w->files[i];
        if (!st) {
            if (!file_exists(path)) {
                lg_fail(err, "%s: shard %s (named by %s for %s) is missing", path, shard,
                        index_path, e->string);
                goto out;
            }
            if (weights_add_file(w, path, err) != 0)
                goto out;
            st = w->files[w->n_files - 1];
        }
        const lg_tensor_info *t = lg_st_find(st, e->string);
        if (!t) {
            lg_fail(err, "%s: has no tensor %s, which %s says it holds", path, e->string,
                    index_path);
            goto out;
        }
        w->tensors[w->n++] = t;
    }
    rc = 0;
out:
    cJSON_Delete(root);
    return rc;
}

/* A GPT2Model checkpoint (the hub's gpt2 files: wte.weight, wpe.weight, h.N.*, ln_f.*) holds
 * GPT2LMHeadModel's tensors without its "transformer." prefix, as transformers loads them:
 * its names are given that prefix, so that every reader sees one naming. */
static int gpt2_model_names(lg_weights *w, const char *dir, lg_error *err)
{
    int wte = 0, wpe = 0;
    size_t bytes = 0;
    for (int i = 0; i < w->n; i++) {
        const char *n = w->tensors[i]->name;
        if (!strncmp(n, "transformer.", 12))
            return 0;
        wte |= !strcmp(n, "wte.weight");
        wpe |= !strcmp(n, "wpe.weight");
        bytes += strlen(n) + 13;
    }
    if (!wte || !wpe)
        return 0;
    w->renamed = calloc((size_t)w->n + 1, sizeof *w->renamed);
    w->names = malloc(bytes + 1);
    if (!w->renamed || !w->names)
        return lg_fail(err, "%s: out of memory", dir);
    char *p = w->names;
    for (int i = 0; i < w->n; i++) {
        w->renamed[i] = *w->tensors[i];
        int k = sprintf(p, "transformer.%s", w->tensors[i]->name);
        w->renamed[i].name = p;
        p += k + 1;
        w->tensors[i] = &w->renamed[i];
    }
    return 0;
}

lg_weights *lg_weights_open_dir(const char *dir, lg_error *err)
{
    lg_weights *w = calloc(1, sizeof *w);
    if (!w) {
        lg_fail(err, "%s: out of memory", dir);
        return NULL;
    }
    char index_path[4096], single[4096];
    snprintf(index_path, sizeof index_path, "%s/model.safetensors.index.json", dir);
    snprintf(single, sizeof single, "%s/model.safetensors", dir);
    struct stat sb;
    if (stat(dir, &sb) != 0) {
        lg_fail(err, "%s: cannot open: %s", dir, strerror(errno));
        goto fail;
    }
    if (S_ISREG(sb.st_mode)) {                  /* a single .safetensors file given directly */
        if (weights_add_file(w, dir, err) != 0)
            goto fail;
    } else if (file_exists(index_path)) {
        if (weights_from_index(w, dir, index_path, err) != 0)
            goto fail;
    } else if (file_exists(single)) {
        if (weights_add_file(w, single, err) != 0)
            goto fail;
    } else {
        lg_fail(err, "%s: no model.safetensors or model.safetensors.index.json", dir);
        goto fail;
    }
    if (!w->tensors) {                          /* one file: all its tensors */
        lg_safetensors *st = w->files[0];
        w->tensors = calloc((size_t)st->n + 1, sizeof *w->tensors);
        if (!w->tensors) {
            lg_fail(err, "%s: out of memory", dir);
            goto fail;
        }
        for (int i = 0; i < st->n; i++)
            w->tensors[w->n++] = &st->tensors[i];
    }
    if (gpt2_model_names(w, dir, err) < 0)
        goto fail;
    qsort(w->tensors, (size_t)w->n, sizeof *w->tensors, cmp_info_name);
    for (int i = 1; i < w->n; i++)
        if (strcmp(w->tensors[i]->name, w->tensors[i - 1]->name) == 0) {
            lg_fail(err, "%s: tensor %s is listed twice", dir, w->tensors[i]->name);
            goto fail;
        }
    return w;
fail:
    lg_weights_close(w);
    return NULL;
}

int lg_weights_count(const lg_weights *w)
{
    return w->n;
}

const lg_tensor_info *lg_weights_tensor(const lg_weights *w, int i)
{
    return i >= 0 && i < w->n ? w->tensors[i] : NULL;
}

const lg_tensor_info *lg_weights_find(const lg_weights *w, const char *name)
{
    int lo = 0, hi = w->n - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        int c = strcmp(name, w->tensors[mid]->name);
        if (c == 0)
            return w->tensors[mid];
        if (c < 0)
            hi = mid - 1;
        else
            lo = mid + 1;
    }
    return NULL;
}

int lg_weights_drop(lg_weights *w, const char *name)
{
    const lg_tensor_info *t = lg_weights_find(w, name);
    if (!t)
        return -1;
    int i = 0;
    while (w->tensors[i] != t)
        i++;
    memmove(&w->tensors[i], &w->tensors[i + 1], sizeof *w->tensors * (size_t)(w->n - i - 1));
    w->n--;
    return 0;
}

void lg_weights_release(const lg_weights *w, const lg_tensor_info *t)
{
    if (t)
        lg_weights_release_bytes(w, t, 0, t->nbytes);
}

void lg_weights_release_bytes(const lg_weights *w, const lg_tensor_info *t, size_t at, size_t n)
{
    if (!w || !t || at >= t->nbytes || !n)
        return;
    if (n > t->nbytes - at)
        n = t->nbytes - at;
    /* the file the tensor was read from (lg_tensor_info.owner) holds the mapping */
    const lg_safetensors *st = t->owner;
    const unsigned char *d = (const unsigned char *)t->data + at;
    const unsigned char *map = st ? st->map : NULL;
    if (!map || d < map || d >= map + st->map_len)
        return;
    /* the whole pages the tensor touches (a neighbour's share is read again if needed):
     * unwritten pages of a private read-only mapping come back from the file */
    const size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t from = (size_t)(d - map) / page * page;
    size_t to = ((size_t)(d - map) + n + page - 1) / page * page;
    if (to > st->map_len)
        to = st->map_len;
    madvise((void *)(map + from), to - from, MADV_DONTNEED);
}

/* -------------------------------------------------------------- writer */

typedef struct {
    char *name;
    lg_dtype dtype;        /* as stored in the file */
    int ndim;
    int64_t shape[LG_MAX_DIMS];
    size_t nbytes;
    const void *data;
    int from_f32;          /* data are floats to convert to dtype at write */
    lg_st_fill_fn fill;    /* or the bytes are made at write (lg_st_writer_add_fill) */
    void *fill_ctx;
} writer_entry;

struct lg_st_writer {
    int n, cap;
    writer_entry *entries;
    int n_meta;
    char **meta_keys, **meta_values;
};

lg_st_writer *lg_st_writer_new(void)
{
    return calloc(1, sizeof(lg_st_writer));
}

void lg_st_writer_free(lg_st_writer *w)
{
    if (!w)
        return;
    for (int i = 0; i < w->n; i++)
        free(w->entries[i].name);
    for (int i = 0; i < w->n_meta; i++) {
        free(w->meta_keys[i]);
        free(w->meta_values[i]);
    }
    free(w->entries);
    free(w->meta_keys);
    free(w->meta_values);
    free(w);
}

static int writer_add(lg_st_writer *w, const char *name, lg_dtype dtype, int ndim,
                      const int64_t *shape, const void *data, int from_f32, lg_st_fill_fn fill,
                      void *fill_ctx, lg_error *err)
{
    if (!name || !name[0] || strcmp(name, "__metadata__") == 0)
        return lg_fail(err, "safetensors writer: invalid tensor name '%s'", name ? name : "");
    if (lg_dtype_size(dtype) == 0)
        return lg_fail(err, "safetensors writer: %s: invalid dtype", name);
    if (ndim < 0 || ndim > LG_MAX_DIMS)
        return lg_fail(err, "safetensors writer: %s: %d dimensions (at most %d)", name, ndim,
                       LG_MAX_DIMS);
    for (int i = 0; i < w->n; i++)
        if (strcmp(w->entries[i].name, name) == 0)
            return lg_fail(err, "safetensors writer: tensor %s added twice", name);
    int64_t numel = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0 || (shape[i] != 0 && numel > INT64_MAX / 16 / shape[i]))
            return lg_fail(err, "safetensors writer: %s: invalid shape", name);
        numel *= shape[i];
    }
    if (numel > 0 && !data && !fill)
        return lg_fail(err, "safetensors writer: %s: no data", name);
    if (w->n == w->cap) {
        int cap = w->cap ? 2 * w->cap : 16;
        writer_entry *grown = realloc(w->entries, (size_t)cap * sizeof *grown);
        if (!grown)
            return lg_fail(err, "safetensors writer: out of memory");
        w->entries = grown;
        w->cap = cap;
    }
    writer_entry *e = &w->entries[w->n];
    memset(e, 0, sizeof *e);
    if (!(e->name = strdup(name)))
        return lg_fail(err, "safetensors writer: out of memory");
    e->dtype = dtype;
    e->ndim = ndim;
    if (ndim > 0)
        memcpy(e->shape, shape, (size_t)ndim * sizeof *shape);
    e->nbytes = (size_t)numel * lg_dtype_size(dtype);
    e->data = data;
    e->from_f32 = from_f32;
    e->fill = fill;
    e->fill_ctx = fill_ctx;
    w->n++;
    return 0;
}

int lg_st_writer_add(lg_st_writer *w, const char *name, lg_dtype dtype, int ndim,
                     const int64_t *shape, const void *data, lg_error *err)
{
    return writer_add(w, name, dtype, ndim, shape, data, 0, NULL, NULL, err);
}

int lg_st_writer_add_f32(lg_st_writer *w, const char *name, lg_dtype stored_as, int ndim,
                         const int64_t *shape, const float *data, lg_error *err)
{
    if (stored_as != LG_DT_F32 && stored_as != LG_DT_F16 && stored_as != LG_DT_BF16)
        return lg_fail(err, "safetensors writer: %s: floats can be stored as F32, F16 or BF16, "
                            "not %s", name, lg_dtype_name(stored_as));
    return writer_add(w, name, stored_as, ndim, shape, data, stored_as != LG_DT_F32, NULL, NULL,
                      err);
}

int lg_st_writer_add_fill(lg_st_writer *w, const char *name, lg_dtype dtype, int ndim,
                          const int64_t *shape, lg_st_fill_fn fill, void *ctx, lg_error *err)
{
    if (!fill)
        return lg_fail(err, "safetensors writer: %s: no fill function", name ? name : "");
    return writer_add(w, name, dtype, ndim, shape, NULL, 0, fill, ctx, err);
}

int lg_st_writer_set_metadata(lg_st_writer *w, const char *key, const char *value, lg_error *err)
{
    for (int i = 0; i < w->n_meta; i++)
        if (strcmp(w->meta_keys[i], key) == 0) {
            char *v = strdup(value);
            if (!v)
                return lg_fail(err, "safetensors writer: out of memory");
            free(w->meta_values[i]);
            w->meta_values[i] = v;
            return 0;
        }
    char **k = realloc(w->meta_keys, (size_t)(w->n_meta + 1) * sizeof *k);
    if (k)
        w->meta_keys = k;
    char **v = realloc(w->meta_values, (size_t)(w->n_meta + 1) * sizeof *v);
    if (v)
        w->meta_values = v;
    if (!k || !v)
        return lg_fail(err, "safetensors writer: out of memory");
    w->meta_keys[w->n_meta] = strdup(key);
    w->meta_values[w->n_meta] = strdup(value);
    if (!w->meta_keys[w->n_meta] || !w->meta_values[w->n_meta]) {
        free(w->meta_keys[w->n_meta]);
        free(w->meta_values[w->n_meta]);
        return lg_fail(err, "safetensors writer: out of memory");
    }
    w->n_meta++;
    return 0;
}

/* A growing string for the header. */
typedef struct {
    char *s;
    size_t len, cap;
    int oom;
} strbuf;

static void sb_put(strbuf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (b->len + n + 1 > cap)
            cap *= 2;
        char *grown = realloc(b->s, cap);
        if (!grown) {
            b->oom = 1;
            return;
        }
        b->s = grown;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = 0;
}

static void sb_str(strbuf *b, const char *s)
{
    sb_put(b, s, strlen(s));
}

static void sb_json_string(strbuf *b, const char *s)
{
    sb_put(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char esc[8];
        if (*p == '"' || *p == '\\') {
            esc[0] = '\\';
            esc[1] = (char)*p;
            sb_put(b, esc, 2);
        } else if (*p < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", *p);
            sb_put(b, esc, 6);
        } else {
            sb_put(b, (const char *)p, 1);
        }
    }
    sb_put(b, "\"", 1);
}

static void sb_u64(strbuf *b, unsigned long long v)
{
    char num[32];
    snprintf(num, sizeof num, "%llu", v);
    sb_str(b, num);
}

static int write_converted(FILE *fp, const writer_entry *e)
{
    enum { CHUNK = 4096 };
    uint16_t buf[CHUNK];
    const float *src = e->data;
    size_t n = e->nbytes / 2;
    for (size_t i = 0; i < n; i += CHUNK) {
        size_t m = n - i < CHUNK ? n - i : CHUNK;
        for (size_t j = 0; j < m; j++)
            buf[j] = e->dtype == LG_DT_BF16 ? lg_f32_to_bf16(src[i + j])
                                            : lg_f32_to_f16(src[i + j]);
        if (fwrite(buf, 2, m, fp) != m)
            return -1;
    }
    return 0;
}

/* A filled entry's bytes, made and written chunk by chunk: whole rows (the last dimension)
 * of at most LG_ST_FILL_PIECE bytes together (one row where a row is larger). Returns 0, -1
 * on a write error (errno), -2 when fill failed (err set). */
static int write_filled(FILE *fp, const writer_entry *e, lg_error *err)
{
    if (!e->nbytes)
        return 0;
    size_t row = lg_dtype_size(e->dtype);
    if (e->ndim > 0 && e->shape[e->ndim - 1] > 0)
        row *= (size_t)e->shape[e->ndim - 1];
    size_t chunk = LG_ST_FILL_PIECE / row * row;
    if (chunk == 0)
        chunk = row;
    if (chunk > e->nbytes)
        chunk = e->nbytes;
    unsigned char *buf = malloc(chunk);
    if (!buf) {
        lg_fail(err, "safetensors writer: %s: out of memory", e->name);
        return -2;
    }
    int rc = 0;
    for (size_t at = 0; at < e->nbytes && rc == 0; at += chunk) {
        const size_t n = e->nbytes - at < chunk ? e->nbytes - at : chunk;
        if (e->fill(e->fill_ctx, at, n, buf, err) < 0)
            rc = -2;
        else if (fwrite(buf, 1, n, fp) != n)
            rc = -1;
    }
    free(buf);
    return rc;
}

int lg_st_writer_write(lg_st_writer *w, const char *path, lg_error *err)
{
    strbuf h = {0};
    sb_str(&h, "{\"__metadata__\":{\"format\":");
    const char *format = "pt";
    for (int i = 0; i < w->n_meta; i++)
        if (strcmp(w->meta_keys[i], "format") == 0)
            format = w->meta_values[i];
    sb_json_string(&h, format);
    for (int i = 0; i < w->n_meta; i++) {
        if (strcmp(w->meta_keys[i], "format") == 0)
            continue;
        sb_str(&h, ",");
        sb_json_string(&h, w->meta_keys[i]);
        sb_str(&h, ":");
        sb_json_string(&h, w->meta_values[i]);
    }
    sb_str(&h, "}");
    unsigned long long offset = 0;
    for (int i = 0; i < w->n; i++) {
        const writer_entry *e = &w->entries[i];
        sb_str(&h, ",");
        sb_json_string(&h, e->name);
        sb_str(&h, ":{\"dtype\":\"");
        sb_str(&h, lg_dtype_name(e->dtype));
        sb_str(&h, "\",\"shape\":[");
        for (int d = 0; d < e->ndim; d++) {
            if (d)
                sb_str(&h, ",");
            sb_u64(&h, (unsigned long long)e->shape[d]);
        }
        sb_str(&h, "],\"data_offsets\":[");
        sb_u64(&h, offset);
        sb_str(&h, ",");
        offset += e->nbytes;
        sb_u64(&h, offset);
        sb_str(&h, "]}");
    }
    sb_str(&h, "}");
    while (!h.oom && h.len % 8 != 0)         /* data then start 8-byte aligned */
        sb_str(&h, " ");
    if (h.oom) {
        free(h.s);
        return lg_fail(err, "%s: out of memory building the header", path);
    }
    lg_atomic_file af;
    if (lg_atomic_open(&af, path, err) != 0) {
        free(h.s);
        return -1;
    }
    unsigned char lenbytes[8];
    for (int i = 0; i < 8; i++)
        lenbytes[i] = (unsigned char)((unsigned long long)h.len >> (8 * i));
    int bad = fwrite(lenbytes, 1, 8, af.fp) != 8 || fwrite(h.s, 1, h.len, af.fp) != h.len;
    free(h.s);
    for (int i = 0; i < w->n && !bad; i++) {
        const writer_entry *e = &w->entries[i];
        if (e->fill) {
            const int r = write_filled(af.fp, e, err);
            if (r == -2) { /* the maker's error, as it said it */
                lg_atomic_abort(&af);
                return -1;
            }
            bad = r != 0;
        } else if (e->from_f32) {
            bad = write_converted(af.fp, e) != 0;
        } else if (e->nbytes) {
            bad = fwrite(e->data, 1, e->nbytes, af.fp) != e->nbytes;
        }
    }
    if (bad) {
        int saved = errno;
        lg_atomic_abort(&af);
        return lg_fail(err, "%s: write failed: %s", path, strerror(saved));
    }
    return lg_atomic_commit(&af, err);
}
