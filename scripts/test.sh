#!/usr/bin/env bash
# The whole test suite: native unit tests per ISA (ctest, + NEON under qemu when available), then
# the JavaScript tests (vitest) against the addon `npm install` built, closing with one
# "N passed, N failed" line.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

bash scripts/test-native.sh

mkdir -p build-tests
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json=build-tests/vitest.json || status=$?
node scripts/test-summary.js build-tests/vitest.json || status=$?
exit $status
