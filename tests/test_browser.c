/* test_browser.c: the report's interactive panels in real browsers (issues 17 and 18). A quick lab run
 * writes index.html; tests/browser/run.py drives headless Chromium through it (python3-selenium,
 * chromium-driver): clicks, controls, sliders, each run against `optlab optimize --trace` byte for
 * byte, the command's messages next to the controls, no console error, no request leaving the
 * page, a screenshot per panel in build/screenshots/; then Firefox ESR, which Debian ships without
 * a WebDriver, renders the page headless and screenshots the panels (index.html?panel=a,b puts them
 * first; each has run once on load) into build/screenshots/firefox-panels.png. Skipped where a browser or the WebAssembly build is missing,
 * except under CI (CI set in the environment), where that is a failure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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
