"""Exit codes a CI can trust: 4 for a crash (never 1), 2 for bad input and unwritable outputs, checked before work.

Each command's crash path is a monkeypatched exception; the exit code and the one line are asserted,
and ``--debug`` / ``LATENTCHECK_DEBUG=1`` add the traceback.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from latentcheck.checkers.cli.app import main
from latentcheck import load_encoder, save_encoder

ROOT = Path(__file__).resolve().parents[3]


class Boom(RuntimeError):
    pass


def _boom(*args, **kwargs):
    raise Boom("planted failure")


def _run(argv: list[str], capsys) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(argv)
    got = capsys.readouterr()
    return info.value.code, got.out, got.err


def _npz(tmp: Path, **arrays) -> Path:
    path = tmp / "enc.npz"
    np.savez(path, **arrays)
    return path


def _small_encoder(tmp: Path) -> Path:
    return _npz(tmp, W0=np.array([[1.0, -1.0, 0.5], [0.25, 1.0, -2.0]]), b0=np.zeros(2))


def _crash_cases(tmp: Path) -> dict[str, tuple[str, list[str]]]:
    """Per command: (attribute to replace with a raising function, arguments that reach it)."""
    enc = str(_small_encoder(tmp))
    report = tmp / "report.json"
    report.write_text("{}")
    return {
        "classify": ("latentcheck.checkers.cli.classify.classify_activation", ["classify", "relu"]),
        "prove": ("latentcheck.checkers.cli.prove.prove_all", ["prove", "--only", "P3-relu"]),
        "falsify": ("latentcheck.checkers.encoder_source.load_encoder", ["falsify", "-p", "p3", "--weights", enc]),
        "report": ("latentcheck.checkers.cli.report.load_report", ["report", str(report)]),
        "verify": ("latentcheck.checkers.encoder_source.load_encoder", ["verify", "--weights", enc]),
        "convert": ("latentcheck.checkers.cli.convert.convert_model", ["convert", enc, str(tmp / "out.npz")]),
        "study": ("latentcheck.checkers.study.experiment.run_study", ["study", "--out", str(tmp / "study")]),
        "audit": ("latentcheck.checkers.cli.audit._audit_payload", ["audit", "--weights", enc]),
    }


COMMANDS = ["classify", "prove", "falsify", "report", "verify", "convert", "study", "audit"]


@pytest.mark.parametrize("command", COMMANDS)
def test_crash_is_exit_4_with_one_line(command: str, tmp_path, capsys, monkeypatch) -> None:
    target, argv = _crash_cases(tmp_path)[command]
    module, _, name = target.rpartition(".")
    monkeypatch.setattr(__import__(module, fromlist=[name]), name, _boom)
    monkeypatch.delenv("LATENTCHECK_DEBUG", raising=False)
    code, _, err = _run(argv, capsys)
    assert code == 4
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0] == ("error: internal error: Boom: planted failure; rerun with --debug for the traceback, "
                        "and please report it")


@pytest.mark.parametrize("how", ["option", "env"])
def test_debug_shows_the_traceback(how: str, tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.setattr(__import__("latentcheck.checkers.cli.classify", fromlist=["classify_activation"]), "classify_activation", _boom)
    argv = ["classify", "relu"]
    if how == "option":
        argv = ["--debug"] + argv
        monkeypatch.delenv("LATENTCHECK_DEBUG", raising=False)
    else:
        monkeypatch.setenv("LATENTCHECK_DEBUG", "1")
    code, _, err = _run(argv, capsys)
    assert code == 4
    assert "Traceback (most recent call last)" in err and "_boom" in err
    assert err.strip().splitlines()[-1].startswith("error: internal error: Boom: planted failure")


def test_bad_input_stays_exit_2_not_4(tmp_path, capsys) -> None:
    code, _, err = _run(["falsify", "-p", "p3", "--weights", str(tmp_path / "missing.npz")], capsys)
    assert code == 2 and err.startswith("error: --weights") and len(err.strip().splitlines()) == 1


def test_keyboard_interrupt_is_130(capsys, monkeypatch) -> None:
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(__import__("latentcheck.checkers.cli.classify", fromlist=["classify_activation"]), "classify_activation", interrupted)
    code, _, _ = _run(["classify", "relu"], capsys)
    assert code == 130


def test_swallowed_ctrl_c_is_still_130(capsys, monkeypatch) -> None:
    """A Ctrl-C handled inside a GC callback (where Python ignores exceptions) is recorded, not lost."""
    import signal

    from latentcheck.checkers import _exit

    def fake_gc_callback() -> None:  # the handler sees this frame: it must not raise here
        os.kill(os.getpid(), signal.SIGINT)
        total = 0
        for i in range(100000):
            total += i

    real = __import__("latentcheck.checkers.cli.classify", fromlist=["classify_activation"]).classify_activation

    def classify_with_swallowed_interrupt(*args, **kwargs):
        fake_gc_callback()
        assert _exit.interrupted()
        return real(*args, **kwargs)

    monkeypatch.setattr(__import__("latentcheck.checkers.cli.classify", fromlist=["classify_activation"]), "classify_activation",
                        classify_with_swallowed_interrupt)
    code, out, err = _run(["classify", "relu", "--json"], capsys)
    assert code == 130
    assert json.loads(out)["class"]  # the command finished, yet the exit says it was interrupted
    assert "interrupted" in err


def test_sigint_handler_restored_after_in_process_call(capsys) -> None:
    import signal

    before = signal.getsignal(signal.SIGINT)
    _run(["classify", "relu", "--json"], capsys)
    assert signal.getsignal(signal.SIGINT) is before


# ---------------------------------------------------------------- output paths, before any work

def _forbid(monkeypatch, target: str) -> None:
    module, _, name = target.rpartition(".")

    def never(*args, **kwargs):
        raise AssertionError(f"{target} ran although the output path is bad")

    monkeypatch.setattr(__import__(module, fromlist=[name]), name, never)


@pytest.mark.parametrize("option", ["--json", "--markdown"])
def test_prove_missing_folder_refused_before_work(option: str, tmp_path, capsys, monkeypatch) -> None:
    _forbid(monkeypatch, "latentcheck.checkers.cli.prove.prove_all")
    code, _, err = _run(["prove", "--only", "P3-relu", option, str(tmp_path / "no" / "such" / "x.out")], capsys)
    assert code == 2 and err.startswith(f"error: {option}") and "does not exist" in err
    assert len(err.strip().splitlines()) == 1


def _under_a_file(tmp: Path, name: str) -> str:
    blocker = tmp / "a-file"
    blocker.write_text("x")
    return str(blocker / name)


def test_output_under_a_file_refused_before_work(tmp_path, capsys, monkeypatch) -> None:
    enc = str(_small_encoder(tmp_path))
    report = tmp_path / "report.json"
    report.write_text("{}")
    cases = [
        ("latentcheck.checkers.cli.report.load_report", ["report", str(report), "-o", _under_a_file(tmp_path, "r.md")], "--output"),
        ("latentcheck.checkers.cli.convert.convert_model", ["convert", enc, _under_a_file(tmp_path, "x.npz")], "DST"),
        ("latentcheck.checkers.encoder_source.load_encoder", ["falsify", "-p", "p3", "--weights", enc, "--out", _under_a_file(tmp_path, "f")], "--out"),
        ("latentcheck.checkers.encoder_source.load_encoder", ["verify", "--weights", enc, "--out", _under_a_file(tmp_path, "v")], "--out"),
        ("latentcheck.checkers.study.experiment.run_study", ["study", "--out", _under_a_file(tmp_path, "s")], "--out"),
        ("latentcheck.checkers.cli.audit._audit_payload", ["audit", "--weights", enc, "--out", _under_a_file(tmp_path, "a")], "--out"),
        ("latentcheck.checkers.cli.prove.prove_all", ["prove", "--json", _under_a_file(tmp_path, "p.json")], "--json"),
    ]
    for target, argv, option in cases:
        with monkeypatch.context() as m:
            _forbid(m, target)
            code, _, err = _run(argv, capsys)
        assert code == 2, (argv, err)
        assert err.startswith(f"error: {option}") and len(err.strip().splitlines()) == 1, err


def test_convert_creates_missing_folders(tmp_path, capsys) -> None:
    enc = str(_small_encoder(tmp_path))
    dst = tmp_path / "new" / "deeper" / "x.npz"
    code, _, err = _run(["convert", enc, str(dst), "--activation", "relu"], capsys)
    assert code == 0, err
    with np.load(dst) as data:
        assert np.array_equal(data["W0"], np.array([[1.0, -1.0, 0.5], [0.25, 1.0, -2.0]]))


# ---------------------------------------------------------------- standard output that cannot be written

def _cli(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("LATENTCHECK_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "latentcheck.checkers.cli", *args], env=env, timeout=300, **kwargs)


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_stdout_full_disk_is_one_line_exit_2() -> None:
    with open("/dev/full", "w") as full:
        out = _cli(["classify", "relu", "--json"], stdout=full, stderr=subprocess.PIPE, text=True)
    assert out.returncode == 2, out.stderr
    lines = out.stderr.strip().splitlines()
    assert lines == ["error: cannot write standard output: No space left on device; free some space or write elsewhere"]


def test_closed_pipe_exits_quietly_141() -> None:
    """``latentcheck ... | head -1`` once head has gone: no traceback, exit 141 (as a SIGPIPE'd tool), nothing on stderr."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("LATENTCHECK_DEBUG", None)
    proc = subprocess.Popen([sys.executable, "-m", "latentcheck.checkers.cli", "classify", "relu", "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    proc.stdout.close()  # the reader is gone before the output comes
    err = proc.stderr.read().decode()
    proc.wait(timeout=300)
    assert proc.returncode == 141, err
    assert err.strip() == ""


# ---------------------------------------------------------------- numbers too large for a float, odd files

@pytest.mark.parametrize("argv, needle", [
    (["verify", "--layers", "3,2", "--activation", "relu", "--domain", "box:-1e400,1e400"], "1.7976931348623157e+308"),
    (["falsify", "-p", "p3", "--layers", "3,2", "--activation", "relu", "--domain", "box:-1e400,1e400"], "1.7976931348623157e+308"),
    (["falsify", "-p", "p3-eps:1e400,1", "--layers", "3,2", "--activation", "relu"], "EPS = 1e400"),
    (["falsify", "-p", "p3-eps:1/100,1e400", "--layers", "3,2", "--activation", "relu"], "R = 1e400"),
    (["falsify", "-p", "p2-delta:1e400", "--layers", "3,2", "--activation", "relu"], "DELTA = 1e400"),
])
def test_huge_numbers_refused_exit_2(argv, needle, capsys) -> None:
    code, _, err = _run(argv, capsys)
    assert code == 2, err
    assert err.startswith("error:") and len(err.strip().splitlines()) == 1 and needle in err
    assert "1e400" in err or "about -1e400" in err


def test_huge_number_limits_are_exact() -> None:
    from latentcheck.theorems.domains import MAX_BOX_BOUND, parse_domain
    from latentcheck.theorems.errors import InvalidArgument
    from latentcheck.theorems.properties import get_property

    top = Fraction(sys.float_info.max)
    assert MAX_BOX_BOUND == top
    box = parse_domain(f"box:-{int(top)},{int(top)}")  # the largest float64, written out in full: accepted
    assert box.hi == top and float(box.hi) == sys.float_info.max
    with pytest.raises(InvalidArgument, match="too large"):
        parse_domain(f"box:0,{int(top) + 1}")
    assert get_property("p3-eps:1/100,1e150").r == Fraction(10) ** 150
    with pytest.raises(InvalidArgument, match=f"R = {10 ** 150 + 1} is too large"):
        get_property("p3-eps:1/100," + str(10 ** 150 + 1))


def test_npz_with_padded_layer_number_is_invalid_weights(tmp_path, capsys) -> None:
    from latentcheck.theorems.encoder import Encoder
    from latentcheck.theorems.errors import InvalidWeights

    path = _npz(tmp_path, W0=np.ones((2, 3)), W01=np.ones((2, 2)), b0=np.zeros(2), b1=np.zeros(2))
    with pytest.raises(InvalidWeights, match="W01"):
        load_encoder(path, activation="relu")
    code, _, err = _run(["falsify", "-p", "p3", "--weights", str(path), "--activation", "relu"], capsys)
    assert code == 2 and "W01" in err and len(err.strip().splitlines()) == 1


def test_empty_data_file_is_exit_2(tmp_path, capsys) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    code, _, err = _run(["falsify", "-p", "p3", "--layers", "3,2", "--activation", "relu", "--domain", f"data:{empty}"], capsys)
    assert code == 2 and "is empty" in err and len(err.strip().splitlines()) == 1


# ---------------------------------------------------------------- the re-check command of the assertions

def test_testing_cli_crash_is_exit_4(tmp_path, capsys, monkeypatch) -> None:
    from latentcheck.checkers.testing.__main__ import main as recheck_main

    report = tmp_path / "report.json"
    report.write_text(json.dumps({"counterexample": {"property": "P3", "witness": {"x": ["1"]}, "certified": "exact"},
                                  "encoder": {"weights": "encoder.npz"}}))
    from latentcheck.theorems.encoder import Encoder

    save_encoder(Encoder.random([3, 2], "relu", seed=0), tmp_path / "encoder.npz")
    import latentcheck.checkers.testing.__main__ as testing_main

    monkeypatch.setattr(testing_main, "get_property", _boom)  # where the re-check command looks it up
    assert recheck_main([str(report)]) == 4
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["error: internal error: Boom: planted failure; rerun with --debug for the traceback, and please report it"]
    (tmp_path / "encoder.npz").write_text("not a zip")
    assert recheck_main([str(report)]) == 2  # a broken encoder file is bad input
