/* sweep.c: hyperparameter sweeps; see include/optlab/sweep.h.
 * Each trial is an `optlab train` child process (fork/exec) writing its own directory; this file
 * only schedules them, reads their logs, decides what to prune, and assembles the results.
 * Everything a restart needs lives in files written atomically (trials/<id>.txt, the trial's
 * checkpoint and log), so a sweep killed at any moment continues where it stopped. */
#include "optlab/sweep.h"
#include "sweep_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "optlab/common.h"
#include "optlab/dist.h"
#include "optlab/outdir.h"
#include "optlab/csv.h"
#include "optlab/rng.h"
#include "optlab/train_settings.h"

extern char **environ;

const char *const ol_sweep_status_names[] = {"", "ok", "diverged", "failed", "pruned"};

/* ---- the run ---- */

ol_sweep_config ol_sweep_default_config(void) {
    ol_sweep_config c;
    memset(&c, 0, sizeof c);
    c.draw_seed = 1;
    c.seeds = 1;
    c.epochs = 5;
    c.jobs = 1;
    c.eta = 3;
    c.min_completed = 3;
    c.data = "fashion-mnist";
    c.model = "mlp:784-256-10";
    c.val_split = 0.1;
    c.trainer = "optlab";
    c.size = 1;
    return c;
}


static void log_free(trial_log *L) {
    free(L->val_loss);
    memset(L, 0, sizeof *L);
}

static void path_of(char *buf, size_t cap, const sweep_t *S, const trial_t *t, const char *leaf) {
    if (leaf) snprintf(buf, cap, "%s/trials/%s/%s", S->c->out_dir, t->id, leaf);
    else snprintf(buf, cap, "%s/trials/%s.txt", S->c->out_dir, t->id);
}

static int read_log(const char *path, trial_log *L) {
    memset(L, 0, sizeof *L);
    if (access(path, F_OK)) return OL_OK; /* no epoch finished yet */
    ol_csv_table t;
    int rc = ol_csv_read(path, &t);
    if (rc) return rc;
    int cols[5] = {ol_csv_column(&t, "val_loss"), ol_csv_column(&t, "val_acc"), ol_csv_column(&t, "test_loss"),
                   ol_csv_column(&t, "test_acc"), ol_csv_column(&t, "seconds")};
    for (int i = 0; i < 5; i++)
        if (cols[i] < 0) {
            ol_csv_table_free(&t);
            return ol_fail(OL_EFORMAT, "%s: not a training log (no column %d)", path, i);
        }
    double *all = ol_malloc_array(5 * (t.n_rows ? t.n_rows : 1), sizeof(double));
    if (!all) {
        ol_csv_table_free(&t);
        return OL_ENOMEM;
    }
    L->n = (long)t.n_rows;
    L->val_loss = all, L->val_acc = all + t.n_rows, L->test_loss = all + 2 * t.n_rows;
    L->test_acc = all + 3 * t.n_rows, L->seconds = all + 4 * t.n_rows;
    double *dst[5] = {L->val_loss, L->val_acc, L->test_loss, L->test_acc, L->seconds};
    for (size_t r = 0; r < t.n_rows; r++)
        for (int i = 0; i < 5; i++) dst[i][r] = t.values[r * (size_t)t.n_cols + (size_t)cols[i]];
    ol_csv_table_free(&t);
    return OL_OK;
}

/* The trial's metrics from its log (its first `epochs` rows). */
static int fill_metrics(trial_t *t, const trial_log *L, long epochs) {
    if (epochs > L->n) epochs = L->n;
    free(t->val_losses);
    t->val_losses = NULL;
    t->epochs = epochs;
    t->final_val_loss = t->final_val_acc = t->best_val_loss = t->best_val_acc = t->test_loss = t->test_acc = NAN;
    t->best_epoch = 0;
    t->seconds = 0;
    if (epochs == 0) return OL_OK;
    if (!(t->val_losses = ol_malloc_array((size_t)epochs, sizeof(double)))) return OL_ENOMEM;
    for (long e = 0; e < epochs; e++) {
        t->val_losses[e] = L->val_loss[e];
        t->seconds += isfinite(L->seconds[e]) ? L->seconds[e] : 0;
        if (isfinite(L->val_loss[e]) && !(L->val_loss[e] >= t->best_val_loss)) {
            t->best_val_loss = L->val_loss[e];
            t->best_epoch = e + 1;
        }
        if (isfinite(L->val_acc[e]) && !(L->val_acc[e] <= t->best_val_acc)) t->best_val_acc = L->val_acc[e];
    }
    t->final_val_loss = L->val_loss[epochs - 1];
    t->final_val_acc = L->val_acc[epochs - 1];
    t->test_loss = L->test_loss[epochs - 1];
    t->test_acc = L->test_acc[epochs - 1];
    return OL_OK;
}

/* ---- trials/<id>.txt: key=value lines ---- */

