"""Security Hub CSPM fidelity patch: who may import a finding.

AWS behaviour restored (BatchImportFindings API reference): with the default
product ARN, "the identifier of the account that you are calling
BatchImportFindings from needs to be the same as the AwsAccountId attribute
for the finding"; AWS refuses the call with AccessDeniedException (HTTP 403,
"... is not authorized to perform: securityhub:BatchImportFindings on
resource: <ProductArn>").

moto gap patched: SecurityHubBackend.batch_import_findings imports findings
of any account under any account's default product ARN.
Gaps left (trailwarden does not depend on them): GetFindings ignores Filters
and SortCriteria; findings are keyed by Id alone (AWS: ProductArn and Id);
no limit of 100 findings per call; no check that Security Hub is enabled;
required attributes are checked only by the SDKs' own validation.
Tests: internal/emulator/moto/tests/test_securityhub.py.
"""

from __future__ import annotations

from typing import Any

from moto.core.exceptions import JsonRESTError
from moto.securityhub import models

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


def apply() -> None:
    Backend.batch_import_findings = _import
