"""``latentcheck convert IN OUT``: an encoder from any format latentcheck reads, written exactly as .npz or .safetensors.

``--layers-from`` picks the encoder's layers by name (globs, in order),
``--activations`` gives one activation per layer (or one for all) where the
file does not say them, ``--output`` names the latent layer or ONNX tensor, ``--ignore`` lists tensors to
drop knowingly (every other tensor is used or refused), ``--latent`` picks a
VAE head's mu (default), z (= mu at eval) or all. The same options, defined once in :mod:`._options`, pick
the encoder of ``--model`` in falsify, verify and audit.
"""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from ._args import nonempty
from ._options import ActivationsOpt, IgnoreOpt, LatentOpt, LayersFromOpt, OutputOpt
from .._io import check_input_file, check_output_file
from ..encoder_source import split_globs
from ..study.experiment import split_activation_list
from ...theorems.formats import convert as convert_model

__all__ = ["convert"]


def convert(
    src: Annotated[str, typer.Argument(help="Model file to read (any format latentcheck reads).")],
    dst: Annotated[str, typer.Argument(help="File to write: .npz or .safetensors.")],
    activation: Annotated[Optional[str], typer.Option("--activation", help="Latent activation (and hidden ones the file does not state).")] = None,
    activations: ActivationsOpt = None,
    layers_from: LayersFromOpt = None,
    output: OutputOpt = None,
    ignore: IgnoreOpt = None,
    latent: LatentOpt = None,
) -> None:
    """Convert an encoder between formats, exactly (writes .npz or .safetensors in the stored dtype)."""
    for value, option, example in ((activation, "--activation", "relu"), (activations, "--activations", "tanh,relu"),
                                   (layers_from, "--layers-from", "'encoder.*'"), (output, "--output", "latent"),
                                   (latent, "--latent", "mu")):
        nonempty(value, option, example)
    check_input_file(src, "SRC")
    check_output_file(dst, "DST", create_parents=True)  # before the model is read
    globs = split_globs(ignore)
    enc = convert_model(src, dst, activation=activation, activations=split_activation_list(activations) if activations else None,
                        layers_from=layers_from, output=output, ignore=None if globs is None else list(globs), latent=latent)
    acts = ",".join(layer.activation.name for layer in enc.layers)
    typer.echo(f"wrote {dst}: sizes {enc.sizes}, activations {acts}, stored dtype {enc.stored_dtype}")
    prov = enc.provenance
    typer.echo(f"read {len(prov.tensors_used)} tensors: {', '.join(prov.tensors_used)}")
    for line in ([f"ignored (--ignore): {', '.join(prov.tensors_ignored)}"] if prov.tensors_ignored else []) + list(prov.folded):
        typer.echo(f"note: {line}")
