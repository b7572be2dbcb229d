"""CloudTrail fidelity patches.

Each function below replaces one moto model or response method and names the
AWS CloudTrail API reference page whose documented behaviour it restores.
Tests: internal/emulator/moto/tests/test_cloudtrail.py. The gap table is in
docs/emulator.md.

Trail lookup rule used by every patched operation (``_resolve``):
  * a trail **name** finds only a trail whose home Region is the calling
    Region, in the calling account (GetTrailStatus API reference: "To get the
    status of a shadow trail (a replication of the trail in another Region),
    you must specify its ARN");
  * a trail **ARN** finds the trail in the ARN's account and home Region; from
    another Region it is found only if the trail is multi-Region (a shadow
    trail); another account's trail is not found;
  * operations that change a trail (UpdateTrail, DeleteTrail, StartLogging,
    StopLogging, PutEventSelectors, PutInsightSelectors, AddTags, RemoveTags)
    on a shadow trail raise InvalidHomeRegionException ("This exception is
    thrown when an operation is called on a trail from a Region other than the
    Region in which the trail was created").
"""

from __future__ import annotations

import copy
import json
import re
import threading
from typing import Any

from moto.cloudtrail import models, responses
from moto.cloudtrail.exceptions import (
    InsufficientSnsTopicPolicyException,
    InvalidParameterCombinationException,
    TrailNotFoundException,
)
from moto.core.exceptions import JsonRESTError
from moto.core.utils import iso_8601_datetime_without_milliseconds, unix_time
from moto.utilities.utils import get_partition

Trail = models.Trail
Backend = models.CloudTrailBackend
Response = responses.CloudTrailResponse
backends = models.cloudtrail_backends


# --- errors AWS documents and moto lacks (JSON protocol: {"__type", "message"}, HTTP 400)


class TrailAlreadyExistsException(JsonRESTError):
    code = 400

    def __init__(self, name: str, account_id: str):
        super().__init__(
            "TrailAlreadyExistsException",
            f"Trail {name} already exists for customer: {account_id}",
        )


class MaximumNumberOfTrailsExceededException(JsonRESTError):
    code = 400

    def __init__(self) -> None:
        super().__init__(
            "MaximumNumberOfTrailsExceededException",
            "User: exceeded the maximum number of trails (5) in this Region.",
        )


class InvalidHomeRegionException(JsonRESTError):
    code = 400

    def __init__(self, arn: str):
        super().__init__(
            "InvalidHomeRegionException",
            f"This operation must be called from the trail's home Region: {arn}",
        )


class CloudTrailARNInvalidException(JsonRESTError):
    code = 400

    def __init__(self, arn: str):
        super().__init__(
            "CloudTrailARNInvalidException",
            f"Invalid trail ARN: {arn}. The format of a trail ARN is "
            "arn:aws:cloudtrail:us-east-2:123456789012:trail/MyTrail",
        )


class InsightNotEnabledException(JsonRESTError):
    code = 400

    def __init__(self, arn: str):
        super().__init__(
            "InsightNotEnabledException",
            f"Trail {arn} does not have Insights enabled. Edit the trail settings "
            "to enable Insights, and then try the operation again.",
        )


class InvalidInsightSelectorsException(JsonRESTError):
    code = 400

    def __init__(self, message: str):
        super().__init__("InvalidInsightSelectorsException", message)


class ResourceNotFoundException(JsonRESTError):
    code = 400

    def __init__(self, resource: str):
        super().__init__(
            "ResourceNotFoundException", f"Resource not found: {resource}"
        )


class TagsLimitExceededException(JsonRESTError):
    code = 400

    def __init__(self, count: int, limit: int):
        super().__init__(
            "TagsLimitExceededException",
            f"The number of tags per trail ({count}) exceeds the limit of {limit}.",
        )


class KmsKeyNotFoundException(JsonRESTError):
    code = 400

    def __init__(self, key: str):
        super().__init__(
            "KmsKeyNotFoundException", f"KMS key does not exist: {key}"
        )


# EventSelector API reference: "By default, trails created without specific
# event selectors will be configured to log all read and write management
# events, and no data events." The field values are each field's documented
# default (ReadWriteType "All", IncludeManagementEvents true); AWS publishes no
# sample of a fresh trail's GetEventSelectors output, so the rendering (empty
# lists included) is built from the documented fields.
def default_event_selectors() -> list[dict[str, Any]]:
    return [
        {
            "ReadWriteType": "All",
            "IncludeManagementEvents": True,
            "DataResources": [],
            "ExcludeManagementEventSources": [],
        }
    ]


