#!/usr/bin/env bash
# The .deb on this machine as on a clean one: builds it from a built tree (cpack), checks its
# control data and contents, installs it with apt (which resolves its dependencies), runs the
# installed programs, runs the systemd unit's ExecStart as systemd would at boot (no init
# system needed) against a private state and pin dir, then removes and purges it. Leaves
# nothing behind, also on failure. Needs root. Usage: deb-check.sh [BUILD_DIR] (default build)
set -euo pipefail
cd "$(dirname "$0")/.."
build=$(realpath "${1:-build}")

if [[ $(id -u) -ne 0 ]]; then
  echo "deb-check: run as root (it installs the package): sudo $0" >&2
  exit 1
fi
if dpkg-query -W -f='${Status}' fwd 2>/dev/null | grep -q ' installed$'; then
  echo "deb-check: a package fwd is already installed; refusing to replace and remove it" >&2
  exit 1
fi

# Whether dpkg knows a package fwd in any state (installed, or removed with its conffile).
dpkg_knows_fwd() { dpkg-query -W fwd >/dev/null 2>&1; }

work=$(mktemp -d /tmp/fwd-deb-XXXXXX)
pin_dir=/sys/fs/bpf/fwd-deb-check-$$
cleanup() {
  rm -rf "$pin_dir" "$work"
  if dpkg_knows_fwd; then
    apt-get purge -y -q fwd >/dev/null 2>&1 || echo "deb-check: could not purge fwd" >&2
  fi
}
trap cleanup EXIT

failures=0
check() {
  local what=$1
  shift
  if ! "$@"; then
    echo "deb-check: FAIL: $what" >&2
    failures=$((failures + 1))
  fi
}
# Succeeds when the command fails (for check).
not() { ! "$@"; }
# Stop here if an earlier check failed: the next step builds on it.
require_ok() { ((failures == 0)) || { echo "deb-check: $failures failure(s)" >&2; exit 1; }; }

echo "== deb-check: cpack -G DEB"
if ! timeout 300 cpack -G DEB --config "$build/CPackConfig.cmake" -B "$work/out" >"$work/cpack.log" 2>&1; then
  cat "$work/cpack.log" >&2
  exit 1
