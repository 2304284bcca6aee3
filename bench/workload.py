"""bench/workload.py: the Python program behind README's side-by-side table.

usage: memray run --trace-python-allocators -o CAPTURE bench/workload.py MODE [ROUNDS]

Each round builds a list of 20 strings and a dict of 10 of them, and keeps
one round in ten.  MODE keep2000: once more than 2,000 rounds are kept, each
newly kept round drops a random older one (the heap stays level); keepall:
nothing is dropped (the heap grows to the end).  The default 83,600 rounds
make about 21 M allocation records (32 M records in all) with
--trace-python-allocators.
"""
import random
import sys

ROUNDS = 83_600


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else "keepall"
    if mode not in ("keep2000", "keepall"):
        sys.exit("usage: workload.py keep2000|keepall [ROUNDS]")
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else ROUNDS
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


if __name__ == "__main__":
    print(main())
