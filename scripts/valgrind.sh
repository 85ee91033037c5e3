#!/usr/bin/env bash
# valgrind.sh: the quick training path (train with checkpoints, resume, eval, optimize) under
# valgrind memcheck on generated data: any error or definite/indirect leak fails.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export OMP_WAIT_POLICY=passive   # optlab would otherwise re-execute itself to set it, out of valgrind's sight
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$BUILD/tests/make_fixture" "$work/data" 400 100 28 10
vg=(valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect
    --show-leak-kinds=definite,indirect --track-origins=yes)
run() {
    echo "valgrind: optlab $*" >&2
    "${vg[@]}" "$BUILD/optlab" "$@" > "$work/out.txt" 2>&1 || { cat "$work/out.txt"; echo "valgrind: FAILED: optlab $*" >&2; exit 1; }
}
run train --data "$work/data" --model mlp:784-32-10 --opt sgd:momentum=0.9 --lr 0.1 --batch 50 --epochs 2 \
    --threads 1 --log "$work/log.csv" --save "$work/m.bin" --checkpoint "$work/ck" --checkpoint-every 5
run train --data "$work/data" --model mlp:784-32-10 --opt adam --lr 0.01 --batch 50 --epochs 1 --threads 2 \
    --schedule cosine:t_max=8 --warmup 2 --val-split 0.1 --normalize --sampler iid
run train --resume "$work/ck" --data "$work/data" --epochs 3 --threads 1
run eval --model "$work/m.bin" --data "$work/data"
run optimize --fn rosenbrock --x0 -1.5,2 --opt adam --lr 0.05 --steps 50 --trace "$work/trace.csv"
# bad input paths too: they must fail cleanly without leaking
if "${vg[@]}" "$BUILD/optlab" train --data "$work/data" --model mlp:784-4 --opt adamm > "$work/out.txt" 2>&1; then
    echo "valgrind: a bad optimizer was accepted" >&2; exit 1
fi
grep -q "adamm" "$work/out.txt" || { cat "$work/out.txt"; exit 1; }
if [ "$("${vg[@]}" "$BUILD/optlab" eval --model "$work/log.csv" --data "$work/data" > "$work/out.txt" 2>&1; echo $?)" = 99 ]; then
    cat "$work/out.txt"; echo "valgrind: errors on a bad model file" >&2; exit 1
fi
echo "valgrind: clean (0 errors, 0 definite or indirect leaks)"
