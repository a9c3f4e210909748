/* lg_sha256 — SHA-256 (FIPS 180-4) of memory or of a file, as lowercase hex, to tie
 * outputs to the exact tokenizer files they were made for. */
#ifndef LG_SHA256_H
#define LG_SHA256_H

#include <stddef.h>
#include <stdint.h>
#include "lg_error.h"

typedef struct {
    uint32_t h[8];
    uint64_t total;      /* bytes hashed so far */
    uint8_t block[64];
    size_t fill;
} lg_sha256;

void lg_sha256_init(lg_sha256 *s);
void lg_sha256_update(lg_sha256 *s, const void *data, size_t len);
/* Writes 64 hex digits and a NUL into hex. */
void lg_sha256_final_hex(lg_sha256 *s, char hex[65]);
/* The checksum of a whole file. */
int lg_sha256_file(const char *path, char hex[65], lg_error *err);

#endif
