"""A package's static public face: names listed in its ``__init__.pyi`` stub, each loaded on first use.

Used by ``latentcheck``, ``latentcheck.checkers`` and ``latentcheck.checkers.testing``: ``lazy_loader`` reads
the stub (plain ``from .module import name`` lines, so readers and tools can follow every name to its
file), and an unknown name raises an :class:`AttributeError` that points at ``__all__`` and docs/api.md.
"""

from __future__ import annotations

from typing import Any, Callable

import lazy_loader

__all__ = ["attach_stub"]


def attach_stub(package: str, init_file: str) -> tuple[Callable[[str], Any], Callable[[], list[str]], list[str]]:
    """``(__getattr__, __dir__, __all__)`` for ``package`` from the ``.pyi`` stub beside ``init_file``."""
    lazy_getattr, lazy_dir, names = lazy_loader.attach_stub(package, init_file)

    def __getattr__(name: str) -> Any:
        try:
            return lazy_getattr(name)
        except AttributeError:
            raise AttributeError(f"module {package!r} has no attribute {name!r}; its public names are "
                                 f"{package}.__all__ (docs/api.md)") from None

    return __getattr__, lazy_dir, names
