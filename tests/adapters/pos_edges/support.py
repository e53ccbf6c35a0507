"""A tiny in-process POS (httpx.MockTransport) the review tests control fully."""
from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from adapters.pos import PosAdapter, load_spec
from connector.http.lib import httpx

ENV = {"POS_TOKEN": "tok"}


def spec_file(tmp_path: Path, body: str, head: str = "",
              auth: str = 'kind = "bearer"\ntoken = "POS_TOKEN"') -> Path:
    path = tmp_path / "pos.toml"
    path.write_text(f'name = "review"\n{head}\n[auth]\n{auth}\n{body}', encoding="utf-8")
    return path


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now.timestamp()


def make(spec: Path, handler: Callable[[httpx.Request], httpx.Response], clock: Clock,
         *, environ: dict[str, str] | None = None, **kwargs: Any) -> PosAdapter:
    return PosAdapter(name="pos", spec=load_spec(spec), base_url="http://pos.test",
                      environ={**ENV, **(environ or {})}, sleep=lambda _: None, clock=clock,
                      transport=httpx.MockTransport(handler), **kwargs)


def js(body: Any, status: int = 200) -> httpx.Response:
    return httpx.Response(status, content=json.dumps(body).encode(),
                          headers={"content-type": "application/json"})


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
