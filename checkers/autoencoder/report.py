"""Statistics and the study report (JSON, Markdown, PNG).

The statistics are written here (scipy is not a dependency): the Student t
distribution through mpmath's regularised incomplete beta function, the
paired t-test, an exact or Monte-Carlo sign-flip permutation test, and
Pearson / Spearman correlations. The printers are thin wrappers over the
study's JSON-ready dict: every number in the Markdown and the plots comes
from ``report.json``.
"""

from __future__ import annotations

import itertools
import json
import math
import os
from typing import Any, Sequence

import numpy as np

__all__ = [
    "t_cdf",
    "t_quantile",
    "mean_ci",
    "paired_t_test",
    "sign_flip_test",
    "pearson",
    "spearman",
    "write_report",
    "render_markdown",
    "PUBLISHED_AUTOREC_ML1M",
]

#: I-AutoRec test RMSE on MovieLens-1M, Sedhain et al. 2015, Table 1(a): (g latent, f output) -> RMSE.
#: Published constants shown beside our runs, never produced by latentcheck.
PUBLISHED_AUTOREC_ML1M: dict[tuple[str, str], float] = {
    ("identity", "identity"): 0.872,
    ("identity", "sigmoid"): 0.852,
    ("sigmoid", "identity"): 0.831,
    ("sigmoid", "sigmoid"): 0.836,
}


# --------------------------------------------------------------------------- statistics


def t_cdf(t: float, df: float) -> float:
    """CDF of Student's t with ``df`` degrees of freedom.

    ``P(T <= t) = 1 - I_x(df/2, 1/2) / 2`` for ``t >= 0`` with ``x = df / (df + t^2)``.

    Example:
        >>> round(t_cdf(2.776445105, 4), 4)
        0.975
    """
    import mpmath

    if not df > 0:
        raise ValueError(f"df={df!r} must be positive")
    if math.isnan(t):
        return float("nan")
    if math.isinf(t):
        return 1.0 if t > 0 else 0.0
    x = df / (df + t * t)
    tail = 0.5 * float(mpmath.betainc(df / 2.0, 0.5, 0, x, regularized=True))
    return 1.0 - tail if t >= 0 else tail


def t_quantile(p: float, df: float) -> float:
    """The ``p`` quantile of Student's t (bisection on :func:`t_cdf`)."""
    if not 0.0 < p < 1.0:
        raise ValueError(f"p={p!r} must lie in (0, 1)")
    if p == 0.5:
        return 0.0
    sign = 1.0 if p > 0.5 else -1.0
    target = p if p > 0.5 else 1.0 - p
    lo, hi = 0.0, 1.0
    while t_cdf(hi, df) < target:
        hi *= 2.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if t_cdf(mid, df) < target:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-12 * max(1.0, hi):
            break
    return sign * 0.5 * (lo + hi)


def mean_ci(values: Sequence[float], level: float = 0.95) -> dict[str, float]:
    """Mean and the two-sided t interval ``mean +- t_{(1+level)/2, n-1} s / sqrt(n)``."""
    x = np.asarray([v for v in values if v is not None and np.isfinite(v)], dtype=np.float64)
    n = x.size
    if n == 0:
        return {"mean": float("nan"), "lo": float("nan"), "hi": float("nan"), "sd": float("nan"), "n": 0}
    mean = float(x.mean())
    if n == 1:
        return {"mean": mean, "lo": float("nan"), "hi": float("nan"), "sd": float("nan"), "n": 1}
    sd = float(x.std(ddof=1))
    half = t_quantile(0.5 + level / 2.0, n - 1) * sd / math.sqrt(n)
    return {"mean": mean, "lo": mean - half, "hi": mean + half, "sd": sd, "n": int(n)}


