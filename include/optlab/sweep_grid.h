/* sweep_grid.h: the grid of a hyperparameter sweep (src/sweep_grid.c): its grammar, checked
 * values, and the settings it spans. The parameters are the settings table's sweepable ones
 * (optlab/train_settings.h). Pure: no files, no processes.
 *
 * The grid: parameters separated by ',' and values by '/':
 *     opt=sgd:momentum=0.9/adam,lr=0.01/0.1/1,batch=32/128
 * Specs hold ',' and ':' themselves (sgd:momentum=0.9,nesterov=1), so the rule is:
 *   - a parameter starts at the beginning or at a ',' directly followed by NAME= where NAME is one
 *     of the parameters below; any other ',' belongs to the value being read;
 *   - values of a spec parameter (opt, schedule, model) are separated by a '/' followed by a letter
 *     (the start of the next spec's name); a '/' followed by anything else stays in the spec (lists
 *     of numbers: multistep:milestones=10/25); values of the other parameters split at every '/'.
 *   - a spec nested in brackets (common.h) is read whole: no ',' or '/' inside [...] ends a
 *     parameter or a value, so schedule=chain:schedules=[step:step_size=9,gamma=0.5]/[exponential:
 *     gamma=0.9]/cosine:t_max=9 is two values (quote the grid for the shell).
 * Parameters: opt, lr, batch (a number or full), schedule, warmup, clip-norm, clip-value, model,
 * sampler (shuffle|iid), normalize (0|1), no-decay-bias (0|1), subset. Those not in the grid take
 * `optlab train`'s defaults (model: the sweep's --model).
 * */
#ifndef OPTLAB_SWEEP_GRID_H
#define OPTLAB_SWEEP_GRID_H

#include <stddef.h>
#include <stdint.h>

#define OL_SWEEP_MAX_PARAMS 12
#define OL_SWEEP_MAX_VALUES 64
#define OL_SWEEP_MAX_TRIALS 100000               /* trials one sweep runs */
#define OL_SWEEP_MAX_SETTINGS ((size_t)1 << 62)   /* settings a grid may hold (--random draws from them) */

/* A parsed grid; values point into text (a copy of the grid with NULs between the values). */
typedef struct {
    int n_params;
    const char *name[OL_SWEEP_MAX_PARAMS];
    int n_values[OL_SWEEP_MAX_PARAMS];
    const char *value[OL_SWEEP_MAX_PARAMS][OL_SWEEP_MAX_VALUES];
    char text[4096];
} ol_sweep_grid;

/* Parses and checks a grid (names, numbers, and every spec value by creating it). */
int ol_sweep_grid_parse(ol_sweep_grid *grid, const char *text);
/* Number of settings (the product of the value counts). */
size_t ol_sweep_grid_count(const ol_sweep_grid *grid);
/* value_index[p] of setting number combo (the first parameter varies slowest). */
void ol_sweep_grid_setting(const ol_sweep_grid *grid, size_t combo, int *value_index);
/* n distinct setting numbers out of [0, count), in increasing order: the first n of a Fisher-Yates
 * shuffle seeded with seed. The shuffle is kept sparse (only the positions it moved), so memory and
 * time are O(n) however large count is. OL_ENOMEM, or OL_OK. */
int ol_sweep_grid_draw(size_t count, size_t n, uint64_t seed, size_t *out);

#endif
