// Package verifier checks every CloudTrail delivery that reaches
// trailwarden's delivery queue and records it in the arrival ledger.
//
// Per SQS record (events.SQSMessage), through shared/notification:
//   - the CloudTrail validation message is counted (ValidationMessages) and
//     deleted: it is not an error;
//   - a message that is not CloudTrail's (another publisher on the topic,
//     an SNS subscription message, another S3 or EventBridge event) is
//     counted (NotCloudTrailMessages), logged and deleted;
//   - a malformed body (empty, truncated, not JSON, CloudTrail-shaped with
//     wrong types) is poison: logged with the reason, counted
//     (MalformedNotifications) and reported as a batch item failure, so SQS
//     redrives it to the DLQ after maxReceiveCount receives. It is never
//     deleted silently.
//
// Each announced key is then checked by Rules (pure, shared with Explain):
// the bucket is the central bucket; the key parses under shared/logkey's
// strict grammar (no "..", no surprises); the prefix is the policy's; an
// organization path names the policy's organization (and organization-trail
// mode requires one); the account in the path equals the one in the file
// name; the Region is real and the same in path and name; the timestamp is
// not in the future. Then the account must be a member: the accounts table,
// cached and refreshed every MembersRefresh, and refreshed once more on a
// miss before an account is called foreign. Optionally (ObjectCheck
// none|sample|all) HeadObject confirms that the object exists, is not empty
// and is encrypted with SSE-KMS under the expected key: HEAD returns the
// key id without decrypting, so it costs no KMS request.
//
// Anything that fails is a security finding: logged with its reason code,
// counted (SecurityFindings) and published on the alerts topic through the
// alert outbox (incident.Outbox), deduplicated for 24 hours per account,
// reason and object shape ("finding#<account>#<code>#<shape>" in the
// incidents table); a message logs and reports at most
// MaxFindingsPerMessage findings. A finding is not a message failure: the
// record is deleted once its alert is out; an alert not published fails the
// record. Zero-byte folder markers of members are ignored (a marker under a
// non-member is a finding); Insights files are accepted but have no ledger
// attribute. Rules.Judge and Rules.CheckMessage are the verdicts `explain`
// prints too.
//
// Accepted log and digest files go to the ledger through ledger.Writer
// (journaled before the invocation returns; see the ledger package). The
// batch response lists only records that failed transiently (a throttled
// HEAD, an unreachable table, an alert not published, a failed journal
// write) and poison records; one bad message never fails the batch, and a
// panic in one record is that record's failure (shared/sqsbatch). A HEAD
// that S3 refuses (403) is a configuration error, logged once per batch;
// the object is recorded unchecked.
//
// Metrics (EMF, dimension Service): DeliveredLogFiles and SecurityFindings,
// which alarms watch; the other counts are fields of the same log events
// (metrics.go). Logs carry account and Region.
//
// Explain runs the same parsing and Rules without any AWS call, for the
// `trailwarden explain` command.
package verifier
