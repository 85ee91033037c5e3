/* common.c: error messages, spec parsing, atomic writes and checked allocation shared by every
 * module (see include/optlab/common.h). */
#include "optlab/common.h"

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <math.h>
#ifndef __wasi__
#include <signal.h>
#endif
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>
#ifndef __wasi__
#include <sys/mman.h>
#endif
#ifndef OL_NO_ZLIB
#include <zlib.h>
#endif

#ifdef __wasi__
/* WASI (the WebAssembly build, optlab/play.h) has no absolute paths, no processes, no signals and
 * no permissions: a path resolves to itself, every temporary is this one process's (a placeholder
 * pid), none is ever stale, and the runtime decides the mode. The page's runs write no files;
 * these keep the module whole. */
static char *realpath(const char *path, char *out) {
    snprintf(out, PATH_MAX, "%s", path);
    return out;
}
#define getpid() 1
#define O_PATH 0
#define fchmod(fd, mode) ((void)(fd), (void)(mode))
#endif

static _Thread_local char error_message[8192]; /* room for two paths of the system's longest */

int ol_fail(int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(error_message, sizeof error_message, fmt, ap);
    va_end(ap);
    return code;
}

const char *ol_error(void) { return error_message; }

int ol_exit_status(int code) { return code == OL_OK ? 0 : code == OL_EARG ? 2 : 1; }

/* ---- spec strings ---- */

int ol_spec_parse(ol_spec *spec, const char *text, const char *what) {
    memset(spec, 0, sizeof *spec);
    if (!text || !*text) return ol_fail(OL_EARG, "empty %s spec", what);
    const char *colon = strchr(text, ':');
    size_t name_len = colon ? (size_t)(colon - text) : strlen(text);
    if (name_len == 0 || name_len >= sizeof spec->name)
        return ol_fail(OL_EARG, "bad %s spec '%s': expected NAME[:key=value,...]", what, text);
    memcpy(spec->name, text, name_len);
    if (!colon) return OL_OK;
    const char *p = colon + 1;
    if (!*p) return ol_fail(OL_EARG, "bad %s spec '%s': nothing after ':'", what, text);
    while (*p) {
        /* the item runs to the first ',' outside brackets: a bracketed part of a value is one piece */
        const char *end = p;
        int depth = 0;
        for (; *end && (depth > 0 || *end != ','); end++) {
            if (*end == '[') depth++;
            else if (*end == ']' && --depth < 0) break;
        }
        if (depth != 0)
            return ol_fail(OL_EARG, "bad %s spec '%s': %s; a nested spec goes in one pair of brackets, [NAME:key=value,...]",
                           what, text, depth > 0 ? "a '[' is never closed" : "a ']' closes nothing");
        if (!*end) end = NULL;
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *eq = memchr(p, '=', len), *bracket = memchr(p, '[', len);
        if (!eq || eq == p || (bracket && bracket < eq))
            return ol_fail(OL_EARG, "bad %s spec '%s': '%.*s' is not key=value", what, text, (int)len, p);
        size_t key_len = (size_t)(eq - p), val_len = len - key_len - 1;
        if (spec->n_keys == OL_SPEC_MAX_KEYS)
            return ol_fail(OL_EARG, "bad %s spec '%s': more than %d keys", what, text, OL_SPEC_MAX_KEYS);
        if (key_len >= sizeof spec->key[0] || val_len >= sizeof spec->value[0])
            return ol_fail(OL_EARG, "bad %s spec '%s': key or value too long", what, text);
        if (val_len == 0)
            return ol_fail(OL_EARG, "bad %s spec '%s': key '%.*s' has no value", what, text, (int)key_len, p);
        int k = spec->n_keys;
        memcpy(spec->key[k], p, key_len);
        spec->key[k][key_len] = 0;
        memcpy(spec->value[k], eq + 1, val_len);
        spec->value[k][val_len] = 0;
        for (int j = 0; j < k; j++)
            if (!strcmp(spec->key[j], spec->key[k]))
                return ol_fail(OL_EARG, "bad %s spec '%s': key '%s' given twice", what, text, spec->key[k]);
        spec->n_keys++;
        if (!end) break;
        p = end + 1;
        if (!*p) return ol_fail(OL_EARG, "bad %s spec '%s': trailing ','", what, text);
    }
    return OL_OK;
}

