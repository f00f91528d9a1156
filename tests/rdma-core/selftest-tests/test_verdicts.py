# One test per verdict path of guest-rdma-core (tests/rdma-core/selftest runs them).
import os
import signal
import time
import unittest

from args_parser import parser


class Verdicts(unittest.TestCase):
    def test_a_pass(self):
        self.assertEqual(parser.get_config()['dev'], 'fake0')

    def test_b_fail(self):
        self.assertEqual(1, 2, 'one is not two')

    def test_c_error(self):
        raise OSError(95, 'Operation not supported')

    def test_d_skip(self):
        raise unittest.SkipTest('Feature X is not supported')

    def test_e_crash(self):
        os.kill(os.getpid(), signal.SIGSEGV)

    def test_f_hang(self):
        time.sleep(3600)

    def test_g_pass_after_restart(self):
        pass

    @unittest.expectedFailure
    def test_h_expected_failure(self):
        self.fail('known')

    @unittest.expectedFailure
    def test_i_unexpected_success(self):
        pass

    def test_j_subtest(self):
        for i in range(3):
            with self.subTest(i=i):
                self.assertNotEqual(i, 1)


class ClassSkipped(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        raise unittest.SkipTest('Create XRCD is not supported')

    def test_one(self):
        pass

    def test_two(self):
        pass


class ClassBroken(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        raise RuntimeError('device went away')

    def test_one(self):
        pass


class Tail(unittest.TestCase):
    def test_last(self):
        pass
