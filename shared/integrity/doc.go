// Package integrity validates CloudTrail log file integrity: digest
// signatures, the keys that signed them, the chains digests form, the digests
// that should exist but do not, and the log files the digests list.
//
// The parsing and checking functions are pure. Verify reads objects only
// through the narrow Source and KeySource interfaces its caller supplies (an
// S3 bucket, a local mirror), so the same rules serve the CLI and tests.
//
// Sources of the rules:
//   - CloudTrail User Guide, "CloudTrail digest file structure": fields,
//     chaining, the signature in the object's user metadata (signature,
//     signature-algorithm), backfill digests;
//   - "Custom implementations of CloudTrail log file integrity validation":
//     the string to sign (digestEndTime, digestS3Bucket/digestS3Object, hex
//     SHA-256 of the uncompressed digest, previous signature or "null"),
//     SHA256withRSA (RSA PKCS #1 v1.5 over SHA-256), keys from ListPublicKeys
//     as DER PKCS #1 selected by digestPublicKeyFingerprint;
//   - the AWS CLI's validate-logs (awscli/customizations/cloudtrail/
//     validation.py): the required fields, the location check, public keys
//     looked up with a 2-hour buffer after the period, backfill digests keyed
//     by their backfill-generation-timestamp (± 1 hour), and data after the
//     first gzip member making a log file invalid.
package integrity
