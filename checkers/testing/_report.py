"""How a failed assertion speaks: the message, report.json / report.md (and encoder.npz), the reproduce command.

The counterexample is falsify's own record
(:class:`latentcheck.counterexamples.Counterexample`): the message shows its
exact witness and label, the report stores its ``to_json()``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, NoReturn

from . import _session
from ...theorems.properties import P2, P3, get_property
from .._io import atomic_write_text
from ...theorems.formats import save_encoder

__all__ = ["fail", "PROPERTY"]


@dataclass(frozen=True)
class _Assertion:
    """How one assertion words its failure: the title, the assertion's name, and whether it bounds a rate."""

    title: str
    name: str
    rate: bool


#: The assertions' wording, keyed by the property object they test.
PROPERTY = {
    P3: _Assertion("P3 (non-zero preservation): a nonzero input is mapped to the zero vector", "assert_nonvanishing", False),
    P2: _Assertion("P2 (similarity ordering): too many triples flip order", "assert_order_preserving", True),
}
_CALLABLE = "a plain callable cannot be re-checked outside floating point (pass a theorems.Encoder to certify it)"


def _fmt_value(text: str) -> str:
    """An exact rational, with a decimal approximation when it is long."""
    return text if len(text) <= 16 else f"{text} (~{float(Fraction(text)):.6g})"


def _fmt_vector(strings: "tuple[str, ...] | list[str]", name: str, limit: int = 16) -> str:
    if len(strings) <= limit and all(len(v) <= 16 for v in strings):
        return f"{name} = [{', '.join(strings)}]"
    nz = [(i, s) for i, s in enumerate(strings) if s != "0"]
    shown = ", ".join(f"{name}[{i}] = {_fmt_value(s)}" for i, s in nz[:12])
    more = f", ... {len(nz) - 12} more nonzeros in the report" if len(nz) > 12 else ""
    return f"{shown}{more} (the other {len(strings) - len(nz)} of {len(strings)} entries are 0)"


def _fmt_code(values: list[float], limit: int = 8) -> str:
    vals = [f"{v:.6g}" for v in values[:limit]]
    return "[" + ", ".join(vals) + (f", ... ({len(values)} entries)" if len(values) > limit else "") + "]"


def _kind(cx: Any) -> str:
    return f"certified {cx.certified}; shrunk" if cx.is_certified else f"{cx.certified}, not certified; as found"


def _p3_lines(cx: Any, codes: dict, dtype: str) -> list[str]:
    z = codes["enc(x)"]
    lines = [f"Counterexample ({_kind(cx)}):", "    " + _fmt_vector(cx.witness[0], "x")]
    if cx.is_certified:
        lines.append(f"    enc(x) = 0 in real arithmetic ({dtype} evaluation gives {_fmt_code(z)})")
    else:
        lines.append(f"    enc(x) = {_fmt_code(z)} in {dtype}" + (f" under {cx.runtime}" if cx.runtime else ""))
    lines.append(f"    {cx.detail}")
    if not cx.is_certified:
        lines.append(f"    {cx.certified}: the encoder's {dtype} arithmetic returns 0 here; allow_float_only=True accepts such "
                     "rounding hazards")
    return lines


def _p2_lines(cx: Any, rate: dict) -> list[str]:
    r = rate
    lines = [
        f"Flip rate {r['flips']}/{r['triples']} = {r['rate']:.4f}; upper bound {r['upper']:.4f} at {r['confidence']:.0%} confidence "
        f"> tolerance {r['tolerance']:g} (input ties {r['ties']}, of which {r['tie_violations']} have unequal latent scores: "
        "P2's <= demands equal scores on a tie, so these count as flips)."
    ]
    if cx is None:
        if r["flips"]:
            return lines + ["The worst sampled flip does not hold at the nearest exact points of the domain: no witness to show."]
        return lines + [f"No flip was seen: {r['triples']} triples cannot bound the rate below {r['tolerance']:g}; raise samples=."]
    lines.append(f"Worst flip ({_kind(cx)}):")
    lines += ["    " + _fmt_vector(vec, name) for name, vec in zip(cx.names, cx.witness)]
    return lines + [f"    {cx.detail}"]


def _slug(text: str) -> str:
    s = re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_")
    return s[-120:] or "assertion"


