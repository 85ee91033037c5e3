/* dist.h: the MPI layer: one process per rank under `mpirun`, a sum all-reduce of float buffers for
 * data-parallel training (ol_train_config.allreduce), a barrier that does not spin, and the way a
 * failing rank ends the whole job. Deliberately small: no communicators, no point-to-point.
 *
 * Built with MPI when compiled with -DOL_HAVE_MPI (make MPI=1, or automatically where mpicc exists).
 * Without it every function is a single-process no-op, and ol_dist_init refuses a launch by mpirun
 * with more than one process ("this optlab was built without MPI").
 *
 * MPI is initialized only when the process was started by an MPI launcher (its environment holds
 * OMPI_COMM_WORLD_SIZE, PMIX_RANK or PMI_RANK), so a plain `optlab train` never touches MPI.
 * OPTLAB_DIST=0 in the environment turns that detection off (the sweep sets it for its trials).
 *
 * Environment switches (read by ol_dist_init):
 *   OPTLAB_DIST_TIMING=1  time each step (MPI_Wtime): the compute since the last all-reduce, a
 *                         barrier (the wait for the slowest rank; timing mode only) and the
 *                         all-reduce itself; rank 0 prints the split (means, medians) at finalize
 *   OPTLAB_DIST_CHECK=1   after every all-reduce, check that all ranks hold the same bytes (a
 *                         CRC of the result compared with MPI_MIN/MPI_MAX); a mismatch fails the step */
#ifndef OPTLAB_DIST_H
#define OPTLAB_DIST_H

#include <signal.h>
#include <stddef.h>

/* 1 when this optlab was compiled with MPI. */
int ol_dist_compiled(void);

/* Initializes MPI when launched by an MPI launcher (see above); otherwise rank 0 of 1 and nothing to
 * do. Returns OL_EARG (with message) when started by a launcher with more than one process in a
 * build without MPI, OL_ESTATE when MPI_Init fails. Call once, before anything else reads argv. */
int ol_dist_init(int *argc, char ***argv);
int ol_dist_rank(void);        /* this process's rank, 0 without MPI */
int ol_dist_size(void);        /* number of processes, 1 without MPI */
int ol_dist_local_size(void);  /* processes of this job on this machine, 1 without MPI */

/* buf[0..count) = sum over all ranks, in place (MPI_Allreduce, MPI_IN_PLACE, MPI_FLOAT, MPI_SUM):
 * one call per training step over the flat gradient block; the signature of
 * ol_train_config.allreduce (userdata unused). Every rank gets the same bytes. Alongside it the ranks
 * agree on the stop request (see ol_dist_watch_stop). Returns 0 or OL_ESTATE with a message. */
int ol_dist_allreduce(void *userdata, float *buf, size_t count);

/* Data-parallel stop: signals reach the ranks at different moments, but all of them must stop after
 * the same step (the others would wait forever in the next all-reduce). local is the flag the
 * signal handler sets; each all-reduce also takes its maximum over the ranks, which is what the
 * returned flag holds: hand it to ol_train_config.stop. Without MPI it returns local. */
volatile sig_atomic_t *ol_dist_watch_stop(volatile sig_atomic_t *local);

/* Waits until every rank has arrived, sleeping (not spinning) meanwhile, so a rank that waits here
 * leaves its core to the processes that still work. 0 or OL_ESTATE. */
int ol_dist_barrier(void);
/* Maximum over the ranks of a value (e.g. an exit status), every rank gets it. */
int ol_dist_max_int(int value, int *out);

/* Whether every rank holds the same n values (names[i] says what values[i] is, for the message):
 * mpirun -np 1 A : -np 1 B gives the ranks different command lines, and ranks that train or sweep
 * different runs give a wrong model, hang in an all-reduce the others never make, or corrupt the
 * heap (an all-reduce of another size). Collective, in calls whose counts every rank knows
 * (first the item count, then item by item rank 0's value broadcast, compared everywhere, and a
 * maximum naming the lowest rank that differs), so it cannot hang however the ranks differ; every
 * rank returns the same: OL_OK, or OL_EARG with "the MPI ranks disagree on NAME: A on rank 0, B on
 * rank R; every rank must be given the same settings" for the first item that differs (OL_ENOMEM,
 * OL_ESTATE when memory or MPI fails). The signature of ol_train_config.agree (userdata unused).
 * Without MPI, or one rank: OL_OK. */
int ol_dist_agree(void *userdata, const char *const *names, const char *const *values, int n);

/* Ends the whole job now with exit status status: MPI_Abort when MPI is active (every rank is
 * killed, none is left waiting), exit(status) otherwise. For the command line only. */
void ol_dist_abort(int status) __attribute__((noreturn));

/* Prints the timing summary (OPTLAB_DIST_TIMING=1, rank 0, stderr) and finalizes MPI. Collective:
 * every rank calls it. Safe without MPI and when called twice. */
void ol_dist_finalize(void);

#endif
