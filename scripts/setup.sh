#!/usr/bin/env bash
# setup.sh: installs every Debian package optlab needs when it is missing. Idempotent and quick
# when everything is there (one dpkg query). As root it runs apt-get; otherwise it prints the
# exact command to run.
#   scripts/setup.sh          what the build, the tests and `make run` need
#   scripts/setup.sh --ci     also the tools CI uses: clang + its OpenMP/sanitizer runtimes, valgrind
set -euo pipefail

# libopenmpi-dev + openmpi-bin: the MPI build (data-parallel training, sweeps over ranks) and its
# tests; the Makefile builds with MPI when mpicc is there and without it otherwise
# clang + lld + wasi-libc + libclang-rt-14-dev-wasm32: the WebAssembly build of the report's panels
# (make wasm; `make run` embeds it); nodejs: the tests run that build without a browser; chromium +
# chromium-driver + python3-selenium: the browser tests of the panels; firefox-esr: their screenshot
# in a second browser
packages=(gcc make libc6-dev libopenblas-dev zlib1g-dev dataset-fashion-mnist libopenmpi-dev openmpi-bin
          clang lld wasi-libc libclang-rt-14-dev-wasm32 nodejs chromium chromium-driver python3-selenium firefox-esr)
if [ "${1:-}" = "--ci" ]; then
    packages+=(libomp-14-dev libclang-rt-14-dev valgrind)
fi

missing=()
for p in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    [ "$status" = "install ok installed" ] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

echo "setup: installing missing packages: ${missing[*]}" >&2
if [ "$(id -u)" -ne 0 ]; then
    echo "setup: not root; run:  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# An update first only when the package lists are missing or older than a day.
if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mtime -1 2>/dev/null | head -1)" ]; then
    apt-get update -qq >&2
fi
apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
echo "setup: done" >&2
