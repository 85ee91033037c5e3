/* args.c: the flag parser; see args.h. */
#include "args.h"

#include <stdio.h>
#include <string.h>

#include "optlab/common.h"
#include "optlab/optim.h"
#include "optlab/schedule.h"

void cli_print_help(const cli_flag *flags, int n_flags, const char *command, const char *usage) {
    printf("usage: optlab %s %s\n\n", command, usage);
    for (int i = 0; i < n_flags; i++) {
        char left[64];
        snprintf(left, sizeof left, "%s%s%s", flags[i].name, flags[i].metavar ? " " : "",
                 flags[i].metavar ? flags[i].metavar : "");
        printf("  %-24s %s%s\n", left, flags[i].help, flags[i].required ? " (required)" : "");
    }
    printf("  %-24s %s\n", "--help", "show this help");
    /* a command that takes a schedule (or a grid of them) lists them, with the composition syntax */
    for (int i = 0; i < n_flags; i++)
        if (!strcmp(flags[i].name, "--schedule") || !strcmp(flags[i].name, "--grid")) {
            printf("\n%s", ol_sched_help());
            break;
        }
}

void cli_print_optimizers(void) {
    printf("\noptimizers (--opt NAME[:key=value,...], keys as torch.optim's; see include/optlab/optim.h):\n");
    for (int k = 0; k < OL_OPTIM_N_KINDS; k++) printf("  %-24s %s\n", ol_optim_kind_name(k), ol_optim_kind_help(k));
    printf("\nwrappers over any gradient optimizer (--opt WRAPPER[:key=value,...],inner=SPEC; inner= comes last and\n"
           "nests: lookahead:k=5,inner=sam:rho=0.05,inner=sgd:momentum=0.9):\n");
    for (int k = 0; k < ol_optim_n_wrappers(); k++)
        printf("  %-24s %s\n", ol_optim_wrapper_name(k), ol_optim_wrapper_help(k));
}

static int set_value(cli_flag *f, const char *value, const char *command) {
    char what[96];
    snprintf(what, sizeof what, "optlab %s %s", command, f->name);
    switch (f->kind) {
    case ARG_STR: *(const char **)f->target = value; return OL_OK;
    case ARG_DOUBLE: return ol_parse_double(value, what, (double *)f->target);
    case ARG_LONG: return ol_parse_long(value, what, f->lo, f->hi, (long *)f->target);
    case ARG_INT: {
        long v;
        int rc = ol_parse_long(value, what, f->lo, f->hi, &v);
        if (!rc) *(int *)f->target = (int)v;
        return rc;
    }
    case ARG_U64: {
        long v;
        int rc = ol_parse_long(value, what, 0, 0x7fffffffffffffffL, &v);
        if (!rc) *(uint64_t *)f->target = (uint64_t)v;
        return rc;
    }
    case ARG_CUSTOM: {
        int rc = f->custom(value, f->target);
        if (rc) {
            char why[900];
            snprintf(why, sizeof why, "%s", ol_error());
            if (!strncmp(why, f->name, strlen(f->name))) /* the parser named the flag already */
                return ol_fail(rc, "optlab %s %s", command, why);
            return ol_fail(rc, "%s: %s", what, why);
        }
        return OL_OK;
    }
    }
    return ol_fail(OL_EARG, "%s: internal flag type error", what);
}

int cli_set(cli_flag *flags, int n_flags, const char *name, const char *value, const char *command) {
    for (int k = 0; k < n_flags; k++) {
        if (strcmp(flags[k].name, name)) continue;
        if (flags[k].kind == ARG_BOOL) {
            *(int *)flags[k].target = strcmp(value, "0") != 0;
            return OL_OK;
        }
        return set_value(&flags[k], value, command);
    }
    return ol_fail(OL_EARG, "optlab %s: no option %s", command, name);
}

int cli_parse(int argc, char **argv, int first, cli_flag *flags, int n_flags, const char *command,
              const char *usage) {
    for (int i = first; i < argc; i++) {
        const char *arg = argv[i];
        if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
            cli_print_help(flags, n_flags, command, usage);
            return CLI_HELP;
        }
        if (strncmp(arg, "--", 2) != 0)
            return ol_fail(OL_EARG, "optlab %s: unexpected argument '%s'; options start with --; see optlab %s --help",
                           command, arg, command);
        const char *eq = strchr(arg, '=');
        size_t name_len = eq ? (size_t)(eq - arg) : strlen(arg);
        cli_flag *f = NULL;
        for (int k = 0; k < n_flags; k++)
            if (strlen(flags[k].name) == name_len && !strncmp(flags[k].name, arg, name_len)) f = &flags[k];
        if (!f)
            return ol_fail(OL_EARG, "optlab %s: unknown option '%.*s'; see optlab %s --help", command, (int)name_len, arg,
                           command);
        if (f->seen) return ol_fail(OL_EARG, "optlab %s: option %s given twice", command, f->name);
        f->seen = 1;
        if (f->kind == ARG_BOOL) {
            if (eq) return ol_fail(OL_EARG, "optlab %s: option %s takes no value", command, f->name);
            *(int *)f->target = 1;
            continue;
        }
        const char *value;
        if (eq) value = eq + 1;
        else if (i + 1 < argc && strncmp(argv[i + 1], "--", 2) != 0) value = argv[++i];
        else return ol_fail(OL_EARG, "optlab %s: option %s needs a value (%s)", command, f->name, f->metavar);
        int rc = set_value(f, value, command);
        if (rc) return rc;
    }
    for (int k = 0; k < n_flags; k++)
        if (flags[k].required && !flags[k].seen)
            return ol_fail(OL_EARG, "optlab %s: missing %s %s; see optlab %s --help", command, flags[k].name,
                           flags[k].metavar, command);
    return OL_OK;
}

int cli_report_error(int code) {
    fprintf(stderr, "optlab: %s\n", *ol_error() ? ol_error() : "unknown error");
    return ol_exit_status(code);
}
