"""ListPublicKeys patch (patches/cloudtrail_keys.py)."""

from __future__ import annotations

import base64
import json
import unittest
import urllib.request
from datetime import datetime, timezone

from botocore.exceptions import ClientError

import harness


def setUpModule() -> None:
    harness.servers()


P, U = "patched", "unpatched"
DER = bytes.fromhex("300d020601020304050602030100 01".replace(" ", ""))


def register(which: str, region: str, keys: list[dict]) -> dict:
    req = urllib.request.Request(
        harness.servers()[which] + "/_trailwarden/public-keys",
        data=json.dumps({"region": region, "keys": keys}).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


def key(fp: str, start: str, end: str) -> dict:
    return {"Value": base64.b64encode(DER).decode(), "Fingerprint": fp, "ValidityStartTime": start, "ValidityEndTime": end}


def t(s: str) -> datetime:
    return datetime.fromisoformat(s).replace(tzinfo=timezone.utc)


class ListPublicKeys(unittest.TestCase):
    def test_list_public_keys_upstream_quirk(self) -> None:
        ct = harness.client(U, "cloudtrail", harness.new_account(), "eu-west-3")
        with self.assertRaises(Exception):
            ct.list_public_keys(StartTime=t("2026-01-01T00:00:00"), EndTime=t("2026-01-02T00:00:00"))

    def test_keys_overlapping_the_range_in_the_region_patched(self) -> None:
        register(P, "eu-west-3", [key("old", "2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z"), key("new", "2026-02-01T00:00:00Z", "2100-01-01T00:00:00Z")])
        register(P, "ap-south-2", [key("other", "2026-01-01T00:00:00Z", "2100-01-01T00:00:00Z")])
        ct = harness.client(P, "cloudtrail", harness.new_account(), "eu-west-3")
        got = ct.list_public_keys(StartTime=t("2026-01-10T00:00:00"), EndTime=t("2026-01-11T00:00:00"))["PublicKeyList"]
        self.assertEqual([k["Fingerprint"] for k in got], ["old"])
        self.assertEqual(got[0]["Value"], DER)
        self.assertEqual(got[0]["ValidityStartTime"], t("2026-01-01T00:00:00"))
        both = ct.list_public_keys(StartTime=t("2026-01-31T23:00:00"), EndTime=t("2026-02-01T01:00:00"))["PublicKeyList"]
        self.assertEqual(sorted(k["Fingerprint"] for k in both), ["new", "old"])
        current = ct.list_public_keys()["PublicKeyList"]
        self.assertEqual([k["Fingerprint"] for k in current], ["new"])

    def test_start_after_end_is_invalid_time_range_patched(self) -> None:
        ct = harness.client(P, "cloudtrail", harness.new_account(), "eu-west-3")
        with self.assertRaises(ClientError) as cm:
            ct.list_public_keys(StartTime=t("2026-02-01T00:00:00"), EndTime=t("2026-01-01T00:00:00"))
        self.assertEqual(cm.exception.response["Error"]["Code"], "InvalidTimeRangeException")

    def test_register_rejects_bad_input_patched(self) -> None:
        with self.assertRaises(urllib.error.HTTPError) as cm:
            register(P, "", [])
        self.assertEqual(cm.exception.code, 400)


if __name__ == "__main__":
    unittest.main()
