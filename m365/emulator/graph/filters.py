"""OData `$filter` expressions: a small parser and an evaluator over JSON objects.

Covers what Graph clients send to the resources the emulator serves: comparisons
(`eq ne gt ge lt le`, `in (...)`), `and`/`or`/`not`, parentheses, `startswith`/`endswith`/
`contains`, lambdas (`groupTypes/any(c:c eq 'Unified')`), navigation (`protectionUnit/id`),
`/$count`, and string, number, boolean, null, GUID and date-time literals.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..clock import parse_iso

Predicate = Callable[[dict[str, Any]], bool]


class FilterSyntaxError(ValueError):
    pass


@dataclass(frozen=True)
class CompiledFilter:
    predicate: Predicate
    properties: frozenset[str]  # top-level properties the expression reads
    clauses: int  # number of comparisons, for FilterLengthExceeded
    # Equality constraints on top-level properties joined by `and` at the root: lets a
    # handler look an object up directly instead of scanning (e.g. `id eq '...'`).
    equalities: dict[str, Any]


_TOKEN = re.compile(
    r"""\s*(?:
    (?P<string>'(?:[^']|'')*')
  | (?P<guid>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}(?![\w-]))
  | (?P<datetime>\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})?)?)
  | (?P<number>-?\d+(?:\.\d+)?(?![\w-]))
  | (?P<ident>\$?[A-Za-z_][\w.]*)
  | (?P<punct>[(),/:])
    )""",
    re.VERBOSE,
)

_COMPARISONS = {"eq", "ne", "gt", "ge", "lt", "le"}
_FUNCTIONS = {"startswith", "endswith", "contains", "tolower", "toupper"}


@dataclass(frozen=True)
class _Tok:
    kind: str
    value: Any


def _tokenize(text: str) -> list[_Tok]:
    tokens: list[_Tok] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise FilterSyntaxError(f"unexpected character at position {pos}: {text[pos:]!r}")
        pos = match.end()
        kind = match.lastgroup
        raw = match.group(kind)
        if kind == "string":
            tokens.append(_Tok("literal", raw[1:-1].replace("''", "'")))
        elif kind == "guid":
            tokens.append(_Tok("literal", raw.lower()))
        elif kind == "datetime":
            try:
                tokens.append(_Tok("datetime", parse_iso(raw)))
            except ValueError as exc:
                raise FilterSyntaxError(f"invalid date-time literal {raw}") from exc
        elif kind == "number":
            tokens.append(_Tok("literal", float(raw) if "." in raw else int(raw)))
        elif kind == "ident":
            lowered = raw.lower()
            if lowered in ("true", "false"):
                tokens.append(_Tok("literal", lowered == "true"))
            elif lowered == "null":
                tokens.append(_Tok("literal", None))
            else:
                tokens.append(_Tok("ident", raw))
        else:
            tokens.append(_Tok("punct", raw))
    return tokens


# An evaluator takes (item, variables) and returns a value.
Evaluator = Callable[[dict[str, Any], dict[str, Any]], Any]


class _Parser:
    def __init__(self, tokens: list[_Tok]) -> None:
        self.tokens = tokens
        self.pos = 0
        self.properties: set[str] = set()
        self.clauses = 0
        self.variables: list[str] = []

    def peek(self, offset: int = 0) -> _Tok | None:
        index = self.pos + offset
        return self.tokens[index] if index < len(self.tokens) else None

    def take(self) -> _Tok:
        token = self.peek()
        if token is None:
            raise FilterSyntaxError("unexpected end of expression")
        self.pos += 1
        return token

    def expect(self, value: str) -> None:
        token = self.take()
        if token.kind != "punct" or token.value != value:
            raise FilterSyntaxError(f"expected {value!r}, found {token.value!r}")

    def keyword(self, *words: str) -> str | None:
        token = self.peek()
        if token is not None and token.kind == "ident" and token.value.lower() in words:
            self.pos += 1
            return token.value.lower()
        return None

    # expr := and_expr ('or' and_expr)*
    def parse_or(self) -> Evaluator:
        left = self.parse_and()
        while self.keyword("or"):
            right = self.parse_and()
            left = (lambda a, b: lambda it, env: bool(a(it, env)) or bool(b(it, env)))(left, right)
        return left

    def parse_and(self) -> Evaluator:
        left = self.parse_not()
        while self.keyword("and"):
            right = self.parse_not()
            left = (lambda a, b: lambda it, env: bool(a(it, env)) and bool(b(it, env)))(left, right)
        return left

    def parse_not(self) -> Evaluator:
        if self.keyword("not"):
            inner = self.parse_not()
            return lambda it, env: not inner(it, env)
        return self.parse_comparison()

    def parse_comparison(self) -> Evaluator:
        left, left_kind = self.parse_primary()
        op = self.keyword(*_COMPARISONS, "in")
        if op is None:
            return left
        self.clauses += 1
        if op == "in":
            self.expect("(")
            options = []
            while True:
                token = self.take()
                if token.kind not in ("literal", "datetime"):
                    raise FilterSyntaxError("`in` takes a list of literals")
                options.append(token.value)
                if self.peek() and self.peek().value == ",":
                    self.pos += 1
                    continue
                self.expect(")")
                break
            return lambda it, env: any(_compare("eq", left(it, env), o) for o in options)
        right, right_kind = self.parse_primary()
        dated = "datetime" in (left_kind, right_kind)

        def compare(it: dict[str, Any], env: dict[str, Any]) -> bool:
            a, b = left(it, env), right(it, env)
            if dated:
                a, b = _as_time(a), _as_time(b)
            return _compare(op, a, b)

        return compare

    def parse_primary(self) -> tuple[Evaluator, str]:
        token = self.take()
        if token.kind == "punct" and token.value == "(":
            inner = self.parse_or()
            self.expect(")")
            return inner, "expr"
        if token.kind in ("literal", "datetime"):
            value = token.value
            return (lambda it, env: value), token.kind
        if token.kind != "ident":
            raise FilterSyntaxError(f"unexpected {token.value!r}")
        name = token.value
        nxt = self.peek()
        if name.lower() in _FUNCTIONS and nxt is not None and nxt.value == "(":
            return self.parse_function(name.lower()), "expr"
        return self.parse_path(name), "path"

    def parse_function(self, name: str) -> Evaluator:
        self.expect("(")
        args = [self.parse_or()]
        while self.peek() is not None and self.peek().value == ",":
            self.pos += 1
            args.append(self.parse_or())
        self.expect(")")
        if name in ("tolower", "toupper"):
            if len(args) != 1:
                raise FilterSyntaxError(f"{name} takes one argument")
            convert = str.lower if name == "tolower" else str.upper
            (arg,) = args
            return lambda it, env: convert(v) if isinstance(v := arg(it, env), str) else v
        if len(args) != 2:
            raise FilterSyntaxError(f"{name} takes two arguments")
        self.clauses += 1
        test = {
            "startswith": str.startswith,
            "endswith": str.endswith,
            "contains": str.__contains__,
        }[name]
        a, b = args

        def apply(it: dict[str, Any], env: dict[str, Any]) -> bool:
            x, y = a(it, env), b(it, env)
            return isinstance(x, str) and isinstance(y, str) and test(x.lower(), y.lower())

        return apply

    def parse_path(self, first: str) -> Evaluator:
        if first in self.variables:
            steps: list[Any] = []
            root_variable: str | None = first
        else:
            self.properties.add(first)
            steps = [first]
            root_variable = None
        while self.peek() is not None and self.peek().value == "/":
            self.pos += 1
            segment = self.take()
            if segment.kind != "ident":
                raise FilterSyntaxError("expected a property name after '/'")
            word = segment.value
            if word.lower() in ("any", "all") and self.peek() and self.peek().value == "(":
                steps.append(self.parse_lambda(word.lower()))
            else:
                steps.append(word)
        frozen = tuple(steps)

        def resolve(it: dict[str, Any], env: dict[str, Any]) -> Any:
            value: Any = env[root_variable] if root_variable else it
            for step in frozen:
                if callable(step):
                    value = step(value, env, it)
                elif step == "$count":
                    value = len(value) if isinstance(value, list | dict | str) else 0
                elif isinstance(value, dict):
                    value = value.get(step)
                else:
                    return None
            return value

        return resolve

    def parse_lambda(self, quantifier: str) -> Callable[..., bool]:
        self.expect("(")
        variable = self.take()
        if variable.kind != "ident":
            raise FilterSyntaxError("expected a lambda variable")
        self.expect(":")
        self.variables.append(variable.value)
        body = self.parse_or()
        self.variables.pop()
        self.expect(")")
        name = variable.value
        test = any if quantifier == "any" else all

        def apply(collection: Any, env: dict[str, Any], it: dict[str, Any]) -> bool:
            if not isinstance(collection, list):
                return False
            return test(bool(body(it, {**env, name: element})) for element in collection)

        return apply


def _as_time(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return parse_iso(value)
        except ValueError:
            return value
    return value


def _compare(op: str, a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        a, b = a.lower(), b.lower()
    if op == "eq":
        return a == b
    if op == "ne":
        return a != b
    if a is None or b is None or type(a) is bool or type(b) is bool:
        return False
    try:
        return {"gt": a > b, "ge": a >= b, "lt": a < b, "le": a <= b}[op]
    except TypeError:
        return False


_ROOT_EQUALITY = re.compile(r"^\s*(\w+)\s+eq\s+('(?:[^']|'')*'|[0-9a-fA-F-]{36}|\d+)\s*$", re.I)


def compile_filter(text: str) -> CompiledFilter:
    """Compile an OData `$filter` value; raises FilterSyntaxError."""
    parser = _Parser(_tokenize(text))
    evaluator = parser.parse_or()
    if parser.peek() is not None:
        raise FilterSyntaxError(f"unexpected {parser.peek().value!r}")
    equalities: dict[str, Any] = {}
    for part in re.split(r"\s+and\s+", text, flags=re.I):
        match = _ROOT_EQUALITY.match(part)
        if match and " or " not in text.lower():
            raw = match.group(2)
            value = raw[1:-1].replace("''", "'") if raw.startswith("'") else raw
            equalities[match.group(1)] = value
    return CompiledFilter(
        predicate=lambda item: bool(evaluator(item, {})),
        properties=frozenset(parser.properties),
        clauses=parser.clauses,
        equalities=equalities,
    )
