"""What an encoder's input means, and where an encoder came from.

Two small frozen records carried on every :class:`~latentcheck.theorems.encoder.Encoder`:

- :class:`InputSemantics`: how a data row becomes the encoder's input
  (normalisation, what a row is, value type, input ids or names). Read from
  the model file, overridable per command with ``--input-normalise``, honoured
  by every command and API, and printed in every report.
- :class:`Provenance`: which file the encoder was read from, in which format,
  which tensors were used and which were explicitly ignored, and which VAE
  latent (``mu``, ``z``, ``all``) was taken. Certificates and reports name it.

Pure data: no JAX, no solver.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any, Optional

import numpy as np

from .errors import InvalidArgument

__all__ = ["InputSemantics", "Provenance", "NORMALISATIONS", "parse_normalisation", "META_KEYS", "inputs_from_arrays",
           "inputs_to_arrays", "divide_factor", "normalise_float", "with_input_normalise", "inputs_from_meta", "inputs_to_meta"]

#: Keys an ``.npz`` encoder file may hold beside ``W0, b0, ...``: how a data row becomes the encoder's input.
META_KEYS = ("latentcheck_normalise", "latentcheck_rows", "latentcheck_values", "latentcheck_input_ids",
             "latentcheck_input_names", "latentcheck_threshold")

#: Normalisations the engines know: ``none``, ``l2`` (``x / |x|_2``), ``divide:K`` (``x / K``, K an exact decimal or fraction).
NORMALISATIONS = ("none", "l2", "divide:K")


def parse_normalisation(text: str) -> str:
    """Validate a normalisation name and return it in canonical form (``none``, ``l2`` or ``divide:K``)."""
    t = str(text).strip().lower()
    if t in ("none", "l2"):
        return t
    if t.startswith("divide:"):
        from fractions import Fraction

        try:
            k = Fraction(t.split(":", 1)[1])
        except (ValueError, ZeroDivisionError):
            k = Fraction(0)
        if k > 0:
            return f"divide:{t.split(':', 1)[1]}"
    raise InvalidArgument(f"input normalisation {text!r} is not one of none, l2, divide:K (K > 0); pass e.g. --input-normalise l2")


@dataclass(frozen=True)
class InputSemantics:
    """How a data row becomes the encoder's input.

    Attributes:
        normalise: ``none``, ``l2`` or ``divide:K``.
        rows: ``users`` or ``items`` (what one data row is), or ``None`` when unknown.
        values: ``binary`` or ``ratings``, or ``None`` when unknown.
        input_ids: raw integer id of each input coordinate, or ``None``.
        input_names: id string of each input coordinate (ids are data: matched as strings), or ``None``.
        threshold: the binarisation threshold of ``values == 'binary'``, or ``None``.
        origin: where ``normalise`` came from: ``file``, ``option`` or ``default``.
    """

    normalise: str = "none"
    rows: Optional[str] = None
    values: Optional[str] = None
    input_ids: Optional[tuple[int, ...]] = None
    input_names: Optional[tuple[str, ...]] = None
    threshold: Optional[float] = None
    origin: str = "default"

    def __post_init__(self) -> None:
        object.__setattr__(self, "normalise", parse_normalisation(self.normalise))
        if self.rows not in (None, "users", "items"):
            raise InvalidArgument(f"rows={self.rows!r} must be users or items")
        if self.values not in (None, "binary", "ratings"):
            raise InvalidArgument(f"values={self.values!r} must be binary or ratings")
        if self.origin not in ("file", "option", "default"):
            raise InvalidArgument(f"origin={self.origin!r} must be file, option or default")

    def with_normalise(self, normalise: Optional[str]) -> "InputSemantics":
        """These semantics with ``normalise`` overridden by a command-line option (``None`` keeps them)."""
        if normalise is None:
            return self
        return replace(self, normalise=normalise, origin="option")

    def record(self) -> dict[str, Any]:
        """A JSON-ready summary for reports and certificates (ids summarised by count)."""
        out: dict[str, Any] = {"normalise": self.normalise, "normalise_from": self.origin}
        for k in ("rows", "values", "threshold"):
            if getattr(self, k) is not None:
                out[k] = getattr(self, k)
        if self.input_names is not None:
            out["input_names"] = len(self.input_names)
        if self.input_ids is not None:
            out["input_ids"] = len(self.input_ids)
        return out


@dataclass(frozen=True)
class Provenance:
    """Where an encoder came from and what of the file was read.

    Attributes:
        path: the model file (or folder), or ``None`` for an encoder built in Python.
        sha256: SHA-256 of the file, or ``None`` (folders, Python objects).
        format: ``npz``, ``safetensors``, ``torch``, ``onnx``, ``flax``, ``equinox``, ``torch-module``, ...
        tensors_used: names of the tensors that make up the checked function, in order.
        tensors_ignored: names the user excluded explicitly (``--ignore GLOB``).
        folded: human-readable notes of what was folded in (``BatchNorm1d 'enc.1' folded into 'enc.0'``, weight norm applied, ...).
        latent: for VAE heads, which latent was taken (``mu``, ``z``, ``all``), else ``None``.
    """

    path: Optional[str] = None
    sha256: Optional[str] = None
    format: Optional[str] = None
    tensors_used: tuple[str, ...] = ()
    tensors_ignored: tuple[str, ...] = ()
    folded: tuple[str, ...] = field(default_factory=tuple)
    latent: Optional[str] = None

    def record(self) -> dict[str, Any]:
        """A JSON-ready summary for reports and certificates."""
        out: dict[str, Any] = {"path": self.path, "sha256": self.sha256, "format": self.format,
                               "tensors_used": list(self.tensors_used)}
        if self.tensors_ignored:
            out["tensors_ignored"] = list(self.tensors_ignored)
        if self.folded:
            out["folded"] = list(self.folded)
        if self.latent is not None:
            out["latent"] = self.latent
        return out


# --------------------------------------------------------------------------- the npz meta keys
def _meta_text(arrays: Any, key: str, path: str) -> Optional[str]:
    if key not in arrays:
        return None
    arr = np.asarray(arrays[key])
    if arr.dtype.kind != "U" or arr.ndim != 0:
        raise InvalidArgument(f"{key} in {path!r} must be a unicode string, got dtype {arr.dtype} shape {arr.shape}; "
                              "re-save the file with latentcheck")
    return str(arr)


def _meta_ids(arrays: Any, path: str) -> tuple[Optional[tuple[int, ...]], Optional[tuple[str, ...]]]:
    ids = names = None
    if "latentcheck_input_ids" in arrays:
        arr = np.asarray(arrays["latentcheck_input_ids"])
        if arr.dtype.kind not in "iu" or arr.ndim != 1:
            raise InvalidArgument(f"latentcheck_input_ids in {path!r} must be a 1-D integer array of raw ids; "
                                  "store string ids as latentcheck_input_names")
        ids = tuple(int(v) for v in arr.tolist())
    if "latentcheck_input_names" in arrays:
        arr = np.asarray(arrays["latentcheck_input_names"])
        if arr.dtype.kind != "U" or arr.ndim != 1:
            raise InvalidArgument(f"latentcheck_input_names in {path!r} must be a 1-D array of id strings")
        names = tuple(str(v) for v in arr.tolist())
    return ids, names


def inputs_from_arrays(arrays: Any, path: str = "<arrays>", n: Optional[int] = None) -> InputSemantics:
    """The :class:`InputSemantics` stored under :data:`META_KEYS` in a mapping of arrays (an open ``.npz``).

    ``origin`` is ``file`` when the file records a normalisation, else ``default`` (``none``). Malformed
    keys raise :class:`InvalidArgument`; ids whose count differs from ``n`` too.
    """
    files = set(arrays.files) if hasattr(arrays, "files") else set(arrays)
    norm = _meta_text(arrays, "latentcheck_normalise", path) if "latentcheck_normalise" in files else None
    rows = _meta_text(arrays, "latentcheck_rows", path) if "latentcheck_rows" in files else None
    values = _meta_text(arrays, "latentcheck_values", path) if "latentcheck_values" in files else None
    ids, names = _meta_ids({k: arrays[k] for k in files & {"latentcheck_input_ids", "latentcheck_input_names"}}, path)
    for what, got in (("latentcheck_input_ids", ids), ("latentcheck_input_names", names)):
        if got is not None and n is not None and len(got) != n:
            raise InvalidArgument(f"{what} in {path!r} lists {len(got)} ids but the encoder takes n={n} inputs; "
                                  "store one id per input column")
    thr = None
    if "latentcheck_threshold" in files:
        arr = np.asarray(arrays["latentcheck_threshold"])
        if arr.dtype.kind not in "fiu" or arr.ndim != 0:
            raise InvalidArgument(f"latentcheck_threshold in {path!r} must be one number")
        thr = float(arr)
    try:
        return InputSemantics(normalise=norm or "none", rows=rows, values=values, input_ids=ids, input_names=names,
                              threshold=thr, origin="file" if norm is not None else "default")
    except InvalidArgument as exc:
        raise InvalidArgument(f"the input metadata in {path!r} is malformed: {exc}") from None


def inputs_to_arrays(inputs: InputSemantics, n: int) -> dict[str, np.ndarray]:
    """The :data:`META_KEYS` arrays that record ``inputs`` in an ``.npz`` (nothing for default, empty semantics)."""
    out: dict[str, np.ndarray] = {}
    if inputs.origin != "default" or inputs.normalise != "none":
        out["latentcheck_normalise"] = np.array(inputs.normalise, dtype=np.str_)
    if inputs.rows is not None:
        out["latentcheck_rows"] = np.array(inputs.rows, dtype=np.str_)
    if inputs.values is not None:
        out["latentcheck_values"] = np.array(inputs.values, dtype=np.str_)
    if inputs.input_ids is not None:
        if len(inputs.input_ids) != n:
            raise InvalidArgument(f"input_ids lists {len(inputs.input_ids)} ids but the encoder takes n={n} inputs")
        out["latentcheck_input_ids"] = np.asarray(inputs.input_ids, dtype=np.int64)
    if inputs.input_names is not None:
        if len(inputs.input_names) != n:
            raise InvalidArgument(f"input_names lists {len(inputs.input_names)} ids but the encoder takes n={n} inputs")
        out["latentcheck_input_names"] = np.asarray(inputs.input_names, dtype=np.str_)
    if inputs.threshold is not None:
        out["latentcheck_threshold"] = np.array(float(inputs.threshold))
    return out


def inputs_from_meta(meta: Any, n: Optional[int] = None) -> InputSemantics:
    """The :class:`InputSemantics` of a format reader's metadata dict (``normalise``, ``rows``, ``values``,
    ``threshold``, ``input_ids``, ``input_names``: the ``latentcheck_*`` keys of any format); ``origin`` is
    ``file`` when it records a normalisation."""
    meta = dict(meta or {})
    ids, names = meta.get("input_ids"), meta.get("input_names")
    try:
        ids_t = None if ids is None else tuple(int(v) for v in np.asarray(ids).tolist())
        names_t = None if names is None else tuple(str(v) for v in np.asarray(names).tolist())
        thr = meta.get("threshold")
        inputs = InputSemantics(normalise=str(meta.get("normalise", "none")), rows=meta.get("rows"), values=meta.get("values"),
                                input_ids=ids_t, input_names=names_t, threshold=None if thr is None else float(thr),
                                origin="file" if "normalise" in meta else "default")
    except (TypeError, ValueError, InvalidArgument) as exc:
        raise InvalidArgument(f"the model file's input metadata is malformed ({exc}); re-save it with latentcheck convert") from None
    for what, got in (("input_ids", inputs.input_ids), ("input_names", inputs.input_names)):
        if got is not None and n is not None and len(got) != n:
            raise InvalidArgument(f"the model file's {what} lists {len(got)} ids but the encoder takes n={n} inputs")
    return inputs


def inputs_to_meta(inputs: InputSemantics) -> dict[str, Any]:
    """The metadata dict the format writers take (:func:`latentcheck.theorems.formats.save_encoder`)."""
    out: dict[str, Any] = {}
    if inputs.origin != "default" or inputs.normalise != "none":
        out["normalise"] = inputs.normalise
    for k in ("rows", "values", "threshold"):
        if getattr(inputs, k) is not None:
            out[k] = getattr(inputs, k)
    if inputs.input_ids is not None:
        out["input_ids"] = np.asarray(inputs.input_ids, dtype=np.int64)
    if inputs.input_names is not None:
        out["input_names"] = list(inputs.input_names)
    return out


# --------------------------------------------------------------------------- applying a normalisation
def divide_factor(normalise: str) -> Optional[Fraction]:
    """``K`` of ``divide:K`` as an exact rational (the decimal text read exactly), else ``None``."""
    t = parse_normalisation(normalise)
    return Fraction(t.split(":", 1)[1]) if t.startswith("divide:") else None


def normalise_float(X: np.ndarray, normalise: str) -> np.ndarray:
    """Float64 rows ``X`` (shape ``(n,)`` or ``(batch, n)``) as the encoder sees them; ``l2`` maps 0 to 0 (``F.normalize``)."""
    x = np.asarray(X, dtype=np.float64)
    t = parse_normalisation(normalise)
    if t == "l2":
        nrm = np.sqrt(np.sum(x * x, axis=-1, keepdims=True))
        return np.where(nrm > 0, x / np.where(nrm > 0, nrm, 1.0), 0.0)
    k = divide_factor(t)
    return x if k is None else x / float(k)


def with_input_normalise(encoder: Any, normalise: Optional[str]) -> Any:
    """``encoder`` with its input normalisation overridden (``origin='option'``); ``None`` keeps the file's."""
    if normalise is None:
        return encoder
    return replace(encoder, inputs=encoder.inputs.with_normalise(parse_normalisation(normalise)))
