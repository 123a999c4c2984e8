"""Readers from files to named arrays (lazy imports: safetensors, torch, msgpack).

Each reader returns ``(tensors, extra)``: an ordered ``{name: array}`` in the
stored dtype (bfloat16 as ``ml_dtypes.bfloat16`` or raw ``uint16`` bits
marked by ``extra['bf16']``) and the file's own metadata.
"""

from __future__ import annotations

import json
import os
import pickle
import warnings
import zipfile
from typing import Any

import numpy as np

from ..errors import InvalidWeights

__all__ = ["read_npz", "read_safetensors", "read_torch", "read_flax_msgpack", "read_equinox_leaves", "TORCH_MISSING"]

TORCH_MISSING = "reading .pt files needs PyTorch: pip install 'latentcheck[torch]'"


def read_npz(path: str) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Every array of an ``.npz`` (``allow_pickle=False``), in stored order."""
    try:
        with np.load(path, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}, {}
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise InvalidWeights(f"{path!r} holds Python objects (pickles), which latentcheck never loads; save plain arrays with np.savez") from None
        raise InvalidWeights(f"{path!r} is not a valid .npz ({exc}); save it with np.savez") from None
    except (OSError, zipfile.BadZipFile, EOFError) as exc:
        raise InvalidWeights(f"{path!r} is not a readable .npz ({type(exc).__name__}); save it with np.savez") from None


def read_safetensors(path: str) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Every tensor of a ``.safetensors`` file (the ``safetensors`` package, numpy backend)."""
    try:
        import ml_dtypes  # noqa: F401  (registers numpy's 'bfloat16' for BF16 tensors)
        from safetensors import safe_open
    except ImportError:
        raise InvalidWeights("reading .safetensors files needs the safetensors package: pip install safetensors") from None
    try:
        with safe_open(path, framework="numpy") as fh:
            meta = dict(fh.metadata() or {})
            tensors = {k: fh.get_tensor(k) for k in fh.keys()}
    except Exception as exc:  # safetensors raises its own SafetensorError (and OSError) for broken files
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InvalidWeights(f"{path!r} is not a readable safetensors file ({first}); re-save it with safetensors.numpy.save_file") from None
    return tensors, {"metadata": meta}


def _torch_to_numpy(torch: Any, name: str, t: Any, where: str) -> np.ndarray:
    t = t.detach().cpu()
    if t.dtype == torch.bfloat16:
        import ml_dtypes

        return t.view(torch.int16).numpy().view(np.uint16).view(ml_dtypes.bfloat16)
    try:
        return t.numpy()
    except (TypeError, RuntimeError):
        raise InvalidWeights(f"{name} in {where} has dtype {t.dtype}, which latentcheck cannot read exactly; store float16, bfloat16, float32 or float64") from None


