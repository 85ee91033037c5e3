/* outdir.c: the --out directory of lab and sweep, claimed by a marker file; see include/optlab/outdir.h. */
#include "optlab/outdir.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "optlab/common.h"

/* 1 if DIR/name is a regular file starting with head (any file when head is NULL or ""). */
static int file_starts_with(const char *dir, const char *name, const char *head) {
    char path[OL_PATH_CAP + 256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) return 0;
    if (!head || !*head) return 1;
    size_t len = strlen(head);
    char buf[256];
    if (len >= sizeof buf) return 0;
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    size_t got = fread(buf, 1, len, f);
    fclose(f);
    return got == len && !memcmp(buf, head, len);
}

/* The command named by DIR/.optlab ("lab" for "optlab lab\n") in word; 0 when there is no marker. */
static int marker_command(const char *dir, char *word, size_t cap) {
    char path[OL_PATH_CAP + 256], line[128];
    snprintf(path, sizeof path, "%s/" OL_OUTDIR_MARKER, dir);
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > 64) return 0;
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    int ok = fgets(line, sizeof line, f) != NULL;
    fclose(f);
    size_t n = strcspn(line, "\n");
    if (!ok || strncmp(line, "optlab ", 7) || n <= 7 || n - 7 >= cap) return 0;
    snprintf(word, cap, "%.*s", (int)(n - 7), line + 7);
    return 1;
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The directory's entries but . and .., sorted, as "a, b, c and 4 more" in list; their count. */
static long list_entries(const char *dir, char *list, size_t cap) {
    list[0] = 0;
    DIR *d = opendir(dir);
    if (!d) return -1;
    char **names = NULL;
    size_t n = 0, room = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        if (n == room) {
            room = room ? 2 * room : 16;
            char **grown = realloc(names, room * sizeof *names);
            if (!grown) break;
            names = grown;
        }
        if (!(names[n] = strdup(e->d_name))) break;
        n++;
    }
    closedir(d);
    if (n) qsort(names, n, sizeof *names, by_name);
    size_t used = 0, shown = n < 3 ? n : 3;
    for (size_t i = 0; i < shown && used < cap; i++)
        used += (size_t)snprintf(list + used, cap - used, "%s%s", i ? ", " : "", names[i]);
    if (n > shown && used < cap) snprintf(list + used, cap - used, " and %zu more", n - shown);
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
    return (long)n;
}

int ol_outdir_check(const char *dir, const ol_outdir_kind *kind, int force) {
    if (!dir || !*dir) return ol_fail(OL_EARG, "--out is empty: give a directory");
    size_t len = strlen(dir);
    if (len + kind->names_max >= OL_PATH_CAP)
        return ol_fail(OL_EARG, "--out's path is %zu bytes: with the names of the files optlab %s writes in it (up to %zu "
                       "more) it would pass the system's limit of %d bytes on a path; give a shorter one", len,
                       kind->command, kind->names_max, OL_PATH_CAP - 1);
    struct stat st;
    if (stat(dir, &st) != 0) {
        if (errno == ENOENT) return OL_OK; /* made by ol_outdir_claim */
        return ol_fail(OL_EIO, "cannot use --out %s: %s", dir, strerror(errno));
    }
    if (!S_ISDIR(st.st_mode)) return ol_fail(OL_EIO, "--out %s exists and is not a directory", dir);
    if (force) return OL_OK;
    char word[64];
    if (marker_command(dir, word, sizeof word)) {
        if (!strcmp(word, kind->command)) return OL_OK;
        return ol_fail(OL_EARG, "--out %s holds the output of optlab %s, not of optlab %s: give a new or empty directory, "
                       "or --force to write into it anyway", dir, word, kind->command);
    }
    if (kind->legacy_file && file_starts_with(dir, kind->legacy_file, kind->legacy_head)) return OL_OK;
    char list[1024];
    long n = list_entries(dir, list, sizeof list);
    if (n < 0) return ol_fail(OL_EIO, "cannot read --out %s: %s", dir, strerror(errno));
    if (n == 0) return OL_OK;
    return ol_fail(OL_EARG, "--out %s holds files optlab did not write (%s): they could be overwritten; give a new or "
                   "empty directory, or --force to write into it anyway", dir, list);
}

int ol_outdir_claim(const char *dir, const ol_outdir_kind *kind) {
    int rc = ol_mkdir_p(dir);
    if (rc) return rc;
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) return ol_fail(OL_EIO, "--out %s exists and is not a directory", dir);
    char path[OL_PATH_CAP + 64], text[64];
    snprintf(path, sizeof path, "%s/" OL_OUTDIR_MARKER, dir);
    int n = snprintf(text, sizeof text, "optlab %s\n", kind->command);
    return ol_write_file_atomic(path, text, (size_t)n);
}
