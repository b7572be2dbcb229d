"""IAM patch: O(1) account lookup from an access key.

moto finds the account of every request by scanning every account's IAM
backend for the request's access key (moto.iam.models.get_account_id_from),
so each request costs O(accounts) — with a thousand member accounts, most of
the emulator's time goes there. AWS resolves an access key directly (the key
id even encodes the account: "GetAccessKeyInfo", IAM API reference).

This patch keeps an index from access key id to account, filled when moto
creates an AccessKey, and answers from it. The answer is the one moto's scan
gives: a key is found only while the account's IAM backend still holds it
(so after /moto-api/reset old keys fall back to the default account, as
before), and an unknown key maps to the default account. Not a fidelity
change: a performance one, proven equivalent by tests/test_iam.py.
"""

from __future__ import annotations

from typing import Any

from moto.core import DEFAULT_ACCOUNT_ID
from moto.iam import models as iam_models

_index: dict[str, str] = {}


def _access_key_init(self: Any, user_name: Any, prefix: str, account_id: str, *args: Any, **kwargs: Any) -> None:
    _orig_init(self, user_name, prefix, account_id, *args, **kwargs)
    _index[self.access_key_id] = account_id


def _get_account_id_from(access_key: str) -> str:
    account_id = _index.get(access_key)
    if account_id is None:
        return DEFAULT_ACCOUNT_ID
    backends = iam_models.iam_backends
    if account_id not in backends:  # reset since: the scan would not find it either
        return DEFAULT_ACCOUNT_ID
    account = backends[account_id]
    for partition in iam_models.PARTITION_NAMES:
        if partition in account and access_key in account[partition].access_keys:
            return account_id
    return DEFAULT_ACCOUNT_ID


_orig_init = iam_models.AccessKey.__init__


def apply() -> None:
    iam_models.AccessKey.__init__ = _access_key_init  # type: ignore[method-assign]
    iam_models.get_account_id_from = _get_account_id_from
