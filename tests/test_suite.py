# SPDX-License-Identifier: GPL-2.0
"""Host unit tests of the suite's harness (tests/judge.py, tests/run-suite): canned JSON
documents through every verdict path of every profile. No RDMA, no QEMU.

Run: python3 -m unittest -v test_suite   (in tests/), or ctest (suite-judge).
"""
import importlib.machinery
import json
import importlib.util
import os
import unittest

import judge
import results

# the smallest valid document: rdmapin on a machine without RDMA devices
EMPTY_RDMAPIN = {"tool": "rdmapin", "version": 2, "kernel": "6.1", "pages": 4,
                 "skip_reason": "no RDMA device", "notes": [], "devices": [],
                 "totals": {"pass": 0, "fail": 0, "skip": 0}}

HERE = os.path.dirname(os.path.abspath(__file__))

EXP = """
[kernels]
k-fixed   fixed
k-forced  forced-write
k-broken  broken
k-rxe     fixed  rxe0

[forced-write]
sweep    *  {anon_shared,memfd}.r.RR  REFUSED  forced write on a shared mapping
rdmapin  *  anon_zero.soft_dirty      *        the forced write dirties pages

[broken]
rdmapin  *  anon_zero.mprotect_store  STALE  zeropage pinned
rdmapin  *  tmpfs_private.*           STALE  page cache pinned
"""


def case(name, status="pass", verdict="COHERENT", reason="", kmsg=0):
    return {"name": name, "status": status, "verdict": verdict, "reason": reason,
            "kmsg_issues": kmsg}


def doc(tool, per_dev):
    return {"tool": tool, "devices": [{"device": d, "status": "pass", "cases": cs}
                                      for d, cs in per_dev.items()]}


def sweep_ok(devs=("rxe0", "siw0")):
    return doc("ibv-reg-sweep", {d: [case("anon_shared.r.RR", verdict="REGISTERED"),
                                     case("memfd.r.RR", verdict="REGISTERED"),
                                     case("anon_private.r.LW", verdict="REFUSED")]
                                 for d in devs})


def rdmapin_ok(devs=("rxe0", "siw0")):
    return doc("rdmapin", {d: [case("anon_zero.mprotect_store"), case("anon_zero.soft_dirty"),
                               case("tmpfs_private.mprotect_store"),
                               case("tmpfs_private.fork_store")] for d in devs})


def set_case(d, dev, name, **kw):
    for dv in d["devices"]:
        if dv["device"] == dev:
            for c in dv["cases"]:
                if c["name"] == name:
                    c.update(kw)
                    return d
    raise KeyError(name)


