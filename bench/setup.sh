#!/usr/bin/env bash
# bench/setup.sh: what `make bench` needs beyond the product's own build: PyTorch and numpy for
# Debian's /usr/bin/python3 (python3-torch, python3-numpy) and the Fashion-MNIST files
# (dataset-fashion-mnist). Installs the missing packages with apt-get when run as root; otherwise
# prints the command to run. Never fails the benchmark: what is missing shows up in the table as a
# failed column, and optlab's own numbers are still measured.
set -u
PY=${BENCH_PYTHON:-/usr/bin/python3}
DATA_DIR=${OPTLAB_FASHION_MNIST_DIR:-/usr/share/datasets/fashion-mnist}
missing=()
"$PY" -c 'import numpy' 2>/dev/null || missing+=(python3-numpy)
"$PY" -c 'import torch' 2>/dev/null || missing+=(python3-torch)
[ -e "$DATA_DIR/train-images-idx3-ubyte.gz" ] || [ -e "$DATA_DIR/train-images-idx3-ubyte" ] ||
    missing+=(dataset-fashion-mnist)
[ ${#missing[@]} -eq 0 ] && exit 0
echo "bench/setup.sh: missing: ${missing[*]}"
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "bench/setup.sh: apt-get install -y ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" ||
        { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"; } ||
        echo "bench/setup.sh: apt-get failed; the benchmark runs without them (failed columns)"
else
    echo "bench/setup.sh: run as root:  apt-get install -y ${missing[*]}"
    echo "bench/setup.sh: continuing; the columns that need them will show as failed"
fi
exit 0
