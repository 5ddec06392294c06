#!/usr/bin/env python3
"""Writes the export benchmark's data set (bench/run.sh --only export), deterministically.

  gen_export.py --out-prefix P --records N --pairs M [--heavy H --heavy-min A --heavy-max B]
                [--exact K] [--label-every L] [--seed S]

P.pairs.csv     from_id,to_id (contacts->companies), grouped by from_id: the sandbox's
                seed and the archive scenarios' input
P.ids.csv       the N record ids, one a line: export's input
P.labels.csv    from_id,to_id,USER_DEFINED,36 for the pairs that get a label before a run
                (created with `hubbatch create`): the first pair of every L-th light record
                and every pair of the first two heavy records, so labels cross pages
P.expected.txt  sorted from_id,to_id,category,type_id: what /_sandbox/pairs?labels=1 must
                list once the labels exist (279 for every pair, plus 36 where labelled)

Without --exact: H heavy records with A..B to-ids each (B > 500 pages past the sandbox's
--read-page-size), the other N-H records 3 or 4 each, so that the total is exactly M.
With --exact K: every record has exactly K to-ids (M = N*K).
"""
import argparse
import random


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out-prefix", required=True)
    ap.add_argument("--records", type=int, required=True)
    ap.add_argument("--pairs", type=int, default=0)
    ap.add_argument("--heavy", type=int, default=0)
    ap.add_argument("--heavy-min", type=int, default=1000)
    ap.add_argument("--heavy-max", type=int, default=3000)
    ap.add_argument("--exact", type=int, default=0)
    ap.add_argument("--label-every", type=int, default=50)
    ap.add_argument("--seed", type=int, default=14)
    a = ap.parse_args()
    rng = random.Random(a.seed)

    n = a.records
    if a.exact:
        counts = [a.exact] * n
    else:
        heavy = [rng.randint(a.heavy_min, a.heavy_max) for _ in range(a.heavy)]
        light_n = n - a.heavy
        rest = a.pairs - sum(heavy)
        fours = rest - 3 * light_n  # records with 4 so that the total is exact
        if not 0 <= fours <= light_n:
            raise SystemExit(f"gen_export: {a.pairs} pairs cannot be split as 3-4 over {light_n} light records")
        light = [4] * fours + [3] * (light_n - fours)
        rng.shuffle(light)
        # Heavy records spread through the id range, not bunched at one end.
        slots = sorted(rng.sample(range(n), a.heavy))
        counts, hi, li = [], 0, 0
        for i in range(n):
            if hi < len(slots) and slots[hi] == i:
                counts.append(heavy[hi]); hi += 1
            else:
                counts.append(light[li]); li += 1
    from_base, to_base, to_span = 1_000_000, 50_000_000, 2_000_000
    heavy_seen = 0
    expected = []
    with open(a.out_prefix + ".pairs.csv", "w") as pf, open(a.out_prefix + ".ids.csv", "w") as idf, \
         open(a.out_prefix + ".labels.csv", "w") as lf:
        pf.write("from_id,to_id\n")
        idf.write("id\n")
        lf.write("from_id,to_id,category,type_id\n")
        for i, k in enumerate(counts):
            f = from_base + i
            idf.write(f"{f}\n")
            tos = sorted(rng.sample(range(to_span), k))
            is_heavy = k > 100
            if is_heavy:
                heavy_seen += 1
            for j, t in enumerate(tos):
                to = to_base + t
                pf.write(f"{f},{to}\n")
                expected.append(f"{f},{to},HUBSPOT_DEFINED,279")
                label = (is_heavy and heavy_seen <= 2) or (not is_heavy and j == 0 and i % a.label_every == 0)
                if label:
                    lf.write(f"{f},{to},USER_DEFINED,36\n")
                    expected.append(f"{f},{to},USER_DEFINED,36")
    expected.sort()  # Python's sort of ASCII strings = LC_ALL=C sort
    with open(a.out_prefix + ".expected.txt", "w") as ef:
        ef.write("\n".join(expected) + "\n")


if __name__ == "__main__":
    main()
