"""F9: discover's "ready-to-paste" TOML is built with f-strings from what the source says:
a store name with a newline ends the comment and the rest becomes TOML; an id with a
quote or backslash is not a valid key. The lines must parse and say exactly the stores."""
from __future__ import annotations

import tomllib
from typing import cast

from connector.commands.discover import Store, toml_lines
from connector.config import TenantSettings


class _Tenant:
    id = "t1"


def test_pasted_lines_parse_to_exactly_the_stores_listed() -> None:
    stores = [Store('12"3', "Main\n\"999\" = \"ws_other\"", "1 Main St", None),
              Store("C:\\shop", "Back", "2 Back St", None)]
    tenant = cast(TenantSettings, _Tenant())  # only .id is read
    text = "\n".join(toml_lines(tenant, stores)).replace('"ws_..."', '"ws_x"')
    parsed = tomllib.loads(text)
    assert parsed == {'12"3': "ws_x", "C:\\shop": "ws_x"}
