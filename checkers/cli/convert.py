"""``latentcheck convert IN OUT`` and the ``--model PATH`` loader shared by falsify and audit.

``--model`` reads every format of :mod:`latentcheck.theorems.formats` (docs/models.md);
``--layers-from`` picks the encoder's layers by name (globs, in order),
``--activations`` gives one activation per layer (or one for all) where the
file does not say them, ``--output`` names the latent layer or ONNX tensor, ``--ignore`` lists tensors to
drop knowingly (every other tensor is used or refused), ``--latent`` picks a
VAE head's mu (default), z (= mu at eval) or all.
"""

from __future__ import annotations

from typing import Annotated, Any, Optional

import typer

__all__ = ["register", "model_from_options"]

MODEL_HELP = "Model file: .npz, .safetensors, PyTorch .pt/.pth, .onnx, Flax .msgpack or Equinox .eqx (docs/models.md)."
LAYERS_FROM_HELP = "Layers of the encoder by name, comma-separated globs in order, e.g. 'encoder.*' (named-weight files)."
ACTIVATIONS_HELP = "Activations per layer, comma-separated (or one for all), where the file does not store them, e.g. relu,tanh."
OUTPUT_HELP = "The latent: an ONNX tensor/node name, or the last layer's name (default: the bottleneck)."
IGNORE_HELP = ("Tensors (ONNX: node names) to drop knowingly, comma-separated globs, e.g. 'decoder.norm.*'; "
               "every other tensor is used or refused (docs/models.md).")
LATENT_HELP = "VAE heads: mu (default), z (= mu at eval: no sampling) or all ([mu, logvar])."

#: The model-file options every command that reads an encoder shares (``name: ModelOpt = None``).
ModelOpt = Annotated[Optional[str], typer.Option("--model", help=MODEL_HELP)]
LayersFromOpt = Annotated[Optional[str], typer.Option("--layers-from", help=LAYERS_FROM_HELP)]
ActivationsOpt = Annotated[Optional[str], typer.Option("--activations", help=ACTIVATIONS_HELP)]
OutputOpt = Annotated[Optional[str], typer.Option("--output", help=OUTPUT_HELP)]
IgnoreOpt = Annotated[Optional[str], typer.Option("--ignore", help=IGNORE_HELP)]
LatentOpt = Annotated[Optional[str], typer.Option("--latent", help=LATENT_HELP)]


def model_from_options(model: Optional[str], activation: Optional[str], activations: Optional[str], layers_from: Optional[str],
                       output: Optional[str], *, others: dict[str, Any], ignore: Optional[str] = None,
                       latent: Optional[str] = None) -> Optional[tuple[Any, dict[str, Any]]]:
    """``(Encoder, input metadata)`` for ``--model`` (None without it); refuses it beside ``--weights``/``--layers``.
    The encoder carries its provenance (tensors used, ignored, folded; the VAE latent)."""
    from ...theorems.errors import InvalidArgument
    from ...theorems.formats import read_model

    if model is None:
        stray = [f for f, v in (("--activations", activations), ("--layers-from", layers_from), ("--output", output),
                                ("--ignore", ignore), ("--latent", latent)) if v is not None]
        if stray:
            raise InvalidArgument(f"{' and '.join(stray)} only work with --model FILE; pass --model or drop them")
        return None
    given = [flag for flag, value in others.items() if value is not None]
    if given:
        raise InvalidArgument(f"give either --model or {' / '.join(given)}, not both")
    acts = _split(activations)
    mf = read_model(model, layers_from=layers_from, output=output, ignore=split_globs(ignore), latent=latent)
    return mf.to_encoder(activation, acts, repr(model), model), mf.meta


def split_globs(text: Optional[str]) -> Optional[list[str]]:
    """``--ignore 'a.*,b'`` as a list of globs (None without it); an empty list is refused."""
    if text is None:
        return None
    from ...theorems.errors import InvalidArgument

    globs = [g.strip() for g in text.split(",") if g.strip()]
    if not globs:
        raise InvalidArgument("--ignore is empty; pass tensor name globs, e.g. --ignore 'decoder.norm.*'")
    return globs


def _split(activations: Optional[str]) -> Optional[tuple[str, ...]]:
    if activations is None:
        return None
    from ..study.experiment import split_activation_list

    return split_activation_list(activations)


def register(app: typer.Typer) -> None:
    """Attach ``convert`` to the command line."""

    @app.command()
    def convert(
        src: str = typer.Argument(..., help="Model file to read (any format latentcheck reads)."),
        dst: str = typer.Argument(..., help="File to write: .npz or .safetensors."),
        activation: Optional[str] = typer.Option(None, "--activation", help="Latent activation (and hidden ones the file does not state)."),
        activations: ActivationsOpt = None,
        layers_from: LayersFromOpt = None,
        output: OutputOpt = None,
        ignore: IgnoreOpt = None,
        latent: LatentOpt = None,
    ) -> None:
        """Convert an encoder between formats, exactly (writes .npz or .safetensors in the stored dtype)."""
        from ._args import nonempty
        from .._io import check_input_file, check_output_file
        from ...theorems.formats import convert as _convert

        for value, option, example in ((activation, "--activation", "relu"), (activations, "--activations", "tanh,relu"),
                                       (layers_from, "--layers-from", "'encoder.*'"), (output, "--output", "latent"),
                                       (latent, "--latent", "mu")):
            nonempty(value, option, example)
        check_input_file(src, "SRC")
        check_output_file(dst, "DST", create_parents=True)  # before the model is read

        enc = _convert(src, dst, activation=activation, activations=_split(activations), layers_from=layers_from, output=output,
                       ignore=split_globs(ignore), latent=latent)
        acts = ",".join(layer.activation.name for layer in enc.layers)
        typer.echo(f"wrote {dst}: sizes {enc.sizes}, activations {acts}, stored dtype {enc.stored_dtype}")
        prov = enc.provenance
        typer.echo(f"read {len(prov.tensors_used)} tensors: {', '.join(prov.tensors_used)}")
        for line in ([f"ignored (--ignore): {', '.join(prov.tensors_ignored)}"] if prov.tensors_ignored else []) + list(prov.folded):
            typer.echo(f"note: {line}")
