/* test_play.c: the report's panels run `optlab optimize` (include/optlab/play.h): the same trace
 * byte for byte, the same exit status and message, natively and in the WebAssembly build through
 * the page's own script (node), on every case of tests/play_cases.txt and tests/ref/cases.txt. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "optlab/common.h"
#include "optlab/gemm.h"
#include "optlab/parallel.h"
#include "optlab/play.h"
#include "optlab/report.h"
#include "test.h"

#define MAX_CASES 512

static char out[1 << 16];

/* The runs: play_cases.txt's lines and cases.txt's (after "name: "), comments skipped. */
static int load_cases(char cases[][512], int cap) {
    static const char *files[2] = {"tests/play_cases.txt", "tests/ref/cases.txt"};
    int n = 0;
    for (int k = 0; k < 2; k++) {
        FILE *f = fopen(files[k], "r");
        if (!f) return -1;
        char line[1024];
        while (fgets(line, sizeof line, f) && n < cap) {
            line[strcspn(line, "\n")] = 0;
            if (!line[0] || line[0] == '#') continue;
            const char *args = line;
            if (k == 1) {
                const char *colon = strstr(line, ": ");
                if (!colon) continue;
                args = colon + 2;
            }
            snprintf(cases[n++], 512, "%.511s", args);
        }
        fclose(f);
    }
    return n;
}

/* "--fn rastrigin --x0 1,2" -> "--fn=rastrigin\n--x0=1,2\n" */
static void flag_lines(const char *args, char *lines, size_t cap) {
    size_t len = 0;
    char copy[512];
    snprintf(copy, sizeof copy, "%.511s", args);
    for (char *w = strtok(copy, " "); w; w = strtok(NULL, " ")) {
        char *value = strncmp(w, "--", 2) ? NULL : strtok(NULL, " ");
        len += (size_t)snprintf(lines + len, cap - len, "%s=%s\n", w, value ? value : "");
    }
}

/* The command's run: exit status, its last line (the message when it fails), its trace (NULL when
 * it wrote none) and, for random search, its count of evaluations (-1 if none printed). */
typedef struct {
    int status;
    char last[1024];
    char *trace;
    long evaluations;
} cli_run;

static void run_cli(const char *args, cli_run *r) {
    const char *trace = ol_test_path("cli-trace.csv");
    remove(trace);
    r->status = ol_test_sh(out, sizeof out, "%s optimize %s --trace %s", ol_test_bin(), args, trace);
    size_t len = strlen(out);
    while (len && out[len - 1] == '\n') out[--len] = 0;
    const char *nl = strrchr(out, '\n');
    snprintf(r->last, sizeof r->last, "%s", nl ? nl + 1 : out);
    /* a diverged run says where its trace went: the page writes none */
    char where[700];
    snprintf(where, sizeof where, "; the trace up to it is in %s", trace);
    size_t ll = strlen(r->last), wl = strlen(where);
    if (ll > wl && !strcmp(r->last + ll - wl, where)) r->last[ll - wl] = 0;
    r->trace = ol_test_slurp(trace, NULL);
    const char *ev = strstr(out, " function evaluations)");
    r->evaluations = -1;
    if (ev) {
        while (ev > out && ev[-1] >= '0' && ev[-1] <= '9') ev--;
        r->evaluations = atol(ev);
    }
}

/* A play run (its status, message, trace text, evaluations) against the command's. */
static int same_as_cli(const char *args, int status, const char *message, const char *trace, long evaluations,
                       char *why, size_t cap) {
    cli_run c;
    run_cli(args, &c);
    int bad = 0;
    if (c.status != ol_exit_status(status))
        bad = snprintf(why, cap, "%s: exit %d, the command's %d (%s)", args, ol_exit_status(status), c.status, c.last);
    else if (status && (strncmp(c.last, "optlab: ", 8) || strcmp(c.last + 8, message)))
        bad = snprintf(why, cap, "%s: message '%s', the command's '%s'", args, message, c.last);
    else if (status == OL_ENUMERIC && c.trace && (!trace || strcmp(c.trace, trace))) /* diverged: the trace up to it */
        bad = snprintf(why, cap, "%s: the trace up to the divergence differs from the command's", args);
    else if (!status && (!c.trace || !trace || strcmp(c.trace, trace)))
        bad = snprintf(why, cap, "%s: the trace differs from the command's", args);
    else if (!status && evaluations >= 0 && c.evaluations >= 0 && c.evaluations != evaluations)
        bad = snprintf(why, cap, "%s: %ld evaluations, the command's %ld", args, evaluations, c.evaluations);
    free(c.trace);
    return bad;
}

