"""CloudTrail ListPublicKeys, which moto does not implement.

AWS CloudTrail API reference, "ListPublicKeys": returns the public keys whose
private keys signed digest files in [StartTime, EndTime]; either bound defaults
to the current time ("If not specified, the current time is used, and the
current public key is returned"); keys are per Region. Response:
{"PublicKeyList": [{"Value": blob (DER PKCS #1), "ValidityStartTime",
"ValidityEndTime", "Fingerprint"}]}. A start after the end is
InvalidTimeRangeException. The AWS CLI's validate-logs calls it.

Digest signing keys belong to AWS, not to an account, so the emulator cannot
invent them: trailwarden's delivery simulator registers the keys it signs with
through a test-only FAKE route (not an AWS API), added to control.py's routes:

    POST /_trailwarden/public-keys
    {"region": "us-east-1",
     "keys": [{"Value": "<base64 DER>", "Fingerprint": "...",
               "ValidityStartTime": 1700000000 or "2026-01-01T00:00:00Z",
               "ValidityEndTime": ...}]}
    -> 200 {"count": n}: the Region's key list is replaced.

Tests: internal/emulator/moto/tests/test_cloudtrail_keys.py.
"""

from __future__ import annotations

import base64
import json
import time
from datetime import datetime, timezone
from typing import Any

from moto.cloudtrail import responses
from moto.core.exceptions import JsonRESTError

from . import control

# Region -> keys as {"der": bytes, "fp": str, "start": epoch, "end": epoch}.
_KEYS: dict[str, list[dict[str, Any]]] = {}


class InvalidTimeRangeException(JsonRESTError):
    code = 400

    def __init__(self) -> None:
        super().__init__(
            "InvalidTimeRangeException",
            "Occurs if the timestamp values are invalid. Either the start time occurs after the end time or the time range is outside the range of possible values.",
        )


def _epoch(v: Any) -> float:
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return float(v)
    if isinstance(v, str):
        return datetime.fromisoformat(v.replace("Z", "+00:00")).astimezone(timezone.utc).timestamp()
    raise ValueError(f"not a time: {v!r}")


def _list_public_keys(self: Any) -> str:
    now = time.time()
    start = self._get_param("StartTime")
    end = self._get_param("EndTime")
    start = now if start is None else _epoch(start)
    end = now if end is None else _epoch(end)
    if start > end:
        raise InvalidTimeRangeException()
    keys = [k for k in _KEYS.get(self.region, []) if k["start"] <= end and k["end"] >= start]
    return json.dumps(
        {
            "PublicKeyList": [
                {
                    "Value": base64.b64encode(k["der"]).decode(),
                    "ValidityStartTime": k["start"],
                    "ValidityEndTime": k["end"],
                    "Fingerprint": k["fp"],
                }
                for k in keys
            ]
        }
    )


def _register(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    if environ.get("REQUEST_METHOD") != "POST":
        return control._reply(start_response, 405, {"error": "use POST"})
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        req = json.loads(environ["wsgi.input"].read(length) or b"{}")
        region = req.get("region") if isinstance(req, dict) else None
        if not isinstance(region, str) or not region:
            raise ValueError("region is required")
        keys = []
        for k in req.get("keys") or []:
            keys.append(
                {
                    "der": base64.b64decode(k["Value"], validate=True),
                    "fp": str(k["Fingerprint"]),
                    "start": _epoch(k["ValidityStartTime"]),
                    "end": _epoch(k["ValidityEndTime"]),
                }
            )
    except (ValueError, TypeError, KeyError, AttributeError) as err:
        return control._reply(start_response, 400, {"error": str(err)})
    _KEYS[region] = keys
    return control._reply(start_response, 200, {"count": len(keys)})


def apply() -> None:
    responses.CloudTrailResponse.list_public_keys = _list_public_keys
    control.ROUTES[control.PREFIX + "public-keys"] = _register
