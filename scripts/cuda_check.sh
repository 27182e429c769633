#!/usr/bin/env bash
# Runs the CUDA checks on this machine's GPU and prints the device (docs/cuda.md):
#   1. tests/cuda (cuda_tests): every CUDA op against the CPU reference, the batched paged
#      attention against models::Attention, and the KV pool mirror;
#   2. the golden tests on the GPU (models_tests with SEMANTIC_TEST_DEVICE=cuda): the tiny
#      random-weight models and SmolLM2 (where models/ holds them) against llama.cpp's logits and
#      greedy tokens, batch invariance; architectures and types the CUDA path lacks skip.
# Two ways:
#   scripts/cuda_check.sh                  configure build-cuda (SEMANTIC_CUDA=ON), build
#                                          cuda_tests and models_tests, run them. Needs the apt
#                                          packages of scripts/setup.sh and a CUDA toolkit >= 12
#                                          (nvcc in PATH or /usr/local/cuda/bin); the golden
#                                          tests need models/ (make test's set-up).
#   scripts/cuda_check.sh --prebuilt DIR   run cuda_tests (and models_tests, if DIR has it) built
#                                          elsewhere (build/tests). cuda_tests links gtest, cudart
#                                          and libstdc++ statically and needs only glibc >= 2.34
#                                          and the NVIDIA driver; models_tests also libstdc++.
#                                          DIR may also be the cuda_tests binary itself.
# Exit status: 0 when all ran tests passed, 1 when one failed, 3 when no GPU is usable (the tests
# would only skip), 2 on usage errors.
set -euo pipefail
cd "$(dirname "$0")/.."

DIR=""
if [ "${1:-}" = "--prebuilt" ]; then
  DIR=${2:?"usage: $0 [--prebuilt DIR|path/to/cuda_tests]"}
  [ -f "$DIR" ] && DIR=$(dirname "$DIR")
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
  ninja -C "$BUILD" -j "$(nproc)" cuda_tests models_tests
  echo "cuda_check: built in $(( $(date +%s) - start )) s"
  DIR="$BUILD/tests"
fi
[ -x "$DIR/cuda_tests" ] || { echo "cuda_check: no cuda_tests in $DIR" >&2; exit 2; }

command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total \
  --format=csv,noheader || echo "cuda_check: no nvidia-smi"
# The probe test prints "[ cuda     ] device 0: <name> ..." or "no CUDA device: <reason>".
probe=$("$DIR/cuda_tests" --gtest_filter='CudaRuntimeTest.ProbeNamesDeviceOrReason' |
        grep '^\[ cuda' || true)
echo "$probe"
if [ -z "$probe" ] || [[ "$probe" == *"no CUDA device"* ]]; then
  echo "cuda_check: no usable GPU here; the tests would only skip" >&2
  exit 3
fi
export SEMANTIC_SOURCE_DIR="$PWD"
status=0
"$DIR/cuda_tests" --gtest_brief=0 || status=1
if [ -x "$DIR/models_tests" ]; then
  echo "cuda_check: golden tests on the GPU (SEMANTIC_TEST_DEVICE=cuda)"
  SEMANTIC_TEST_DEVICE=cuda "$DIR/models_tests" --gtest_filter='*Golden*' --gtest_brief=1 || status=1
fi
exit $status
