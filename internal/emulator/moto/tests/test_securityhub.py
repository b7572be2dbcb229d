"""Security Hub patches (patches/securityhub.py): the importing account must
be the finding's account under the default product ARN; GetFindings applies
its Filters."""

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


class GetFindingsFilters(unittest.TestCase):
    """The refresher's query: this product's ACTIVE watchdog findings not
    updated since a date."""

    def ids(self, which: str) -> list[str]:
        caller = harness.new_account()
        hub = harness.client(which, "securityhub", caller)
        old, new, archived, other = (finding(caller, i) for i in ("old", "new", "archived", "verifier"))
        new["UpdatedAt"] = "2026-05-01T10:00:00.000Z"
        archived["RecordState"] = "ARCHIVED"
        other["GeneratorId"] = "trailwarden/verifier/security-finding/bad-key"
        for f in (old, new, archived, other):
            f.setdefault("RecordState", "ACTIVE")
        hub.batch_import_findings(Findings=[old, new, archived, other])
        out = hub.get_findings(Filters={
            "ProductArn": [{"Value": old["ProductArn"], "Comparison": "EQUALS"}],
            "RecordState": [{"Value": "ACTIVE", "Comparison": "EQUALS"}],
            "GeneratorId": [{"Value": "trailwarden/watchdog/", "Comparison": "PREFIX"}],
            "UpdatedAt": [{"End": "2026-04-01T00:00:00.000Z"}],
        })
        return sorted(f["Id"] for f in out["Findings"])

    def test_filters_applied_patched(self) -> None:
        self.assertEqual(self.ids(P), ["old"])

    def test_filters_ignored_unpatched(self) -> None:
        self.assertEqual(self.ids(U), ["archived", "new", "old", "verifier"])

    def test_unknown_filter_refused_patched(self) -> None:
        hub = harness.client(P, "securityhub", harness.new_account())
        with self.assertRaises(ClientError) as cm:
            hub.get_findings(Filters={"ComplianceStatus": [{"Value": "FAILED", "Comparison": "EQUALS"}]})
        self.assertEqual(cm.exception.response["Error"]["Code"], "InvalidInputException")


if __name__ == "__main__":
    unittest.main()
