#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""test_cli.py SWEEP - ibv-reg-sweep's command line: bad input gives exactly one
"ibv-reg-sweep: ..." line on stderr, nothing on stdout, exit 2 and no hang; numbers are
range-checked (no silent overflow); every --case glob must match a row. KTAP on stdout."""
import subprocess
import sys

BIN = sys.argv[1]
n = failed = 0


def run(*args):
    return subprocess.run([BIN, *args], capture_output=True, text=True, timeout=60)


def check(ok, name, detail=''):
    global n, failed
    n += 1
    failed += not ok
    print(f'{"ok" if ok else "not ok"} {n} {name}' + (f' # {detail}' if not ok and detail else ''))


print('KTAP version 1')
BAD = [
    ['--timeout', '99999999999'], ['--timeout', '2147484'], ['--timeout', '3601'],
    ['--timeout', '0'], ['--timeout', '-1'], ['--timeout', 'x'], ['--timeout', '5s'],
    ['--timeout', ''], ['--timeout'], ['--format', 'xml'], ['--bogus'], ['extra-arg'],
    ['--case', 'nomatch*'], ['--case', 'edge.*', '--case', 'typo'], ['--case', ''],
    ['--device', ''], ['--device', 'x' * 80], ['--dir', ''],
]
for args in BAD:
    p = run('--list', *args) if args[0] not in ('--bogus', 'extra-arg') else run(*args)
    lines = p.stderr.splitlines()
    check(p.returncode == 2 and len(lines) == 1 and lines[0].startswith('ibv-reg-sweep: ')
          and p.stdout == '', 'bad_input ' + ' '.join(a[:20] for a in args),
          f'exit {p.returncode} stderr {p.stderr!r} stdout {p.stdout[:80]!r}')

p = run('--help')
check(p.returncode == 0 and '--timeout' in p.stdout, 'help')
p = run('--list', '--timeout', '3600', '--case', 'edge.*', '--case', 'thp.r.RR')
rows = [l.split()[0] for l in p.stdout.splitlines()[1:-1]]
check(p.returncode == 0 and 'thp.r.RR' in rows and all(r.startswith('edge.') or r == 'thp.r.RR'
      for r in rows), 'list_case_globs', str(rows[:5]))

print(f'1..{n}')
print(f'{n - failed} passed, {failed} failed')
sys.exit(1 if failed else 0)
