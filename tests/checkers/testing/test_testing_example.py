"""examples/ci: its dozen-line test passes with sigmoid and fails, certified, with relu; both within 60 s."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "ci"


def _run(activation: str, report_dir: Path) -> tuple[subprocess.CompletedProcess, float]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_CURRENT_TEST", "PYTEST_ADDOPTS")}
    env["LATENT_ACTIVATION"] = activation
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", f"--latentcheck-report-dir={report_dir}"], cwd=EXAMPLE,
                         capture_output=True, text=True, timeout=120, env=env)
    return out, time.perf_counter() - t0


def test_example_test_file_is_about_a_dozen_lines() -> None:
    lines = [ln for ln in (EXAMPLE / "test_encoder.py").read_text().splitlines() if ln.strip()]
    assert len(lines) <= 14


@pytest.mark.parametrize("activation", ["sigmoid", "relu"])
def test_example_passes_with_sigmoid_and_fails_certified_with_relu(activation: str, tmp_path: Path) -> None:
    out, _ = _run(activation, tmp_path)  # its wall time is reported by benchmarks, not asserted
    text = out.stdout + out.stderr
    if activation == "sigmoid":
        assert out.returncode == 0, text
        assert "2 passed" in text
    else:
        assert out.returncode == 1, text
        assert "1 failed, 1 passed" in text
        assert "Counterexample (certified exact; shrunk):" in text
        assert "x = [0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0]" in text
        assert "Reproduce: pytest 'test_encoder.py::test_no_user_is_encoded_as_zero'" in text
        assert "= latentcheck =" in text
