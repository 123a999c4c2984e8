"""Reports: ``report.json`` (versioned schema), ``report.md`` for people, PNG plots.

The JSON is the record; Markdown is rendered from it (``latentcheck report
report.json`` re-renders it), so the two never disagree. A counterexample is
called real only when its ``certified`` label is ``exact`` or ``interval``;
float-only findings (with their dtype and runtime) and undecided candidates
get their own sections that say they are not counterexamples to the property.

A report is self-contained: it records the SHA-256 of the weights file the
encoder came from and, for encoders of at most 10^4 parameters, the exact
weights (``weights``: per layer ``W`` rows and ``b`` as exact rational strings,
and the activation), so a witness can be re-checked from the JSON alone.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Mapping

from ..theorems.errors import DataError, InvalidArgument
from ..theorems.files import atomic_write_text
from ..theorems.properties import get_property
from .plots import write_plots

__all__ = ["write_report", "render_markdown", "load_report", "strip_timings", "SCHEMA"]

SCHEMA = "latentcheck.falsify/1"



def _statement(prop: str) -> str:
    """The property's statement from the one registry ('' for a report of a property this version does not know)."""

    try:
        return get_property(prop).statement
    except InvalidArgument:
        return ""


def strip_timings(report: Mapping[str, Any]) -> dict[str, Any]:
    """A copy without the fields that vary between identical runs (timings).

    Example:
        >>> strip_timings({"stats": {"evaluations": 3, "timing": {"seconds": 1.0}}})
        {'stats': {'evaluations': 3}}
    """
    out = json.loads(json.dumps(report))
    stats = out.get("stats")
    if isinstance(stats, dict):
        stats.pop("timing", None)
    return out


