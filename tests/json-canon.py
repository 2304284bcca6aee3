#!/usr/bin/env python3
"""Print a memray gprof2dot or speedscope JSON document in a canonical form.

usage: json-canon.py FILE

yajl (memray-transform) and Python's json.dump (memray) space and escape
differently; both parse to the same values.  The document is loaded and
written again with Python's json module, indented one item per line so that
cmp/diff point at the differing item.  Key order, array order and numbers
are kept as they are: memray-transform writes events, frames and samples in
memray's order.  The top-level "exporter" ("memray@1.20.0" or
"memray-transform@VERSION") is replaced by "<exporter>".  A key given twice
in one object is an error.
Exit status: 0 printed, 2 unreadable or not JSON.
"""
import json
import sys


def no_duplicates(pairs):
    """An object hook that refuses a key given twice (json would keep the last)."""
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError(f"duplicate key in object: {keys!r}")
    return dict(pairs)


def main(argv):
    if len(argv) != 1:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    try:
        with open(argv[0], "rb") as f:
            doc = json.loads(f.read().decode("utf-8"), object_pairs_hook=no_duplicates)
    except (OSError, UnicodeDecodeError, ValueError) as e:
        print(f"json-canon.py: {argv[0]}: {e}", file=sys.stderr)
        return 2
    if isinstance(doc, dict) and "exporter" in doc:
        doc["exporter"] = "<exporter>"
    json.dump(doc, sys.stdout, indent=1, ensure_ascii=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