static int write_result(const sweep_t *S, trial_t *t) {
    size_t cap = 4096 + 24 * (size_t)(t->epochs + 1);
    char *buf = ol_malloc_array(cap, 1);
    if (!buf) return OL_ENOMEM;
    size_t n = 0;
#define PUT(...) (n += (size_t)snprintf(buf + n, n < cap ? cap - n : 0, __VA_ARGS__))
    PUT("id=%s\nsetting=%s\nseed=%d\nstatus=%s\nepochs=%ld\n", t->id, t->setting, t->seed, ol_sweep_status_names[t->status], t->epochs);
    PUT("final_val_loss=%.9g\nfinal_val_acc=%.9g\nbest_val_loss=%.9g\nbest_val_acc=%.9g\nbest_epoch=%ld\n", t->final_val_loss,
        t->final_val_acc, t->best_val_loss, t->best_val_acc, t->best_epoch);
    PUT("test_loss=%.9g\ntest_acc=%.9g\nseconds=%.9g\nval_losses=", t->test_loss, t->test_acc, t->seconds);
    for (long e = 0; e < t->epochs; e++) PUT("%s%.9g", e ? "/" : "", t->val_losses[e]);
    PUT("\nmessage=%s\n", t->message);
#undef PUT
    int rc;
    if (n >= cap) rc = ol_fail(OL_EARG, "trial %s: result too long", t->id);
    else {
        char path[4200];
        path_of(path, sizeof path, S, t, NULL);
        rc = ol_write_file_atomic(path, buf, n);
    }
    free(buf);
    return rc;
}

static double num_or_nan(const char *v) {
    char *end;
    double d = strtod(v, &end);
    return end != v ? d : NAN;
}

/* Reads trials/<id>.txt into t; 0 with t->status ST_NONE when there is none. */
static int read_result(const sweep_t *S, trial_t *t) {
    char path[4200];
    path_of(path, sizeof path, S, t, NULL);
    t->status = ST_NONE;
    if (access(path, F_OK)) return OL_OK;
    unsigned char *data;
    size_t len;
    int rc = ol_read_file(path, (size_t)64 << 20, &data, &len);
    if (rc) return rc;
    char *text = ol_malloc_array(len + 1, 1);
    if (!text) {
        free(data);
        return OL_ENOMEM;
    }
    memcpy(text, data, len);
    text[len] = 0;
    free(data);
    int status = ST_NONE;
    for (char *line = text, *nl; line && *line; line = nl) {
        nl = strchr(line, '\n');
        if (nl) *nl++ = 0;
        char *eq = strchr(line, '=');
        if (!eq) continue;
        *eq = 0;
        const char *k = line, *v = eq + 1;
        if (!strcmp(k, "status")) {
            for (int s = ST_OK; s <= ST_PRUNED; s++)
                if (!strcmp(v, ol_sweep_status_names[s])) status = s;
        } else if (!strcmp(k, "setting") && strcmp(v, t->setting)) {
            free(text);
            return ol_fail(OL_EFORMAT, "%s: trial of another setting (%s, expected %s); use a new --out", path, v, t->setting);
        } else if (!strcmp(k, "epochs")) t->epochs = atol(v);
        else if (!strcmp(k, "final_val_loss")) t->final_val_loss = num_or_nan(v);
        else if (!strcmp(k, "final_val_acc")) t->final_val_acc = num_or_nan(v);
        else if (!strcmp(k, "best_val_loss")) t->best_val_loss = num_or_nan(v);
        else if (!strcmp(k, "best_val_acc")) t->best_val_acc = num_or_nan(v);
        else if (!strcmp(k, "best_epoch")) t->best_epoch = atol(v);
        else if (!strcmp(k, "test_loss")) t->test_loss = num_or_nan(v);
        else if (!strcmp(k, "test_acc")) t->test_acc = num_or_nan(v);
        else if (!strcmp(k, "seconds")) t->seconds = num_or_nan(v);
        else if (!strcmp(k, "message")) snprintf(t->message, sizeof t->message, "%s", v);
        else if (!strcmp(k, "val_losses")) {
            free(t->val_losses);
            t->val_losses = NULL;
            long n = 0;
            for (const char *c = v; *c; c++) n += *c == '/';
            n += *v != 0;
            if (n > 0 && !(t->val_losses = ol_malloc_array((size_t)n, sizeof(double)))) {
                free(text);
                return OL_ENOMEM;
            }
            const char *c = v;
            for (long e = 0; e < n; e++) {
                t->val_losses[e] = num_or_nan(c);
                c = strchr(c, '/');
                c = c ? c + 1 : "";
            }
        }
    }
    free(text);
    if (status == ST_NONE) return ol_fail(OL_EFORMAT, "%s: no status; delete it to run the trial again", path);
    if (!t->val_losses) t->epochs = 0;
    t->status = status;
    return OL_OK;
}

/* ---- child processes ---- */

typedef struct {
    pid_t pid;
    trial_t *t;
    long target;          /* epochs the child trains to */
} slot_t;

