/* dist.c: the MPI layer; see include/optlab/dist.h.
 * Everything MPI sits behind OL_HAVE_MPI; without it the functions are the single-process case.
 * Not a communication library: one all-reduce for training, a barrier and a max for the sweep, and
 * the check that every rank was given the same run (ol_dist_agree). */
#include "optlab/dist.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "optlab/common.h"

#ifdef OL_HAVE_MPI
#include <mpi.h>
#endif

int ol_dist_compiled(void) {
#ifdef OL_HAVE_MPI
    return 1;
#else
    return 0;
#endif
}

/* The launcher's process count from the environment (0 when not launched by one). Open MPI sets
 * OMPI_COMM_WORLD_SIZE; PMIx launchers PMIX_RANK; MPICH's hydra and Slurm's PMI PMI_SIZE/PMI_RANK. */
static long launcher_size(void) {
    const char *off = getenv("OPTLAB_DIST");
    if (off && !strcmp(off, "0")) return 0;
    const char *v = getenv("OMPI_COMM_WORLD_SIZE");
    if (!v) v = getenv("PMI_SIZE");
    if (v) return atol(v) > 0 ? atol(v) : 1;
    if (getenv("PMIX_RANK") || getenv("PMI_RANK")) return 1; /* a launcher; its size MPI will say */
    return 0;
}

#ifdef OL_HAVE_MPI
static void sleep_seconds(double s) {
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
    }
}

static int env_on(const char *name) {
    const char *v = getenv(name);
    return v && *v && strcmp(v, "0") != 0;
}
#endif

/* ---- state (MPI is per process, and so is this) ---- */
static struct {
    int active, finalized;
    int rank, size, local_size;
    volatile sig_atomic_t *local_stop; /* the signal handler's flag */
    volatile sig_atomic_t agreed_stop; /* its maximum over the ranks at the last all-reduce */
    int check;                         /* OPTLAB_DIST_CHECK */
    /* OPTLAB_DIST_TIMING: per step, the compute before the all-reduce and the all-reduce itself */
    int timing;
    double last_exit;                  /* when the previous all-reduce returned (0: none yet) */
    double *compute, *wait, *comm;     /* seconds per step: own work, waiting for the slowest
                                          rank (a barrier, timing mode only), the all-reduce */
    size_t n_steps, cap;
    size_t floats;                     /* count of the last all-reduce */
} dist = {.rank = 0, .size = 1, .local_size = 1};

int ol_dist_rank(void) { return dist.rank; }
int ol_dist_size(void) { return dist.size; }
int ol_dist_local_size(void) { return dist.local_size; }

volatile sig_atomic_t *ol_dist_watch_stop(volatile sig_atomic_t *local) {
    if (!dist.active || dist.size <= 1) return local;
    dist.local_stop = local;
    dist.agreed_stop = 0;
    return &dist.agreed_stop;
}

int ol_dist_init(int *argc, char ***argv) {
    if (dist.active || dist.finalized) return OL_OK;
    long launched = launcher_size();
    if (!launched) return OL_OK;
#ifndef OL_HAVE_MPI
    (void)argc, (void)argv;
    if (launched > 1)
        return ol_fail(OL_EARG, "started by mpirun with %ld processes, but this optlab was built without MPI; install "
                                "libopenmpi-dev and rebuild with make MPI=1 (or run without mpirun)", launched);
    return OL_OK;
#else
    int provided = 0;
    /* FUNNELED: OpenMP threads compute, only the main thread calls MPI */
    if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
        return ol_fail(OL_ESTATE, "MPI_Init failed; check the mpirun installation (mpirun -np 2 hostname)");
    dist.active = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &dist.rank);
    MPI_Comm_size(MPI_COMM_WORLD, &dist.size);
    MPI_Comm local;
    if (MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &local) == MPI_SUCCESS) {
        MPI_Comm_size(local, &dist.local_size);
        MPI_Comm_free(&local);
    }
    dist.timing = env_on("OPTLAB_DIST_TIMING");
    dist.check = env_on("OPTLAB_DIST_CHECK");
    return OL_OK;
