/* The protobuf wire format of ModelProto, just enough to list and append pieces. */
#include "spm_proto.h"

#include <stdlib.h>
#include <string.h>

enum { WIRE_VARINT = 0, WIRE_FIXED64 = 1, WIRE_BYTES = 2, WIRE_FIXED32 = 5 };

/* Reads a varint at *pos (< end); advances *pos.  Returns 0, or -1 when truncated/too long. */
static int read_varint(const uint8_t *data, size_t end, size_t *pos, uint64_t *value)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (*pos >= end)
            return -1;
        uint8_t b = data[(*pos)++];
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *value = v;
            return 0;
        }
    }
    return -1;
}

/* Skips the value of a field of wire type `wire` at *pos; for BYTES sets *sub and *sub_len. */
static int skip_value(const uint8_t *data, size_t end, size_t *pos, int wire, size_t *sub,
                      size_t *sub_len)
{
    uint64_t v;
    switch (wire) {
    case WIRE_VARINT:
        return read_varint(data, end, pos, &v);
    case WIRE_FIXED64:
        if (end - *pos < 8)
            return -1;
        *pos += 8;
        return 0;
    case WIRE_FIXED32:
        if (end - *pos < 4)
            return -1;
        *pos += 4;
        return 0;
    case WIRE_BYTES:
        if (read_varint(data, end, pos, &v) < 0 || v > end - *pos)
            return -1;
        if (sub) {
            *sub = *pos;
            *sub_len = (size_t)v;
        }
        *pos += (size_t)v;
        return 0;
    default:
        return -1; /* groups (3, 4) and unknown wire types do not occur in ModelProto */
    }
}

static int parse_piece(const uint8_t *data, size_t start, size_t len, lg_spm_proto_piece *p)
{
    size_t pos = start, end = start + len;
    int have_piece = 0;
    p->score = 0.0f;
    p->type = 1; /* NORMAL is the proto default */
    while (pos < end) {
        uint64_t key;
        if (read_varint(data, end, &pos, &key) < 0)
            return -1;
        int field = (int)(key >> 3), wire = (int)(key & 7);
        if (field == 1 && wire == WIRE_BYTES) {
            size_t s, n;
            if (skip_value(data, end, &pos, wire, &s, &n) < 0)
                return -1;
            p->piece = data + s;
            p->piece_len = n;
            have_piece = 1;
        } else if (field == 2 && wire == WIRE_FIXED32) {
            if (end - pos < 4)
                return -1;
            uint32_t bits = (uint32_t)data[pos] | (uint32_t)data[pos + 1] << 8 |
                            (uint32_t)data[pos + 2] << 16 | (uint32_t)data[pos + 3] << 24;
            memcpy(&p->score, &bits, sizeof bits);
            pos += 4;
        } else if (field == 3 && wire == WIRE_VARINT) {
            uint64_t t;
            if (read_varint(data, end, &pos, &t) < 0)
                return -1;
            /* proto2: a value the enum lacks is an unknown field and leaves the type as it was,
             * so libsentencepiece sees NORMAL (or the last known value) there too */
            if (t >= 1 && t <= 6)
                p->type = (int)t;
        } else if (skip_value(data, end, &pos, wire, NULL, NULL) < 0) {
            return -1;
        }
    }
    return have_piece ? 0 : -1;
}

/* TrainerSpec: model_type (3) and treat_whitespace_as_suffix (24). */
static int parse_trainer(const uint8_t *data, size_t start, size_t len, lg_spm_proto *out)
{
    size_t pos = start, end = start + len;
    while (pos < end) {
        uint64_t key, v;
        if (read_varint(data, end, &pos, &key) < 0)
            return -1;
        int field = (int)(key >> 3), wire = (int)(key & 7);
        if ((field == 3 || field == 24) && wire == WIRE_VARINT) {
            if (read_varint(data, end, &pos, &v) < 0)
                return -1;
            if (field == 24)
                out->treat_whitespace_as_suffix = v != 0;
            else if (v >= 1 && v <= 4) /* an unknown enum value leaves the default */
                out->model_type = (int)v;
        } else if (field == 0 || skip_value(data, end, &pos, wire, NULL, NULL) < 0) {
            return -1;
        }
    }
    return 0;
}

/* NormalizerSpec: name (1), precompiled_charsmap (2), the three flags (3, 4, 5). */
static int parse_normalizer(const uint8_t *data, size_t start, size_t len,
                            lg_spm_proto_normalizer *n)
{
    size_t pos = start, end = start + len;
    while (pos < end) {
        uint64_t key, v;
        if (read_varint(data, end, &pos, &key) < 0)
            return -1;
        int field = (int)(key >> 3), wire = (int)(key & 7);
        if ((field == 1 || field == 2) && wire == WIRE_BYTES) {
            size_t s, l;
            if (skip_value(data, end, &pos, wire, &s, &l) < 0)
                return -1;
            if (field == 2) {
                n->charsmap_len = l;
            } else {
                size_t k = l < sizeof n->name - 1 ? l : sizeof n->name - 1;
                memcpy(n->name, data + s, k);
                n->name[k] = 0;
            }
        } else if (field >= 3 && field <= 5 && wire == WIRE_VARINT) {
            if (read_varint(data, end, &pos, &v) < 0)
                return -1;
            int *flag = field == 3   ? &n->add_dummy_prefix
                        : field == 4 ? &n->remove_extra_whitespaces
                                     : &n->escape_whitespaces;
            *flag = v != 0;
        } else if (field == 0 || skip_value(data, end, &pos, wire, NULL, NULL) < 0) {
            return -1;
        }
    }
    return 0;
}

