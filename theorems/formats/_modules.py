"""Every tensor of a named-weights file accounted for: used, folded, outside the encoder, ignored, or refused.

Tensors are grouped by module prefix (``P.weight`` -> module ``P``) and each
module is classified:

- ``linear``: a 2-D ``weight`` (``(out, in)``) or ``kernel`` (``(in, out)``) and an optional ``bias``;
- ``weightnorm``: ``weight_g``/``weight_v`` (``torch.nn.utils.weight_norm``) or
  ``parametrizations.weight.original0/original1`` (``torch.nn.utils.parametrizations.weight_norm``),
  applied as ``W = g * v / |v|`` in float64 (a rounding of the served map: recorded in the provenance);
- ``batchnorm``: ``running_mean``/``running_var`` (+ optional affine ``weight``/``bias``,
  ``num_batches_tracked`` bookkeeping), folded in float64 into the neighbouring affine layer
  (eps = 1e-5, PyTorch's default: a state dict does not store it);
- anything else (LayerNorm's 1-D ``weight`` without running statistics, embeddings, buffers)
  is refused, naming the tensor, unless the user lists it with ``ignore`` globs.

Pure numpy; no framework imported.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from typing import Any, Optional, Sequence

import numpy as np

from ..errors import InvalidWeights, ShapeMismatch
from ._exact import widen_exact

__all__ = ["Module", "group_modules", "apply_ignore", "BN_EPS", "fold_output_side", "fold_input_side", "bn_scale_shift",
           "weight_norm", "refusal", "bn_note"]

#: PyTorch's BatchNorm default eps; a state dict does not store it.
BN_EPS = 1e-5
_BN_LEAVES = {"weight", "bias", "running_mean", "running_var", "num_batches_tracked"}
_PARAM_RE = re.compile(r"^(.*)\.parametrizations\.weight\.original([01])$")


@dataclass
class Module:
    """One module's tensors: ``leaves`` maps a leaf name (``weight``, ``bias``, ``running_mean`` ...) to the file's key."""

    prefix: str
    leaves: dict[str, str] = field(default_factory=dict)
    kind: str = "unknown"

    def keys(self) -> list[str]:
        return list(self.leaves.values())


def apply_ignore(tensors: dict[str, Any], ignore: Optional[Sequence[str]], where: str) -> tuple[dict[str, Any], list[str]]:
    """``tensors`` without the keys matching any ``ignore`` glob, and the ignored keys (each glob must match)."""
    globs = [g.strip() for g in (ignore or ()) if g and g.strip()]
    dropped: list[str] = []
    for g in globs:
        hits = [k for k in tensors if fnmatch.fnmatchcase(k, g) or fnmatch.fnmatchcase(k.replace("/", "."), g)]
        if not hits:
            raise InvalidWeights(f"--ignore {g!r} matches no tensor of {where}; its tensors are {', '.join(list(tensors)[:8])}")
        dropped += [k for k in hits if k not in dropped]
    return {k: v for k, v in tensors.items() if k not in dropped}, dropped


def _split(key: str) -> tuple[str, str]:
    m = _PARAM_RE.match(key.replace("/", "."))
    if m:
        return m.group(1), "weight_g" if m.group(2) == "0" else "weight_v"
    norm = key.replace("/", ".")
    return tuple(norm.rsplit(".", 1)) if "." in norm else ("", norm)  # type: ignore[return-value]


def group_modules(tensors: dict[str, Any]) -> list[Module]:
    """Modules in the order their first tensor appears, each classified (see the module docstring)."""
    mods: dict[str, Module] = {}
    for key in tensors:
        prefix, leaf = _split(key)
        mods.setdefault(prefix, Module(prefix)).leaves[leaf] = key
    for mod in mods.values():
        mod.kind = _classify(mod, tensors)
    return list(mods.values())


def _classify(mod: Module, tensors: dict[str, Any]) -> str:
    leaves = set(mod.leaves)
    if {"weight_g", "weight_v"} <= leaves and leaves <= {"weight_g", "weight_v", "bias"}:
        return "weightnorm"
    if {"running_mean", "running_var"} <= leaves and leaves <= _BN_LEAVES:
        return "batchnorm"
    for w in ("weight", "kernel"):
        if w in leaves and leaves <= {w, "bias"} and np.ndim(tensors[mod.leaves[w]]) == 2:
            return "linear"
    if "weight" in leaves and np.ndim(tensors[mod.leaves["weight"]]) == 1 and leaves <= {"weight", "bias"}:
        return "layernorm"
    return "unknown"


def refusal(mod: Module, where: str) -> InvalidWeights:
    """The one-line refusal for a module that is neither affine nor foldable."""
    if mod.kind == "layernorm":
        key = mod.leaves["weight"]
        return InvalidWeights(f"tensor {key!r} in {where} is a 1-D weight without running statistics (LayerNorm / GroupNorm "
                              "or another normalisation), which is not an affine map and is refused; latentcheck checks Linear, "
                              f"BatchNorm (eval) and weight-normalised layers only; pass --ignore '{mod.prefix}.*' to drop it knowingly")
    key = mod.keys()[0]
    return InvalidWeights(f"tensor {key!r} in {where} belongs to no Linear, BatchNorm or weight-normalised layer "
                          f"(module {mod.prefix or '(top level)'!r} holds {', '.join(sorted(mod.leaves))}), so its operation is "
                          f"unknown and it is refused; pass --ignore {key!r} to drop it knowingly")


def weight_norm(mod: Module, tensors: dict[str, Any], where: str) -> tuple[np.ndarray, np.ndarray, str]:
    """``(W, b, note)``: ``W = g * v / |v|`` (norm over every axis but the one ``g`` keeps), in float64."""
    v, _ = widen_exact(mod.leaves["weight_v"], tensors[mod.leaves["weight_v"]], where)
    g, _ = widen_exact(mod.leaves["weight_g"], tensors[mod.leaves["weight_g"]], where)
    if v.ndim != 2:
        raise ShapeMismatch(f"{mod.leaves['weight_v']} in {where} has shape {v.shape}; a weight-normalised Linear stores v as (out, in)")
    if g.size == 1:
        W = g.reshape(()) * v / np.linalg.norm(v)
    elif g.size == v.shape[0] and (g.ndim == 1 or g.shape[0] == v.shape[0]):
        W = g.reshape(-1, 1) * v / np.linalg.norm(v, axis=1, keepdims=True)
    elif g.size == v.shape[1]:
        W = g.reshape(1, -1) * v / np.linalg.norm(v, axis=0, keepdims=True)
    else:
        raise ShapeMismatch(f"{mod.leaves['weight_g']} in {where} has shape {g.shape}, which fits no norm axis of v {v.shape}")
    b = _bias(mod, tensors, where, W.shape[0])
    note = (f"weight norm of {mod.prefix!r} applied: W = g * v / |v| computed in float64 (|v| is irrational in general, so the "
            "checked weights are a float64 rounding of the file's map, not its stored values)")
    return np.ascontiguousarray(W), b, note


def _bias(mod: Module, tensors: dict[str, Any], where: str, out: int) -> np.ndarray:
    if "bias" not in mod.leaves:
        return np.zeros(out)
    b, _ = widen_exact(mod.leaves["bias"], tensors[mod.leaves["bias"]], where)
    if b.shape != (out,):
        raise ShapeMismatch(f"{mod.leaves['bias']} in {where} has shape {b.shape} but the layer gives {out} outputs")
    return b


def bn_scale_shift(mod: Module, tensors: dict[str, Any], where: str, eps: float = BN_EPS) -> tuple[np.ndarray, np.ndarray]:
    """``(s, t)`` with ``BN(x) = s * x + t`` in eval mode: ``s = gamma / sqrt(var + eps)``, ``t = beta - mean * s`` (float64)."""
    get = lambda leaf: widen_exact(mod.leaves[leaf], tensors[mod.leaves[leaf]], where)[0]  # noqa: E731
    mean, var = get("running_mean"), get("running_var")
    gamma = get("weight") if "weight" in mod.leaves else np.ones_like(mean)
    beta = get("bias") if "bias" in mod.leaves else np.zeros_like(mean)
    if not (mean.ndim == 1 and var.shape == mean.shape == gamma.shape == beta.shape):
        raise ShapeMismatch(f"BatchNorm {mod.prefix!r} in {where} has statistics of shapes {mean.shape}, {var.shape}, "
                            f"{gamma.shape}, {beta.shape}; BatchNorm1d stores four vectors of one length")
    if np.any(var + eps <= 0):
        raise InvalidWeights(f"BatchNorm {mod.prefix!r} in {where} has running_var + eps <= 0; the file is corrupt")
    s = gamma / np.sqrt(var + eps)
    return s, beta - mean * s


def fold_output_side(W: np.ndarray, b: np.ndarray, s: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``BN(W x + b)`` as one affine map: ``(diag(s) W, s b + t)``."""
    return np.ascontiguousarray(s[:, None] * W), s * b + t


def fold_input_side(W: np.ndarray, b: np.ndarray, s: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``W BN(x) + b`` as one affine map: ``(W diag(s), W t + b)``."""
    return np.ascontiguousarray(W * s[None, :]), W @ t + b


def bn_note(prefix: str, target: str, side: str, eps: float, how: str) -> str:
    """The provenance line of one BatchNorm fold."""
    where = "output" if side == "out" else "input"
    return (f"BatchNorm {prefix!r} (eval, eps={eps:g} {how}) folded into the {where} side of {target!r} in float64 "
            "(sqrt(var + eps) is irrational in general, so the checked weights are a float64 rounding of the file's map)")

