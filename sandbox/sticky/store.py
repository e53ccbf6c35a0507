"""In-memory Sticky data, partitioned by workspace."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class Customer:
    workspace: str
    id: str
    phone: str
    email: str | None
    first_name: str | None
    consent: dict[str, object] | None
    metadata: dict[str, str]
    points_balance: int
    tier: str
    idempotency_key: str | None
    created_at: datetime


@dataclass
class Event:
    workspace: str
    id: str
    type: str
    customer_id: str
    amount_cents: int | None
    items: list[dict[str, object]]
    points_awarded: int
    idempotency_key: str | None
    created_at: datetime


@dataclass
class Pass:
    workspace: str
    id: str
    customer_id: str
    token: str
    google_jwt: str
    idempotency_key: str | None
    created_at: datetime
    expires_at: datetime
    installed_at: datetime | None = None  # set by the sandbox's install trigger (single use)
    platform: str | None = None  # "apple" | "google" once installed


@dataclass
class Webhook:
    workspace: str
    id: str
    url: str
    events: list[str]
    secret: str
    idempotency_key: str | None
    created_at: datetime


@dataclass
class WorkspaceData:
    customers: dict[str, Customer] = field(default_factory=dict)  # by id, creation order
    by_phone: dict[str, str] = field(default_factory=dict)  # phone -> id
    order: list[str] = field(default_factory=list)  # ids in creation order
    position: dict[str, int] = field(default_factory=dict)  # id -> index in order
    events: list[Event] = field(default_factory=list)
    passes: dict[str, Pass] = field(default_factory=dict)
    webhooks: dict[str, Webhook] = field(default_factory=dict)

    def add_customer(self, customer: Customer) -> None:
        self.customers[customer.id] = customer
        self.by_phone[customer.phone] = customer.id
        self.position[customer.id] = len(self.order)
        self.order.append(customer.id)

    def customer_by_phone(self, phone: str) -> Customer | None:
        customer_id = self.by_phone.get(phone)
        return None if customer_id is None else self.customers[customer_id]


class StickyStore:
    def __init__(self) -> None:
        self._workspaces: dict[str, WorkspaceData] = {}

    def workspace(self, name: str) -> WorkspaceData:
        data = self._workspaces.get(name)
        if data is None:
            data = self._workspaces[name] = WorkspaceData()
        return data

    def workspaces(self, name: str | None = None) -> list[WorkspaceData]:
        """All workspaces, or just ``name`` (empty list when unknown)."""
        if name is None:
            return list(self._workspaces.values())
        data = self._workspaces.get(name)
        return [] if data is None else [data]

    def find_customer(self, customer_id: str) -> Customer | None:
        """The customer with this id in any workspace."""
        for data in self._workspaces.values():
            customer = data.customers.get(customer_id)
            if customer is not None:
                return customer
        return None

    def find_pass(self, pass_id: str) -> Pass | None:
        """The pass with this id in any workspace."""
        for data in self._workspaces.values():
            found = data.passes.get(pass_id)
            if found is not None:
                return found
        return None

    def reset(self) -> None:
        self._workspaces.clear()
