"""EventBridge fidelity patches.

* ``account`` in delivered events. EventBridge User Guide, "Amazon EventBridge
  events" (event structure reference): every event has the top-level fields
  version, id, detail-type, source, account, time, region, resources, detail;
  ``account`` is "the 12-digit number identifying an AWS account". moto builds
  the delivered event (targets without an InputTransformer) from a default
  template that leaves ``account`` out; the template is replaced by one with
  all the documented fields, in the documented order.
* Disabled rules. DisableRule API reference: "A disabled rule won't match any
  events". moto still delivered to the targets of a disabled rule.

Not patched (see docs/emulator.md): target Input/InputPath, cross-account SQS
targets, the source account of events forwarded to another account's bus.
Tests: internal/emulator/moto/tests/test_events.py.
"""

from __future__ import annotations

from typing import Any

from moto.events import models, utils

TEMPLATE = (
    '{"version": "0", "id": "<id>", "detail-type": "<detail-type>", '
    '"source": "<source>", "account": "<account>", "time": <time>, '
    '"region": "<region>", "resources": <resources>, "detail": <detail>}'
)

_orig_send = models.Rule.send_to_targets


def _send_to_targets(self: Any, *args: Any, **kwargs: Any) -> None:
    if self.state == "DISABLED":
        return
    _orig_send(self, *args, **kwargs)


def apply() -> None:
    utils.EventTemplateParser.DEFAULT_EVENT_INPUT_TEMPLATE = TEMPLATE
    models.Rule.send_to_targets = _send_to_targets
