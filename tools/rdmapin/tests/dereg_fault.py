#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""dereg_fault.py RDMAPIN FAIL_DEREG_SO DEVICE - in a guest with an RDMA device: rdmapin run
under the fail_dereg.c shim (every ibv_dereg_mr reports EBUSY) must report the failed
deregistration of the MR under test: the case fails with verdict ERROR, its JSON says
"dereg_errno":16, "dereg_error":"EBUSY", the reason names ibv_dereg_mr, the exit is 1.
KTAP on stdout; exit 0 pass, 1 fail, 4 skip (no such device)."""
import json
import os
import subprocess
import sys

# relative paths are from the top of the tree (tests/suite-tools runs device tools in /tmp)
TOP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..")
rdmapin, shim = (os.path.join(TOP, a) for a in sys.argv[1:3])
dev = sys.argv[3]
print("KTAP version 1")
if not os.path.exists("/sys/class/infiniband/" + dev):
    print("1..0 # SKIP no RDMA device %s" % dev)
    sys.exit(4)
p = subprocess.run([rdmapin, "--device", dev, "--case", "anon_zero.mprotect_store",
                    "--format", "json", "--timeout", "60"], capture_output=True, text=True,
                   timeout=120, env=dict(os.environ, LD_PRELOAD=os.path.abspath(shim)))
try:
    cases = [c for d in json.loads(p.stdout)["devices"] for c in d["cases"]]
except (ValueError, KeyError) as e:
    cases = []
    print("# no JSON document from rdmapin (exit %d): %s" % (p.returncode, e))
c = cases[0] if cases else {}
checks = [
    ("exit_1", p.returncode == 1, "exit %d" % p.returncode),
    ("case_fails_with_error", (c.get("status"), c.get("verdict")) == ("fail", "ERROR"),
     "%s %s" % (c.get("status"), c.get("verdict"))),
    ("dereg_errno_reported", (c.get("dereg_errno"), c.get("dereg_error")) == (16, "EBUSY"),
     "dereg_errno %s dereg_error %r" % (c.get("dereg_errno"), c.get("dereg_error"))),
    ("reason_names_ibv_dereg_mr", "ibv_dereg_mr" in c.get("reason", ""), c.get("reason", "")),
]
print("1..%d" % len(checks))
failed = 0
for i, (name, ok, detail) in enumerate(checks, 1):
    failed += not ok
    print("%sok %d %s%s" % ("" if ok else "not ", i, name, "" if ok else " # " + detail))
if failed:
    sys.stdout.write("".join("# " + l + "\n" for l in p.stderr.splitlines()[-5:]))
print("%d passed, %d failed" % (len(checks) - failed, failed))
sys.exit(1 if failed else 0)