VALID_INSIGHT_TYPES = ("ApiCallRateInsight", "ApiErrorRateInsight")

# GetTrailStatus API reference: the fields CloudTrail reports about deliveries.
# moto never delivers, so they are only set through the test-only control
# endpoint (patches/control.py), per Region of the trail.
STATUS_TIME_FIELDS = (
    "LatestDeliveryTime",
    "LatestNotificationTime",
    "LatestDigestDeliveryTime",
    "LatestCloudWatchLogsDeliveryTime",
)
STATUS_ERROR_FIELDS = (
    "LatestDeliveryError",
    "LatestNotificationError",
    "LatestDigestDeliveryError",
    "LatestCloudWatchLogsDeliveryError",
)

_TRAIL_ARN = re.compile(
    r"^arn:(aws[a-z-]*):cloudtrail:([a-z0-9-]+):(\d{12}):trail/([^/]+)$"
)


def _name_of(arn_or_name: str) -> str:
    """SNS topic name of a topic name or topic ARN."""
    return arn_or_name.split(":")[-1]


def _normalise_kms(account_id: str, region: str, key: str | None) -> str | None:
    """CreateTrail/UpdateTrail API reference, KmsKeyId: "The value can be an
    alias name prefixed by alias/, a fully specified ARN to an alias, a fully
    specified ARN to a key, or a globally unique identifier"; the response
    KmsKeyId is "a fully specified ARN to a KMS key". A key ARN is returned
    verbatim (not validated: the key may be in another account); other forms
    are resolved through moto's KMS backend, KmsKeyNotFoundException if absent.
    """
    if not key:
        return None
    if key.startswith("arn:") and ":key/" in key:
        return key
    from moto.kms import kms_backends

    if key.startswith("arn:") and ":alias/" in key:
        parts = key.split(":")
        account_id, region = parts[4], parts[3]
    try:
        return kms_backends[account_id][region].describe_key(key).arn
    except Exception:
        raise KmsKeyNotFoundException(key)


# --- Trail model


def _topic_arn(self: Any) -> str | None:
    # CreateTrail API reference, SnsTopicName: "Specifies the name or the ARN
    # of the Amazon SNS topic defined for notification of log file delivery."
    # A topic ARN (possibly of another account or Region) is kept as given.
    name = self.sns_topic_name
    if not name:
        return None
    if name.startswith("arn:"):
        return name
    return f"arn:{get_partition(self.region_name)}:sns:{self.region_name}:{self.account_id}:{name}"


def _check_topic_exists(self: Any) -> None:
    # The topic is looked up in its own account and Region (from its ARN).
    # Topic policies are not evaluated (moto does not enforce them).
    arn = self.topic_arn
    if not arn:
        return
    from moto.sns import sns_backends

    parts = arn.split(":")
    if len(parts) != 6:
        raise InsufficientSnsTopicPolicyException(
            "SNS Topic does not exist or the topic policy is incorrect!"
        )
    try:
        sns_backends[parts[4]][parts[3]].get_topic(arn)
    except Exception:
        raise InsufficientSnsTopicPolicyException(
            "SNS Topic does not exist or the topic policy is incorrect!"
        )


_orig_trail_init = Trail.__init__


def _trail_init(self: Any, *args: Any, **kwargs: Any) -> None:
    _orig_trail_init(self, *args, **kwargs)
    if self.sns_topic_name == "":
        self.sns_topic_name = None
    self.kms_key_id = _normalise_kms(self.account_id, self.region_name, self.kms_key_id)
    self.event_selectors = default_event_selectors()
    self.advanced_event_selectors = []
    self.tw_custom_selectors = False
    # Region -> {GetTrailStatus field: value}, set by the control endpoint.
    self.tw_delivery = {}


_orig_trail_update = Trail.update


def _trail_update(self: Any, **kwargs: Any) -> None:
    # UpdateTrail API reference: same SnsTopicName and KmsKeyId semantics as
    # CreateTrail, S3BucketDoesNotExistException for a missing bucket; an
    # empty SnsTopicName or KmsKeyId removes the setting. Everything is
    # validated before the trail changes.
    topic = kwargs.get("sns_topic_name")
    kms = kwargs.pop("kms_key_id", None)
    bucket = kwargs.get("s3_bucket_name")
    if bucket:
        probe = copy.copy(self)
        probe.bucket_name = bucket
        probe.check_bucket_exists()
    if topic:
        probe = copy.copy(self)
        probe.sns_topic_name = topic
        probe.check_topic_exists()
    if kms:
        kms = _normalise_kms(self.account_id, self.region_name, kms)
    _orig_trail_update(self, kms_key_id=None, **kwargs)
    if topic == "":
        self.sns_topic_name = None
    if kms == "":
        self.kms_key_id = None
    elif kms is not None:
        self.kms_key_id = kms


