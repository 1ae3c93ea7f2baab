#!/usr/bin/env bash
# Cross-compiles the native core and its unit tests for aarch64 (NEON) and runs them under qemu
# user-mode emulation. On Debian/Ubuntu the tools come from:
#   apt-get install -y g++-aarch64-linux-gnu qemu-user-static
# Usage: scripts/test-neon.sh [build-dir]   (default: build-neon; extra ctest args via CTEST_ARGS)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$root/build-neon}"

missing=()
command -v cmake >/dev/null || missing+=("cmake")
command -v aarch64-linux-gnu-g++ >/dev/null || missing+=("aarch64-linux-gnu-g++ (apt-get install g++-aarch64-linux-gnu)")
qemu="$(command -v qemu-aarch64-static || command -v qemu-aarch64 || true)"
[ -n "$qemu" ] || missing+=("qemu-aarch64-static or qemu-aarch64 (apt-get install qemu-user-static)")
if [ ${#missing[@]} -gt 0 ]; then
  echo "test-neon.sh: missing tools:" >&2
  printf '  - %s\n' "${missing[@]}" >&2
  exit 2
fi

jobs="$(nproc 2>/dev/null || echo 2)"
cmake -S "$root" -B "$build" \
  -DCMAKE_TOOLCHAIN_FILE="$root/cmake/aarch64-toolchain.cmake" \
  -DCMAKE_CROSSCOMPILING_EMULATOR="$qemu" \
  -DCMAKE_BUILD_TYPE=Release \
  -DRNNKIT_BUILD_TESTS=ON
cmake --build "$build" -j "$jobs"
# Every test binary runs once for scalar and once for neon (test_*_neon are compared against the
# scalar reference and float64 inside the tests).
cd "$build"
ctest --output-on-failure ${CTEST_ARGS:-}
