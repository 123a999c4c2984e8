"""The report's words and numbers for a run: the setting, the histograms and the one-line message."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from ...counterexamples.certificate import binding_record

__all__ = ["initial_info", "histograms", "message", "theory_note"]


def theory_note(prop: Any, encoder: Any, cls: Any, domain: Any, black: bool) -> str:
    """What the theorems say for this property, encoder and domain (the property's words)."""
    if black:
        return "black-box callable: only float search is possible; any finding is float-only"
    return prop.theory_note(encoder, cls, domain)


def initial_info(prop: Any, encoder: Any, black: bool, dim: int, cls: Any, target: Any, dom: Any, dtype: str,
                 seed: int, budget: float) -> dict[str, Any]:
    """The report's setting: encoder, activation class, search target, domain, dtype, seed, budget, theory."""
    info = {
        "encoder": encoder.summary() if not black else {"callable": getattr(encoder, "__name__", type(encoder).__name__), "n": dim},
        "activation": cls.to_json() if cls is not None else None,
        "target": None if target is None else {"kind": target.kind, "boundary": target.boundary, "aim": target.aim, "reason": target.reason},
        "domain": dom.describe(),
        "dtype": dtype,
        "search_dtype": "float32",
        "seed": int(seed),
        "budget_seconds": float(budget),
        "theory": theory_note(prop, encoder, cls, dom, black),
        "inputs": encoder.inputs.record() if not black else (getattr(encoder, "_latentcheck_inputs", None)
                                                                     or {"normalise": "none", "normalise_from": "default"}),
    }
    if prop.spec != prop.id:  # a parameterised property: its parameters go on record
        info["property_parameters"] = prop.describe()
    if not black:  # what the report is about, for latentcheck report / recheck to re-check against (issue 17)

        bound = binding_record(encoder)
        info["inputs"] = bound["inputs"]
        if "model" in bound:
            info["model"] = bound["model"]
        form = dom.certificate_form() if hasattr(dom, "certificate_form") else {}
        if form.get("kind") in ("box", "binary", "nonneg", "reals"):  # recorded exactly: re-checks test membership
            info["domain"] = {**info["domain"], "certificate": form}
    return info


def histograms(prop: Any, counts: np.ndarray) -> dict[str, Any]:
    """The search's histogram (latent norms for P3, signed flip margins for P2...), as JSON."""
    return {prop.hist_key: {"edges": [float(e) for e in prop.hist_edges], "counts": [int(c) for c in counts]}}


def message(prop: Any, status: str, certified: Sequence, floats: Sequence, stats: Any, dtype: str, budget: float,
            n_undecided: int = 0) -> str:
    """One line for people, in the property's words."""
    what, pid = prop.what, prop.id
    if status == "counterexample":
        return f"{len(certified)} certified {what}(s) found"
    if status == "float-only":
        rts = sorted({c.runtime for c in floats if c.runtime})
        return (f"no real {what} found; {len(floats)} float-only hazard(s) in {dtype} under {', '.join(rts) or 'XLA'}: "
                f"the float computation violates {pid} where the real value provably does not. Not a counterexample to "
                f"{pid}; a rounding risk of {dtype} in that runtime")
    if status == "undecided":
        return (f"no {what} certified; {n_undecided} candidate(s) violate {pid} in {dtype} floats but their real value "
                "could not be decided (neither a counterexample nor refuted)")
    return (f"no {what} found within the budget ({budget:g} s, {stats.evaluations} evaluations): "
            f"this is evidence, not a proof that {pid} holds")
