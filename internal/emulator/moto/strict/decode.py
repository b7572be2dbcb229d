"""Request bodies, query strings, URI labels and headers back into the input
shape's members, per protocol, as botocore's serializers wrote them
(botocore/serialize.py: JSONSerializer, QuerySerializer, RestXMLSerializer,
RestJSONSerializer). Unknown parameters are dropped: AWS's own handling of
them differs by service, and the checks here are about the modelled ones.
"""

from __future__ import annotations

import base64
import binascii
import json
import xml.etree.ElementTree as ET
from typing import Any
from urllib.parse import parse_qs

from botocore.model import Shape


class Undecodable(ValueError):
    """The body cannot be read in the protocol's format (AWS: SerializationException)."""


def _scalar(shape: Shape, raw: str) -> Any:
    t = shape.type_name
    try:
        if t in ("integer", "long"):
            return int(raw)
        if t in ("float", "double"):
            return float(raw)
    except ValueError:
        return raw
    if t == "boolean":
        return raw.lower() == "true"
    if t == "blob":
        try:
            return base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            return raw.encode()
    return raw


def json_body(body: bytes) -> dict[str, Any]:
    if not body.strip():
        return {}
    try:
        out = json.loads(body)
    except (ValueError, UnicodeDecodeError) as err:
        raise Undecodable(str(err)) from err
    if not isinstance(out, dict):
        raise Undecodable("the body is not a JSON object")
    return out


def query_params(body: bytes, query_string: str) -> dict[str, str]:
    flat: dict[str, str] = {}
    for source in (query_string, body.decode("utf-8", "replace")):
        for k, v in parse_qs(source, keep_blank_values=True).items():
            flat.setdefault(k, v[0])
    return flat


class _Query:
    def __init__(self, flat: dict[str, str]) -> None:
        self.flat = flat
        self.prefixes: set[str] = set()
        for key in flat:
            parts = key.split(".")
            for i in range(1, len(parts) + 1):
                self.prefixes.add(".".join(parts[:i]))

    def value(self, shape: Shape, prefix: str) -> Any:
        if prefix not in self.prefixes:
            return None
        t = shape.type_name
        if t == "structure":
            out = {}
            for name, ref in shape.members.items():
                v = self.value(ref, f"{prefix}.{ref.serialization.get('name', name)}" if prefix else ref.serialization.get("name", name))
                if v is not None:
                    out[name] = v
            return out
        if t == "list":
            if self.flat.get(prefix) == "" and prefix + ".member" not in self.prefixes:
                return []  # botocore writes an empty list as "Name="
            item = prefix if shape.serialization.get("flattened") else f"{prefix}.{shape.member.serialization.get('name', 'member')}"
            return self._items(item, lambda p: self.value(shape.member, p))
        if t == "map":
            entry = prefix if shape.serialization.get("flattened") else f"{prefix}.entry"
            kn = shape.key.serialization.get("name", "key")
            vn = shape.value.serialization.get("name", "value")
            pairs = self._items(entry, lambda p: (self.value(shape.key, f"{p}.{kn}"), self.value(shape.value, f"{p}.{vn}")))
            return {k: v for k, v in pairs if k is not None}
        raw = self.flat.get(prefix)
        return None if raw is None else _scalar(shape, raw)

    def _items(self, prefix: str, read: Any) -> list[Any]:
        out, i = [], 1
        while f"{prefix}.{i}" in self.prefixes:
            out.append(read(f"{prefix}.{i}"))
            i += 1
        return out


def query(shape: Shape | None, flat: dict[str, str]) -> dict[str, Any]:
    if shape is None:
        return {}
    q = _Query(flat)
    out = {}
    for name, ref in shape.members.items():
        v = q.value(ref, ref.serialization.get("name", name))
        if v is not None:
            out[name] = v
    return out


def _xml(shape: Shape, el: ET.Element) -> Any:
    t = shape.type_name
    if t == "structure":
        out: dict[str, Any] = {}
        children = list(el)
        for name, ref in shape.members.items():
            tag = ref.serialization.get("name", name)
            hits = [c for c in children if _local(c.tag) == tag]
            if not hits:
                continue
            if ref.type_name == "list" and ref.serialization.get("flattened"):
                out[name] = [_xml(ref.member, h) for h in hits]
            else:
                out[name] = _xml(ref, hits[0])
        return out
    if t == "list":
        return [_xml(shape.member, c) for c in el]
    if t == "map":
        return {}
    return _scalar(shape, el.text or "")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _xml_body(shape: Shape, body: bytes) -> Any:
    if not body.strip():
        return None
    try:
        root = ET.fromstring(body)
    except ET.ParseError as err:
        raise Undecodable(str(err)) from err
    return _xml(shape, root)


def rest(shape: Shape | None, protocol: str, labels: dict[str, str], query_string: str,
         headers: dict[str, str], body: bytes) -> dict[str, Any]:
    if shape is None:
        return {}
    qs = parse_qs(query_string, keep_blank_values=True)
    out: dict[str, Any] = {}
    payload = shape.serialization.get("payload")
    body_members: dict[str, Shape] = {}
    for name, ref in shape.members.items():
        loc = ref.serialization.get("location")
        key = ref.serialization.get("name", name)
        if loc == "uri":
            if key in labels:
                out[name] = _scalar(ref, labels[key])
        elif loc == "querystring":
            if ref.type_name == "list" and key in qs:
                out[name] = [_scalar(ref.member, v) for v in qs[key]]
            elif ref.type_name == "map":
                continue
            elif key in qs:
                out[name] = _scalar(ref, qs[key][0])
        elif loc == "header":
            if key.lower() in headers:
                out[name] = _scalar(ref, headers[key.lower()])
        elif loc == "headers":
            pre = key.lower()
            found = {h[len(pre):]: v for h, v in headers.items() if h.startswith(pre)}
            if found:
                out[name] = found
        elif name == payload:
            if ref.type_name in ("blob", "string"):
                if body:
                    out[name] = body if ref.type_name == "blob" else body.decode("utf-8", "replace")
            else:
                v = json_body(body) if protocol == "rest-json" else _xml_body(ref, body)
                if v is not None:
                    out[name] = v
        elif not loc:
            body_members[name] = ref
    if body_members and payload is None:
        if protocol == "rest-json":
            doc = json_body(body)
            out.update({n: doc[n if n in doc else shape.members[n].serialization.get("name", n)]
                        for n in body_members if n in doc or shape.members[n].serialization.get("name", n) in doc})
        else:
            v = _xml_body(shape, body)
            if isinstance(v, dict):
                out.update({k: v[k] for k in body_members if k in v})
    return out
