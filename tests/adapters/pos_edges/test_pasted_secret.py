"""F11: a secret pasted where the description wants a reference (a role or an environment
variable name) is printed back in the load error."""
from __future__ import annotations

from pathlib import Path

import pytest

from adapters.pos import load_spec
from tests.adapters.pos_edges.support import spec_file

SECRET = "9f2c1e7a-55d0-4c1b-a7d3-0b8e6f1d2c44"
SPEC = """
[streams.customers]
path = "/api/customers"
[streams.customers.fields]
customer_id = "id"
"""


@pytest.mark.parametrize("auth", [f'kind = "bearer"\ntoken = "{SECRET}"',
                                  f'kind = "header"\nheader = "key"\nvalue = "{SECRET}"',
                                  f'kind = "bearer"\ntoken = "T"\nheaders = {{ x = "{SECRET}" }}'])
def test_a_pasted_secret_is_not_echoed(tmp_path: Path, auth: str) -> None:
    with pytest.raises(Exception) as caught:
        load_spec(spec_file(tmp_path, SPEC, auth=auth))
    assert SECRET not in str(caught.value)
