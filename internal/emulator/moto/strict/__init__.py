"""The strict layer: every request to a service trailwarden calls is checked
against botocore's model of that service (and the documented rules the model
lacks, rules.py) BEFORE moto sees it, and refused as AWS refuses it.

moto accepts most inputs AWS refuses (an empty tag value, a log group ARN
without ":*", a 200-character trail name), so code that AWS would reject
passed every emulator test. With this layer such a request fails the test.

Refusals, per protocol (AWS General Reference, "Common error codes"; each
service's API Reference, "Common Errors"):
  json       HTTP 400, {"__type": "ValidationException", "message": ...}
  query      HTTP 400, <ErrorResponse><Error><Code>ValidationError</Code>...
             (SNS: InvalidParameter, its documented code for a parameter that
             does not comply with the constraints)
  rest-xml   HTTP 400, <Error><Code>InvalidArgument</Code>... (S3)
  rest-json  HTTP 400, x-amzn-ErrorType: ValidationException
or the modelled exception the service documents for the case (rules.py).

Models are loaded and routes compiled once, at start-up (launcher.py).
"""

from __future__ import annotations

import io
import json
import os
import sys
import uuid
from typing import Any
from xml.sax.saxutils import escape

from moto.moto_server.werkzeug_app import DomainDispatcherApplication

from . import catalog, check, decode, rules

_services: dict[str, catalog.Service] = {}
_orig_call: Any = None

_QUERY_CODE = {"sns": "InvalidParameter"}
_DEFAULT_CODE = {"json": "ValidationException", "query": "ValidationError",
                 "rest-xml": "InvalidArgument", "rest-json": "ValidationException"}
_MAX_REPORTED = 10


def _signing_name(environ: dict[str, Any]) -> str | None:
    auth = environ.get("HTTP_AUTHORIZATION", "")
    marker = "Credential="
    i = auth.find(marker)
    if i >= 0:
        scope = auth[i + len(marker):].split(",", 1)[0].split("/")
        return scope[3] if len(scope) >= 5 else None
    cred = environ.get("QUERY_STRING", "")
    j = cred.find("X-Amz-Credential=")
    if j >= 0:
        from urllib.parse import unquote

        scope = unquote(cred[j + 17:].split("&", 1)[0]).split("/")
        return scope[3] if len(scope) >= 5 else None
    return None


def _read_body(environ: dict[str, Any]) -> bytes:
    length = environ.get("CONTENT_LENGTH")
    stream = environ["wsgi.input"]
    body = stream.read(int(length)) if length else (stream.read() if environ.get("wsgi.input_terminated") else b"")
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    return body


def _headers(environ: dict[str, Any]) -> dict[str, str]:
    out = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
    if environ.get("CONTENT_TYPE"):
        out["content-type"] = environ["CONTENT_TYPE"]
    return out


def _streaming(environ: dict[str, Any]) -> bool:
    return ("aws-chunked" in environ.get("HTTP_CONTENT_ENCODING", "")
            or environ.get("HTTP_X_AMZ_CONTENT_SHA256", "").startswith("STREAMING-"))


def _decode(svc: catalog.Service, environ: dict[str, Any]) -> list[tuple[Any, dict[str, Any]]]:
    """The candidate (operation model, input params): one for json and query,
    the best-matching routes for rest; none when the request is not one we check."""
    qs = environ.get("QUERY_STRING", "")
    method = environ.get("REQUEST_METHOD", "GET")
    if svc.protocol == "json":
        # "<prefix>.<Operation>"; SDKs send the model's targetPrefix or its
        # last segment (the Go SDK: "CloudTrail_20131101.CreateTrail").
        op = svc.by_action.get(environ.get("HTTP_X_AMZ_TARGET", "").rsplit(".", 1)[-1])
        return [(op, decode.json_body(_read_body(environ)))] if op else []
    if svc.protocol == "query":
        body = _read_body(environ) if method == "POST" else b""
        flat = decode.query_params(body, qs)
        op = svc.by_action.get(flat.get("Action", ""))
        return [(op, decode.query(op.input_shape, flat))] if op else []
    from urllib.parse import parse_qs

    path = environ.get("PATH_INFO", "/")
    host = environ.get("HTTP_HOST", "").split(":", 1)[0]
    if svc.model.service_name == "s3" and host.endswith(".localhost"):
        path = "/" + host[: -len(".localhost")] + path
    found = svc.rest_operations(method, path, parse_qs(qs, keep_blank_values=True))
    if not found:
        return []
    body: bytes | None = None
    out = []
    for op, labels in found:
        shape = op.input_shape
        payload = shape.serialization.get("payload") if shape is not None else None
        blob = payload is not None and shape.members[payload].type_name == "blob"
        if blob or _streaming(environ) or method in ("GET", "HEAD", "DELETE"):
            data = b""
        else:
            body = _read_body(environ) if body is None else body
            data = body
        out.append((op, decode.rest(shape, svc.protocol, labels, qs, _headers(environ), data)))
    return out


