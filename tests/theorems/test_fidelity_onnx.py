"""Fidelity of ONNX reading: onnxruntime's (or PyTorch's) forward against latentcheck's float forward.

Graphs exported from PyTorch (skip without torch) and graphs built with
``onnx.helper`` (no torch needed). onnxruntime runs the graph where installed;
otherwise the torch module is the reference, and helper-built graphs are
checked against a numpy forward of their textbook formulas.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

onnx = pytest.importorskip("onnx", reason="onnx not installed (pip install 'latentcheck[formats]')")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from latentcheck.theorems.errors import InvalidWeights  # noqa: E402
from latentcheck.theorems.formats import load_encoder  # noqa: E402


def _ort(path, x: np.ndarray) -> np.ndarray:
    ort = pytest.importorskip("onnxruntime", reason="onnxruntime not installed (pip install onnxruntime)")
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return sess.run(None, {sess.get_inputs()[0].name: x})[0]


def _l2(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _export(module, path, n: int, **kw) -> None:
    torch = pytest.importorskip("torch", reason="PyTorch not installed (optional extra latentcheck[torch])")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(module, (torch.rand(2, n, dtype=torch.float32) + 0.1,), str(path), dynamo=False,
                          input_names=["x"], dynamic_axes={"x": {0: "batch"}}, **kw)


def _multdae(torch, n: int = 12, h: int = 8, m: int = 4, norm: bool = True):
    nn = torch.nn

    class MultDAE(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.drop = nn.Dropout(0.5)
            self.enc = nn.Sequential(nn.Linear(n, h), nn.BatchNorm1d(h), nn.Tanh(), nn.Linear(h, m), nn.Tanh())

        def forward(self, x):
            return self.enc(self.drop(nn.functional.normalize(x) if norm else x))

    mod = MultDAE()
    with torch.no_grad():
        bn = mod.enc[1]
        bn.running_mean.uniform_(-0.2, 0.2)
        bn.running_var.uniform_(0.3, 3)
        bn.weight.uniform_(0.5, 2)
        bn.bias.uniform_(-1, 1)
    return mod.eval()


def test_multdae_with_f_normalize_dropout_batchnorm(tmp_path) -> None:
    """Issue 17: an ONNX Mult-DAE (F.normalize first) was refused without naming ReduceL2 / Div."""
    torch = pytest.importorskip("torch", reason="PyTorch not installed (optional extra latentcheck[torch])")
    torch.manual_seed(0)
    mod = _multdae(torch)
    _export(mod, tmp_path / "dae.onnx", 12)
    enc = load_encoder(tmp_path / "dae.onnx")
    assert enc.inputs.normalise == "l2" and enc.inputs.origin == "file"
    notes = " ".join(enc.provenance.folded)
    assert "ReduceL2/Div" in notes and "BatchNormalization" in notes  # eval-mode Dropout is not exported at all
    x = (np.random.default_rng(0).random((50, 12)) < 0.4).astype(np.float32)
    x[:, 0] = 1.0
    with torch.no_grad():
        ref = mod(torch.from_numpy(x)).double().numpy()
    np.testing.assert_allclose(enc(_l2(x.astype(np.float64))), ref, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(enc(_l2(x.astype(np.float64))), _ort(tmp_path / "dae.onnx", x), rtol=1e-5, atol=1e-5)


def test_training_mode_dropout_export_refused(tmp_path, capsys) -> None:
    torch = pytest.importorskip("torch", reason="PyTorch not installed (optional extra latentcheck[torch])")
    torch.manual_seed(1)
    mod = _multdae(torch, norm=False)
    mod.enc[1] = torch.nn.Identity()
    mod.train()
    _export(mod, tmp_path / "train.onnx", 12, training=torch.onnx.TrainingMode.TRAINING, do_constant_folding=False)
    with pytest.raises(InvalidWeights, match="Dropout.*training mode"):
        load_encoder(tmp_path / "train.onnx")


def test_layernorm_export_refused_by_name(tmp_path) -> None:
    torch = pytest.importorskip("torch", reason="PyTorch not installed (optional extra latentcheck[torch])")
    nn = torch.nn
    mod = nn.Sequential(nn.Linear(6, 4), nn.LayerNorm(4), nn.ReLU(), nn.Linear(4, 2)).eval()
    _export(mod, tmp_path / "ln.onnx", 6)
    with pytest.raises(InvalidWeights, match="LayerNormalization"):
        load_encoder(tmp_path / "ln.onnx")


def test_vae_head_sliced_latent_is_mu(tmp_path) -> None:
    torch = pytest.importorskip("torch", reason="PyTorch not installed (optional extra latentcheck[torch])")
    nn = torch.nn

    class Head(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = nn.Sequential(nn.Linear(10, 6), nn.Tanh(), nn.Linear(6, 4))

        def forward(self, x):
            h = self.encoder(x)
            return h[:, :2], h[:, 2:]

    torch.manual_seed(2)
    mod = Head().eval()
    _export(mod, tmp_path / "vae.onnx", 10)
    x = np.random.default_rng(1).normal(size=(30, 10)).astype(np.float32)
    with torch.no_grad():
        mu = mod(torch.from_numpy(x))[0].double().numpy()
    enc = load_encoder(tmp_path / "vae.onnx")
    assert enc.m == 2 and enc.provenance.latent == "mu"
    np.testing.assert_allclose(enc(x.astype(np.float64)), mu, rtol=1e-5, atol=1e-5)
    assert load_encoder(tmp_path / "vae.onnx", latent="all").m == 4


# ------------------------------------------------------------------ graphs built with onnx.helper (no torch)

def _graph(tmp_path, nodes, inits, n: int, name: str = "g.onnx"):
    graph = helper.make_graph(nodes, "enc", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, n])],
                              [helper.make_tensor_value_info(nodes[-1].output[0], TensorProto.FLOAT, None)],
                              [numpy_helper.from_array(v, k) for k, v in inits.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.save(model, str(tmp_path / name))
    return tmp_path / name


def _bn_inits(rng, h: int) -> dict:
    f = lambda a: np.asarray(a, np.float32)  # noqa: E731
    return {"W": f(rng.normal(size=(h, 5))), "b": f(rng.normal(size=h)), "g": f(rng.uniform(0.5, 2, h)),
            "beta": f(rng.normal(size=h)), "mean": f(rng.normal(size=h)), "var": f(rng.uniform(0.3, 3, h))}


def test_helper_lpnormalization_batchnorm_dropout(tmp_path) -> None:
    rng = np.random.default_rng(3)
    t = _bn_inits(rng, 3)
    t["train"] = np.array(False)
    nodes = [helper.make_node("LpNormalization", ["x"], ["xn"], name="norm", p=2, axis=-1),
             helper.make_node("Gemm", ["xn", "W", "b"], ["h"], name="fc", transB=1),
             helper.make_node("BatchNormalization", ["h", "g", "beta", "mean", "var"], ["hb"], name="bn", epsilon=1e-3),
             helper.make_node("Dropout", ["hb", "", "train"], ["hd"], name="drop"),
             helper.make_node("Relu", ["hd"], ["z"], name="act")]
    path = _graph(tmp_path, nodes, t, 5)
    enc = load_encoder(path)
    assert enc.inputs.normalise == "l2"
    x = rng.normal(size=(40, 5))
    f = {k: v.astype(np.float64) for k, v in t.items() if k != "train"}
    eps = float(np.float32(1e-3))
    h = x @ f["W"].T + f["b"]
    ref = np.maximum((h - f["mean"]) / np.sqrt(f["var"] + eps) * f["g"] + f["beta"], 0)
    np.testing.assert_allclose(enc(x), ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(enc(_l2(x)), _ort(path, x.astype(np.float32)), rtol=1e-4, atol=1e-4)
    t["train"] = np.array(True)
    with pytest.raises(InvalidWeights, match="'drop'.*training mode"):
        load_encoder(_graph(tmp_path, nodes, t, 5, "train.onnx"))


def test_helper_ignore_skips_a_named_node(tmp_path) -> None:
    rng = np.random.default_rng(4)
    inits = {"W": rng.normal(size=(3, 5)).astype(np.float32), "b": np.zeros(3, np.float32)}
    nodes = [helper.make_node("Gemm", ["x", "W", "b"], ["h"], name="fc", transB=1),
             helper.make_node("Abs", ["h"], ["a"], name="odd"), helper.make_node("Relu", ["a"], ["z"], name="act")]
    path = _graph(tmp_path, nodes, inits, 5)
    with pytest.raises(InvalidWeights, match="'Abs'.*'odd'"):
        load_encoder(path)
    enc = load_encoder(path, ignore=["odd"])
    assert enc.provenance.tensors_ignored == ("odd",) and enc.provenance.tensors_used == ("W", "b")


def test_multdae_same_encoder_and_verdict_from_every_route(tmp_path, capsys) -> None:
    """A ReLU Mult-DAE saved as a state-dict checkpoint, safetensors and ONNX (F.normalize) is one encoder, one verdict."""
    torch = pytest.importorskip("torch", reason="PyTorch not installed (optional extra latentcheck[torch])")
    pytest.importorskip("safetensors")
    from safetensors.torch import save_file

    from latentcheck.checkers.cli.app import main as cli_main

    nn = torch.nn

    class MultDAE(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = nn.Sequential(nn.Linear(8, 5), nn.ReLU(), nn.Linear(5, 3), nn.ReLU())

        def forward(self, x):
            return self.encoder(nn.functional.normalize(x))

    torch.manual_seed(8)
    mod = MultDAE().eval()
    sd = mod.state_dict()
    torch.save({"state_dict": sd, "normalise": "l2", "activations": ["relu", "relu"]}, tmp_path / "dae.pt")
    save_file(sd, str(tmp_path / "dae.safetensors"), metadata={"latentcheck_normalise": "l2", "activations": '["relu", "relu"]'})
    _export(mod, tmp_path / "dae.onnx", 8)
    encs = [load_encoder(tmp_path / f"dae.{ext}") for ext in ("pt", "safetensors", "onnx")]
    for e in encs:
        assert e.inputs.normalise == "l2" and e.sizes == [8, 5, 3]
        for la, lb in zip(e.layers, encs[0].layers):
            assert la.W.tobytes() == lb.W.tobytes() and la.b.tobytes() == lb.b.tobytes()
    codes = []
    for ext in ("pt", "safetensors", "onnx"):
        with pytest.raises(SystemExit) as exc:
            cli_main(["verify", "--model", str(tmp_path / f"dae.{ext}"), "--domain", "binary"])
        codes.append(int(exc.value.code or 0))
        capsys.readouterr()
    assert len(set(codes)) == 1 and codes[0] in (0, 1), codes


def test_bottleneck_provenance_names_only_the_encoder_tensors(tmp_path) -> None:
    """A whole Mult-DAE export is cut at the bottleneck: the decoder's tensors (and its BatchNorm fold) are not named as checked.

    Regression (issue 17 end-to-end check): the cut kept every constant the walk had passed, so a certificate about
    the 5 -> 3 encoder claimed to be about ``Wd``/``bd`` too.
    """
    rng = np.random.default_rng(5)
    f = lambda a: np.asarray(a, np.float32)  # noqa: E731
    inits = {"W": f(rng.normal(size=(3, 5))), "b": f(rng.normal(size=3)), "Wd": f(rng.normal(size=(5, 3))),
             "bd": f(rng.normal(size=5)), "g": f(rng.uniform(0.5, 2, 5)), "beta": f(rng.normal(size=5)),
             "mean": f(rng.normal(size=5)), "var": f(rng.uniform(0.3, 3, 5))}
    nodes = [helper.make_node("Gemm", ["x", "W", "b"], ["h"], name="enc", transB=1),
             helper.make_node("Relu", ["h"], ["z"], name="act"),
             helper.make_node("Gemm", ["z", "Wd", "bd"], ["d"], name="dec", transB=1),
             helper.make_node("BatchNormalization", ["d", "g", "beta", "mean", "var"], ["y"], name="dec_bn")]
    enc = load_encoder(_graph(tmp_path, nodes, inits, 5))
    assert enc.sizes == [5, 3]
    assert enc.provenance.tensors_used == ("W", "b")
    assert not any("dec_bn" in note for note in enc.provenance.folded)
    np.testing.assert_array_equal(enc.layers[0].W, inits["W"].astype(np.float64))