#endif
}

#ifdef OL_HAVE_MPI
static int timing_record(double before, double synced, double after) {
    if (dist.last_exit > 0) {
        if (dist.n_steps == dist.cap) {
            size_t cap = dist.cap ? 2 * dist.cap : 1024;
            double **arrays[3] = {&dist.compute, &dist.wait, &dist.comm};
            for (int i = 0; i < 3; i++) {
                double *a = realloc(*arrays[i], cap * sizeof *a);
                if (!a) return OL_ENOMEM;
                *arrays[i] = a;
            }
            dist.cap = cap;
        }
        dist.compute[dist.n_steps] = before - dist.last_exit;
        dist.wait[dist.n_steps] = synced - before;
        dist.comm[dist.n_steps] = after - synced;
        dist.n_steps++;
    }
    dist.last_exit = after;
    return OL_OK;
}

/* Every rank holds the same bytes: max and min of the CRC over the ranks agree. */
static int check_same(const float *buf, size_t count) {
    uint32_t crc = ol_crc32(0, buf, count * sizeof(float));
    unsigned int v[2] = {crc, ~crc}, m[2];
    if (MPI_Allreduce(v, m, 2, MPI_UNSIGNED, MPI_MAX, MPI_COMM_WORLD) != MPI_SUCCESS)
        return ol_fail(OL_ESTATE, "MPI_Allreduce (check) failed");
    if (m[0] != crc || ~m[1] != crc)
        return ol_fail(OL_ESTATE, "rank %d: the all-reduced gradient differs between ranks (OPTLAB_DIST_CHECK)", dist.rank);
    return OL_OK;
}
#endif

int ol_dist_allreduce(void *userdata, float *buf, size_t count) {
    (void)userdata;
#ifdef OL_HAVE_MPI
    if (!dist.active || dist.size <= 1) return OL_OK;
    /* timing: a barrier first, so the all-reduce's time is the transfer and not the wait for a
     * slower rank (that wait is reported apart) */
    double before = 0, synced = 0;
    if (dist.timing) {
        before = MPI_Wtime();
        if (MPI_Barrier(MPI_COMM_WORLD) != MPI_SUCCESS) return ol_fail(OL_ESTATE, "MPI_Barrier failed");
        synced = MPI_Wtime();
    }
    /* the stop request travels beside the gradient: started first, waited for after */
    int stop_local = dist.local_stop ? (int)*dist.local_stop : 0, stop_max = 0;
    MPI_Request req = MPI_REQUEST_NULL;
    if (dist.local_stop && MPI_Iallreduce(&stop_local, &stop_max, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD, &req) != MPI_SUCCESS)
        return ol_fail(OL_ESTATE, "MPI_Iallreduce (stop flag) failed");
    /* one call per step over the whole flat block; MPI counts are int: split only past 2^31 floats */
    for (size_t done = 0; done < count;) {
        size_t n = count - done < (size_t)1 << 30 ? count - done : (size_t)1 << 30;
        if (MPI_Allreduce(MPI_IN_PLACE, buf + done, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD) != MPI_SUCCESS)
            return ol_fail(OL_ESTATE, "MPI_Allreduce of %zu floats failed", count);
        done += n;
    }
    if (req != MPI_REQUEST_NULL) {
        if (MPI_Wait(&req, MPI_STATUS_IGNORE) != MPI_SUCCESS) return ol_fail(OL_ESTATE, "MPI_Wait (stop flag) failed");
        if (stop_max) dist.agreed_stop = (sig_atomic_t)stop_max;
    }
    if (dist.timing && timing_record(before, synced, MPI_Wtime())) return ol_fail(OL_ENOMEM, "out of memory for the timings");
    dist.floats = count;
    if (dist.check) return check_same(buf, count);
    return OL_OK;
#else
    (void)buf, (void)count;
    return OL_OK;
#endif
}

