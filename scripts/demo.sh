#!/usr/bin/env bash
# fwd demo: publish a container port with eBPF and show that the client's real address reaches
# the container (no SNAT, no proxy process).
#
#   client ns (10.78.1.2, fd00:78:1::2)  --veth--  host ns (up0 10.78.1.1, fd00:78:1::1;
#   bridge fbr0 172.31.0.1, fd00:31::1)  --  ctr ns (172.31.0.2, fd00:31::2)
#
# It builds fwd, creates its own namespaces (prefix fwd-demo-), mounts a private bpffs as the pin
# dir and uses a temp state dir (never /sys/fs/bpf/fwd or /var/lib/fwd), attaches fwd in the host
# namespace, publishes the container's port 80 the way `docker run -p 8080:80` does (on 0.0.0.0
# and [::], one host port), runs a tiny socat server in the container and calls it from the
# client over IPv4 and IPv6. Everything is removed on exit, also on failure.
#
# Usage: sudo scripts/demo.sh        (needs: cmake, a C++ toolchain, clang, bpftool, iproute2,
#                                     util-linux nsenter, socat: see scripts/install-deps.sh)
# Env:   FWD_DEMO_BUILD_DIR  build dir (default: <repo>/build)
set -euo pipefail

die() {
    echo "demo.sh: $*" >&2
    exit 1
}

if [[ ${EUID} -ne 0 ]]; then
    die "must run as root (it creates network namespaces, mounts a bpffs and loads BPF programs); try: sudo $0"
fi
for tool in cmake ip ss nsenter socat mount umount mountpoint timeout; do
    command -v "${tool}" >/dev/null 2>&1 || die "'${tool}' not found; install the dependencies with scripts/install-deps.sh"
done

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${FWD_DEMO_BUILD_DIR:-${repo_root}/build}

prefix="fwd-demo-"
ns_client="${prefix}$$-client"
ns_host="${prefix}$$-host"
ns_ctr="${prefix}$$-ctr"
created_ns=()
tmp_dir=""
bpffs_dir=""
server_pids=()
fwd_ready=0
cgroup_dir=""

step() { printf '\n==> %s\n' "$*"; }