/* Starts `optlab train` for t up to target epochs (resuming its checkpoint when there is one). */
static int spawn(sweep_t *S, trial_t *t, long target, pid_t *pid_out) {
    const ol_sweep_config *c = S->c;
    char dir[4200], ckpt[4200], log[4200], out[4200], epochs[32], seed[32], threads[32], subset[32], val[64];
    path_of(dir, sizeof dir, S, t, "");
    int rc = ol_mkdir_p(dir);
    if (rc) return rc;
    path_of(ckpt, sizeof ckpt, S, t, "ckpt");
    path_of(log, sizeof log, S, t, "log.csv");
    path_of(out, sizeof out, S, t, "out.txt");
    snprintf(epochs, sizeof epochs, "%ld", target);
    snprintf(seed, sizeof seed, "%d", t->seed);
    snprintf(threads, sizeof threads, "%d", S->threads);
    snprintf(subset, sizeof subset, "%ld", c->subset);
    snprintf(val, sizeof val, "%.17g", c->val_split);
    const char *argv[80];
    int n = 0;
    argv[n++] = c->trainer;
    argv[n++] = "train";
    argv[n++] = "--data", argv[n++] = c->data;
    int has_model = 0, idx[OL_SWEEP_MAX_PARAMS];
    ol_sweep_grid_setting(&S->grid, t->combo, idx);
    char flags[OL_SWEEP_MAX_PARAMS][32];
    for (int p = 0; p < S->grid.n_params; p++) {
        const char *name = S->grid.name[p], *v = S->grid.value[p][idx[p]];
        const ol_train_setting *set = ol_train_setting_find(name);
        snprintf(flags[p], sizeof flags[p], "%s", set->flag);
        has_model |= !strcmp(name, "model");
        if (set->type == OL_TS_BOOL) {
            if (!strcmp(v, "1")) argv[n++] = flags[p];
        } else {
            argv[n++] = flags[p];
            argv[n++] = v;
        }
    }
    if (!has_model) argv[n++] = "--model", argv[n++] = c->model;
    if (c->subset > 0) argv[n++] = "--subset", argv[n++] = subset;
    argv[n++] = "--seed", argv[n++] = seed;
    argv[n++] = "--val-split", argv[n++] = val;
    argv[n++] = "--epochs", argv[n++] = epochs;
    argv[n++] = "--threads", argv[n++] = threads;
    argv[n++] = "--quiet";
    argv[n++] = "--log", argv[n++] = log;
    argv[n++] = "--checkpoint", argv[n++] = ckpt;
    argv[n++] = "--checkpoint-every", argv[n++] = "epoch";
    if (!access(ckpt, F_OK)) argv[n++] = "--resume", argv[n++] = ckpt;
    argv[n] = NULL;

    int fd = open(out, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) return ol_fail(OL_EIO, "cannot open %s: %s", out, strerror(errno));
    dprintf(fd, "== epochs to %ld:", target);
    for (int i = 0; i < n; i++) dprintf(fd, " %s", argv[i]);
    dprintf(fd, "\n");
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        close(fd);
        return ol_fail(OL_ESTATE, "cannot start a trial: fork: %s", strerror(errno));
    }
    if (pid == 0) {
        /* the child: async-signal-safe calls only; the trial stops (and checkpoints) when we die */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent) _exit(143);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        dup2(fd, 1);
        dup2(fd, 2);
        execve(c->trainer, (char *const *)argv, S->envp);
        static const char msg[] = "optlab: cannot run the trainer (execve failed)\n";
        ssize_t w = write(2, msg, sizeof msg - 1);
        (void)w;
        _exit(127);
    }
    close(fd);
    *pid_out = pid;
    return OL_OK;
}

/* The child's last "optlab: " line (its error), from out.txt. */
static void child_message(const sweep_t *S, const trial_t *t, char *msg, size_t cap) {
    char path[4200];
    path_of(path, sizeof path, S, t, "out.txt");
    msg[0] = 0;
    FILE *f = fopen(path, "r");
    if (!f) return;
    char line[2048];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
        if (!strncmp(line, "optlab: ", 8)) snprintf(msg, cap, "%.*s", (int)(cap - 1), line + 8);
    }
    fclose(f);
}

static void print_trial(sweep_t *S, const trial_t *t) {
    if (S->c->quiet) return;
    S->done_here++;
    char where[32] = "";
    if (S->c->size > 1) snprintf(where, sizeof where, "rank %d #", S->c->rank);
    if (S->c->prune == OL_PRUNE_HALVING) printf("[%s%ld] ", where, S->done_here); /* the shares change per rung */
    else printf("[%s%ld/%ld] ", where, S->done_here, S->to_run);
    printf("%s %s: %s", t->id, t->setting, ol_sweep_status_names[t->status]);
    if (t->epochs) printf("  val_loss %.4f (best %.4f)  val_acc %.2f%%  %ld epoch%s  %.2fs", t->final_val_loss,
                          t->best_val_loss, 100 * t->final_val_acc, t->epochs, t->epochs > 1 ? "s" : "", t->seconds);
    if (t->status == ST_FAILED || t->status == ST_DIVERGED) printf("  (%s)", t->message);
    printf("\n");
    fflush(stdout);
}

/* Records a finished trial: metrics from the log, the result file, a line. */
static int finish(sweep_t *S, trial_t *t, int status, long epochs, const char *message) {
    char path[4200];
    trial_log L;
    path_of(path, sizeof path, S, t, "log.csv");
    int rc = read_log(path, &L);
    if (rc) return rc;
    rc = fill_metrics(t, &L, epochs);
    log_free(&L);
    if (rc) return rc;
    t->status = status;
    snprintf(t->message, sizeof t->message, "%s", message ? message : "");
    for (char *p = t->message; *p; p++)
        if (*p == '\n' || *p == '\r') *p = ' ';
    if ((rc = write_result(S, t))) return rc;
    print_trial(S, t);
    return OL_OK;
}

/* ---- scheduling: a queue of (trial, target epochs), `jobs` children at a time ---- */

typedef struct {
    trial_t **t;
    long *target;
    size_t head, n, cap;
} queue_t;

static int push(queue_t *q, trial_t *t, long target, int front) {
    if (q->n == q->cap) {
        size_t cap = q->cap ? 2 * q->cap : 64;
        trial_t **nt = ol_malloc_array(cap, sizeof *nt);
        long *ng = ol_malloc_array(cap, sizeof *ng);
        if (!nt || !ng) {
            free(nt), free(ng);
            return OL_ENOMEM;
        }
        for (size_t i = 0; i < q->n; i++) nt[i] = q->t[(q->head + i) % q->cap], ng[i] = q->target[(q->head + i) % q->cap];
        free(q->t), free(q->target);
        q->t = nt, q->target = ng, q->cap = cap, q->head = 0;
    }
    size_t at = front ? (q->head + q->cap - 1) % q->cap : (q->head + q->n) % q->cap;
    if (front) q->head = at;
    q->t[at] = t, q->target[at] = target, q->n++;
    return OL_OK;
}