def paired_t_test(a: Sequence[float], b: Sequence[float], level: float = 0.95) -> dict[str, float]:
    """Paired t-test of ``a - b`` (two-sided) with the interval of the mean difference."""
    d = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    d = d[np.isfinite(d)]
    n = d.size
    ci = mean_ci(d, level)
    if n < 2:
        return {"diff": ci["mean"], "lo": float("nan"), "hi": float("nan"), "t": float("nan"), "p": float("nan"), "n": int(n)}
    sd = float(d.std(ddof=1))
    if sd == 0.0:
        t = 0.0 if ci["mean"] == 0 else math.copysign(math.inf, ci["mean"])
        p = 1.0 if ci["mean"] == 0 else 0.0
    else:
        t = ci["mean"] / (sd / math.sqrt(n))
        p = 2.0 * (1.0 - t_cdf(abs(t), n - 1))
    return {"diff": ci["mean"], "lo": ci["lo"], "hi": ci["hi"], "t": float(t), "p": float(min(1.0, p)), "n": int(n)}


def sign_flip_test(d: Sequence[float], *, n_perm: int = 20_000, seed: int = 0, exact_max: int = 16) -> dict[str, float]:
    """Two-sided sign-flip permutation test of ``mean(d) = 0`` for paired differences ``d``.

    Exact (all ``2^n`` sign patterns) when ``n <= exact_max``, else ``n_perm``
    random patterns from ``default_rng(seed)`` with the ``(1 + hits) / (1 + n_perm)``
    correction. ``p = P(|mean(s * d)| >= |mean(d)|)``.
    """
    x = np.asarray(d, dtype=np.float64)
    x = x[np.isfinite(x)]
    n = x.size
    if n == 0:
        return {"p": float("nan"), "n": 0, "method": "none"}
    obs = abs(x.mean())
    tol = 1e-12 * max(1.0, float(np.abs(x).max()))
    if n <= exact_max:
        signs = np.array(list(itertools.product((1.0, -1.0), repeat=n)))
        stats = np.abs(signs @ x) / n
        p = float(np.mean(stats >= obs - tol))
        return {"p": p, "n": int(n), "method": f"exact ({2 ** n} sign patterns)"}
    rng = np.random.default_rng(seed)
    hits = 0
    done = 0
    while done < n_perm:
        k = min(2000, n_perm - done)
        s = rng.choice((-1.0, 1.0), size=(k, n))
        hits += int(np.sum(np.abs(s @ x) / n >= obs - tol))
        done += k
    return {"p": float((1 + hits) / (1 + n_perm)), "n": int(n), "method": f"Monte Carlo ({n_perm} sign patterns, seed {seed})"}


def pearson(x: Sequence[float], y: Sequence[float]) -> float:
    """Pearson correlation; NaN when either side is constant."""
    a, b = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    ok = np.isfinite(a) & np.isfinite(b)
    a, b = a[ok], b[ok]
    if a.size < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    a, b = a - a.mean(), b - b.mean()
    return float((a @ b) / math.sqrt((a @ a) * (b @ b)))


def _ranks(x: np.ndarray) -> np.ndarray:
    order = np.argsort(x, kind="stable")
    ranks = np.empty(x.size, dtype=np.float64)
    sx = x[order]
    i = 0
    while i < x.size:
        j = i
        while j + 1 < x.size and sx[j + 1] == sx[i]:
            j += 1
        ranks[order[i : j + 1]] = 0.5 * (i + j) + 1.0
        i = j + 1
    return ranks


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    """Spearman's rho (Pearson on average ranks); NaN when either side is constant."""
    a, b = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    ok = np.isfinite(a) & np.isfinite(b)
    return pearson(_ranks(a[ok]), _ranks(b[ok]))


def correlation_p(r: float, n: int) -> float:
    """Two-sided p of ``r = 0`` from ``t = r sqrt((n-2)/(1-r^2))`` with ``n - 2`` df."""
    if not np.isfinite(r) or n < 3:
        return float("nan")
    if abs(r) >= 1.0:
        return 0.0
    t = r * math.sqrt((n - 2) / (1.0 - r * r))
    return float(2.0 * (1.0 - t_cdf(abs(t), n - 2)))


