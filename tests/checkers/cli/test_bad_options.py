"""Every option of every command, given a bad value, exits 2 with one ``error:`` line and no traceback.

The commands and their options are read from the typer command tree, so an
option added later is swept too (a new option whose type has no bad values
listed here makes :func:`test_every_option_has_bad_values` fail).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import typer

from latentcheck.checkers.cli.app import app, main

ROOT = Path(__file__).resolve().parents[3]

#: Options whose value is a folder to write, a file to write, or a file to read.
OUT_DIRS = {"out"}
OUT_FILES = {"json_path", "markdown_path", "output", "dst", "log"}
IN_FILES = {"weights", "path", "model", "src", "encoder"}
#: Counts (>= 1) and durations (> 0) where 0 is also bad.
ZERO_BAD = {"restarts", "max_counterexamples", "seeds", "epochs", "batch_size", "eval_every", "triples",
            "timeout", "budget", "lr", "min_match", "margin", "tune_seeds", "anneal_fraction"}
#: Float options where a negative value is meaningful.
NEGATIVE_OK = {"threshold"}
#: Flags and options whose every string is valid (or that have no value).
NO_VALUE = {"as_json", "no_shrink", "no_plots", "no_ease", "resume", "min_latent", "plan"}


def _commands() -> dict:
    return typer.main.get_command(app).commands


def _report_json(tmp: Path) -> Path:
    out = tmp / "rep"
    with pytest.raises(SystemExit) as info:
        main(["falsify", "-p", "p3", "--layers", "3,2", "--activation", "relu", "--budget", "1", "--out", str(out), "--no-plots"])
    assert info.value.code in (0, 1)
    return out / "report.json"


def _encoder(tmp: Path) -> Path:
    from latentcheck.checkers.study.audit import save_encoder
    from latentcheck.checkers.study.data import synthetic_ratings
    from latentcheck.theorems.encoder import Encoder

    ids = np.unique(synthetic_ratings().items)
    enc = Encoder.random([ids.size, 4], "relu", seed=0)
    path = tmp / "enc.npz"
    save_encoder(path, enc, normalise="l2", rows="users", values="binary", input_ids=ids)
    return path


@pytest.fixture(scope="module")
def bases(tmp_path_factory) -> dict:
    tmp = tmp_path_factory.mktemp("bases")
    return {
        "classify": ["classify", "relu"],
        "prove": ["prove", "--only", "P3-relu"],
        "falsify": ["falsify", "-p", "p3", "--layers", "3,2", "--activation", "relu", "--budget", "0.5", "--no-plots"],
        "report": ["report", str(_report_json(tmp))],
        "study": ["study", "--seeds", "1", "--epochs", "1", "--activations", "relu", "--no-ease", "--falsify-budget", "0",
                  "--triples", "10", "--out", str(tmp / "study")],
        "study-stats": ["study-stats", str(tmp / "no-report.json")],
        "audit": ["audit", "--weights", str(_encoder(tmp)), "--falsify-budget", "0", "--triples", "10"],
        "convert": ["convert", str(_encoder(tmp)), str(tmp / "converted.safetensors")],
        "verify": ["verify", "-p", "p3", "--layers", "3,2", "--activation", "relu", "--timeout", "5"],
        "recheck": ["recheck", str(_report_json(tmp))],
        "_tmp": tmp,
    }


def _bad_values(param, tmp: Path) -> list[str]:
    """Bad values for one parameter, from its type and role."""
    name = param.name
    a_file = tmp / "a_file.txt"
    a_file.write_text("x")
    unwritable = "/proc/latentcheck-no/such"
    if name in NO_VALUE:
        return []
    if name in OUT_DIRS:
        return [str(a_file), str(a_file / "sub"), unwritable, ""]
    if name in OUT_FILES:
        return [str(tmp), str(a_file / "x.json"), unwritable + "/x.json", ""]
    if name in IN_FILES:
        return [str(tmp / "missing.npz"), str(tmp), ""]
    kind = _kind(param)
    if kind == "integer":
        return ["-1", "abc"] + (["0"] if name in ZERO_BAD else [])
    if kind == "float":
        out = ["nan", "abc", "inf"] if name not in NEGATIVE_OK else ["nan", "abc"]
        if name not in NEGATIVE_OK:
            out.append("-1")
        if name in ZERO_BAD:
            out.append("0")
        return out
    if kind in ("text", "string", "path"):
        return [""]
    return []


def _kind(param) -> str:
    """The value type of a parameter: from typer's ``bare_type()`` (the annotation), else click's type name."""
    bare = getattr(param, "bare_type", None)
    text = str(bare() if callable(bare) else getattr(param.type, "name", "")).lower()
    for kind, words in (("integer", ("int",)), ("float", ("float",)), ("bool", ("bool",)), ("path", ("path",)),
                        ("string", ("str", "text"))):
        if any(w in text for w in words):
            return kind
    return text


def _cases() -> list[tuple[str, str]]:
    out = []
    for cname, cmd in _commands().items():
        for p in cmd.params:
            if p.name not in NO_VALUE and p.name != "help":
                out.append((cname, p.name))
    return out


def _argv(base: list[str], param, value: str) -> list[str]:
    if not param.opts[0].startswith("-"):  # an argument: replace the positional
        argv = [base[0]] + [a for a in base[1:] if a.startswith("-") or a in _option_values(base)]
        return argv + ["--", value] if value.startswith("-") else argv + [value]
    argv = list(base)
    for opt in param.opts + param.secondary_opts:  # the base's own value of this option goes
        if opt in argv:
            i = argv.index(opt)
            del argv[i : i + 2]
    return argv + [param.opts[0], value]


def _option_values(base: list[str]) -> set[str]:
    return {base[i + 1] for i, a in enumerate(base[:-1]) if a.startswith("-")}


def test_every_option_has_bad_values(tmp_path) -> None:
    for cname, cmd in _commands().items():
        for p in cmd.params:
            if p.name in NO_VALUE or p.name == "help":
                continue
            assert _bad_values(p, tmp_path), f"{cname} {p.opts}: no bad values known for {_kind(p)!r}; add them to this test"


@pytest.mark.parametrize("command,name", _cases())
def test_bad_value_exit_2_one_line(command: str, name: str, bases, capsys, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    cmd = _commands()[command]
    param = next(p for p in cmd.params if p.name == name)
    tmp = bases["_tmp"]
    values = _bad_values(param, tmp)
    assert values
    for value in values:
        argv = _argv(bases[command], param, value)
        capsys.readouterr()
        with pytest.raises(SystemExit) as info:
            main(argv)
        captured = capsys.readouterr()
        err = captured.err.strip()
        assert info.value.code == 2, f"{argv}: exit {info.value.code}; stderr {err!r}"
        assert "Traceback" not in captured.err + captured.out, argv
        lines = err.splitlines()
        assert len(lines) == 1 and lines[0].startswith("error:"), f"{argv}: stderr {err!r}"
        if param.opts[0].startswith("-"):
            spelled = [o for o in param.opts if o.startswith("--")] or param.opts
            assert any(o in lines[0] for o in spelled), f"{argv}: the error does not name the option: {lines[0]!r}"


def test_entry_point_bad_value_no_traceback() -> None:
    """Through the real entry point (a subprocess): parser errors and our errors alike."""
    for argv in (["prove", "--timeout", "0"], ["falsify", "-p", "p3", "--layers", "3,2", "--activation", "relu", "--seed", "x"],
                 ["classify", "relu", "--timeout", "nan"], ["audit", "--weights", "/nonexistent.npz"]):
        out = subprocess.run([sys.executable, "-m", "latentcheck.checkers.cli", *argv], capture_output=True, text=True, timeout=120,
                             env={**os.environ, "PYTHONPATH": str(ROOT)})
        assert out.returncode == 2, (argv, out.stderr)
        assert "Traceback" not in out.stderr
        lines = out.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error:"), (argv, out.stderr)


def test_timeout_must_be_positive_and_finite(capsys) -> None:
    for value in ("0", "-1", "nan", "inf"):
        for argv in (["prove", "--only", "P3-relu", "--timeout", value], ["classify", "relu", "--timeout", value]):
            with pytest.raises(SystemExit) as info:
                main(argv)
            assert info.value.code == 2, argv
            assert capsys.readouterr().err.startswith("error: --timeout")


def test_bad_output_path_refused_before_search(tmp_path, capsys, monkeypatch) -> None:
    """A bad --out stops falsify before its (long) search: the search is never called."""
    import latentcheck.checkers.falsify as falsify_module

    searched: list[int] = []
    monkeypatch.setattr(falsify_module, "falsify", lambda *a, **k: searched.append(1))
    a_file = tmp_path / "f"
    a_file.write_text("x")
    with pytest.raises(SystemExit) as info:
        main(["falsify", "-p", "p3", "--layers", "30,20", "--activation", "sigmoid", "--budget", "60", "--out", str(a_file)])
    assert info.value.code == 2
    assert searched == []  # nothing ran before the refusal
    assert capsys.readouterr().err.startswith("error: --out")
    assert a_file.read_text() == "x"
