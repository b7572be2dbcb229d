"""The input shape's constraints, checked as AWS's request validation does:
required members, string and blob length, list and map size, number range,
enum values and patterns (Smithy traits required, length, range, enum,
pattern; botocore carries them as required/min/max/enum/pattern).

botocore's own ParamValidator checks only required members, types and
minimums (it leaves max, enum and pattern to the service), so this walker
covers the rest. Each violation is reported like AWS's ValidationException
message: "Value 'x' at 'tagsList.1.member.value' failed to satisfy
constraint: Member must ...". A pattern must match the whole value, as AWS's
request validation applies it: DynamoDB refuses the table name "my table"
with "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+", a
pattern that occurs inside it. The `regex` module reads the \\p{..} classes
of the models' Java regexes.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import regex
from botocore.model import Shape


@dataclass(frozen=True)
class Violation:
    path: str
    message: str
    shapes: tuple[str, ...]  # the named shapes enclosing the failing value, outermost first
    value: Any = None

    def render(self) -> str:
        v = "null" if self.value is None else _short(self.value)
        return f"Value {v} at '{self.path}' failed to satisfy constraint: {self.message}"


def _short(v: Any) -> str:
    if isinstance(v, (bytes, bytearray)):
        return f"'<{len(v)} bytes>'"
    if isinstance(v, (list, dict)):
        return f"'<{type(v).__name__} of {len(v)}>'"
    s = str(v)
    return "'" + (s if len(s) <= 100 else s[:100] + "...") + "'"


@lru_cache(maxsize=4096)
def _pattern(p: str) -> Any:
    try:
        return regex.compile(p, regex.V0)
    except regex.error:
        return None


def check(shape: Shape | None, value: Any, path: str = "", shapes: tuple[str, ...] = ()) -> list[Violation]:
    out: list[Violation] = []
    if shape is not None:
        _walk(shape, value, path, shapes, out)
    return out


def _member_path(path: str, name: str) -> str:
    name = name[:1].lower() + name[1:]
    return f"{path}.{name}" if path else name


def _walk(shape: Shape, v: Any, path: str, shapes: tuple[str, ...], out: list[Violation]) -> None:
    shapes = shapes + (shape.name,)
    meta, t = shape.metadata, shape.type_name
    if t == "structure":
        if not isinstance(v, dict):
            return
        if shape.metadata.get("document"):
            return
        for name in shape.required_members:
            if v.get(name) is None:
                out.append(Violation(_member_path(path, name), "Member must not be null", shapes))
        for name, ref in shape.members.items():
            if v.get(name) is not None:
                _walk(ref, v[name], _member_path(path, name), shapes, out)
        return
    if t == "list":
        if not isinstance(v, list):
            return
        _bounds(meta, len(v), v, path, shapes, out, "length")
        for i, item in enumerate(v, 1):
            if item is not None:
                _walk(shape.member, item, f"{path}.{i}.member", shapes, out)
        return
    if t == "map":
        if not isinstance(v, dict):
            return
        _bounds(meta, len(v), v, path, shapes, out, "length")
        for k, item in v.items():
            _walk(shape.key, k, f"{path}.{k}.key", shapes, out)
            if item is not None:
                _walk(shape.value, item, f"{path}.{k}.value", shapes, out)
        return
    if t == "string" and isinstance(v, str):
        _bounds(meta, len(v), v, path, shapes, out, "length")
        enum = shape.enum
        if enum and v not in enum:
            out.append(Violation(path, f"Member must satisfy enum value set: [{', '.join(enum)}]", shapes, v))
        p = meta.get("pattern")
        if p is not None:
            rx = _pattern(p)
            if rx is not None and rx.fullmatch(v) is None:
                out.append(Violation(path, f"Member must satisfy regular expression pattern: {p}", shapes, v))
        return
    if t == "blob" and isinstance(v, (bytes, bytearray)):
        _bounds(meta, len(v), v, path, shapes, out, "length")
        return
    if t in ("integer", "long", "float", "double") and isinstance(v, (int, float)) and not isinstance(v, bool):
        _bounds(meta, v, v, path, shapes, out, "value")


def _bounds(meta: dict[str, Any], n: float, v: Any, path: str, shapes: tuple[str, ...], out: list[Violation], what: str) -> None:
    lo, hi = meta.get("min"), meta.get("max")
    if lo is not None and n < lo:
        out.append(Violation(path, f"Member must have {what} greater than or equal to {lo}", shapes, v))
    if hi is not None and n > hi:
        out.append(Violation(path, f"Member must have {what} less than or equal to {hi}", shapes, v))
