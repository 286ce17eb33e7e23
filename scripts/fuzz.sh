#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan) and runs each for a bounded time.
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET]   (default 20)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
build=${FWD_FUZZ_BUILD_DIR:-build-fuzz}

cmake -S . -B "$build" -G Ninja -DFWD_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ >/dev/null
targets=(spec_fuzz docker_spec_fuzz state_fuzz)
cmake --build "$build" -j"$(nproc)" --target "${targets[@]}"

for target in "${targets[@]}"; do
  corpus="$build/corpus/$target"
  mkdir -p "$corpus"
  echo "== $target for ${seconds}s"
  log="$build/$target.log"
  if ! "$build/tests/$target" -max_total_time="$seconds" -timeout=5 -rss_limit_mb=2048 \
      -print_final_stats=1 "$corpus" >"$log" 2>&1; then
    tail -40 "$log" >&2
    echo "fuzz.sh: $target found a crash (input saved in the current dir as crash-*)" >&2
    exit 1
  fi
  grep -E "^Done" "$log" || true
done
echo "fuzz.sh: no crashes"
