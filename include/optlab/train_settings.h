/* train_settings.h: the settings of a training run, the fields of ol_train_config, as one table
 * (src/train_settings.c): name, type, range, help and where each is stored. `optlab train`'s
 * flags and their help, the settings a checkpoint stores and --resume checks, the parameters a
 * sweep may vary and the fuzzer's flag table are all made from it: a new setting is its field in
 * ol_train_config plus one line of the table. */
#ifndef OPTLAB_TRAIN_SETTINGS_H
#define OPTLAB_TRAIN_SETTINGS_H

#include <stddef.h>

#include "optlab/common.h"
#include "optlab/train.h"

enum {
    OL_TS_STR,     /* const char * (NULL: unset; null_text is its text) */
    OL_TS_DOUBLE,  /* double, a finite number */
    OL_TS_LONG,    /* long in [lo, hi] */
    OL_TS_U64,     /* uint64_t */
    OL_TS_INT,     /* int in [lo, hi] */
    OL_TS_BOOL,    /* int 0/1: a flag without a value on the command line, "0"/"1" in text */
    OL_TS_CHOICE,  /* parse/format functions of its own (--batch N|full, --sampler, ...) */
};
enum {
    OL_TS_RUN = 1,      /* defines the run's bits: stored in checkpoints, checked on --resume */
    OL_TS_SWEEP = 2,    /* a sweep grid may vary it */
    OL_TS_SPEC = 4,     /* its values are specs ("adam:beta2=0.99"), checked by their own parser */
    OL_TS_DEFAULT = 8,  /* the help names the default (ol_train_default_config's value) */
    OL_TS_SPARSE = 16,  /* with OL_TS_RUN: in the settings text only when not the default, so the
                         * checkpoints of runs that leave it alone keep the text they had before it */
    OL_TS_RANKS = 32,   /* not OL_TS_RUN, but the processes of a data-parallel run must share it
                           (they roll back together); OL_TS_RUN settings must be shared too */
};

typedef struct {
    const char *name;        /* "lr": the checkpoint's and the sweep's key */
    const char *flag;        /* "--lr" */
    int type;                /* OL_TS_* */
    size_t offset;           /* of the field in ol_train_config */
    long lo, hi;             /* OL_TS_LONG / OL_TS_INT range */
    int (*parse)(const char *text, void *field);             /* OL_TS_CHOICE */
    int (*format)(const void *field, char *buf, size_t cap); /* OL_TS_CHOICE */
    const char *null_text;   /* OL_TS_STR: the text of NULL ("constant" for no schedule) */
    const char *metavar;     /* "X" in the help; NULL for booleans */
    const char *help;        /* one line, without the default */
    unsigned flags;          /* OL_TS_RUN | OL_TS_SWEEP | OL_TS_SPEC | OL_TS_DEFAULT */
} ol_train_setting;

/* The table, in the order of the help and of a checkpoint's settings text. */
const ol_train_setting *ol_train_setting_table(int *n);
/* The setting of that name ("lr"), or NULL. */
const ol_train_setting *ol_train_setting_find(const char *name);
/* Its field in c. */
void *ol_train_setting_field(const ol_train_setting *s, ol_train_config *c);
/* Sets c's field from text (strings point into text); what names it in messages
 * ("optlab train --lr", "--grid lr"). OL_EARG with the fix otherwise. */
int ol_train_setting_parse(const ol_train_setting *s, const char *text, ol_train_config *c, const char *what);
/* c's value as text (the form parse reads back). */
int ol_train_setting_format(const ol_train_setting *s, const ol_train_config *c, char *buf, size_t cap);

/* As ol_train_setting_format, but a number in the shortest form that reads back as the same
 * double (0.1, not 0.10000000000000001): the value for a message, still exact. */
int ol_train_setting_show(const ol_train_setting *s, const ol_train_config *c, char *buf, size_t cap);

/* The run-defining settings of c as "name=value" lines (OL_TS_RUN, in table order, OL_TS_SPARSE ones
 * only when not the default; model_spec replaces c's model: the canonical spec): what a checkpoint
 * stores.
 * A text value keeps to its line: a backslash is written as two and a control character (a newline
 * in a path) as \xHH. OL_TRAIN_SETTINGS_CAP bytes hold them all with a --data path of the system's
 * longest. */
#define OL_TRAIN_SETTINGS_CAP (4 * OL_PATH_CAP)
int ol_train_settings_text(const ol_train_config *c, const char *model_spec, char *buf, size_t cap);
/* --resume: sets every run-defining setting of text (a checkpoint's settings, modified in place:
 * string fields point into it) that given[index in the table] does not mark as given on the
 * command line, and that differs from the default. */
int ol_train_settings_apply(ol_train_config *c, char *text, const int *given);
/* The value of setting `name` in such a text (unescaped) into value: 1, or 0 when absent or longer
 * than cap. */
int ol_train_settings_get(const char *text, const char *name, char *value, size_t cap);

#endif
