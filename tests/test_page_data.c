/* test_page_data.c: the data set in the report's page (issue 18): `optlab lab` embeds the first
 * training and test images of its data set (ol_data_subset_bytes), gzip'ed and base64, once, in
 * a script element the browser does not run, beside the module, with the name and counts the
 * page's command lines need; a report without a module has neither; the page stays under 8 MB. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "fixtures.h"
#include "lab_fixture.h"
#include "optlab/data.h"
#include "optlab/lab.h"
#include "optlab/report.h"
#include "test.h"

static char out[1 << 16];

static int b64_value(int c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* base64 text [s, end) -> bytes (malloc'ed), NULL on a bad character */
static unsigned char *unbase64(const char *s, const char *end, size_t *len) {
    unsigned char *o = malloc((size_t)(end - s) / 4 * 3 + 3);
    size_t n = 0;
    unsigned acc = 0;
    int bits = 0;
    for (; o && s < end && *s != '='; s++) {
        int v = b64_value((unsigned char)*s);
        if (v < 0) {
            free(o);
            return NULL;
        }
        acc = (acc << 6) | (unsigned)v;
        if ((bits += 6) >= 8) o[n++] = (unsigned char)(acc >> (bits -= 8));
    }
    *len = n;
    return o;
}

/* gzip bytes -> the inflated bytes (malloc'ed, at most cap), NULL when not one whole gzip stream */
static unsigned char *gunzip(const unsigned char *gz, size_t n, size_t cap, size_t *len) {
    unsigned char *o = malloc(cap);
    z_stream z;
    memset(&z, 0, sizeof z);
    if (!o || inflateInit2(&z, 16 + 15) != Z_OK) {
        free(o);
        return NULL;
    }
    z.next_in = (Bytef *)(uintptr_t)gz;
    z.avail_in = (uInt)n;
    z.next_out = o;
    z.avail_out = (uInt)cap;
    int zr = inflate(&z, Z_FINISH);
    *len = cap - z.avail_out;
    int whole = zr == Z_STREAM_END && z.avail_in == 0;
    inflateEnd(&z);
    if (!whole) {
        free(o);
        return NULL;
    }
    return o;
}

/* the value of attribute name="..." in the tag starting at tag (a copy in buf) */
static const char *attr(const char *tag, const char *name, char *buf, size_t cap) {
    char key[64];
    snprintf(key, sizeof key, " %s=\"", name);
    const char *close = strchr(tag, '>'), *p = strstr(tag, key);
    if (!p || (close && p > close)) return NULL;
    p += strlen(key);
    const char *q = strchr(p, '"');
    snprintf(buf, cap, "%.*s", (int)(q - p), p);
    return buf;
}

static size_t count_of(const char *hay, const char *needle) {
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p++) n++;
    return n;
}

