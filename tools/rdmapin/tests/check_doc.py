#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""check_doc.py RDMAPIN DOC - the case matrix in Documentation/rdmapin.md lists exactly the
cases of `rdmapin --list`, in the same order, so the two cannot drift apart. The matrix is the
table headed "| case | access | expectation | mutation |"; any other table row naming a case
must name an existing one."""
import re
import subprocess
import sys

listed = [l.split()[0] for l in subprocess.run([sys.argv[1], '--list'], capture_output=True,
                                                 text=True, timeout=60, check=True).stdout.splitlines()]
text = open(sys.argv[2]).read()
head = '| case | access | expectation | mutation |'
if head not in text:
    sys.exit(f'check_doc: no matrix table (header {head!r}) in {sys.argv[2]}')
block = []
for line in text.split(head, 1)[1].splitlines()[2:]:
    if not line.startswith('|'):
        break
    block.append(line)
CASE = r'^\| `([a-z_]+(?:\.[a-z_]+){1,2})` \|'
doc = [m.group(1) for m in (re.match(CASE, l) for l in block) if m]
# every other case name the document mentions in a table must exist too
named = set(re.findall(CASE, text, re.M))
unknown = sorted(named - set(listed))
if unknown:
    sys.exit(f'check_doc: the document names cases rdmapin does not have: {unknown}')
if doc != listed:
    print('check_doc: Documentation matrix and rdmapin --list differ')
    print('  only in --list:', [x for x in listed if x not in doc])
    print('  only in the doc:', [x for x in doc if x not in listed])
    if set(doc) == set(listed):
        print('  (same names, different order)')
    sys.exit(1)
print(f'check_doc: {len(doc)} cases match')