int lg_spm_proto_parse(const uint8_t *data, size_t len, const char *name, lg_spm_proto *out,
                       lg_error *err)
{
    memset(out, 0, sizeof *out);
    out->model_type = 1;
    out->normalizer.add_dummy_prefix = out->normalizer.remove_extra_whitespaces =
        out->normalizer.escape_whitespaces = 1;
    size_t pos = 0, cap = 0, field_start = 0;
    while (pos < len) {
        field_start = pos;
        uint64_t key;
        if (read_varint(data, len, &pos, &key) < 0)
            goto corrupt;
        int field = (int)(key >> 3), wire = (int)(key & 7);
        if (field == 0)
            goto corrupt;
        size_t sub = 0, sub_len = 0;
        if (skip_value(data, len, &pos, wire, &sub, &sub_len) < 0)
            goto corrupt;
        /* protobuf merges repeated occurrences of a message field: read each in turn */
        if (field == 2 && wire == WIRE_BYTES && parse_trainer(data, sub, sub_len, out) < 0)
            goto corrupt_at_field;
        if (field == 3 && wire == WIRE_BYTES &&
            parse_normalizer(data, sub, sub_len, &out->normalizer) < 0)
            goto corrupt_at_field;
        if (field != 1)
            continue;
        if (wire != WIRE_BYTES)
            goto corrupt;
        if (out->n == cap) {
            cap = cap ? 2 * cap : 1024;
            lg_spm_proto_piece *grown = realloc(out->pieces, cap * sizeof *grown);
            if (!grown) {
                lg_spm_proto_free(out);
                return lg_fail(err, "%s: out of memory reading %zu pieces", name, out->n);
            }
            out->pieces = grown;
        }
        if (parse_piece(data, sub, sub_len, &out->pieces[out->n]) < 0)
            goto corrupt_at_field;
        out->n++;
        out->pieces_end = pos;
    }
    if (out->n == 0) {
        lg_spm_proto_free(out);
        return lg_fail(err, "%s: not a SentencePiece model (no pieces)", name);
    }
    return 0;
corrupt_at_field:
    pos = field_start;
corrupt:
    lg_spm_proto_free(out);
    return lg_fail(err, "%s: not a SentencePiece model (corrupt protobuf near byte %zu)", name,
                   pos);
}

void lg_spm_proto_free(lg_spm_proto *p)
{
    free(p->pieces);
    p->pieces = NULL;
    p->n = 0;
}

static size_t varint_size(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

static size_t write_varint(uint8_t *buf, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        buf[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    buf[n++] = (uint8_t)v;
    return n;
}

static size_t inner_size(size_t piece_len, int type)
{
    return 1 + varint_size(piece_len) + piece_len + 1 + 4 + 1 + varint_size((uint64_t)type);
}

size_t lg_spm_proto_piece_size(size_t piece_len)
{
    size_t inner = inner_size(piece_len, 127); /* types are < 128: one varint byte */
    return 1 + varint_size(inner) + inner;
}

size_t lg_spm_proto_write_piece(uint8_t *buf, const char *piece, size_t piece_len, float score,
                                int type)
{
    size_t n = 0;
    buf[n++] = (1 << 3) | WIRE_BYTES; /* ModelProto.pieces */
    n += write_varint(buf + n, inner_size(piece_len, type));
    buf[n++] = (1 << 3) | WIRE_BYTES; /* SentencePiece.piece */
    n += write_varint(buf + n, piece_len);
    memcpy(buf + n, piece, piece_len);
    n += piece_len;
    buf[n++] = (2 << 3) | WIRE_FIXED32; /* SentencePiece.score, little-endian float */
    uint32_t bits;
    memcpy(&bits, &score, sizeof bits);
    for (int i = 0; i < 4; i++)
        buf[n++] = (uint8_t)(bits >> (8 * i));
    buf[n++] = (3 << 3) | WIRE_VARINT; /* SentencePiece.type */
    n += write_varint(buf + n, (uint64_t)type);
    return n;
}

int lg_spm_proto_set_identity(const uint8_t *data, size_t len, const char *name,
                              int add_dummy_prefix, int escape_whitespaces, uint8_t **out,
                              size_t *out_len, lg_error *err)
{
    static const char rule[] = "identity";
    size_t inner = 2 + sizeof rule - 1 + 3 * 2; /* name, then fields 3, 4, 5 of one byte each */
    uint8_t *buf = malloc(len + 2 + inner);
    if (!buf)
        return lg_fail(err, "%s: out of memory", name);
    size_t pos = 0, n = 0;
    while (pos < len) {
        size_t field_start = pos;
        uint64_t key;
        if (read_varint(data, len, &pos, &key) < 0 ||
            skip_value(data, len, &pos, (int)(key & 7), NULL, NULL) < 0) {
            free(buf);
            return lg_fail(err, "%s: not a SentencePiece model (corrupt protobuf near byte %zu)",
                           name, field_start);
        }
        if ((key >> 3) == 3)
            continue; /* the old NormalizerSpec */
        memcpy(buf + n, data + field_start, pos - field_start);
        n += pos - field_start;
    }
    buf[n++] = (3 << 3) | WIRE_BYTES;
    n += write_varint(buf + n, inner);
    buf[n++] = (1 << 3) | WIRE_BYTES;
    buf[n++] = (uint8_t)(sizeof rule - 1);
    memcpy(buf + n, rule, sizeof rule - 1);
    n += sizeof rule - 1;
    buf[n++] = (3 << 3) | WIRE_VARINT;
    buf[n++] = add_dummy_prefix ? 1 : 0;
    buf[n++] = (4 << 3) | WIRE_VARINT;
    buf[n++] = 0;
    buf[n++] = (5 << 3) | WIRE_VARINT;
    buf[n++] = escape_whitespaces ? 1 : 0;
    *out = buf;
    *out_len = n;
    return 0;
}
