"""Encoders from the files people train them in, read exactly; and back out.

Formats (docs/models.md): latentcheck ``.npz`` (``W0, b0, ...``) and any
``.npz`` of named arrays, safetensors, PyTorch ``state_dict``/checkpoints
(``torch.load(weights_only=True)`` only), ONNX graphs, Flax msgpack
(``flax.serialization.to_bytes``) and Equinox leaves
(``eqx.tree_serialise_leaves``). Every weight is widened exactly from its
stored dtype (float16, bfloat16, float32, float64) to float64, and the stored
dtype is recorded. Writes ``.npz`` and ``.safetensors``.

A model is read completely or refused: every tensor is used (a layer, a
folded BatchNorm, weight norm), outside the encoder (a decoder), ignored by
the user's ``ignore`` globs, or refused naming it (:mod:`._modules`,
:mod:`._assemble`); ``Encoder.provenance`` records which, with every fold and
the VAE latent (``latent``: mu, z, all). :func:`encoder_from_torch` reads an
``nn.Module`` by the same rules (:mod:`._torch_module`).

Nothing here imports safetensors, torch, onnx, msgpack or JAX at import time.
"""

from __future__ import annotations

import dataclasses
import json
import os
import zipfile
from typing import Any, Optional, Sequence

import numpy as np

from ..files import atomic_write_with
from ..encoder import Encoder, file_sha256
from ..errors import InvalidWeights, ShapeMismatch
from ..inputs import Provenance, inputs_from_meta, inputs_to_meta
from . import _readers as rd
from ._assemble import assemble, check_latent
from ._exact import widen_exact, widest
from ._layers import ModelFile, RawLayer
from ._modules import apply_ignore
from ._onnx import read_onnx
from ._native import has_native_layers, native_encoder, native_keys, read_npz_arrays, save_native_npz
from ._torch_module import from_torch, is_torch_module

__all__ = ["FORMATS", "WRITABLE", "ModelFile", "RawLayer", "detect_format", "read_model", "load_encoder",
           "save_encoder", "encoder_from_torch", "is_torch_module", "convert", "resolve_activations", "input_semantics"]

#: Formats :func:`read_model` reads (by extension, else by the file's first bytes).
FORMATS = ("npz", "safetensors", "torch", "onnx", "flax", "equinox")
#: Formats :func:`save_encoder` writes.
WRITABLE = ("npz", "safetensors")
_EXT = {".npz": "npz", ".safetensors": "safetensors", ".pt": "torch", ".pth": "torch", ".ckpt": "torch", ".bin": "torch",
        ".onnx": "onnx", ".msgpack": "flax", ".flax": "flax", ".eqx": "equinox"}
_META = ("normalise", "rows", "values", "threshold")
_RECBOLE = ("MultiDAE", "MultiVAE")


def _sniff(head: bytes, path: str) -> Optional[str]:
    if head.startswith(b"\x93NUMPY"):
        return "equinox"
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(path) as zf:
                return "torch" if any(n.endswith("data.pkl") for n in zf.namelist()) else "npz"
        except zipfile.BadZipFile:
            return None
    if len(head) >= 9 and head[8:9] == b"{" and int.from_bytes(head[:8], "little") < 100_000_000:
        return "safetensors"
    if len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5:
        return "torch"  # a legacy (non-zip) torch.save pickle
    if head and (0x80 <= head[0] <= 0x8F or head[0] in (0xDE, 0xDF)):
        return "flax"
    if head[:1] == b"\x08":
        return "onnx"  # protobuf field 1 (ir_version), varint
    return None


def detect_format(path: "str | os.PathLike[str]") -> str:
    """The format of a model file: by extension, else by its first bytes."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise InvalidWeights(f"model file {path!r} does not exist; pass the path of a .npz, .safetensors, .pt, .onnx, .msgpack or .eqx file")
    ext = os.path.splitext(path)[1].lower()
    if ext in _EXT:
        return _EXT[ext]
    with open(path, "rb") as fh:
        head = fh.read(16)
    fmt = _sniff(head, path)
    if fmt is None:
        raise InvalidWeights(f"cannot tell the format of {path!r}; name it .npz, .safetensors, .pt, .onnx, .msgpack (Flax) or .eqx (Equinox)")
    return fmt


def _native(tensors: dict[str, Any], where: str) -> Optional[list[RawLayer]]:
    """Layers of latentcheck's own layout (``W0, b0, W1, b1, ...``), or None when it is not that layout."""
    idx = native_keys(tensors, where)
    if idx is None:
        return None
    out = []
    for i in idx:
        W, wd = widen_exact(f"W{i}", tensors[f"W{i}"], where)
        b, bd = widen_exact(f"b{i}", tensors[f"b{i}"], where)
        if W.ndim != 2 or b.ndim != 1:
            raise ShapeMismatch(f"W{i} / b{i} in {where} have shapes {W.shape} / {b.shape}; W_i is (out, in) and b_i (out,)")
        out.append(RawLayer(f"W{i}", W, b, widest([wd, bd])))
    return out