fi
debs=("$work"/out/fwd_*.deb)
[[ ${#debs[@]} -eq 1 && -f ${debs[0]} ]] || { echo "deb-check: no single fwd_*.deb in $work/out" >&2; exit 1; }
deb=${debs[0]}
version=$("$build/ctl/fwdctl" --version)
version=${version#fwdctl }

echo "== deb-check: $(basename "$deb")"
dpkg-deb --info "$deb" | tee "$work/info"
dpkg-deb --contents "$deb" | awk '{print $1, $NF}' | tee "$work/contents"
field() { dpkg-deb --field "$deb" "$1"; }
check "Package is fwd" test "$(field Package)" = fwd
check "Version is $version" test "$(field Version)" = "$version"
check "Section is net" test "$(field Section)" = net
for dep in libbpf1 libboost-program-options libfmt libc6 libstdc++6; do
  check "Depends names $dep (dpkg-shlibdeps)" grep -q "$dep" <<<"$(field Depends)"
done
check "Depends names no -dev package" not grep -q -- -dev <<<"$(field Depends)"
dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles >"$work/conffiles"
check "/etc/fwd/fwd.conf is a conffile" grep -qx /etc/fwd/fwd.conf "$work/conffiles"
for file in ./usr/sbin/fwdctl ./usr/sbin/fwd-docker-proxy ./usr/lib/cni/fwd-portmap \
  ./usr/share/man/man8/fwdctl.8.gz ./usr/share/man/man8/fwd-docker-proxy.8.gz \
  ./usr/share/man/man8/fwd-portmap.8.gz \
  ./usr/share/bash-completion/completions/fwdctl ./usr/lib/systemd/system/fwd-restore.service \
  ./etc/fwd/fwd.conf; do
  check "the package holds $file" grep -qE "^-[rwx-]+ $file\$" "$work/contents"
done
check "the programs are executable" grep -qE '^-rwxr-xr-x ./usr/sbin/fwdctl$' "$work/contents"
check "nothing under /usr/local" not grep -q ' ./usr/local' "$work/contents"
dpkg-deb --fsys-tarfile "$deb" | tar -xO ./usr/lib/systemd/system/fwd-restore.service >"$work/unit"
check "the packed unit runs /usr/sbin/fwdctl" grep -qx 'ExecStart=/usr/sbin/fwdctl restore' "$work/unit"
require_ok

echo "== deb-check: apt-get install $(basename "$deb")"
# A clean machine: apt fetches whatever Depends names that is not installed yet.
DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -q --no-install-recommends "$deb" |
  tail -n 5
check "dpkg says fwd $version is installed" test \
  "$(dpkg-query -W -f='${Status} ${Version}' fwd)" = "install ok installed $version"
check "/usr/sbin/fwdctl --version" test "$(/usr/sbin/fwdctl --version)" = "fwdctl $version"
check "/usr/sbin/fwdctl --help" grep -q '^commands:' <<<"$(/usr/sbin/fwdctl --help)"
check "the programs find their shared libraries" \
  not grep -q 'not found' <<<"$(ldd /usr/sbin/fwdctl /usr/sbin/fwd-docker-proxy /usr/lib/cni/fwd-portmap)"
# (Minimal images may tell dpkg to drop man pages: then there is nothing to find.)
if command -v man >/dev/null && ! grep -qs '^path-exclude=*/usr/share/man' /etc/dpkg/dpkg.cfg.d/*; then
  check "man -w fwdctl" test "$(man -w fwdctl)" = /usr/share/man/man8/fwdctl.8.gz
  check "man -w fwd-docker-proxy" test "$(man -w fwd-docker-proxy)" = /usr/share/man/man8/fwd-docker-proxy.8.gz
  check "man -w fwd-portmap" test "$(man -w fwd-portmap)" = /usr/share/man/man8/fwd-portmap.8.gz
fi
# bash-completion loads completions on demand from its directory, by command name.
check "bash-completion finds fwdctl's completion" bash -c \
  'source /usr/share/bash-completion/bash_completion && __load_completion fwdctl && complete -p fwdctl | grep -q _fwdctl'

unit=/usr/lib/systemd/system/fwd-restore.service
if command -v systemd-analyze >/dev/null; then
  verify=$(systemd-analyze verify "$unit" 2>&1) || true
  check "systemd-analyze verify $unit says nothing: $verify" test -z "$verify"
fi
require_ok

echo "== deb-check: the unit's ExecStart, as systemd runs it at boot"
# systemd gives the command a clean environment plus the EnvironmentFile's variables: here a
# private file naming a private state and pin dir instead of /etc/default/fwd. A mapping added
# before any attach is in the state only; restore loads the programs and fills the maps. Each
# fwdctl run also reads the installed /etc/fwd/fwd.conf, which must parse.
check "the unit reads /etc/default/fwd" grep -qx 'EnvironmentFile=-/etc/default/fwd' "$unit"
mapfile -t exec_start < <(sed -n 's/^ExecStart=//p' "$unit")
[[ ${#exec_start[@]} -eq 1 ]] || { echo "deb-check: expected one ExecStart= in $unit" >&2; exit 1; }
read -r -a command <<<"${exec_start[0]}"
printf 'FWD_STATE_DIR=%s\nFWD_PIN_DIR=%s\n' "$work/state" "$pin_dir" >"$work/default-fwd"
mapfile -t environment <"$work/default-fwd"
fwdctl=(env "${environment[@]}" /usr/sbin/fwdctl)
"${fwdctl[@]}" add 0.0.0.0:8080/tcp 10.99.0.2:80 --name deb-check >/dev/null 2>&1
# In a network namespace of its own: restore attaches nothing here, and must not touch the host.
if ! timeout 60 unshare --net env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "${environment[@]}" \
  "${command[@]}" >"$work/restore.out" 2>&1; then
  echo "deb-check: FAIL: ${command[*]} exited non-zero:" >&2
  cat "$work/restore.out" >&2
  exit 1
fi
cat "$work/restore.out"
check "restore refilled the mapping" grep -q 'restored 1 mapping(s)' "$work/restore.out"
check "the maps hold the mapping (fwdctl check)" "${fwdctl[@]}" check
check "list shows it" grep -qx '0.0.0.0:8080/tcp -> 10.99.0.2:80' <<<"$("${fwdctl[@]}" list)"
rm -rf "$pin_dir"
require_ok

echo "== deb-check: apt-get remove, then purge"
DEBIAN_FRONTEND=noninteractive timeout 300 apt-get remove -y -q fwd >/dev/null
check "remove takes the programs" test ! -e /usr/sbin/fwdctl
check "remove keeps the conffile" test -f /etc/fwd/fwd.conf
DEBIAN_FRONTEND=noninteractive timeout 300 apt-get purge -y -q fwd >/dev/null
check "purge takes the conffile" test ! -e /etc/fwd/fwd.conf
check "dpkg knows no package fwd any more" not dpkg_knows_fwd
require_ok
echo "deb-check: the .deb builds, installs, restores and uninstalls"