class JudgeTest(unittest.TestCase):
    def setUp(self):
        self.exp = judge.parse_expectations(EXP)

    def run_judge(self, kernel, rdmapin, sweep, **kw):
        profile = self.exp.profile_of(kernel)
        return judge.judge(kernel, profile, self.exp, {"rdmapin": rdmapin, "sweep": sweep}, **kw)

    # -- fixed --------------------------------------------------------------------------
    def test_fixed_all_pass(self):
        r = self.run_judge("k-fixed", rdmapin_ok(), sweep_ok(), console_issues=[])
        self.assertTrue(r.ok, r.lines)
        self.assertEqual(r.failed, 0)
        self.assertEqual(r.passed, 2 * 7 + 2)  # cases + guest-kernel-log + profile
        self.assertIn("ok 1 rxe0", r.lines)
        self.assertIn("ok 2 siw0", r.lines)

    def test_fixed_failure_is_a_moved_row(self):
        rd = set_case(rdmapin_ok(), "siw0", "anon_zero.mprotect_store", status="fail",
                      verdict="STALE", reason="remote read differs")
        r = self.run_judge("k-fixed", rd, sweep_ok())
        self.assertFalse(r.ok)
        self.assertIn("not ok 2 siw0", r.lines)
        self.assertTrue(any("siw0 rdmapin.anon_zero.mprotect_store: unexpected failure" in m
                            for m in r.moved), r.moved)
        self.assertIn("not ok 1 rdmapin.anon_zero.mprotect_store", "\n".join(r.lines))

    def test_fixed_skip_with_reason(self):
        sw = set_case(sweep_ok(), "rxe0", "memfd.r.RR", status="skip", reason="no memfd")
        r = self.run_judge("k-fixed", rdmapin_ok(), sw)
        self.assertTrue(r.ok)
        self.assertEqual(r.skipped, 1)
        self.assertIn("    ok 6 sweep.memfd.r.RR # SKIP no memfd", r.lines)

    def test_absent_device_is_skipped_with_the_guest_reason(self):
        r = self.run_judge("k-fixed", rdmapin_ok(("rxe0",)), sweep_ok(("rxe0",)),
                           missing="siw0: the kernel has no siw (neither module nor built in)")
        self.assertTrue(r.ok)
        self.assertIn("ok 2 siw0 # SKIP siw0: the kernel has no siw (neither module nor built in)",
                      r.lines)

    def test_device_the_kernel_must_have_missing_fails(self):
        # the judge, not the tool, knows that k-fixed has siw0: a guest without it fails
        r = self.run_judge("k-fixed", rdmapin_ok(("rxe0",)), sweep_ok(("rxe0",)),
                           missing="siw0: modprobe siw failed", guest_devices=["rxe0"])
        self.assertFalse(r.ok)
        self.assertIn("# siw0 must exist on k-fixed (tests/expectations [kernels]), but the "
                      "guest has none: siw0: modprobe siw failed", r.lines)
        self.assertIn("not ok 2 siw0", r.lines)

    def test_device_the_kernel_need_not_have_is_a_skip(self):
        r = self.run_judge("k-rxe", rdmapin_ok(("rxe0",)), sweep_ok(("rxe0",)),
                           missing="siw0: the kernel has no siw", guest_devices=["rxe0"])
        self.assertTrue(r.ok, r.lines)
        self.assertIn("ok 2 siw0 # SKIP siw0: the kernel has no siw", r.lines)
        self.assertEqual(self.exp.devices_of("k-rxe"), ("rxe0",))
        self.assertEqual(self.exp.devices_of("k-fixed"), judge.DEVICES)

    def test_tools_report_only_devices_they_ran(self):
        # rdmapin used to invent a "siw" device from RDMAPIN_GUEST_MISSING; the judge no longer
        # files such a pseudo-device under siw0
        rd = rdmapin_ok(("rxe0",))
        rd["devices"].append({"device": "siw", "status": "skip", "skip_reason": "no siw",
                              "cases": []})
        r = self.run_judge("k-rxe", rd, sweep_ok(("rxe0",)), guest_devices=["rxe0"])
        self.assertIn("ok 2 siw0 # SKIP device siw0 not present in the guest", r.lines)

    def test_kernels_line_takes_known_devices_only(self):
        with self.assertRaises(judge.ExpectationsError):
            judge.parse_expectations("[kernels]\nk fixed rxe1\n")

    def test_missing_document_fails(self):
        r = judge.judge("k-fixed", "fixed", self.exp,
                        {"rdmapin": None, "rdmapin_error": "exit 139", "sweep": sweep_ok()})
        self.assertFalse(r.ok)
        self.assertIn("# rdmapin produced no result: exit 139", r.lines)

    def test_guest_error_fails(self):
        r = self.run_judge("k-fixed", rdmapin_ok(), sweep_ok(), guest_error="ci/vm-run: timed out")
        self.assertFalse(r.ok)
        self.assertIn("# ci/vm-run: timed out", r.lines)
        r = judge.judge("k-fixed", "fixed", self.exp,
                        {"rdmapin": None, "rdmapin_error": "guest died", "sweep": None,
                         "sweep_error": "guest died"}, guest_error="ci/vm-run: panic")
        self.assertIn("ok 1 rxe0 # SKIP no result from the guest for rxe0", r.lines)
        self.assertEqual(r.failed, 3)

    def test_console_issue_fails(self):
        r = self.run_judge("k-fixed", rdmapin_ok(), sweep_ok(),
                           console_issues=["WARNING: CPU: 1 PID: 9 at mm/gup.c:1 x"])
        self.assertFalse(r.ok)
        self.assertTrue(any(l.startswith("not ok") and "guest-kernel-log" in l for l in r.lines))

    def test_console_issues_only_after_marker(self):
        text = "WARNING: boot noise\nrdmapin-suite: start\nok\n[ 3.1] BUG: KASAN: x\n"
        self.assertEqual(judge.console_issues(text, after="rdmapin-suite: start"),
                         ["[ 3.1] BUG: KASAN: x"])
        self.assertEqual(len(judge.console_issues(text)), 2)

    # -- forced-write -------------------------------------------------------------------
    def forced_docs(self):
        sw = sweep_ok()
        rd = rdmapin_ok()
        for dev in ("rxe0", "siw0"):
            set_case(sw, dev, "anon_shared.r.RR", status="fail", verdict="REFUSED")
            set_case(sw, dev, "memfd.r.RR", status="fail", verdict="REFUSED")
            set_case(rd, dev, "anon_zero.soft_dirty", status="fail", verdict="COHERENT",
                     reason="rule 3: soft-dirty")
        return rd, sw

    def test_forced_write_expected_failures(self):
        rd, sw = self.forced_docs()
        r = self.run_judge("k-forced", rd, sw)
        self.assertTrue(r.ok, r.moved)
        self.assertEqual(r.xfailed, 6)
        self.assertIn("    ok 5 sweep.anon_shared.r.RR # XFAIL REFUSED: forced write on a shared mapping",
                      r.lines)
        self.assertEqual(r.moved, [])

    def test_forced_write_xfail_that_passes_is_a_mismatch(self):
        rd, sw = self.forced_docs()
        set_case(sw, "siw0", "memfd.r.RR", status="pass", verdict="REGISTERED")
        r = self.run_judge("k-forced", rd, sw)
        self.assertFalse(r.ok)
        self.assertEqual(len(r.moved), 1, r.moved)
        self.assertIn("siw0 sweep.memfd.r.RR: expected failure now passes", r.moved[0])
        self.assertIn("not ok", [l for l in r.lines if l.startswith("not ok")][0])

    def test_forced_write_unexpected_failure_is_a_mismatch(self):
        rd, sw = self.forced_docs()
        set_case(sw, "rxe0", "anon_private.r.LW", status="fail", verdict="REGISTERED")
        r = self.run_judge("k-forced", rd, sw)
        self.assertFalse(r.ok)
        self.assertEqual(r.moved, ["rxe0 sweep.anon_private.r.LW: unexpected failure "
                                   "(REGISTERED: )"])

    def test_forced_write_wrong_verdict_is_a_mismatch(self):
        rd, sw = self.forced_docs()
        set_case(sw, "rxe0", "memfd.r.RR", verdict="ERROR", reason="worker killed")
        r = self.run_judge("k-forced", rd, sw)
        self.assertFalse(r.ok)
        self.assertIn("expected failure with verdict REFUSED, got ERROR", r.moved[0])

    def test_forced_write_kmsg_issue_is_never_expected(self):
        rd, sw = self.forced_docs()
        set_case(sw, "rxe0", "memfd.r.RR", kmsg_issues=1, reason="new kernel log issue: WARNING: x")
        r = self.run_judge("k-forced", rd, sw)
        self.assertFalse(r.ok)
        self.assertIn("new kernel log problem", r.moved[0])

    def test_forced_write_entry_matching_nothing_is_a_mismatch(self):
        rd, sw = self.forced_docs()
        for dv in rd["devices"]:
            dv["cases"] = [c for c in dv["cases"] if c["name"] != "anon_zero.soft_dirty"]
        r = self.run_judge("k-forced", rd, sw)
        self.assertFalse(r.ok)
        self.assertEqual(len(r.moved), 2)
        self.assertIn("rdmapin.anon_zero.soft_dirty: expected failure matched no case", r.moved[0])

    # -- broken (negative control) ------------------------------------------------------
    def test_forced_write_tool_not_run_is_not_a_mismatch(self):
        # run-suite --tools rdmapin: the sweep's expected failures must not count as moved
        rd, _ = self.forced_docs()
        r = self.run_judge("k-forced", rd, {"devices": [], "not_run": True})
        self.assertEqual(r.moved, [], r.moved)
        self.assertTrue(r.ok, r.lines)

    def test_only_device_judges_that_device(self):
        # run-suite --device siw0: rxe0 is not judged (neither passed nor skipped)
        r = self.run_judge("k-fixed", rdmapin_ok(("siw0",)), sweep_ok(("siw0",)),
                           only_device="siw0")
        self.assertTrue(r.ok, r.lines)
        self.assertFalse(any("rxe0" in l for l in r.lines), r.lines)
        self.assertTrue(any(l.startswith("ok") and "siw0" in l for l in r.lines), r.lines)

    def broken_docs(self, devs=("rxe0", "siw0")):
        rd = rdmapin_ok(devs)
        for dev in devs:
            for n in ("anon_zero.mprotect_store", "tmpfs_private.mprotect_store",
                      "tmpfs_private.fork_store"):
                set_case(rd, dev, n, status="fail", verdict="STALE", reason="stale")
        return rd, sweep_ok(devs)

    def test_broken_caught(self):
        rd, sw = self.broken_docs()
        r = self.run_judge("k-broken", rd, sw)
        self.assertTrue(r.ok, (r.moved, r.not_caught))
        line = judge.caught_line(r)
        self.assertEqual(line, "# negative control caught: STALE on rxe0: "
                         "anon_zero.mprotect_store, tmpfs_private.mprotect_store, "
                         "tmpfs_private.fork_store; STALE on siw0: anon_zero.mprotect_store, "
                         "tmpfs_private.mprotect_store, tmpfs_private.fork_store")
        self.assertTrue(any(l == "ok 3 negative-control" for l in r.lines), r.lines)

    def test_broken_not_caught_when_coherent(self):
        r = self.run_judge("k-broken", rdmapin_ok(), sweep_ok())
        self.assertFalse(r.ok)
        self.assertIsNone(judge.caught_line(r))
        self.assertTrue(any("negative control NOT caught" in l for l in r.lines))
        self.assertTrue(any("expected failure now passes" in m for m in r.moved))

    def test_broken_not_caught_on_one_device(self):
        rd, sw = self.broken_docs()
        set_case(rd, "siw0", "anon_zero.mprotect_store", status="pass", verdict="COHERENT")
        r = self.run_judge("k-broken", rd, sw)
        self.assertFalse(r.ok)
        self.assertIsNone(judge.caught_line(r))
        self.assertTrue(any("anon_zero.mprotect_store STALE on siw0: no case was STALE" in x
                            for x in r.not_caught), r.not_caught)

    def test_broken_other_failure_verdict_is_not_caught(self):
        rd, sw = self.broken_docs(("rxe0",))
        set_case(rd, "rxe0", "anon_zero.mprotect_store", verdict="ERROR", reason="timeout")
        r = self.run_judge("k-broken", rd, sw)
        self.assertFalse(r.ok)
        self.assertIsNone(judge.caught_line(r))

    def test_broken_missing_case_is_not_caught(self):
        rd, sw = self.broken_docs(("rxe0",))
        rd["devices"][0]["cases"] = [c for c in rd["devices"][0]["cases"]
                                     if not c["name"].startswith("tmpfs")]
        r = self.run_judge("k-broken", rd, sw)
        self.assertFalse(r.ok)
        self.assertTrue(any("no case matches tmpfs_private.*" in x for x in r.not_caught))

    def test_broken_skipped_case_is_not_caught(self):
        rd, sw = self.broken_docs(("rxe0",))
        set_case(rd, "rxe0", "anon_zero.mprotect_store", status="skip", reason="no uffd")
        r = self.run_judge("k-broken", rd, sw)
        self.assertFalse(r.ok)