static int spec_find(ol_spec *spec, const char *key) {
    for (int i = 0; i < spec->n_keys; i++)
        if (!strcmp(spec->key[i], key)) { spec->used |= 1u << i; return i; }
    return -1;
}

int ol_parse_double(const char *text, const char *what, double *out) {
    char *end;
    if (!text || !*text) return ol_fail(OL_EARG, "%s: expected a number, got nothing", what);
    errno = 0;
    double v = strtod(text, &end);
    if (*end || end == text || !isfinite(v) || (errno == ERANGE && fabs(v) > 1.0))
        return ol_fail(OL_EARG, "%s: '%s' is not a finite number", what, text);
    *out = v;
    return OL_OK;
}

int ol_parse_long(const char *text, const char *what, long lo, long hi, long *out) {
    char *end;
    if (!text || !*text) return ol_fail(OL_EARG, "%s: expected a whole number, got nothing", what);
    errno = 0;
    long v = strtol(text, &end, 10);
    if (*end || end == text) return ol_fail(OL_EARG, "%s: '%s' is not a whole number", what, text);
    if (errno == ERANGE) return ol_fail(OL_EARG, "%s: %s is out of range [%ld, %ld]", what, text, lo, hi);
    if (v < lo || v > hi) return ol_fail(OL_EARG, "%s: %ld is out of range [%ld, %ld]", what, v, lo, hi);
    *out = v;
    return OL_OK;
}

int ol_parse_seed(const char *text, const char *what, uint64_t *seed) {
#if LONG_MAX > 0x7fffffffL
    long v;
    int rc = ol_parse_long(text, what, 0, LONG_MAX, &v);
    if (!rc) *seed = (uint64_t)v;
    return rc;
#else
    if (!text || !*text) return ol_fail(OL_EARG, "%s: expected a whole number, got nothing", what);
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (*end || end == text) return ol_fail(OL_EARG, "%s: '%s' is not a whole number", what, text);
    if (errno == ERANGE) return ol_fail(OL_EARG, "%s: %s is out of range [0, %lld]", what, text, LLONG_MAX);
    if (v < 0) return ol_fail(OL_EARG, "%s: %lld is out of range [0, %lld]", what, v, LLONG_MAX);
    *seed = (uint64_t)v;
    return OL_OK;
#endif
}

int ol_spec_get_double(ol_spec *spec, const char *key, double def, double *out) {
    int i = spec_find(spec, key);
    *out = def;
    if (i < 0) return 0;
    char what[128];
    snprintf(what, sizeof what, "%s: %s", spec->name, key);
    if (ol_parse_double(spec->value[i], what, out)) return -OL_EARG;
    return 1;
}

int ol_spec_get_long(ol_spec *spec, const char *key, long def, long lo, long hi, long *out) {
    int i = spec_find(spec, key);
    *out = def;
    if (i < 0) return 0;
    char what[128];
    snprintf(what, sizeof what, "%s: %s", spec->name, key);
    if (ol_parse_long(spec->value[i], what, lo, hi, out)) return -OL_EARG;
    return 1;
}

const char *ol_spec_get_str(ol_spec *spec, const char *key) {
    int i = spec_find(spec, key);
    return i < 0 ? NULL : spec->value[i];
}

int ol_spec_check_unused(const ol_spec *spec, const char *valid_keys) {
    for (int i = 0; i < spec->n_keys; i++)
        if (!(spec->used & (1u << i)))
            return ol_fail(OL_EARG, "unknown key '%s' for '%s'; valid keys: %s", spec->key[i], spec->name,
                           valid_keys && *valid_keys ? valid_keys : "(none)");
    return OL_OK;
}

/* ---- atomic writes ---- */

/* The temporaries this process has open, for ol_afile_remove_temps (async-signal-safe: a slot is
 * read only once armed, and only unlinkat is called). state: 0 free, 1 being filled, 2 armed. */
