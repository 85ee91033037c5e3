/* checkpoint.h: the checkpoint container: tagged sections in one file with a format version and a
 * CRC-32 of the whole, written atomically (temporary name, fsync, rename, fsync of the directory).
 *
 * File: magic "OLCKPT\r\n", u32 version, u32 section count, then per section a 4-byte tag, a u64
 * length and the bytes, then u32 CRC-32 of everything before; little-endian. A reader refuses a
 * foreign file (magic), a newer version, a truncated file and a checksum mismatch, each with a
 * message that says which, and never hands out a half-read checkpoint. What goes in the sections
 * is the training loop's business (train.c). */
#ifndef OPTLAB_CHECKPOINT_H
#define OPTLAB_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#define OL_CKPT_VERSION 1u
#define OL_CKPT_MAX_SECTIONS 16

typedef struct {
    int n;
    char tag[OL_CKPT_MAX_SECTIONS][5];
    unsigned char *data[OL_CKPT_MAX_SECTIONS];   /* owned copies */
    size_t len[OL_CKPT_MAX_SECTIONS];
} ol_ckpt;

void ol_ckpt_init(ol_ckpt *c);
void ol_ckpt_free(ol_ckpt *c);
/* Adds (a copy of) a section; tag is 4 characters. */
int ol_ckpt_add(ol_ckpt *c, const char *tag, const void *data, size_t len);
/* The section's bytes or NULL (and *len = 0) when absent. */
const void *ol_ckpt_get(const ol_ckpt *c, const char *tag, size_t *len);
/* The whole file as bytes (malloc'ed) / written atomically to path. */
int ol_ckpt_serialize(const ol_ckpt *c, unsigned char **buf, size_t *len);
int ol_ckpt_write(const ol_ckpt *c, const char *path);
/* Parses bytes / reads path into c (c is untouched on failure). what names the source in messages. */
int ol_ckpt_parse(ol_ckpt *c, const unsigned char *buf, size_t len, const char *what);
int ol_ckpt_read(ol_ckpt *c, const char *path);

#endif
