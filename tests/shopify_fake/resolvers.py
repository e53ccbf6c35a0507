"""Records → GraphQL values, and the root fields.

graphql-core's default resolver reads dict keys and calls callables with ``(info, **args)``,
so each record becomes a dict of already-serialised scalars plus callables for fields that
take arguments or reach other records. Everything runs under the fake's lock.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from graphql import GraphQLError, GraphQLResolveInfo

from tests.shopify_fake.fake import ShopifyFake
from tests.shopify_fake.model import (
    Address,
    BulkOperation,
    Customer,
    LineItem,
    Location,
    Order,
    Refund,
    decimal_string,
    gid,
    iso,
    parse_gid,
)
from tests.shopify_fake.pagination import (
    PaginationError,
    SortSpec,
    check_page_size,
    decimal_sort,
    id_sort,
    int_sort,
    paginate,
    text_sort,
    time_sort,
)
from tests.shopify_fake.search import (
    FieldCompiler,
    SearchContext,
    bool_field,
    choice_field,
    compile_search,
    number_field,
    parse_search,
    text_field,
    time_field,
)

View = dict[str, Any]

ACCESS_SCOPE_DESCRIPTIONS = {
    "read_orders": "Read orders, transactions, and fulfillments",
    "read_all_orders": "Read all orders, not only the last 60 days",
    "read_customers": "Read customer details and customer groups",
    "write_customers": "Modify customer details and customer groups",
    "read_locations": "Read locations",
}


class InternalServerError(Exception):
    """Raised by a resolver: the whole response becomes a top-level INTERNAL_SERVER_ERROR."""


@dataclass
class ExecContext:
    fake: ShopifyFake
    base_url: str
    bulk: bool = False
    """Bulk execution: connections return every match, ``first``/``after`` are ignored."""


def _ctx(info: GraphQLResolveInfo) -> ExecContext:
    context = info.context
    assert isinstance(context, ExecContext)
    return context


# ------------------------------------------------------------------ scalars & small objects


def money_v2(amount: Decimal, currency: str) -> View:
    return {"amount": decimal_string(amount), "currencyCode": currency}


def money_bag(amount: Decimal, currency: str) -> View:
    return {"shopMoney": money_v2(amount, currency), "presentmentMoney": money_v2(amount, currency)}


def mailing_address(address: Address, owner: str, number: int) -> View:
    return {
        "__typename": "MailingAddress",
        "id": f"{gid('MailingAddress', number)}?model_name={owner}",
        "address1": address.address1,
        "address2": address.address2,
        "city": address.city,
        "company": address.company,
        "country": address.country,
        "countryCodeV2": address.country_code,
        "firstName": None,
        "lastName": None,
        "name": None,
        "phone": address.phone,
        "province": address.province,
        "provinceCode": address.province_code,
        "zip": address.zip,
        "latitude": address.latitude,
        "longitude": address.longitude,
    }


def location_view(location: Location) -> View:
    address = location.address
    return {
        "__typename": "Location",
        "id": gid("Location", location.id),
        "legacyResourceId": str(location.id),
        "name": location.name,
        "isActive": location.is_active,
        "activatable": not location.is_active,
        "deactivatable": location.is_active,
        "deactivatedAt": iso(location.deactivated_at),
        "fulfillsOnlineOrders": location.fulfills_online_orders,
        "hasActiveInventory": location.is_active,
        "shipsInventory": location.fulfills_online_orders,
        "isFulfillmentService": location.legacy,
        "createdAt": iso(location.created_at),
        "updatedAt": iso(location.updated_at),
        "address": {
            "address1": address.address1,
            "address2": address.address2,
            "city": address.city,
            "country": address.country,
            "countryCode": address.country_code,
            "formatted": address.formatted(),
            "latitude": address.latitude,
            "longitude": address.longitude,
            "phone": address.phone,
            "province": address.province,
            "provinceCode": address.province_code,
            "zip": address.zip,
        },
    }


def customer_view(customer: Customer, currency: str) -> View:
    email = None
    if customer.email or customer.email_state == "REDACTED":  # erased: the state stays
        email = {
            "emailAddress": customer.email,
            "marketingState": customer.email_state,
            "marketingOptInLevel": customer.email_opt_in_level,
            "marketingUpdatedAt": iso(customer.email_updated_at),
            "marketingUnsubscribeUrl": (
                f"https://example.com/unsubscribe?c={customer.id}&d=sticky-test"
            ),
            "validFormat": customer.email_state != "INVALID",
        }
    phone = None
    if customer.phone:  # phoneNumber is non-null: an erased phone is no phone object
        phone = {
            "phoneNumber": customer.phone,
            "marketingState": customer.sms_state,
            "marketingOptInLevel": customer.sms_opt_in_level,
            "marketingUpdatedAt": iso(customer.sms_updated_at),
            "marketingCollectedFrom": customer.sms_collected_from,
        }
    return {
        "__typename": "Customer",
        "id": gid("Customer", customer.id),
        "legacyResourceId": str(customer.id),
        "firstName": customer.first_name,
        "lastName": customer.last_name,
        "displayName": customer.display_name,
        "createdAt": iso(customer.created_at),
        "updatedAt": iso(customer.updated_at),
        "state": customer.state,
        "tags": list(customer.tags),
        "note": customer.note,
        "locale": customer.locale,
        "taxExempt": customer.tax_exempt,
        "verifiedEmail": customer.verified_email,
        "numberOfOrders": str(customer.number_of_orders),
        "amountSpent": money_v2(customer.amount_spent, currency),
        "defaultAddress": (
            mailing_address(customer.address, "CustomerAddress", customer.id)
            if customer.address
            else None
        ),
        "defaultEmailAddress": email,
        "defaultPhoneNumber": phone,
        "email": customer.email,
        "phone": customer.phone,
    }


def refund_view(refund: Refund, currency: str) -> View:
    return {
        "__typename": "Refund",
        "id": gid("Refund", refund.id),
        "legacyResourceId": str(refund.id),
        "createdAt": iso(refund.created_at),
        "updatedAt": iso(refund.updated_at),
        "note": refund.note,
        "totalRefundedSet": money_bag(refund.amount, currency),
    }


def line_item_view(item: LineItem, currency: str) -> View:
    return {
        "__typename": "LineItem",
        "id": gid("LineItem", item.id),
        "sku": item.sku,
        "name": item.name,
        "title": item.name.split(" - ")[0],
        "quantity": item.quantity,
        "currentQuantity": item.current_quantity,
        "originalUnitPriceSet": money_bag(item.unit_price, currency),
        "discountedTotalSet": money_bag(item.unit_price * item.quantity, currency),
    }


def order_view(order: Order, fake: ShopifyFake) -> View:
    currency = order.currency

    def customer(_info: GraphQLResolveInfo) -> View | None:
        record = fake.store.customers.get(order.customer_id) if order.customer_id else None
        return customer_view(record, fake.shop.currency_code) if record else None

    def retail_location(_info: GraphQLResolveInfo) -> View | None:
        record = (
            fake.store.locations.get(order.retail_location_id) if order.retail_location_id else None
        )
        return location_view(record) if record else None

    def refunds(info: GraphQLResolveInfo, first: int | None = None) -> list[View]:
        ordered = sorted(order.refunds, key=lambda r: (r.created_at, r.id))
        if first is not None and not _ctx(info).bulk:
            ordered = ordered[: max(0, first)]
        return [refund_view(r, currency) for r in ordered]

    def line_items(info: GraphQLResolveInfo, **args: Any) -> View:
        return connection(
            info,
            "lineItems",
            order.line_items,
            id_sort(),
            args,
            context=("lineItems", order.id),
            view=lambda item: line_item_view(item, currency),
        )

    return {
        "__typename": "Order",
        "id": gid("Order", order.id),
        "legacyResourceId": str(order.id),
        "name": order.name,
        "number": order.number,
        "confirmationNumber": order.confirmation_number,
        "createdAt": iso(order.created_at),
        "updatedAt": iso(order.updated_at),
        "processedAt": iso(order.processed_at),
        "cancelledAt": iso(order.cancelled_at),
        "cancelReason": order.cancel_reason,
        "closed": order.closed_at is not None,
        "closedAt": iso(order.closed_at),
        "test": order.test,
        "note": order.note,
        "tags": list(order.tags),
        "sourceName": order.source_name,
        "sourceIdentifier": order.source_identifier,
        "retailLocation": retail_location,
        "currencyCode": currency,
        "presentmentCurrencyCode": currency,
        "displayFinancialStatus": order.financial_status,
        "displayFulfillmentStatus": order.fulfillment_status,
        "totalPriceSet": money_bag(order.total, currency),
        "subtotalPriceSet": money_bag(order.subtotal, currency),
        "currentTotalPriceSet": money_bag(order.current_total, currency),
        "currentSubtotalPriceSet": money_bag(order.current_subtotal, currency),
        "totalRefundedSet": money_bag(order.total_refunded, currency),
        "email": order.email,
        "phone": order.phone,
        "customer": customer,
        "refunds": refunds,
        "lineItems": line_items,
    }


def bulk_view(op: BulkOperation, base_url: str, fake: ShopifyFake) -> View:
    from tests.shopify_fake.bulk import result_url  # noqa: PLC0415 - cycle

    return {
        "__typename": "BulkOperation",
        "id": op.gid,
        "status": op.status,
        "errorCode": op.error_code,
        "createdAt": iso(op.created_at),
        "completedAt": iso(op.completed_at),
        "objectCount": str(op.object_count),
        "rootObjectCount": str(op.root_object_count),
        "fileSize": str(len(op.jsonl)) if op.jsonl else None,
        "url": result_url(fake, base_url, op, partial=False) if op.jsonl else None,
        "partialDataUrl": (
            result_url(fake, base_url, op, partial=True) if op.partial_jsonl else None
        ),
        "query": op.query,
        "type": "QUERY",
    }


# ------------------------------------------------------------------ connections


def connection(
    info: GraphQLResolveInfo,
    name: str,
    records: Sequence[Any],
    spec: SortSpec,
    args: dict[str, Any],
    *,
    context: Hashable,
    view: Callable[[Any], View],
) -> View:
    ctx = _ctx(info)
    first, last = args.get("first"), args.get("last")
    if ctx.bulk:
        first = last = None
        after = before = None
    else:
        after, before = args.get("after"), args.get("before")
        try:
            check_page_size(name, first, last)
        except PaginationError as exc:
            raise GraphQLError(str(exc)) from exc
    try:
        page = paginate(
            records,
            spec,
            reverse=bool(args.get("reverse")),
            first=first,
            after=after,
            last=last,
            before=before,
            registry=None if ctx.bulk else ctx.fake.cursors,
            context=context,
        )
    except PaginationError as exc:
        raise GraphQLError(str(exc)) from exc
    nodes = [view(record) for record in page.items]
    return {
        "edges": [
            {"cursor": cursor, "node": node}
            for cursor, node in zip(page.cursors, nodes, strict=True)
        ],
        "nodes": nodes,
        "pageInfo": {
            "hasNextPage": page.has_next_page,
            "hasPreviousPage": page.has_previous_page,
            "startCursor": page.cursors[0] if page.cursors else None,
            "endCursor": page.cursors[-1] if page.cursors else None,
        },
    }


def access_denied(field: str, scope: str) -> GraphQLError:
    required = f"`{scope}` access scope."
    return GraphQLError(
        f"Access denied for {field} field. Required access: {required}",
        extensions={
            "code": "ACCESS_DENIED",
            "documentation": "https://shopify.dev/api/usage/access-scopes",
            "requiredAccess": required,
        },
    )


def _require(fake: ShopifyFake, field: str, scope: str) -> None:
    if not fake.has_scope(scope):
        raise access_denied(field, scope)


def _search(fake: ShopifyFake, query: str | None, fields: dict[str, FieldCompiler]) -> Any:
    from tests.shopify_fake.search import EmptySearchValue  # noqa: PLC0415

    try:
        expr = parse_search(query)
    except EmptySearchValue as exc:
        raise InternalServerError(str(exc)) from exc
    return compile_search(expr, fields, SearchContext(fake.timezone(), fake.now))


def _order_status(name: str) -> Callable[[Order], bool] | None:
    if name == "open":
        return lambda o: o.closed_at is None and o.cancelled_at is None
    if name == "closed":
        return lambda o: o.closed_at is not None
    if name == "cancelled":
        return lambda o: o.cancelled_at is not None
    return None


ORDER_FILTERS: dict[str, FieldCompiler] = {
    "updated_at": time_field(lambda o: o.updated_at),
    "created_at": time_field(lambda o: o.created_at),
    "processed_at": time_field(lambda o: o.processed_at),
    "test": bool_field(lambda o: o.test),
    "source_name": text_field(lambda o: o.source_name),
    "email": text_field(lambda o: o.email),
    "financial_status": text_field(lambda o: o.financial_status.lower()),
    "tag": text_field(lambda o: o.tags),
    "id": number_field(lambda o: o.id),
    "customer_id": number_field(lambda o: o.customer_id),
    "location_id": number_field(lambda o: o.retail_location_id),
    "status": choice_field(
        {
            "open": _order_status("open"),
            "closed": _order_status("closed"),
            "cancelled": _order_status("cancelled"),
            "any": None,
        }
    ),
}

CUSTOMER_FILTERS: dict[str, FieldCompiler] = {
    "updated_at": time_field(lambda c: c.updated_at, whole_day=True),
    "customer_date": time_field(lambda c: c.created_at),
    "email": text_field(lambda c: c.email),
    "phone": text_field(lambda c: c.phone),
    "first_name": text_field(lambda c: c.first_name),
    "last_name": text_field(lambda c: c.last_name),
    "state": text_field(lambda c: c.state.lower()),
    "tag": text_field(lambda c: c.tags),
    "id": number_field(lambda c: c.id),
}

LOCATION_FILTERS: dict[str, FieldCompiler] = {
    "name": text_field(lambda loc: loc.name),
    "active": bool_field(lambda loc: loc.is_active),
    "legacy": bool_field(lambda loc: loc.legacy),
    "location_id": number_field(lambda loc: loc.id),
}


def _customer_name(order: Order, fake: ShopifyFake) -> str:
    customer = fake.store.customers.get(order.customer_id) if order.customer_id else None
    return customer.display_name if customer else ""


def order_sort(key: str, fake: ShopifyFake) -> SortSpec:
    if key == "CREATED_AT":
        return time_sort(lambda o: o.created_at)
    if key == "UPDATED_AT":
        return time_sort(lambda o: o.updated_at)
    if key == "PROCESSED_AT":
        return time_sort(lambda o: o.processed_at)
    if key == "ORDER_NUMBER":
        return int_sort(lambda o: o.number)
    if key == "TOTAL_PRICE":
        return decimal_sort(lambda o: o.total)
    if key == "CURRENT_TOTAL_PRICE":
        return decimal_sort(lambda o: o.current_total)
    if key == "TOTAL_ITEMS_QUANTITY":
        return int_sort(lambda o: o.items_quantity)
    if key == "FINANCIAL_STATUS":
        return text_sort(lambda o: o.financial_status)
    if key == "FULFILLMENT_STATUS":
        return text_sort(lambda o: o.fulfillment_status)
    if key == "CUSTOMER_NAME":
        return text_sort(lambda o: _customer_name(o, fake))
    return id_sort()  # ID, and DESTINATION / PO_NUMBER / RELEVANCE (not modelled)


def customer_sort(key: str) -> SortSpec:
    if key == "CREATED_AT":
        return time_sort(lambda c: c.created_at)
    if key == "UPDATED_AT":
        return time_sort(lambda c: c.updated_at)
    if key == "NAME":
        return text_sort(lambda c: c.display_name)
    return id_sort()  # ID, and LOCATION / RELEVANCE (not modelled)


def location_sort(key: str) -> SortSpec:
    if key == "NAME":
        return text_sort(lambda loc: loc.name)
    return id_sort()


# ------------------------------------------------------------------ root


def node_view(ctx: ExecContext, global_id: str) -> View | None:
    parsed = parse_gid(global_id)
    if parsed is None:
        raise GraphQLError(
            f"Invalid global id '{global_id}'", extensions={"code": "argumentLiteralsIncompatible"}
        )
    kind, number = parsed
    fake, store = ctx.fake, ctx.fake.store
    currency = fake.shop.currency_code
    if kind == "Order" and "read_orders" in fake.scopes:
        order = store.orders.get(number)
        return order_view(order, fake) if order and fake.order_visible(order) else None
    if kind == "Customer" and "read_customers" in fake.scopes:
        customer = store.customers.get(number)
        return customer_view(customer, currency) if customer else None
    if kind == "Location":
        location = store.locations.get(number)
        return location_view(location) if location else None
    if kind == "Refund":
        refund = store.refunds.get(number)
        return refund_view(refund, currency) if refund else None
    if kind == "LineItem":
        found = store.line_items.get(number)
        return line_item_view(found[0], currency) if found else None
    if kind == "BulkOperation":
        from tests.shopify_fake.bulk import poll  # noqa: PLC0415 - cycle

        op = poll(fake, number)
        return bulk_view(op, ctx.base_url, fake) if op else None
    return None


def shop_view(fake: ShopifyFake) -> View:
    s = fake.shop
    return {
        "__typename": "Shop",
        "id": gid("Shop", s.id),
        "name": s.name,
        "email": s.email,
        "contactEmail": s.contact_email,
        "myshopifyDomain": s.myshopify_domain,
        "primaryDomain": {
            "id": gid("Domain", s.id + 1),
            "host": s.primary_domain,
            "url": f"https://{s.primary_domain}",
        },
        "ianaTimezone": s.iana_timezone,
        "timezoneAbbreviation": s.timezone_abbreviation,
        "currencyCode": s.currency_code,
        "enabledPresentmentCurrencies": [s.currency_code],
        "billingAddress": mailing_address(s.billing_address, "ShopAddress", s.id),
        "plan": {
            "displayName": s.plan_display_name,
            "partnerDevelopment": s.partner_development,
            "shopifyPlus": s.shopify_plus,
        },
        "taxesIncluded": s.taxes_included,
        "createdAt": iso(s.created_at),
        "updatedAt": iso(s.updated_at),
    }


class _Root:
    """Resolvers of the ``QueryRoot`` and ``Mutation`` fields for one request."""

    def __init__(self, ctx: ExecContext) -> None:
        self.ctx = ctx
        self.fake = ctx.fake

    def shop(self, _info: GraphQLResolveInfo) -> View:
        return shop_view(self.fake)

    def current_app_installation(self, _info: GraphQLResolveInfo) -> View:
        return {
            "__typename": "AppInstallation",
            "id": gid("AppInstallation", 51_234_567_890),
            "accessScopes": [
                {"handle": h, "description": ACCESS_SCOPE_DESCRIPTIONS.get(h, h)}
                for h in self.fake.scopes
            ],
        }

    def locations(self, info: GraphQLResolveInfo, **args: Any) -> View:
        fake = self.fake
        _require(fake, "locations", "read_locations")
        predicate = _search(fake, args.get("query"), LOCATION_FILTERS)
        inactive, legacy = bool(args.get("includeInactive")), bool(args.get("includeLegacy"))
        records = [
            loc
            for loc in fake.store.locations.values()
            if (loc.is_active or inactive)
            and (not loc.legacy or legacy)
            and (predicate is None or predicate(loc))
        ]
        sort_key = args.get("sortKey") or "NAME"
        return connection(
            info,
            "locations",
            records,
            location_sort(sort_key),
            args,
            context=("locations", args.get("query") or "", sort_key, inactive, legacy),
            view=location_view,
        )

    def customers(self, info: GraphQLResolveInfo, **args: Any) -> View:
        fake = self.fake
        _require(fake, "customers", "read_customers")
        if not fake.protected_customer_data:
            raise GraphQLError(
                "This app is not approved to access the Customer object. See "
                "https://shopify.dev/docs/apps/launch/protected-customer-data for more "
                "details.", extensions={"code": "ACCESS_DENIED"})
        predicate = _search(fake, args.get("query"), CUSTOMER_FILTERS)
        records = [c for c in fake.store.customers.values() if predicate is None or predicate(c)]
        sort_key = args.get("sortKey") or "ID"
        currency = fake.shop.currency_code
        return connection(
            info,
            "customers",
            records,
            customer_sort(sort_key),
            args,
            context=("customers", args.get("query") or "", sort_key),
            view=lambda c: customer_view(c, currency),
        )

    def orders(self, info: GraphQLResolveInfo, **args: Any) -> View:
        fake = self.fake
        _require(fake, "orders", "read_orders")
        predicate = _search(fake, args.get("query"), ORDER_FILTERS)
        records = [
            o
            for o in fake.store.orders.values()
            if fake.order_visible(o) and (predicate is None or predicate(o))
        ]
        sort_key = args.get("sortKey") or "PROCESSED_AT"
        return connection(
            info,
            "orders",
            records,
            order_sort(sort_key, fake),
            args,
            context=("orders", args.get("query") or "", sort_key),
            view=lambda o: order_view(o, fake),
        )

    def single(self, kind: str, scope: str) -> Callable[..., View | None]:
        """``order(id:)``, ``customer(id:)``...: null for an unknown id or another type."""

        def resolve(_info: GraphQLResolveInfo, id: str | None = None) -> View | None:
            _require(self.fake, kind[0].lower() + kind[1:], scope)
            parsed = parse_gid(id or "")
            if parsed is None or parsed[0] != kind:
                return None
            return node_view(self.ctx, id or "")

        return resolve

    def bulk_operation(self, _info: GraphQLResolveInfo, id: str) -> View | None:
        parsed = parse_gid(id)
        if parsed is None or parsed[0] != "BulkOperation":
            return None
        return node_view(self.ctx, id)

    def current_bulk_operation(self, _info: GraphQLResolveInfo, type: str = "QUERY") -> View | None:
        ops = self.fake.bulk_operations
        return node_view(self.ctx, ops[-1].gid) if ops else None

    def node(self, _info: GraphQLResolveInfo, id: str) -> View | None:
        return node_view(self.ctx, id)

    def nodes(self, _info: GraphQLResolveInfo, ids: list[str]) -> list[View | None]:
        return [node_view(self.ctx, one) for one in ids]

    def bulk_run(self, _info: GraphQLResolveInfo, query: str, groupObjects: bool = False) -> View:
        from tests.shopify_fake.bulk import start  # noqa: PLC0415 - cycle

        return start(self.fake, self.ctx.base_url, query, group_objects=groupObjects)

    def bulk_cancel(self, _info: GraphQLResolveInfo, id: str) -> View:
        from tests.shopify_fake.bulk import cancel  # noqa: PLC0415 - cycle

        return cancel(self.fake, self.ctx.base_url, id)

    def tags_add(self, _info: GraphQLResolveInfo, id: str, tags: list[str]) -> View:
        from tests.shopify_fake.tags import change_tags  # noqa: PLC0415 - cycle

        return change_tags(self.fake, "add", id, tags)

    def tags_remove(self, _info: GraphQLResolveInfo, id: str, tags: list[str]) -> View:
        from tests.shopify_fake.tags import change_tags  # noqa: PLC0415 - cycle

        return change_tags(self.fake, "remove", id, tags)


def root_value(ctx: ExecContext) -> View:
    """The ``QueryRoot``/``Mutation`` object of one request."""
    root = _Root(ctx)
    return {
        "shop": root.shop,
        "currentAppInstallation": root.current_app_installation,
        "locations": root.locations,
        "location": root.single("Location", "read_locations"),
        "customers": root.customers,
        "customer": root.single("Customer", "read_customers"),
        "orders": root.orders,
        "order": root.single("Order", "read_orders"),
        "refund": root.single("Refund", "read_orders"),
        "bulkOperation": root.bulk_operation,
        "currentBulkOperation": root.current_bulk_operation,
        "node": root.node,
        "nodes": root.nodes,
        "bulkOperationRunQuery": root.bulk_run,
        "bulkOperationCancel": root.bulk_cancel,
        "tagsAdd": root.tags_add,
        "tagsRemove": root.tags_remove,
    }


def type_resolver(value: Any, _info: GraphQLResolveInfo, _abstract: Any) -> str | None:
    return value.get("__typename") if isinstance(value, dict) else None