#define TEMP_SLOTS 64
static struct {
    int state;
    pid_t pid;         /* the process that made it (a forked child must not remove its parent's) */
    int dirfd;
    char name[NAME_MAX + 1];
} temps[TEMP_SLOTS];

static int temp_register(int dirfd, const char *name) {
    for (int i = 0; i < TEMP_SLOTS; i++) {
        int expected = 0;
        if (!__atomic_compare_exchange_n(&temps[i].state, &expected, 1, 0, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) continue;
        temps[i].pid = getpid();
        temps[i].dirfd = dirfd;
        snprintf(temps[i].name, sizeof temps[i].name, "%s", name);
        __atomic_store_n(&temps[i].state, 2, __ATOMIC_RELEASE);
        return i + 1;
    }
    return 0; /* all taken: this one is left to the stale sweep of a later run */
}

static void temp_unregister(int slot) {
    if (slot > 0) __atomic_store_n(&temps[slot - 1].state, 0, __ATOMIC_RELEASE);
}

void ol_afile_remove_temps(void) {
    pid_t self = getpid();
    for (int i = 0; i < TEMP_SLOTS; i++)
        if (__atomic_load_n(&temps[i].state, __ATOMIC_ACQUIRE) == 2 && temps[i].pid == self)
            unlinkat(temps[i].dirfd, temps[i].name, 0);
}

#ifndef __wasi__
static void remove_temps_and_die(int signo) {
    ol_afile_remove_temps();
    raise(signo); /* the action is the default again (SA_RESETHAND): delivered once this returns */
}

void ol_afile_clean_on_signals(void) {
    static const int signals[] = {SIGINT, SIGTERM, SIGHUP};
    for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++) {
        struct sigaction old, sa;
        if (sigaction(signals[i], NULL, &old) != 0 || old.sa_handler != SIG_DFL) continue; /* nohup: stays ignored */
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = remove_temps_and_die;
        sa.sa_flags = SA_RESETHAND;
        sigemptyset(&sa.sa_mask);
        sigaction(signals[i], &sa, NULL);
    }
    static int at_exit;
    if (!at_exit++) atexit(ol_afile_remove_temps);
}
#else
void ol_afile_clean_on_signals(void) {} /* no signals in WASI */
#endif

#define TEMP_TAG ".tmp-"
#define TEMP_RANDOM 6

#ifndef __wasi__
/* If name is a temporary (PREFIX.tmp-PID-XXXXXX), its pid, and PREFIX's length in *prefix_len; else 0. */
static long temp_owner(const char *name, size_t *prefix_len) {
    const char *tag = NULL;
    for (const char *p = strstr(name, TEMP_TAG); p; p = strstr(p + 1, TEMP_TAG)) tag = p;
    if (!tag || tag == name) return 0;
    const char *p = tag + strlen(TEMP_TAG);
    long pid = 0;
    int digits = 0;
    for (; *p >= '0' && *p <= '9' && digits < 10; p++, digits++) pid = pid * 10 + (*p - '0');
    if (!digits || *p++ != '-' || pid <= 0 || pid > INT_MAX) return 0;
    for (int i = 0; i < TEMP_RANDOM; i++, p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))) return 0;
    if (*p) return 0;
    *prefix_len = (size_t)(tag - name);
    return pid;
}

/* Whether the temporary name (prefix_len bytes before its tag) was made for the final name base: its
 * prefix is base, or base cut short to make a name of exactly name_max bytes. */
static int temp_is_of(const char *name, size_t prefix_len, const char *base, long name_max) {
    size_t blen = strlen(base);
    if (prefix_len == blen) return !memcmp(name, base, blen);
    return prefix_len < blen && strlen(name) == (size_t)name_max && !memcmp(name, base, prefix_len);
}

/* Directories found holding no stale temporary of another output, per thread: not read again. */
#define CLEAN_DIRS 8
static _Thread_local struct { dev_t dev; ino_t ino; } clean_dirs[CLEAN_DIRS];
static _Thread_local int n_clean_dirs;

