"""From the modules of a named-weights file to the encoder's layers: select, fold BatchNorm, take the VAE latent.

Every tensor ends up in exactly one place: used (a chosen layer, a folded
BatchNorm), outside the encoder (recognised layers after the latent: the
decoder, a logvar head), ignored by the user, or refused (:mod:`._modules`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Optional

import numpy as np

from ..errors import InvalidArgument, InvalidWeights
from ._exact import widen_exact, widest
from ._layers import RawLayer, natural_key, select_layers
from ._modules import (BN_EPS, Module, bn_note, bn_scale_shift, fold_input_side, fold_output_side,
                                                   group_modules, refusal, weight_norm)

__all__ = ["Assembled", "assemble", "LATENTS", "check_latent"]

#: Values of ``--latent``: the VAE mean, the eval-time sample (= the mean), or mean and log-variance side by side.
LATENTS = ("mu", "z", "all")
_ENC = ("encoder", "q_layers")
_DEC = ("decoder", "p_layers")
_VAE_MODELS = ("MultiVAE",)


@dataclass
class Assembled:
    """The encoder's layers and what was read to make them."""

    layers: list[RawLayer]
    used: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    latent: Optional[str] = None


def check_latent(latent: Optional[str]) -> Optional[str]:
    """``latent`` validated (``None``: the default, mu for VAE heads)."""
    if latent is None:
        return None
    t = str(latent).strip().lower()
    if t not in LATENTS:
        raise InvalidArgument(f"--latent {latent!r} is not one of mu, z, all; pass e.g. --latent mu")
    return t


def _component(name: str, comps: tuple[str, ...]) -> bool:
    return any(c in name.replace("/", ".").split(".") for c in comps)


def _linear_layers(mods: list[Module], tensors: dict[str, Any], where: str) -> tuple[dict[str, RawLayer], dict[str, str]]:
    """Linear and weight-normalised modules as layers (and the weight-norm notes), refusing any unknown module."""
    found: dict[str, RawLayer] = {}
    notes: dict[str, str] = {}
    for mod in mods:
        if mod.kind in ("unknown", "layernorm"):
            raise refusal(mod, where)
        if mod.kind == "weightnorm":
            W, b, notes[mod.prefix] = weight_norm(mod, tensors, where)
            found[mod.prefix] = RawLayer(mod.prefix, W, b, "float64")
        elif mod.kind == "linear":
            found[mod.prefix] = _plain_linear(mod, tensors, where)
    return found, notes


def _plain_linear(mod: Module, tensors: dict[str, Any], where: str) -> RawLayer:
    kind = "weight" if "weight" in mod.leaves else "kernel"
    W, wd = widen_exact(mod.leaves[kind], tensors[mod.leaves[kind]], where)
    W = W.T if kind == "kernel" else W
    if "bias" in mod.leaves:
        b, bd = widen_exact(mod.leaves["bias"], tensors[mod.leaves["bias"]], where)
        if b.shape != (W.shape[0],):
            raise InvalidWeights(f"{mod.leaves['bias']} in {where} has shape {b.shape} but {mod.leaves[kind]} gives {W.shape[0]} outputs")
    else:
        b, bd = np.zeros(W.shape[0]), wd
    return RawLayer(mod.prefix, np.ascontiguousarray(W), b, widest([wd, bd]))


def _seq_index(name: str) -> tuple[str, Optional[int]]:
    m = re.fullmatch(r"(?:(.*)\.)?(\d+)", name.replace("/", "."))
    return (m.group(1) or "", int(m.group(2))) if m else (name, None)


