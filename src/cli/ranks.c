/* ranks.c: failures under mpirun; see ranks.h. */
#include "ranks.h"

#include <stdio.h>

#include "args.h"
#include "optlab/common.h"
#include "optlab/dist.h"

int cli_ranks_go_on(int rc, int *status) {
    int size = ol_dist_size(), rank = ol_dist_rank();
    if (size <= 1) {
        *status = rc == CLI_HELP ? 0 : rc ? cli_report_error(rc) : 0;
        return rc == 0;
    }
    /* one maximum: what stops (2 refused, 1 --help, 0 nothing), then the lowest such rank */
    int mine = rc == 0 ? 0 : rc == CLI_HELP ? 1 : 2, worst;
    if (ol_dist_max_int(mine * size + (size - 1 - rank), &worst)) {
        cli_report_error(OL_ESTATE);
        ol_dist_abort(1);
    }
    if (worst < size) return 1;
    int first = size - 1 - worst % size;
    if (worst / size == 2) { /* flags refused: every rank exits 2, the first refused one says why */
        *status = 2;
        if (rank == first && mine == 2) {
            if (rank == 0) cli_report_error(rc);
            else fprintf(stderr, "optlab: rank %d of %d: %s; every rank must be given the same flags\n", rank, size, ol_error());
        }
        return 0;
    }
    /* --help somewhere: the ranks that printed it exit 0; any others were to train alone */
    int going = 0;
    if (ol_dist_max_int(mine == 0 ? size - rank : 0, &going)) {
        cli_report_error(OL_ESTATE);
        ol_dist_abort(1);
    }
    *status = mine ? 0 : 2;
    if (going && rank == size - going)
        fprintf(stderr, "optlab: rank %d of %d printed the help and stopped, and so does this job; every rank must be given the same flags\n",
                first, size);
    return 0;
}

int cli_ranks_error(int rc, int collective, const char *what) {
    if (ol_dist_size() <= 1) return cli_report_error(rc);
    if (collective) return ol_dist_rank() == 0 ? cli_report_error(rc) : ol_exit_status(rc);
    fprintf(stderr, "optlab: rank %d of %d failed: %s; ending the whole %s\n", ol_dist_rank(), ol_dist_size(),
            *ol_error() ? ol_error() : "unknown error", what);
    ol_dist_abort(ol_exit_status(rc));
}
