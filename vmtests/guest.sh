#!/bin/bash
# Runs inside the VM, in `chroot /host` (the host's root, read-only over 9p; see vmtests/init).
# vmtests/run copies it into the result directory, mounted here at /run/fwd-vmtest, next to
# `params` (FWD_BUILD: the host build dir; FWD_BINARIES; FWD_GTEST_ARGS; FWD_FEATURES). Runs
# each root test binary from the host build as it is, writes its gtest XML back into the result
# directory and brackets its console output with markers that vmtests/run reads.
set -u
out=/run/fwd-vmtest
# shellcheck source=/dev/null
. "$out/params"
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8
cd /tmp || exit 90

echo "FWD-VMTEST-UNAME $(uname -r)"

booted=$(cut -d' ' -f1 /proc/uptime)
# What this kernel offers, for the record (docs/kernels.md); not a test, and slow under TCG
# (14 s on 6.1, 50 s on 6.12), so only with FWD_VM_FEATURES=1 on the host.
if ((FWD_FEATURES)) && command -v bpftool >/dev/null; then
    timeout 120 bpftool feature probe kernel >"$out/bpftool-features.txt" 2>&1 || true
fi
echo "FWD-VMTEST-INFO userspace at ${booted}s of uptime, tests start at $(cut -d' ' -f1 /proc/uptime)s"

rc=0
for bin in $FWD_BINARIES; do
    echo "FWD-VMTEST-BEGIN $bin"
    start=$(date +%s.%N)
    # shellcheck disable=SC2086  # FWD_GTEST_ARGS is a list of words
    "$FWD_BUILD/tests/$bin" --gtest_output="xml:$out/$bin.xml" --gtest_color=no $FWD_GTEST_ARGS
    status=$?
    end=$(date +%s.%N)
    echo "FWD-VMTEST-END $bin rc=$status seconds=$(awk -v a="$start" -v b="$end" 'BEGIN{printf "%.1f", b-a}')"
    ((status == 0)) || rc=1
done
sync
exit "$rc"
