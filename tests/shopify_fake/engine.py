"""One GraphQL request, start to finish: parse → validate → cost → bucket → execute → refund.

Transport-free (the ASGI app in :mod:`tests.shopify_fake.app` calls it), so tests can also
drive it directly. Error bodies follow Shopify's (graphql-ruby) shapes, see the README.
"""

from __future__ import annotations

import json
import math
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graphql import (
    ArgumentNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    build_schema,
    execute_sync,
    get_operation_ast,
    parse,
    print_ast,
    validate,
    visit,
)
from graphql.execution.values import get_variable_values

from tests.shopify_fake.cost import CostCalculator
from tests.shopify_fake.fake import RecordedRequest, ShopifyFake
from tests.shopify_fake.resolvers import ExecContext, InternalServerError, root_value, type_resolver

SCHEMA = build_schema((Path(__file__).parent / "schema.graphql").read_text())
MAX_QUERY_COST = 1000
RATE_LIMIT_DOCS = "https://shopify.dev/api/usage/rate-limits"
DEPRECATION_DOCS = "https://shopify.dev/api/usage/versioning#deprecation-practices"
INTERNAL_ERROR_MESSAGE = "Internal error. Looks like something went wrong on our end."


@dataclass
class GraphQLResponse:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    requested_cost: int | None = None
    actual_cost: int | None = None

    def error_codes(self) -> tuple[str, ...]:
        if not isinstance(self.body, dict) or not isinstance(self.body.get("errors"), list):
            return ()
        codes = []
        for error in self.body["errors"]:
            code = (error.get("extensions") or {}).get("code") if isinstance(error, dict) else None
            if isinstance(code, str):
                codes.append(code)
        return tuple(codes)


# ------------------------------------------------------------------ error shapes


def internal_error_body() -> dict[str, Any]:
    """The changelog's INTERNAL_SERVER_ERROR (no ``data``, no ``extensions.cost``)."""
    return {
        "errors": [
            {
                "message": INTERNAL_ERROR_MESSAGE,
                "extensions": {"code": "INTERNAL_SERVER_ERROR", "requestId": str(uuid.uuid4())},
            }
        ]
    }


def _cost_extension(fake: ShopifyFake, requested: int, actual: int | None) -> dict[str, Any]:
    return {
        "cost": {
            "requestedQueryCost": requested,
            "actualQueryCost": actual,
            "throttleStatus": fake.bucket.status(),
        }
    }


class _Paths:
    """Static paths of fields and arguments, graphql-ruby style (``["query Name", "orders"]``)."""

    def __init__(self, document: DocumentNode) -> None:
        self.fields: dict[int, list[str]] = {}
        self.arguments: dict[int, tuple[FieldNode, ArgumentNode, list[str]]] = {}
        for definition in document.definitions:
            if isinstance(definition, OperationDefinitionNode):
                prefix = definition.operation.value
                if definition.name:
                    prefix += f" {definition.name.value}"
                self._walk(definition.selection_set, [prefix])
            elif isinstance(definition, FragmentDefinitionNode):
                self._walk(definition.selection_set, [f"fragment {definition.name.value}"])

    def _walk(self, selection_set: SelectionSetNode | None, path: list[str]) -> None:
        if selection_set is None:
            return
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                here = [*path, selection.name.value]
                self.fields[id(selection)] = here
                for argument in selection.arguments or ():
                    self.arguments[id(argument.value)] = (
                        selection,
                        argument,
                        [*here, argument.name.value],
                    )
                    self.arguments[id(argument)] = (
                        selection,
                        argument,
                        [*here, argument.name.value],
                    )
                self._walk(selection.selection_set, here)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                label = f"... on {condition.name.value}" if condition else "..."
                self._walk(selection.selection_set, [*path, label])
            elif isinstance(selection, FragmentSpreadNode):
                self.fields[id(selection)] = [*path, f"... {selection.name.value}"]


def _named(type_text: str) -> str:
    return type_text.replace("!", "").replace("[", "").replace("]", "")


_UNDEFINED_FIELD = re.compile(r"^Cannot query field '(\w+)' on type '(\w+)'\.")
_UNKNOWN_ARGUMENT = re.compile(r"^Unknown argument '(\w+)' on field '(\w+)\.(\w+)'\.")
_MISSING_ARGUMENT = re.compile(
    r"^Field '(\w+)' argument '(\w+)' of type '(.+)' is required, but it was not provided\."
)
_NEEDS_SELECTION = re.compile(r"^Field '(\w+)' of type '(.+)' must have a selection of subfields\.")
_NO_SELECTION = re.compile(
    r"^Field '(\w+)' must not have a selection since type '(.+)' has no subfields\."
)
_UNUSED_VARIABLE = re.compile(r"^Variable '\$(\w+)' is never used(?: in operation '(\w+)')?\.")
_UNDEFINED_VARIABLE = re.compile(r"^Variable '\$(\w+)' is not defined(?: by operation '(\w+)')?\.")
_DID_YOU_MEAN = re.compile(r" Did you mean .*$")