# --------------------------------------------------------------------------- output


def _fmt(v: Any, digits: int = 4) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    try:
        f = float(v)
    except (TypeError, ValueError):
        return str(v)
    if not np.isfinite(f):
        return "n/a"
    if f != 0 and abs(f) < 10 ** (-digits):
        return f"{f:.1e}"
    return f"{f:.{digits}f}"


def _ci(s: dict, digits: int = 4) -> str:
    if s.get("n", 0) >= 2 and np.isfinite(s.get("lo", float("nan"))):
        return f"{_fmt(s['mean'], digits)} [{_fmt(s['lo'], digits)}, {_fmt(s['hi'], digits)}]"
    return _fmt(s.get("mean"), digits)


def _p(p: Any) -> str:
    try:
        f = float(p)
    except (TypeError, ValueError):
        return "n/a"
    if not np.isfinite(f):
        return "n/a"
    return "<1e-4" if f < 1e-4 else f"{f:.4f}"


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def _json_clean(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _json_clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_clean(v) for v in obj]
    if isinstance(obj, (np.floating, float)):
        f = float(obj)
        return f if np.isfinite(f) else None
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, np.ndarray):
        return _json_clean(obj.tolist())
    return obj


def write_report(report: dict, out_dir: "str | os.PathLike[str]") -> dict[str, str]:
    """Write ``report.json``, ``report.md`` and the PNG plots; return their paths."""
    out = os.fspath(out_dir)
    os.makedirs(out, exist_ok=True)
    paths: dict[str, str] = {}
    plots = _plots(report, out)
    report.setdefault("files", {})["plots"] = sorted(os.path.basename(p) for p in plots.values())
    clean = _json_clean(report)
    from checkers._io import atomic_write_text

    paths["json"] = os.path.join(out, "report.json")
    atomic_write_text(paths["json"], json.dumps(clean, indent=2, sort_keys=True) + "\n")
    paths["md"] = os.path.join(out, "report.md")
    atomic_write_text(paths["md"], render_markdown(clean))
    paths.update(plots)
    return paths


def render_markdown(report: dict) -> str:
    """The Markdown report (a view of ``report.json``)."""
    meta = report["meta"]
    model = meta["model"]
    lines: list[str] = []
    data = meta["data"]
    title = "Mult-DAE latent-activation study" if model == "multdae" else "I-AutoRec activation table"
    lines.append(f"# latentcheck study: {title}")
    lines.append("")
    if data.get("synthetic"):
        lines.append("> **SYNTHETIC DATA**: these numbers come from latentcheck's generated low-rank data set, "
                     "not from MovieLens. Pass `--data PATH` for real data.")
        lines.append("")
    lines.append(f"Command: `{meta['command']}`")
    lines.append("")
    lines.append(f"- data: {data['source']} ({data['ratings']} ratings, {data['users']} users, {data['items']} items)")
    lines.append(f"- protocol: {meta['protocol'].get('protocol')}; " + ", ".join(f"{k}={v}" for k, v in meta["protocol"].items() if k not in ("protocol", "source", "synthetic")))
    lines.append(f"- model: {json.dumps(meta['model_config'])}")
    lines.append(f"- training: {json.dumps(meta['train_config'])}")
    lines.append(f"- seeds: {meta['seeds']}; dtype {meta['dtype']}; device {meta['device']}; machine {meta['machine']}")
    lines.append(f"- versions: " + ", ".join(f"{k} {v}" for k, v in meta["versions"].items()))
    lines.append("")
    if model == "multdae":
        lines += _md_multdae(report)
    else:
        lines += _md_autorec(report)
    t = report.get("timing", {})
    lines.append("## Timing")
    lines.append("")
    lines.append(f"Wall time {t.get('total_seconds', float('nan')):.1f} s; median seconds per training epoch by run: "
                 + ", ".join(f"{k} {v:.4f}" for k, v in sorted(t.get("median_epoch_seconds", {}).items())))
    lines.append("")
    lines.append("Same command and seeds give the same report apart from this section and the `timing` keys of report.json.")
    lines.append("")
    return "\n".join(lines)


