// Package cloudtrailsim stands in for CloudTrail's delivery side in tests and
// the demo. moto never delivers anything for CloudTrail; a Deliverer writes
// what CloudTrail writes, under the keys CloudTrail uses, and announces it the
// way CloudTrail does:
//
//   - log files: gzipped {"Records":[…]} objects under
//     [prefix/]AWSLogs/[o-id/]<account>/CloudTrail/<region>/<YYYY>/<MM>/<DD>/
//     <account>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<16 alnum>.json.gz,
//     written with the bucket-owner-full-control ACL and SSE-KMS, then one SNS
//     notification {"s3Bucket":…,"s3ObjectKey":[…]} (one notification may list
//     several keys: DeliverLogFiles);
//   - digest files: signed for real (SHA256withRSA over AWS's documented
//     string to sign, with a key generated per Deliverer), chained per account
//     and Region, signature in the x-amz-meta-signature metadata; RotateKey
//     changes the signing key (PublicKeys lists every key with its validity,
//     RegisterPublicKeys serves them to the emulator's ListPublicKeys),
//     DeliverBackfillDigest writes "_backfill" digests (their own chain,
//     backfill-generation-timestamp metadata) and RestartChain begins a new
//     chain as after StopLogging. Digests are
//     not announced on SNS (AWS documents no such notification); DigestEvent
//     and SendDigestEvent build and deliver the S3 "Object Created"
//     EventBridge event instead;
//   - tampering, as someone with write access to the bucket would:
//     DeleteObjects (a log file, the newest digests), AlterObject (content
//     changed, metadata kept), AppendGzipMember;
//   - Insights files, the zero-byte marker object, and forged deliveries
//     (foreign account, mismatched file-name account, wrong prefix) for the
//     verifier's security findings.
//
// After each delivery the Deliverer records it in the emulator's trail status
// through the patched launcher's test-only control endpoint
// (POST <emulator>/_trailwarden/trail-status, see docs/emulator.md), so
// GetTrailStatus reports LatestDeliveryTime, LatestNotificationTime and
// LatestDigestDeliveryTime. SetDeliveryError simulates a broken bucket.
//
// Every delivery takes an explicit time: tests and the demo advance a fake
// clock. Options.Now is consulted only when a zero time is passed.
//
// Model is a pure, seeded traffic model for benchmarks: it streams, in time
// order, the SQS bodies a verifier would receive from an organization (SNS
// envelopes of CloudTrail notifications, and S3 Object Created events for
// digests), without holding the whole day in memory, and reports exact counts.
//
// Formats and their sources:
//   - record fields: CloudTrail user guide, "CloudTrail record contents";
//     log file name: "CloudTrail log file examples" (16-character unique
//     string);
//   - digest fields, metadata and chaining: "CloudTrail digest file
//     structure"; string to sign: "Custom implementations of CloudTrail log
//     file integrity validation" and the AWS CLI's validate-logs
//     (previous signature "null" for the first digest of a chain, SHA-256 of
//     the uncompressed digest). The key fingerprint algorithm is not
//     documented: we use the hex MD5 of the PKCS #1 DER public key (32 hex
//     digits, like AWS's samples);
//   - Insights records: "CloudTrail record contents for Insights events for
//     trails" (constructed from the documented fields; no public sample file);
//   - S3 Object Created event: S3 user guide, "EventBridge event message
//     structure";
//   - SNS envelope as SQS receives it: SNS Developer Guide, "Amazon SNS message and JSON formats".
//
// Content-Type application/json and Content-Encoding gzip on log objects
// follow what users report seeing on CloudTrail objects (not documented by
// AWS).
package cloudtrailsim