Rewrite = tuple[str, dict[str, Any], list[str] | None]
"""(message, extensions, path override or None)."""


def _undefined_field(match: re.Match[str], _node: Any, _paths: _Paths) -> Rewrite:
    name, type_name = match.groups()
    extensions = {"code": "undefinedField", "typeName": type_name, "fieldName": name}
    return f"Field '{name}' doesn't exist on type '{type_name}'", extensions, None


def _unknown_argument(match: re.Match[str], node: Any, paths: _Paths) -> Rewrite:
    argument, _type_name, field_name = match.groups()
    extensions = {
        "code": "argumentNotAccepted",
        "name": field_name,
        "typeName": "Field",
        "argumentName": argument,
    }
    path = paths.arguments[id(node)][2] if id(node) in paths.arguments else None
    return f"Field '{field_name}' doesn't accept argument '{argument}'", extensions, path


def _missing_argument(match: re.Match[str], _node: Any, _paths: _Paths) -> Rewrite:
    field_name, argument, _type = match.groups()
    extensions = {
        "code": "missingRequiredArguments",
        "className": "Field",
        "name": field_name,
        "arguments": argument,
    }
    return f"Field '{field_name}' is missing required arguments: {argument}", extensions, None


def _needs_selection(match: re.Match[str], _node: Any, _paths: _Paths) -> Rewrite:
    field_name, type_text = match.groups()
    message = (
        f"Field must have selections (field '{field_name}' returns {_named(type_text)} but "
        f"has no selections. Did you mean '{field_name} {{ ... }}'?)"
    )
    extensions = {
        "code": "selectionMismatch",
        "nodeName": f"field '{field_name}'",
        "typeName": _named(type_text),
    }
    return message, extensions, None


def _no_selection(match: re.Match[str], node: Any, _paths: _Paths) -> Rewrite:
    field_name, type_text = match.groups()
    selected = []
    if isinstance(node, FieldNode) and node.selection_set:
        selected = [s.name.value for s in node.selection_set.selections if isinstance(s, FieldNode)]
    message = (
        f"Selections can't be made on scalars (field '{field_name}' returns "
        f"{_named(type_text)} but has selections [{', '.join(selected)}])"
    )
    extensions = {
        "code": "selectionMismatch",
        "nodeName": f"field '{field_name}'",
        "typeName": _named(type_text),
    }
    return message, extensions, None


def _unused_variable(match: re.Match[str], _node: Any, _paths: _Paths) -> Rewrite:
    variable, operation = match.groups()
    message = f"Variable ${variable} is declared by {operation or 'anonymous query'} but not used"
    return message, {"code": "variableNotUsed", "variableName": variable}, None


def _undefined_variable(match: re.Match[str], _node: Any, _paths: _Paths) -> Rewrite:
    variable, operation = match.groups()
    message = f"Variable ${variable} is used by {operation or 'anonymous query'} but not declared"
    return message, {"code": "variableNotDefined", "variableName": variable}, None


_REWRITES = (
    (_UNDEFINED_FIELD, _undefined_field),
    (_UNKNOWN_ARGUMENT, _unknown_argument),
    (_MISSING_ARGUMENT, _missing_argument),
    (_NEEDS_SELECTION, _needs_selection),
    (_NO_SELECTION, _no_selection),
    (_UNUSED_VARIABLE, _unused_variable),
    (_UNDEFINED_VARIABLE, _undefined_variable),
)


def _invalid_literal(error: GraphQLError, node: Any, paths: _Paths) -> Rewrite | None:
    if node is None or id(node) not in paths.arguments:
        return None
    field_node, argument, argument_path = paths.arguments[id(node)]
    message = (
        f"Argument '{argument.name.value}' on Field '{field_node.name.value}' has an invalid "
        f"value ({print_ast(argument.value)}). Expected type '{_expected_type(error.message)}'."
    )
    extensions = {
        "code": "argumentLiteralsIncompatible",
        "typeName": "Field",
        "argumentName": argument.name.value,
    }
    return message, extensions, argument_path[:-1]


