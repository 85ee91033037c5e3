/* test_hardening_files.c: issue 16, the files optlab leaves and the directories it writes into.
 * Temporaries (NAME.tmp-PID-XXXXXX) removed when a command ends on SIGINT, SIGTERM or SIGHUP, and a
 * stale one of a dead process removed by the next run (one of a live process never); names and
 * paths up to the system's limits (a 250-byte file name, --data paths of 1,100 and 4,000 bytes);
 * `lab` and `sweep` refusing an --out directory of files optlab did not write unless --force, and
 * still re-running (and resuming) in their own; nohup's ignored SIGHUP stays ignored. The commands
 * run as child processes, started with fork and exec (no shell: paths of 4,000 bytes, and signals
 * sent to optlab itself). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fixtures.h"
#include "test.h"

static char out[1 << 16];

/* A small 8x8, 4-class data set (made once). */
static const char *data_dir(void) {
    static char dir[512];
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "%s/hf-data", ol_test_tmpdir());
        if (fixture_make_dataset(dir, 200, 50, 8, 4, 16, 1)) fprintf(stderr, "cannot make %s\n", dir);
    }
    return dir;
}

static int ignore_sighup; /* start: SIGHUP ignored, as under nohup */

/* Starts `optlab ARGS...` (NULL-terminated) with its output into fd (or /dev/null when fd < 0), the
 * signals it may be sent at their default action (whatever the runner's were); its pid. */
static pid_t start(int fd, const char *const *args) {
    const char *argv[64];
    int n = 0;
    argv[n++] = ol_test_bin();
    while (*args && n < 63) argv[n++] = *args++;
    argv[n] = NULL;
    pid_t pid = fork();
    if (pid == 0) {
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGHUP, ignore_sighup ? SIG_IGN : SIG_DFL);
        int to = fd >= 0 ? fd : open("/dev/null", O_WRONLY);
        dup2(to, 1);
        dup2(to, 2);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    return pid;
}

/* Waits for pid up to 60 s (then kills it); its exit status, or 128 + the signal that ended it. */
static int finish(pid_t pid) {
    int status = 0;
    for (int waited = 0; waitpid(pid, &status, WNOHANG) == 0; waited++) {
        if (waited == 60000) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            return -1;
        }
        usleep(1000);
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : -1;
}

/* Runs `optlab ARGS...` to its end; its exit status, its output (stdout and stderr) in out. */
static int run_args(const char *const *args) {
    char path[600];
    snprintf(path, sizeof path, "%s/hf-output.txt", ol_test_tmpdir());
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int rc = finish(start(fd, args));
    close(fd);
    FILE *f = fopen(path, "r");
    size_t len = f ? fread(out, 1, sizeof out - 1, f) : 0;
    out[len] = 0;
    if (f) fclose(f);
    return rc;
}
#define RUN(...) run_args((const char *const[]){__VA_ARGS__, NULL})

/* Entries of dir whose name holds ".tmp-" (the first in first when given). */
static int temps_in(const char *dir, char *first, size_t cap) {
    DIR *d = opendir(dir);
    int n = 0;
    if (first) first[0] = 0;
    if (!d) return -1;
    for (struct dirent *e; (e = readdir(d));)
        if (strstr(e->d_name, ".tmp-") && n++ == 0 && first) snprintf(first, cap, "%s", e->d_name);
    closedir(d);
    return n;
}

/* Waits up to 20 s until dir holds a temporary whose name starts with prefix; 1 if it does. */
static int wait_for_temp(const char *dir, const char *prefix) {
    for (int i = 0; i < 20000; i++) {
        char first[512];
        if (temps_in(dir, first, sizeof first) > 0 && !strncmp(first, prefix, strlen(prefix))) return 1;
        usleep(1000);
    }
    return 0;
}

static int exists(const char *path) {
    struct stat st;
    return lstat(path, &st) == 0;
}

/* A fresh directory <tmp>/name. */
static const char *fresh_dir(const char *name) {
    const char *dir = ol_test_path(name);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", dir, dir);
    ol_test_run(cmd, NULL, 0);
    return dir;
}

/* A pid no process has: a child that has ended and been reaped. */
static pid_t dead_pid(void) {
    pid_t pid = fork();
    if (pid == 0) _exit(0);
    waitpid(pid, NULL, 0);
    return pid;
}

