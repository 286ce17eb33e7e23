#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine: installs dependencies,
# builds with warnings as errors, runs clang-tidy, the pure-logic tests as an
# unprivileged user, bounded fuzzing, every ctest suite as root, builds the .deb
# and installs, runs and purges it (scripts/deb-check.sh), and then the root
# suites on Debian's 6.1 and 6.12 kernels in QEMU (vmtests/run; skip with
# FWD_SKIP_VMTESTS=1). Fails on any failed or skipped test.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ $(id -u) -ne 0 ]]; then
  echo "test.sh: run as root (BPF and network namespaces need it): sudo $0" >&2
  exit 1
fi

bash scripts/install-deps.sh
build=${FWD_BUILD_DIR:-build}
cmake -S . -B "$build" -G Ninja -DFWD_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build "$build" -j"$(nproc)"

echo "== clang-tidy (curated checks in .clang-tidy)"
run-clang-tidy -quiet -p "$build" "$PWD/(ctl|loader)/src/.*\.cpp" > "$build/clang-tidy.log" 2>&1 || {
  grep -E "(warning|error):" "$build/clang-tidy.log" >&2 || cat "$build/clang-tidy.log" >&2
  exit 1
}

# Pure logic must pass without root: run the unit binary as nobody.
unit_copy=$(mktemp -d /tmp/fwd-unit-XXXXXX)
trap 'rm -rf "$unit_copy"' EXIT
cp "$build/tests/fwd_unit_tests" "$unit_copy/"
chmod 755 "$unit_copy" "$unit_copy/fwd_unit_tests"
echo "== unit tests as user nobody"
(cd /tmp && setpriv --reuid=nobody --regid=nogroup --clear-groups "$unit_copy/fwd_unit_tests" --gtest_brief=1)

echo "== libFuzzer: spec, docker spec and state file parsers, bounded"
bash scripts/fuzz.sh "${FWD_FUZZ_SECONDS:-20}"

echo "== all suites as root"
rm -rf "$build/test-results"
ctest --test-dir "$build" --output-on-failure

# CI runs as root, so a skipped test means something is wrong.
if grep -l 'result="skipped"' "$build"/test-results/*.xml >/dev/null 2>&1; then
  echo "test.sh: some tests were skipped:" >&2
  grep -h -o 'testcase name="[^"]*"[^>]*result="skipped"' "$build"/test-results/*.xml >&2
  exit 1
fi
echo "== the .deb: build, check, install, run the unit's command, purge"
bash scripts/deb-check.sh "$build"
# The same bpf and netns binaries on Debian's 6.1 and 6.12 kernels, in QEMU.
if [[ ${FWD_SKIP_VMTESTS:-0} != 1 ]]; then
  echo "== vmtests: the root suites on other kernels"
  # Except the comparisons with the reference CNI portmap plugin: it drives iptables, which the
  # guests (a minimal initramfs over a read-only root) cannot run; the host suite above runs them.
  vmtests/run --build-dir "$build" -- '--gtest_filter=-CniPortmap.ReferencePortmap*'
fi
echo "test.sh: all tests passed"
