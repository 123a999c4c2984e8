"""Statistics and the study report (JSON, Markdown, PNG).

The statistics come from ``scipy.stats`` (t quantiles, ``ttest_rel``,
``wilcoxon``, ``permutation_test`` for sign flips, ``pearsonr`` /
``spearmanr``); Holm's step-down correction is the few lines of
:func:`holm`. The printers are thin wrappers over the
study's JSON-ready dict: every number in the Markdown and the plots comes
from ``report.json``.
"""

from __future__ import annotations

import json
import math
import os
from typing import Any, Sequence

import numpy as np
from .._io import atomic_savefig, atomic_write_text

__all__ = [
    "t_cdf",
    "t_quantile",
    "mean_ci",
    "paired_t_test",
    "wilcoxon_test",
    "holm",
    "sign_flip_test",
    "pearson",
    "spearman",
    "write_report",
    "render_markdown",
    "render_audit_markdown",
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
    """CDF of Student's t with ``df`` degrees of freedom (``scipy.stats.t``)."""
    from scipy import stats

    if not df > 0:
        raise ValueError(f"df={df!r} must be positive")
    return float(stats.t.cdf(t, df))


def t_quantile(p: float, df: float) -> float:
    """The ``p`` quantile of Student's t (``scipy.stats.t.ppf``)."""
    from scipy import stats

    if not 0.0 < p < 1.0:
        raise ValueError(f"p={p!r} must lie in (0, 1)")
    return float(stats.t.ppf(p, df))


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
    """Paired t-test of ``a - b`` (two-sided, ``scipy.stats.ttest_rel``) with the t interval of the mean difference."""
    from scipy import stats

    x, y = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    ci = mean_ci(x - y, level)
    n = int(x.size)
    if n < 2:
        return {"diff": ci["mean"], "lo": float("nan"), "hi": float("nan"), "t": float("nan"), "p": float("nan"), "n": n}
    d = x - y
    if np.all(d == d[0]):  # zero variance: scipy gives NaN; the sign is certain when every difference is the same nonzero value
        t, p = (0.0, 1.0) if d[0] == 0 else (math.copysign(math.inf, d[0]), 0.0)
    else:
        res = stats.ttest_rel(x, y)
        t, p = float(res.statistic), float(res.pvalue)
    return {"diff": ci["mean"], "lo": ci["lo"], "hi": ci["hi"], "t": float(t), "p": float(p), "n": n}


def wilcoxon_test(a: Sequence[float], b: Sequence[float]) -> dict[str, Any]:
    """Wilcoxon signed-rank test of ``a - b`` (two-sided, ``scipy.stats.wilcoxon``; exact for small n without ties)."""
    from scipy import stats

    d = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    d = d[np.isfinite(d)]
    if d.size == 0 or np.all(d == 0):
        return {"p": float("nan") if d.size == 0 else 1.0, "n": int(d.size), "statistic": float("nan")}
    res = stats.wilcoxon(d)
    return {"p": float(res.pvalue), "n": int(d.size), "statistic": float(res.statistic)}


def sign_flip_test(d: Sequence[float], *, n_perm: int = 20_000, seed: int = 0, exact_max: int = 16) -> dict[str, float]:
    """Two-sided sign-flip permutation test of ``mean(d) = 0`` (``scipy.stats.permutation_test``, paired samples).

    Exact (all ``2^n`` sign patterns) when ``n <= exact_max``, else ``n_perm``
    random patterns drawn from ``default_rng(seed)``.
    """
    from scipy import stats

    x = np.asarray(d, dtype=np.float64)
    x = x[np.isfinite(x)]
    n = int(x.size)
    if n == 0:
        return {"p": float("nan"), "n": 0, "method": "none"}
    exact = n <= exact_max
    res = stats.permutation_test((x,), np.mean, permutation_type="samples", alternative="two-sided",
                                 n_resamples=np.inf if exact else n_perm, rng=np.random.default_rng(seed))
    method = f"exact ({2 ** n} sign patterns)" if exact else f"Monte Carlo ({n_perm} sign patterns, seed {seed})"
    return {"p": float(min(1.0, res.pvalue)), "n": n, "method": method}


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values (family-wise error), in the input order; NaN stays NaN.

    Sorted ascending, ``p_(i)`` becomes ``max_{j<=i} min(1, (m - j + 1) p_(j))``
    with ``m`` the number of finite p-values.
    """
    p = np.asarray(pvalues, dtype=np.float64)
    out = np.full(p.shape, np.nan)
    idx = np.flatnonzero(np.isfinite(p))
    m = idx.size
    running = 0.0
    for rank, i in enumerate(idx[np.argsort(p[idx], kind="stable")]):
        running = max(running, min(1.0, (m - rank) * p[i]))
        out[i] = running
    return out.tolist()


def pearson(x: Sequence[float], y: Sequence[float]) -> float:
    """Pearson correlation (``scipy.stats.pearsonr``); NaN when either side is constant or n < 3."""
    from scipy import stats

    a, b = _finite_pairs(x, y)
    if a.size < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    return float(stats.pearsonr(a, b).statistic)


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    """Spearman's rho (``scipy.stats.spearmanr``); NaN when either side is constant or n < 3."""
    from scipy import stats

    a, b = _finite_pairs(x, y)
    if a.size < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    return float(stats.spearmanr(a, b).statistic)


def _finite_pairs(x: Sequence[float], y: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    ok = np.isfinite(a) & np.isfinite(b)
    return a[ok], b[ok]


def correlation_p(r: float, n: int) -> float:
    """Two-sided p of ``r = 0`` from ``t = r sqrt((n-2)/(1-r^2))`` with ``n - 2`` df (``scipy.stats.t.sf``)."""
    from scipy import stats

    if not np.isfinite(r) or n < 3:
        return float("nan")
    if abs(r) >= 1.0:
        return 0.0
    t = r * math.sqrt((n - 2) / (1.0 - r * r))
    return float(2.0 * stats.t.sf(abs(t), n - 2))


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
    title = {"multdae": "Mult-DAE latent-activation study", "multvae": "Mult-VAE latent-activation study"}.get(model, "I-AutoRec activation table")
    lines.append(f"# latentcheck study: {title}")
    lines.append("")
    if data.get("synthetic"):
        lines.append("> **SYNTHETIC DATA**: these numbers come from latentcheck's generated low-rank data set, "
                     "not from MovieLens. Pass `--data PATH` for real data.")
        lines.append("")
    if "conclusion" in report.get("summary", {}):
        lines += _md_conclusion(report)
    lines.append("## Setup")
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
    if model in ("multdae", "multvae"):
        lines += _md_implicit(report)
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


def render_audit_markdown(p: dict) -> str:
    """The Markdown report of ``latentcheck audit`` (a view of its report.json)."""
    d, inp = p["data"], p["inputs"]
    L = [f"# latentcheck audit: {p['weights']}", ""]
    if d.get("synthetic"):
        L += ["> **SYNTHETIC DATA**: no --data given; these rows come from latentcheck's generated set.", ""]
    if p.get("partial_match_note"):
        L += [f"> **Partial match**: {p['partial_match_note']}.", ""]
    L += [f"- encoder: n={p['n']} inputs, m={p['m']} latent units, latent activation `{p['activation']}`; P1 (m < n): {p['p1']}",
          f"- data: {d['source']} ({d['ratings']} rows, {d['users']} users, {d['items']} items)",
          f"- rows audited: {p['rows']} {inp['rows']} ({inp['values']}, threshold {inp.get('threshold')}, "
          f"min_user_items {inp.get('min_user_items')}), preprocessing {p['normalisation']} (from {p.get('normalisation_from', 'not recorded')})",
          f"- columns: {inp['columns']}; {inp['matched_columns']} of {p['n']} inputs matched ({inp['matched_fraction']:.2%})",
          f"- seed {p['seed']}, {p['triples']} triples", ""]
    rows = [
        ["exact-zero latent rate (float32)", f"{_fmt(p['zero_rate'])} ({p['zero_rows']} rows)"],
        ["near-zero norms", ", ".join(f"{k}: {_fmt(v)}" for k, v in p["near_zero"].items())],
        ["latent norm quantiles", ", ".join(f"{k} {_fmt(v)}" for k, v in p["norm_quantiles"].items())],
        ["dead units / constant units", f"{p['dead_units']} / {p['constant_units']}"],
        ["latent units exactly 0 per row (mean)", _fmt(p["zero_unit_fraction"])],
        ["fewest nonzero latent units of any row", str(p["fewest_nonzero_units"])],
        ["ordering concordance", _fmt(p["concordance"])],
        ["Kendall tau-b", _fmt(p["kendall_tau_b"])],
        ["P2 violation rate", f"{_fmt(p['p2_violation_rate'])} (strict flips {_fmt(p['strict_flip_rate'])}, input ties {_fmt(p['input_tie_rate'])})"],
        ["input ties / tie violations", f"{p.get('input_ties', 0)} / {p.get('tie_violations', 0)}"],
    ]
    L += [_table(["figure", "value"], rows), ""]
    if p["certified"]:
        L += ["## Certified counterexamples", ""]
        L += [_table(["property", "certified", "raw ids", "detail"],
                     [[c["property"], str(c["certified"]), str(_raw_ids(c)), str(c.get("detail", ""))[:160]] for c in p["certified"]]), ""]
    fal = [[k, str(v.get("status")), str(len(v.get("certified", []))), str(v.get("reason", ""))] for k, v in (p.get("falsifier") or {}).items() if isinstance(v, dict)]
    if fal:
        L += ["## Falsifier on the data domain", "", _table(["property", "status", "certified", "note"], fal), ""]
    return "\n".join(L)


def _raw_ids(c: dict) -> Any:
    for k in ("user_id", "user_ids", "item_id", "item_ids", "row", "rows"):
        if k in c:
            return c[k]
    return ""


def _md_conclusion(report: dict) -> list[str]:
    c = report["summary"]["conclusion"]
    L = ["## Conclusion", "", f"Mean test NDCG@100, best first: {c['ranking']}.", ""]
    L.append("**What the data support:**")
    L.append("")
    L += [f"- {x}" for x in c["supported"]] or ["- no difference between activations passes the Holm-corrected tests."]
    L.append("")
    L.append("**What they do not support:**")
    L.append("")
    L += [f"- {x}" for x in c["not_supported"]] or ["- (nothing listed)"]
    L.append("")
    L.append("**Caveats:**")
    L.append("")
    L += [f"- {x}" for x in c["caveats"]]
    L.append("")
    return L


def _md_implicit(report: dict) -> list[str]:
    s = report["summary"]
    meta = report["meta"]
    metrics = meta["metrics"]
    name = "Mult-VAE" if meta["model"] == "multvae" else "Mult-DAE"
    n_sp = len(meta.get("split_seeds", [0]))
    L: list[str] = []
    L.append(f"## {name} accuracy on held-out test users (mean over {n_sp} splits x {len(meta['seeds'])} seeds, [95% t-interval over runs])")
    L.append("")
    header = ["latent activation", "class", "chosen lr / lam / dropout"] + metrics + ["best step (median)", "stopped by cap"]
    rows = []
    for act, st in s["per_activation"].items():
        h = st["hyper"]
        capped = f"**{st['capped_runs']} of {st['runs']}**" if st["capped_runs"] else f"0 of {st['runs']}"
        rows.append([f"`{act}`", st["class"], f"{h['lr']:g} / {h['lam']:g} / {h['dropout']:g}"] + [_ci(st["metrics"][m]) for m in metrics]
                    + [_fmt(st["best_step_median"], 0), capped])
    for bname in ("ease", "popularity"):
        if bname in report.get("baselines", {}):
            b = report["baselines"][bname]
            label = f"EASE (lam={', '.join(_fmt(v, 0) for v in b['lam'])}), linear reference" if bname == "ease" else "popularity"
            rows.append([label, "-", "-"] + [_fmt(b["test"][m]) for m in metrics] + ["-", "-"])
    L.append(_table(header, rows))
    L.append("")
    L.append("The interval is over all runs (split seeds x training seeds), so it includes the sampling of the test users "
             "(the split changes) and training randomness. Baselines are averaged over the splits.")
    L.append("")
    L += _md_tuning(report)
    L += _md_analysis(report)
    L += _md_paired(report)
    L += _md_audit(report)
    L += _md_correlations(report)
    return L


def _md_analysis(report: dict) -> list[str]:
    """The pre-registered analysis (primary: cluster bootstrap, TOST at the declared margin), every metric with its own Holm."""
    an = report["summary"].get("analysis")
    if not an:
        return []
    m, mg = an["primary"], an["margin"]
    L = [f"## Pre-registered analysis: {m} against `{an['reference']}`, equivalence margin +-{mg:g} (primary test)", ""]
    rows = []
    for arm, comp in an["comparisons"].items():
        c = comp[m]
        rows.append([f"`{arm}`", f"{_fmt(c['diff'])} [{_fmt(c['ci95'][0])}, {_fmt(c['ci95'][1])}]", f"[{_fmt(c['ci90'][0])}, {_fmt(c['ci90'][1])}]",
                     f"{_p(c['p_superiority'])} ({_p(c.get('p_superiority_holm'))})", f"{_p(c['p_tost'])} ({_p(c.get('p_tost_holm'))})",
                     f"**{an['verdicts'][arm]}**"])
    L.append(_table(["arm", "difference [95% interval]", "90% interval", "superiority p (Holm)", f"TOST p at +-{mg:g} (Holm)", "verdict"], rows))
    L.append("")
    L.append(f"Declared before any run (`meta.analysis`): primary metric {m}, margin +-{mg:g}, alpha {an['alpha']:g}, "
             f"{an['n_boot']} bootstrap resamples, seed {an['seed']}. Method: {an['method']}. *equivalent*: both one-sided tests "
             "reject a difference beyond the margin (Holm); *better*/*worse*: the two-sided superiority test rejects no difference (Holm); "
             "*inconclusive*: neither. `latentcheck study-stats report.json` recomputes every number from the stored per-user scores.")
    L.append("")
    others = [k for k in next(iter(an["comparisons"].values()), {}) if k != m]
    rows = [[f"`{arm}`", k, f"{_fmt(comp[k]['diff'])} [{_fmt(comp[k]['ci95'][0])}, {_fmt(comp[k]['ci95'][1])}]",
             f"{_p(comp[k]['p_superiority'])} ({_p(comp[k].get('p_superiority_holm'))})"] for k in others for arm, comp in an["comparisons"].items()]
    if rows:
        L.append("Secondary metrics (same bootstrap, superiority only, Holm per metric):")
        L.append("")
        L.append(_table(["arm", "metric", "difference [95% interval]", "p (Holm)"], rows))
        L.append("")
    return L


def _md_paired(report: dict) -> list[str]:
    s = report["summary"]
    meta = report["meta"]
    metrics = meta["metrics"]
    ref = meta["reference_activation"]
    L: list[str] = []
    L.append(f"## Paired comparison with `{ref}` (Holm-corrected across the {len(s['paired_vs_reference'])} activations compared)")
    L.append("")
    header = ["latent activation", "metric", "difference [95% CI] (runs)", "paired t p (Holm)", "Wilcoxon p (Holm)", "split means t p (Holm)",
              "test users t p (Holm)"]
    rows = []
    for act, comp in s["paired_vs_reference"].items():
        for m in metrics:
            c = comp[m]
            t = c["runs_t"]
            hp = lambda k: f"{_p(c[k]['p'])} ({_p(c[k].get('p_holm'))})"  # noqa: E731
            rows.append([f"`{act}`", m, _ci({"mean": t["diff"], "lo": t["lo"], "hi": t["hi"], "n": t["n"]}), hp("runs_t"), hp("runs_wilcoxon"),
                         hp("splits_t"), hp("users_t")])
    L.append(_table(header, rows) if rows else "(no other activation)")
    L.append("")
    L.append("Runs pair the same split seed and training seed (same test users, initial key, dropout masks and batch order). "
             "Split means average the training seeds within a split; test users pair each user's metric averaged over the "
             "training seeds, pooled over the splits. Holm's step-down correction is applied per metric and per test across the "
             "activations compared with the reference.")
    L.append("")
    return L


def _md_audit(report: dict) -> list[str]:
    s = report["summary"]
    L: list[str] = []
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
    return L


def _md_correlations(report: dict) -> list[str]:
    s = report["summary"]
    L: list[str] = []
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


def _md_tuning(report: dict) -> list[str]:
    meta, s = report["meta"], report["summary"]
    tuning = meta.get("tuning", {})
    L = ["## Tuning (validation users only; the test users are evaluated once, after selection)", ""]
    g, br = tuning.get("grid", {}), tuning.get("bracketing", {})
    axes = ", ".join(f"{a} ({d['step']}, limits {d['limits'][0]:g}-{d['limits'][1]:g})" for a, d in br.get("axes", {}).items()) or "none"
    L.append(f"Search `{tuning.get('search')}` from lr {g.get('lr')}, weight decay lam {g.get('lam')}, dropout {g.get('dropout')}, latent width {g.get('width')} "
             f"({len(tuning.get('trials', []))} initial trials), widened for up to {br.get('max_rounds', 0)} rounds along: {axes}; "
             f"each trial trained with seeds {tuning.get('seeds_per_trial')} (score: their mean validation NDCG@100), on {tuning.get('on')}; "
             f"early stopping after {meta['train_config'].get('patience_steps')} optimiser steps without a better validation NDCG@100, "
             f"cap {meta['train_config'].get('max_steps')} steps.")
    L.append("")
    rows, curves = [], []
    for act, v in s.get("tuning", {}).items():
        for sp, r in v.get("by_split", {}).items():
            if not r.get("axes"):
                continue
            h = r["chosen"]
            rows.append([f"`{act}`", sp, ", ".join(f"{k} {x:g}" for k, x in h.items()), _fmt(r["chosen_score"]), str(r["n_trials"]),
                         "; ".join(f"{k}: {a['status']}" for k, a in r["axes"].items())])
            for k, a in r["axes"].items():
                pts = ", ".join((f"**{x:g}: {_fmt(y)}**" if x == a["chosen"] else f"{x:g}: {_fmt(y)}") for x, y in a["curve"])
                curves.append([f"`{act}`", sp, k, pts])
    if not rows:
        L += ["One trial only (fixed values): no selection.", ""]
        return L
    L.append(_table(["latent activation", "split", "chosen", "validation NDCG@100", "trials", "bracketing per axis"], rows))
    L.append("")
    L.append("Validation curve along each axis through the chosen trial (value: mean validation NDCG@100; chosen in bold):")
    L.append("")
    L.append(_table(["latent activation", "split", "axis", "curve"], curves))
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


def _plot_curves(report: dict, out: str, tag: str, main: str) -> dict[str, str]:
    """Validation curves against optimiser steps: one panel per activation (final runs, stop marked), and the tuning trials."""
    import matplotlib.pyplot as plt


    acts = list(report["summary"]["per_activation"])
    key = f"val_{main}"
    fig, axes = plt.subplots(1, len(acts), figsize=(3.4 * len(acts), 3.2), sharey=True, squeeze=False)
    for ax, a in zip(axes[0], acts):
        for r in (r for r in report["runs"] if r["activation"] == a):
            h = r["history"]
            if not h:
                continue
            ax.plot([x["step"] for x in h], [x.get(key) for x in h], lw=0.8, alpha=0.7)
            best = next((x for x in h if x["step"] == r["best_step"]), None)
            if best is not None:
                ax.plot([best["step"]], [best.get(key)], "o", ms=3, color="k")
            ax.plot([h[-1]["step"]], [h[-1].get(key)], "x", ms=6, color="C3" if r["stop_reason"] == "cap" else "0.4")
        ax.set_title(f"{a}", fontsize=9)
        ax.set_xlabel("optimiser step")
    axes[0][0].set_ylabel(f"validation {main}")
    fig.suptitle(f"Validation curves of the final runs (dot: kept point; x: stop, red if stopped by the cap){tag}", fontsize=9)
    fig.tight_layout()
    paths = {"curves_png": os.path.join(out, "curves.png")}
    atomic_savefig(fig, paths["curves_png"], dpi=110)
    plt.close(fig)
    tuning = report["summary"].get("tuning", {})
    if any(v.get("trials") for v in tuning.values()):
        fig, axes = plt.subplots(1, len(acts), figsize=(3.4 * len(acts), 3.2), sharey=True, squeeze=False)
        for ax, a in zip(axes[0], acts):
            for i, t in enumerate(tuning[a]["trials"]):
                h = t["hyper"]
                lw = 2.0 if i == tuning[a]["chosen_index"] else 0.8
                ax.plot([c[0] for c in t["curve"]], [c[1] for c in t["curve"]], lw=lw, label=f"lr {h['lr']:g} lam {h['lam']:g} d {h['dropout']:g}")
            ax.set_title(a, fontsize=9)
            ax.set_xlabel("optimiser step")
        axes[0][0].set_ylabel(f"validation {main}")
        axes[0][0].legend(fontsize=6)
        fig.suptitle(f"Tuning trials (thick: chosen){tag}", fontsize=9)
        fig.tight_layout()
        paths["tuning_png"] = os.path.join(out, "tuning.png")
        atomic_savefig(fig, paths["tuning_png"], dpi=110)
        plt.close(fig)
    return paths


def _save(fig: Any, path: str) -> str:
    """Save ``fig`` atomically at 110 dpi, close it, return ``path``."""
    import matplotlib.pyplot as plt


    atomic_savefig(fig, path, dpi=110)
    plt.close(fig)
    return path


def _plot_metrics(report: dict, out: str, tag: str) -> str:
    """Test metrics per activation: every run, the mean and its 95% interval, the EASE and popularity lines."""
    import matplotlib.pyplot as plt

    s = report["summary"]["per_activation"]
    acts, metrics, runs = list(s), report["meta"]["metrics"], report["runs"]
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
    if report.get("baselines"):
        np.atleast_1d(axes)[0].legend(fontsize=7)
    fig.suptitle(f"{'Mult-VAE' if report['meta']['model'] == 'multvae' else 'Mult-DAE'} test metrics by latent activation, mean and 95% interval over seeds" + tag, fontsize=10)
    fig.tight_layout()
    return _save(fig, os.path.join(out, "metrics.png"))


def _plot_audit(report: dict, out: str, tag: str) -> str:
    """The audit figures of every run, one panel per figure."""
    import matplotlib.pyplot as plt

    acts, runs = list(report["summary"]["per_activation"]), report["runs"]
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
    return _save(fig, os.path.join(out, "audit.png"))


def _plot_correlation(report: dict, out: str, tag: str, main: str) -> str:
    """Concordance and exact-zero rate against the main metric, one dot per run."""
    import matplotlib.pyplot as plt

    acts, runs = list(report["summary"]["per_activation"]), report["runs"]
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
    return _save(fig, os.path.join(out, "correlation.png"))


def _plot_rmse(report: dict, out: str, tag: str) -> str:
    """I-AutoRec: test RMSE per (g, f), with the published ML-1M constants marked."""
    import matplotlib.pyplot as plt

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
    return _save(fig, os.path.join(out, "rmse.png"))


def _plots(report: dict, out: str) -> dict[str, str]:
    """Every PNG plot of the report under ``out``; their paths by key."""
    import matplotlib

    matplotlib.use("Agg")
    tag = " (SYNTHETIC DATA)" if report["meta"]["data"].get("synthetic") else ""
    if report["meta"]["model"] not in ("multdae", "multvae"):
        return {"rmse_png": _plot_rmse(report, out, tag)}
    metrics = report["meta"]["metrics"]
    main = "NDCG@100" if "NDCG@100" in metrics else metrics[0]
    paths = {"metrics_png": _plot_metrics(report, out, tag), "audit_png": _plot_audit(report, out, tag),
             "correlation_png": _plot_correlation(report, out, tag, main)}
    paths.update(_plot_curves(report, out, tag, main))
    return paths