class ExpectationsTest(unittest.TestCase):
    def bad(self, text, msg):
        with self.assertRaises(judge.ExpectationsError) as cm:
            judge.parse_expectations(text, "x")
        self.assertIn(msg, str(cm.exception))

    def test_errors(self):
        self.bad("[kernels]\nk nope\n", "x:2: want 'KERNEL PROFILE [DEVICE...]'")
        self.bad("[forced-write]\nsweep * a.b REFUSED\n", "reason is mandatory")
        self.bad("[broken]\nrdmapin * a REFUSED why\n", "must have verdict STALE")
        self.bad("[fixed]\nrdmapin * a * why\n", "takes no expected failures")
        self.bad("[other]\n", "unknown section")
        self.bad("k fixed\n", "before the first [section]")
        self.bad("[forced-write]\nperf * a * why\n", "tool is one of rdmapin, sweep")
        self.bad("[kernels]\nk fixed\n[fixed k]\nrdmapin * a FAIL why\n", "takes no expected")
        self.bad("[kernels]\nk fixed\n[k nokernel]\n", "nokernel is neither a profile nor")

    def test_unknown_kernel(self):
        with self.assertRaises(judge.ExpectationsError):
            judge.parse_expectations(EXP).profile_of("k-unknown")

    def test_braces(self):
        self.assertEqual(judge.expand_braces("{a,b}.r.{0,RR}"), ["a.r.0", "a.r.RR", "b.r.0", "b.r.RR"])
        self.assertEqual(judge.expand_braces("plain*"), ["plain*"])

    def test_the_real_file(self):
        with open(os.path.join(HERE, "expectations")) as f:
            exp = judge.parse_expectations(f.read())
        for k in ("debian-6.1", "base", "patched", "debian-6.12", "debug", "drivers-only"):
            self.assertIn(k, exp.kernels)
        self.assertEqual(exp.kernels["drivers-only"], "broken")
        self.assertTrue(exp.entries["broken"])
        self.assertTrue(all(e.reason for p in exp.entries.values() for e in p))


