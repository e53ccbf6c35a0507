"""Bulk query operations: ``bulkOperationRunQuery``, polling, cancel, the JSONL result.

Lifecycle: CREATED (mutation answer) → RUNNING (first poll) → COMPLETED (poll number
``fake.bulk_polls_until_done``, default 2) — or, with ``fake.bulk_seconds_until_done``, when
that many real seconds have passed since creation (checked at each poll). Polls are
``bulkOperation(id:)``, ``node(id:)``/``nodes(ids:)`` and ``currentBulkOperation``. At
completion the inner query runs over ALL matching data (no pagination; ``first``/``after``
ignored) and the JSONL is built:

* each node of the top-level connection is one line;
* each node of a nested *connection* (``lineItems``) is its own line with ``__parentId``
  (the gid of the node it belongs to), added last, as Shopify does;
* everything else (``customer``, money bags, ``retailLocation``, the ``refunds`` list) stays
  inline;
* ``groupObjects: false`` (the default since 2026-01): child lines are shuffled anywhere in
  the file (seeded RNG ``fake.bulk_rng``), possibly *before* their parent; top-level lines
  keep their order. ``groupObjects: true``: each child follows its parent.

The file is served at ``/bulk/<id>.jsonl?X-Goog-...&X-Goog-Signature=...`` like a signed GCS
URL: no access token needed, a wrong signature is 403.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLObjectType,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    execute_sync,
    get_named_type,
    is_abstract_type,
    is_list_type,
    is_object_type,
    parse,
)
from graphql.execution.collect_fields import collect_fields

from tests.shopify_fake.cost import is_connection_type
from tests.shopify_fake.fake import ShopifyFake
from tests.shopify_fake.model import BULK_TERMINAL, BulkOperation, parse_gid
from tests.shopify_fake.resolvers import (
    ExecContext,
    InternalServerError,
    View,
    bulk_view,
    root_value,
    type_resolver,
)

MAX_CONNECTIONS = 5
MAX_NESTING = 2


def _schema() -> Any:
    from tests.shopify_fake.engine import SCHEMA  # noqa: PLC0415 - engine imports resolvers

    return SCHEMA


def _user_error(message: str) -> View:
    return {"field": ["query"], "message": message, "code": "INVALID"}


# ------------------------------------------------------------------ validation


def _merged(nodes: list[FieldNode]) -> SelectionSetNode | None:
    selections = [s for n in nodes if n.selection_set for s in n.selection_set.selections]
    return SelectionSetNode(selections=tuple(selections)) if selections else None


def _fragments(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}


def _fields(
    document: DocumentNode, runtime: GraphQLObjectType, selection: SelectionSetNode | None
) -> dict[str, list[FieldNode]]:
    if selection is None:
        return {}
    return collect_fields(_schema(), _fragments(document), {}, runtime, selection)


def _connection_node_selections(
    document: DocumentNode, connection: GraphQLObjectType, selection: SelectionSetNode | None
) -> list[tuple[str | None, str, SelectionSetNode | None]]:
    """``(edges key or None, node key, node selection)`` for each way nodes are selected."""
    edge_type = get_named_type(connection.fields["edges"].type)
    assert isinstance(edge_type, GraphQLObjectType)
    found: list[tuple[str | None, str, SelectionSetNode | None]] = []
    for key, nodes in _fields(document, connection, selection).items():
        name = nodes[0].name.value
        if name == "nodes":
            found.append((None, key, _merged(nodes)))
        elif name == "edges":
            for inner_key, inner in _fields(document, edge_type, _merged(nodes)).items():
                if inner[0].name.value == "node":
                    found.append((key, inner_key, _merged(inner)))
    return found


class _Shape:
    def __init__(self, document: DocumentNode) -> None:
        self.document = document
        self.connections = 0
        self.errors: list[str] = []

    def walk(
        self,
        parent: GraphQLObjectType,
        selection: SelectionSetNode | None,
        *,
        level: int,
        in_list: bool,
        node_has_id: bool,
        path: str,
    ) -> None:
        for key, nodes in _fields(self.document, parent, selection).items():
            name = nodes[0].name.value
            definition = parent.fields.get(name)
            if definition is None:
                continue
            named = get_named_type(definition.type)
            here = f"{path}.{key}" if path else key
            if level == 0 and name in ("node", "nodes"):
                self.errors.append(
                    "Bulk queries cannot contain a top-level `node` or `nodes` field."
                )
                continue
            if is_connection_type(named):
                assert isinstance(named, GraphQLObjectType)
                self._connection(
                    named, nodes, level=level, in_list=in_list, node_has_id=node_has_id, path=here
                )
            elif is_object_type(named) or is_abstract_type(named):
                merged = _merged(nodes)
                listed = in_list or is_list_type(
                    getattr(definition.type, "of_type", definition.type)
                )
                for runtime in _object_types(named):
                    self.walk(
                        runtime,
                        merged,
                        level=level,
                        in_list=listed,
                        node_has_id=node_has_id,
                        path=here,
                    )

    def _connection(
        self,
        connection: GraphQLObjectType,
        nodes: list[FieldNode],
        *,
        level: int,
        in_list: bool,
        node_has_id: bool,
        path: str,
    ) -> None:
        self.connections += 1
        depth = level + 1
        if in_list:
            self.errors.append(
                "Queries that contain a connection field within a list field are not "
                f"currently supported. Connection: {path}."
            )
        if depth > MAX_NESTING:
            self.errors.append(
                f"Bulk queries cannot contain more than {MAX_NESTING} levels of nested "
                f"connections. Connection: {path}."
            )
        if depth > 1 and not node_has_id:
            self.errors.append(
                "The parent 'node' field for a nested connection must select the 'id' field "
                f"without an alias and must be of 'ID' return type. Connection fields without "
                f"'id': {path}."
            )
        node_type = get_named_type(connection.fields["nodes"].type)
        assert isinstance(node_type, GraphQLObjectType)
        for _edges, _key, selection in _connection_node_selections(
            self.document, connection, _merged(nodes)
        ):
            has_id = any(
                k == "id" and v[0].name.value == "id"
                for k, v in _fields(self.document, node_type, selection).items()
            )
            self.walk(
                node_type, selection, level=depth, in_list=False, node_has_id=has_id, path=path
            )


def _object_types(named: Any) -> list[GraphQLObjectType]:
    if is_object_type(named):
        return [named]
    return list(_schema().get_possible_types(named))


def validate_bulk_query(query: str) -> tuple[DocumentNode | None, list[View]]:
    """The parsed inner query, or the userErrors Shopify would answer."""
    from tests.shopify_fake.engine import validation_errors  # noqa: PLC0415

    try:
        document = parse(query)
    except GraphQLError as exc:
        return None, [_user_error(f"Invalid bulk query: {exc.message}")]
    problems = validation_errors(document)
    if problems:
        return None, [_user_error(f"Invalid bulk query: {p['message']}") for p in problems]
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) != 1 or operations[0].operation != OperationType.QUERY:
        return None, [_user_error("Invalid bulk query: a bulk query must be exactly one query.")]
    if operations[0].variable_definitions:
        return None, [_user_error("Invalid bulk query: bulk queries cannot declare variables.")]
    root = _schema().query_type
    shape = _Shape(document)
    shape.walk(
        root, operations[0].selection_set, level=0, in_list=False, node_has_id=False, path=""
    )
    errors = list(shape.errors)
    if shape.connections == 0:
        errors.append("Bulk queries must contain at least one connection.")
    elif shape.connections > MAX_CONNECTIONS:
        errors.append(f"Bulk queries cannot contain more than {MAX_CONNECTIONS} connections.")
    if errors:
        return None, [_user_error(message) for message in dict.fromkeys(errors)]
    return document, []


# ------------------------------------------------------------------ lifecycle


def _refresh(fake: ShopifyFake, op: BulkOperation, *, polled: bool) -> None:
    if op.status in BULK_TERMINAL:
        return
    if op.status == "CANCELING":
        if polled:
            op.status = "CANCELED"
        return
    if polled:
        op.polls += 1
    seconds = fake.bulk_seconds_until_done
    if seconds is not None:
        if polled and op.status == "CREATED":
            op.status = "RUNNING"
        if time.monotonic() - op.created_monotonic >= seconds:
            _finish(fake, op)
        return
    if op.polls >= max(1, fake.bulk_polls_until_done):
        _finish(fake, op)
    elif op.polls >= 1:
        op.status = "RUNNING"


def poll(fake: ShopifyFake, op_id: int) -> BulkOperation | None:
    """A poll of operation ``op_id``: advances its lifecycle, returns it (None: unknown)."""
    with fake.lock:
        op = fake.store.bulk_operations.get(op_id)
        if op is not None:
            _refresh(fake, op, polled=True)
        return op


def start(fake: ShopifyFake, base_url: str, query: str, *, group_objects: bool) -> View:
    """``bulkOperationRunQuery``: the payload (``bulkOperation`` + ``userErrors``)."""
    with fake.lock:
        document, errors = validate_bulk_query(query)
        if document is None:
            return {"bulkOperation": None, "userErrors": errors}
        running = []
        for op in fake.bulk_operations:
            _refresh(fake, op, polled=False)
            if op.in_progress:
                running.append(op)
        if len(running) >= fake.max_concurrent_bulk_operations:
            message = (
                "A bulk query operation for this app and shop is already in progress: "
                f"{running[0].gid}."
            )
            return {
                "bulkOperation": None,
                "userErrors": [
                    {"field": None, "message": message, "code": "OPERATION_IN_PROGRESS"}
                ],
            }
        op = BulkOperation(
            id=fake.next_id("BulkOperation"),
            query=query,
            group_objects=group_objects,
            created_at=fake.now,
            created_monotonic=time.monotonic(),
        )
        fault = fake.take_bulk_fault()
        if fault is not None:
            op.fail_with, op.fail_partial_lines = fault
        fake.store.bulk_operations[op.id] = op
        return {"bulkOperation": bulk_view(op, base_url, fake), "userErrors": []}


def cancel(fake: ShopifyFake, base_url: str, global_id: str) -> View:
    """``bulkOperationCancel``: CANCELING now, CANCELED at the next poll."""
    with fake.lock:
        parsed = parse_gid(global_id)
        op = None
        if parsed is not None and parsed[0] == "BulkOperation":
            op = fake.store.bulk_operations.get(parsed[1])
        if op is None:
            return {
                "bulkOperation": None,
                "userErrors": [{"field": ["id"], "message": "Bulk operation does not exist"}],
            }
        _refresh(fake, op, polled=False)
        if not op.in_progress:
            message = (
                f"A bulk operation cannot be canceled when it is {op.status.lower()}, id: {op.gid}."
            )
            return {
                "bulkOperation": bulk_view(op, base_url, fake),
                "userErrors": [{"field": None, "message": message}],
            }
        op.status = "CANCELING"
        op.cancel_requested = True
        return {"bulkOperation": bulk_view(op, base_url, fake), "userErrors": []}


def _finish(fake: ShopifyFake, op: BulkOperation) -> None:
    lines, roots, failure = run_query(fake, op)
    if failure is not None:
        op.status, op.error_code = "FAILED", failure
        op.object_count = op.root_object_count = 0
        return
    if op.fail_with is not None:
        partial = lines[: op.fail_partial_lines]
        op.status, op.error_code = "FAILED", op.fail_with
        op.partial_jsonl = _encode(partial) if partial else None
        op.object_count = len(partial)
        op.root_object_count = sum(1 for line in partial if "__parentId" not in line)
        return
    op.status = "COMPLETED"
    op.completed_at = fake.now
    op.jsonl = _encode(lines) if lines else None
    op.object_count = len(lines)
    op.root_object_count = roots


def _encode(lines: list[View]) -> bytes:
    text = "".join(
        json.dumps(line, separators=(",", ":"), ensure_ascii=False) + "\n" for line in lines
    )
    return text.encode()


# ------------------------------------------------------------------ execution → JSONL


def run_query(fake: ShopifyFake, op: BulkOperation) -> tuple[list[View], int, str | None]:
    """``(lines in file order, root line count, failure errorCode or None)``."""
    document = parse(op.query)
    context = ExecContext(fake=fake, base_url="", bulk=True)
    result = execute_sync(
        _schema(),
        document,
        root_value=root_value(context),
        context_value=context,
        type_resolver=type_resolver,
    )
    if result.errors:
        codes = {(e.extensions or {}).get("code") for e in result.errors}
        if "ACCESS_DENIED" in codes:
            return [], 0, "ACCESS_DENIED"
        if any(isinstance(e.original_error, InternalServerError) for e in result.errors):
            return [], 0, "INTERNAL_SERVER_ERROR"
        return [], 0, "INTERNAL_SERVER_ERROR"
    groups = _root_groups(document, result.data or {})
    if op.group_objects:
        return [line for group in groups for line in group], len(groups), None
    roots = [group[0] for group in groups]
    children = [line for group in groups for line in group[1:]]
    keyed = [(float(i), line) for i, line in enumerate(roots)]
    span = max(1, len(roots))
    keyed += [(fake.bulk_rng.uniform(-0.5, span - 0.5), line) for line in children]
    keyed.sort(key=lambda pair: pair[0])
    return [line for _, line in keyed], len(roots), None


def _root_groups(document: DocumentNode, data: dict[str, Any]) -> list[list[View]]:
    """One group per top-level node: its line, then its descendants (grouped order)."""
    operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    root = _schema().query_type
    groups: list[list[View]] = []
    for key, nodes in _fields(document, root, operation.selection_set).items():
        definition = root.fields.get(nodes[0].name.value)
        if definition is None:
            continue
        named = get_named_type(definition.type)
        if not is_connection_type(named):
            continue  # the fake writes lines for connections only
        for node_type, selection, value in _connection_nodes(document, named, nodes, data.get(key)):
            line, descendants = _split(document, node_type, selection, value)
            groups.append([line, *descendants])
    return groups


def _connection_nodes(
    document: DocumentNode, connection: Any, nodes: list[FieldNode], value: Any
) -> list[tuple[GraphQLObjectType, SelectionSetNode | None, dict[str, Any]]]:
    if not isinstance(value, dict):
        return []
    node_type = get_named_type(connection.fields["nodes"].type)
    assert isinstance(node_type, GraphQLObjectType)
    found: list[tuple[GraphQLObjectType, SelectionSetNode | None, dict[str, Any]]] = []
    seen: set[str] = set()
    for edges_key, node_key, selection in _connection_node_selections(
        document, connection, _merged(nodes)
    ):
        items = (
            [edge.get(node_key) for edge in value.get(edges_key) or []]
            if edges_key is not None
            else list(value.get(node_key) or [])
        )
        for item in items:
            if not isinstance(item, dict):
                continue
            item_id = item.get("id")
            if isinstance(item_id, str):
                if item_id in seen:
                    continue
                seen.add(item_id)
            found.append((node_type, selection, item))
    return found


def _split(
    document: DocumentNode,
    node_type: GraphQLObjectType,
    selection: SelectionSetNode | None,
    value: dict[str, Any],
) -> tuple[View, list[View]]:
    """A node's own line (nested connections removed) and its descendants' lines."""
    line: View = {}
    descendants: list[View] = []
    parent_id = value.get("id")
    for key, nodes in _fields(document, node_type, selection).items():
        definition = node_type.fields.get(nodes[0].name.value)
        named = get_named_type(definition.type) if definition is not None else None
        if named is not None and is_connection_type(named):
            for child_type, child_selection, child in _connection_nodes(
                document, named, nodes, value.get(key)
            ):
                child_line, grand = _split(document, child_type, child_selection, child)
                child_line["__parentId"] = parent_id
                descendants.append(child_line)
                descendants.extend(grand)
        else:
            line[key] = value.get(key)
    return line, descendants


# ------------------------------------------------------------------ result files


def signature(fake: ShopifyFake, op_id: int, *, partial: bool) -> str:
    message = f"{op_id}:{'partial' if partial else 'full'}".encode()
    return hmac.new(fake.url_secret.encode(), message, hashlib.sha256).hexdigest()


def result_url(fake: ShopifyFake, base_url: str, op: BulkOperation, *, partial: bool) -> str:
    name = f"{op.id}-partial" if partial else str(op.id)
    return (
        f"{base_url}/bulk/{name}.jsonl?X-Goog-Algorithm=GOOG4-RSA-SHA256"
        "&X-Goog-Credential=fake-shopify%40example.iam.gserviceaccount.com"
        "&X-Goog-Expires=604800&X-Goog-SignedHeaders=host"
        f"&X-Goog-Signature={signature(fake, op.id, partial=partial)}"
        "&response-content-type=application%2Fjsonl"
    )


def result_file(
    fake: ShopifyFake, op_id: int, *, partial: bool, signed: str | None
) -> tuple[int, bytes | None]:
    """``(200, JSONL bytes)``; 403 for a missing or wrong signature, 404 for no such file."""
    with fake.lock:
        if signed is None or not hmac.compare_digest(
            signed, signature(fake, op_id, partial=partial)
        ):
            return 403, None
        op = fake.store.bulk_operations.get(op_id)
        data = None if op is None else (op.partial_jsonl if partial else op.jsonl)
        return (404, None) if data is None else (200, data)
