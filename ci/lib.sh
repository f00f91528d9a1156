# shellcheck shell=bash
# ci/lib.sh - helpers shared by the ci/ scripts: logging, the cache directory, errors.
# Source it; it sets nothing but functions and RDMAPIN_CACHE / RDMAPIN_TOP.

RDMAPIN_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RDMAPIN_CACHE=${RDMAPIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/rdmapin}
export RDMAPIN_TOP RDMAPIN_CACHE

# rp_log MSG...: one progress line on stderr, prefixed with the script name and a timestamp.
rp_log() {
	printf '[%s %s] %s\n' "$(basename "$0")" "$(date +%H:%M:%S)" "$*" >&2
}

# rp_exit STATUS MSG...: one error line on stderr, exit STATUS (2 for bad usage, ...).
rp_exit() {
	local status=$1
	shift
	printf '%s: error: %s\n' "$(basename "$0")" "$*" >&2
	exit "$status"
}

# rp_die MSG...: one error line on stderr, exit 1.
rp_die() {
	rp_exit 1 "$@"
}

# rp_help: the script's help, its leading comment block (from line 2 up to the first line that
# is not a comment) without the "# ", so that it cannot drift into code.
rp_help() {
	awk 'NR == 1 { next } !/^#/ { exit } { sub(/^# ?/, ""); print }' "$0"
}

# rp_need CMD...: die naming every missing command at once.
rp_need() {
	local missing=() c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || missing+=("$c")
	done
	[ ${#missing[@]} -eq 0 ] || rp_die "missing commands: ${missing[*]} (run ci/setup)"
}

# rp_kmsg_problems FILE: the lines of a kernel log (console) FILE that report a kernel problem,
# by the project's one list, lib/kmsg-patterns.txt (fixed strings; comments and blank lines
# are not patterns). Prints nothing when there are none; fails only when FILE is unreadable.
rp_kmsg_problems() {
	local patterns
	patterns=$(grep -v -e '^#' -e '^$' "$RDMAPIN_TOP/lib/kmsg-patterns.txt") || return 2
	grep -F -e "$patterns" -- "$1" || [ $? = 1 ]
}
