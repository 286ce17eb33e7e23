#!/usr/bin/env bash
# fwd network benchmark: fwd against direct routing, Docker's iptables DNAT, nftables DNAT and a
# userland proxy, on one machine, in network namespaces this script creates; for IPv6 fwd against
# direct routing and Docker's ip6tables DNAT.
#
#   client ns (10.99.1.2) --veth-- host ns (up0 10.99.1.1, bridge fbr0 172.31.99.1) -- ctr ns (172.31.99.2)
#   IPv6 beside it: client fd00:99:1::2, up0 fd00:99:1::1, fbr0 fd00:31:99::1, ctr fd00:31:99::2
#
# Modes (each alone in the host namespace while it is measured):
#   A      direct: the client talks to the container address, routed by the host, no NAT (the limit)
#   B      iptables DNAT exactly as dockerd writes it (nat DOCKER chain, filter FORWARD/DOCKER rules)
#   C      nftables DNAT: a nat prerouting dnat rule plus forward accept rules
#   D      userland proxy like docker-proxy: socat TCP4-LISTEN/UDP4-LISTEN ...,fork in the host ns
#   E      fwd TC: fwdctl attach up0 fbr0 + fwdctl add 0.0.0.0:P/tcp C:p (fast path on, the default)
#   Enofp  E with --fast-path off (translated packets go through the host stack and netfilter)
#   F      fwd XDP: fwdctl attach --mode xdp up0 (TC on the bridge); n/a with fwdctl's error if
#          this fwdctl has no XDP mode
#   B10k, E10k    B and E with 10,000 more mappings, the measured ones last (scale test)
#   Ecsum, Fcsum  E and F with the client's checksum offload off (complete checksums, as from a NIC)
#   A6     A over IPv6: the client talks to the container's IPv6 address (the IPv6 limit)
#   B6     ip6tables DNAT exactly as dockerd writes it for IPv6 (B's rules with IPv6 addresses)
#   E6     E over IPv6: fwdctl add [::]:P/tcp [C6]:p (fast path on, the default)
# Runs are interleaved (run 1: A B B10k C D E E10k Enofp F Ecsum Fcsum A6 B6 E6, run 2: ...). Metrics:
# TCP throughput with 1 and 4 streams (iperf3), 64-byte UDP packets/s received in the container
# (loadgen udp-send / udp-recv), new connections/s and request/response latency (loadgen crr /
# rr). Then: time to
# install 10,000 mappings (fwdctl range add vs one iptables call per rule vs iptables-restore),
# and what 1,000 published ports cost (fwd: processes and map memory; socat: one process each).
#
# fwdctl runs in the host namespace as scripts/demo.sh runs it: nsenter --net, a private bpffs
# as pin dir, a temp state dir, and the socket programs on an empty cgroup of the script's own.
# Nothing outside the namespaces is configured and no packet leaves them. Everything is removed
# on exit, also on failure; leftovers of a killed earlier run (dead pid in the name) go first.
#
# Usage: sudo bash bench/netbench/run.sh [--quick] [--runs N] [--out DIR] [--build-dir DIR]
#   --quick      short development run (1 run, 2 s per measurement, 2,000-rule install test);
#                the default: 3 runs, 4 s per measurement, 10,000 rules
#   --runs N     interleaved runs (default 3, --quick: 1)
#   --out DIR    results (default bench/results/<timestamp>)
#   --build-dir  build dir for fwdctl and loadgen (default $FWD_BENCH_BUILD_DIR or <repo>/build-bench)
set -euo pipefail

die() {
    echo "netbench: $*" >&2
    exit 1
}

# The terminal's stderr, for the cleanup message: a signal may arrive while a function runs
# with its stderr redirected to a file.
exec 9>&2

usage() {
    sed -n '/^# Usage:/,/^#   --build-dir/s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
}

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
bench_dir=${repo_root}/bench/netbench

