"""bench/workload.py: the Python programs behind README's side-by-side tables.

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

fib: each round walks a call tree of two calls on one line, 16 deep, and
a chain of 800 calls: about 134,000 distinct stacks (Python 3.11 and later
tell the calls on a line apart), more than a cache of them holds.  The
default 30 rounds make about 8 M allocation records.

leaves: a call tree of two calls on one line, 15 deep, keeps a small list
at each of its 32,768 leaves: the report's rows are tens of thousands of
stacks 20 frames deep, and writing them costs more than reading the
records (about 400,000 allocation records a round, default 1).

threads: 8 threads each make ROUNDS small dicts, send them through
json.dumps and json.loads, and keep up to 500: about 61 M allocation
records by default (60,000 rounds).
"""
import json
import random
import sys
import threading

ROUNDS = {
    "keep2000": 83_600, "keepall": 83_600, "json": 3_000, "fib": 30, "leaves": 1,
    "threads": 60_000,
}


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


def chain(n, acc):
    if n == 0:
        return acc
    return chain(n - 1, acc) + 1


def tree(depth, kept):
    if depth == 0:
        if kept is not None:
            kept.append([depth] * 3)
        return 1
    return tree(depth - 1, kept) + tree(depth - 1, kept)


def fib_like(rounds):
    total = 0
    for _ in range(rounds):
        total += tree(16, None) + chain(800, 0)
    return total


def leaves(rounds):
    kept = []
    for _ in range(rounds):
        tree(15, kept)
    return len(kept)


def json_thread(rounds):
    kept = []
    for i in range(rounds):
        value = {"a": [i, str(i), (i, i)], "b": "x" * (i % 50)}
        kept.append(json.loads(json.dumps(value)))
        if len(kept) > 500:
            kept.clear()


def threads(rounds):
    workers = [threading.Thread(target=json_thread, args=(rounds,)) for _ in range(8)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return len(workers)


MODES = {
    "json": round_trips, "fib": fib_like, "leaves": leaves, "threads": threads,
    "keep2000": lambda rounds: keep("keep2000", rounds),
    "keepall": lambda rounds: keep("keepall", rounds),
}


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else "keepall"
    if mode not in ROUNDS:
        sys.exit("usage: workload.py " + "|".join(ROUNDS) + " [ROUNDS]")
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else ROUNDS[mode]
    return MODES[mode](rounds)


if __name__ == "__main__":
    print(main())