def _meta_from(values: dict[str, Any], prefix: str) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    for k in _META:
        v = values.get(prefix + k)
        if v is None:
            continue
        v = v.item() if isinstance(v, np.ndarray) and v.ndim == 0 else v
        meta[k] = float(v) if k == "threshold" else str(v)
    ids = values.get(prefix + "input_ids")
    if ids is not None:
        arr = np.asarray(ids)
        if arr.ndim != 1 or arr.dtype.kind not in "iu":
            raise InvalidWeights(f"{prefix}input_ids must be a 1-D integer array of raw ids")
        meta["input_ids"] = arr.astype(np.int64)
    names = values.get(prefix + "input_names")
    if names is not None:  # string ids, kept as strings (ids are data)
        arr = np.asarray(names)
        if arr.ndim != 1 or arr.dtype.kind not in "UO":
            raise InvalidWeights(f"{prefix}input_names must be a 1-D array of id strings")
        meta["input_names"] = [str(v) for v in arr.tolist()]
    return meta


def _acts_from(value: Any, where: str) -> Optional[list[str]]:
    if value is None:
        return None
    if isinstance(value, np.ndarray):
        if value.dtype.kind != "U":
            raise InvalidWeights(f"'activations' in {where} must be a unicode string array, got dtype {value.dtype}")
        return [str(a) for a in np.atleast_1d(value)]
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)) and all(isinstance(a, str) for a in value):
        return list(value)
    raise InvalidWeights(f"'activations' in {where} must be a list of activation names")


def _recbole_acts(tensors: dict[str, Any], extra: dict[str, Any], n_layers: int) -> Optional[list[str]]:
    """RecBole MultiDAE/MultiVAE: MLPLayers (``encoder.mlp_layers.*``) put tanh after every layer, incl. the latent;
    a plain Sequential encoder (``encoder.0``, ``encoder.2`` ...) puts tanh between layers, identity at the latent."""
    mlp_layers = any(k.startswith("encoder.mlp_layers.") for k in tensors)
    if not (mlp_layers or extra.get("model") in _RECBOLE):
        return None
    return ["tanh"] * n_layers if mlp_layers else ["tanh"] * (n_layers - 1) + ["identity"]


def _named_model(tensors: dict[str, Any], extra: dict[str, Any], fmt: str, where: str,
                 layers_from: Optional[str], output: Optional[str], latent: Optional[str] = None) -> ModelFile:
    asm = assemble(tensors, extra, where, ordered=fmt in ("torch", "npz", "equinox"), layers_from=layers_from,
                   output=output, latent=latent)
    layers = asm.layers
    acts = _acts_from(extra.get("activations"), where) or _recbole_acts(tensors, extra, len(layers))
    meta = _meta_from(extra, "")
    if extra.get("model") in _RECBOLE or any(k.startswith("encoder.mlp_layers.") for k in tensors):
        meta.setdefault("normalise", "l2")  # F.normalize(rating_matrix)
        meta.setdefault("threshold", 0.0)  # RecBole counts every interaction as positive unless its config sets a threshold
        asm.notes.append("RecBole model: inputs are l2-normalised rows (F.normalize), as RecBole trains them")
    return ModelFile(tuple(layers), tuple(acts) if acts else (None,) * len(layers), fmt, meta, used=tuple(asm.used),
                     notes=tuple(asm.notes), latent=asm.latent)


