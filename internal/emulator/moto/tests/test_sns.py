"""SNS patches (patches/sns.py): cross-account SNS -> SQS delivery."""

from __future__ import annotations

import json
import unittest
from typing import Any

from botocore.exceptions import ClientError

import harness


def setUpModule() -> None:
    harness.servers()


P, U = "patched", "unpatched"


def setup(which: str, subscriber: str) -> tuple[Any, Any, str]:
    """Topic in account A (us-east-1), queue in account B (us-west-2);
    ``subscriber`` ("topic" or "queue") says which account subscribes."""
    a, b = harness.new_account(), harness.new_account()
    sns_a = harness.assumed_client(which, "sns", a, "us-east-1")
    sqs_b = harness.assumed_client(which, "sqs", b, "us-west-2")
    topic = sns_a.create_topic(Name="trail-notifications")["TopicArn"]
    url = sqs_b.create_queue(QueueName="verifier")["QueueUrl"]
    qarn = sqs_b.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    if subscriber == "topic":
        sns_a.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=qarn)
    else:
        sns_b = harness.assumed_client(which, "sns", b, "us-east-1")
        sns_b.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=qarn)
    return sns_a, sqs_b, url


def receive(sqs: Any, url: str) -> list[dict[str, Any]]:
    return sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])


MESSAGE = json.dumps({"s3Bucket": "b", "s3ObjectKey": ["k"]})


class CrossAccountDelivery(unittest.TestCase):
    def test_topic_owner_subscribes_patched(self) -> None:
        sns_a, sqs_b, url = setup(P, "topic")
        topic = sns_a.list_topics()["Topics"][0]["TopicArn"]
        sns_a.publish(TopicArn=topic, Message=MESSAGE)
        msgs = receive(sqs_b, url)
        self.assertEqual(len(msgs), 1)
        envelope = json.loads(msgs[0]["Body"])
        self.assertEqual(envelope["TopicArn"], topic)
        self.assertEqual(envelope["Message"], MESSAGE)

    def test_queue_owner_subscribes_patched(self) -> None:
        sns_a, sqs_b, url = setup(P, "queue")
        topic = sns_a.list_topics()["Topics"][0]["TopicArn"]
        sns_a.publish(TopicArn=topic, Message=MESSAGE)
        msgs = receive(sqs_b, url)
        self.assertEqual(len(msgs), 1)
        sqs_b.delete_message(QueueUrl=url, ReceiptHandle=msgs[0]["ReceiptHandle"])
        # The queue owner's Unsubscribe stops delivery.
        sub = sns_a.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"][0]
        queue_account = sub["Endpoint"].split(":")[4]
        sns_b = harness.assumed_client(P, "sns", queue_account, "us-east-1")
        sns_b.unsubscribe(SubscriptionArn=sub["SubscriptionArn"])
        sns_a.publish(TopicArn=topic, Message=MESSAGE)
        self.assertEqual(receive(sqs_b, url), [])

    def test_cross_account_upstream_quirk(self) -> None:
        for subscriber in ("topic", "queue"):
            sns_a, sqs_b, url = setup(U, subscriber)
            topic = sns_a.list_topics()["Topics"][0]["TopicArn"]
            try:
                sns_a.publish(TopicArn=topic, Message=MESSAGE)
            except ClientError:
                pass  # the topic owner's subscription: queue not found in A
            self.assertEqual(receive(sqs_b, url), [], subscriber)


if __name__ == "__main__":
    unittest.main()
