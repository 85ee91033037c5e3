/* test_browser.c: the report's interactive panels in real browsers (issues 17 and 18). A quick lab run
 * writes index.html; tests/browser/run.py drives headless Chromium through it (python3-selenium,
 * chromium-driver): clicks, controls, sliders, each run against `optlab optimize --trace` byte for
 * byte, the command's messages next to the controls, no console error, no request leaving the
 * page, a screenshot per panel in build/screenshots/; then Firefox ESR, which Debian ships without
 * a WebDriver, renders the page headless and screenshots the panels (index.html?panel=a,b puts them
 * first; each has run once on load) into build/screenshots/firefox-panels.png. Skipped where a browser or the WebAssembly build is missing,
 * except under CI (CI set in the environment), where that is a failure. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "optlab/common.h"
#include "optlab/data.h"
#include "optlab/play_two.h"
#include "test.h"

static char out[1 << 17];

/* "" when everything the test needs is here, else what is missing */
static const char *missing(char *python, size_t cap) {
    struct stat st;
    if (stat("build/wasm/optlab.wasm", &st) != 0) return "build/wasm/optlab.wasm (make wasm: clang, lld, wasi-libc)";
    if (stat("tests/browser/run.py", &st) != 0) return "tests/browser/run.py: run from the repository root";
    if (ol_test_run("command -v chromium && command -v chromedriver", out, sizeof out) != 0)
        return "chromium and chromium-driver";
    static const char *const pythons[] = {"/usr/bin/python3", "python3"};
    for (int i = 0; i < 2; i++)
        if (ol_test_sh(out, sizeof out, "%s -c 'import selenium'", pythons[i]) == 0) {
            snprintf(python, cap, "%s", pythons[i]);
            return "";
        }
    return "python3-selenium";
}

/* The quick lab run holding the panel, once per test process: its index.html */
static const char *report_of(const char *lab) {
    static char path[512];
    char dir[400];
    snprintf(dir, sizeof dir, "%s/report-%s", ol_test_tmpdir(), lab);
    snprintf(path, sizeof path, "%s/index.html", dir);
    struct stat st;
    if (stat(path, &st) == 0) return path;
    int rc = ol_test_sh(out, sizeof out, "%s lab %s --quick --out %s", ol_test_bin(), lab, dir);
    return rc == 0 ? path : NULL;
}

/* shot: the Firefox screenshot's name (build/screenshots/firefox-SHOT.png) */
static void browser_panels(const char *kinds, const char *lab, const char *shot_name) {
    char python[64];
    const char *why = missing(python, sizeof python);
    if (*why) {
        CHECK_MSG(!getenv("CI"), "CI needs %s for the browser tests (scripts/setup.sh --ci installs them)", why);
        SKIP("no %s: the panels are not tested in a browser here", why);
    }
    const char *report = report_of(lab);
    CHECK_MSG(report, "optlab lab %s --quick: %s", lab, out);
    int rc = ol_test_sh(out, sizeof out, "%s tests/browser/run.py --report %s --optlab %s --shots build/screenshots "
                        "--panels %s", python, report, ol_test_bin(), kinds);
    const char *tail = strrchr(out, '\n') && strlen(out) > 1 ? out + strlen(out) - 1 : out;
    while (tail > out && tail[-1] != '\n') tail--;
    if (rc == 0) printf("    %s", tail); /* the count line; all of it on a failure */
    else printf("%s", out);
    CHECK_MSG(rc == 0, "tests/browser/run.py --panels %s: exit %d (see above)", kinds, rc);
    /* Firefox: the page rendered with the panel on top after it ran on load */
    if (ol_test_run("command -v firefox-esr", out, sizeof out) != 0) {
        CHECK_MSG(!getenv("CI"), "CI needs firefox-esr for the panels' second browser");
        printf("    firefox-esr not found: no Firefox screenshot\n");
        return;
    }
    char shot[256];
    snprintf(shot, sizeof shot, "build/screenshots/firefox-%s.png", shot_name);
    remove(shot);
    rc = ol_test_sh(out, sizeof out, "profile=$(mktemp -d) && timeout 120 firefox-esr --headless --no-remote --profile "
                    "\"$profile\" --window-size=900,%d --screenshot \"$PWD/%s\" 'file://%s%s?panel=%s'; s=$?; "
                    "rm -rf \"$profile\"; exit $s", strchr(kinds, ',') ? 3600 : 1100, shot, report[0] == '/' ? "" : "$PWD/",
                    report, kinds);
    struct stat st;
    CHECK_MSG(rc == 0 && stat(shot, &st) == 0 && st.st_size > 50000, "firefox-esr --screenshot %s: exit %d: %s", shot, rc, out);
    printf("    screenshot %s (Firefox ESR, %ld bytes)\n", shot, (long)st.st_size);
    if (!strstr(kinds, "templates")) return;
    /* Firefox trains too: the templates panel's run on load, its step log against the command's */
    rc = ol_test_sh(out, sizeof out, "timeout 300 %s tests/browser/firefox.py --report %s --optlab %s", python, report,
                    ol_test_bin());
    printf("%s", out);
    CHECK_MSG(rc == 0, "tests/browser/firefox.py: exit %d (see above)", rc);
}

/* the four panels of `optlab lab all --quick`, in one browser session */
TEST(browser_panels_runs_are_the_commands_and_their_errors_are_its_messages) {
    browser_panels("explorer,momentum,dimension,schedules", "all", "panels");
}

