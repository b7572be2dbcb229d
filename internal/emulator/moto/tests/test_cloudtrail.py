"""CloudTrail patches (patches/cloudtrail.py, patches/control.py).

Each AWS behaviour is asserted on the patched server (test_*_patched) and the
upstream quirk on the unpatched one (test_*_upstream_quirk): when a moto
upgrade fixes or moves a gap, the quirk test fails and the patch must be
re-checked or dropped.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import types
import unittest
import urllib.error
import urllib.request
from typing import Any

from botocore.exceptions import ClientError

import harness


def setUpModule() -> None:
    harness.servers()


P, U = "patched", "unpatched"


def code(err: ClientError) -> str:
    return err.response["Error"]["Code"]


class Env:
    """An account with a bucket and a topic ready for trails."""

    def __init__(self, which: str, region: str = "us-east-1") -> None:
        self.which = which
        self.account = harness.new_account()
        self.region = region
        self.ct = self.client("cloudtrail", region)
        self.bucket = f"tw-trail-{self.account}"
        self.client("s3", "us-east-1").create_bucket(Bucket=self.bucket)

    def client(self, service: str, region: str | None = None) -> Any:
        return harness.client(self.which, service, self.account, region or self.region)

    def trail(self, name: str = "org-audit", **kw: Any) -> dict[str, Any]:
        return self.ct.create_trail(Name=name, S3BucketName=self.bucket, **kw)

    def arn(self, name: str = "org-audit", region: str | None = None) -> str:
        return f"arn:aws:cloudtrail:{region or self.region}:{self.account}:trail/{name}"


def foreign_topic(which: str, region: str = "us-west-2") -> str:
    """A topic in a fresh account and another Region; returns its ARN."""
    owner = harness.new_account()
    sns = harness.client(which, "sns", owner, region)
    return sns.create_topic(Name="ct-notifications")["TopicArn"]


class SnsTopicArn(unittest.TestCase):
    # CreateTrail/UpdateTrail API reference: SnsTopicName is a name or an ARN.
    def test_topic_arn_patched(self) -> None:
        env = Env(P)
        topic = foreign_topic(P)
        out = env.trail(SnsTopicName=topic)
        self.assertEqual(out["SnsTopicARN"], topic)
        self.assertEqual(out["SnsTopicName"], "ct-notifications")
        got = env.ct.get_trail(Name="org-audit")["Trail"]
        self.assertEqual(got["SnsTopicARN"], topic)

        local = env.client("sns").create_topic(Name="local")["TopicArn"]
        out = env.ct.update_trail(Name="org-audit", SnsTopicName="local")
        self.assertEqual(out["SnsTopicARN"], local)
        out = env.ct.update_trail(Name="org-audit", SnsTopicName=topic)
        self.assertEqual(out["SnsTopicARN"], topic)
        self.assertEqual(out["SnsTopicName"], "ct-notifications")
        out = env.ct.update_trail(Name="org-audit", SnsTopicName="")
        self.assertNotIn("SnsTopicARN", out)
        self.assertNotIn("SnsTopicARN", env.ct.get_trail(Name="org-audit")["Trail"])

    def test_missing_topic_patched(self) -> None:
        env = Env(P)
        with self.assertRaises(ClientError) as ctx:
            env.trail(SnsTopicName="arn:aws:sns:us-west-2:999999999999:absent")
        self.assertEqual(code(ctx.exception), "InsufficientSnsTopicPolicyException")

    def test_topic_arn_upstream_quirk(self) -> None:
        env = Env(U)
        topic = foreign_topic(U)
        with self.assertRaises(ClientError) as ctx:
            env.trail(SnsTopicName=topic)
        self.assertEqual(code(ctx.exception), "InsufficientSnsTopicPolicyException")
        env.trail()
        out = env.ct.update_trail(Name="org-audit", SnsTopicName=topic)
        self.assertNotEqual(out["SnsTopicARN"], topic)  # malformed ARN


class DuplicateTrail(unittest.TestCase):
    # CreateTrail API reference: TrailAlreadyExistsException.
    def test_duplicate_patched(self) -> None:
        env = Env(P)
        env.trail()
        with self.assertRaises(ClientError) as ctx:
            env.trail(S3KeyPrefix="other")
        self.assertEqual(code(ctx.exception), "TrailAlreadyExistsException")
        self.assertEqual(ctx.exception.response["ResponseMetadata"]["HTTPStatusCode"], 400)
        self.assertNotIn("S3KeyPrefix", env.ct.get_trail(Name="org-audit")["Trail"])

    def test_duplicate_of_multi_region_shadow_patched(self) -> None:
        env = Env(P)
        env.trail(IsMultiRegionTrail=True)
        other = env.client("cloudtrail", "eu-west-1")
        with self.assertRaises(ClientError) as ctx:
            other.create_trail(Name="org-audit", S3BucketName=env.bucket)
        self.assertEqual(code(ctx.exception), "TrailAlreadyExistsException")

    def test_duplicate_upstream_quirk(self) -> None:
        env = Env(U)
        env.trail()
        env.trail(S3KeyPrefix="other")  # silently overwrites
        self.assertEqual(env.ct.get_trail(Name="org-audit")["Trail"]["S3KeyPrefix"], "other")


def race_create(which: str, callers: int = 6, names: int = 4) -> list[list[str]]:
    """``callers`` threads call CreateTrail with one name at once, for each
    of ``names`` names; returns each name's outcomes ("ok" or an error code)."""
    env = Env(which)
    outcomes = []
    for n in range(names):
        clients = [env.client("cloudtrail") for _ in range(callers)]
        start = threading.Barrier(callers)
        got: list[str] = []
        lock = threading.Lock()

        def call(c: Any, name: str = f"race-{n}") -> None:
            start.wait()
            try:
                c.create_trail(Name=name, S3BucketName=env.bucket)
                res = "ok"
            except ClientError as err:
                res = code(err)
            with lock:
                got.append(res)

        threads = [threading.Thread(target=call, args=(c,)) for c in clients]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        outcomes.append(sorted(got))
    return outcomes


