/* optim_example.c: logistic regression on synthetic data with the optimizer API alone.
 *
 * Plain float arrays, a hand-written gradient (no autodiff): the weights live in one flat block
 * w = (w_0..w_{d-1}, b) and so does their gradient, which is what ol_optim_add_group takes.
 * AdamW with a cosine schedule after a short warm-up, gradient norm clipped at 5; prints the
 * loss as it goes down. Build: make (into build/examples/optim_example), or
 *   cc -std=c11 -O2 -D_GNU_SOURCE -Iinclude examples/optim_example.c src/optim.c src/optim_torch2.c \
 *      src/optim_lbfgs.c src/schedule.c src/common.c src/rng.c -lz -lm */
#include "optlab/common.h"
#include "optlab/optim.h"
#include "optlab/rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

enum { N_EXAMPLES = 2000, DIM = 10, EPOCHS = 30, BATCH = 100 };

/* Labels from a hidden linear rule plus noise: y = [w_true . x + b_true + 0.5 z > 0]. */
static void make_data(float *x, float *y, ol_rng *rng) {
    double w_true[DIM];
    for (int j = 0; j < DIM; j++) w_true[j] = ol_rng_normal(rng);
    for (int i = 0; i < N_EXAMPLES; i++) {
        double s = 0.3;
        for (int j = 0; j < DIM; j++) {
            x[i * DIM + j] = (float)ol_rng_normal(rng);
            s += w_true[j] * x[i * DIM + j];
        }
        y[i] = s + 0.5 * ol_rng_normal(rng) > 0 ? 1.0f : 0.0f;
    }
}

/* Mean cross-entropy of examples [lo, hi) and, if grad, its gradient (w, b) into grad. */
static double loss_and_grad(const float *w, const float *x, const float *y, int lo, int hi, float *grad) {
    double loss = 0;
    if (grad)
        for (int j = 0; j <= DIM; j++) grad[j] = 0;
    for (int i = lo; i < hi; i++) {
        double z = w[DIM];
        for (int j = 0; j < DIM; j++) z += (double)w[j] * x[i * DIM + j];
        double p = 1 / (1 + exp(-z));
        loss += z > 0 ? log1p(exp(-z)) + (1 - y[i]) * z : log1p(exp(z)) - y[i] * z;   /* stable BCE */
        if (grad) {
            float r = (float)((p - y[i]) / (hi - lo));   /* d loss / d z */
            for (int j = 0; j < DIM; j++) grad[j] += r * x[i * DIM + j];
            grad[DIM] += r;
        }
    }
    return loss / (hi - lo);
}

int main(void) {
    float *x = malloc(sizeof(float) * N_EXAMPLES * DIM), *y = malloc(sizeof(float) * N_EXAMPLES);
    float w[DIM + 1] = {0}, grad[DIM + 1];
    if (!x || !y) return 1;
    ol_rng rng;
    ol_rng_seed(&rng, 1);
    make_data(x, y, &rng);

    int steps_per_epoch = N_EXAMPLES / BATCH;
    ol_optim *opt;
    int rc = ol_optim_create(&opt, "adamw:weight_decay=0.01", 0.05);
    if (!rc) rc = ol_optim_add_group(opt, w, grad, DIM + 1, -1, -1);
    if (!rc) rc = ol_optim_set_schedule(opt, "cosine:t_max=500", 100);   /* 600 steps in all */
    if (!rc) rc = ol_optim_set_clip(opt, 5.0, 0);
    if (rc) {
        fprintf(stderr, "optim_example: %s\n", ol_error());
        return 1;
    }
    printf("epoch  loss      lr        |grad|\n");
    printf("%5d  %.6f  %.6f  -\n", 0, loss_and_grad(w, x, y, 0, N_EXAMPLES, NULL), ol_optim_get_lr(opt, 0));
    for (int epoch = 1; epoch <= EPOCHS; epoch++) {
        for (int s = 0; s < steps_per_epoch; s++) {
            loss_and_grad(w, x, y, s * BATCH, (s + 1) * BATCH, grad);
            if ((rc = ol_optim_step(opt))) {
                fprintf(stderr, "optim_example: %s\n", ol_error());
                return 1;
            }
        }
        if (epoch % 3 == 0 || epoch == 1)
            printf("%5d  %.6f  %.6f  %.4f\n", epoch, loss_and_grad(w, x, y, 0, N_EXAMPLES, NULL),
                   ol_optim_get_lr(opt, 0), ol_optim_last_grad_norm(opt));
    }
    int correct = 0;
    for (int i = 0; i < N_EXAMPLES; i++) {
        double z = w[DIM];
        for (int j = 0; j < DIM; j++) z += (double)w[j] * x[i * DIM + j];
        correct += (z > 0) == (y[i] > 0.5f);
    }
    printf("training accuracy %.1f%% after %ld steps\n", 100.0 * correct / N_EXAMPLES, ol_optim_step_count(opt));
    ol_optim_free(opt);
    free(x);
    free(y);
    return 0;
}