quick=0
runs=""
out_dir=""
build_dir=${FWD_BENCH_BUILD_DIR:-${repo_root}/build-bench}
while (($#)); do
    case $1 in
    --quick) quick=1 ;;
    --runs)
        (($# >= 2)) || die "--runs needs a number"
        runs=$2
        shift
        ;;
    --out)
        (($# >= 2)) || die "--out needs a directory"
        out_dir=$2
        shift
        ;;
    --build-dir)
        (($# >= 2)) || die "--build-dir needs a directory"
        build_dir=$2
        shift
        ;;
    -h | --help)
        usage
        exit 0
        ;;
    *) die "unknown argument '$1' (see --help)" ;;
    esac
    shift
done

if ((quick)); then
    runs=${runs:-1}
    secs=2             # per measurement
    omit=0             # iperf3 --omit (slow start)
    install_count=2000 # mappings in the install-time test
    per_call_count=100 # of them added with one fwdctl call each
    quiet_wait=3       # at most this long waiting for other load to stop before a mode
    quiet_budget=10    # and at most this long in all
else
    runs=${runs:-3}
    secs=4
    omit=1
    install_count=10000
    per_call_count=300
    quiet_wait=20
    quiet_budget=150
fi
if ! [[ ${runs} =~ ^[0-9]+$ ]] || ((runs < 1 || runs > 20)); then
    die "--runs must be 1..20"
fi
scale_count=10000 # mappings present in B10k / E10k
mem_ports=1000    # ports published in the memory test
crr_parallel=4    # client threads in the new-connection test
# Placement: traffic sources on one core, the container's servers on the other (the softirq
# work of a packet's path mostly runs on the sending core); see measure_loadgen for rr.
cpu_client=0
cpu_ctr=$(($(nproc) > 1 ? 1 : 0))
max_conns=5000000 # count bound of one crr measurement (time bounds it first)

if [[ ${EUID} -ne 0 ]]; then
    die "must run as root (namespaces, bpffs, BPF programs, iptables); try: sudo bash $0"
fi

step() { printf '\n==> [%4d s] %s\n' "${SECONDS}" "$*"; }
note() { printf '    %s\n' "$*"; }

# ---- dependencies and build ------------------------------------------------------------------

step "dependencies"
bash "${repo_root}/scripts/install-deps.sh"
bench_packages=(iperf3 nftables iptables conntrack socat ethtool python3 python3-matplotlib procps)
missing=()
for pkg in "${bench_packages[@]}"; do
    dpkg-query -W -f='${Status}' "${pkg}" 2>/dev/null | grep -q "install ok installed" || missing+=("${pkg}")
done
if ((${#missing[@]})); then
    note "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null
    apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi
# Debian's python (the one python3-matplotlib belongs to), not whatever python3 is first in PATH.
python=/usr/bin/python3
for tool in cmake ip ss nsenter taskset socat iperf3 iptables iptables-restore ip6tables ip6tables-restore \
    nft conntrack ethtool bpftool \
    mount umount mountpoint timeout "${python}"; do
    command -v "${tool}" >/dev/null 2>&1 || die "'${tool}' not found after installing the dependencies"
done

step "building fwdctl and loadgen in ${build_dir}"
generator=()
if [[ ! -f ${build_dir}/CMakeCache.txt ]] && command -v ninja >/dev/null 2>&1; then
    generator=(-G Ninja)
fi
cmake -S "${repo_root}" -B "${build_dir}" "${generator[@]}" >/dev/null
cmake --build "${build_dir}" --target fwdctl loadgen >/dev/null
fwdctl_bin=${build_dir}/ctl/fwdctl
loadgen_bin=${build_dir}/bench/loadgen
[[ -x ${fwdctl_bin} && -x ${loadgen_bin} ]] || die "build produced no fwdctl or loadgen"

# ---- names, state, cleanup -------------------------------------------------------------------

prefix="fwdb-"
ns_client="${prefix}$$-client"
ns_host="${prefix}$$-host"
ns_ctr="${prefix}$$-ctr"
created_ns=()
tmp_dir=""
bpffs_dir=""
cgroup_dir=""
fwd_ready=0
iperf_pid=""

client_ip=10.99.1.2
host_ip=10.99.1.1
bridge_ip=172.31.99.1
ctr_ip=172.31.99.2
ctr_net=172.31.99.0/24
client_ip6=fd00:99:1::2
host_ip6=fd00:99:1::1
bridge_ip6=fd00:31:99::1
ctr_ip6=fd00:31:99::2
ctr_net6=fd00:31:99::/64
uplink=up0
bridge=fbr0
ctr_iperf=5201 ctr_echo=7000 ctr_udp=7001
host_iperf=15201 host_echo=17000 host_udp=17001
scale_first=20000 # B10k / E10k / install test: ports scale_first .. scale_first+N-1
mem_first=30000   # memory test: ports mem_first .. mem_first+mem_ports-1

# in_ns, fwdctl (as scripts/demo.sh runs it), wait_for, has_carrier.
# shellcheck source=scripts/lib/netns.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/netns.sh"

# Kills every process inside one of our namespaces (all of them are this script's).
kill_ns_procs() {
    local ns=$1 pids
    [[ -e /run/netns/${ns} ]] || return 0
    pids=$(ip netns pids "${ns}" 2>/dev/null) || return 0
    [[ -n ${pids} ]] || return 0
    # shellcheck disable=SC2086 # one pid per word
    kill ${pids} 2>/dev/null || true
    local i
    for ((i = 0; i < 50; i++)); do
        [[ -z $(ip netns pids "${ns}" 2>/dev/null) ]] && return 0
        sleep 0.1
    done
    pids=$(ip netns pids "${ns}" 2>/dev/null) || return 0
    # shellcheck disable=SC2086
    [[ -n ${pids} ]] && kill -KILL ${pids} 2>/dev/null
    return 0
}

cleanup() {
    local rc=$?
    set +e
    trap - EXIT
    local ns
    for ns in "${created_ns[@]}"; do
        kill_ns_procs "${ns}"
    done
    if ((fwd_ready)); then
        fwdctl detach --all >/dev/null 2>&1
    fi
    for ns in "${created_ns[@]}"; do
        [[ -e /run/netns/${ns} ]] && ip netns delete "${ns}"
    done
    if [[ -n ${bpffs_dir} ]] && mountpoint -q "${bpffs_dir}"; then
        umount "${bpffs_dir}" || umount -l "${bpffs_dir}"
    fi
    if [[ -n ${cgroup_dir} && -d ${cgroup_dir} ]]; then
        rmdir "${cgroup_dir}"
    fi
    if [[ -n ${tmp_dir} && -d ${tmp_dir} ]] && ! mountpoint -q "${bpffs_dir}"; then
        rm -rf "${tmp_dir}"
    fi
    if ((rc != 0)); then
        echo "netbench: failed (exit ${rc}); everything it created has been removed" >&9
    fi
    exit "${rc}"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The pid in a leftover's name (fwdb-PID-...) is dead: it belongs to a killed earlier run.
stale_pid() {
    local name=${1#"${prefix}"}
    name=${name%%[-.]*}
    [[ ${name} =~ ^[0-9]+$ ]] && ! kill -0 "${name}" 2>/dev/null
}

remove_stale() {
    local ns dir
    while read -r ns _; do
        if [[ ${ns} != "${prefix}"* ]] || ! stale_pid "${ns}"; then
            continue
        fi
        note "removing stale namespace ${ns}"
        kill_ns_procs "${ns}"
        ip netns delete "${ns}" || true
    done < <(ip netns list)
    for dir in /tmp/"${prefix}"*; do
        if [[ ! -d ${dir} ]] || ! stale_pid "$(basename "${dir}")"; then
            continue
        fi
        note "removing stale ${dir}"
        if mountpoint -q "${dir}/bpf"; then
            umount "${dir}/bpf" || umount -l "${dir}/bpf" || true
        fi
        mountpoint -q "${dir}/bpf" || rm -rf "${dir}"
    done
    for dir in "${cgroup_root}/${prefix}"*; do
        if [[ ! -d ${dir} ]] || ! stale_pid "$(basename "${dir}")"; then
            continue
        fi
        note "removing stale cgroup ${dir}"
        rmdir "${dir}" || true
    done
}

# NS PORT [4|6]: a listener on PORT (of that family only, if given).
tcp_listening() { [[ -n $(in_ns "$1" ss -Hltn${3:+$3} "sport = :$2") ]]; }
udp_bound() { [[ -n $(in_ns "$1" ss -Hlun "sport = :$2") ]]; }

# No IPv6 duplicate address detection on the links created later (the sysctl is the default for
# new devices): while it runs on a link-local address, a second or two after the link comes up,
# neighbour discovery for forwarded IPv6 stalls. The global addresses get nodad.
add_ns() {
    created_ns+=("$1")
    ip netns add "$1"
    ip -n "$1" link set lo up
    in_ns "$1" sysctl -qw net.ipv6.conf.default.accept_dad=0
}

# NS DEV IPV4 IPV6: both addresses on a device, and the device up.
add_addrs() {
    ip -n "$1" addr add "$3/24" dev "$2"
    ip -n "$1" -6 addr add "$4/64" dev "$2" nodad
    ip -n "$1" link set "$2" up
}

# NS VIA4 VIA6: default routes of both families.
add_default_routes() {
    ip -n "$1" route add default via "$2"
    ip -n "$1" -6 route add default via "$3"
}

# The wildcard address of TARGET's family: a server for traffic to TARGET binds it.
any_addr_for() { [[ $1 == *:* ]] && echo "::" || echo "0.0.0.0"; }

# Seconds between two $EPOCHREALTIME readings.
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f", b - a }'; }

json_str() {
    local s=${1//\\/\\\\}
    s=${s//\"/\\\"}
    s=${s//$'\n'/ }
    s=${s//$'\t'/ }
    printf '"%s"' "${s}"
}

# Busy CPU share (percent, all cores) over half a second, from /proc/stat.
cpu_busy_pct() {
    local _cpu u1 n1 s1 i1 w1 q1 sq1 st1 u2 n2 s2 i2 w2 q2 sq2 st2 rest
    read -r _cpu u1 n1 s1 i1 w1 q1 sq1 st1 rest </proc/stat
    sleep 0.5
    read -r _cpu u2 n2 s2 i2 w2 q2 sq2 st2 rest </proc/stat
    local total=$(((u2 + n2 + s2 + i2 + w2 + q2 + sq2 + st2) - (u1 + n1 + s1 + i1 + w1 + q1 + sq1 + st1)))
    local idle=$(((i2 + w2) - (i1 + w1)))
    ((total > 0)) || total=1
    echo $((100 * (total - idle) / total))
}

# Waits (bounded per mode and in all) until nothing else keeps the CPUs busy; prints the last
# busy share. Called in $(...), so the budget left is kept in a file.
wait_quiet() {
    local start=${SECONDS} busy left
    left=$(cat "${tmp_dir}/quiet-budget")
    local deadline=$((SECONDS + (quiet_wait < left ? quiet_wait : left)))
    busy=$(cpu_busy_pct)
    while ((busy > 15 && SECONDS < deadline)); do
        busy=$(cpu_busy_pct)
    done
    echo $((left - (SECONDS - start))) >"${tmp_dir}/quiet-budget"
    echo "${busy}"
}

# ---- topology ---------------------------------------------------------------------------------

cgroup_root=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
[[ -n ${cgroup_root} ]] || die "no cgroup2 filesystem mounted"

step "creating namespaces ${prefix}$$-{client,host,ctr}"
remove_stale
add_ns "${ns_client}"
add_ns "${ns_host}"
add_ns "${ns_ctr}"
ip -n "${ns_client}" link add eth0 type veth peer name "${uplink}" netns "${ns_host}"
add_addrs "${ns_client}" eth0 "${client_ip}" "${client_ip6}"
add_default_routes "${ns_client}" "${host_ip}" "${host_ip6}"
add_addrs "${ns_host}" "${uplink}" "${host_ip}" "${host_ip6}"
ip -n "${ns_host}" link add "${bridge}" type bridge stp_state 0
add_addrs "${ns_host}" "${bridge}" "${bridge_ip}" "${bridge_ip6}"
ip -n "${ns_ctr}" link add eth0 type veth peer name vctr netns "${ns_host}"
add_addrs "${ns_ctr}" eth0 "${ctr_ip}" "${ctr_ip6}"
add_default_routes "${ns_ctr}" "${bridge_ip}" "${bridge_ip6}"
ip -n "${ns_host}" link set vctr master "${bridge}"
ip -n "${ns_host}" link set vctr up
in_ns "${ns_host}" sysctl -qw net.ipv4.ip_forward=1
in_ns "${ns_host}" sysctl -qw net.ipv6.conf.all.forwarding=1
# The client opens tens of thousands of connections in the crr test: all ports, and the server
# closes first (loadgen), so the client keeps no TIME_WAIT.
in_ns "${ns_client}" sysctl -qw net.ipv4.ip_local_port_range="1024 65535"
wait_for "client link" has_carrier "${ns_client}" eth0
wait_for "host uplink" has_carrier "${ns_host}" "${uplink}"
wait_for "bridge" has_carrier "${ns_host}" "${bridge}"
wait_for "container link" has_carrier "${ns_ctr}" eth0

tmp_dir=$(mktemp -d "/tmp/${prefix}$$.XXXXXX")
bpffs_dir=${tmp_dir}/bpf
pin_dir=${bpffs_dir}/pins
state_dir=${tmp_dir}/state
mkdir -p "${bpffs_dir}" "${state_dir}"
mount -t bpf bpf "${bpffs_dir}"
cgroup_dir=${cgroup_root}/${prefix}$$
mkdir "${cgroup_dir}"
echo "${quiet_budget}" >"${tmp_dir}/quiet-budget"

out_dir=${out_dir:-${repo_root}/bench/results/$(date -u +%Y%m%d-%H%M%S)}
raw_dir=${out_dir}/raw
mkdir -p "${raw_dir}"
events=${out_dir}/events.jsonl
: >"${events}"
echo "results: ${out_dir}"

# ---- servers in the container ----------------------------------------------------------------

start_iperf_server() {
    in_ns "${ns_ctr}" taskset -c "${cpu_ctr}" iperf3 -s -p "${ctr_iperf}" \
        >>"${tmp_dir}/iperf3-server.log" 2>&1 &
    iperf_pid=$!
    wait_for "iperf3 server" tcp_listening "${ns_ctr}" "${ctr_iperf}"
}

restart_iperf_server() {
    [[ -n ${iperf_pid} ]] && kill "${iperf_pid}" 2>/dev/null && wait "${iperf_pid}" 2>/dev/null
    start_iperf_server
}

# iperf3 -s takes both families on one socket; loadgen serves each family from its own process.
step "servers in the container: iperf3 -s on ${ctr_iperf}, loadgen serve on ${ctr_echo} (IPv4, IPv6)"
start_iperf_server
for any in 0.0.0.0 "::"; do
    in_ns "${ns_ctr}" taskset -c "${cpu_ctr}" "${loadgen_bin}" serve --addr "${any}" \
        --port "${ctr_echo}" --seconds 7200 >>"${tmp_dir}/loadgen-server.log" 2>&1 &
done
wait_for "loadgen server (IPv4)" tcp_listening "${ns_ctr}" "${ctr_echo}" 4
wait_for "loadgen server (IPv6)" tcp_listening "${ns_ctr}" "${ctr_echo}" 6

# ---- fwd: loaded once, attached per mode -----------------------------------------------------

# ANY CTR: the three measured mappings of one family (CTR in fwdctl's form: 1.2.3.4, [fd00::2]).
add_measured_mappings() {
    fwdctl add "$1:${host_iperf}/tcp" "$2:${ctr_iperf}"
    fwdctl add "$1:${host_echo}/tcp" "$2:${ctr_echo}"
    fwdctl add "$1:${host_udp}/udp" "$2:${ctr_udp}"
}

step "fwd: programs and the measured mappings (attached only while E/F/E10k/E6 run)"
fwd_ready=1
fwdctl attach "${uplink}" "${bridge}" --cgroup "${cgroup_dir}" >/dev/null
add_measured_mappings 0.0.0.0 "${ctr_ip}"
add_measured_mappings "[::]" "[${ctr_ip6}]"
fwdctl detach --all >/dev/null

# ---- per-mode setup and teardown -------------------------------------------------------------

iptables_version=$(iptables -V)
if [[ ${iptables_version} == *legacy* ]]; then
    iptables_backend=legacy
else
    iptables_backend=nft
fi

# Docker's rules for a bridge and one container, as dockerd (userland-proxy off, the ACCEPT
# and hairpin MASQUERADE per published port) writes them. $1 = extra published ports placed
# BEFORE the measured ones (the scale test), so a new flow scans them all. $2 = 6: the same for
# IPv6, as dockerd writes them with ip6tables (--ip6tables, the default since Docker 27): the
# container's /128, ::1 for loopback, [C]:p, and DNAT only from non-link-local sources
# (moby#48570). dockerd passes -d 0/0 to DNAT rules, which ip6tables-save leaves out as here.
docker_rules() {
    local extra=$1 p
    local ctr=${ctr_ip}/32 net=${ctr_net} loopback=127.0.0.0/8 to=${ctr_ip} not_ll=""
    if [[ ${2:-4} == 6 ]]; then
        ctr=${ctr_ip6}/128 net=${ctr_net6} loopback=::1/128 to="[${ctr_ip6}]" not_ll="! -s fe80::/10 "
    fi
    local dnat="-A DOCKER ${not_ll}! -i ${bridge}"
    echo "*nat"
    echo ":PREROUTING ACCEPT [0:0]"
    echo ":INPUT ACCEPT [0:0]"
    echo ":OUTPUT ACCEPT [0:0]"
    echo ":POSTROUTING ACCEPT [0:0]"
    echo ":DOCKER - [0:0]"
    echo "-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER"
    echo "-A OUTPUT ! -d ${loopback} -m addrtype --dst-type LOCAL -j DOCKER"
    echo "-A POSTROUTING -s ${net} ! -o ${bridge} -j MASQUERADE"
    for ((p = scale_first; p < scale_first + extra; p++)); do
        echo "-A POSTROUTING -s ${ctr} -d ${ctr} -p tcp -m tcp --dport ${p} -j MASQUERADE"
    done
    echo "-A POSTROUTING -s ${ctr} -d ${ctr} -p tcp -m tcp --dport ${ctr_iperf} -j MASQUERADE"
    echo "-A POSTROUTING -s ${ctr} -d ${ctr} -p tcp -m tcp --dport ${ctr_echo} -j MASQUERADE"
    echo "-A POSTROUTING -s ${ctr} -d ${ctr} -p udp -m udp --dport ${ctr_udp} -j MASQUERADE"
    echo "-A DOCKER -i ${bridge} -j RETURN"
    for ((p = scale_first; p < scale_first + extra; p++)); do
        echo "${dnat} -p tcp -m tcp --dport ${p} -j DNAT --to-destination ${to}:${p}"
    done
    echo "${dnat} -p tcp -m tcp --dport ${host_iperf} -j DNAT --to-destination ${to}:${ctr_iperf}"
    echo "${dnat} -p tcp -m tcp --dport ${host_echo} -j DNAT --to-destination ${to}:${ctr_echo}"
    echo "${dnat} -p udp -m udp --dport ${host_udp} -j DNAT --to-destination ${to}:${ctr_udp}"
    echo "COMMIT"
    echo "*filter"
    echo ":INPUT ACCEPT [0:0]"
    echo ":FORWARD DROP [0:0]"
    echo ":OUTPUT ACCEPT [0:0]"
    echo ":DOCKER - [0:0]"
    echo ":DOCKER-ISOLATION-STAGE-1 - [0:0]"
    echo ":DOCKER-ISOLATION-STAGE-2 - [0:0]"
    echo ":DOCKER-USER - [0:0]"
    echo "-A FORWARD -j DOCKER-USER"
    echo "-A FORWARD -j DOCKER-ISOLATION-STAGE-1"
    echo "-A FORWARD -o ${bridge} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"
    echo "-A FORWARD -o ${bridge} -j DOCKER"
    echo "-A FORWARD -i ${bridge} ! -o ${bridge} -j ACCEPT"
    echo "-A FORWARD -i ${bridge} -o ${bridge} -j ACCEPT"
    local accept="-A DOCKER -d ${ctr} ! -i ${bridge} -o ${bridge}"
    for ((p = scale_first; p < scale_first + extra; p++)); do
        echo "${accept} -p tcp -m tcp --dport ${p} -j ACCEPT"
    done
    echo "${accept} -p tcp -m tcp --dport ${ctr_iperf} -j ACCEPT"
    echo "${accept} -p tcp -m tcp --dport ${ctr_echo} -j ACCEPT"
    echo "${accept} -p udp -m udp --dport ${ctr_udp} -j ACCEPT"
    echo "-A DOCKER-ISOLATION-STAGE-1 -i ${bridge} ! -o ${bridge} -j DOCKER-ISOLATION-STAGE-2"
    echo "-A DOCKER-ISOLATION-STAGE-1 -j RETURN"
    echo "-A DOCKER-ISOLATION-STAGE-2 -o ${bridge} -j DROP"
    echo "-A DOCKER-ISOLATION-STAGE-2 -j RETURN"
    echo "-A DOCKER-USER -j RETURN"
    echo "COMMIT"
}

nft_rules() {
    cat <<EOF
table ip netbench {
    chain prerouting {
        type nat hook prerouting priority dstnat; policy accept;
        fib daddr type local tcp dport ${host_iperf} dnat to ${ctr_ip}:${ctr_iperf}
        fib daddr type local tcp dport ${host_echo} dnat to ${ctr_ip}:${ctr_echo}
        fib daddr type local udp dport ${host_udp} dnat to ${ctr_ip}:${ctr_udp}
    }
    chain forward {
        type filter hook forward priority filter; policy drop;
        ct state established,related accept
        ip daddr ${ctr_ip} tcp dport { ${ctr_iperf}, ${ctr_echo} } accept
        ip daddr ${ctr_ip} udp dport ${ctr_udp} accept
        iifname "${bridge}" accept
    }
}
EOF
}

# Empties every netfilter table of the host namespace (ours alone).
flush_netfilter() {
    if [[ ${iptables_backend} == legacy ]]; then
        local cmd t
        for cmd in iptables ip6tables; do
            for t in nat filter; do
                in_ns "${ns_host}" "${cmd}" -t "${t}" -F
                in_ns "${ns_host}" "${cmd}" -t "${t}" -X
            done
            in_ns "${ns_host}" "${cmd}" -P FORWARD ACCEPT
        done
    fi
    in_ns "${ns_host}" nft flush ruleset
}

start_socat() {
    local tmpl=$1
    shift
    in_ns "${ns_host}" socat "$@" >>"${tmp_dir}/socat-${tmpl}.log" 2>&1 &
}

# setup_MODE sets target_addr and the three target ports; it fails with a message on stderr.
# [ADDR]: the host's address to talk to (default: its IPv4 uplink address).
set_targets_host() {
    target_addr=${1:-${host_ip}}
    target_iperf=${host_iperf}
    target_echo=${host_echo}
    target_udp=${host_udp}
}

# ADDR: the container's address to talk to, routed (no NAT).
set_targets_ctr() {
    target_addr=$1
    target_iperf=${ctr_iperf}
    target_echo=${ctr_echo}
    target_udp=${ctr_udp}
}

setup_A() { set_targets_ctr "${ctr_ip}"; }
teardown_A() { :; }

setup_B() {
    set_targets_host
    docker_rules 0 | in_ns "${ns_host}" iptables-restore
}
teardown_B() { flush_netfilter; }

setup_B10k() {
    set_targets_host
    docker_rules "${scale_count}" | in_ns "${ns_host}" iptables-restore
}
teardown_B10k() { flush_netfilter; }

setup_C() {
    set_targets_host
    nft_rules | in_ns "${ns_host}" nft -f -
}
teardown_C() { flush_netfilter; }

setup_D() {
    set_targets_host
    start_socat tcp-iperf "TCP4-LISTEN:${host_iperf},fork,reuseaddr" "TCP4:${ctr_ip}:${ctr_iperf}"
    start_socat tcp-echo "TCP4-LISTEN:${host_echo},fork,reuseaddr" "TCP4:${ctr_ip}:${ctr_echo}"
    start_socat udp "UDP4-LISTEN:${host_udp},fork,reuseaddr" "UDP4:${ctr_ip}:${ctr_udp}"
    wait_for "socat" tcp_listening "${ns_host}" "${host_iperf}" &&
        wait_for "socat" tcp_listening "${ns_host}" "${host_echo}" &&
        wait_for "socat" udp_bound "${ns_host}" "${host_udp}"
}
teardown_D() { kill_ns_procs "${ns_host}"; }

setup_E() {
    set_targets_host
    fwdctl attach "${uplink}" "${bridge}" --fast-path on --cgroup "${cgroup_dir}" >/dev/null
}
teardown_E() { fwdctl detach --all >/dev/null; }

# E through the host stack and netfilter: no redirect to the next hop.
setup_Enofp() {
    set_targets_host
    fwdctl attach "${uplink}" "${bridge}" --fast-path off --cgroup "${cgroup_dir}" >/dev/null
}
teardown_Enofp() { teardown_E; }

setup_E10k() {
    setup_E || return 1
    fwdctl add "0.0.0.0:${scale_first}-$((scale_first + scale_count - 1))/tcp" \
        "${ctr_ip}:${scale_first}-$((scale_first + scale_count - 1))" >/dev/null
}
teardown_E10k() {
    fwdctl del "0.0.0.0:${scale_first}-$((scale_first + scale_count - 1))/tcp" >/dev/null
    teardown_E
}

# XDP on the uplink (native on a veth), TC on the bridge (a bridge has generic XDP only).
setup_F() {
    set_targets_host
    fwdctl attach "${bridge}" --fast-path on --cgroup "${cgroup_dir}" >/dev/null || return 1
    fwdctl attach --mode xdp "${uplink}" --fast-path on --cgroup "${cgroup_dir}" >/dev/null
}
teardown_F() { fwdctl detach --all >/dev/null 2>&1 || true; }

# E and F once more with the client's checksum offload off: the client's packets then carry
# complete checksums, as packets from a NIC do (a veth passes partial ones, which fwd's XDP
# program leaves to TC). TSO goes off with it.
client_csum() { in_ns "${ns_client}" ethtool -K eth0 tx "$1" >/dev/null 2>&1; }
setup_Ecsum() {
    client_csum off || return 1
    setup_E
}
teardown_Ecsum() {
    teardown_E
    client_csum on
}
setup_Fcsum() {
    client_csum off || return 1
    setup_F
}
teardown_Fcsum() {
    teardown_F
    client_csum on
}

# The IPv6 modes: A, B and E with the client talking IPv6 to the container or the host.
setup_A6() { set_targets_ctr "${ctr_ip6}"; }
teardown_A6() { :; }

setup_B6() {
    set_targets_host "${host_ip6}"
    docker_rules 0 6 | in_ns "${ns_host}" ip6tables-restore
}
teardown_B6() { flush_netfilter; }

setup_E6() {
    setup_E || return 1
    set_targets_host "${host_ip6}"
}
teardown_E6() { teardown_E; }

# ---- measurements ----------------------------------------------------------------------------
# Each writes one raw JSON file raw/r<run>_<mode>_<metric>.json ({"error": ...} on failure) and
# prints a one-line summary; a failed measurement never stops the run.

raw_file() { echo "${raw_dir}/r$1_$2_$3.json"; }

write_error() {
    printf '{"error": %s}\n' "$(json_str "$2")" >"$1"
}

summarize() {
    "${python}" "${bench_dir}/report.py" line "$1" || true
}

measure_tcp() {
    local run=$1 mode=$2 streams=$3 f err
    f=$(raw_file "${run}" "${mode}" "tcp${streams}")
    err=${tmp_dir}/iperf3.err
    if ! in_ns "${ns_client}" timeout $((secs + omit + 20)) taskset -c "${cpu_client}" \
        iperf3 -c "${target_addr}" -p "${target_iperf}" -t "${secs}" -O "${omit}" -P "${streams}" \
        -J --connect-timeout 3000 >"${f}" 2>"${err}"; then
        [[ -s ${f} ]] || write_error "${f}" "iperf3 failed: $(head -c 300 "${err}")"
        restart_iperf_server || true
    fi
    summarize "${f}"
}

measure_udp() {
    local run=$1 mode=$2 f send recv rpid
    f=$(raw_file "${run}" "${mode}" udp)
    send=${tmp_dir}/udp-send.json
    recv=${tmp_dir}/udp-recv.json
    : >"${send}"
    : >"${recv}"
    in_ns "${ns_ctr}" taskset -c "${cpu_ctr}" "${loadgen_bin}" udp-recv \
        --addr "$(any_addr_for "${target_addr}")" --port "${ctr_udp}" \
        --seconds $((secs + 15)) --idle-ms 700 >"${recv}" 2>>"${tmp_dir}/udp-recv.err" &
    rpid=$!
    if ! wait_for "udp receiver" udp_bound "${ns_ctr}" "${ctr_udp}"; then
        kill "${rpid}" 2>/dev/null
        wait "${rpid}" 2>/dev/null
        write_error "${f}" "udp receiver did not start"
        summarize "${f}"
        return 0
    fi
    in_ns "${ns_client}" timeout $((secs + 10)) taskset -c "${cpu_client}" "${loadgen_bin}" \
        udp-send --addr "${target_addr}" --port "${target_udp}" --seconds "${secs}" --size 64 \
        >"${send}" 2>>"${tmp_dir}/udp-send.err" || true
    wait "${rpid}" 2>/dev/null || true
    if [[ -s ${send} && -s ${recv} ]]; then
        printf '{"send": %s, "recv": %s}\n' "$(cat "${send}")" "$(cat "${recv}")" >"${f}"
    else
        local why
        why=$(tail -n 2 "${tmp_dir}/udp-send.err" "${tmp_dir}/udp-recv.err" 2>/dev/null | tr '\n' ' ')
        write_error "${f}" "udp send or receive failed: ${why}"
    fi
    summarize "${f}"
}

measure_loadgen() {
    local run=$1 mode=$2 test=$3 f
    f=$(raw_file "${run}" "${mode}" "${test}")
    local args=(--addr "${target_addr}" --port "${target_echo}" --seconds "${secs}")
    # crr: the client's threads on their own core. rr: the client on the server's core, so the
    # round trip is the path's cost and not the VM's cross-core wake-up (tens of microseconds).
    local cpu=${cpu_ctr}
    if [[ ${test} == crr ]]; then
        args+=(--conns "${max_conns}" --parallel "${crr_parallel}")
        cpu=${cpu_client}
    fi
    if ! in_ns "${ns_client}" timeout $((secs + 20)) taskset -c "${cpu}" \
        "${loadgen_bin}" "${test}" "${args[@]}" >"${f}" 2>"${tmp_dir}/loadgen.err"; then
        [[ -s ${f} ]] || write_error "${f}" "loadgen ${test} failed: $(head -c 300 "${tmp_dir}/loadgen.err")"
    fi
    summarize "${f}"
}

# A few requests through the mode before measuring: a broken mode is reported, not measured.
smoke_test() {
    in_ns "${ns_client}" timeout 10 "${loadgen_bin}" rr --addr "${target_addr}" \
        --port "${target_echo}" --seconds 3 --count 20
}

# Counters that show the traffic took the mode's path (kept next to the raw results).
save_path_evidence() {
    local run=$1 mode=$2 f=${raw_dir}/r$1_$2_path.txt
    case ${mode} in
    B | B10k) in_ns "${ns_host}" iptables -t nat -L DOCKER -v -n -x | tail -n 4 >"${f}" 2>&1 ;;
    B6) in_ns "${ns_host}" ip6tables -t nat -L DOCKER -v -n -x | tail -n 4 >"${f}" 2>&1 ;;
    C) in_ns "${ns_host}" nft list chain ip netbench prerouting >"${f}" 2>&1 ;;
    E* | F*) fwdctl stats >"${f}" 2>&1 ;;
    *) return 0 ;;
    esac
    return 0
}

# Every mode starts from the same clean state. Connections of an earlier mode linger: in the
# container (the server closes first, so it keeps the TIME_WAIT), in the host (socat closed its
# client-side connections first), and in the host's conntrack table. A new connection of the next
# mode that reuses such a 4-tuple with sequence numbers and timestamps derived for another
# destination address (A talks to the container's address, the others to the host's) is answered
# by the old TIME_WAIT socket and stalls for a SYN retransmission (1 s).
clean_state() {
    in_ns "${ns_ctr}" ss -K -t state time-wait >/dev/null 2>&1
    in_ns "${ns_host}" ss -K -t state time-wait >/dev/null 2>&1
    in_ns "${ns_host}" conntrack -F >/dev/null 2>&1
    in_ns "${ns_host}" conntrack -F -f ipv6 >/dev/null 2>&1
    return 0
}

record_mode() {
    local run=$1 mode=$2 status=$3 busy=$4 detail=$5
    printf '{"kind": "mode", "run": %s, "mode": "%s", "status": "%s", "busy_pct": %s, "detail": %s}\n' \
        "${run}" "${mode}" "${status}" "${busy}" "$(json_str "${detail}")" >>"${events}"
}

run_mode() {
    local run=$1 mode=$2 busy err
    busy=$(wait_quiet)
    step "run ${run}/${runs}, mode ${mode} (other load before: ${busy}% CPU)"
    clean_state
    err=${tmp_dir}/setup.err
    if ! "setup_${mode}" 2>"${err}" >/dev/null; then
        local msg
        msg=$(head -c 400 "${err}" | tr '\n' ' ')
        note "n/a: setup failed: ${msg}"
        record_mode "${run}" "${mode}" na "${busy}" "${msg}"
        "teardown_${mode}" >/dev/null 2>&1 || true
        return 0
    fi
    if ! smoke_test >/dev/null 2>"${err}"; then
        local msg
        msg="requests through the mode fail: $(head -c 300 "${err}" | tr '\n' ' ')"
        note "n/a: ${msg}"
        record_mode "${run}" "${mode}" na "${busy}" "${msg}"
        "teardown_${mode}" >/dev/null 2>&1 || true
        return 0
    fi
    record_mode "${run}" "${mode}" ok "${busy}" "${target_addr}"
    case ${mode} in
    B10k | E10k)
        measure_tcp "${run}" "${mode}" 1
        measure_loadgen "${run}" "${mode}" crr
        ;;
    Ecsum | Fcsum)
        measure_tcp "${run}" "${mode}" 1
        measure_udp "${run}" "${mode}"
        ;;
    *)
        measure_tcp "${run}" "${mode}" 1
        measure_tcp "${run}" "${mode}" 4
        measure_udp "${run}" "${mode}"
        measure_loadgen "${run}" "${mode}" crr
        measure_loadgen "${run}" "${mode}" rr
        ;;
    esac
    save_path_evidence "${run}" "${mode}"
    if ! "teardown_${mode}" 2>"${err}" >/dev/null; then
        die "teardown of mode ${mode} failed: $(cat "${err}")"
    fi
}

# ---- metadata --------------------------------------------------------------------------------

git_head=$(git -C "${repo_root}" rev-parse --short HEAD 2>/dev/null || echo unknown)
git_dirty=$(git -C "${repo_root}" status --porcelain 2>/dev/null | grep -c -v '^??' || true)
{
    printf '{"kind": "meta", "date": %s, "kernel": %s, "cpu": %s, "cores": %s, ' \
        "$(json_str "$(date -u +%Y-%m-%dT%H:%M:%SZ)")" "$(json_str "$(uname -r)")" \
        "$(json_str "$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)")" "$(nproc)"
    printf '"runs": %s, "seconds": %s, "quick": %s, "iptables": %s, "iptables_backend": "%s", ' \
        "${runs}" "${secs}" "${quick}" "$(json_str "${iptables_version}")" "${iptables_backend}"
    printf '"iperf3": %s, "socat": %s, "nft": %s, "git_head": "%s", "git_modified_files": %s, ' \
        "$(json_str "$(iperf3 --version | head -n 1)")" "$(json_str "$(socat -V | sed -n 2p)")" \
        "$(json_str "$(nft --version)")" "${git_head}" "${git_dirty}"
    printf '"crr_parallel": %s, "install_count": %s, "scale_count": %s, "mem_ports": %s, ' \
        "${crr_parallel}" "${install_count}" "${scale_count}" "${mem_ports}"
    printf '"cpu_client": %s, "cpu_ctr": %s, "per_call_count": %s, ' \
        "${cpu_client}" "${cpu_ctr}" "${per_call_count}"
    printf '"quiet_wait": %s, "quiet_budget": %s, ' "${quiet_wait}" "${quiet_budget}"
    printf '"offloads_uplink": %s}\n' \
        "$(json_str "$(in_ns "${ns_host}" ethtool -k "${uplink}" 2>/dev/null |
            grep -E '^(tcp-segmentation-offload|generic-receive-offload|tx-checksumming|rx-checksumming):' |
            tr '\n' ';')")"
} >>"${events}"

# ---- the interleaved runs --------------------------------------------------------------------

# The scale modes right after their one-mapping mode, so that both see the same machine; the
# IPv6 modes next to each other, so that E6 is compared with the A6 and B6 of its own run.
modes=(A B B10k C D E E10k Enofp F Ecsum Fcsum A6 B6 E6)
for ((run = 1; run <= runs; run++)); do
    for mode in "${modes[@]}"; do
        run_mode "${run}" "${mode}"
    done
done

# ---- install time: N mappings ----------------------------------------------------------------

record_install() {
    printf '{"kind": "install", "round": %s, "method": "%s", "count": %s, "seconds": %s}\n' \
        "$1" "$2" "$3" "$4" >>"${events}"
    note "$(printf '%-22s %6d mappings in %8.3f s' "$2" "$3" "$4")"
}

last=$((scale_first + install_count - 1))
install_rounds=${runs}
for ((round = 1; round <= install_rounds; round++)); do
    step "install ${install_count} mappings, round ${round}/${install_rounds}"
    # fwd: one fwdctl call for the range, programs attached (as the rules' chains exist below).
    setup_E
    t0=${EPOCHREALTIME}
    fwdctl add "0.0.0.0:${scale_first}-${last}/tcp" "${ctr_ip}:${scale_first}-${last}" >/dev/null
    t1=${EPOCHREALTIME}
    record_install "${round}" fwd_range "${install_count}" "$(elapsed "${t0}" "${t1}")"
    fwdctl del "0.0.0.0:${scale_first}-${last}/tcp" >/dev/null

    # fwd, one fwdctl call per mapping (fewer of them: each call costs tens of milliseconds).
    t0=${EPOCHREALTIME}
    for ((p = scale_first; p < scale_first + per_call_count; p++)); do
        fwdctl add "0.0.0.0:${p}/tcp" "${ctr_ip}:${p}" >/dev/null
    done
    t1=${EPOCHREALTIME}
    record_install "${round}" fwd_per_call "${per_call_count}" "$(elapsed "${t0}" "${t1}")"
    if ! fwdctl del "0.0.0.0:${scale_first}-$((scale_first + per_call_count - 1))/tcp" >/dev/null 2>&1; then
        for ((p = scale_first; p < scale_first + per_call_count; p++)); do
            fwdctl del "0.0.0.0:${p}/tcp" >/dev/null
        done
    fi
    teardown_E

    # iptables-restore: the whole ruleset in one call.
    docker_rules "${install_count}" >"${tmp_dir}/rules.txt"
    t0=${EPOCHREALTIME}
    in_ns "${ns_host}" iptables-restore <"${tmp_dir}/rules.txt"
    t1=${EPOCHREALTIME}
    record_install "${round}" iptables_restore "${install_count}" "$(elapsed "${t0}" "${t1}")"
    flush_netfilter

    # iptables: one call per DNAT rule, the way dockerd adds a published port (dockerd also
    # checks each rule with -C first and adds a filter ACCEPT and a MASQUERADE rule per port,
    # so this is a lower bound of its cost). The base chains exist already.
    docker_rules 0 | in_ns "${ns_host}" iptables-restore
    t0=${EPOCHREALTIME}
    # shellcheck disable=SC2016 # expanded by the inner bash
    in_ns "${ns_host}" bash -c '
        for ((p = $1; p <= $2; p++)); do
            iptables -w -t nat -A DOCKER ! -i "$3" -p tcp -m tcp --dport "${p}" \
                -j DNAT --to-destination "$4:${p}" || exit 1
        done' _ "${scale_first}" "${last}" "${bridge}" "${ctr_ip}"
    t1=${EPOCHREALTIME}
    record_install "${round}" iptables_per_rule "${install_count}" "$(elapsed "${t0}" "${t1}")"
    flush_netfilter
done

# ---- memory and processes for 1,000 published ports ------------------------------------------

# Kernel memory of fwd's maps (memlock as bpftool reports it, i.e. fdinfo), by the pins of ours.
fwd_map_bytes() {
    local pin total=0 bytes
    for pin in "${pin_dir}"/*; do
        [[ -f ${pin} ]] || continue
        bytes=$(bpftool -j map show pinned "${pin}" 2>/dev/null |
            "${python}" -c 'import json, sys; print(json.load(sys.stdin).get("bytes_memlock", 0))' \
                2>/dev/null) || continue
        total=$((total + bytes))
    done
    echo "${total}"
}

host_procs() { ip netns pids "${ns_host}" | wc -l; }

step "memory and processes to publish ${mem_ports} ports"
mem_last=$((mem_first + mem_ports - 1))
setup_E
fwd_procs0=$(host_procs)
fwd_mem0=$(fwd_map_bytes)
fwd_state0=$(stat -c %s "${state_dir}/state.json")
t0=${EPOCHREALTIME}
fwdctl add "0.0.0.0:${mem_first}-${mem_last}/tcp" "${ctr_ip}:${mem_first}-${mem_last}" >/dev/null
t1=${EPOCHREALTIME}
fwd_add_secs=$(elapsed "${t0}" "${t1}")
fwd_procs1=$(host_procs)
fwd_mem1=$(fwd_map_bytes)
fwd_state1=$(stat -c %s "${state_dir}/state.json")
fwdctl del "0.0.0.0:${mem_first}-${mem_last}/tcp" >/dev/null
teardown_E
note "fwd: fwdctl add of ${mem_ports} ports in ${fwd_add_secs} s"
note "fwd: host processes ${fwd_procs0} -> ${fwd_procs1}; map memory ${fwd_mem0} -> ${fwd_mem1} B;" \
    "state file ${fwd_state0} -> ${fwd_state1} B"

socat_procs0=$(host_procs)
# shellcheck disable=SC2016 # expanded by the inner bash
in_ns "${ns_host}" bash -c '
    for ((p = $1; p <= $2; p++)); do
        socat "TCP4-LISTEN:${p},fork,reuseaddr" "TCP4:$3:${p}" </dev/null >/dev/null 2>&1 &
    done' _ "${mem_first}" "${mem_last}" "${ctr_ip}"
socat_listening() {
    (($(in_ns "${ns_host}" ss -Hltn "sport >= :${mem_first} and sport <= :${mem_last}" | wc -l) >= mem_ports))
}
wait_for "${mem_ports} socat listeners" socat_listening || true
socat_listeners=$(in_ns "${ns_host}" ss -Hltn "sport >= :${mem_first} and sport <= :${mem_last}" | wc -l)
socat_procs1=$(host_procs)
socat_pss_kb=0
socat_rss_kb=0
for pid in $(ip netns pids "${ns_host}"); do
    read -r pss rss < <(awk '/^Pss:/ { p = $2 } /^Rss:/ { r = $2 } END { print p + 0, r + 0 }' \
        "/proc/${pid}/smaps_rollup" 2>/dev/null || echo "0 0")
    socat_pss_kb=$((socat_pss_kb + pss))
    socat_rss_kb=$((socat_rss_kb + rss))
done
kill_ns_procs "${ns_host}"
note "socat: ${socat_listeners} listeners; host processes ${socat_procs0} -> ${socat_procs1};" \
    "PSS ${socat_pss_kb} kB, RSS ${socat_rss_kb} kB"

{
    printf '{"kind": "memory", "ports": %s, ' "${mem_ports}"
    printf '"fwd_procs_before": %s, "fwd_procs_after": %s, ' "${fwd_procs0}" "${fwd_procs1}"
    printf '"fwd_map_bytes_before": %s, "fwd_map_bytes_after": %s, ' "${fwd_mem0}" "${fwd_mem1}"
    printf '"fwd_state_bytes_before": %s, "fwd_state_bytes_after": %s, ' "${fwd_state0}" "${fwd_state1}"
    printf '"fwd_add_seconds": %s, "socat_listeners": %s, ' "${fwd_add_secs}" "${socat_listeners}"
    printf '"socat_procs_before": %s, "socat_procs_after": %s, ' "${socat_procs0}" "${socat_procs1}"
    printf '"socat_pss_kb": %s, "socat_rss_kb": %s}\n' "${socat_pss_kb}" "${socat_rss_kb}"
} >>"${events}"

# ---- report ----------------------------------------------------------------------------------

step "report"
"${python}" "${bench_dir}/report.py" build "${out_dir}"
echo
echo "results: ${out_dir} (results.json, table.md, chart.png, raw/)"