TEST(play_runs_give_the_commands_trace_status_and_message_byte_for_byte) {
    static char cases[MAX_CASES][512];
    int n = load_cases(cases, MAX_CASES), ok_runs = 0;
    if (n < 0) SKIP("tests/play_cases.txt not found: run from the repository root");
    CHECK(n >= 80);
    for (int i = 0; i < n; i++) {
        char flags[1024], why[1400];
        flag_lines(cases[i], flags, sizeof flags);
        ol_play *p = ol_play_run(flags);
        CHECK(p != NULL);
        const char *csv = ol_play_status(p) && ol_play_status(p) != OL_ENUMERIC ? NULL : ol_play_trace_csv(p);
        int bad = same_as_cli(cases[i], ol_play_status(p), ol_play_message(p), csv, ol_play_evaluations(p), why, sizeof why);
        ok_runs += !ol_play_status(p);
        /* the trace in memory is the text's numbers, row k at step k */
        long rows = ol_play_rows(p);
        if (!ol_play_status(p)) {
            CHECK_MSG(rows == ol_play_steps(p) + 1, "%s: %ld rows after %ld steps", cases[i], rows, ol_play_steps(p));
            const double *last = ol_play_trace(p) + (size_t)(rows - 1) * (size_t)ol_play_width(p);
            CHECK_MSG(last[0] == (double)ol_play_steps(p) && !memcmp(&last[2], &(double){ol_play_f(p)}, sizeof(double)),
                      "%s: the last row is not step %ld", cases[i], ol_play_steps(p));
        }
        ol_play_free(p);
        CHECK_MSG(!bad, "%s", why);
    }
    CHECK(ok_runs >= 50);
}

/* The flags as the page sends them: unknown, repeated, valueless and missing flags are refused with
 * the command's words; a diverged run keeps the points it reached. */
TEST(play_refuses_flags_as_the_command_does_and_keeps_a_diverged_runs_points) {
    static const struct {
        const char *flags, *args; /* the same settings, as flag lines and as the command's arguments */
    } bad[] = {
        {"--fn=rastrigin\n--x0=1,2\n--opt=gd\n--lr=0.1\n--steps=5\n--nope=1\n", "--fn rastrigin --x0 1,2 --opt gd --lr 0.1 --steps 5 --nope 1"},
        {"--fn=rastrigin\n--x0=1,2\n--opt=gd\n--lr=0.1\n--lr=0.2\n--steps=5\n", "--fn rastrigin --x0 1,2 --opt gd --lr 0.1 --lr 0.2 --steps 5"},
        {"--fn=rastrigin\n--x0=1,2\n--opt=gd\n--steps=5\n--lr\n", "--fn rastrigin --x0 1,2 --opt gd --steps 5 --lr"},
        {"--fn=rastrigin\n--opt=gd\n--lr=0.1\n--steps=5\n", "--fn rastrigin --opt gd --lr 0.1 --steps 5"},
    };
    char why[1400];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ol_play *p = ol_play_run(bad[i].flags);
        CHECK(p && ol_play_status(p) == OL_EARG && ol_play_dim(p) == 0 && ol_play_rows(p) == 0);
        int differs = same_as_cli(bad[i].args, ol_play_status(p), ol_play_message(p), NULL, 0, why, sizeof why);
        ol_play_free(p);
        CHECK_MSG(!differs, "%s", why);
    }
    ol_play *p = ol_play_run("--fn=rosenbrock\n--x0=-1.2,1\n--opt=gd\n--lr=0.01\n--steps=2000\n");
    CHECK(p && ol_play_status(p) == OL_ENUMERIC && ol_play_outcome(p) == OL_MIN_DIVERGED);
    CHECK(strstr(ol_play_message(p), "diverged") != NULL);
    /* the points up to and with the one where it diverged, as the command's trace (issue 16) */
    CHECK_MSG(ol_play_rows(p) == ol_play_steps(p) + 1 && ol_play_steps(p) > 2 && ol_play_steps(p) < 2000,
              "%ld rows, %ld steps", ol_play_rows(p), ol_play_steps(p));
    const char *csv = ol_play_trace_csv(p);
    CHECK(csv != NULL);
    CHECK_MSG(!same_as_cli("--fn rosenbrock --x0 -1.2,1 --opt gd --lr 0.01 --steps 2000", ol_play_status(p),
                           ol_play_message(p), csv, -1, why, sizeof why), "%s", why);
    ol_play_free(p);
}

