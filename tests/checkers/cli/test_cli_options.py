"""The command line composed once: option groups checked on construction, shared option blocks, help from the
registries, commands imported statically, ``study --model`` renamed ``--architecture``.

Each option group (:class:`EncoderSource`, :class:`FalsifyOptions`, :class:`VerifyOptions`) refuses a bad value
when it is built, with one message naming the option; through the command line the same value is exit 2 with
one ``error:`` line. The encoder-source block of ``falsify`` and ``verify`` renders identically (it is one
definition); the help of ``--property``, ``--domain`` and ``--activation`` lists what the registries hold.
"""

from __future__ import annotations

import ast
import math
import shlex
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from latentcheck.checkers.cli import _options
from latentcheck.checkers.cli.app import app, main
from latentcheck.checkers.encoder_source import EncoderSource
from latentcheck.checkers.search_options import FalsifyOptions, VerifyOptions, domain_help, property_help
from latentcheck.checkers.study.experiment import MODELS, StudyConfig
from latentcheck.theorems.activations import catalog_names
from latentcheck.theorems.domains import domain_forms
from latentcheck.theorems.errors import InvalidArgument
from latentcheck.theorems.properties import REGISTRY, P3

ROOT = Path(__file__).resolve().parents[3]


def _run(argv: list[str], capsys) -> tuple[int, str, str]:
    capsys.readouterr()
    with pytest.raises(SystemExit) as info:
        main(argv)
    out = capsys.readouterr()
    return info.value.code, out.out, out.err


def _weights(tmp: Path) -> str:
    path = tmp / "enc.npz"
    np.savez(path, W0=np.array([[1.0, -1.0, 0.5], [0.25, 1.0, -2.0]]), b0=np.zeros(2))
    return str(path)


# ---------------------------------------------------------------- option groups refuse bad values when built

def _encoder_source_cases(tmp: Path) -> list[tuple[dict, str]]:
    w = _weights(tmp)
    return [
        ({}, "--weights"),  # no source at all
        ({"weights": w, "layers": "3,2", "activation": "relu"}, "--layers"),  # two sources
        ({"model": w, "layers": "3,2"}, "--model"),
        ({"layers": "3,x", "activation": "relu"}, "--layers"),
        ({"layers": "3", "activation": "relu"}, "--layers"),
        ({"layers": "3,2"}, "--activation"),  # random weights need an activation
        ({"layers": "3,2", "activation": " "}, "--activation"),
        ({"layers": "3,2", "activation": "relu", "seed": -1}, "--seed"),
        ({"layers": "3,2", "activation": "relu", "ignore": "decoder.*"}, "--ignore"),  # only with --model
        ({"model": w, "ignore": " , "}, "--ignore"),
        ({"layers": "3,2", "activation": "relu", "input_normalise": "l3"}, "--input-normalise"),
        ({"weights": str(tmp / "missing.npz")}, "--weights"),
        ({"model": str(tmp)}, "--model"),  # a folder
        ({"layers": "3,2", "activation": "relu", "random_weights": False}, "--weights"),  # audit reads trained encoders
    ]


def test_encoder_source_refuses_each_bad_value_on_construction(tmp_path) -> None:
    for kwargs, option in _encoder_source_cases(tmp_path):
        with pytest.raises(InvalidArgument) as info:
            EncoderSource(**kwargs)
        message = str(info.value)
        assert option in message and "\n" not in message, (kwargs, message)


def test_encoder_source_parses_its_values(tmp_path) -> None:
    src = EncoderSource(layers="5, 3,2", activation="relu", hidden_activation="tanh", seed=3, input_normalise="Divide:4")
    assert src.sizes == (5, 3, 2) and src.normalise == "divide:4"
    enc = src.load()
    assert enc.sizes == [5, 3, 2] or tuple(enc.sizes) == (5, 3, 2)
    assert [layer.activation.name for layer in enc.layers] == ["tanh", "relu"]
    loaded = EncoderSource(weights=_weights(tmp_path), activation="relu").load()
    assert np.array_equal(np.asarray(loaded.layers[0].W, dtype=float), [[1.0, -1.0, 0.5], [0.25, 1.0, -2.0]])


@pytest.mark.parametrize("kwargs,option", [
    ({"property": "p1"}, "--property"),  # no witness points
    ({"property": "p9"}, "--property"),
    ({"property": "p3-eps:0,1"}, "--property"),
    ({"property": "p3", "domain": "moon"}, "--domain"),
    ({"property": "p3", "dtype": "float8"}, "--dtype"),
    ({"property": "p3", "seconds": 0.0}, "--budget"),
    ({"property": "p3", "seconds": math.nan}, "--budget"),
    ({"property": "p3", "seconds": math.inf}, "--budget"),
    ({"property": "p3", "seed": -1}, "--seed"),
    ({"property": "p3", "restarts": 0}, "--restarts"),
    ({"property": "p3", "max_counterexamples": 0}, "--max-counterexamples"),
])
def test_falsify_options_refuse_each_bad_value_on_construction(kwargs: dict, option: str) -> None:
    with pytest.raises(InvalidArgument) as info:
        FalsifyOptions(**kwargs)
    assert option in str(info.value) and "\n" not in str(info.value), str(info.value)


