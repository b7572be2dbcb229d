"""Documented constraints that the service models do not carry, and the
documented exception a model violation takes inside certain shapes.

Every rule cites the AWS page that states it; every rule has a test in
tests/test_strict.py (accepted at the limit, refused past it with AWS's code).
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import regex


@dataclass(frozen=True)
class Refusal:
    code: str
    message: str


Rule = Callable[[dict[str, Any]], list[Refusal]]

# A model violation inside one of these shapes is answered with the modelled
# exception the service documents for it, not with ValidationException.
SHAPE_CODES: dict[str, dict[str, str]] = {
    # CloudTrail API Reference, Tag: Key 1-128, Value 1-256 characters; errors
    # InvalidTagParameterException "the specified tag key or values are not
    # valid" and TagsLimitExceededException for too many tags.
    # PutInsightSelectors, InvalidInsightSelectorsException: "the formatting or
    # syntax of the InsightSelectors JSON statement is not valid, or the
    # specified InsightType in the InsightSelectors statement is not valid".
    # PutEventSelectors, InvalidEventSelectorsException: event selectors,
    # advanced event selectors or data resources that are not valid.
    "cloudtrail": {
        "Tag": "InvalidTagParameterException", "TagsList": "TagsLimitExceededException",
        "InsightSelectors": "InvalidInsightSelectorsException",
        "EventSelectors": "InvalidEventSelectorsException",
        "AdvancedEventSelectors": "InvalidEventSelectorsException",
    },
}

# --- CloudTrail -------------------------------------------------------------

# CloudTrail API Reference, AddTags / CreateTrail / RemoveTags, Errors:
# InvalidTagParameterException "is thrown when the key or value specified for
# the tag does not match the regular expression ^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$".
TAG_PATTERN = regex.compile(r"^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$")

# CloudTrail User Guide, "Quotas in AWS CloudTrail": 50 tags per trail.
MAX_TAGS_PER_TRAIL = 50

# CloudTrail User Guide, "Naming requirements for CloudTrail resources, S3
# buckets, and KMS keys" (cloudtrail-trail-naming-requirements.html) and the
# API Reference's InvalidTrailNameException: ASCII letters, digits, '.', '_',
# '-'; start and end with a letter or digit; 3-128 characters; no adjacent
# '.', '_' or '-'; not in IP address format.
_TRAIL_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9]|[._-](?=[A-Za-z0-9]))*")
# "If you specify a trail ARN, it must be in the format:
#  arn:aws:cloudtrail:us-east-2:123456789012:trail/MyTrail" (same pages);
# CloudTrailARNInvalidException otherwise.
_TRAIL_ARN = re.compile(r"arn:aws[a-z-]*:cloudtrail:[a-z0-9-]+:\d{12}:trail/(.+)")
# CreateTrail/UpdateTrail KmsKeyId: "an alias name prefixed by alias/, a fully
# specified ARN to an alias, a fully specified ARN to a key, or a globally
# unique identifier" (examples: alias/MyAliasName,
# arn:aws:kms:us-east-2:123456789012:alias/MyAliasName,
# arn:aws:kms:us-east-2:123456789012:key/12345678-1234-1234-1234-123456789012,
# 12345678-1234-1234-1234-123456789012); multi-Region keys (mrk-<32 hex>) are
# supported. InvalidKmsKeyIdException: "the KMS key ARN is not valid".
_KEY_ID = r"(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|mrk-[0-9a-f]{32})"
_ALIAS = r"alias/[a-zA-Z0-9/_-]+"
_KMS_KEY = re.compile(rf"{_KEY_ID}|{_ALIAS}|arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{{12}}:(?:key/{_KEY_ID}|{_ALIAS})")
# CloudTrail User Guide, "Sending events to CloudWatch Logs" (update-trail
# --cloud-watch-logs-log-group-arn): the log group ARN ends in ":*"
# (arn:aws:logs:us-east-1:123456789012:log-group:CloudTrail/DefaultLogGroupTest:*);
# CloudTrail refuses any other form with InvalidCloudWatchLogsLogGroupArnException.
_LOG_GROUP_ARN = re.compile(r"arn:aws[a-z-]*:logs:[a-z0-9-]+:\d{12}:log-group:[\w./#-]{1,512}:\*")
# InvalidCloudWatchLogsRoleArnException: "the provided role is not valid"; the
# role is an IAM role ARN (IAM User Guide, IAM identifiers: ARNs).
_ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}")
# CreateTrail S3KeyPrefix: "The maximum length is 200 characters."
MAX_S3_PREFIX = 200


def trail_name_ok(name: str) -> bool:
    if not 3 <= len(name) <= 128 or not _TRAIL_NAME.fullmatch(name):
        return False
    try:
        ipaddress.ip_address(name)
        return False
    except ValueError:
        return True


def _name_or_arn(field: str, creating: bool = False) -> Rule:
    def rule(p: dict[str, Any]) -> list[Refusal]:
        v = p.get(field)
        if not isinstance(v, str):
            return []
        if v.startswith("arn:") and not creating:
            m = _TRAIL_ARN.fullmatch(v)
            if m is None:
                return [Refusal("CloudTrailARNInvalidException", f"Invalid trail ARN: {v}")]
            v = m.group(1)
        if not trail_name_ok(v):
            return [Refusal("InvalidTrailNameException", f"Trail name {v} is not valid.")]
        return []

    return rule


def _tags(count: bool) -> Rule:
    def rule(p: dict[str, Any]) -> list[Refusal]:
        tags = p.get("TagsList") or []
        seen: set[str] = set()
        for t in tags:
            key, value = t.get("Key"), t.get("Value")
            for what, s in (("key", key), ("value", value)):
                if isinstance(s, str) and not TAG_PATTERN.fullmatch(s):
                    return [Refusal("InvalidTagParameterException", f"Tag {what} '{s}' does not match ^([\\p{{L}}\\p{{Z}}\\p{{N}}_.:/=+\\-@]*)$")]
            if key in seen:
                return [Refusal("InvalidTagParameterException", f"Duplicate tag key {key}")]
            seen.add(key)
        if count and len(tags) > MAX_TAGS_PER_TRAIL:
            return [Refusal("TagsLimitExceededException", f"The number of tags ({len(tags)}) exceeds the limit of {MAX_TAGS_PER_TRAIL}.")]
        return []

    return rule


def _resource_arns(field: str) -> Rule:
    def rule(p: dict[str, Any]) -> list[Refusal]:
        v = p.get(field)
        for arn in v if isinstance(v, list) else [v]:
            if isinstance(arn, str) and ":trail/" in arn and not _TRAIL_ARN.fullmatch(arn):
                return [Refusal("CloudTrailARNInvalidException", f"Invalid trail ARN: {arn}")]
        return []

    return rule


def _trail_settings(p: dict[str, Any]) -> list[Refusal]:
    out: list[Refusal] = []
    key = p.get("KmsKeyId")
    if isinstance(key, str) and key and not _KMS_KEY.fullmatch(key):
        out.append(Refusal("InvalidKmsKeyIdException", f"Invalid KmsKeyId: {key}"))
    group = p.get("CloudWatchLogsLogGroupArn")
    if isinstance(group, str) and group and not _LOG_GROUP_ARN.fullmatch(group):
        out.append(Refusal("InvalidCloudWatchLogsLogGroupArnException", f"Invalid log group ARN: {group}"))
    role = p.get("CloudWatchLogsRoleArn")
    if isinstance(role, str) and role and not _ROLE_ARN.fullmatch(role):
        out.append(Refusal("InvalidCloudWatchLogsRoleArnException", f"Invalid role ARN: {role}"))
    prefix = p.get("S3KeyPrefix")
    if isinstance(prefix, str) and len(prefix) > MAX_S3_PREFIX:
        out.append(Refusal("InvalidS3PrefixException", f"S3KeyPrefix is longer than {MAX_S3_PREFIX} characters."))
    return out


# --- SNS -------------------------------------------------------------------

# Amazon SNS API Reference, Publish (API_Publish.html), MessageStructure: with
# "json", Message must "be a syntactically valid JSON object" and "contain at
# least a top-level JSON key of 'default' with a value that is a string";
# "keys in the JSON object that correspond to supported transport protocols
# must have simple JSON string values". SNS answers InvalidParameter, "Invalid
# parameter: Message Structure - JSON message body failed to parse" / "- No
# default entry in JSON message body". moto parses the body only when it
# delivers, per subscription, and falls back to "default" for an empty
# protocol value, so a topic without subscribers took any body.
SNS_PROTOCOLS = ("default", "http", "https", "email", "email-json", "sqs", "sms", "lambda", "application", "firehose")


def _sns_message_structure(p: dict[str, Any]) -> list[Refusal]:
    if p.get("MessageStructure") != "json":
        return []
    try:
        body = json.loads(p.get("Message") or "")
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return [Refusal("InvalidParameter", "Invalid parameter: Message Structure - JSON message body failed to parse")]
    if not isinstance(body.get("default"), str):
        return [Refusal("InvalidParameter", "Invalid parameter: Message Structure - No default entry in JSON message body")]
    for proto in SNS_PROTOCOLS:
        if proto in body and not isinstance(body[proto], str):
            return [Refusal("InvalidParameter", f"Invalid parameter: Message Structure - {proto} entry is not a string")]
    return []


# Publish, Subject: "no line breaks or control characters" (moto checks only
# the length). SNS answers "Invalid parameter: Subject".
def _sns_subject(p: dict[str, Any]) -> list[Refusal]:
    subject = p.get("Subject")
    if isinstance(subject, str) and any(ord(c) < 0x20 or ord(c) == 0x7F for c in subject):
        return [Refusal("InvalidParameter", "Invalid parameter: Subject")]
    return []


RULES: dict[tuple[str, str], list[Rule]] = {
    ("sns", "Publish"): [_sns_message_structure, _sns_subject],
    ("cloudtrail", "CreateTrail"): [_name_or_arn("Name", creating=True), _trail_settings, _tags(True)],
    ("cloudtrail", "UpdateTrail"): [_name_or_arn("Name"), _trail_settings],
    ("cloudtrail", "AddTags"): [_resource_arns("ResourceId"), _tags(False)],
    ("cloudtrail", "RemoveTags"): [_resource_arns("ResourceId"), _tags(False)],
    ("cloudtrail", "ListTags"): [_resource_arns("ResourceIdList")],
    **{("cloudtrail", op): [_name_or_arn("Name")] for op in (
        "DeleteTrail", "GetTrail", "GetTrailStatus", "StartLogging", "StopLogging")},
    **{("cloudtrail", op): [_name_or_arn("TrailName")] for op in (
        "PutEventSelectors", "GetEventSelectors", "PutInsightSelectors", "GetInsightSelectors")},
}


def refusals(service: str, operation: str, params: dict[str, Any]) -> list[Refusal]:
    out: list[Refusal] = []
    for rule in RULES.get((service, operation), ()):
        out.extend(rule(params))
    return out