/* Removes the temporaries of base in the directory whose process is gone (kill(pid, 0): ESRCH). */
static void remove_stale_temps(int dirfd, const char *base, long name_max) {
    struct stat st;
    if (fstat(dirfd, &st) != 0) return;
    for (int i = 0; i < n_clean_dirs && i < CLEAN_DIRS; i++)
        if (clean_dirs[i].dev == st.st_dev && clean_dirs[i].ino == st.st_ino) return;
    int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        if (fd >= 0) close(fd);
        return;
    }
    int others = 0; /* stale ones of other outputs: removed when those are written */
    for (struct dirent *e; (e = readdir(d));) {
        size_t prefix_len;
        long pid = temp_owner(e->d_name, &prefix_len);
        if (!pid || kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue;
        if (temp_is_of(e->d_name, prefix_len, base, name_max)) unlinkat(dirfd, e->d_name, 0);
        else others = 1;
    }
    closedir(d);
    if (!others) {
        clean_dirs[n_clean_dirs % CLEAN_DIRS].dev = st.st_dev;
        clean_dirs[n_clean_dirs % CLEAN_DIRS].ino = st.st_ino;
        n_clean_dirs++;
    }
}
#else
/* WASI: one process, so nothing is stale */
static void remove_stale_temps(int dirfd, const char *base, long name_max) { (void)dirfd, (void)base, (void)name_max; }
#endif

