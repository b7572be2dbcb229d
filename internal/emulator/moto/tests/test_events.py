"""EventBridge patches (patches/events.py)."""

from __future__ import annotations

import json
import unittest
from typing import Any

import harness


def setUpModule() -> None:
    harness.servers()


P, U = "patched", "unpatched"

PATTERN = json.dumps({"source": ["aws.organizations"]})


def setup(which: str, enabled: bool = True) -> tuple[str, Any, Any, str]:
    account = harness.new_account()
    events = harness.client(which, "events", account)
    sqs = harness.client(which, "sqs", account)
    url = sqs.create_queue(QueueName="org-events")["QueueUrl"]
    qarn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="org", EventPattern=PATTERN, State="ENABLED" if enabled else "DISABLED")
    events.put_targets(Rule="org", Targets=[{"Id": "q", "Arn": qarn}])
    return account, events, sqs, url


def put(events: Any) -> None:
    out = events.put_events(
        Entries=[
            {
                "Source": "aws.organizations",
                "DetailType": "AWS API Call via CloudTrail",
                "Detail": json.dumps({"eventName": "AcceptHandshake"}),
            }
        ]
    )
    assert out["FailedEntryCount"] == 0, out


def received(sqs: Any, url: str) -> list[dict[str, Any]]:
    msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(m["Body"]) for m in msgs]


class AccountField(unittest.TestCase):
    def test_account_field_patched(self) -> None:
        account, events, sqs, url = setup(P)
        put(events)
        got = received(sqs, url)
        self.assertEqual(len(got), 1)
        self.assertEqual(got[0]["account"], account)
        self.assertEqual(
            list(got[0]),
            ["version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"],
        )

    def test_account_field_upstream_quirk(self) -> None:
        _, events, sqs, url = setup(U)
        put(events)
        got = received(sqs, url)
        self.assertEqual(len(got), 1)
        self.assertNotIn("account", got[0])


class DisabledRule(unittest.TestCase):
    # DisableRule API reference: "A disabled rule won't match any events".
    def test_disabled_rule_patched(self) -> None:
        _, events, sqs, url = setup(P, enabled=False)
        put(events)
        self.assertEqual(received(sqs, url), [])
        events.enable_rule(Name="org")
        put(events)
        self.assertEqual(len(received(sqs, url)), 1)

    def test_disabled_rule_upstream_quirk(self) -> None:
        _, events, sqs, url = setup(U, enabled=False)
        put(events)
        self.assertEqual(len(received(sqs, url)), 1)


if __name__ == "__main__":
    unittest.main()
