"""CSV drop adapter: POS exports dropped into a folder, read as canonical records.

Modules: ``adapter`` (the Adapter: batches, checkpoints, finishing files), ``files``
(drop folder scan, destinations, moves), ``probe`` (sha256 + encoding in one pass),
``reader`` (streaming numbered rows), ``columns`` (header -> canonical fields),
``rows`` (row -> record), ``report`` (the ``*.errors.csv`` file), ``errors``.
"""

from __future__ import annotations

from adapters.csv_drop.adapter import CsvDropAdapter
from adapters.csv_drop.columns import KIND_ALIASES, LAYOUTS, SHARED_ALIASES, normalize

__all__ = ["KIND_ALIASES", "LAYOUTS", "SHARED_ALIASES", "CsvDropAdapter", "normalize"]
