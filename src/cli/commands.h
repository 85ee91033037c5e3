/* commands.h: optlab's sub-commands; each returns the process exit status. */
#ifndef OPTLAB_CLI_COMMANDS_H
#define OPTLAB_CLI_COMMANDS_H

int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_optimize(int argc, char **argv);
int cmd_lab(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
int cmd_lrfind(int argc, char **argv);

#endif
