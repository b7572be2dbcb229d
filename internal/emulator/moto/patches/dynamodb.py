"""DynamoDB patch: a conditional write checks and writes atomically.

AWS: PutItem, UpdateItem and DeleteItem with a condition expression succeed
only if the item meets the condition at the time of the write; when two
clients update the same item concurrently with a condition on its current
state, one succeeds and the other fails with ConditionalCheckFailedException
(Amazon DynamoDB Developer Guide, "Working with items and attributes" →
"Conditional writes"; PutItem/UpdateItem/DeleteItem API reference).

moto serves requests on threads (moto.server runs the WSGI app with
threaded=True) and its DynamoDB backend reads the item, evaluates the
condition and writes without a lock, so two concurrent conditional writes to
one item can both succeed (seen in trailwarden's incident lease test). The
patch serializes the backend's writes with one lock per process — AWS's
per-item atomicity, more coarsely.
"""

from __future__ import annotations

import functools
import threading
from typing import Any, Callable

_LOCK = threading.RLock()

# The backend methods that read-then-write items.
METHODS = ("put_item", "update_item", "delete_item", "transact_write_items")


def _locked(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with _LOCK:
            return fn(*args, **kwargs)

    wrapper.__trailwarden_locked__ = True  # type: ignore[attr-defined]
    return wrapper


def apply() -> None:
    from moto.dynamodb.models import DynamoDBBackend

    for name in METHODS:
        fn = getattr(DynamoDBBackend, name)
        if not getattr(fn, "__trailwarden_locked__", False):
            setattr(DynamoDBBackend, name, _locked(fn))