@pytest.mark.parametrize("kwargs,option", [
    ({"property": "p2"}, "--property"),  # verify does not decide P2
    ({"domain": "sphere"}, "--domain"),  # not a product of intervals
    ({"domain": "box:1"}, "--domain"),
    ({"seconds": 0.0}, "--timeout"),
    ({"seconds": -1.0}, "--timeout"),
    ({"seconds": math.nan}, "--timeout"),
    ({"seed": -2}, "--seed"),
])
def test_verify_options_refuse_each_bad_value_on_construction(kwargs: dict, option: str) -> None:
    with pytest.raises(InvalidArgument) as info:
        VerifyOptions(**kwargs)
    assert option in str(info.value) and "\n" not in str(info.value), str(info.value)


def test_search_options_parse_property_and_domain() -> None:
    f = FalsifyOptions("P3-eps:1/10,2", "box:-1/2,1", "float16", 3.0, 5)
    assert f.prop.spec == "P3-eps:1/10,2" and f.dom.name == "box" and f.seconds == 3.0
    v = VerifyOptions(domain="binary")
    assert v.prop is P3 and v.dom.is_binary and v.seconds == 60.0


@pytest.mark.parametrize("argv,option", [
    (["falsify", "-p", "p1", "--layers", "3,2", "--activation", "relu"], "--property"),
    (["falsify", "-p", "p3", "--layers", "3,2", "--activation", "relu", "--budget", "nan"], "--budget"),
    (["falsify", "-p", "p3", "--layers", "3,2", "--activation", "relu", "--dtype", "float8"], "--dtype"),
    (["verify", "--layers", "3,2", "--activation", "relu", "--timeout", "0"], "--timeout"),
    (["verify", "--layers", "3,2", "--activation", "relu", "--domain", "sphere"], "--domain"),
    (["verify", "--layers", "3,2", "--activation", "relu", "-p", "p2"], "--property"),
    (["verify", "--layers", "3,x", "--activation", "relu"], "--layers"),
    (["falsify", "-p", "p3", "--layers", "3,2", "--activation", "relu", "--latent", "mu"], "--latent"),
])
def test_the_command_line_gives_the_groups_refusal_as_one_line(argv: list[str], option: str, capsys) -> None:
    code, _, err = _run(argv, capsys)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: ") and option in lines[0], err


# ---------------------------------------------------------------- one definition of the shared options

def _help_records(command: str) -> dict[str, tuple]:
    cmd = typer.main.get_command(app).commands[command]
    ctx = cmd.make_context(command, [], resilient_parsing=True)
    return {p.opts[0]: (tuple(p.opts), p.get_help_record(ctx), p.default, p.hidden) for p in cmd.params}


def test_falsify_and_verify_share_the_encoder_source_block() -> None:
    falsify, verify = _help_records("falsify"), _help_records("verify")
    for flag in _options.ENCODER_SOURCE_OPTIONS:
        assert flag in falsify and flag in verify, flag
        assert falsify[flag] == verify[flag], flag
    order = lambda rec: [f for f in rec if f in _options.ENCODER_SOURCE_OPTIONS]  # noqa: E731
    assert order(falsify) == order(verify) == list(_options.ENCODER_SOURCE_OPTIONS)


def test_audit_reads_the_model_file_with_the_same_options() -> None:
    falsify, audit = _help_records("falsify"), _help_records("audit")
    for flag in ("--weights", "--model", "--layers-from", "--activations", "--output", "--ignore", "--latent", "--input-normalise"):
        assert audit[flag] == falsify[flag], flag


def test_help_lists_what_the_registries_hold() -> None:
    falsify, verify = _help_records("falsify"), _help_records("verify")
    for prop in REGISTRY.values():
        assert (prop.usage in falsify["--property"][1][1]) == prop.falsifiable, prop.id
        assert (prop.usage in verify["--property"][1][1]) == prop.verifiable, prop.id
    for form in domain_forms():
        assert form in falsify["--domain"][1][1]
    assert "box:LO,HI" in verify["--domain"][1][1] and "sphere" not in verify["--domain"][1][1]
    for name in catalog_names():
        assert name in falsify["--activation"][1][1]