def _md_multdae(report: dict) -> list[str]:
    s = report["summary"]
    metrics = report["meta"]["metrics"]
    ref = report["meta"]["reference_activation"]
    L: list[str] = []
    L.append("## Accuracy on held-out test users (mean over seeds, [95% t-interval over seeds])")
    L.append("")
    header = ["latent activation", "class"] + metrics + ["best epoch (median)"]
    rows = []
    for act, st in s["per_activation"].items():
        rows.append([f"`{act}`", st["class"]] + [_ci(st["metrics"][m]) for m in metrics] + [_fmt(st["best_epoch_median"], 0)])
    for name in ("ease", "popularity"):
        if name in report.get("baselines", {}):
            b = report["baselines"][name]
            label = f"EASE (lam={_fmt(b['lam'], 0)}), linear reference" if name == "ease" else "popularity"
            rows.append([label, "-"] + [_fmt(b["test"][m]) for m in metrics] + ["-"])
    L.append(_table(header, rows))
    L.append("")
    L.append("The interval reflects training randomness (initialisation, dropout, batch order) over the seeds; "
             "the split is fixed (Liang et al.'s protocol), so it does not include the sampling of the test users. "
             "The per-user sign-flip test below does.")
    L.append("")
    L.append(f"## Paired comparison with the published choice (`{ref}`)")
    L.append("")
    header = ["latent activation", "metric", "difference [95% CI]", "paired t p (seeds)", "sign-flip p (seeds)", "sign-flip p (test users)"]
    rows = []
    for act, comp in s["paired_vs_reference"].items():
        for m in metrics:
            c = comp[m]
            rows.append([f"`{act}`", m, _ci({"mean": c["t_test"]["diff"], "lo": c["t_test"]["lo"], "hi": c["t_test"]["hi"], "n": c["t_test"]["n"]}),
                         _p(c["t_test"]["p"]), _p(c["sign_flip_seeds"]["p"]), _p(c["sign_flip_users"]["p"])])
    L.append(_table(header, rows) if rows else "(no other activation)")
    L.append("")
    n_seeds = len(report["meta"]["seeds"])
    L.append("Seeds pair runs with the same seed (same initial key, dropout masks and batch order); the per-user test pairs "
             f"each test user's metric averaged over seeds. With {n_seeds} seeds the exact sign-flip test cannot go below "
             f"p = {2.0 / 2 ** n_seeds:.4g}.")
    L.append("")
    L.append("## Latent audit (P1-P3 measured on all users of the data, preprocessed as the model does)")
    L.append("")
    header = ["latent activation", "P1 (m<n)", "exact-zero rate", "near-zero (norm < 1e-3)", "dead units", "constant units",
              "units exactly 0 per user", "fewest nonzero units", "concordance", "Kendall tau-b", "P2 violation rate", "certified P3 / P2"]
    rows = []
    for act, st in s["per_activation"].items():
        a = st["audit"]
        rows.append([f"`{act}`", "yes" if a["p1"] else "no", _ci(a["zero_rate"]), _ci(a["near_zero_1e-3"]), _ci(a["dead_units"], 1),
                     _ci(a["constant_units"], 1), _ci(a["zero_unit_fraction"], 3), _ci(a["fewest_nonzero_units"], 1),
                     _ci(a["concordance"]), _ci(a["kendall_tau_b"]), _ci(a["p2_violation_rate"]),
                     f"{a['certified_p3']} / {a['certified_p2']}"])
    L.append(_table(header, rows))
    L.append("")
    L.append("Exact-zero: the float32 latent vector is exactly 0. Units exactly 0 per user: the mean fraction of a user's latent "
             "units that are exactly 0; fewest nonzero units: the minimum over users (0 would be a P3 counterexample). Concordance: among sampled triples (x,u,v) of distinct users "
             "with <x,u> != <x,v>, the fraction whose latent order agrees. P2 violation: <x,u> <= <x,v> but "
             "<z_x,z_u> > <z_x,z_v> (input ties included). Certified: counterexamples re-checked in exact rationals or "
             "interval arithmetic at the float32 inputs, summed over seeds.")
    L.append("")
    fals = s.get("falsifier", {})
    if fals:
        L.append("### Falsifier on the data domain")
        L.append("")
        rows = []
        for act, f in fals.items():
            for prop, r in f.items():
                if isinstance(r, dict):
                    rows.append([f"`{act}`", prop, str(r.get("status")), str(len(r.get("certified", []))), r.get("reason", "")])
        L.append(_table(["latent activation (seed 0)", "property", "status", "certified", "note"], rows))
        L.append("")
    L.append("## Do the properties predict accuracy? (across all runs)")
    L.append("")
    rows = []
    for key, c in s["correlations"].items():
        rows.append([c["property"], c["metric"], _fmt(c["pearson"], 3), _p(c["pearson_p"]), _fmt(c["spearman"], 3),
                     _fmt(c.get("within_activation_pearson"), 3), _p(c.get("within_activation_p")), str(c["n"]), c.get("note", "")])
    L.append(_table(["property", "metric", "Pearson r", "p", "Spearman rho", "within-activation r", "p", "runs", "note"], rows))
    L.append("")
    L.append("Across activations a correlation mixes the activation's effect with the property's; it is descriptive, not causal. "
             "The within-activation r subtracts each activation's mean from property and metric first, so it asks whether, "
             "for a fixed activation, seeds with a higher property value also rank better.")
    L.append("")
    L.append("## Plots")
    L.append("")
    for p in report.get("files", {}).get("plots", []):
        L.append(f"![{p}]({p})")
    L.append("")
    return L


