#!/usr/bin/env bash
# The bash completion for fwdctl (packaging/bash-completion/fwdctl), run the way bash runs it:
# COMP_WORDS/COMP_CWORD set, _fwdctl called, COMPREPLY read. Its commands and options must be
# exactly those of `fwdctl --help`, and each value completion must offer the documented values.
# Usage: completion_test.sh FWDCTL COMPLETION_FILE
set -euo pipefail
fwdctl=$1
completion=$2

helpers=/usr/share/bash-completion/bash_completion
if [[ ! -r $helpers ]]; then
  echo "completion_test: $helpers is missing (apt-get install bash-completion)" >&2
  exit 1
fi
# shellcheck source=/dev/null
source "$helpers"
# shellcheck source=/dev/null
source "$completion"

failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

# The candidates for LINE (the cursor at its end), sorted, one per line. The first word may be
# a path: it is the fwdctl the completion asks for container names. COMP_WORDS is split at
# blanks only; bash also splits at COMP_WORDBREAKS (= and :), which _init_completion joins
# back, so the completion sees the same words either way.
complete_line() {
  local line=$1
  read -r -a COMP_WORDS <<<"$line"
  [[ $line == *" " ]] && COMP_WORDS+=("")
  COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
  COMP_LINE=$line
  COMP_POINT=${#line}
  COMPREPLY=()
  _fwdctl fwdctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
  if ((${#COMPREPLY[@]})); then printf '%s\n' "${COMPREPLY[@]}" | sort; fi
}

# LINE completes to exactly the words of EXPECTED (in any order).
expect() {
  local line=$1 expected actual
  expected=$(tr ' ' '\n' <<<"$2" | grep -v '^$' | sort || true)
  actual=$(complete_line "$line")
  [[ $actual == "$expected" ]] ||
    fail "'$line<TAB>': expected [${expected//$'\n'/ }], got [${actual//$'\n'/ }]"
}

sorted_words() { tr ' ' '\n' | grep -v '^$' | sort -u; }

help=$("$fwdctl" --help) || fail "fwdctl --help exited $?"

# --- The lists are --help's. Commands: the first word of each entry under "commands:".
help_commands=$(awk '/^commands:$/ {on = 1; next} /^options:$/ {on = 0}
                     on && /^  [a-z]/ {print $1}' <<<"$help" | sort)
[[ $(wc -l <<<"$help_commands") -ge 10 ]] || fail "found too few commands in --help: $help_commands"
expect "fwdctl " "$help_commands"

# Options: each option line under "options:" (boost: "  -p [ --publish ] arg   publish: ...").
# Its description names the commands it applies to ("attach: ", "add, publish: ",
# "stats --watch: "); one without is global. "arg" marks an option that takes a value.
declare -A command_options=()
global_options=""
while IFS= read -r entry; do
  entry=${entry#  }
  head=${entry%%  *}                                  # "-p [ --publish ] arg"
  description=${entry#"$head"}
  description=${description#"${description%%[! ]*}"} # "publish: -p SPEC"
  names=$(grep -o -E -- '(^|[ [])--?[a-zA-Z][a-z0-9-]*' <<<"$head" | tr -d ' [' || true)
  if [[ $description =~ ^([a-z-]+(,\ [a-z-]+)*)(\ --[a-z-]+)?:\  ]]; then
    for command in $(tr -d ',' <<<"${BASH_REMATCH[1]}"); do
      command_options[$command]+=" $names"
    done
  else
    global_options+=" $names"
  fi
  for name in $names; do
    if [[ $head == *" arg" ]]; then
      _fwdctl_takes_value "$name" || fail "$name takes a value (--help), not in _fwdctl_takes_value"
    else
      ! _fwdctl_takes_value "$name" || fail "$name takes no value (--help), but _fwdctl_takes_value"
    fi
  done
done < <(awk '/^options:$/ {on = 1; next} on && /^  -/' <<<"$help")
[[ $global_options == *--state-dir* ]] || fail "no global options found in --help"
[[ ${command_options[attach]-} == *--mode* ]] || fail "no attach options found in --help"
expect "fwdctl -" "$global_options"
for command in $help_commands; do
  expect "fwdctl $command -" "$global_options ${command_options[$command]-}"
done
for command in "${!command_options[@]}"; do
  grep -qx -- "$command" <<<"$help_commands" || fail "--help has options for unknown command $command"
done

# --- Commands, options and their values.
expect "fwdctl at" "attach"
expect "fwdctl --json st" "stats status"
expect "fwdctl attach --mode " "tc xdp"
expect "fwdctl attach --mode=" "tc xdp"
expect "fwdctl attach eth0 --fast-path o" "on off"
expect "fwdctl --state-dir /tmp stats --format " "text json prometheus"
expect "fwdctl stats --format p" "prometheus"
expect "fwdctl detach --a" "--all"
expect "fwdctl add --max-" ""
expect "fwdctl publish web -" "$global_options ${command_options[publish]}"
expect "fwdctl stats --interval " ""

# Interfaces for attach and detach, after options too.
interfaces=$(ls /sys/class/net)
expect "fwdctl attach " "$interfaces"
expect "fwdctl --mode xdp attach eth0 " "$interfaces"
expect "fwdctl detach l" "$(grep '^l' <<<"$interfaces")"

# Files for --config, directories for --state-dir.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir "$scratch/dir"
touch "$scratch/fwd.conf"
expect "fwdctl --config $scratch/" "$scratch/dir $scratch/fwd.conf"
expect "fwdctl --state-dir $scratch/" "$scratch/dir"

# Container names and host ports from `fwdctl list --json`, asked of the fwdctl on the command
# line with its directory options; nothing when that fwdctl fails (not root).
cat >"$scratch/fwdctl" <<'EOF'
#!/bin/sh
[ "$*" = "--state-dir /srv/fwd list --json" ] || { echo "stub fwdctl: called with $*" >&2; exit 2; }
cat <<'JSON'
[
  {
    "container_ip": "172.17.0.2",
    "container_port": 80,
    "host_ip": "0.0.0.0",
    "host_port": 8080,
    "name": "web",
    "proto": "tcp"
  },
  {
    "allow": [
      "10.0.0.0/8"
    ],
    "container_ip": "fd00::2",
    "container_port": 80,
    "host_ip": "::",
    "host_port": 8080,
    "name": "web",
    "proto": "tcp"
  },
  {
    "container_ip": "172.17.0.3",
    "container_port": 53,
    "host_ip": "127.0.0.1",
    "host_port": 53,
    "name": "dns",
    "proto": "udp"
  },
  {
    "container_ip": "172.17.0.4",
    "container_port": 22,
    "host_ip": "0.0.0.0",
    "host_port": 2222,
    "name": "",
    "proto": "tcp"
  }
]
JSON
EOF
chmod +x "$scratch/fwdctl"
stub="$scratch/fwdctl --state-dir /srv/fwd"
expect "$stub port " "dns web"
expect "$stub unpublish w" "web"
expect "$stub link-env web --link " "dns web"
expect "$stub link-env " "dns web"
expect "$stub port web " ""
expect "$stub del " "0.0.0.0:8080/tcp [::]:8080/tcp 127.0.0.1:53/udp 0.0.0.0:2222/tcp"
# bash replaces only what follows the word's last colon (COMP_WORDBREAKS), so that is offered.
expect "$stub del [::]:80" "8080/tcp"
printf '#!/bin/sh\necho "fwdctl: error: permission denied" >&2\nexit 1\n' >"$scratch/fwdctl"
expect "$stub port " ""

if ((failures)); then
  echo "completion_test: $failures failure(s)" >&2
  exit 1
fi
echo "completion_test: all cases passed"
