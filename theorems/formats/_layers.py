"""From named tensors to an ordered chain of affine layers (the mapping rule).

The rule, for every format whose file is a set of named arrays (safetensors,
PyTorch ``state_dict``, ``.npz``, Flax msgpack):

1. A *layer* is a name prefix ``P`` with a 2-D ``P.weight`` (shaped
   ``(out, in)``: PyTorch, Equinox) or ``P.kernel`` (shaped ``(in, out)``:
   Flax, Keras; transposed) and an optional 1-D ``P.bias`` (zeros when absent).
   Separators ``.`` and ``/`` are equivalent.
2. *Order*: the file's order where the format keeps one (PyTorch, ``.npz``,
   Equinox); else (safetensors, Flax msgpack) natural order, numbers compared
   as numbers (``Dense_10`` after ``Dense_2``), trusted only when the names
   differ in their numbers alone: otherwise ``--layers-from`` must say it.
3. *Which layers*: ``layers_from`` (comma-separated globs over layer names,
   in the order given); else every layer with a name component ``encoder``
   (or ``q_layers``, Liang et al.'s Mult-VAE), if there is one; else every layer, cut after the first layer of smallest
   width (the bottleneck). ``output`` cuts after the layer of that name.
4. Consecutive layers must chain (``in`` of one = ``out`` of the previous).
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from typing import Any, Optional, Sequence

import numpy as np

from ..errors import InvalidWeights, ShapeMismatch
from ._exact import widen_exact, widest

__all__ = ["ModelFile", "RawLayer", "layers_from_tensors", "natural_key", "select_layers"]


@dataclass(frozen=True)
class RawLayer:
    """One affine layer as read: ``W`` shaped ``(out, in)`` float64 (exact), ``b`` ``(out,)``."""

    name: str
    W: np.ndarray
    b: np.ndarray
    dtype: str  # widest stored dtype of W and b


@dataclass(frozen=True)
class ModelFile:
    """What a model file says: the encoder's layers, what it stores about activations and inputs."""

    layers: tuple[RawLayer, ...]
    activations: tuple[Optional[str], ...]  # None: the file does not say
    format: str
    meta: dict = field(default_factory=dict)  # normalise, input_ids, input_names, rows, values, threshold
    used: tuple[str, ...] = ()  # the file's tensors that make up the encoder, in order
    ignored: tuple[str, ...] = ()  # tensors the user excluded with --ignore
    notes: tuple[str, ...] = ()  # what was folded, applied or read as identity / normalisation
    latent: Optional[str] = None  # VAE heads: mu, z or all

    @property
    def stored_dtype(self) -> str:
        """The widest stored dtype of the weights (float64 when they were integers)."""
        return widest([layer.dtype for layer in self.layers])


def natural_key(name: str) -> tuple:
    """``encoder.10`` after ``encoder.2``: digit runs compare as numbers."""
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"(\d+)", name) if p != "")


def _split_key(key: str) -> tuple[str, str]:
    norm = key.replace("/", ".")
    if "." not in norm:
        return "", norm
    prefix, leaf = norm.rsplit(".", 1)
    return prefix, leaf


def layers_from_tensors(tensors: dict[str, Any], where: str) -> dict[str, RawLayer]:
    """Every ``P.weight``/``P.kernel`` (2-D) with its ``P.bias``, keyed by ``P`` (exact float64)."""
    groups: dict[str, dict[str, Any]] = {}
    for key, value in tensors.items():
        prefix, leaf = _split_key(key)
        groups.setdefault(prefix, {})[leaf] = (key, value)
    out: dict[str, RawLayer] = {}
    for prefix, leaves in groups.items():
        kind = "weight" if "weight" in leaves else "kernel" if "kernel" in leaves else None
        if kind is None:
            continue
        key, value = leaves[kind]
        W, wd = widen_exact(key, value, where)
        if W.ndim != 2:
            continue  # normalisation layers (1-D weight) and embeddings of other ranks are not affine layers
        if kind == "kernel":
            W = W.T
        if "bias" in leaves:
            bkey, bval = leaves["bias"]
            b, bd = widen_exact(bkey, bval, where)
            if b.shape != (W.shape[0],):
                raise ShapeMismatch(f"{bkey} in {where} has shape {b.shape} but {key} gives {W.shape[0]} outputs")
        else:
            b, bd = np.zeros(W.shape[0]), wd
        out[prefix] = RawLayer(prefix, np.ascontiguousarray(W), b, widest([wd, bd]))
    return out


