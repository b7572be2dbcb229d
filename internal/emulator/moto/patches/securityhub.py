"""Security Hub CSPM fidelity patches: who may import a finding; GetFindings
filters.

AWS behaviour restored (BatchImportFindings API reference): with the default
product ARN, "the identifier of the account that you are calling
BatchImportFindings from needs to be the same as the AwsAccountId attribute
for the finding"; AWS refuses the call with AccessDeniedException (HTTP 403,
"... is not authorized to perform: securityhub:BatchImportFindings on
resource: <ProductArn>").

moto gap patched: SecurityHubBackend.batch_import_findings imports findings
of any account under any account's default product ARN.

AWS behaviour restored (GetFindings, AwsSecurityFindingFilters, StringFilter
and DateFilter API reference): GetFindings returns only the findings that
match Filters. For one attribute, EQUALS, PREFIX and CONTAINS filters are
joined by OR, NOT_EQUALS, PREFIX_NOT_EQUALS and NOT_CONTAINS filters by AND;
different attributes are joined by AND. A DateFilter matches a time between
Start and End (inclusive), or within DateRange (Unit DAYS) before now.

moto gap patched: get_findings ignores Filters. Only top-level string and
date attributes are emulated; any other filter is refused with
InvalidInputException rather than silently ignored.
Gaps left (trailwarden does not depend on them): SortCriteria is ignored;
findings are keyed by Id alone (AWS: ProductArn and Id);
no limit of 100 findings per call; no check that Security Hub is enabled;
required attributes are checked only by the SDKs' own validation.
Tests: internal/emulator/moto/tests/test_securityhub.py.
"""

from __future__ import annotations

import datetime
from typing import Any

from moto.core.exceptions import JsonRESTError
from moto.securityhub import models
from moto.securityhub.exceptions import InvalidInputException
from moto.utilities.paginator import paginate

Backend = models.SecurityHubBackend
_orig_import = Backend.batch_import_findings


class AccessDeniedException(JsonRESTError):
    code = 403

    def __init__(self, message: str):
        super().__init__("AccessDeniedException", message)


def _product_account(arn: str) -> str:
    # arn:<partition>:securityhub:<region>:<account>:product/<account>/default
    parts = arn.split(":")
    return parts[4] if len(parts) == 6 else ""


def _import(self: Any, findings: list[dict[str, Any]]) -> tuple[int, int, list[dict[str, Any]]]:
    for f in findings:
        arn = f.get("ProductArn", "")
        if arn.endswith("/default") and (_product_account(arn) != self.account_id or f.get("AwsAccountId") != self.account_id):
            raise AccessDeniedException(
                f"User: arn:aws:iam::{self.account_id}:root is not authorized to perform: "
                f"securityhub:BatchImportFindings on resource: {arn}"
            )
    return _orig_import(self, findings)


_STRINGS = {"ProductArn", "GeneratorId", "AwsAccountId", "Id", "RecordState", "Title", "Description", "SeverityLabel", "Type"}
_DATES = {"UpdatedAt", "CreatedAt", "FirstObservedAt", "LastObservedAt"}
_POSITIVE = {"EQUALS", "PREFIX", "CONTAINS"}


def _when(s: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))


def _string_value(f: dict[str, Any], key: str) -> str:
    if key == "SeverityLabel":
        return str((f.get("Severity") or {}).get("Label", ""))
    return str(f.get(key, ""))


def _string_match(value: str, flt: dict[str, Any]) -> bool:
    want, cmp = flt.get("Value", ""), flt.get("Comparison", "EQUALS")
    return {
        "EQUALS": value == want, "PREFIX": value.startswith(want), "CONTAINS": want in value,
        "NOT_EQUALS": value != want, "PREFIX_NOT_EQUALS": not value.startswith(want), "NOT_CONTAINS": want not in value,
    }[cmp]


def _date_match(value: str, flt: dict[str, Any]) -> bool:
    if not value:
        return False
    t = _when(value)
    if "DateRange" in flt:
        days = int(flt["DateRange"].get("Value", 0))
        return t >= datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=days)
    if "Start" in flt and t < _when(flt["Start"]):
        return False
    return not ("End" in flt and t > _when(flt["End"]))


def _matches(f: dict[str, Any], filters: dict[str, Any]) -> bool:
    for key, flts in filters.items():
        if not flts:
            continue
        if key in _DATES:
            if not all(_date_match(str(f.get(key, "")), x) for x in flts):
                return False
            continue
        values = f.get("Types", []) if key == "Type" else [_string_value(f, key)]
        pos = [x for x in flts if x.get("Comparison", "EQUALS") in _POSITIVE]
        neg = [x for x in flts if x not in pos]
        if pos and not any(_string_match(v, x) for v in values for x in pos):
            return False
        if not all(_string_match(v, x) for v in values for x in neg):
            return False
    return True


def get_findings(self: Any, filters: dict[str, Any] | None = None, sort_criteria: Any = None,
                  max_results: int | None = None) -> list[dict[str, Any]]:
    if max_results is not None and not 1 <= int(max_results) <= 100:
        raise InvalidInputException(op="GetFindings", msg="MaxResults must be a number between 1 and 100")
    for key in filters or {}:
        if key not in _STRINGS | _DATES:
            raise InvalidInputException(op="GetFindings", msg=f"filter {key} is not emulated")
    return [f.as_dict() for f in self.findings if _matches(f.as_dict(), filters or {})]


def apply() -> None:
    Backend.batch_import_findings = _import
    # moto's paginator finds its model by the method's name.
    Backend.get_findings = paginate(pagination_model=Backend.PAGINATION_MODEL)(get_findings)
