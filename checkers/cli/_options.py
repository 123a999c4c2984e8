"""The command line's options, each defined once (``Annotated`` aliases for typer) and reused by every command.

A command declares ``weights: WeightsOpt = None`` and gets the same flag, type and help as every other
command that reads an encoder; the encoder-source block (:data:`ENCODER_SOURCE_OPTIONS`) is the same in
``falsify`` and ``verify``. Help texts that list choices are made from the registries (properties,
domains, activations, float types), so they say what the parsers accept.
"""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from ..search_options import domain_help, dtype_help, property_help
from ...theorems.activations import catalog_names

__all__ = ["WeightsOpt", "ModelOpt", "LayersFromOpt", "ActivationsOpt", "OutputOpt", "IgnoreOpt", "LatentOpt", "LayersOpt",
           "ActivationOpt", "HiddenActivationOpt", "InputNormaliseOpt", "FalsifyPropertyOpt",
           "VerifyPropertyOpt", "FalsifyDomainOpt", "VerifyDomainOpt", "DtypeOpt", "ENCODER_SOURCE_OPTIONS",
           "ACTIVATION_HELP", "MODEL_HELP"]

#: ``--activation``'s help: the catalog's names, from the catalog.
ACTIVATION_HELP = f"Latent activation: a catalog name ({', '.join(catalog_names())}) or a formula in t, e.g. 'Max(0, t - 1)'."
MODEL_HELP = "Model file: .npz, .safetensors, PyTorch .pt/.pth, .onnx, Flax .msgpack or Equinox .eqx (docs/models.md)."
WEIGHTS_HELP = "Encoder weights (.npz with W0, b0, W1, b1, ..., W_i shaped (out, in); optional 'activations')."
LAYERS_FROM_HELP = "Layers of the encoder by name, comma-separated globs in order, e.g. 'encoder.*' (named-weight files)."
ACTIVATIONS_HELP = "Activations per layer, comma-separated (or one for all), where the file does not store them, e.g. relu,tanh."
OUTPUT_HELP = "The latent: an ONNX tensor/node name, or the last layer's name (default: the bottleneck)."
IGNORE_HELP = ("Tensors (ONNX: node names) to drop knowingly, comma-separated globs, e.g. 'decoder.norm.*'; "
               "every other tensor is used or refused (docs/models.md).")
LATENT_HELP = "VAE heads: mu (default), z (= mu at eval: no sampling) or all ([mu, logvar])."
LAYERS_HELP = "Random encoder sizes, e.g. 1682,600,64 (with --activation; seeded by --seed)."
HIDDEN_ACTIVATION_HELP = "Hidden activation of a --layers encoder (default: --activation)."
INPUT_NORMALISE_HELP = ("none, l2 (the encoder sees x/|x|_2) or divide:K (x/K); default: what the model file records "
                        "(study exports), else none.")

# ---------------------------------------------------------------- where the encoder comes from (EncoderSource)
WeightsOpt = Annotated[Optional[str], typer.Option("--weights", help=WEIGHTS_HELP)]
ModelOpt = Annotated[Optional[str], typer.Option("--model", help=MODEL_HELP)]
LayersFromOpt = Annotated[Optional[str], typer.Option("--layers-from", help=LAYERS_FROM_HELP)]
ActivationsOpt = Annotated[Optional[str], typer.Option("--activations", help=ACTIVATIONS_HELP)]
OutputOpt = Annotated[Optional[str], typer.Option("--output", help=OUTPUT_HELP)]
IgnoreOpt = Annotated[Optional[str], typer.Option("--ignore", help=IGNORE_HELP)]
LatentOpt = Annotated[Optional[str], typer.Option("--latent", help=LATENT_HELP)]
LayersOpt = Annotated[Optional[str], typer.Option("--layers", help=LAYERS_HELP)]
ActivationOpt = Annotated[Optional[str], typer.Option("--activation", help=ACTIVATION_HELP)]
HiddenActivationOpt = Annotated[Optional[str], typer.Option("--hidden-activation", help=HIDDEN_ACTIVATION_HELP)]
InputNormaliseOpt = Annotated[Optional[str], typer.Option("--input-normalise", help=INPUT_NORMALISE_HELP)]

#: The flags of the encoder-source block, in the order the commands declare them.
ENCODER_SOURCE_OPTIONS = ("--weights", "--model", "--layers-from", "--activations", "--output", "--ignore", "--latent",
                          "--layers", "--activation", "--hidden-activation", "--input-normalise")

# ---------------------------------------------------------------- what to search for (SearchOptions)
FalsifyPropertyOpt = Annotated[str, typer.Option("--property", "-p", help=property_help("falsifiable"))]
VerifyPropertyOpt = Annotated[str, typer.Option("--property", "-p", help=property_help("verifiable"))]
FalsifyDomainOpt = Annotated[str, typer.Option("--domain", help=domain_help(products_only=False))]
VerifyDomainOpt = Annotated[str, typer.Option("--domain", help=domain_help(products_only=True))]
DtypeOpt = Annotated[str, typer.Option("--dtype", help=dtype_help())]
