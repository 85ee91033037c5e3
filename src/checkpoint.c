/* checkpoint.c: the tagged-section checkpoint container; see include/optlab/checkpoint.h. */
#include "optlab/checkpoint.h"

#include <stdlib.h>
#include <string.h>

#include "optlab/common.h"

#define MAGIC "OLCKPT\r\n"
/* 64 GiB, or all that a 32-bit size_t counts */
#define MAX_FILE ((size_t)((uint64_t)SIZE_MAX < (uint64_t)1 << 36 ? (uint64_t)SIZE_MAX : (uint64_t)1 << 36))


void ol_ckpt_init(ol_ckpt *c) { memset(c, 0, sizeof *c); }

void ol_ckpt_free(ol_ckpt *c) {
    for (int i = 0; i < c->n; i++) free(c->data[i]);
    memset(c, 0, sizeof *c);
}

int ol_ckpt_add(ol_ckpt *c, const char *tag, const void *data, size_t len) {
    if (strlen(tag) != 4) return ol_fail(OL_EARG, "checkpoint section tag '%s' must have 4 characters", tag);
    if (c->n == OL_CKPT_MAX_SECTIONS) return ol_fail(OL_EARG, "too many checkpoint sections");
    unsigned char *copy = ol_malloc_array(len ? len : 1, 1);
    if (!copy) return OL_ENOMEM;
    if (len) memcpy(copy, data, len);
    memcpy(c->tag[c->n], tag, 5);
    c->data[c->n] = copy;
    c->len[c->n] = len;
    c->n++;
    return OL_OK;
}

const void *ol_ckpt_get(const ol_ckpt *c, const char *tag, size_t *len) {
    for (int i = 0; i < c->n; i++)
        if (!strcmp(c->tag[i], tag)) {
            if (len) *len = c->len[i];
            return c->data[i];
        }
    if (len) *len = 0;
    return NULL;
}

int ol_ckpt_serialize(const ol_ckpt *c, unsigned char **out, size_t *out_len) {
    size_t total = 8 + 4 + 4 + 4;
    for (int i = 0; i < c->n; i++) total += 12 + c->len[i];
    unsigned char *buf = ol_malloc_array(total, 1);
    if (!buf) return OL_ENOMEM;
    unsigned char *p = buf;
    memcpy(p, MAGIC, 8), p += 8;
    ol_put_u32(p, OL_CKPT_VERSION), p += 4;
    ol_put_u32(p, (uint32_t)c->n), p += 4;
    for (int i = 0; i < c->n; i++) {
        memcpy(p, c->tag[i], 4), p += 4;
        ol_put_u64(p, c->len[i]), p += 8;
        if (c->len[i]) memcpy(p, c->data[i], c->len[i]);
        p += c->len[i];
    }
    ol_put_u32(p, ol_crc32(0, buf, (size_t)(p - buf)));
    *out = buf;
    *out_len = total;
    return OL_OK;
}

int ol_ckpt_write(const ol_ckpt *c, const char *path) {
    unsigned char *buf;
    size_t len;
    int rc = ol_ckpt_serialize(c, &buf, &len);
    if (rc) return rc;
    rc = ol_write_file_atomic(path, buf, len);
    free(buf);
    return rc;
}

int ol_ckpt_parse(ol_ckpt *out, const unsigned char *buf, size_t len, const char *what) {
    if (len < 8 || memcmp(buf, MAGIC, 8) != 0)
        return ol_fail(OL_EFORMAT, "%s is not an optlab checkpoint (wrong magic): a foreign file", what);
    if (len < 20) return ol_fail(OL_EFORMAT, "%s: truncated checkpoint (%zu bytes)", what, len);
    uint32_t version = ol_get_u32(buf + 8), n = ol_get_u32(buf + 12);
    /* the checksum before anything the header says: a flipped bit in the version must read as
     * corruption, not as "newer, upgrade" */
    if (ol_crc32(0, buf, len - 4) != ol_get_u32(buf + len - 4)) {
        /* tell truncation from corruption where the section table allows */
        size_t pos = 16;
        int complete = n <= OL_CKPT_MAX_SECTIONS;
        for (uint32_t i = 0; complete && i < n; i++) {
            if (pos + 12 > len - 4) { complete = 0; break; }
            uint64_t l = ol_get_u64(buf + pos + 4);
            if (l > len - 4 - pos - 12) { complete = 0; break; }
            pos += 12 + (size_t)l;
        }
        if (!complete || pos != len - 4)
            return ol_fail(OL_EFORMAT, "%s: truncated checkpoint (%zu bytes; the file ends early)", what, len);
        return ol_fail(OL_EFORMAT, "%s: checksum mismatch: the checkpoint is corrupt", what);
    }
    if (version > OL_CKPT_VERSION)
        return ol_fail(OL_EFORMAT, "%s: checkpoint format version %u is newer than this optlab's (%u); use a newer optlab",
                       what, version, OL_CKPT_VERSION);
    if (version == 0) return ol_fail(OL_EFORMAT, "%s: corrupt checkpoint (version 0)", what);
    if (n > OL_CKPT_MAX_SECTIONS) return ol_fail(OL_EFORMAT, "%s: corrupt checkpoint (%u sections)", what, n);
    ol_ckpt c;
    ol_ckpt_init(&c);
    size_t pos = 16;
    for (uint32_t i = 0; i < n; i++) {
        if (pos + 12 > len - 4) {
            ol_ckpt_free(&c);
            return ol_fail(OL_EFORMAT, "%s: truncated checkpoint (section %u)", what, i);
        }
        char tag[5];
        memcpy(tag, buf + pos, 4);
        tag[4] = 0;
        uint64_t l = ol_get_u64(buf + pos + 4);
        if (l > len - 4 - pos - 12 || memchr(tag, 0, 4)) {
            ol_ckpt_free(&c);
            return ol_fail(OL_EFORMAT, "%s: corrupt checkpoint (section %u)", what, i);
        }
        int rc = ol_ckpt_add(&c, tag, buf + pos + 12, (size_t)l);
        if (rc) {
            ol_ckpt_free(&c);
            return rc;
        }
        pos += 12 + (size_t)l;
    }
    if (pos != len - 4) {
        ol_ckpt_free(&c);
        return ol_fail(OL_EFORMAT, "%s: corrupt checkpoint (%zu stray bytes)", what, len - 4 - pos);
    }
    *out = c;
    return OL_OK;
}

int ol_ckpt_read(ol_ckpt *c, const char *path) {
    unsigned char *buf;
    size_t len;
    int rc = ol_read_file_magic(path, MAGIC, 8, MAX_FILE, &buf, &len);
    if (rc) return rc;
    rc = ol_ckpt_parse(c, buf, len, path);
    free(buf);
    return rc;
}