def _md_autorec(report: dict) -> list[str]:
    s = report["summary"]
    L: list[str] = []
    L.append("## Test RMSE (mean over seeds, [95% t-interval]) beside the published ML-1M figures")
    L.append("")
    header = ["g (latent)", "f (output)", "class of g", "RMSE here", "lam", "best epoch (median)", "published ML-1M RMSE (Sedhain et al. 2015, Table 1a)"]
    rows = []
    for key, st in s["per_config"].items():
        pub = st.get("published_ml1m")
        rows.append([f"`{st['g']}`", f"`{st['f']}`", st["class_g"], _ci(st["RMSE"]), _fmt(st["lam"], 3), _fmt(st["best_epoch_median"], 0),
                     f"{pub:.3f} (published constant)" if pub is not None else "-"])
    for name, b in report.get("baselines", {}).items():
        rows.append([name, "-", "-", _ci(b["RMSE"]), "-", "-", "-"])
    L.append(_table(header, rows))
    L.append("")
    L.append("The published numbers are on MovieLens-1M with the authors' tuning (L-BFGS/RProp, 500 hidden units); they are "
             "displayed, never computed here. The runs here use the data given to `--data` and Adam, full-batch.")
    L.append("")
    ref = report["meta"]["reference_activation"]
    L.append(f"## Paired comparison with `{ref}` (same seed = same split and initialisation)")
    L.append("")
    rows = []
    for key, c in s["paired_vs_reference"].items():
        t = c["t_test"]
        rows.append([key, _ci({"mean": t["diff"], "lo": t["lo"], "hi": t["hi"], "n": t["n"]}), _p(t["p"]), _p(c["sign_flip_seeds"]["p"])])
    L.append(_table(["config (g/f)", "RMSE difference [95% CI]", "paired t p", "sign-flip p (seeds)"], rows) if rows else "(no other config)")
    L.append("")
    L.append("## Latent audit of g on the item rating vectors (divided by 5)")
    L.append("")
    rows = []
    for key, st in s["per_config"].items():
        a = st["audit"]
        rows.append([key, _ci(a["zero_rate"]), _ci(a["dead_units"], 1), _ci(a["concordance"]), _ci(a["kendall_tau_b"]), _ci(a["p2_violation_rate"]),
                     f"{a['certified_p3']} / {a['certified_p2']}"])
    L.append(_table(["config (g/f)", "exact-zero rate", "dead units", "concordance", "Kendall tau-b", "P2 violation rate", "certified P3 / P2"], rows))
    L.append("")
    L.append("## Plots")
    L.append("")
    for p in report.get("files", {}).get("plots", []):
        L.append(f"![{p}]({p})")
    L.append("")
    return L


