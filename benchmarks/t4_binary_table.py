"""How far from constant can a P2 (+ P3) encoder {0,1}^n -> R^m be? (issue 13, item 4)

For n <= 6, m <= 3, m < n: the largest number of distinct latent vectors and the largest rank of the
image, with the method behind each number and its time:

* upper bound: T4-binary-gram (step 1 machine-checked for every n by z3 over index classes, and here
  exhaustively by the tie closure of the Gram entries; step 2 (Mobius identities and rank minors)
  checked exactly here for each n <= 6);
* lower bound: an exact witness (the constant map for m = 1, the family e_1 / e_1 + e_2 for m >= 2),
  checked on every triple in int64, its rank computed in exact rationals;
* a direct z3 search (QF_NRA, every map given by its m * (2^n - 1) coordinates, P2 through the Gram
  classes, P3) for a map with more distinct latent vectors than the bound: unsat or unknown.

Usage: python benchmarks/t4_binary_table.py [--z3-timeout 10] [--no-docs]
Prints a Markdown table, writes benchmarks/results/t4_binary_table.json and the table section of
docs/theorems/T4-domains.md (between the t4-table markers).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import re
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from latentcheck.checkers.prove.t4_domains import (  # noqa: E402
    binary_family_violations,
    mobius_identities,
    step2_rank_certificate,
    tie_closure_classes,
)
from latentcheck.theorems.linalg import rank  # noqa: E402


def witness(n: int, m: int) -> tuple[int, int, int]:
    """(distinct vectors, exact rank, P2 violations) of the witness on {0,1}^n (zero included)."""
    pts = list(itertools.product((0, 1), repeat=n))
    enc = np.zeros((len(pts), m), dtype=np.int64)
    enc[:, 0] = 1
    if m >= 2:
        enc[-1, 1] = 1
    bad = binary_family_violations(n, enc)
    nonzero = enc[1:]
    distinct = len({tuple(r) for r in nonzero.tolist()})
    return distinct, rank([[int(v) for v in r] for r in nonzero.tolist()]), bad


def z3_more_than(n: int, m: int, bound: int, timeout_s: float) -> tuple[str, float]:
    """z3: is there a P2 + P3 map {0,1}^n \\ {0} -> R^m with more than ``bound`` distinct vectors?

    Only ``bound`` in (1, 2) is asked: "more than 1" means some f(u) != f(e_1); "more than 2" means
    some u, v != 1 with f(u) != f(v) (two users off the all-ones one differ), in the Gram-class encoding
    of P2 (G(x,u) = phi(<x,u>), phi non-decreasing), which the tie closure shows is equivalent.
    """
    import z3

    pts = [p for p in itertools.product((0, 1), repeat=n) if any(p)]
    one, e1 = pts[-1], pts[0]
    f = {p: [z3.Real(f"f{''.join(map(str, p))}_{i}") for i in range(m)] for p in pts}
    phi = [z3.Real(f"phi{k}") for k in range(n + 1)]
    s = z3.Solver()
    s.set("timeout", int(timeout_s * 1000))
    for i, p in enumerate(pts):
        for q in pts[i:]:
            s.add(z3.Sum([a * b for a, b in zip(f[p], f[q])]) == phi[sum(a * b for a, b in zip(p, q))])
    s.add(*[phi[k] <= phi[k + 1] for k in range(n)])
    s.add(*[z3.Or([c != 0 for c in f[p]]) for p in pts])
    others = [p for p in pts if p != e1 and (bound == 1 or p != one)]
    s.add(z3.Or([z3.Or([a != b for a, b in zip(f[p], f[e1])]) for p in others]))
    start = time.perf_counter()
    answer = s.check()
    return str(answer), time.perf_counter() - start


def row(n: int, m: int, z3_timeout: float) -> dict:
    t0 = time.perf_counter()
    classes = tie_closure_classes(n)
    mob = all(ok for _, ok in mobius_identities(n) + step2_rank_certificate(n))
    t_exact = time.perf_counter() - t0
    bound_distinct, bound_rank = (1, 1) if m == 1 else (2, 2)
    t1 = time.perf_counter()
    distinct, rk, bad = witness(n, m)
    t_witness = time.perf_counter() - t1
    answer, t_z3 = z3_more_than(n, m, bound_distinct, z3_timeout)
    ok = classes == n + 1 and mob and bad == 0 and (distinct, rk) == (bound_distinct, bound_rank)
    return {"n": n, "m": m, "max_distinct": distinct if ok else None, "max_rank": rk if ok else None,
            "gram_classes": classes, "mobius_identities": mob, "witness_p2_violations": bad,
            "exact_seconds": round(t_exact + t_witness, 3), "z3_more": answer, "z3_seconds": round(t_z3, 2)}


def markdown(rows: list[dict], z3_timeout: float) -> str:
    lines = ["| n | m | max distinct latent vectors | max image rank | Gram classes (tie closure) | "
             "exact checks (s) | z3: a map with more distinct vectors? | z3 (s) |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['n']} | {r['m']} | {r['max_distinct']} | {r['max_rank']} | {r['gram_classes']} | "
                     f"{r['exact_seconds']} | {r['z3_more']} | {r['z3_seconds']} |")
    lines.append("")
    lines.append(f"Machine: {platform.machine()}, {os.cpu_count()} CPUs (shared); z3 timeout {z3_timeout:g} s per query. "
                 "Generated by `python benchmarks/t4_binary_table.py`.")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--z3-timeout", type=float, default=10.0)
    parser.add_argument("--no-docs", action="store_true")
    args = parser.parse_args()
    rows = [row(n, m, args.z3_timeout) for n in range(2, 7) for m in range(1, 4) if m < n]
    table = markdown(rows, args.z3_timeout)
    print(table)
    out = ROOT / "benchmarks" / "results" / "t4_binary_table.json"
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps({"rows": rows, "z3_timeout_s": args.z3_timeout, "machine": platform.machine(),
                               "cpus": os.cpu_count()}, indent=2))
    tmp.replace(out)
    if not args.no_docs:
        page = ROOT / "docs" / "theorems" / "T4-domains.md"
        text = page.read_text()
        new = re.sub(r"<!-- t4-table:start -->.*<!-- t4-table:end -->",
                     "<!-- t4-table:start -->\n" + table + "\n<!-- t4-table:end -->", text, flags=re.S)
        tmp = page.with_suffix(".tmp")
        tmp.write_text(new)
        tmp.replace(page)


if __name__ == "__main__":
    main()