static void pop(queue_t *q, trial_t **t, long *target) {
    *t = q->t[q->head], *target = q->target[q->head];
    q->head = (q->head + 1) % q->cap, q->n--;
}

/* The completed (ok) trials' validation loss at epoch e (1-based), read from their result files:
 * other processes and ranks finish trials too. */
static int completed_at(sweep_t *S, long e, double **vals, size_t *n) {
    *n = 0;
    *vals = ol_malloc_array(S->n_trials ? S->n_trials : 1, sizeof(double));
    if (!*vals) return OL_ENOMEM;
    for (size_t i = 0; i < S->n_trials; i++) {
        trial_t *t = &S->trials[i];
        if (t->status == ST_NONE) {
            int rc = read_result(S, t);
            if (rc) return rc;
        }
        if (t->status == ST_OK && t->epochs >= e) (*vals)[(*n)++] = t->val_losses[e - 1];
    }
    return OL_OK;
}

enum { GO_ON = 0, GO_DONE = 1 };

/* What to do when a child has trained t to target epochs (status 0). Median mode: one epoch per
 * child, a decision after each. Returns GO_ON (push the next chunk) or GO_DONE. */
static int after_chunk(sweep_t *S, trial_t *t, long target, long final, int *next_status) {
    const ol_sweep_config *c = S->c;
    char path[4200];
    trial_log L;
    path_of(path, sizeof path, S, t, "log.csv");
    int rc = read_log(path, &L);
    if (rc) return -rc;
    if (L.n < target) {
        log_free(&L);
        *next_status = ST_FAILED;
        return GO_DONE;
    }
    double last = L.val_loss[target - 1], best = NAN;
    for (long e = 0; e < target; e++)
        if (isfinite(L.val_loss[e]) && !(L.val_loss[e] >= best)) best = L.val_loss[e];
    log_free(&L);
    if (!isfinite(last)) {
        *next_status = ST_DIVERGED;
        return GO_DONE;
    }
    if (target >= final) {
        *next_status = target >= c->epochs ? ST_OK : ST_NONE;
        return GO_DONE;
    }
    if (c->prune == OL_PRUNE_MEDIAN) {
        double *vals;
        size_t n;
        if ((rc = completed_at(S, target, &vals, &n))) {
            free(vals);
            return -rc;
        }
        int prune = ol_sweep_prune_median(best, vals, n, (size_t)c->min_completed);
        free(vals);
        if (prune) {
            *next_status = ST_PRUNED;
            return GO_DONE;
        }
    }
    return GO_ON;
}

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Runs the queue: each entry trains a trial to its target; chunk is the epochs per child (median:
 * 1), final the epochs a trial of this queue ends at (halving: the rung). Trials that end at
 * `c->epochs` are finished as ok; those that stop earlier keep their log for the caller. */
static int run_queue(sweep_t *S, queue_t *q, long chunk, long final) {
    const ol_sweep_config *c = S->c;
    int jobs = c->jobs > 0 ? c->jobs : 1, running = 0, rc = OL_OK, stopping = 0;
    slot_t *slots = ol_calloc((size_t)jobs, sizeof *slots);
    if (!slots) return OL_ENOMEM;
    for (;;) {
        if (!stopping && (rc || (c->stop && *c->stop))) {
            stopping = 1; /* the children checkpoint and exit; their trials stay unfinished */
            for (int j = 0; j < jobs; j++)
                if (slots[j].pid > 0) kill(slots[j].pid, SIGTERM);
        }
        while (!stopping && running < jobs && q->n > 0) {
            trial_t *t;
            long target;
            pop(q, &t, &target);
            int j = 0;
            while (slots[j].pid > 0) j++;
            if ((rc = spawn(S, t, target, &slots[j].pid))) break;
            slots[j].t = t, slots[j].target = target;
            running++;
        }
        if (running == 0) break;
        int status;
        pid_t pid = waitpid(-1, &status, WNOHANG);
        if (pid == 0 || (pid < 0 && errno == EINTR)) {
            sleep_ms(20); /* polled, so a stop request is seen at once */
            continue;
        }
        if (pid < 0) {
            rc = ol_fail(OL_ESTATE, "waitpid: %s", strerror(errno));
            break;
        }
        int j = 0;
        while (j < jobs && slots[j].pid != pid) j++;
        if (j == jobs) continue; /* not ours */
        trial_t *t = slots[j].t;
        long target = slots[j].target;
        slots[j].pid = 0;
        running--;
        if (stopping) continue;
        char msg[512];
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
            int next = ST_NONE, go = after_chunk(S, t, target, final, &next);
            if (go < 0) {
                rc = -go;
                continue;
            }
            if (go == GO_ON) rc = push(q, t, target + chunk < final ? target + chunk : final, 1);
            else if (next == ST_FAILED) rc = finish(S, t, ST_FAILED, target, "the trial's log has fewer epochs than it trained");
            else if (next != ST_NONE) rc = finish(S, t, next, target, next == ST_DIVERGED ? "validation loss not finite" : "");
            continue;
        }
        if (WIFEXITED(status) && (WEXITSTATUS(status) == 130 || WEXITSTATUS(status) == 143) && c->stop && *c->stop)
            continue; /* interrupted with us: not a result */
        child_message(S, t, msg, sizeof msg);
        if (WIFSIGNALED(status)) snprintf(msg, sizeof msg, "killed by signal %d", WTERMSIG(status));
        else if (!msg[0]) snprintf(msg, sizeof msg, "exit status %d", WEXITSTATUS(status));
        int diverged = strstr(msg, "diverged") != NULL;
        rc = finish(S, t, diverged ? ST_DIVERGED : ST_FAILED, target, msg);
    }
    free(slots);
    if (!rc && c->stop && *c->stop) rc = ol_fail(OL_ESTOPPED, "sweep stopped; run the same command again to continue");
    return rc;
}