KTAP_COW = """TAP version 13
# [INFO] detected THP size: 16 KiB
1..4
# [RUN] R/O longterm GUP pin ... with shared zeropage
ok 1 Longterm R/O pin is reliable
# [RUN] R/O longterm GUP pin ... with memfd
# Longterm R/O pin is not reliable
not ok 2 Longterm R/O pin is not reliable
# [RUN] Basic COW after fork() ... with swapped out base page
ok 3 # SKIP MADV_PAGEOUT did not work, is swap enabled?
# [RUN] R/O longterm GUP pin ... with memfd
ok 4 Longterm R/O pin is reliable
# Totals: pass:2 fail:1 xfail:0 xpass:0 skip:1 error:0
"""

EXP_KTAP = """
[kernels]
k-fixed   fixed
k-forced  forced-write
k-broken  broken
k-rxe     fixed  rxe0
k-own     fixed

[forced-write broken]
mm-cow  kernel  R_O_longterm_GUP_pin_..._with_memfd  FAIL  6.1 does not unshare page cache

[broken]
rdmapin  *  anon_zero.mprotect_store  STALE  zeropage pinned

[k-own]
ro_pin  *  shmem_thp  FAIL  this kernel's own bug

[k-fixed k-forced k-broken]
mm-cow  kernel  R_O_longterm_*  NOSKIP  our kernels have CONFIG_GUP_TEST
v4l2    kernel  *               NOSKIP  our kernels have vivid built in
"""

