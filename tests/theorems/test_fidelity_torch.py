"""Fidelity: PyTorch's own forward pass against latentcheck's float forward, for modules and for saved files.

Each case builds a model in PyTorch (float64, eval mode unless the test is
about training mode), reads it with ``encoder_from_torch`` and from its
``state_dict`` file, and compares on random inputs. Skips without PyTorch.
"""

from __future__ import annotations

import numpy as np
import pytest
from latentcheck import encoder_from_torch

torch = pytest.importorskip("torch", reason="PyTorch not installed (optional extra latentcheck[torch])")
nn = torch.nn

from latentcheck.checkers.cli.app import main as cli_main  # noqa: E402
from latentcheck.theorems import Encoder  # noqa: E402
from latentcheck.theorems.errors import InvalidArgument, InvalidWeights  # noqa: E402
from latentcheck.theorems.formats import load_encoder  # noqa: E402


def _randomise_bn(bn) -> None:
    with torch.no_grad():
        bn.running_mean.uniform_(-1, 1)
        bn.running_var.uniform_(0.3, 3)
        bn.weight.uniform_(0.5, 2)
        bn.bias.uniform_(-1, 1)


def _agree(enc: Encoder, module, n: int, tol: float = 1e-12, seed: int = 0) -> None:
    x = torch.randn(64, n, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        ref = module(x).numpy()
    np.testing.assert_allclose(enc(x.numpy()), ref, rtol=tol, atol=tol)


def _cli(capsys, *args: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exc:
        cli_main(list(args))
    return int(exc.value.code or 0), capsys.readouterr().err


def test_batchnorm_module_and_state_dict(tmp_path) -> None:
    torch.manual_seed(0)
    m = nn.Sequential(nn.Linear(9, 6), nn.BatchNorm1d(6), nn.ReLU(), nn.Linear(6, 3), nn.Tanh()).double()
    _randomise_bn(m[1])
    m.eval()
    enc = encoder_from_torch(m)
    _agree(enc, m, 9)
    assert enc.provenance.format == "torch-module" and any("BatchNorm '1'" in n for n in enc.provenance.folded)
    torch.save(m.state_dict(), tmp_path / "bn.pt")
    _agree(load_encoder(tmp_path / "bn.pt", activations=["relu", "tanh"]), m, 9)


def test_batchnorm_after_activation_and_at_the_input(tmp_path) -> None:
    torch.manual_seed(1)
    m = nn.Sequential(nn.BatchNorm1d(5), nn.Linear(5, 4), nn.ReLU(), nn.BatchNorm1d(4), nn.Linear(4, 2), nn.Sigmoid()).double()
    _randomise_bn(m[0])
    _randomise_bn(m[3])
    m.eval()
    _agree(encoder_from_torch(m), m, 5)
    torch.save(m.state_dict(), tmp_path / "m.pt")
    _agree(load_encoder(tmp_path / "m.pt", activations=["relu", "sigmoid"]), m, 5)


def test_float32_batchnorm_within_float32_rounding() -> None:
    torch.manual_seed(2)
    m = nn.Sequential(nn.Linear(8, 6), nn.BatchNorm1d(6), nn.ReLU(), nn.Linear(6, 3))
    _randomise_bn(m[1])
    m.eval()
    enc = encoder_from_torch(m)
    x = torch.randn(64, 8)
    with torch.no_grad():
        ref = m(x).double().numpy()
    np.testing.assert_allclose(enc(x.double().numpy()), ref, rtol=1e-4, atol=1e-4)


def test_training_mode_batchnorm_and_dropout_refused() -> None:
    m = nn.Sequential(nn.Linear(4, 3), nn.Dropout(0.5), nn.ReLU())
    with pytest.raises(InvalidWeights, match="'1' \\(Dropout\\).*training mode"):
        encoder_from_torch(m)
    m.eval()
    enc = encoder_from_torch(m)
    assert any("Dropout '1' read as identity" in n for n in enc.provenance.folded)
    bn = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3), nn.ReLU())
    with pytest.raises(InvalidWeights, match="batch statistics"):
        encoder_from_torch(bn)


@pytest.mark.parametrize("style", ["hook", "parametrization"])
def test_weight_norm_module_and_file(tmp_path, style: str) -> None:
    torch.manual_seed(3)
    lin = nn.Linear(6, 4).double()
    if style == "hook":
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            lin = nn.utils.weight_norm(lin)
    else:
        lin = nn.utils.parametrizations.weight_norm(lin)
    with torch.no_grad():
        for name, p in lin.named_parameters():
            p.mul_(1.5)  # g and v no longer consistent with the cached weight: the served weight is recomputed
    m = nn.Sequential(lin, nn.Tanh()).eval()
    _agree(encoder_from_torch(m), m, 6)
    torch.save(m.state_dict(), tmp_path / "wn.pt")
    assert any(k.endswith(("weight_g", "original0")) for k in m.state_dict())
    _agree(load_encoder(tmp_path / "wn.pt", activations=["tanh"]), m, 6)


