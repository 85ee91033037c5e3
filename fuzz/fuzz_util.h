/* fuzz_util.h: what the fuzz targets share: private temporary files, gzip, CRC fix-ups, splitting
 * an input into strings, and the checks every target makes after a call into the library.
 *
 * Header-only and `static inline`, so that a target using a few of these compiles warning-free and
 * tests/test_fuzz_regressions.c can include every fuzz/fuzz_<name>.c in one translation unit.
 * Not a fuzzing framework: each target stays a plain function fuzz_<name>_one(data, size) that
 * returns 0, or 1 when a library invariant was broken (libFuzzer's entry then aborts, so the input
 * is saved as a crash; the regression test fails). */
#ifndef OPTLAB_FUZZ_UTIL_H
#define OPTLAB_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "optlab/common.h"

/* $TMPDIR (or /tmp)/optlab-fuzz-<pid>-<tag>: private to this process, so fuzzers running side by
 * side and the regression test's child processes never share a file. */
static inline void fuzz_tmp_path(char *out, size_t cap, const char *tag) {
    const char *dir = getenv("TMPDIR");
    if (!dir || !*dir) dir = "/tmp";
    snprintf(out, cap, "%s/optlab-fuzz-%ld-%s", dir, (long)getpid(), tag);
}

/* Writes size bytes to path, raw or (gzip = 1) gzip-compressed at level 1. Returns 0 on success. */
static inline int fuzz_write_file(const char *path, const uint8_t *data, size_t size, int gzip) {
    if (gzip) {
        gzFile gz = gzopen(path, "wb1");
        if (!gz) return -1;
        int ok = size == 0 || gzwrite(gz, data, (unsigned)size) == (int)size;
        return gzclose(gz) == Z_OK && ok ? 0 : -1;
    }
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    int ok = size == 0 || fwrite(data, 1, size, f) == size;
    return fclose(f) == 0 && ok ? 0 : -1;
}

static inline uint32_t fuzz_le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t fuzz_le64(const uint8_t *p) { return (uint64_t)fuzz_le32(p) | (uint64_t)fuzz_le32(p + 4) << 32; }

static inline void fuzz_put_le32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

/* optlab's binary formats end with the CRC-32 of every byte before it (little-endian). Rewriting
 * it lets the fuzzer reach the checks behind the checksum instead of stopping at it. */
static inline void fuzz_fix_crc_trailer(uint8_t *buf, size_t len) {
    if (len >= 4) fuzz_put_le32(buf + len - 4, ol_crc32(0, buf, len - 4));
}

/* A training checkpoint's section after a change, its own checksums rewritten (tag: "MODL" the
 * model file's trailer; "OPTM" the optimizer state's trailer and its schedule part's, which sits
 * after the 120-byte header and 16 bytes a group, its length at byte 112; "SAMP" the sampler
 * state's, at byte 112): damage that only the field checks behind the checksums can catch. */
static inline void fuzz_fix_section_crcs(const char *tag, uint8_t *sec, size_t len) {
    if (!strcmp(tag, "MODL")) fuzz_fix_crc_trailer(sec, len);
    if (!strcmp(tag, "SAMP") && len >= 116) fuzz_put_le32(sec + 112, ol_crc32(0, sec, 112));
    if (!strcmp(tag, "OPTM") && len >= 124) {
        uint64_t start = 120 + 16 * (uint64_t)fuzz_le32(sec + 12), sched_len = fuzz_le64(sec + 112);
        if (sched_len >= 4 && start <= len - 4 && sched_len <= len - 4 - start)
            fuzz_put_le32(sec + start + sched_len - 4, ol_crc32(0, sec + start, (size_t)sched_len - 4));
        fuzz_fix_crc_trailer(sec, len);
    }
}

/* The first NUL-free run of data as a C string in out (truncated to cap - 1 bytes). */
static inline void fuzz_cstr(char *out, size_t cap, const uint8_t *data, size_t size) {
    size_t n = 0;
    while (n < size && n + 1 < cap && data[n]) n++;
    memcpy(out, data, n);
    out[n] = 0;
}

/* Clears the thread's error message, so that a failure that sets none is caught afterwards. */
static inline void fuzz_clear_error(void) { ol_fail(OL_OK, "%s", ""); }

/* After a call that returned rc: a failure must be a known OL_E* code with a message.
 * Returns 0 if so, else prints what is wrong (with `what`, the call) and returns 1. */
static inline int fuzz_check_rc(int rc, const char *what) {
    if (rc == OL_OK) return 0;
    const char *msg = ol_error();
    if (rc < OL_EARG || rc > OL_ESTATE) {
        fprintf(stderr, "fuzz: %s returned %d, not an OL_E* code (message: '%s')\n", what, rc, msg);
        return 1;
    }
    if (!msg[0]) {
        fprintf(stderr, "fuzz: %s failed (code %d) without an error message\n", what, rc);
        return 1;
    }
    return 0;
}

#endif
