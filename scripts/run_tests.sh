#!/usr/bin/env bash
# Runs every test suite: C++ (CTest/GoogleTest) then Python (pytest) against the built binary.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
echo "== C++ suites (ctest) =="
ctest --test-dir "$BUILD" --output-on-failure -j "$(nproc)"
if compgen -G "tests/py/test_*.py" >/dev/null; then
  echo "== Python suites (pytest) =="
  SEMANTIC_BUILD="$BUILD" .venv/bin/python -m pytest -q tests/py
fi
# ASan + UBSan build of the C++ suites and a short run of every fuzz target (docs/fuzzing.md);
# SEMANTIC_SANITIZE=0 skips it.
if [ "${SEMANTIC_SANITIZE:-1}" != 0 ]; then
  echo "== Sanitizer build (clang, ASan + UBSan): C++ suites, fuzz targets =="
  bash scripts/sanitize_tests.sh "$BUILD-asan"
fi
