#!/usr/bin/env bash
# Runs the CUDA op tests (tests/cuda: every CUDA op against the CPU reference) on this machine's
# GPU and prints the device. Two ways (docs/cuda.md):
#   scripts/cuda_check.sh                  configure build-cuda (SEMANTIC_CUDA=ON), build only
#                                          cuda_tests, run it. Needs the apt packages of
#                                          scripts/setup.sh (no pip, no models) and a CUDA
#                                          toolkit >= 12 (nvcc in PATH or /usr/local/cuda/bin).
#   scripts/cuda_check.sh --prebuilt BIN   run an already built cuda_tests binary (built where nvcc
#                                          is, e.g. build/tests/cuda_tests; it links gtest, cudart
#                                          and libstdc++ statically, so it needs only glibc >= 2.34
#                                          and the NVIDIA driver on the GPU machine).
# Exit status: cuda_tests' (0: all passed), 3 when no GPU is usable (the tests would only skip).
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=""
if [ "${1:-}" = "--prebuilt" ]; then
  BIN=${2:?"usage: $0 [--prebuilt path/to/cuda_tests]"}
else
  BUILD=${SEMANTIC_CUDA_BUILD:-build-cuda}
  if ! command -v nvcc >/dev/null; then
    for d in /usr/local/cuda/bin /usr/local/cuda-*/bin; do
      [ -x "$d/nvcc" ] && export PATH="$d:$PATH" && break
    done
  fi
  command -v nvcc >/dev/null || { echo "cuda_check: no nvcc (install a CUDA toolkit)" >&2; exit 2; }
  nvcc --version | tail -1
  start=$(date +%s)
  cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSEMANTIC_CUDA=ON \
    -DSEMANTIC_BUILD_BENCH=OFF >/dev/null
  ninja -C "$BUILD" -j "$(nproc)" cuda_tests
  echo "cuda_check: built cuda_tests in $(( $(date +%s) - start )) s"
  BIN="$BUILD/tests/cuda_tests"
fi

command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total \
  --format=csv,noheader || echo "cuda_check: no nvidia-smi"
# The probe test prints "[ cuda     ] device 0: <name> ..." or "no CUDA device: <reason>".
probe=$("$BIN" --gtest_filter='CudaRuntimeTest.ProbeNamesDeviceOrReason' | grep '^\[ cuda' || true)
echo "$probe"
if [ -z "$probe" ] || [[ "$probe" == *"no CUDA device"* ]]; then
  echo "cuda_check: no usable GPU here; the op tests would only skip" >&2
  exit 3
fi
export SEMANTIC_SOURCE_DIR="$PWD"
"$BIN" --gtest_brief=0
