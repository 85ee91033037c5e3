/* test_fuzz_regressions.c: replays every input of fuzz/regressions/<target>/ (crashes the fuzzers
 * found) and of the seed corpus fuzz/corpus/<target>/ through the fuzz targets' own entry points,
 * fuzz_<target>_one(), without libFuzzer and under the normal build (and under make SAN=1).
 *
 * Each input runs in a child process (a crash, an abort or a hang then fails one test instead of
 * the runner) with a time limit and two memory checks, so that an input that makes the library
 * allocate far more than it needs fails here too: a limit on the address space the child may add
 * (a big allocation then fails: the targets treat "out of memory" from a small input as a bug, and
 * under AddressSanitizer the child stops with its out-of-memory report), and a limit on how much
 * its resident memory grows. Paths are relative to the repository root, where the runner runs.
 *
 * Adding a target: add its #include and one FUZZ_TARGET line below; the checkpoint target is
 * picked up by itself when fuzz/fuzz_checkpoint.c exists. */
#include "test.h"

#include <dirent.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "optlab/common.h"

#define FUZZ_NO_MAIN
#include "../fuzz/fuzz_checkpoint_fields.c"
#include "../fuzz/fuzz_cli.c"
#include "../fuzz/fuzz_idx.c"
#include "../fuzz/fuzz_model.c"
#include "../fuzz/fuzz_spec.c"
#include "../fuzz/fuzz_state.c"
#if defined(__has_include)
#if __has_include("../fuzz/fuzz_checkpoint.c")
#include "../fuzz/fuzz_checkpoint.c"
#define FUZZ_HAVE_CHECKPOINT 1
#endif
#endif
/* The runner links liboptlab.a, which holds no CLI code; the cli target needs the flag parser. */
#include "../src/cli/args.c"
#include "../src/cli/train_flags.c"

#define FUZZ_REPLAY_SECONDS 60                  /* per input; the fuzzers allow 30 s under ASan */
#define FUZZ_REPLAY_MEMORY ((rlim_t)2 << 30)    /* address space an input may add (2 GiB) */
#define FUZZ_REPLAY_RSS_GROWTH_KB (1L << 20)    /* resident memory an input may add (1 GiB) */

typedef int (*fuzz_entry)(const uint8_t *data, size_t size);

/* This process's address space and resident memory in KiB (0 if unknown); a forked child starts
 * from them (under AddressSanitizer the address space holds terabytes of reserved shadow). */
static void memory_kb(long *size_kb, long *resident_kb) {
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2) pages = resident = 0;
        fclose(f);
    }
    long kb_per_page = sysconf(_SC_PAGESIZE) / 1024;
    *size_kb = pages * kb_per_page;
    *resident_kb = resident * kb_per_page;
}

/* Runs entry on one file in a child; returns 0 if it returned 0, else prints why and returns 1. */
static int replay_file(const char *path, fuzz_entry entry) {
    unsigned char *data;
    size_t len;
    if (ol_read_file(path, (size_t)1 << 26, &data, &len)) {
        fprintf(stderr, "    %s: %s\n", path, ol_error());
        return 1;
    }
    long size_kb, base_kb;
    memory_kb(&size_kb, &base_kb);
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        free(data);
        perror("fork");
        return 1;
    }
    if (pid == 0) {
        rlim_t as = (rlim_t)size_kb * 1024 + FUZZ_REPLAY_MEMORY;
        struct rlimit lim = {as, as};
        if (size_kb > 0) setrlimit(RLIMIT_AS, &lim);
        alarm(FUZZ_REPLAY_SECONDS);
        int bad = entry(data, len);
        fflush(stdout);
        fflush(stderr);
        _exit(bad ? 3 : 0);
    }
    free(data);
    int status;
    struct rusage usage;
    if (wait4(pid, &status, 0, &usage) != pid) {
        perror("wait4");
        return 1;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        if (usage.ru_maxrss - base_kb <= FUZZ_REPLAY_RSS_GROWTH_KB) return 0;
        fprintf(stderr, "    %s: a %zu-byte input made the process grow by %ld MiB\n", path, len,
                (usage.ru_maxrss - base_kb) >> 10);
        return 1;
    }
    if (WIFEXITED(status))
        fprintf(stderr, "    %s: %s\n", path,
                WEXITSTATUS(status) == 3 ? "an invariant broke (see above)" : "exited with an error");
    else if (WIFSIGNALED(status))
        fprintf(stderr, "    %s: killed by signal %d%s\n", path, WTERMSIG(status),
                WTERMSIG(status) == SIGALRM ? " (hang: over the time limit)" : "");
    return 1;
}

static int cmp_names(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Replays every regular file of dir (missing dir: nothing); counts files and failures. */
static void replay_dir(const char *dir, fuzz_entry entry, int *files, int *failures) {
    DIR *d = opendir(dir);
    if (!d) return;
    char *names[4096];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 4096)
        if (e->d_name[0] != '.') names[n++] = strdup(e->d_name);
    closedir(d);
    qsort(names, (size_t)n, sizeof names[0], cmp_names);
    for (int i = 0; i < n; i++) {
        char path[1024];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
            ++*files;
            *failures += replay_file(path, entry);
        }
        free(names[i]);
    }
}

/* Replays fuzz/regressions/<name>/ and fuzz/corpus/<name>/; returns failures, sets *files. */
static int replay_target(const char *name, fuzz_entry entry, int *files) {
    char dir[256];
    int failures = 0;
    *files = 0;
    snprintf(dir, sizeof dir, "fuzz/regressions/%s", name);
    replay_dir(dir, entry, files, &failures);
    snprintf(dir, sizeof dir, "fuzz/corpus/%s", name);
    replay_dir(dir, entry, files, &failures);
    return failures;
}

/* One test per target: every regression input and every seed passes through without a crash,
 * a hang, a broken invariant or an error without a message. */
#define FUZZ_TARGET(name)                                                                        \
    TEST(fuzz_regressions_##name) {                                                              \
        int files, failures = replay_target(#name, fuzz_##name##_one, &files);                   \
        CHECK_MSG(files > 0 || !strcmp(#name, "checkpoint"),                                     \
                  "no inputs in fuzz/corpus/" #name "/ (run the test from the repository root)"); \
        CHECK_MSG(failures == 0, "%d of %d inputs of the %s target fail", failures, files, #name); \
    }

FUZZ_TARGET(checkpoint_fields)
FUZZ_TARGET(cli)
FUZZ_TARGET(idx)
FUZZ_TARGET(model)
FUZZ_TARGET(spec)
FUZZ_TARGET(state)
#ifdef FUZZ_HAVE_CHECKPOINT
FUZZ_TARGET(checkpoint)
#endif
