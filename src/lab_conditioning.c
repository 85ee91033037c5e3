/* lab_conditioning.c: placeholder until the lab is written (returns an error, never a fake result). */
#include "optlab/common.h"
#include "optlab/lab.h"

int ol_lab_conditioning(ol_lab_ctx *ctx) {
    (void)ctx;
    return ol_fail(OL_ESTATE, "the conditioning lab is not written yet");
}
