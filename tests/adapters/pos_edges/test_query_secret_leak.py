"""F3: auth kind = "query" puts the key in the URL; the "no record list" error prints
response.url (scrub() only masks sk_/pk_/shpat_ keys, bearer/basic, e-mails, phones):
the secret lands in the error, the run summary and the logs."""
from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from connector.errors import SourceUnreadable
from tests.adapters.pos_edges.support import Clock, js, make, spec_file
from tests.adapters.support import MemoryState, run

SPEC = """
[streams.customers]
path = "/api/customers"
records = "customers"
[streams.customers.fields]
customer_id = "id"
phone = "phone"
"""
SECRET = "a1b2c3d4e5f6a7b8c9d0"


def test_a_query_key_is_not_printed(tmp_path: Path) -> None:
    spec = spec_file(tmp_path, SPEC,
                     auth='kind = "query"\nparam = "api_key"\nvalue = "POS_KEY"')
    with pytest.raises(SourceUnreadable) as caught:
        run(make(spec, lambda r: js({"message": "nope"}),
                 Clock(datetime(2026, 5, 20, tzinfo=UTC)), environ={"POS_KEY": SECRET}),
            MemoryState())
    assert SECRET not in str(caught.value)