/* ---- the sweep's definition and its directory ---- */

/* The sweep's settings as (flag, value) pairs: the first DEF_N make its definition (DIR/sweep.txt,
 * a "name=value" line each), and with --out they are what the MPI ranks of a sweep must share. */
enum { DEF_N = 12 };
typedef struct {
    const char *name[DEF_N + 1], *value[DEF_N + 1];
    char number[DEF_N][32];
} def_items;

static void definition_items(const ol_sweep_config *c, def_items *d) {
    static const char *prunes[] = {"none", "median", "halving"};
    const char *names[DEF_N + 1] = {"--grid", "--random", "--draw-seed", "--seeds", "--epochs", "--data", "--model",
                                    "--subset", "--val-split", "--prune", "--eta", "--min-completed", "--out"};
    memcpy(d->name, names, sizeof names);
    snprintf(d->number[1], 32, "%ld", c->random);
    snprintf(d->number[2], 32, "%llu", (unsigned long long)c->draw_seed);
    snprintf(d->number[3], 32, "%d", c->seeds);
    snprintf(d->number[4], 32, "%ld", c->epochs);
    snprintf(d->number[7], 32, "%ld", c->subset);
    snprintf(d->number[8], 32, "%.17g", c->val_split);
    snprintf(d->number[10], 32, "%d", c->prune == OL_PRUNE_HALVING ? c->eta : 0);
    snprintf(d->number[11], 32, "%d", c->prune == OL_PRUNE_MEDIAN ? c->min_completed : 0);
    for (int i = 0; i < DEF_N; i++) d->value[i] = d->number[i];
    d->value[0] = c->grid ? c->grid : "";
    d->value[5] = c->data ? c->data : "";
    d->value[6] = c->model ? c->model : "";
    d->value[9] = c->prune >= OL_PRUNE_NONE && c->prune <= OL_PRUNE_HALVING ? prunes[c->prune] : "?";
    d->value[DEF_N] = c->out_dir ? c->out_dir : "";
}

static int definition(const ol_sweep_config *c, char *buf, size_t cap) {
    def_items d;
    definition_items(c, &d);
    size_t len = 0;
    for (int i = 0; i < DEF_N; i++) {
        int n = snprintf(buf + len, cap - len, "%s=%s\n", d.name[i] + 2, d.value[i]);
        if (n < 0 || (size_t)n >= cap - len) return ol_fail(OL_EARG, "sweep settings too long");
        len += (size_t)n;
    }
    return OL_OK;
}

/* DIR: its file names add up to "/trials/000001/log.csv" to its path; an older optlab's sweep
 * directory (no marker) has sweep.txt, whose first line is the grid */
static const ol_outdir_kind sweep_outdir = {"sweep", "sweep.txt", "grid=", 64};

/* Writes DIR/sweep.txt, or checks that the one there is this sweep's. */
static int claim_dir(const ol_sweep_config *c) {
    char path[4200], def[8192];
    int rc = definition(c, def, sizeof def);
    if (rc) return rc;
    snprintf(path, sizeof path, "%s/trials", c->out_dir);
    if ((rc = ol_mkdir_p(path))) return rc;
    snprintf(path, sizeof path, "%s/sweep.txt", c->out_dir);
    if (access(path, F_OK)) return ol_write_file_atomic(path, def, strlen(def));
    unsigned char *old;
    size_t len;
    if ((rc = ol_read_file(path, 1 << 20, &old, &len))) return rc;
    int same = len == strlen(def) && !memcmp(old, def, len);
    if (!same) {
        /* name the first line that differs */
        const char *a = def, *b = (const char *)old, *bend = b + len;
        while (*a) {
            const char *ea = strchr(a, '\n');
            size_t la = ea ? (size_t)(ea - a) : strlen(a);
            const char *eb = memchr(b, '\n', (size_t)(bend - b));
            size_t lb = eb ? (size_t)(eb - b) : (size_t)(bend - b);
            if (la != lb || memcmp(a, b, la)) {
                rc = ol_fail(OL_EARG, "%s holds another sweep (%.*s there, %.*s here); use a new --out or the same settings",
                             c->out_dir, (int)lb, b, (int)la, a);
                break;
            }
            a += la + (ea != NULL);
            b = eb ? eb + 1 : bend;
        }
        if (!rc) rc = ol_fail(OL_EARG, "%s holds another sweep; use a new --out", c->out_dir);
    }
    free(old);
    return rc;
}

/* One sweep per directory. Every process of a sweep (each rank, and through the inherited
 * descriptor each trial it starts) holds a shared lock on DIR/.lock; a new sweep's rank 0 first
 * takes it exclusively, which waits until every process of an earlier, killed sweep (orphaned ranks,
 * trials still writing their checkpoint) has ended, then shares it with its own ranks. */