def _bn_side(bn: str, prev: Optional[str], nxt: Optional[str], where: str) -> tuple[Optional[str], str, str]:
    """``(target layer, 'out'|'in', how the side was told)`` for a BatchNorm between linear modules ``prev`` and ``nxt``."""
    parent, k = _seq_index(bn)
    gaps = {}
    for side, other in (("out", prev), ("in", nxt)):
        if other is not None and k is not None:
            op, j = _seq_index(other)
            if op == parent and j is not None:
                gaps[side] = abs(k - j)
    if gaps.get("out") == 1:
        return prev, "out", "directly after it in the Sequential"
    if gaps.get("in") == 1:
        return nxt, "in", "directly before it in the Sequential"
    if gaps:
        raise InvalidWeights(f"BatchNorm {bn!r} in {where} is not next to a Linear layer in its Sequential, so where its activation "
                             "sits is unknown; re-save with the BatchNorm right after its Linear, or use encoder_from_torch(module)")
    if prev is not None:
        return prev, "out", "assumed Linear -> BatchNorm -> activation: a state dict does not store where the activation is"
    return nxt, "in", "before the first Linear layer"


def _fold_batchnorms(mods: list[Module], tensors: dict[str, Any], chosen: list[RawLayer], order: list[str],
                     where: str) -> tuple[list[RawLayer], list[str], list[str]]:
    """``chosen`` with every BatchNorm that sits next to a chosen layer folded in (notes, used keys)."""
    linear = [p for p in order if any(m.prefix == p and m.kind in ("linear", "weightnorm") for m in mods)]
    index = {layer.name: i for i, layer in enumerate(chosen)}
    layers, notes, used = list(chosen), [], []
    for mod in sorted((m for m in mods if m.kind == "batchnorm"), key=lambda m: order.index(m.prefix)):
        pos = order.index(mod.prefix)
        prev = next((p for p in reversed(linear) if order.index(p) < pos), None)
        nxt = next((p for p in linear if order.index(p) > pos), None)
        target, side, how = _bn_side(mod.prefix, prev, nxt, where)
        if target not in index:
            continue  # next to a layer outside the encoder (the decoder): not part of the checked function
        s, t = bn_scale_shift(mod, tensors, where)
        i, layer = index[target], layers[index[target]]
        if layer.W.shape[0 if side == "out" else 1] != s.shape[0]:
            raise InvalidWeights(f"BatchNorm {mod.prefix!r} in {where} has {s.shape[0]} features but {target!r} has "
                                 f"{layer.W.shape[0 if side == 'out' else 1]} {'outputs' if side == 'out' else 'inputs'}")
        W, b = (fold_output_side if side == "out" else fold_input_side)(layer.W, layer.b, s, t)
        layers[i] = RawLayer(layer.name, W, b, "float64")
        notes.append(bn_note(mod.prefix, target, side, BN_EPS, f"PyTorch's default; {how}"))
        used += [k for leaf, k in mod.leaves.items() if leaf != "num_batches_tracked"]
        if "num_batches_tracked" in mod.leaves:
            notes.append(f"{mod.leaves['num_batches_tracked']!r} is training bookkeeping, not used in eval mode")
    return layers, notes, used


def _vae_half(chosen: list[RawLayer], found: dict[str, RawLayer], names: list[str], extra: dict[str, Any]) -> Optional[int]:
    """``m`` when the chosen encoder ends in a VAE head ``[mu, logvar]`` of width ``2 m``, else None."""
    last = chosen[-1]
    encoders = [n for n in names if _component(n, _ENC)]
    decoders = [n for n in names if _component(n, _DEC) and n not in {layer.name for layer in chosen}]
    width = last.W.shape[0]
    if encoders and last.name != encoders[-1]:
        return None  # cut before the encoder's last layer (--output): not the head
    if decoders and 2 * found[decoders[0]].W.shape[1] == width:
        return width // 2
    if extra.get("model") in _VAE_MODELS and width % 2 == 0 and not decoders:
        return width // 2
    return None


_MU = re.compile(r"(^|_)(mu|mean)$")
_LOGVAR = re.compile(r"(^|_)(logvar|log_var|var|logsigma|log_sigma|sigma|std|log_std)$")


def _head_kind(name: str) -> Optional[str]:
    leaf = name.replace("/", ".").rsplit(".", 1)[-1].lower()
    return "mu" if _MU.search(leaf) else "logvar" if _LOGVAR.search(leaf) else None


