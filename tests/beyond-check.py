#!/usr/bin/env python3
"""The comparisons of beyond.test, all in one interpreter.

usage: beyond-check.py < CHECKS

Each line of CHECKS is LABEL<TAB>WHAT<TAB>ARG<TAB>ARG...:

  folded CSV FOLDED bytes|allocations split|plain
      the folded lines are exactly the CSV's stacks reversed and rendered
      `function (file:line)` joined by ';' ("[unknown]" for an empty stack,
      a "thread NAME" root frame when split), rows with the same rendering
      merged in first-appearance order, zero weights left out;
  split PLAIN_CSV SPLIT_CSV SPLIT_FOLDED
      the --split-threads CSV has the plain CSV's totals and per-stack sums,
      every plain row's tid among its stack's split rows, and the folded
      output's "thread ..." root frames sum to the split CSV's per thread;
  pprof CSV RAW MODE
      RAW (`go tool pprof -raw` of the profile) has the sample types of MODE,
      at most one sample per CSV row, each with a thread_name label, and
      the CSV's num_allocations and size totals.

Prints "ok   LABEL" or "FAIL LABEL: WHY" per line, in input order.
Exit status: 0 if every check passed, 1 otherwise.
"""
import csv
import re
import sys


class Mismatch(Exception):
    pass


def die(msg):
    raise Mismatch(msg)


def rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def frames(stack):
    """A CSV stack_trace, most recent first, as (function, file, line) triples."""
    if stack == "":
        return []
    return [tuple(frame.rsplit(";", 2)) for frame in stack.split("|")]


def clean(name):
    # What folded_writer.c does to ';', CR and LF inside a name.
    return name.replace(";", ":").replace("\r", " ").replace("\n", " ")


def render(row, split):
    parts = ["%s (%s:%s)" % (clean(fn), clean(file), line)
             for fn, file, line in reversed(frames(row["stack_trace"]))]
    if not parts:
        parts = ["[unknown]"]
    if split:
        parts.insert(0, "thread " + clean(row["thread_name"]))
    return ";".join(parts)


def totals(rs):
    return sum(int(r["num_allocations"]) for r in rs), sum(int(r["size"]) for r in rs)


def check_folded(csv_path, folded_path, weight, split):
    csv_rows = rows(csv_path)
    column = "size" if weight == "bytes" else "num_allocations"
    split = split == "split"
    expected = {}
    for r in csv_rows:
        key = render(r, split)
        expected[key] = expected.get(key, 0) + int(r[column])
    expected = [(k, v) for k, v in expected.items() if v != 0]
    got = []
    with open(folded_path, newline="") as f:
        for n, line in enumerate(f, 1):
            m = re.fullmatch(r"(.+) ([0-9]+)\n", line)
            if not m:
                die("line %d is not 'STACK COUNT': %.100r" % (n, line))
            got.append((m.group(1), int(m.group(2))))
    total = sum(int(r[column]) for r in csv_rows)
    if sum(v for _, v in got) != total:
        die("weights sum to %d, the CSV's %s total is %d" % (sum(v for _, v in got), column, total))
    known = set(k for k, _ in expected)
    for k, v in got:
        if k not in known:
            die("a stack that is no CSV stack reversed: %.150s" % k)
    if got != expected:
        for i, (a, b) in enumerate(zip(got, expected)):
            if a != b:
                die("line %d: %.100s %d, expected %.100s %d" % (i + 1, a[0], a[1], b[0], b[1]))
        die("%d lines, expected %d" % (len(got), len(expected)))


def check_split(plain_path, split_path, folded_path):
    plain, split = rows(plain_path), rows(split_path)
    if totals(plain) != totals(split):
        die("totals (count, bytes) %s, plain CSV %s" % (totals(split), totals(plain)))

    def per_stack(rs):
        d = {}
        for r in rs:
            n, s, tids = d.get(r["stack_trace"], (0, 0, set()))
            d[r["stack_trace"]] = (n + int(r["num_allocations"]), s + int(r["size"]), tids | {r["tid"]})
        return d

    p, s = per_stack(plain), per_stack(split)
    if set(p) != set(s):
        die("the stacks differ from the plain CSV's")
    for k in p:
        if p[k][:2] != s[k][:2]:
            die("stack %.80s: %s in the split CSV, %s in the plain one" % (k, s[k][:2], p[k][:2]))
        if not p[k][2] <= s[k][2]:
            die("stack %.80s: tids %s, but the plain CSV's row shows %s" % (k, sorted(s[k][2]), sorted(p[k][2])))
    # The folded output's thread root frames against the split CSV's threads.
    by_thread = {}
    for r in split:
        root = "thread " + clean(r["thread_name"])
        by_thread[root] = by_thread.get(root, 0) + int(r["size"])
    folded = {}
    with open(folded_path) as f:
        for line in f:
            stack, _, weight = line.rstrip("\n").rpartition(" ")
            root = stack.split(";", 1)[0]
            folded[root] = folded.get(root, 0) + int(weight)
    nonzero = {k: v for k, v in by_thread.items() if v}
    if folded != nonzero:
        die("per-thread folded sums %s, split CSV %s" % (folded, nonzero))


def check_pprof(csv_path, raw_path, mode):
    csv_rows = rows(csv_path)
    kind = "alloc" if mode == "temporary" else "inuse"
    with open(raw_path) as f:
        lines = f.read().split("\n")
    try:
        start = lines.index("Samples:")
    except ValueError:
        die("no Samples: section in the pprof -raw output")
    want = "%s_objects/count %s_space/bytes[dflt]" % (kind, kind)
    if lines[start + 1].strip() != want:
        die("sample types %r, expected %r" % (lines[start + 1].strip(), want))
    samples, labels, counts, sizes = 0, 0, 0, 0
    for line in lines[start + 2:]:
        m = re.match(r"\s+(-?[0-9]+)\s+(-?[0-9]+):", line)
        if m:
            samples += 1
            counts += int(m.group(1))
            sizes += int(m.group(2))
        elif re.match(r"\s+thread_name:\[.+\]$", line):
            labels += 1
        elif line and not line.startswith(" "):
            break
    # pprof merges samples with the same locations and labels as it reads them.
    if samples > len(csv_rows) or labels != samples or (csv_rows and not samples):
        die("%d samples and %d thread_name labels for %d CSV rows" % (samples, labels, len(csv_rows)))
    if (counts, sizes) != totals(csv_rows):
        die("totals (count, bytes) %s, the CSV's %s" % ((counts, sizes), totals(csv_rows)))


CHECKS = {"folded": check_folded, "split": check_split, "pprof": check_pprof}


def main():
    failed = False
    for line in sys.stdin:
        label, what, *args = line.rstrip("\n").split("\t")
        try:
            CHECKS[what](*args)
        except (Mismatch, OSError, ValueError, KeyError, IndexError, TypeError) as e:
            print("FAIL %s: %s" % (label, e))
            failed = True
        else:
            print("ok   %s" % label)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
