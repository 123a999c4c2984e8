"""Progress lines of ``latentcheck study`` when stderr is not a terminal, and ``--log FILE``."""

from __future__ import annotations

import io
import re

import pytest

from typer.testing import CliRunner

from latentcheck.checkers.study.progress import LineProgress, format_seconds, run_line
from latentcheck.checkers.cli.app import app, main

runner = CliRunner()

TINY = ["study", "--seeds", "1", "--split-seeds", "1", "--epochs", "2", "--activations", "tanh,relu", "--lr", "1e-3", "--bracket-rounds", "0",
        "--lam-grid", "0,1e-3", "--hidden", "8", "--triples", "100", "--falsify-budget", "0", "--no-ease", "--batch-size", "200"]

LINE = re.compile(r"^\[(\d+)/(\d+)\] (\S+) (tune|final) split \d+ .*: (test|val) NDCG@100 (\d\.\d{4}) \(.* s; elapsed .*; ETA .*\)$")


@pytest.mark.slow  # a whole study run twice or more: outside the 10-minute CI tier (pytest -m slow)
def test_lines_on_a_piped_stderr_and_in_the_log(tmp_path):
    log = tmp_path / "study.log"
    res = runner.invoke(app, TINY + ["--out", str(tmp_path / "o"), "--log", str(log)])
    assert res.exit_code == 0, res.output
    lines = [ln for ln in res.stderr.splitlines() if LINE.match(ln)]
    # 2 activations x (2 tuning trials + 1 final task) = 6 finished runs, counted in order
    assert [LINE.match(ln).group(1, 2) for ln in lines] == [(str(i), "6") for i in range(1, 7)]
    assert sum(LINE.match(ln).group(4) == "final" for ln in lines) == 2
    assert all(LINE.match(ln).group(5) == ("test" if LINE.match(ln).group(4) == "final" else "val") for ln in lines)
    logged = [ln for ln in log.read_text().splitlines() if LINE.match(ln)]
    strip = lambda ln: ln.split(" (")[0]  # noqa: E731 (times differ between the two writers)
    assert [strip(x) for x in logged] == [strip(x) for x in lines]
    assert "ETA 0.0 s" in lines[-1]


@pytest.mark.parametrize("opt,value", [("--log", "missing/x.log"), ("--margin", "0"), ("--margin", "nan")])
def test_bad_log_or_margin_is_refused_before_work(tmp_path, capsys, opt, value):
    value = str(tmp_path / value) if opt == "--log" else value
    with pytest.raises(SystemExit) as exc:
        main(TINY + ["--out", str(tmp_path / "o"), opt, value])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {opt}") and err.count("\n") == 1 and not (tmp_path / "o").exists()


class _Clock:
    def __init__(self, times):
        self.times = list(times)

    def __call__(self):
        return self.times.pop(0)


def test_eta_is_mean_time_per_run_times_runs_left():
    buf = io.StringIO()
    p = LineProgress([buf], clock=_Clock([0.0, 10.0, 30.0, 40.0, 100.0]))
    p.start(4, "demo")  # t0 = 10
    p.run_end("a", {"val": {"NDCG@100": 0.25}})  # t = 30: 20 s, 1 of 4 done -> ETA 60 s
    p.run_end("b", {"test": {"NDCG@100": 0.5}, "val": {"NDCG@100": 0.1}})  # t = 40: 10 s, 2 of 4 -> 30 s/run -> ETA 30 s
    p.run_end("c", {})  # t = 100: 60 s, 3 of 4 -> ETA 30 s
    out = buf.getvalue().splitlines()
    assert out[0] == "study: demo (4 tasks)"
    assert out[1] == "[1/4] a: val NDCG@100 0.2500 (20.0 s; elapsed 20.0 s; ETA 1 min 0 s)"
    assert out[2] == "[2/4] b: test NDCG@100 0.5000 (10.0 s; elapsed 30.0 s; ETA 30.0 s)"
    assert out[3] == "[3/4] c: no metric (1 min 0 s; elapsed 1 min 30 s; ETA 30.0 s)"


def test_format_seconds():
    assert format_seconds(3725) == "1 h 2 min" and format_seconds(float("nan")) == "?"
    assert run_line(1, None, "x", {}, 1.0, 1.0).endswith("ETA ?)")
