#!/usr/bin/env bash
# make_wrap_traces.sh: writes tests/ref/wrap_traces/NAME.csv for every case of
# tests/ref/wrap_cases.txt with the numpy reference tests/ref/wrap_optimize.py (/usr/bin/python3).
# The traces are committed: `make test` compares `optlab optimize` with them and needs no python.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=tests/ref/wrap_traces
mkdir -p "$out"
rm -f "$out"/*.csv
n=0
while IFS= read -r line; do
    case "$line" in ''|'#'*) continue ;; esac
    name=${line%%:*}
    args=${line#*: }
    # shellcheck disable=SC2086 # the arguments are words
    /usr/bin/python3 tests/ref/wrap_optimize.py $args --trace "$out/$name.csv"
    n=$((n + 1))
done < tests/ref/wrap_cases.txt
echo "make_wrap_traces: $n traces in $out"
