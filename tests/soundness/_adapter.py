"""Every call the soundness fuzzer makes into latentcheck, in one place.

The fuzzer and the re-checker see the engine only through these functions:
the public Python API (``latentcheck.load_encoder``, ``latentcheck.checkers.falsify.falsify``,
``FalsifyResult.to_json``, ``latentcheck.theorems.classify``), the CLI's ``--json``
output, and the two planted bugs (which monkeypatch engine internals). When
the engine's API changes, adjust this module only.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from typing import Any

import numpy as np
from latentcheck import load_encoder

__all__ = ["Refused", "falsify_report", "falsify_cli", "classify_report", "plant_float_literals",
           "plant_float16_weights", "REPO"]

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class Refused(Exception):
    """The engine refused the input with its own error type (a clean exit 2): not a soundness problem."""


def _refusal_types() -> tuple[type, ...]:
    from latentcheck.theorems.errors import LatentcheckError

    return (LatentcheckError,)


def falsify_report(weights: str, prop: str, *, domain: str = "reals", dtype: str = "float32", budget: float = 0.5,
                   seed: int = 0, restarts: int = 16, max_counterexamples: int = 2, shrink: bool = True) -> dict[str, Any]:
    """The falsify report (``latentcheck.falsify/1`` JSON as a dict) for the encoder stored at ``weights``.

    Raises :class:`Refused` when the engine rejects the input with a ``LatentcheckError``.
    """
    from latentcheck.checkers.falsify import falsify
    from latentcheck.theorems import Encoder

    try:
        enc = load_encoder(weights)
        res = falsify(enc, prop, domain=domain, dtype=dtype, budget=budget, seed=seed, restarts=restarts,
                      max_counterexamples=max_counterexamples, shrink=shrink, max_rounds=3)
    except _refusal_types() as exc:
        raise Refused(str(exc)) from exc
    # Round-trip through JSON text: the fuzzer reads what a user would read.
    return json.loads(json.dumps(res.to_json()))


def falsify_cli(weights: str, prop: str, *, domain: str = "reals", dtype: str = "float32", budget: float = 1.0,
                seed: int = 0, timeout: float = 120.0) -> tuple[int, dict[str, Any] | None, str]:
    """Run ``latentcheck falsify --json``; returns ``(exit code, report or None, stderr)``."""
    cmd = [sys.executable, "-m", "latentcheck.checkers.cli", "falsify", "--property", prop, "--weights", weights,
           "--domain", domain, "--dtype", dtype, "--budget", str(budget), "--seed", str(seed), "--json", "--no-plots"]
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=REPO)
    report = None
    if proc.stdout.strip().startswith("{"):
        report = json.loads(proc.stdout)
    return proc.returncode, report, proc.stderr


def classify_report(activation: str) -> dict[str, Any]:
    """What ``latentcheck classify --json`` prints: ``latentcheck.theorems.classify(activation).to_json()`` plus
    ``float_vanishing`` (and ``float_zero_sets`` where the engine has them); :class:`Refused` on a
    ``LatentcheckError``."""
    from latentcheck.theorems import classify

    try:
        payload = classify(activation).to_json()
        try:
            from latentcheck.checkers.float_vanishing import float_vanishing_thresholds
        except ImportError:
            float_vanishing_thresholds = None
        if float_vanishing_thresholds is not None and "float_vanishing" not in payload:
            payload["float_vanishing"] = float_vanishing_thresholds(activation)
    except _refusal_types() as exc:
        raise Refused(str(exc)) from exc
    return json.loads(json.dumps(payload))


# ------------------------------------------------------------------ planted bugs (engine internals)
_NUMBER = re.compile(r"(?<![\w.])(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def plant_float_literals(monkeypatch: Any) -> None:
    """Planted bug: the expression parser reads every literal through a Python float (``1e-400 -> 0.0``)."""
    import latentcheck.theorems.activations as acts
    import latentcheck.theorems.expr as expr

    original = expr.parse_expression

    def through_float(text: str, *args: Any, **kwargs: Any) -> Any:
        return original(_NUMBER.sub(lambda m: repr(float(m.group())), text), *args, **kwargs)

    monkeypatch.setattr(expr, "parse_expression", through_float)
    if hasattr(acts, "parse_expression"):
        monkeypatch.setattr(acts, "parse_expression", through_float)
    _clear_caches()


def plant_float16_weights(monkeypatch: Any) -> None:
    """Planted bug: the weight loader rounds every weight and bias through float16."""
    from latentcheck.theorems import Encoder, formats

    originals = {name: getattr(formats, name) for name in ("native_encoder", "_to_encoder")}

    def rounding(original: Any) -> Any:
        def rounded(*args: Any, **kwargs: Any) -> Any:
            enc = original(*args, **kwargs)
            ws = [np.asarray(layer.W, dtype=np.float64).astype(np.float16).astype(np.float64) for layer in enc.layers]
            bs = [np.asarray(layer.b, dtype=np.float64).astype(np.float16).astype(np.float64) for layer in enc.layers]
            return Encoder.from_arrays(ws, bs, [layer.activation for layer in enc.layers])

        return rounded

    for name, original in originals.items():  # load_encoder's two builders (latentcheck's .npz, every other format)
        monkeypatch.setattr(formats, name, rounding(original))


def _clear_caches() -> None:
    """Forget cached classifications so a planted parser bug takes effect."""
    import latentcheck.checkers.falsify._pipeline as pipe

    for name in ("_classification", "_zero_target"):
        fn = getattr(pipe, name, None)
        if hasattr(fn, "cache_clear"):
            fn.cache_clear()