_orig_trail_description = Trail.description


def _trail_description(self: Any, include_region: bool = False) -> dict[str, Any]:
    desc = _orig_trail_description(self, include_region=include_region)
    # Trail API reference: SnsTopicName is the topic's name, SnsTopicARN its ARN.
    if self.sns_topic_name:
        desc["SnsTopicName"] = _name_of(self.sns_topic_name)
        desc["SnsTopicARN"] = self.topic_arn
    else:
        desc.pop("SnsTopicName", None)
        desc.pop("SnsTopicARN", None)
    # Trail API reference: HasCustomEventSelectors "Specifies if the trail has
    # custom event selectors"; HasInsightSelectors "Specifies whether a trail
    # has insight types specified in an InsightSelector list".
    desc["HasCustomEventSelectors"] = bool(getattr(self, "tw_custom_selectors", False))
    desc["HasInsightSelectors"] = bool(self.insight_selectors)
    for key in ("KmsKeyId", "CloudWatchLogsLogGroupArn", "CloudWatchLogsRoleArn"):
        if desc.get(key) is None:
            desc.pop(key, None)
    return desc


def _trail_put_insight_selectors(self: Any, insight_selectors: list[dict[str, str]]) -> None:
    # PutInsightSelectors API reference: sets the Insights selectors; "You also
    # use PutInsightSelectors to turn off Insights event logging, by passing an
    # empty list of Insights types." The list replaces the previous one.
    self.insight_selectors = list(insight_selectors)


def _trail_put_event_selectors(
    self: Any,
    event_selectors: list[dict[str, Any]] | None,
    advanced_event_selectors: list[dict[str, Any]] | None,
) -> None:
    # PutEventSelectors API reference: "You can use either
    # AdvancedEventSelectors or EventSelectors, but not both. If you apply
    # AdvancedEventSelectors to a trail, any existing EventSelectors are
    # overwritten" (and the other way round).
    if event_selectors is not None:
        self.event_selectors = event_selectors
        self.advanced_event_selectors = []
    else:
        self.event_selectors = []
        self.advanced_event_selectors = advanced_event_selectors or []
    self.tw_custom_selectors = True


# --- TrailStatus


def _status_description(self: Any) -> dict[str, Any]:
    # GetTrailStatus API reference: LatestDeliveryTime etc. report the last
    # actual delivery. moto reset LatestDeliveryTime to "now" on every call;
    # CloudTrail never delivers in moto, so these fields are absent until the
    # control endpoint records a delivery. The *Attempt* fields are "no longer
    # in use" and omitted.
    desc: dict[str, Any] = {"IsLogging": self.is_logging}
    if self.started:
        desc["StartLoggingTime"] = unix_time(self.started)
        desc["TimeLoggingStarted"] = iso_8601_datetime_without_milliseconds(self.started)
    if self.stopped:
        desc["StopLoggingTime"] = unix_time(self.stopped)
        desc["TimeLoggingStopped"] = iso_8601_datetime_without_milliseconds(self.stopped)
    return desc


# --- backend


def _resolve(backend: Any, name_or_arn: str | None, mutate: bool) -> Any:
    if not name_or_arn:
        raise TrailNotFoundException(account_id=backend.account_id, name=str(name_or_arn))
    if name_or_arn.startswith("arn:"):
        m = _TRAIL_ARN.match(name_or_arn)
        if not m:
            raise CloudTrailARNInvalidException(name_or_arn)
        _, region, account, name = m.groups()
        trail = None
        if account == backend.account_id:
            trail = backends[account][region].trails.get(name)
        if trail is None or (
            region != backend.region_name and not trail.is_multi_region
        ):
            raise TrailNotFoundException(account_id=backend.account_id, name=name_or_arn)
        if mutate and region != backend.region_name:
            raise InvalidHomeRegionException(name_or_arn)
        return trail
    if len(name_or_arn) < 3:
        raise models.TrailNameTooShort(actual_length=len(name_or_arn))
    trail = backend.trails.get(name_or_arn)
    if trail is None:
        arn = (
            f"arn:{get_partition(backend.region_name)}:cloudtrail:"
            f"{backend.region_name}:{backend.account_id}:trail/{name_or_arn}"
        )
        raise TrailNotFoundException(account_id=backend.account_id, name=arn)
    return trail


