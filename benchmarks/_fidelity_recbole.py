"""RecBole side of benchmarks/fidelity_e2e.py (runs in a venv with RecBole 1.2.1; imports no latentcheck).

Usage: python _fidelity_recbole.py JOB.json

Trains RecBole's MultiDAE on ``JOB["data_path"]/ml100k/ml100k.inter`` (raw
MovieLens item ids as tokens) for ``JOB["epochs"]`` epochs, once per
``JOB["activations"]`` entry: ``tanh`` is RecBole's MultiDAE as it is (its
encoder is ``MLPLayers(..., activation="tanh")``); ``relu`` is the same class
with that one argument replaced (``MLPLayers`` patched in RecBole's multidae
module). Each trained model is re-saved by docs/models.md's recipe
(``state_dict``, ``model: MultiDAE``, item tokens as ``input_names``, with
``activations`` only where it is not RecBole's tanh), and RecBole's own
encoder forward (``encoder(F.normalize(x))``, float64) on the job's random
inputs is written for the agreement check. Prints one JSON line.
"""

import json
import logging
import sys

import numpy as np
import torch
import torch.nn.functional as F


def train(job: dict, activation: str):
    from recbole.config import Config
    from recbole.data import create_dataset, data_preparation
    from recbole.model.general_recommender import MultiDAE
    from recbole.model.general_recommender import multidae as module
    from recbole.trainer import Trainer
    from recbole.utils import init_seed

    original = module.MLPLayers
    if activation != "tanh":
        module.MLPLayers = lambda dims, activation_unused="tanh", **kw: original(dims, **{**kw, "activation": activation})
    try:
        config = Config(model="MultiDAE", dataset="ml100k", config_dict=job["config"])
        init_seed(config["seed"], config["reproducibility"])
        dataset = create_dataset(config)
        train_data, valid_data, _ = data_preparation(config, dataset)
        model = MultiDAE(config, train_data.dataset).to(config["device"])
    finally:
        module.MLPLayers = original
    Trainer(config, model).fit(train_data, valid_data, saved=False, show_progress=False, verbose=False)
    return model.eval(), dataset


def main() -> None:
    logging.disable(logging.CRITICAL)
    with open(sys.argv[1]) as fh:
        job = json.load(fh)
    torch.set_num_threads(1)
    out = {}
    for act in job["activations"]:
        model, dataset = train(job, act)
        names = [str(t) for t in dataset.field2id_token["item_id"]]
        acts = {} if act == "tanh" else {"activations": [act] * (len(job["config"]["mlp_hidden_size"]) + 1)}
        path = f"{job['out_prefix']}-{act}.pt"
        torch.save({"state_dict": model.state_dict(), "model": "MultiDAE", "input_names": names, **acts}, path)
        rng = np.random.default_rng(0)
        x = (rng.random((64, len(names))) < 0.05).astype(np.float64)
        x[:, 1] = 1.0
        np.save(f"{job['out_prefix']}-{act}-inputs.npy", x)
        with torch.no_grad():
            z = model.double().encoder(F.normalize(torch.from_numpy(x))).numpy()
        np.save(f"{job['out_prefix']}-{act}-latents.npy", z)
        kinds = sorted({type(m).__name__ for m in model.encoder.modules()})
        out[act] = {"path": path, "n_items": len(names), "encoder_modules": kinds, "pad": names[0]}
    print(json.dumps({"torch": torch.__version__, "models": out}))


if __name__ == "__main__":
    main()
