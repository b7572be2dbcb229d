// Package integritywatch verifies CloudTrail digests continuously, as they
// arrive on the delivery queue: each digest is read once, its signature,
// key and location checked with shared/integrity's rules, its link to the
// previous digest checked through a state table, and the log files it lists
// hashed per the LogFiles setting. What fails is returned as findings for
// the verifier's finding path.
//
// Chain links, in any order of arrival. Each digest D has one item in the
// state table, keyed by D's location: D writes its own side (the SHA-256
// of its uncompressed bytes and SigDigest, the SHA-256 of its signature)
// when it is verified, and D's successor S writes the side it expects
// (its previousDigestHashValue, SigDigest of its previousDigestSignature,
// and its key). Both writes are single UpdateItem calls returning the
// whole item, so exactly one of the two writers, whichever comes second,
// sees both sides and compares them: a successor that arrives before its
// predecessor is therefore checked when the predecessor arrives, by the
// instance that verifies the predecessor. A predecessor that never
// arrives is the expected-but-missing digest case.
//
// In order of arrival (the common case), the link is checked on the
// chain's head instead (Follow): the head holds the newest digest's side,
// and its successor replaces it in one conditional write that returns the
// old side. Per digest that is three writes of one unit each (the claim,
// the digest's own side, the head), every item under 1 KB.
//
// No object is read twice: before reading, an instance claims the digest's
// item (a conditional write that fails when the digest was verified, or is
// being verified by another instance); a claim left by a failed attempt is
// released, or taken over after ClaimTimeout.
//
// Per account × Region × trail, a head item in the heads table keeps the
// newest verified digest's end time, location and side (written only
// forward, with a condition on the end time); the watchdog scans the heads
// for expected-but-missing digests (HeadReader, Overdue).
//
// After verification: an S3 "Object Deleted" event under AWSLogs/ is a
// log-object-deleted finding (ParseChange, JudgeChange; a lifecycle
// expiration is not), and an "Object Created" event for a verified digest
// whose ETag is not the verified object's is log-object-overwritten.
package integritywatch