/* Creates dir/name holding text. */
static int plant(const char *dir, const char *name, const char *text) {
    char path[4400];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    fputs(text, f);
    return fclose(f);
}

static int planted(const char *dir, const char *name) {
    char path[4400];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return exists(path);
}

/* ---- temporaries ---- */

/* issue 16: Ctrl-C on `optimize --trace` left tr.csv.tmp-* behind (38 MB after 1 s) */
TEST(hardening_files_sigint_on_optimize_trace_leaves_no_temporary) {
    const char *dir = fresh_dir("hf-sigint");
    char trace[600];
    snprintf(trace, sizeof trace, "%s/tr.csv", dir);
    pid_t pid = start(-1, (const char *const[]){"optimize", "--fn", "rosenbrock", "--x0", "-1.5,2", "--opt", "gd", "--lr",
                                                "1e-5", "--steps", "100000000", "--trace", trace, "--quiet", NULL});
    int seen = wait_for_temp(dir, "tr.csv.tmp-");
    kill(pid, SIGINT);
    int rc = finish(pid);
    CHECK_MSG(seen, "the trace's temporary never appeared in %s", dir);
    CHECK_MSG(rc == 128 + SIGINT, "exit %d, expected death by SIGINT (%d)", rc, 128 + SIGINT);
    char first[512];
    CHECK_MSG(temps_in(dir, first, sizeof first) == 0, "left behind: %s", first);
    CHECK_MSG(!exists(trace), "a partial trace %s was written", trace);
}

/* under nohup (SIGHUP ignored) a hangup still does nothing: the clean-up handler is not installed */
TEST(hardening_files_nohup_keeps_sighup_ignored) {
    const char *dir = fresh_dir("hf-nohup");
    char trace[600];
    snprintf(trace, sizeof trace, "%s/tr.csv", dir);
    ignore_sighup = 1;
    pid_t pid = start(-1, (const char *const[]){"optimize", "--fn", "rosenbrock", "--x0", "-1.5,2", "--opt", "gd", "--lr",
                                                "1e-5", "--steps", "100000000", "--trace", trace, "--quiet", NULL});
    ignore_sighup = 0;
    int seen = wait_for_temp(dir, "tr.csv.tmp-");
    kill(pid, SIGHUP);
    usleep(200000);
    int alive = waitpid(pid, NULL, WNOHANG) == 0;
    kill(pid, SIGINT);
    int rc = finish(pid);
    CHECK_MSG(seen, "the trace's temporary never appeared in %s", dir);
    CHECK_MSG(alive, "SIGHUP ended a run started with SIGHUP ignored (nohup)");
    CHECK_MSG(rc == 128 + SIGINT, "exit %d", rc);
    CHECK(temps_in(dir, NULL, 0) == 0);
}

/* issue 16: killing `lab` left summary.csv.tmp-*; SIGTERM and SIGHUP end it without one */
TEST(hardening_files_sigterm_and_sighup_on_lab_leave_no_temporary) {
    int signals[2] = {SIGTERM, SIGHUP};
    for (int i = 0; i < 2; i++) {
        const char *dir = fresh_dir(i ? "hf-lab-hup" : "hf-lab-term");
        pid_t pid = start(-1, (const char *const[]){"lab", "random-search", "--quick", "--data", data_dir(), "--out", dir, NULL});
        int seen = wait_for_temp(dir, "summary.csv.tmp-");
        kill(pid, signals[i]);
        int rc = finish(pid);
        CHECK_MSG(seen, "the summary's temporary never appeared in %s", dir);
        CHECK_MSG(rc == 128 + signals[i], "exit %d, expected death by signal %d", rc, signals[i]);
        char first[512];
        CHECK_MSG(temps_in(dir, first, sizeof first) == 0, "signal %d left behind: %s", signals[i], first);
    }
}

