"""What one erasure costs in a state DB holding many record issues (the purge reads only
the issues whose text could hold the person: state/erasures.py ``_scrub_issues``).

    .venv/bin/python bench/erasure.py [--issues 100000]

Prints the time to erase a customer the state DB knew (a profile with phone and e-mail)
and one it never knew (a key only, as a Shopify customer REDACTED before its first read).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from connector.erasure import ErasureMatcher
from state import RecordIssue, StateStore
from state.customers import Profile
from state.erasures import ErasedPerson


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=100_000)
    n = parser.parse_args().issues
    with tempfile.TemporaryDirectory() as folder:
        store = StateStore.open(f"sqlite:///{folder}/state.db")
        try:
            issues = [RecordIssue(
                stream="file:x", locator=f"row {i}", row=i, record_key=f"c{i}",
                disposition="rejected", reason="invalid_email", field="email", message="m",
                raw={"customer_id": f"c{i}", "phone": f"(415) 555-{i % 10000:04d}",
                     "email": f"p{i}@example.com", "first_name": "Zoë", "total": "12.50"},
                record_kind="customer", record_id=f"c{i}") for i in range(n)]
            with store.engine.begin() as conn:
                store.issues.record("t1", "pos", issues, None, conn)
            store.customers.save_profiles("t1", [Profile("pos:c98765", "+15105550142",
                                                         email="bob@example.com")])
            matcher = ErasureMatcher(store.erasures.digest, "US")
            for label, key in (("known (profile with phone and e-mail)", "pos:c98765"),
                               ("never known (key only)", "shopify:7204650099999")):
                started = time.perf_counter()
                store.erasures.erase("t1", "pos", [ErasedPerson(key, "erased")],
                                     mentions=matcher.document)
                print(f"erasing a customer {label} with {n} record issues stored: "
                      f"{time.perf_counter() - started:.3f} s")
        finally:
            store.close()


if __name__ == "__main__":
    main()
