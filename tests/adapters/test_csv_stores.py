"""Store files (stores*.csv / locations*.csv) in the drop folder."""

from __future__ import annotations

from pathlib import Path

from adapters.records import LocationRecord, UnreadableRecord
from tests.adapters.support import MemoryState, adapter, drop, records, run


def test_a_store_export_with_common_header_names_becomes_location_records(
        tmp_path: Path) -> None:
    drop(tmp_path, "Stores_2026-11.csv",
         "Location ID,Store Name,Street Address,Suite,City,State/Province,Postal Code,"
         "Store Phone,Primary\n"
         "001,Downtown,12 Main St,Ste 4,Oakland,Calif.,94607,(510) 555-0100,Y\n")
    [record] = records(run(adapter(tmp_path), MemoryState()))
    assert isinstance(record, LocationRecord)
    assert (record.store_id, record.name, record.address1, record.address2, record.city,
            record.state, record.zip, record.phone, record.is_default) == (
        "001", "Downtown", "12 Main St", "Ste 4", "Oakland", "Calif.", "94607",
        "(510) 555-0100", "Y")
    assert record.origin.locator == "Stores_2026-11.csv row 1"
    assert (tmp_path / "processed" / "Stores_2026-11.csv").exists()


def test_a_store_file_without_an_address_column_is_rejected_whole(tmp_path: Path) -> None:
    drop(tmp_path, "locations.csv", "store_id,name,city,state,zip\n1,A,Oakland,CA,94607\n")
    state = MemoryState()
    [record] = records(run(adapter(tmp_path), state))
    assert isinstance(record, UnreadableRecord)
    assert record.reason == "missing_column" and "address1" in record.message
    assert (tmp_path / "rejected" / "locations.csv").exists()
