"""The certifiers, in a registry keyed by property class.

``@certifier(NonZero)`` registers the dedicated certifier of a property class
(``certify_zero`` for P3, ``certify_flip`` for P2, in ``certify.py``); lookup
follows the MRO of the property's class, and a class with nothing registered
gets the generic certifier (``certify.certify_point``, built on the property's
``check`` and ``float_violates``). A subclass that must not inherit its
parent's certifier registers :data:`GENERIC` (``certifier_p2_delta.py``).

Nothing here imports the certifiers: the modules that define them register them.
"""

from __future__ import annotations

from typing import Any, Callable

__all__ = ["certifier", "certifier_for", "GENERIC"]

#: Registered for a class whose witnesses the generic certifier decides (``certify_point``).
GENERIC = "generic"

_TABLE: dict[type, Any] = {}


def certifier(*classes: type) -> Callable[[Any], Any]:
    """A decorator registering a certifier ``f(encoder, *vectors, domain=, dtype=, **options)`` (or
    :data:`GENERIC`) for ``classes``; a second, different one for the same class is refused."""
    def deco(fn: Any) -> Any:
        for cls in classes:
            old = _TABLE.get(cls)
            if old is not None and old is not fn:
                raise ValueError(f"a certifier for {cls.__name__} is already registered")
            _TABLE[cls] = fn
        return fn
    return deco


def certifier_for(prop: Any) -> Callable[..., Any] | None:
    """The dedicated certifier of ``prop``'s class (nearest along its MRO), or ``None`` for the generic one."""
    for cls in type(prop).__mro__:
        if cls in _TABLE:
            fn = _TABLE[cls]
            return None if fn is GENERIC else fn
    return None
