# SPDX-License-Identifier: GPL-2.0
"""clitest.py - what the command-line tests of rdmapin and ibv-reg-sweep share: run a program
(bounded), count KTAP results, and the rule for bad input: exit 2, exactly one "PROG: ..."
line on stderr, nothing on stdout, no hang."""
import subprocess
import sys


class CliTest:
    def __init__(self, binary, prog):
        self.binary, self.prog = binary, prog
        self.n = self.failed = 0
        print('KTAP version 1')

    def run(self, *args, env=None):
        return subprocess.run([self.binary, *args], capture_output=True, text=True, timeout=60,
                              env=env)

    def check(self, ok, name, detail=''):
        self.n += 1
        self.failed += not ok
        print(f'{"ok" if ok else "not ok"} {self.n} {name}'
              + (f' # {detail}' if not ok and detail else ''))

    def bad_input(self, args, prefix=()):
        """args must be refused as bad usage (prefix: options put in front, e.g. --list)."""
        p = self.run(*prefix, *args)
        lines = p.stderr.splitlines()
        self.check(p.returncode == 2 and len(lines) == 1 and lines[0].startswith(self.prog + ': ')
                   and p.stdout == '', 'bad_input ' + ' '.join(a[:20] for a in args),
                   f'exit {p.returncode} stderr {p.stderr!r} stdout {p.stdout[:80]!r}')

    def finish(self):
        print(f'1..{self.n}')
        print(f'{self.n - self.failed} passed, {self.failed} failed')
        sys.exit(1 if self.failed else 0)
