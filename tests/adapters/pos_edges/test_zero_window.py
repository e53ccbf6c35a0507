"""F8: max_window = "0m" (or "0s") is accepted by the spec, and the window walk then never
advances (since + 0 == since < end): 10,000 requests, then "more than 10000 pages"."""
from __future__ import annotations

from pathlib import Path

import pytest

from adapters.pos import load_spec
from tests.adapters.pos_edges.support import spec_file

SPEC = """
[streams.orders]
path = "/api/orders"
amounts = "dollars"
[streams.orders.incremental]
param = "from"
upper_param = "to"
field = "updated"
max_window = "0m"
[streams.orders.fields]
order_id = "id"
total = "total"
"""


def test_a_zero_max_window_is_refused_when_the_description_loads(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="max_window"):
        load_spec(spec_file(tmp_path, SPEC))