int ol_dist_barrier(void) {
#ifdef OL_HAVE_MPI
    if (!dist.active || dist.size <= 1) return OL_OK;
    /* MPI_Barrier busy-polls; a rank waiting for the others would take a core from their work */
    MPI_Request req;
    if (MPI_Ibarrier(MPI_COMM_WORLD, &req) != MPI_SUCCESS) return ol_fail(OL_ESTATE, "MPI_Ibarrier failed");
    for (;;) {
        int done = 0;
        if (MPI_Test(&req, &done, MPI_STATUS_IGNORE) != MPI_SUCCESS) return ol_fail(OL_ESTATE, "MPI_Test failed");
        if (done) return OL_OK;
        sleep_seconds(0.01);
    }
#else
    return OL_OK;
#endif
}

int ol_dist_max_int(int value, int *out) {
    *out = value;
#ifdef OL_HAVE_MPI
    if (!dist.active || dist.size <= 1) return OL_OK;
    if (MPI_Allreduce(&value, out, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD) != MPI_SUCCESS)
        return ol_fail(OL_ESTATE, "MPI_Allreduce (max) failed");
#endif
    return OL_OK;
}

#ifdef OL_HAVE_MPI
/* Collective calls with the same counts on every rank, so none can wait for a call another rank
 * does not make. 0, or OL_ESTATE (on every rank) when MPI fails. */
static int bcast(void *buf, long long count, int root) {
    for (long long done = 0; done < count;) { /* MPI counts are int */
        int n = count - done < (1LL << 30) ? (int)(count - done) : 1 << 30;
        if (MPI_Bcast((char *)buf + done, n, MPI_CHAR, root, MPI_COMM_WORLD) != MPI_SUCCESS)
            return ol_fail(OL_ESTATE, "MPI_Bcast failed");
        done += n;
    }
    return OL_OK;
}

static int max_ll(long long *v, int n) {
    if (MPI_Allreduce(MPI_IN_PLACE, v, n, MPI_LONG_LONG, MPI_MAX, MPI_COMM_WORLD) != MPI_SUCCESS)
        return ol_fail(OL_ESTATE, "MPI_Allreduce (agreement) failed");
    return OL_OK;
}

/* Rank root's value of item i (malloc'ed, NUL-terminated) on every rank; NULL on every rank when
 * one of them has no memory for it (or MPI fails). */
static char *value_of_rank(const char *const *values, int i, int root) {
    long long len = dist.rank == root ? (long long)strlen(values[i]) : 0;
    if (bcast(&len, sizeof len, root)) return NULL;
    char *v = malloc((size_t)len + 1);
    long long no_memory = v == NULL;
    if (max_ll(&no_memory, 1) || no_memory) {
        free(v);
        return NULL;
    }
    if (dist.rank == root) memcpy(v, values[i], (size_t)len);
    if (bcast(v, len, root)) {
        free(v);
        return NULL;
    }
    v[len] = 0;
    return v;
}
#endif

