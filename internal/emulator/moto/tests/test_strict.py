"""The strict layer (strict/): requests AWS refuses are refused with AWS's
error before moto sees them, valid ones at the limits pass.

Each rule is asserted on the patched server (refused and accepted) and the
upstream gap on the unpatched one (moto alone accepts the request), so that a
moto upgrade that starts refusing it shows up. Clients are built with
validate=False: botocore's own client-side checks would stop the request
before it reaches the server.
"""

from __future__ import annotations

import json
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


class Trails:
    """An account with a bucket for trails, on one server."""

    def __init__(self, which: str) -> None:
        self.which = which
        self.account = harness.new_account()
        self.bucket = f"tw-strict-{self.account}"
        self.client("s3").create_bucket(Bucket=self.bucket)
        self.ct = self.client("cloudtrail")

    def client(self, service: str) -> Any:
        return harness.client(self.which, service, self.account, validate=False)

    def create(self, name: str = "org-audit", **kw: Any) -> dict[str, Any]:
        return self.ct.create_trail(Name=name, S3BucketName=self.bucket, **kw)

    def arn(self, name: str) -> str:
        return f"arn:aws:cloudtrail:us-east-1:{self.account}:trail/{name}"


class StrictCase(unittest.TestCase):
    def refused(self, want: str, call: Any, *args: Any, **kw: Any) -> ClientError:
        with self.assertRaises(ClientError) as ctx:
            call(*args, **kw)
        self.assertEqual(code(ctx.exception), want, ctx.exception)
        return ctx.exception


