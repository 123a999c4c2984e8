"""ONNX graphs (the ``onnx`` package, no runtime): the encoder is a chain of nodes.

Walk from the graph's input through ``Gemm`` (``alpha = beta = 1``, any
``transB``), ``MatMul`` (+ ``Add`` of a constant bias) and activation nodes
(``Relu``, ``Tanh``, ``Sigmoid``, ``LeakyRelu(alpha)``, ``Elu(alpha=1)``,
``Softplus``, ``Softsign``) up to ``output`` (a tensor or
node name); by default up to the bottleneck, the output of the layer of
smallest width. ``Identity`` and ``Dropout`` (inference) pass values through.
Any other op on the way is refused, naming it. Weights come from initializers
or ``Constant`` nodes, read exactly in their stored dtype.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any, Optional

import numpy as np

from latentcheck.theorems.errors import InvalidWeights
from latentcheck.theorems.formats._exact import widen_exact, widest
from latentcheck.theorems.formats._layers import ModelFile, RawLayer

__all__ = ["read_onnx"]

_ACTIVATION_OPS = {"Relu": "relu", "Tanh": "tanh", "Sigmoid": "sigmoid", "Softplus": "softplus", "Softsign": "softsign"}
_PASS_OPS = {"Identity", "Dropout"}


def _activation_of(node: Any, attrs: dict[str, Any], where: str) -> str:
    if node.op_type in _ACTIVATION_OPS:
        return _ACTIVATION_OPS[node.op_type]
    if node.op_type == "LeakyRelu":
        alpha = float(np.float32(attrs.get("alpha", np.float32(0.01))))
        if not 0.0 <= alpha <= 1.0:
            raise InvalidWeights(f"LeakyRelu node {node.name!r} in {where} has alpha={alpha}; latentcheck reads 0 <= alpha <= 1")
        fr = Fraction(alpha)  # the stored float32, exactly (integers parse exactly)
        return f"Max(t, {fr.numerator}*t/{fr.denominator})"
    if node.op_type == "Elu":
        if float(attrs.get("alpha", 1.0)) != 1.0:
            raise InvalidWeights(f"Elu node {node.name!r} in {where} has alpha={attrs['alpha']}; latentcheck reads alpha = 1 only")
        return "elu"
    raise _unknown(node, where)


def _unknown(node: Any, where: str) -> InvalidWeights:
    return InvalidWeights(f"ONNX op {node.op_type!r} (node {node.name!r}) in {where} is not supported; an encoder is a chain of "
                          "Gemm / MatMul+Add and Relu, Tanh, Sigmoid, LeakyRelu, Elu, Softplus, Softsign nodes; "
                          "pass --output NAME to stop before it")


def _constants(graph: Any) -> dict[str, np.ndarray]:
    from onnx import numpy_helper

    consts = {init.name: numpy_helper.to_array(init) for init in graph.initializer}
    for node in graph.node:
        if node.op_type == "Constant":
            for a in node.attribute:
                if a.name == "value":
                    consts[node.output[0]] = numpy_helper.to_array(a.t)
    return consts


def _attrs(node: Any) -> dict[str, Any]:
    from onnx import helper

    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def _consumers(graph: Any) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for node in graph.node:
        if node.op_type == "Constant":
            continue
        for name in node.input:
            out.setdefault(name, []).append(node)
    return out


def _affine(node: Any, consts: dict[str, np.ndarray], where: str) -> tuple[np.ndarray, Optional[np.ndarray]]:
    """``(W (out, in), b or None)`` in stored dtype for a Gemm or MatMul node."""
    a = _attrs(node)
    if node.op_type == "Gemm":
        if float(a.get("alpha", 1.0)) != 1.0 or float(a.get("beta", 1.0)) != 1.0 or int(a.get("transA", 0)):
            raise InvalidWeights(f"Gemm node {node.name!r} in {where} has alpha/beta != 1 or transA; export with plain Linear layers")
        if node.input[1] not in consts:
            raise InvalidWeights(f"Gemm node {node.name!r} in {where} takes weights that are not constants; export with constant folding")
        B = consts[node.input[1]]
        W = B if int(a.get("transB", 0)) else B.T
        bias = consts.get(node.input[2]) if len(node.input) > 2 and node.input[2] else None
        return W, bias
    if node.input[1] not in consts:
        raise InvalidWeights(f"MatMul node {node.name!r} in {where} multiplies by a non-constant; export with constant folding")
    return consts[node.input[1]].T, None


def _walk(graph: Any, consts: dict[str, np.ndarray], where: str, stop: Optional[str]) -> list[dict[str, Any]]:
    """Layers ``{W, b, act, out, name}`` along the single chain from the input (to ``stop``)."""
    inputs = [i.name for i in graph.input if i.name not in consts]
    if len(inputs) != 1:
        raise InvalidWeights(f"{where} has {len(inputs)} graph inputs; an encoder takes one input vector")
    consumers, cur, layers = _consumers(graph), inputs[0], []
    while cur != stop:
        nodes = consumers.get(cur, [])
        if not nodes:
            break
        if len(nodes) > 1:
            if stop is None:
                break  # the chain branches (e.g. mu and logvar): stop here unless --output says where
            raise InvalidWeights(f"tensor {cur!r} in {where} feeds {len(nodes)} nodes; pass --output naming a tensor on one chain")
        node = nodes[0]
        if node.op_type in ("Gemm", "MatMul"):
            W, b = _affine(node, consts, where)
            layers.append({"W": W, "b": b, "act": None, "name": node.name or node.output[0]})
        elif node.op_type == "Add" and layers and layers[-1]["b"] is None and layers[-1]["act"] is None:
            other = [n for n in node.input if n != cur]
            if len(other) != 1 or other[0] not in consts:
                raise InvalidWeights(f"Add node {node.name!r} in {where} adds a non-constant; only a bias after MatMul is read")
            layers[-1]["b"] = consts[other[0]]
        elif node.op_type in _PASS_OPS:
            pass
        elif layers and layers[-1]["act"] is None:
            layers[-1]["act"] = _activation_of(node, _attrs(node), where)
        else:
            raise _unknown(node, where)
        cur = node.output[0]
        if layers:
            layers[-1]["out"] = cur
        if stop is not None and node.name == stop:
            break
    if stop is not None and (not layers or stop not in (layers[-1]["out"], layers[-1]["name"], cur)):
        raise InvalidWeights(f"--output {stop!r} is not a tensor or node on the encoder chain of {where}")
    return layers


def read_onnx(path: str, output: Optional[str] = None) -> ModelFile:
    """The encoder chain of an ONNX model (see the module docstring for the rule)."""
    try:
        import onnx
    except ImportError:
        raise InvalidWeights("reading .onnx files needs the onnx package: pip install onnx") from None
    where = repr(path)
    try:
        model = onnx.load(path, load_external_data=False)
    except Exception as exc:  # protobuf DecodeError and friends
        raise InvalidWeights(f"{where} is not a readable ONNX model ({type(exc).__name__}); export it with torch.onnx.export") from None
    consts = _constants(model.graph)
    steps = _walk(model.graph, consts, where, output)
    if not steps:
        raise InvalidWeights(f"{where} has no Gemm or MatMul layer after its input; nothing to read as an encoder")
    if output is None:
        widths = [s["W"].shape[0] for s in steps]
        steps = steps[: widths.index(min(widths)) + 1]
    layers, acts = [], []
    for i, s in enumerate(steps):
        W, wd = widen_exact(f"{s['name']} weight", s["W"], where)
        if s["b"] is None:
            b, bd = np.zeros(W.shape[0]), wd
        else:
            b, bd = widen_exact(f"{s['name']} bias", np.reshape(s["b"], (-1,)), where)
        layers.append(RawLayer(s["name"], np.ascontiguousarray(W), b, widest([wd, bd])))
        acts.append(s["act"] or "identity")
    return ModelFile(tuple(layers), tuple(acts), "onnx")
