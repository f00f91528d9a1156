# SPDX-License-Identifier: GPL-2.0
"""judge.py - the regression suite's judging: expectations file, per-profile verdicts, KTAP.

tests/run-suite gets two JSON documents from the guest (rdmapin's coherence matrix and the
ibv-reg-sweep rows, both in the one schema, Documentation/results.schema.json, checked by
tests/results.py) and judges every case against the kernel's profile in tests/expectations:

  fixed         every case passes (skips with a reason are allowed)
  forced-write  the failures are exactly the profile's expected failures: an expected failure
                that passes, or a failure nobody expected, is a mismatch ("row moved")
  broken        the negative control: the same, and every entry (its verdict column is STALE)
                must catch at least one STALE case on every device it applies to; otherwise
                "negative control NOT caught" and the stage fails

Which RDMA devices a kernel must have is the judge's business too, not the tools': the
[kernels] line of tests/expectations lists them (default: DEVICES); a device the kernel must
have and the guest did not create fails the run, one it need not have is a skip.

Besides the two JSON tools, tests/suite-tools lists KTAP programs (upstream's mm selftests,
ro_pin, the V4L2 check, rdma-core's tests, ...): ktap_doc() turns their output into the same
document shape, so that one judge and one expectations file serve them all.

Nothing here runs QEMU: tests/test_suite.py feeds canned documents through it.
"""
import fnmatch
import os
import re

PROFILES = ("fixed", "forced-write", "broken")
DEVICES = ("rxe0", "siw0")  # what ci/vm-run creates where the kernel has the driver
KERNEL_GROUP = "kernel"     # where the cases of kernel-scope tools are filed
JSON_TOOLS = ("rdmapin", "sweep")
TOOLS_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "suite-tools")
# the project's one list of kernel log problem patterns (also compiled into lib/kmsg.c and read
# by ci/vm-run): fixed strings, one a line
KMSG_PATTERNS_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib",
                                  "kmsg-patterns.txt")


class Tool:
    """One row of tests/suite-tools."""

    def __init__(self, name, fmt, scope, limit, cmd):
        self.name, self.fmt, self.scope, self.limit, self.cmd = name, fmt, scope, limit, cmd

    @property
    def program(self):
        return self.cmd.split()[0]


