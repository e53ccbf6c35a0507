"""A client killed while sending its request body (headers out, body cut short): the
sandbox neither processes the request nor remembers its Idempotency-Key, as a real server
never sees a complete request. The retry with the full body is then accepted as new."""

from __future__ import annotations

import json
import socket
import time
from urllib.parse import urlparse

import httpx2

from sandbox import RunningSandbox
from sandbox.testing import SandboxAdmin, sticky_headers
from tests.sandbox.conftest import WS_A


def test_a_request_cut_off_mid_body_is_not_processed_nor_its_key_kept(
        sandbox: RunningSandbox, admin: SandboxAdmin, client: httpx2.Client) -> None:
    body = json.dumps({"phone": "+14155550142", "first_name": "Sam"}).encode()
    headers = {**sticky_headers(WS_A, idempotency_key="cut-1"),
               "Content-Type": "application/json", "Content-Length": str(len(body))}
    url = urlparse(sandbox.base_url)
    with socket.create_connection((url.hostname or "127.0.0.1", url.port or 80)) as raw:
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        raw.sendall(f"POST /v1/customers HTTP/1.1\r\nHost: {url.netloc}\r\n{head}\r\n"
                    .encode() + body[:10])  # the process dies here
    # nothing observable happens on the server; this pause only makes sure the cut
    # request was handled before the retry, so a sandbox that kept its key would fail
    time.sleep(0.5)
    assert admin.customers(WS_A) == []
    assert admin.workspace_stats(WS_A).get("requests", 0) == 0

    retry = client.post("/v1/customers", content=body,
                        headers={**sticky_headers(WS_A, idempotency_key="cut-1"),
                                 "Content-Type": "application/json"})
    assert retry.status_code == 201, retry.text
    assert [c["phone"] for c in admin.customers(WS_A)] == ["+14155550142"]