static int lock_dir(const char *dir, int exclusive_first, int *fd_out) {
    char path[4200];
    snprintf(path, sizeof path, "%s/.lock", dir);
    int fd = open(path, O_RDWR | O_CREAT, 0644);
    if (fd < 0) return ol_fail(OL_EIO, "cannot open %s: %s", path, strerror(errno));
    for (int waited = 0; flock(fd, (exclusive_first ? LOCK_EX : LOCK_SH) | LOCK_NB); waited++) {
        if (errno != EWOULDBLOCK || waited >= 600) {
            close(fd);
            return ol_fail(OL_ESTATE, "another sweep is running in %s (%s is locked)", dir, path);
        }
        if (waited == 0 && exclusive_first)
            fprintf(stderr, "optlab: waiting for the processes of an earlier sweep in %s to end\n", dir);
        sleep_ms(100);
    }
    if (exclusive_first && flock(fd, LOCK_SH)) {
        close(fd);
        return ol_fail(OL_ESTATE, "cannot share the lock %s: %s", path, strerror(errno));
    }
    *fd_out = fd;
    return OL_OK;
}

/* The results of every trial (read from trials/<id>.txt) into the summary, results.csv and index.html. */
static int assemble(sweep_t *S, ol_sweep_summary *sum) {
    long counts[5] = {0};
    const trial_t *best = NULL;
    for (size_t i = 0; i < S->n_trials; i++) {
        trial_t *t = &S->trials[i];
        int rc = read_result(S, t);
        if (rc) return rc;
        if (t->status == ST_NONE) return ol_fail(OL_ESTATE, "trial %s has no result", t->id);
        counts[t->status]++;
        if ((t->status == ST_OK || t->status == ST_PRUNED) && isfinite(t->best_val_loss) &&
            (!best || t->best_val_loss < best->best_val_loss))
            best = t;
    }
    sum->ok = counts[ST_OK], sum->diverged = counts[ST_DIVERGED], sum->failed = counts[ST_FAILED];
    sum->pruned = counts[ST_PRUNED];
    if (best) {
        snprintf(sum->best_id, sizeof sum->best_id, "%s", best->id);
        snprintf(sum->best_setting, sizeof sum->best_setting, "%s", best->setting);
        sum->best_val_loss = best->best_val_loss, sum->best_val_acc = best->best_val_acc;
    }
    int rc = ol_sweep_write_results_csv(S);
    if (!rc) rc = ol_sweep_write_html(S, best, counts);
    return rc;
}

/* ---- building the trial list ---- */

static int make_trials(sweep_t *S) {
    const ol_sweep_config *c = S->c;
    size_t count = ol_sweep_grid_count(&S->grid), n_settings = count;
    if (c->random > 0 && (size_t)c->random < count) n_settings = (size_t)c->random;
    if (n_settings > OL_SWEEP_MAX_TRIALS)
        return ol_fail(OL_EARG, "--grid has %zu settings, more than the %d a sweep runs; draw some with --random N", count,
                       OL_SWEEP_MAX_TRIALS);
    if (n_settings * (size_t)c->seeds > OL_SWEEP_MAX_TRIALS)
        return ol_fail(OL_EARG, "%zu trials is too many (at most %d)", n_settings * (size_t)c->seeds, OL_SWEEP_MAX_TRIALS);
    size_t *combos = ol_malloc_array(n_settings, sizeof *combos);
    if (!combos) return OL_ENOMEM;
    if (n_settings < count) { /* drawn without listing the grid: it may hold far more than a sweep runs */
        int rc = ol_sweep_grid_draw(count, n_settings, c->draw_seed, combos);
        if (rc) {
            free(combos);
            return rc;
        }
    } else {
        for (size_t i = 0; i < count; i++) combos[i] = i;
    }
    S->n_trials = n_settings * (size_t)c->seeds;
    S->trials = ol_calloc(S->n_trials, sizeof *S->trials);
    if (!S->trials) {
        free(combos);
        return OL_ENOMEM;
    }
    int width = S->n_trials > 9999 ? 6 : 4;
    for (size_t i = 0; i < S->n_trials; i++) {
        trial_t *t = &S->trials[i];
        t->combo = combos[i / (size_t)c->seeds];
        t->seed = (int)(i % (size_t)c->seeds) + 1;
        snprintf(t->id, sizeof t->id, "%0*u", width, (unsigned)(i + 1));
        int idx[OL_SWEEP_MAX_PARAMS];
        ol_sweep_grid_setting(&S->grid, t->combo, idx);
        size_t used = 0;
        for (int p = 0; p < S->grid.n_params; p++)
            used += (size_t)snprintf(t->setting + used, used < sizeof t->setting ? sizeof t->setting - used : 0, "%s=%s ",
                                     S->grid.name[p], S->grid.value[p][idx[p]]);
        if (used < sizeof t->setting) snprintf(t->setting + used, sizeof t->setting - used, "seed=%d", t->seed);
        t->final_val_loss = t->best_val_loss = NAN;
    }
    free(combos);
    return OL_OK;
}

static int make_env(sweep_t *S) {
    size_t n = 0;
    while (environ[n]) n++;
    S->envp = ol_malloc_array(n + 2, sizeof *S->envp);
    if (!S->envp) return OL_ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "OPTLAB_DIST=", 12)) S->envp[k++] = environ[i];
    S->envp[k++] = "OPTLAB_DIST=0"; /* a trial is one process, even when the sweep runs under mpirun */
    S->envp[k] = NULL;
    return OL_OK;
}