def _shopify_error(error: GraphQLError, paths: _Paths) -> dict[str, Any]:
    """graphql-core's validation error → the message/extensions graphql-ruby (Shopify) sends."""
    node = error.nodes[0] if error.nodes else None
    path = paths.fields.get(id(node)) if node is not None else None
    rewrite: Rewrite | None = None
    for pattern, handler in _REWRITES:
        if match := pattern.match(error.message):
            rewrite = handler(match, node, paths)
            break
    else:
        rewrite = _invalid_literal(error, node, paths)
    formatted: dict[str, Any] = {"message": _DID_YOU_MEAN.sub("", error.message)}
    if rewrite is not None:
        formatted["message"] = rewrite[0]
        path = rewrite[2] or path
    if error.locations:
        formatted["locations"] = [
            {"line": loc.line, "column": loc.column} for loc in error.locations
        ]
    if path is not None:
        formatted["path"] = path
    if rewrite is not None:
        formatted["extensions"] = rewrite[1]
    return formatted


def _expected_type(core_message: str) -> str:
    match = (
        re.search(r"in '(\w+)' enum", core_message)
        or re.search(r"^(\w+) cannot represent", core_message)
        or re.search(r"of type '([^']+)'", core_message)
    )
    return match.group(1) if match else "value"


def validation_errors(document: DocumentNode) -> list[dict[str, Any]]:
    """Shopify-shaped validation errors of ``document`` (empty when valid)."""
    errors = validate(SCHEMA, document)
    if not errors:
        return []
    paths = _Paths(document)
    return [_shopify_error(error, paths) for error in errors]


def _variable_error(
    error: GraphQLError, operation: OperationDefinitionNode, raw: dict[str, Any]
) -> dict[str, Any]:
    match = re.match(r"^Variable '\$(\w+)'", error.message)
    if match is None:
        return error.formatted  # type: ignore[return-value]
    name = match.group(1)
    type_text = "value"
    for definition in operation.variable_definitions or ():
        if definition.variable.name.value == name:
            type_text = print_ast(definition.type)
    explanation = error.message.split("; ", 1)[-1]
    formatted: dict[str, Any] = {
        "message": f"Variable ${name} of type {type_text} was provided invalid value",
    }
    if error.locations:
        formatted["locations"] = [
            {"line": loc.line, "column": loc.column} for loc in error.locations
        ]
    formatted["extensions"] = {
        "value": raw.get(name),
        "problems": [{"path": [], "explanation": explanation}],
    }
    return formatted


class _DeprecatedFields(Visitor):
    def __init__(self, type_info: TypeInfo) -> None:
        super().__init__()
        self.type_info = type_info
        self.found: list[str] = []

    def enter_field(self, node: FieldNode, *_args: Any) -> None:
        definition = self.type_info.get_field_def()
        if definition is not None and definition.deprecation_reason:
            self.found.append(node.name.value)


def deprecated_fields(document: DocumentNode) -> list[str]:
    type_info = TypeInfo(SCHEMA)
    visitor = _DeprecatedFields(type_info)
    visit(document, TypeInfoVisitor(type_info, visitor))
    return visitor.found


# ------------------------------------------------------------------ the request


def _tolerant_cost(
    document: DocumentNode, operation_name: str | None, variables: dict[str, Any]
) -> int:
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return 0
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    try:
        return CostCalculator(SCHEMA, fragments, variables).requested_operation(operation)
    except (GraphQLError, TypeError, ValueError, KeyError, AttributeError):
        return 0


def _bad_request() -> GraphQLResponse:
    return GraphQLResponse(400, {"errors": {"query": "Required parameter missing or invalid"}})


def _read_payload(payload: Any) -> tuple[str, dict[str, Any], str | None] | None:
    if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
        return None
    variables = payload.get("variables")
    if isinstance(variables, str):
        try:
            variables = json.loads(variables) if variables.strip() else None
        except ValueError:
            return None
    if variables is not None and not isinstance(variables, dict):
        return None
    operation_name = payload.get("operationName")
    if operation_name is not None and not isinstance(operation_name, str):
        return None
    return payload["query"], variables or {}, operation_name or None


def handle(fake: ShopifyFake, payload: Any, *, version: str, base_url: str) -> GraphQLResponse:
    """Answer one GraphQL POST body and record it in ``fake.requests``."""
    with fake.lock:
        response = _handle(fake, payload, base_url)
        query = payload.get("query") if isinstance(payload, dict) else None
        variables = payload.get("variables") if isinstance(payload, dict) else None
        operation = payload.get("operationName") if isinstance(payload, dict) else None
        fake.record(
            RecordedRequest(
                query=query if isinstance(query, str) else None,
                variables=variables if isinstance(variables, dict) else None,
                operation_name=operation if isinstance(operation, str) else None,
                version=version,
                status=response.status,
                cost=response.actual_cost,
                requested_cost=response.requested_cost,
                error_codes=response.error_codes(),
            )
        )
        return response


