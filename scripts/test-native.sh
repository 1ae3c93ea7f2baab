#!/usr/bin/env bash
# Builds the native core with its unit tests and runs them once per ISA (ctest), then the same tests
# cross-compiled for arm64 under qemu when that toolchain is installed. Without it they skip (noted
# in $RNNKIT_SKIPPED_CHECKS for the summary), unless RNNKIT_REQUIRE_CROSS=1 (.ci/run installs the
# toolchain and sets it): then a missing toolchain fails.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$root/build-tests"
jobs="$(nproc 2>/dev/null || echo 2)"

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DRNNKIT_BUILD_TESTS=ON > /dev/null
cmake --build "$build" -j "$jobs"
(cd "$build" && ctest --output-on-failure -j "$jobs")

if command -v aarch64-linux-gnu-g++ >/dev/null && { command -v qemu-aarch64-static || command -v qemu-aarch64; } >/dev/null; then
  bash "$root/scripts/test-neon.sh" "$root/build-neon"
else
  reason="g++-aarch64-linux-gnu and qemu-user-static are not installed"
  if [ "${RNNKIT_REQUIRE_CROSS:-}" = "1" ]; then
    echo "NEON tests can not run: $reason, but RNNKIT_REQUIRE_CROSS=1 says they must" >&2
    exit 1
  fi
  echo "NEON tests skipped: $reason (apt-get install g++-aarch64-linux-gnu qemu-user-static)"
  # scripts/test.sh lists this in its summary.
  if [ -n "${RNNKIT_SKIPPED_CHECKS:-}" ]; then
    echo "native NEON unit tests (arm64 under qemu): $reason" >> "$RNNKIT_SKIPPED_CHECKS"
  fi
fi
