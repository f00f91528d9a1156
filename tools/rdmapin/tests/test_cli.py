#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""test_cli.py RDMAPIN [FAKE_DEVICE_SO] - the command line: bad input gives exactly one
"rdmapin: ..." line on stderr, nothing on stdout, exit 2 and no hang (tests/clitest.py); --help,
--list and --case globs work. With FAKE_DEVICE_SO (fake_device.c, LD_PRELOAD): a device whose
run fails early is a failure: exit 1, "not ok" and a line naming the device and the error."""
import json
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..',
                                'tests'))
from clitest import CliTest  # noqa: E402

t = CliTest(sys.argv[1], 'rdmapin')
run, check = t.run, t.check
BAD = [
    ['--pages', '0'], ['--pages', 'x'], ['--pages', '4097'], ['--pages', '4k'],
    ['--format', 'xml'], ['--timeout', '0'], ['--port', '70000'], ['--case', 'nomatch*'],
    ['--bogus'], ['--device'], ['extra-arg'], ['--server', '--connect', 'h'], ['--case', ''],
    ['--device', 'x' * 80],
    # every pattern must match: a typo next to a good pattern is not silently dropped
    ['--case', 'anon_zero.*,typo'], ['--case', 'anon_zero.*', '--case', 'typo'],
    ['--list', '--case', 'typo,anon_zero.*'], ['--timeout', '99999999999'],
]
for args in BAD:
    t.bad_input(args)

p = run('--help')
check(p.returncode == 0 and '--case GLOB' in p.stdout, 'help')

p = run('--list')
names = [l.split()[0] for l in p.stdout.splitlines()]
check(p.returncode == 0 and len(names) >= 20 and len(set(names)) == len(names) and
      all(re.fullmatch(r'[a-z_]+(\.[a-z_]+){1,2}', x) for x in names), 'list', p.stdout[:200])
for must in ('anon_zero.mprotect_store', 'file_shared_ro.pwrite', 'anon_populated.madv_dontneed',
             'anon_populated.writable_mr_on_ro', 'anon_uffd_wp.register'):
    check(must in names, f'list_has {must}')

p = run('--list', '--case', 'anon_zero.*', '--case', 'thp_zero.proc_mem')
sel = [l.split()[0] for l in p.stdout.splitlines()]
check(p.returncode == 0 and sel and all(s.startswith('anon_zero.') or s == 'thp_zero.proc_mem'
      for s in sel) and 'thp_zero.proc_mem' in sel, 'list_case_globs', str(sel))

p = run('--list', '--case', 'anon_zero.*,file_shared_*')
sel = [l.split()[0] for l in p.stdout.splitlines()]
check(p.returncode == 0 and any(s.startswith('file_shared_') for s in sel) and
      any(s.startswith('anon_zero.') for s in sel), 'list_case_comma_globs', str(sel))

p = run('--device', 'nosuchdev0', '--case', 'anon_zero.mprotect_store')
check(p.returncode == 4 and 'nosuchdev0 # SKIP' in p.stdout, 'missing_device_skips',
      f'exit {p.returncode}: {p.stdout[-200:]!r}')

p = run('--case', 'anon_zero.*,typo')
check('typo' in p.stderr, 'case_typo_named', p.stderr)

if len(sys.argv) > 2 and 'libasan' in sys.argv[2]:
    # ASan's runtime must come first and its calloc() wins: the fault cannot be injected
    for fmt in ('ktap', 'table', 'json'):
        print(f'ok {t.n + 1} failed_device_{fmt} # SKIP ASan build: calloc() is ASan\'s')
        t.n += 1
elif len(sys.argv) > 2:
    env = dict(os.environ, LD_PRELOAD=sys.argv[2])
    for fmt in ('ktap', 'table', 'json'):
        p = run('--format', fmt, '--case', 'anon_zero.mprotect_store', env=env)
        out = p.stdout
        if fmt == 'ktap':
            good = re.search(r'^not ok \d+ fake0\b', out, re.M) and 'ENOMEM' in out
        elif fmt == 'table':
            good = re.search(r'^fake0 .*\bfail\b.*ENOMEM', out, re.M)
        else:
            devs = json.loads(out)['devices'] if out.startswith('{') else []
            good = [(d['device'], d['status']) for d in devs] == [('fake0', 'fail')] and \
                'ENOMEM' in devs[0]['skip_reason']
        check(p.returncode == 1 and bool(good), f'failed_device_{fmt}',
              f'exit {p.returncode}: {out[-300:]!r} {p.stderr[-200:]!r}')

t.finish()