def _handle(fake: ShopifyFake, payload: Any, base_url: str) -> GraphQLResponse:
    if fake.take_fault("internal_error_next"):
        return GraphQLResponse(200, internal_error_body())
    read = _read_payload(payload)
    if read is None:
        return _bad_request()
    query, raw_variables, operation_name = read
    try:
        document = parse(query)
    except GraphQLError as exc:
        error: dict[str, Any] = {"message": exc.message}
        if exc.locations:
            error["locations"] = [{"line": loc.line, "column": loc.column} for loc in exc.locations]
        return GraphQLResponse(
            200, {"errors": [error], "extensions": _cost_extension(fake, 0, None)}, requested_cost=0
        )
    problems = validation_errors(document)
    if problems:
        requested = _tolerant_cost(document, operation_name, raw_variables)
        invalid = {"errors": problems, "extensions": _cost_extension(fake, requested, None)}
        return GraphQLResponse(200, invalid, requested_cost=requested)
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        message = (
            f'No operation named "{operation_name}"'
            if operation_name
            else "An operation name is required"
        )
        unnamed = {"errors": [{"message": message}], "extensions": _cost_extension(fake, 0, None)}
        return GraphQLResponse(200, unnamed, requested_cost=0)
    coerced = get_variable_values(SCHEMA, operation.variable_definitions or (), raw_variables)
    if isinstance(coerced, list):
        errors = [_variable_error(e, operation, raw_variables) for e in coerced]
        bad_variables = {"errors": errors, "extensions": _cost_extension(fake, 0, None)}
        return GraphQLResponse(200, bad_variables, requested_cost=0)
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    calculator = CostCalculator(SCHEMA, fragments, coerced)
    requested = calculator.requested_operation(operation)
    if requested > MAX_QUERY_COST:
        return _max_cost_exceeded(fake, requested)
    if not fake.bucket.try_take(requested):
        return _throttled(fake, requested)
    context = ExecContext(fake=fake, base_url=base_url)
    result = execute_sync(
        SCHEMA,
        document,
        root_value=root_value(context),
        context_value=context,
        variable_values=raw_variables,
        operation_name=operation_name,
        type_resolver=type_resolver,
    )
    errors_out = list(result.errors or [])
    if any(isinstance(e.original_error, InternalServerError) for e in errors_out):
        fake.bucket.give_back(requested)
        return GraphQLResponse(200, internal_error_body(), requested_cost=requested)
    data = result.data
    actual = min(requested, calculator.actual_operation(operation, data))
    fake.bucket.give_back(requested - actual)
    body: dict[str, Any] = {}
    if errors_out:
        body["errors"] = [e.formatted for e in errors_out]
    body["data"] = data
    body["extensions"] = _cost_extension(fake, requested, actual)
    headers: dict[str, str] = {}
    if deprecated_fields(document):
        headers["X-Shopify-API-Deprecated-Reason"] = DEPRECATION_DOCS
    return GraphQLResponse(200, body, headers, requested_cost=requested, actual_cost=actual)


def _max_cost_exceeded(fake: ShopifyFake, requested: int) -> GraphQLResponse:
    body = {
        "errors": [
            {
                "message": (
                    f"Query cost is {requested}, which exceeds the single query max cost "
                    f"limit ({MAX_QUERY_COST})."
                ),
                "extensions": {
                    "code": "MAX_COST_EXCEEDED",
                    "cost": requested,
                    "maxCost": MAX_QUERY_COST,
                    "documentation": RATE_LIMIT_DOCS,
                },
            }
        ],
        "extensions": _cost_extension(fake, requested, None),
    }
    return GraphQLResponse(200, body, requested_cost=requested)


def _throttled(fake: ShopifyFake, requested: int) -> GraphQLResponse:
    body = {
        "errors": [
            {
                "message": "Throttled",
                "extensions": {"code": "THROTTLED", "documentation": RATE_LIMIT_DOCS},
            }
        ],
        "extensions": _cost_extension(fake, requested, None),
    }
    status = fake.throttle_status
    headers = {}
    if status == 429:
        headers["Retry-After"] = f"{max(1, math.ceil(fake.bucket.wait_time(requested)))}.0"
    return GraphQLResponse(status, body, headers, requested_cost=requested)
