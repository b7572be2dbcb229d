"""IAM patch (patches/iam.py): the account of a request is found from its
access key in O(1); the answers must equal moto's scan in every case."""

from __future__ import annotations

import time
import unittest
import urllib.request

import boto3
from botocore.config import Config

import harness


def setUpModule() -> None:
    harness.servers()


def whoami(which: str, key: str, secret: str, token: str | None = None) -> str:
    sts = boto3.client(
        "sts", region_name="us-east-1", endpoint_url=harness.servers()[which],
        aws_access_key_id=key, aws_secret_access_key=secret, aws_session_token=token,
        config=Config(retries={"max_attempts": 1, "mode": "standard"}),
    )
    return sts.get_caller_identity()["Account"]


def assume(which: str, account: str) -> dict[str, str]:
    sts = boto3.client(
        "sts", region_name="us-east-1", endpoint_url=harness.servers()[which],
        aws_access_key_id="testing", aws_secret_access_key="testing",
    )
    return sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/r", RoleSessionName="session")["Credentials"]


class AccountFromAccessKey(unittest.TestCase):
    def test_same_answers_as_scan(self) -> None:
        for which in ("patched", "unpatched"):
            account = harness.new_account()
            c = assume(which, account)
            self.assertEqual(whoami(which, c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"]), account, which)
            # An unknown key maps to the default account.
            self.assertEqual(whoami(which, "AKIAUNKNOWNKEY000000", "x"), "123456789012", which)
            # IAM user keys too.
            iam = harness.client(which, "iam", account)
            iam.create_user(UserName="u")
            k = iam.create_access_key(UserName="u")["AccessKey"]
            self.assertEqual(whoami(which, k["AccessKeyId"], k["SecretAccessKey"]), account, which)

    def test_reset_forgets_keys_like_scan(self) -> None:
        for which in ("patched", "unpatched"):
            c = assume(which, harness.new_account())
            urllib.request.urlopen(urllib.request.Request(harness.servers()[which] + "/moto-api/reset", method="POST")).read()
            self.assertEqual(whoami(which, c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"]), "123456789012", which)

    def test_lookup_does_not_grow_with_accounts_upstream_quirk(self) -> None:
        # Upstream scans every account per request; patched answers in O(1).
        # Measured as a ratio on one machine, in one run: 300 accounts.
        def cost(which: str) -> float:
            for _ in range(300):
                assume(which, harness.new_account())
            start = time.perf_counter()
            for _ in range(30):
                whoami(which, "testing", "testing")
            return time.perf_counter() - start

        patched, unpatched = cost("patched"), cost("unpatched")
        self.assertLess(patched, unpatched, f"patched {patched:.3f}s vs unpatched {unpatched:.3f}s")