def _code_for(service: str, protocol: str, violation: check.Violation) -> str:
    mapped = rules.SHAPE_CODES.get(service, {})
    for name in reversed(violation.shapes):
        if name in mapped:
            return mapped[name]
    return _QUERY_CODE.get(service, _DEFAULT_CODE[protocol]) if protocol == "query" else _DEFAULT_CODE[protocol]


def verdict(service: str, protocol: str, op_name: str, shape: Any, params: dict[str, Any]) -> tuple[str, str, int] | None:
    """(error code, message, number of violations) for a request AWS refuses, or None."""
    violations = check.check(shape, params)
    if violations:
        code = _code_for(service, protocol, violations[0])
        same = [v for v in violations if _code_for(service, protocol, v) == code][:_MAX_REPORTED]
        n = len(same)
        msg = f"{n} validation error{'s' if n > 1 else ''} detected: " + "; ".join(v.render() for v in same)
        return code, msg, len(violations)
    refused = rules.refusals(service, op_name, params)
    if refused:
        return refused[0].code, refused[0].message, len(refused)
    return None


def _reply(start_response: Any, svc: catalog.Service, code: str, message: str, method: str) -> list[bytes]:
    rid = str(uuid.uuid4())
    protocol = svc.protocol
    headers = [("x-amzn-RequestId", rid)]
    if protocol in ("json", "rest-json"):
        version = svc.model.metadata.get("jsonVersion", "1.0")
        body = json.dumps({"__type": code, "message": message}).encode()
        headers += [("Content-Type", f"application/x-amz-json-{version}" if protocol == "json" else "application/json"),
                    ("x-amzn-ErrorType", code)]
        if svc.model.metadata.get("awsQueryCompatible") is not None:
            headers.append(("x-amzn-query-error", f"{code};Sender"))
    elif protocol == "query":
        body = (f'<ErrorResponse><Error><Type>Sender</Type><Code>{escape(code)}</Code>'
                f'<Message>{escape(message)}</Message></Error><RequestId>{rid}</RequestId></ErrorResponse>').encode()
        headers.append(("Content-Type", "text/xml"))
    else:
        body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{escape(code)}</Code>'
                f'<Message>{escape(message)}</Message><RequestId>{rid}</RequestId></Error>').encode()
        headers += [("Content-Type", "application/xml"), ("x-amz-request-id", rid)]
    if method == "HEAD":
        body = b""
    headers.append(("Content-Length", str(len(body))))
    start_response("400 Bad Request", headers)
    return [body]


def _note(line: str) -> None:
    """Record a refusal or an internal error: always on stderr (the Go harness
    shows the server's output tail on failure), and appended to the file
    TRAILWARDEN_STRICT_LOG names, if set, to list a whole suite's refusals."""
    print(f"strict: {line}", file=sys.stderr, flush=True)
    path = os.environ.get("TRAILWARDEN_STRICT_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(line + "\n")


def _call(self: Any, environ: dict[str, Any], start_response: Any) -> Any:
    path = environ.get("PATH_INFO", "")
    name = None if path.startswith(("/moto-api", "/_trailwarden/")) else _signing_name(environ)
    svc = _services.get(name or "")
    if svc is not None:
        method = environ.get("REQUEST_METHOD", "")
        try:
            # Refused only when every candidate operation refuses it; then
            # with the verdict of the candidate it came closest to.
            verdicts = []
            for op, params in _decode(svc, environ):
                v = verdict(svc.model.service_name, svc.protocol, op.name, op.input_shape, params)
                if v is None:
                    verdicts = []
                    break
                verdicts.append((*v, op.name))
            best = min(verdicts, key=lambda v: v[2]) if verdicts else None
            refused = (best[0], best[1], best[3]) if best else None
        except decode.Undecodable as err:
            refused = ("SerializationException", str(err), "?")
        except Exception as err:  # a bug here must not take a request down; say so loudly
            _note(f"cannot check {svc.model.service_name} {method} {path}: {err!r}")
            refused = None
        if refused is not None:
            code, message, op_name = refused
            _note(f"refused {svc.model.service_name} {op_name}: {code}: {message}")
            return _reply(start_response, svc, code, message, method)
    return _orig_call(self, environ, start_response)


def apply() -> None:
    global _orig_call
    _services.update(catalog.load())
    _orig_call = DomainDispatcherApplication.__call__
    DomainDispatcherApplication.__call__ = _call