def test_help_follows_a_new_registry_entry(monkeypatch) -> None:
    """Planted: a property registered later appears in the generated help (nothing is a hand-written list)."""
    new = replace(P3, id="P3-new", name="a planted property")
    monkeypatch.setitem(REGISTRY, "p3-new", new)
    assert "p3-new (a planted property)" in property_help("falsifiable")
    assert "p3-new" in property_help("verifiable")
    assert domain_help(products_only=True) == "reals, nonneg, binary or box:LO,HI."  # the products of intervals


# ---------------------------------------------------------------- study --model is --architecture

def test_study_model_was_renamed_architecture(tmp_path, capsys) -> None:
    for value in ("multvae", "model.pt"):
        code, _, err = _run(["study", "--model", value, "--out", str(tmp_path / "s")], capsys)
        lines = err.strip().splitlines()
        assert code == 2 and len(lines) == 1, err
        assert lines[0].startswith("error: --model was renamed --architecture; use --architecture "), err
    assert "--architecture multvae" in err or "--architecture multdae" in err
    code, _, err = _run(["study", "--architecture", "vae", "--out", str(tmp_path / "s")], capsys)
    assert code == 2 and err.startswith("error: --architecture 'vae'"), err


def test_study_help_shows_architecture_not_model() -> None:
    records = _help_records("study")
    assert records["--model"][3] is True  # hidden
    assert not records["--architecture"][3]
    for name in MODELS:
        assert name in records["--architecture"][1][1]


def test_the_recorded_study_command_parses(tmp_path) -> None:
    """The command a study report records runs as it stands: its options are the command line's."""
    cmd = typer.main.get_command(app).commands["study"]
    for arch in MODELS:
        line = StudyConfig(model=arch, out=str(tmp_path)).command()
        ctx = cmd.make_context("study", shlex.split(line)[2:])
        assert ctx.params["architecture"] == arch and ctx.params["model"] is None, line


def _same_study(cfg: StudyConfig) -> dict:
    """The resolved fields that decide a study's numbers (not where it writes or how it runs)."""
    r = cfg.resolved()
    skip = {"out", "executor", "resume"}
    return {k: v for k, v in vars(r).items() if k not in skip}


@pytest.mark.parametrize("given", [
    {},  # the --data defaults: lr and lam grids, every axis widened, width not (no --hidden)
    {"lr": 3e-3, "lam_grid": (1e-3, 1e-2, 1e-1), "bracket_axes": ("lam",), "seeds": 2, "split_seeds": 2, "patience": 300},  # --datasets
    {"model": "multvae", "hidden": (600, 200), "lam": 0.0, "ease": False, "falsify_budget": 0.0, "eval_every": 1, "triples": 10},
    {"model": "autorec", "seeds": 2, "epochs": 7},
])
def test_the_recorded_study_command_reproduces_the_study(tmp_path, monkeypatch, given) -> None:
    """Run as it stands, the recorded command builds the same study: every grid, fixed value and schedule is in it."""
    from latentcheck.checkers.cli import study as study_cli

    seen = []

    def stop(cfg, *args, **kwargs):
        seen.append(cfg)
        raise typer.Exit(0)

    monkeypatch.setattr(study_cli, "_run_study_cooperatively", stop)
    data = tmp_path / "u.data"
    data.write_text("1\t1\t5\t0\n")
    cfg = StudyConfig(data=str(data), out=str(tmp_path), **given)
    line = cfg.command()
    res = CliRunner().invoke(app, shlex.split(line)[1:] + ["--out", str(tmp_path)])
    assert seen, (line, res.output)
    assert _same_study(seen[0]) == _same_study(cfg), line


# ---------------------------------------------------------------- imports: static, at module top, cheap

def _function_level_imports(path: Path) -> list[int]:
    tree = ast.parse(path.read_text())
    lines = []
    for fn in ast.walk(tree):
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            lines += [n.lineno for n in ast.walk(fn) if isinstance(n, ast.ImportFrom) and n.level > 0]
    return lines


def test_cli_imports_are_static_and_at_module_top() -> None:
    for path in sorted((ROOT / "checkers" / "cli").glob("*.py")):
        text = path.read_text()
        assert "__import__(" not in text and "importlib" not in text, path.name
        if path.name != "console.py":  # console.py installs the Ctrl-C handler before it imports the app
            assert _function_level_imports(path) == [], path.name


def test_planted_function_level_import_is_caught(tmp_path) -> None:
    planted = tmp_path / "planted.py"
    planted.write_text("def f():\n    from .x import y\n    return y\n")
    assert _function_level_imports(planted) == [2]


def test_loading_the_command_line_loads_no_jax_and_no_z3() -> None:
    code = ("import sys; import latentcheck.checkers.cli.app; "
            "print(sorted(m for m in ('jax', 'z3', 'torch', 'onnx', 'ray') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]", out.stdout
