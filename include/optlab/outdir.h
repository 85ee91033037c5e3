/* outdir.h: the --out directory of `optlab lab` and `optlab sweep`. optlab writes its files into a
 * directory that is missing or empty, or that it wrote before for the same command; never over
 * files it did not write (a user's own index.html or results.csv) unless forced.
 *
 * "optlab wrote it" is a marker file, DIR/.optlab ("optlab lab" or "optlab sweep"), written when a
 * run claims the directory, before any other file. A directory written by an optlab older than the
 * marker is recognised by a file of its own that the caller names (lab: summary.csv with its header;
 * sweep: sweep.txt, its definition) and is claimed like a marked one. */
#ifndef OPTLAB_OUTDIR_H
#define OPTLAB_OUTDIR_H

#include <stddef.h>

#define OL_OUTDIR_MARKER ".optlab"

typedef struct {
    const char *command;     /* "lab", "sweep": the marker's word */
    const char *legacy_file; /* an older optlab's own file in such a directory (NULL: none) */
    const char *legacy_head; /* what that file starts with ("" or NULL: being there is enough) */
    size_t names_max;        /* bytes the command adds to the directory's path ("/trials/000001/log.csv") */
} ol_outdir_kind;

/* Whether kind's command may write into dir, decided before any work and touching nothing: OL_OK
 * when dir is missing or empty, holds the command's marker or its legacy file, or force is set;
 * OL_EARG naming what is there and the fix (a new or empty directory, or --force) when it holds
 * files optlab did not write or another command's output; OL_EARG when dir's path leaves no room
 * for the command's file names within the system's limit; OL_EIO when dir is not a directory. */
int ol_outdir_check(const char *dir, const ol_outdir_kind *kind, int force);
/* Creates dir (and missing parents) and writes its marker for kind's command. */
int ol_outdir_claim(const char *dir, const ol_outdir_kind *kind);

#endif
