"""The falsifier's strategies for P2-delta (:class:`~latentcheck.theorems.properties.p2_delta.OrderingMargin`).

P2's search, constructions and row scan, each run with the property's premise
margin ``delta |x|^2`` (pool inversion and the Adam objective take ``delta``;
T5's zero-user flips satisfy the premise for every ``delta``). Registered here
explicitly, so that P2-delta's strategies do not depend on it subclassing P2.
"""

from __future__ import annotations

from ._strategy import constructor, data_finder, round_picker, searcher, steps_cost
from .search_p2 import flip_constructions, flip_data_rows, flip_round, flip_search, three_points
from ...theorems.properties.p2_delta import OrderingMargin

__all__: list[str] = []

searcher(OrderingMargin)(flip_search)
constructor(OrderingMargin)(flip_constructions)
data_finder(OrderingMargin)(flip_data_rows)
round_picker(OrderingMargin)(flip_round)
steps_cost(OrderingMargin)(three_points)
