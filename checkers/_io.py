"""Output paths checked before any work (and the atomic writers of :mod:`latentcheck.theorems.files`,
re-exported for the engines and the command line)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ..theorems.files import atomic_savefig, atomic_write_text, atomic_write_with
from ..theorems.errors import InvalidArgument

__all__ = ["atomic_write_text", "atomic_write_with", "atomic_savefig", "check_output_dir", "check_output_file", "check_input_file"]


def _nearest_existing(p: Path) -> Path:
    q = p
    while not q.exists():
        if q.parent == q:
            break
        q = q.parent
    return q


def _probe_writable(folder: Path, option: str, shown: str) -> None:
    try:
        fd, tmp = tempfile.mkstemp(prefix=".latentcheck-probe-", dir=folder)
        os.close(fd)
        os.unlink(tmp)
    except OSError as exc:
        raise InvalidArgument(f"{option} {shown}: cannot write in {folder} ({exc.strerror or exc}); choose a writable place") from None


def check_output_dir(path: "str | os.PathLike[str]", option: str) -> Path:
    """A folder that exists or can be created, and can be written: else :class:`InvalidArgument`."""
    shown = repr(os.fspath(path))
    if not os.fspath(path).strip():
        raise InvalidArgument(f"{option} is empty; give a folder, e.g. {option} runs/out")
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise InvalidArgument(f"{option} {shown} is a file, not a folder; give a folder (it is created if missing)")
    base = _nearest_existing(p)
    if not base.is_dir():
        raise InvalidArgument(f"{option} {shown}: {base} is a file, so no folder can be made under it; choose another place")
    _probe_writable(base, option, shown)
    return p


def check_output_file(path: "str | os.PathLike[str]", option: str, allow_dash: bool = False,
                      create_parents: bool = False) -> Path:
    """A file path that is not a folder, in a folder that exists and is writable: else :class:`InvalidArgument`.

    With ``create_parents`` (a writer that makes missing folders), the nearest existing folder above
    must be writable instead.
    """
    text = os.fspath(path)
    if allow_dash and text == "-":
        return Path(text)
    if not text.strip():
        raise InvalidArgument(f"{option} is empty; give a file name, e.g. {option} out.json")
    p = Path(path)
    if p.is_dir():
        raise InvalidArgument(f"{option} {text!r} is a folder; give a file name inside it, e.g. {p / 'out.json'}")
    if text.endswith(os.sep):
        raise InvalidArgument(f"{option} {text!r} names a folder; give a file name")
    parent = p.parent if str(p.parent) else Path(".")
    base = _nearest_existing(parent)
    if not base.is_dir():
        raise InvalidArgument(f"{option} {text!r}: {base} is a file, not a folder; choose another place")
    if base != parent and not create_parents:
        raise InvalidArgument(f"{option} {text!r}: the folder {str(parent)!r} does not exist; create it first or choose another place")
    _probe_writable(base, option, repr(text))
    return p


def check_input_file(path: "str | os.PathLike[str]", option: str) -> Path:
    """An existing, readable file (not a folder)."""
    text = os.fspath(path)
    if not text.strip():
        raise InvalidArgument(f"{option} is empty; give a file")
    p = Path(path)
    if not p.exists():
        raise InvalidArgument(f"{option} {text!r} does not exist; check the path")
    if p.is_dir():
        raise InvalidArgument(f"{option} {text!r} is a folder; give a file")
    if not os.access(p, os.R_OK):
        raise InvalidArgument(f"{option} {text!r} cannot be read; check its permissions")
    return p
