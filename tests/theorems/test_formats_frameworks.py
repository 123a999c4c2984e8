"""Models created in their own frameworks (PyTorch, ONNX export, Flax, Equinox, RecBole layout) load exactly.

Each framework's test skips with a reason where the framework is not
installed (CI installs the light readers only: safetensors, onnx, msgpack).
Expected weights are the framework's own parameters, widened by NumPy here.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest

from latentcheck.checkers.cli.app import main as cli_main
from latentcheck.checkers.falsify import falsify
from latentcheck.theorems import Encoder
from latentcheck.theorems.errors import InvalidWeights
from latentcheck.theorems.formats import load_encoder, read_model


def _witnesses(enc: Encoder) -> list:
    res = falsify(enc, "p3", budget=60, seed=5, max_rounds=1, restarts=8, max_counterexamples=1, shrink=False)
    return [(c["certified"], c["witness"]) for c in res.to_json()["counterexamples"]]


def _npz_route(tmp_path, layers, acts) -> Encoder:
    arrays = {}
    for i, (W, b) in enumerate(layers):
        arrays[f"W{i}"], arrays[f"b{i}"] = np.asarray(W, np.float64), np.asarray(b, np.float64)
    np.savez(tmp_path / "ref.npz", activations=np.array(acts), **arrays)
    return load_encoder(tmp_path / "ref.npz")


def _same_weights(a: Encoder, b: Encoder) -> None:
    assert [layer.activation.name for layer in a.layers] == [layer.activation.name for layer in b.layers]
    for la, lb in zip(a.layers, b.layers):
        assert la.W.tobytes() == lb.W.tobytes() and la.b.tobytes() == lb.b.tobytes()


def _cli(capsys, *args: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exc:
        cli_main(list(args))
    return int(exc.value.code or 0), capsys.readouterr().err


def _one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


def test_missing_torch_names_the_extra(tmp_path, capsys, monkeypatch) -> None:
    (tmp_path / "m.pt").write_bytes(b"PK\x03\x04 not read")
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch now raises ImportError
    code, err = _cli(capsys, "falsify", "-p", "p3", "--model", str(tmp_path / "m.pt"), "--activation", "relu")
    assert code == 2
    assert _one_error_line(err) == "error: reading .pt files needs PyTorch: pip install 'latentcheck[torch]'"


# ------------------------------------------------------------------ PyTorch
def _torch_mlp(torch, seed: int, dtype=None):
    torch.manual_seed(seed)
    m = torch.nn.Sequential(torch.nn.Linear(8, 6), torch.nn.Tanh(), torch.nn.Linear(6, 4), torch.nn.ReLU())
    return m.to(dtype) if dtype is not None else m


def _torch_layers(m) -> list:
    import torch

    out = []
    for mod in m:
        if isinstance(mod, torch.nn.Linear):
            W, b = mod.weight.detach(), mod.bias.detach()
            if W.dtype == torch.bfloat16:
                W, b = W.float(), b.float()  # bfloat16 -> float32 is exact
            out.append((W.numpy().astype(np.float64), b.numpy().astype(np.float64)))
    return out


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16"])
def test_torch_state_dict_matches_npz_route(tmp_path, dtype: str) -> None:
    torch = pytest.importorskip("torch", reason="PyTorch not installed (optional extra latentcheck[torch])")
    m = _torch_mlp(torch, 0, getattr(torch, dtype))
    torch.save(m.state_dict(), tmp_path / "m.pt")
    enc = load_encoder(tmp_path / "m.pt", activations=["tanh", "relu"])
    assert enc.stored_dtype == dtype
    ref = _npz_route(tmp_path, _torch_layers(m), ["tanh", "relu"])
    _same_weights(enc, ref)
    if dtype == "float32":
        assert _witnesses(enc) == _witnesses(ref) != []


def test_torch_checkpoint_dict_and_file_order(tmp_path) -> None:
    torch = pytest.importorskip("torch", reason="PyTorch not installed (optional extra latentcheck[torch])")

    class Net(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.input = torch.nn.Linear(5, 4)  # names that do not sort: the file's order rules
            self.hidden = torch.nn.Linear(4, 3)

    net = Net()
    torch.save({"model_state_dict": net.state_dict(), "epoch": 3, "activations": ["relu", "sigmoid"]}, tmp_path / "ck.pth")
    enc = load_encoder(tmp_path / "ck.pth")
    assert enc.sizes == [5, 4, 3] and [layer.activation.name for layer in enc.layers] == ["relu", "sigmoid"]
    assert np.array_equal(enc.layers[0].W, net.input.weight.detach().numpy().astype(np.float64))


class _Evil:
    def __reduce__(self):
        import os

        return (os.system, ("touch PWNED_BY_PICKLE",))


def test_torch_pickles_beyond_tensors_refused_unexecuted(tmp_path, capsys, monkeypatch) -> None:
    torch = pytest.importorskip("torch", reason="PyTorch not installed (optional extra latentcheck[torch])")
    monkeypatch.chdir(tmp_path)
    torch.save({"state_dict": {"0.weight": torch.ones(2, 2)}, "payload": _Evil()}, tmp_path / "evil.pt")
    torch.save(_torch_mlp(torch, 1), tmp_path / "module.pt")  # a whole nn.Module, not a state_dict
    for name in ("evil.pt", "module.pt"):
        code, err = _cli(capsys, "falsify", "-p", "p3", "--model", str(tmp_path / name), "--activation", "relu")
        assert code == 2 and "never unpickles" in _one_error_line(err)
    assert not (tmp_path / "PWNED_BY_PICKLE").exists()


def test_torch_state_dict_without_linear_layers_exit_2(tmp_path, capsys) -> None:
    torch = pytest.importorskip("torch", reason="PyTorch not installed (optional extra latentcheck[torch])")
    torch.save(torch.nn.BatchNorm1d(4).state_dict(), tmp_path / "bn.pt")
    code, err = _cli(capsys, "falsify", "-p", "p3", "--model", str(tmp_path / "bn.pt"), "--activation", "relu")
    assert code == 2 and "no linear layer" in _one_error_line(err)
    torch.save([torch.ones(2)], tmp_path / "list.pt")
    code, err = _cli(capsys, "falsify", "-p", "p3", "--model", str(tmp_path / "list.pt"), "--activation", "relu")
    assert code == 2 and "not a dict of tensors" in _one_error_line(err)


def test_torch_onnx_export_matches_state_dict(tmp_path) -> None:
    torch = pytest.importorskip("torch", reason="PyTorch not installed (optional extra latentcheck[torch])")
    pytest.importorskip("onnx")
    m = _torch_mlp(torch, 2).eval()
    try:
        torch.onnx.export(m, (torch.zeros(1, 8),), str(tmp_path / "m.onnx"), dynamo=False)
    except Exception as exc:  # the exporter needs extras on some torch builds
        pytest.skip(f"torch.onnx.export unavailable here: {type(exc).__name__}")
    enc = load_encoder(tmp_path / "m.onnx")  # activations come from the graph
    ref = _npz_route(tmp_path, _torch_layers(m), ["tanh", "relu"])
    _same_weights(enc, ref)
    assert _witnesses(enc) == _witnesses(ref) != []


# ------------------------------------------------------------------ RecBole layouts (state dicts as RecBole names them)
def test_recbole_multidae_mlplayers_layout(tmp_path) -> None:
    """RecBole MultiDAE: encoder = MLPLayers (Dropout, Linear, Tanh per layer): tanh at every layer, l2 inputs."""
    torch = pytest.importorskip("torch", reason="PyTorch not installed (optional extra latentcheck[torch])")
    g = torch.Generator().manual_seed(3)
    sd = {"encoder.mlp_layers.1.weight": torch.randn(6, 10, generator=g), "encoder.mlp_layers.1.bias": torch.randn(6, generator=g),
          "encoder.mlp_layers.4.weight": torch.randn(3, 6, generator=g), "encoder.mlp_layers.4.bias": torch.randn(3, generator=g),
          "decoder.0.weight": torch.randn(6, 3, generator=g), "decoder.0.bias": torch.randn(6, generator=g),
          "decoder.2.weight": torch.randn(10, 6, generator=g), "decoder.2.bias": torch.randn(10, generator=g)}
    torch.save({"state_dict": sd, "model": "MultiDAE", "input_ids": torch.arange(-1, 9)}, tmp_path / "MultiDAE.pth")
    mf = read_model(tmp_path / "MultiDAE.pth")
    assert mf.activations == ("tanh", "tanh") and mf.meta["normalise"] == "l2"
    assert mf.meta["input_ids"].tolist() == list(range(-1, 9))
    enc = mf.to_encoder()
    assert enc.sizes == [10, 6, 3]
    assert np.array_equal(enc.layers[1].W, sd["encoder.mlp_layers.4.weight"].numpy().astype(np.float64))


def test_recbole_multivae_latent_is_mu(tmp_path) -> None:
    torch = pytest.importorskip("torch", reason="PyTorch not installed (optional extra latentcheck[torch])")
    g = torch.Generator().manual_seed(4)
    sd = {"encoder.0.weight": torch.randn(6, 10, generator=g), "encoder.0.bias": torch.randn(6, generator=g),
          "encoder.2.weight": torch.randn(4, 6, generator=g), "encoder.2.bias": torch.randn(4, generator=g),
          "decoder.0.weight": torch.randn(6, 2, generator=g), "decoder.0.bias": torch.randn(6, generator=g)}
    torch.save({"state_dict": sd, "model": "MultiVAE"}, tmp_path / "MultiVAE.pth")
    enc = load_encoder(tmp_path / "MultiVAE.pth")
    assert enc.sizes == [10, 6, 2] and [layer.activation.name for layer in enc.layers] == ["tanh", "identity"]
    assert np.array_equal(enc.layers[1].W, sd["encoder.2.weight"][:2].numpy().astype(np.float64))


# ------------------------------------------------------------------ Flax
def test_flax_msgpack_matches_npz_route(tmp_path) -> None:
    flax = pytest.importorskip("flax", reason="Flax not installed")
    import jax
    import jax.numpy as jnp
    from flax import linen as nn
    from flax import serialization

    class MLP(nn.Module):
        @nn.compact
        def __call__(self, x):
            h = nn.tanh(nn.Dense(5)(x))
            return nn.relu(nn.Dense(3)(h))

    params = MLP().init(jax.random.PRNGKey(0), jnp.zeros(7))
    (tmp_path / "m.msgpack").write_bytes(serialization.to_bytes(params))
    enc = load_encoder(tmp_path / "m.msgpack", activations=["tanh", "relu"])
    p = params["params"]
    layers = [(np.asarray(p[f"Dense_{i}"]["kernel"]).T, np.asarray(p[f"Dense_{i}"]["bias"])) for i in range(2)]
    ref = _npz_route(tmp_path, layers, ["tanh", "relu"])
    _same_weights(enc, ref)
    assert enc.stored_dtype == "float32" and flax is not None
    assert _witnesses(enc) == _witnesses(ref) != []


# ------------------------------------------------------------------ Equinox
def test_equinox_mlp_matches_npz_route(tmp_path) -> None:
    eqx = pytest.importorskip("equinox", reason="Equinox not installed")
    import jax
    import jax.numpy as jnp

    mlp = eqx.nn.MLP(7, 3, 5, 1, activation=jnp.tanh, final_activation=jax.nn.relu, key=jax.random.PRNGKey(1))
    eqx.tree_serialise_leaves(tmp_path / "m.eqx", mlp)
    enc = load_encoder(tmp_path / "m.eqx", activations=["tanh", "relu"])
    layers = [(np.asarray(lin.weight), np.asarray(lin.bias)) for lin in mlp.layers]
    ref = _npz_route(tmp_path, layers, ["tanh", "relu"])
    _same_weights(enc, ref)
    assert _witnesses(enc) == _witnesses(ref) != []


def test_equinox_bfloat16_mlp(tmp_path) -> None:
    eqx = pytest.importorskip("equinox", reason="Equinox not installed")
    import jax
    import jax.numpy as jnp

    mlp = eqx.nn.MLP(4, 2, 3, 1, key=jax.random.PRNGKey(2))
    mlp = jax.tree_util.tree_map(lambda x: x.astype(jnp.bfloat16) if eqx.is_array(x) else x, mlp)
    eqx.tree_serialise_leaves(tmp_path / "b.eqx", mlp)
    enc = load_encoder(tmp_path / "b.eqx", activation="relu")
    assert enc.stored_dtype == "bfloat16"
    for lin, layer in zip(mlp.layers, enc.layers):
        assert np.array_equal(np.asarray(lin.weight.astype(jnp.float32)).astype(np.float64), layer.W)


def test_equinox_file_with_wrong_leaf_refused(tmp_path) -> None:
    pytest.importorskip("equinox", reason="Equinox not installed")
    with open(tmp_path / "bad.eqx", "wb") as fh:
        np.save(fh, np.ones((2, 2, 2)))
    with pytest.raises(InvalidWeights, match="leaf 0"):
        load_encoder(tmp_path / "bad.eqx", activation="relu")


# ------------------------------------------------------------------ docs/models.md examples run as written
def _doc_examples() -> list[tuple[str, str, str]]:
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "models.md").read_text()
    out = []
    for section in re.split(r"\n## ", text)[1:]:
        title = section.splitlines()[0]
        blocks = re.findall(r"```(python|bash)\n(.*?)```", section, flags=re.S)
        if len(blocks) >= 2 and blocks[0][0] == "python" and blocks[1][0] == "bash" and "falsify" in blocks[1][1]:
            out.append((title, blocks[0][1], blocks[1][1].strip()))
    return out


@pytest.mark.slow
@pytest.mark.parametrize("title,code,command", _doc_examples(), ids=lambda v: v if isinstance(v, str) and len(v) < 30 else None)
def test_docs_models_example_runs(tmp_path, capsys, monkeypatch, title: str, code: str, command: str) -> None:
    import shlex
    import subprocess

    import re

    for module in ("torch", "flax", "equinox", "safetensors"):
        if re.search(rf"^\s*(import|from)\b[^\n]*\b{module}\b", code, flags=re.M):
            pytest.importorskip(module, reason=f"{module} not installed")
    run = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    monkeypatch.chdir(tmp_path)
    args = shlex.split(command)[1:] + ["--budget", "1", "--no-plots"]
    with pytest.raises(SystemExit) as exc:
        cli_main(args)
    out = capsys.readouterr()
    assert exc.value.code in (0, 1), out.err
    assert "P3:" in out.out


def test_full_recbole_checkpoint_refused_with_recipe(tmp_path, capsys, monkeypatch) -> None:
    """A pickle naming a recbole class (as RecBole's saved config does) is refused by a byte scan, never loaded."""
    torch = pytest.importorskip("torch", reason="PyTorch not installed (optional extra latentcheck[torch])")
    import types

    fake = types.ModuleType("recbole.config.configurator")

    class Config:  # stands in for RecBole's Config object
        pass

    Config.__module__ = "recbole.config.configurator"
    Config.__qualname__ = "Config"
    fake.Config = Config
    for name in ("recbole", "recbole.config"):
        monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
    monkeypatch.setitem(sys.modules, "recbole.config.configurator", fake)
    torch.save({"config": Config(), "state_dict": {"encoder.0.weight": torch.ones(2, 3)}}, tmp_path / "MultiDAE-x.pth")
    for name in ("recbole", "recbole.config", "recbole.config.configurator"):
        monkeypatch.delitem(sys.modules, name)
    code, err = _cli(capsys, "audit", "--model", str(tmp_path / "MultiDAE-x.pth"))
    assert code == 2 and "full RecBole checkpoint" in _one_error_line(err)
