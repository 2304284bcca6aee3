#!/usr/bin/env python3
"""Compare JSON documents with memray's gprof2dot and speedscope references.

usage: json-compare.py < PAIRS

Each line of PAIRS is LABEL<TAB>REFERENCE<TAB>OUTPUT.  Both files are
parsed and compared as JSON values, not as bytes: yajl (memray-transform)
and Python's json.dump (memray) space and escape differently.  Key order,
array order and numbers must agree; the top-level "exporter"
("memray@1.20.0" or "memray-transform@VERSION") is ignored, and a key
given twice in one object is an error.  One interpreter compares every
pair (golden.test gathers them), since starting one per case is what made
the suite slow.

Prints "ok   LABEL" or "FAIL LABEL: WHY" per pair, in input order.
Exit status: 0 every pair matched, 1 otherwise.
"""
import json
import sys


def no_duplicates(pairs):
    """An object hook that refuses a key given twice (json would keep the last)."""
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError(f"duplicate key in object: {keys!r}")
    return dict(pairs)


def load(path):
    with open(path, "rb") as f:
        doc = json.loads(f.read().decode("utf-8"), object_pairs_hook=no_duplicates)
    if isinstance(doc, dict) and "exporter" in doc:
        doc["exporter"] = "<exporter>"
    return doc


def canonical(doc):
    """One item a line, so that a difference names the first item that differs."""
    return json.dumps(doc, indent=1, ensure_ascii=True).split("\n")


def first_difference(expected, got):
    a, b = canonical(expected), canonical(got)
    for n, (x, y) in enumerate(zip(a, b), 1):
        if x != y:
            return f"item line {n}: expected {x.strip()[:120]}, got {y.strip()[:120]}"
    return f"{len(b)} item lines, expected {len(a)}"


def verdict(label, reference, output):
    """'ok   LABEL' or 'FAIL LABEL: WHY' for one pair."""
    try:
        expected = load(reference)
    except (OSError, UnicodeDecodeError, ValueError) as e:
        return f"FAIL {label}: reference {reference}: {e}"
    try:
        got = load(output)
    except (OSError, UnicodeDecodeError, ValueError) as e:
        return f"FAIL {label}: not JSON: {e}"
    # Equal values with other key orders must still fail: compare the
    # serializations, which keep key order.
    if canonical(expected) != canonical(got):
        return f"FAIL {label}: differs from the reference: {first_difference(expected, got)}"
    return f"ok   {label}"


def main():
    failed = False
    for line in sys.stdin:
        result = verdict(*line.rstrip("\n").split("\t"))
        print(result)
        failed = failed or not result.startswith("ok ")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
