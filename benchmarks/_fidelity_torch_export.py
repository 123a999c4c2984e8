"""Torch side of benchmarks/fidelity_e2e.py (runs in a venv with torch, onnx, safetensors; imports no latentcheck).

Usage: python _fidelity_torch_export.py JOB.json

Reads the study's encoder (.npz: W0, b0), builds a plain PyTorch Mult-DAE
(``F.normalize`` -> Linear -> ReLU encoder, Linear decoder) holding exactly those
weights as float32 (the study trains in float32 and its exported float64 values
are float32 values), and writes: a state dict (.pt), safetensors, an ONNX export
of the whole model (``F.normalize`` -> ReduceL2/Div), and the same weights in
RecBole's MultiDAE checkpoint layout (``state_dict`` with RecBole's key names,
``model: MultiDAE``, ``activations: [relu]``, item tokens as ``input_names``).
It also evaluates torch's own encoder forward (float64 copy) on the job's random
inputs and writes the latents (.npy) for the agreement check.
"""

import json
import sys

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


class MultDAE(nn.Module):
    def __init__(self, n_items: int, hidden: int):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(n_items, hidden), nn.ReLU())
        self.decoder = nn.Linear(hidden, n_items)

    def encode(self, x):
        return self.encoder(F.normalize(x))

    def forward(self, x):
        return self.decoder(self.encode(x))


def build(npz_path: str, seed: int) -> MultDAE:
    with np.load(npz_path, allow_pickle=False) as d:
        W, b = d["W0"], d["b0"]
    if not (np.array_equal(W.astype(np.float32).astype(W.dtype), W) and np.array_equal(b.astype(np.float32).astype(b.dtype), b)):
        raise SystemExit("the study's weights are not float32 values; a float32 torch copy would be a different function")
    torch.manual_seed(seed)
    model = MultDAE(W.shape[1], W.shape[0])
    with torch.no_grad():
        model.encoder[0].weight.copy_(torch.from_numpy(W.astype(np.float32)))
        model.encoder[0].bias.copy_(torch.from_numpy(b.astype(np.float32)))
    return model.eval()


def main() -> None:
    with open(sys.argv[1]) as fh:
        job = json.load(fh)
    model = build(job["npz"], job.get("seed", 0))
    out = job["out"]
    sd = model.state_dict()
    torch.save(sd, out["state_dict"])
    from safetensors.torch import save_file

    save_file({k: v.contiguous() for k, v in sd.items()}, out["safetensors"])
    n = model.encoder[0].in_features
    torch.onnx.export(model, (torch.rand(1, n),), out["onnx"], input_names=["ratings"], output_names=["scores"],
                      dynamic_axes={"ratings": {0: "batch"}, "scores": {0: "batch"}}, dynamo=False)
    # RecBole's MultiDAE layout: encoder = MLPLayers (Dropout at 0, Linear at 1, activation at 2), decoder = Sequential.
    rb = {"encoder.mlp_layers.1.weight": sd["encoder.0.weight"], "encoder.mlp_layers.1.bias": sd["encoder.0.bias"],
          "decoder.0.weight": sd["decoder.weight"], "decoder.0.bias": sd["decoder.bias"]}
    torch.save({"state_dict": rb, "model": "MultiDAE", "activations": ["relu"], "input_names": job["input_names"]}, out["recbole"])
    x = np.load(job["inputs"])
    with torch.no_grad():
        z = model.double().encode(torch.from_numpy(x)).numpy()
    np.save(out["torch_latents"], z)
    print(json.dumps({"torch": torch.__version__, "n": n, "m": int(z.shape[1])}))


if __name__ == "__main__":
    main()