static uint32_t be32(const unsigned char *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The element: with the module, base64 of the gzip given, with its name and counts; without a
 * module (the toolchain missing) neither data nor script; bad arguments refused. */
TEST(report_data_goes_beside_the_module_as_base64_or_not_at_all) {
    static const char wasm[] = "\0asm\1\0\0\0";
    static const unsigned char gz[] = {'g', 'z', '!'};
    ol_report_play with = {wasm, 8, "console.log('play');", ".play{color:red}", NULL};
    ol_report_play without = {NULL, 0, "console.log('play');", ".play{color:red}", "No module: a reason."};
    for (int k = 0; k < 2; k++) {
        ol_report *r = ol_report_new("data");
        CHECK(r != NULL);
        ol_report_set_play(r, k == 0 ? &with : &without);
        CHECK(ol_report_panel(r, "templates", "Train.") == OL_OK);
        CHECK(ol_report_set_data(r, "a <dir>", 20, 5, "old", 3, 9) == OL_OK);
        CHECK(ol_report_set_data(r, "a <dir>", 2000, 500, gz, sizeof gz, 1960032) == OL_OK); /* replaces */
        CHECK(ol_report_set_data(r, "x", 0, 5, gz, sizeof gz, 1) == OL_EARG);
        CHECK(ol_report_set_data(r, "x", 1, 5, gz, 0, 1) == OL_EARG);
        char *html;
        CHECK(ol_report_html(r, &html, NULL) == OL_OK);
        ol_report_free(r);
        const char *want = "<script type=\"application/octet-stream\" id=\"optlab-data\" data-name=\"a &lt;dir&gt;\" "
                           "data-train=\"2000\" data-test=\"500\" data-bytes=\"1960032\">Z3oh</script>";
        CHECK_MSG(!strstr(html, want) == (k == 1), "report %d: %s", k, html);
        CHECK(count_of(html, "optlab-data") == (k == 0 ? 1u : 0u));
        if (k == 0) CHECK(strstr(html, want) < strstr(html, "id=\"optlab-wasm\""));
        free(html);
    }
}

/* `optlab lab random-search` (the templates panel's lab) on the tests' data set: the page holds
 * the first 2000 training and 500 test images, once, and they inflate to the subset's bytes. */
TEST(lab_report_embeds_the_first_images_of_its_data_gzipped) {
    const char *dir, *output;
    int rc = lab_fixture_run("random-search", NULL, &dir, &output);
    CHECK_MSG(rc == 0, "optlab lab random-search: %s", output);
    char path[600], buf[600];
    snprintf(path, sizeof path, "%s/index.html", dir);
    size_t len;
    char *html = ol_test_slurp(path, &len);
    CHECK(html != NULL);
    const char *tag = strstr(html, "<script type=\"application/octet-stream\" id=\"optlab-data\"");
    struct stat st;
    if (stat("build/wasm/optlab.wasm", &st) != 0 || !strstr(html, "id=\"optlab-wasm\"")) {
        CHECK_MSG(!tag && strstr(html, "play-missing"), "a report without the module has no data and says why");
        free(html);
        SKIP("no WebAssembly module: the report says so in the panels' place, with no data");
    }
    CHECK_MSG(tag && count_of(html, "id=\"optlab-data\"") == 1, "one data element in %s", path);
    CHECK(!strcmp(attr(tag, "data-name", buf, sizeof buf), lab_fixture_data()));
    CHECK(!strcmp(attr(tag, "data-train", buf, sizeof buf), "2000"));
    CHECK(!strcmp(attr(tag, "data-test", buf, sizeof buf), "500"));
    size_t raw_len = strtoul(attr(tag, "data-bytes", buf, sizeof buf), NULL, 10);
    const char *start = strchr(tag, '>') + 1, *end = strstr(start, "</script>");
    size_t gz_len, got_len;
    unsigned char *gz = unbase64(start, end, &gz_len);
    CHECK(gz != NULL);
    unsigned char *got = gunzip(gz, gz_len, raw_len + 1, &got_len);
    CHECK_MSG(got && got_len == raw_len, "the data inflate to %zu bytes, as data-bytes says", raw_len);
    /* the IDX headers: 2000 images of 28 x 28 first, then 2000 labels, 500 images, 500 labels */
    CHECK(be32(got) == 0x803 && be32(got + 4) == 2000 && be32(got + 8) == 28 && be32(got + 12) == 28);
    size_t labels = 16 + 2000 * 784, test = labels + 8 + 2000;
    CHECK(be32(got + labels) == 0x801 && be32(got + labels + 4) == 2000);
    CHECK(be32(got + test) == 0x803 && be32(got + test + 4) == 500);
    CHECK(raw_len == test + 16 + 500 * 784 + 8 + 500);
    /* and they are the data set's first images, as the writer gives them */
    ol_dataset train, tst;
    CHECK(ol_data_load(lab_fixture_data(), &train, &tst) == OL_OK);
    uint8_t *want;
    size_t want_len;
    CHECK(ol_data_subset_bytes(&train, &tst, 2000, 500, &want, &want_len) == OL_OK);
    CHECK(want_len == got_len && !memcmp(want, got, got_len));
    CHECK(!memcmp(got + 16, train.pixels, 2000 * 784) && !memcmp(got + test + 16, tst.pixels, 500 * 784));
    ol_dataset_free(&train);
    ol_dataset_free(&tst);
    free(want);
    free(got);
    free(gz);
    free(html);
}

/* A data set smaller than the subset: all of it, with its counts. */
TEST(lab_report_embeds_a_small_data_set_whole) {
    char data[512], dir[512];
    snprintf(data, sizeof data, "%s/page-small-data", ol_test_tmpdir());
    snprintf(dir, sizeof dir, "%s/page-small-report", ol_test_tmpdir());
    CHECK(fixture_make_dataset(data, 300, 40, 28, 10, 3, 1) == 0);
    int rc = ol_test_sh(out, sizeof out, "%s lab random-search --quick --data %s --out %s", ol_test_bin(), data, dir);
    CHECK_MSG(rc == 0, "optlab lab: %s", out);
    char path[600], buf[64];
    snprintf(path, sizeof path, "%s/index.html", dir);
    char *html = ol_test_slurp(path, NULL);
    CHECK(html != NULL);
    const char *tag = strstr(html, "id=\"optlab-data\"");
    if (!strstr(html, "id=\"optlab-wasm\"")) {
        free(html);
        SKIP("no WebAssembly module in this build");
    }
    CHECK(tag && !strcmp(attr(tag, "data-train", buf, sizeof buf), "300") &&
          !strcmp(attr(tag, "data-test", buf, sizeof buf), "40"));
    free(html);
}

/* The report of every lab on Fashion-MNIST (module, data, figures) is one file under 8 MB. */
TEST(lab_report_with_its_data_stays_under_8_mb) {
    char paths[4][OL_PATH_CAP];
    if (ol_data_files("fashion-mnist", paths) != OL_OK) SKIP("no Fashion-MNIST here (%s)", ol_error());
    char dir[512];
    snprintf(dir, sizeof dir, "%s/page-size-report", ol_test_tmpdir());
    int rc = ol_test_sh(out, sizeof out, "%s lab all --quick --out %s", ol_test_bin(), dir);
    CHECK_MSG(rc == 0, "optlab lab all --quick: %s", out);
    char path[600];
    snprintf(path, sizeof path, "%s/index.html", dir);
    size_t len;
    char *html = ol_test_slurp(path, &len);
    CHECK(html != NULL);
    printf("    index.html: %zu bytes (%s)\n", len, strstr(html, "id=\"optlab-data\"") ? "with its data" : "no module, no data");
    CHECK_MSG(len < 8u * 1024 * 1024, "index.html is %zu bytes", len);
    CHECK(count_of(html, "id=\"optlab-data\"") <= 1);
    free(html);
}
