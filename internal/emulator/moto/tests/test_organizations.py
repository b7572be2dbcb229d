"""Organizations patches (patches/organizations.py): invitations."""

from __future__ import annotations

import unittest
from typing import Any

from botocore.exceptions import ClientError

import harness


def setUpModule() -> None:
    harness.servers()


P, U = "patched", "unpatched"


def code(err: ClientError) -> str:
    return err.response["Error"]["Code"]


def org(which: str) -> tuple[str, Any, dict[str, Any]]:
    mgmt = harness.new_account()
    client = harness.client(which, "organizations", mgmt)
    described = client.create_organization(FeatureSet="ALL")["Organization"]
    return mgmt, client, described


class Invitations(unittest.TestCase):
    def test_invite_and_accept_patched(self) -> None:
        mgmt, orgs, described = org(P)
        invited = harness.new_account()
        hs = orgs.invite_account_to_organization(
            Target={"Type": "ACCOUNT", "Id": invited}, Notes="join us"
        )["Handshake"]
        self.assertEqual(hs["Action"], "INVITE")
        self.assertEqual(hs["State"], "OPEN")
        self.assertRegex(hs["Id"], r"^h-[a-z0-9]{8,32}$")
        self.assertEqual(
            hs["Arn"], f"arn:aws:organizations::{mgmt}:handshake/{described['Id']}/invite/{hs['Id']}"
        )
        self.assertEqual(
            hs["Parties"],
            [{"Id": described["Id"], "Type": "ORGANIZATION"}, {"Id": invited, "Type": "ACCOUNT"}],
        )
        self.assertGreater(hs["ExpirationTimestamp"], hs["RequestedTimestamp"])
        # Not yet a member.
        ids = [a["Id"] for a in orgs.list_accounts()["Accounts"]]
        self.assertNotIn(invited, ids)
        with self.assertRaises(ClientError) as ctx:
            orgs.invite_account_to_organization(Target={"Type": "ACCOUNT", "Id": invited})
        self.assertEqual(code(ctx.exception), "DuplicateHandshakeException")

        member = harness.assumed_client(P, "organizations", invited)
        listed = member.list_handshakes_for_account()["Handshakes"]
        self.assertEqual([h["Id"] for h in listed], [hs["Id"]])
        self.assertEqual(member.describe_handshake(HandshakeId=hs["Id"])["Handshake"]["State"], "OPEN")
        # Only the recipient can accept.
        stranger = harness.client(P, "organizations", harness.new_account())
        with self.assertRaises(ClientError) as ctx:
            stranger.accept_handshake(HandshakeId=hs["Id"])
        self.assertEqual(code(ctx.exception), "HandshakeNotFoundException")

        accepted = member.accept_handshake(HandshakeId=hs["Id"])["Handshake"]
        self.assertEqual(accepted["State"], "ACCEPTED")
        account = orgs.describe_account(AccountId=invited)["Account"]
        self.assertEqual(account["JoinedMethod"], "INVITED")
        self.assertEqual(member.describe_organization()["Organization"]["Id"], described["Id"])
        root = orgs.list_roots()["Roots"][0]["Id"]
        self.assertIn(invited, [a["Id"] for a in orgs.list_accounts_for_parent(ParentId=root)["Accounts"]])
        with self.assertRaises(ClientError) as ctx:
            member.accept_handshake(HandshakeId=hs["Id"])
        self.assertEqual(code(ctx.exception), "InvalidHandshakeTransitionException")
        # AWS does not create OrganizationAccountAccessRole in an invited account.
        iam = harness.client(P, "iam", invited)
        with self.assertRaises(ClientError) as ctx:
            iam.get_role(RoleName="OrganizationAccountAccessRole")
        self.assertEqual(code(ctx.exception), "NoSuchEntity")

    def test_decline_cancel_email_patched(self) -> None:
        _, orgs, _ = org(P)
        invited = harness.new_account()
        hs = orgs.invite_account_to_organization(Target={"Type": "ACCOUNT", "Id": invited})["Handshake"]
        member = harness.client(P, "organizations", invited)
        self.assertEqual(member.decline_handshake(HandshakeId=hs["Id"])["Handshake"]["State"], "DECLINED")
        hs2 = orgs.invite_account_to_organization(Target={"Type": "EMAIL", "Id": "owner@example.com"})["Handshake"]
        self.assertEqual(hs2["Parties"][1], {"Id": "owner@example.com", "Type": "EMAIL"})
        self.assertEqual(orgs.cancel_handshake(HandshakeId=hs2["Id"])["Handshake"]["State"], "CANCELED")
        states = sorted(h["State"] for h in orgs.list_handshakes_for_organization()["Handshakes"])
        self.assertEqual(states, ["CANCELED", "DECLINED"])
        hs3 = orgs.invite_account_to_organization(Target={"Type": "EMAIL", "Id": "owner@example.com"})["Handshake"]
        joined = harness.new_account()
        harness.client(P, "organizations", joined).accept_handshake(HandshakeId=hs3["Id"])
        self.assertEqual(orgs.describe_account(AccountId=joined)["Account"]["Email"], "owner@example.com")

    def test_invite_not_in_org_patched(self) -> None:
        lone = harness.client(P, "organizations", harness.new_account())
        with self.assertRaises(ClientError) as ctx:
            lone.invite_account_to_organization(Target={"Type": "ACCOUNT", "Id": harness.new_account()})
        self.assertEqual(code(ctx.exception), "AWSOrganizationsNotInUseException")

    def test_invite_upstream_quirk(self) -> None:
        _, orgs, _ = org(U)
        with self.assertRaises(ClientError) as ctx:
            orgs.invite_account_to_organization(Target={"Type": "ACCOUNT", "Id": harness.new_account()})
        self.assertEqual(ctx.exception.response["ResponseMetadata"]["HTTPStatusCode"], 500)
        with self.assertRaises(ClientError) as ctx:
            orgs.accept_handshake(HandshakeId="h-0123456789")
        self.assertEqual(ctx.exception.response["ResponseMetadata"]["HTTPStatusCode"], 500)



def reset(which: str) -> None:
    import urllib.request

    urllib.request.urlopen(urllib.request.Request(harness.servers()[which] + "/moto-api/reset", method="POST")).read()


class ResetForgetsMembership(unittest.TestCase):
    """An account created in an organization, then /moto-api/reset: it must
    be free to create its own organization (a reset forgets all state)."""

    def created_then_reset(self, which: str) -> Any:
        mgmt = harness.client(which, "organizations", harness.new_account())
        mgmt.create_organization(FeatureSet="ALL")
        status = mgmt.create_account(Email="m@example.com", AccountName="m")["CreateAccountStatus"]
        member = mgmt.describe_create_account_status(CreateAccountRequestId=status["Id"])["CreateAccountStatus"]["AccountId"]
        reset(which)
        return harness.client(which, "organizations", member)

    def test_reset_forgets_membership_patched(self) -> None:
        member = self.created_then_reset(P)
        member.create_organization(FeatureSet="ALL")  # no AlreadyInOrganizationException

    def test_reset_keeps_membership_upstream_quirk(self) -> None:
        member = self.created_then_reset(U)
        with self.assertRaises(ClientError) as cm:
            member.create_organization(FeatureSet="ALL")
        self.assertEqual(code(cm.exception), "AlreadyInOrganizationException")


if __name__ == "__main__":
    unittest.main()
