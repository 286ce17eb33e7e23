#!/usr/bin/env bash
# Installs every Debian 12 package fwd's build, tests and demo need. Idempotent.
set -euo pipefail

packages=(
  # build
  cmake ninja-build g++ pkg-config clang llvm clang-tidy libclang-rt-14-dev
  libbpf-dev bpftool linux-libc-dev libelf-dev zlib1g-dev
  libboost-program-options-dev libfmt-dev nlohmann-json3-dev
  libgtest-dev googletest
  # packaging: man pages (help2man, man-db renders them in the tests), bash completion's
  # helpers (its test), the .deb's dependencies (dpkg-shlibdeps in dpkg-dev)
  help2man man-db bash-completion dpkg-dev
  # tests and demo: namespaces, tc, nsenter/setpriv, a tiny server, syscall counting
  iproute2 util-linux socat strace
  # the CNI tests compare fwd-portmap with the reference portmap plugin (/usr/lib/cni/portmap)
  containernetworking-plugins iptables
)

missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done

if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "install-deps: need root to install: ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
echo "install-deps: all packages present"
