#!/usr/bin/env bash
# The man pages as built (packaging/CMakeLists.txt): fwdctl(8) holds every command and option of
# `fwdctl --help` (it is generated from it; this guards the generation), fwd-docker-proxy(8) (by
# hand) every flag the program requires, and man renders both without a warning.
# Usage: man_test.sh FWDCTL FWD_DOCKER_PROXY MAN_DIR
set -euo pipefail
fwdctl=$1
docker_proxy=$2
man_dir=$3

failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

# The page as text on one line per paragraph (wide, so no word is hyphenated), and man's
# warnings (groff's: bad macros, lines that do not fit), which must be none.
render() {
  local warnings
  warnings=$(LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z "$1" 2>&1 >/dev/null)
  [[ -z $warnings ]] || fail "$(basename "$1"): man warns: $warnings"
  LC_ALL=C.UTF-8 MANWIDTH=1000 man -l "$1" 2>/dev/null | col -b
}

for page in fwdctl.8.gz fwd-docker-proxy.8.gz fwd-portmap.8.gz; do
  [[ -s $man_dir/$page ]] || fail "$man_dir/$page is missing"
  gzip -t "$man_dir/$page" || fail "$page is no gzip file"
done
((failures == 0)) || exit 1

# --- fwdctl(8) against fwdctl --help.
help=$("$fwdctl" --help) || fail "fwdctl --help exited $?"
version=$("$fwdctl" --version) || fail "fwdctl --version exited $?"
page=$(render "$man_dir/fwdctl.8.gz")
grep -q '^SYNOPSIS' <<<"$page" || fail "fwdctl(8) has no SYNOPSIS"
grep -q '^OPTIONS' <<<"$page" || fail "fwdctl(8) has no OPTIONS"
grep -q "${version#fwdctl }" <<<"$page" || fail "fwdctl(8) does not show the version ($version)"
# Each command's synopsis (whole, with its continuation lines) is an entry of the page.
synopses=$(awk '/^commands:$/ {on = 1; next} /^options:$/ {on = 0}
                on && /^  [a-z]/ {if (s) print s; s = $0}
                on && /^ {5,20}\[/ {s = s " " $0}
                END {print s}' <<<"$help" | sed -E 's/^ +//; s/  +.*//; s/ +/ /g')
[[ $(wc -l <<<"$synopses") -ge 10 ]] || fail "found too few commands in --help"
while IFS= read -r synopsis; do
  grep -qF -- "$synopsis" <<<"$(tr -s ' ' <<<"$page")" || fail "fwdctl(8) lacks the command: $synopsis"
done <<<"$synopses"
# Each option line of --help ("-p [ --publish ] arg") is an entry of the page.
while IFS= read -r option; do
  grep -qF -- "$option" <<<"$page" || fail "fwdctl(8) lacks the option: $option"
done < <(awk '/^options:$/ {on = 1; next} on && /^  -/' <<<"$help" | sed -E 's/^ +//; s/  .*//')
for section in ENVIRONMENT FILES 'EXIT STATUS' EXAMPLES 'SEE ALSO'; do
  grep -q "^$section" <<<"$page" || fail "fwdctl(8) has no $section (packaging/man/fwdctl.h2m)"
done

# --- fwd-docker-proxy(8): the program reports the first required flag it misses ("missing
# -proto"); giving it one by one lists them all, and each must be an option of the page.
page=$(render "$man_dir/fwd-docker-proxy.8.gz")
options=$(sed -n '/^OPTIONS/,/^[A-Z]/p' <<<"$page")
args=()
flags=0
while :; do
  err=$("$docker_proxy" "${args[@]}" 3>/dev/null 2>&1 >/dev/null || true)
  [[ $err =~ missing\ -([a-z-]+) ]] || break
  flag=${BASH_REMATCH[1]}
  grep -qE -- "^ +-$flag " <<<"$options" || fail "fwd-docker-proxy(8) lacks the option -$flag"
  args+=("-$flag" "x")
  flags=$((flags + 1))
  ((flags < 20)) || break
done
((flags >= 5)) || fail "fwd-docker-proxy reported only $flags required flags (last: $err)"

# --- fwd-portmap(8): every CNI command and fwd's own error codes are described.
page=$(render "$man_dir/fwd-portmap.8.gz")
for word in ADD DEL CHECK VERSION stateDir pinDir configFile 100 101 102 103; do
  grep -qw -- "$word" <<<"$page" || fail "fwd-portmap(8) does not mention $word"
done

if ((failures)); then
  echo "man_test: $failures failure(s)" >&2
  exit 1
fi
echo "man_test: all checks passed"