def _read_tensors(path: str, fmt: str, where: str) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """``(tensors, extra, meta keys used)`` of a named-weights file; latentcheck's own meta keys moved to ``extra``."""
    readers = {"npz": rd.read_npz, "safetensors": rd.read_safetensors, "torch": rd.read_torch,
               "flax": rd.read_flax_msgpack, "equinox": rd.read_equinox_leaves}
    if fmt not in readers:
        raise InvalidWeights(f"format {fmt!r} is not one of {', '.join(FORMATS)}")
    tensors, extra = readers[fmt](path)
    meta_used: list[str] = []
    if fmt == "safetensors":
        md = extra.pop("metadata")
        extra["activations"] = rd.sniff_json_activations(md, where)
        extra.update({k: md["latentcheck_" + k] for k in _META if "latentcheck_" + k in md})
        if "latentcheck_input_names" in md:
            extra["input_names"] = rd.json_strings(md["latentcheck_input_names"], "latentcheck_input_names", where)
        if "latentcheck_input_ids" in tensors:
            extra["input_ids"] = tensors.pop("latentcheck_input_ids")
            meta_used.append("latentcheck_input_ids")
    elif fmt == "torch":
        for k in ("input_ids", "input_names", "latentcheck_input_ids"):
            if k in tensors:
                extra[k.removeprefix("latentcheck_")] = tensors.pop(k)
                meta_used.append(k)
    elif fmt == "npz":
        meta_used = [k for k in tensors if k.startswith("latentcheck_") or k == "activations"]
        extra = {k.removeprefix("latentcheck_"): v for k, v in tensors.items() if k.startswith("latentcheck_")}
        extra["activations"] = tensors.get("activations")
        tensors = {k: v for k, v in tensors.items() if k not in meta_used}
    return tensors, extra, meta_used


def read_model(path: "str | os.PathLike[str]", *, layers_from: Optional[str] = None, output: Optional[str] = None,
               format: Optional[str] = None, ignore: Optional[Sequence[str]] = None, latent: Optional[str] = None) -> ModelFile:
    """Read a model file into its encoder layers (exact float64), stored activations and input metadata.

    Every tensor is used, outside the encoder (a decoder), listed in ``ignore`` (globs), or refused (docs/models.md).
    """
    path = os.fspath(path)
    fmt = format or detect_format(path)
    where = repr(path)
    latent = check_latent(latent)
    if isinstance(ignore, str):
        ignore = [g for g in ignore.split(",") if g.strip()]
    if fmt == "onnx":
        if layers_from is not None:
            raise InvalidWeights("--layers-from applies to files of named weights; for ONNX pass --output NAME")

        return read_onnx(path, output, ignore=ignore, latent=latent)
    tensors, extra, meta_used = _read_tensors(path, fmt, where)
    tensors, ignored = apply_ignore(tensors, ignore, where)
    native = _native(tensors, where)
    if native is None:
        mf = _named_model(tensors, extra, fmt, where, layers_from, output, latent)
        return dataclasses.replace(mf, used=mf.used + tuple(meta_used), ignored=tuple(ignored))
    if layers_from is not None or output is not None or latent is not None:
        raise InvalidWeights(f"{where} is in latentcheck's W0, b0, ... layout; --layers-from, --output and --latent do not apply")
    acts = _acts_from(extra.get("activations"), where)
    if acts is not None and len(acts) != len(native):
        raise ShapeMismatch(f"'activations' in {where} lists {len(acts)} activations for {len(native)} layers")
    used = tuple(k for i in range(len(native)) for k in (f"W{i}", f"b{i}")) + tuple(meta_used)
    return ModelFile(tuple(native), tuple(acts) if acts else (None,) * len(native), fmt, _meta_from(extra, ""),
                     used=used, ignored=tuple(ignored))


def resolve_activations(stored: Sequence[Optional[str]], activation: Optional[str] = None,
                        activations: Optional[Sequence[str]] = None, where: str = "the model") -> list[str]:
    """One activation per layer: ``activations`` (one for all, or one per layer) overrides the file;
    ``activation`` sets the latent one and any hidden one the file does not state."""
    n = len(stored)
    if activations is not None:
        acts = list(activations)
        if len(acts) == 1:
            return acts * n
        if len(acts) != n:
            raise ShapeMismatch(f"--activations lists {len(acts)} activations for the {n} layers of {where}; give one per layer or one for all")
        return acts
    out = list(stored)
    if activation is not None:
        out = [activation if a is None else a for a in out[:-1]] + [activation]
    missing = [i for i, a in enumerate(out) if a is None]
    if missing:
        raise InvalidWeights(f"{where} does not say the activations of layers {missing}; "
                             "pass --activations relu,tanh (one per layer, or one for all) or --activation NAME")
    return [str(a) for a in out]


def _provenance(mf: ModelFile, path: Optional[str]) -> Any:
    sha = file_sha256(path) if path is not None and os.path.isfile(path) else None
    return Provenance(path=path, sha256=sha, format=mf.format, tensors_used=tuple(mf.used), tensors_ignored=tuple(mf.ignored),
                      folded=tuple(mf.notes), latent=mf.latent)