_orig_create_trail = Backend.create_trail


# CreateTrail's name check and the insert are one step in AWS: of two
# concurrent CreateTrail calls for one name in one account, one creates the
# trail and the other gets TrailAlreadyExistsException. moto's server serves
# requests in threads, so the check and the insert below run under one lock.
_create_lock = threading.Lock()


def _create_trail(self: Any, name: str, *args: Any, **kwargs: Any) -> Any:
    with _create_lock:
        return _create_trail_checked(self, name, *args, **kwargs)


def _create_trail_checked(self: Any, name: str, *args: Any, **kwargs: Any) -> Any:
    # CreateTrail API reference: TrailAlreadyExistsException "This exception
    # is thrown when the specified trail already exists." A multi-Region
    # trail's shadow occupies its name in every Region of the account.
    if name in self.trails:
        raise TrailAlreadyExistsException(name, self.account_id)
    for region_backend in backends[self.account_id].values():
        other = region_backend.trails.get(name)
        if other is not None and other.is_multi_region:
            raise TrailAlreadyExistsException(name, self.account_id)
    # CloudTrail user guide, "Quotas in AWS CloudTrail": 5 trails per Region
    # per account, not adjustable; "a trail that applies to all Regions
    # counts as one trail in every Region" (MaximumNumberOfTrailsExceededException).
    in_region = set(self.trails)
    for region_backend in backends[self.account_id].values():
        for other_name, other in region_backend.trails.items():
            if other.is_multi_region:
                in_region.add(other_name)
    if len(in_region) >= MAX_TRAILS_PER_REGION:
        raise MaximumNumberOfTrailsExceededException()
    return _orig_create_trail(self, name, *args, **kwargs)


MAX_TRAILS_PER_REGION = 5


def _get_trail(self: Any, name_or_arn: str) -> Any:
    return _resolve(self, name_or_arn, mutate=False)


def _get_trail_status(self: Any, name: str) -> Any:
    return _resolve(self, name, mutate=False).status


def _start_logging(self: Any, name: str) -> None:
    # StartLogging API reference: "For a trail that is enabled in all Regions,
    # this operation must be called from the Region in which the trail was
    # created. This operation cannot be called on the shadow trails."
    _resolve(self, name, mutate=True).start_logging()


def _stop_logging(self: Any, name: str) -> None:
    # StopLogging API reference: same home-Region rule as StartLogging.
    _resolve(self, name, mutate=True).stop_logging()


def _delete_trail(self: Any, name: str) -> None:
    # DeleteTrail API reference: "This operation must be called from the
    # Region in which the trail was created"; unknown trail ->
    # TrailNotFoundException (moto silently did nothing).
    trail = _resolve(self, name, mutate=True)
    home = backends[trail.account_id][trail.region_name]
    home.trails.pop(trail.trail_name, None)
    home.tagging_service.delete_all_tags_for_resource(trail.arn)


def _update_trail(self: Any, name: str, **kwargs: Any) -> Any:
    # UpdateTrail API reference: "UpdateTrail must be called from the Region
    # in which the trail was created; otherwise, an InvalidHomeRegionException
    # is thrown."
    trail = _resolve(self, name, mutate=True)
    trail.update(**kwargs)
    return trail


def _put_event_selectors(
    self: Any,
    trail_name: str,
    event_selectors: list[dict[str, Any]] | None,
    advanced_event_selectors: list[dict[str, Any]] | None,
) -> tuple[str, list[dict[str, Any]] | None, list[dict[str, Any]] | None]:
    trail = _resolve(self, trail_name, mutate=True)
    if (event_selectors is None) == (advanced_event_selectors is None):
        raise InvalidParameterCombinationException(
            "You must specify either EventSelectors or AdvancedEventSelectors, "
            "but not both."
        )
    trail.put_event_selectors(event_selectors, advanced_event_selectors)
    return trail.arn, event_selectors, advanced_event_selectors


def _get_event_selectors(self: Any, trail_name: str) -> tuple[str, Any, Any]:
    trail = _resolve(self, trail_name, mutate=False)
    return trail.arn, trail.event_selectors, trail.advanced_event_selectors