/* The map is f on the grid, row 0 at y_lo; bad grids and functions are refused with a message. */
TEST(play_map_is_f_on_the_grid) {
    double *m = ol_play_map("himmelblau", -5, 5, -4, 6, 11, 3);
    CHECK(m != NULL);
    ol_objective o;
    CHECK(ol_fn_create(&o, "himmelblau", 2) == OL_OK);
    for (int r = 0; r < 3; r++)
        for (int c = 0; c < 11; c++) {
            o.x[0] = -5 + 10.0 * c / 10;
            o.x[1] = -4 + 10.0 * r / 2;
            CHECK(m[r * 11 + c] == ol_fn_eval(&o, 0));
        }
    ol_fn_free(&o);
    ol_play_free_buffer(m);
    CHECK(ol_play_map("himmelblau", 0, 1, 0, 1, 1, 5) == NULL && strstr(ol_play_error(), "[2, 4096]"));
    CHECK(ol_play_map("himmelblau", 1, 0, 0, 1, 5, 5) == NULL && strstr(ol_play_error(), "not empty"));
    CHECK(ol_play_map("nosuch", 0, 1, 0, 1, 5, 5) == NULL && strstr(ol_play_error(), "unknown function"));
}

/* build/wasm/optlab.wasm through web/play.js in node: every case's trace, status and message are
 * the command's, byte for byte. */
TEST(play_in_webassembly_gives_the_commands_trace_byte_for_byte) {
    struct stat st;
    if (stat("build/wasm/optlab.wasm", &st) != 0)
        SKIP("build/wasm/optlab.wasm not built (make wasm; it needs clang, lld and wasi-libc: scripts/setup.sh)");
    if (ol_test_run("command -v node", out, sizeof out) != 0) SKIP("node not found (scripts/setup.sh installs nodejs)");
    static char cases[MAX_CASES][512];
    int n = load_cases(cases, MAX_CASES);
    if (n < 0) SKIP("tests/play_cases.txt not found: run from the repository root");
    const char *list = ol_test_path("wasm-cases.txt"), *dir = ol_test_tmpdir();
    FILE *f = fopen(list, "w");
    CHECK(f != NULL);
    for (int i = 0; i < n; i++) fprintf(f, "%s\n", cases[i]);
    CHECK(fclose(f) == 0);
    int rc = ol_test_sh(out, sizeof out, "node tests/play_node.js build/wasm/optlab.wasm web/play.js %s < %s", dir, list);
    CHECK_MSG(rc == 0, "node: exit %d: %s", rc, out);
    int same = 0;
    for (int i = 0; i < n; i++) {
        char path[600], why[1400];
        snprintf(path, sizeof path, "%s/%d.txt", dir, i);
        char *result = ol_test_slurp(path, NULL);
        snprintf(path, sizeof path, "%s/%d.csv", dir, i);
        char *csv = ol_test_slurp(path, NULL);
        CHECK_MSG(result && csv, "%s: no result from node", cases[i]);
        int status = atoi(result + strlen("status "));
        char *message = strchr(result, '\n') + 1;
        message[strcspn(message, "\n")] = 0;
        int bad = same_as_cli(cases[i], status, message, status && status != OL_ENUMERIC ? NULL : csv, -1, why, sizeof why);
        free(result);
        free(csv);
        CHECK_MSG(!bad, "WebAssembly: %s", why);
        same++;
    }
    printf("    %d runs in WebAssembly (node) equal the command's byte for byte\n", same);
}

