#!/usr/bin/env bash
# test_combine.sh BENCH FIXTURES - the rdmapin-bench binary on the host: --combine of the
# fixtures prints the table and writes JSON that parses and plot files; a malformed file, a
# missing file and bad usage fail with one line and exits 1, 1, 2; measure mode on a host
# without RDMA skips (4). TAP-ish lines, exit 0 when everything held.
set -euo pipefail
bench=$1 fix=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0 failed=0

check() { # name, then a command that must succeed
	local name=$1
	shift
	n=$((n + 1))
	if "$@"; then
		echo "ok $n $name"
	else
		echo "not ok $n $name"
		failed=$((failed + 1))
	fi
}

rc=0
"$bench" --combine "base=$fix/base.rec" --combine "patched=$fix/patched.rec" \
	--json "$tmp/b.json" --plot "$tmp" >"$tmp/table" 2>"$tmp/err" || rc=$?
check "combine.exit_0" test "$rc" -eq 0
check "combine.table" grep -q "patched/base" "$tmp/table"
check "combine.json_parses" python3 -c "import json, sys; d = json.load(open(sys.argv[1])); \
assert d['kernels'] == ['base', 'patched'] and len(d['registration']) == 5" "$tmp/b.json"
check "combine.plot_files" test -s "$tmp/bench.dat" -a -s "$tmp/bench.gp"
if command -v gnuplot >/dev/null 2>&1; then
	check "combine.gnuplot_draws" sh -c "gnuplot '$tmp/bench.gp' && grep -q '<svg' '$tmp/bench.svg'"
fi

rc=0
"$bench" --combine "bad=$fix/bad.rec" >/dev/null 2>"$tmp/err" || rc=$?
check "combine.malformed_exit_1" test "$rc" -eq 1
check "combine.malformed_one_line" test "$(wc -l <"$tmp/err")" -eq 1
rc=0
"$bench" --combine "x=$tmp/none.rec" >/dev/null 2>"$tmp/err" || rc=$?
check "combine.missing_file_exit_1" test "$rc" -eq 1
rc=0
"$bench" --reps 0 >/dev/null 2>"$tmp/err" || rc=$?
check "usage.exit_2" test "$rc" -eq 2
check "usage.one_line" grep -q "^rdmapin-bench: --reps: '0' is not a number in 1..1000 (see --help)$" "$tmp/err"
rc=0
"$bench" --sizes 4K:4K --verify none >"$tmp/out" 2>&1 || rc=$?
if [ -e /dev/infiniband/uverbs0 ]; then
	echo "ok $((n += 1)) measure.no_rdma_skips # SKIP this host has an RDMA device"
else
	check "measure.no_rdma_skips" test "$rc" -eq 4
fi
echo "1..$n"
echo "$((n - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
