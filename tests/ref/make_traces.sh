#!/usr/bin/env bash
# make_traces.sh: writes tests/ref/traces/NAME.csv for every case of tests/ref/cases.txt with the
# float64 torch.optim reference (tests/ref/torch_optimize.py, Debian's python3-torch at
# /usr/bin/python3: bench/setup.sh installs it). The traces are committed: `make test` compares
# `optlab optimize` with them (tests/test_torch_reference.c) and needs no torch.
set -euo pipefail
set -f   # the arguments are words, never file patterns (a nested spec has [ ] in it)
cd "$(dirname "$0")/../.."
out=tests/ref/traces
mkdir -p "$out"
rm -f "$out"/*.csv
n=0
while IFS= read -r line; do
    case "$line" in ''|'#'*) continue ;; esac
    name=${line%%:*}
    args=${line#*: }
    # shellcheck disable=SC2086 # the arguments are words
    /usr/bin/python3 tests/ref/torch_optimize.py $args --trace "$out/$name.csv" >/dev/null
    n=$((n + 1))
done < tests/ref/cases.txt
echo "make_traces: $n traces in $out (torch $(/usr/bin/python3 -c 'import torch; print(torch.__version__)'))"
