#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""test_kmsg_patterns.py KMSG_MATCH - the one kernel log pattern list, lib/kmsg-patterns.txt,
read the same way by its three users: lib/kmsg.c (rdmapin and the sweep, per case; run through
the kmsg_match program), tests/judge.py (the suite's console check) and ci/lib.sh's
rp_kmsg_problems (ci/vm-run). Every pattern, inside a realistic console line, must be caught
by all three; benign lines by none; and the C table must be the file's list, in order."""
import os
import subprocess
import sys
import tempfile
import unittest

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(TOP, "tests"))
import judge  # noqa: E402

KMSG_MATCH = None

# lines a healthy guest logs: none of them is a kernel problem
BENIGN = [
    "[    0.000000] Linux version 6.1.0-rdmapin (root@host) (gcc (Debian 12.2.0-14) 12.2.0)",
    "[    0.000000] Kernel command line: console=ttyS0,115200 loglevel=7 panic=-1",
    "[    0.912345] Lock dependency validator: Copyright (c) 2006 Red Hat, Inc., Ingo Molnar",
    "[    1.234567] rdma_rxe: loaded",
    "[    1.300000] siw: device siw0 registered",
    "[    2.000000] random: crng init done",
    "[    2.100000] Freeing unused kernel image (initmem) memory: 1234K",
    "[    3.000000] rdmapin-suite: start",
    "[    3.500000] systemd[1]: warning: a lowercase warning is not a kernel problem",
    "[    4.000000] EXT4-fs (vda): mounted filesystem with ordered data mode",
    "ok 1 anon_zero.mprotect_store",
    "# task_struct size 9792, no bug here",
]


def c_match(lines):
    out = subprocess.run([KMSG_MATCH], input="".join(l + "\n" for l in lines), text=True,
                         capture_output=True, check=True, timeout=30).stdout.splitlines()
    return [None if o == "-" else o for o in out]


def shell_match(lines):
    with tempfile.NamedTemporaryFile("w", suffix=".console") as f:
        f.write("".join(l + "\n" for l in lines))
        f.flush()
        r = subprocess.run(["bash", "-c", 'set -euo pipefail; . "$1"; rp_kmsg_problems "$2"',
                            "-", os.path.join(TOP, "ci", "lib.sh"), f.name],
                           text=True, capture_output=True, timeout=30)
    if r.returncode:
        raise AssertionError("rp_kmsg_problems failed (%d): %s" % (r.returncode, r.stderr))
    return r.stdout.splitlines()


class KmsgPatterns(unittest.TestCase):
    def test_c_table_is_the_file(self):
        listed = subprocess.run([KMSG_MATCH, "--list"], text=True, capture_output=True,
                                check=True, timeout=30).stdout.splitlines()
        self.assertEqual(listed, judge.load_kmsg_patterns())
        self.assertGreaterEqual(len(listed), 10)

    def test_file_format(self):
        for p in judge.load_kmsg_patterns():
            self.assertEqual(p, p.strip(), "blanks at an end of %r" % p)
            self.assertFalse(set(p) & set('"\\;'), "quote, backslash or semicolon in %r" % p)

    def test_issue_10_patterns_are_listed(self):
        # the per-case check used to miss these (issue 10)
        for line in ("UBSAN: shift-out-of-bounds in mm/gup.c:123:4",
                     "Oops: 0000 [#1] PREEMPT SMP NOPTI",
                     "kernel BUG at mm/memory.c:3352!",
                     "refcount_t: underflow; use-after-free.",
                     "list_del corruption, ffff888003a0b000->next is LIST_POISON1",
                     "INFO: task rdmapin:123 blocked for more than 120 seconds."):
            self.assertTrue(judge.kmsg_match(line), line)
            self.assertTrue(c_match([line])[0], line)

    def test_every_pattern_caught_by_all_three(self):
        lines = ["[   12.345678] CPU: 1 PID: 77 at x: %s and more" % p
                 for p in judge.load_kmsg_patterns()]
        self.assertEqual(c_match(lines), judge.load_kmsg_patterns())
        self.assertEqual([judge.kmsg_match(l) for l in lines], judge.load_kmsg_patterns())
        self.assertEqual(shell_match(lines), lines)
        self.assertEqual(judge.console_issues("\n".join(lines)), [l.strip() for l in lines])

    def test_benign_lines_caught_by_none(self):
        self.assertEqual(c_match(BENIGN), [None] * len(BENIGN))
        self.assertEqual([judge.kmsg_match(l) for l in BENIGN], [None] * len(BENIGN))
        self.assertEqual(shell_match(BENIGN), [])
        self.assertEqual(judge.console_issues("\n".join(BENIGN)), [])

    def test_mixed_console(self):
        text = BENIGN + ["[    5.0] WARNING: CPU: 0 PID: 1 at mm/gup.c:1 x"] + BENIGN
        self.assertEqual(shell_match(text), [text[len(BENIGN)]])
        self.assertEqual(sum(1 for m in c_match(text) if m), 1)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: test_kmsg_patterns.py KMSG_MATCH [unittest args]")
    KMSG_MATCH = sys.argv.pop(1)
    unittest.main()
