"""Organizations fidelity patches: invitations (handshakes).

moto 5.2.5 does not implement InviteAccountToOrganization, AcceptHandshake,
DeclineHandshake, CancelHandshake, DescribeHandshake, ListHandshakesForAccount
or ListHandshakesForOrganization (they answer HTTP 500). Restored behaviour:

* InviteAccountToOrganization API reference: callable only from the
  management account; creates a Handshake with Action INVITE, State OPEN,
  Parties [{Type ORGANIZATION, Id o-…}, {Type ACCOUNT|EMAIL, Id …}] and
  Resources as in the reference example. The invited account is not a member
  until it accepts.
  Errors: AWSOrganizationsNotInUseException (caller has no organization),
  DuplicateHandshakeException (an OPEN invitation to the same target exists).
* AcceptHandshake API reference: called by the invited (recipient) account;
  the handshake becomes ACCEPTED and the account becomes a member (Account
  JoinedMethod INVITED) under the root. AWS does **not** create
  OrganizationAccountAccessRole in an invited account ("Creating
  OrganizationAccountAccessRole in an invited member account", Organizations
  User Guide): the invited account's administrator must create it; this patch
  does not create it either.
* Handshake API reference (and its examples): ARN
  arn:aws:organizations::<management>:handshake/<o-id>/invite/<h-id>;
  ExpirationTimestamp is set 15 days after the request (Organizations User
  Guide, inviting an account: invitations expire after 15 days). Expiry itself
  is not emulated.
* DeclineHandshake (recipient) -> DECLINED, CancelHandshake (originator) ->
  CANCELED; only OPEN handshakes can change: InvalidHandshakeTransition.

Emulator limits: an EMAIL-targeted invitation can be accepted by any account
that is not in an organization (moto does not know standalone accounts' e-mail
addresses); the new member's Name is its account id and its Email is the
invited e-mail address, or "<account id>@invited.invalid" for an ACCOUNT
target. Tests: internal/emulator/moto/tests/test_organizations.py.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from moto.core.utils import unix_time, utcnow
from moto.organizations import models, responses, utils
from moto.organizations.exceptions import (
    AWSOrganizationsNotInUseException,
    OrganizationsClientError,
)

Backend = models.OrganizationsBackend
Response = responses.OrganizationsResponse
backends = models.organizations_backends

# handshake id -> (management account id, partition): where it is stored. The
# handshakes themselves live on the management account's backend, so
# /moto-api/reset forgets them.
_INDEX: dict[str, tuple[str, str]] = {}


class HandshakeNotFoundException(OrganizationsClientError):
    def __init__(self) -> None:
        super().__init__(
            "HandshakeNotFoundException",
            "We can't find a handshake with the HandshakeId that you specified.",
        )


class InvalidHandshakeTransitionException(OrganizationsClientError):
    def __init__(self, state: str) -> None:
        super().__init__(
            "InvalidHandshakeTransitionException",
            f"You can't perform the operation on the handshake in its current state ({state}).",
        )


class DuplicateHandshakeException(OrganizationsClientError):
    def __init__(self) -> None:
        super().__init__(
            "DuplicateHandshakeException",
            "A handshake with the same action and target already exists.",
        )


class HandshakeConstraintViolationException(OrganizationsClientError):
    def __init__(self, message: str) -> None:
        super().__init__("HandshakeConstraintViolationException", message)


class AccessDeniedException(OrganizationsClientError):
    def __init__(self, message: str) -> None:
        super().__init__("AccessDeniedException", message)


def _make_handshake_id() -> str:
    # Handshake API reference: "h-" followed by 8 to 32 lowercase letters or digits.
    return "h-" + "".join(utils.random.choice(utils.CHARSET) for _ in range(10))


class FakeHandshake:
    def __init__(self, org: Any, target: dict[str, str], notes: str | None) -> None:
        self.id = _make_handshake_id()
        self.org = org
        self.target_type = target["Type"]
        self.target_id = target["Id"]
        self.notes = notes
        self.state = "OPEN"
        self.requested = utcnow()
        self.expires = self.requested + timedelta(days=15)
        self.arn = (
            f"arn:{models.get_partition(org.region)}:organizations::"
            f"{org.master_account_id}:handshake/{org.id}/invite/{self.id}"
        )

    def describe(self) -> dict[str, Any]:
        feature_set = self.org.feature_set
        return {
            "Id": self.id,
            "Arn": self.arn,
            "Parties": [
                {"Id": self.org.id, "Type": "ORGANIZATION"},
                {"Id": self.target_id, "Type": self.target_type},
            ],
            "State": self.state,
            "RequestedTimestamp": unix_time(self.requested),
            "ExpirationTimestamp": unix_time(self.expires),
            "Action": "INVITE",
            "Resources": [
                {
                    "Type": "ORGANIZATION",
                    "Value": self.org.id,
                    "Resources": [
                        {"Type": "MASTER_EMAIL", "Value": self.org.master_account_email},
                        {"Type": "MASTER_NAME", "Value": "master"},
                        {"Type": "ORGANIZATION_FEATURE_SET", "Value": feature_set},
                    ],
                },
                {"Type": self.target_type, "Value": self.target_id},
            ]
            + ([{"Type": "NOTES", "Value": self.notes}] if self.notes else []),
        }


def _handshakes(backend: Any) -> dict[str, FakeHandshake]:
    return backend.__dict__.setdefault("tw_handshakes", {})


def _lookup(handshake_id: str) -> tuple[Any, FakeHandshake]:
    where = _INDEX.get(handshake_id or "")
    if where is None:
        raise HandshakeNotFoundException()
    backend = backends[where[0]][where[1]]
    hs = _handshakes(backend).get(handshake_id)
    if hs is None or backend.org is None:
        raise HandshakeNotFoundException()
    return backend, hs


def _is_recipient(account_id: str, hs: FakeHandshake) -> bool:
    if hs.target_type == "ACCOUNT":
        return hs.target_id == account_id
    # EMAIL: moto cannot map an e-mail address to a standalone account.
    return account_id not in backends.master_accounts and not any(
        b.org for b in backends[account_id].values()
    )


class InvitedAccount(models.FakeAccount):
    """A member that joined by invitation: unlike CreateAccount, no
    OrganizationAccountAccessRole is created (AWS does not create it)."""

    def __init__(self, organization: Any, account_id: str, email: str) -> None:
        self.type = "ACCOUNT"
        self.region = organization.region
        self.organization_id = organization.id
        self.master_account_id = organization.master_account_id
        self.create_account_status_id = utils.make_random_create_account_status_id()
        self.id = account_id
        self.name = account_id
        self.email = email
        self.create_time = utcnow()
        self.status = "ACTIVE"
        self.state = "ACTIVE"
        self.joined_method = "INVITED"
        self.parent_id = organization.root_id
        self.attached_policies = []
        self.tags = {}


def invite_account_to_organization(self: Any, target: dict[str, str], notes: str | None) -> dict[str, Any]:
    if self.org is None:
        if self.account_id in backends.master_accounts:
            raise AccessDeniedException(
                "You don't have permissions to access this resource."
            )
        raise AWSOrganizationsNotInUseException
    if not isinstance(target, dict) or target.get("Type") not in ("ACCOUNT", "EMAIL") or not target.get("Id"):
        raise models.InvalidInputException("You specified an invalid value.")
    if target["Type"] == "ACCOUNT" and any(a.id == target["Id"] for a in self.accounts):
        raise HandshakeConstraintViolationException(
            "The account is already a member of this organization."
        )
    for hs in _handshakes(self).values():
        if hs.state == "OPEN" and (hs.target_type, hs.target_id) == (target["Type"], target["Id"]):
            raise DuplicateHandshakeException()
    hs = FakeHandshake(self.org, target, notes)
    _handshakes(self)[hs.id] = hs
    _INDEX[hs.id] = (self.account_id, self.partition)
    return {"Handshake": hs.describe()}


def accept_handshake(self: Any, handshake_id: str) -> dict[str, Any]:
    backend, hs = _lookup(handshake_id)
    if not _is_recipient(self.account_id, hs):
        raise HandshakeNotFoundException()
    if hs.state != "OPEN":
        raise InvalidHandshakeTransitionException(hs.state)
    if self.account_id in backends.master_accounts or self.org is not None:
        raise HandshakeConstraintViolationException(
            "The account is already a member of an organization."
        )
    email = hs.target_id if hs.target_type == "EMAIL" else f"{self.account_id}@invited.invalid"
    account = InvitedAccount(backend.org, self.account_id, email)
    backend.accounts.append(account)
    for policy_id in (utils.DEFAULT_SCP_POLICY_ID, utils.DEFAULT_RCP_POLICY_ID):
        backend.attach_policy(PolicyId=policy_id, TargetId=account.id)
    backends.master_accounts[account.id] = (backend.account_id, backend.partition)
    hs.state = "ACCEPTED"
    return {"Handshake": hs.describe()}


def _transition(self: Any, handshake_id: str, by_recipient: bool, state: str) -> dict[str, Any]:
    backend, hs = _lookup(handshake_id)
    allowed = _is_recipient(self.account_id, hs) if by_recipient else self.account_id == backend.account_id
    if not allowed:
        raise HandshakeNotFoundException()
    if hs.state != "OPEN":
        raise InvalidHandshakeTransitionException(hs.state)
    hs.state = state
    return {"Handshake": hs.describe()}


def describe_handshake(self: Any, handshake_id: str) -> dict[str, Any]:
    backend, hs = _lookup(handshake_id)
    if self.account_id != backend.account_id and not (
        hs.target_type == "ACCOUNT" and hs.target_id == self.account_id
    ) and not _is_recipient(self.account_id, hs):
        raise HandshakeNotFoundException()
    return {"Handshake": hs.describe()}


def list_handshakes_for_account(self: Any) -> dict[str, Any]:
    # ListHandshakesForAccount API reference: the handshakes the current
    # account is associated with (here: invitations it received).
    out = []
    for hid in list(_INDEX):
        try:
            _, hs = _lookup(hid)
        except HandshakeNotFoundException:
            continue
        if hs.target_type == "ACCOUNT" and hs.target_id == self.account_id:
            out.append(hs.describe())
    return {"Handshakes": out}


def list_handshakes_for_organization(self: Any) -> dict[str, Any]:
    if self.org is None:
        raise AWSOrganizationsNotInUseException
    return {"Handshakes": [hs.describe() for hs in _handshakes(self).values()]}


# --- responses (JSON protocol; unknown request fields are ignored)


def _r_invite(self: Any) -> str:
    return json.dumps(
        self.organizations_backend.tw_invite_account_to_organization(
            self._get_param("Target"), self._get_param("Notes")
        )
    )


def _r_accept(self: Any) -> str:
    return json.dumps(self.organizations_backend.tw_accept_handshake(self._get_param("HandshakeId")))


def _r_decline(self: Any) -> str:
    return json.dumps(
        _transition(self.organizations_backend, self._get_param("HandshakeId"), True, "DECLINED")
    )


def _r_cancel(self: Any) -> str:
    return json.dumps(
        _transition(self.organizations_backend, self._get_param("HandshakeId"), False, "CANCELED")
    )


def _r_describe(self: Any) -> str:
    return json.dumps(describe_handshake(self.organizations_backend, self._get_param("HandshakeId")))


def _r_list_for_account(self: Any) -> str:
    return json.dumps(list_handshakes_for_account(self.organizations_backend))


def _r_list_for_org(self: Any) -> str:
    return json.dumps(list_handshakes_for_organization(self.organizations_backend))


def _reset_membership() -> None:
    """/moto-api/reset resets every backend, but the organizations backend
    dict's ``master_accounts`` (account -> its management account, filled by
    CreateAccount and by our AcceptHandshake) is an attribute of the dict, not
    one of its backends, and survives: after a reset an account that belonged
    to an organization still cannot create or join one
    (AlreadyInOrganizationException / "already a member"). A reset is meant to
    forget all state, so the patch forgets it too, with our handshake index."""
    from moto.core.base_backend import BackendDict

    original = BackendDict.reset.__func__  # type: ignore[attr-defined]
    if getattr(original, "__trailwarden_reset__", False):
        return

    def reset(cls: Any) -> None:
        original(cls)
        backends.master_accounts.clear()
        _INDEX.clear()

    reset.__trailwarden_reset__ = True  # type: ignore[attr-defined]
    BackendDict.reset = classmethod(reset)  # type: ignore[method-assign, assignment]


def apply() -> None:
    _reset_membership()
    Backend.tw_invite_account_to_organization = invite_account_to_organization
    Backend.tw_accept_handshake = accept_handshake
    Response.invite_account_to_organization = _r_invite
    Response.accept_handshake = _r_accept
    Response.decline_handshake = _r_decline
    Response.cancel_handshake = _r_cancel
    Response.describe_handshake = _r_describe
    Response.list_handshakes_for_account = _r_list_for_account
    Response.list_handshakes_for_organization = _r_list_for_org
