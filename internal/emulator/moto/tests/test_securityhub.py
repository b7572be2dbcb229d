"""Security Hub patches (patches/securityhub.py): the importing account must
be the finding's account under the default product ARN."""

from __future__ import annotations

import unittest
from typing import Any

from botocore.exceptions import ClientError

import harness


def setUpModule() -> None:
    harness.servers()


P, U = "patched", "unpatched"


def finding(account: str, fid: str = "f-1") -> dict[str, Any]:
    f = {
        "SchemaVersion": "2018-10-08", "Id": fid, "GeneratorId": "trailwarden/watchdog/stale",
        "ProductArn": f"arn:aws:securityhub:us-east-1:{account}:product/{account}/default",
        "AwsAccountId": account, "CreatedAt": "2026-03-01T10:00:00.000Z", "UpdatedAt": "2026-03-01T10:00:00.000Z",
        "Title": "t", "Description": "d", "Types": ["Software and Configuration Checks/AWS Security Best Practices/x"],
        "Severity": {"Label": "HIGH"}, "Resources": [{"Type": "AwsAccount", "Id": f"AWS::::Account:{account}"}],
    }
    return f


class AccountMustMatch(unittest.TestCase):
    def call(self, which: str) -> Any:
        caller, other = harness.new_account(), harness.new_account()
        hub = harness.client(which, "securityhub", caller)
        return hub.batch_import_findings(Findings=[finding(other)])

    def test_other_account_refused_patched(self) -> None:
        with self.assertRaises(ClientError) as cm:
            self.call(P)
        self.assertEqual(cm.exception.response["Error"]["Code"], "AccessDeniedException")

    def test_other_account_accepted_unpatched(self) -> None:
        self.assertEqual(self.call(U)["SuccessCount"], 1)

    def test_own_account_imported_patched(self) -> None:
        caller = harness.new_account()
        hub = harness.client(P, "securityhub", caller)
        out = hub.batch_import_findings(Findings=[finding(caller)])
        self.assertEqual((out["SuccessCount"], out["FailedCount"]), (1, 0))
        self.assertEqual(hub.get_findings()["Findings"][0]["Id"], "f-1")


if __name__ == "__main__":
    unittest.main()
