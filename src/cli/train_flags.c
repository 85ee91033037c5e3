/* train_flags.c: `optlab train`'s flags, made from the library's settings table
 * (optlab/train_settings.h) plus --checkpoint-every, which sets two fields. The command and the
 * command-line fuzzer (fuzz/fuzz_cli.c) both take their flags from here. */
#include "args.h"

#include <stdio.h>
#include <string.h>

#include "optlab/common.h"
#include "optlab/train_settings.h"

/* --checkpoint-every N | epoch: N > 0 steps, or -1 for "epoch" */
static int parse_every(const char *value, void *target) {
    if (!strcmp(value, "epoch")) {
        *(long *)target = -1;
        return OL_OK;
    }
    return ol_parse_long(value, "--checkpoint-every", 1, 1L << 40, (long *)target);
}

/* a spec flag's value: any text but an empty one (`--schedule ''` was taken as constant while
 * `--opt ''` was refused) */
static int parse_spec_text(const char *value, void *target) {
    if (!*value) return ol_fail(OL_EARG, "an empty spec: give one, or leave the flag out for the default");
    *(const char **)target = value;
    return OL_OK;
}

static const int kinds[] = {[OL_TS_STR] = ARG_STR,   [OL_TS_DOUBLE] = ARG_DOUBLE, [OL_TS_LONG] = ARG_LONG,
                            [OL_TS_U64] = ARG_U64,   [OL_TS_INT] = ARG_INT,       [OL_TS_BOOL] = ARG_BOOL,
                            [OL_TS_CHOICE] = ARG_CUSTOM};

int cli_train_flags(ol_train_config *c, long *every, cli_flag *flags, int *setting_of, int cap) {
    static char help[CLI_TRAIN_MAX_FLAGS][320];
    int n_settings, n = 0;
    const ol_train_setting *table = ol_train_setting_table(&n_settings);
    const ol_train_config defaults = ol_train_default_config();
    for (int i = 0; i < n_settings && n < cap && n < CLI_TRAIN_MAX_FLAGS; i++) {
        const ol_train_setting *s = &table[i];
        char dflt[256] = "";
        if (s->flags & OL_TS_DEFAULT) {
            char v[200];
            if (s->type == OL_TS_DOUBLE) /* the shortest form for reading, not the exact one */
                snprintf(dflt, sizeof dflt, " (default %g)", *(const double *)((const char *)&defaults + s->offset));
            else if (!ol_train_setting_format(s, &defaults, v, sizeof v))
                snprintf(dflt, sizeof dflt, " (default %s)", v);
        }
        snprintf(help[n], sizeof help[n], "%s%s", s->help, dflt);
        int spec = s->type == OL_TS_STR && (s->flags & OL_TS_SPEC);
        flags[n] = (cli_flag){s->flag, spec ? ARG_CUSTOM : kinds[s->type], ol_train_setting_field(s, c), s->metavar, help[n],
                              s->lo, s->hi, spec ? parse_spec_text : s->type == OL_TS_CHOICE ? s->parse : NULL, 0, 0};
        setting_of[n++] = i;
        if (!strcmp(s->name, "checkpoint") && n < cap && n < CLI_TRAIN_MAX_FLAGS) {
            flags[n] = (cli_flag){"--checkpoint-every", ARG_CUSTOM, every, "N|epoch",
                                  "write the checkpoint every N steps or every epoch", 0, 0, parse_every, 0, 0};
            setting_of[n++] = -1;
        }
    }
    return n;
}
