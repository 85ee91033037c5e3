/* sweep_grid.c: a sweep's grid: grammar, checks, settings; see include/optlab/sweep_grid.h. */
#include "optlab/sweep_grid.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "optlab/common.h"
#include "optlab/nn.h"
#include "optlab/optim.h"
#include "optlab/rng.h"
#include "optlab/train_settings.h"

/* ---- the parameters a grid may vary: the settings table's OL_TS_SWEEP entries ---- */

/* The sweepable setting whose "NAME=" starts at s, or NULL. */
static const ol_train_setting *param_at(const char *s) {
    int n;
    const ol_train_setting *t = ol_train_setting_table(&n);
    for (int k = 0; k < n; k++) {
        size_t len = strlen(t[k].name);
        if ((t[k].flags & OL_TS_SWEEP) && !strncmp(s, t[k].name, len) && s[len] == '=') return &t[k];
    }
    return NULL;
}

/* "opt, lr, ..." for messages */
static const char *known_list(void) {
    static char list[512];
    if (!list[0]) {
        int n;
        const ol_train_setting *t = ol_train_setting_table(&n);
        size_t len = 0;
        for (int k = 0; k < n; k++)
            if (t[k].flags & OL_TS_SWEEP)
                len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", len ? ", " : "", t[k].name);
    }
    return list;
}

/* Checks one value of a parameter: a spec by creating it, anything else by its setting's parser
 * (and a number must be >= 0). */
static int check_value(const ol_train_setting *s, const char *v) {
    const char *name = s->name;
    if (!(s->flags & OL_TS_SPEC)) {
        char what[64];
        snprintf(what, sizeof what, "--grid %s", name);
        ol_train_config scratch = ol_train_default_config();
        int rc = ol_train_setting_parse(s, v, &scratch, what);
        if (rc) return rc;
        if (s->type == OL_TS_DOUBLE && *(double *)ol_train_setting_field(s, &scratch) < 0)
            return ol_fail(OL_EARG, "--grid %s: %s is negative", name, v);
        return OL_OK;
    }
    /* a spec: let its own parser judge it */
    int rc;
    char why[900];
    if (!strcmp(name, "model")) {
        ol_mlp m;
        rc = ol_mlp_create(&m, v, (size_t)8 << 30);
        if (!rc) ol_mlp_free(&m);
    } else {
        ol_optim *o = NULL;
        rc = ol_optim_create(&o, !strcmp(name, "opt") ? v : "sgd", 0.1);
        if (!rc && !strcmp(name, "schedule")) rc = ol_optim_set_schedule(o, v, 0);
        ol_optim_free(o);
    }
    if (rc) {
        snprintf(why, sizeof why, "%s", ol_error());
        return ol_fail(OL_EARG, "--grid %s: '%s': %s", name, v, why);
    }
    return OL_OK;
}

/* 1 when two values of a numeric parameter are the same number written twice (lr=0.10/0.1) */
static int same_number(const ol_train_setting *s, const char *a, const char *b) {
    if (s->type != OL_TS_DOUBLE && s->type != OL_TS_LONG && s->type != OL_TS_INT) return 0;
    char *ea, *eb;
    double x = strtod(a, &ea), y = strtod(b, &eb);
    return ea != a && eb != b && !*ea && !*eb && x == y;
}

