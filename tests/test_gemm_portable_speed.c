/* test_gemm_portable_speed.c: the portable matrix product made faster (issue 18: register tiles over
 * packed panels of B) keeps its bytes: CRC-32s recorded from the kernel before the change (commit
 * ea60889, ol_play_gemm_digest) for shapes at every edge of the new tiles; and the product's timer
 * for `make bench-play` (ol_play_gemm_seconds). */
#include <math.h>
#include <stdint.h>

#include "optlab/common.h"
#include "optlab/gemm.h"
#include "optlab/parallel.h"
#include "optlab/play.h"
#include "test.h"

/* m, n, k, trans_a, trans_b, precision, seed, the old kernel's digest: rows past a tile of 4, columns
 * past 8 and 16 (float32) or 4 and 8 (float64), k = 1, every transposition, the products of training
 * a 784-100-100-10 MLP at batch 128 (the big ones on threads) */
static const struct {
    int m, n, k, ta, tb, prec;
    uint32_t seed, crc;
} pinned[] = {
    {3, 9, 17, 0, 1, 32, 388, 3042748560u},   {3, 9, 17, 0, 1, 64, 389, 1602938069u},
    {5, 17, 1, 0, 0, 32, 602, 351608788u},    {5, 17, 1, 0, 0, 64, 603, 1015089745u},
    {5, 17, 1, 1, 1, 32, 608, 1157700282u},   {5, 17, 1, 1, 1, 64, 609, 2733146985u},
    {9, 33, 2, 1, 0, 32, 374, 3531661225u},   {9, 33, 2, 0, 1, 64, 373, 2550291703u},
    {17, 7, 1, 1, 0, 32, 766, 2796284503u},   {17, 7, 1, 1, 0, 64, 767, 16363720u},
    {128, 100, 784, 0, 0, 32, 722, 2520528715u}, {128, 100, 784, 0, 0, 64, 723, 3349959356u},
    {784, 100, 128, 1, 0, 32, 724, 986551632u}, {784, 100, 128, 1, 0, 64, 725, 3157873702u},
    {128, 100, 100, 0, 1, 32, 728, 2444436964u}, {100, 10, 128, 1, 0, 32, 736, 1298656025u},
    {257, 129, 65, 1, 1, 32, 768, 1454662014u}, {257, 129, 65, 1, 1, 64, 769, 1410218480u},
    {61, 67, 71, 1, 0, 32, 774, 338723665u},   {61, 67, 71, 1, 0, 64, 775, 2615592232u},
};

TEST(portable_gemm_keeps_the_bytes_of_the_kernel_before_the_speed_up) {
    int threads_before = ol_parallel_threads();
    CHECK(ol_gemm_set_kernel("portable") == OL_OK);
    for (int t = 1; t <= 2; t++) {
        ol_parallel_set_threads(t);
        for (size_t i = 0; i < sizeof pinned / sizeof pinned[0]; i++) {
            uint32_t got = ol_play_gemm_digest(pinned[i].m, pinned[i].n, pinned[i].k, pinned[i].ta, pinned[i].tb,
                                               pinned[i].prec, pinned[i].seed);
            CHECK_MSG(got == pinned[i].crc, "%dx%dx%d ta %d tb %d float%d, %d threads: CRC %u, before %u",
                      pinned[i].m, pinned[i].n, pinned[i].k, pinned[i].ta, pinned[i].tb, pinned[i].prec, t,
                      (unsigned)got, (unsigned)pinned[i].crc);
        }
    }
    ol_parallel_set_threads(threads_before);
    CHECK(ol_gemm_set_kernel("auto") == OL_OK);
}

/* seconds per product: positive and finite for a product, 0 for what ol_play_gemm_digest refuses
 * and for no round or no repetition */
TEST(play_gemm_seconds_times_a_product) {
    double s = ol_play_gemm_seconds(64, 48, 100, 1, 0, 32, 2, 3);
    CHECK_MSG(s > 0 && isfinite(s), "seconds %g", s);
    CHECK(ol_play_gemm_seconds(8, 8, 8, 0, 1, 64, 1, 1) > 0);
    CHECK(ol_play_gemm_seconds(0, 8, 8, 0, 0, 32, 1, 1) == 0);
    CHECK(ol_play_gemm_seconds(8, 8, 4097, 0, 0, 32, 1, 1) == 0);
    CHECK(ol_play_gemm_seconds(8, 8, 8, 0, 0, 32, 0, 1) == 0);
    CHECK(ol_play_gemm_seconds(8, 8, 8, 0, 0, 32, 1, 0) == 0);
}
