"""PNG plots of a falsify report (matplotlib, Agg backend, no display needed).

* ``latent_norms.png`` (P3): histogram of ``log10 |enc(x)|`` over every point the search evaluated.
* ``flip_margins.png`` (P2): histogram of the flip margin ``<enc x,enc u> - <enc x,enc v>`` (signed log scale)
  over the search, with the certified counterexamples' margins marked.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any, Mapping

import numpy as np
from ..theorems.files import atomic_savefig

__all__ = ["write_plots"]


def _margin_value(text: Any) -> float | None:
    try:
        return float(Fraction(str(text)))
    except (ValueError, ZeroDivisionError, OverflowError):
        try:
            return float(str(text))
        except ValueError:
            return None


def write_plots(report: Mapping[str, Any], out_dir: Path) -> dict[str, Path]:
    """Write the plots a report's histograms allow; returns ``{name: path}``."""
    import matplotlib


    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    hists = report.get("histograms") or {}
    written: dict[str, Path] = {}
    for key, spec in hists.items():
        edges = np.asarray(spec.get("edges", []), dtype=float)
        counts = np.asarray(spec.get("counts", []), dtype=float)
        if edges.size < 2 or counts.sum() == 0:
            continue
        fig, ax = plt.subplots(figsize=(6.4, 3.6), dpi=100)
        ax.bar(edges[:-1], counts, width=np.diff(edges), align="edge", color="#4477aa", edgecolor="white")
        ax.set_ylabel("points evaluated")
        if key.startswith("latent_norm"):
            ax.set_xlabel("log10 |enc(x)|  (search in float32)")
            ax.set_title(f"{report.get('property')}: latent norms over the search")
            name = "latent_norms"
        else:
            ax.set_xlabel("sign(F) log10(1 + |F|),  F = <enc x,enc u> - <enc x,enc v>")
            ax.set_title(f"{report.get('property')}: flip margins over the search")
            for c in report.get("counterexamples", []):
                v = _margin_value(c.get("margin"))
                if v is not None:
                    ax.axvline(np.sign(v) * np.log10(1 + abs(v)), color="#cc3311", lw=1)
            name = "flip_margins"
        fig.tight_layout()
        path = Path(out_dir) / f"{name}.png"
        atomic_savefig(fig, path)
        plt.close(fig)
        written[name] = path
    return written
