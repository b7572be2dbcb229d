"""The service models the strict layer checks requests against, loaded once.

A request is matched to its service by the SigV4 credential scope's signing
name, then to its operation by the protocol's own rule: X-Amz-Target for json,
Action for query, method + request URI (+ query literals) for rest-xml and
rest-json. Only the services trailwarden (its code, its tests, `cdk deploy`)
calls are checked; anything else reaches moto unchanged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import botocore.session
from botocore.model import OperationModel, ServiceModel

# botocore service names. The CloudWatch client speaks awsQuery to the
# emulator (internal/emulator config); its model still describes the shapes.
SERVICES = (
    "cloudtrail", "s3", "sns", "sqs", "dynamodb", "events", "organizations", "sts",
    "iam", "kms", "logs", "cloudwatch", "lambda", "cloudformation", "ssm",
)

_LABEL = re.compile(r"\{([^}+]+)(\+?)\}")


@dataclass
class RestRoute:
    op: OperationModel
    method: str
    path: re.Pattern[str]
    labels: list[tuple[str, bool]]  # (label name, greedy)
    literals: dict[str, str | None]  # query literals of the request URI
    weight: int


@dataclass
class Service:
    model: ServiceModel
    protocol: str
    by_action: dict[str, OperationModel] = field(default_factory=dict)
    routes: list[RestRoute] = field(default_factory=list)

    def rest_operations(self, method: str, path: str, query: dict[str, list[str]]) -> list[tuple[OperationModel, dict[str, str]]]:
        """The operations whose routes match best (S3 has routes that only the
        headers tell apart, e.g. PutObject and CopyObject), with their URI labels."""
        hint = (query.get("x-id") or [None])[0]
        best: list[tuple[OperationModel, dict[str, str]]] = []
        top = None
        for r in self.routes:
            if r.method != method:
                continue
            m = r.path.fullmatch(path)
            if not m:
                continue
            if any(k not in query or (v is not None and v not in query[k]) for k, v in r.literals.items()):
                continue
            score = r.weight + (1000 if hint == r.op.name else 0)
            found = (r.op, {name: m.group(i + 1) for i, (name, _) in enumerate(r.labels)})
            if top is None or score > top:
                top, best = score, [found]
            elif score == top:
                best.append(found)
        return best


def _route(op: OperationModel) -> RestRoute:
    uri = op.http.get("requestUri", "/")
    path, _, qs = uri.partition("?")
    literals: dict[str, str | None] = {}
    for part in filter(None, qs.split("&")):
        k, eq, v = part.partition("=")
        literals[k] = v if eq else None
    labels: list[tuple[str, bool]] = []
    pattern, pos = "", 0
    for m in _LABEL.finditer(path):
        pattern += re.escape(path[pos:m.start()])
        greedy = m.group(2) == "+"
        pattern += "(.+)" if greedy else "([^/]+)"
        labels.append((m.group(1), greedy))
        pos = m.end()
    pattern += re.escape(path[pos:])
    if path.endswith("/") and path != "/":
        pattern += "?"
    static = len(_LABEL.sub("", path))
    return RestRoute(op, op.http.get("method", "POST"), re.compile(pattern), labels, literals,
                     weight=10 * len(literals) + static - (5 if any(g for _, g in labels) else 0))


def load() -> dict[str, Service]:
    """signing name -> Service, for every checked service."""
    session = botocore.session.get_session()
    out: dict[str, Service] = {}
    for name in SERVICES:
        model = session.get_service_model(name)
        meta: dict[str, Any] = model.metadata
        protocol = meta.get("protocol", "")
        if name == "cloudwatch":
            protocol = "query"
        svc = Service(model, protocol)
        for op_name in model.operation_names:
            op = model.operation_model(op_name)
            svc.by_action[op_name] = op
            if protocol.startswith("rest"):
                svc.routes.append(_route(op))
        out[meta.get("signingName") or model.endpoint_prefix] = svc
    return out