def _separate_heads(chosen: list[RawLayer], found: dict[str, RawLayer], where: str) -> None:
    """Refuse a default selection that stops before separate VAE heads (``fc_mu`` / ``fc_logvar``) reading the encoder's output."""
    taken = {layer.name for layer in chosen}
    width = chosen[-1].W.shape[0]
    heads = {n: _head_kind(n) for n, layer in found.items() if n not in taken and layer.W.shape[1] == width}
    mus = [n for n, k in heads.items() if k == "mu"]
    if mus and any(k == "logvar" for k in heads.values()):
        sel = ",".join([layer.name for layer in chosen] + mus[:1])
        raise InvalidWeights(f"{where} has VAE heads ({', '.join(n for n, k in heads.items() if k)}) reading the output of "
                             f"{chosen[-1].name!r}, so the encoder's latent is ambiguous; pass --layers-from '{sel}' to check mu")


def _take_latent(asm: Assembled, found: dict[str, RawLayer], names: list[str], extra: dict[str, Any],
                 latent: Optional[str], where: str) -> None:
    if _head_kind(asm.layers[-1].name) == "mu":
        if latent == "all":
            raise InvalidArgument(f"--latent all: {asm.layers[-1].name!r} is a separate mu head; logvar is another layer, not read")
        asm.latent = latent or "mu"
        asm.notes.append(f"VAE head {asm.layers[-1].name!r} is mu" + (" (z at eval time is mu: no sampling)" if asm.latent == "z" else ""))
        return
    half = _vae_half(asm.layers, found, names, extra)
    if half is None:
        if latent is not None:
            raise InvalidArgument(f"--latent {latent} applies to VAE heads ([mu, logvar] side by side, or a decoder taking half "
                                  f"the encoder's width); {where} has none; drop --latent")
        return
    last = asm.layers[-1]
    asm.latent = latent or "mu"
    if asm.latent == "all":
        asm.notes.append(f"VAE head {last.name!r}: latent 'all' = [mu, logvar], all {2 * half} outputs")
        return
    asm.layers[-1] = RawLayer(last.name + "[:mu]", last.W[:half], last.b[:half], last.dtype)
    asm.notes.append(f"VAE head {last.name!r}: latent {asm.latent!r} = mu, outputs 0..{half - 1} of {2 * half}"
                     + (" (z at eval time is mu: the reparameterisation returns mu outside training, no sampling)"
                        if asm.latent == "z" else ""))


def assemble(tensors: dict[str, Any], extra: dict[str, Any], where: str, *, ordered: bool, layers_from: Optional[str],
             output: Optional[str], latent: Optional[str]) -> Assembled:
    """The encoder of a named-weights file, every tensor accounted for (see the module docstring)."""
    mods = group_modules(tensors)
    found, wn_notes = _linear_layers(mods, tensors, where)
    order = [m.prefix for m in mods] if ordered else sorted((m.prefix for m in mods), key=natural_key)
    names = [p for p in order if p in found]
    chosen = select_layers(found, where, layers_from, output, list(tensors), ordered=ordered)
    if layers_from is None and output is None:
        _separate_heads(chosen, found, where)
    layers, bn_notes, bn_used = _fold_batchnorms(mods, tensors, chosen, order, where)
    asm = Assembled(layers)
    by_prefix = {m.prefix: m for m in mods}
    for layer in chosen:
        asm.used += by_prefix[layer.name].keys()
        if layer.name in wn_notes:
            asm.notes.append(wn_notes[layer.name])
    asm.used += bn_used
    asm.notes += bn_notes
    _take_latent(asm, found, names, extra, check_latent(latent), where)
    if asm.latent in ("mu", "z"):
        head, m = set(by_prefix[chosen[-1].name].keys()), asm.layers[-1].W.shape[0]
        asm.used = [f"{k}[:{m}]" if k in head else k for k in asm.used]
    return asm
