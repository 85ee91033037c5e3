/* ranks.h: how a command run under mpirun (train, sweep) ends when something fails: every rank
 * at the same point, one message, never a rank left waiting for the others. */
#ifndef OPTLAB_CLI_RANKS_H
#define OPTLAB_CLI_RANKS_H

/* After the flags are parsed (rc: cli_parse's result). The ranks' command lines may differ
 * (mpirun -np 1 A : -np 1 B), so a rank that stops here (its flags refused, or --help printed)
 * must take the others with it: they would wait in the first all-reduce for it. Collective.
 * Returns 1 when every rank goes on; 0 when they all stop, *status then being the exit status:
 * 2 on every rank when any rank's flags were refused (the lowest such rank prints why, naming
 * itself when it is not rank 0); when ranks printed --help, 0 on them and 2 on the others (the
 * lowest of which says so). Without MPI: cli_report_error's. */
int cli_ranks_go_on(int rc, int *status);

/* A failure of this rank's command: returns its exit status. collective: every rank fails alike
 * at the same point (rank 0 alone prints); otherwise this rank prints, naming itself, and ends the
 * whole job (ol_dist_abort: the others may be waiting for it). what: "job", "sweep". */
int cli_ranks_error(int rc, int collective, const char *what);

#endif