def _put_insight_selectors(
    self: Any, trail_name: str, insight_selectors: list[dict[str, str]]
) -> tuple[str, list[dict[str, str]]]:
    trail = _resolve(self, trail_name, mutate=True)
    if insight_selectors is None:
        raise InvalidInsightSelectorsException("InsightSelectors is required.")
    for sel in insight_selectors:
        if sel.get("InsightType") not in VALID_INSIGHT_TYPES:
            raise InvalidInsightSelectorsException(
                f"Invalid InsightType: {sel.get('InsightType')}"
            )
    trail.put_insight_selectors(insight_selectors)
    return trail.arn, insight_selectors


def _get_insight_selectors(self: Any, trail_name: str) -> tuple[str, list[dict[str, str]]]:
    # GetInsightSelectors API reference: "If you run GetInsightSelectors on a
    # trail ... that does not have Insights events enabled, the operation
    # throws the exception InsightNotEnabledException".
    trail = _resolve(self, trail_name, mutate=False)
    if not trail.insight_selectors:
        raise InsightNotEnabledException(trail.arn)
    return trail.arn, trail.insight_selectors


def _tag_target(backend: Any, resource_id: str, mutate: bool) -> Any:
    # AddTags/RemoveTags/ListTags API reference errors: an unknown resource is
    # ResourceNotFoundException, a malformed ARN CloudTrailARNInvalidException.
    # AddTags: "You can tag a trail ... that applies to all Amazon Web Services
    # Regions only from the Region in which the trail ... was created".
    try:
        trail = _resolve(backend, resource_id, mutate=mutate)
    except TrailNotFoundException:
        raise ResourceNotFoundException(resource_id)
    return backends[trail.account_id][trail.region_name].tagging_service, trail.arn


def _add_tags(self: Any, resource_id: str, tags_list: list[dict[str, str]]) -> None:
    # CloudTrail User Guide, Quotas: 50 tags per trail; AddTags errors:
    # TagsLimitExceededException "The number of tags per trail ... has exceeded
    # the permitted amount". Counted with the trail's existing tags (a key
    # already present is overwritten, not added). The stateless half, on
    # CreateTrail, is in the strict layer, with the limit.
    from strict.rules import MAX_TAGS_PER_TRAIL

    service, arn = _tag_target(self, resource_id, mutate=True)
    keys = {t["Key"] for t in service.list_tags_for_resource(arn)["TagsList"]}
    keys |= {t.get("Key") for t in tags_list or []}
    if len(keys) > MAX_TAGS_PER_TRAIL:
        raise TagsLimitExceededException(len(keys), MAX_TAGS_PER_TRAIL)
    service.tag_resource(arn, tags_list or [])


def _remove_tags(self: Any, resource_id: str, tags_list: list[dict[str, str]]) -> None:
    service, arn = _tag_target(self, resource_id, mutate=True)
    service.untag_resource_using_tags(arn, tags_list or [])


def _list_tags(self: Any, resource_id_list: list[str]) -> list[dict[str, Any]]:
    out = []
    for resource_id in resource_id_list or []:
        service, arn = _tag_target(self, resource_id, mutate=False)
        out.append(
            {
                "ResourceId": resource_id,
                "TagsList": service.list_tags_for_resource(arn)["TagsList"],
            }
        )
    return out


def _describe_trails_filtered(
    self: Any, names: list[str] | None, include_shadow_trails: bool
) -> list[Any]:
    # DescribeTrails API reference, trailNameList: "If one or more trail names
    # are specified, information is returned only if the names match the names
    # of trails belonging only to the current Region and current account. To
    # return information about a trail in another Region, you must specify its
    # trail ARN." Unknown names are left out of the list.
    if not names:
        return list(self.describe_trails(include_shadow_trails))
    found = []
    for name in names:
        try:
            trail = _resolve(self, name, mutate=False)
        except JsonRESTError:
            continue
        if trail.region_name != self.region_name and not include_shadow_trails:
            continue
        if trail not in found:
            found.append(trail)
    return found


# --- responses


def _resp_get_trail(self: Any) -> str:
    # GetTrail API reference: the Trail object includes HomeRegion.
    trail = self.cloudtrail_backend.get_trail(self._get_param("Name"))
    return json.dumps({"Trail": trail.description(include_region=True)})


