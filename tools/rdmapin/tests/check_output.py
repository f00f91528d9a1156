#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""check_output.py - run a command and validate its stdout as KTAP version 1 or as rdmapin JSON.

usage: check_output.py --format ktap|json [--exit 0,1,4] [--min-tests N] -- CMD [ARGS...]

KTAP: every level starts with "KTAP version 1", has exactly one plan "1..N", results are
numbered 1..N in order and their count matches the plan; a nested subtest (indented 4 more
spaces) is closed by its parent's result line; "# SKIP" only on "ok" lines. Lines after the
top-level KTAP may only be a "N passed, N failed, N skipped" summary.
A top-level plan "1..0 # SKIP reason" (nothing to run) counts as one skipped result.
JSON: Documentation/results.schema.json and the rules beside it (tests/results.py).
"""
import os
import argparse
import json
import re
import subprocess
import sys

RESULT = re.compile(r'^(ok|not ok) (\d+) (\S+)(?: # (.*))?$')
PLAN = re.compile(r'^1\.\.(\d+)$|^1\.\.(0) # SKIP \S.*$')
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..',
                                'tests'))
import results  # noqa: E402


class Bad(Exception):
    pass


def parse_ktap(lines, pos, indent, where):
    """Parse one KTAP level starting at lines[pos]; return (pos after, results)."""
    pad = ' ' * indent

    def body(i):
        line = lines[i]
        if not line.startswith(pad):
            return None
        return line[len(pad):]

    if pos >= len(lines) or body(pos) != 'KTAP version 1':
        raise Bad(f'{where}: line {pos + 1}: expected "{pad}KTAP version 1"')
    pos += 1
    plan = None
    results = []
    while pos < len(lines):
        b = body(pos)
        if b is None:
            break  # dedent: this level is over
        if b.startswith('    KTAP version 1'):
            pos, sub = parse_ktap(lines, pos, indent + 4, where)
            # the parent's next result line closes the subtest
            b2 = body(pos) if pos < len(lines) else None
            if b2 is None or not RESULT.match(b2):
                raise Bad(f'{where}: line {pos + 1}: subtest not closed by a result line')
            continue
        if b.startswith('#') or b == '':
            pos += 1
            continue
        m = PLAN.match(b)
        if m:
            if plan is not None:
                raise Bad(f'{where}: line {pos + 1}: second plan')
            plan = int(m.group(1) or m.group(2))
            pos += 1
            continue
        m = RESULT.match(b)
        if m:
            num = int(m.group(2))
            if num != len(results) + 1:
                raise Bad(f'{where}: line {pos + 1}: result {num}, expected {len(results) + 1}')
            directive = m.group(4) or ''
            if directive.startswith('SKIP') and m.group(1) != 'ok':
                raise Bad(f'{where}: line {pos + 1}: SKIP on a "not ok" line')
            results.append((m.group(1), m.group(3), directive))
            pos += 1
            continue
        if indent == 0:
            break  # trailing non-KTAP text, checked by the caller
        raise Bad(f'{where}: line {pos + 1}: not a KTAP line: {lines[pos]!r}')
    if plan is None:
        raise Bad(f'{where}: level at indent {indent} has no plan')
    if plan != len(results):
        raise Bad(f'{where}: plan 1..{plan} but {len(results)} results at indent {indent}')
    return pos, results


def check_ktap(text, min_tests):
    lines = text.splitlines()
    pos, results = parse_ktap(lines, 0, 0, 'ktap')
    for rest in lines[pos:]:
        if not re.match(r'^([A-Za-z-]+: )?\d+ passed, \d+ failed(, \d+ skipped)?$', rest):
            raise Bad(f'ktap: trailing non-KTAP line {rest!r}')
    if not results and re.search(r'^1\.\.0 # SKIP \S', '\n'.join(lines[1:]), re.M):
        results = [('ok', 'all', 'SKIP')]  # nothing to run: one skip
    if len(results) < min_tests:
        raise Bad(f'ktap: {len(results)} top-level results, expected at least {min_tests}')
    if any(l.lstrip().startswith(('{', '[')) for l in lines):
        raise Bad('ktap: JSON inside KTAP')
    return len(results)


def check_json(text, min_tests):
    doc = json.loads(text)
    if doc.get('tool') != 'rdmapin':
        raise Bad(f'json: tool {doc.get("tool")!r}, not rdmapin')
    bad = results.problems(doc)
    if bad:
        raise Bad('json: ' + '; '.join(bad[:5]))
    n = sum(doc['totals'].values())
    if n < min_tests:
        raise Bad(f'json: {n} results, expected at least {min_tests}')
    return n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--format', choices=('ktap', 'json'), required=True)
    ap.add_argument('--exit', default='0,1,4')
    ap.add_argument('--min-tests', type=int, default=1)
    ap.add_argument('cmd', nargs='+')
    a = ap.parse_args()
    p = subprocess.run(a.cmd, capture_output=True, text=True, timeout=600)
    allowed = {int(x) for x in a.exit.split(',')}
    try:
        if p.returncode not in allowed:
            raise Bad(f'exit {p.returncode}, expected one of {sorted(allowed)}')
        n = (check_ktap if a.format == 'ktap' else check_json)(p.stdout, a.min_tests)
    except (Bad, ValueError) as e:
        sys.stdout.write(p.stdout)
        sys.stderr.write(p.stderr)
        print(f'check_output: FAIL: {e}', file=sys.stderr)
        return 1
    print(f'check_output: {a.format} ok, {n} results, exit {p.returncode}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
