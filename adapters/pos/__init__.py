"""Generic POS source: any REST POS described in a TOML file (presets in
``examples/pos/``; the format is documented in ``docs/pos.md``)."""

from adapters.pos.adapter import PosAdapter, PosBackfill
from adapters.pos.spec import PosSpec, load_spec

__all__ = ["PosAdapter", "PosBackfill", "PosSpec", "load_spec"]