int ol_sweep_grid_parse(ol_sweep_grid *g, const char *text) {
    memset(g, 0, sizeof *g);
    if (!text || !*text) return ol_fail(OL_EARG, "--grid is empty; e.g. --grid 'opt=sgd/adam,lr=0.01/0.1'");
    size_t len = strlen(text);
    if (len >= sizeof g->text) return ol_fail(OL_EARG, "--grid is longer than %zu characters", sizeof g->text - 1);
    memcpy(g->text, text, len + 1);
    char *s = g->text;
    if (!param_at(s)) {
        const char *eq = strchr(s, '=');
        return ol_fail(OL_EARG, "--grid must start with a parameter NAME=values; '%.*s' is not one of: %s",
                       eq ? (int)(eq - s) : (int)strlen(s), s, known_list());
    }
    while (*s) {
        const ol_train_setting *k = param_at(s);
        if (g->n_params == OL_SWEEP_MAX_PARAMS) return ol_fail(OL_EARG, "--grid: more than %d parameters", OL_SWEEP_MAX_PARAMS);
        for (int p = 0; p < g->n_params; p++)
            if (!strcmp(g->name[p], k->name)) return ol_fail(OL_EARG, "--grid: parameter %s given twice", k->name);
        int p = g->n_params++;
        g->name[p] = k->name;
        char *v = s + strlen(k->name) + 1, *end = v;
        /* the values run to the next ",NAME=" of a known parameter outside brackets (a nested spec,
         * [...], is read whole) */
        for (int depth = 0; *end && !(depth == 0 && *end == ',' && param_at(end + 1)); end++)
            depth += *end == '[' ? 1 : *end == ']' && depth > 0 ? -1 : 0;
        char *next = *end ? end + 1 : end;
        *end = 0;
        /* split at '/': outside brackets and before a letter for specs, everywhere otherwise */
        int spec = (k->flags & OL_TS_SPEC) != 0, depth = 0;
        char *start = v;
        for (char *c = v;; c++) {
            depth += *c == '[' ? 1 : *c == ']' && depth > 0 ? -1 : 0;
            int split = *c == 0 || (*c == '/' && (!spec || (depth == 0 && isalpha((unsigned char)c[1]))));
            if (!split) continue;
            int last = *c == 0;
            *c = 0;
            if (!*start) return ol_fail(OL_EARG, "--grid %s: an empty value (check the '/' and ',')", g->name[p]);
            if (g->n_values[p] == OL_SWEEP_MAX_VALUES)
                return ol_fail(OL_EARG, "--grid %s: more than %d values", g->name[p], OL_SWEEP_MAX_VALUES);
            for (int j = 0; j < g->n_values[p]; j++)
                if (!strcmp(g->value[p][j], start) || same_number(k, g->value[p][j], start))
                    return ol_fail(OL_EARG, "--grid %s: value %s given twice", g->name[p], start);
            g->value[p][g->n_values[p]++] = start;
            if (last) break;
            start = c + 1;
        }
        for (int j = 0; j < g->n_values[p]; j++) {
            int rc = check_value(k, g->value[p][j]);
            if (rc) return rc;
        }
        s = next;
    }
    /* a grid too large to run whole is fine here: --random draws from it (the runner decides) */
    size_t count = 1;
    for (int p = 0; p < g->n_params; p++) {
        if (count > OL_SWEEP_MAX_SETTINGS / (size_t)g->n_values[p])
            return ol_fail(OL_EARG, "--grid has over 2^62 settings; give fewer values");
        count *= (size_t)g->n_values[p];
    }
    return OL_OK;
}

size_t ol_sweep_grid_count(const ol_sweep_grid *g) {
    size_t count = 1;
    for (int p = 0; p < g->n_params; p++) count *= (size_t)g->n_values[p];
    return count;
}

void ol_sweep_grid_setting(const ol_sweep_grid *g, size_t combo, int *value_index) {
    for (int p = g->n_params - 1; p >= 0; p--) {
        value_index[p] = (int)(combo % (size_t)g->n_values[p]);
        combo /= (size_t)g->n_values[p];
    }
}


/* ---- drawing settings: a sparse Fisher-Yates shuffle ---- */

/* The positions the shuffle moved: position -> what sits there now (open addressing; an absent
 * position holds itself). */
typedef struct {
    size_t *key, *val, mask;
} moved_map;

static size_t *moved_slot(const moved_map *m, size_t pos) {
    size_t h = (size_t)(((uint64_t)pos * 0x9E3779B97F4A7C15u) >> 20) & m->mask;
    while (m->key[h] != SIZE_MAX && m->key[h] != pos) h = (h + 1) & m->mask;
    return &m->key[h];
}

static size_t moved_get(const moved_map *m, size_t pos) {
    size_t *k = moved_slot(m, pos);
    return *k == SIZE_MAX ? pos : m->val[k - m->key];
}

static void moved_put(moved_map *m, size_t pos, size_t v) {
    size_t *k = moved_slot(m, pos);
    *k = pos;
    m->val[k - m->key] = v;
}

static int cmp_size(const void *a, const void *b) {
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return (x > y) - (x < y);
}

int ol_sweep_grid_draw(size_t count, size_t n, uint64_t seed, size_t *out) {
    if (n > count) n = count;
    /* each step moves at most one position that a later step can read: n entries, half full */
    size_t cap = 2;
    while (cap < 2 * n) cap *= 2;
    moved_map m = {ol_malloc_array(cap, sizeof(size_t)), ol_malloc_array(cap, sizeof(size_t)), cap - 1};
    if (!m.key || !m.val) {
        free(m.key), free(m.val);
        return OL_ENOMEM;
    }
    memset(m.key, 0xff, cap * sizeof(size_t)); /* SIZE_MAX: empty */
    ol_rng rng;
    ol_rng_seed(&rng, seed);
    for (size_t i = 0; i < n; i++) { /* swap positions i and j, as the dense shuffle does */
        size_t j = i + (size_t)ol_rng_below(&rng, count - i);
        size_t at_i = moved_get(&m, i);
        out[i] = moved_get(&m, j);
        moved_put(&m, j, at_i); /* position i is never read again */
    }
    free(m.key), free(m.val);
    qsort(out, n, sizeof *out, cmp_size);
    return OL_OK;
}
