/* embed.c: a build tool (web/web.mk): writes the C source that puts the report's interactive panels
 * into the optlab binary: the WebAssembly module's bytes, the page's script and style, as
 *     const ol_report_play ol_play_assets = {wasm, wasm_len, script, style, missing};
 * (optlab/report.h). Without a module (the toolchain is missing), `missing` says why, in one line.
 *   embed OUT.c --script web/play.js --style web/play.css (--wasm build/wasm/optlab.wasm | --missing TEXT)
 * Exit 1 with a message when a file cannot be read or OUT.c written. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    unsigned char *buf = malloc(cap);
    for (size_t got; buf && (got = fread(buf + n, 1, cap - n, f)) > 0;) {
        n += got;
        if (n == cap) {
            unsigned char *bigger = realloc(buf, cap *= 2);
            if (!bigger) free(buf);
            buf = bigger;
        }
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

/* bytes as a C string literal: printable ASCII as itself, the rest in 3-digit octal, 100 a line */
static void literal(FILE *out, const unsigned char *d, size_t n) {
    fputs("\n    \"", out);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = d[i];
        if (c == '"' || c == '\\') fprintf(out, "\\%c", c);
        else if (c >= 32 && c < 127 && c != '?') fputc(c, out); /* '?': no trigraphs */
        else fprintf(out, "\\%03o", c);
        if (i % 100 == 99 && i + 1 < n) fputs("\"\n    \"", out);
    }
    fputs("\"", out);
}

int main(int argc, char **argv) {
    const char *out_path = argc > 1 ? argv[1] : NULL, *paths[3] = {NULL, NULL, NULL}, *missing = NULL;
    for (int i = 2; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--script")) paths[0] = argv[i + 1];
        else if (!strcmp(argv[i], "--style")) paths[1] = argv[i + 1];
        else if (!strcmp(argv[i], "--wasm")) paths[2] = argv[i + 1];
        else if (!strcmp(argv[i], "--missing")) missing = argv[i + 1];
    }
    if (!out_path || !paths[0] || !paths[1] || !paths[2] == !missing) {
        fprintf(stderr, "usage: embed OUT.c --script JS --style CSS (--wasm MODULE | --missing TEXT)\n");
        return 2;
    }
    unsigned char *data[3] = {NULL, NULL, NULL};
    size_t len[3] = {0, 0, 0};
    for (int k = 0; k < 3; k++)
        if (paths[k] && !(data[k] = slurp(paths[k], &len[k]))) {
            fprintf(stderr, "embed: cannot read %s\n", paths[k]);
            return 1;
        }
    FILE *out = fopen(out_path, "w");
    if (!out) {
        fprintf(stderr, "embed: cannot write %s\n", out_path);
        return 1;
    }
    fprintf(out, "/* %s: written by web/embed.c from %s, %s and %s; do not edit */\n#include \"optlab/report.h\"\n\n",
            out_path, paths[0], paths[1], paths[2] ? paths[2] : "no WebAssembly module");
    static const char *names[3] = {"script", "style", "wasm"};
    for (int k = 0; k < 3; k++) {
        if (!data[k]) continue;
        fprintf(out, "static const char %s[] =", names[k]);
        literal(out, data[k], len[k]);
        fputs(";\n\n", out);
    }
    fprintf(out, "const ol_report_play ol_play_assets = {%s, %zu, script, style, ", data[2] ? "wasm" : "NULL", len[2]);
    if (missing) literal(out, (const unsigned char *)missing, strlen(missing));
    else fputs("NULL", out);
    fputs("};\n", out);
    int bad = ferror(out);
    if (fclose(out) || bad) {
        fprintf(stderr, "embed: cannot write %s\n", out_path);
        remove(out_path);
        return 1;
    }
    for (int k = 0; k < 3; k++) free(data[k]);
    return 0;
}