TOOLS = ("rdmapin", "mm-cow", "ro_pin", "v4l2")


class KtapTest(unittest.TestCase):
    def setUp(self):
        self.exp = judge.parse_expectations(EXP_KTAP, tools=TOOLS)

    def cow(self, text=KTAP_COW, rc=1):
        return {"devices": [judge.ktap_doc("mm-cow", "kernel", text, rc)]}

    def v4l2(self, text="KTAP version 1\n1..1\nok 1 output.anon_ro_private\n", rc=0):
        return {"devices": [judge.ktap_doc("v4l2", "kernel", text, rc)]}

    def docs(self, **kw):
        d = {"rdmapin": rdmapin_ok(), "mm-cow": self.cow(), "ro_pin": {"devices": []},
             "v4l2": self.v4l2()}
        d.update(kw)
        return d

    def run_judge(self, kernel, docs):
        return judge.judge(kernel, self.exp.profile_of(kernel), self.exp, docs, tools=TOOLS)

    def test_names_and_verdicts(self):
        cases = self.cow()["devices"][0]["cases"]
        self.assertEqual([c["name"] for c in cases], [
            "R_O_longterm_GUP_pin_..._with_shared_zeropage", "R_O_longterm_GUP_pin_..._with_memfd",
            "Basic_COW_after_fork_..._with_swapped_out_base_page",
            "R_O_longterm_GUP_pin_..._with_memfd#2"])
        self.assertEqual([c["status"] for c in cases], ["pass", "fail", "skip", "pass"])
        self.assertEqual(cases[1]["reason"], "Longterm R/O pin is not reliable")
        self.assertEqual(cases[2]["reason"], "MADV_PAGEOUT did not work, is swap enabled?")
        plain = judge.ktap_doc("t", "rxe0", "KTAP version 1\n1..2\nok 1 a b\nnot ok 2 c/d\n", 1)
        self.assertEqual([c["name"] for c in plain["cases"]], ["a_b", "c_d"])
        d = judge.ktap_doc("ro_pin", "rxe0", "1..3\n# thp_split_pmd grew by 9\nnot ok 1 x # TIMEOUT\n"
                           "not ok 2 y # reg_mr: Bad address\nnot ok 3 z # REFUSED reg_mr: EFAULT\n", 1)
        self.assertEqual([(c["verdict"], c["reason"]) for c in d["cases"]],
                         [("TIMEOUT", "thp_split_pmd grew by 9"), ("FAIL", "reg_mr: Bad address"),
                          ("REFUSED", "reg_mr: EFAULT")])

    def test_whole_skip_crash_and_short_plan(self):
        d = judge.ktap_doc("v4l2", "kernel", "KTAP version 1\n1..0 # SKIP no vivid device\n", 4)
        self.assertEqual((d["status"], d["skip_reason"]), ("skip", "no vivid device"))
        d = judge.ktap_doc("t", "kernel", "KTAP version 1\n1..3\nok 1 a\n", 124)
        self.assertEqual(d["status"], "fail")
        self.assertIn("killed at its time limit after 1 result", d["skip_reason"])
        d = judge.ktap_doc("t", "kernel", "KTAP version 1\n1..3\nok 1 a\n", 0)
        self.assertIn("planned 3 tests, reported 1", d["skip_reason"])
        d = judge.ktap_doc("t", "kernel", "garbage\n", 0)
        self.assertIn("no KTAP result line", d["skip_reason"])

    def test_fixed_kernel_fails_the_unreliable_pin(self):
        r = self.run_judge("k-fixed", self.docs())
        self.assertFalse(r.ok)
        self.assertIn("not ok 3 kernel", r.lines)
        self.assertTrue(any("mm-cow.R_O_longterm_GUP_pin_..._with_memfd: unexpected failure" in m
                            for m in r.moved), r.moved)

    def test_section_for_two_profiles(self):
        r = self.run_judge("k-forced", self.docs())
        self.assertTrue(r.ok, r.moved)
        self.assertEqual(r.xfailed, 1)
        rd = rdmapin_ok()
        for dev in ("rxe0", "siw0"):
            set_case(rd, dev, "anon_zero.mprotect_store", status="fail", verdict="STALE")
        r = self.run_judge("k-broken", self.docs(rdmapin=rd))
        self.assertTrue(r.ok, (r.moved, r.not_caught))
        # the FAIL entry of [forced-write broken] is an expected failure, not a catch
        self.assertEqual(sorted(r.caught), ["rxe0", "siw0"])

    def test_kernel_section(self):
        docs = self.docs(mm_cow=None)
        docs["mm-cow"] = self.cow(KTAP_COW.replace("not ok 2", "ok 2"), 0)
        docs["ro_pin"] = {"devices": [judge.ktap_doc("ro_pin", "rxe0",
                                                     "KTAP version 1\n1..1\nnot ok 1 shmem_thp\n", 1)]}
        r = judge.judge("k-own", "fixed", self.exp, docs, tools=TOOLS)
        self.assertTrue(r.ok, r.moved)
        self.assertEqual(r.xfailed, 1)
        r = self.run_judge("k-fixed", docs)
        self.assertFalse(r.ok)

    def test_noskip_case_and_tool(self):
        docs = self.docs(**{"mm-cow": self.cow(KTAP_COW.replace(
            "ok 1 Longterm R/O pin is reliable", "ok 1 # SKIP gup_test not available"))})
        r = self.run_judge("k-forced", docs)
        self.assertFalse(r.ok)
        self.assertTrue(any("skipped, but must run here" in m for m in r.moved), r.moved)
        docs = self.docs(v4l2=self.v4l2("KTAP version 1\n1..0 # SKIP no vivid device\n", 4))
        r = self.run_judge("k-forced", docs)
        self.assertFalse(r.ok)
        self.assertTrue(any("kernel v4l2: skipped, but must run here" in m for m in r.moved),
                        r.moved)
        # a NOSKIP entry that no case of its tool matches is a mismatch (a renamed test)
        docs = self.docs(**{"mm-cow": self.cow(KTAP_COW.replace("R/O longterm", "R/W longterm"))})
        r = self.run_judge("k-forced", docs)
        self.assertTrue(any("NOSKIP entry matched no case" in m for m in r.moved), r.moved)
        # an absent program (not built) fails the run
        r = judge.judge("k-forced", "forced-write", self.exp,
                        self.docs(v4l2=None, v4l2_error="no program build/tests/v4l2/x"),
                        tools=TOOLS)
        self.assertIn("# v4l2 produced no result: no program build/tests/v4l2/x", r.lines)

    def test_tool_crash_fails(self):
        docs = self.docs(v4l2=self.v4l2("KTAP version 1\n1..2\nok 1 a\n", 139))
        r = self.run_judge("k-forced", docs)
        self.assertFalse(r.ok)
        self.assertIn("    # v4l2 on kernel: exit 139 after 1 result", r.lines)

    def test_the_real_tools_file(self):
        tools = judge.load_tools()
        self.assertEqual([t.name for t in tools][:2], ["rdmapin", "sweep"])
        self.assertTrue(all(t.limit > 0 for t in tools))