def load_tools(path=TOOLS_FILE):
    """The tools of tests/suite-tools in order; raise ExpectationsError on a malformed row."""
    tools = []
    with open(path) as f:
        for n, raw in enumerate(f, 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.split(None, 4)
            where = "%s:%d" % (path, n)
            if len(parts) < 5 or not parts[3].isdigit():
                raise ExpectationsError("%s: want 'NAME FORMAT SCOPE LIMIT CMD...'" % where)
            name, fmt, scope, limit, cmd = parts
            if (fmt, scope) not in (("json", "all"), ("ktap", "device"), ("ktap", "kernel")):
                raise ExpectationsError("%s: FORMAT SCOPE %s %s is not json all, ktap device or "
                                        "ktap kernel" % (where, fmt, scope))
            if any(t.name == name for t in tools):
                raise ExpectationsError("%s: tool %s listed twice" % (where, name))
            tools.append(Tool(name, fmt, scope, int(limit), cmd))
    return tools


_KTAP_RESULT = re.compile(r"^(not ok|ok)\s+(\d+)\s*(.*)$")
_KTAP_PLAN_SKIP = re.compile(r"^1\.\.0\s*#\s*SKIP\s*(.*)$", re.I)


def ktap_name(text):
    """A KTAP test description as a case name usable in tests/expectations: runs of anything
    but [A-Za-z0-9._+-] become one '_', no '_' at either end ("R/O pin ... with THP (2 MB)" ->
    "R_O_pin_..._with_THP_2_MB")."""
    return re.sub(r"[^A-Za-z0-9._+-]+", "_", text).strip("_") or "unnamed"


def ktap_doc(tool, device, text, rc):
    """One run of a KTAP tool as a device object in the shape of
    Documentation/results.schema.json, with the members the judge reads: {"device", "status",
    "skip_reason", "cases": [{"name", "status", "verdict", "reason"}]}. Only top-level result
    lines count (nested subtests are indented). A kselftest "# [RUN] what" line before a result
    names it; otherwise the result's own description does. Duplicate names get "#2", "#3"."""
    cases, diags, run_name, names = [], [], None, {}
    plan = None
    skip_all = None
    for line in text.splitlines():
        m = _KTAP_PLAN_SKIP.match(line)
        if m:
            skip_all = m.group(1).strip() or "no reason given"
            continue
        if re.match(r"^1\.\.\d+", line):
            plan = int(line[3:].split()[0]) if line[3:].split() else None
            diags = []
            continue
        if line.startswith("#"):
            d = line[1:].strip()
            if d.startswith("[RUN]"):
                run_name, diags = d[5:].strip(), []
            elif d:
                diags.append(d)
            continue
        m = _KTAP_RESULT.match(line)
        if not m:
            continue
        ok, desc = m.group(1) == "ok", m.group(3)
        directive = ""
        if "#" in desc:
            desc, directive = desc.split("#", 1)
            directive = directive.strip()
        desc = desc.strip().lstrip("-").strip()
        base = ktap_name(run_name or desc)
        names[base] = names.get(base, 0) + 1
        name = base if names[base] == 1 else "%s#%d" % (base, names[base])
        skip = directive.upper().startswith("SKIP")
        if skip:
            status, verdict, reason = "skip", "SKIP", directive[4:].strip() or "no reason given"
        elif ok:
            status, verdict, reason = "pass", "PASS", ""
        else:
            # "not ok 6 name # TIMEOUT": an upper-case word names the verdict, else FAIL
            word, _, rest = directive.partition(" ")
            if re.fullmatch(r"[A-Z][A-Z_]+", word):
                verdict, directive = word, rest.strip()
            else:
                verdict = "FAIL"
            status = "fail"
            reason = "; ".join(([directive] if directive else []) + diags[-2:]) or desc or "failed"
        cases.append({"name": name, "status": status, "verdict": verdict, "reason": reason})
        run_name, diags = None, []
    dev = {"device": device, "status": "pass", "cases": cases}
    if skip_all is not None and not cases:
        dev.update(status="skip", skip_reason=skip_all)
    elif rc not in (0, 1, 4):
        what = "killed at its time limit" if rc == 124 else "exit %s" % rc
        dev.update(status="fail", skip_reason="%s after %d result%s" % (
            what, len(cases), "" if len(cases) == 1 else "s"))
    elif plan is not None and plan != len(cases) and skip_all is None:
        dev.update(status="fail", skip_reason="planned %d tests, reported %d" % (plan, len(cases)))
    elif not cases and skip_all is None:
        dev.update(status="fail", skip_reason="no KTAP result line (exit %s)" % rc)
    return dev


class ExpectationsError(Exception):
    pass


def expand_braces(glob):
    """"{a,b}.r.{0,RR}" -> ["a.r.0", "a.r.RR", "b.r.0", "b.r.RR"] (no nesting)."""
    m = re.search(r"\{([^{}]*)\}", glob)
    if not m:
        return [glob]
    out = []
    for alt in m.group(1).split(","):
        out += expand_braces(glob[:m.start()] + alt + glob[m.end():])
    return out


class Entry:
    """One expected failure: tool, device glob, case glob, verdict (or *), reason."""

    def __init__(self, profile, tool, device, case, verdict, reason, line):
        self.profile, self.tool, self.device, self.case = profile, tool, device, case
        self.verdict, self.reason, self.line = verdict, reason, line

    def matches(self, tool, device, case):
        return (fnmatch.fnmatchcase(tool, self.tool)
                and fnmatch.fnmatchcase(device, self.device)
                and any(fnmatch.fnmatchcase(case, g) for g in expand_braces(self.case)))

    def __str__(self):
        return "%s %s %s %s" % (self.tool, self.device, self.case, self.verdict)


class Expectations:
    def __init__(self):
        self.kernels = {}  # kernel name -> profile
        self.devices = {}  # kernel name -> the RDMA devices it must have (default DEVICES)
        # profile or kernel name -> its entries; an entry of a section that names several
        # profiles or kernels is in each of their lists
        self.entries = {p: [] for p in PROFILES}

    def profile_of(self, kernel):
        if kernel in self.kernels:
            return self.kernels[kernel]
        raise ExpectationsError(
            "kernel %s has no profile in tests/expectations (pass --profile)" % kernel)

    def devices_of(self, kernel):
        """The RDMA devices KERNEL must have in the guest (tests/expectations [kernels])."""
        return self.devices.get(kernel, DEVICES)

    def entries_for(self, kernel, profile):
        """The entries that apply to KERNEL judged with PROFILE, each once, in file order."""
        seen, out = set(), []
        for e in self.entries.get(profile, []) + self.entries.get(kernel, []):
            if e.line not in seen:
                seen.add(e.line)
                out.append(e)
        return sorted(out, key=lambda e: e.line)


def parse_expectations(text, origin="tests/expectations", tools=None):
    """Parse the expectations file; raise ExpectationsError naming the line on bad input.
    tools: the tool names entries may use besides '*' (default: tests/suite-tools's, else
    rdmapin and sweep). A section header names one or more profiles or kernels of [kernels]:
    its entries apply to every kernel it names and to every kernel of every profile it names."""
    if tools is None:
        try:
            tools = [t.name for t in load_tools()]
        except OSError:
            tools = list(JSON_TOOLS)
    exp = Expectations()
    targets = None
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        where = "%s:%d" % (origin, n)
        m = re.fullmatch(r"\[([a-z0-9. -]+)\]", line)
        if m:
            targets = m.group(1).split()
            if targets != ["kernels"]:
                for t in targets:
                    if t not in PROFILES and t not in exp.kernels:
                        raise ExpectationsError("%s: unknown section [%s]: %s is neither a profile "
                                                "nor a kernel of [kernels]" % (where, m.group(1), t))
                    exp.entries.setdefault(t, [])
            continue
        if targets is None:
            raise ExpectationsError("%s: line before the first [section]" % where)
        if targets == ["kernels"]:
            words = line.split()
            if len(words) < 2 or words[1] not in PROFILES:
                raise ExpectationsError(
                    "%s: want 'KERNEL PROFILE [DEVICE...]' with PROFILE one of %s and DEVICE "
                    "one of %s" % (where, ", ".join(PROFILES), ", ".join(DEVICES)))
            bad = [d for d in words[2:] if d not in DEVICES]
            if bad:
                raise ExpectationsError("%s: %s: devices are %s, not %s"
                                        % (where, words[0], ", ".join(DEVICES), ", ".join(bad)))
            exp.kernels[words[0]] = words[1]
            if len(words) > 2:
                exp.devices[words[0]] = tuple(words[2:])
            continue
        parts = line.split(None, 4)
        if len(parts) < 5:
            raise ExpectationsError(
                "%s: want 'TOOL DEVICE CASE VERDICT REASON...' (reason is mandatory)" % where)
        tool, device, case, verdict, reason = parts
        if tool != "*" and tool not in tools:
            raise ExpectationsError("%s: tool is one of %s or *, not %s"
                                    % (where, ", ".join(tools), tool))
        if targets == ["broken"] and tool in JSON_TOOLS and verdict not in ("STALE", "NOSKIP"):
            raise ExpectationsError("%s: [broken] entries of %s must have verdict STALE"
                                    % (where, tool))
        if "fixed" in targets and verdict != "NOSKIP":
            raise ExpectationsError("%s: [fixed] takes no expected failures (NOSKIP entries "
                                    "only; name the kernel for a kernel's own bug)" % where)
        e = Entry(" ".join(targets), tool, device, case, verdict, reason.strip(), n)
        for t in targets:
            exp.entries[t].append(e)
    return exp


class Case:
    def __init__(self, tool, device, doc):
        self.tool, self.device = tool, device
        self.name = doc.get("name", "?")
        self.status = doc.get("status", "fail")
        self.verdict = doc.get("verdict", "")
        self.reason = doc.get("reason", "")
        self.kmsg = doc.get("kmsg_issues", 0) or 0

    @property
    def fqname(self):
        return "%s.%s" % (self.tool, self.name)


class Result:
    """What judge() found: KTAP lines, counts, moved rows, the negative control."""

    def __init__(self):
        self.lines = []
        self.passed = self.failed = self.skipped = self.xfailed = 0
        self.moved = []          # one line per row that moved against the profile
        self.caught = {}         # device -> [case names found STALE] (broken)
        self.not_caught = []     # entries of [broken] that caught nothing on a device
        self.problems = []       # document-level problems (missing JSON, device errors)

    @property
    def ok(self):
        return self.failed == 0


def _doc_devices(doc):
    """device name -> device object."""
    out = {}
    for d in (doc or {}).get("devices", []):
        out.setdefault(d.get("device", "?"), d)
    return out


def judge(kernel, profile, exp, docs, missing="", console_issues=None, guest_error=None,
          only_device=None, tools=JSON_TOOLS, guest_devices=None):
    """Judge docs = {TOOL: doc or None} for every name in tools (None: the tool produced no
    result; docs[tool + "_error"] says why; {"devices": [], "not_run": True}: left out on
    purpose). A doc follows Documentation/results.schema.json; KTAP tools' runs arrive converted by ktap_doc(), their
    kernel-scope cases under the device name "kernel". guest_error: ci/vm-run's failure, if any.
    only_device: the run was limited to this device (run-suite --device): judge only it (and the
    kernel group). guest_devices: the RDMA devices the guest created (None: unknown, e.g. it
    did not boot); a device of exp.devices_of(kernel) missing from them fails. Returns a Result whose lines are KTAP nested one level (the caller wraps them
    under the kernel)."""
    r = Result()
    all_entries = exp.entries_for(kernel, profile)
    entries = [e for e in all_entries if e.verdict != "NOSKIP"]
    noskip = [e for e in all_entries if e.verdict == "NOSKIP"]
    per_tool = {t: _doc_devices(docs.get(t)) for t in tools}
    devices = list(DEVICES)
    for t in tools:
        devices += [d for d in per_tool[t] if d not in devices and d != KERNEL_GROUP]
    if only_device:
        devices = [only_device]
    if any(KERNEL_GROUP in per_tool[t] for t in tools):
        devices.append(KERNEL_GROUP)
    # an entry is "used" per device when it matched a case there
    used = {}

    tests = []  # (ok, name, directive, diag lines, sublines)
    for dev in devices:
        sub = []  # (status, name, directive, diags)
        present = False
        dev_diags = []
        for t in tools:
            doc = docs.get(t)
            if doc is None:
                continue
            d = per_tool[t].get(dev)
            if d is None:
                continue
            if d.get("status") == "skip" and not d.get("cases"):
                dev_diags.append("%s: skipped: %s" % (t, d.get("skip_reason", "")))
                ns = next((e for e in noskip if e.matches(t, dev, "*") and e.case == "*"), None)
                if ns is not None:
                    present = True
                    used.setdefault((ns.line, dev), []).append(t)
                    sub.append(("fail", "%s.all" % t, "",
                                ["%s must run on %s (line %d: %s), but skipped: %s"
                                 % (t, kernel, ns.line, ns.reason, d.get("skip_reason", ""))]))
                    r.failed += 1
                    r.moved.append("%s %s: skipped, but must run here (line %d: %s)"
                                   % (dev, t, ns.line, ns.reason))
                continue
            present = True
            if d.get("status") == "fail" and d.get("skip_reason"):
                sub.append(("fail", "%s.device" % t, "",
                            ["%s on %s: %s" % (t, dev, d.get("skip_reason"))]))
                r.problems.append("%s on %s: %s" % (t, dev, d.get("skip_reason")))
                r.failed += 1
            for cd in d.get("cases", []):
                c = Case(t, dev, cd)
                ent = next((e for e in entries if e.matches(t, dev, c.name)), None)
                ns = next((e for e in noskip if e.matches(t, dev, c.name)), None)
                if ns is not None:
                    used.setdefault((ns.line, dev), []).append(c.name)
                sub.append(_judge_case(r, profile, c, ent, used, ns))
        must = (guest_devices is not None and dev in exp.devices_of(kernel)
                and dev not in guest_devices)
        if must:
            why = [m for m in re.split(r";\s*", missing or "") if m.startswith(dev)]
            line = ("%s must exist on %s (tests/expectations [kernels]), but the guest has "
                    "none: %s" % (dev, kernel, why[0] if why else "no reason given"))
            tests.append((False, dev, "", [line], sub))
            r.failed += 1
            r.problems.append(line)
            continue
        if not present:
            why = [m for m in re.split(r";\s*", missing or "") if m.startswith(dev)]
            if why:
                reason = why[0]
            elif guest_error:
                reason = "no result from the guest for %s" % dev
            elif dev_diags:
                reason = "every tool skipped %s" % dev
            else:
                reason = "device %s not present in the guest" % dev
            if dev_diags:
                reason += " (" + "; ".join(dev_diags) + ")"
            tests.append((True, dev, "SKIP " + reason, [], []))
            r.skipped += 1
            continue
        failed = any(s[0] == "fail" for s in sub)
        tests.append((not failed, dev, "", dev_diags, sub))

    for t in tools:
        if docs.get(t) is None:
            why = docs.get(t + "_error", "no result")
            tests.append((False, t, "", ["%s produced no result: %s" % (t, why)], []))
            r.failed += 1
            r.problems.append("%s: %s" % (t, why))
    if guest_error:
        tests.append((False, "guest", "", [guest_error], []))
        r.failed += 1
        r.problems.append(guest_error)
    if console_issues is not None:
        if console_issues:
            tests.append((False, "guest-kernel-log", "",
                          ["new kernel log problem: " + l for l in console_issues[:5]], []))
            r.failed += 1
        else:
            tests.append((True, "guest-kernel-log", "", [], []))
            r.passed += 1

    # expectations that matched nothing on a present device they apply to
    present_devs = [tst[1] for tst in tests if tst[1] in devices and not tst[2].startswith("SKIP")]
    for e in entries + noskip:
        catch = profile == "broken" and e.verdict == "STALE"
        for dev in present_devs:
            if not fnmatch.fnmatchcase(dev, e.device):
                continue
            tools_run = [t for t in tools if docs.get(t) is not None
                         and not docs[t].get("not_run") and fnmatch.fnmatchcase(t, e.tool)
                         and dev in per_tool[t]]
            if not tools_run:
                continue
            if (e.line, dev) not in used:
                if catch:
                    r.not_caught.append("%s on %s: no case matches %s" % (e, dev, e.case))
                else:
                    r.moved.append("%s %s.%s: %s matched no case (line %d: %s)"
                                   % (dev, e.tool, e.case,
                                      "NOSKIP entry" if e.verdict == "NOSKIP"
                                      else "expected failure", e.line, e.reason))
            elif catch and not used[(e.line, dev)]:
                r.not_caught.append("%s on %s: no case was STALE" % (e, dev))

    if profile == "broken":
        if r.not_caught or not any(r.caught.values()):
            r.failed += 1
            tests.append((False, "negative-control", "",
                          ["negative control NOT caught: " + x for x in r.not_caught]
                          or ["negative control NOT caught: no case was STALE"], []))
        else:
            r.passed += 1
            tests.append((True, "negative-control", "", [], []))

    if r.moved:
        r.failed += 1
        tests.append((False, "profile-" + profile, "",
                      ["profile mismatch: %d row%s moved" % (len(r.moved), "s" * (len(r.moved) > 1))]
                      + ["moved: " + m for m in r.moved], []))
    else:
        r.passed += 1
        tests.append((True, "profile-" + profile, "", [], []))

    r.lines.append("KTAP version 1")
    r.lines.append("# kernel %s, profile %s" % (kernel, profile))
    r.lines.append("1..%d" % len(tests))
    for i, (ok, name, directive, diags, sub) in enumerate(tests, 1):
        if sub:
            r.lines.append("    KTAP version 1")
            r.lines.append("    1..%d" % len(sub))
            for j, (st, cname, cdir, cdiags) in enumerate(sub, 1):
                for dl in cdiags:
                    r.lines.append("    # " + dl)
                r.lines.append("    %sok %d %s%s" % ("not " if st == "fail" else "", j, cname,
                                                    " # " + cdir if cdir else ""))
        for dl in diags:
            r.lines.append("# " + dl)
        r.lines.append("%sok %d %s%s" % ("" if ok else "not ", i, name,
                                         " # " + directive if directive else ""))
    return r


def _judge_case(r, profile, c, ent, used, noskip=None):
    """One case against its expectation entry (or none) and its NOSKIP entry (or none).
    Returns a KTAP sub-line tuple and updates the counters of r."""
    name = c.fqname
    key = (ent.line, c.device) if ent else None
    if key is not None:
        used.setdefault(key, [])
    if c.kmsg and c.kmsg > 0:
        # a kernel log problem is never expected, whatever the case's own verdict
        r.failed += 1
        r.moved.append("%s %s: new kernel log problem (%s)" % (c.device, name, c.reason))
        return ("fail", name, "", ["%s: kernel log: %s" % (name, c.reason)])
    if c.status == "skip":
        if noskip is not None:
            r.failed += 1
            r.moved.append("%s %s: skipped, but must run here (line %d: %s)"
                           % (c.device, name, noskip.line, noskip.reason))
            return ("fail", name, "", ["%s: must not skip (line %d: %s), skipped: %s"
                                       % (name, noskip.line, noskip.reason, c.reason)])
        r.skipped += 1
        return ("skip", name, "SKIP " + (c.reason or "no reason given"), [])
    failed = c.status != "pass"
    if ent is None:
        if not failed:
            r.passed += 1
            return ("pass", name, "", [])
        r.failed += 1
        r.moved.append("%s %s: unexpected failure (%s: %s)" % (c.device, name, c.verdict, c.reason))
        return ("fail", name, "", ["%s: %s: %s" % (name, c.verdict, c.reason)])
    want = ent.verdict
    if want == "ANY":
        # a known intermittent failure: either outcome is expected, a failure is shown
        used[key].append(name)
        r.passed += 1
        if not failed:
            return ("pass", name, "", [])
        r.xfailed += 1
        why = ent.reason if ent.reason.startswith("intermittent") else "intermittent: " + ent.reason
        return ("pass", name, "XFAIL " + why, [])
    if failed and (want == "*" or c.verdict == want):
        r.passed += 1
        r.xfailed += 1
        used[key].append(name)
        if profile == "broken" and want == "STALE":
            r.caught.setdefault(c.device, []).append(c.name if c.tool == "rdmapin" else name)
        return ("pass", name, "XFAIL %s: %s" % (c.verdict, ent.reason), [])
    r.failed += 1
    if failed:
        r.moved.append("%s %s: expected failure with verdict %s, got %s (%s)"
                       % (c.device, name, want, c.verdict, c.reason))
        return ("fail", name, "", ["%s: expected %s (line %d), got %s: %s"
                                   % (name, want, ent.line, c.verdict, c.reason)])
    r.moved.append("%s %s: expected failure now passes (line %d: %s)"
                   % (c.device, name, ent.line, ent.reason))
    return ("fail", name, "", ["%s: expected failure (%s) now passes: %s"
                               % (name, want, ent.reason)])


def caught_line(r):
    """The "# negative control caught: STALE on rxe0: a, b; siw0: c" line, or None."""
    if not r.caught or r.not_caught:
        return None
    return "# negative control caught: " + "; ".join(
        "STALE on %s: %s" % (dev, ", ".join(names)) for dev, names in sorted(r.caught.items()))


def load_kmsg_patterns(path=KMSG_PATTERNS_FILE):
    """The fixed strings of lib/kmsg-patterns.txt in order (comments and blank lines dropped)."""
    with open(path) as f:
        return [l.rstrip("\n") for l in f if l.strip() and not l.startswith("#")]


KMSG_PATTERNS = load_kmsg_patterns()


def kmsg_match(line):
    """The first kernel log problem pattern found in line, or None (lib/kmsg.c's rp_kmsg_match)."""
    return next((p for p in KMSG_PATTERNS if p in line), None)


def console_issues(text, after=None):
    """Kernel problem lines of a guest console log; after: a marker line, only lines after its
    first occurrence count (boot noise before the command is not the suite's business)."""
    lines = text.splitlines()
    if after:
        for i, l in enumerate(lines):
            if after in l:
                lines = lines[i + 1:]
                break
    return [l.strip() for l in lines if kmsg_match(l)]
