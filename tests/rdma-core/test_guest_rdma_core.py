# SPDX-License-Identifier: GPL-2.0
"""Host unit tests of tests/rdma-core/guest-rdma-core: every verdict path, no RDMA needed.

The pyverbs half runs a stand-in test directory (selftest-tests/: pass, FAIL, ERROR, skip, a
test that crashes its process, one that hangs, setUpClass skip and error, expected failure,
unexpected success, a failing subtest); the perftest half runs a stand-in perftest
(selftest-bin/fake-perftest) against a fake sysfs device whose GID sits on lo.

    cd tests/rdma-core && python3 -m unittest -v test_guest_rdma_core
"""

import os
import re
import subprocess
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
TOOL = os.path.join(HERE, 'guest-rdma-core')
FAKE_TESTS = os.path.join(HERE, 'selftest-tests')
FAKE_BIN = os.path.join(HERE, 'selftest-bin')
RESULT = re.compile(r'^(ok|not ok) (\d+) (\S+)(?: # (SKIP)(?: (.*))?)?$')


def make_sysfs(root):
    """A fake /sys/class/infiniband with fake0, a RoCE v2 IPv4 GID on lo (127.0.0.1)."""
    dev = os.path.join(root, 'fake0')
    for sub in ('ports/1/gids', 'ports/1/gid_attrs/types', 'ports/1/gid_attrs/ndevs'):
        os.makedirs(os.path.join(dev, sub))
    files = {'node_type': '1: CA',
             'ports/1/gids/0': '0000:0000:0000:0000:0000:ffff:7f00:0001',
             'ports/1/gid_attrs/types/0': 'RoCE v2',
             'ports/1/gid_attrs/ndevs/0': 'lo'}
    for name, text in files.items():
        with open(os.path.join(dev, name), 'w', encoding='utf-8') as f:
            f.write(text + '\n')


class Run:
    def __init__(self, proc):
        self.rc = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr
        self.results = {}
        lines = self.out.splitlines()
        self.plan = None
        for line in lines:
            m = re.match(r'^1\.\.(\d+)', line)
            if m:
                self.plan = int(m.group(1))
            m = RESULT.match(line)
            if m:
                verdict = 'skip' if m.group(4) else ('ok' if m.group(1) == 'ok' else 'fail')
                self.results[m.group(3)] = (verdict, m.group(5))
        self.lines = lines

    def diag_before(self, name):
        """The diagnostic lines printed right before NAME's result line."""
        out = []
        for line in self.lines:
            m = RESULT.match(line)
            if m and m.group(3) == name:
                return '\n'.join(out)
            if m:
                out = []
            elif line.startswith('# '):
                out.append(line[2:])
        raise KeyError(name)


class GuestRdmaCoreTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        make_sysfs(cls.tmp.name)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def run_tool(self, *args, env=None, timeout=120):
        e = dict(os.environ)
        e['RDMAPIN_SYSFS_IB'] = self.tmp.name
        e['PATH'] = FAKE_BIN + ':' + e.get('PATH', '/usr/bin:/bin')
        e.update(env or {})
        proc = subprocess.run([TOOL, *args], capture_output=True, text=True, env=e,
                              timeout=timeout, check=False)
        return Run(proc)

    # --- pyverbs -------------------------------------------------------------------------

    def test_pyverbs_verdicts(self):
        r = self.run_tool('--device', 'fake0', '--only', 'pyverbs', '--tests-dir', FAKE_TESTS,
                          '--test-timeout', '5', '--timeout', '90')
        p = 'pyverbs.test_verdicts.'
        want = {
            p + 'Verdicts.test_a_pass': ('ok', None),
            p + 'Verdicts.test_b_fail': ('fail', None),
            p + 'Verdicts.test_c_error': ('fail', None),
            p + 'Verdicts.test_d_skip': ('skip', 'Feature X is not supported'),
            p + 'Verdicts.test_e_crash': ('fail', None),
            p + 'Verdicts.test_f_hang': ('fail', None),
            p + 'Verdicts.test_g_pass_after_restart': ('ok', None),
            p + 'Verdicts.test_h_expected_failure': ('ok', None),
            p + 'Verdicts.test_i_unexpected_success': ('fail', None),
            p + 'Verdicts.test_j_subtest': ('fail', None),
            p + 'ClassSkipped.test_one': ('skip', 'Create XRCD is not supported'),
            p + 'ClassSkipped.test_two': ('skip', 'Create XRCD is not supported'),
            p + 'ClassBroken.test_one': ('fail', None),
            p + 'Tail.test_last': ('ok', None),
        }
        self.assertEqual(r.results, want, r.out + r.err)
        self.assertEqual(r.plan, len(want))
        self.assertEqual(r.rc, 1)
        self.assertIn('AssertionError: 1 != 2 : one is not two', r.diag_before(p + 'Verdicts.test_b_fail'))
        self.assertIn('OSError: [Errno 95]', r.diag_before(p + 'Verdicts.test_c_error'))
        self.assertIn('killed by signal 11', r.diag_before(p + 'Verdicts.test_e_crash'))
        self.assertIn('hung: no result after 5', r.diag_before(p + 'Verdicts.test_f_hang'))
        self.assertIn('(i=1)', r.diag_before(p + 'Verdicts.test_j_subtest'))
        self.assertIn('device went away', r.diag_before(p + 'ClassBroken.test_one'))
        self.assertRegex(r.out, r'\n# rdma-core fake0: 4 passed, 7 failed, 3 skipped\n')

    def test_pyverbs_overall_timeout(self):
        # The hang eats the whole --timeout: the hung test and every later one fail, promptly.
        r = self.run_tool('--device', 'fake0', '--only', 'pyverbs', '--tests-dir', FAKE_TESTS,
                          '--test-timeout', '100', '--timeout', '12', timeout=60)
        p = 'pyverbs.test_verdicts.Verdicts.'
        self.assertEqual(r.results[p + 'test_f_hang'][0], 'fail')
        self.assertEqual(r.results[p + 'test_g_pass_after_restart'][0], 'fail')
        self.assertIn('not run', r.diag_before(p + 'test_g_pass_after_restart'))
        self.assertEqual(len(r.results), r.plan)
        self.assertEqual(r.rc, 1)

    def test_pyverbs_load_error(self):
        with tempfile.TemporaryDirectory() as d:
            for f in ('__init__.py', 'args_parser.py', 'run_tests.py'):
                with open(os.path.join(FAKE_TESTS, f), encoding='utf-8') as src, \
                        open(os.path.join(d, f), 'w', encoding='utf-8') as dst:
                    dst.write(src.read())
            with open(os.path.join(d, 'test_x.py'), 'w', encoding='utf-8') as f:
                f.write('import pyverbs.no_such_module\n')
            r = self.run_tool('--device', 'fake0', '--only', 'pyverbs', '--tests-dir', d)
        self.assertEqual(r.results, {'pyverbs': ('fail', None)}, r.out)
        self.assertIn("No module named 'pyverbs.no_such_module'", r.diag_before('pyverbs'))
        self.assertEqual(r.rc, 1)

    # --- perftest ------------------------------------------------------------------------

    def perftest(self, mode, env=None):
        return self.run_tool('--device', 'fake0', '--only', 'perftest', '--tool-timeout', '10',
                             '--iters', '7', '--size', '4096',
                             env={'FAKE_PERFTEST': mode, **(env or {})})

    def test_perftest_clock_calibration_retried(self):
        with tempfile.TemporaryDirectory() as d:
            r = self.perftest('clock-fail-once', env={'FAKE_PERFTEST_STATE': d})
        self.assertEqual({v for v in r.results.values()}, {('ok', None)}, r.out + r.err)
        diag = r.diag_before('perftest.ib_write_bw')
        self.assertIn('first run retried, perftest could not calibrate its CPU clock', diag)
        self.assertIn('BW average 12.34 MB/sec', diag)
        self.assertEqual(r.rc, 0)

    def test_perftest_ok(self):
        r = self.perftest('ok')
        self.assertEqual(r.results, {f'perftest.{t}': ('ok', None) for t in
                                     ('ib_read_bw', 'ib_write_bw', 'ib_send_bw')}, r.out + r.err)
        self.assertIn('4096 bytes x 7 iterations: BW average 12.34 MB/sec, peak 20.00 MB/sec',
                      r.diag_before('perftest.ib_read_bw'))
        self.assertIn('-x 0', r.diag_before('perftest.ib_read_bw'))
        self.assertEqual(r.rc, 0)

    def test_perftest_failures(self):
        for mode, why in (('zero-bw', 'average bandwidth 0.0'),
                          ('client-fail', 'client exit 1'),
                          ('server-hang', 'server'),
                          ('no-table', 'no bandwidth line'),
                          ('clock-fail', 'could not calibrate its CPU clock (r^2 < 0.9)')):
            with self.subTest(mode=mode):
                r = self.perftest(mode)
                self.assertEqual({v[0] for v in r.results.values()}, {'fail'}, r.out)
                self.assertEqual(len(r.results), 3)
                self.assertIn(why, r.diag_before('perftest.ib_send_bw'))
                if mode == 'server-hang':
                    self.assertRegex(r.diag_before('perftest.ib_send_bw'),
                                     r'when it hung:\nserver pid \d+: S')
                self.assertEqual(r.rc, 1)

    def test_perftest_missing(self):
        # A PATH with the helpers but no perftest: every tool skips with one reason.
        with tempfile.TemporaryDirectory() as d:
            for cmd in ('timeout', 'ip', 'rdma'):
                for where in ('/usr/bin', '/bin', '/usr/sbin', '/sbin'):
                    if os.path.exists(os.path.join(where, cmd)):
                        os.symlink(os.path.join(where, cmd), os.path.join(d, cmd))
                        break
            r = self.run_tool('--device', 'fake0', '--only', 'perftest', env={'PATH': d})
        self.assertEqual(set(r.results.values()), {
            ('skip', 'perftest is not installed (no ib_read_bw, ib_write_bw, ib_send_bw)')},
            r.out + r.err)
        self.assertEqual(len(r.results), 3)
        self.assertEqual(r.rc, 4)

    # --- the rest ------------------------------------------------------------------------

    def test_list(self):
        r = self.run_tool('--device', 'fake0', '--list', '--tests-dir', FAKE_TESTS)
        self.assertEqual(r.rc, 0, r.err)
        names = r.out.split()
        self.assertEqual(len(names), 14 + 3)
        self.assertIn('pyverbs.test_verdicts.Verdicts.test_a_pass', names)
        self.assertEqual(names[-3:], ['perftest.ib_read_bw', 'perftest.ib_write_bw',
                                      'perftest.ib_send_bw'])

    def test_expectations_name_real_tests(self):
        # The suite's expectations (tests/expectations, the one list of known failures) name
        # pyverbs and perftest tests: with the real tests prepared (tests/rdma-core/prepare),
        # every CASE glob of those tools must match a real test name, with the tool prefix.
        import fnmatch
        import sys
        sys.path.insert(0, os.path.join(HERE, '..'))
        import judge
        with open(os.path.join(HERE, '..', 'expectations'), encoding='utf-8') as f:
            exp = judge.parse_expectations(f.read())
        entries = {e.line: e for lst in exp.entries.values() for e in lst
                   if e.tool in ('pyverbs', 'perftest')}
        self.assertTrue(entries, 'tests/expectations lists no pyverbs or perftest entry')
        real = os.path.join(HERE, '..', '..', 'build', 'rdma-core-tests')
        if not os.path.isfile(os.path.join(real, 'run_tests.py')):
            self.skipTest('tests/rdma-core/prepare has not been run')
        r = self.run_tool('--device', 'rxe0', '--list', '--tests-dir', real)
        self.assertEqual(r.rc, 0, r.err)
        names = r.out.split()
        for line, e in sorted(entries.items()):
            self.assertTrue(e.reason)
            self.assertTrue([n for n in names
                             if any(fnmatch.fnmatchcase(n, g) for g in judge.expand_braces(e.case))],
                            'tests/expectations:%d: %s matches no test' % (line, e.case))

    def test_absent_device_skips(self):
        r = self.run_tool('--device', 'siw0', env={
            'RDMAPIN_GUEST_MISSING': 'rxe0: x; siw0: the kernel has no siw (neither module '
                                     'nor built in)'})
        self.assertEqual(r.out, 'KTAP version 1\n1..0 # SKIP siw0: the kernel has no siw '
                                '(neither module nor built in)\n')
        self.assertEqual(r.rc, 4)

    def test_bad_usage(self):
        for args in ((), ('--device', 'fake0', '--timeout', '0'),
                     ('--device', 'fake0', '--only', 'both'),
                     ('--device', 'fake0', '--tests-dir', '/nonexistent')):
            with self.subTest(args=args):
                r = self.run_tool(*args)
                self.assertEqual(r.rc, 2)
                self.assertEqual(r.out, '')
                self.assertEqual(len(r.err.splitlines()), 1, r.err)
                self.assertTrue(r.err.startswith('guest-rdma-core: error: '), r.err)


if __name__ == '__main__':
    unittest.main()
