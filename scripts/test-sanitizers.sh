#!/usr/bin/env bash
# The native tests under AddressSanitizer + UndefinedBehaviorSanitizer, once per ISA this CPU has,
# then the addon built the same way (one build of the core for both) with the JavaScript tests that
# drive memory hardest: the reliability cases, the fuzzer (fewer calls), the binding, prepared layers
# and sequence parity. Node itself is not instrumented, so the sanitizer runtime is preloaded.
# Usage: scripts/test-sanitizers.sh [build-dir]   (default: build-asan). Exit 2: a tool is missing.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$root/build-asan}"
cd "$root"

compiler="${CXX:-c++}"
asan="$("$compiler" -print-file-name=libasan.so 2>/dev/null || true)"
ubsan="$("$compiler" -print-file-name=libubsan.so 2>/dev/null || true)"
if [ ! -f "$asan" ] || [ ! -f "$ubsan" ]; then
  echo "test-sanitizers.sh: $compiler has no libasan.so / libubsan.so (GCC: install libasan and libubsan)" >&2
  exit 2
fi

jobs="$(nproc 2>/dev/null || echo 2)"
npx cmake-js compile --out "$build" --CDRNNKIT_SANITIZE=address,undefined --CDRNNKIT_BUILD_TESTS=ON \
  --CDCMAKE_BUILD_TYPE=RelWithDebInfo > "$build-configure.log" 2>&1 || { tail -40 "$build-configure.log" >&2; exit 1; }
cmake --build "$build" -j "$jobs" > /dev/null

# allocator_may_return_null: the tests ask for impossible sizes on purpose (the core must get
# nullptr back, not an ASan abort).
export ASAN_OPTIONS="allocator_may_return_null=1:detect_leaks=1:abort_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
(cd "$build" && ctest --output-on-failure -j "$jobs")

# The JavaScript side: Node's own allocations are not ours to check for leaks.
addon="$(find "$build" -name rnnkit.node -print -quit)"
ASAN_OPTIONS="allocator_may_return_null=1:detect_leaks=0:abort_on_error=1:verify_asan_link_order=0" \
LD_PRELOAD="$asan $ubsan" RNNKIT_ADDON="$addon" RNNKIT_FUZZ_CALLS="${RNNKIT_FUZZ_CALLS:-1000}" \
  npx vitest run test/reliability.test.ts test/fuzz.test.ts test/binding.test.ts test/prepared-layer.test.ts \
  test/sequence-parity.test.ts
