"""The one atomic writer: output files written to a temporary file beside them, then moved into place.

A report is written to a temporary file in its own directory and moved into
place with ``os.replace``: a reader sees the old file or the new one, never
half of one, and a crash leaves the old file intact. Every layer writes its
files through these functions (``counterexamples`` for reports, plots and
certificates; ``checkers`` and the command line through ``checkers._io``).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, Callable

__all__ = ["atomic_write_with", "atomic_write_text", "atomic_write_bytes_with", "atomic_savefig"]


def atomic_write_with(path: "str | os.PathLike[str]", write: Callable[[str], None], suffix: str = "") -> None:
    """Call ``write(tmp_path)`` on a temporary file beside ``path``, then move it onto ``path``."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=suffix + ".tmp", dir=folder)
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def atomic_write_text(path: "str | os.PathLike[str]", text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""

    def write(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())

    atomic_write_with(path, write)


def atomic_savefig(fig: Any, path: "str | os.PathLike[str]", **kwargs: Any) -> None:
    """``fig.savefig(path, **kwargs)`` atomically (the format follows ``path``'s suffix)."""
    fmt = kwargs.pop("format", None) or (Path(path).suffix.lstrip(".") or "png")
    atomic_write_with(path, lambda tmp: fig.savefig(tmp, format=fmt, **kwargs))


def atomic_write_bytes_with(path: "str | os.PathLike[str]", write: Callable[[Any], None], suffix: str = "") -> None:
    """Call ``write(binary file object)`` on a temporary file beside ``path``, then move it onto ``path``
    (for writers such as ``np.savez`` that would rename a file given by path)."""

    def run(tmp: str) -> None:
        with open(tmp, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())

    atomic_write_with(path, run, suffix)
