/* step_time.c: where one training step's time goes, phase by phase, against the matrix products
 * alone.
 *
 *   step_time SPEC BATCH OPT [steps] [threads]
 *       e.g. step_time mlp:784-256-10 128 sgd:momentum=0.9 400 1
 *
 * Builds the model, its training graph and the optimizer exactly as `optlab train` does (flat
 * parameter block, one group), on synthetic uint8 images (no dataset needed), and times, over
 * `steps` steps after a warm-up: the batch conversion (ol_data_batch), the forward pass, the
 * backward pass (ol_ad_backward_set, as train) and the optimizer step. It also times the step's matrix
 * products alone (the same cblas_sgemm calls on the same shapes, through ol_gemm_f32) so the rest
 * can be read as overhead. Prints one JSON line; times are medians over blocks of 20 steps, in
 * microseconds per step. Benchmark-only; not part of the library. */
#include <omp.h>

#include "bench_util.h"
#include "optlab/data.h"
#include "optlab/nn.h"
#include "optlab/optim.h"
#include "optlab/rng.h"
#include "optlab/gemm.h"
#include "optlab/parallel.h"
#include "optlab/autodiff.h"
#include "optlab/common.h"

enum { PH_DATA, PH_FWD, PH_BWD, PH_OPT, PH_GEMM, N_PH };
static const char *ph_name[N_PH] = {"data", "forward", "backward", "optimizer", "gemm_only"};
#define BLOCK 20
#define MAX_BLOCKS 1000

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: step_time SPEC BATCH OPT [steps] [threads]\n");
        return 2;
    }
    const char *spec = argv[1], *opt_spec = argv[3];
    int batch = atoi(argv[2]), steps = argc > 4 ? atoi(argv[4]) : 400, threads = argc > 5 ? atoi(argv[5]) : 1;
    if (batch < 1 || steps < BLOCK || threads < 1) {
        fprintf(stderr, "step_time: batch >= 1, steps >= %d, threads >= 1\n", BLOCK);
        return 2;
    }
    int blocks = steps / BLOCK;
    if (blocks > MAX_BLOCKS) blocks = MAX_BLOCKS;
    ol_parallel_set_threads(threads);

    ol_mlp m;
    ol_mlp_graph mg;
    ol_optim *o;
    if (ol_mlp_create(&m, spec, (size_t)1 << 32) || (ol_mlp_init(&m, 1), 0) || ol_mlp_graph_build(&m, &mg, batch, 1) ||
        ol_optim_create(&o, opt_spec, 0.01) || ol_optim_add_group(o, m.params, m.grads, m.n_params, -1, -1)) {
        fprintf(stderr, "step_time: %s\n", ol_error());
        return 1;
    }
    /* synthetic data: n images of the model's input size, labels in range */
    int in = m.sizes[0], classes = m.sizes[m.n_layers];
    ol_dataset d = {.n = 4096, .rows = 1, .cols = (uint32_t)in, .n_classes = classes, .owns = 0};
    d.pixels = bench_alloc((size_t)d.n * in);
    d.labels = bench_alloc(d.n);
    ol_rng r;
    ol_rng_seed(&r, 7);
    for (size_t i = 0; i < (size_t)d.n * in; i++) d.pixels[i] = (uint8_t)(ol_rng_next(&r) >> 56);
    for (uint32_t i = 0; i < d.n; i++) d.labels[i] = (uint8_t)(ol_rng_next(&r) % (uint64_t)classes);
    uint32_t *idx = bench_alloc(sizeof(uint32_t) * (size_t)batch);

    static double t[N_PH][MAX_BLOCKS];
    double acc[N_PH];
    float *x = ol_ad_value(mg.g, mg.x);
    int32_t *y = ol_ad_labels(mg.g, mg.loss);
    /* scratch for the gemm-only timing: the same products as a linear layer's forward and backward */
    size_t maxw = 0;
    for (int l = 0; l < m.n_layers; l++)
        if ((size_t)m.sizes[l] * m.sizes[l + 1] > maxw) maxw = (size_t)m.sizes[l] * m.sizes[l + 1];
    int maxd = 0;
    for (int l = 0; l <= m.n_layers; l++)
        if (m.sizes[l] > maxd) maxd = m.sizes[l];
    float *ga = bench_alloc(sizeof(float) * (size_t)batch * maxd), *gb = bench_alloc(sizeof(float) * (size_t)batch * maxd);
    float *gw = bench_alloc(sizeof(float) * maxw);
    memset(ga, 0, sizeof(float) * (size_t)batch * maxd);
    memset(gb, 0, sizeof(float) * (size_t)batch * maxd);
    memset(gw, 0, sizeof(float) * maxw);

    for (int b = -1; b < blocks; b++) { /* block -1: warm-up */
        memset(acc, 0, sizeof acc);
        for (int s = 0; s < BLOCK; s++) {
            for (int i = 0; i < batch; i++) idx[i] = (uint32_t)(ol_rng_next(&r) % d.n);
            double t0 = bench_now();
            ol_data_batch(&d, idx, (uint32_t)batch, x, y, 0.3f, 3.0f);
            double t2 = bench_now();
            if (ol_ad_forward(mg.g)) goto fail;
            double t3 = bench_now();
            if (ol_ad_backward_set(mg.g, mg.loss, 1.0)) goto fail;
            double t4 = bench_now();
            if (ol_optim_step(o)) goto fail;
            double t5 = bench_now();
            /* the matrix products alone: forward x w, backward x^T d and d w^T (not for the input) */
            for (int l = 0; l < m.n_layers; l++) {
                int k = m.sizes[l], n = m.sizes[l + 1];
                ol_gemm_f32(0, 0, batch, n, k, 1, ga, m.params + m.w_off[l], 0, gb);
                ol_gemm_f32(1, 0, k, n, batch, 1, ga, gb, 1, gw);
                if (l > 0) ol_gemm_f32(0, 1, batch, k, n, 1, gb, m.params + m.w_off[l], 1, ga);
            }
            double t6 = bench_now();
            acc[PH_DATA] += t2 - t0, acc[PH_FWD] += t3 - t2;
            acc[PH_BWD] += t4 - t3, acc[PH_OPT] += t5 - t4, acc[PH_GEMM] += t6 - t5;
        }
        if (b >= 0)
            for (int p = 0; p < N_PH; p++) t[p][b] = acc[p] / BLOCK * 1e6;
    }
    printf("{\"spec\": \"%s\", \"batch\": %d, \"opt\": \"%s\", \"threads\": %d, \"steps\": %d", spec, batch, opt_spec,
           threads, blocks * BLOCK);
    double total = 0, total_min = 0;
    for (int p = 0; p < N_PH; p++) {
        double med = bench_median(t[p], blocks); /* sorts: t[p][0] is then the minimum */
        if (p != PH_GEMM) total += med, total_min += t[p][0];
        printf(", \"%s_us\": %.1f, \"%s_us_min\": %.1f", ph_name[p], med, ph_name[p], t[p][0]);
    }
    printf(", \"step_us\": %.1f, \"step_us_min\": %.1f}\n", total, total_min);
    ol_optim_free(o);
    ol_mlp_graph_free(&mg);
    ol_mlp_free(&m);
    return 0;
fail:
    fprintf(stderr, "step_time: %s\n", ol_error());
    return 1;
}
