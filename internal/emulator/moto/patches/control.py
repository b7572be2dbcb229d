"""Test-only control endpoint: a FAKE, not an AWS API.

CloudTrail never delivers anything in moto, so GetTrailStatus could never
report a delivery or an error. trailwarden's CloudTrail delivery simulator
records what it "delivered" here, and GetTrailStatus then reports it:

    POST /_trailwarden/trail-status
    {"account": "111111111111", "region": "us-east-1",
     "trailName": "name-or-trail-ARN",
     "fields": {"LatestDeliveryTime": 1700000000,            # epoch s or ISO-8601
                "LatestDeliveryError": "AccessDenied",        # null / "" clears
                "LatestNotificationTime": ..., "LatestNotificationError": ...,
                "LatestDigestDeliveryTime": ..., "LatestDigestDeliveryError": ...,
                "LatestCloudWatchLogsDeliveryTime": ...,
                "LatestCloudWatchLogsDeliveryError": ...}}
    -> 200 {"status": <what GetTrailStatus now returns in that Region>}
    -> 400 {"error": "..."} on bad input, 404 if the trail is unknown.

`account` and `region` may be omitted when trailName is a trail ARN (then the
ARN's account and home Region are used). `region` is the Region whose
GetTrailStatus should report the fields (for a multi-Region trail, each Region
reports its own deliveries). The route is served by wrapping moto's WSGI
dispatcher (DomainDispatcherApplication.__call__), the same place that routes
/moto-api/; nothing else answers under /_trailwarden/.
"""

from __future__ import annotations

import json
from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication

PREFIX = "/_trailwarden/"


def _reply(start_response: Any, code: int, body: dict[str, Any]) -> list[bytes]:
    data = json.dumps(body).encode()
    reason = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed"}[code]
    start_response(
        f"{code} {reason}",
        [("Content-Type", "application/json"), ("Content-Length", str(len(data)))],
    )
    return [data]


def _trail_status(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    from moto.cloudtrail.exceptions import TrailNotFoundException

    from . import cloudtrail

    if environ.get("REQUEST_METHOD") != "POST":
        return _reply(start_response, 405, {"error": "use POST"})
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        req = json.loads(environ["wsgi.input"].read(length) or b"{}")
        if not isinstance(req, dict):
            raise ValueError("body must be a JSON object")
        name = req.get("trailName")
        if not isinstance(name, str) or not name:
            raise ValueError("trailName is required")
        account, region = req.get("account"), req.get("region")
        if name.startswith("arn:"):
            parts = name.split(":")
            if len(parts) != 6:
                raise ValueError("trailName is not a trail ARN")
            account = account or parts[4]
            region = region or parts[3]
        if not account or not region:
            raise ValueError("account and region are required with a trail name")
        fields = req.get("fields") or {}
        if not isinstance(fields, dict):
            raise ValueError("fields must be an object")
        status = cloudtrail.record_status(str(account), str(region), name, fields)
    except TrailNotFoundException as err:
        return _reply(start_response, 404, {"error": err.message})
    except (ValueError, TypeError, KeyError) as err:
        return _reply(start_response, 400, {"error": str(err)})
    return _reply(start_response, 200, {"status": status})


ROUTES = {PREFIX + "trail-status": _trail_status}

_orig_call = DomainDispatcherApplication.__call__


def _call(self: Any, environ: dict[str, Any], start_response: Any) -> Any:
    path = environ.get("PATH_INFO", "")
    if path.startswith(PREFIX):
        handler = ROUTES.get(path.rstrip("/"))
        if handler is None:
            return _reply(start_response, 404, {"error": f"no fake route {path}"})
        return handler(environ, start_response)
    return _orig_call(self, environ, start_response)


def apply() -> None:
    DomainDispatcherApplication.__call__ = _call
