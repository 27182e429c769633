#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz, clang + ASan + UBSan) and runs each for a bounded time
# on its committed corpus (tests/fuzz/corpus/<target>), then prints executions and crashes per
# target and writes a JSON summary. docs/fuzzing.md describes the targets.
#
#   scripts/fuzz.sh [seconds-per-target] [--only t1,t2] [--out FILE] [--build DIR] [--merge]
#
# seconds-per-target: default 300 (make test runs 20). New inputs go to <build>/fuzz-work/<target>
# (the committed corpus is only read); crash reproducers to <build>/fuzz-artifacts/<target>/.
# --merge copies the new inputs that add coverage into the committed corpus (minimised).
# The exit status is 1 when any target crashed, leaked, hit UB or timed out.
set -euo pipefail
cd "$(dirname "$0")/.."

SECS=300
ONLY=""
OUT=""
BUILD=${SEMANTIC_FUZZ_BUILD:-build-asan}
MERGE=0
while (($#)); do
  case "$1" in
    --only) ONLY=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --build) BUILD=$2; shift 2 ;;
    --merge) MERGE=1; shift ;;
    [0-9]*) SECS=$1; shift ;;
    *) echo "usage: $0 [seconds-per-target] [--only t1,t2] [--out FILE] [--build DIR] [--merge]" >&2
       exit 2 ;;
  esac
done
[ -n "$OUT" ] || OUT=bench/results/$(date -u +%F)-fuzz-${SECS}s.json

if [ ! -f "$BUILD/build.ninja" ]; then
  CC=clang CXX=clang++ cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DSEMANTIC_FUZZ=ON -DSEMANTIC_BUILD_BENCH=OFF >/dev/null
fi
ninja -C "$BUILD" -j "${JOBS:-$(nproc)}" fuzz_targets >/dev/null

# The dictionary each target uses (tests/fuzz/dict).
dict_for() {
  case "$1" in
    openai_request|anthropic_request|agent_session|safetensors) echo tests/fuzz/dict/json.dict ;;
    chat_template) echo tests/fuzz/dict/jinja.dict ;;
    gguf) echo tests/fuzz/dict/gguf.dict ;;
    *) echo "" ;;
  esac
}

export SEMANTIC_SOURCE_DIR=$PWD
# Leaks count as failures; UBSan findings abort (the build uses -fno-sanitize-recover).
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

targets=()
for bin in "$BUILD"/fuzz/*_fuzz; do
  name=$(basename "$bin" _fuzz)
  if [ -n "$ONLY" ] && [[ ",$ONLY," != *",$name,"* ]]; then continue; fi
  targets+=("$name")
done
((${#targets[@]})) || { echo "no fuzz targets in $BUILD/fuzz" >&2; exit 2; }

mkdir -p "$(dirname "$OUT")"
failed=0
rows=()
printf '%-18s %12s %10s %8s %6s  %s\n' target executions exec/s new_units crash status
for t in "${targets[@]}"; do
  seeds=tests/fuzz/corpus/$t
  work=$BUILD/fuzz-work/$t
  art=$BUILD/fuzz-artifacts/$t
  log=$BUILD/fuzz-logs/$t.log
  mkdir -p "$seeds" "$work" "$art" "$(dirname "$log")"
  dict=$(dict_for "$t")
  args=(-max_total_time="$SECS" -timeout=25 -rss_limit_mb=2560 -print_final_stats=1
        -artifact_prefix="$art/")
  [ -n "$dict" ] && args+=(-dict="$dict")
  start=$(date +%s)
  set +e
  nice -n "${FUZZ_NICE:-10}" "$BUILD/fuzz/${t}_fuzz" "${args[@]}" "$work" "$seeds" >"$log" 2>&1
  rc=$?
  set -e
  wall=$(($(date +%s) - start))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n1)
  added=$(sed -n 's/^stat::new_units_added: *//p' "$log" | tail -n1)
  rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -n1)
  crash=""
  if ((rc != 0)); then
    failed=1
    crash=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n1)
    kind=$(grep -m1 -oE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer): [a-zA-Z-]+|runtime error: .*|FUZZ_CHECK failed: .*|uncaught exception' "$log" || true)
    status="FAIL (${kind:-exit $rc}) -> ${crash:-see $log}"
  else
    status=ok
  fi
  printf '%-18s %12s %10s %8s %6s  %s\n' "$t" "${execs:-?}" "${rate:-?}" "${added:-?}" \
    "$((rc != 0))" "$status"
  rows+=("$(printf '{"target": "%s", "seconds": %s, "wall_s": %s, "executions": %s, "exec_per_s": %s, "new_units": %s, "peak_rss_mb": %s, "corpus_files": %s, "crashed": %s, "exit_code": %s, "artifact": "%s", "log": "%s"}' \
    "$t" "$SECS" "$wall" "${execs:-0}" "${rate:-0}" "${added:-0}" "${rss:-0}" \
    "$(ls "$seeds" | wc -l)" "$([ $rc -ne 0 ] && echo true || echo false)" "$rc" "$crash" "$log")")
  if ((MERGE)) && ((rc == 0)); then
    # Keep only inputs that add coverage over what is committed.
    "$BUILD/fuzz/${t}_fuzz" -merge=1 -timeout=25 "$seeds" "$work" >"$log.merge" 2>&1 || true
  fi
done

{
  echo '{'
  echo "  \"date_utc\": \"$(date -u +%FT%TZ)\","
  echo "  \"commit\": \"$(git rev-parse --short HEAD 2>/dev/null || echo unknown)\","
  echo "  \"cpu\": \"$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n1)\","
  echo "  \"nproc\": $(nproc),"
  echo "  \"seconds_per_target\": $SECS,"
  echo "  \"command\": \"scripts/fuzz.sh $SECS\","
  echo '  "targets": ['
  for i in "${!rows[@]}"; do
    sep=,; ((i == ${#rows[@]} - 1)) && sep=
    echo "    ${rows[$i]}$sep"
  done
  echo '  ]'
  echo '}'
} >"$OUT"
echo "summary: $OUT"
exit "$failed"
