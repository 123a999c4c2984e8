"""The mechanism ablation on a default data set, written as a report with generated tables.

    python benchmarks/study_ablation.py --dataset ml-100k --widths 16,64,200 --epochs 300 --out docs/gallery/ablation-ml100k

Equivalent to ``latentcheck study --datasets ml-100k --ablation 16,64,200 ...`` (see docs/study.md); run from the
repository root (the data sets are looked for under ../shared/data).
"""

from __future__ import annotations

import argparse
import os
import sys

from latentcheck.checkers.study.ablation import AblationConfig, run_ablation, write_ablation
from latentcheck.checkers.study.data import liang_split, load_or_synthetic
from latentcheck.checkers.study.datasets import resolve_dataset
from latentcheck.checkers.study.implicit import resolve_threshold
from latentcheck.checkers.study.progress import LineProgress


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", default="ml-100k")
    ap.add_argument("--widths", default="16,64,200")
    ap.add_argument("--activations", default="relu,tanh,sigmoid,identity")
    ap.add_argument("--seeds", type=int, default=1)
    ap.add_argument("--epochs", type=int, default=300)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--lam", type=float, default=0.0)
    ap.add_argument("--out", default="runs/ablation")
    a = ap.parse_args()
    ds, path = resolve_dataset(a.dataset)
    ratings = load_or_synthetic(path, columns=ds.columns)
    split = liang_split(ratings, threshold=resolve_threshold(ds.threshold, ratings), min_item_users=ds.min_item_users)
    cfg = AblationConfig(activations=tuple(a.activations.split(",")), widths=tuple(int(w) for w in a.widths.split(",")), seeds=a.seeds,
                         epochs=a.epochs, lr=a.lr, lam=a.lam)
    load0 = os.getloadavg()
    report = run_ablation(split, cfg, progress=LineProgress([sys.stderr]), source=ds.name)
    report["meta"]["load_average"] = {"before": load0, "after": os.getloadavg()}
    report["meta"]["command"] = "python " + " ".join(sys.argv)
    print(write_ablation(report, a.out))


if __name__ == "__main__":
    main()
