/* sampler.c: mini-batch samplers over [0, n) and their saved state (see include/optlab/sampler.h).
 *
 * Each epoch starts from the generator state saved in epoch_rng: the shuffle sampler builds the
 * identity permutation and shuffles it with that state; the iid sampler draws batch after batch
 * from it. So (epoch_rng, position) determines everything that follows, which is what the saved
 * state records; the current state `rng` is saved as well and must equal the replay on load, a
 * check that no checksum can give. */
#include "optlab/common.h"
#include "optlab/sampler.h"

#include <stdlib.h>
#include <string.h>

static void start_epoch(ol_sampler *s) {
    s->epoch_rng = s->rng;
    s->position = 0;
    if (s->kind == OL_SAMPLER_SHUFFLE) {
        for (uint32_t i = 0; i < s->n; i++) s->order[i] = i;
        ol_rng_shuffle(&s->rng, s->order, s->n);
    }
}

const char *ol_sampler_kind_name(int kind) {
    return kind == OL_SAMPLER_SHUFFLE ? "shuffle" : kind == OL_SAMPLER_IID ? "iid" : "unknown";
}

int ol_sampler_parse_kind(const char *text, int *kind) {
    if (!text || !*text) return ol_fail(OL_EARG, "sampler: expected shuffle or iid, got nothing");
    if (!strcmp(text, "shuffle")) *kind = OL_SAMPLER_SHUFFLE;
    else if (!strcmp(text, "iid")) *kind = OL_SAMPLER_IID;
    else return ol_fail(OL_EARG, "unknown sampler '%s'; valid: shuffle (a new permutation each epoch), "
                        "iid (batches drawn with replacement)", text);
    return OL_OK;
}

int ol_sampler_init(ol_sampler *s, int kind, uint32_t n, uint32_t batch, uint64_t seed) {
    if (!s) return ol_fail(OL_EARG, "ol_sampler_init: no sampler given");
    memset(s, 0, sizeof *s);
    if (kind != OL_SAMPLER_SHUFFLE && kind != OL_SAMPLER_IID)
        return ol_fail(OL_EARG, "unknown sampler kind %d", kind);
    if (n == 0) return ol_fail(OL_EARG, "sampler: no examples to sample from");
    if (batch == 0) return ol_fail(OL_EARG, "batch size 0: it must be at least 1");
    if (batch > n)
        return ol_fail(OL_EARG, "batch size %u is larger than the %u examples; use %u for full-batch",
                       batch, n, n);
    uint32_t *order = ol_malloc_array(kind == OL_SAMPLER_SHUFFLE ? n : batch, sizeof *order);
    if (!order) return OL_ENOMEM;
    s->kind = kind;
    s->n = n;
    s->batch = batch;
    s->n_batches = n / batch + (n % batch != 0);
    s->seed = seed;
    s->order = order;
    ol_rng_seed(&s->rng, seed);
    start_epoch(s);
    return OL_OK;
}

uint32_t ol_sampler_next(ol_sampler *s, const uint32_t **idx) {
    *idx = NULL;
    if (!s->order) return 0;
    if (s->position == s->n_batches) {
        s->epoch++;
        start_epoch(s);
        return 0;
    }
    uint32_t size = s->batch;
    if (s->kind == OL_SAMPLER_SHUFFLE) {
        size_t start = (size_t)s->position * s->batch;
        if (s->n - start < size) size = (uint32_t)(s->n - start);
        *idx = s->order + start;
    } else {
        for (uint32_t i = 0; i < size; i++) s->order[i] = (uint32_t)ol_rng_below(&s->rng, s->n);
        *idx = s->order;
    }
    s->position++;
    return size;
}

void ol_sampler_free(ol_sampler *s) {
    if (!s) return;
    free(s->order);
    memset(s, 0, sizeof *s);
}

/* ---- saved state: little-endian, fixed layout ----
 *   0  "OLSAMPLR"           8  u32 version      12 u32 kind       16 u32 n
 *  20  u32 batch           24  u32 position     28 u32 0          32 u64 epoch
 *  40  u64 seed            48  4 x u64 epoch_rng.s                80 4 x u64 rng.s
 * 112  u32 CRC-32 of bytes 0..111 */
#define STATE_MAGIC "OLSAMPLR"
#define STATE_VERSION 1u
#define STATE_SIZE 116u

