#!/bin/sh
# What help2man runs for fwdctl(8): `$FWDCTL "$@"` (its --help and --version), with the
# headings capitalised as help2man recognises them (Usage: becomes the SYNOPSIS, Commands: a
# subsection, Options: the OPTIONS section) and each command's synopsis joined onto one line
# (help2man takes a command's first line as the tag and the more indented lines as its text).
# The words are fwdctl's own.
set -eu
"$FWDCTL" "$@" | awk '
    /^usage:/ { sub(/^usage:/, "Usage:") }
    /^commands:$/ { $0 = "Commands:"; commands = 1 }
    /^options:$/ { $0 = "Options:"; commands = 0 }
    commands && match($0, /^ +\[/) && RLENGTH < 20 { sub(/^ +/, " "); held = held $0; next }
    { if (NR > 1) print held; held = $0 }
    END { if (NR > 0) print held }'
