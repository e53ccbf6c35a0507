"""The ``query:`` argument: Shopify's search syntax, with its documented and observed quirks.

Grammar (https://shopify.dev/docs/api/usage/search-syntax)::

    Query      = Term { [ whitespace Connective ] whitespace Term }
    Connective = "AND" | "OR"            (AND is implied; AND binds tighter than OR)
    Term       = [ "-" | "NOT " ] ( "(" Query ")" | [ name Comparator ] value )
    Comparator = ":" | ":<" | ":>" | ":<=" | ":>="
    value      = name | 'quoted' | "quoted"

Time filters (``updated_at``, ``created_at``, ...) reproduce what connector authors hit:

* a **quoted** ISO timestamp compares as an instant (a timestamp without an offset is read in
  the shop's time zone);
* an **unquoted** timestamp loses its time part: ``updated_at:>=2026-09-01T14:00:00Z``
  compares *dates* (the record's date in the shop's time zone against ``2026-09-01``);
* a bare date (quoted or not) compares dates;
* ``>`` behaves like ``>=`` (PostHog PR #39687);
* fields declared ``whole_day`` (customers ``updated_at``) always compare dates, quoted or not;
* an empty value (``updated_at:>``, ``updated_at:''``) raises :class:`EmptySearchValue`, which
  the engine turns into a top-level ``INTERNAL_SERVER_ERROR`` (airbyte PR #33827);
* a value that is not a date (``updated_at:>=yesterday``) and unknown field names are
  ignored: the term matches everything, as Shopify ignores filters it does not know;
* bare words (free text) are ignored too (the fake has no full-text index).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

Predicate = Callable[[Any], bool]


class EmptySearchValue(Exception):
    """``field:`` or ``field:>`` with nothing after it."""


@dataclass(frozen=True)
class Term:
    field: str | None  # None: a bare word
    op: str  # "=", "<", "<=", ">", ">="
    value: str
    quoted: bool


@dataclass(frozen=True)
class And:
    parts: tuple[Expr, ...]


@dataclass(frozen=True)
class Or:
    parts: tuple[Expr, ...]


@dataclass(frozen=True)
class Not:
    part: Expr


Expr = Term | And | Or | Not


# ------------------------------------------------------------------ parsing


def _tokenize(text: str) -> list[str]:
    tokens: list[str] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char.isspace():
            i += 1
            continue
        if char in "()":
            tokens.append(char)
            i += 1
            continue
        buf: list[str] = []
        while i < n and not text[i].isspace() and text[i] not in "()":
            if text[i] in "'\"":
                end = text.find(text[i], i + 1)
                end = n - 1 if end == -1 else end
                buf.append(text[i : end + 1])
                i = end + 1
            else:
                buf.append(text[i])
                i += 1
        tokens.append("".join(buf))
    return tokens


def _term(token: str) -> Term:
    quote_at = min((p for p in (token.find("'"), token.find('"')) if p >= 0), default=len(token))
    colon = token.find(":", 0, quote_at)
    if colon <= 0:
        value, quoted = _unquote(token)
        return Term(None, "=", value, quoted)
    name = token[:colon].lower()
    rest = token[colon + 1 :]
    op = "="
    for candidate in ("<=", ">=", "<", ">"):
        if rest.startswith(candidate):
            op, rest = candidate, rest[len(candidate) :]
            break
    value, quoted = _unquote(rest)
    if not value.strip():
        raise EmptySearchValue(name)
    return Term(name, op, value, quoted)


def _unquote(raw: str) -> tuple[str, bool]:
    if raw[:1] in ("'", '"'):
        quote = raw[0]
        inner = raw[1:-1] if len(raw) >= 2 and raw.endswith(quote) else raw[1:]
        return inner, True
    return raw, False


class _Parser:
    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> str:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def parse_or(self) -> Expr | None:
        parts = [self.parse_and()]
        while self.peek() == "OR":
            self.take()
            parts.append(self.parse_and())
        present = [p for p in parts if p is not None]
        if not present:
            return None
        if len(present) != len(parts):  # "x OR <nothing>"
            return None
        return present[0] if len(present) == 1 else Or(tuple(present))

    def parse_and(self) -> Expr | None:
        parts: list[Expr] = []
        while (token := self.peek()) is not None and token not in (")", "OR"):
            if token == "AND":
                self.take()
                continue
            part = self.parse_unary()
            if part is not None:
                parts.append(part)
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def parse_unary(self) -> Expr | None:
        token = self.take()
        if token == "NOT":
            if self.peek() in (None, ")"):
                return None
            inner = self.parse_unary()
            return None if inner is None else Not(inner)
        if token == "(":
            inner = self.parse_or()
            if self.peek() == ")":
                self.take()
            return inner
        if token == ")":
            return None
        if token.startswith("-") and len(token) > 1:
            return Not(_term(token[1:]))
        return _term(token)


def parse_search(text: str | None) -> Expr | None:
    """Parse ``query:``; None means "no filter". Raises :class:`EmptySearchValue`."""
    if text is None or not text.strip():
        return None
    parser = _Parser(_tokenize(text))
    expr = parser.parse_or()
    while parser.peek() is not None:  # stray ")": keep reading what follows
        parser.take()
        more = parser.parse_or()
        if more is not None:
            expr = more if expr is None else And((expr, more))
    return expr


# ------------------------------------------------------------------ fields


@dataclass(frozen=True)
class SearchContext:
    timezone: ZoneInfo
    now: datetime


FieldCompiler = Callable[[Term, SearchContext], Predicate | None]


def _compare(left: Any, op: str, right: Any) -> bool:
    if op == "=":
        return bool(left == right)
    if op == "<":
        return bool(left < right)
    if op == "<=":
        return bool(left <= right)
    return bool(left >= right)  # ">" behaves like ">=" [obs]


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(
    r"^(\d{4}-\d{2}-\d{2})[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|z|[+-]\d{2}:?\d{2})?$"
)


def _time_value(term: Term, ctx: SearchContext) -> datetime | date | None:
    """An instant (aware datetime) or a date (date semantics); None: not a time value."""
    value = term.value.strip()
    if value.lower() == "now":
        return ctx.now
    if _DATE.match(value):
        return date.fromisoformat(value)
    match = _DATETIME.match(value)
    if match is None:
        return None
    if not term.quoted:
        return date.fromisoformat(match.group(1))  # unquoted: the time part is dropped
    try:
        parsed = datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=ctx.timezone)
    return parsed


def time_field(
    getter: Callable[[Any], datetime | None], *, whole_day: bool = False
) -> FieldCompiler:
    """A ``DateTime`` filter; ``whole_day`` compares dates even for quoted timestamps."""

    def compile_term(term: Term, ctx: SearchContext) -> Predicate | None:
        wanted = _time_value(term, ctx)
        if wanted is None:
            return None
        if isinstance(wanted, datetime) and whole_day:
            wanted = wanted.astimezone(ctx.timezone).date()
        if isinstance(wanted, datetime):
            instant = wanted

            def by_instant(record: Any) -> bool:
                value = getter(record)
                return value is not None and _compare(value, term.op, instant)

            return by_instant
        day = wanted
        tz = ctx.timezone

        def by_date(record: Any) -> bool:
            value = getter(record)
            return value is not None and _compare(value.astimezone(tz).date(), term.op, day)

        return by_date

    return compile_term


def bool_field(getter: Callable[[Any], bool]) -> FieldCompiler:
    def compile_term(term: Term, _ctx: SearchContext) -> Predicate | None:
        text = term.value.strip().lower()
        if text not in ("true", "false"):
            return None
        wanted = text == "true"
        return lambda record: getter(record) == wanted

    return compile_term


def text_field(getter: Callable[[Any], str | list[str] | None]) -> FieldCompiler:
    """Case-insensitive equality (any element, for lists); ``field:*`` = "has a value"."""

    def compile_term(term: Term, _ctx: SearchContext) -> Predicate | None:
        wanted = term.value.strip().lower()

        def matches(record: Any) -> bool:
            value = getter(record)
            values = value if isinstance(value, list) else [value]
            present = [v.lower() for v in values if v]
            if wanted == "*":
                return bool(present)
            return wanted in present

        return matches

    return compile_term


def number_field(getter: Callable[[Any], int | None]) -> FieldCompiler:
    def compile_term(term: Term, _ctx: SearchContext) -> Predicate | None:
        text = term.value.strip()
        if not text.isdigit():
            return None
        wanted = int(text)

        def matches(record: Any) -> bool:
            value = getter(record)
            if value is None:
                return False
            if term.op == ">":
                return value > wanted  # plain numbers do compare strictly
            return _compare(value, term.op, wanted)

        return matches

    return compile_term


def choice_field(predicates: Mapping[str, Predicate | None]) -> FieldCompiler:
    """``status:open`` style: each value has its own predicate (None = everything)."""

    def compile_term(term: Term, _ctx: SearchContext) -> Predicate | None:
        return predicates.get(term.value.strip().lower())

    return compile_term


def compile_search(
    expr: Expr | None, fields: Mapping[str, FieldCompiler], ctx: SearchContext
) -> Predicate | None:
    """A predicate for ``expr``; None when nothing filters (so callers can skip the loop)."""
    if expr is None:
        return None
    if isinstance(expr, Term):
        if expr.field is None or expr.field not in fields:
            return None
        return fields[expr.field](expr, ctx)
    if isinstance(expr, Not):
        inner = compile_search(expr.part, fields, ctx)
        if inner is None:
            return None
        return lambda record: not inner(record)
    compiled = [compile_search(part, fields, ctx) for part in expr.parts]
    if isinstance(expr, And):
        present = [p for p in compiled if p is not None]
        if not present:
            return None
        return lambda record: all(p(record) for p in present)
    if any(p is None for p in compiled):  # OR with a match-all branch matches all
        return None
    branches = [p for p in compiled if p is not None]
    return lambda record: any(p(record) for p in branches)
