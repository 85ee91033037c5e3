#!/usr/bin/env bash
# scaling.sh: measures data-parallel training's time per step, split into compute and all-reduce,
# at P = 1 and 2 (more with P="1 2 4"), for a few model sizes; the numbers of docs/scaling.md.
#   scripts/scaling.sh                  Fashion-MNIST, 1 epoch over 20000 examples per run
#   DATA=dir SUBSET=N EPOCHS=E P="1 2" MODELS="mlp:784-256-10 ..." scripts/scaling.sh
# P = 1 is a plain process (time per step = training seconds / steps from its log, with 1 thread
# and with all cores); P > 1 runs under mpirun with OPTLAB_DIST_TIMING=1 (src/dist.c prints the
# median compute and all-reduce per step of the slowest rank). Needs an MPI build (make MPI=1).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
DATA=${DATA:-fashion-mnist}
SUBSET=${SUBSET:-20000}
EPOCHS=${EPOCHS:-1}
BATCH=${BATCH:-128}
P=${P:-"1 2"}
MODELS=${MODELS:-"mlp:784-64-10 mlp:784-256-10 mlp:784-1024-1024-10"}
MPIRUN=${MPIRUN:-mpirun --allow-run-as-root --oversubscribe}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

run_args() { echo "train --data $DATA --subset $SUBSET --model $1 --opt sgd:momentum=0.9 --lr 0.05 --batch $BATCH --epochs $EPOCHS --quiet"; }

# means over the steps. P = 1: training seconds / steps from the log. P > 1: the step, the slowest
# rank's compute, the wait for it (imbalance: a rank slowed by another process), the all-reduce
# (after a barrier, so the transfer alone), and the medians (robust to the odd slow step)
printf "%-22s %8s %2s %3s %10s %12s %9s %15s | %12s %10s\n" model params P thr "step (ms)" "compute (ms)" "wait (ms)" "allreduce (ms)" "median: comp" "allreduce"
for model in $MODELS; do
    for p in $P; do
        if [ "$p" = 1 ]; then
            for t in 1 $(nproc); do
                # shellcheck disable=SC2046
                "$BUILD/optlab" $(run_args "$model") --threads "$t" --log "$work/log.csv" > /dev/null
                awk -F, -v m="$model" -v t="$t" 'NR > 1 { s += $9; steps = $2 } END {
                    split(m, a, /[:-]/); n = 0; for (i = 2; i < length(a); i++) n += (a[i] + 1) * a[i + 1];
                    printf "%-22s %8d %2d %3d %10.3f %12.3f %9s %15s | %12s %10s\n", m, n, 1, t, 1e3 * s / steps, 1e3 * s / steps, "-", "-", "-", "-" }' "$work/log.csv"
            done
        else
            # shellcheck disable=SC2046
            OPTLAB_DIST_TIMING=1 $MPIRUN -np "$p" "$BUILD/optlab" $(run_args "$model") > "$work/out.txt" 2>&1
            awk -v m="$model" -v p="$p" '/mean per step/ { s = $7; c = $11; w = $14; a = $17 } /median per step/ { cm = $8; am = $11 }
                /floats/ { n = $9 } END {
                printf "%-22s %8d %2d %3d %10.3f %12.3f %9.3f %15.3f | %12.3f %10.3f\n", m, n - 1, p, 1, s, c, w, a, cm, am }' "$work/out.txt"
        fi
    done
done

# the link itself: MPI_Allreduce of gradient-sized buffers alone (median and best of 50)
mpicc -O2 -o "$work/allreduce_bench" scripts/allreduce_bench.c
for p in $P; do
    [ "$p" = 1 ] && continue
    echo
    echo "MPI_Allreduce alone, P = $p:"
    $MPIRUN -np "$p" "$work/allreduce_bench"
done