/* Creates the temporary of a->path's last component in a->dirfd: a->tmp, listed; the open fd or -1. */
static int create_temp(ol_afile *a, long name_max) {
    static const char letters[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    static _Thread_local uint64_t state;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    state ^= (uint64_t)ts.tv_nsec * 0x9E3779B97F4A7C15u ^ (uint64_t)getpid() << 32 ^ (uint64_t)(uintptr_t)a;
    const char *base = a->path + a->base;
    size_t blen = strlen(base);
    for (int attempt = 0; attempt < 100; attempt++) {
        char suffix[48];
        int n = snprintf(suffix, sizeof suffix, TEMP_TAG "%ld-", (long)getpid());
        for (int i = 0; i < TEMP_RANDOM; i++) {
            state = state * 6364136223846793005u + 1442695040888963407u;
            suffix[n++] = letters[(state >> 33) % (sizeof letters - 1)];
        }
        suffix[n] = 0;
        size_t room = (size_t)name_max > (size_t)n ? (size_t)name_max - (size_t)n : 1;
        size_t keep = blen > room ? room : blen; /* cut to fit the name limit */
        snprintf(a->tmp, sizeof a->tmp, "%.*s%s", (int)keep, base, suffix);
        a->slot = temp_register(a->dirfd, a->tmp); /* before it exists: a signal finds it the moment it does */
        int fd = openat(a->dirfd, a->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd >= 0) return fd;
        int saved = errno;
        temp_unregister(a->slot);
        a->slot = 0;
        a->tmp[0] = 0;
        errno = saved;
        if (saved != EEXIST) return -1;
    }
    return -1;
}

/* Closes the directory and forgets the temporary (removed first when remove is set). */
static void temp_done(ol_afile *a, int remove) {
    if (!a->tmp[0]) return;
    if (remove) unlinkat(a->dirfd, a->tmp, 0);
    temp_unregister(a->slot);
    a->slot = 0;
    a->tmp[0] = 0;
    close(a->dirfd);
    a->dirfd = -1;
}

int ol_afile_open(ol_afile *a, const char *path) {
    memset(a, 0, sizeof *a);
    a->dirfd = -1;
    size_t plen = strlen(path);
    if (plen >= sizeof a->path)
        return ol_fail(OL_EARG, "cannot write %.64s...: the path is %zu bytes, more than the system's limit of %d",
                       path, plen, OL_PATH_CAP - 1);
    memcpy(a->path, path, plen + 1);
    struct stat st, lst;
    if (!strcmp(path, "-")) { /* standard output */
        a->f = stdout;
        a->direct = 1;
        return OL_OK;
    }
    if (stat(path, &st) == 0 && (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode))) {
        a->f = fopen(path, "wb"); /* a device or a pipe: no temporary, no rename */
        if (!a->f) return ol_fail(OL_EIO, "cannot write %s: %s", path, strerror(errno));
        a->direct = 1;
        return OL_OK;
    }
    if (lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode)) { /* replace the link's target, keep the link */
        char real[PATH_MAX], link[PATH_MAX];
        ssize_t n;
        if (realpath(path, real)) {
            snprintf(a->path, sizeof a->path, "%s", real);
        } else if ((n = readlink(path, link, sizeof link - 1)) > 0) { /* a target not made yet */
            link[n] = 0;
            const char *slash = strrchr(path, '/');
            int len = link[0] == '/' || !slash ? snprintf(real, sizeof real, "%s", link)
                                                : snprintf(real, sizeof real, "%.*s/%s", (int)(slash - path), path, link);
            if (len > 0 && (size_t)len < sizeof a->path) snprintf(a->path, sizeof a->path, "%s", real);
        }
    }
    path = a->path;
    /* the directory, opened: the temporary is made and renamed relative to it (a path near the
     * system's limit has no room for a longer temporary name) */
    const char *slash = strrchr(path, '/');
    a->base = slash ? (size_t)(slash - path) + 1 : 0;
    if (!path[a->base]) return ol_fail(OL_EIO, "cannot write %s: %s", path, strerror(EISDIR));
    char dir[OL_PATH_CAP];
    snprintf(dir, sizeof dir, "%.*s", !slash ? 1 : slash == path ? 1 : (int)(slash - path), !slash ? "." : path);
    int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0 && errno == EACCES) dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC); /* writable, not listable */
    if (dirfd < 0) return ol_fail(OL_EIO, "cannot write %s: %s", path, strerror(errno));
    long name_max = fpathconf(dirfd, _PC_NAME_MAX);
    if (name_max <= 0 || name_max > NAME_MAX) name_max = NAME_MAX;
    size_t blen = strlen(path + a->base);
    if (blen > (size_t)name_max) {
        close(dirfd);
        return ol_fail(OL_EIO, "cannot write %s: its name is %zu bytes, more than the %ld this file system allows", path,
                       blen, name_max);
    }
    a->dirfd = dirfd;
    remove_stale_temps(dirfd, path + a->base, name_max);
    int fd = create_temp(a, name_max);
    if (fd < 0) {
        int saved = errno;
        close(dirfd);
        a->dirfd = -1;
        return ol_fail(OL_EIO, "cannot write %s: %s", path, strerror(saved));
    }
    fchmod(fd, 0644);
    a->f = fdopen(fd, "wb");
    if (!a->f) {
        int saved = errno;
        close(fd);
        temp_done(a, 1);
        return ol_fail(OL_EIO, "cannot write %s: %s", path, strerror(saved));
    }
    return OL_OK;
}

int ol_afile_commit(ol_afile *a) {
    if (!a->f) return ol_fail(OL_EIO, "cannot write %s: file not open", a->path);
    if (a->direct) { /* stdout stays open; a device or pipe is closed; any error is reported */
        int bad = ferror(a->f) || fflush(a->f) != 0;
        int saved = errno;
        if (a->f != stdout && fclose(a->f) != 0 && !bad) bad = 1, saved = errno;
        a->f = NULL;
        return bad ? ol_fail(OL_EIO, "cannot write %s: %s", a->path, strerror(saved ? saved : EIO)) : OL_OK;
    }
    int bad = ferror(a->f) || fflush(a->f) != 0 || fsync(fileno(a->f)) != 0;
    int saved = errno;
    if (fclose(a->f) != 0) bad = 1, saved = errno;
    a->f = NULL;
    if (!bad && renameat(a->dirfd, a->tmp, a->dirfd, a->path + a->base) != 0) bad = 1, saved = errno;
    if (bad) {
        temp_done(a, 1);
        return ol_fail(OL_EIO, "cannot write %s: %s", a->path, strerror(saved));
    }
    fsync(a->dirfd);
    temp_done(a, 0);
    return OL_OK;
}

