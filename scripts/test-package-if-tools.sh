#!/usr/bin/env bash
# Part of npm test: builds every prebuild (npm run prebuildify:all, incremental after the first
# time) and runs npm run test:package, when this is a Linux x64 machine with the Debian tools both
# need. Elsewhere it says what is missing and passes, except with RNNKIT_REQUIRE_CROSS=1 (.ci/run),
# where a skipped package test fails the run.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

missing=()
[ "$(uname -s)-$(uname -m)" = "Linux-x86_64" ] || missing+=("a Linux x86_64 machine")
for tool in cmake x86_64-w64-mingw32-g++-posix x86_64-w64-mingw32-objdump aarch64-linux-gnu-objdump objdump musl-gcc; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
command -v qemu-aarch64-static >/dev/null || command -v qemu-aarch64 >/dev/null || missing+=("qemu-aarch64-static")
command -v wine64 >/dev/null || [ -x /usr/lib/wine/wine64 ] || missing+=("wine64")

if [ ${#missing[@]} -gt 0 ]; then
  echo "package test skipped, missing: ${missing[*]}"
  echo "  (Debian/Ubuntu: apt-get install g++-mingw-w64-x86-64-posix g++-aarch64-linux-gnu qemu-user-static wine64 musl-tools)"
  if [ "${RNNKIT_REQUIRE_CROSS:-}" = "1" ]; then
    echo "package test: RNNKIT_REQUIRE_CROSS=1 requires it" >&2
    exit 1
  fi
  exit 0
fi

npm run --silent prebuildify:all
npm run --silent test:package