/* train keeps its own SIGINT handling: it checkpoints and stops (exit 130), and leaves no temporary */
TEST(hardening_files_sigint_on_train_still_checkpoints) {
    const char *dir = fresh_dir("hf-train-int");
    char ck[600], log[600];
    snprintf(ck, sizeof ck, "%s/ck", dir);
    snprintf(log, sizeof log, "%s/output.txt", dir);
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    pid_t pid = start(fd, (const char *const[]){"train", "--data", data_dir(), "--model", "mlp:64-8-4", "--batch", "1",
                                                "--epochs", "100000", "--threads", "1", "--checkpoint", ck, "--quiet", NULL});
    close(fd);
    for (int i = 0; i < 20000 && !exists(ck); i++) usleep(1000); /* the first epoch's checkpoint */
    kill(pid, SIGINT);
    int rc = finish(pid);
    CHECK_MSG(rc == 128 + SIGINT, "exit %d", rc);
    FILE *f = fopen(log, "r");
    size_t len = f ? fread(out, 1, sizeof out - 1, f) : 0;
    out[len] = 0;
    if (f) fclose(f);
    CHECK_MSG(strstr(out, "checkpoint written to"), "%s", out);
    char first[512];
    CHECK_MSG(temps_in(dir, first, sizeof first) == 0, "left behind: %s", first);
}

/* issue 16: SIGKILL (which no handler sees) left full-size temporaries; the next run of the same
 * output removes those of dead processes, and keeps those of live ones and of other outputs */
TEST(hardening_files_stale_temporaries_of_dead_processes_are_removed) {
    const char *dir = fresh_dir("hf-stale");
    char dead[64], live[64], asleep[64], other[64], legacy[] = "tr.csv.tmp-AbC123";
    pid_t sleeper = fork();
    if (sleeper == 0) {
        execlp("sleep", "sleep", "30", (char *)NULL);
        _exit(127);
    }
    snprintf(dead, sizeof dead, "tr.csv.tmp-%ld-AbC123", (long)dead_pid());
    snprintf(live, sizeof live, "tr.csv.tmp-%ld-AbC123", (long)getpid());
    snprintf(asleep, sizeof asleep, "tr.csv.tmp-%ld-xYz789", (long)sleeper);
    snprintf(other, sizeof other, "other.csv.tmp-%ld-AbC123", (long)dead_pid());
    const char *names[5] = {dead, live, asleep, other, legacy};
    for (int i = 0; i < 5; i++) CHECK(plant(dir, names[i], "partial,trace\n") == 0);
    char trace[600];
    snprintf(trace, sizeof trace, "%s/tr.csv", dir);
    int rc = RUN("optimize", "--fn", "rosenbrock", "--x0", "-1,1", "--opt", "adam", "--lr", "0.01", "--steps", "10", "--trace",
                 trace, "--quiet");
    kill(sleeper, SIGKILL);
    waitpid(sleeper, NULL, 0);
    CHECK_MSG(rc == 0, "exit %d: %s", rc, out);
    CHECK_MSG(!planted(dir, dead), "%s (a dead process's) is still there", dead);
    CHECK_MSG(planted(dir, live), "%s (the test's own, live) was removed", live);
    CHECK_MSG(planted(dir, asleep), "%s (a live sleep's) was removed", asleep);
    CHECK_MSG(planted(dir, other), "%s (another output's) was removed", other);
    CHECK_MSG(planted(dir, legacy), "%s (no pid: whose?) was removed", legacy);
    CHECK(exists(trace));

    /* a checkpoint's temporary left by a SIGKILL during training */
    char ck[600], ck_dead[64];
    snprintf(ck, sizeof ck, "%s/ck", dir);
    snprintf(ck_dead, sizeof ck_dead, "ck.tmp-%ld-Qw3rTy", (long)dead_pid());
    CHECK(plant(dir, ck_dead, "a checkpoint cut short") == 0);
    rc = RUN("train", "--data", data_dir(), "--model", "mlp:64-8-4", "--epochs", "1", "--checkpoint", ck, "--quiet");
    CHECK_MSG(rc == 0, "exit %d: %s", rc, out);
    CHECK_MSG(!planted(dir, ck_dead), "%s is still there", ck_dead);

    /* a lab report's, after a killed lab: gone once the lab runs again */
    const char *rep = fresh_dir("hf-stale-lab");
    rc = RUN("lab", "conditioning", "--quick", "--out", rep);
    CHECK_MSG(rc == 0, "exit %d: %s", rc, out);
    char sum_dead[64], html_dead[64];
    snprintf(sum_dead, sizeof sum_dead, "summary.csv.tmp-%ld-0a1B2c", (long)dead_pid());
    snprintf(html_dead, sizeof html_dead, "index.html.tmp-%ld-0a1B2c", (long)dead_pid());
    CHECK(plant(rep, sum_dead, "lab,key,value\n") == 0 && plant(rep, html_dead, "<!DOCTYPE html>") == 0);
    rc = RUN("lab", "conditioning", "--quick", "--out", rep);
    CHECK_MSG(rc == 0, "exit %d: %s", rc, out);
    char first[512];
    CHECK_MSG(temps_in(rep, first, sizeof first) == 0, "left behind: %s", first);
}