def load_report(path: "str | os.PathLike[str]") -> dict[str, Any]:
    """Read a ``report.json`` and check its schema."""
    p = Path(path)
    if not p.exists():
        raise DataError(f"report {str(p)!r} does not exist; pass the report.json written by latentcheck falsify --out DIR")
    try:
        data = json.loads(p.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise DataError(f"report {str(p)!r} is not valid JSON ({exc})") from None
    if not isinstance(data, dict) or not str(data.get("schema", "")).startswith("latentcheck.falsify/"):
        raise InvalidArgument(f"report {str(p)!r} has schema {data.get('schema') if isinstance(data, dict) else None!r}; expected {SCHEMA!r}")
    return data


def _sparse(values: list[str], limit: int = 12) -> str:
    nz = [(i, v) for i, v in enumerate(values) if v not in ("0", "0/1")]
    if not nz:
        return "0 (the zero vector)"
    shown = []
    for i, v in nz[:limit]:
        if len(v) > 40:
            v = f"{v[:18]}...{v[-12:]} ({len(v)} chars)"
        shown.append(f"x[{i}] = {v}")
    more = f", ... ({len(nz) - limit} more)" if len(nz) > limit else ""
    return f"{len(nz)} nonzero of {len(values)}: " + ", ".join(shown) + more


def _short(text: Any, limit: int = 60) -> str:
    s = str(text)
    if len(s) <= limit:
        return s
    try:
        from fractions import Fraction

        return f"{float(Fraction(s)):.6g} (exact: {len(s)} chars)"
    except (ValueError, ZeroDivisionError, OverflowError):
        return s[:limit] + "..."


def _witness_sections(report: Mapping[str, Any], prop: str) -> list[str]:
    """The certified counterexamples, the float-only hazards and the undecided candidates, a section each."""
    dtype = report.get("dtype")
    titles = (("counterexamples", "Certified counterexamples"),
              ("float_only", f"Float-only hazards in {dtype} (not counterexamples to {prop})"),
              ("undecided", f"Undecided candidates (float {dtype} violates {prop}; real value not decided)"))
    lines: list[str] = []
    for key, title in titles:
        items = report.get(key) or []
        if items:
            lines += ["", f"## {title}", ""]
            for k, c in enumerate(items, 1):
                lines += _render_cx(k, c)
    return lines


def _normalisation_phrase(inp: Mapping[str, Any]) -> str:
    """``l2 (from the model file): the encoder sees x/|x|_2`` and the like."""
    norm = str(inp.get("normalise", "none"))
    src = {"file": "the model file", "option": "--input-normalise", "default": "default"}.get(str(inp.get("normalise_from")),
                                                                                              str(inp.get("normalise_from")))
    sees = {"none": "x as given", "l2": "x/|x|_2 (0 for x = 0)"}.get(norm, f"x/{norm.split(':', 1)[-1]}")
    return f"{norm} (from {src}): the function checked is enc applied to {sees}"
def _provenance_rows(prov: dict[str, Any]) -> list[str]:
    """Setting rows naming the model file's tensors read, those ignored, the VAE latent and every fold note."""
    rows = []
    if prov.get("tensors_used"):
        rows.append(f"| tensors read | {', '.join(prov['tensors_used'])}"
                    + (f" (latent {prov['latent']})" if prov.get("latent") else "")
                    + (f"; ignored: {', '.join(prov['tensors_ignored'])}" if prov.get("tensors_ignored") else "") + " |")
    return rows + [f"| model note | {note} |" for note in prov.get("folded", [])]


def render_markdown(report: Mapping[str, Any]) -> str:
    """The Markdown report for people, rendered from the JSON dict."""
    prop = report.get("property", "?")
    status = report.get("status", "?")
    enc = report.get("encoder") or {}
    stats = report.get("stats") or {}
    timing = stats.get("timing") or {}
    lines = [f"# latentcheck falsify: {prop}", ""]
    lines.append(f"**Property {prop}:** {_statement(prop)}")
    lines.append("")
    headline = {
        "counterexample": f"**Refuted.** {len(report.get('counterexamples', []))} certified counterexample(s) to {prop}.",
        "float-only": f"**No real counterexample found.** Only float-only hazards in {report.get('dtype')}: the float "
                      f"computation violates {prop} where the real value does not. They are not counterexamples to {prop}.",
        "none-found": f"**None found within the budget.** This is evidence, not a proof that {prop} holds.",
        "undecided": f"**Undecided.** Candidates violate {prop} in {report.get('dtype')} floats, but their real value could "
                     f"not be decided: neither counterexamples nor refuted.",
        "none-exists": _none_exists_headline(report),
        "interrupted": f"**Interrupted (Ctrl-C).** The search stopped early and nothing was certified: no conclusion about {prop}.",
    }.get(status, status)
    if report.get("interrupted") and status != "interrupted":
        headline += " **Interrupted (Ctrl-C)**: the search stopped early; what was certified before is kept."
    lines += [headline, ""]
    if report.get("message"):
        lines += [str(report["message"]), ""]
    if report.get("theory"):
        lines += [f"Theory: {report['theory']}.", ""]
    lines += ["## Setting", "", "| | |", "|---|---|"]
    if "sizes" in enc:
        lines.append(f"| encoder | sizes {enc.get('sizes')}, activations {enc.get('activations')} |")
    else:
        lines.append(f"| encoder | {enc} |")
    act = report.get("activation")
    if act:
        lines.append(f"| latent activation | {act.get('activation')}: {act.get('class')} ({act.get('certificate')}) |")
    tgt = report.get("target")
    if tgt:
        lines.append(f"| search target | {tgt.get('reason')} |")
    dom = report.get("domain") or {}
    inp = report.get("inputs") or {"normalise": "none", "normalise_from": "not recorded"}
    lines.append(f"| input normalisation | {_normalisation_phrase(inp)} |")
    if enc.get("weights_sha256"):
        lines.append(f"| weights file | {enc.get('weights_file')} (SHA-256 {enc['weights_sha256']}) |")
    lines += _binding_rows(report)
    if enc.get("stored_dtypes"):
        lines.append(f"| stored dtypes | {', '.join(enc['stored_dtypes'])} (read exactly) |")
    lines += _provenance_rows(enc.get("provenance") or {})
    if report.get("weights"):
        lines.append("| exact weights | recorded in report.json (`weights`) |")
    lines.append(f"| domain | {dom.get('label', dom)} |")
    lines.append(f"| dtype | {report.get('dtype')} (search in {report.get('search_dtype', 'float32')}) |")
    if report.get("float_runtime"):
        lines.append(f"| float runtime | {report['float_runtime']} (XLA flushes subnormals to zero; IEEE NumPy re-checks float findings) |")
    lines.append(f"| seed | {report.get('seed')} |")
    lines.append(f"| budget | {report.get('budget_seconds')} s |")
    dev = report.get("device") or {}
    lines.append(f"| device | {dev.get('platform')} ({dev.get('kind')}) |")
    vers = report.get("versions") or {}
    lines.append("| versions | " + ", ".join(f"{k} {v}" for k, v in vers.items()) + " |")
    lines += ["", "## Search", "", "| | |", "|---|---|"]
    for key in ("evaluations", "restarts", "rounds", "steps_per_round", "candidates_checked", "certified", "float_only",
                "rejected", "shrink_checks", "budget_exhausted"):
        if key in stats:
            lines.append(f"| {key.replace('_', ' ')} | {stats[key]} |")
    for key in ("seconds", "first_certified_seconds", "evaluations_per_second"):
        if timing.get(key) is not None:
            lines.append(f"| {key.replace('_', ' ')} | {timing[key]} |")
    lines += _witness_sections(report, prop)
    plots = report.get("plots") or []
    if plots:
        lines += ["", "## Plots", ""] + [f"![{Path(p).stem}]({p})" for p in plots]
    lines += ["", "## Replay", "", "```", str(report.get("command") or "(API call; see seed and settings above)"), "```", ""]
    return "\n".join(lines)


def _binding_rows(report: Mapping[str, Any]) -> list[str]:
    """The input semantics and the model file's tensors, as the report records them (certificate binding)."""
    out = []
    inputs = report.get("inputs")
    if isinstance(inputs, dict):
        out.append(f"| input normalisation | {inputs.get('normalise')} (from {inputs.get('normalise_from')}) |")
    model = report.get("model")
    if isinstance(model, dict) and model.get("tensors_used"):
        used = ", ".join(str(t) for t in model["tensors_used"])
        out.append(f"| tensors read | {used} ({model.get('format')}) |")
    return out


def _render_cx(k: int, c: Mapping[str, Any]) -> list[str]:
    label = c.get("certified")
    if label in ("exact", "interval"):
        real = "real counterexample"
    elif label == "undecided":
        real = "undecided: the real value could not be decided"
    else:
        real = f"float-only in {c.get('dtype')} under {c.get('runtime') or 'XLA'}: NOT a counterexample over the reals"
    out = [f"### {k}. {label} ({real})", ""]
    if label not in ("exact", "interval") and c.get("runtime"):
        ieee = c.get("ieee_reproduces")
        out.append(f"- runtime: {c['runtime']}" + ("" if ieee is None else
                   ("; also in IEEE NumPy" if ieee else "; holds only under flush-to-zero (XLA), IEEE gives otherwise")))
    if c.get("origin"):
        out.append(f"- origin: {c['origin']}")
    if c.get("margin") is not None:
        out.append(f"- margin: {_short(c['margin'])}")
    out.append(f"- check: {_short(c.get('detail', ''), 300)}")
    for note in c.get("notes", []):
        out.append(f"- note: {note}")
    for name, vec in (c.get("witness") or {}).items():
        out.append(f"- {name}: {_sparse(list(vec)).replace('x[', name + '[')}")
    out.append("")
    return out


def _none_exists_headline(report: dict) -> str:
    """Why no counterexample exists: an exact ``verify`` proof (real inputs) or T2 plus an empty float zero set."""
    if isinstance(report.get("verify"), dict) and report["verify"].get("verdict") == "proved":
        return ("**No real counterexample exists**: `latentcheck verify` proved P3 with an exact certificate. This is a "
                "statement about real arithmetic; a float evaluation may still round a latent to 0.")
    return (f"**No real counterexample exists** by theorem (T2), and the activation's sound float zero set in "
            f"{report.get('dtype')} ({report.get('float_runtime', 'xla')}) is empty.")


def write_report(result: Any, out_dir: "str | os.PathLike[str]", *, command: str | None = None,
                 plots: bool = True) -> dict[str, Path]:
    """Write ``report.json``, ``report.md`` and (optionally) PNG plots into ``out_dir``.

    Args:
        result: a :class:`latentcheck.checkers.falsify.FalsifyResult` or its ``to_json()`` dict.
        out_dir: folder to create or reuse.
        command: the command line to print under "Replay".
        plots: also write ``latent_norms.png`` / ``flip_margins.png``.

    Returns:
        Paths by name: ``json``, ``markdown`` and each plot.
    """
    data = result.to_json() if hasattr(result, "to_json") else dict(result)
    if command is not None:
        data["command"] = command
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    if plots:

        written = write_plots(data, out)
        data["plots"] = [p.name for p in written.values()]
        paths.update(written)

    paths["json"] = out / "report.json"
    atomic_write_text(paths["json"], json.dumps(data, indent=2) + "\n")
    paths["markdown"] = out / "report.md"
    atomic_write_text(paths["markdown"], render_markdown(data))
    return paths