def _shown(path: Path) -> str:
    """A path relative to the working directory when it lies below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _command(nodeid: str | None, seed: int, seed_given: bool, report: Path, certifiable: bool) -> str:
    if nodeid:
        flag = "" if seed_given else f" --latentcheck-seed={_session.session_seed()}"
        return f"pytest '{nodeid}'{flag}"
    if certifiable:
        return f"python -m latentcheck.checkers.testing {_shown(report)}"
    return f"call the assertion again with seed={seed}"


def _versions() -> dict[str, str]:
    import importlib.metadata as md

    out = {}
    for pkg in ("latentcheck", "jax", "numpy", "hypothesis"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            out[pkg] = "unknown"
    return out


def _write(directory: Path, payload: dict, encoder: Any, message: str) -> str | None:
    """Write report.json, report.md and (for an Encoder) encoder.npz; the reason when it cannot."""

    try:
        directory.mkdir(parents=True, exist_ok=True)
        if encoder is not None:
            save_encoder(encoder, directory / "encoder.npz")
        atomic_write_text(directory / "report.json", json.dumps(payload, indent=2) + "\n")
        weights = "; weights: `encoder.npz`" if encoder is not None else ""
        atomic_write_text(directory / "report.md", f"# latentcheck: {payload['title']}\n\n```\n{message}\n```\n\n"
                          f"Machine-readable: `report.json`{weights}.\n")
        return None
    except OSError as exc:
        return f"{type(exc).__name__}: {exc}"


def _payload(prop: str, nodeid: str | None, subject: Any, dom: Any, dtype: str, cx: Any, codes: dict, search: dict,
             seed: int, seed_given: bool, extra: dict) -> dict:
    enc = {"kind": subject.kind, "n": subject.n, "m": subject.m}
    if subject.encoder is not None:
        enc.update(summary=subject.encoder.summary(), weights="encoder.npz")
    inputs = (subject.encoder.inputs.record() if subject.encoder is not None
              else getattr(subject.fn, "_latentcheck_inputs", None) or {"normalise": "none", "normalise_from": "default"})
    return {
        "inputs": inputs,
        "schema": "latentcheck.testing/2", "title": PROPERTY[get_property(prop)].title, "property": prop, "test": nodeid, "domain": dom.label,
        "dtype": dtype, "seed": seed, "session_seed": None if seed_given else _session.session_seed(), "search": search,
        "encoder": enc, "counterexample": None if cx is None else {**cx.to_json(), "codes": codes},
        **extra, "versions": _versions(),
    }


def fail(prop: str, subject: Any, dom: Any, dtype: str, cx: Any, codes: dict, search: dict, seed: int, seed_given: bool,
         report_dir: Any, extra: dict) -> NoReturn:
    """Write the report and raise the :class:`AssertionError` that names the counterexample and how to reproduce it."""
    __tracebackhide__ = True
    nodeid = _session.current_nodeid()
    base = Path(report_dir) if report_dir is not None else _session.report_dir()
    kind = PROPERTY[get_property(prop)]
    directory = base / _slug(nodeid or f"{kind.name}-seed{seed}")
    lines = [f"latentcheck: {kind.title} (domain {dom.label}, dtype {dtype})."]
    lines += _p2_lines(cx, extra["rate"]) if kind.rate else _p3_lines(cx, codes, dtype)
    norm = getattr(getattr(subject.encoder, "inputs", None), "normalise", "none")
    if norm != "none":  # what was checked: enc(N(x)), the function the model serves
        lines.append(f"    input normalisation {norm} (from {subject.encoder.inputs.origin}): the encoder sees "
                     + ("x/|x|_2" if norm == "l2" else f"x/{norm.split(':', 1)[1]}") + "; enc(x) above means enc of that input")
    if subject.encoder is None:
        lines.append(f"    {_CALLABLE}")
    evals = int(search["evaluations"])
    lines.append(f"Search: {evals} evaluation{'s' if evals != 1 else ''} in {search['seconds']:.2f} s, seed {seed} "
                 f"({search['engine']}; {'Encoder' if subject.encoder is not None else 'plain callable'}).")
    payload = _payload(prop, nodeid, subject, dom, dtype, cx, codes, search, seed, seed_given, extra)
    path: Path | None = directory / "report.json"
    payload["command"] = command = _command(nodeid, seed, seed_given, path, subject.encoder is not None)
    lines += [f"Report: {_shown(path)}", f"Reproduce: {command}"]
    problem = _write(directory, payload, subject.encoder, "\n".join(lines))
    if problem is not None:
        lines[-2] = f"Report: not written to {_shown(path)} ({problem}); pass report_dir= or --latentcheck-report-dir"
        path = None
        if not nodeid:
            lines[-1] = f"Reproduce: call the assertion again with seed={seed}"
    label = cx.certified if cx is not None else "none"
    summary = f"{prop} {'certified ' + label if cx is not None and cx.is_certified else label if cx is not None else 'rate'}"
    if kind.rate:
        summary += f": rate {extra['rate']['rate']:.4f} > {extra['rate']['tolerance']:g}"
    _session.record(_session.Finding(nodeid, prop, label, summary, _shown(path) if path else None))
    raise AssertionError("\n".join(lines))