/* ---- names and paths up to the system's limits ---- */

/* issue 16: a legal 250-byte file name failed ("File name too long": the temporary added 15 bytes) */
TEST(hardening_files_a_250_byte_file_name_is_written) {
    const char *dir = fresh_dir("hf-name");
    char name[256], path[900];
    memset(name, 'm', 250);
    name[250] = 0;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int rc = RUN("train", "--data", data_dir(), "--model", "mlp:64-8-4", "--epochs", "1", "--save", path, "--quiet");
    CHECK_MSG(rc == 0, "exit %d: %s", rc, out);
    CHECK_MSG(exists(path), "no model %s", path);
    rc = RUN("eval", "--model", path, "--data", data_dir());
    CHECK_MSG(rc == 0, "exit %d: %s", rc, out);
    /* the longest name there is: 255 bytes */
    memset(name, 't', 255);
    name[255] = 0;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    rc = RUN("optimize", "--fn", "rosenbrock", "--x0", "-1,1", "--opt", "adam", "--lr", "0.01", "--steps", "10", "--trace",
             path, "--quiet");
    CHECK_MSG(rc == 0 && exists(path), "exit %d: %s", rc, out);
    /* one more byte is the file system's refusal, said as such, before any work */
    char longer[300];
    memset(longer, 'u', 256);
    longer[256] = 0;
    snprintf(path, sizeof path, "%s/%s", dir, longer);
    rc = RUN("train", "--data", data_dir(), "--model", "mlp:64-8-4", "--epochs", "1", "--save", path, "--quiet");
    CHECK_MSG(rc == 1 && strstr(out, "its name is 256 bytes, more than the 255 this file system allows"), "exit %d: %s", rc, out);
}

/* The temporary of a name too long for NAME.tmp-PID-XXXXXX is NAME cut short to 255 bytes in all; a
 * stale one of those is still found, and one cut from another name is not taken for it. */
TEST(hardening_files_stale_temporary_of_a_long_name_is_found) {
    const char *dir = fresh_dir("hf-longtemp");
    char name[256], mine[256], theirs[256], tag[64], path[900];
    memset(name, 'k', 250);
    name[250] = 0;
    int n = snprintf(tag, sizeof tag, ".tmp-%ld-ZZZZZZ", (long)dead_pid());
    snprintf(mine, sizeof mine, "%.*s%s", 255 - n, name, tag);
    snprintf(theirs, sizeof theirs, "%.*sj%s", 254 - n, name, tag); /* another name's: ends in j */
    CHECK(strlen(mine) == 255 && strlen(theirs) == 255);
    CHECK(plant(dir, mine, "x") == 0 && plant(dir, theirs, "x") == 0);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int rc = RUN("optimize", "--fn", "rosenbrock", "--x0", "-1,1", "--opt", "adam", "--lr", "0.01", "--steps", "10", "--trace",
                 path, "--quiet");
    CHECK_MSG(rc == 0 && exists(path), "exit %d: %s", rc, out);
    CHECK_MSG(!planted(dir, mine), "the stale temporary of the 250-byte name is still there");
    CHECK_MSG(planted(dir, theirs), "the stale temporary of another name was removed");
}

/* dir/<parts directories of width bytes each>, created; its length in bytes */
static size_t make_deep(char *path, size_t cap, const char *dir, int parts, int width) {
    size_t len = (size_t)snprintf(path, cap, "%s", dir);
    for (int i = 0; i < parts && len + (size_t)width + 2 < cap; i++) {
        path[len++] = '/';
        memset(path + len, 'a' + i % 26, (size_t)width);
        len += (size_t)width;
        path[len] = 0;
        mkdir(path, 0755);
    }
    return len;
}

/* issue 16: a 1,021-byte data directory was refused by a 1,024-byte buffer; train, its outputs, eval
 * and a resume now take paths up to the system's limit (4,095 bytes) */