def tags(*pairs: tuple[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in pairs]


class CloudTrailTags(StrictCase):
    # API Reference, Tag: Key 1-128, Value 1-256 characters; CreateTrail/AddTags
    # errors: InvalidTagParameterException for a key or value outside
    # ^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$, or duplicate tags.
    BAD = [
        ("empty value", ("trailwarden:managed-tags", "")),
        ("comma-joined keys", ("trailwarden:managed-tags", "owner,team")),
        ("semicolon", ("owner", "a;b")),
        ("key with a comma", ("a,b", "v")),
        ("value of 257", ("owner", "v" * 257)),
        ("key of 129", ("k" * 129, "v")),
        ("empty key", ("", "v")),
    ]
    GOOD = [("Team A+B", "x:y/z=w@q_-."), ("k" * 128, "v" * 256), ("Ünïcode ключ", "値 1")]

    def test_refused_patched(self) -> None:
        env = Trails(P)
        env.create()
        for label, pair in self.BAD:
            with self.subTest(label):
                self.refused("InvalidTagParameterException", env.create, "tagged", TagsList=tags(pair))
                self.refused("InvalidTagParameterException", env.ct.add_tags,
                             ResourceId=env.arn("org-audit"), TagsList=tags(pair))
        self.refused("InvalidTagParameterException", env.create, "tagged", TagsList=tags(("a", "1"), ("a", "2")))
        self.refused("TrailNotFoundException", env.ct.get_trail, Name="tagged")

    def test_accepted_patched(self) -> None:
        env = Trails(P)
        env.create(TagsList=tags(*self.GOOD))
        env.ct.add_tags(ResourceId=env.arn("org-audit"), TagsList=tags(("solo", "1")))
        got = env.ct.list_tags(ResourceIdList=[env.arn("org-audit")])["ResourceTagList"][0]["TagsList"]
        self.assertEqual(len(got), len(self.GOOD) + 1)

    def test_tags_per_trail_patched(self) -> None:
        # CloudTrail User Guide, Quotas: 50 tags per trail (TagsLimitExceededException).
        env = Trails(P)
        env.create("fifty", TagsList=tags(*[(f"k{i}", "v") for i in range(50)]))
        self.refused("TagsLimitExceededException", env.create, "fifty-one",
                     TagsList=tags(*[(f"k{i}", "v") for i in range(51)]))
        # AddTags counts the trail's existing tags; an existing key is overwritten.
        env.create("forty-nine", TagsList=tags(*[(f"k{i}", "v") for i in range(49)]))
        env.ct.add_tags(ResourceId=env.arn("forty-nine"), TagsList=tags(("k0", "w"), ("k49", "v")))
        self.refused("TagsLimitExceededException", env.ct.add_tags, ResourceId=env.arn("forty-nine"),
                     TagsList=tags(("k50", "v")))
        self.refused("TagsLimitExceededException", env.ct.add_tags, ResourceId=env.arn("fifty"),
                     TagsList=tags(("k50", "v")))

    def test_tags_per_trail_upstream_quirk(self) -> None:
        env = Trails(U)
        env.create("fifty-one", TagsList=tags(*[(f"k{i}", "v") for i in range(51)]))
        env.ct.add_tags(ResourceId=env.arn("fifty-one"), TagsList=tags(("k51", "v")))

    def test_upstream_quirk(self) -> None:
        env = Trails(U)
        env.create(TagsList=tags(("trailwarden:managed-tags", ""), ("a,b", "c;d")))


class CloudTrailNames(StrictCase):
    # CloudTrail User Guide, "Naming requirements for CloudTrail resources":
    # InvalidTrailNameException.
    BAD = ["ab", "a" * 129, "-abc", "abc-", "my--trail", "my-_trail", "a..b", "my trail",
           "trail!", "192.168.5.4", "ünï"]
    GOOD = ["abc", "a" * 128, "org.audit_trail-1", "9lives", "192.168.5.4a"]

    def test_names_patched(self) -> None:
        env = Trails(P)
        for name in self.BAD:
            with self.subTest(name):
                self.refused("InvalidTrailNameException", env.create, name)
                self.refused("InvalidTrailNameException", env.ct.get_trail_status, Name=name)
        for name in self.GOOD:
            with self.subTest(name):
                env.create(name)
                env.ct.get_trail_status(Name=name)
                env.ct.get_trail_status(Name=env.arn(name))

    def test_arn_patched(self) -> None:
        # "If you specify a trail ARN, it must be in the format:
        # arn:aws:cloudtrail:us-east-2:123456789012:trail/MyTrail".
        env = Trails(P)
        for arn in ("arn:aws:cloudtrail:us-east-1:12345:trail/abc", "arn:aws:cloudtrail:us-east-1:123456789012:abc"):
            with self.subTest(arn):
                self.refused("CloudTrailARNInvalidException", env.ct.get_trail, Name=arn)
        self.refused("CloudTrailARNInvalidException", env.ct.add_tags,
                     ResourceId="arn:aws:cloudtrail:us-east-1:1:trail/x", TagsList=tags(("a", "b")))

    def test_upstream_quirk(self) -> None:
        env = Trails(U)
        env.create("my--trail")


class CloudTrailSettings(StrictCase):
    def test_log_group_arn_patched(self) -> None:
        # CloudTrail User Guide, "Sending events to CloudWatch Logs": the log
        # group ARN ends in ":*"; otherwise InvalidCloudWatchLogsLogGroupArnException.
        env = Trails(P)
        role = f"arn:aws:iam::{env.account}:role/CloudTrail_CloudWatchLogs_Role"
        group = f"arn:aws:logs:us-east-1:{env.account}:log-group:/trailwarden/cloudtrail"
        self.refused("InvalidCloudWatchLogsLogGroupArnException", env.create,
                     CloudWatchLogsLogGroupArn=group, CloudWatchLogsRoleArn=role)
        self.refused("InvalidCloudWatchLogsRoleArnException", env.create,
                     CloudWatchLogsLogGroupArn=group + ":*", CloudWatchLogsRoleArn="CloudTrail_Role")
        env.create(CloudWatchLogsLogGroupArn=group + ":*", CloudWatchLogsRoleArn=role)
        self.refused("InvalidCloudWatchLogsLogGroupArnException", env.ct.update_trail,
                     Name="org-audit", CloudWatchLogsLogGroupArn=group, CloudWatchLogsRoleArn=role)

    def test_kms_key_id_patched(self) -> None:
        # CreateTrail KmsKeyId: alias/Name, alias ARN, key ARN or key id;
        # InvalidKmsKeyIdException otherwise.
        env = Trails(P)
        key = env.client("kms").create_key()["KeyMetadata"]
        env.client("kms").create_alias(AliasName="alias/trails", TargetKeyId=key["KeyId"])
        alias_arn = f"arn:aws:kms:us-east-1:{env.account}:alias/trails"
        for i, form in enumerate((key["KeyId"], key["Arn"], "alias/trails", alias_arn)):
            with self.subTest(form):
                self.assertEqual(env.create(f"kms-{i}", KmsKeyId=form)["KmsKeyId"], key["Arn"])
        for bad in ("trails", "key/" + key["KeyId"], f"arn:aws:kms:us-east-1:{env.account}:trails"):
            with self.subTest(bad):
                self.refused("InvalidKmsKeyIdException", env.create, "kms-bad", KmsKeyId=bad)

    def test_s3_prefix_patched(self) -> None:
        # CreateTrail S3KeyPrefix: "The maximum length is 200 characters."
        env = Trails(P)
        env.create("prefix-ok", S3KeyPrefix="p" * 200)
        self.refused("InvalidS3PrefixException", env.create, "prefix-long", S3KeyPrefix="p" * 201)

    def test_upstream_quirk(self) -> None:
        env = Trails(U)
        env.create(CloudWatchLogsLogGroupArn="not-an-arn", CloudWatchLogsRoleArn="nope",
                   S3KeyPrefix="p" * 201)


class ModelChecks(StrictCase):
    """botocore's model, one case per protocol (json, query, rest-xml) and per
    constraint kind; the code is the protocol's (AWS "Common errors")."""

    def test_json_patched(self) -> None:
        env = Trails(P)
        ddb = env.client("dynamodb")
        key = dict(KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
                   AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
                   BillingMode="PAY_PER_REQUEST")
        self.refused("ValidationException", ddb.create_table, TableName="abc",
                     **dict(key, BillingMode="FREE"))  # enum
        ddb.create_table(TableName="abc", **key)
        err = self.refused("ValidationException", ddb.scan, TableName="abc", Limit=0)  # range min 1
        self.assertIn("at 'limit'", str(err))
        ddb.scan(TableName="abc", Limit=1)
        kms = env.client("kms")
        key_id = kms.create_key()["KeyMetadata"]["KeyId"]
        # Pattern ^[a-zA-Z0-9:/_-]+$.
        self.refused("ValidationException", kms.create_alias, AliasName="alias/bad name", TargetKeyId=key_id)
        kms.create_alias(AliasName="alias/good_name-1", TargetKeyId=key_id)
        self.refused("ValidationException", env.ct.create_trail, Name="no-bucket")  # required
        # The modelled exception CloudTrail documents for selectors.
        env.create()
        self.refused("InvalidEventSelectorsException", env.ct.put_event_selectors, TrailName="org-audit",
                     EventSelectors=[{"ReadWriteType": "Everything"}])

    def test_query_patched(self) -> None:
        env = Trails(P)
        iam = env.client("iam")
        trust = json.dumps({"Version": "2012-10-17", "Statement": []})
        self.refused("ValidationError", iam.create_role, RoleName="r" * 65, AssumeRolePolicyDocument=trust)
        self.refused("ValidationError", iam.create_role, RoleName="bad name", AssumeRolePolicyDocument=trust)
        iam.create_role(RoleName="r" * 64, AssumeRolePolicyDocument=trust)
        self.refused("ValidationError", env.client("sts").assume_role,
                     RoleArn=f"arn:aws:iam::{env.account}:role/x", RoleSessionName="a")  # min 2
        sns = env.client("sns")
        self.refused("InvalidParameter", sns.create_topic, Name="t", Tags=[{"Key": "k" * 129, "Value": "v"}])
        sns.create_topic(Name="t", Tags=[{"Key": "k" * 128, "Value": "v"}])

    def test_rest_xml_patched(self) -> None:
        env = Trails(P)
        s3 = env.client("s3")
        self.refused("InvalidArgument", s3.put_object, Bucket=env.bucket, Key="k", Body=b"x", ACL="everyone")
        s3.put_object(Bucket=env.bucket, Key="k", Body=b"x", ACL="bucket-owner-full-control")
        s3.copy_object(Bucket=env.bucket, Key="k2", CopySource=f"{env.bucket}/k")
        self.assertEqual(s3.head_object(Bucket=env.bucket, Key="k2")["ContentLength"], 1)
        self.assertEqual(s3.list_objects_v2(Bucket=env.bucket)["KeyCount"], 2)

    def test_upstream_quirk(self) -> None:
        env = Trails(U)
        env.client("iam").create_role(RoleName="bad name", AssumeRolePolicyDocument="{}")
        with self.assertRaises(ClientError) as ctx:  # moto fails on the ACL with a 500
            env.client("s3").put_object(Bucket=env.bucket, Key="k", Body=b"x", ACL="everyone")
        self.assertEqual(ctx.exception.response["ResponseMetadata"]["HTTPStatusCode"], 500)


class SNSMessageStructure(StrictCase):
    """Publish with MessageStructure json (API_Publish.html): a JSON object
    with a string "default", protocol entries strings; a subject without
    control characters."""

    def topic(self, which: str) -> tuple[Any, str]:
        sns = Trails(which).client("sns")
        return sns, sns.create_topic(Name="alerts")["TopicArn"]

    def test_refused_patched(self) -> None:
        sns, arn = self.topic(P)
        for body in ("not json", "[]", json.dumps({"email": "x"}), json.dumps({"default": 1}),
                     json.dumps({"default": "x", "sqs": {"a": 1}})):
            self.refused("InvalidParameter", sns.publish, TopicArn=arn, Message=body, MessageStructure="json")
        self.refused("InvalidParameter", sns.publish, TopicArn=arn, Message="m", Subject="line\nbreak")

    def test_accepted_patched(self) -> None:
        sns, arn = self.topic(P)
        sns.publish(TopicArn=arn, Message=json.dumps({"default": "", "email": "text", "sqs": "{}", "custom": 1}),
                    MessageStructure="json", Subject="[HIGH] " + "x" * 92)
        sns.publish(TopicArn=arn, Message="not json")  # without MessageStructure, any text

    def test_upstream_quirk(self) -> None:
        sns, arn = self.topic(U)  # no subscriber: moto never parses the body
        sns.publish(TopicArn=arn, Message=json.dumps({"email": "x"}), MessageStructure="json", Subject="a\nb")


class RawRequests(unittest.TestCase):
    """What SDKs other than boto3 send: the Go SDK's short X-Amz-Target
    ("CloudTrail_20131101.CreateTrail"), and a body that is not JSON."""

    def post(self, target: str, body: bytes) -> tuple[int, dict[str, Any]]:
        req = urllib.request.Request(harness.servers()[P] + "/", data=body, method="POST", headers={
            "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20261207/us-east-1/cloudtrail/aws4_request, "
                             "SignedHeaders=host, Signature=0",
            "X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.1",
            "x-moto-account-id": harness.new_account()})
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status, json.loads(resp.read() or b"{}")
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read() or b"{}")

    def test_short_target_and_bad_body(self) -> None:
        status, out = self.post("CloudTrail_20131101.CreateTrail", json.dumps(
            {"Name": "org-audit", "S3BucketName": "b", "TagsList": [{"Key": "k", "Value": ""}]}).encode())
        self.assertEqual((status, out.get("__type")), (400, "InvalidTagParameterException"))
        status, out = self.post("CloudTrail_20131101.CreateTrail", b"{not json")
        self.assertEqual((status, out.get("__type")), (400, "SerializationException"))