def _unwrap_checkpoint(obj: Any, where: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The tensor dict of a state_dict or of a checkpoint dict holding one."""
    if not isinstance(obj, dict):
        raise InvalidWeights(f"{where} holds a {type(obj).__name__}, not a dict of tensors; save model.state_dict() with torch.save")
    extra = {k: v for k, v in obj.items() if isinstance(v, (str, int, float, list, tuple)) and not hasattr(v, "shape")}
    for key in ("state_dict", "model_state_dict", "model", "params"):
        if isinstance(obj.get(key), dict):
            inner = obj[key]
            extra.update({k: obj[k] for k in ("input_ids", "input_names") if k in obj})
            return inner, extra
    return obj, {}


def _mentions_recbole(path: str) -> bool:
    """Whether the pickle bytes name a RecBole class (a byte scan: nothing is unpickled)."""
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as zf:
                names = [n for n in zf.namelist() if n.endswith("data.pkl")]
                return bool(names) and b"recbole." in zf.read(names[0])
        with open(path, "rb") as fh:
            return b"recbole." in fh.read(1 << 22)
    except (OSError, zipfile.BadZipFile):
        return False


def _refusal(path: str, exc: Exception) -> InvalidWeights:
    if "recbole" in str(exc).lower() or _mentions_recbole(path):
        return InvalidWeights(f"{path!r} is a full RecBole checkpoint whose config is a Python object, which latentcheck never unpickles; "
                              "re-save its weights once where you trust the file (docs/models.md, section RecBole)")
    return InvalidWeights(f"{path!r} holds Python objects beyond tensors, which latentcheck never unpickles "
                          "(torch.load weights_only=True refused it); save model.state_dict() with torch.save")


def read_torch(path: str) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """A PyTorch ``state_dict`` or checkpoint, read with ``torch.load(weights_only=True)`` only."""
    try:
        import torch
    except ImportError:
        raise InvalidWeights(TORCH_MISSING) from None

    try:
        with warnings.catch_warnings():  # torch warns about pickle protocols on stderr; the error line says what matters
            warnings.simplefilter("ignore")
            obj = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise _refusal(path, exc) from None
    except (RuntimeError, EOFError, OSError, ValueError, zipfile.BadZipFile) as exc:
        if "weights_only" in str(exc) or "global" in str(exc).lower():
            raise _refusal(path, exc) from None
        first = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise InvalidWeights(f"{path!r} is not a readable PyTorch file ({first}); save model.state_dict() with torch.save") from None
    state, extra = _unwrap_checkpoint(obj, repr(path))
    tensors: dict[str, np.ndarray] = {}
    for name, value in state.items():
        if isinstance(value, torch.Tensor):
            tensors[str(name)] = _torch_to_numpy(torch, name, value, repr(path))  # every tensor is accounted for
        elif isinstance(value, (str, int, float, list, tuple)):
            extra.setdefault(str(name), value)
    if "input_ids" in extra and hasattr(extra["input_ids"], "numpy"):
        extra["input_ids"] = extra["input_ids"].numpy()
    return tensors, extra


def _flax_ext_hook(code: int, data: bytes) -> Any:
    import msgpack

    if code == 1:  # flax.serialization: ndarray as (shape, dtype name, raw bytes)
        shape, dtype_name, buf = msgpack.unpackb(data, raw=False)
        if dtype_name == "bfloat16":
            import ml_dtypes

            dtype: Any = ml_dtypes.bfloat16
        else:
            dtype = np.dtype(dtype_name)
        return np.frombuffer(buf, dtype=dtype).reshape(shape)
    if code == 3:  # numpy scalar
        shape, dtype_name, buf = msgpack.unpackb(data, raw=False)
        return np.frombuffer(buf, dtype=np.dtype(dtype_name)).reshape(shape)
    raise InvalidWeights(f"Flax msgpack extension type {code} is not an array; save params with flax.serialization.to_bytes")


def _flatten(tree: Any, prefix: str, out: dict[str, Any]) -> None:
    if isinstance(tree, dict):
        for k, v in tree.items():
            _flatten(v, f"{prefix}/{k}" if prefix else str(k), out)
    elif isinstance(tree, np.ndarray):
        out[prefix] = tree


def read_flax_msgpack(path: str) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """A Flax parameter tree saved with ``flax.serialization.to_bytes``, flattened to ``a/b/kernel`` names."""
    try:
        import msgpack
    except ImportError:
        raise InvalidWeights("reading Flax msgpack files needs msgpack: pip install 'latentcheck[flax]'") from None
    with open(path, "rb") as fh:
        raw = fh.read()
    try:
        tree = msgpack.unpackb(raw, ext_hook=_flax_ext_hook, raw=False, strict_map_key=False)
    except InvalidWeights:
        raise
    except Exception as exc:  # msgpack's ExtraData, FormatError, ValueError ...
        raise InvalidWeights(f"{path!r} is not a readable Flax msgpack file ({type(exc).__name__}); save params with flax.serialization.to_bytes") from None
    out: dict[str, np.ndarray] = {}
    _flatten(tree, "", out)
    return out, {}


def read_equinox_leaves(path: str) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """The ``.npy`` records written by ``eqx.tree_serialise_leaves``, named as layers.

    Rule: the k-th 2-D leaf is layer ``layers.k`` (weight ``(out, in)``); a 1-D
    leaf right after it with ``out`` entries is its bias. ``<V2`` records are
    bfloat16 (as ``jnp.save`` writes them). Scalar (0-D) leaves are skipped;
    any other leaf is refused.
    """
    import ml_dtypes

    size = os.path.getsize(path)
    leaves: list[np.ndarray] = []
    with open(path, "rb") as fh:
        while fh.tell() < size:
            try:
                arr = np.lib.format.read_array(fh, allow_pickle=False)
            except (ValueError, OSError, EOFError) as exc:
                raise InvalidWeights(f"{path!r} is not a readable Equinox leaf file (record {len(leaves)}: {exc}); "
                                     "save it with eqx.tree_serialise_leaves") from None
            if arr.dtype.kind == "V" and arr.dtype.itemsize == 2 and arr.dtype.names is None:
                arr = arr.view(ml_dtypes.bfloat16)
            leaves.append(arr)
    return _name_leaves(leaves, repr(path)), {}


def _name_leaves(leaves: list[np.ndarray], where: str) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    k, i = 0, 0
    while i < len(leaves):
        arr = leaves[i]
        if arr.ndim == 0:
            i += 1
            continue
        if arr.ndim != 2:
            raise InvalidWeights(f"leaf {i} of {where} has shape {arr.shape}, not a Linear weight (out, in) or bias; "
                                 "latentcheck reads Equinox MLPs / Linear chains")
        out[f"layers.{k}.weight"] = arr
        if i + 1 < len(leaves) and leaves[i + 1].ndim == 1 and leaves[i + 1].shape[0] == arr.shape[0]:
            out[f"layers.{k}.bias"] = leaves[i + 1]
            i += 1
        i += 1
        k += 1
    return out


def json_strings(text: str, key: str, where: str) -> list[str]:
    """A JSON list of strings from file metadata (``latentcheck_input_names``)."""
    try:
        out = json.loads(text)
    except json.JSONDecodeError:
        out = None
    if not isinstance(out, list) or not all(isinstance(a, str) for a in out):
        raise InvalidWeights(f"'{key}' metadata in {where} must be a JSON list of strings")
    return out


def sniff_json_activations(meta: dict[str, Any], where: str) -> "list[str] | None":
    """The ``activations`` entry of safetensors metadata (a JSON list of names or formulas)."""
    text = meta.get("activations")
    if text is None:
        return None
    try:
        acts = json.loads(text)
    except json.JSONDecodeError:
        raise InvalidWeights(f"'activations' metadata in {where} is not a JSON list of strings") from None
    if not isinstance(acts, list) or not all(isinstance(a, str) for a in acts):
        raise InvalidWeights(f"'activations' metadata in {where} must be a JSON list of strings")
    return acts
