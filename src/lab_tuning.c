/* lab_tuning.c: placeholder until the lab is written (returns an error, never a fake result). */
#include "optlab/common.h"
#include "optlab/lab.h"

int ol_lab_tuning(ol_lab_ctx *ctx) {
    (void)ctx;
    return ol_fail(OL_ESTATE, "the tuning lab is not written yet");
}
