#!/usr/bin/env bash
# Builds the native core with its unit tests and runs them once per ISA (ctest), then the same tests
# cross-compiled for arm64 under qemu when that toolchain is installed (.ci/run installs it).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$root/build-tests"
jobs="$(nproc 2>/dev/null || echo 2)"

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DRNNKIT_BUILD_TESTS=ON > /dev/null
cmake --build "$build" -j "$jobs"
(cd "$build" && ctest --output-on-failure -j "$jobs")

if command -v aarch64-linux-gnu-g++ >/dev/null && { command -v qemu-aarch64-static || command -v qemu-aarch64; } >/dev/null; then
  bash "$root/scripts/test-neon.sh" "$root/build-neon"
elif [ "${CI:-}" = "true" ]; then
  echo "NEON toolchain missing in CI (g++-aarch64-linux-gnu, qemu-user-static)" >&2
  exit 1
else
  echo "NEON tests skipped: install g++-aarch64-linux-gnu and qemu-user-static to run them"
fi
