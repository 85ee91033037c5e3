/* args.h: the command-line flag parser shared by optlab's sub-commands: a table of flags, each
 * with its type, target and help line; `--flag value` and `--flag=value`; --help from the table. */
#ifndef OPTLAB_CLI_ARGS_H
#define OPTLAB_CLI_ARGS_H

#include <stdint.h>

#include "optlab/train.h"

#define CLI_HELP (-1) /* cli_parse printed the help */

enum { ARG_STR, ARG_DOUBLE, ARG_LONG, ARG_U64, ARG_INT, ARG_BOOL, ARG_CUSTOM };

typedef struct {
    const char *name;        /* "--lr" */
    int kind;                /* ARG_* */
    void *target;            /* const char **, double *, long *, uint64_t *, int * (bool: set to 1) */
    const char *metavar;     /* "X" in the help, NULL for booleans */
    const char *help;        /* one line */
    long lo, hi;             /* range of ARG_LONG / ARG_INT */
    int (*custom)(const char *value, void *target); /* ARG_CUSTOM: parses value into target */
    int required;
    int seen;                /* set by the parser */
} cli_flag;

/* Parses argv[first..argc) against flags. Returns 0, CLI_HELP when --help was printed (exit 0), or OL_EARG
 * with a message naming the flag and the fix. */
int cli_parse(int argc, char **argv, int first, cli_flag *flags, int n_flags, const char *command,
              const char *usage);
/* Sets the flag named name (e.g. "--lr") from text as if given on the command line (seen is not
 * changed); OL_EARG if there is no such flag or the value is bad. */
int cli_set(cli_flag *flags, int n_flags, const char *name, const char *value, const char *command);
void cli_print_help(const cli_flag *flags, int n_flags, const char *command, const char *usage);
/* The optimizers, one line each: what each is for (after the help of commands that take --opt). */
void cli_print_optimizers(void);

/* `optlab train`'s flags (train_flags.c), made from the settings table of optlab/train_settings.h:
 * targets in c (and *every for --checkpoint-every: N steps, -1 for epoch); setting_of[k] is flag
 * k's index in that table (-1 for --checkpoint-every). Returns the number of flags (<= cap). */
#define CLI_TRAIN_MAX_FLAGS 64
int cli_train_flags(ol_train_config *c, long *every, cli_flag *flags, int *setting_of, int cap);

/* Prints "optlab: <message>" for code to stderr and returns the exit status (2 usage, 1 failure):
 * the one way every command reports a failure. */
int cli_report_error(int code);

#endif
