/* plot_isolines.c: marching squares: the polylines where a grid of values crosses a level, pure
 * (plot_parts.h); src/plot.c draws them over the heat map, tests/test_plot_parts.c checks them. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "optlab/common.h"
#include "plot_parts.h"

/* Edge ids: horizontal edges (i,j)-(i+1,j) first, then vertical (i,j)-(i,j+1). */
typedef struct {
    int nx, ny;
    size_t n_h;
} grid_edges;

static size_t edge_h(const grid_edges *e, int i, int j) { return (size_t)j * (size_t)(e->nx - 1) + (size_t)i; }
static size_t edge_v(const grid_edges *e, int i, int j) { return e->n_h + (size_t)j * (size_t)e->nx + (size_t)i; }

void plot_isoline_point(const double *z, int nx, int ny, double level, size_t id, double *gx, double *gy) {
    size_t n_h = (size_t)(nx - 1) * (size_t)ny;
    int i, j, i2, j2;
    if (id < n_h) {
        j = (int)(id / (size_t)(nx - 1)); i = (int)(id % (size_t)(nx - 1)); i2 = i + 1; j2 = j;
    } else {
        size_t k = id - n_h;
        j = (int)(k / (size_t)nx); i = (int)(k % (size_t)nx); i2 = i; j2 = j + 1;
    }
    double z0 = z[(size_t)j * (size_t)nx + (size_t)i], z1 = z[(size_t)j2 * (size_t)nx + (size_t)i2];
    double t = z1 != z0 ? (level - z0) / (z1 - z0) : 0.5;
    if (t < 0) t = 0;
    if (t > 1) t = 1;
    *gx = i + t * (i2 - i);
    *gy = j + t * (j2 - j);
}

int plot_isolines(const double *zv, int nx, int ny, double level,
                  void (*emit)(void *userdata, const size_t *edges, size_t n, int closed), void *userdata) {
    grid_edges e = {nx, ny, (size_t)(nx - 1) * (size_t)ny};
    size_t n_edges = e.n_h + (size_t)nx * (size_t)(ny - 1);
    size_t n_cells = (size_t)(nx - 1) * (size_t)(ny - 1);
    int *edge_seg = ol_malloc_array(n_edges, 2 * sizeof(int));
    size_t (*seg)[2] = ol_malloc_array(2 * n_cells + 1, sizeof *seg);
    unsigned char *used = ol_malloc_array(2 * n_cells + 1, 1);
    size_t *chain = ol_malloc_array(4 * n_cells + 4, sizeof *chain); /* a deque grown both ways from its middle */
    if (!edge_seg || !seg || !used || !chain) {
        free(edge_seg); free(seg); free(used); free(chain);
        return OL_ENOMEM;
    }
    size_t n_seg = 0;
    for (size_t k = 0; k < 2 * n_edges; k++) edge_seg[k] = -1;
    for (int j = 0; j + 1 < ny; j++)
        for (int i = 0; i + 1 < nx; i++) {
            double za = zv[(size_t)j * nx + i], zb = zv[(size_t)j * nx + i + 1];
            double zc = zv[(size_t)(j + 1) * nx + i + 1], zd = zv[(size_t)(j + 1) * nx + i];
            if (isnan(za) || isnan(zb) || isnan(zc) || isnan(zd)) continue;
            int idx = (za > level) | (zb > level) << 1 | (zc > level) << 2 | (zd > level) << 3;
            if (idx == 0 || idx == 15) continue;
            size_t ed[4] = {edge_h(&e, i, j), edge_v(&e, i + 1, j), edge_h(&e, i, j + 1), edge_v(&e, i, j)};
            int pairs[4], np = 0;
            int center_above = (za + zb + zc + zd) / 4 > level;
            switch (idx) {
            case 1: case 14: pairs[np++] = 0; pairs[np++] = 3; break;
            case 2: case 13: pairs[np++] = 0; pairs[np++] = 1; break;
            case 3: case 12: pairs[np++] = 3; pairs[np++] = 1; break;
            case 4: case 11: pairs[np++] = 1; pairs[np++] = 2; break;
            case 6: case 9: pairs[np++] = 0; pairs[np++] = 2; break;
            case 7: case 8: pairs[np++] = 2; pairs[np++] = 3; break;
            case 5: /* a, c above: saddle */
                if (center_above) { pairs[0] = 0; pairs[1] = 1; pairs[2] = 2; pairs[3] = 3; }
                else { pairs[0] = 0; pairs[1] = 3; pairs[2] = 1; pairs[3] = 2; }
                np = 4;
                break;
            case 10: /* b, d above: saddle */
                if (center_above) { pairs[0] = 0; pairs[1] = 3; pairs[2] = 1; pairs[3] = 2; }
                else { pairs[0] = 0; pairs[1] = 1; pairs[2] = 2; pairs[3] = 3; }
                np = 4;
                break;
            }
            for (int q = 0; q < np; q += 2) {
                size_t a = ed[pairs[q]], bb = ed[pairs[q + 1]];
                seg[n_seg][0] = a;
                seg[n_seg][1] = bb;
                for (int w = 0; w < 2; w++) {
                    size_t id = w ? bb : a;
                    if (edge_seg[2 * id] < 0) edge_seg[2 * id] = (int)n_seg;
                    else edge_seg[2 * id + 1] = (int)n_seg;
                }
                n_seg++;
            }
        }
    memset(used, 0, n_seg ? n_seg : 1);
    for (size_t s0 = 0; s0 < n_seg; s0++) {
        if (used[s0]) continue;
        /* walk both ways from segment s0 through shared edges; chain holds edge ids */
        size_t head = 2 * n_cells + 2, tail = head;
        chain[tail++] = seg[s0][0];
        chain[tail++] = seg[s0][1];
        used[s0] = 1;
        int closed = 0;
        for (int dir = 0; dir < 2 && !closed; dir++) {
            for (;;) {
                size_t end = dir == 0 ? chain[tail - 1] : chain[head];
                int next = -1;
                for (int w = 0; w < 2; w++) {
                    int sidx = edge_seg[2 * end + w];
                    if (sidx >= 0 && !used[sidx]) { next = sidx; break; }
                }
                if (next < 0) break;
                used[next] = 1;
                size_t other = seg[next][0] == end ? seg[next][1] : seg[next][0];
                if (dir == 0) {
                    if (other == chain[head]) { closed = 1; break; }
                    chain[tail++] = other;
                } else {
                    if (head == 0) break;
                    chain[--head] = other;
                }
            }
        }
        emit(userdata, chain + head, tail - head, closed);
    }
    free(edge_seg); free(seg); free(used); free(chain);
    return OL_OK;
}
