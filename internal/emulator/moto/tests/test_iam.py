"""IAM patch (patches/iam.py): the account of a request is found from its
access key in O(1); the answers must equal moto's scan in every case."""

from __future__ import annotations

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

    def test_lookup_scans_every_account_upstream_quirk(self) -> None:
        # Upstream resolves a request's account by scanning every account's
        # IAM backend (O(accounts) per request). Checked on moto's source,
        # not by timing: timed tests are noisy on shared machines.
        import inspect

        from moto.iam import models as iam_models

        src = inspect.getsource(iam_models.get_account_id_from)
        self.assertIn("iam_backends.items()", src)
        self.assertIn("for partition in PARTITION_NAMES", src)

    def test_patch_replaces_lookup_patched(self) -> None:
        import importlib
        import os
        import sys

        from moto.iam import models as iam_models

        sys.path.insert(0, os.path.dirname(harness.HERE))
        try:
            iam_patch = importlib.import_module("patches.iam")
            original = iam_models.get_account_id_from
            iam_patch.apply()
            try:
                self.assertIs(iam_models.get_account_id_from, iam_patch._get_account_id_from)
            finally:
                iam_models.get_account_id_from = original
                iam_models.AccessKey.__init__ = iam_patch._orig_init
        finally:
            sys.path.remove(os.path.dirname(harness.HERE))
