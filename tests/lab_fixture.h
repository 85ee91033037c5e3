/* lab_fixture.h: what the lab tests share: a 28x28, 10-class generated data set (tests never
 * download data) and a runner for `optlab lab NAME --quick` into a fresh directory. */
#ifndef OPTLAB_TEST_LAB_FIXTURE_H
#define OPTLAB_TEST_LAB_FIXTURE_H

/* Directory of the generated data set (made once per test run). */
const char *lab_fixture_data(void);
/* Runs `optlab lab NAME --quick --data <fixture> --out <tmp>/lab-NAME-K [extra]`; returns the exit
 * status, sets *out_dir to the output directory, and the command's output to *output. The run is
 * made once per (NAME, extra) and test run: later calls return the same directory and output, so
 * tests must not modify the directory. */
int lab_fixture_run(const char *name, const char *extra, const char **out_dir, const char **output);
/* The value of summary.csv's row `lab,key,value` in dir, NaN when the file or the row is missing. */
double lab_fixture_summary(const char *dir, const char *lab, const char *key);
/* 1 if the file parses as well-formed XML (a small checker: balanced tags, quoted attributes,
 * known entities). */
int lab_fixture_xml_ok(const char *path);

#endif
