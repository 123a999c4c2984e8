"""End to end: a MultiDAE trained with RecBole on MovieLens-100K is read and audited (slow tier).

RecBole runs in the interpreter named by ``LATENTCHECK_RECBOLE_PYTHON`` (a
virtualenv with RecBole; RecBole 1.2 needs numpy < 2), else in this one when
it imports ``recbole``; otherwise the test skips with that reason. The
trainer script re-saves the checkpoint as docs/models.md says and records the
RecBole encoder's own float64 output on a few inputs, which latentcheck's
encoder must reproduce (the mapping of layers, tanh and l2 normalisation).
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

TRAIN = r'''
import os, sys
import numpy as np
import torch
src, work = sys.argv[1], sys.argv[2]
os.makedirs(f"{work}/ml-100k", exist_ok=True)
with open(f"{src}/u.data") as fh, open(f"{work}/ml-100k/ml-100k.inter", "w") as out:
    out.write("user_id:token\titem_id:token\trating:float\ttimestamp:float\n")
    out.writelines(line.strip() + "\n" for line in fh)
from recbole.config import Config
from recbole.data import create_dataset, data_preparation
from recbole.model.general_recommender import MultiDAE
from recbole.trainer import Trainer
from recbole.utils import init_seed
cfg = Config(model="MultiDAE", dataset="ml-100k", config_dict={
    "data_path": work, "checkpoint_dir": f"{work}/saved", "epochs": 3, "mlp_hidden_size": [64], "latent_dimension": 16,
    "train_batch_size": 256, "eval_step": 3, "seed": 0, "show_progress": False, "device": "cpu", "use_gpu": False,
    "state": "ERROR", "load_col": {"inter": ["user_id", "item_id", "rating", "timestamp"]}})
init_seed(cfg["seed"], cfg["reproducibility"])
ds = create_dataset(cfg)
train, valid, test = data_preparation(cfg, ds)
model = MultiDAE(cfg, train.dataset).to(cfg["device"])
trainer = Trainer(cfg, model)
trainer.fit(train, valid, saved=True, show_progress=False)
ck = torch.load(trainer.saved_model_file, weights_only=False)  # our own checkpoint, just written: trusted
names = [str(t) for t in ds.field2id_token["item_id"]]  # RecBole's tokens, as strings ("[PAD]" first): works for any token type
torch.save({"state_dict": ck["state_dict"], "model": ck["config"]["model"], "input_names": names}, f"{work}/multidae.pt")
model.load_state_dict(ck["state_dict"])
model = model.double().eval()
x = (torch.rand(4, model.n_items, generator=torch.Generator().manual_seed(0), dtype=torch.float64) < 0.05).double()
with torch.no_grad():
    z = model.encoder(torch.nn.functional.normalize(x))
np.savez(f"{work}/reference.npz", x=x.numpy(), z=z.numpy())
'''


def _recbole_python() -> str:
    env = os.environ.get("LATENTCHECK_RECBOLE_PYTHON")
    if env:
        return env
    try:
        import recbole  # noqa: F401
    except ImportError:
        pytest.skip("RecBole is not installed here; set LATENTCHECK_RECBOLE_PYTHON to a Python with recbole (numpy < 2)")
    return sys.executable


@pytest.fixture
def ml100k() -> str:
    """MovieLens-100K: ``LATENTCHECK_ML100K`` or ../shared/data/ml-100k beside the checkout."""
    from pathlib import Path

    path = Path(os.environ.get("LATENTCHECK_ML100K", Path(__file__).resolve().parents[3] / "shared" / "data" / "ml-100k"))
    if not (path / "u.data").exists():
        pytest.skip(f"MovieLens-100K not found at {path} (set LATENTCHECK_ML100K; it is not redistributed with latentcheck)")
    return str(path)


@pytest.mark.slow
def test_recbole_multidae_ml100k_audited_end_to_end(tmp_path, ml100k) -> None:
    ml100k_path = ml100k
    py = _recbole_python()
    pytest.importorskip("torch", reason="PyTorch not installed (optional extra latentcheck[torch])")
    run = subprocess.run([py, "-c", TRAIN, str(ml100k_path), str(tmp_path)], capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]
    cli = [sys.executable, "-m", "latentcheck.checkers.cli"]
    raw = glob.glob(str(tmp_path / "saved" / "MultiDAE-*.pth"))
    assert len(raw) == 1
    refused = subprocess.run([*cli, "audit", "--model", raw[0], "--data", str(ml100k_path)], capture_output=True, text=True, timeout=300)
    assert refused.returncode == 2
    assert refused.stderr.strip().splitlines() == [refused.stderr.strip()] and "RecBole checkpoint" in refused.stderr

    from latentcheck.theorems.formats import read_model

    mf = read_model(tmp_path / "multidae.pt")
    enc = mf.to_encoder()
    assert enc.sizes == [1683, 64, 16] and [layer.activation.name for layer in enc.layers] == ["tanh", "tanh"]
    ref = np.load(tmp_path / "reference.npz")
    x = ref["x"] / np.linalg.norm(ref["x"], axis=1, keepdims=True)
    assert np.allclose(enc(x), ref["z"], rtol=0, atol=1e-12)  # RecBole's own float64 encoder output

    out = subprocess.run([*cli, "audit", "--model", str(tmp_path / "multidae.pt"), "--data", str(ml100k_path),
                          "--falsify-budget", "1", "--triples", "2000", "--json"], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    data = json.loads(out.stdout)
    assert data["n"] == 1683 and data["m"] == 16 and data["activation"] == "tanh"
    assert data["normalisation"] == "l2" and data["inputs"]["columns"].startswith("input ids stored in the weight file")
    assert data["inputs"]["matched_columns"] == 1682  # every ML-100K item; RecBole's padding id matches none
    assert data["rows"] == 943
    shutil.rmtree(tmp_path / "saved", ignore_errors=True)
