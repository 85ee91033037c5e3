/* allreduce_bench.c: MPI_Allreduce (MPI_IN_PLACE, MPI_FLOAT, MPI_SUM) of one buffer of each size,
 * as optlab's data-parallel step does it; prints the median and the best time per call and the
 * bus bandwidth they imply under the ring model, 2 (P-1)/P x bytes / time. For docs/scaling.md
 * (scripts/scaling.sh builds and runs it). Not part of optlab.
 *   mpicc -O2 -o allreduce_bench scripts/allreduce_bench.c && mpirun -np 2 ./allreduce_bench */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    /* gradient sizes of mlp:784-64-10, 784-256-10, 784-1024-1024-10, and a 10M-parameter model */
    const long counts[] = {1024, 50891, 203531, 1863691, 10000001};
    const int reps = 50;
    float *buf = malloc(sizeof(float) * 10000001);
    double t[50];
    if (rank == 0) printf("%12s %12s %12s %12s %16s\n", "floats", "bytes", "median (ms)", "best (ms)", "bus GB/s (best)");
    for (int k = 0; k < 5; k++) {
        long n = counts[k];
        for (long i = 0; i < n; i++) buf[i] = (float)(rank + 1) * 1e-3f;
        MPI_Allreduce(MPI_IN_PLACE, buf, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD); /* warm-up */
        for (int r = 0; r < reps; r++) {
            MPI_Barrier(MPI_COMM_WORLD);
            double t0 = MPI_Wtime();
            MPI_Allreduce(MPI_IN_PLACE, buf, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
            t[r] = MPI_Wtime() - t0;
        }
        double mine[2], worst[2];
        qsort(t, reps, sizeof t[0], cmp);
        mine[0] = t[reps / 2], mine[1] = t[0];
        MPI_Reduce(mine, worst, 2, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
        double bytes = 4.0 * (double)n, moved = 2.0 * (size - 1) / size * bytes;
        if (rank == 0)
            printf("%12ld %12.0f %12.3f %12.3f %16.2f\n", n, bytes, 1e3 * worst[0], 1e3 * worst[1], moved / worst[1] / 1e9);
    }
    free(buf);
    MPI_Finalize();
    return 0;
}