static void put32(unsigned char *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static void put64(unsigned char *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static uint32_t get32(const unsigned char *p) {
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) v |= (uint32_t)p[i] << (8 * i);
    return v;
}
static uint64_t get64(const unsigned char *p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

size_t ol_sampler_state_size(const ol_sampler *s) {
    (void)s;
    return STATE_SIZE;
}

int ol_sampler_state_save(const ol_sampler *s, void *buf, size_t cap) {
    if (!s || !s->order) return ol_fail(OL_EARG, "sampler state: the sampler is not initialized");
    if (!buf || cap < STATE_SIZE)
        return ol_fail(OL_EARG, "sampler state: buffer of %zu bytes, %u needed", cap, STATE_SIZE);
    unsigned char *p = buf;
    memset(p, 0, STATE_SIZE);
    memcpy(p, STATE_MAGIC, 8);
    put32(p + 8, STATE_VERSION);
    put32(p + 12, (uint32_t)s->kind);
    put32(p + 16, s->n);
    put32(p + 20, s->batch);
    put32(p + 24, s->position);
    put64(p + 32, s->epoch);
    put64(p + 40, s->seed);
    for (int i = 0; i < 4; i++) put64(p + 48 + 8 * i, s->epoch_rng.s[i]);
    for (int i = 0; i < 4; i++) put64(p + 80 + 8 * i, s->rng.s[i]);
    put32(p + 112, ol_crc32(0, p, 112));
    return OL_OK;
}

int ol_sampler_state_load(ol_sampler *s, const void *buf, size_t len) {
    if (!s || !s->order)
        return ol_fail(OL_EARG, "sampler state: initialize the sampler (same kind, n, batch) first");
    if (!buf || len != STATE_SIZE)
        return ol_fail(OL_EFORMAT, "sampler state: %zu bytes, expected %u (truncated or not a sampler "
                       "state)", len, STATE_SIZE);
    const unsigned char *p = buf;
    if (memcmp(p, STATE_MAGIC, 8) != 0) return ol_fail(OL_EFORMAT, "sampler state: not a sampler state");
    if (get32(p + 112) != ol_crc32(0, p, 112))
        return ol_fail(OL_EFORMAT, "sampler state: checksum mismatch (corrupt)");
    uint32_t version = get32(p + 8);
    if (version != STATE_VERSION)
        return ol_fail(OL_EFORMAT, "sampler state: version %u, this optlab reads version %u", version,
                       STATE_VERSION);
    uint32_t kind = get32(p + 12), n = get32(p + 16), batch = get32(p + 20), position = get32(p + 24);
    if (kind != OL_SAMPLER_SHUFFLE && kind != OL_SAMPLER_IID)
        return ol_fail(OL_EFORMAT, "sampler state: unknown sampler kind %u", kind);
    if (kind != (uint32_t)s->kind || n != s->n || batch != s->batch)
        return ol_fail(OL_EARG, "sampler state is for sampler %s, %u examples, batch %u; this run has "
                       "%s, %u, %u: resume with the same settings", ol_sampler_kind_name((int)kind), n,
                       batch, ol_sampler_kind_name(s->kind), s->n, s->batch);
    if (position > s->n_batches || get32(p + 28) != 0)
        return ol_fail(OL_EFORMAT, "sampler state: position %u past the %u batches of an epoch",
                       position, s->n_batches);
    ol_rng epoch_rng, rng;
    memset(&epoch_rng, 0, sizeof epoch_rng);
    memset(&rng, 0, sizeof rng);
    for (int i = 0; i < 4; i++) epoch_rng.s[i] = get64(p + 48 + 8 * i);
    for (int i = 0; i < 4; i++) rng.s[i] = get64(p + 80 + 8 * i);
    if (!(epoch_rng.s[0] | epoch_rng.s[1] | epoch_rng.s[2] | epoch_rng.s[3]))
        return ol_fail(OL_EFORMAT, "sampler state: invalid generator state (all zero)");

    /* Replay the epoch up to the saved position; it must land on the saved current state. */
    ol_rng replay = epoch_rng;
    uint32_t *order = NULL;
    if (kind == OL_SAMPLER_SHUFFLE) {
        order = ol_malloc_array(n, sizeof *order);
        if (!order) return OL_ENOMEM;
        for (uint32_t i = 0; i < n; i++) order[i] = i;
        ol_rng_shuffle(&replay, order, n);
    } else {
        for (uint64_t i = 0; i < (uint64_t)position * batch; i++) ol_rng_below(&replay, n);
    }
    if (memcmp(replay.s, rng.s, sizeof rng.s) != 0) {
        free(order);
        return ol_fail(OL_EFORMAT, "sampler state: generator state does not match the epoch's start "
                       "(corrupt)");
    }
    if (order) {
        free(s->order);
        s->order = order;
    }
    s->position = position;
    s->epoch = get64(p + 32);
    s->seed = get64(p + 40);
    s->epoch_rng = epoch_rng;
    s->rng = rng;
    return OL_OK;
}