#: Name components that mark encoder layers (``q_layers``: the PyTorch ports of Liang et al.'s Mult-VAE/DAE).
ENCODER_PARTS = ("encoder", "q_layers")


def _has_component(name: str, comp: str) -> bool:
    return comp in name.replace("/", ".").split(".")


def select_layers(found: dict[str, RawLayer], where: str, layers_from: Optional[str] = None,
                  output: Optional[str] = None, all_tensors: Sequence[str] = (), ordered: bool = False) -> list[RawLayer]:
    """Apply rules 2-4 of the module docstring to the layers of one file (``ordered``: ``found`` is in file order)."""
    if not found:
        keys = ", ".join(list(all_tensors)[:6]) or "none"
        raise InvalidWeights(f"{where} holds no linear layer (no 2-D '.weight' or '.kernel'; keys: {keys}); "
                             "save the encoder's state_dict / parameters, or name layers W0, b0, W1, b1, ...")
    names = list(found) if ordered else sorted(found, key=natural_key)
    cut = False
    if layers_from:
        chosen: list[str] = []
        for pattern in (p.strip() for p in layers_from.split(",") if p.strip()):
            hits = [n for n in names if fnmatch.fnmatchcase(n, pattern) and n not in chosen]
            if not hits:
                raise InvalidWeights(f"--layers-from {pattern!r} matches no layer of {where}; its layers are {', '.join(names)}")
            chosen += hits
    elif any(_has_component(n, c) for n in names for c in ENCODER_PARTS):
        chosen = [n for n in names if any(_has_component(n, c) for c in ENCODER_PARTS)]
    else:
        chosen, cut = names, output is None
    if not layers_from and not ordered and len({re.sub(r"\d+", "#", n) for n in chosen}) > 1:
        raise InvalidWeights(f"{where} stores no layer order and its layer names ({', '.join(chosen[:6])}) differ beyond numbers; "
                             "name the encoder's layers in order with --layers-from 'a,b,...'")
    if output is not None:
        key = output.replace("/", ".")
        if key not in chosen:
            raise InvalidWeights(f"--output {output!r} is not one of the chosen layers of {where}: {', '.join(chosen)}")
        chosen = chosen[: chosen.index(key) + 1]
    layers = [found[n] for n in chosen]
    _check_chain(layers, where)
    if cut:
        layers = layers[: bottleneck_end([layer.W.shape[0] for layer in layers], layers[0].W.shape[1])]
    return layers


def bottleneck_end(widths: Sequence[int], n_in: int) -> int:
    """How many layers of a whole-model chain make its encoder: up to the first layer of smallest width.

    A chain whose last layer gives back the input's width is an autoencoder (the last output is the
    reconstruction, never the latent), so the bottleneck is sought among the inner layers only: an
    overcomplete Mult-DAE (``144 -> 200 -> 144``) ends its encoder at 200, not at the reconstruction.
    """
    inner = list(widths[:-1]) if len(widths) >= 2 and widths[-1] == n_in else list(widths)
    return inner.index(min(inner)) + 1


def _check_chain(layers: list[RawLayer], where: str) -> None:
    for prev, cur in zip(layers, layers[1:]):
        if cur.W.shape[1] != prev.W.shape[0]:
            raise ShapeMismatch(
                f"layers {prev.name!r} ({prev.W.shape[1]} -> {prev.W.shape[0]}) and {cur.name!r} "
                f"({cur.W.shape[1]} -> {cur.W.shape[0]}) of {where} do not chain; "
                "name the encoder's layers in order with --layers-from 'a,b,...'")
