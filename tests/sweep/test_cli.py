#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""test_cli.py SWEEP - ibv-reg-sweep's command line: bad input gives exactly one
"ibv-reg-sweep: ..." line on stderr, nothing on stdout, exit 2 and no hang; numbers are
range-checked (no silent overflow); every --case glob must match a row. KTAP on stdout."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
from clitest import CliTest  # noqa: E402

t = CliTest(sys.argv[1], 'ibv-reg-sweep')
BAD = [
    ['--timeout', '99999999999'], ['--timeout', '2147484'], ['--timeout', '3601'],
    ['--timeout', '0'], ['--timeout', '-1'], ['--timeout', 'x'], ['--timeout', '5s'],
    ['--timeout', ''], ['--timeout'], ['--format', 'xml'], ['--bogus'], ['extra-arg'],
    ['--case', 'nomatch*'], ['--case', 'edge.*', '--case', 'typo'], ['--case', ''],
    ['--device', ''], ['--device', 'x' * 80], ['--dir', ''],
]
for args in BAD:
    # --list: a run that the bad option failed to stop ends at once instead of sweeping
    t.bad_input(args, prefix=('--list',) if args[0] not in ('--bogus', 'extra-arg') else ())

p = t.run('--help')
t.check(p.returncode == 0 and '--timeout' in p.stdout, 'help')
p = t.run('--list', '--timeout', '3600', '--case', 'edge.*', '--case', 'thp.r.RR')
rows = [l.split()[0] for l in p.stdout.splitlines()[1:-1]]
t.check(p.returncode == 0 and 'thp.r.RR' in rows and all(r.startswith('edge.') or r == 'thp.r.RR'
      for r in rows), 'list_case_globs', str(rows[:5]))

t.finish()