int ol_dist_agree(void *userdata, const char *const *names, const char *const *values, int n) {
    (void)userdata, (void)names, (void)values, (void)n;
#ifdef OL_HAVE_MPI
    if (!dist.active || dist.size <= 1) return OL_OK;
    /* the item count first: a rank of another optlab would make other calls from here on */
    long long counts[2] = {n, -(long long)n};
    if (max_ll(counts, 2)) return OL_ESTATE;
    if (counts[0] != -counts[1])
        return ol_fail(OL_EARG, "the MPI ranks run different optlab programs (%lld and %lld run settings to compare); run the same optlab on every rank",
                       -counts[1], counts[0]);
    /* each item in turn: rank 0's value to every rank, then the first rank that holds another (an
     * item a rank has no memory for counts as differing: every rank then fails the same way) */
    for (int i = 0; i < n; i++) {
        char *ours = value_of_rank(values, i, 0);
        if (!ours) return ol_fail(OL_ENOMEM, "out of memory comparing the MPI ranks' %s", names[i]);
        long long other = strcmp(ours, values[i]) ? dist.size - dist.rank : 0; /* the lowest rank wins the max */
        if (max_ll(&other, 1)) {
            free(ours);
            return OL_ESTATE;
        }
        if (other) {
            int r = dist.size - (int)other;
            char *theirs = value_of_rank(values, i, r);
            int rc = ol_fail(OL_EARG, "the MPI ranks disagree on %s: %.400s on rank 0, %.400s on rank %d; every rank must be given the same settings",
                             names[i], ours, theirs ? theirs : "(out of memory)", r);
            free(ours);
            free(theirs);
            return rc;
        }
        free(ours);
    }
#endif
    return OL_OK;
}

void ol_dist_abort(int status) {
    ol_afile_remove_temps(); /* MPI_Abort kills without running exit's handlers */
    fflush(stdout);
    fflush(stderr);
#ifdef OL_HAVE_MPI
    if (dist.active) MPI_Abort(MPI_COMM_WORLD, status ? status : 1);
#endif
    exit(status);
}

#ifdef OL_HAVE_MPI
static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median_of(double *v, size_t n) {
    if (!n) return 0;
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Rank 0 prints the per-step split. The ranks step together, so a step lasts as long on all of
 * them: its mean is rank 0's compute + wait + all-reduce. Compute and all-reduce are the slowest
 * rank's (the critical path); wait is the rest: ranks idle at the barrier because another rank's
 * compute (load imbalance, a busy core) took longer. Means and medians per step. */
static void timing_report(void) {
    size_t n = dist.n_steps;
    double step = 0, mine[5], hi[5];
    for (size_t i = 0; i < n; i++) step += dist.compute[i] + dist.wait[i] + dist.comm[i];
    mine[0] = mine[1] = 0;
    for (size_t i = 0; i < n; i++) mine[0] += dist.compute[i], mine[1] += dist.comm[i];
    if (n) step /= (double)n, mine[0] /= (double)n, mine[1] /= (double)n;
    mine[2] = median_of(dist.compute, n);
    mine[3] = median_of(dist.comm, n);
    mine[4] = (double)n;
    MPI_Reduce(mine, hi, 5, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
    if (dist.rank == 0 && hi[4] > 0) {
        double bytes = (double)dist.floats * sizeof(float), wait = step - hi[0] - hi[1];
        fprintf(stderr,
                "optlab dist timing: %d ranks, %.0f steps timed, %zu floats (%.1f kB) per all-reduce\n"
                "optlab dist timing: mean per step %.3f ms = compute %.3f + wait %.3f + allreduce %.3f ms (allreduce %.1f%%)\n"
                "optlab dist timing: median per step compute %.3f ms, allreduce %.3f ms\n",
                dist.size, hi[4], dist.floats, bytes / 1e3, 1e3 * step, 1e3 * hi[0], 1e3 * (wait > 0 ? wait : 0), 1e3 * hi[1],
                step > 0 ? 100 * hi[1] / step : 0, 1e3 * hi[2], 1e3 * hi[3]);
    }
}

#endif

void ol_dist_finalize(void) {
#ifdef OL_HAVE_MPI
    if (dist.active) {
        if (dist.timing && dist.size > 1) timing_report();
        fflush(stdout);
        fflush(stderr);
        MPI_Finalize();
        dist.active = 0;
        dist.finalized = 1;
    }
    free(dist.compute);
    free(dist.wait);
    free(dist.comm);
    dist.compute = dist.wait = dist.comm = NULL;
    dist.n_steps = dist.cap = 0;
#endif
}
