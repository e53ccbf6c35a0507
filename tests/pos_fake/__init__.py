"""Fake POS REST APIs for tests, served over real HTTP on loopback.

    from tests.pos_fake import GenericPos, running_pos

    fake = GenericPos(auth="bearer", pagination="cursor", page_size=2)
    fake.add_customer({"id": "c1", "updated_at": "2026-05-01T00:00:00Z"})
    with running_pos(fake) as pos:
        pos.base_url   # http://127.0.0.1:<port>

Presets at the real paths and shapes: ``DutchiePos``, ``TreezPos``, ``FlowhubPos``,
``BlazePos``. See README.md in this folder for every endpoint, parameter and fault.
"""

from tests.pos_fake.blaze import BlazePos
from tests.pos_fake.common import Clock, HttpError, PosFake, RecordedRequest
from tests.pos_fake.dutchie import SENTINEL, DutchieLocation, DutchiePos
from tests.pos_fake.flowhub import FlowhubPos
from tests.pos_fake.generic import AUTH_STYLES, PAGINATION_STYLES, GenericPos
from tests.pos_fake.server import RunningPos, running_pos
from tests.pos_fake.treez import TreezPos

__all__ = [
    "AUTH_STYLES",
    "PAGINATION_STYLES",
    "SENTINEL",
    "BlazePos",
    "Clock",
    "DutchieLocation",
    "DutchiePos",
    "FlowhubPos",
    "GenericPos",
    "HttpError",
    "PosFake",
    "RecordedRequest",
    "RunningPos",
    "TreezPos",
    "running_pos",
]