def test_layernorm_refused_by_name_module_and_file(tmp_path, capsys) -> None:
    m = nn.Sequential(nn.Linear(6, 4), nn.LayerNorm(4), nn.ReLU(), nn.Linear(4, 2)).eval()
    with pytest.raises(InvalidWeights, match="'1' \\(LayerNorm\\)"):
        encoder_from_torch(m)
    torch.save(m.state_dict(), tmp_path / "ln.pt")
    code, err = _cli(capsys, "verify", "--model", str(tmp_path / "ln.pt"), "--activations", "relu,relu", "--domain", "binary")
    assert code == 2 and "'1.weight'" in err and "LayerNorm" in err


def test_new_kinds_no_bias_identity_flatten_nested() -> None:
    torch.manual_seed(4)
    inner = nn.Sequential(nn.Linear(5, 4, bias=False), nn.LeakyReLU(0.2))
    m = nn.Sequential(nn.Flatten(), inner, nn.Identity(), nn.Sequential(nn.Linear(4, 3), nn.ELU())).double().eval()
    enc = encoder_from_torch(m)
    _agree(enc, m, 5)
    assert enc.provenance.tensors_used == ("1.0.weight", "3.0.weight", "3.0.bias")
    assert [layer.activation.name for layer in enc.layers][1] == "elu"


def test_custom_module_needs_example_input() -> None:
    class Enc(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.b = nn.Linear(4, 2)  # registered first, applied second
            self.a = nn.Linear(6, 4)

        def forward(self, x):
            return torch.relu(self.b(torch.relu(self.a(x))))

    m = Enc().double().eval()
    with pytest.raises(InvalidArgument, match="example_input"):
        encoder_from_torch(m)
    with pytest.raises(InvalidWeights):  # registration order b, a does not chain / reproduce the forward
        encoder_from_torch(m, torch.randn(3, 6, dtype=torch.float64))


class MultiVAE(nn.Module):
    """RecBole's MultiVAE layout: encoder ends in 2m outputs [mu, logvar]; decoder takes m."""

    def __init__(self, n: int = 10, h: int = 6, m: int = 3) -> None:
        super().__init__()
        self.m = m
        self.encoder = nn.Sequential(nn.Linear(n, h), nn.Tanh(), nn.Linear(h, 2 * m))
        self.decoder = nn.Sequential(nn.Linear(m, h), nn.Tanh(), nn.Linear(h, n))

    def forward(self, x):
        h = self.encoder(nn.functional.normalize(x))
        return h[:, : self.m], h[:, self.m:]


def test_vae_module_and_file_latent(tmp_path) -> None:
    torch.manual_seed(5)
    m = MultiVAE().double().eval()
    enc = encoder_from_torch(m)
    x = torch.randn(20, 10, dtype=torch.float64)
    with torch.no_grad():
        mu = m.encoder(x)[:, :3].numpy()
    np.testing.assert_allclose(enc(x.numpy()), mu, rtol=1e-12, atol=1e-12)
    assert enc.provenance.latent == "mu" and enc.inputs.normalise == "l2"
    assert encoder_from_torch(m, latent="all").m == 6
    torch.save(m.state_dict(), tmp_path / "vae.pt")
    for opts in ({}, {"layers_from": "encoder.*"}):
        f = load_encoder(tmp_path / "vae.pt", activations=["tanh", "identity"], **opts)
        np.testing.assert_allclose(f(x.numpy()), mu, rtol=1e-12, atol=1e-12)


def test_assertions_accept_a_module(tmp_path) -> None:
    from latentcheck.checkers.testing import assert_nonvanishing

    torch.manual_seed(6)
    healthy = nn.Sequential(nn.Linear(4, 3), nn.Sigmoid()).double().eval()
    assert_nonvanishing(healthy, domain="binary", budget=2, seed=0)
    dead = nn.Sequential(nn.Linear(4, 2), nn.ReLU()).double().eval()
    with torch.no_grad():
        dead[0].weight.zero_()
        dead[0].bias.fill_(-1.0)
    with pytest.raises(AssertionError):
        assert_nonvanishing(dead, domain="binary", budget=2, seed=0, report_dir=tmp_path)


def test_liang_q_layers_module_needs_activations_and_gives_mu() -> None:
    class MultVAE(nn.Module):  # the PyTorch port of Liang et al.: activations live in forward()
        def __init__(self) -> None:
            super().__init__()
            self.q_layers = nn.ModuleList([nn.Linear(10, 6), nn.Linear(6, 4)])
            self.p_layers = nn.ModuleList([nn.Linear(2, 6), nn.Linear(6, 10)])

        def encode(self, x):
            h = torch.tanh(self.q_layers[0](x))
            return self.q_layers[1](h)[:, :2]

    torch.manual_seed(7)
    m = MultVAE().double().eval()
    with pytest.raises(InvalidArgument, match="activations="):
        encoder_from_torch(m)
    enc = encoder_from_torch(m, activations=["tanh", "identity"])
    assert enc.provenance.latent == "mu"
    x = torch.randn(16, 10, dtype=torch.float64)
    with torch.no_grad():
        np.testing.assert_allclose(enc(x.numpy()), m.encode(x).numpy(), rtol=1e-12, atol=1e-12)