void ol_afile_abort(ol_afile *a) {
    if (a->f && a->f != stdout) fclose(a->f);
    else if (a->f) fflush(a->f);
    a->f = NULL;
    temp_done(a, 1);
}

int ol_afile_check(const char *path) {
    struct stat st;
    if (!strcmp(path, "-") || (stat(path, &st) == 0 && (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode))))
        return OL_OK;
    ol_afile f;
    int rc = ol_afile_open(&f, path);
    if (!rc) ol_afile_abort(&f);
    return rc;
}

int ol_mkdir_p(const char *path) {
    char buf[OL_PATH_CAP];
    size_t len = strlen(path);
    if (!len) return ol_fail(OL_EARG, "cannot create a directory with an empty name");
    if (len >= sizeof buf)
        return ol_fail(OL_EARG, "cannot create %.64s...: the path is %zu bytes, more than the system's limit of %d", path, len,
                       OL_PATH_CAP - 1);
    memcpy(buf, path, len + 1);
    for (char *p = buf + 1;; p++) { /* each directory of the path, from the top */
        if (*p != '/' && *p) continue;
        char saved = *p;
        *p = 0;
        if (mkdir(buf, 0777) != 0 && errno != EEXIST) return ol_fail(OL_EIO, "cannot create %s: %s", buf, strerror(errno));
        *p = saved;
        if (!saved) break;
    }
    return OL_OK;
}

int ol_write_file_atomic(const char *path, const void *data, size_t len) {
    ol_afile a;
    int rc = ol_afile_open(&a, path);
    if (rc) return rc;
    if (len && fwrite(data, 1, len, a.f) != len) {
        int saved = errno;
        ol_afile_abort(&a);
        return ol_fail(OL_EIO, "cannot write %s: %s", path, strerror(saved));
    }
    return ol_afile_commit(&a);
}

/* what a non-regular file is, for messages */
static const char *file_kind(mode_t m) {
    return S_ISDIR(m) ? "a directory" : S_ISFIFO(m) ? "a FIFO" : S_ISCHR(m) ? "a character device"
         : S_ISBLK(m) ? "a block device" : S_ISSOCK(m) ? "a socket" : "not a regular file";
}

const char *ol_path_kind(const char *path) {
    struct stat st;
    if (lstat(path, &st) != 0) return NULL;
    if (stat(path, &st) != 0) return errno == ELOOP ? "a symbolic link loop" : "a dangling symbolic link";
    return S_ISREG(st.st_mode) ? NULL : file_kind(st.st_mode);
}

int ol_read_file(const char *path, size_t max_len, unsigned char **data, size_t *len) {
    return ol_read_file_magic(path, NULL, 0, max_len, data, len);
}

