"""bench/workload.py: the Python programs behind README's side-by-side table.

usage: memray run --trace-python-allocators -o CAPTURE bench/workload.py MODE [ROUNDS]

keep2000, keepall: each round builds a list of 20 strings and a dict of 10
of them, and keeps one round in ten.  keep2000: once more than 2,000 rounds
are kept, each newly kept round drops a random older one (the heap stays
level); keepall: nothing is dropped (the heap grows to the end).  The
default 83,600 rounds make about 21 M allocation records (32 M records in
all) with --trace-python-allocators.

json: each round builds, through up to 39 nested calls, a list of 50
small dicts, keeps it among the last 500 rounds' and sends it through
json.dumps and json.loads (most blocks die within a few hundred
allocations, some live for 500 rounds; stacks up to 50 frames deep).
The default 3,000 rounds make about 11 M allocation records.
"""
import json
import random
import sys

ROUNDS = {"keep2000": 83_600, "keepall": 83_600, "json": 3_000}


def keep(mode, rounds):
    rng = random.Random(1)
    kept = []
    for r in range(rounds):
        strings = [f"round-{r}-item-{i}" for i in range(20)]
        index = {s: i for i, s in enumerate(strings[:10])}
        if r % 10 == 0:
            kept.append((strings, index))
            if mode == "keep2000" and len(kept) > 2000:
                kept.pop(rng.randrange(len(kept)))
    return len(kept)


def nested(depth, tail):
    if depth == 0:
        return [{"a": i, "b": str(i), "c": [i] * 3} for i in range(50)]
    return nested(depth - 1, tail) + tail


def round_trips(rounds):
    kept = []
    for r in range(rounds):
        kept.append(nested(r % 40, [r]))
        json.loads(json.dumps(kept[-1]))
        if len(kept) > 500:
            kept.pop(0)
    return len(kept)


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else "keepall"
    if mode not in ROUNDS:
        sys.exit("usage: workload.py keep2000|keepall|json [ROUNDS]")
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else ROUNDS[mode]
    if mode == "json":
        return round_trips(rounds)
    return keep(mode, rounds)


if __name__ == "__main__":
    print(main())