/* styblinski-tang, the explorer's function with minima of different depths: f and its gradient
 * are the formula's, and gradient descent from the four quadrants ends in four different minima,
 * the deepest at (-2.9035, -2.9035). */
TEST(styblinski_tang_has_four_minima_of_different_depths) {
    ol_objective o;
    CHECK(ol_fn_create(&o, "styblinski-tang", 2) == OL_OK);
    const double pts[3][2] = {{0.3, -1.7}, {2.5, 4}, {-3, 0}};
    for (int i = 0; i < 3; i++) {
        o.x[0] = pts[i][0];
        o.x[1] = pts[i][1];
        double f = ol_fn_eval(&o, 1), want = 0;
        for (int k = 0; k < 2; k++) {
            double x = pts[i][k];
            want += 0.5 * (x * x * x * x - 16 * x * x + 5 * x);
            CHECK_NEAR(o.grad[k], 2 * x * x * x - 16 * x + 2.5, 1e-12);
        }
        CHECK_NEAR(f, want, 1e-12);
    }
    ol_fn_free(&o);
    double ends[4];
    const char *starts[4] = {"0.5,0.5", "-0.5,0.5", "-0.5,-0.5", "0.5,-0.5"};
    for (int i = 0; i < 4; i++) {
        char flags[256];
        snprintf(flags, sizeof flags, "--fn=styblinski-tang\n--x0=%s\n--opt=gd\n--lr=0.01\n--steps=500\n", starts[i]);
        ol_play *p = ol_play_run(flags);
        CHECK(p && ol_play_status(p) == 0);
        ends[i] = ol_play_f(p);
        const double *last = ol_play_trace(p) + (size_t)(ol_play_rows(p) - 1) * 5;
        CHECK_MSG(fabs(fabs(last[3] + 0.1) - 2.8) < 0.15 && fabs(fabs(last[4] + 0.1) - 2.8) < 0.15,
                  "from %s: ended at (%g, %g)", starts[i], last[3], last[4]);
        ol_play_free(p);
    }
    CHECK_NEAR(ends[2], -78.33233, 1e-4);                  /* both coordinates at -2.9035 */
    CHECK_NEAR(ends[0], -50.05885, 1e-4);                  /* both at 2.7468 */
    CHECK_NEAR(ends[1], ends[3], 1e-9);                    /* one of each */
    CHECK(ends[2] < ends[1] && ends[1] < ends[0]);
}

/* The portable matrix product gives the same bytes natively (at 1 and 2 threads) and in the
 * WebAssembly build (SIMD128), float32 and float64, every transposition, shapes that are not whole
 * tiles (4 rows by 8 columns of float32 in WebAssembly, 16 natively; 4 and 8 of float64), k = 1, the
 * products of training a 784-100-100-10 MLP at batch 128. */