def input_semantics(meta: dict[str, Any], n: Optional[int] = None) -> Any:
    """The :class:`~latentcheck.theorems.inputs.InputSemantics` a model file states (``origin='file'`` where it states a normalisation)."""
    return inputs_from_meta(meta, n)


def _to_encoder(mf: ModelFile, activation: Any = None, activations: Optional[Sequence[str]] = None,
                where: str = "the model", path: Optional[str] = None) -> Encoder:
    acts = resolve_activations(mf.activations, activation, activations, where)
    enc = Encoder.from_arrays([layer.W for layer in mf.layers], [layer.b for layer in mf.layers], acts)
    prov = _provenance(mf, path)
    return dataclasses.replace(enc, stored_dtype=mf.stored_dtype, inputs=input_semantics(mf.meta, enc.n), provenance=prov,
                               source_path=path, source_sha256=prov.sha256)


def load_encoder(path: "str | os.PathLike[str]", activation: Any = None, *, activations: Optional[Sequence[str]] = None,
                 layers_from: Optional[str] = None, output: Optional[str] = None, ignore: Optional[Sequence[str]] = None,
                 latent: Optional[str] = None) -> Encoder:
    """The :class:`latentcheck.theorems.Encoder` of a model file (docs/models.md).

    latentcheck's ``.npz`` (keys ``W0, b0, ...``, optional ``activations``) is read directly: ``activation``
    overrides or supplies the latent activation (hidden layers without a stored one default to it too). Other
    formats (safetensors, PyTorch, ONNX, Flax, Equinox, ``.npz`` of named arrays) and the options
    (``activations``, ``layers_from``, ``output``, ``ignore`` (globs of tensors to drop knowingly), ``latent``
    (``mu``, ``z``, ``all`` for VAE heads)) go through :func:`read_model`. Every tensor of the file is used or
    refused (:class:`InvalidWeights` naming it); ``encoder.provenance`` records what was read.

    Example:
        >>> enc = load_encoder("model.npz", activation="relu")  # doctest: +SKIP
    """
    path = os.fspath(path)
    options = any(v is not None for v in (activations, layers_from, output, ignore, latent))
    if not options and os.path.splitext(path)[1].lower() not in _OTHER_EXT:
        arrays = read_npz_arrays(path)
        if has_native_layers(arrays):
            return native_encoder(arrays, path, activation)
    mf = read_model(path, layers_from=layers_from, output=output, ignore=ignore, latent=latent)
    return _to_encoder(mf, activation, activations, repr(path), path)


ModelFile.to_encoder = _to_encoder  # type: ignore[attr-defined]

#: Extensions :func:`load_encoder` reads through :func:`read_model` even without options.
_OTHER_EXT = (".safetensors", ".pt", ".pth", ".ckpt", ".bin", ".onnx", ".msgpack", ".flax", ".eqx")


def encoder_from_torch(module: Any, example_input: Any = None, **options: Any) -> Encoder:
    """The encoder of a PyTorch ``nn.Module`` (``nn.Sequential``, or a module with an ``encoder`` child), read by
    the same rules as model files: Linear used (weight norm applied by torch), BatchNorm (eval) folded, eval-mode
    Dropout identity, anything else refused by name. ``example_input`` (a tensor) lets a custom module's submodule
    order be checked against its forward pass. ``options``: ``activations``, ``latent`` (``mu``/``z``/``all``),
    ``ignore`` (module-name globs). torch is imported only inside (docs/models.md)."""
    return from_torch(module, example_input, **options)


def _narrowest_exact(arr: np.ndarray, stored: Optional[str]) -> np.ndarray:
    """``arr`` (float64) in ``stored`` when every value survives the round trip, else float64."""
    if stored in ("float16", "float32"):
        cand = arr.astype(stored)
        if np.array_equal(cand.astype(np.float64), arr):
            return cand
    if stored == "bfloat16":
        import ml_dtypes

        cand = arr.astype(np.float32).astype(ml_dtypes.bfloat16)
        if np.array_equal(cand.astype(np.float32).astype(np.float64), arr):
            return cand
    return np.asarray(arr, dtype=np.float64)


