"""Query cost, computed statically (requested) and from the response (actual).

The rule (shopify.dev rate-limits page, as summarised in shopify.md §2.1):

* scalar and enum fields (and lists of them): 0;
* an object field: 1 + the cost of its selection; ``null`` costs 0 in the *actual* cost;
* a connection (a type named ``*Connection``): 2 + ``first`` (or ``last``) x the cost of one
  node, where one node costs 1 + its selection. ``edges { node }`` and ``nodes`` describe the
  same nodes, so a node costs the larger of the two selections, not both. ``pageInfo`` and
  ``cursor`` are free. Actual: 2 + the cost of each node actually returned;
* a list of objects (``refunds(first: 10)``, ``accessScopes``): ``first`` (1 when there is
  no ``first`` argument; ``len(ids)`` for ``nodes(ids:)``) x the cost of one element.
  Actual: the sum over the elements returned;
* an abstract type (``node(id:)``): 1 + the most expensive possible type's selection;
* a mutation: 10, whatever it selects.

Unknown fields count 0, so an invalid query still gets a (partial) requested cost.
"""

from __future__ import annotations

from typing import Any, TypeGuard

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    GraphQLField,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
    is_abstract_type,
    is_leaf_type,
    is_list_type,
    is_object_type,
)
from graphql.error import GraphQLError
from graphql.execution.collect_fields import collect_fields
from graphql.execution.values import get_argument_values

MUTATION_COST = 10


def is_connection_type(type_: Any) -> TypeGuard[GraphQLObjectType]:
    """A ``*Connection`` object type (pass a named type to narrow it)."""
    named = get_named_type(type_)
    return isinstance(named, GraphQLObjectType) and named.name.endswith("Connection")


def _unwrap_non_null(type_: GraphQLOutputType) -> GraphQLOutputType:
    return type_.of_type if isinstance(type_, GraphQLNonNull) else type_


