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

int lg_spm_proto_parse(const uint8_t *data, size_t len, const char *name, lg_spm_proto *out,
                       lg_error *err)
{
    memset(out, 0, sizeof *out);
    size_t pos = 0, cap = 0;
    while (pos < len) {
        size_t field_start = pos;
        uint64_t key;
        if (read_varint(data, len, &pos, &key) < 0)
            goto corrupt;
        int field = (int)(key >> 3), wire = (int)(key & 7);
        if (field == 0)
            goto corrupt;
        size_t sub = 0, sub_len = 0;
        if (skip_value(data, len, &pos, wire, &sub, &sub_len) < 0)
            goto corrupt;
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
        if (parse_piece(data, sub, sub_len, &out->pieces[out->n]) < 0) {
            pos = field_start;
            goto corrupt;
        }
        out->n++;
        out->pieces_end = pos;
    }
    if (out->n == 0) {
        lg_spm_proto_free(out);
        return lg_fail(err, "%s: not a SentencePiece model (no pieces)", name);
    }
    return 0;
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