class GuestOutputTest(unittest.TestCase):
    def setUp(self):
        loader = importlib.machinery.SourceFileLoader("run_suite", os.path.join(HERE, "run-suite"))
        spec = importlib.util.spec_from_loader("run_suite", loader)
        self.rs = importlib.util.module_from_spec(spec)
        loader.exec_module(self.rs)

    def test_parse(self):
        out = ("noise\n@@suite devices=rxe0\n@@suite missing=siw0: none\n@@suite begin rdmapin\n"
               + json.dumps(EMPTY_RDMAPIN) + "\n\n@@suite end rdmapin rc=0 secs=3.25\n"
               "@@suite absent v4l2 build/tests/v4l2/vivid-userptr\n"
               "@@suite begin ro_pin@rxe0\nKTAP version 1\n1..1\nok 1 a\n"
               "@@suite end ro_pin@rxe0 rc=0 secs=1.00\n"
               '@@suite begin sweep\n{"dev')
        docs, head = self.rs.parse_guest_output(out)
        self.assertEqual(head, {"devices": "rxe0", "missing": "siw0: none",
                                "absent": {"v4l2": "build/tests/v4l2/vivid-userptr"}})
        self.assertEqual(docs["ro_pin@rxe0"][1], 0)
        tools = {t.name: t for t in judge.load_tools()}
        d, err = self.rs.ktap_tool_doc(tools["ro_pin"], docs)
        self.assertEqual(d["devices"][0]["device"], "rxe0")
        self.assertEqual(d["devices"][0]["cases"][0]["name"], "a")
        d, err = self.rs.ktap_tool_doc(tools["mm-cow"], docs)
        self.assertIsNone(d)
        self.assertIn("did not run", err)
        d, err = self.rs.ktap_tool_doc(tools["pyverbs"], docs)
        self.assertEqual(d, {"devices": []})
        self.assertEqual(docs["rdmapin"][1:], (0, 3.25))
        d, err = self.rs.load_doc("rdmapin", docs["rdmapin"])
        self.assertEqual(d, EMPTY_RDMAPIN)
        d, err = self.rs.load_doc("sweep", docs["sweep"])
        self.assertIsNone(d)
        self.assertEqual(err, "the guest ended while it ran")
        d, err = self.rs.load_doc("sweep", None)
        self.assertIn("did not run", err)

    def test_document_against_the_schema(self):
        try:
            results.validator()
        except results.NoValidator as e:
            self.skipTest(str(e))
        bad = dict(EMPTY_RDMAPIN, version=1)
        d, err = self.rs.load_doc("rdmapin", (json.dumps(bad), 4, 1.0))
        self.assertIsNone(d)
        self.assertIn("not valid against Documentation/results.schema.json: version: 2 was "
                      "expected", err)

    def test_crash_exit(self):
        d, err = self.rs.load_doc("rdmapin", ('{"a":1}', 139, 1.0))
        self.assertIsNone(d)
        self.assertEqual(err, "exit 139")


if __name__ == "__main__":
    unittest.main()