int ol_read_file_magic(const char *path, const void *magic, size_t magic_len, size_t max_len, unsigned char **data,
                       size_t *len) {
    *data = NULL;
    *len = 0;
    /* only regular files, and no bigger than allowed: a FIFO would block forever and /dev/zero never
     * ends (issue 16); opened without blocking, checked again on the open file (no race with stat) */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return ol_fail(OL_EIO, "cannot open %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        int is_stat = fstat(fd, &st) == 0;
        close(fd);
        return ol_fail(OL_EIO, "%s is %s, not a regular file: give the file itself", path,
                       is_stat ? file_kind(st.st_mode) : "unreadable");
    }
    if (magic_len) { /* what the file is, before how big it is: a foreign file is never read whole */
        unsigned char *head = malloc(magic_len);
        if (!head) {
            close(fd);
            return ol_fail(OL_ENOMEM, "out of memory reading %s", path);
        }
        size_t got = 0;
        while (got < magic_len) {
            ssize_t r = read(fd, head + got, magic_len - got);
            if (r < 0 && errno == EINTR) continue;
            if (r < 0) {
                int saved = errno;
                free(head);
                close(fd);
                return ol_fail(OL_EIO, "cannot read %s: %s", path, strerror(saved));
            }
            if (r == 0) break;
            got += (size_t)r;
        }
        if (got < magic_len || memcmp(head, magic, magic_len)) { /* the caller's parser names it */
            close(fd);
            *data = head;
            *len = got;
            return OL_OK;
        }
        free(head);
        if (lseek(fd, 0, SEEK_SET) != 0) {
            int saved = errno;
            close(fd);
            return ol_fail(OL_EIO, "cannot read %s: %s", path, strerror(saved));
        }
    }
    if ((uint64_t)st.st_size > (uint64_t)max_len) {
        close(fd);
        return ol_fail(OL_EFORMAT, "%s is larger than the %zu bytes allowed (%lld bytes)", path, max_len,
                       (long long)st.st_size);
    }
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    uint64_t room = pages > 0 && page > 0 ? (uint64_t)pages * (uint64_t)page / 4 * 3 : UINT64_MAX;
    if ((uint64_t)st.st_size > room) { /* reading it would take the machine's memory */
        close(fd);
        return ol_fail(OL_ENOMEM, "%s is %lld bytes, more than three quarters of this machine's memory (%llu bytes)", path,
                       (long long)st.st_size, (unsigned long long)(room / 3 * 4));
    }
    FILE *f = fdopen(fd, "rb");
    if (!f) {
        close(fd);
        return ol_fail(OL_EIO, "cannot open %s: %s", path, strerror(errno));
    }
    size_t cap = 1 << 16, n = 0;
    unsigned char *buf = malloc(cap);
    if (!buf) { fclose(f); return ol_fail(OL_ENOMEM, "out of memory reading %s", path); }
    for (;;) {
        if (n == cap) {
            if (cap >= max_len) {
                free(buf);
                fclose(f);
                return ol_fail(OL_EFORMAT, "%s is larger than the %zu bytes allowed", path, max_len);
            }
            size_t ncap = cap * 2 > max_len ? max_len : cap * 2;
            unsigned char *nb = realloc(buf, ncap);
            if (!nb) { free(buf); fclose(f); return ol_fail(OL_ENOMEM, "out of memory reading %s", path); }
            buf = nb;
            cap = ncap;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
    }
    int err = ferror(f) ? errno : 0;
    fclose(f);
    if (err) { free(buf); return ol_fail(OL_EIO, "cannot read %s: %s", path, strerror(err)); }
    *data = buf;
    *len = n;
    return OL_OK;
}

/* ---- allocation ---- */

int ol_mul_overflows(size_t a, size_t b, const char *what) {
    if (a && b > SIZE_MAX / a) {
        ol_fail(OL_ENOMEM, "%s: size %zu x %zu overflows", what, a, b);
        return 1;
    }
    return 0;
}

void *ol_calloc(size_t n, size_t size) {
    if (ol_mul_overflows(n, size, "allocation")) return NULL;
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) ol_fail(OL_ENOMEM, "out of memory: %zu bytes needed", n * size);
    return p;
}

void *ol_malloc_array(size_t n, size_t size) {
    if (ol_mul_overflows(n, size, "allocation")) return NULL;
    void *p = malloc(n * size != 0 ? n * size : 1);
    if (!p) ol_fail(OL_ENOMEM, "out of memory: %zu bytes needed", n * size);
    return p;
}

/* Buffers of at least 1 MiB whose size rounded up to whole 2 MiB grows by at most a quarter start
 * on a 2 MiB boundary, take that rounded size and are asked for transparent huge pages (Linux,
 * where THP is "madvise" or "always"): the training step's big arrays (the data set, the optimizer
 * state, a large model's parameters and gradients) then need one TLB entry per 2 MiB instead of
 * 512. Measured on the project's 2-core VM (docs/performance.md): a batch of 128 scattered
 * Fashion-MNIST rows 70 -> 47 us, an Adam pass over 203,530 parameters after the caches were
 * flushed 234 -> 205 us. The quarter bounds what the padding adds to the peak RSS. Where huge
 * pages are not available this is plain memory. */
#define OL_HUGE_MIN ((size_t)1 << 20)
#define OL_HUGE_PAGE ((size_t)2 << 20)