/* issue 18's training panels of the same report (demos 1, 3 and 5; the data set in the page, runs in a
 * worker): each driven through its controls, Stop pressed mid-run, every finished run's step log
 * against `OPTLAB_GEMM=portable optlab train ... --step-log` byte for byte, the main thread never
 * blocked over 100 ms while training; then in Firefox ESR (tests/browser/firefox.py, over its own
 * remote protocol): the templates panel's run on load against the command's step log */
TEST(browser_training_panels_run_in_a_worker_and_their_logs_are_the_commands) {
    browser_panels("templates,overparam,optimizers", "all", "training");
}

/* ---- issue 18's demos 2 and 4 ---- */

/* the line of two.txt starting with "key " (its rest), or NULL */
static const char *field(const char *text, const char *key) {
    size_t k = strlen(key);
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (!strncmp(p, key, k) && p[k] == ' ') return p + k + 1;
    return NULL;
}

static int same_double(double a, double b) { return a == b || (isnan(a) && isnan(b)); }

/* The twoweights panel's last state (tests/browser/panels_two.py exported it) recomputed natively
 * from the same parameters and the same first n training images: Newton's minimum and every number
 * of ol_play_two_info bit for bit, each run's trace byte for byte. */
static void two_weights_native(const char *dir) {
    char path[600];
    snprintf(path, sizeof path, "%s/two.txt", dir);
    char *text = ol_test_slurp(path, NULL);
    CHECK_MSG(text, "%s: the panel's state was not exported", path);
    const char *data = field(text, "data"), *model = field(text, "model"), *info = field(text, "info"),
               *start = field(text, "start");
    CHECK(data && model && info && start && field(text, "n") && field(text, "weight") && field(text, "cls"));
    char name[256], spec[64];
    sscanf(data, "%255s", name);
    sscanf(model, "%63s", spec);
    long n = atol(field(text, "n"));
    int weight = atoi(field(text, "weight")), cls = atoi(field(text, "cls")), normalize = atoi(field(text, "normalize"));
    ol_dataset train, test;
    CHECK_MSG(ol_data_load(name, &train, &test) == 0, "%s", ol_error());
    unsigned char *pbytes;
    size_t plen;
    snprintf(path, sizeof path, "%s/params.f32", dir);
    CHECK(ol_read_file(path, 1 << 26, &pbytes, &plen) == 0);
    ol_play_two *two = ol_play_two_new(spec, (const float *)pbytes, (long)(plen / 4), train.pixels, train.labels, n,
                                       (int)ol_dataset_dim(&train), normalize, weight, cls);
    CHECK_MSG(ol_play_two_status(two) == 0, "%s", ol_play_two_message(two));
    char *p = (char *)info;
    for (int k = 0; k < 22; k++) {
        char *end;
        double v = strtod(p, &end);
        CHECK_MSG(end != p && same_double(v, ol_play_two_info(two, k)), "info %d: %.17g in the page, %.17g natively", k, v,
                  ol_play_two_info(two, k));
        p = end;
    }
    char *end;
    double w0 = strtod(start, &end), b0 = strtod(end, NULL);
    int k = 0;
    for (const char *line = field(text, "run"); line; line = field(strchr(line, '\n'), "run"), k++) {
        char opt[128];
        double lr;
        long steps;
        int status;
        CHECK(sscanf(line, "%127s %lf %ld %d", opt, &lr, &steps, &status) == 4);
        ol_play_two_run *r = ol_play_two_descend(two, opt, lr, steps, w0, b0);
        snprintf(path, sizeof path, "%s/run%d.csv", dir, k);
        char *csv = ol_test_slurp(path, NULL);
        const char *native = ol_play_two_run_csv(r);
        CHECK_MSG(csv && native && status == ol_play_two_run_status(r) && !strcmp(csv, native),
                  "run %d (%s, lr %g, %ld steps): the page's trace is not the native one", k, opt, lr, steps);
        printf("    twoweights: %s, lr %g, %ld steps from (%g, %g): the page's trace == the native one, %ld rows\n", opt, lr,
               steps, w0, b0, ol_play_two_run_rows(r));
        free(csv);
        ol_play_two_run_free(r);
        if (!strchr(line, '\n')) break;
    }
    CHECK_MSG(k >= 1, "no runs exported");
    printf("    twoweights: pixel %d, class %d: Newton's minimum (%.17g, %.17g) and the 22 numbers == native\n", weight, cls,
           ol_play_two_info(two, 2), ol_play_two_info(two, 3));
    ol_play_two_free(two);
    ol_dataset_free(&train);
    ol_dataset_free(&test);
    free(pbytes);
    free(text);
}

/* demos 2 and 4 of `optlab lab all --quick`, driven through their controls; demo 2's numbers against
 * the native library's */
TEST(browser_two_weights_gradient_cost_and_the_minibatch_race) {
    char python[64];
    const char *why = missing(python, sizeof python);
    if (*why) {
        CHECK_MSG(!getenv("CI"), "CI needs %s for the browser tests (scripts/setup.sh --ci installs them)", why);
        SKIP("no %s: the panels are not tested in a browser here", why);
    }
    const char *report = report_of("all");
    CHECK_MSG(report, "optlab lab all --quick: %s", out);
    char dir[512];
    snprintf(dir, sizeof dir, "%s/two-export", ol_test_tmpdir());
    int rc = ol_test_sh(out, sizeof out, "%s tests/browser/run.py --report %s --optlab %s --shots build/screenshots "
                        "--panels twoweights,gradcost,race --export %s", python, report, ol_test_bin(), dir);
    printf("%s", out);
    CHECK_MSG(rc == 0, "tests/browser/run.py --panels twoweights,gradcost,race: exit %d (see above)", rc);
    two_weights_native(dir);
}
