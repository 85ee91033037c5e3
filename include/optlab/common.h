/* common.h: what every optlab module shares: error codes and messages, spec strings
 * ("name:key=value,..."), atomic file writes, checked allocation.
 *
 * Errors: a function that can fail returns 0 on success or an OL_E* code, and leaves a one-line
 * message (what is wrong and how to fix it) in a thread-local buffer that ol_error() returns.
 * The library never exits or aborts on user input. */
#ifndef OPTLAB_COMMON_H
#define OPTLAB_COMMON_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum {
    OL_OK = 0,
    OL_EARG = 1,      /* invalid argument, spec or setting (the CLI exits 2: usage error) */
    OL_EIO = 2,       /* a file could not be opened, read or written */
    OL_EFORMAT = 3,   /* a file is corrupt, truncated, foreign or of a newer version */
    OL_ENOMEM = 4,    /* allocation failed or a size would overflow */
    OL_ENUMERIC = 5,  /* NaN or Inf where a finite number is required */
    OL_ESTATE = 6,    /* an operation not valid in the current state (e.g. a schedule stepped past its end) */
    OL_ESTOPPED = 7   /* stopped on request (a signal): state saved where a checkpoint was asked for */
};

/* Sets the thread's error message (printf-style) and returns code, so `return ol_fail(OL_EARG, ...)`. */
int ol_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The last error message of this thread ("" if none). */
const char *ol_error(void);
/* Returns the CLI exit status for an error code: 2 for OL_EARG, 1 otherwise, 0 for OL_OK. */
int ol_exit_status(int code);

/* ---- spec strings: NAME[:key=value,key=value,...]; lists inside a value use '/' ----
 * A value may hold brackets, [ ... ], nested and balanced: what is inside them (',' and ':' and '='
 * included) belongs to that value, so one spec can carry others: "chain:schedules=[step:step_size=3,
 * gamma=0.5]/[exponential:gamma=0.9]". A key cannot hold a bracket; an unbalanced one is an error. */
#define OL_SPEC_MAX_KEYS 16
#define OL_SPEC_MAX_LEN 1024
typedef struct {
    char name[64];
    int n_keys;
    char key[OL_SPEC_MAX_KEYS][32];
    char value[OL_SPEC_MAX_KEYS][OL_SPEC_MAX_LEN];
    unsigned used;     /* bit i set once key i has been read by an ol_spec_get_* call */
} ol_spec;

/* Parses text into spec; what names a spec kind ("optimizer", "schedule") for messages. */
int ol_spec_parse(ol_spec *spec, const char *text, const char *what);
/* Looks up key; returns 1 and sets *out when present and a valid finite number, 0 when absent
 * (out = def), or -OL_EARG (with message) when malformed. Range checks are the caller's. */
int ol_spec_get_double(ol_spec *spec, const char *key, double def, double *out);
/* As above for a whole number (rejects fractions and values outside [lo, hi]). */
int ol_spec_get_long(ol_spec *spec, const char *key, long def, long lo, long hi, long *out);
/* The raw string value or NULL if absent (marks the key used). */
const char *ol_spec_get_str(ol_spec *spec, const char *key);
/* Fails with a message naming the first key no getter asked for ("unknown key 'x' for adam;
 * valid keys: ..."); valid_keys is the list to show. */
int ol_spec_check_unused(const ol_spec *spec, const char *valid_keys);

/* Parses a whole finite double from text (no trailing junk); 0 on success, OL_EARG otherwise
 * with a message naming what (e.g. "--lr"). */
int ol_parse_double(const char *text, const char *what, double *out);
/* Parses a whole integer in [lo, hi]. */
int ol_parse_long(const char *text, const char *what, long lo, long hi, long *out);
/* A seed: a whole number in [0, 2^63 - 1], with ol_parse_long's messages where long has 64 bits,
 * the same words where it has 32 (the WebAssembly build). */
int ol_parse_seed(const char *text, const char *what, uint64_t *out);
/* A bound of 2^bits for a count where long has 64 bits, LONG_MAX where it has 32 (the
 * WebAssembly build, whose runs are far below it). */
#if LONG_MAX > 0x7fffffffL
#define OL_LONG_UPTO(bits) (1L << (bits))
#else
#define OL_LONG_UPTO(bits) LONG_MAX
#endif

/* ---- atomic file writes: temporary name, fflush, fsync, rename, fsync of the directory ----
 * For regular files and new paths. A symlink is followed (its target is replaced atomically, the
 * link stays); "-", a character device or a FIFO is written directly (`--log -` or /dev/stdout
 * streams the CSV), and a write error there (/dev/full) is an error like any other.
 *
 * The temporary is NAME.tmp-PID-XXXXXX next to the final name (NAME cut short where the whole would
 * pass the file system's limit on a name, 255 bytes), made and renamed relative to the directory, so
 * any path the system accepts (up to OL_PATH_CAP - 1 bytes) can be written. PID is the writer's: a
 * temporary whose process is gone (SIGKILL, a crash, a power cut) is removed when a later run opens
 * the same output; one of a live process never is. While it is open, a temporary is listed where
 * ol_afile_remove_temps (a signal handler's call) finds it. */