class ConcurrentCreate(unittest.TestCase):
    # CreateTrail API reference: TrailAlreadyExistsException "This exception
    # is thrown when the specified trail already exists": of concurrent
    # calls for one name, one creates the trail and the others get it.
    def test_racing_create_patched(self) -> None:
        for got in race_create(P):
            self.assertEqual(got, ["TrailAlreadyExistsException"] * 5 + ["ok"])

    def test_forced_race_patched(self) -> None:
        # In this process, the upstream insert is held until both callers
        # have passed the name check: only the patch's lock keeps the second
        # caller out, and it then sees the first one's trail.
        sys.path.insert(0, os.path.dirname(harness.HERE))
        from moto.cloudtrail.models import cloudtrail_backends

        from patches import cloudtrail as ct

        backend = cloudtrail_backends[harness.new_account()]["us-east-1"]
        inside = threading.Barrier(2, timeout=1)

        def held_insert(self: Any, name: str, *_: Any, **__: Any) -> Any:
            try:
                inside.wait()
            except threading.BrokenBarrierError:
                pass  # the other caller is held by the lock
            self.trails[name] = types.SimpleNamespace(is_multi_region=False)
            return self.trails[name]

        got: list[str] = []

        def call() -> None:
            try:
                ct._create_trail(backend, "org-audit")
                got.append("ok")
            except ct.TrailAlreadyExistsException:
                got.append("TrailAlreadyExistsException")

        orig, ct._orig_create_trail = ct._orig_create_trail, held_insert
        try:
            threads = [threading.Thread(target=call) for _ in range(2)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        finally:
            ct._orig_create_trail = orig
        self.assertEqual(sorted(got), ["TrailAlreadyExistsException", "ok"])

    def test_racing_create_upstream_quirk(self) -> None:
        for got in race_create(U):
            self.assertEqual(got, ["ok"] * 6)  # every caller "creates" the trail


class TrailQuota(unittest.TestCase):
    # Quotas in AWS CloudTrail: 5 trails per Region; a multi-Region trail
    # counts in every Region.
    def test_sixth_trail_patched(self) -> None:
        env = Env(P)
        env.client("cloudtrail", "eu-west-1").create_trail(
            Name="everywhere", S3BucketName=env.bucket, IsMultiRegionTrail=True
        )
        for i in range(4):
            env.trail(f"trail-{i}")
        with self.assertRaises(ClientError) as ctx:
            env.trail("one-too-many")
        self.assertEqual(code(ctx.exception), "MaximumNumberOfTrailsExceededException")

    def test_sixth_trail_upstream_quirk(self) -> None:
        env = Env(U)
        for i in range(6):
            env.trail(f"trail-{i}")
        self.assertEqual(len(env.ct.describe_trails()["trailList"]), 6)


class ByNameOrArn(unittest.TestCase):
    def test_operations_by_arn_patched(self) -> None:
        env = Env(P)
        env.trail()
        arn = env.arn()
        env.ct.start_logging(Name=arn)
        self.assertTrue(env.ct.get_trail_status(Name=arn)["IsLogging"])
        env.ct.stop_logging(Name=arn)
        self.assertFalse(env.ct.get_trail_status(Name="org-audit")["IsLogging"])
        env.ct.put_event_selectors(
            TrailName=arn,
            EventSelectors=[{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True}],
        )
        self.assertEqual(
            env.ct.get_event_selectors(TrailName=arn)["EventSelectors"][0]["ReadWriteType"],
            "WriteOnly",
        )
        env.ct.add_tags(ResourceId=arn, TagsList=[{"Key": "owner", "Value": "tw"}])
        tags = env.ct.list_tags(ResourceIdList=[arn])["ResourceTagList"][0]["TagsList"]
        self.assertEqual(tags, [{"Key": "owner", "Value": "tw"}])
        env.ct.remove_tags(ResourceId=arn, TagsList=[{"Key": "owner"}])
        env.ct.update_trail(Name=arn, S3KeyPrefix="p")
        env.ct.delete_trail(Name=arn)
        self.assertEqual(env.ct.describe_trails()["trailList"], [])

    def test_unknown_trail_patched(self) -> None:
        env = Env(P)
        unknown = env.arn("absent")
        calls = [
            lambda: env.ct.start_logging(Name="absent"),
            lambda: env.ct.stop_logging(Name=unknown),
            lambda: env.ct.delete_trail(Name="absent"),
            lambda: env.ct.delete_trail(Name=unknown),
            lambda: env.ct.get_trail(Name=unknown),
            lambda: env.ct.get_trail_status(Name=unknown),
            lambda: env.ct.update_trail(Name=unknown, S3KeyPrefix="x"),
            lambda: env.ct.get_event_selectors(TrailName=unknown),
            lambda: env.ct.put_insight_selectors(TrailName=unknown, InsightSelectors=[]),
            lambda: env.ct.get_insight_selectors(TrailName=unknown),
        ]
        for call in calls:
            with self.assertRaises(ClientError) as ctx:
                call()
            self.assertEqual(code(ctx.exception), "TrailNotFoundException")
        # AddTags/RemoveTags/ListTags API reference: ResourceNotFoundException.
        with self.assertRaises(ClientError) as ctx:
            env.ct.list_tags(ResourceIdList=[unknown])
        self.assertEqual(code(ctx.exception), "ResourceNotFoundException")
        with self.assertRaises(ClientError) as ctx:
            env.ct.get_trail(Name="arn:aws:cloudtrail:us-east-1:bad")
        self.assertEqual(code(ctx.exception), "CloudTrailARNInvalidException")

    def test_other_account_arn_not_found_patched(self) -> None:
        env, other = Env(P), Env(P)
        env.trail()
        with self.assertRaises(ClientError) as ctx:
            other.ct.get_trail(Name=env.arn())
        self.assertEqual(code(ctx.exception), "TrailNotFoundException")

    def test_shadow_trail_patched(self) -> None:
        env = Env(P)
        env.trail(IsMultiRegionTrail=True)
        arn = env.arn()
        away = env.client("cloudtrail", "eu-west-1")
        got = away.get_trail(Name=arn)["Trail"]
        self.assertEqual(got["HomeRegion"], "us-east-1")
        self.assertEqual(got["TrailARN"], arn)
        self.assertIn("IsLogging", away.get_trail_status(Name=arn))
        # A name finds only trails whose home is the calling Region.
        with self.assertRaises(ClientError) as ctx:
            away.get_trail(Name="org-audit")
        self.assertEqual(code(ctx.exception), "TrailNotFoundException")
        for call in (
            lambda: away.start_logging(Name=arn),
            lambda: away.stop_logging(Name=arn),
            lambda: away.delete_trail(Name=arn),
            lambda: away.update_trail(Name=arn, S3KeyPrefix="x"),
            lambda: away.put_insight_selectors(
                TrailName=arn, InsightSelectors=[{"InsightType": "ApiCallRateInsight"}]
            ),
            lambda: away.add_tags(ResourceId=arn, TagsList=[{"Key": "k", "Value": "v"}]),
        ):
            with self.assertRaises(ClientError) as ctx:
                call()
            self.assertEqual(code(ctx.exception), "InvalidHomeRegionException")
        # A single-Region trail is not visible from another Region.
        env.trail(name="local-only")
        with self.assertRaises(ClientError) as ctx:
            away.get_trail(Name=env.arn("local-only"))
        self.assertEqual(code(ctx.exception), "TrailNotFoundException")

    def test_by_arn_upstream_quirk(self) -> None:
        env = Env(U)
        env.trail(IsMultiRegionTrail=True)
        env.ct.delete_trail(Name=env.arn())  # does nothing
        env.ct.delete_trail(Name="absent")  # no error
        self.assertEqual(len(env.ct.describe_trails()["trailList"]), 1)
        tags = env.ct.list_tags(ResourceIdList=[env.arn("absent")])["ResourceTagList"]
        self.assertEqual(tags[0].get("TagsList", []), [])
        away = env.client("cloudtrail", "eu-west-1")
        with self.assertRaises(ClientError):
            away.get_trail(Name=env.arn())
        self.assertNotIn("HomeRegion", env.ct.get_trail(Name="org-audit")["Trail"])


class InsightSelectors(unittest.TestCase):
    def test_replace_and_turn_off_patched(self) -> None:
        env = Env(P)
        env.trail()
        with self.assertRaises(ClientError) as ctx:
            env.ct.get_insight_selectors(TrailName="org-audit")
        self.assertEqual(code(ctx.exception), "InsightNotEnabledException")
        self.assertFalse(env.ct.get_trail(Name="org-audit")["Trail"]["HasInsightSelectors"])
        env.ct.put_insight_selectors(
            TrailName="org-audit", InsightSelectors=[{"InsightType": "ApiCallRateInsight"}]
        )
        env.ct.put_insight_selectors(
            TrailName="org-audit", InsightSelectors=[{"InsightType": "ApiErrorRateInsight"}]
        )
        got = env.ct.get_insight_selectors(TrailName="org-audit")["InsightSelectors"]
        self.assertEqual(got, [{"InsightType": "ApiErrorRateInsight"}])
        self.assertTrue(env.ct.get_trail(Name="org-audit")["Trail"]["HasInsightSelectors"])
        env.ct.put_insight_selectors(TrailName="org-audit", InsightSelectors=[])
        with self.assertRaises(ClientError) as ctx:
            env.ct.get_insight_selectors(TrailName="org-audit")
        self.assertEqual(code(ctx.exception), "InsightNotEnabledException")
        with self.assertRaises(ClientError) as ctx:
            env.ct.put_insight_selectors(
                TrailName="org-audit", InsightSelectors=[{"InsightType": "Bogus"}]
            )
        self.assertEqual(code(ctx.exception), "InvalidInsightSelectorsException")

    def test_insights_upstream_quirk(self) -> None:
        env = Env(U)
        env.trail()
        self.assertNotIn("InsightSelectors", env.ct.get_insight_selectors(TrailName="org-audit"))
        for t in ("ApiCallRateInsight", "ApiErrorRateInsight"):
            env.ct.put_insight_selectors(TrailName="org-audit", InsightSelectors=[{"InsightType": t}])
        got = env.ct.get_insight_selectors(TrailName="org-audit")["InsightSelectors"]
        self.assertEqual(len(got), 2)  # appended, not replaced
        env.ct.put_insight_selectors(TrailName="org-audit", InsightSelectors=[])
        self.assertEqual(len(env.ct.get_insight_selectors(TrailName="org-audit")["InsightSelectors"]), 2)
        self.assertFalse(env.ct.get_trail(Name="org-audit")["Trail"]["HasInsightSelectors"])


ADVANCED = [
    {
        "Name": "management",
        "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}],
    }
]


class EventSelectors(unittest.TestCase):
    def test_default_and_exclusive_patched(self) -> None:
        env = Env(P)
        env.trail()
        got = env.ct.get_event_selectors(TrailName="org-audit")
        self.assertEqual(
            got["EventSelectors"],
            [
                {
                    "ReadWriteType": "All",
                    "IncludeManagementEvents": True,
                    "DataResources": [],
                    "ExcludeManagementEventSources": [],
                }
            ],
        )
        self.assertNotIn("AdvancedEventSelectors", got)
        self.assertFalse(env.ct.get_trail(Name="org-audit")["Trail"]["HasCustomEventSelectors"])
        with self.assertRaises(ClientError) as ctx:
            env.ct.put_event_selectors(
                TrailName="org-audit",
                EventSelectors=[{"ReadWriteType": "All"}],
                AdvancedEventSelectors=ADVANCED,
            )
        self.assertEqual(code(ctx.exception), "InvalidParameterCombinationException")
        env.ct.put_event_selectors(TrailName="org-audit", AdvancedEventSelectors=ADVANCED)
        got = env.ct.get_event_selectors(TrailName="org-audit")
        self.assertEqual(got["AdvancedEventSelectors"], ADVANCED)
        self.assertNotIn("EventSelectors", got)
        self.assertTrue(env.ct.get_trail(Name="org-audit")["Trail"]["HasCustomEventSelectors"])
        env.ct.put_event_selectors(
            TrailName="org-audit", EventSelectors=[{"ReadWriteType": "WriteOnly"}]
        )
        got = env.ct.get_event_selectors(TrailName="org-audit")
        self.assertEqual(got["EventSelectors"], [{"ReadWriteType": "WriteOnly"}])
        self.assertNotIn("AdvancedEventSelectors", got)

    def test_selectors_upstream_quirk(self) -> None:
        env = Env(U)
        env.trail()
        self.assertEqual(env.ct.get_event_selectors(TrailName="org-audit")["EventSelectors"], [])
        env.ct.put_event_selectors(
            TrailName="org-audit",
            EventSelectors=[{"ReadWriteType": "All"}],
            AdvancedEventSelectors=ADVANCED,
        )
        env.ct.put_event_selectors(TrailName="org-audit", AdvancedEventSelectors=ADVANCED)
        self.assertFalse(env.ct.get_trail(Name="org-audit")["Trail"]["HasCustomEventSelectors"])


class DescribeTrails(unittest.TestCase):
    def test_name_list_patched(self) -> None:
        env = Env(P)
        env.trail(name="one")
        env.trail(name="two", IsMultiRegionTrail=True)
        names = lambda **kw: sorted(t["Name"] for t in env.ct.describe_trails(**kw)["trailList"])
        self.assertEqual(names(trailNameList=["one"]), ["one"])
        self.assertEqual(names(trailNameList=[env.arn("two"), "absent"]), ["two"])
        self.assertEqual(names(), ["one", "two"])
        away = env.client("cloudtrail", "eu-west-1")
        listed = away.describe_trails()["trailList"]
        self.assertEqual([(t["Name"], t["HomeRegion"]) for t in listed], [("two", "us-east-1")])
        self.assertEqual(away.describe_trails(includeShadowTrails=False)["trailList"], [])
        self.assertEqual(away.describe_trails(trailNameList=["two"])["trailList"], [])
        self.assertEqual(
            [t["Name"] for t in away.describe_trails(trailNameList=[env.arn("two")])["trailList"]],
            ["two"],
        )

    def test_name_list_upstream_quirk(self) -> None:
        env = Env(U)
        env.trail(name="one")
        env.trail(name="two")
        self.assertEqual(len(env.ct.describe_trails(trailNameList=["one"])["trailList"]), 2)


class UpdateTrailBucket(unittest.TestCase):
    # UpdateTrail API reference: S3BucketDoesNotExistException.
    def test_missing_bucket_patched(self) -> None:
        env = Env(P)
        env.trail()
        with self.assertRaises(ClientError) as ctx:
            env.ct.update_trail(Name="org-audit", S3BucketName="tw-absent-bucket")
        self.assertEqual(code(ctx.exception), "S3BucketDoesNotExistException")
        self.assertEqual(env.ct.get_trail(Name="org-audit")["Trail"]["S3BucketName"], env.bucket)

    def test_missing_bucket_upstream_quirk(self) -> None:
        env = Env(U)
        env.trail()
        out = env.ct.update_trail(Name="org-audit", S3BucketName="tw-absent-bucket")
        self.assertEqual(out["S3BucketName"], "tw-absent-bucket")


class KmsKeyId(unittest.TestCase):
    def test_key_arn_patched(self) -> None:
        env = Env(P)
        kms = env.client("kms")
        key = kms.create_key()["KeyMetadata"]
        kms.create_alias(AliasName="alias/trail", TargetKeyId=key["KeyId"])
        self.assertEqual(env.trail(KmsKeyId="alias/trail")["KmsKeyId"], key["Arn"])
        self.assertEqual(env.ct.update_trail(Name="org-audit", KmsKeyId=key["KeyId"])["KmsKeyId"], key["Arn"])
        foreign = "arn:aws:kms:us-east-1:999999999999:key/11111111-2222-3333-4444-555555555555"
        self.assertEqual(env.ct.update_trail(Name="org-audit", KmsKeyId=foreign)["KmsKeyId"], foreign)
        with self.assertRaises(ClientError) as ctx:
            env.ct.update_trail(Name="org-audit", KmsKeyId="alias/absent")
        self.assertEqual(code(ctx.exception), "KmsKeyNotFoundException")

    def test_key_upstream_quirk(self) -> None:
        env = Env(U)
        self.assertEqual(env.trail(KmsKeyId="alias/trail")["KmsKeyId"], "alias/trail")


def post_status(which: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    req = urllib.request.Request(
        harness.servers()[which] + "/_trailwarden/trail-status",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        raw = err.read()
        try:
            return err.code, json.loads(raw)
        except ValueError:
            return err.code, {"body": raw.decode(errors="replace")}


class TrailStatus(unittest.TestCase):
    def test_no_fake_delivery_time_patched(self) -> None:
        env = Env(P)
        env.trail(IsMultiRegionTrail=True)
        env.ct.start_logging(Name="org-audit")
        status = env.ct.get_trail_status(Name="org-audit")
        self.assertTrue(status["IsLogging"])
        self.assertIn("StartLoggingTime", status)
        self.assertNotIn("LatestDeliveryTime", status)

        code_, body = post_status(
            P,
            {
                "account": env.account,
                "region": "us-east-1",
                "trailName": "org-audit",
                "fields": {
                    "LatestDeliveryTime": 1700000000,
                    "LatestDigestDeliveryTime": "2023-11-14T22:13:20Z",
                    "LatestNotificationError": "AuthorizationError",
                },
            },
        )
        self.assertEqual(code_, 200, body)
        status = env.ct.get_trail_status(Name="org-audit")
        self.assertEqual(status["LatestDeliveryTime"].timestamp(), 1700000000)
        self.assertEqual(status["LatestDigestDeliveryTime"].timestamp(), 1700000000)
        self.assertEqual(status["LatestNotificationError"], "AuthorizationError")

        # Per Region: the shadow Region reports its own deliveries (by ARN).
        away = env.client("cloudtrail", "eu-west-1")
        self.assertNotIn("LatestDeliveryTime", away.get_trail_status(Name=env.arn()))
        code_, _ = post_status(
            P, {"region": "eu-west-1", "trailName": env.arn(), "fields": {"LatestDeliveryTime": 1700000100}}
        )
        self.assertEqual(code_, 200)
        self.assertEqual(away.get_trail_status(Name=env.arn())["LatestDeliveryTime"].timestamp(), 1700000100)

        code_, _ = post_status(P, {"account": env.account, "region": "us-east-1", "trailName": "org-audit", "fields": {"LatestNotificationError": None}})
        self.assertNotIn("LatestNotificationError", env.ct.get_trail_status(Name="org-audit"))
        code_, _ = post_status(P, {"account": env.account, "region": "us-east-1", "trailName": "absent", "fields": {}})
        self.assertEqual(code_, 404)
        code_, _ = post_status(P, {"account": env.account, "region": "us-east-1", "trailName": "org-audit", "fields": {"Bogus": 1}})
        self.assertEqual(code_, 400)

    def test_delivery_time_upstream_quirk(self) -> None:
        env = Env(U)
        env.trail()
        env.ct.start_logging(Name="org-audit")
        self.assertIn("LatestDeliveryTime", env.ct.get_trail_status(Name="org-audit"))
        code_, _ = post_status(U, {"trailName": env.arn(), "fields": {}})
        self.assertNotEqual(code_, 200)


if __name__ == "__main__":
    unittest.main()
