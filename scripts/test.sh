#!/usr/bin/env bash
# The whole test suite: native unit tests per ISA (ctest, + NEON under qemu when available), the
# native tests and the memory-heavy JavaScript tests under ASan+UBSan, the package test when its
# cross tools are installed (every prebuild packed, installed and run), the type check (tsc), the API
# reference (TypeDoc, warnings are errors), then
# the JavaScript tests (vitest) against the addon `npm install` built, closing with the skipped
# checks and why, then one "N passed, N failed" line. Checks that need more than Node, cmake and a
# compiler (qemu-user, cross compilers, wine) skip when those are missing, unless
# RNNKIT_REQUIRE_CROSS=1 (.ci/run sets it) makes them fail instead. Timing-sensitive tests
# (test/serial/) run after the others, alone: sharing the two cores with other test files would
# measure the neighbours, not the code.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

# test-native.sh notes the native checks it skips (missing cross tools) here, for the summary.
export RNNKIT_SKIPPED_CHECKS="$root/build-tests/skipped-checks.txt"
mkdir -p build-tests
rm -f "$RNNKIT_SKIPPED_CHECKS"

bash scripts/test-native.sh

# ASan + UBSan: the native tests and the memory-heavy JavaScript tests on an instrumented addon.
sanitizers=0
bash scripts/test-sanitizers.sh || sanitizers=$?
if [ "$sanitizers" = 2 ]; then
  if [ "${RNNKIT_REQUIRE_CROSS:-}" = 1 ]; then
    echo "Sanitizer tests can not run (no ASan/UBSan runtime) but RNNKIT_REQUIRE_CROSS=1 requires them" >&2
    exit 1
  fi
  echo "Sanitizer tests skipped: the compiler has no libasan/libubsan runtime"
  echo "sanitizers (ASan+UBSan): the compiler has no libasan/libubsan runtime" >> "$RNNKIT_SKIPPED_CHECKS"
elif [ "$sanitizers" != 0 ]; then
  exit "$sanitizers"
fi

status=0
bash scripts/test-package-if-tools.sh || status=$?
# Types of the whole tree, test/type-checks.ts included (compile-time cases: @ts-expect-error lines).
npx tsc --noEmit -p tsconfig.json || status=$?
# The API reference builds with no TypeDoc warning (every exported symbol documented, every link resolved).
npm run --silent docs || status=$?
npx vitest run --exclude 'test/serial/**' --reporter=default --reporter=json \
  --outputFile.json=build-tests/vitest.json || status=$?
npx vitest run test/serial --reporter=default --reporter=json \
  --outputFile.json=build-tests/vitest-serial.json || status=$?
node scripts/test-summary.js --skips "$RNNKIT_SKIPPED_CHECKS" build-tests/vitest.json build-tests/vitest-serial.json || status=$?
exit $status
