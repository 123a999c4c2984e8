"""Properties as objects, in one registry: P1, P2, P3 and the relaxed P3-eps and P2-delta.

``get_property("p3")`` (any case; parameters after a colon, ``"p3-eps:1/100,1"``)
returns the registered object; :data:`REGISTRY` maps lower-case ids to them.
Each property is one module (``p3.py``, ``p2.py``, ``p3_eps.py``, ...): a
:class:`Property` subclass and the object it registers.
"""

from ._core import (
    PointCheck,
    check_flip,
    check_zero,
    dot,
    floor_decimal,
    interval_ends,
    latent_flip,
    lower_decimal,
)
from ._registry import REGISTRY, Property, get_property, parse_params, register
from .p1 import P1, p1_holds
from .p3 import P3, NonZero
from .p2 import P2, Ordering
from .p3_eps import P3_EPS, SmallLatent
from .p2_delta import P2_DELTA, OrderingMargin

#: The paper's properties by id (``REGISTRY`` holds every registered one, the relaxed ones too).
PROPERTIES = {p.id: p for p in (P1, P2, P3)}

__all__ = ["Property", "P1", "P2", "P3", "P3_EPS", "P2_DELTA", "PROPERTIES", "REGISTRY", "register", "get_property",
           "parse_params", "PointCheck", "check_zero", "check_flip", "latent_flip", "p1_holds", "dot", "lower_decimal",
           "floor_decimal", "interval_ends", "NonZero", "Ordering", "SmallLatent", "OrderingMargin"]