TEST(hardening_files_long_data_directory_paths_work) {
    const int widths[2][2] = {{11, 100}, {20, 200}}; /* about 1,100 and 4,000 bytes */
    for (int k = 0; k < 2; k++) {
        char deep[4096], data[4200], model[4300], ck[4300], log[4300];
        const char *root = fresh_dir(k ? "hf-deep4000" : "hf-deep1100");
        size_t len = make_deep(deep, sizeof deep, root, widths[k][0], widths[k][1]);
        snprintf(data, sizeof data, "%s/d", deep);
        char cmd[1200];
        snprintf(cmd, sizeof cmd, "cp -r '%s' '%s/x'", data_dir(), root);
        CHECK(ol_test_run(cmd, NULL, 0) == 0);
        snprintf(cmd, sizeof cmd, "%s/x", root);
        CHECK_MSG(rename(cmd, data) == 0, "rename: %s", strerror(errno));
        snprintf(model, sizeof model, "%s/m.bin", data);
        snprintf(ck, sizeof ck, "%s/ck", data);
        snprintf(log, sizeof log, "%s/log.csv", data);
        CHECK(len > (k ? 4000u : 1100u));
        int rc = RUN("train", "--data", data, "--model", "mlp:64-8-4", "--epochs", "1", "--save", model, "--checkpoint", ck,
                     "--log", log, "--quiet");
        CHECK_MSG(rc == 0, "%zu-byte path: exit %d: %.300s", strlen(data), rc, out);
        CHECK(exists(model) && exists(ck) && exists(log));
        rc = RUN("eval", "--model", model, "--data", data);
        CHECK_MSG(rc == 0 && strstr(out, "test accuracy"), "exit %d: %.300s", rc, out);
        rc = RUN("train", "--resume", ck, "--epochs", "2", "--checkpoint", ck, "--quiet");
        CHECK_MSG(rc == 0 && strstr(out, "(2 epochs"), "exit %d: %.300s", rc, out);
        char first[512];
        CHECK_MSG(temps_in(data, first, sizeof first) == 0, "left behind: %s", first);
    }
    /* past the limit: said so, before any work */
    char deep[4096];
    size_t len = make_deep(deep, sizeof deep, fresh_dir("hf-deep-over"), 20, 200);
    memset(deep + len, 0, sizeof deep - len);
    snprintf(deep + len, sizeof deep - len, "/%.*s", (int)(4080 - len), "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
    int rc = RUN("train", "--data", deep, "--model", "mlp:64-8-4", "--epochs", "1", "--quiet");
    CHECK_MSG(rc == 2 && strstr(out, "would pass the system's limit of 4095 bytes on a path"), "exit %d: %.300s", rc, out);
}

/* ---- --out of lab and sweep ---- */

static int file_is(const char *dir, const char *name, const char *text) {
    char path[900], buf[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    size_t len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    return len == strlen(text) && !memcmp(buf, text, len);
}

static int entries(const char *dir) {
    DIR *d = opendir(dir);
    int n = 0;
    if (!d) return -1;
    for (struct dirent *e; (e = readdir(d));) n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    closedir(d);
    return n;
}

/* issue 16: `lab --out DIR` overwrote a user's own index.html */
TEST(hardening_files_lab_refuses_an_out_dir_of_user_files) {
    const char *dir = fresh_dir("hf-lab-user");
    const char *mine = "<html><body>my own page</body></html>\n";
    CHECK(plant(dir, "index.html", mine) == 0 && plant(dir, "notes.txt", "mine too\n") == 0);
    int rc = RUN("lab", "conditioning", "--quick", "--out", dir);
    CHECK_MSG(rc == 2 && strstr(out, "holds files optlab did not write (index.html, notes.txt)") && strstr(out, "--force"),
              "exit %d: %s", rc, out);
    CHECK_MSG(file_is(dir, "index.html", mine), "the user's index.html changed");
    CHECK_MSG(entries(dir) == 2, "%d entries: something was written", entries(dir));
    /* told to: written, and marked as optlab's */
    rc = RUN("lab", "conditioning", "--quick", "--out", dir, "--force");
    CHECK_MSG(rc == 0, "exit %d: %s", rc, out);
    CHECK(!file_is(dir, "index.html", mine) && file_is(dir, ".optlab", "optlab lab\n"));
    /* its own directory: run again without --force */
    rc = RUN("lab", "conditioning", "--quick", "--out", dir);
    CHECK_MSG(rc == 0, "exit %d: %s", rc, out);
    /* an empty one, a missing one (with its parents) */
    const char *empty = fresh_dir("hf-lab-empty");
    rc = RUN("lab", "conditioning", "--quick", "--out", empty);
    CHECK_MSG(rc == 0 && file_is(empty, ".optlab", "optlab lab\n"), "exit %d: %s", rc, out);
    char missing[600];
    snprintf(missing, sizeof missing, "%s/new/report", fresh_dir("hf-lab-missing"));
    rc = RUN("lab", "conditioning", "--quick", "--out", missing);
    CHECK_MSG(rc == 0 && file_is(missing, ".optlab", "optlab lab\n"), "exit %d: %s", rc, out);
    /* a report of an optlab older than the marker: recognised by its summary.csv */
    char marker[700];
    snprintf(marker, sizeof marker, "%s/.optlab", empty);
    CHECK(unlink(marker) == 0);
    rc = RUN("lab", "conditioning", "--quick", "--out", empty);
    CHECK_MSG(rc == 0, "an older report is refused: exit %d: %s", rc, out);
}

#define SWEEP_ARGS "--data", data_dir(), "--model", "mlp:64-8-4", "--epochs", "1", "--quiet"

/* issue 16: `sweep --out DIR` overwrote a user's own results.csv; its own directory still resumes */
TEST(hardening_files_sweep_refuses_an_out_dir_of_user_files) {
    const char *dir = fresh_dir("hf-sweep-user");
    const char *mine = "name,score\nalice,3\n";
    CHECK(plant(dir, "results.csv", mine) == 0);
    int rc = RUN("sweep", "--grid", "lr=0.1/0.05", "--out", dir, SWEEP_ARGS);
    CHECK_MSG(rc == 2 && strstr(out, "holds files optlab did not write (results.csv)"), "exit %d: %s", rc, out);
    CHECK_MSG(file_is(dir, "results.csv", mine) && entries(dir) == 1, "the directory changed");
    rc = RUN("sweep", "--grid", "lr=0.1/0.05", "--out", dir, "--force", SWEEP_ARGS);
    CHECK_MSG(rc == 0 && strstr(out, "sweep done: 2 trials (2 ok"), "exit %d: %s", rc, out);
    CHECK(file_is(dir, ".optlab", "optlab sweep\n") && !file_is(dir, "results.csv", mine));
    /* run again in its own directory: it resumes, every trial finished before */
    rc = RUN("sweep", "--grid", "lr=0.1/0.05", "--out", dir, SWEEP_ARGS);
    CHECK_MSG(rc == 0 && strstr(out, "2 finished before"), "exit %d: %s", rc, out);
    /* a sweep of an optlab older than the marker (its sweep.txt): resumes too */
    char marker[700];
    snprintf(marker, sizeof marker, "%s/.optlab", dir);
    CHECK(unlink(marker) == 0);
    rc = RUN("sweep", "--grid", "lr=0.1/0.05", "--out", dir, SWEEP_ARGS);
    CHECK_MSG(rc == 0 && strstr(out, "2 finished before"), "an older sweep is refused: exit %d: %s", rc, out);
    /* a lab report is not a sweep's, nor the other way round */
    rc = RUN("lab", "conditioning", "--quick", "--out", dir);
    CHECK_MSG(rc == 2 && strstr(out, "holds the output of optlab sweep, not of optlab lab"), "exit %d: %s", rc, out);
    const char *rep = fresh_dir("hf-sweep-into-lab");
    rc = RUN("lab", "conditioning", "--quick", "--out", rep);
    CHECK_MSG(rc == 0, "exit %d: %s", rc, out);
    rc = RUN("sweep", "--grid", "lr=0.1", "--out", rep, SWEEP_ARGS);
    CHECK_MSG(rc == 2 && strstr(out, "holds the output of optlab lab, not of optlab sweep"), "exit %d: %s", rc, out);
    CHECK_MSG(!planted(rep, "sweep.txt") && !planted(rep, "trials"), "the refused sweep wrote into %s", rep);
}