# --------------------------------------------------------------------------- plots


def _plots(report: dict, out: str) -> dict[str, str]:
    from checkers._io import atomic_savefig
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths: dict[str, str] = {}
    synthetic = report["meta"]["data"].get("synthetic")
    tag = " (SYNTHETIC DATA)" if synthetic else ""
    if report["meta"]["model"] == "multdae":
        s = report["summary"]["per_activation"]
        acts = list(s)
        metrics = report["meta"]["metrics"]
        runs = report["runs"]
        fig, axes = plt.subplots(1, len(metrics), figsize=(4 * len(metrics), 3.6))
        for ax, m in zip(np.atleast_1d(axes), metrics):
            for i, a in enumerate(acts):
                st = s[a]["metrics"][m]
                vals = [r["test"][m] for r in runs if r["activation"] == a]
                ax.scatter([i] * len(vals), vals, s=10, color="0.6", zorder=2)
                if st["n"] >= 2 and st["lo"] is not None and np.isfinite(st["lo"]):
                    ax.errorbar([i], [st["mean"]], yerr=[[st["mean"] - st["lo"]], [st["hi"] - st["mean"]]], fmt="o", color="C0", capsize=4, zorder=3)
                else:
                    ax.plot([i], [st["mean"]], "o", color="C0")
            b = report.get("baselines", {})
            if "ease" in b:
                ax.axhline(b["ease"]["test"][m], color="C3", ls="--", lw=1, label="EASE")
            if "popularity" in b:
                ax.axhline(b["popularity"]["test"][m], color="0.4", ls=":", lw=1, label="popularity")
            ax.set_xticks(range(len(acts)))
            ax.set_xticklabels(acts, rotation=30, ha="right", fontsize=8)
            ax.set_title(m)
        np.atleast_1d(axes)[0].legend(fontsize=7)
        fig.suptitle("Mult-DAE test metrics by latent activation, mean and 95% interval over seeds" + tag, fontsize=10)
        fig.tight_layout()
        paths["metrics_png"] = os.path.join(out, "metrics.png")
        atomic_savefig(fig, paths["metrics_png"], dpi=110)
        plt.close(fig)

        props = [("zero_rate", "exact-zero rate"), ("dead_units", "dead units"), ("concordance", "concordance"),
                 ("kendall_tau_b", "Kendall tau-b"), ("p2_violation_rate", "P2 violation rate")]
        fig, axes = plt.subplots(1, len(props), figsize=(3.4 * len(props), 3.4))
        for ax, (k, label) in zip(axes, props):
            for i, a in enumerate(acts):
                vals = [r["audit"][k] for r in runs if r["activation"] == a]
                ax.scatter([i] * len(vals), vals, s=12, color=f"C{i % 10}")
            ax.set_xticks(range(len(acts)))
            ax.set_xticklabels(acts, rotation=30, ha="right", fontsize=8)
            ax.set_title(label, fontsize=9)
        fig.suptitle("Latent audit of the trained encoders (one dot per seed)" + tag, fontsize=10)
        fig.tight_layout()
        paths["audit_png"] = os.path.join(out, "audit.png")
        atomic_savefig(fig, paths["audit_png"], dpi=110)
        plt.close(fig)

        main = "NDCG@100" if "NDCG@100" in metrics else metrics[0]
        fig, axes = plt.subplots(1, 2, figsize=(9, 3.8))
        for ax, (k, label) in zip(axes, [("concordance", "ordering concordance"), ("zero_rate", "exact-zero latent rate")]):
            for i, a in enumerate(acts):
                pts = [(r["audit"][k], r["test"][main]) for r in runs if r["activation"] == a]
                ax.scatter([p[0] for p in pts], [p[1] for p in pts], s=14, color=f"C{i % 10}", label=a)
            c = report["summary"]["correlations"].get(f"{k}~{main}", {})
            ax.set_title(f"{label} vs {main}: Pearson r = {_fmt(c.get('pearson'), 2)}", fontsize=9)
            ax.set_xlabel(label)
            ax.set_ylabel(f"test {main}")
        axes[0].legend(fontsize=7)
        fig.suptitle("Properties against accuracy, one dot per run" + tag, fontsize=10)
        fig.tight_layout()
        paths["correlation_png"] = os.path.join(out, "correlation.png")
        atomic_savefig(fig, paths["correlation_png"], dpi=110)
        plt.close(fig)

        fig, ax = plt.subplots(figsize=(6, 3.8))
        for i, a in enumerate(acts):
            curves = [r["history"] for r in runs if r["activation"] == a]
            if not curves or not curves[0]:
                continue
            ep = [h["epoch"] for h in curves[0]]
            key = f"val_{main}"
            vals = np.array([[h.get(key, np.nan) for h in c[: len(ep)]] for c in curves], dtype=np.float64)
            ax.plot(ep, np.nanmean(vals, axis=0), color=f"C{i % 10}", label=a)
        ax.set_xlabel("epoch")
        ax.set_ylabel(f"validation {main} (mean over seeds)")
        ax.legend(fontsize=7)
        ax.set_title("Training curves" + tag, fontsize=10)
        fig.tight_layout()
        paths["curves_png"] = os.path.join(out, "curves.png")
        atomic_savefig(fig, paths["curves_png"], dpi=110)
        plt.close(fig)
    else:
        s = report["summary"]["per_config"]
        keys = list(s)
        fig, ax = plt.subplots(figsize=(6.5, 3.8))
        for i, k in enumerate(keys):
            st = s[k]["RMSE"]
            vals = [r["test"]["RMSE"] for r in report["runs"] if r["config"] == k]
            ax.scatter([i] * len(vals), vals, s=10, color="0.6")
            if st["n"] >= 2 and st["lo"] is not None:
                ax.errorbar([i], [st["mean"]], yerr=[[st["mean"] - st["lo"]], [st["hi"] - st["mean"]]], fmt="o", color="C0", capsize=4,
                            label="here (95% interval)" if i == 0 else None)
            pub = s[k].get("published_ml1m")
            if pub is not None:
                ax.plot([i], [pub], "x", color="C3", ms=8, label="published ML-1M (constant)" if i == 0 else None)
        ax.set_xticks(range(len(keys)))
        ax.set_xticklabels([f"g={s[k]['g']}\nf={s[k]['f']}" for k in keys], fontsize=8)
        ax.set_ylabel("test RMSE")
        ax.legend(fontsize=7)
        ax.set_title("I-AutoRec by (latent g, output f)" + tag, fontsize=10)
        fig.tight_layout()
        paths["rmse_png"] = os.path.join(out, "rmse.png")
        atomic_savefig(fig, paths["rmse_png"], dpi=110)
        plt.close(fig)
    return paths
