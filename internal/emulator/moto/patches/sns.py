"""SNS fidelity patches: cross-account SNS -> SQS delivery.

AWS behaviour restored (Amazon SNS Developer Guide, "Sending Amazon SNS
messages to an Amazon SQS queue in a different account"; Subscribe API
reference, Endpoint for the sqs protocol "is the ARN of an Amazon SQS queue"):
a topic in account A delivers to a queue in account B named by its ARN,
whether A (topic owner) or B (queue owner) made the subscription, given the
topic and queue policies allow it. moto does not evaluate those policies, so
delivery is unconditional here.

moto 5.2.5 gaps patched:
  * Subscription.publish sends to ``sqs_backends[<subscriber account>]`` instead
    of the queue's account (from the endpoint ARN), so a topic owner's
    subscription to another account's queue never delivers.
  * SNSBackend.subscribe stores a subscription made by the queue owner (a
    different account from the topic's) only in the caller's backend, where
    the topic's Publish never looks; it is now also registered with the
    topic's backend (and removed from both by Unsubscribe).
Tests: internal/emulator/moto/tests/test_sns.py.
"""

from __future__ import annotations

import copy
from typing import Any

from moto.sns import models

Subscription = models.Subscription
Backend = models.SNSBackend

_orig_publish = Subscription.publish
_orig_subscribe = Backend.subscribe
_orig_unsubscribe = Backend.unsubscribe


def _queue_account(endpoint: str) -> str | None:
    parts = endpoint.split(":")
    return parts[4] if len(parts) == 6 and parts[2] == "sqs" else None


def _publish(self: Any, *args: Any, **kwargs: Any) -> None:
    if self.protocol == "sqs":
        account = _queue_account(self.endpoint)
        if account and account != self.account_id:
            # Deliver through a copy that names the queue's account: moto's
            # sqs branch picks the SQS backend by ``self.account_id``.
            target = copy.copy(self)
            target.account_id = account
            return _orig_publish(target, *args, **kwargs)
    return _orig_publish(self, *args, **kwargs)


def _topic_backend(topic_arn: str) -> Any:
    parts = topic_arn.split(":")
    return models.sns_backends[parts[4]][parts[3]]


def _subscribe(self: Any, topic_arn: str, endpoint: str, protocol: str) -> Any:
    sub = _orig_subscribe(self, topic_arn, endpoint, protocol)
    topic_backend = _topic_backend(sub.topic.arn)
    if topic_backend is not self:
        topic_backend.subscriptions[sub.arn] = sub
    return sub


def _unsubscribe(self: Any, subscription_arn: str) -> None:
    _orig_unsubscribe(self, subscription_arn)
    parts = subscription_arn.split(":")
    if len(parts) == 7:
        _topic_backend(":".join(parts[:6])).subscriptions.pop(subscription_arn, None)


def apply() -> None:
    Subscription.publish = _publish
    Backend.subscribe = _subscribe
    Backend.unsubscribe = _unsubscribe