static int check_config(const ol_sweep_config *c) {
    if (!c->out_dir || !*c->out_dir) return ol_fail(OL_EARG, "a sweep needs --out DIR");
    if (c->epochs < 1 || c->epochs > 100000) return ol_fail(OL_EARG, "--epochs must be in [1, 100000], got %ld", c->epochs);
    if (c->seeds < 1 || c->seeds > 1000) return ol_fail(OL_EARG, "--seeds must be in [1, 1000], got %d", c->seeds);
    if (c->jobs < 1 || c->jobs > 1024) return ol_fail(OL_EARG, "--jobs must be in [1, 1024], got %d", c->jobs);
    if (c->random < 0) return ol_fail(OL_EARG, "--random must be >= 1");
    if (!(c->val_split > 0 && c->val_split < 1))
        return ol_fail(OL_EARG, "--val-split must be in (0, 1): a sweep compares validation losses, got %g", c->val_split);
    if (c->prune < OL_PRUNE_NONE || c->prune > OL_PRUNE_HALVING) return ol_fail(OL_EARG, "unknown pruning rule");
    if (c->eta < 2 || c->eta > 100) return ol_fail(OL_EARG, "--eta must be in [2, 100], got %d", c->eta);
    if (c->min_completed < 1) return ol_fail(OL_EARG, "--min-completed must be >= 1");
    if (!c->trainer || access(c->trainer, X_OK)) return ol_fail(OL_EARG, "the trainer '%s' is not an executable", c->trainer ? c->trainer : "");
    if (c->size < 1 || c->rank < 0 || c->rank >= c->size) return ol_fail(OL_EARG, "rank %d of %d", c->rank, c->size);
    return OL_OK;
}

/* Runs this rank's share of the unfinished trials of list (the ranks take turns over them, each
 * rank sees the same statuses: they were read after the last barrier) to `final` epochs, each from
 * where its log ends. */
static int run_share(sweep_t *S, trial_t **list, size_t n, long final) {
    const ol_sweep_config *c = S->c;
    queue_t q = {0};
    int rc = OL_OK;
    long chunk = c->prune == OL_PRUNE_MEDIAN ? 1 : final;
    size_t position = 0; /* among the unfinished trials: every rank counts the same ones */
    for (size_t i = 0; i < n && !rc; i++) {
        trial_t *t = list[i];
        if (t->status != ST_NONE || position++ % (size_t)c->size != (size_t)c->rank) continue;
        char path[4200];
        trial_log L;
        path_of(path, sizeof path, S, t, "log.csv");
        if ((rc = read_log(path, &L))) break;
        long have = L.n;
        double last = have >= final ? L.val_loss[final - 1] : NAN;
        log_free(&L);
        if (have >= final) { /* trained already: killed before its result was recorded, or a rung done */
            if (final >= c->epochs) rc = finish(S, t, isfinite(last) ? ST_OK : ST_DIVERGED, final, isfinite(last) ? "" : "validation loss not finite");
            continue;
        }
        long target = have + chunk < final ? have + chunk : final;
        rc = push(&q, t, target, 0);
    }
    if (!rc) rc = run_queue(S, &q, chunk, final);
    free(q.t);
    free(q.target);
    return rc;
}

/* The validation loss of t after epoch e from its log (NaN when it has none). */
static double val_loss_at(sweep_t *S, trial_t *t, long e) {
    char path[4200];
    trial_log L;
    path_of(path, sizeof path, S, t, "log.csv");
    if (read_log(path, &L) || L.n < e) {
        log_free(&L);
        return NAN;
    }
    double v = L.val_loss[e - 1];
    log_free(&L);
    return v;
}

typedef struct {
    trial_t *t;
    double loss;
} ranked_t;

static int by_loss(const void *a, const void *b) {
    const ranked_t *x = a, *y = b;
    if (isfinite(x->loss) != isfinite(y->loss)) return isfinite(x->loss) ? -1 : 1;
    if (isfinite(x->loss) && x->loss != y->loss) return x->loss < y->loss ? -1 : 1;
    return strcmp(x->t->id, y->t->id);
}

/* Refreshes every trial's status from the result files (other ranks write some). */
static int refresh(sweep_t *S) {
    for (size_t i = 0; i < S->n_trials; i++) {
        int rc = read_result(S, &S->trials[i]);
        if (rc) return rc;
    }
    return OL_OK;
}

/* Synchronous successive halving: rung by rung, every rank trains its share of the survivors to
 * the rung's epochs, all wait, and each computes the same ranking from the logs (ties by id). */
static int run_halving(sweep_t *S) {
    const ol_sweep_config *c = S->c;
    size_t n = S->n_trials, alive_n = n;
    trial_t **alive = ol_malloc_array(n, sizeof *alive);
    ranked_t *rank = ol_malloc_array(n, sizeof *rank);
    int rc = alive && rank ? OL_OK : OL_ENOMEM;
    for (size_t i = 0; i < n && !rc; i++) alive[i] = &S->trials[i];
    for (int k = 0; k < S->n_rungs && !rc; k++) {
        long e = S->rungs[k];
        rc = run_share(S, alive, alive_n, e);
        int any;
        if (ol_dist_max_int(rc, &any) == OL_OK && any && !rc) rc = ol_fail(OL_ESTATE, "another rank failed");
        if (!rc) rc = ol_dist_barrier();
        if (!rc) rc = refresh(S);
        if (rc || k == S->n_rungs - 1) break;
        /* rank the survivors that reached epoch e; keep ceil(m / eta) */
        size_t m = 0;
        for (size_t i = 0; i < alive_n; i++) {
            if (alive[i]->status != ST_NONE) continue; /* diverged or failed in this rung */
            rank[m].t = alive[i];
            rank[m].loss = val_loss_at(S, alive[i], e);
            m++;
        }
        qsort(rank, m, sizeof *rank, by_loss);
        size_t keep = (m + (size_t)c->eta - 1) / (size_t)c->eta;
        /* each pruned trial is recorded by one rank, chosen by its number */
        for (size_t r = keep; r < m && !rc; r++) {
            if ((size_t)(rank[r].t - S->trials) % (size_t)c->size == (size_t)c->rank) rc = finish(S, rank[r].t, ST_PRUNED, e, "");
            rank[r].t->status = ST_PRUNED;
        }
        alive_n = keep;
        for (size_t r = 0; r < keep; r++) alive[r] = rank[r].t;
        /* keep the grid order among survivors (and so the split over ranks stable) */
        for (size_t a = 1; a < alive_n; a++)
            for (size_t b = a; b > 0 && strcmp(alive[b - 1]->id, alive[b]->id) > 0; b--) {
                trial_t *tmp = alive[b];
                alive[b] = alive[b - 1], alive[b - 1] = tmp;
            }
        if (!rc) rc = ol_dist_barrier();
    }
    free(alive);
    free(rank);
    return rc;
}

