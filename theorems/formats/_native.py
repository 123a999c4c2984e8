"""latentcheck's own ``.npz`` layout (``W0, b0, W1, b1, ...``, a unicode ``activations`` array and the input
semantics under ``latentcheck_*`` keys): read and written exactly. Loaded with ``allow_pickle=False``; written
atomically."""

from __future__ import annotations

import os
import re
from dataclasses import replace
from typing import Any, Optional

import numpy as np

from ..files import atomic_write_bytes_with
from ..encoder import Encoder, file_sha256
from ..errors import InvalidWeights, ShapeMismatch
from ..exact_arrays import unreadable_reason
from ..inputs import Provenance, inputs_from_arrays, inputs_to_arrays
from ._readers import read_npz

__all__ = ["native_keys", "read_npz_arrays", "has_native_layers", "native_encoder", "save_native_npz", "with_source",
           "native_provenance"]

_NATIVE_KEY = re.compile(r"([Wb])(0|[1-9]\d*)")


def native_keys(tensors: dict[str, Any], where: str) -> Optional[list[int]]:
    """Layer indices of latentcheck's own layout (``W0, b0, W1, b1, ...``), or None when it is not that layout.
    Every other key must be ``activations`` or ``latentcheck_*``: anything else is refused, naming it."""
    if not any(re.fullmatch(r"W\d+", k) for k in tensors):
        return None
    for k in tensors:
        if not (_NATIVE_KEY.fullmatch(k) or k == "activations" or k.startswith("latentcheck_")):
            hint = " (layer numbers have no leading zeros)" if re.fullmatch(r"[Wb]\d+", k) else ""
            raise InvalidWeights(f"key {k!r} in {where} is not W<i>, b<i>, activations or latentcheck_*{hint}, so its role is "
                                 f"unknown and it is refused; rename it, or drop it knowingly with --model FILE --ignore {k!r} "
                                 f"(ignore=[{k!r}] in Python)")
    idx = sorted(int(k[1:]) for k in tensors if k.startswith("W") and _NATIVE_KEY.fullmatch(k))
    if idx != list(range(len(idx))):
        raise InvalidWeights(f"{where} has layers {idx}; they must be numbered 0, 1, 2, ... without gaps")
    missing = [f"b{i}" for i in idx if f"b{i}" not in tensors]
    extra_b = sorted(k for k in tensors if k.startswith("b") and _NATIVE_KEY.fullmatch(k) and int(k[1:]) not in idx)
    if missing or extra_b:
        raise InvalidWeights(f"{where} has {'no ' + ', '.join(missing) if missing else 'biases ' + ', '.join(extra_b) + ' without weights'}; "
                             "give one bias b<i> per weight W<i>")
    return idx


def read_npz_arrays(path: str) -> dict[str, np.ndarray]:
    """Every array of an ``.npz`` (never a pickle), or :class:`InvalidWeights` saying what is wrong."""
    if not os.path.exists(path):
        raise InvalidWeights(f"weight file {path!r} does not exist; pass the path of an .npz with keys W0, b0, W1, b1, ...")
    with open(path, "rb") as fh:
        magic = fh.read(4)
    if magic != b"PK\x03\x04":
        raise InvalidWeights(f"weight file {path!r} is not a readable .npz (not a zip archive); save it with np.savez(path, W0=..., b0=...)")
    return read_npz(path)[0]  # never a pickle; the reader's errors name the file


def has_native_layers(arrays: dict[str, Any]) -> bool:
    """Whether the arrays are latentcheck's layout (a ``W<i>`` key), rather than named arrays (``encoder.0.weight``)."""
    return any(re.fullmatch(r"W\d+", k) for k in arrays) or not any("." in k or "/" in k for k in arrays)


def native_encoder(arrays: dict[str, np.ndarray], path: str, activation: Any = None) -> Encoder:
    """The encoder of latentcheck's own ``.npz`` layout (every key used or refused by name)."""
    if not any(re.fullmatch(r"W\d+", k) for k in arrays):
        raise InvalidWeights(f"weight file {path!r} has keys {sorted(arrays)} but no W0; name layers W0, b0, W1, b1, ... with W_i shaped (out, in)")
    layer_keys = native_keys(arrays, repr(path))  # every key is W<i>, b<i>, activations or latentcheck_*, else refused by name
    weights = [arrays[f"W{i}"] for i in layer_keys]
    biases = [arrays[f"b{i}"] for i in layer_keys]
    for name, arr in [(f"W{i}", w) for i, w in enumerate(weights)] + [(f"b{i}", b) for i, b in enumerate(biases)]:
        reason = unreadable_reason(arr.dtype)
        if reason is not None:
            raise InvalidWeights(f"{name} in {path!r}: {reason}")
    if "activations" in arrays:
        stored = arrays["activations"]
        if stored.dtype.kind != "U":
            raise InvalidWeights(f"'activations' in {path!r} must be a unicode string array, got dtype {stored.dtype}")
        acts: list[Any] = [str(a) for a in np.atleast_1d(stored)]
        if len(acts) != len(weights):
            raise ShapeMismatch(f"'activations' in {path!r} lists {len(acts)} activations for {len(weights)} layers")
        if activation is not None:
            acts[-1] = activation
    else:
        if activation is None:
            raise InvalidWeights(f"weight file {path!r} stores no 'activations'; pass the latent activation (e.g. --activation relu)")
        acts = [activation] * len(weights)
    inputs = inputs_from_arrays(arrays, path, n=int(np.shape(weights[0])[1]) if np.ndim(weights[0]) == 2 else None)
    enc = native_provenance(with_source(Encoder.from_arrays(weights, biases, acts), path), arrays, len(weights))
    return replace(enc, inputs=inputs)



def save_native_npz(encoder: Encoder, path: "str | os.PathLike[str]") -> None:
    """Write ``.npz`` atomically: ``W0, b0, ...`` at their stored values, ``activations`` and the input semantics."""
    arrays: dict[str, np.ndarray] = {}
    for i, layer in enumerate(encoder.layers):
        arrays[f"W{i}"] = np.asarray(layer.W if layer.W_src is None else layer.W_src)
        arrays[f"b{i}"] = np.asarray(layer.b if layer.b_src is None else layer.b_src)
    arrays["activations"] = np.array([layer.activation.name for layer in encoder.layers], dtype=np.str_)
    arrays.update(inputs_to_arrays(encoder.inputs, encoder.n))
    os.makedirs(os.path.dirname(os.path.abspath(os.fspath(path))), exist_ok=True)
    atomic_write_bytes_with(path, lambda fh: np.savez(fh, **arrays), ".npz")


def native_provenance(enc: "Encoder", arrays: dict[str, Any], n_layers: int) -> "Encoder":
    """``enc`` (read from latentcheck's ``.npz``) with its provenance: every key was used."""
    used = tuple(k for i in range(n_layers) for k in (f"W{i}", f"b{i}")) + tuple(k for k in arrays if not re.fullmatch(r"[Wb]\d+", k))
    prov = Provenance(path=enc.source_path, sha256=enc.source_sha256, format="npz", tensors_used=used)
    return replace(enc, provenance=prov)


def with_source(enc: "Encoder", path: str) -> "Encoder":
    """``enc`` recording the weights file it came from and its SHA-256 (for self-contained reports)."""
    if not os.path.isfile(path):  # a folder-based format: no single file to hash
        return replace(enc, source_path=path)
    return replace(enc, source_path=path, source_sha256=file_sha256(path))
