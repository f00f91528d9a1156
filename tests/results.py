#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""tests/results.py - check rdmapin / ibv-reg-sweep JSON documents against the one schema,
Documentation/results.schema.json (with python3-jsonschema), and what a schema cannot say:
totals match the cases, each device's status matches its cases, an errno name matches its
number, a failed or skipped case says why, case names are unique per device.

usage: tests/results.py FILE...                      check documents ('-': stdin)
       tests/results.py --exit 0,1,4 -- CMD [ARG...]  run CMD: its stdout must be a valid
                                                      document and its exit one of those
       tests/results.py --self-test FILE             a valid FILE must pass and each known
                                                      kind of drift (expect for expected,
                                                      strerror text for an errno name, ...)
                                                      must be caught
Prints one line per document ("results: FILE: ok, N cases" or the problems); exit 0 when all
are valid, 1 otherwise, 2 on bad usage or without python3-jsonschema.

tests/run-suite uses problems() on every JSON tool's document before judging it.
"""
import copy
import errno
import json
import os
import subprocess
import sys

SCHEMA = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                      "Documentation", "results.schema.json")


class NoValidator(Exception):
    pass


_validator = None


def validator():
    global _validator
    if _validator is None:
        try:
            import jsonschema
        except ImportError:
            raise NoValidator("python3-jsonschema is not installed (ci/setup installs it)")
        with open(SCHEMA) as f:
            schema = json.load(f)
        _validator = jsonschema.Draft202012Validator(schema)
    return _validator


def _errname_ok(num, name):
    if num <= 0:
        return name == ""
    if name.startswith("errno "):
        return name == "errno %d" % num
    return getattr(errno, name, None) == num


def problems(doc):
    """Every way doc breaks the schema or the rules beside it, as one line each."""
    out = []
    for e in sorted(validator().iter_errors(doc), key=lambda e: list(e.absolute_path)):
        where = "/".join(str(p) for p in e.absolute_path) or "(top)"
        out.append("%s: %s" % (where, e.message[:200]))
    if out:
        return out
    counts = {"pass": 0, "fail": 0, "skip": 0}
    for d in doc["devices"]:
        dev = d["device"]
        names = set()
        st = {"pass": 0, "fail": 0, "skip": 0}
        for c in d["cases"]:
            where = "%s/%s" % (dev, c["name"])
            if c["name"] in names:
                out.append("%s: case listed twice" % where)
            names.add(c["name"])
            st[c["status"]] += 1
            for k in ("reg", "dereg", "expected"):
                num, name = c.get(k + "_errno"), c.get(k + "_error")
                if num is not None and not _errname_ok(num, name):
                    out.append("%s: %s_error %r does not name %s_errno %d" % (where, k, name, k, num))
            if c["status"] != "pass" and not c["reason"]:
                out.append("%s: %s without a reason" % (where, c["status"]))
            if doc["tool"] == "rdmapin":
                want = ".".join(x for x in (c["backing"], c["mark"], c["mutation"]) if x)
                if c["name"] != want:
                    out.append("%s: name is not backing[.mark].mutation (%s)" % (where, want))
        want = "fail" if st["fail"] else "pass" if st["pass"] else "skip"
        failed_alone = d["status"] == "fail" and not st["fail"]
        if d["status"] != want and not failed_alone:
            out.append("%s: status %s, but its cases say %s" % (dev, d["status"], want))
        if failed_alone and not d["skip_reason"]:
            out.append("%s: failed without a case failing and without a reason" % dev)
        if d["status"] == "skip" and not d["skip_reason"]:
            out.append("%s: skipped without a reason" % dev)
        for k in counts:
            counts[k] += st[k]
        if not d["cases"] or failed_alone:
            counts[d["status"]] += 1
    if not doc["devices"] and not doc["skip_reason"]:
        out.append("no device and no skip_reason")
    if doc["totals"] != counts:
        out.append("totals %s, but the devices count %s" % (doc["totals"], counts))
    return out


def ncases(doc):
    return sum(len(d.get("cases", [])) for d in doc.get("devices", []))


def check_text(label, text):
    try:
        doc = json.loads(text)
    except ValueError as e:
        print("results: %s: not JSON: %s" % (label, e))
        return False
    p = problems(doc)
    for line in p[:20]:
        print("results: %s: %s" % (label, line))
    if not p:
        print("results: %s: ok, %s, %d device(s), %d cases" % (label, doc["tool"],
                                                                len(doc["devices"]), ncases(doc)))
    return not p


# Each kind of drift the schema exists to stop: (what, how to break a valid document)
def _first_case(doc):
    return next(c for d in doc["devices"] for c in d["cases"])


def _rename(c, old, new):
    c[new] = c.pop(old)


DRIFTS = [
    ("expect instead of expected", lambda d: _rename(_first_case(d), "expected", "expect")),
    ("strerror text as reg_error",
     lambda d: _first_case(d).update(reg_errno=14, reg_error="Bad address")),
    ("reg_error that names another errno",
     lambda d: _first_case(d).update(reg_errno=14, reg_error="EINVAL")),
    ("a member no tool writes", lambda d: _first_case(d).update(surprise=1)),
    ("a missing common member", lambda d: _first_case(d).pop("kmsg_issues")),
    ("the other tool's member",
     lambda d: _first_case(d).update(**({"edge": "plain"} if d["tool"] == "rdmapin"
                                        else {"mutation": "plain"}))),
    ("totals off by one", lambda d: d["totals"].update(fail=d["totals"]["fail"] + 1)),
    ("old schema version", lambda d: d.update(version=1)),
    ("a failed case without a reason",
     lambda d: _first_case(d).update(status="fail", reason="")),
]


def self_test(path):
    with open(path) as f:
        good = json.load(f)
    ok = True
    p = problems(good)
    print("%sok 1 %s is valid%s" % ("not " if p else "", path, " # " + p[0] if p else ""))
    ok &= not p
    for i, (what, breakit) in enumerate(DRIFTS, 2):
        doc = copy.deepcopy(good)
        breakit(doc)
        caught = problems(doc)
        print("%sok %d caught: %s%s" % ("" if caught else "not ", i, what,
                                        " # " + caught[0] if caught else ""))
        ok &= bool(caught)
    print("1..%d" % (len(DRIFTS) + 1))
    return ok


def main(argv):
    try:
        validator()
    except NoValidator as e:
        print("results: %s" % e, file=sys.stderr)
        return 2
    if argv[:1] == ["--self-test"] and len(argv) == 2:
        return 0 if self_test(argv[1]) else 1
    if argv[:1] == ["--exit"] and len(argv) > 3 and argv[2] == "--":
        allowed = {int(x) for x in argv[1].split(",")}
        p = subprocess.run(argv[3:], capture_output=True, text=True, timeout=300)
        label = " ".join(os.path.basename(a) if i == 0 else a for i, a in enumerate(argv[3:]))
        ok = check_text(label, p.stdout)
        if p.returncode not in allowed:
            print("results: %s: exit %d, expected one of %s" % (label, p.returncode,
                                                                 sorted(allowed)))
            ok = False
        if not ok:
            sys.stderr.write(p.stderr[-2000:])
        return 0 if ok else 1
    if not argv or argv[0].startswith("--"):
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    ok = True
    for path in argv:
        text = sys.stdin.read() if path == "-" else open(path).read()
        ok &= check_text(path, text)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