int ol_sweep_run(const ol_sweep_config *c, ol_sweep_summary *sum) {
    memset(sum, 0, sizeof *sum);
    sum->best_val_loss = sum->best_val_acc = NAN;
    /* under mpirun, the ranks' command lines may differ: they must run the same sweep (other grids
     * give other trial lists, other rungs: ranks waiting for each other forever) */
    def_items d;
    definition_items(c, &d);
    int rc = ol_dist_agree(NULL, d.name, d.value, DEF_N + 1);
    if (!rc) rc = check_config(c);
    if (rc) return rc;
    sweep_t S;
    memset(&S, 0, sizeof S);
    S.c = c;
    int lock_fd = -1;
    if ((rc = ol_sweep_grid_parse(&S.grid, c->grid))) return rc;
    if ((rc = make_trials(&S)) || (rc = make_env(&S))) goto out;
    sum->trials = (long)S.n_trials;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    S.threads = c->threads > 0 ? c->threads : (int)(cores / c->jobs > 1 ? cores / c->jobs : 1);
    S.n_rungs = c->prune == OL_PRUNE_HALVING ? ol_sweep_prune_halving_rungs(c->epochs, (long)S.n_trials, c->eta, S.rungs, 64) : 0;
    /* rank 0 claims the directory; the others wait, then see its verdict */
    if (c->rank == 0) {
        rc = ol_outdir_check(c->out_dir, &sweep_outdir, c->force);
        if (!rc) rc = ol_outdir_claim(c->out_dir, &sweep_outdir);
        if (!rc) rc = lock_dir(c->out_dir, 1, &lock_fd);
        if (!rc) rc = claim_dir(c);
    }
    int any;
    if (ol_dist_max_int(rc ? 1 : 0, &any)) rc = rc ? rc : OL_ESTATE;
    else if (any && !rc) rc = ol_fail(OL_EARG, "rank 0 refused the output directory %s (see its message)", c->out_dir);
    if (!rc && c->rank != 0) rc = lock_dir(c->out_dir, 0, &lock_fd);
    if (rc) goto out;
    /* what is finished already (every rank reads the files before anyone runs a trial) */
    if ((rc = refresh(&S))) goto out;
    for (size_t i = 0; i < S.n_trials; i++) sum->skipped += S.trials[i].status != ST_NONE;
    for (size_t i = 0, position = 0; i < S.n_trials; i++)
        if (S.trials[i].status == ST_NONE && position++ % (size_t)c->size == (size_t)c->rank) S.to_run++;
    if ((rc = ol_dist_barrier())) goto out;
    if (c->rank == 0 && !c->quiet) {
        printf("sweep: %zu trials (%zu setting%s x %d seed%s), %ld epochs, %d job%s", S.n_trials, S.n_trials / (size_t)c->seeds,
               S.n_trials / (size_t)c->seeds > 1 ? "s" : "", c->seeds, c->seeds > 1 ? "s" : "", c->epochs, c->jobs,
               c->jobs > 1 ? "s" : "");
        if (c->size > 1) printf(" on each of %d ranks", c->size);
        printf(", %d thread%s per trial", S.threads, S.threads > 1 ? "s" : "");
        if (c->prune == OL_PRUNE_HALVING) {
            printf(", successive halving at epochs");
            for (int k = 0; k < S.n_rungs; k++) printf(" %ld", S.rungs[k]);
        } else if (c->prune == OL_PRUNE_MEDIAN)
            printf(", median rule");
        printf("\n");
        if (sum->skipped) printf("sweep: %ld of %zu trials finished before: skipping them\n", sum->skipped, S.n_trials);
        fflush(stdout);
    }
    if (c->prune == OL_PRUNE_HALVING) rc = run_halving(&S);
    else {
        trial_t **all = ol_malloc_array(S.n_trials, sizeof *all);
        if (!all) rc = OL_ENOMEM;
        else {
            for (size_t i = 0; i < S.n_trials; i++) all[i] = &S.trials[i];
            rc = run_share(&S, all, S.n_trials, c->epochs);
            free(all);
        }
        if (rc) goto out; /* under MPI the command line ends the whole job (ol_dist_abort) */
        if ((rc = ol_dist_barrier())) goto out;
    }
    if (rc) goto out;
    if (c->rank == 0) rc = assemble(&S, sum);
out:
    for (size_t i = 0; i < S.n_trials; i++) free(S.trials[i].val_losses);
    free(S.trials);
    free(S.envp);
    if (lock_fd >= 0) close(lock_fd);
    return rc;
}