TEST(portable_gemm_gives_the_same_bytes_natively_and_in_webassembly) {
    struct stat st;
    if (stat("build/wasm/optlab.wasm", &st) != 0)
        SKIP("build/wasm/optlab.wasm not built (make wasm; it needs clang, lld and wasi-libc: scripts/setup.sh)");
    if (ol_test_run("command -v node", out, sizeof out) != 0) SKIP("node not found (scripts/setup.sh installs nodejs)");
    static const int shapes[][5] = {{1, 1, 1, 0, 0},    {7, 5, 3, 1, 0},    {33, 65, 17, 0, 1}, {64, 64, 64, 1, 1},
                                    {130, 70, 300, 0, 0}, {5, 300, 129, 1, 0}, {128, 10, 784, 0, 1},
                                    {4, 16, 1, 0, 0},    {5, 17, 1, 1, 1},    {3, 9, 2, 0, 1},    {9, 33, 1, 1, 0},
                                    {128, 100, 784, 0, 0}, {784, 100, 128, 1, 0}, {128, 100, 100, 0, 1}};
    const char *list = ol_test_path("gemm-shapes.txt");
    FILE *f = fopen(list, "w");
    CHECK(f != NULL);
    int n = 0;
    uint32_t want[64];
    int threads_before = ol_parallel_threads();
    CHECK(ol_gemm_set_kernel("portable") == OL_OK);
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (int prec = 32; prec <= 64; prec += 32) {
            const int *sh = shapes[s];
            fprintf(f, "%d %d %d %d %d %d %d\n", sh[0], sh[1], sh[2], sh[3], sh[4], prec, (int)(s + 1));
            ol_parallel_set_threads(1);
            want[n] = ol_play_gemm_digest(sh[0], sh[1], sh[2], sh[3], sh[4], prec, (uint32_t)(s + 1));
            ol_parallel_set_threads(2);
            uint32_t two = ol_play_gemm_digest(sh[0], sh[1], sh[2], sh[3], sh[4], prec, (uint32_t)(s + 1));
            CHECK_MSG(want[n] && two == want[n], "shape %zu float%d: 1 and 2 threads differ", s, prec);
            n++;
        }
    ol_parallel_set_threads(threads_before);
    CHECK(ol_gemm_set_kernel("auto") == OL_OK);
    CHECK(fclose(f) == 0);
    int rc = ol_test_sh(out, sizeof out, "node tests/play_node.js build/wasm/optlab.wasm web/play.js --gemm < %s", list);
    CHECK_MSG(rc == 0, "node: exit %d: %s", rc, out);
    char *line = out;
    for (int i = 0; i < n; i++) {
        CHECK_MSG(line && *line, "node printed %d digests of %d: %s", i, n, out);
        unsigned long got = strtoul(line, &line, 10);
        CHECK_MSG(got == want[i], "product %d: WebAssembly %lu, native portable %lu", i, got, (unsigned long)want[i]);
        while (*line == '\n') line++;
    }
}

/* The report's panels: with the code, the module (base64) and the script (a data: URL) are in the
 * page, which stays one well-formed file with the panel's static text; without a module, one line
 * in the panel's place says why, and the page has no script. */
TEST(report_panels_carry_the_module_or_say_why_not) {
    static const char wasm[] = "\0asm\1\0\0\0";
    ol_report_play with = {wasm, 8, "console.log('play');", ".play{color:red}", NULL};
    ol_report_play without = {NULL, 0, "console.log('play');", ".play{color:red}", "No module: a reason."};
    for (int k = 0; k < 3; k++) {
        ol_report *r = ol_report_new("panels");
        CHECK(r != NULL);
        if (k < 2) ol_report_set_play(r, k == 0 ? &with : &without);
        CHECK(ol_report_section(r, "A lab") == OL_OK);
        CHECK(ol_report_panel(r, "explorer", "Click on the landscape.") == OL_OK);
        CHECK(ol_report_panel(r, "Bad Kind", "x") == OL_EARG);
        char *html;
        size_t len;
        CHECK(ol_report_html(r, &html, &len) == OL_OK);
        ol_report_free(r);
        CHECK(!strstr(html, "data-panel=\"explorer\"") == (k > 0) && !strstr(html, "Click on the landscape.") == (k > 0));
        if (k == 0) {
            CHECK(strstr(html, "<script type=\"application/wasm-base64\" id=\"optlab-wasm\">AGFzbQEAAAA=</script>"));
            CHECK(strstr(html, "<script src=\"data:text/javascript;base64,Y29uc29sZS5sb2coJ3BsYXknKTs=\"></script>"));
            CHECK(strstr(html, ".play{color:red}") && strstr(html, "needs JavaScript"));
        } else {
            CHECK(!strstr(html, "<script"));
            CHECK(strstr(html, k == 1 ? "<p class=\"play-missing\" id=\"play-explorer\">No module: a reason.</p>"
                                      : "not in this report: it was written without their code."));
        }
        free(html);
    }
    ol_report_play bad = {wasm, 8, "x", ".a>.b{}", NULL}; /* a style that would break the XML */
    ol_report *r = ol_report_new("panels");
    ol_report_set_play(r, &bad);
    CHECK(ol_report_panel(r, "explorer", "x") == OL_OK);
    char *html;
    CHECK(ol_report_html(r, &html, NULL) == OL_EARG);
    ol_report_free(r);
}
