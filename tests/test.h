/* test.h: a tiny test runner. Each TEST(name) registers itself at load time; tests/runner.c runs
 * them all (or those whose names contain an argument) and ends with "N passed, N failed, N skipped".
 * Not a framework: one macro to register, a few to check, each failure printed with file and line. */
#ifndef OPTLAB_TEST_H
#define OPTLAB_TEST_H

#include <math.h>
#include <stdio.h>

typedef void (*ol_test_fn)(void);
void ol_test_register(const char *name, ol_test_fn fn);
void ol_test_fail(const char *file, int line, const char *fmt, ...);

#define TEST(name)                                                           \
    static void test_##name(void);                                           \
    __attribute__((constructor)) static void register_##name(void) {         \
        ol_test_register(#name, test_##name);                                \
    }                                                                        \
    static void test_##name(void)

/* Each CHECK records a failure and returns from the test. */
#define CHECK(cond)                                                          \
    do { if (!(cond)) { ol_test_fail(__FILE__, __LINE__, "%s", #cond); return; } } while (0)
#define CHECK_MSG(cond, ...)                                                 \
    do { if (!(cond)) { ol_test_fail(__FILE__, __LINE__, __VA_ARGS__); return; } } while (0)
/* |a - b| <= tol * max(1, |b|): relative for large values, absolute near zero. */
#define CHECK_NEAR(a, b, tol)                                                \
    do { double a_ = (a), b_ = (b), t_ = (tol) * fmax(1.0, fabs(b_));        \
         if (!(fabs(a_ - b_) <= t_)) {                                       \
             ol_test_fail(__FILE__, __LINE__, "%s = %.10g, expected %s = %.10g (tol %g)", \
                          #a, a_, #b, b_, (double)(tol));                    \
             return; } } while (0)
#define CHECK_EQ_INT(a, b)                                                   \
    do { long long a_ = (long long)(a), b_ = (long long)(b);                 \
         if (a_ != b_) { ol_test_fail(__FILE__, __LINE__, "%s = %lld, expected %lld", #a, a_, b_); \
             return; } } while (0)

/* Marks the test skipped (it cannot run here: no MPI, no node, ...) with the reason, and returns
 * from it. The runner prints "skip NAME: reason" and counts it in "N skipped", never as passed. */
void ol_test_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#define SKIP(...) do { ol_test_skip(__VA_ARGS__); return; } while (0)

/* Helpers for tests (tests/runner.c). */
/* Runs a shell command, captures stdout+stderr (up to cap bytes) into out, returns its exit status
 * (or 128+signal). */
int ol_test_run(const char *cmd, char *out, size_t cap);
/* ol_test_run of a printf-formatted command. */
int ol_test_sh(char *out, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* <ol_test_tmpdir()>/name holding a fixture_make_dataset (raw IDX files), made at the first call
 * for that name (up to 16 names); the same path after. */
const char *ol_test_dataset(const char *name, unsigned n_train, unsigned n_test, unsigned side, int classes,
                            unsigned long long seed);
/* 1 when files a and b both exist and hold the same bytes. */
int ol_test_same_file(const char *a, const char *b);
/* The file's bytes, malloc'ed and NUL-terminated (a text), its length in *len (may be NULL); NULL
 * when it cannot be read. */
char *ol_test_slurp(const char *path, size_t *len);
/* <ol_test_tmpdir()>/name, in one of 8 rotating buffers (so a call may use up to 8 at once). */
const char *ol_test_path(const char *name);
/* Path of the optlab binary under test (env OPTLAB_BIN, default build/optlab). */
const char *ol_test_bin(void);
/* A fresh temporary directory for this test (removed at exit). */
const char *ol_test_tmpdir(void);

#endif