def _atomic_write(path: str, write: Any) -> None:
    """``write(tmp)`` then moved onto ``path`` (the one atomic writer, :mod:`latentcheck.theorems.files`;
    the folder is created)."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    atomic_write_with(path, write)


def save_encoder(encoder: Encoder, path: "str | os.PathLike[str]", meta: Optional[dict[str, Any]] = None) -> None:
    """Write ``.npz`` (``W0, b0, ..., activations``) or ``.safetensors`` (same names, activations in metadata),
    atomically. Without ``meta``: the encoder's input semantics are written with it (``.npz``: ``latentcheck_*``
    keys, the arrays at their stored values); with ``meta`` (input metadata of a converted file), each array in
    the encoder's stored dtype when that holds it exactly (else float64)."""
    path = os.fspath(path)
    ext = os.path.splitext(path)[1].lower()
    if ext not in (".npz", ".safetensors"):
        raise InvalidWeights(f"cannot write {path!r}: latentcheck writes .npz or .safetensors")
    if meta is None:
        if ext == ".npz":
            return save_native_npz(encoder, path)
        meta = inputs_to_meta(encoder.inputs)
    stored = getattr(encoder, "stored_dtype", None)
    meta = dict(meta or {})
    arrays: dict[str, np.ndarray] = {}
    for i, layer in enumerate(encoder.layers):
        arrays[f"W{i}"] = _narrowest_exact(np.asarray(layer.W), stored)
        arrays[f"b{i}"] = _narrowest_exact(np.asarray(layer.b), stored)
    acts = [layer.activation.name for layer in encoder.layers]
    if ext == ".npz":
        _save_npz(path, arrays, acts, meta)
    else:
        _save_safetensors(path, arrays, acts, meta)


def _save_npz(path: str, arrays: dict[str, np.ndarray], acts: list[str], meta: dict[str, Any]) -> None:
    out = {k: (v.astype(np.float32) if v.dtype.name == "bfloat16" else v) for k, v in arrays.items()}  # npz has no bfloat16: float32 holds it exactly
    out["activations"] = np.array(acts, dtype=np.str_)
    for k in _META:
        if k in meta:
            out["latentcheck_" + k] = np.array(meta[k], dtype=np.float64 if k == "threshold" else np.str_)
    if "input_ids" in meta:
        out["latentcheck_input_ids"] = np.asarray(meta["input_ids"], dtype=np.int64)
    if "input_names" in meta:
        out["latentcheck_input_names"] = np.asarray([str(v) for v in np.asarray(meta["input_names"]).tolist()], dtype=np.str_)

    def write(tmp: str) -> None:
        with open(tmp, "wb") as fh:
            np.savez(fh, **out)

    _atomic_write(path, write)


def _save_safetensors(path: str, arrays: dict[str, np.ndarray], acts: list[str], meta: dict[str, Any]) -> None:
    try:
        from safetensors.numpy import save_file
    except ImportError:
        raise InvalidWeights("writing .safetensors needs the safetensors package: pip install safetensors") from None
    md = {"format": "latentcheck", "activations": json.dumps(acts)}
    md.update({"latentcheck_" + k: str(meta[k]) for k in _META if k in meta})
    if "input_names" in meta:
        md["latentcheck_input_names"] = json.dumps([str(n) for n in np.asarray(meta["input_names"]).tolist()])
    out = {k: np.ascontiguousarray(v) for k, v in arrays.items()}
    if "input_ids" in meta:
        out["latentcheck_input_ids"] = np.asarray(meta["input_ids"], dtype=np.int64)
    if "input_names" in meta:
        md["latentcheck_input_names"] = json.dumps([str(v) for v in np.asarray(meta["input_names"]).tolist()])
    _atomic_write(path, lambda tmp: save_file(out, tmp, metadata=md))


def convert(src: "str | os.PathLike[str]", dst: "str | os.PathLike[str]", *, activation: Any = None,
            activations: Optional[Sequence[str]] = None, layers_from: Optional[str] = None,
            output: Optional[str] = None, ignore: Optional[Sequence[str]] = None, latent: Optional[str] = None) -> Encoder:
    """Read ``src`` in any format, write ``dst`` (``.npz`` or ``.safetensors``), keeping input metadata
    (``normalise``, ``rows``, ``values``, ``threshold``, ``input_ids``, ``input_names``)."""
    ext = os.path.splitext(os.fspath(dst))[1].lower()
    if ext not in (".npz", ".safetensors"):
        raise InvalidWeights(f"cannot write {os.fspath(dst)!r}: latentcheck convert writes .npz or .safetensors")
    src = os.fspath(src)
    mf = read_model(src, layers_from=layers_from, output=output, ignore=ignore, latent=latent)
    enc = _to_encoder(mf, activation, activations, repr(src), src)
    save_encoder(enc, dst, mf.meta)
    return enc