#define OL_PATH_CAP 4096   /* bytes of a path buffer: the system's PATH_MAX, its terminating NUL included */
typedef struct {
    FILE *f;           /* write here */
    char path[OL_PATH_CAP]; /* final name */
    char tmp[256];     /* the temporary's name in the final name's directory ("" when direct or done) */
    size_t base;       /* offset of the final name's last component in path */
    int dirfd;         /* the directory, open while tmp[0] is set */
    int slot;          /* 1 + the temporary's entry in the list of open ones; 0 none */
    int direct;        /* 1: written in place (stdout, a device, a FIFO) */
} ol_afile;
int ol_afile_open(ol_afile *a, const char *path);
/* Flushes, fsyncs, closes and renames onto the final name; on failure removes the temporary. */
int ol_afile_commit(ol_afile *a);
/* Closes and removes the temporary; the final name is untouched. Safe to call twice. */
void ol_afile_abort(ol_afile *a);
/* Whether path can be written, checked before the work that makes its contents: a temporary is
 * created and removed next to it; standard output, devices and FIFOs are not opened (a FIFO's
 * reader would see its end). */
int ol_afile_check(const char *path);
/* Removes every temporary this process has open (not yet committed or aborted). Async-signal-safe
 * (unlinkat only): for a signal handler, and for exits that skip the normal paths (MPI_Abort). */
void ol_afile_remove_temps(void);
/* For a command: SIGINT, SIGTERM and SIGHUP, where they have their default action, first remove the
 * open temporaries (ol_afile_remove_temps) and then end the process as before (killed by the
 * signal); an ignored signal (nohup) stays ignored, and a handler set later (train's and sweep's
 * save-and-stop on SIGINT/SIGTERM) replaces this one. Also removes them at exit(). */
void ol_afile_clean_on_signals(void);
/* Creates the directory path and its missing parents (mkdir -p); OL_EIO naming the one that failed. */
int ol_mkdir_p(const char *path);
/* Writes len bytes atomically to path. */
int ol_write_file_atomic(const char *path, const void *data, size_t len);
/* What path is when it is there but is not a regular file ("a FIFO", "a directory", "a dangling
 * symbolic link", "a symbolic link loop", ...), for messages; NULL when it is a regular file or is
 * not there at all. */
const char *ol_path_kind(const char *path);
/* Reads a whole file into a malloc'ed buffer (caller frees); refuses files over max_len. */
int ol_read_file(const char *path, size_t max_len, unsigned char **data, size_t *len);
/* The same for a file format that starts with magic[0..magic_len): the first bytes are read and
 * compared before the size is checked or the rest read, so a foreign file (a data set given as
 * --model, gigabytes of zeros) costs magic_len bytes of reading. When they differ (or the file is
 * shorter), returns OL_OK with just those bytes, for the caller's parser to refuse ("wrong
 * magic") as it would the whole file. */
int ol_read_file_magic(const char *path, const void *magic, size_t magic_len, size_t max_len, unsigned char **data,
                       size_t *len);

/* ---- outputs that must not destroy inputs ---- */
typedef struct {
    const char *path;   /* NULL: not given (skipped) */
    const char *what;   /* "--save", "the training images", ... for the message */
} ol_file_role;
/* 1 when a and b name the same file: the same device and inode where both exist, else the same
 * path once the directories are resolved (a file not yet created). */
int ol_same_file(const char *a, const char *b);
/* OL_EARG (before any work) when an output is the same file as an input or as another output,
 * naming both and the fix; except output k and input j where allow[k] == j (a checkpoint written
 * where it was resumed from); allow may be NULL. */
int ol_check_outputs(const ol_file_role *inputs, int n_in, const ol_file_role *outputs, int n_out, const int *allow);

/* Seconds on a monotonic clock (for intervals: training time, time budgets, progress). */
double ol_now_seconds(void);

/* ---- allocation: NULL + OL_ENOMEM message on failure or on n * size overflow ---- */
void *ol_calloc(size_t n, size_t size);
void *ol_malloc_array(size_t n, size_t size);
/* 64-byte aligned, zeroed; free with free(). Large buffers (1 MiB and up, when whole 2 MiB pages add
 * at most a quarter) are 2 MiB aligned and backed by transparent huge pages where the system offers
 * them (see ol_alloc_big in common.c). */
void *ol_aligned_calloc(size_t n, size_t size);
/* bytes of uninitialized memory, aligned and huge-page backed like ol_aligned_calloc; free(). */
void *ol_alloc_big(size_t bytes);
/* 1 if a * b overflows size_t (and sets an OL_ENOMEM message naming what). */
int ol_mul_overflows(size_t a, size_t b, const char *what);

/* ---- little-endian encoding of file and state formats ---- */
static inline void ol_put_u32(unsigned char *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static inline void ol_put_u64(unsigned char *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static inline uint32_t ol_get_u32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t ol_get_u64(const unsigned char *p) {
    return (uint64_t)ol_get_u32(p) | (uint64_t)ol_get_u32(p + 4) << 32;
}

static inline void ol_put_f64(unsigned char *p, double v) {
    uint64_t bits;
    __builtin_memcpy(&bits, &v, 8);
    ol_put_u64(p, bits);
}
static inline double ol_get_f64(const unsigned char *p) {
    uint64_t bits = ol_get_u64(p);
    double v;
    __builtin_memcpy(&v, &bits, 8);
    return v;
}

/* CRC-32 (zlib's polynomial) of len bytes, continuing from crc (start with 0). */
uint32_t ol_crc32(uint32_t crc, const void *data, size_t len);

#endif