class CostCalculator:
    """Costs for one operation of one document (fragments + coerced variables)."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDefinitionNode],
        variables: dict[str, Any],
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables

    # -------------------------------------------------------------- helpers

    def _fields(
        self, runtime_type: GraphQLObjectType, selection_set: SelectionSetNode | None
    ) -> dict[str, list[FieldNode]]:
        if selection_set is None:
            return {}
        return collect_fields(
            self.schema, self.fragments, self.variables, runtime_type, selection_set
        )

    @staticmethod
    def _merged(nodes: list[FieldNode]) -> SelectionSetNode | None:
        selections = [
            s for node in nodes if node.selection_set for s in node.selection_set.selections
        ]
        if not selections:
            return None
        return SelectionSetNode(selections=tuple(selections))

    def _args(self, field_def: GraphQLField, node: FieldNode) -> dict[str, Any]:
        try:
            return get_argument_values(field_def, node, self.variables)
        except GraphQLError:
            return {}

    def _object_types(self, named: Any) -> list[GraphQLObjectType]:
        if is_object_type(named):
            return [named]
        if is_abstract_type(named):
            return list(self.schema.get_possible_types(named))
        return []

    # -------------------------------------------------------------- requested

    def requested_operation(self, operation: OperationDefinitionNode) -> int:
        if operation.operation == OperationType.MUTATION:
            return MUTATION_COST
        root = self.schema.query_type
        if root is None:
            return 0
        return self._requested_selection(root, operation.selection_set)

    def _requested_selection(
        self, parent: GraphQLObjectType, selection_set: SelectionSetNode | None
    ) -> int:
        total = 0
        for nodes in self._fields(parent, selection_set).values():
            field_def = parent.fields.get(nodes[0].name.value)
            if field_def is None:
                continue
            total += self._requested_field(field_def, nodes)
        return total

    def _requested_object(self, named: Any, selection: SelectionSetNode | None) -> int:
        costs = [self._requested_selection(t, selection) for t in self._object_types(named)]
        return 1 + max(costs, default=0)

    def _requested_field(self, field_def: GraphQLField, nodes: list[FieldNode]) -> int:
        named = get_named_type(field_def.type)
        if is_leaf_type(named):
            return 0
        args = self._args(field_def, nodes[0])
        selection = self._merged(nodes)
        if is_connection_type(named):
            size = args.get("first") or args.get("last") or 0
            return 2 + max(0, int(size)) * self._requested_connection_node(named, selection)
        if is_list_type(_unwrap_non_null(field_def.type)):
            if "ids" in args and isinstance(args["ids"], list):
                size = len(args["ids"])
            else:
                size = args.get("first") or 1
            return max(0, int(size)) * self._requested_object(named, selection)
        return self._requested_object(named, selection)

    def _connection_parts(
        self, connection: GraphQLObjectType, selection: SelectionSetNode | None
    ) -> tuple[list[tuple[str, list[FieldNode]]], list[tuple[str, list[FieldNode]]]]:
        """(edges fields, nodes fields) of a connection selection, as (response key, nodes)."""
        edges, node_lists = [], []
        for key, nodes in self._fields(connection, selection).items():
            name = nodes[0].name.value
            if name == "edges":
                edges.append((key, nodes))
            elif name == "nodes":
                node_lists.append((key, nodes))
        return edges, node_lists

    def _requested_connection_node(
        self, connection: GraphQLObjectType, selection: SelectionSetNode | None
    ) -> int:
        node_type = get_named_type(connection.fields["nodes"].type)
        edge_type = get_named_type(connection.fields["edges"].type)
        assert isinstance(edge_type, GraphQLObjectType)
        edges, node_lists = self._connection_parts(connection, selection)
        costs = [self._requested_object(node_type, self._merged(n)) for _, n in node_lists]
        for _, edge_nodes in edges:
            for inner in self._fields(edge_type, self._merged(edge_nodes)).values():
                if inner[0].name.value == "node":
                    costs.append(self._requested_object(node_type, self._merged(inner)))
        return max(costs, default=1)

    # -------------------------------------------------------------- actual

    def actual_operation(self, operation: OperationDefinitionNode, data: Any) -> int:
        if operation.operation == OperationType.MUTATION:
            return MUTATION_COST
        root = self.schema.query_type
        if root is None or not isinstance(data, dict):
            return 0
        return self._actual_selection(root, operation.selection_set, data)

    def _actual_selection(
        self,
        parent: GraphQLObjectType,
        selection_set: SelectionSetNode | None,
        value: dict[str, Any],
    ) -> int:
        total = 0
        for key, nodes in self._fields(parent, selection_set).items():
            field_def = parent.fields.get(nodes[0].name.value)
            if field_def is None:
                continue
            total += self._actual_field(field_def, nodes, value.get(key))
        return total

    def _runtime_type(
        self, named: Any, selection: SelectionSetNode | None, value: dict[str, Any]
    ) -> GraphQLObjectType | None:
        best: GraphQLObjectType | None = None
        best_size = -1
        for candidate in self._object_types(named):
            keys = self._fields(candidate, selection).keys()
            if all(k in value for k in keys) and len(keys) > best_size:
                best, best_size = candidate, len(keys)
        return best

    def _actual_object(self, named: Any, selection: SelectionSetNode | None, value: Any) -> int:
        if not isinstance(value, dict):
            return 0
        runtime = self._runtime_type(named, selection, value)
        if runtime is None:
            return 1
        return 1 + self._actual_selection(runtime, selection, value)

    def _actual_field(self, field_def: GraphQLField, nodes: list[FieldNode], value: Any) -> int:
        named = get_named_type(field_def.type)
        if value is None or is_leaf_type(named):
            return 0
        selection = self._merged(nodes)
        if is_connection_type(named) and isinstance(value, dict):
            return 2 + self._actual_connection_nodes(named, selection, value)
        if isinstance(value, list):
            return sum(self._actual_object(named, selection, item) for item in value)
        return self._actual_object(named, selection, value)

    def _actual_connection_nodes(
        self,
        connection: GraphQLObjectType,
        selection: SelectionSetNode | None,
        value: dict[str, Any],
    ) -> int:
        node_type = get_named_type(connection.fields["nodes"].type)
        edge_type = get_named_type(connection.fields["edges"].type)
        assert isinstance(edge_type, GraphQLObjectType)
        edges, node_lists = self._connection_parts(connection, selection)
        costs: list[int] = []
        for key, field_nodes in node_lists:
            items = value.get(key) or []
            merged = self._merged(field_nodes)
            costs.append(sum(self._actual_object(node_type, merged, item) for item in items))
        for key, edge_nodes in edges:
            inner_fields = self._fields(edge_type, self._merged(edge_nodes))
            for inner_key, inner in inner_fields.items():
                if inner[0].name.value != "node":
                    continue
                merged = self._merged(inner)
                costs.append(
                    sum(
                        self._actual_object(node_type, merged, edge.get(inner_key))
                        for edge in (value.get(key) or [])
                        if isinstance(edge, dict)
                    )
                )
        return max(costs, default=0)
