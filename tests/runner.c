/* runner.c: runs the registered tests; argument filters by substring of the test name. */
#include "fixtures.h"
#include "test.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_TESTS 4096

static struct { const char *name; ol_test_fn fn; } tests[MAX_TESTS];
static int n_tests;
static int current_failed, current_skipped;
static char skip_reason[512];
static char tmp_root[256];

void ol_test_register(const char *name, ol_test_fn fn) {
    if (n_tests < MAX_TESTS) { tests[n_tests].name = name; tests[n_tests].fn = fn; n_tests++; }
}

void ol_test_fail(const char *file, int line, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "    %s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    current_failed = 1;
}

void ol_test_skip(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(skip_reason, sizeof skip_reason, fmt, ap);
    va_end(ap);
    current_skipped = 1;
}

int ol_test_run(const char *cmd, char *out, size_t cap) {
    char full[8192];
    snprintf(full, sizeof full, "(%s) 2>&1", cmd);
    FILE *p = popen(full, "r");
    if (!p) return -1;
    size_t len = 0;
    int c;
    while ((c = fgetc(p)) != EOF)
        if (out && len + 1 < cap) out[len++] = (char)c;
    if (out && cap) out[len] = 0;
    int status = pclose(p);
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return -1;
}

int ol_test_sh(char *out, size_t cap, const char *fmt, ...) {
    char cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    return ol_test_run(cmd, out, cap);
}

const char *ol_test_dataset(const char *name, unsigned n_train, unsigned n_test, unsigned side, int classes,
                            unsigned long long seed) {
    static char dirs[16][512];
    for (int i = 0; i < 16; i++) {
        char want[512];
        snprintf(want, sizeof want, "%s/%s", ol_test_tmpdir(), name);
        if (!strcmp(dirs[i], want)) return dirs[i];
        if (!dirs[i][0]) {
            snprintf(dirs[i], sizeof dirs[i], "%s", want);
            if (fixture_make_dataset(dirs[i], n_train, n_test, side, classes, seed, 0))
                fprintf(stderr, "cannot make %s\n", dirs[i]);
            return dirs[i];
        }
    }
    fprintf(stderr, "ol_test_dataset: more than 16 data sets\n");
    return "/nonexistent";
}

int ol_test_same_file(const char *a, const char *b) {
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    int same = fa && fb;
    while (same) {
        char x[4096], y[4096];
        size_t na = fread(x, 1, sizeof x, fa), nb = fread(y, 1, sizeof y, fb);
        if (na != nb || memcmp(x, y, na)) same = 0;
        else if (na == 0) break;
    }
    if (fa) fclose(fa);
    if (fb) fclose(fb);
    return same;
}

char *ol_test_slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t n = 0, cap = 1 << 16;
    char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - 1 - n, f);
        if (n < cap - 1) break;
        char *bigger = realloc(buf, cap *= 2);
        if (!bigger) free(buf);
        buf = bigger;
    }
    int bad = ferror(f);
    fclose(f);
    if (!buf || bad) {
        free(buf);
        return NULL;
    }
    buf[n] = 0;
    if (len) *len = n;
    return buf;
}

const char *ol_test_path(const char *name) {
    static char paths[8][512];
    static int next;
    char *p = paths[next++ % 8];
    snprintf(p, sizeof paths[0], "%s/%s", ol_test_tmpdir(), name);
    return p;
}

const char *ol_test_bin(void) {
    const char *b = getenv("OPTLAB_BIN");
    return b && *b ? b : "build/optlab";
}

const char *ol_test_tmpdir(void) {
    if (!tmp_root[0]) {
        snprintf(tmp_root, sizeof tmp_root, "/tmp/optlab-test-XXXXXX");
        if (!mkdtemp(tmp_root)) { perror("mkdtemp"); exit(1); }
    }
    return tmp_root;
}

static int cmp_tests(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int main(int argc, char **argv) {
    int passed = 0, failed = 0, skipped = 0;
    qsort(tests, (size_t)n_tests, sizeof tests[0], cmp_tests);
    for (int i = 0; i < n_tests; i++) {
        int selected = argc < 2;
        for (int a = 1; a < argc; a++)
            if (strstr(tests[i].name, argv[a])) selected = 1;
        if (!selected) continue;
        current_failed = current_skipped = 0;
        fflush(stdout);
        tests[i].fn();
        if (current_failed) { failed++; printf("FAIL %s\n", tests[i].name); }
        else if (current_skipped) { skipped++; printf("skip %s: %s\n", tests[i].name, skip_reason); }
        else { passed++; printf("ok   %s\n", tests[i].name); }
        fflush(stdout);
    }
    if (tmp_root[0]) {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp_root);
        if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmp_root);
    }
    printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
    return failed ? 1 : 0;
}
