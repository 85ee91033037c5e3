/* parallel.h: how many threads optlab's parallel work uses (src/parallel.c): the matrix products'
 * strips and blocks, the element-wise loops, the optimizer's chunks, the labs' models. Results do
 * not depend on this number: every reduction runs in an order fixed by the sizes. */
#ifndef OPTLAB_PARALLEL_H
#define OPTLAB_PARALLEL_H

#define OL_PARALLEL_MAX_THREADS 1024   /* the most any count may be (--threads' range, and the environment's) */

/* Sets the count (OpenMP's, for the calling thread and the teams it starts); <= 0 leaves it. */
void ol_parallel_set_threads(int threads);
/* The count set, or OpenMP's default (all cores unless OMP_NUM_THREADS says otherwise). */
int ol_parallel_threads(void);
/* Caps the count OpenMP took from the environment (OMP_NUM_THREADS) at OL_PARALLEL_MAX_THREADS:
 * libgomp crashes starting 100,000 threads. Call before any parallel work; returns the count
 * asked for when it capped it, else 0. */
int ol_parallel_cap_environment(void);

#endif
