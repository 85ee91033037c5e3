/* make_fixture.c: writes a generated MNIST-format data set (tests/fixtures.c) into a directory, for
 * scripts that need data without downloading any: make_fixture DIR [n_train n_test side classes]. */
#include <stdio.h>
#include <stdlib.h>

#include "fixtures.h"

int main(int argc, char **argv) {
    if (argc != 2 && argc != 6) {
        fprintf(stderr, "usage: make_fixture DIR [n_train n_test side classes]\n");
        return 2;
    }
    uint32_t n_train = argc == 6 ? (uint32_t)atoi(argv[2]) : 1000, n_test = argc == 6 ? (uint32_t)atoi(argv[3]) : 200;
    uint32_t side = argc == 6 ? (uint32_t)atoi(argv[4]) : 28;
    int classes = argc == 6 ? atoi(argv[5]) : 10;
    if (fixture_make_dataset(argv[1], n_train, n_test, side, classes, 1, 1)) {
        fprintf(stderr, "make_fixture: cannot write %s\n", argv[1]);
        return 1;
    }
    return 0;
}
