"""Helpers shared by the fake's own tests: a client bound to one running fake."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx2

from tests.shopify_fake import RunningShopify, ShopifyFake, running_shopify

VERSION = "2026-07"


class Shop:
    """A running fake plus an httpx2 client that sends the access token."""

    def __init__(self, running: RunningShopify, client: httpx2.Client) -> None:
        self.running = running
        self.fake: ShopifyFake = running.fake
        self.client = client

    def post(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        version: str = VERSION,
        headers: dict[str, str] | None = None,
    ) -> httpx2.Response:
        body: dict[str, Any] = {"query": query}
        if variables is not None:
            body["variables"] = variables
        return self.client.post(self.running.graphql_url(version), json=body, headers=headers)

    def gql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """POST, expect HTTP 200, return the body."""
        response = self.post(query, variables)
        assert response.status_code == 200, response.text
        body = response.json()
        assert isinstance(body, dict)
        return body

    def data(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """POST, expect no errors, return ``data``."""
        body = self.gql(query, variables)
        assert "errors" not in body, body["errors"]
        data = body["data"]
        assert isinstance(data, dict)
        return data


@contextmanager
def serve(fake: ShopifyFake) -> Iterator[Shop]:
    with (
        running_shopify(fake) as running,
        httpx2.Client(headers={"X-Shopify-Access-Token": running.token}, timeout=30) as client,
    ):
        yield Shop(running, client)


def decode_cursor(cursor: str) -> dict[str, Any]:
    payload = json.loads(base64.b64decode(cursor))
    assert isinstance(payload, dict)
    return payload


def walk(
    shop: Shop, field: str, selection: str, *, args: str = "", page_size: int = 50
) -> list[dict[str, Any]]:
    """Every node of a top-level connection, page by page with ``endCursor``."""
    query = (
        f"query Walk($first: Int!, $after: String) {{ {field}(first: $first, after: $after"
        f"{', ' + args if args else ''}) {{ pageInfo {{ hasNextPage endCursor }} "
        f"nodes {{ {selection} }} }} }}"
    )
    nodes: list[dict[str, Any]] = []
    after = None
    while True:
        page = shop.data(query, {"first": page_size, "after": after})[field]
        nodes.extend(page["nodes"])
        if not page["pageInfo"]["hasNextPage"]:
            return nodes
        after = page["pageInfo"]["endCursor"]
