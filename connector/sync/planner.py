"""Planning one batch: map records (pure), resolve customers and orders against the state
DB, and decide per payload whether it is new, changed, or already delivered."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from adapters.records import (
    CustomerRecord,
    LocationRecord,
    OrderRecord,
    SourceRecord,
    UnreadableRecord,
)
from connector.erasure import CUSTOMER_ERASED, ErasureMatcher, erased_person, erased_skip
from connector.errors import InvalidRecord, MissingDependency, RecordProblem, SkipRecord
from connector.mapping.context import MappingContext
from connector.mapping.customers import (
    MappedCustomer,
    customer_payload,
    map_customer,
    merge_profile,
)
from connector.mapping.keys import content_hash, idempotency_key, order_key, phone_customer_key
from connector.mapping.locations import map_location
from connector.mapping.money import dollars
from connector.mapping.orders import MappedOrder, MappedRefund, map_order, map_refund
from connector.mapping.values import clean
from connector.outcomes import PayloadOutcome
from connector.sync.decision import Verdict, decide
from connector.sync.work import (
    CUSTOMER,
    ORDER_COMPLETED,
    ORDER_REFUNDED,
    EntryId,
    Ticket,
    Work,
    WorkState,
)
from state import LedgerEntry, Profile, StagedEntry, StateStore, StoredLocation
from state.erasures import ERASED_PREFIX, ErasedPerson, Purged
from state.ledger import LedgerStatus, StageConflict

TARGET = "sticky"


@dataclass(slots=True)
class BatchPlan:
    tickets: list[Ticket] = field(default_factory=list)
    problems: list[tuple[Ticket, RecordProblem]] = field(default_factory=list)
    works: dict[EntryId, Work] = field(default_factory=dict)
    identities: dict[tuple[str, str], str] = field(default_factory=dict)
    """(customer key, workspace) → Sticky customer id, known before sending."""
    locations_recorded: int = 0
    """Store rows saved for the Sticker organization (delivered by its own step)."""
    unmapped: Counter[str] = field(default_factory=Counter)
    """Records per store id that ``[tenants.workspaces]`` does not map."""
    erased: list[Purged] = field(default_factory=list)
    """Customers the source erased in this batch, and what was purged about them."""

    def absorb(self, later: BatchPlan) -> None:
        """Append the plan of the next slice of the same batch (its works win)."""
        self.erased.extend(later.erased)
        self.locations_recorded += later.locations_recorded
        self.unmapped.update(later.unmapped)
        self.tickets.extend(later.tickets)
        self.problems.extend(later.problems)
        self.works.update(later.works)
        self.identities.update(later.identities)


class BatchPlanner:
    def __init__(self, ctx: MappingContext, store: StateStore, *,
                 retry_rejected: bool = False) -> None:
        self.ctx = ctx
        self.store = store
        self.retry_rejected = retry_rejected
        """Replaying quarantined records: send again what the target refused before."""
        self._phoneless: set[str] = set()
        """Source customer ids skipped for having no phone in this run (their rows may
        not be committed yet when a later batch's orders are planned)."""
        self._any_erased = False
        """The tenant has erased customers: records are checked against them."""
        self._any_erased_checked = False

    def plan(self, records: Sequence[SourceRecord], run_id: int | None) -> BatchPlan:
        plan = BatchPlan()
        records = self._erasures(records, plan)
        customers, orders, refunds, stores = self._map(records, plan)
        if self._any_erased:
            customers, orders = self._drop_erased(customers, orders, plan)
        self.store.locations.save(self.ctx.tenant, stores)
        plan.locations_recorded = len(stores)
        profiles = self._profiles(customers, orders)
        known = self.store.customers.identities(self.ctx.tenant, (m.key for _, m in customers))
        homes: dict[str, set[str]] = {}
        for key, workspace in known:
            homes.setdefault(key, set()).add(workspace)
        changed: dict[str, Profile] = {}
        self._plan_customers(customers, profiles, changed, homes, plan)
        self._plan_orders(orders, profiles, changed, plan)
        self._plan_refunds(refunds, plan, self._skipped_orders(plan))
        self.store.customers.save_profiles(self.ctx.tenant, changed.values())
        self._decide(plan, run_id)
        return plan

    # -- erasures ----------------------------------------------------------------
    def _erasures(self, records: Sequence[SourceRecord],
                  plan: BatchPlan) -> Sequence[SourceRecord]:
        """Records of customers the source erased become skips, and the connector purges
        what it held about those customers before anything else is planned; the other
        records are returned for planning."""
        people: dict[str, ErasedPerson] = {}
        rest: list[SourceRecord] = []
        for record in records:
            person = (erased_person(record, self.ctx)
                      if isinstance(record, CustomerRecord | OrderRecord) else None)
            if person is None:
                rest.append(record)
                continue
            people.setdefault(person.customer_key, person)
            ticket = Ticket(record)
            plan.tickets.append(ticket)
            plan.problems.append((ticket, erased_skip(record.origin.locator)))
        if people:
            # one erased before (its orders, a later read) has nothing left to purge
            for key in self.store.erasures.erased_keys(self.ctx.tenant, people):
                del people[key]
            self._any_erased = True
        if people:
            plan.erased = self.store.erasures.erase(
                self.ctx.tenant, self.ctx.source, list(people.values()),
                mentions=ErasureMatcher(self.store.erasures.digest,
                                        self.ctx.phone_region).document)
            self._any_erased = True
        elif not self._any_erased_checked:
            self._any_erased = self.store.erasures.any(self.ctx.tenant)
        self._any_erased_checked = True
        return rest

    def _drop_erased(self, customers: list[tuple[Ticket, MappedCustomer]],
                     orders: list[tuple[Ticket, MappedOrder]], plan: BatchPlan) -> tuple[
            list[tuple[Ticket, MappedCustomer]], list[tuple[Ticket, MappedOrder]]]:
        """A record of a customer erased earlier (a later re-read: a backfill, a file
        read again) is skipped: the salted digest of its key is on record. So is one
        carrying an erased customer's phone under another key (the same person read from
        another source): Sticky keys customers by phone, so it would bring them back
        (`sticky-sync erasures release` lets a person who signed up anew back in)."""
        erasures = self.store.erasures
        tenant = self.ctx.tenant
        keys = erasures.erased_keys(tenant, {m.key for _, m in customers} | {
            m.customer_key for _, m in orders if m.customer_key})
        phones = erasures.erased_phones(tenant, {m.profile.phone for _, m in customers} | {
            m.phone for _, m in orders if m.phone})
        if not keys and not phones:
            return customers, orders
        kept_customers, kept_orders = [], []
        for ticket, mapped in customers:
            if mapped.key in keys or mapped.profile.phone in phones:
                plan.problems.append((ticket, erased_skip(ticket.record.origin.locator)))
            else:
                kept_customers.append((ticket, mapped))
        for ticket, order in orders:
            if order.customer_key in keys or order.phone in phones:
                plan.problems.append((ticket, erased_skip(ticket.record.origin.locator)))
            else:
                kept_orders.append((ticket, order))
        return kept_customers, kept_orders

    # -- mapping ------------------------------------------------------------------
    def _map(self, records: Sequence[SourceRecord], plan: BatchPlan) -> tuple[
            list[tuple[Ticket, MappedCustomer]], list[tuple[Ticket, MappedOrder]],
            list[tuple[Ticket, MappedRefund]], list[StoredLocation]]:
        customers: list[tuple[Ticket, MappedCustomer]] = []
        orders: list[tuple[Ticket, MappedOrder]] = []
        refunds: list[tuple[Ticket, MappedRefund]] = []
        stores: dict[str, StoredLocation] = {}  # a later row of the batch wins
        for record in records:
            ticket = Ticket(record)
            plan.tickets.append(ticket)
            if isinstance(record, CustomerRecord | OrderRecord):
                store = clean(record.store_id)
                if self.ctx.is_unmapped(store):
                    plan.unmapped[str(store)] += 1
            try:
                if isinstance(record, UnreadableRecord):
                    raise InvalidRecord(record.reason, record.message)
                if isinstance(record, CustomerRecord):
                    customers.append((ticket, map_customer(record, self.ctx)))
                elif isinstance(record, OrderRecord):
                    orders.append((ticket, map_order(record, self.ctx)))
                elif isinstance(record, LocationRecord):
                    location = map_location(record, self.ctx)
                    ticket.warnings.extend(location.warnings)
                    stores[location.key] = StoredLocation(
                        location.key, self.ctx.source, record.origin.locator,
                        location.payload, content_hash(location.payload))
                else:
                    refunds.append((ticket, map_refund(record, self.ctx)))
            except RecordProblem as problem:
                plan.problems.append((ticket, problem))
                if (isinstance(record, CustomerRecord) and problem.reason == "no_phone"
                        and record.customer_id):
                    self._phoneless.add(record.customer_id.strip())
        return customers, orders, refunds, list(stores.values())

    def _profiles(self, customers: list[tuple[Ticket, MappedCustomer]],
                  orders: list[tuple[Ticket, MappedOrder]]) -> dict[str, Profile]:
        keys = {m.key for _, m in customers}
        keys |= {m.customer_key for _, m in orders if m.customer_key}
        return self.store.customers.profiles(self.ctx.tenant, keys)

    # -- customers ----------------------------------------------------------------
    def _plan_customers(self, customers: list[tuple[Ticket, MappedCustomer]],
                        profiles: dict[str, Profile], changed: dict[str, Profile],
                        homes: dict[str, set[str]], plan: BatchPlan) -> None:
        for ticket, mapped in customers:
            ticket.warnings.extend(mapped.warnings)
            try:
                profile, warnings = merge_profile(profiles.get(mapped.key), mapped)
            except RecordProblem as problem:
                plan.problems.append((ticket, problem))
                continue
            ticket.warnings.extend(warnings)
            profiles[mapped.key] = changed[mapped.key] = profile
            # An update goes to every workspace the customer already lives in; a row
            # that names no store (an org-wide list) adds no workspace to those.
            lives_in = homes.get(mapped.key, set())
            targets = lives_in if lives_in and mapped.profile.store_id is None else {
                mapped.workspace, *lives_in}
            for workspace in sorted(targets):
                ticket.needs.append(self._customer_work(plan, profile, workspace,
                                                        from_row=True))

    def _customer_work(self, plan: BatchPlan, profile: Profile, workspace: str,
                       from_row: bool = False) -> EntryId:
        payload = customer_payload(profile)
        staged = self._staged(workspace, CUSTOMER, profile.customer_key, payload,
                              subject=profile.customer_key)
        earlier = plan.works.get(staged.entry_id)
        # A later row of the batch wins.
        plan.works[staged.entry_id] = Work(
            staged, from_customer_row=from_row or (earlier is not None
                                                   and earlier.from_customer_row))
        return staged.entry_id

    # -- orders -------------------------------------------------------------------
    def _plan_orders(self, orders: list[tuple[Ticket, MappedOrder]],
                     profiles: dict[str, Profile], changed: dict[str, Profile],
                     plan: BatchPlan) -> None:
        # An order already in the ledger stays in the workspace it went to first (its
        # store mapped since, or moved): events are looked up per workspace, and a second
        # workspace would get it again.
        homes = self.store.ledger.homes(self.ctx.tenant, TARGET, ORDER_COMPLETED,
                                        [order.key for _, order in orders])
        for ticket, order in orders:
            ticket.warnings.extend(order.warnings)
            try:
                key = self._order_customer(order, profiles, changed)
            except RecordProblem as problem:
                plan.problems.append((ticket, problem))
                continue
            workspace = homes.get(order.key, order.workspace)
            ticket.needs.append(self._customer_work(plan, profiles[key], workspace))
            staged = self._staged(workspace, ORDER_COMPLETED, order.key,
                                  order.event_body(), subject=key,
                                  amount_cents=order.amount_cents)
            plan.works[staged.entry_id] = Work(staged)
            ticket.needs.append(staged.entry_id)

    def _order_customer(self, order: MappedOrder, profiles: dict[str, Profile],
                        changed: dict[str, Profile]) -> str:
        key = order.customer_key
        if key is None:
            assert order.phone is not None
            key = (self.store.customers.key_for_phone(self.ctx.tenant, order.phone)
                   or phone_customer_key(order.phone))
            if key not in profiles:
                profiles.update(self.store.customers.profiles(self.ctx.tenant, [key]))
        if key in profiles:
            return key
        if order.phone is None and self._has_no_phone(order.source_customer):
            raise SkipRecord(
                "no_phone", f"order {order.key}: its customer {key} has no phone (a "
                "customer Sticky cannot key)", field="customer_id")
        if order.phone is None:
            raise MissingDependency(
                "unknown_customer",
                f"order {order.key}: customer {key} has not been synced (no customers row "
                "yet) and the order carries no phone", field="customer_id")
        profiles[key] = changed[key] = Profile(customer_key=key, phone=order.phone)
        return key

    def _has_no_phone(self, source_customer: str | None) -> bool:
        if source_customer is None:
            return False
        return source_customer in self._phoneless or bool(self.store.issues.skipped_keys(
            self.ctx.tenant, self.ctx.source, "no_phone", [source_customer]))

    # -- refunds ------------------------------------------------------------------
    def _skipped_orders(self, plan: BatchPlan) -> dict[str, SkipRecord]:
        """Orders of this batch skipped by rule (guest sale, test, cancelled...)."""
        skipped: dict[str, SkipRecord] = {}
        for ticket, problem in plan.problems:
            record = ticket.record
            if isinstance(problem, SkipRecord) and isinstance(record, OrderRecord):
                order_id = clean(record.order_id)
                if order_id is not None:
                    skipped[order_key(self.ctx.source, order_id)] = problem
        return skipped

    def _plan_refunds(self, refunds: list[tuple[Ticket, MappedRefund]],
                      plan: BatchPlan, skipped_orders: dict[str, SkipRecord]) -> None:
        running: dict[str, int] = {}
        # Refunds of this plan may sit in the ledger already (pending from a killed run):
        # the ledger base leaves them all out, and ``running`` adds them one by one.
        in_plan: dict[str, set[str]] = {}
        for _, refund in refunds:
            in_plan.setdefault(refund.order_key, set()).add(refund.key)
        batch_orders = {w.staged.key: w.staged for w in plan.works.values()
                        if w.kind == ORDER_COMPLETED}
        for ticket, refund in refunds:
            try:
                order = batch_orders.get(refund.order_key) or self._delivered_order(
                    refund, skipped_orders.get(refund.order_key))
                already = running.get(refund.order_key)
                if already is None:
                    already = self.store.ledger.total_by_parent(
                        self.ctx.tenant, TARGET, ORDER_REFUNDED, refund.order_key,
                        exclude_keys=in_plan[refund.order_key])
                amount = (self._remainder(refund, order, already) if refund.remainder
                          else self._up_to(refund, already) if refund.cumulative
                          else refund.amount_cents)
                if order.amount_cents is not None and (
                        already + amount > order.amount_cents):
                    raise InvalidRecord(
                        "refund_exceeds_order",
                        f"refund {refund.key}: {dollars(amount)} would bring "
                        f"refunds of order {refund.order_key} to "
                        f"{dollars(already + amount)}, more than its total of "
                        f"{dollars(order.amount_cents)}", field="amount")
            except RecordProblem as problem:
                plan.problems.append((ticket, problem))
                continue
            running[refund.order_key] = already + amount
            staged = self._staged(order.workspace, ORDER_REFUNDED, refund.key,
                                  refund.event_body(amount), subject=order.subject,
                                  parent_key=refund.order_key, amount_cents=amount)
            plan.works[staged.entry_id] = Work(staged)
            ticket.needs.append(staged.entry_id)

    @staticmethod
    def _up_to(refund: MappedRefund, already: int) -> int:
        """A refunded total reported on the sale: send what it adds to what was sent."""
        more = refund.amount_cents - already
        if more <= 0:
            raise SkipRecord("already_refunded",
                             f"refund {refund.key}: refunds of order {refund.order_key} "
                             "already reach this total", field="amount")
        return more

    def _remainder(self, refund: MappedRefund, order: StagedEntry | LedgerEntry,
                   already: int) -> int:
        """A cancelled order: refund what was delivered and is not refunded yet."""
        left = (order.amount_cents or 0) - already
        if left <= 0:
            raise SkipRecord("nothing_left_to_refund",
                             f"cancellation of order {refund.order_key}: it is already "
                             "fully refunded", field="order_id")
        return left

    def _delivered_order(self, refund: MappedRefund,
                         skipped: SkipRecord | None = None) -> LedgerEntry:
        """The order's ledger entry. A refund of an order that was never delivered is
        skipped when the order itself was skipped in this batch (a guest sale, a test,
        a cancellation: it will never be sent), else it waits in quarantine."""
        entry = self.store.ledger.find(self.ctx.tenant, TARGET, ORDER_COMPLETED,
                                       refund.order_key)
        if (skipped is not None and skipped.reason == CUSTOMER_ERASED) or (
                entry is not None and (entry.subject or "").startswith(ERASED_PREFIX)):
            raise SkipRecord(CUSTOMER_ERASED, f"refund {refund.key}: the customer of order "
                             f"{refund.order_key} was erased at the source",
                             field="order_id")
        if skipped is not None and not refund.remainder and (
                entry is None or entry.status == LedgerStatus.REJECTED):
            raise SkipRecord("order_not_sent", f"refund {refund.key}: order "
                             f"{refund.order_key} was not sent ({skipped.reason})",
                             field="order_id")
        if refund.remainder and (entry is None or entry.status == LedgerStatus.REJECTED):
            raise SkipRecord("cancelled_before_sent",
                             f"order {refund.order_key} was cancelled before it was sent: "
                             "nothing to take back", field="order_id")
        if (entry is not None and entry.status == LedgerStatus.PENDING
                and entry.last_error is not None):
            raise MissingDependency(
                "unknown_order", f"refund {refund.key}: order {refund.order_key} has not "
                "been delivered yet (its last attempt failed); the refund waits for it",
                field="order_id")
        if entry is None or entry.status == LedgerStatus.REJECTED:
            raise MissingDependency(
                "unknown_order",
                f"refund {refund.key}: order {refund.order_key} has not been delivered "
                "(no orders row synced yet, or it was rejected)", field="order_id")
        return entry

    # -- ledger decisions -----------------------------------------------------------
    def _decide(self, plan: BatchPlan, run_id: int | None, *, again: bool = False) -> None:
        """Gather what the ledger holds, let :func:`decide` judge each payload, and stage
        what is to be sent in one transaction."""
        existing = self.store.ledger.states(self.ctx.tenant, TARGET, plan.works)
        subjects = {w.staged.subject for w in plan.works.values() if w.staged.subject}
        plan.identities = self.store.customers.identities(self.ctx.tenant, subjects)
        to_stage: list[StagedEntry] = []
        now = datetime.now(UTC)
        for entry_id, work in plan.works.items():
            old = existing.get(entry_id)
            decision = decide(old, work.staged, tenant=self.ctx.tenant,
                              retry_rejected=self.retry_rejected, now=now)
            if work.kind == CUSTOMER:
                work.had_identity = (work.staged.key, work.workspace) in plan.identities
                work.first_staged_at = decision.first_staged_at
            if decision.verdict is Verdict.STAGE:
                if decision.changed:
                    work.previous = PayloadOutcome.CHANGED
                if decision.idempotency_key != work.staged.idempotency_key:
                    work.staged = replace(work.staged,
                                          idempotency_key=decision.idempotency_key)
                to_stage.append(work.staged)
                continue
            assert old is not None
            work.ledger_id = old.id
            if decision.verdict is Verdict.RESEND_HELD:
                held = self.store.ledger.find(self.ctx.tenant, TARGET, work.kind,
                                              work.staged.key, work.workspace)
                if held is not None:
                    work.staged = replace(work.staged, payload=held.payload,
                                          payload_hash=held.payload_hash,
                                          idempotency_key=held.idempotency_key)
                    continue  # sent as held: the row stays as it is
                to_stage.append(work.staged)  # the row went meanwhile: staged anew
                continue
            if decision.verdict is Verdict.UNCHANGED:
                work.state = WorkState.UNCHANGED
            else:
                work.state = WorkState.FAILED
                work.problem = MissingDependency(
                    "rejected_earlier", f"{work.kind} {work.staged.key} in {work.workspace}"
                    f" was rejected earlier: {decision.refusal}")
        known = {s.entry_id: existing[s.entry_id].id for s in to_stage if s.entry_id in existing}
        try:
            staged = self.store.ledger.stage(self.ctx.tenant, TARGET, to_stage, run_id, known)
        except StageConflict:
            if again:
                raise
            self._decide(plan, run_id, again=True)  # the other process's rows are known now
            return
        for entry_id, ledger_id in staged.items():
            plan.works[entry_id].ledger_id = ledger_id

    def _staged(self, workspace: str, kind: str, key: str, payload: dict[str, object], *,
                subject: str | None = None, parent_key: str | None = None,
                amount_cents: int | None = None) -> StagedEntry:
        hashed = content_hash({"payload": payload, "subject": subject})
        return StagedEntry(
            workspace=workspace, kind=kind, key=key, source=self.ctx.source,
            payload_hash=hashed, payload=dict(payload),
            idempotency_key=idempotency_key(self.ctx.tenant, workspace, kind, key, hashed),
            subject=subject, parent_key=parent_key, amount_cents=amount_cents)
