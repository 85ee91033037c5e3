/* lab_fixture.c: see lab_fixture.h. */
#include "lab_fixture.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixtures.h"
#include "optlab/common.h"
#include "test.h"

const char *lab_fixture_data(void) {
    static char dir[512];
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "%s/lab-data", ol_test_tmpdir());
        if (fixture_make_dataset(dir, 3000, 500, 28, 10, 5, 1)) fprintf(stderr, "cannot make %s\n", dir);
    }
    return dir;
}

/* Runs are cached per (name, extra) for the whole test run: several tests look at one lab run. */
#define MAX_RUNS 16
static struct {
    char key[256];
    char dir[512];
    char *out;
    int rc;
} runs[MAX_RUNS];
static int n_runs;

int lab_fixture_run(const char *name, const char *extra, const char **out_dir, const char **output) {
    char key[256];
    snprintf(key, sizeof key, "%s|%s", name, extra ? extra : "");
    for (int i = 0; i < n_runs; i++)
        if (!strcmp(runs[i].key, key)) {
            *out_dir = runs[i].dir;
            *output = runs[i].out;
            return runs[i].rc;
        }
    static char fallback_dir[512], fallback_out[1 << 16];
    int slot = n_runs < MAX_RUNS ? n_runs++ : -1;
    char *dir = slot >= 0 ? runs[slot].dir : fallback_dir;
    char *out = fallback_out;
    size_t cap = sizeof fallback_out;
    if (slot >= 0) {
        runs[slot].out = calloc(1, 1 << 16);
        if (runs[slot].out) out = runs[slot].out, cap = 1 << 16;
        snprintf(runs[slot].key, sizeof runs[slot].key, "%s", key);
    }
    char cmd[2048];
    snprintf(dir, 512, "%s/lab-%s-%d", ol_test_tmpdir(), name, slot);
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && %s lab %s --quick --data '%s' --out '%s' %s", dir, ol_test_bin(), name,
             lab_fixture_data(), dir, extra ? extra : "");
    int rc = ol_test_run(cmd, out, cap);
    if (slot >= 0) runs[slot].rc = rc;
    *out_dir = dir;
    *output = out;
    return rc;
}

/* A small well-formedness check: every '<' starts a tag, comment, declaration or CDATA; tags nest;
 * attribute values are quoted; '&' starts a known or numeric entity. */
double lab_fixture_summary(const char *dir, const char *lab, const char *key) {
    char path[1024], line[512], want[256];
    snprintf(path, sizeof path, "%s/summary.csv", dir);
    snprintf(want, sizeof want, "%s,%s,", lab, key);
    FILE *f = fopen(path, "r");
    if (!f) return NAN;
    double v = NAN;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, want, strlen(want))) {
            v = strtod(line + strlen(want), NULL);
            break;
        }
    fclose(f);
    return v;
}

int lab_fixture_xml_ok(const char *path) {
    unsigned char *buf;
    size_t len;
    if (ol_read_file(path, (size_t)64 << 20, &buf, &len)) return 0;
    char *s = realloc(buf, len + 1);
    if (!s) { free(buf); return 0; }
    s[len] = 0;
    char stack[256][64];
    int depth = 0, ok = 1, seen_root = 0;
    for (char *p = s; *p && ok; p++) {
        if (*p == '&') {
            if (strncmp(p, "&amp;", 5) && strncmp(p, "&lt;", 4) && strncmp(p, "&gt;", 4) && strncmp(p, "&quot;", 6) &&
                strncmp(p, "&apos;", 6) && strncmp(p, "&#", 2))
                ok = 0;
            continue;
        }
        if (*p != '<') continue;
        if (!strncmp(p, "<!--", 4)) { char *e = strstr(p, "-->"); if (!e) ok = 0; else p = e + 2; continue; }
        if (!strncmp(p, "<?", 2)) { char *e = strstr(p, "?>"); if (!e) ok = 0; else p = e + 1; continue; }
        if (!strncmp(p, "<![CDATA[", 9)) { char *e = strstr(p, "]]>"); if (!e) ok = 0; else p = e + 2; continue; }
        if (!strncmp(p, "<!", 2)) { char *e = strchr(p, '>'); if (!e) ok = 0; else p = e; continue; }
        int closing = p[1] == '/';
        char *q = p + 1 + closing, name[64];
        int n = 0;
        while (*q && !strchr(" \t\r\n/>", *q) && n < 63) name[n++] = *q++;
        name[n] = 0;
        if (!n) { ok = 0; break; }
        /* attributes */
        while (*q && *q != '>' && !(q[0] == '/' && q[1] == '>')) {
            if (*q == '=') {
                q++;
                if (*q != '"' && *q != '\'') { ok = 0; break; }
                char quote = *q++;
                while (*q && *q != quote) { if (*q == '<') ok = 0; q++; }
                if (!*q) ok = 0;
            }
            if (*q) q++;
        }
        if (!ok || !*q) { ok = 0; break; }
        int self_closing = q[0] == '/';
        if (closing) {
            if (depth == 0 || strcmp(stack[depth - 1], name)) ok = 0;
            else depth--;
        } else if (!self_closing) {
            if (depth == 0 && seen_root) ok = 0;
            if (depth == 256) ok = 0;
            else strcpy(stack[depth++], name);
            seen_root = 1;
        } else if (depth == 0) {
            seen_root = 1;
        }
        p = self_closing ? q + 1 : q;
    }
    free(s);
    return ok && depth == 0 && seen_root;
}
