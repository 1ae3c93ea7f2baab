#!/usr/bin/env bash
# The whole test suite: native unit tests per ISA (ctest, + NEON under qemu when available), the
# package test when its cross tools are installed (every prebuild packed, installed and run), then
# the JavaScript tests (vitest) against the addon `npm install` built, closing with one
# "N passed, N failed" line. Timing-sensitive tests (test/serial/) run after the others, alone:
# sharing the two cores with other test files would measure the neighbours, not the code.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

bash scripts/test-native.sh

mkdir -p build-tests
status=0
bash scripts/test-package-if-tools.sh || status=$?
npx vitest run --exclude 'test/serial/**' --reporter=default --reporter=json \
  --outputFile.json=build-tests/vitest.json || status=$?
npx vitest run test/serial --reporter=default --reporter=json \
  --outputFile.json=build-tests/vitest-serial.json || status=$?
node scripts/test-summary.js build-tests/vitest.json build-tests/vitest-serial.json || status=$?
exit $status
