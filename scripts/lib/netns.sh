# shellcheck shell=bash disable=SC2154  # fwdctl() reads its caller's variables (see below)
# Shell helpers for scripts that build their own network namespaces and run fwdctl in them
# (scripts/demo.sh, bench/netbench/run.sh). Source it; it defines functions only.
#
# fwdctl() needs these variables set by the caller: fwdctl_bin, ns_host, state_dir, pin_dir.

# Runs a command in network namespace NS. nsenter --net keeps this mount namespace: `ip netns
# exec` would remount /sys and hide the bpffs that holds fwd's pins.
in_ns() {
    local ns=$1
    shift
    nsenter --net="/run/netns/${ns}" "$@"
}

# fwdctl in the host namespace, on the caller's private state and pin dirs.
fwdctl() {
    in_ns "${ns_host}" "${fwdctl_bin}" --state-dir "${state_dir}" --pin-dir "${pin_dir}" "$@"
}

# Polls a command every 0.1 s, at most WAIT_FOR_TRIES times (default 100: ~10 s), until it
# succeeds. Prints "timed out waiting for WHAT" to stderr and returns 1 if it never does.
wait_for() {
    local what=$1
    shift
    local i
    for ((i = 0; i < ${WAIT_FOR_TRIES:-100}; i++)); do
        if "$@" >/dev/null 2>&1; then
            return 0
        fi
        sleep 0.1
    done
    echo "timed out waiting for ${what}" >&2
    return 1
}

# Does device DEV in namespace NS report carrier (LOWER_UP)?
has_carrier() { ip -n "$1" -o link show dev "$2" | grep -q LOWER_UP; }