class NamedRoleCollision(StrictCase):
    # IAM API Reference, CreateRole: EntityAlreadyExists. Organizations'
    # CreateAccount already creates OrganizationAccountAccessRole in the new
    # account, so a template (stack or StackSet instance) that creates a role
    # of that name collides. moto detects it but answers the CloudFormation
    # call itself with the IAM error, where AWS creates the stack and fails
    # the resource (CREATE_FAILED, then rollback).
    def test_cloudformation_named_role(self) -> None:
        for which in (P, U):
            with self.subTest(which):
                account = harness.new_account()
                iam = harness.client(which, "iam", account)
                trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                                  "Principal": {"AWS": f"arn:aws:iam::{account}:root"}}]}
                iam.create_role(RoleName="OrganizationAccountAccessRole", AssumeRolePolicyDocument=json.dumps(trust))
                template = {"Resources": {"Role": {"Type": "AWS::IAM::Role", "Properties": {
                    "RoleName": "OrganizationAccountAccessRole", "AssumeRolePolicyDocument": trust}}}}
                cfn = harness.client(which, "cloudformation", account)
                self.refused("EntityAlreadyExists", cfn.create_stack, StackName="member",
                             TemplateBody=json.dumps(template))


class DecodersNeverCrash(unittest.TestCase):
    """The request decoders are parsers of untrusted bytes: any input either
    decodes or raises Undecodable (answered as SerializationException); the
    model walk never raises on what they return."""

    def test_random_inputs(self) -> None:
        import os
        import random
        import sys

        sys.path.insert(0, os.path.join(os.path.dirname(harness.HERE), ""))
        from strict import catalog, check, decode

        services = catalog.load()
        rng = random.Random(14)
        alphabet = ['{', '}', '[', ']', '"', ':', ',', '1', 'a', '.', '=', '&', '<', '>', '/', 'member', 'Tags',
                    'Name', 'TagsList', 'Key', 'Value', '\\', '\xff', ' ', 'entry', 'true', 'null', '-1e999']
        cases = [(svc, op) for svc in services.values() for op in list(svc.by_action.values())[:40]]
        for i in range(3000):
            svc, op = cases[rng.randrange(len(cases))]
            body = "".join(rng.choice(alphabet) for _ in range(rng.randrange(40))).encode("utf-8", "surrogateescape")
            try:
                if svc.protocol == "json":
                    params = decode.json_body(body)
                elif svc.protocol == "query":
                    params = decode.query(op.input_shape, decode.query_params(body, ""))
                else:
                    params = decode.rest(op.input_shape, svc.protocol, {}, body.decode("latin-1"), {}, body)
            except decode.Undecodable:
                continue
            check.check(op.input_shape, params)


if __name__ == "__main__":
    unittest.main()