cleanup() {
    local rc=$?
    set +e
    trap - EXIT
    local pid
    for pid in "${server_pids[@]}"; do
        kill "${pid}" 2>/dev/null
        wait "${pid}" 2>/dev/null
    done
    if ((fwd_ready)); then
        fwdctl detach --all >/dev/null 2>&1
    fi
    if [[ -n ${cgroup_dir} && -d ${cgroup_dir} ]]; then
        rmdir "${cgroup_dir}"
    fi
    local ns
    for ns in "${created_ns[@]}"; do
        [[ -e /run/netns/${ns} ]] && ip netns delete "${ns}"
    done
    if [[ -n ${bpffs_dir} ]] && mountpoint -q "${bpffs_dir}"; then
        umount "${bpffs_dir}" || umount -l "${bpffs_dir}"
    fi
    if [[ -n ${tmp_dir} && -d ${tmp_dir} ]] && ! mountpoint -q "${bpffs_dir}"; then
        rm -rf "${tmp_dir}"
    fi
    if ((rc != 0)); then
        echo "demo.sh: failed (exit ${rc}); everything it created has been removed" >&2
    fi
    exit "${rc}"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# in_ns, fwdctl (nsenter keeps the bpffs visible), wait_for, has_carrier.
# shellcheck source=scripts/lib/netns.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/netns.sh"
listening() { ip netns exec "$1" ss -Hltn "sport = :$2" | grep -q .; }

add_ns() {
    created_ns+=("$1")
    ip netns add "$1"
    ip -n "$1" link set lo up
    # No IPv6 duplicate address detection on the links to come: it would hold IPv6 back ~2 s.
    ip netns exec "$1" sh -c 'echo 0 > /proc/sys/net/ipv6/conf/default/accept_dad'
}

# Namespaces left by an earlier demo that was killed (its pid is gone).
remove_stale() {
    local ns pid
    while read -r ns _; do
        [[ ${ns} == "${prefix}"* ]] || continue
        pid=${ns#"${prefix}"}
        pid=${pid%%-*}
        if [[ ${pid} =~ ^[0-9]+$ ]] && ! kill -0 "${pid}" 2>/dev/null; then
            ip netns delete "${ns}" || true
        fi
    done < <(ip netns list)
}

step "building fwd in ${build_dir}"
generator=()
if [[ ! -f ${build_dir}/CMakeCache.txt ]] && command -v ninja >/dev/null 2>&1; then
    generator=(-G Ninja)
fi
cmake -S "${repo_root}" -B "${build_dir}" "${generator[@]}" >/dev/null
# Only what the demo runs: a half-finished test elsewhere in the tree must not stop it.
cmake --build "${build_dir}" --target fwdctl
fwdctl_bin=${build_dir}/ctl/fwdctl
[[ -x ${fwdctl_bin} ]] || die "build produced no ${fwdctl_bin}"
"${fwdctl_bin}" --version

step "creating namespaces ${prefix}$$-{client,host,ctr}"
remove_stale
add_ns "${ns_client}"
add_ns "${ns_host}"
add_ns "${ns_ctr}"
# client <-> host uplink
ip -n "${ns_client}" link add eth0 type veth peer name up0 netns "${ns_host}"
ip -n "${ns_client}" addr add 10.78.1.2/24 dev eth0
ip -n "${ns_client}" link set eth0 up
ip -n "${ns_client}" route add default via 10.78.1.1
ip -n "${ns_host}" addr add 10.78.1.1/24 dev up0
ip -n "${ns_host}" link set up0 up
# host bridge <-> container
ip -n "${ns_host}" link add fbr0 type bridge stp_state 0
ip -n "${ns_host}" addr add 172.31.0.1/24 dev fbr0
ip -n "${ns_host}" link set fbr0 up
ip -n "${ns_ctr}" link add eth0 type veth peer name vctr netns "${ns_host}"
ip -n "${ns_ctr}" addr add 172.31.0.2/24 dev eth0
ip -n "${ns_ctr}" link set eth0 up
ip -n "${ns_ctr}" route add default via 172.31.0.1
ip -n "${ns_host}" link set vctr master fbr0
ip -n "${ns_host}" link set vctr up
ip netns exec "${ns_host}" sh -c 'echo 1 > /proc/sys/net/ipv4/ip_forward'
# IPv6 on the same links.
ip -n "${ns_client}" -6 addr add fd00:78:1::2/64 dev eth0 nodad
ip -n "${ns_client}" -6 route add default via fd00:78:1::1
ip -n "${ns_host}" -6 addr add fd00:78:1::1/64 dev up0 nodad
ip -n "${ns_host}" -6 addr add fd00:31::1/64 dev fbr0 nodad
ip -n "${ns_ctr}" -6 addr add fd00:31::2/64 dev eth0 nodad
ip -n "${ns_ctr}" -6 route add default via fd00:31::1
ip netns exec "${ns_host}" sh -c 'echo 1 > /proc/sys/net/ipv6/conf/all/forwarding'
wait_for "client link" has_carrier "${ns_client}" eth0
wait_for "host uplink" has_carrier "${ns_host}" up0
wait_for "bridge" has_carrier "${ns_host}" fbr0
wait_for "container link" has_carrier "${ns_ctr}" eth0

step "mounting a private bpffs for the pins"
tmp_dir=$(mktemp -d /tmp/fwd-demo.XXXXXX)
bpffs_dir=${tmp_dir}/bpf
pin_dir=${bpffs_dir}/pins
state_dir=${tmp_dir}/state
mkdir -p "${bpffs_dir}" "${state_dir}"
mount -t bpf bpf "${bpffs_dir}"
echo "pin dir ${pin_dir}, state dir ${state_dir}"

# The socket programs (host-local access) go to a cgroup of the demo's own, so that nothing
# else on this machine is touched; the host-side request below runs inside it.
cgroup_root=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
[[ -n ${cgroup_root} ]] || die "no cgroup2 filesystem mounted"
cgroup_dir=${cgroup_root}/fwd-demo-$$
mkdir "${cgroup_dir}"

step "fwdctl attach up0 fbr0 --cgroup ${cgroup_dir}   (in the host namespace)"
fwd_ready=1
fwdctl attach up0 fbr0 --cgroup "${cgroup_dir}"

step "fwdctl publish web --ip 172.31.0.2 --ip6 fd00:31::2 -p 8080:80   (docker run -p 8080:80)"
fwdctl publish web --ip 172.31.0.2 --ip6 fd00:31::2 -p 8080:80
step "fwdctl port web   (docker port web)"
fwdctl port web

step "starting a server in the container: socat on port 80, IPv4 and IPv6"
for listen in TCP4-LISTEN:80,fork,reuseaddr TCP6-LISTEN:80,fork,reuseaddr,ipv6only=1; do
    # shellcheck disable=SC2016 # $SOCAT_PEERADDR is for the shell that socat starts
    ip netns exec "${ns_ctr}" socat "${listen}" \
        SYSTEM:'echo "hello from container, you are $SOCAT_PEERADDR"' &
    server_pids+=($!)
done
wait_for "the container's server" listening "${ns_ctr}" 80

step "client 10.78.1.2 -> 10.78.1.1:8080 (the host's published port)"
reply=$(ip netns exec "${ns_client}" timeout 10 socat -T 5 - TCP:10.78.1.1:8080,connect-timeout=5 </dev/null)
echo "${reply}"
if [[ ${reply} != *"you are 10.78.1.2"* ]]; then
    die "expected the container to see the client's own address 10.78.1.2, got: '${reply}'"
fi
echo "OK: the container saw the client's real address (no SNAT, no proxy process)"

step "client fd00:78:1::2 -> [fd00:78:1::1]:8080 (the same host port, over IPv6)"
reply=$(ip netns exec "${ns_client}" timeout 10 socat -T 5 - 'TCP6:[fd00:78:1::1]:8080,connect-timeout=5' </dev/null)
echo "${reply}"
# socat writes the address in full: fd00:78:1::2 is [fd00:0078:0001:0000:0000:0000:0000:0002].
if [[ ${reply} != *"you are [fd00:0078:0001:0000:0000:0000:0000:0002]"* ]]; then
    die "expected the container to see the client's own address fd00:78:1::2, got: '${reply}'"
fi
echo "OK: IPv6 too, with the client's real address"

step "a host process -> 127.0.0.1:8080 (host-local access through the socket programs)"
# shellcheck disable=SC2016 # BASHPID is the subshell's, expanded there
reply=$(bash -c 'echo $BASHPID > "$1/cgroup.procs" && exec nsenter --net="/run/netns/$2" \
    timeout 10 socat -T 5 - TCP:127.0.0.1:8080,connect-timeout=5 </dev/null' _ "${cgroup_dir}" "${ns_host}")
echo "${reply}"
if [[ ${reply} != *"hello from container"* ]]; then
    die "expected the container's answer on 127.0.0.1:8080, got: '${reply}'"
fi
echo "OK: 127.0.0.1:8080 on the host reached the container (no docker-proxy)"

step "fwdctl list"
fwdctl list
step "fwdctl status"
fwdctl status
step "fwdctl stats"
fwdctl stats

step "cleaning up"