void *ol_alloc_big(size_t bytes) {
    if (bytes > SIZE_MAX - OL_HUGE_PAGE) { /* the roundings below would wrap */
        ol_fail(OL_ENOMEM, "out of memory: %zu bytes needed", bytes);
        return NULL;
    }
    size_t align = 64;
    if (bytes >= OL_HUGE_MIN) {
        size_t rounded = (bytes + OL_HUGE_PAGE - 1) / OL_HUGE_PAGE * OL_HUGE_PAGE;
        if (rounded - bytes <= bytes / 4) align = OL_HUGE_PAGE, bytes = rounded;
    }
    bytes = (bytes + 63) / 64 * 64;
    if (bytes == 0) bytes = 64;
    void *p = NULL;
    if (posix_memalign(&p, align, bytes) != 0) {
        ol_fail(OL_ENOMEM, "out of memory: %zu bytes needed", bytes);
        return NULL;
    }
#ifdef MADV_HUGEPAGE
    if (align == OL_HUGE_PAGE) (void)madvise(p, bytes, MADV_HUGEPAGE); /* a hint: failure changes nothing */
#endif
    return p;
}

void *ol_aligned_calloc(size_t n, size_t size) {
    if (ol_mul_overflows(n, size, "allocation")) return NULL;
    size_t bytes = n * size;
    void *p = ol_alloc_big(bytes);
    if (p) memset(p, 0, bytes ? bytes : 1);
    return p;
}

uint32_t ol_crc32(uint32_t crc, const void *data, size_t len) {
    const unsigned char *p = data;
#ifndef OL_NO_ZLIB
    while (len > 0) {
        uInt chunk = len > (1u << 30) ? (1u << 30) : (uInt)len;
        crc = (uint32_t)crc32(crc, p, chunk);
        p += chunk;
        len -= chunk;
    }
#else /* zlib's CRC-32 (reflected polynomial 0xEDB88320), a bit at a time, where zlib is missing */
    crc = ~crc;
    for (size_t i = 0; i < len; i++) {
        crc ^= p[i];
        for (int b = 0; b < 8; b++) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    crc = ~crc;
#endif
    return crc;
}

double ol_now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* the path with its directory resolved (the file itself need not exist) */
static int resolved(const char *path, char *out, size_t cap) {
    char dir[4096], *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    if (slash) snprintf(dir, sizeof dir, "%.*s", slash == path ? 1 : (int)(slash - path), path);
    else snprintf(dir, sizeof dir, ".");
    char real[PATH_MAX];
    if (!realpath(dir, real)) return -1;
    int n = snprintf(out, cap, "%s/%s", real, base);
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

int ol_same_file(const char *a, const char *b) {
    struct stat sa, sb;
    if (stat(a, &sa) == 0 && stat(b, &sb) == 0) return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
    char ra[PATH_MAX + 256], rb[PATH_MAX + 256];
    if (resolved(a, ra, sizeof ra) || resolved(b, rb, sizeof rb)) return !strcmp(a, b);
    return !strcmp(ra, rb);
}

int ol_check_outputs(const ol_file_role *inputs, int n_in, const ol_file_role *outputs, int n_out, const int *allow) {
    for (int k = 0; k < n_out; k++) {
        if (!outputs[k].path) continue;
        for (int j = 0; j < n_in; j++)
            if (inputs[j].path && !(allow && allow[k] == j) && ol_same_file(outputs[k].path, inputs[j].path))
                return ol_fail(OL_EARG, "%s %s is the same file as %s (%s): writing it would destroy it; choose "
                               "another path", outputs[k].what, outputs[k].path, inputs[j].what, inputs[j].path);
        for (int j = 0; j < k; j++)
            if (outputs[j].path && ol_same_file(outputs[k].path, outputs[j].path))
                return ol_fail(OL_EARG, "%s and %s are the same file (%s): one would overwrite the other; give each "
                               "its own path", outputs[j].what, outputs[k].what, outputs[k].path);
    }
    return OL_OK;
}