def _resp_get_trail_status(self: Any) -> str:
    trail = _resolve(self.cloudtrail_backend, self._get_param("Name"), mutate=False)
    desc = trail.status.description()
    desc.update(trail.tw_delivery.get(self.region, {}))
    return json.dumps(desc)


def _resp_describe_trails(self: Any) -> str:
    include_shadow_trails = self._get_bool_param("includeShadowTrails", True)
    names = self._get_param("trailNameList")
    trails = _describe_trails_filtered(self.cloudtrail_backend, names, include_shadow_trails)
    return json.dumps({"trailList": [t.description(include_region=True) for t in trails]})


def _resp_put_event_selectors(self: Any) -> str:
    params = json.loads(self.body)
    arn, basic, advanced = self.cloudtrail_backend.put_event_selectors(
        trail_name=params.get("TrailName"),
        event_selectors=params.get("EventSelectors"),
        advanced_event_selectors=params.get("AdvancedEventSelectors"),
    )
    out: dict[str, Any] = {"TrailARN": arn}
    if basic is not None:
        out["EventSelectors"] = basic
    else:
        out["AdvancedEventSelectors"] = advanced
    return json.dumps(out)


def _resp_get_event_selectors(self: Any) -> str:
    # GetEventSelectors API reference: the response carries the kind of
    # selector the trail has (EventSelectors or AdvancedEventSelectors).
    params = json.loads(self.body)
    arn, basic, advanced = self.cloudtrail_backend.get_event_selectors(
        trail_name=params.get("TrailName")
    )
    out: dict[str, Any] = {"TrailARN": arn}
    if advanced:
        out["AdvancedEventSelectors"] = advanced
    else:
        out["EventSelectors"] = basic
    return json.dumps(out)


def record_status(account: str, region: str, trail_name: str, fields: dict[str, Any]) -> dict[str, Any]:
    """Used by the test-only control endpoint: record delivery outcomes that
    GetTrailStatus then reports in ``region`` for the trail. ``trail_name`` is
    a name (home trail in that Region, or a multi-Region trail of the account)
    or a trail ARN. Times are epoch seconds (number) or ISO-8601 strings; a
    null or empty value clears a field."""
    backend = backends[account][region]
    try:
        trail = _resolve(backend, trail_name, mutate=False)
    except TrailNotFoundException:
        trail = None
        for other in backends[account].values():
            cand = other.trails.get(trail_name)
            if cand is not None and cand.is_multi_region:
                trail = cand
        if trail is None:
            raise
    current = trail.tw_delivery.setdefault(region, {})
    for key, value in (fields or {}).items():
        if key not in STATUS_TIME_FIELDS + STATUS_ERROR_FIELDS:
            raise ValueError(f"unknown GetTrailStatus field {key!r}")
        if value is None or value == "":
            current.pop(key, None)
        elif key in STATUS_TIME_FIELDS:
            current[key] = _to_epoch(value)
        else:
            current[key] = str(value)
    desc = trail.status.description()
    desc.update(current)
    return desc


def _to_epoch(value: Any) -> float:
    if isinstance(value, (int, float)):
        return float(value)
    from datetime import datetime, timezone

    text = str(value).replace("Z", "+00:00")
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.timestamp()


def apply() -> None:
    Trail.topic_arn = property(_topic_arn)
    Trail.check_topic_exists = _check_topic_exists
    Trail.__init__ = _trail_init
    Trail.update = _trail_update
    Trail.description = _trail_description
    Trail.put_insight_selectors = _trail_put_insight_selectors
    Trail.put_event_selectors = _trail_put_event_selectors
    models.TrailStatus.description = _status_description

    Backend.create_trail = _create_trail
    Backend.get_trail = _get_trail
    Backend.get_trail_status = _get_trail_status
    Backend.start_logging = _start_logging
    Backend.stop_logging = _stop_logging
    Backend.delete_trail = _delete_trail
    Backend.update_trail = _update_trail
    Backend.put_event_selectors = _put_event_selectors
    Backend.get_event_selectors = _get_event_selectors
    Backend.put_insight_selectors = _put_insight_selectors
    Backend.get_insight_selectors = _get_insight_selectors
    Backend.add_tags = _add_tags
    Backend.remove_tags = _remove_tags
    Backend.list_tags = _list_tags

    Response.get_trail = _resp_get_trail
    Response.get_trail_status = _resp_get_trail_status
    Response.describe_trails = _resp_describe_trails
    Response.put_event_selectors = _resp_put_event_selectors
    Response.get_event_selectors = _resp_get_event_selectors
