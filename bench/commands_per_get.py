"""The AT commands a second GET adds, from two emulator --log files.

usage: commands_per_get.py LOG_ONE_GET LOG_TWO_GETS "TARGET KINDS..."
"""
import difflib
import re
import sys


def cmds(path):
    out = []
    for line in open(path, encoding="latin-1"):
        if line.startswith("CMD "):
            out.append(line[4:].rstrip("\n"))
    return out


def kind(c):
    m = re.match(r"AT\+?([A-Z]*)", c)
    return m.group(1) if m else c


a, b = cmds(sys.argv[1]), cmds(sys.argv[2])
target = sys.argv[3].split()
# File names, and the lengths that depend on them, blanked before comparing.
norm = lambda l: [re.sub(r"[0-9]+", "N", re.sub(r"/[ab]\.txt", "/X.txt", c)) for c in l]
sm = difflib.SequenceMatcher(None, norm(a), norm(b), autojunk=False)
extra = []
for op, i1, i2, j1, j2 in sm.get_opcodes():
    if op in ("insert", "replace"):
        extra += b[j1:j2]
    if op in ("delete", "replace"):
        extra += ["(missing) " + c for c in a[i1:i2]]
kinds = [kind(c) for c in extra]
print("    one GET: %d commands in all; two GETs: %d; the second GET: %d" % (len(a), len(b), len(extra)))
for c in extra:
    print("      " + (c if len(c) <= 100 else c[:97] + "..."))
print("    kinds: %s  (target, the manual's minimum: %s: %s)" % (
    ", ".join(kinds) or "-", ", ".join(target),
    "met" if extra and sorted(kinds) == sorted(target) else "NOT met"))
